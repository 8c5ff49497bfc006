//! Blocking waits for a key to appear or change, without polling.
//!
//! Waiters sleep on one of a few condition variables chosen by the key's
//! hash, so a write wakes only the waiters that could care about it (plus
//! the occasional neighbour, which re-checks and sleeps again).
//!
//! Writers pay one atomic load when nobody waits. The protocol that keeps
//! that cheap without losing wake-ups:
//! - a waiter bumps `waiting` *before* it first checks the map, and checks
//!   while holding its slot's mutex, which `Condvar::wait` releases
//!   atomically;
//! - a writer reads `waiting` while it still holds the entry's shard lock,
//!   and if it is non-zero, takes the slot mutex (after releasing the shard
//!   lock) before `notify_all`.
//!
//! The shard lock orders the waiter's check against the write: either the
//! check comes after the write and sees it, or it comes before, so the
//! waiter's bump happened before the writer's load and the writer notifies.
//! Taking the slot mutex before notifying means the notification cannot fall
//! between a waiter's failed check and its sleep.
//!
//! A wait can also end early through a [`Cancel`] (Ctrl+C in PowerShell, or
//! the table being removed): the waiter registers a waker on each signal it
//! was given, and the waker wakes its slot the same way a writer does, so a
//! cancellation is never missed and never waits for a timeout.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::cancel::Cancel;

/// How a blocking wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waited<T> {
    /// What was waited for happened.
    Ready(T),
    /// The timeout passed first.
    TimedOut,
    /// A cancellation signal given to the wait fired first.
    Cancelled,
    /// The table was closed (removed) while waiting, or before.
    Closed,
}

impl<T> Waited<T> {
    /// The result, if the wait succeeded.
    pub fn ready(self) -> Option<T> {
        match self {
            Waited::Ready(value) => Some(value),
            _ => None,
        }
    }
}

/// Number of wait slots; a power of two.
const SLOTS: usize = 16;

struct Slot {
    lock: Mutex<()>,
    wake: Condvar,
}

/// The waiting room of one store.
pub(crate) struct Waiters {
    waiting: AtomicUsize,
    slots: [Slot; SLOTS],
}

impl Waiters {
    pub(crate) fn new() -> Self {
        Waiters {
            waiting: AtomicUsize::new(0),
            slots: std::array::from_fn(|_| Slot {
                lock: Mutex::new(()),
                wake: Condvar::new(),
            }),
        }
    }

    /// Whether anyone is waiting. Writers call this while still holding the
    /// lock of the entry they wrote (see the module docs).
    #[inline]
    pub(crate) fn any(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) > 0
    }

    /// The slot that waiters on a key with this hash use.
    #[inline]
    pub(crate) fn slot_for(&self, key_hash: usize) -> usize {
        key_hash & (SLOTS - 1)
    }

    /// Wakes the waiters of `slot`. Call only after releasing map locks:
    /// waiters hold the slot mutex while they read the map.
    pub(crate) fn wake(&self, slot: usize) {
        let slot = &self.slots[slot];
        drop(slot.lock.lock());
        slot.wake.notify_all();
    }

    /// Sleeps on `slot` until `check` returns `Some`, `deadline` passes
    /// (`None` waits forever) or one of `cancels` fires. `check` runs at
    /// least once, also after the deadline, so a write that raced with the
    /// timeout is still seen; a cancellation wins over a later check.
    ///
    /// Takes `self` by `Arc` because the wakers it registers may outlive
    /// the wait by a moment: a signal copies its wakers before running
    /// them, so a waker can run just after its wait returned and must
    /// still find the slot it wakes.
    pub(crate) fn wait_until<T>(
        self: &Arc<Self>,
        slot: usize,
        deadline: Option<Instant>,
        cancels: &[&Cancel],
        mut check: impl FnMut() -> Option<T>,
    ) -> Waited<T> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _registered = Registered(&self.waiting);
        // Registered before the first check: a signal fired from here on
        // finds the waker, one fired earlier is seen by `is_cancelled`.
        let _wakers: Vec<_> = cancels
            .iter()
            .map(|cancel| {
                let waiters = Arc::clone(self);
                cancel.on_cancel(move || waiters.wake(slot))
            })
            .collect();
        let room = &self.slots[slot];
        let mut guard = room.lock.lock();
        loop {
            if cancels.iter().any(|cancel| cancel.is_cancelled()) {
                return Waited::Cancelled;
            }
            if let Some(found) = check() {
                return Waited::Ready(found);
            }
            match deadline {
                Some(deadline) => {
                    if Instant::now() >= deadline {
                        return Waited::TimedOut;
                    }
                    room.wake.wait_until(&mut guard, deadline);
                }
                None => room.wake.wait(&mut guard),
            }
        }
    }
}

/// Keeps the waiter count right even if a check unwinds.
struct Registered<'a>(&'a AtomicUsize);

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
