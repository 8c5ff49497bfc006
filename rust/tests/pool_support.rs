//! A scriptable fake [`Host`] for the `pool_*` integration tests (included
//! with `#[path]`; compiled on its own it holds no tests).
//!
//! The fake runs each batch the way the C# host does: it asks the engine for
//! items one at a time, runs a per-task script (a closure), and reports each
//! outcome. Every callback is logged under one mutex with a condition
//! variable, so tests wait for "task 3 has started" with a deadline instead of
//! sleeping and hoping.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};
use syncpool::pool::{BatchRun, ContextFate, Engine, EngineConfig, Host, Outcome, Pool, PoolOptions, StopLevel, Task, TaskId, WorkerId};

/// Upper bound for anything a test waits on: long enough never to fire on a
/// loaded 2-core CI machine, short enough that a bug fails instead of hanging.
pub const LONG: Duration = Duration::from_secs(20);

#[derive(Default, Debug)]
pub struct Log {
    /// Every batch run, in order.
    pub batches: Vec<BatchRun>,
    /// Batches whose run has returned.
    pub batches_ended: usize,
    /// Tasks in the order their scripts started, with the batch size they came in.
    pub started: Vec<TaskId>,
    pub ended: Vec<TaskId>,
    pub stops: Vec<(WorkerId, TaskId, StopLevel)>,
    pub disposed: Vec<u64>,
    pub internal_errors: Vec<String>,
    /// Contexts set up (fresh ones the fake "created").
    pub created: Vec<u64>,
    /// Per task: the highest stop level it has received.
    pub stop_level: HashMap<TaskId, StopLevel>,
    /// Opens every gated script.
    pub released: bool,
    /// The first task of each batch as the host peeked at it, with its state then.
    pub peeked: Vec<(TaskId, syncpool::pool::TaskState)>,
}

/// What a fake script does for one task.
pub type Script = dyn Fn(&FakeHost, &Arc<Task>) -> Outcome + Send + Sync;

pub struct FakeHost {
    log: Mutex<Log>,
    cv: Condvar,
    script: Box<Script>,
    /// How long setting up a fresh context takes (like importing modules).
    pub setup: Duration,
    /// How long preparing each batch's pipeline takes, after peeking at its
    /// first task and before starting it (as the C# host prepares a batch).
    pub batch_setup: Duration,
    engine: OnceLock<Weak<Engine>>,
}

impl FakeHost {
    pub fn new(script: impl Fn(&FakeHost, &Arc<Task>) -> Outcome + Send + Sync + 'static) -> Arc<FakeHost> {
        FakeHost::with_setup(Duration::ZERO, script)
    }

    pub fn with_setup(setup: Duration, script: impl Fn(&FakeHost, &Arc<Task>) -> Outcome + Send + Sync + 'static) -> Arc<FakeHost> {
        Arc::new(FakeHost { log: Mutex::new(Log::default()), cv: Condvar::new(), script: Box::new(script), setup, batch_setup: Duration::ZERO, engine: OnceLock::new() })
    }

    pub fn with_batch_setup(batch_setup: Duration, script: impl Fn(&FakeHost, &Arc<Task>) -> Outcome + Send + Sync + 'static) -> Arc<FakeHost> {
        Arc::new(FakeHost { log: Mutex::new(Log::default()), cv: Condvar::new(), script: Box::new(script), setup: Duration::ZERO, batch_setup, engine: OnceLock::new() })
    }

    /// Scripts that complete at once.
    pub fn instant() -> Arc<FakeHost> {
        FakeHost::new(|_, _| Outcome::Completed)
    }

    pub fn engine(&self) -> Arc<Engine> {
        self.engine.get().and_then(Weak::upgrade).expect("engine alive")
    }

    pub fn log(&self) -> MutexGuard<'_, Log> {
        self.log.lock()
    }

    fn update(&self, f: impl FnOnce(&mut Log)) {
        f(&mut self.log.lock());
        self.cv.notify_all();
    }

    /// Waits (bounded) until `pred` holds for the log.
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

    /// Blocks a script until the test releases every gate, or until `task`
    /// is stopped at `level` or harder (like a .NET wait Thread.Interrupt ends).
    pub fn gate(&self, task: TaskId, level: Option<StopLevel>) -> bool {
        let deadline = Instant::now() + LONG;
        let mut log = self.log.lock();
        loop {
            if log.released {
                return true;
            }
            if let (Some(want), Some(got)) = (level, log.stop_level.get(&task)) {
                if rank(*got) >= rank(want) {
                    return false;
                }
            }
            if self.cv.wait_until(&mut log, deadline).timed_out() {
                return false;
            }
        }
    }

    pub fn release(&self) {
        self.update(|l| l.released = true);
    }
}

fn rank(level: StopLevel) -> u8 {
    match level {
        StopLevel::Ask => 0,
        StopLevel::Interrupt => 1,
        StopLevel::Abandon => 2,
    }
}

impl Host for FakeHost {
    fn run_batch(&self, run: &BatchRun) -> ContextFate {
        self.update(|l| {
            l.batches.push(*run);
            if run.fresh {
                l.created.push(run.context);
            }
        });
        if run.fresh && !self.setup.is_zero() {
            std::thread::sleep(self.setup);
        }
        let engine = self.engine();
        if let Some(first) = engine.peek_item(run.batch).expect("batch is current") {
            self.update(|l| l.peeked.push((first.id, first.state())));
            if !self.batch_setup.is_zero() {
                std::thread::sleep(self.batch_setup);
            }
        }
        while let Some(task) = engine.next_item(run.batch).expect("batch is current") {
            self.update(|l| l.started.push(task.id));
            let outcome = (self.script)(self, &task);
            engine.end_item(run.batch, task.id, outcome, None).expect("task is current");
            self.update(|l| l.ended.push(task.id));
        }
        self.update(|l| l.batches_ended += 1);
        ContextFate::Keep
    }

    fn stop(&self, worker: WorkerId, task: TaskId, level: StopLevel) {
        self.update(|l| {
            l.stops.push((worker, task, level));
            let entry = l.stop_level.entry(task).or_insert(level);
            if rank(level) > rank(*entry) {
                *entry = level;
            }
        });
    }

    fn dispose_context(&self, context: u64) {
        self.update(|l| l.disposed.push(context));
    }

    fn internal_error(&self, message: &str) {
        self.update(|l| l.internal_errors.push(message.to_owned()));
    }
}

/// An engine serving `host`, with test-sized timings.
pub fn engine_with(host: &Arc<FakeHost>, config: EngineConfig) -> Arc<Engine> {
    let engine = Engine::new(host.clone(), config);
    host.engine.set(Arc::downgrade(&engine)).ok().expect("one engine per host");
    engine
}

pub fn quick_config() -> EngineConfig {
    EngineConfig {
        interrupt_after: Duration::from_millis(100),
        abandon_after: Duration::from_millis(300),
        ..EngineConfig::default()
    }
}

pub fn engine(host: &Arc<FakeHost>) -> Arc<Engine> {
    engine_with(host, quick_config())
}

pub fn pool(engine: &Engine, throttle: usize) -> Arc<Pool> {
    engine.create_pool(PoolOptions { throttle, context_key: 1, ..PoolOptions::default() }, None).unwrap()
}

pub fn submit(engine: &Engine, pool: &Arc<Pool>, count: usize, timeout: Option<Duration>) -> Vec<Arc<Task>> {
    engine.submit(pool, 1, timeout, vec![None; count]).unwrap()
}

/// The call that submitted group 1 to `pool` ends; waits until every batch run so far has returned.
pub fn end_call(host: &FakeHost, engine: &Engine, pool: &Arc<Pool>) {
    engine.end_group(pool, 1);
    assert!(host.wait_for(LONG, |l| l.batches_ended == l.batches.len()), "a batch did not end after its call ended");
    // The engine takes the context back and frees the slot just after the host returns.
    let deadline = Instant::now() + LONG;
    while pool.counts().workers > 0 {
        assert!(Instant::now() < deadline, "the worker did not give its slot back");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits for every task, bounded by [`LONG`].
pub fn wait_all(tasks: &[Arc<Task>]) {
    let wait = syncpool::pool::Wait::new(tasks.to_vec());
    assert_eq!(wait.all(Some(Instant::now() + LONG), None), syncpool::pool::WaitEnd::Done, "tasks did not finish in time");
}

/// Peak number of overlapping [start, end] intervals (tasks running at once).
pub fn peak_overlap(intervals: &[(Instant, Instant)]) -> usize {
    let mut events: Vec<(Instant, i32)> = intervals.iter().flat_map(|&(s, e)| [(s, 1), (e, -1)]).collect();
    events.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut peak) = (0i32, 0i32);
    for (_, d) in events {
        now += d;
        peak = peak.max(now);
    }
    peak as usize
}
