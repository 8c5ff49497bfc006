//! Blocking waits on tasks, and the compensation that keeps nested waits from
//! deadlocking.
//!
//! A task may submit to its own pool and wait for what it submitted. With
//! every worker doing that, nobody is left to run the inner tasks. So a wait
//! made on one of the pool's own worker threads marks that worker *blocked*,
//! and while work is queued the pool starts one temporary (compensating)
//! worker per blocked worker; those retire once the blocked workers resume.
//! This is rayon's and .NET's answer too, minus work stealing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::MutexGuard;

use super::error::PoolError;
use super::shared::Shared;
use super::state::State;
use super::task::{TaskId, WorkerId};
use super::worker;

/// A task counts as finished for waits if it is in a final state, or if it
/// has been removed meanwhile (only finished tasks can be removed).
fn finished(st: &State, id: TaskId) -> bool {
    st.tasks.get(&id).is_none_or(|t| t.state.is_finished())
}

fn check_known(st: &State, tasks: &[TaskId]) -> Result<(), PoolError> {
    match tasks.iter().find(|id| !st.tasks.contains_key(id)) {
        Some(&id) => Err(PoolError::UnknownTask(id)),
        None => Ok(()),
    }
}

/// `None` means wait forever; so does a timeout too large to represent.
fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

pub(crate) fn wait_any(
    shared: &Arc<Shared>,
    tasks: &[TaskId],
    timeout: Option<Duration>,
) -> Result<Option<TaskId>, PoolError> {
    let deadline = deadline(timeout);
    let mut st = shared.state.lock();
    check_known(&st, tasks)?;
    if tasks.is_empty() {
        return Ok(None);
    }
    Ok(block_until(shared, &mut st, deadline, |st| tasks.iter().copied().find(|&id| finished(st, id))))
}

pub(crate) fn wait_all(shared: &Arc<Shared>, tasks: &[TaskId], timeout: Option<Duration>) -> Result<bool, PoolError> {
    let deadline = deadline(timeout);
    let mut st = shared.state.lock();
    check_known(&st, tasks)?;
    // Tasks never become unfinished again, so a cursor over the prefix known
    // to be finished makes repeated checks O(total), not O(n) per wake-up.
    let mut done = 0;
    let all = block_until(shared, &mut st, deadline, |st| {
        while done < tasks.len() && finished(st, tasks[done]) {
            done += 1;
        }
        (done == tasks.len()).then_some(())
    });
    Ok(all.is_some())
}

/// Waits on `done_cv` until `check` yields or `deadline` passes.
///
/// Called from inside a task of this pool, the wait also ends (as a timeout
/// would) as soon as that task is stopped or timed out: PowerShell cannot
/// interrupt a thread blocked in native code, so without this a stopped
/// task would sit in its nested wait until escalation abandons its worker.
fn block_until<T>(
    shared: &Arc<Shared>,
    st: &mut MutexGuard<'_, State>,
    deadline: Option<Instant>,
    mut check: impl FnMut(&State) -> Option<T>,
) -> Option<T> {
    if let Some(found) = check(st) {
        return Some(found);
    }
    let own_worker = worker::current().filter(|&(pool, _)| pool == shared.id).map(|(_, w)| w);
    let cancelled = |st: &State| own_worker.is_some_and(|w| own_task_cancelled(st, w));
    if cancelled(st) || deadline.is_some_and(|at| Instant::now() >= at) {
        // A zero timeout is a poll: no need to compensate for blocking.
        return None;
    }
    // Only now is the caller really going to block.
    let blocked_worker = own_worker.filter(|&w| st.enter_blocked(w));
    if blocked_worker.is_some() {
        shared.compensate(st);
    }

    let found = loop {
        if let Some(found) = check(st) {
            break Some(found);
        }
        if cancelled(st) {
            break None;
        }
        match deadline {
            Some(at) => {
                if Instant::now() >= at {
                    break None;
                }
                shared.done_cv.wait_until(st, at);
            }
            None => shared.done_cv.wait(st),
        }
    };

    if let Some(w) = blocked_worker {
        st.leave_blocked(w);
        // Compensating workers may now retire.
        shared.work_cv.notify_all();
    }
    found
}

/// Whether `worker` is inside a runner whose task has already been stopped
/// or timed out (both notify `done_cv`, so waiters notice at once). A worker
/// between tasks (e.g. in `Host::task_finished`) is never cancelled.
fn own_task_cancelled(st: &State, worker: WorkerId) -> bool {
    let current = st.workers.get(&worker).and_then(|slot| slot.current);
    current.is_some_and(|task| st.tasks.get(&task).is_none_or(|t| t.state.is_finished()))
}
