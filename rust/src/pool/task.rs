//! One task's record: what it belongs to, its state and timestamps, and who
//! waits for it.
//!
//! A task runs at most once. Every transition happens under the record's own
//! mutex and returns what must happen once the lock is released (waking the
//! waits registered on it), so nothing here blocks or calls foreign code.
//! Lock order: a pool's lock may be held when a task's is taken, and a task's
//! when a wait's is taken; never the other way round.

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use parking_lot::{Mutex, MutexGuard};

use super::task_state::TaskState;
use super::wait::{self, WaiterLink};

/// Identifies a task in the process. Ids start at 1 and are never reused.
pub type TaskId = u64;
/// Identifies a pool in the process. Ids start at 1 and are never reused.
pub type PoolId = u64;
/// Identifies a worker thread of the engine; never reused.
pub type WorkerId = u32;
/// Identifies one run of a worker over a batch of tasks; never reused.
pub type BatchId = u64;
/// Tasks submitted together run the same script: only tasks of one group share a batch.
pub type GroupId = u64;

/// Something the host keeps alive for as long as the engine lists the task or
/// pool (for PowerShell: the C# object users hold). Dropped on removal.
pub type HostObject = Arc<dyn Any + Send + Sync>;

/// How a task's script ended, as its runner reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Failed,
}

/// A task's state at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    pub id: TaskId,
    pub pool: PoolId,
    pub state: TaskState,
    pub worker: Option<WorkerId>,
    pub queued_at: SystemTime,
    pub started_at: Option<SystemTime>,
    pub ended_at: Option<SystemTime>,
    pub timeout: Option<Duration>,
    /// Why it ended Failed/Stopped/TimedOut, when the engine knows ("timed out after 5 s").
    pub message: Option<String>,
}

pub struct Task {
    pub id: TaskId,
    pub pool: PoolId,
    pub group: GroupId,
    /// Counted from the moment the task's script starts, not while queued.
    pub timeout: Option<Duration>,
    pub queued_at: SystemTime,
    inner: Mutex<TaskInner>,
}

pub(crate) struct TaskInner {
    pub state: TaskState,
    pub worker: Option<WorkerId>,
    pub started_at: Option<SystemTime>,
    pub started: Option<Instant>,
    pub ended_at: Option<SystemTime>,
    pub message: Option<String>,
    /// The batch whose runner is inside this task's script: set when the
    /// script starts, cleared when it returns, also after a stop or timeout
    /// (that is what stop escalation checks).
    pub runner: Option<BatchId>,
    /// Claimed by a batch but not started yet.
    pub claimed: bool,
    pub host: Option<HostObject>,
    /// The task left the engine's lists; its host object goes when no runner
    /// is inside its script any more (see [`Task::release_host_object`]).
    pub unlisted: bool,
    pub waiters: Vec<WaiterLink>,
}

/// What [`Task::begin`] decided.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Begin {
    /// Run it; arm the timeout at this instant, if any.
    Run { deadline: Option<Instant> },
    /// It was stopped while it waited: skip it.
    Skip,
}

/// What [`Task::stop`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Stopped {
    /// It never ran and never will.
    WasQueued,
    /// Its script is running in `batch` on `worker`: the host must be asked to stop it.
    WasRunning { worker: WorkerId, batch: BatchId },
    /// It had finished already; unchanged.
    AlreadyFinished,
}

impl Task {
    pub(crate) fn new(id: TaskId, pool: PoolId, group: GroupId, timeout: Option<Duration>, host: Option<HostObject>, now: SystemTime) -> Task {
        Task {
            id,
            pool,
            group,
            timeout,
            queued_at: now,
            inner: Mutex::new(TaskInner {
                state: TaskState::Queued,
                worker: None,
                started_at: None,
                started: None,
                ended_at: None,
                message: None,
                runner: None,
                claimed: false,
                host,
                unlisted: false,
                waiters: Vec::new(),
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, TaskInner> {
        self.inner.lock()
    }

    pub fn state(&self) -> TaskState {
        self.inner.lock().state
    }

    pub fn is_finished(&self) -> bool {
        self.state().is_finished()
    }

    pub fn info(&self) -> TaskInfo {
        let inner = self.inner.lock();
        TaskInfo {
            id: self.id,
            pool: self.pool,
            state: inner.state,
            worker: inner.worker,
            queued_at: self.queued_at,
            started_at: inner.started_at,
            ended_at: inner.ended_at,
            timeout: self.timeout,
            message: inner.message.clone(),
        }
    }

    /// The host's object for this task, while the engine lists it.
    pub fn host_object(&self) -> Option<HostObject> {
        self.inner.lock().host.clone()
    }

    /// Starts the script in `batch` on `worker`, unless the task was stopped
    /// while it waited. The timeout is counted from here.
    pub(crate) fn begin(&self, batch: BatchId, worker: WorkerId, now: SystemTime, clock: Instant) -> Begin {
        let mut inner = self.inner.lock();
        inner.claimed = false;
        if inner.state != TaskState::Queued {
            return Begin::Skip;
        }
        inner.state = TaskState::Running;
        inner.worker = Some(worker);
        inner.started_at = Some(now);
        inner.started = Some(clock);
        inner.runner = Some(batch);
        Begin::Run { deadline: self.timeout.and_then(|t| clock.checked_add(t)) }
    }

    /// The script run by `batch` returned with `outcome`. A task already
    /// stopped or timed out keeps that state. Returns how long the script ran
    /// if it was the one ending the task, for batch sizing.
    /// A host object kept for the runner of an unlisted task is dropped here,
    /// after unlocking (its release calls into the host).
    pub(crate) fn end(&self, batch: BatchId, outcome: Outcome, message: Option<String>, now: SystemTime) -> Option<Duration> {
        let (links, elapsed, released) = {
            let mut inner = self.inner.lock();
            if inner.runner != Some(batch) {
                return None;
            }
            inner.runner = None;
            let released = if inner.unlisted { inner.host.take() } else { None };
            let elapsed = inner.started.map(|s| s.elapsed());
            if inner.state != TaskState::Running {
                drop(inner);
                drop(released);
                return None;
            }
            let to = match outcome {
                Outcome::Completed => TaskState::Completed,
                Outcome::Failed => TaskState::Failed,
            };
            (finish(&mut inner, to, message, now), elapsed, released)
        };
        drop(released);
        wait::notify(links, self.id);
        elapsed
    }

    /// Ends the task in `to` (Stopped or TimedOut) unless it has finished.
    pub(crate) fn stop(&self, to: TaskState, message: &str, now: SystemTime) -> Stopped {
        debug_assert!(matches!(to, TaskState::Stopped | TaskState::TimedOut));
        let (found, links) = {
            let mut inner = self.inner.lock();
            let found = match inner.state {
                TaskState::Queued => Stopped::WasQueued,
                TaskState::Running => match (inner.worker, inner.runner) {
                    (Some(worker), Some(batch)) => Stopped::WasRunning { worker, batch },
                    _ => Stopped::WasQueued,
                },
                _ => return Stopped::AlreadyFinished,
            };
            (found, finish(&mut inner, to, Some(message.to_owned()), now))
        };
        wait::notify(links, self.id);
        found
    }

    /// Times the task out if it is still running in `batch` (a timeout
    /// deadline that outlived its task is simply stale).
    pub(crate) fn time_out(&self, now: SystemTime) -> Option<(WorkerId, BatchId)> {
        let timeout = self.timeout?;
        {
            let inner = self.inner.lock();
            if inner.state != TaskState::Running {
                return None;
            }
        }
        match self.stop(TaskState::TimedOut, &timed_out_message(timeout), now) {
            Stopped::WasRunning { worker, batch } => Some((worker, batch)),
            _ => None,
        }
    }

    /// Ends the task Failed because of an internal error (its runner is gone).
    pub(crate) fn fail(&self, message: &str, now: SystemTime) {
        let links = {
            let mut inner = self.inner.lock();
            inner.runner = None;
            inner.claimed = false;
            if inner.state.is_finished() {
                return;
            }
            finish(&mut inner, TaskState::Failed, Some(message.to_owned()), now)
        };
        wait::notify(links, self.id);
    }

    /// Whether `batch`'s runner is still inside this task's script.
    pub(crate) fn is_run_by(&self, batch: BatchId) -> bool {
        self.inner.lock().runner == Some(batch)
    }

    /// The task left the engine's lists: hands back the host's object for the
    /// caller to drop, unless a batch's runner is still inside the task's
    /// script. A stopped task is finished, and so removable, while its runner
    /// has yet to report the end; the runner reads the object right after the
    /// engine starts the task, so it stays until [`end`](Task::end).
    pub(crate) fn release_host_object(&self) -> Option<HostObject> {
        let mut inner = self.inner.lock();
        inner.unlisted = true;
        if inner.runner.is_some() { None } else { inner.host.take() }
    }
}

/// Moves a task to a final state; returns the waits to wake once unlocked.
fn finish(inner: &mut TaskInner, to: TaskState, message: Option<String>, now: SystemTime) -> Vec<WaiterLink> {
    debug_assert!(to.is_finished() && !inner.state.is_finished());
    inner.state = to;
    inner.ended_at = Some(now);
    if message.is_some() {
        inner.message = message;
    }
    std::mem::take(&mut inner.waiters)
}

/// "timed out after 0.25 s": seconds with up to three decimals, no trailing
/// zeros, because PowerShell users give timeouts in (fractional) seconds.
pub(crate) fn timed_out_message(timeout: Duration) -> String {
    let millis = timeout.as_millis();
    let (secs, frac) = (millis / 1000, millis % 1000);
    if frac == 0 {
        format!("timed out after {secs} s")
    } else {
        let frac = format!("{frac:03}");
        format!("timed out after {secs}.{} s", frac.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(timeout: Option<Duration>) -> Task {
        Task::new(1, 1, 1, timeout, None, SystemTime::now())
    }

    #[test]
    fn runs_once_and_keeps_the_first_final_state() {
        let t = task(Some(Duration::from_secs(5)));
        assert!(matches!(t.begin(7, 1, SystemTime::now(), Instant::now()), Begin::Run { deadline: Some(_) }));
        assert_eq!(t.state(), TaskState::Running);
        assert_eq!(t.time_out(SystemTime::now()), Some((1, 7)));
        assert_eq!(t.state(), TaskState::TimedOut);
        // The script returning late changes nothing, but frees the runner.
        assert!(t.is_run_by(7));
        assert_eq!(t.end(7, Outcome::Completed, None, SystemTime::now()), None);
        assert!(!t.is_run_by(7));
        assert_eq!(t.state(), TaskState::TimedOut);
        assert_eq!(t.info().message.as_deref(), Some("timed out after 5 s"));
        assert_eq!(t.begin(8, 1, SystemTime::now(), Instant::now()), Begin::Skip);
    }

    #[test]
    fn stopped_while_queued_never_starts() {
        let t = task(None);
        assert_eq!(t.stop(TaskState::Stopped, "stopped", SystemTime::now()), Stopped::WasQueued);
        assert_eq!(t.begin(1, 1, SystemTime::now(), Instant::now()), Begin::Skip);
        assert_eq!(t.stop(TaskState::Stopped, "again", SystemTime::now()), Stopped::AlreadyFinished);
        assert_eq!(t.info().message.as_deref(), Some("stopped"));
    }

    #[test]
    fn only_its_own_batch_can_end_it() {
        let t = task(None);
        t.begin(3, 2, SystemTime::now(), Instant::now());
        assert_eq!(t.end(4, Outcome::Completed, None, SystemTime::now()), None);
        assert_eq!(t.state(), TaskState::Running);
        assert!(t.end(3, Outcome::Failed, Some("boom".into()), SystemTime::now()).is_some());
        let info = t.info();
        assert_eq!((info.state, info.worker, info.message.as_deref()), (TaskState::Failed, Some(2), Some("boom")));
        assert!(info.started_at.is_some() && info.ended_at.is_some());
    }

    #[test]
    fn a_removed_task_keeps_its_host_object_until_its_runner_reports_the_end() {
        let host: HostObject = Arc::new(42u32);
        let t = Task::new(1, 1, 1, None, Some(Arc::clone(&host)), SystemTime::now());
        t.begin(3, 2, SystemTime::now(), Instant::now());
        assert_eq!(t.stop(TaskState::Stopped, "stopped", SystemTime::now()), Stopped::WasRunning { worker: 2, batch: 3 });
        assert!(t.release_host_object().is_none(), "its runner is still inside the script");
        assert!(t.host_object().is_some(), "the runner can still read the object");
        assert_eq!(t.end(3, Outcome::Completed, None, SystemTime::now()), None);
        assert!(t.host_object().is_none(), "released once the runner reported the end");
        assert_eq!(Arc::strong_count(&host), 1);

        let queued = Task::new(2, 1, 1, None, Some(Arc::new(7u32)), SystemTime::now());
        assert!(queued.release_host_object().is_some(), "no runner: handed back at once");
    }

    #[test]
    fn timed_out_message_formats_seconds() {
        assert_eq!(timed_out_message(Duration::from_secs(5)), "timed out after 5 s");
        assert_eq!(timed_out_message(Duration::from_millis(200)), "timed out after 0.2 s");
        assert_eq!(timed_out_message(Duration::from_millis(1250)), "timed out after 1.25 s");
        assert_eq!(timed_out_message(Duration::from_millis(1001)), "timed out after 1.001 s");
    }
}
