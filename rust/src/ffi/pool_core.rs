//! The task engine ([`crate::pool`]) across the C ABI.
//!
//! One engine per process, started by [`syncpool_engine_start`] with the
//! callbacks that make C# the engine's [`Host`]. Pools, tasks and batches are
//! named by their ids; C# objects users hold (a pool, a task) are registered
//! with the object registry (see [`objects`]) and the engine keeps them alive
//! for as long as it lists what they stand for, so listings hand them back.
//! [`TaskRef`] keeps one task's record readable after it is no longer listed.
//!
//! Nothing here decides anything: it converts, calls the engine, and turns
//! refusals into error codes (and panics into [`ErrorCode::Panic`]).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use interoptopus::{callback, ffi};
use once_cell::sync::OnceCell;
use parking_lot::Mutex;

use crate::ffi::cancel;
use crate::ffi::fault::{ErrorCode, Fault, guard, install_panic_hook};
use crate::ffi::objects::{self, ObjectLease};
use crate::pool::{
    BatchRun, ContextFate, Engine, EngineConfig, Host, HostObject, Next, Outcome, Pool, PoolError, PoolOptions, StopLevel, Task,
    TaskState, Wait, WaitEnd, WaitOrder,
};
use crate::table::ObjectRef;

callback!(RunBatch(worker: u32, batch: u64, pool: u64, context: u64, fresh: u8, context_key: u64) -> u8);
callback!(StopTask(worker: u32, task: u64, level: u8));
callback!(DisposeContext(context: u64));

/// [`RunBatch`]'s answer meaning "keep the context warm"; anything else discards it.
pub const KEEP_CONTEXT: u8 = 1;

/// [`StopTask`]'s `level`: 0 ask, 1 interrupt, 2 abandoned (see [`StopLevel`]).
fn level_code(level: StopLevel) -> u8 {
    match level {
        StopLevel::Ask => 0,
        StopLevel::Interrupt => 1,
        StopLevel::Abandon => 2,
    }
}

/// The engine's view of the C# side. Internal errors are queued for the
/// next cmdlet to report ([`syncpool_engine_take_faults`]).
struct CallbackHost {
    run: RunBatch,
    stop: StopTask,
    dispose: DisposeContext,
    faults: Mutex<Vec<String>>,
}

impl Host for CallbackHost {
    fn run_batch(&self, run: &BatchRun) -> ContextFate {
        let keep = self.run.call(run.worker, run.batch, run.pool, run.context, u8::from(run.fresh), run.context_key);
        if keep == KEEP_CONTEXT { ContextFate::Keep } else { ContextFate::Discard }
    }
    fn stop(&self, worker: u32, task: u64, level: StopLevel) {
        self.stop.call(worker, task, level_code(level));
    }
    fn dispose_context(&self, context: u64) {
        self.dispose.call(context);
    }
    fn internal_error(&self, message: &str) {
        self.faults.lock().push(message.to_owned());
    }
}

static ENGINE: OnceCell<(Arc<Engine>, Arc<CallbackHost>)> = OnceCell::new();

fn engine() -> Result<&'static Arc<Engine>, Fault> {
    ENGINE.get().map(|(e, _)| e).ok_or_else(|| Fault::invalid("The task engine has not been started (syncpool_engine_start)."))
}

impl From<PoolError> for Fault {
    fn from(error: PoolError) -> Self {
        let code = match error {
            PoolError::PoolGone(_) | PoolError::Sealed(_) => ErrorCode::ShutDown,
            PoolError::UnknownPool(_) => ErrorCode::UnknownPool,
            PoolError::UnknownTask(_) => ErrorCode::UnknownTask,
            PoolError::NotFinished(_) => ErrorCode::NotFinished,
            PoolError::NameTaken(_) => ErrorCode::NameTaken,
            PoolError::InvalidArgument(_) => ErrorCode::InvalidArgument,
        };
        Fault::new(code, error.to_string())
    }
}

fn micros(time: Option<SystemTime>) -> i64 {
    time.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_micros() as i64)
}

/// `0` means "none" for timeouts in milliseconds.
fn optional_ms(ms: u64) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(ms))
}

/// `u64::MAX` means "wait forever".
fn deadline_ms(ms: u64) -> Option<Instant> {
    (ms != u64::MAX).then(|| Instant::now().checked_add(Duration::from_millis(ms))).flatten()
}

fn text(bytes: ffi::Slice<u8>) -> Result<String, Fault> {
    String::from_utf8(bytes.as_slice().to_vec()).map_err(|_| Fault::invalid("Text passed to the task engine is not valid UTF-8."))
}

/// A registered C# object: what the engine keeps alive for a pool or task.
fn host_object(id: u64) -> Option<HostObject> {
    (id != 0).then(|| objects::adopt(id) as HostObject)
}

/// A lease on the C# object behind `object` (0/0 when there is none).
fn lease(object: Option<HostObject>) -> ObjectLease {
    match object.and_then(|o| o.downcast::<ObjectRef>().ok()) {
        Some(object) => objects::lease(object),
        None => ObjectLease { id: 0, lease: 0 },
    }
}

fn pool(id: u64) -> Result<Arc<Pool>, Fault> {
    engine()?.pool(id).ok_or_else(|| PoolError::UnknownPool(format!("with id {id}")).into())
}

/// Starts the process's task engine with C#'s callbacks; later calls do
/// nothing (the module can be imported again into the same process).
#[ffi]
pub fn syncpool_engine_start(run: RunBatch, stop: StopTask, dispose: DisposeContext) -> ffi::Result<(), ErrorCode> {
    install_panic_hook();
    guard(|| {
        ENGINE.get_or_init(|| {
            let host = Arc::new(CallbackHost { run, stop, dispose, faults: Mutex::new(Vec::new()) });
            (Engine::new(host.clone(), EngineConfig::default()), host)
        });
        Ok(())
    })
}

/// Internal errors not reported yet, one per line (empty if none); taking them clears them.
#[ffi]
pub fn syncpool_engine_take_faults() -> ffi::String {
    let text = ENGINE.get().map(|(_, host)| std::mem::take(&mut *host.faults.lock()).join("\n")).unwrap_or_default();
    ffi::String::from_string(text)
}

/// Removes every pool (stopping their tasks) and disposes of the warm contexts (process exit).
#[ffi]
pub fn syncpool_engine_shutdown() -> ffi::Result<(), ErrorCode> {
    guard(|| {
        if let Some((engine, _)) = ENGINE.get() {
            engine.shutdown();
        }
        Ok(())
    })
}

/// What the engine holds right now (diagnostics and tests).
#[ffi]
pub struct EngineStatsOut {
    pub threads: u64,
    pub idle_contexts: u64,
    pub pending_deadlines: u64,
    pub pools: u64,
    pub tasks: u64,
    /// Batches run since the engine started.
    pub batches: u64,
}

#[ffi]
pub fn syncpool_engine_stats() -> ffi::Result<EngineStatsOut, ErrorCode> {
    guard(|| {
        let e = engine()?;
        Ok(EngineStatsOut {
            threads: e.threads() as u64,
            idle_contexts: e.idle_contexts() as u64,
            pending_deadlines: e.pending_deadlines() as u64,
            pools: e.pools().len() as u64,
            tasks: e.pools().iter().map(|p| p.tasks().len() as u64).sum(),
            batches: e.batches_run(),
        })
    })
}

// ---- pools ---------------------------------------------------------------------------------

/// How a pool is made (see [`PoolOptions`]).
#[ffi]
pub struct PoolOptionsIn<'a> {
    /// 0 = the engine's default throttle.
    pub throttle: u32,
    pub context_key: u64,
    /// 0 = no default timeout.
    pub default_timeout_ms: u64,
    pub per_call: ffi::Bool,
    pub owner: u64,
    /// Empty = no name.
    pub name: ffi::Slice<'a, u8>,
    /// The registered C# object for the pool (0 = none).
    pub host_object: u64,
}

#[ffi]
pub fn syncpool_pool_create(options: PoolOptionsIn) -> ffi::Result<u64, ErrorCode> {
    guard(|| {
        let name = text(options.name)?;
        let pool = engine()?.create_pool(
            PoolOptions {
                name: (!name.is_empty()).then_some(name),
                throttle: options.throttle as usize,
                context_key: options.context_key,
                default_timeout: optional_ms(options.default_timeout_ms),
                per_call: options.per_call.is(),
                owner: options.owner,
            },
            host_object(options.host_object),
        )?;
        Ok(pool.id)
    })
}

/// A pool's setup and counts.
#[ffi]
pub struct PoolInfoOut {
    pub throttle: u64,
    pub default_timeout_ms: u64,
    pub per_call: ffi::Bool,
    pub is_sealed: ffi::Bool,
    pub removed: ffi::Bool,
    pub created_us: i64,
    pub queued: u64,
    pub running: u64,
    pub completed: u64,
    pub failed: u64,
    pub stopped: u64,
    pub timed_out: u64,
    pub workers: u64,
    pub abandoned_workers: u64,
}

/// Setup and counts of pool `id`; a pool no longer listed reads as removed with no tasks.
#[ffi]
pub fn syncpool_pool_info(id: u64) -> ffi::Result<PoolInfoOut, ErrorCode> {
    guard(|| {
        let pool = engine()?.pool(id);
        let Some(pool) = pool else {
            return Ok(PoolInfoOut {
                throttle: 0,
                default_timeout_ms: 0,
                per_call: false.into(),
                is_sealed: true.into(),
                removed: true.into(),
                created_us: 0,
                queued: 0,
                running: 0,
                completed: 0,
                failed: 0,
                stopped: 0,
                timed_out: 0,
                workers: 0,
                abandoned_workers: 0,
            });
        };
        let c = pool.counts();
        Ok(PoolInfoOut {
            throttle: pool.throttle() as u64,
            default_timeout_ms: pool.options.default_timeout.map_or(0, |t| t.as_millis() as u64),
            per_call: pool.options.per_call.into(),
            is_sealed: pool.is_sealed().into(),
            removed: pool.is_removed().into(),
            created_us: micros(Some(pool.created_at)),
            queued: c.queued as u64,
            running: c.running as u64,
            completed: c.completed as u64,
            failed: c.failed as u64,
            stopped: c.stopped as u64,
            timed_out: c.timed_out as u64,
            workers: c.workers as u64,
            abandoned_workers: c.abandoned_workers as u64,
        })
    })
}

/// No more tasks for this per-call pool.
#[ffi]
pub fn syncpool_pool_seal(id: u64) -> ffi::Result<(), ErrorCode> {
    guard(|| {
        if let Some(p) = engine()?.pool(id) {
            engine()?.seal(&p);
        }
        Ok(())
    })
}

/// The call that submitted `call_group` to pool `id` has ended (a named
/// pool's; sealing ends a per-call pool's): workers stop waiting for more of
/// its tasks.
#[ffi]
pub fn syncpool_group_end(id: u64, call_group: u64) -> ffi::Result<(), ErrorCode> {
    guard(|| {
        if let Some(p) = engine()?.pool(id) {
            engine()?.end_group(&p, call_group);
        }
        Ok(())
    })
}

/// Removes the pool: its unfinished tasks end Stopped, it and its tasks leave the lists.
#[ffi]
pub fn syncpool_pool_remove(id: u64) -> ffi::Result<(), ErrorCode> {
    guard(|| {
        let e = engine()?;
        if let Some(p) = e.pool(id) {
            e.remove_pool(&p, "stopped: its pool was removed (Remove-ParallelPool)");
        }
        Ok(())
    })
}

/// Removes every pool made by `owner` (its runspace closed or removed the module).
#[ffi]
pub fn syncpool_pool_remove_owned_by(owner: u64) -> ffi::Result<(), ErrorCode> {
    guard(|| {
        engine()?.remove_pools_owned_by(owner);
        Ok(())
    })
}

/// The C# objects of the listed pools, oldest first.
#[ffi]
pub fn syncpool_pool_list() -> ffi::Result<ffi::Vec<ObjectLease>, ErrorCode> {
    guard(|| Ok(ffi::Vec::from_vec(engine()?.pools().into_iter().map(|p| lease(p.host_object())).collect())))
}

/// The C# object of the listed pool named `name` (case-insensitive); id 0 if none.
#[ffi]
pub fn syncpool_pool_find(name: ffi::Slice<u8>) -> ffi::Result<ObjectLease, ErrorCode> {
    guard(|| {
        let name = text(name)?;
        Ok(lease(engine()?.find_pool(&name).and_then(|p| p.host_object())))
    })
}

// ---- tasks ---------------------------------------------------------------------------------

/// Queues one task per entry of `host_objects` (each the registered C#
/// object for its task) in pool `pool`, all of group `group_id`; `timeout_ms` 0 = the
/// pool's default. Returns the first task's id; the others follow in order.
#[ffi]
pub fn syncpool_task_submit(pool_id: u64, group_id: u64, timeout_ms: u64, host_objects: ffi::Slice<u64>) -> ffi::Result<u64, ErrorCode> {
    guard(|| {
        let ids = host_objects.as_slice();
        if ids.is_empty() {
            return Err(Fault::invalid("Nothing to submit: no tasks were given."));
        }
        let p = pool(pool_id)?;
        let tasks = engine()?.submit(&p, group_id, optional_ms(timeout_ms), ids.iter().map(|&id| host_object(id)).collect())?;
        Ok(tasks[0].id)
    })
}

/// The C# objects of the listed tasks (of pool `pool_id`, or of all with 0)
/// whose state is in `state_mask` (bit `1 << state`), oldest first.
#[ffi]
pub fn syncpool_task_list(pool_id: u64, state_mask: u32) -> ffi::Result<ffi::Vec<ObjectLease>, ErrorCode> {
    guard(|| {
        let e = engine()?;
        let tasks = if pool_id == 0 { e.tasks() } else { pool(pool_id)?.tasks() };
        Ok(ffi::Vec::from_vec(
            tasks.into_iter().filter(|t| t.state().bit() & state_mask != 0).map(|t| lease(t.host_object())).collect(),
        ))
    })
}

/// Ends every unfinished task among the listed tasks `ids` Stopped (or
/// TimedOut) with `message`, the queued ones first (see
/// [`Engine::stop_tasks`](crate::pool::Engine::stop_tasks)). Ids no longer
/// listed are skipped: only a finished task can have been removed. Returns
/// how many were unfinished.
#[ffi]
pub fn syncpool_tasks_stop(ids: ffi::Slice<u64>, timed_out: ffi::Bool, message: ffi::Slice<u8>) -> ffi::Result<u64, ErrorCode> {
    guard(|| {
        let to = if timed_out.is() { TaskState::TimedOut } else { TaskState::Stopped };
        let message = text(message)?;
        let e = engine()?;
        let tasks: Vec<_> = ids.as_slice().iter().filter_map(|&id| e.task(id)).collect();
        Ok(e.stop_tasks(&tasks, to, &message) as u64)
    })
}

/// The C# object of the listed task `id`; id 0 if it is not listed.
#[ffi]
pub fn syncpool_task_find(id: u64) -> ffi::Result<ObjectLease, ErrorCode> {
    guard(|| Ok(lease(engine()?.task(id).and_then(|t| t.host_object()))))
}

/// A task's state and timestamps (microseconds since the Unix epoch, 0 = not yet).
#[ffi]
pub struct TaskInfoOut {
    pub id: u64,
    pub state: TaskState,
    pub pool: u64,
    pub worker: i64,
    pub queued_us: i64,
    pub started_us: i64,
    pub ended_us: i64,
    pub timeout_ms: u64,
    pub message: ffi::String,
}

/// One task's record, readable for as long as C# holds it, listed or not.
#[ffi(service)]
pub struct TaskRef {
    task: Arc<Task>,
}

/// A task's state, and whether the engine listed it, at one moment (see [`TaskRef::settle`]).
#[ffi]
pub struct TaskSettled {
    pub state: TaskState,
    pub was_listed: ffi::Bool,
}

#[ffi]
impl TaskRef {
    /// Queues one task (its C# object registered as `host_id`) in pool
    /// `pool_id`, of group `group_id`, with `timeout_ms` (0 = the pool's
    /// default), and returns its record: one crossing per task.
    pub fn submit(pool_id: u64, group_id: u64, timeout_ms: u64, host_id: u64) -> ffi::Result<Self, ErrorCode> {
        guard(|| {
            let p = pool(pool_id)?;
            let mut tasks = engine()?.submit(&p, group_id, optional_ms(timeout_ms), vec![host_object(host_id)])?;
            Ok(TaskRef { task: tasks.pop().expect("one task submitted") })
        })
    }

    /// The listed task `id` of pool `pool_id`.
    pub fn attach(pool_id: u64, id: u64) -> ffi::Result<Self, ErrorCode> {
        guard(|| {
            let task = pool(pool_id)?.task(id).ok_or(PoolError::UnknownTask(id))?;
            Ok(TaskRef { task })
        })
    }

    pub fn task_id(&self) -> ffi::Result<u64, ErrorCode> {
        guard(|| Ok(self.task.id))
    }

    pub fn state(&self) -> ffi::Result<TaskState, ErrorCode> {
        guard(|| Ok(self.task.state()))
    }

    pub fn info(&self) -> ffi::Result<TaskInfoOut, ErrorCode> {
        guard(|| {
            let i = self.task.info();
            Ok(TaskInfoOut {
                id: i.id,
                state: i.state,
                pool: i.pool,
                worker: i.worker.map_or(-1, i64::from),
                queued_us: micros(Some(i.queued_at)),
                started_us: micros(i.started_at),
                ended_us: micros(i.ended_at),
                timeout_ms: i.timeout.map_or(0, |t| t.as_millis() as u64),
                message: ffi::String::from_string(i.message.unwrap_or_default()),
            })
        })
    }

    /// Ends the task Stopped (or TimedOut) with `message` unless it finished; returns its state.
    pub fn stop(&self, timed_out: ffi::Bool, message: ffi::Slice<u8>) -> ffi::Result<TaskState, ErrorCode> {
        guard(|| {
            let to = if timed_out.is() { TaskState::TimedOut } else { TaskState::Stopped };
            let message = text(message)?;
            let message = if message.is_empty() { to.to_string().to_lowercase() } else { message };
            Ok(engine()?.stop_task(&self.task, to, &message))
        })
    }

    /// Forgets the finished task (`NotFinished` otherwise); the record stays readable here.
    pub fn forget(&self) -> ffi::Result<(), ErrorCode> {
        guard(|| Ok(engine()?.remove_task(&self.task)?))
    }

    /// The task's state and whether it was listed; a finished, listed task
    /// is removed too (what receiving its results does): one crossing.
    pub fn settle(&self, remove_if_finished: ffi::Bool) -> ffi::Result<TaskSettled, ErrorCode> {
        guard(|| {
            let e = engine()?;
            let state = self.task.state();
            let listed = e.pool(self.task.pool).and_then(|p| p.task(self.task.id)).is_some();
            if listed && remove_if_finished.is() && state.is_finished() {
                e.remove_task(&self.task)?;
            }
            Ok(TaskSettled { state, was_listed: listed.into() })
        })
    }

    /// Whether the engine still lists the task.
    pub fn is_listed(&self) -> ffi::Result<ffi::Bool, ErrorCode> {
        guard(|| Ok(engine()?.pool(self.task.pool).and_then(|p| p.task(self.task.id)).is_some().into()))
    }
}

// ---- batches (called by C# on the worker thread, inside RunBatch) --------------------------

/// The next task of a batch: its id (0 = the batch is done) and the registry
/// id of its C# object. No lease is needed: a running task is listed (only
/// finished tasks can be removed), so the engine keeps its object alive.
#[ffi]
pub struct BatchItem {
    pub task: u64,
    pub host_id: u64,
}

/// The id of the C# object of `task` (0 if it has none).
fn host_id_of(task: &Arc<Task>) -> u64 {
    task.host_object().and_then(|o| o.downcast::<ObjectRef>().ok()).map_or(0, |o| o.id())
}

/// Ends task `ended` of `batch` (0 = none to end; `failed` with `message` if
/// its script ended with a terminating error) and starts the next one (its
/// timeout counts from now): one crossing per task on the hot path.
#[ffi]
pub fn syncpool_batch_next(batch: u64, ended: u64, failed: ffi::Bool, message: ffi::Slice<u8>) -> ffi::Result<BatchItem, ErrorCode> {
    guard(|| {
        let e = engine()?;
        if ended != 0 {
            let message = text(message)?;
            let outcome = if failed.is() { Outcome::Failed } else { Outcome::Completed };
            e.end_item(batch, ended, outcome, (!message.is_empty()).then_some(message))?;
        }
        Ok(match e.next_item(batch)? {
            Some(task) => BatchItem { task: task.id, host_id: host_id_of(&task) },
            None => BatchItem { task: 0, host_id: 0 },
        })
    })
}

/// The task `batch` would start next, without starting it (task 0: none
/// claimed; ask `syncpool_batch_next`), so the host can prepare its pipeline
/// before the task's timeout starts counting.
#[ffi]
pub fn syncpool_batch_peek(batch: u64) -> ffi::Result<BatchItem, ErrorCode> {
    guard(|| {
        Ok(match engine()?.peek_item(batch)? {
            Some(task) => BatchItem { task: task.id, host_id: host_id_of(&task) },
            None => BatchItem { task: 0, host_id: 0 },
        })
    })
}

/// The script of `task` returned: `failed` if with a terminating error (`message`, may be empty).
#[ffi]
pub fn syncpool_batch_end(batch: u64, task: u64, failed: ffi::Bool, message: ffi::Slice<u8>) -> ffi::Result<(), ErrorCode> {
    guard(|| {
        let message = text(message)?;
        let outcome = if failed.is() { Outcome::Failed } else { Outcome::Completed };
        Ok(engine()?.end_item(batch, task, outcome, (!message.is_empty()).then_some(message))?)
    })
}

// ---- waits ---------------------------------------------------------------------------------

/// Counts for a wait's progress bar.
#[ffi]
pub struct WaitProgressOut {
    pub total: u64,
    pub finished: u64,
    pub running: u64,
}

/// [`TaskWait::next`] results below zero.
pub const NEXT_END: i64 = -1;
pub const NEXT_TIMED_OUT: i64 = -2;
pub const NEXT_CANCELLED: i64 = -3;

/// A wait for a set of listed tasks, across pools (see [`Wait`]).
#[ffi(service)]
pub struct TaskWait {
    wait: Wait,
}

fn wait_end_code(end: WaitEnd) -> u8 {
    match end {
        WaitEnd::Done => 0,
        WaitEnd::TimedOut => 1,
        WaitEnd::Cancelled => 2,
    }
}

#[ffi]
impl TaskWait {
    /// A wait for tasks `tasks[i]` of pools `pools[i]`; a task no longer
    /// listed is refused (`UnknownTask`).
    pub fn create(pools: ffi::Slice<u64>, tasks: ffi::Slice<u64>) -> ffi::Result<Self, ErrorCode> {
        guard(|| {
            let (pools, ids) = (pools.as_slice(), tasks.as_slice());
            if pools.len() != ids.len() {
                return Err(Fault::invalid("A wait needs one pool id per task id."));
            }
            let e = engine()?;
            let mut found = Vec::with_capacity(ids.len());
            let mut last: Option<Arc<Pool>> = None;
            for (&p, &id) in pools.iter().zip(ids) {
                let pool = match &last {
                    Some(l) if l.id == p => Arc::clone(l),
                    _ => e.pool(p).ok_or(PoolError::UnknownTask(id))?,
                };
                found.push(pool.task(id).ok_or(PoolError::UnknownTask(id))?);
                last = Some(pool);
            }
            Ok(TaskWait { wait: Wait::new(found) })
        })
    }

    /// The next finished task (its index in the order given), in completion
    /// or input order: `NEXT_END` when all were delivered, `NEXT_TIMED_OUT`
    /// after `timeout_ms` (`u64::MAX` = forever), `NEXT_CANCELLED` when the
    /// cancel signal `cancel` (0 = none) fires.
    pub fn next(&self, input_order: ffi::Bool, timeout_ms: u64, cancel: u64) -> ffi::Result<i64, ErrorCode> {
        guard(|| {
            let order = if input_order.is() { WaitOrder::Input } else { WaitOrder::Completion };
            let signal = cancel::lookup(cancel);
            Ok(match self.wait.next(order, deadline_ms(timeout_ms), signal.as_ref()) {
                Next::Task(i) => i as i64,
                Next::End => NEXT_END,
                Next::TimedOut => NEXT_TIMED_OUT,
                Next::Cancelled => NEXT_CANCELLED,
            })
        })
    }

    /// Blocks until all (or, with `any`, at least one) finished: 0 done, 1 timed out, 2 cancelled.
    pub fn block(&self, any: ffi::Bool, timeout_ms: u64, cancel: u64) -> ffi::Result<u8, ErrorCode> {
        guard(|| {
            let signal = cancel::lookup(cancel);
            let end = if any.is() {
                self.wait.any(deadline_ms(timeout_ms), signal.as_ref())
            } else {
                self.wait.all(deadline_ms(timeout_ms), signal.as_ref())
            };
            Ok(wait_end_code(end))
        })
    }

    pub fn is_done(&self, index: u64) -> ffi::Result<ffi::Bool, ErrorCode> {
        guard(|| {
            if index as usize >= self.wait.len() {
                return Err(Fault::invalid("The task index is outside the wait."));
            }
            Ok(self.wait.is_done(index as usize).into())
        })
    }

    pub fn progress(&self) -> ffi::Result<WaitProgressOut, ErrorCode> {
        guard(|| {
            let p = self.wait.progress();
            Ok(WaitProgressOut { total: p.total as u64, finished: p.finished as u64, running: p.running as u64 })
        })
    }

    /// Ends every unfinished task of the wait Stopped (or TimedOut) with `message`; returns how many.
    pub fn stop_unfinished(&self, timed_out: ffi::Bool, message: ffi::Slice<u8>) -> ffi::Result<u64, ErrorCode> {
        guard(|| {
            let to = if timed_out.is() { TaskState::TimedOut } else { TaskState::Stopped };
            let message = text(message)?;
            let unfinished = self.wait.unfinished();
            engine()?.stop_tasks(&unfinished, to, &message);
            Ok(unfinished.len() as u64)
        })
    }
}
