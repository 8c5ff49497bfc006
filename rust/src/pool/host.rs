//! The [`Host`] trait (the foreign side of the pool) and panic-safe calls into it.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::task::{RunOutcome, TaskId, TaskState, WorkerId};

/// What the pool needs from whoever actually executes tasks (the C# side).
///
/// The pool never holds its lock while calling these, so implementations may
/// call back into the pool (submit, wait, info...). A panic in any method is
/// caught by the pool: in `run` it fails the task, elsewhere it is ignored.
pub trait Host: Send + Sync + 'static {
    /// Runs task `task` on worker `worker` (called on that worker's own
    /// thread). Blocking.
    fn run(&self, worker: WorkerId, task: TaskId) -> RunOutcome;

    /// Asks a running task to stop (timeout or Stop). Called from the timer
    /// thread or the thread calling `Pool::stop`/`stop_all`/`shutdown`; must
    /// not block long.
    ///
    /// The request is made after the pool's lock is released, so by the time
    /// it arrives `worker` may already have finished `task` and started
    /// another one: implementations must check that `worker` is still running
    /// `task` and ignore the request otherwise.
    fn stop(&self, worker: WorkerId, task: TaskId);

    /// The worker thread is exiting for good (shutdown, a temporary nested-wait
    /// worker retiring, or it was abandoned and its stuck run finally returned):
    /// the C# side disposes that worker's runspace. Called on the exiting
    /// worker's own thread; never called twice for one worker.
    fn worker_exited(&self, worker: WorkerId);

    /// A task reached a final state (any of Completed/Failed/Stopped/TimedOut).
    /// Optional notification; called exactly once per task, from whichever
    /// thread made the transition.
    fn task_finished(&self, task: TaskId, state: TaskState) {
        let _ = (task, state);
    }
}

/// Turns a panic payload into the text users will see in `TaskInfo::message`.
pub(crate) fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "runner panicked with a non-string payload".to_owned()
    }
}

/// Calls `host.run`, converting a panic into `Failed` with the panic text.
/// The runner is foreign code; it must never take a worker thread down.
pub(crate) fn run(host: &dyn Host, worker: WorkerId, task: TaskId) -> (RunOutcome, Option<String>) {
    match catch_unwind(AssertUnwindSafe(|| host.run(worker, task))) {
        Ok(outcome) => (outcome, None),
        Err(payload) => (RunOutcome::Failed, Some(panic_text(&*payload))),
    }
}

/// Calls `host.stop`, swallowing a panic (the caller may be an FFI thread).
pub(crate) fn stop(host: &dyn Host, worker: WorkerId, task: TaskId) {
    let _ = catch_unwind(AssertUnwindSafe(|| host.stop(worker, task)));
}

/// Calls `host.worker_exited`, swallowing a panic.
pub(crate) fn worker_exited(host: &dyn Host, worker: WorkerId) {
    let _ = catch_unwind(AssertUnwindSafe(|| host.worker_exited(worker)));
}

/// Calls `host.task_finished`, swallowing a panic.
pub(crate) fn task_finished(host: &dyn Host, task: TaskId, state: TaskState) {
    let _ = catch_unwind(AssertUnwindSafe(|| host.task_finished(task, state)));
}
