//! How failures cross the C ABI.
//!
//! Every export returns `ffi::Result<T, ErrorCode>`. The code lets C# pick the
//! exception type (and PowerShell the error category); the human-readable
//! message travels separately through a per-thread "last error" slot, because
//! interoptopus error enums cannot carry strings. C# reads the slot on the same
//! thread right after a failed call, so no other call can overwrite it first.
//!
//! A panic must never unwind into .NET (on Linux that aborts pwsh), so
//! [`guard`] wraps every export in `catch_unwind` and turns the panic into
//! [`ErrorCode::Panic`] with the panic's own message.

use interoptopus::ffi;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Why a call failed; C# maps each code to an exception type.
#[ffi]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Rust code panicked; the call had no effect beyond what the message says.
    Panic,
    /// An argument was out of range or malformed (bad UTF-8, zero throttle...).
    InvalidArgument,
    /// Increment met a value that is not a number.
    NotNumeric,
    /// Increment would overflow a 64-bit integer.
    Overflow,
    /// Export met a live object it cannot write as JSON.
    NotSerializable,
    /// Import was given text that is not a SyncTable export.
    BadFormat,
    /// Unlock by a caller that does not hold the key's lock.
    NotLockOwner,
    /// The pool no longer accepts work.
    ShutDown,
    /// No such task (never existed, or removed).
    UnknownTask,
    /// The task has not reached a final state yet.
    NotFinished,
    /// No such pool (never existed, or removed).
    UnknownPool,
    /// A pool with that name exists already.
    NameTaken,
    /// The object was disposed (a SyncTable removed with Remove-SyncTable).
    Disposed,
    /// A wait was ended by its cancellation signal (Ctrl+C).
    Cancelled,
    /// No Redis server answered at the table's address.
    RedisUnreachable,
    /// The Redis server refused the user name or password.
    RedisAuthenticationFailed,
    /// The Redis server has no database of that number.
    RedisUnknownDatabase,
    /// The connection to the Redis server broke; nothing was changed.
    RedisConnectionLost,
    /// The connection broke after a change was sent: it may or may not have been applied.
    RedisOutcomeUnknown,
    /// The Redis server answered with an unexpected error.
    RedisError,
}

/// A failure on its way out: the code plus the message for the last-error slot.
#[derive(Debug)]
pub struct Fault {
    pub code: ErrorCode,
    pub message: String,
}

impl Fault {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn remember(message: String) {
    LAST_ERROR.with(|slot| *slot.borrow_mut() = message);
}

/// Runs an export's body: catches panics, records failure messages.
pub fn guard<T: interoptopus::lang::types::TypeInfo>(body: impl FnOnce() -> Result<T, Fault>) -> ffi::Result<T, ErrorCode> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => ffi::Ok(value),
        Ok(Err(fault)) => {
            remember(fault.message);
            ffi::Err(fault.code)
        }
        Err(payload) => {
            let what = take_panic_report().unwrap_or_else(|| panic_text(payload.as_ref()));
            remember(format!("SyncPool's native core failed unexpectedly (Rust panic: {what}). The operation was not completed."));
            ffi::Err(ErrorCode::Panic)
        }
    }
}

/// The text of a panic payload (`panic!("...")` carries a `&str` or `String`).
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// The message of the most recent failed call on the calling thread.
#[ffi]
pub fn syncpool_last_error() -> ffi::String {
    ffi::String::from_string(LAST_ERROR.with(|slot| slot.borrow().clone()))
}

/// Test hook: panics inside a guarded export so tests can prove a panic
/// becomes an error in .NET and the process keeps running.
#[ffi]
pub fn syncpool_test_panic(message: ffi::Slice<u8>) -> ffi::Result<u64, ErrorCode> {
    let text = String::from_utf8_lossy(message.as_slice()).into_owned();
    guard(|| -> Result<u64, Fault> { panic!("{text}") })
}

thread_local! {
    /// The last panic on this thread, with where it happened, as the hook saw it.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The report of the last panic on this thread (its message and location), once.
pub fn take_panic_report() -> Option<String> {
    LAST_PANIC.with(|slot| slot.borrow_mut().take())
}

/// Replaces Rust's default panic printout (stray text on pwsh's stderr) with a
/// record of the panic's message and location on the panicking thread. Every
/// panic in this library is caught where it happens and reported from that
/// record: by [`guard`] as the error of the call, on engine threads as an
/// internal error that fails the affected tasks. None is dropped.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = panic_text(info.payload());
            let report = match info.location() {
                Some(at) => format!("{message} (at {}:{})", at.file(), at.line()),
                None => message,
            };
            LAST_PANIC.with(|slot| *slot.borrow_mut() = Some(report));
        }))
    });
}
