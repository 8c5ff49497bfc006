//! `PoolCore`: the task [`Pool`] as a C ABI service (C#'s `TaskPool` wraps it).
//!
//! Rust owns the worker threads; each one calls back into C# through
//! [`RunTask`] to run a task in the runspace that C# keeps for that worker.
//! The callbacks are the pool's [`Host`]. A C# callback that throws is caught
//! by the generated trampoline and would look like "completed", so the C#
//! side catches everything itself and reports `Failed` explicitly.

use crate::ffi::fault::{ErrorCode, Fault, guard, install_quiet_panic_hook};
use crate::pool::{Host, Pool, PoolConfig, PoolError, RunOutcome, TaskId, TaskState, WorkerId};
use interoptopus::{callback, ffi};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

callback!(RunTask(worker: u32, task: u64) -> u8);
callback!(StopTask(worker: u32, task: u64));
callback!(WorkerExited(worker: u32));
callback!(TaskFinished(task: u64));

/// [`RunTask`]'s answer meaning the task succeeded; anything else is a failure.
pub const RUN_COMPLETED: u8 = 1;

/// The pool's view of the C# side.
struct CallbackHost {
    run: RunTask,
    stop: StopTask,
    exited: WorkerExited,
    finished: TaskFinished,
}

impl Host for CallbackHost {
    fn run(&self, worker: WorkerId, task: TaskId) -> RunOutcome {
        if self.run.call(worker, task) == RUN_COMPLETED { RunOutcome::Completed } else { RunOutcome::Failed }
    }
    fn stop(&self, worker: WorkerId, task: TaskId) {
        self.stop.call(worker, task);
    }
    fn worker_exited(&self, worker: WorkerId) {
        self.exited.call(worker);
    }
    fn task_finished(&self, task: TaskId, _state: TaskState) {
        self.finished.call(task);
    }
}

/// A task's lifecycle state, as C# and PowerShell see it (generated into C#,
/// so the numbering lives only here).
#[ffi]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Stopped,
    TimedOut,
}

impl From<TaskState> for TaskStatus {
    fn from(state: TaskState) -> Self {
        match state {
            TaskState::Queued => TaskStatus::Queued,
            TaskState::Running => TaskStatus::Running,
            TaskState::Completed => TaskStatus::Completed,
            TaskState::Failed => TaskStatus::Failed,
            TaskState::Stopped => TaskStatus::Stopped,
            TaskState::TimedOut => TaskStatus::TimedOut,
        }
    }
}

/// A task's state and timestamps (microseconds since the Unix epoch, 0 = not yet).
#[ffi]
pub struct TaskInfoOut {
    pub state: TaskStatus,
    pub worker: i64,
    pub queued_us: i64,
    pub started_us: i64,
    pub ended_us: i64,
    pub message: ffi::String,
}

/// Counters for progress reporting.
#[ffi]
pub struct CountsOut {
    pub queued: u64,
    pub running: u64,
    pub completed: u64,
    pub failed: u64,
    pub stopped: u64,
    pub timed_out: u64,
    pub workers: u64,
    pub abandoned_workers: u64,
}

impl From<PoolError> for Fault {
    fn from(error: PoolError) -> Self {
        let code = match error {
            PoolError::ShutDown => ErrorCode::ShutDown,
            PoolError::UnknownTask(_) => ErrorCode::UnknownTask,
            PoolError::NotFinished(_) => ErrorCode::NotFinished,
            PoolError::InvalidArgument(_) => ErrorCode::InvalidArgument,
        };
        Fault::new(code, error.to_string())
    }
}

fn micros(time: Option<SystemTime>) -> i64 {
    time.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_micros() as i64)
}

/// `0` means "no limit" for timeouts given in milliseconds.
fn optional_ms(ms: u64) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(ms))
}

/// A pool of worker threads owned by one C# `TaskPool`.
#[ffi(service)]
pub struct PoolCore {
    pool: Arc<Pool>,
}

#[ffi]
impl PoolCore {
    /// Starts a pool of `workers` threads that run tasks through `run`.
    /// `stack_size_bytes` is each worker thread's stack (0 = the 16 MiB
    /// default; PowerShell pipelines run on it). `finished` is told (from
    /// whichever thread made the transition) when a task reaches a final state.
    pub fn create(
        workers: u32,
        stop_grace_ms: u64,
        stack_size_bytes: u64,
        run: RunTask,
        stop: StopTask,
        exited: WorkerExited,
        finished: TaskFinished,
    ) -> ffi::Result<Self, ErrorCode> {
        install_quiet_panic_hook();
        guard(|| {
            let stack_size = usize::try_from(stack_size_bytes).map_err(|_| Fault::invalid("The worker stack size is too large."))?;
            let config =
                PoolConfig { workers: workers as usize, stop_grace: Duration::from_millis(stop_grace_ms), name: "syncpool".into(), stack_size };
            let pool = Pool::new(config, Arc::new(CallbackHost { run, stop, exited, finished }))?;
            Ok(Self { pool })
        })
    }

    /// Queues one task; `timeout_ms` (0 = none) counts from the moment it starts.
    pub fn submit(&self, timeout_ms: u64) -> ffi::Result<u64, ErrorCode> {
        guard(|| Ok(self.pool.submit(optional_ms(timeout_ms))?))
    }

    /// Queues `count` tasks with consecutive ids; returns the first id.
    pub fn submit_many(&self, count: u64, timeout_ms: u64) -> ffi::Result<u64, ErrorCode> {
        guard(|| {
            let ids = self.pool.submit_many(count as usize, optional_ms(timeout_ms))?;
            ids.first().copied().ok_or_else(|| Fault::invalid("Nothing to submit: the task count was 0."))
        })
    }

    pub fn info(&self, task: u64) -> ffi::Result<TaskInfoOut, ErrorCode> {
        guard(|| {
            let info = self.pool.info(task)?;
            Ok(TaskInfoOut {
                state: info.state.into(),
                worker: info.worker.map_or(-1, i64::from),
                queued_us: micros(Some(info.queued_at)),
                started_us: micros(info.started_at),
                ended_us: micros(info.ended_at),
                message: ffi::String::from_string(info.message.unwrap_or_default()),
            })
        })
    }

    /// Stops a task (queued: never runs; running: asked to stop, escalated after the grace period).
    pub fn stop_task(&self, task: u64) -> ffi::Result<TaskStatus, ErrorCode> {
        guard(|| Ok(self.pool.stop(task)?.into()))
    }

    /// Stops a task as `stop_task` does but ends it TimedOut (if `timed_out`)
    /// or Stopped, with `message` (UTF-8) as its explanation.
    pub fn stop_task_as(&self, task: u64, timed_out: ffi::Bool, message: ffi::Slice<u8>) -> ffi::Result<TaskStatus, ErrorCode> {
        guard(|| {
            let text = String::from_utf8_lossy(message.as_slice());
            let to = if timed_out.is() { TaskState::TimedOut } else { TaskState::Stopped };
            Ok(self.pool.stop_as(task, to, &text)?.into())
        })
    }

    /// The worker threads' stack size in bytes.
    pub fn stack_size(&self) -> ffi::Result<u64, ErrorCode> {
        guard(|| Ok(self.pool.stack_size() as u64))
    }

    pub fn stop_all(&self) -> ffi::Result<(), ErrorCode> {
        guard(|| {
            self.pool.stop_all();
            Ok(())
        })
    }

    /// Forgets a finished task.
    pub fn forget(&self, task: u64) -> ffi::Result<(), ErrorCode> {
        guard(|| Ok(self.pool.remove(task)?))
    }

    /// First finished task among `tasks`, or -1 after `timeout_ms` (0 = check once, u64::MAX = forever).
    pub fn wait_any(&self, tasks: ffi::Slice<u64>, timeout_ms: u64) -> ffi::Result<i64, ErrorCode> {
        guard(|| {
            let timeout = (timeout_ms != u64::MAX).then(|| Duration::from_millis(timeout_ms));
            Ok(self.pool.wait_any(tasks.as_slice(), timeout)?.map_or(-1, |id| id as i64))
        })
    }

    /// True once every task in `tasks` is finished; false after `timeout_ms`.
    pub fn wait_all(&self, tasks: ffi::Slice<u64>, timeout_ms: u64) -> ffi::Result<ffi::Bool, ErrorCode> {
        guard(|| {
            let timeout = (timeout_ms != u64::MAX).then(|| Duration::from_millis(timeout_ms));
            Ok(self.pool.wait_all(tasks.as_slice(), timeout)?.into())
        })
    }

    pub fn counts(&self) -> ffi::Result<CountsOut, ErrorCode> {
        guard(|| {
            let c = self.pool.counts();
            Ok(CountsOut {
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

    pub fn throttle(&self) -> ffi::Result<u64, ErrorCode> {
        guard(|| Ok(self.pool.throttle() as u64))
    }

    /// Stops everything and joins the workers for up to `timeout_ms`; true if all exited.
    pub fn shutdown(&self, timeout_ms: u64) -> ffi::Result<ffi::Bool, ErrorCode> {
        guard(|| Ok(self.pool.shutdown(Duration::from_millis(timeout_ms)).into()))
    }
}

