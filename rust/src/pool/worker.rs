//! The worker thread: take the next queued task, run it, record the outcome.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use parking_lot::MutexGuard;

use super::host;
use super::shared::Shared;
use super::state::Returned;
use super::task::WorkerId;

thread_local! {
    /// (pool instance id, worker id) on pool worker threads. Lets a wait
    /// called from inside a task notice that it is blocking one of its own
    /// pool's workers (see `wait`), and lets the C# side find "its" runspace.
    static CURRENT: Cell<Option<(u64, WorkerId)>> = const { Cell::new(None) };
}

/// The pool and worker the calling thread serves, if it is a pool worker.
pub(crate) fn current() -> Option<(u64, WorkerId)> {
    CURRENT.with(Cell::get)
}

/// Body of a worker thread.
pub(crate) fn main(shared: Arc<Shared>, id: WorkerId) {
    CURRENT.with(|c| c.set(Some((shared.id, id))));
    // `serve` calls foreign code only through `host::run`, which already
    // catches panics; this guard only makes sure a bug in the pool itself can
    // neither unwind out of the thread nor leave `shutdown` waiting for it.
    let _ = catch_unwind(AssertUnwindSafe(|| serve(&shared, id)));
    host::worker_exited(&*shared.host, id);
    // Counted out only after the host was told, so `shutdown` returning true
    // means every runspace has been released.
    let mut st = shared.state.lock();
    st.threads -= 1;
    shared.exit_cv.notify_all();
    drop(st);
    CURRENT.with(|c| c.set(None));
}

/// Runs tasks until told to retire or abandoned.
fn serve(shared: &Arc<Shared>, id: WorkerId) {
    let mut st = shared.state.lock();
    loop {
        let (task, wake_timer) = loop {
            if st.should_retire(id) {
                st.retire_worker(id);
                if st.counts.queued > 0 {
                    // We may have consumed a wake-up meant for a worker that
                    // will take the work: pass it on.
                    shared.work_cv.notify_one();
                }
                return;
            }
            if let Some(next) = st.start_next(id, SystemTime::now(), Instant::now()) {
                break next;
            }
            st.idle += 1;
            shared.work_cv.wait(&mut st);
            st.idle -= 1;
        };
        if wake_timer {
            shared.timer_cv.notify_one();
        }

        let (outcome, panic) = MutexGuard::unlocked(&mut st, || host::run(&*shared.host, id, task));

        match st.runner_returned(id, task, outcome, panic, SystemTime::now()) {
            // Replaced long ago; its result no longer matters.
            Returned::Abandoned => return,
            // Timed out or stopped meanwhile; already reported.
            Returned::Ignored => {}
            Returned::Finished(state) => {
                shared.done_cv.notify_all();
                MutexGuard::unlocked(&mut st, || host::task_finished(&*shared.host, task, state));
            }
        }
    }
}
