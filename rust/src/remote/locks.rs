//! Key locks of a Redis table: which this process holds, and the renewal
//! that keeps a live holder's locks from expiring.
//!
//! A lock is a Redis key holding its holder's token, with an expiry, so that
//! a killed process cannot hold it for ever. A live holder must not lose it
//! to that expiry in a long critical section, so one renewal thread per
//! table (started by the first lock, asleep while none is held) extends
//! every held lock each third of the expiry, in one script call. A lock the
//! server no longer has for its token (the server restarted, or this
//! process could not reach it for a whole expiry) is marked lost; its holder
//! is told so when it re-enters or releases it.
//!
//! Each acquisition has its own token, so a renewal that answers for an
//! acquisition already released can never mark a later one lost.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use redis::{Connection, RedisResult};

use super::changes::Check;
use super::connections::{Connections, Effect, Op};
use super::error::RemoteError;
use super::{RemoteStore, channel_of, deadline, scripts, shown_key};
use crate::cancel::Cancel;
use crate::table::{KeyRef, Waited};

/// A lock this process holds: by which owner (thread), how often
/// re-entered, under which token and lock key, and whether the server lost it.
pub(super) struct Held {
    pub owner: u64,
    pub depth: u32,
    pub token: String,
    pub lock: Vec<u8>,
    pub lost: bool,
}

/// What leaving one level of a lock came to.
pub(super) enum Leave {
    /// Still held: an outer level of a re-entered lock remains. `lost`: the
    /// server lost the lock meanwhile (every level's release tells so, the
    /// innermost first, as the section it ends was not exclusive either).
    Inner { lost: bool },
    /// The last level: the lock is to be released on the server.
    Last(Held),
    /// The caller does not hold it.
    NotOwner,
}

struct State {
    /// By field and owner: when the server lost one owner's lock and another
    /// owner (thread) of this process took it, both are recorded, the first
    /// one lost, so that it is still told so.
    held: HashMap<(Vec<u8>, u64), Held>,
    closed: bool,
    renewing: bool,
    /// The renewal thread sleeps until a lock is held (not a timed wait).
    parked: bool,
}

pub(super) struct Locks {
    state: Mutex<State>,
    wake: Condvar,
    expiry: Duration,
    token_prefix: String,
    next_token: AtomicU64,
}

impl Locks {
    pub fn new(expiry: Duration, token_prefix: String) -> Arc<Locks> {
        Arc::new(Locks {
            state: Mutex::new(State { held: HashMap::new(), closed: false, renewing: false, parked: false }),
            wake: Condvar::new(),
            expiry,
            token_prefix,
            next_token: AtomicU64::new(1),
        })
    }

    pub fn expiry(&self) -> Duration {
        self.expiry
    }

    /// A token no other acquisition (of any process) uses.
    pub fn new_token(&self, owner: u64) -> String {
        format!("{}:{owner}:{}", self.token_prefix, self.next_token.fetch_add(1, Ordering::Relaxed))
    }

    /// One more level of a lock `owner` holds already: `Some(true)` entered,
    /// `Some(false)` held but lost on the server, `None` not held by `owner`.
    pub fn reenter(&self, field: &[u8], owner: u64) -> Option<bool> {
        let mut state = self.state.lock();
        let held = state.held.get_mut(&(field.to_vec(), owner))?;
        if held.lost {
            return Some(false);
        }
        held.depth += 1;
        Some(true)
    }

    /// Records a lock just taken on the server, and makes sure it is renewed.
    pub fn taken(self: &Arc<Self>, field: Vec<u8>, held: Held, connections: &Arc<Connections>) {
        let start = {
            let mut state = self.state.lock();
            if state.parked {
                // Only a renewal thread asleep for want of locks is woken; a
                // lock taken while it waits for its next round waits with it
                // (waking it for every lock would renew once per lock taken).
                self.wake.notify_all();
            }
            state.held.insert((field, held.owner), held);
            !std::mem::replace(&mut state.renewing, true)
        };
        if start {
            let (locks, connections) = (Arc::clone(self), Arc::clone(connections));
            let spawned = std::thread::Builder::new().name("syncpool-redis-locks".into()).spawn(move || {
                super::signals::block_for_this_thread();
                // A panic must not end the process; the locks then expire and
                // their holders are told so when they release them.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| renew(&locks, &connections)));
            });
            if spawned.is_err() {
                self.state.lock().renewing = false;
            }
        }
    }

    pub fn leave(&self, field: &[u8], owner: u64) -> Leave {
        let mut state = self.state.lock();
        let id = (field.to_vec(), owner);
        match state.held.get_mut(&id) {
            Some(h) => {
                h.depth -= 1;
                if h.depth > 0 {
                    return Leave::Inner { lost: h.lost };
                }
                state.held.remove(&id).map_or(Leave::NotOwner, Leave::Last)
            }
            None => Leave::NotOwner,
        }
    }

    /// Every lock `owner` holds (all of them when `None`), with its field, no longer recorded as held.
    pub fn take_all(&self, owner: Option<u64>) -> Vec<(Vec<u8>, Held)> {
        let mut state = self.state.lock();
        let ids: Vec<(Vec<u8>, u64)> = state.held.keys().filter(|(_, o)| owner.is_none_or(|wanted| *o == wanted)).cloned().collect();
        ids.into_iter().filter_map(|id| state.held.remove(&id).map(|h| (id.0, h))).collect()
    }

    /// Ends the renewal thread.
    pub fn close(&self) {
        self.state.lock().closed = true;
        self.wake.notify_all();
    }
}

/// The renewal thread: every third of the expiry, extend every held lock.
fn renew(locks: &Locks, connections: &Connections) {
    let every = (locks.expiry / 3).max(Duration::from_millis(1));
    let expiry_ms = locks.expiry.as_millis().max(1) as u64;
    let mut state = locks.state.lock();
    loop {
        if state.closed {
            return;
        }
        if state.held.is_empty() {
            state.parked = true;
            locks.wake.wait(&mut state);
            state.parked = false;
            continue;
        }
        locks.wake.wait_for(&mut state, every);
        if state.closed {
            return;
        }
        let due: Vec<((Vec<u8>, u64), Vec<u8>, String)> =
            state.held.iter().filter(|(_, h)| !h.lost).map(|(id, h)| (id.clone(), h.lock.clone(), h.token.clone())).collect();
        if due.is_empty() {
            continue;
        }
        drop(state);
        // Extending a lock twice is harmless, so the call may be retried.
        let renewed: Result<Vec<i64>, _> = connections.run(Op { what: "Renewing locks", effect: Effect::RepeatableWrite }, |c| {
            let mut call = scripts::RENEW.prepare_invoke();
            call.arg(expiry_ms);
            for (_, lock, token) in &due {
                call.key(lock).arg(token);
            }
            call.invoke(c)
        });
        state = locks.state.lock();
        // A failed call is tried again next time; a lock that expired
        // meanwhile shows as lost then.
        if let Ok(renewed) = renewed {
            for ((id, _, token), kept) in due.iter().zip(renewed) {
                if kept == 0
                    && let Some(h) = state.held.get_mut(id)
                    && h.token == *token
                {
                    h.lost = true;
                }
            }
        }
    }
}

impl RemoteStore {
    /// Takes the lock of `key` for `owner` (re-entrant per owner), waiting
    /// up to `timeout`; it lasts while this table is open, and expires
    /// within the table's lock expiry once this process is gone.
    pub fn lock_key(&self, key: KeyRef<'_>, owner: u64, timeout: Duration, cancel: Option<&Cancel>) -> Result<Waited<()>, RemoteError> {
        if self.is_closed() {
            return Ok(Waited::Closed);
        }
        let field = self.field(key);
        match self.locks.reenter(&field, owner) {
            Some(true) => return Ok(Waited::Ready(())),
            Some(false) => return Err(self.lost_lock(key)),
            None => {}
        }
        let token = self.locks.new_token(owner);
        let lock = self.lock_name(&field);
        let expiry_ms = self.locks.expiry().as_millis().max(1) as u64;
        let what = format!("Lock of key '{}'", shown_key(key));
        let client = self.connections.client();
        let channel = channel_of(&self.names.unlock_channels, &field);
        let waited = self.changes.wait(&client, channel, || self.poke(), deadline(timeout), cancel, || {
            // Retrying is harmless: the script answers 1 for a lock its token holds already.
            let reply: Vec<i64> = self.run(&what, Effect::RepeatableWrite, |c| scripts::LOCK.key(&lock).arg(&token).arg(expiry_ms).invoke(c))?;
            Ok(match reply.as_slice() {
                [1, ..] => Check::Done(()),
                [0, ms, ..] if *ms > 0 => Check::Retry { until: Some(Instant::now() + Duration::from_millis(*ms as u64 + 1)) },
                _ => Check::Retry { until: Some(Instant::now() + Duration::from_millis(1)) },
            })
        })?;
        if let Waited::Ready(()) = waited {
            if self.is_closed() {
                // Closed while the lock was being taken: the close's release
                // may have missed it, and no renewal runs any more.
                let _ = self.connections.run_if_connected(|c| self.give_back(c, &field, &lock, &token));
                return Ok(Waited::Closed);
            }
            self.locks.taken(field, Held { owner, depth: 1, token, lock, lost: false }, &self.connections);
        }
        Ok(waited)
    }

    /// Leaves the lock of `key`. Tells the caller when the lock was lost
    /// before this release (another process may have held it meanwhile).
    pub fn unlock_key(&self, key: KeyRef<'_>, owner: u64) -> Result<(), RemoteError> {
        if self.is_closed() {
            // The close released this process's locks, as the in-process table's removal does.
            return Ok(());
        }
        let field = self.field(key);
        match self.locks.leave(&field, owner) {
            Leave::Inner { lost: false } => Ok(()),
            Leave::Inner { lost: true } => Err(self.lost_lock(key)),
            Leave::Last(held) => self.release(&field, &held, key),
            Leave::NotOwner => Err(RemoteError::NotLockOwner(format!("Key '{}' is not locked by this caller.", shown_key(key)))),
        }
    }

    fn release(&self, field: &[u8], held: &Held, key: KeyRef<'_>) -> Result<(), RemoteError> {
        let what = format!("Unlock of key '{}'", shown_key(key));
        let mut attempts = 0;
        let released: i64 = self.run(&what, Effect::RepeatableWrite, |c| {
            attempts += 1;
            self.give_back(c, field, &held.lock, &held.token)
        })?;
        if released == 1 && !held.lost {
            return Ok(());
        }
        if released == 0 && attempts > 1 && !held.lost {
            // The first attempt may have released it (its reply lost), or the
            // lock had been lost: it is free now either way, but whether it
            // was held to the end is unknown.
            return Err(RemoteError::OutcomeUnknown(format!(
                "{what}: the connection to the Redis server at {} broke during the release, and the release sent again found the lock free, so whether this caller held the lock to the end is unknown (if the server restarted, another process may have held it meanwhile). The lock is released now.",
                self.connections.shown()
            )));
        }
        Err(self.lost_lock(key))
    }

    /// Releases `lock` (the lock of `field`) if `token` still holds it, and
    /// wakes its waiters; 1 if it did, 0 if the server no longer had it so.
    pub(super) fn give_back(&self, connection: &mut Connection, field: &[u8], lock: &[u8], token: &str) -> RedisResult<i64> {
        scripts::UNLOCK.key(lock).arg(token).arg(channel_of(&self.names.unlock_channels, field)).invoke(connection)
    }

    fn lost_lock(&self, key: KeyRef<'_>) -> RemoteError {
        RemoteError::NotLockOwner(format!(
            "The lock on key '{}' was lost before it was released: the Redis server no longer held it for this caller (the server restarted or lost the key, or this process could not renew the lock for the whole lock expiry of {} s), so another process may have held it meanwhile and the critical section was not exclusive to the end.",
            shown_key(key),
            self.locks.expiry().as_secs_f64()
        ))
    }

    /// Releases every lock `owner` holds (a stopped pipeline).
    pub fn unlock_all(&self, owner: u64) {
        for (field, held) in self.locks.take_all(Some(owner)) {
            let _ = self.release(&field, &held, KeyRef::Text(""));
        }
    }
}
