//! The task pool engine behind `Start-ParallelTask`.
//!
//! The C# side owns what a task *is* (a PowerShell script, its input, one
//! runspace per worker). Everything about *when* and *where* a task runs is
//! decided here, so that PowerShell never has to get threading right:
//!
//! - a fixed set of worker threads (the throttle) pulling from one FIFO queue,
//! - each task's state machine and timestamps ([`TaskInfo`]),
//! - per-task timeouts counted from the moment the task starts running,
//!   enforced by one timer thread sleeping on a deadline heap,
//! - stop/cancel, and escalation of runners that ignore a stop request: the
//!   worker is *abandoned* and replaced so throughput survives a stuck script,
//! - progress counters ([`Counts`]) and blocking waits that cannot deadlock when
//!   a task waits on tasks it submitted to its own pool.
//!
//! The foreign side is reached only through the [`Host`] trait. Host callbacks
//! are always made without any pool lock held (so they may call back into the
//! pool), and a panic in any of them is caught and never unwinds out of a pool
//! thread.
//!
//! Module map (each named after what it holds):
//! - `task`: task ids, states, outcomes and the per-task record,
//! - `host`: the [`Host`] trait and panic-safe calls into it,
//! - `error`: [`PoolError`],
//! - `state`: the bookkeeping kept under the pool's single lock,
//! - `shared`: what the pool handle and its threads share (lock, condvars, host),
//! - `worker`: the worker thread loop and [`Pool::current_worker`],
//! - `timer`: the deadline heap and the timer thread,
//! - `wait`: `wait_any` / `wait_all` and nested-wait compensation,
//! - `pool`: the public [`Pool`] handle.

mod error;
mod host;
#[allow(clippy::module_inception)]
mod pool;
mod shared;
mod state;
mod task;
mod timer;
mod wait;
mod worker;

pub use error::PoolError;
pub use host::Host;
pub use pool::{DEFAULT_WORKER_STACK, MAX_SUBMIT_MANY, MIN_WORKER_STACK, Pool, PoolConfig};
pub use state::Counts;
pub use task::{RunOutcome, TaskId, TaskInfo, TaskState, WorkerId};
