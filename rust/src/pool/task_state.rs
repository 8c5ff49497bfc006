//! The task state machine's states: the one definition of them.
//!
//! `#[ffi]` generates this enum into C# (`SyncPool.Native.TaskState`), so the
//! numbering and the names PowerShell users see live only here.

use interoptopus::ffi;
use std::fmt;

/// Where a task is in its life.
///
/// ```text
/// Queued ──► Running ──► Completed | Failed        (its script returned)
///    │          ├──────► TimedOut                   (its own time limit, or a wait's)
///    │          └──────► Stopped                    (Stop-ParallelTask, Ctrl+C, pool removed)
///    └─────────────────► Stopped | TimedOut          (stopped before it ran)
/// ```
///
/// The four right-hand states are final: once reached, nothing (not even the
/// script returning late) changes them again.
#[ffi]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskState {
    Queued,
    Running,
    Completed,
    Failed,
    Stopped,
    TimedOut,
}

impl TaskState {
    /// True for the final states (Completed, Failed, Stopped, TimedOut).
    pub fn is_finished(self) -> bool {
        !matches!(self, TaskState::Queued | TaskState::Running)
    }

    /// A bit for state filters (`1 << state`).
    pub fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_states_and_bits() {
        let all = [TaskState::Queued, TaskState::Running, TaskState::Completed, TaskState::Failed, TaskState::Stopped, TaskState::TimedOut];
        let finished: Vec<_> = all.iter().filter(|s| s.is_finished()).collect();
        assert_eq!(finished.len(), 4);
        let bits: u32 = all.iter().map(|s| s.bit()).sum();
        assert_eq!(bits, 0b11_1111);
        assert_eq!(TaskState::TimedOut.to_string(), "TimedOut");
    }
}
