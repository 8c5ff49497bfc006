//! Connections to one Redis server, shared by every thread of the process.
//!
//! A call takes an idle connection (or opens one), runs its command and puts
//! it back, so threads of one process never wait for each other's round
//! trips. When a connection breaks, every idle one is dropped too (a server
//! restart breaks them all) and the next call opens fresh ones: a script
//! sees the calls in flight fail and the later ones work again, with no
//! reconnect loop of its own.
//!
//! A call that changes data in a way that must not happen twice
//! ([`Effect::Write`]) is never sent twice: if its connection breaks after it
//! was sent, the server may or may not have applied it, and the error says so
//! ([`RemoteError::OutcomeUnknown`]). A read, or a write that sending again
//! cannot harm, is tried once more on a fresh connection when a reused one
//! turns out to be dead (not when it timed out: a stuck server is not cured
//! by another connection, and waiting again would double the wait). A write
//! whose connection broke is reported as of unknown outcome either way; only
//! a read changed nothing for sure. A connection that sat idle for a while is
//! checked with a PING before a [`Effect::Write`] goes out on it, so a server
//! restarted while the script was idle costs that call nothing; only calls
//! in flight during the restart fail.
//!
//! Every call holds off signals on its thread while it talks to the server
//! (see [`signals`](super::signals)): a signal landing on a thread blocked
//! in a read with a timeout would end the read with EINTR.

use std::time::{Duration, Instant};

use parking_lot::Mutex;
use redis::{Client, Connection, ConnectionAddr, ErrorKind, IntoConnectionInfo, RedisConnectionInfo, RedisError, RedisResult};

use super::address::Address;
use super::error::RemoteError;
use super::signals::Held;

/// How long opening a connection may take before the address is reported unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(4);

/// How long the first reply at open may take: a server that takes the
/// connection but does not answer is reported within about five seconds,
/// together with [`CONNECT_TIMEOUT`]'s share.
const FIRST_REPLY_TIMEOUT: Duration = Duration::from_secs(3);

/// How long one reply may take. No command SyncPool sends blocks on the
/// server (waits block here, woken by pub/sub), so a reply this late means
/// the server or the network is stuck.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(15);

/// How long a connection may sit idle before a call that changes data checks it first.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(1);

/// What a call does, for its error messages and its retry rule.
#[derive(Clone, Copy)]
pub struct Op<'a> {
    pub what: &'a str,
    pub effect: Effect,
}

/// What a call does to the data, which decides whether it may be sent again
/// and what a broken connection leaves unknown.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Changes nothing.
    Reads,
    /// Changes data, but sending it twice leaves the same result as once.
    RepeatableWrite,
    /// Changes data in a way a second sending would repeat (an Increment).
    Write,
}

pub struct Connections {
    client: Client,
    /// The password-free address for messages.
    shown: String,
    /// The password, to scrub from any text a library error might carry.
    secret: Option<String>,
    /// Open connections not in use, with when each was last used.
    idle: Mutex<Vec<(Connection, Instant)>>,
}

impl Connections {
    /// Connects once (so a bad address, password or database fails here,
    /// at open, with a clear message) and keeps that connection.
    pub fn open(address: &Address) -> Result<Connections, RemoteError> {
        let _held = Held::new();
        let mut redis = RedisConnectionInfo::default().set_db(address.db).set_skip_set_lib_name();
        if let Some(user) = &address.user {
            redis = redis.set_username(user);
        }
        if let Some(password) = &address.password {
            redis = redis.set_password(password.expose());
        }
        let info = ConnectionAddr::Tcp(address.host.clone(), address.port)
            .into_connection_info()
            .map_err(|_| RemoteError::BadAddress(format!("The Redis address {address} could not be used; give one like {}.", super::address::EXAMPLE)))?
            .set_redis_settings(redis);
        let client = Client::open(info).map_err(|_| RemoteError::BadAddress(format!("The Redis address {address} could not be used; give one like {}.", super::address::EXAMPLE)))?;
        let connections = Connections {
            client,
            shown: address.to_string(),
            secret: address.password.as_ref().map(|p| p.expose().to_string()).filter(|p| !p.is_empty()),
            idle: Mutex::new(Vec::new()),
        };
        let mut first = connections.connect()?;
        connections.check_answers(&mut first)?;
        connections.idle.lock().push((first, Instant::now()));
        Ok(connections)
    }

    /// The password-free address.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// A client for the change listener's own connection.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// Opens a connection with the timeouts every call relies on.
    pub fn connect(&self) -> Result<Connection, RemoteError> {
        let connection = self.client.get_connection_with_timeout(CONNECT_TIMEOUT).map_err(|e| self.connect_failure(&e))?;
        connection.set_read_timeout(Some(REPLY_TIMEOUT)).map_err(|e| self.connect_failure(&e))?;
        connection.set_write_timeout(Some(REPLY_TIMEOUT)).map_err(|e| self.connect_failure(&e))?;
        Ok(connection)
    }

    /// At open: a server that takes the connection but does not answer (stuck,
    /// or not a Redis server) fails within [`FIRST_REPLY_TIMEOUT`], not after
    /// the longer [`REPLY_TIMEOUT`] calls get.
    fn check_answers(&self, connection: &mut Connection) -> Result<(), RemoteError> {
        connection.set_read_timeout(Some(FIRST_REPLY_TIMEOUT)).map_err(|e| self.connect_failure(&e))?;
        match redis::cmd("PING").query::<String>(connection) {
            Ok(_) => {}
            Err(error) if error.is_timeout() => {
                return Err(RemoteError::Unreachable(format!(
                    "The server at {} took the connection but did not answer within {} s. Check that a Redis server (not another program) listens there and is not stuck.",
                    self.shown,
                    FIRST_REPLY_TIMEOUT.as_secs()
                )));
            }
            Err(error) if error.kind() == ErrorKind::Parse => {
                return Err(RemoteError::Unreachable(format!(
                    "The server at {} did not answer as a Redis server does (its reply was not the Redis protocol). Check the host and port.",
                    self.shown
                )));
            }
            Err(error) if broken(&error) => {
                return Err(RemoteError::Unreachable(format!(
                    "The server at {} closed the connection instead of answering ({}). Check the host and port.",
                    self.shown,
                    self.describe(&error)
                )));
            }
            Err(error) => return Err(self.connect_failure(&error)),
        }
        connection.set_read_timeout(Some(REPLY_TIMEOUT)).map_err(|e| self.connect_failure(&e))
    }

    /// Runs `call` on a connection of the pool (see the module docs for retries).
    pub fn run<T>(&self, op: Op<'_>, mut call: impl FnMut(&mut Connection) -> RedisResult<T>) -> Result<T, RemoteError> {
        let _held = Held::new();
        let pooled = self.idle.lock().pop();
        let mut reused = pooled.is_some();
        let mut connection = match pooled {
            Some((mut c, last_used)) => {
                if op.effect == Effect::Write && last_used.elapsed() > CHECK_AFTER_IDLE {
                    match redis::cmd("PING").query::<String>(&mut c) {
                        Ok(_) => c,
                        // A server that does not answer is not cured by a new
                        // connection: fail now, with nothing sent.
                        Err(error) if error.is_timeout() => {
                            self.idle.lock().clear();
                            return Err(self.unsent_failure(op, &error));
                        }
                        Err(_) => {
                            // Dead (the server restarted, say): nothing was sent on it yet.
                            self.idle.lock().clear();
                            reused = false;
                            self.connect()?
                        }
                    }
                } else {
                    c
                }
            }
            None => self.connect()?,
        };
        match call(&mut connection) {
            Ok(value) => {
                self.idle.lock().push((connection, Instant::now()));
                Ok(value)
            }
            Err(error) if broken(&error) => {
                drop(connection);
                self.idle.lock().clear();
                // A connection that broke is retried once, fresh; one that timed
                // out is not (the server is stuck: waiting again would double the
                // wait the error reports).
                if op.effect != Effect::Write && reused && !error.is_timeout() {
                    let mut fresh = self.connect()?;
                    return match call(&mut fresh) {
                        Ok(value) => {
                            self.idle.lock().push((fresh, Instant::now()));
                            Ok(value)
                        }
                        Err(error) => Err(self.call_failure(op, &error)),
                    };
                }
                Err(self.call_failure(op, &error))
            }
            Err(error) => {
                self.idle.lock().push((connection, Instant::now()));
                Err(self.call_failure(op, &error))
            }
        }
    }

    /// Runs `call` on an idle connection only, never opening one (used while
    /// disconnecting, which must not wait for a server that is gone).
    pub fn run_if_connected<T>(&self, call: impl FnOnce(&mut Connection) -> RedisResult<T>) -> Option<T> {
        let _held = Held::new();
        let (mut connection, _) = self.idle.lock().pop()?;
        let result = call(&mut connection).ok();
        if result.is_some() {
            self.idle.lock().push((connection, Instant::now()));
        }
        result
    }

    /// Drops every idle connection (the table was disconnected).
    pub fn drop_idle(&self) {
        self.idle.lock().clear();
    }

    /// Library text with the password (should it ever appear) blanked out.
    pub fn scrub(&self, text: &str) -> String {
        match &self.secret {
            Some(secret) => text.replace(secret.as_str(), "***"),
            None => text.to_string(),
        }
    }

    fn describe(&self, error: &RedisError) -> String {
        self.scrub(&error.to_string())
    }

    fn connect_failure(&self, error: &RedisError) -> RemoteError {
        let code = error.code().unwrap_or("");
        let text = self.describe(error);
        if matches!(error.kind(), ErrorKind::AuthenticationFailed) || code == "WRONGPASS" || code == "NOAUTH" || text.contains("WRONGPASS") || text.contains("NOAUTH") {
            return RemoteError::AuthenticationFailed(format!(
                "The Redis server at {} refused the credentials: wrong password or user name, or the server requires a password and none was given. Pass them with -Credential. (Server said: {text})",
                self.shown
            ));
        }
        if text.contains("without any password configured") {
            return RemoteError::AuthenticationFailed(format!(
                "The Redis server at {} has no password set, but a password was given. Leave out -Credential (or the password in the address). (Server said: {text})",
                self.shown
            ));
        }
        if text.contains("DB index is out of range") || text.contains("invalid DB index") {
            return RemoteError::UnknownDatabase(format!(
                "The Redis server at {} has no database of that number (it has 16 unless configured otherwise: /0 to /15). (Server said: {text})",
                self.shown
            ));
        }
        if error.is_timeout() {
            return RemoteError::Unreachable(format!(
                "No Redis server answered at {} within {} s. Check the host and port, and that the server is running and reachable.",
                self.shown,
                CONNECT_TIMEOUT.as_secs()
            ));
        }
        RemoteError::Unreachable(format!(
            "Could not connect to the Redis server at {}: {text}. Check that redis-server is running there (redis-server --port {}).",
            self.shown,
            self.shown.rsplit(':').next().and_then(|p| p.split('/').next()).unwrap_or("6379")
        ))
    }

    /// A retried call whose answer cannot tell what its first attempt (sent
    /// on a connection that broke before the reply came) did; `unknown` says what.
    pub fn outcome_unknown(&self, what: &str, unknown: &str) -> RemoteError {
        RemoteError::OutcomeUnknown(format!(
            "{what}: SyncPool lost the connection to the Redis server at {} and sent the call again, so {unknown} is unknown. Read the value before trying again; later calls reconnect by themselves.",
            self.shown
        ))
    }

    /// How a broken or stuck connection failed, for messages.
    fn how(error: &RedisError, text: &str) -> String {
        if error.is_timeout() { format!("got no reply within {} s", REPLY_TIMEOUT.as_secs()) } else { format!("lost the connection ({text})") }
    }

    /// A call that failed before it was sent: nothing changed.
    fn unsent_failure(&self, op: Op<'_>, error: &RedisError) -> RemoteError {
        let how = Self::how(error, &self.describe(error));
        RemoteError::ConnectionLost(format!(
            "{} failed: SyncPool {how} to the Redis server at {} before sending it. Nothing was changed; later calls reconnect by themselves.",
            op.what, self.shown
        ))
    }

    fn call_failure(&self, op: Op<'_>, error: &RedisError) -> RemoteError {
        let text = self.describe(error);
        if broken(error) {
            let how = Self::how(error, &text);
            return match op.effect {
                Effect::Reads => RemoteError::ConnectionLost(format!(
                    "{} failed: SyncPool {how} to the Redis server at {}. Nothing was changed; later calls reconnect by themselves.",
                    op.what, self.shown
                )),
                Effect::RepeatableWrite => RemoteError::OutcomeUnknown(format!(
                    "{} may or may not have been applied: SyncPool {how} to the Redis server at {} after sending it. Doing it again is safe; later calls reconnect by themselves.",
                    op.what, self.shown
                )),
                Effect::Write => RemoteError::OutcomeUnknown(format!(
                    "{} may or may not have been applied: SyncPool {how} to the Redis server at {} after sending it, so its outcome is unknown. Read the value before trying again; later calls reconnect by themselves.",
                    op.what, self.shown
                )),
            };
        }
        if error.code() == Some("NOAUTH") || error.code() == Some("WRONGPASS") {
            return RemoteError::AuthenticationFailed(format!("{} failed: the Redis server at {} asked for a password ({text}). Pass it with -Credential.", op.what, self.shown));
        }
        RemoteError::Server(format!("{} failed: the Redis server at {} answered with an error: {text}", op.what, self.shown))
    }
}

/// Whether `error` means the connection itself is unusable.
fn broken(error: &RedisError) -> bool {
    error.is_io_error() || error.is_connection_dropped() || error.is_timeout() || error.is_unrecoverable_error()
}
