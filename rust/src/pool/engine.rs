//! The [`Engine`]: every pool, task, worker thread, warm context and deadline
//! of the process, and the operations on them.
//!
//! There is one engine per process for PowerShell (the FFI makes it); tests
//! make their own with a fake [`Host`]. Worker threads are the engine's and
//! serve every pool (see `executor`); pools only queue and throttle.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

use parking_lot::{Condvar, Mutex};

use super::batch::Batch;
use super::contexts::Contexts;
use super::error::PoolError;
use super::host::{self, Host, StopLevel};
use super::pool::{Pool, PoolOptions};
use super::task::{BatchId, GroupId, HostObject, PoolId, Task, TaskId};
use super::task_state::TaskState;
use super::timer::{Deadline, Timer};

/// The most tasks one pool runs at once.
pub const MAX_THROTTLE: usize = 1024;

/// How many tasks a pool runs at once when its maker names no throttle: the
/// number of CPUs, but at least 5 and at most 16. At least 5 because the usual
/// parallel work is I/O (remote calls, pings, web requests) and 5 is what
/// ForEach-Object -Parallel, Start-ThreadJob and PoshRSJob use, so ported
/// scripts do not slow down; up to the CPU count so CPU-bound work uses the
/// machine; at most 16 because each worker holds a runspace (tens of MB).
pub fn default_throttle() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(5, 16)
}

/// Default stack of a worker thread: PowerShell pipelines run on it, and a
/// deep script overflows Rust's 2 MiB default (which kills the process).
/// Reserved address space; only touched pages are committed.
pub const DEFAULT_WORKER_STACK: usize = 16 * 1024 * 1024;

/// How long a worker waits for more of a still-submitting call's tasks
/// before ending its batch. Ending a batch costs the host about a
/// millisecond (PowerShell resets the runspace), so waiting up to about that
/// long for the next item costs nothing a new batch would not; a call's end
/// wakes the worker at once.
pub const LINGER: Duration = Duration::from_millis(2);

/// The engine's timings and sizes. [`EngineConfig::default`] is the one
/// place PowerShell's defaults are defined.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub stack_size: usize,
    /// A worker thread with nothing to do for this long exits.
    pub thread_idle: Duration,
    /// A warm context unused for this long is disposed of.
    pub context_idle: Duration,
    /// After asking a running script to stop: when to interrupt its thread.
    pub interrupt_after: Duration,
    /// After asking a running script to stop: when to give up on its worker.
    pub abandon_after: Duration,
    /// How long a worker that ran out of its call's tasks waits for more
    /// while the call is still submitting, before it ends its batch.
    pub linger: Duration,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            stack_size: DEFAULT_WORKER_STACK,
            thread_idle: Duration::from_secs(30),
            context_idle: Duration::from_secs(60),
            interrupt_after: Duration::from_millis(500),
            abandon_after: Duration::from_secs(3),
            linger: LINGER,
        }
    }
}

/// The scheduler's state: which pools have work for a worker, and the threads.
#[derive(Default)]
pub(crate) struct Sched {
    pub ready: std::collections::VecDeque<Arc<Pool>>,
    pub idle: usize,
    /// Idle threads woken for work that have not picked it up yet.
    pub wakeups: usize,
    pub threads: usize,
    pub shutdown: bool,
}

pub struct Engine {
    pub config: EngineConfig,
    pub(crate) host: Arc<dyn Host>,
    pub(crate) me: Weak<Engine>,
    pools: Mutex<BTreeMap<PoolId, Arc<Pool>>>,
    pub(crate) sched: Mutex<Sched>,
    pub(crate) work: Condvar,
    pub(crate) contexts: Mutex<Contexts>,
    pub(crate) timer: Arc<Timer>,
    /// Batches being run, for escalations that must find them by id.
    pub(crate) batches: Mutex<HashMap<BatchId, Arc<Batch>>>,
    next_task: AtomicU64,
    next_pool: AtomicU64,
    pub(crate) next_worker: AtomicU32,
    pub(crate) next_batch: AtomicU64,
}

impl Engine {
    pub fn new(host: Arc<dyn Host>, config: EngineConfig) -> Arc<Engine> {
        let engine = Arc::new_cyclic(|me| Engine {
            config,
            host,
            me: me.clone(),
            pools: Mutex::new(BTreeMap::new()),
            sched: Mutex::new(Sched::default()),
            work: Condvar::new(),
            contexts: Mutex::new(Contexts::default()),
            timer: Timer::new(),
            batches: Mutex::new(HashMap::new()),
            next_task: AtomicU64::new(1),
            next_pool: AtomicU64::new(1),
            next_worker: AtomicU32::new(1),
            next_batch: AtomicU64::new(1),
        });
        let weak = Arc::downgrade(&engine);
        let timer = Arc::clone(&engine.timer);
        let spawned = std::thread::Builder::new().name("syncpool-timer".into()).spawn(move || {
            timer.run(|due| match weak.upgrade() {
                Some(engine) => {
                    engine.fire(due);
                    true
                }
                None => false,
            })
        });
        if let Err(e) = spawned {
            host::internal_error(&*engine.host, &format!("the timer thread could not be started ({e}); task timeouts will not fire"));
        }
        engine
    }

    // ---- pools -----------------------------------------------------------------------------

    /// Makes a pool; a throttle of 0 means [`default_throttle`].
    pub fn create_pool(&self, mut options: PoolOptions, host_object: Option<HostObject>) -> Result<Arc<Pool>, PoolError> {
        if options.throttle == 0 {
            options.throttle = default_throttle();
        }
        if options.throttle > MAX_THROTTLE {
            return Err(PoolError::InvalidArgument(format!("The throttle limit must be between 1 and {MAX_THROTTLE}; {} was given.", options.throttle)));
        }
        if options.default_timeout == Some(Duration::ZERO) {
            return Err(PoolError::InvalidArgument("A task timeout must be greater than zero.".into()));
        }
        let mut pools = self.pools.lock();
        if let Some(name) = &options.name {
            if name.trim().is_empty() {
                return Err(PoolError::InvalidArgument("A pool name cannot be empty.".into()));
            }
            if pools.values().any(|p| p.name().is_some_and(|n| n.to_lowercase() == name.to_lowercase())) {
                return Err(PoolError::NameTaken(name.clone()));
            }
        }
        let id = self.next_pool.fetch_add(1, Ordering::Relaxed);
        let pool = Arc::new(Pool::new(id, options, host_object));
        pools.insert(id, Arc::clone(&pool));
        Ok(pool)
    }

    /// Listed pools, oldest first.
    pub fn pools(&self) -> Vec<Arc<Pool>> {
        self.pools.lock().values().cloned().collect()
    }

    pub fn pool(&self, id: PoolId) -> Option<Arc<Pool>> {
        self.pools.lock().get(&id).cloned()
    }

    /// The listed pool with this name (case-insensitive).
    pub fn find_pool(&self, name: &str) -> Option<Arc<Pool>> {
        let wanted = name.to_lowercase();
        self.pools.lock().values().find(|p| p.name().is_some_and(|n| n.to_lowercase() == wanted)).cloned()
    }

    /// No more tasks for this per-call pool: it leaves the list once its tasks have.
    pub fn seal(&self, pool: &Arc<Pool>) {
        let done = {
            let mut inner = pool.lock();
            inner.sealed = true;
            inner.open_group = None;
            pool.wake_lingering(&inner);
            inner.is_done(pool.options.per_call)
        };
        if done {
            self.unlist_pool(pool);
        }
    }

    /// The call that submitted `group` to `pool` has ended: workers stop
    /// lingering for more of its tasks.
    pub fn end_group(&self, pool: &Arc<Pool>, group: GroupId) {
        let mut inner = pool.lock();
        if inner.open_group == Some(group) {
            inner.open_group = None;
            pool.wake_lingering(&inner);
        }
    }

    /// Removes a pool: its unfinished tasks are stopped, it and its tasks leave the lists.
    pub fn remove_pool(&self, pool: &Arc<Pool>, message: &str) {
        let tasks = {
            let mut inner = pool.lock();
            inner.removed = true;
            inner.queue.clear();
            inner.open_group = None;
            pool.wake_lingering(&inner);
            std::mem::take(&mut inner.tasks)
        };
        let mut released = Vec::new();
        for task in tasks.values() {
            self.stop_task(task, TaskState::Stopped, message);
            released.extend(task.release_host_object());
        }
        self.unlist_pool(pool);
        drop(released);
    }

    /// Removes every pool made by `owner` (its runspace is going away).
    pub fn remove_pools_owned_by(&self, owner: u64) {
        for pool in self.pools().into_iter().filter(|p| p.options.owner == owner) {
            self.remove_pool(&pool, "stopped: the runspace that made its pool closed");
        }
    }

    fn unlist_pool(&self, pool: &Arc<Pool>) {
        pool.lock().removed = true;
        let removed = self.pools.lock().remove(&pool.id);
        let host_object = pool.release_host_object();
        drop((removed, host_object));
    }

    // ---- tasks -----------------------------------------------------------------------------

    /// Queues one task per entry of `hosts` (each the host's object for it),
    /// all of `group`, with `timeout` (or the pool's default).
    pub fn submit(&self, pool: &Arc<Pool>, group: GroupId, timeout: Option<Duration>, hosts: Vec<Option<HostObject>>) -> Result<Vec<Arc<Task>>, PoolError> {
        let timeout = timeout.or(pool.options.default_timeout);
        if timeout == Some(Duration::ZERO) {
            return Err(PoolError::InvalidArgument("A task timeout must be greater than zero.".into()));
        }
        let now = SystemTime::now();
        let created = {
            let mut inner = pool.lock();
            if inner.removed {
                return Err(PoolError::PoolGone(pool.id));
            }
            if inner.sealed {
                return Err(PoolError::Sealed(pool.id));
            }
            let first = self.next_task.fetch_add(hosts.len() as u64, Ordering::Relaxed);
            let created: Vec<Arc<Task>> = hosts
                .into_iter()
                .enumerate()
                .map(|(i, host)| Arc::new(Task::new(first + i as u64, pool.id, group, timeout, host, now)))
                .collect();
            for task in &created {
                inner.tasks.insert(task.id, Arc::clone(task));
                inner.queue.push_back(Arc::clone(task));
            }
            inner.open_group = Some(group);
            pool.wake_for_tasks(&inner, created.len());
            created
        };
        self.schedule(pool);
        Ok(created)
    }

    /// The listed task with this id.
    pub fn task(&self, id: TaskId) -> Option<Arc<Task>> {
        self.pools().iter().find_map(|p| p.task(id))
    }

    /// Every listed task, oldest first.
    pub fn tasks(&self) -> Vec<Arc<Task>> {
        let mut all: Vec<Arc<Task>> = self.pools().iter().flat_map(|p| p.tasks()).collect();
        all.sort_by_key(|t| t.id);
        all
    }

    /// Ends `task` in `to` (Stopped or TimedOut) with `message`; a running
    /// script is asked to stop, then interrupted and its worker abandoned if
    /// it ignores the request. Returns the task's state afterwards.
    pub fn stop_task(&self, task: &Arc<Task>, to: TaskState, message: &str) -> TaskState {
        if !matches!(to, TaskState::Stopped | TaskState::TimedOut) {
            return task.state();
        }
        if let super::task::Stopped::WasRunning { worker, batch } = task.stop(to, message, SystemTime::now()) {
            self.escalate(task, worker, batch);
        }
        task.state()
    }

    /// Ends every unfinished task of `tasks` in `to` with `message`, the
    /// queued ones first: stopping a running task frees its slot at once,
    /// and a queued task of the same set would start in it (its script
    /// running, though it ends Stopped) before its own turn came. Returns
    /// how many were unfinished.
    pub fn stop_tasks(&self, tasks: &[Arc<Task>], to: TaskState, message: &str) -> usize {
        let (queued, started): (Vec<&Arc<Task>>, Vec<&Arc<Task>>) =
            tasks.iter().filter(|t| !t.is_finished()).partition(|t| t.state() == TaskState::Queued);
        for task in queued.iter().chain(&started) {
            self.stop_task(task, to, message);
        }
        queued.len() + started.len()
    }

    /// The first step of stopping a running script, and the timer for the next.
    pub(crate) fn escalate(&self, task: &Arc<Task>, worker: super::task::WorkerId, batch: BatchId) {
        host::stop(&*self.host, worker, task.id, StopLevel::Ask);
        self.timer.push(
            Instant::now() + self.config.interrupt_after,
            Deadline::Escalate { task: Arc::downgrade(task), batch, worker, level: StopLevel::Interrupt },
        );
    }

    /// Forgets a finished task (`NotFinished` otherwise): it leaves the lists
    /// and the host's object is released. Its record stays readable for
    /// whoever holds it. A per-call pool whose last task goes leaves too.
    pub fn remove_task(&self, task: &Arc<Task>) -> Result<(), PoolError> {
        if !task.is_finished() {
            return Err(PoolError::NotFinished(task.id));
        }
        let Some(pool) = self.pool(task.pool) else { return Ok(()) };
        let done = {
            let mut inner = pool.lock();
            inner.tasks.remove(&task.id);
            inner.is_done(pool.options.per_call)
        };
        drop(task.release_host_object());
        if done {
            self.unlist_pool(&pool);
        }
        Ok(())
    }

    /// Removes every pool, stopping their tasks; disposes of the warm contexts.
    pub fn shutdown(&self) {
        for pool in self.pools() {
            self.remove_pool(&pool, "stopped: SyncPool is shutting down");
        }
        {
            let mut sched = self.sched.lock();
            sched.shutdown = true;
            sched.ready.clear();
        }
        self.work.notify_all();
        let contexts = self.contexts.lock().drain();
        for context in contexts {
            host::dispose_context(&*self.host, context);
        }
    }

    /// Worker threads alive (serving or idle).
    pub fn threads(&self) -> usize {
        self.sched.lock().threads
    }

    /// Warm contexts waiting for work.
    pub fn idle_contexts(&self) -> usize {
        self.contexts.lock().idle_count()
    }

    /// Batches claimed since the engine started (diagnostics and tests: how well tiny tasks are batched).
    pub fn batches_run(&self) -> u64 {
        self.next_batch.load(Ordering::Relaxed) - 1
    }

    /// Deadlines pending (diagnostics and tests).
    pub fn pending_deadlines(&self) -> usize {
        self.timer.len()
    }

    // ---- deadlines -------------------------------------------------------------------------

    fn fire(&self, due: Deadline) {
        let task = match &due {
            Deadline::Timeout { task } | Deadline::Escalate { task, .. } => task.upgrade(),
            Deadline::ExpireContexts => None,
        };
        let fired = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.fire_checked(due)));
        if let Err(payload) = fired {
            let message = format!("SyncPool internal error in its timer: {}", host::panic_text(&*payload));
            if let Some(task) = task {
                self.fail_task(&task, &message);
            }
            host::internal_error(&*self.host, &message);
        }
    }

    fn fire_checked(&self, due: Deadline) {
        match due {
            Deadline::Timeout { task } => {
                let Some(task) = task.upgrade() else { return };
                if let Some((worker, batch)) = task.time_out(SystemTime::now()) {
                    self.escalate(&task, worker, batch);
                }
            }
            Deadline::Escalate { task, batch, worker, level } => {
                let Some(task) = task.upgrade() else { return };
                if !task.is_run_by(batch) {
                    return;
                }
                match level {
                    StopLevel::Ask | StopLevel::Interrupt => {
                        host::stop(&*self.host, worker, task.id, StopLevel::Interrupt);
                        let rest = self.config.abandon_after.saturating_sub(self.config.interrupt_after);
                        self.timer.push(Instant::now() + rest, Deadline::Escalate { task: Arc::downgrade(&task), batch, worker, level: StopLevel::Abandon });
                    }
                    StopLevel::Abandon => self.abandon(batch, &task),
                }
            }
            Deadline::ExpireContexts => {
                let (gone, next) = self.contexts.lock().expire(Instant::now(), self.config.context_idle);
                for context in gone {
                    host::dispose_context(&*self.host, context);
                }
                if let Some(at) = next {
                    self.timer.push(at, Deadline::ExpireContexts);
                }
            }
        }
    }

    /// Fails a task whose bookkeeping hit an internal error (never silently).
    pub(crate) fn fail_task(&self, task: &Arc<Task>, message: &str) {
        task.fail(message, SystemTime::now());
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.timer.stop();
    }
}
