//! The [`Host`]: whoever actually runs the tasks' scripts (the C# side), and
//! panic-safe calls into it.
//!
//! The engine never holds a lock while calling the host, so the host may call
//! back into the engine (start items, submit nested tasks, wait). A panic in
//! a host call is caught here; in `run_batch` it fails the batch's tasks with
//! the panic's text, elsewhere it is reported through [`Host::internal_error`]
//! so it can never vanish.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::contexts::ContextId;
use super::task::{BatchId, GroupId, PoolId, TaskId, WorkerId};

/// What the host needs to run one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchRun {
    pub worker: WorkerId,
    pub batch: BatchId,
    pub pool: PoolId,
    pub group: GroupId,
    /// The context to run in; `fresh`: the host has not set it up yet.
    pub context: ContextId,
    pub fresh: bool,
    /// How the context is set up (the pool's context key).
    pub context_key: u64,
}

/// What becomes of the context after a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContextFate {
    /// Keep it warm for the next batch with the same key.
    Keep,
    /// It is broken (could not be set up or reset): the engine drops it.
    Discard,
}

/// How hard to stop a running script, in the order the engine escalates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopLevel {
    /// Ask it to stop (PowerShell: stop the pipeline).
    Ask,
    /// It ignored the request: interrupt its thread's blocking wait.
    Interrupt,
    /// It ignored both: its worker is given up on and replaced. The host
    /// learns it so the runspace is not reused when (if) the script returns.
    Abandon,
}

/// What the engine needs from the side that runs scripts.
pub trait Host: Send + Sync + 'static {
    /// Runs batch `run` on the calling (worker) thread: for each task that
    /// [`Engine::next_item`](super::Engine::next_item) hands out, runs its
    /// script and reports it with [`Engine::end_item`](super::Engine::end_item).
    fn run_batch(&self, run: &BatchRun) -> ContextFate;

    /// Stops `task`, running on `worker`, at `level`. Called from another
    /// thread, possibly after the task's script has already returned (then
    /// it must be ignored); must not block.
    fn stop(&self, worker: WorkerId, task: TaskId, level: StopLevel);

    /// The context is no longer needed (expired, discarded, engine shut down).
    fn dispose_context(&self, context: ContextId);

    /// A bug inside the engine (a panic in a worker or the timer): the
    /// affected tasks have been failed with this message; tell the user.
    fn internal_error(&self, message: &str);
}

/// The text of a panic payload.
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

/// `host.run_batch`, a panic turned into `Err(text)`.
pub(crate) fn run_batch(host: &dyn Host, run: &BatchRun) -> Result<ContextFate, String> {
    catch_unwind(AssertUnwindSafe(|| host.run_batch(run))).map_err(|p| panic_text(&*p))
}

pub(crate) fn stop(host: &dyn Host, worker: WorkerId, task: TaskId, level: StopLevel) {
    if let Err(p) = catch_unwind(AssertUnwindSafe(|| host.stop(worker, task, level))) {
        internal_error(host, &format!("stopping task {task} failed: {}", panic_text(&*p)));
    }
}

pub(crate) fn dispose_context(host: &dyn Host, context: ContextId) {
    if let Err(p) = catch_unwind(AssertUnwindSafe(|| host.dispose_context(context))) {
        internal_error(host, &format!("disposing of runspace context {context} failed: {}", panic_text(&*p)));
    }
}

pub(crate) fn internal_error(host: &dyn Host, message: &str) {
    // Nothing is left to report a failure of the reporter to.
    let _ = catch_unwind(AssertUnwindSafe(|| host.internal_error(message)));
}
