//! Per-key critical sections (`$t.Lock(key, { ... })`).
//!
//! Single operations on a table are atomic on their own; a key lock is for
//! invariants that span several keys or several calls ("move 10 from A to
//! B"). Locks are advisory: they exclude other lockers, not plain writes.
//!
//! A lock belongs to an owner id (the C# side uses one per thread), is
//! reentrant for that owner, and can be taken on a key that is not in the
//! table. Holders live in one small map behind a mutex; lock traffic is rare
//! next to reads and writes, so this stays simple and never polls: blocked
//! lockers sleep on a condition variable until some lock is released or a
//! cancellation signal given to them fires.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::error::TableError;
use super::key::{Comparer, KeyRef, MapKey, PassThrough, Probe};
use super::waiters::Waited;
use crate::cancel::Cancel;

/// Who holds a key and how many times they took it.
struct Hold {
    owner: u64,
    depth: u64,
}

struct Held<C> {
    /// Keyed like the store's map, so a borrowed key finds its hold without
    /// an owned copy. A std map keeps its capacity when holds are removed,
    /// so re-taking a lock on a short key allocates nothing.
    holds: HashMap<MapKey<C>, Hold, PassThrough>,
    /// Lockers currently asleep; releases notify only when this is non-zero.
    sleepers: usize,
}

/// The holds and the condition variable blocked lockers sleep on, shared
/// with the wakers of cancellation signals (which may run a moment after
/// the lock call that registered them has returned).
struct Room<C> {
    held: Mutex<Held<C>>,
    released: Condvar,
}

impl<C> Room<C> {
    /// Wakes every sleeping locker so it looks at its signals again.
    fn wake_all(&self) {
        let _held = self.held.lock();
        self.released.notify_all();
    }
}

/// The key locks of one store; keys compare as the store's keys do.
pub(crate) struct KeyLocks<C> {
    room: Arc<Room<C>>,
}

impl<C: Comparer> KeyLocks<C> {
    pub(crate) fn new() -> Self {
        KeyLocks {
            room: Arc::new(Room {
                held: Mutex::new(Held {
                    holds: HashMap::default(),
                    sleepers: 0,
                }),
                released: Condvar::new(),
            }),
        }
    }

    /// Takes the lock on `key` for `owner`, waiting up to `timeout` (a
    /// zero timeout tries once; one too large to represent waits forever)
    /// unless one of `cancels` fires first.
    pub(crate) fn lock(
        &self,
        key: KeyRef<'_>,
        owner: u64,
        timeout: Duration,
        cancels: &[&Cancel],
    ) -> Waited<()> {
        let deadline = Instant::now().checked_add(timeout);
        let probe = Probe::<C>::new(key);
        let room = &*self.room;
        if cancels.iter().any(|cancel| cancel.is_cancelled()) {
            return Waited::Cancelled;
        }
        // A free (or own) lock is taken without registering anything.
        if let Some(taken) = Self::try_take(&mut room.held.lock(), key, &probe, owner) {
            return taken;
        }
        // About to sleep: wakers first (see `waiters` for why registering
        // before looking again cannot lose a wake-up); a waker needs the
        // holds' mutex to notify.
        let _wakers: Vec<_> = cancels
            .iter()
            .map(|cancel| {
                let room = Arc::clone(&self.room);
                cancel.on_cancel(move || room.wake_all())
            })
            .collect();
        let mut held = room.held.lock();
        loop {
            if cancels.iter().any(|cancel| cancel.is_cancelled()) {
                return Waited::Cancelled;
            }
            if let Some(taken) = Self::try_take(&mut held, key, &probe, owner) {
                return taken;
            }
            held.sleepers += 1;
            let timed_out = match deadline {
                Some(deadline) if Instant::now() >= deadline => true,
                Some(deadline) => {
                    room.released.wait_until(&mut held, deadline);
                    false
                }
                None => {
                    room.released.wait(&mut held);
                    false
                }
            };
            held.sleepers -= 1;
            if timed_out {
                return Waited::TimedOut;
            }
            // Woken, or the deadline passed while asleep: look again either
            // way, so a release that raced the timeout still counts.
        }
    }

    /// Takes `key` for `owner` if nobody else holds it; `None` if someone does.
    fn try_take(held: &mut Held<C>, key: KeyRef<'_>, probe: &Probe<'_, C>, owner: u64) -> Option<Waited<()>> {
        match held.holds.get_mut(probe.query()) {
            None => {
                held.holds.insert(MapKey::new(key), Hold { owner, depth: 1 });
                Some(Waited::Ready(()))
            }
            // 2^64 nested takes cannot happen; refuse rather than wrap.
            Some(hold) if hold.owner == owner => Some(match hold.depth.checked_add(1) {
                Some(depth) => {
                    hold.depth = depth;
                    Waited::Ready(())
                }
                None => Waited::TimedOut,
            }),
            Some(_) => None,
        }
    }

    /// Releases one take of `key` by `owner`.
    pub(crate) fn unlock(&self, key: KeyRef<'_>, owner: u64) -> Result<(), TableError> {
        let probe = Probe::<C>::new(key);
        let mut held = self.room.held.lock();
        let not_owner = || TableError::NotLockOwner {
            key: key.to_string(),
        };
        let hold = held
            .holds
            .get_mut(probe.query())
            .filter(|hold| hold.owner == owner)
            .ok_or_else(not_owner)?;
        hold.depth -= 1;
        if hold.depth == 0 {
            held.holds.remove(probe.query());
            if held.sleepers > 0 {
                self.room.released.notify_all();
            }
        }
        Ok(())
    }

    /// Releases every lock `owner` holds, however deeply taken.
    pub(crate) fn unlock_all(&self, owner: u64) {
        let mut held = self.room.held.lock();
        let before = held.holds.len();
        held.holds.retain(|_, hold| hold.owner != owner);
        if held.holds.len() != before && held.sleepers > 0 {
            self.room.released.notify_all();
        }
    }

    /// The owner and depth of the lock on `key`, if it is held.
    pub(crate) fn holder(&self, key: KeyRef<'_>) -> Option<(u64, u64)> {
        self.room
            .held
            .lock()
            .holds
            .get(Probe::<C>::new(key).query())
            .map(|hold| (hold.owner, hold.depth))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::key::{IgnoreCase, Ordinal};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread;

    fn text(s: &str) -> KeyRef<'_> {
        KeyRef::Text(s)
    }

    const NOW: Duration = Duration::ZERO;

    /// Whether a lock call took the lock.
    fn taken(waited: Waited<()>) -> bool {
        waited == Waited::Ready(())
    }

    #[test]
    fn reentrant_for_the_same_owner() {
        let locks = KeyLocks::<Ordinal>::new();
        assert!(taken(locks.lock(text("a"), 1, NOW, &[])));
        assert!(taken(locks.lock(text("a"), 1, NOW, &[])));
        assert_eq!(locks.holder(text("a")), Some((1, 2)));
        assert!(!taken(locks.lock(text("a"), 2, NOW, &[])), "another owner is refused");
        locks.unlock(text("a"), 1).unwrap();
        assert!(!taken(locks.lock(text("a"), 2, NOW, &[])), "still held once");
        locks.unlock(text("a"), 1).unwrap();
        assert_eq!(locks.holder(text("a")), None);
        assert!(taken(locks.lock(text("a"), 2, NOW, &[])));
    }

    #[test]
    fn unlock_by_non_owner_fails_and_changes_nothing() {
        let locks = KeyLocks::<Ordinal>::new();
        assert_eq!(
            locks.unlock(text("a"), 1),
            Err(TableError::NotLockOwner { key: "a".into() })
        );
        assert!(taken(locks.lock(KeyRef::Int(5), 1, NOW, &[])));
        assert_eq!(
            locks.unlock(KeyRef::Int(5), 2),
            Err(TableError::NotLockOwner { key: "5".into() })
        );
        assert_eq!(locks.holder(KeyRef::Int(5)), Some((1, 1)));
    }

    #[test]
    fn keys_fold_like_the_store() {
        let folded = KeyLocks::<IgnoreCase>::new();
        assert!(taken(folded.lock(text("Key"), 1, NOW, &[])));
        assert!(!taken(folded.lock(text("KEY"), 2, NOW, &[])));
        folded.unlock(text("kEy"), 1).unwrap();

        let exact = KeyLocks::<Ordinal>::new();
        assert!(taken(exact.lock(text("Key"), 1, NOW, &[])));
        assert!(taken(exact.lock(text("KEY"), 2, NOW, &[])));
        assert!(taken(exact.lock(KeyRef::Int(1), 3, NOW, &[])));
        assert!(
            taken(exact.lock(text("1"), 4, NOW, &[])),
            "int 1 and text '1' are different keys"
        );
    }

    #[test]
    fn times_out_after_roughly_the_timeout() {
        let locks = KeyLocks::<Ordinal>::new();
        assert!(taken(locks.lock(text("a"), 1, NOW, &[])));
        let start = Instant::now();
        assert!(!taken(locks.lock(text("a"), 2, Duration::from_millis(50), &[])));
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(50),
            "gave up early: {waited:?}"
        );
        assert!(waited < Duration::from_secs(5), "gave up late: {waited:?}");
    }

    #[test]
    fn blocked_locker_gets_the_lock_on_release() {
        let locks = Arc::new(KeyLocks::<Ordinal>::new());
        assert!(taken(locks.lock(text("a"), 1, NOW, &[])));
        let got_it = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (locks, got_it) = (Arc::clone(&locks), Arc::clone(&got_it));
            thread::spawn(move || {
                let ok = taken(locks.lock(text("a"), 2, Duration::from_secs(10), &[]));
                got_it.store(true, Ordering::SeqCst);
                ok
            })
        };
        thread::sleep(Duration::from_millis(30));
        assert!(!got_it.load(Ordering::SeqCst), "must block while held");
        locks.unlock(text("a"), 1).unwrap();
        assert!(waiter.join().unwrap());
        assert_eq!(locks.holder(text("a")), Some((2, 1)));
    }

    #[test]
    fn unlock_all_releases_every_depth_and_wakes_waiters() {
        let locks = Arc::new(KeyLocks::<Ordinal>::new());
        for key in ["a", "b"] {
            assert!(taken(locks.lock(text(key), 1, NOW, &[])));
            assert!(taken(locks.lock(text(key), 1, NOW, &[])));
        }
        assert!(taken(locks.lock(text("c"), 2, NOW, &[])));
        let waiter = {
            let locks = Arc::clone(&locks);
            thread::spawn(move || taken(locks.lock(text("b"), 3, Duration::from_secs(10), &[])))
        };
        thread::sleep(Duration::from_millis(20));
        locks.unlock_all(1);
        assert!(waiter.join().unwrap());
        assert_eq!(locks.holder(text("a")), None);
        assert_eq!(locks.holder(text("b")), Some((3, 1)));
        assert_eq!(
            locks.holder(text("c")),
            Some((2, 1)),
            "other owners keep theirs"
        );
        assert!(locks.unlock(text("a"), 1).is_err());
    }

    #[test]
    fn a_cancel_wakes_a_blocked_locker_at_once() {
        let locks = Arc::new(KeyLocks::<Ordinal>::new());
        assert!(taken(locks.lock(text("a"), 1, NOW, &[])));
        let cancel = Cancel::new();
        let waiter = {
            let (locks, cancel) = (Arc::clone(&locks), cancel.clone());
            thread::spawn(move || {
                let start = Instant::now();
                (locks.lock(text("a"), 2, Duration::MAX, &[&cancel]), start.elapsed())
            })
        };
        thread::sleep(Duration::from_millis(30));
        cancel.cancel();
        let (waited, took) = waiter.join().unwrap();
        assert_eq!(waited, Waited::Cancelled);
        assert!(took < Duration::from_secs(5), "woken by the cancel, took {took:?}");
        assert_eq!(locks.holder(text("a")), Some((1, 1)), "the holder keeps the lock");
        assert_eq!(
            locks.lock(text("b"), 2, NOW, &[&cancel]),
            Waited::Cancelled,
            "a signal that already fired refuses at once"
        );
    }
}
