//! SyncPool's native core.
//!
//! Two engines live here, each usable from plain Rust and tested on its own:
//! - [`table`]: a concurrent key/value store with atomic compound operations,
//!   versioned entries and blocking waits (the engine behind `New-SyncTable`).
//! - [`pool`]: a thread pool whose queue, throttle, task states, timeouts and
//!   waits are decided here (the engine behind `Start-ParallelTask`).
//!
//! [`cancel`] is the signal that ends any blocking wait early (Ctrl+C).
//! [`data`] is PowerShell data outside the process: what a table saves to a
//! file (arrays, hashtables, `[PSCustomObject]`s and the values inside them).
//!
//! [`ffi`] is the only module that knows about the C ABI; the C# bindings in
//! `bindings/` are generated from [`inventory`].

pub mod cancel;
pub mod data;
pub mod table;
pub mod remote;
pub mod pool;
pub mod ffi;

pub use ffi::inventory;
