//! Cancellation signals across the C ABI, by number.
//!
//! C# makes one signal per cmdlet invocation that may block
//! ([`syncpool_cancel_create`]), passes its number to every wait it makes, and
//! signals it from `StopProcessing` ([`syncpool_cancel_signal`]). Numbers, not
//! pointers: a number C# has already released simply names no signal (the
//! wait is then not cancellable), it can never reach freed memory.

use crate::cancel::Cancel;
use dashmap::DashMap;
use interoptopus::ffi;
use once_cell::sync::Lazy;
use std::sync::atomic::{AtomicU64, Ordering};

static SIGNALS: Lazy<DashMap<u64, Cancel>> = Lazy::new(DashMap::new);
static NEXT: AtomicU64 = AtomicU64::new(1);

/// The signal with number `id`; `0` means "not cancellable".
pub fn lookup(id: u64) -> Option<Cancel> {
    if id == 0 { None } else { SIGNALS.get(&id).map(|c| c.clone()) }
}

/// A new, unsignalled cancellation signal; never returns 0.
#[ffi]
pub fn syncpool_cancel_create() -> u64 {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    SIGNALS.insert(id, Cancel::new());
    id
}

/// Signals `id`: every wait given it returns promptly, now and later.
#[ffi]
pub fn syncpool_cancel_signal(id: u64) {
    // Cloned out first: waking runs foreign-facing wakers, never under the map's lock.
    if let Some(cancel) = lookup(id) {
        cancel.cancel();
    }
}

/// Forgets `id` (the cmdlet is done). Waits already holding it are unaffected.
#[ffi]
pub fn syncpool_cancel_release(id: u64) {
    SIGNALS.remove(&id);
}
