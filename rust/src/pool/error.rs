//! The pool's error type.

use std::fmt;

use super::task::TaskId;

/// Why a pool call was refused. Every variant describes the caller's request,
/// never an internal failure: the pool itself has no fallible internals beyond
/// spawning threads, which is reported as `InvalidArgument` from `Pool::new`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolError {
    /// The pool has been shut down and accepts no new tasks.
    ShutDown,
    /// No such task: never submitted to this pool, or already removed.
    UnknownTask(TaskId),
    /// The task has not reached a final state (only finished tasks can be removed).
    NotFinished(TaskId),
    /// A parameter was out of range; the text says which.
    InvalidArgument(String),
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::ShutDown => f.write_str("the pool has been shut down"),
            PoolError::UnknownTask(id) => write!(f, "unknown task {id}"),
            PoolError::NotFinished(id) => write!(f, "task {id} has not finished"),
            PoolError::InvalidArgument(why) => write!(f, "invalid argument: {why}"),
        }
    }
}

impl std::error::Error for PoolError {}
