//! The parallel task engine behind `Start-ParallelTask`: the one owner of
//! every task's life.
//!
//! The C# side owns what a task *is* (a PowerShell script, its input, its
//! output) and how a script runs (a runspace). Everything about *when*,
//! *where* and *whether* it runs is decided here, once:
//!
//! - tasks and their states ([`TaskState`], generated into C#), timestamps,
//!   timeouts counted from the moment a script starts, stops and their
//!   escalation (ask, interrupt, abandon the worker and replace it);
//! - pools: a queue and a throttle each, named and reusable or made for one
//!   call, listed until they are removed or done;
//! - one set of worker threads for all pools, handing each worker an adaptive
//!   batch of tiny tasks so the host can run them in one pipeline;
//! - warm contexts (runspaces) reused across batches, pools and calls, and
//!   disposed of after an idle expiry;
//! - every wait (all, any, next in completion or input order, across pools),
//!   woken by completions or a [`Cancel`](crate::cancel::Cancel), never polling.
//!
//! The foreign side is reached only through [`Host`]. Host calls are made
//! with no engine lock held, and a panic anywhere on an engine thread fails
//! the affected tasks with a message and is reported, never swallowed.
//!
//! Module map, each named after what it holds: `task_state` (the states),
//! `task` (a task's record and transitions), `pool` (a queue and throttle),
//! `batch` (a worker's batch and its size), `contexts` (the warm cache),
//! `timer` (deadlines), `wait` (waits), `host` (the foreign side), `executor`
//! (worker threads), `engine` (it all, and the operations), `error`.

mod batch;
mod contexts;
mod engine;
mod error;
mod executor;
mod host;
#[allow(clippy::module_inception)]
mod pool;
mod task;
mod task_state;
mod timer;
mod wait;

pub use batch::{BATCH_TARGET, MAX_BATCH, batch_size};
pub use contexts::ContextId;
pub use engine::{DEFAULT_WORKER_STACK, Engine, EngineConfig, MAX_THROTTLE, default_throttle};
pub use error::PoolError;
pub use host::{BatchRun, ContextFate, Host, StopLevel};
pub use pool::{Pool, PoolCounts, PoolOptions};
pub use task::{BatchId, GroupId, HostObject, Outcome, PoolId, Task, TaskId, TaskInfo, WorkerId};
pub use task_state::TaskState;
pub use wait::{Next, Wait, WaitEnd, WaitOrder, WaitProgress};
