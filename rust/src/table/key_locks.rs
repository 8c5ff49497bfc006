//! Per-key critical sections (`Lock-SyncKey`).
//!
//! Single operations on a table are atomic on their own; a key lock is for
//! invariants that span several keys or several calls ("move 10 from A to
//! B"). Locks are advisory: they exclude other lockers, not plain writes.
//!
//! A lock belongs to an owner id (the C# side uses one per runspace), is
//! reentrant for that owner, and can be taken on a key that is not in the
//! table. Holders live in one small map behind a mutex; lock traffic is rare
//! next to reads and writes, so this stays simple and never polls: blocked
//! lockers sleep on a condition variable until some lock is released.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::error::TableError;
use super::key::{Comparer, KeyRef, MapKey, PassThrough, Probe};

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

/// The key locks of one store; keys compare as the store's keys do.
pub(crate) struct KeyLocks<C> {
    held: Mutex<Held<C>>,
    released: Condvar,
    _comparer: PhantomData<fn() -> C>,
}

impl<C: Comparer> KeyLocks<C> {
    pub(crate) fn new() -> Self {
        KeyLocks {
            held: Mutex::new(Held {
                holds: HashMap::default(),
                sleepers: 0,
            }),
            released: Condvar::new(),
            _comparer: PhantomData,
        }
    }

    /// Takes the lock on `key` for `owner`, waiting up to `timeout`.
    /// Returns `false` on timeout. A zero timeout tries once.
    pub(crate) fn lock(&self, key: KeyRef<'_>, owner: u64, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let probe = Probe::<C>::new(key);
        let mut held = self.held.lock();
        loop {
            match held.holds.get_mut(probe.query()) {
                None => {
                    held.holds.insert(MapKey::new(key), Hold { owner, depth: 1 });
                    return true;
                }
                Some(hold) if hold.owner == owner => {
                    // 2^64 nested takes cannot happen; refuse rather than wrap.
                    return match hold.depth.checked_add(1) {
                        Some(depth) => {
                            hold.depth = depth;
                            true
                        }
                        None => false,
                    };
                }
                Some(_) => {}
            }
            held.sleepers += 1;
            let timed_out = match deadline {
                Some(deadline) if Instant::now() >= deadline => true,
                Some(deadline) => {
                    self.released.wait_until(&mut held, deadline);
                    false
                }
                None => {
                    self.released.wait(&mut held);
                    false
                }
            };
            held.sleepers -= 1;
            if timed_out {
                return false;
            }
            // Woken, or the deadline passed while asleep: look again either
            // way, so a release that raced the timeout still counts.
        }
    }

    /// Releases one take of `key` by `owner`.
    pub(crate) fn unlock(&self, key: KeyRef<'_>, owner: u64) -> Result<(), TableError> {
        let probe = Probe::<C>::new(key);
        let mut held = self.held.lock();
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
                self.released.notify_all();
            }
        }
        Ok(())
    }

    /// Releases every lock `owner` holds, however deeply taken.
    pub(crate) fn unlock_all(&self, owner: u64) {
        let mut held = self.held.lock();
        let before = held.holds.len();
        held.holds.retain(|_, hold| hold.owner != owner);
        if held.holds.len() != before && held.sleepers > 0 {
            self.released.notify_all();
        }
    }

    /// The owner and depth of the lock on `key`, if it is held.
    pub(crate) fn holder(&self, key: KeyRef<'_>) -> Option<(u64, u64)> {
        self.held
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

    #[test]
    fn reentrant_for_the_same_owner() {
        let locks = KeyLocks::<Ordinal>::new();
        assert!(locks.lock(text("a"), 1, NOW));
        assert!(locks.lock(text("a"), 1, NOW));
        assert_eq!(locks.holder(text("a")), Some((1, 2)));
        assert!(!locks.lock(text("a"), 2, NOW), "another owner is refused");
        locks.unlock(text("a"), 1).unwrap();
        assert!(!locks.lock(text("a"), 2, NOW), "still held once");
        locks.unlock(text("a"), 1).unwrap();
        assert_eq!(locks.holder(text("a")), None);
        assert!(locks.lock(text("a"), 2, NOW));
    }

    #[test]
    fn unlock_by_non_owner_fails_and_changes_nothing() {
        let locks = KeyLocks::<Ordinal>::new();
        assert_eq!(
            locks.unlock(text("a"), 1),
            Err(TableError::NotLockOwner { key: "a".into() })
        );
        assert!(locks.lock(KeyRef::Int(5), 1, NOW));
        assert_eq!(
            locks.unlock(KeyRef::Int(5), 2),
            Err(TableError::NotLockOwner { key: "5".into() })
        );
        assert_eq!(locks.holder(KeyRef::Int(5)), Some((1, 1)));
    }

    #[test]
    fn keys_fold_like_the_store() {
        let folded = KeyLocks::<IgnoreCase>::new();
        assert!(folded.lock(text("Key"), 1, NOW));
        assert!(!folded.lock(text("KEY"), 2, NOW));
        folded.unlock(text("kEy"), 1).unwrap();

        let exact = KeyLocks::<Ordinal>::new();
        assert!(exact.lock(text("Key"), 1, NOW));
        assert!(exact.lock(text("KEY"), 2, NOW));
        assert!(exact.lock(KeyRef::Int(1), 3, NOW));
        assert!(
            exact.lock(text("1"), 4, NOW),
            "int 1 and text '1' are different keys"
        );
    }

    #[test]
    fn times_out_after_roughly_the_timeout() {
        let locks = KeyLocks::<Ordinal>::new();
        assert!(locks.lock(text("a"), 1, NOW));
        let start = Instant::now();
        assert!(!locks.lock(text("a"), 2, Duration::from_millis(50)));
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
        assert!(locks.lock(text("a"), 1, NOW));
        let got_it = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (locks, got_it) = (Arc::clone(&locks), Arc::clone(&got_it));
            thread::spawn(move || {
                let ok = locks.lock(text("a"), 2, Duration::from_secs(10));
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
            assert!(locks.lock(text(key), 1, NOW));
            assert!(locks.lock(text(key), 1, NOW));
        }
        assert!(locks.lock(text("c"), 2, NOW));
        let waiter = {
            let locks = Arc::clone(&locks);
            thread::spawn(move || locks.lock(text("b"), 3, Duration::from_secs(10)))
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
}
