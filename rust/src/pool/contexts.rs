//! Warm contexts: the runspaces the host has set up, kept across batches,
//! pools and calls.
//!
//! A context is the host's (for PowerShell: one runspace). Its *key* says how
//! it was set up (modules, functions, language mode): any pool with that key
//! can use it. A worker checks a context out for each batch and back in
//! afterwards; idle contexts are kept, most recently used first, and the host
//! is told to dispose of those idle longer than the expiry. So a second call
//! with the same setup pays no runspace creation, as threads in a thread pool.
//!
//! The cache is plain data under the engine's lock for it; the host calls
//! (creating happens inside the batch run, disposing is done by the caller of
//! [`Contexts::expire`]) are made with it released.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Identifies a context; never reused.
pub type ContextId = u64;

#[derive(Default)]
pub(crate) struct Contexts {
    next: ContextId,
    /// Idle contexts by key, most recently checked in last.
    idle: HashMap<u64, Vec<(ContextId, Instant)>>,
    /// An expiry check is waiting in the timer: one at a time, not one per
    /// check-in (thousands of batches a second would fill the timer).
    expiry_pending: bool,
}

impl Contexts {
    /// An idle context with `key`, or a fresh id for the host to set up (`true`).
    pub fn check_out(&mut self, key: u64) -> (ContextId, bool) {
        if let Some(list) = self.idle.get_mut(&key)
            && let Some((id, _)) = list.pop()
        {
            return (id, false);
        }
        self.next += 1;
        (self.next, true)
    }

    /// Puts a context back; true if no expiry check is pending, so the
    /// caller must schedule one (for `now` plus the expiry).
    pub fn check_in(&mut self, key: u64, id: ContextId, now: Instant) -> bool {
        self.idle.entry(key).or_default().push((id, now));
        !std::mem::replace(&mut self.expiry_pending, true)
    }

    /// Takes the contexts idle since before `now - expiry` out of the cache;
    /// returns them (for the host to dispose of) and when the next one
    /// expires, for which the caller must schedule the next check.
    pub fn expire(&mut self, now: Instant, expiry: Duration) -> (Vec<ContextId>, Option<Instant>) {
        let mut gone = Vec::new();
        let mut next: Option<Instant> = None;
        self.idle.retain(|_, list| {
            list.retain(|&(id, since)| {
                let at = since + expiry;
                if at <= now {
                    gone.push(id);
                    false
                } else {
                    next = Some(next.map_or(at, |n| n.min(at)));
                    true
                }
            });
            !list.is_empty()
        });
        self.expiry_pending = next.is_some();
        (gone, next)
    }

    /// Every idle context (the engine is shutting down).
    pub fn drain(&mut self) -> Vec<ContextId> {
        self.idle.drain().flat_map(|(_, list)| list.into_iter().map(|(id, _)| id)).collect()
    }

    pub fn idle_count(&self) -> usize {
        self.idle.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_by_key_most_recent_first_and_expires_idle_ones() {
        let mut c = Contexts::default();
        let t0 = Instant::now();
        let (a, fresh_a) = c.check_out(1);
        let (b, fresh_b) = c.check_out(1);
        let (x, _) = c.check_out(2);
        assert!(fresh_a && fresh_b && a != b && b != x);
        assert!(c.check_in(1, a, t0), "the first check-in schedules the expiry check");
        assert!(!c.check_in(1, b, t0 + Duration::from_secs(5)), "one check pending at a time");
        assert_eq!(c.check_out(2), (4, true), "another key gets its own");
        assert_eq!(c.check_out(1), (b, false), "most recently used first");
        assert!(!c.check_in(1, b, t0 + Duration::from_secs(5)));
        let (gone, next) = c.expire(t0 + Duration::from_secs(12), Duration::from_secs(10));
        assert_eq!(gone, vec![a]);
        assert_eq!(next, Some(t0 + Duration::from_secs(15)));
        assert_eq!(c.idle_count(), 1);
        assert!(!c.check_in(2, 4, t0 + Duration::from_secs(13)), "the check for the next expiry is still pending");
        let (gone, next) = c.expire(t0 + Duration::from_secs(30), Duration::from_secs(10));
        assert_eq!(gone.len(), 2);
        assert_eq!(next, None);
        assert!(c.check_in(1, a, t0 + Duration::from_secs(31)), "nothing pending once all expired");
        assert_eq!(c.drain().len(), 1);
    }
}
