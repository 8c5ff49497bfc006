//! A scriptable fake [`Host`] shared by the `pool_*` integration tests
//! (included with `#[path]`; compiled on its own it holds no tests).
//!
//! Every callback is logged under one mutex with a Condvar, so tests wait for
//! "the runner has started" or "worker 3 exited" with a deadline instead of
//! sleeping and hoping.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};
use syncpool::pool::{Host, Pool, PoolConfig, RunOutcome, TaskId, TaskState, WorkerId};

/// Upper bound for anything a test waits on: long enough never to fire on a
/// loaded 2-core CI machine, short enough that a bug fails instead of hanging.
pub const LONG: Duration = Duration::from_secs(10);

#[derive(Default, Debug)]
pub struct Log {
    /// (worker, task) in the order runners started.
    pub runs: Vec<(WorkerId, TaskId)>,
    /// Tasks whose runner returned (or panicked).
    pub returned: Vec<TaskId>,
    pub stops: Vec<(WorkerId, TaskId)>,
    pub exited: Vec<WorkerId>,
    pub finished: Vec<(TaskId, TaskState)>,
    /// Opens `FakeHost::gate`.
    pub released: bool,
}

type RunFn = dyn Fn(&FakeHost, WorkerId, TaskId) -> RunOutcome + Send + Sync;

pub struct FakeHost {
    log: Mutex<Log>,
    cv: Condvar,
    run: Box<RunFn>,
    pool: OnceLock<Weak<Pool>>,
}

impl FakeHost {
    pub fn new(run: impl Fn(&FakeHost, WorkerId, TaskId) -> RunOutcome + Send + Sync + 'static) -> Arc<FakeHost> {
        Arc::new(FakeHost {
            log: Mutex::new(Log::default()),
            cv: Condvar::new(),
            run: Box::new(run),
            pool: OnceLock::new(),
        })
    }

    /// A host whose runners complete at once.
    pub fn instant() -> Arc<FakeHost> {
        FakeHost::new(|_, _, _| RunOutcome::Completed)
    }

    /// The pool this host serves (for runners that submit nested tasks).
    pub fn pool(&self) -> Arc<Pool> {
        self.pool.get().and_then(Weak::upgrade).expect("pool alive")
    }

    pub fn log(&self) -> MutexGuard<'_, Log> {
        self.log.lock()
    }

    fn update(&self, f: impl FnOnce(&mut Log)) {
        f(&mut self.log.lock());
        self.cv.notify_all();
    }

    /// Waits (bounded) until `pred` holds for the log; returns whether it did.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&Log) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut log = self.log.lock();
        while !pred(&log) {
            if self.cv.wait_until(&mut log, deadline).timed_out() {
                return pred(&log);
            }
        }
        true
    }

    /// A cooperative runner's body: "works" for `d` unless asked to stop
    /// first. Returns true if it was stopped.
    pub fn work_unless_stopped(&self, task: TaskId, d: Duration) -> bool {
        self.wait_for(d, |l| l.stops.iter().any(|s| s.1 == task))
    }

    /// A stuck runner's body: ignores stop requests, only `release` (or the
    /// LONG safety bound) lets it go.
    pub fn gate(&self) {
        self.wait_for(LONG, |l| l.released);
    }

    pub fn release(&self) {
        self.update(|l| l.released = true);
    }

    pub fn worker_of(&self, task: TaskId) -> Option<WorkerId> {
        self.log().runs.iter().find(|r| r.1 == task).map(|r| r.0)
    }
}

impl Host for FakeHost {
    fn run(&self, worker: WorkerId, task: TaskId) -> RunOutcome {
        self.update(|l| l.runs.push((worker, task)));
        // Log the return even if the runner panics (the pool catches it).
        struct Returned<'a>(&'a FakeHost, TaskId);
        impl Drop for Returned<'_> {
            fn drop(&mut self) {
                let task = self.1;
                self.0.update(|l| l.returned.push(task));
            }
        }
        let _returned = Returned(self, task);
        (self.run)(self, worker, task)
    }

    fn stop(&self, worker: WorkerId, task: TaskId) {
        self.update(|l| l.stops.push((worker, task)));
    }

    fn worker_exited(&self, worker: WorkerId) {
        self.update(|l| l.exited.push(worker));
    }

    fn task_finished(&self, task: TaskId, state: TaskState) {
        self.update(|l| l.finished.push((task, state)));
    }
}

/// A pool of `workers` serving `host`, with the given stop grace.
pub fn pool_with(workers: usize, stop_grace: Duration, host: &Arc<FakeHost>) -> Arc<Pool> {
    let config = PoolConfig { workers, stop_grace, name: "test".into(), ..PoolConfig::default() };
    let pool = Pool::new(config, host.clone()).expect("pool");
    register(host, &pool);
    pool
}

/// Lets `host`'s runners reach `pool` (weakly: the pool owns the host).
pub fn register(host: &FakeHost, pool: &Arc<Pool>) {
    host.pool.set(Arc::downgrade(pool)).expect("one pool per host");
}

pub fn pool(workers: usize, host: &Arc<FakeHost>) -> Arc<Pool> {
    pool_with(workers, Duration::from_secs(5), host)
}

/// Runs `f`, returning its result and how long it took.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
