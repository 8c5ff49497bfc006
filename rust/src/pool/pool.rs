//! The public [`Pool`] handle.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use parking_lot::MutexGuard;

use super::error::PoolError;
use super::host::Host;
use super::shared::Shared;
use super::state::Counts;
use super::task::{TaskId, TaskInfo, TaskState, WorkerId};
use super::{wait, worker};

/// Process-wide pool instance ids, so a worker thread can tell which pool it
/// belongs to even when several pools are alive.
static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

/// The most tasks one `submit_many` call accepts.
pub const MAX_SUBMIT_MANY: usize = 1 << 24;

/// How a pool is set up.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// The throttle: how many tasks run at once (at least 1).
    pub workers: usize,
    /// How long after asking a task to stop (timeout, Stop, shutdown) its
    /// worker is abandoned and replaced if the runner still has not returned.
    pub stop_grace: Duration,
    /// Prefix for thread names (`{name}-worker-{id}`, `{name}-timer`), which
    /// is what shows up in debuggers and crash dumps.
    pub name: String,
    /// Stack size of each worker thread, in bytes (0 means
    /// [`DEFAULT_WORKER_STACK`]). Runners execute on the worker's own stack:
    /// a PowerShell pipeline needs far more than Rust's 2 MiB default (pwsh
    /// gives its own pipeline threads about 10 MB), and deep scripts overflow
    /// it, which kills the whole process.
    pub stack_size: usize,
}

/// Default worker stack: 16 MiB, comfortably above what PowerShell's own
/// pipeline threads get. It is reserved address space; only the pages a
/// script actually touches are committed.
pub const DEFAULT_WORKER_STACK: usize = 16 * 1024 * 1024;

/// The smallest stack a worker is given even if asked for less: the runner
/// callback itself (and its FFI trampoline) needs some room.
pub const MIN_WORKER_STACK: usize = 256 * 1024;

impl PoolConfig {
    /// `workers` workers, the default grace period and name.
    pub fn new(workers: usize) -> PoolConfig {
        PoolConfig { workers, ..PoolConfig::default() }
    }
}

impl Default for PoolConfig {
    /// One worker per CPU, 5 s grace, named "syncpool", 16 MiB worker stacks.
    fn default() -> PoolConfig {
        PoolConfig {
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            stop_grace: Duration::from_secs(5),
            name: "syncpool".to_owned(),
            stack_size: DEFAULT_WORKER_STACK,
        }
    }
}

/// A pool of worker threads running tasks for a [`Host`].
///
/// Workers are spawned eagerly by [`Pool::new`] (ids `1..=workers`), together
/// with one timer thread: a PowerShell user sets the throttle expecting that
/// many runspaces, and failing to spawn threads should surface at creation,
/// not at the first submit. Replacement and compensating workers get the
/// next ids.
///
/// `Pool` is `Send + Sync`; share it through the `Arc` that `new` returns.
/// Dropping the last `Arc` shuts the pool down without waiting (see
/// [`Pool::shutdown`]).
pub struct Pool {
    shared: Arc<Shared>,
}

impl Pool {
    /// Creates a pool and starts its worker and timer threads.
    ///
    /// Errors with `InvalidArgument` if `workers` is 0 or a thread cannot be
    /// spawned (the threads already started are then wound down).
    pub fn new(config: PoolConfig, host: Arc<dyn Host>) -> Result<Arc<Pool>, PoolError> {
        if config.workers == 0 {
            return Err(PoolError::InvalidArgument("workers must be at least 1".into()));
        }
        // Thread names cannot contain NUL; an empty name would make threads
        // anonymous.
        let name = match config.name.replace('\0', "") {
            n if n.is_empty() => "syncpool".to_owned(),
            n => n,
        };
        let stack_size = match config.stack_size {
            0 => DEFAULT_WORKER_STACK,
            n => n.max(MIN_WORKER_STACK),
        };
        let id = NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed);
        let shared = Arc::new(Shared::new(id, name, config.workers, config.stop_grace, stack_size, host));
        let pool = Pool { shared };
        {
            let mut st = pool.shared.state.lock();
            for _ in 0..config.workers {
                if let Err(e) = pool.shared.spawn_worker(&mut st, false) {
                    drop(st);
                    // Dropping `pool` shuts down the workers already started.
                    return Err(PoolError::InvalidArgument(format!("could not start a worker thread: {e}")));
                }
            }
        }
        if let Err(e) = pool.shared.spawn_timer() {
            return Err(PoolError::InvalidArgument(format!("could not start the timer thread: {e}")));
        }
        Ok(Arc::new(pool))
    }

    /// Queues one task. `timeout` is counted from the moment it starts running.
    pub fn submit(&self, timeout: Option<Duration>) -> Result<TaskId, PoolError> {
        self.submit_range(1, timeout).map(|ids| ids.start)
    }

    /// Queues `count` tasks with contiguous ids, under one lock acquisition,
    /// so they run in id order relative to each other. At most
    /// [`MAX_SUBMIT_MANY`] at once (`InvalidArgument` otherwise).
    pub fn submit_many(&self, count: usize, timeout: Option<Duration>) -> Result<Vec<TaskId>, PoolError> {
        self.submit_range(count, timeout).map(|ids| ids.collect())
    }

    fn submit_range(&self, count: usize, timeout: Option<Duration>) -> Result<std::ops::Range<TaskId>, PoolError> {
        if timeout == Some(Duration::ZERO) {
            return Err(PoolError::InvalidArgument("timeout must be greater than zero".into()));
        }
        if count > MAX_SUBMIT_MANY {
            // Reserving room for an absurd count would abort the process.
            return Err(PoolError::InvalidArgument(format!("cannot submit more than {MAX_SUBMIT_MANY} tasks at once")));
        }
        let mut st = self.shared.state.lock();
        if st.shutdown {
            return Err(PoolError::ShutDown);
        }
        let ids = st.submit(count, timeout, SystemTime::now());
        for _ in 0..count.min(st.idle) {
            self.shared.work_cv.notify_one();
        }
        if st.blocked > 0 {
            self.shared.compensate(&mut st);
        }
        Ok(ids)
    }

    /// A snapshot of one task.
    pub fn info(&self, task: TaskId) -> Result<TaskInfo, PoolError> {
        let st = self.shared.state.lock();
        st.tasks.get(&task).map(|t| t.info(task)).ok_or(PoolError::UnknownTask(task))
    }

    /// Stops a task and returns its state afterwards.
    ///
    /// - Queued: becomes Stopped at once and never runs.
    /// - Running: becomes Stopped at once (waiters wake now), `Host::stop` is
    ///   called, and if the runner has not returned after `stop_grace` its
    ///   worker is abandoned and replaced, exactly as for a timeout. Whatever
    ///   the runner returns later is ignored.
    /// - Finished: unchanged.
    pub fn stop(&self, task: TaskId) -> Result<TaskState, PoolError> {
        self.shared.stop(task, TaskState::Stopped, "stopped")
    }

    /// Stops a task as [`Pool::stop`] does, but ends it in `state` (Stopped or
    /// TimedOut; `InvalidArgument` otherwise) with `message` as its
    /// explanation. For callers that enforce their own time limit, e.g. a wait
    /// that gives up: the task then reads TimedOut, not Stopped.
    pub fn stop_as(&self, task: TaskId, state: TaskState, message: &str) -> Result<TaskState, PoolError> {
        if !matches!(state, TaskState::Stopped | TaskState::TimedOut) {
            return Err(PoolError::InvalidArgument(format!("a task can only be stopped as Stopped or TimedOut, not {state}")));
        }
        self.shared.stop(task, state, message)
    }

    /// Stops every queued and running task (as [`Pool::stop`] does).
    pub fn stop_all(&self) {
        let mut st = self.shared.state.lock();
        let swept = self.shared.sweep(&mut st, "stopped");
        drop(st);
        self.shared.report_swept(&swept);
    }

    /// Forgets a finished task (`NotFinished` otherwise) and frees its
    /// bookkeeping. Its id is never reused; later calls with it fail with
    /// `UnknownTask`.
    pub fn remove(&self, task: TaskId) -> Result<(), PoolError> {
        self.shared.state.lock().remove(task)
    }

    /// Waits until one of `tasks` has finished (one that already has counts)
    /// and returns the first such in slice order; `None` on timeout or for an
    /// empty slice. `timeout: None` waits forever.
    ///
    /// Called from a task on this pool, the waiting worker is treated as
    /// blocked and a temporary worker may be started so the awaited tasks
    /// can run even at throttle 1; and the wait gives up (returns `None`)
    /// as soon as the calling task itself is stopped or times out.
    pub fn wait_any(&self, tasks: &[TaskId], timeout: Option<Duration>) -> Result<Option<TaskId>, PoolError> {
        wait::wait_any(&self.shared, tasks, timeout)
    }

    /// Waits until all of `tasks` have finished; false on timeout (or when
    /// the calling task is stopped, see [`Pool::wait_any`]).
    pub fn wait_all(&self, tasks: &[TaskId], timeout: Option<Duration>) -> Result<bool, PoolError> {
        wait::wait_all(&self.shared, tasks, timeout)
    }

    /// Progress counters (see [`Counts`]).
    pub fn counts(&self) -> Counts {
        self.shared.state.lock().counts
    }

    /// The configured number of concurrently running tasks (`PoolConfig::workers`).
    /// Abandoned workers are replaced and temporary nested-wait workers retire,
    /// so in steady state this is also the number of workers.
    pub fn throttle(&self) -> usize {
        self.shared.throttle
    }

    /// Shuts the pool down: no new tasks are accepted, queued tasks become
    /// Stopped, running tasks are stopped (and abandoned after `stop_grace`
    /// if their runners ignore it), idle workers exit. Then waits up to
    /// `timeout` for every worker thread, abandoned ones included, to exit
    /// (having called `Host::worker_exited`) and returns whether they all did.
    ///
    /// Idempotent: later calls only wait again. Called from one of this pool's
    /// own workers, it does not wait for the calling thread.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut st = self.shared.state.lock();
        if !st.shutdown {
            st.shutdown = true;
            let swept = self.shared.sweep(&mut st, "stopped: pool shut down");
            self.shared.work_cv.notify_all();
            self.shared.timer_cv.notify_one();
            MutexGuard::unlocked(&mut st, || self.shared.report_swept(&swept));
        }
        let own = usize::from(Pool::current_worker().is_some_and(|(pool, _)| pool == self.shared.id));
        while st.threads > own {
            match deadline {
                Some(at) => {
                    if self.shared.exit_cv.wait_until(&mut st, at).timed_out() {
                        break;
                    }
                }
                None => self.shared.exit_cv.wait(&mut st),
            }
        }
        st.threads <= own
    }

    /// `(pool instance id, worker id)` when called on a pool worker thread
    /// (compare the first with [`Pool::id`]), `None` elsewhere.
    pub fn current_worker() -> Option<(u64, WorkerId)> {
        worker::current()
    }

    /// This pool's instance id (unique in the process, starting at 1).
    pub fn id(&self) -> u64 {
        self.shared.id
    }

    /// The thread-name prefix in use.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The stack size worker threads are spawned with, in bytes.
    pub fn stack_size(&self) -> usize {
        self.shared.stack_size
    }

    /// How many tasks the pool still keeps bookkeeping for (everything
    /// submitted and not yet removed). For tests and diagnostics.
    pub fn tracked_tasks(&self) -> usize {
        self.shared.state.lock().tasks.len()
    }
}

impl Drop for Pool {
    /// The last handle is gone: shut down, but never block the dropping
    /// thread (it may be a finalizer or a worker of this very pool). Threads
    /// finish on their own; a runner stuck forever only keeps its own thread.
    fn drop(&mut self) {
        self.shutdown(Duration::ZERO);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::RunOutcome;

    struct Immediate;
    impl Host for Immediate {
        fn run(&self, _: WorkerId, _: TaskId) -> RunOutcome {
            RunOutcome::Completed
        }
        fn stop(&self, _: WorkerId, _: TaskId) {}
        fn worker_exited(&self, _: WorkerId) {}
    }

    /// Internal maps and the deadline heap are empty after many tasks with
    /// (never reached) timeouts were run and removed.
    #[test]
    fn internal_state_drains() {
        let pool = Pool::new(PoolConfig::new(2), Arc::new(Immediate)).unwrap();
        for _ in 0..20 {
            let ids = pool.submit_many(500, Some(Duration::from_secs(3600))).unwrap();
            assert!(pool.wait_all(&ids, Some(Duration::from_secs(10))).unwrap());
            for id in ids {
                pool.remove(id).unwrap();
            }
        }
        let st = pool.shared.state.lock();
        assert!(st.tasks.is_empty());
        assert!(st.queue.is_empty());
        assert!(st.deadlines.len() <= 64 + 4 * st.workers.len() + 1, "{}", st.deadlines.len());
        assert!(st.tasks.capacity() <= 4096 * 2, "{}", st.tasks.capacity());
        assert_eq!(st.counts.total(), 0);
        drop(st);
        assert!(pool.shutdown(Duration::from_secs(5)));
    }

    #[test]
    fn pool_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Pool>();
        check::<Arc<Pool>>();
    }
}
