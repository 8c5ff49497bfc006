//! Waking waits when another process writes: pub/sub, no polling.
//!
//! Every write script publishes on the channel of the key it changed (and a
//! lock release on the channel of the key's lock): `PUBLISH` needs no server
//! configuration, unlike keyspace notifications, which are off by default
//! and need `CONFIG SET`. Channels are per key so that writes nobody waits
//! for cost nobody anything: a channel without subscribers is free, while
//! one channel per table woke every waiting process for every write.
//!
//! One listener thread per table, started by the first wait, holds a
//! subscribed connection: to the table's `all` channel (Clear, deletion), to
//! its own control channel, and to the channel of every key a wait of this
//! process is waiting on. A wait that needs a new channel records it and
//! publishes on the control channel; that message wakes the listener, which
//! subscribes and tells the waits. Every message on a key channel bumps a
//! generation counter; waits sleep on a condition variable until the
//! generation moves, then look at the server again.
//!
//! No lost wake-up: a wait first makes sure its channel is subscribed, then
//! notes the generation, then checks the server. A write the check missed
//! publishes after the check read, so its message arrives after the
//! generation was noted and moves it.
//!
//! When the listener's connection breaks (server restart), waits in progress
//! fail with a clear error instead of sleeping through writes they can no
//! longer hear about; the listener reconnects by itself for later waits.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::connections::CONNECT_TIMEOUT;
use super::error::RemoteError;
use crate::cancel::Cancel;
use crate::table::Waited;

/// Pause between reconnect attempts of the listener after its connection broke.
const RECONNECT_PAUSE: Duration = Duration::from_millis(250);

/// How long the listener reads before it checks its connection with a PING
/// (a server that vanished without closing the socket, a half-open
/// connection, is noticed within twice this) and whether the table was
/// closed (a close wakes it at once when it can; see `RemoteStore::close`).
/// Waits are not woken by this: only by messages.
pub const LISTENER_CHECK: Duration = Duration::from_secs(5);

#[derive(Clone, PartialEq, Eq)]
enum Listening {
    NotYet,
    Yes,
    Lost(String),
}

struct State {
    generation: u64,
    listening: Listening,
    started: bool,
    closed: bool,
    /// Channels waits of this process need, with how many waits need each.
    wanted: HashMap<Vec<u8>, usize>,
    /// Channels the listener is subscribed to now (besides `all` and control).
    subscribed: HashSet<Vec<u8>>,
}

/// What a wait's check found: done, or look again after a change (or at `until`).
pub enum Check<T> {
    Done(T),
    Retry { until: Option<Instant> },
}

pub struct Changes {
    state: Mutex<State>,
    wake: Condvar,
    /// The table's channel for changes to every key (Clear, deletion).
    all: String,
    /// This store's own channel, on which waits wake the listener.
    control: String,
    shown: String,
}

/// Keeps a channel wanted while a wait runs.
struct Wanted<'a> {
    changes: &'a Changes,
    channel: Vec<u8>,
}

impl Drop for Wanted<'_> {
    fn drop(&mut self) {
        let mut state = self.changes.state.lock();
        if let Some(n) = state.wanted.get_mut(&self.channel) {
            *n -= 1;
            if *n == 0 {
                // The listener unsubscribes the next time it wakes.
                state.wanted.remove(&self.channel);
            }
        }
    }
}

impl Changes {
    pub fn new(all: String, control: String, shown: String) -> Arc<Changes> {
        Arc::new(Changes {
            state: Mutex::new(State {
                generation: 0,
                listening: Listening::NotYet,
                started: false,
                closed: false,
                wanted: HashMap::new(),
                subscribed: HashSet::new(),
            }),
            wake: Condvar::new(),
            all,
            control,
            shown,
        })
    }

    /// This store's control channel (a message there wakes its listener).
    pub fn control(&self) -> &str {
        &self.control
    }

    /// Ends every wait (with `Closed`) and the listener.
    pub fn close(&self) {
        let mut state = self.state.lock();
        state.closed = true;
        self.wake.notify_all();
    }

    fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    fn set_listening(&self, listening: Listening) {
        let mut state = self.state.lock();
        if listening != Listening::Yes {
            state.subscribed.clear();
        }
        state.listening = listening;
        state.generation += 1;
        self.wake.notify_all();
    }

    fn bump(&self) {
        let mut state = self.state.lock();
        state.generation += 1;
        self.wake.notify_all();
    }

    /// Starts the listener thread unless it runs already.
    fn ensure_listener(self: &Arc<Self>, client: &redis::Client) {
        {
            let mut state = self.state.lock();
            if state.started {
                return;
            }
            state.started = true;
        }
        let changes = Arc::clone(self);
        let client = client.clone();
        let spawned = std::thread::Builder::new().name("syncpool-redis-listener".into()).spawn(move || {
            super::signals::block_for_this_thread();
            // A panic must not end the process; the waits then see the listener as lost.
            if catch_unwind(AssertUnwindSafe(|| listen(&changes, &client))).is_err() {
                changes.set_listening(Listening::Lost("the change listener stopped unexpectedly".into()));
            }
        });
        if spawned.is_err() {
            self.set_listening(Listening::Lost("no thread could be started for the change listener".into()));
        }
    }

    /// Blocks until `check` is done, `deadline` passes (`None`: never),
    /// `cancel` fires or the table is closed. `check` runs first at once and
    /// again after every message on `channel` (or the table's `all`
    /// channel). `poke` publishes on the control channel, to have the
    /// listener subscribe to `channel`.
    pub fn wait<T>(
        self: &Arc<Self>,
        client: &redis::Client,
        channel: Vec<u8>,
        poke: impl Fn() -> Result<(), RemoteError>,
        deadline: Option<Instant>,
        cancel: Option<&Cancel>,
        mut check: impl FnMut() -> Result<Check<T>, RemoteError>,
    ) -> Result<Waited<T>, RemoteError> {
        // A cancel or close that came first wins, as in the in-process table.
        if self.is_closed() {
            return Ok(Waited::Closed);
        }
        if cancel.is_some_and(Cancel::is_cancelled) {
            return Ok(Waited::Cancelled);
        }
        // One look before subscribing: done already (a key that exists, a
        // free lock: the common case) needs no subscription, and a zero
        // timeout only looks once. A write after this look is caught below.
        if let Check::Done(value) = check()? {
            return Ok(Waited::Ready(value));
        }
        if deadline.is_some_and(|d| d <= Instant::now()) {
            return Ok(Waited::TimedOut);
        }
        self.ensure_listener(client);
        let _registered = cancel.map(|c| {
            let me = Arc::clone(self);
            c.on_cancel(move || {
                let _held = me.state.lock();
                me.wake.notify_all();
            })
        });
        let cancelled = || cancel.is_some_and(Cancel::is_cancelled);
        *self.state.lock().wanted.entry(channel.clone()).or_insert(0) += 1;
        let _wanted = Wanted { changes: self, channel: channel.clone() };
        {
            // Not listening yet, reconnecting after a break, or not on this
            // key's channel yet: give the listener the time one connection
            // attempt may take.
            let limit = Instant::now() + CONNECT_TIMEOUT + Duration::from_secs(1);
            let mut poked = false;
            let mut state = self.state.lock();
            loop {
                if state.closed {
                    return Ok(Waited::Closed);
                }
                if cancelled() {
                    return Ok(Waited::Cancelled);
                }
                if state.listening == Listening::Yes {
                    if state.subscribed.contains(&channel) {
                        break;
                    }
                    if !poked {
                        poked = true;
                        drop(state);
                        poke()?;
                        state = self.state.lock();
                        continue;
                    }
                }
                // The wait's own deadline, when sooner, still holds: look
                // once more and time out as usual (slow to subscribe is not
                // yet a lost connection).
                let until = deadline.map_or(limit, |d| d.min(limit));
                if self.wake.wait_until(&mut state, until).timed_out() && !(state.listening == Listening::Yes && state.subscribed.contains(&channel)) {
                    if deadline.is_some_and(|d| d <= limit) {
                        drop(state);
                        return Ok(match check()? {
                            Check::Done(value) => Waited::Ready(value),
                            Check::Retry { .. } => Waited::TimedOut,
                        });
                    }
                    let why = match &state.listening {
                        Listening::Lost(why) => why.clone(),
                        _ => "it did not subscribe in time".to_string(),
                    };
                    return Err(self.lost(&why));
                }
            }
        }
        loop {
            let seen = self.state.lock().generation;
            let until = match check()? {
                Check::Done(value) => return Ok(Waited::Ready(value)),
                Check::Retry { until } => until,
            };
            let wake_at = match (deadline, until) {
                (Some(d), Some(u)) => Some(d.min(u)),
                (d, u) => d.or(u),
            };
            let mut state = self.state.lock();
            loop {
                if state.closed {
                    return Ok(Waited::Closed);
                }
                if cancelled() {
                    return Ok(Waited::Cancelled);
                }
                if let Listening::Lost(why) = &state.listening {
                    return Err(self.lost(why));
                }
                if state.generation != seen {
                    break;
                }
                match wake_at {
                    Some(at) if Instant::now() >= at => {
                        if deadline.is_some_and(|d| Instant::now() >= d) {
                            return Ok(Waited::TimedOut);
                        }
                        break; // `until` passed (a lock expired): look again
                    }
                    Some(at) => {
                        self.wake.wait_until(&mut state, at);
                    }
                    None => self.wake.wait(&mut state),
                }
            }
        }
    }

    fn lost(&self, why: &str) -> RemoteError {
        RemoteError::ConnectionLost(format!(
            "The wait failed: SyncPool stopped hearing about changes from the Redis server at {} ({why}). Later waits reconnect by themselves.",
            self.shown
        ))
    }

    /// Channels to subscribe to and to leave, so that the subscriptions match what waits want.
    ///
    /// A channel to leave stops counting as subscribed here, under the lock
    /// that chose it, not after the UNSUBSCRIBE: a wait on it that starts in
    /// between must not take it for subscribed and sleep on a channel about
    /// to go quiet; it pokes the listener instead, which subscribes again.
    /// A channel to join counts only once SUBSCRIBE has been answered
    /// ([`subscribed`](Self::subscribed)).
    fn differences(&self) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let mut state = self.state.lock();
        let add = state.wanted.keys().filter(|c| !state.subscribed.contains(*c)).cloned().collect();
        let remove: Vec<Vec<u8>> = state.subscribed.iter().filter(|c| !state.wanted.contains_key(*c)).cloned().collect();
        for channel in &remove {
            state.subscribed.remove(channel);
        }
        (add, remove)
    }

    fn subscribed(&self, added: &[Vec<u8>]) {
        let mut state = self.state.lock();
        for channel in added {
            state.subscribed.insert(channel.clone());
        }
        self.wake.notify_all();
    }
}

/// Brings the listener's subscriptions in line with what waits want.
fn sync_subscriptions(changes: &Changes, pubsub: &mut redis::PubSub<'_>) -> redis::RedisResult<()> {
    let (add, remove) = changes.differences();
    if !add.is_empty() {
        pubsub.subscribe(&add)?;
    }
    if !remove.is_empty() {
        pubsub.unsubscribe(&remove)?;
    }
    if !add.is_empty() {
        changes.subscribed(&add);
    }
    Ok(())
}

/// The listener thread: subscribe, bump the generation per message, reconnect when the connection breaks.
fn listen(changes: &Arc<Changes>, client: &redis::Client) {
    loop {
        if changes.is_closed() {
            return;
        }
        match client.get_connection_with_timeout(CONNECT_TIMEOUT) {
            Ok(mut connection) => {
                let mut pubsub = connection.as_pubsub();
                let subscribed = pubsub
                    .set_read_timeout(Some(LISTENER_CHECK))
                    .and_then(|()| pubsub.subscribe(&[changes.all.as_str(), changes.control.as_str()]))
                    .and_then(|()| sync_subscriptions(changes, &mut pubsub));
                match subscribed {
                    Ok(()) => {
                        changes.set_listening(Listening::Yes);
                        loop {
                            let message = pubsub.get_message();
                            if changes.is_closed() {
                                return;
                            }
                            match message {
                                Err(error) if error.is_timeout() => {
                                    // Quiet for a while: is the server still there?
                                    if let Err(error) = pubsub.ping::<redis::Value>() {
                                        changes.set_listening(Listening::Lost(format!("the server stopped answering: {}", error.kind_name())));
                                        break;
                                    }
                                }
                                Ok(message) if message.get_channel_name() == changes.control => {
                                    if let Err(error) = sync_subscriptions(changes, &mut pubsub) {
                                        changes.set_listening(Listening::Lost(format!("it could not subscribe: {}", error.kind_name())));
                                        break;
                                    }
                                }
                                Ok(_) => changes.bump(),
                                Err(error) => {
                                    changes.set_listening(Listening::Lost(format!("its connection broke: {}", error.kind_name())));
                                    break;
                                }
                            }
                        }
                    }
                    Err(error) => changes.set_listening(Listening::Lost(format!("it could not subscribe: {}", error.kind_name()))),
                }
            }
            Err(error) => changes.set_listening(Listening::Lost(format!("it could not connect: {}", error.kind_name()))),
        }
        // Pause before reconnecting; a close ends the pause at once.
        let mut state = changes.state.lock();
        if !state.closed {
            changes.wake.wait_for(&mut state, RECONNECT_PAUSE);
        }
    }
}

trait KindName {
    fn kind_name(&self) -> String;
}

impl KindName for redis::RedisError {
    /// The kind of failure only: library text could, in principle, carry connection details.
    fn kind_name(&self) -> String {
        if self.is_timeout() {
            "timed out".into()
        } else if self.is_connection_refusal() {
            "connection refused".into()
        } else if self.is_io_error() || self.is_connection_dropped() {
            "connection closed".into()
        } else {
            format!("{:?}", self.kind())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_being_left_no_longer_counts_as_subscribed() {
        let changes = Changes::new("all".into(), "control".into(), "redis://h:1/0".into());
        {
            let mut state = changes.state.lock();
            state.subscribed.insert(b"left".to_vec());
            state.subscribed.insert(b"kept".to_vec());
            state.wanted.insert(b"kept".to_vec(), 1);
            state.wanted.insert(b"new".to_vec(), 1);
        }
        let (add, remove) = changes.differences();
        assert_eq!((add, remove), (vec![b"new".to_vec()], vec![b"left".to_vec()]));
        // Before the UNSUBSCRIBE goes out, a wait on 'left' must see it as not
        // subscribed (and poke); 'new' counts only once SUBSCRIBE answered.
        let state = changes.state.lock();
        assert!(!state.subscribed.contains(b"left".as_slice()));
        assert!(!state.subscribed.contains(b"new".as_slice()));
        assert!(state.subscribed.contains(b"kept".as_slice()));
        drop(state);
        changes.subscribed(&[b"new".to_vec()]);
        assert!(changes.state.lock().subscribed.contains(b"new".as_slice()));
    }
}
