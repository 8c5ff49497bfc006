//! Task identities, the task state machine, and the per-task record.

use std::fmt;
use std::time::{Duration, SystemTime};

/// Identifies a task within one pool. Ids start at 1 and are never reused, so
/// a stale id can always be told apart from a live one (0 is never an id,
/// which lets the C# side use it as "none").
pub type TaskId = u64;

/// Identifies a worker thread within one pool. Never reused: a replacement
/// for an abandoned worker gets a fresh id, so the C# side can keep the stuck
/// worker's runspace apart from the new one until `worker_exited`.
pub type WorkerId = u32;

/// Where a task is in its life.
///
/// ```text
/// Queued ──► Running ──► Completed | Failed        (runner returned)
///    │          ├──────► TimedOut                   (deadline passed)
///    │          └──────► Stopped                    (stop / shutdown)
///    └─────────────────► Stopped                    (stopped before it ran)
/// ```
///
/// The four right-hand states are final: once reached, nothing (not even the
/// runner returning late) changes them again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TaskState {
    Queued = 0,
    Running = 1,
    Completed = 2,
    Failed = 3,
    Stopped = 4,
    TimedOut = 5,
}

impl TaskState {
    /// True for the final states (Completed, Failed, Stopped, TimedOut).
    pub fn is_finished(self) -> bool {
        !matches!(self, TaskState::Queued | TaskState::Running)
    }

    /// The `repr(u8)` discriminant, for the C ABI.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// Inverse of [`TaskState::as_u8`].
    pub fn from_u8(value: u8) -> Option<TaskState> {
        Some(match value {
            0 => TaskState::Queued,
            1 => TaskState::Running,
            2 => TaskState::Completed,
            3 => TaskState::Failed,
            4 => TaskState::Stopped,
            5 => TaskState::TimedOut,
            _ => return None,
        })
    }

    /// The name PowerShell users see.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Queued => "Queued",
            TaskState::Running => "Running",
            TaskState::Completed => "Completed",
            TaskState::Failed => "Failed",
            TaskState::Stopped => "Stopped",
            TaskState::TimedOut => "TimedOut",
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a runner reports when [`Host::run`](super::Host::run) returns.
///
/// Only two outcomes exist because stopping and timing out are decided by the
/// pool, never by the runner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunOutcome {
    Completed,
    Failed,
}

/// A snapshot of one task, as returned by [`Pool::info`](super::Pool::info).
#[derive(Clone, Debug)]
pub struct TaskInfo {
    pub id: TaskId,
    pub state: TaskState,
    /// The worker that ran (or is running) the task; `None` if it never started.
    pub worker: Option<WorkerId>,
    pub queued_at: SystemTime,
    pub started_at: Option<SystemTime>,
    /// When the task reached its final state. For TimedOut/Stopped that is the
    /// moment the pool decided so, not when a stuck runner finally returned.
    pub ended_at: Option<SystemTime>,
    pub timeout: Option<Duration>,
    /// Why it ended, when that is not obvious: the panic text of a panicking
    /// runner, "timed out after N s", "stopped", "stopped: pool shut down".
    pub message: Option<String>,
}

/// The pool's own record of a task (lives in `State::tasks` until removed).
#[derive(Debug)]
pub(crate) struct Task {
    pub state: TaskState,
    pub worker: Option<WorkerId>,
    pub queued_at: SystemTime,
    pub started_at: Option<SystemTime>,
    pub ended_at: Option<SystemTime>,
    pub timeout: Option<Duration>,
    pub message: Option<String>,
}

impl Task {
    pub fn new(timeout: Option<Duration>, now: SystemTime) -> Task {
        Task {
            state: TaskState::Queued,
            worker: None,
            queued_at: now,
            started_at: None,
            ended_at: None,
            timeout,
            message: None,
        }
    }

    pub fn info(&self, id: TaskId) -> TaskInfo {
        TaskInfo {
            id,
            state: self.state,
            worker: self.worker,
            queued_at: self.queued_at,
            started_at: self.started_at,
            ended_at: self.ended_at,
            timeout: self.timeout,
            message: self.message.clone(),
        }
    }
}

/// "timed out after 0.25 s": seconds with up to three decimals, no trailing
/// zeros, because PowerShell users set timeouts in (fractional) seconds.
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

    #[test]
    fn state_round_trips_through_u8() {
        for v in 0..=5u8 {
            assert_eq!(TaskState::from_u8(v).unwrap().as_u8(), v);
        }
        assert_eq!(TaskState::from_u8(6), None);
        assert!(!TaskState::Queued.is_finished());
        assert!(!TaskState::Running.is_finished());
        assert!(TaskState::Completed.is_finished());
        assert!(TaskState::Failed.is_finished());
        assert!(TaskState::Stopped.is_finished());
        assert!(TaskState::TimedOut.is_finished());
    }

    #[test]
    fn timed_out_message_formats_seconds() {
        assert_eq!(timed_out_message(Duration::from_secs(5)), "timed out after 5 s");
        assert_eq!(timed_out_message(Duration::from_millis(200)), "timed out after 0.2 s");
        assert_eq!(timed_out_message(Duration::from_millis(1250)), "timed out after 1.25 s");
        assert_eq!(timed_out_message(Duration::from_millis(1001)), "timed out after 1.001 s");
    }
}
