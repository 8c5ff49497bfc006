//! Live .NET objects stored in a table.
//!
//! C# keeps such objects in a registry under a numeric id; the store holds an
//! `Arc<ObjectRef>` for each stored copy, and dropping the last one (value
//! overwritten, removed, cleared, table disposed) calls C#'s release callback,
//! so the object's lifetime is decided here, not guessed in C#.
//!
//! Reading an object back races with a concurrent overwrite: the value could
//! be released between this call returning and C# looking the id up. So a
//! read hands out a *lease* (one more `Arc` kept here under a lease number)
//! that C# ends with [`syncpool_object_lease_end`] once it holds the object.

use crate::table::{ObjectRef, Releaser};
use dashmap::DashMap;
use interoptopus::{callback, ffi};
use once_cell::sync::Lazy;
use parking_lot::RwLock;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

callback!(ObjectReleased(id: u64));

/// An object id plus the lease that keeps it alive until C# has fetched it.
#[ffi]
#[derive(Clone, Copy)]
pub struct ObjectLease {
    pub id: u64,
    pub lease: u64,
}

static RELEASE_CALLBACK: Lazy<RwLock<Option<ObjectReleased>>> = Lazy::new(|| RwLock::new(None));
static LEASES: Lazy<DashMap<u64, Arc<ObjectRef>>> = Lazy::new(DashMap::new);
static NEXT_LEASE: AtomicU64 = AtomicU64::new(1);

static RELEASER: Lazy<Releaser> = Lazy::new(|| {
    Arc::new(|id: u64| {
        if let Some(callback) = RELEASE_CALLBACK.read().as_ref() {
            callback.call(id);
        }
    })
});

/// Wraps an object id that C# just registered in the owning reference.
pub fn adopt(id: u64) -> Arc<ObjectRef> {
    Arc::new(ObjectRef::new(id, RELEASER.clone()))
}

/// Keeps `object` alive under a fresh lease number for C# to fetch.
pub fn lease(object: Arc<ObjectRef>) -> ObjectLease {
    let lease = NEXT_LEASE.fetch_add(1, Ordering::Relaxed);
    let id = object.id();
    LEASES.insert(lease, object);
    ObjectLease { id, lease }
}

/// Number of leases not yet ended (tests check this returns to zero).
pub fn open_leases() -> usize {
    LEASES.len()
}

/// Sets the callback that releases C#'s registry slot for an object id.
/// Called once per process by the module; a later call replaces it.
#[ffi]
pub fn syncpool_set_object_releaser(callback: ObjectReleased) {
    crate::ffi::fault::install_panic_hook();
    *RELEASE_CALLBACK.write() = Some(callback);
}

/// Ends a lease handed out with a value. Unknown or already-ended leases are
/// ignored, so a double end cannot free anything twice.
#[ffi]
pub fn syncpool_object_lease_end(lease: u64) {
    // Dropping the Arc outside the map's lock: the release callback may run.
    let removed = LEASES.remove(&lease);
    drop(removed);
}

/// How many object leases are open (diagnostics and tests).
#[ffi]
pub fn syncpool_object_leases_open() -> u64 {
    open_leases() as u64
}
