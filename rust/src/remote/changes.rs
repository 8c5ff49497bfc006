//! Waking waits when another process writes: pub/sub, no polling.
//!
//! Every write script publishes the field it changed on the table's channel
//! (`PUBLISH` needs no server configuration, unlike keyspace notifications,
//! which are off by default and need `CONFIG SET`). One listener thread per
//! table, started by the first wait, holds a subscribed connection and bumps
//! a generation counter for every message; waits sleep on a condition
//! variable until the generation moves, then look at the server again.
//!
//! No lost wake-up: a wait first makes sure the listener is subscribed, then
//! notes the generation, then checks the server. A write the check missed
//! publishes after the check read, so its message arrives after the
//! generation was noted and moves it.
//!
//! When the listener's connection breaks (server restart), waits in progress
//! fail with a clear error instead of sleeping through writes they can no
//! longer hear about; the listener reconnects by itself for later waits.

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
}

/// What a wait's check found: done, or look again after a change (or at `until`).
pub enum Check<T> {
    Done(T),
    Retry { until: Option<Instant> },
}

pub struct Changes {
    state: Mutex<State>,
    wake: Condvar,
    channel: String,
    shown: String,
}

impl Changes {
    pub fn new(channel: String, shown: String) -> Arc<Changes> {
        Arc::new(Changes {
            state: Mutex::new(State { generation: 0, listening: Listening::NotYet, started: false, closed: false }),
            wake: Condvar::new(),
            channel,
            shown,
        })
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
    /// again after every change published on the table's channel.
    pub fn wait<T>(
        self: &Arc<Self>,
        client: &redis::Client,
        deadline: Option<Instant>,
        cancel: Option<&Cancel>,
        mut check: impl FnMut() -> Result<Check<T>, RemoteError>,
    ) -> Result<Waited<T>, RemoteError> {
        if deadline.is_some_and(|d| d <= Instant::now()) {
            // A zero timeout only looks once; it need not hear about changes.
            return Ok(match check()? {
                Check::Done(value) => Waited::Ready(value),
                Check::Retry { .. } => Waited::TimedOut,
            });
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
        {
            // Not listening yet, or reconnecting after a break: give the
            // listener the time one connection attempt may take.
            let limit = Instant::now() + CONNECT_TIMEOUT + Duration::from_secs(1);
            let mut state = self.state.lock();
            loop {
                if state.closed {
                    return Ok(Waited::Closed);
                }
                if cancelled() {
                    return Ok(Waited::Cancelled);
                }
                if state.listening == Listening::Yes {
                    break;
                }
                if self.wake.wait_until(&mut state, limit).timed_out() && state.listening != Listening::Yes {
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
                match pubsub.subscribe(&changes.channel) {
                    Ok(()) => {
                        changes.set_listening(Listening::Yes);
                        loop {
                            match pubsub.get_message() {
                                Ok(_) => {
                                    if changes.is_closed() {
                                        return;
                                    }
                                    changes.bump();
                                }
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
