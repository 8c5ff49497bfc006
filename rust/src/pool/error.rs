//! Why the engine refused a request.

use std::fmt;

use super::task::{PoolId, TaskId};

/// Every variant describes the caller's request, so the message can be shown
/// to the user as is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolError {
    /// The pool was removed (or, made for one call, has finished) and takes no tasks.
    PoolGone(PoolId),
    /// The pool was made for one Start-ParallelTask call that is over.
    Sealed(PoolId),
    /// No pool with this id or name is listed.
    UnknownPool(String),
    /// No task with this id is listed.
    UnknownTask(TaskId),
    /// The task has not finished, so it cannot be removed.
    NotFinished(TaskId),
    /// A pool with this name exists already.
    NameTaken(String),
    /// A parameter was out of range or malformed; the text says which.
    InvalidArgument(String),
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::PoolGone(id) => write!(f, "Pool{id} has been removed; create a new pool with New-ParallelPool."),
            PoolError::Sealed(id) => {
                write!(f, "Pool{id} was made for one Start-ParallelTask call and takes no more tasks. Create a reusable pool with New-ParallelPool.")
            }
            PoolError::UnknownPool(which) => write!(f, "No parallel pool {which} exists. List pools with Get-ParallelPool."),
            PoolError::UnknownTask(id) => write!(f, "No parallel task with id {id} exists (it may have been removed). List tasks with Get-ParallelTask."),
            PoolError::NotFinished(id) => write!(f, "Task {id} has not finished; wait for it (Wait-ParallelTask), or use -Force to stop and remove it."),
            PoolError::NameTaken(name) => write!(f, "A parallel pool named '{name}' already exists. Use it with -Pool '{name}', or remove it with Remove-ParallelPool first."),
            PoolError::InvalidArgument(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for PoolError {}
