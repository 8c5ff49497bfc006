//! A table on a Redis server (`New-SyncTable -Redis`): the second store
//! behind `TableCore`, next to the in-process [`Store`](crate::table::Store).
//!
//! Every process that opens the same name on the same server sees the same
//! table, with the same guarantees as in one process: each compound
//! operation is one Lua script (see [`scripts`]), so it is atomic on the
//! server; versions come from one clock per table; waits are woken by
//! pub/sub ([`changes`]); key locks are Redis keys with an expiry, renewed
//! while their holder runs, so a killed process cannot hold one for ever and
//! a live one does not lose it ([`locks`]).
//!
//! # Layout on the server
//! For a table named `n` (folded as .NET OrdinalIgnoreCase folds it, ASCII in lower case: PowerShell names ignore case), every
//! key starts with `syncpool:{n}:` (the braces keep them in one cluster
//! slot): `d` the data hash, `v` versions, `s` spellings (see
//! [`encoding`]), `c` the clock, `i` how the table compares keys, `l:<field>`
//! the lock of one key; channels `k:<field>` for writes to a key, `u:<field>`
//! for the release of its lock, `all` for Clear and deletion, and `ctl:<id>`
//! for each open table's own listener (see [`changes`]).

pub mod address;
pub mod changes;
pub mod connections;
pub mod encoding;
pub mod error;
mod locks;
pub mod scripts;
mod signals;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::{Connection, RedisResult, Script};

use crate::cancel::Cancel;
use crate::table::{Key, KeyRef, Waited};
use address::Address;
use changes::{Changes, Check};
use locks::Locks;
use connections::{Connections, Effect, Op};
use encoding::Remote;
pub use error::RemoteError;

/// How long a key lock lasts unless its holder releases it first.
pub const DEFAULT_LOCK_EXPIRY: Duration = Duration::from_secs(30);

/// An entry as read from the server: its key, encoded value and version.
pub struct RemoteEntry {
    pub key: Key,
    pub value: Vec<u8>,
    pub version: u64,
}

/// The result of an increment: an integer or a double.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sum {
    Int(i64),
    Double(f64),
}

/// The delta of an increment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delta {
    Int(i64),
    Double(f64),
}

/// How to open a Redis table.
pub struct RemoteOptions {
    pub address: Address,
    pub name: String,
    pub case_sensitive: bool,
    pub lock_expiry: Duration,
}

struct Names {
    data: String,
    versions: String,
    spellings: String,
    clock: String,
    info: String,
    /// Key channels: this prefix followed by the field.
    key_channels: String,
    /// Lock release channels: this prefix followed by the field.
    unlock_channels: String,
    all_channel: String,
    lock_prefix: String,
}

pub struct RemoteStore {
    shown: String,
    name: String,
    case_sensitive: bool,
    names: Names,
    connections: Arc<Connections>,
    changes: Arc<Changes>,
    locks: Arc<Locks>,
    closed: AtomicBool,
}

/// Numbers lock tokens of this process apart from those of other stores in it.
static NEXT_STORE: AtomicU64 = AtomicU64::new(1);

impl RemoteStore {
    /// Connects and attaches to (or creates) table `name`. Fails within
    /// about [`connections::CONNECT_TIMEOUT`] when no server answers.
    pub fn open(options: RemoteOptions) -> Result<RemoteStore, RemoteError> {
        let RemoteOptions { address, name, case_sensitive, lock_expiry } = options;
        if name.trim().is_empty() {
            return Err(RemoteError::BadAddress("A table on a Redis server needs a name (New-SyncTable -Name Results -Redis ...).".into()));
        }
        // The name sits between braces in every key of the table; a brace in it
        // would let one table's keys start like another's (deleting table
        // `jobs` scans `syncpool:{jobs}:l:*`, which a table named
        // `jobs}:l:x` would match).
        if name.contains(['{', '}']) {
            return Err(RemoteError::BadAddress(format!(
                "A table on a Redis server cannot have '{{' or '}}' in its name ('{name}'): the name is kept between braces in the server's keys."
            )));
        }
        if lock_expiry.is_zero() {
            return Err(RemoteError::BadAddress("The lock expiry must be at least one millisecond.".into()));
        }
        let base = key_base(&name);
        let names = Names {
            data: format!("{base}d"),
            versions: format!("{base}v"),
            spellings: format!("{base}s"),
            clock: format!("{base}c"),
            info: format!("{base}i"),
            key_channels: format!("{base}k:"),
            unlock_channels: format!("{base}u:"),
            all_channel: format!("{base}all"),
            lock_prefix: format!("{base}l:"),
        };
        let connections = Arc::new(Connections::open(&address)?);
        let shown = connections.shown().to_string();
        let stored: Option<String> = connections.run(Op { what: "Opening the table", effect: Effect::RepeatableWrite }, |c| {
            scripts::ATTACH.key(&names.info).arg(if case_sensitive { "1" } else { "0" }).invoke(c)
        })?;
        let stored_sensitive = stored.as_deref() == Some("1");
        if stored_sensitive != case_sensitive {
            let how = if stored_sensitive { "case-sensitive keys; add -CaseSensitive" } else { "keys that ignore case; leave out -CaseSensitive" };
            return Err(RemoteError::BadAddress(format!("The SyncTable '{name}' on {shown} was created with {how} to open it.")));
        }
        let token_prefix = format!("{}-{}-{}", std::process::id(), NEXT_STORE.fetch_add(1, Ordering::Relaxed), nanos_now());
        let changes = Changes::new(names.all_channel.clone(), format!("{base}ctl:{token_prefix}"), shown.clone());
        Ok(RemoteStore {
            shown,
            name,
            case_sensitive,
            names,
            connections,
            changes,
            locks: Locks::new(lock_expiry, token_prefix),
            closed: AtomicBool::new(false),
        })
    }

    /// The password-free address, e.g. `redis://127.0.0.1:6379/0`.
    pub fn address(&self) -> &str {
        &self.shown
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn case_sensitive(&self) -> bool {
        self.case_sensitive
    }

    pub fn lock_expiry(&self) -> Duration {
        self.locks.expiry()
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Disconnects (the data stays on the server): ends every wait and refuses every later call.
    pub fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.changes.close();
        self.locks.close();
        // Locks this process still holds are released now, not left to
        // expire while other processes wait for them. Best effort, on a
        // connection already open (a server that is gone must not delay the
        // close): the locks expire by themselves, and the listener notices
        // the close within LISTENER_CHECK.
        for (field, held) in self.locks.take_all(None) {
            let _ = self.connections.run_if_connected(|c| self.give_back(c, &field, &held.lock, &held.token));
        }
        // Wake the listener thread blocked in its read, so it ends at once.
        let _ = self.connections.run_if_connected(|c| redis::cmd("PUBLISH").arg(self.changes.control()).arg("closed").query::<i64>(c));
        self.connections.drop_idle();
    }

    /// Deletes the table's data from the server, then disconnects.
    pub fn delete_data(&self) -> Result<(), RemoteError> {
        let what = format!("Deleting SyncTable '{}'", self.name);
        let names = &self.names;
        self.connections.run(Op { what: &what, effect: Effect::RepeatableWrite }, |c| {
            let mut locks: Vec<String> = Vec::new();
            let mut cursor: u64 = 0;
            loop {
                let (next, found): (u64, Vec<String>) =
                    redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(format!("{}*", glob_escape(&names.lock_prefix))).arg("COUNT").arg(1000).query(c)?;
                locks.extend(found);
                cursor = next;
                if cursor == 0 {
                    break;
                }
            }
            let mut del = redis::cmd("DEL");
            del.arg(&names.data).arg(&names.versions).arg(&names.spellings).arg(&names.clock).arg(&names.info);
            for lock in &locks {
                del.arg(lock);
            }
            del.query::<i64>(c)?;
            redis::cmd("PUBLISH").arg(&names.all_channel).arg("*").query::<i64>(c)
        })?;
        self.close();
        Ok(())
    }

    fn field(&self, key: KeyRef<'_>) -> Vec<u8> {
        encoding::field(key, self.case_sensitive)
    }

    fn entry_script<'s>(&self, script: &'s Script, field: &[u8]) -> redis::ScriptInvocation<'s> {
        let mut invocation = script.prepare_invoke();
        invocation
            .key(&self.names.data)
            .key(&self.names.versions)
            .key(&self.names.spellings)
            .key(&self.names.clock)
            .arg(field)
            .arg(&self.names.key_channels);
        invocation
    }

    fn run<T>(&self, what: &str, effect: Effect, call: impl FnMut(&mut Connection) -> RedisResult<T>) -> Result<T, RemoteError> {
        self.connections.run(Op { what, effect }, call)
    }

    pub fn count(&self) -> Result<u64, RemoteError> {
        self.run("Count", Effect::Reads, |c| redis::cmd("HLEN").arg(&self.names.data).query(c))
    }

    pub fn contains(&self, key: KeyRef<'_>) -> Result<bool, RemoteError> {
        let field = self.field(key);
        self.run(&format!("ContainsKey of key '{}'", shown_key(key)), Effect::Reads, |c| redis::cmd("HEXISTS").arg(&self.names.data).arg(&field).query(c))
    }

    /// The encoded value under `key` and its version.
    pub fn read(&self, key: KeyRef<'_>) -> Result<Option<(Vec<u8>, u64)>, RemoteError> {
        let field = self.field(key);
        self.read_field(&field, key)
    }

    fn read_field(&self, field: &[u8], key: KeyRef<'_>) -> Result<Option<(Vec<u8>, u64)>, RemoteError> {
        let (value, version): (Option<Vec<u8>>, Option<u64>) =
            self.run(&format!("Reading key '{}'", shown_key(key)), Effect::Reads, |c| self.entry_script(&scripts::READ, field).invoke(c))?;
        Ok(value.map(|v| (v, version.unwrap_or(0))))
    }

    /// Stores `value` (encoded); returns the version of the write.
    pub fn put(&self, key: KeyRef<'_>, value: &[u8]) -> Result<u64, RemoteError> {
        let field = self.field(key);
        let spelling = encoding::spelling(key, self.case_sensitive);
        // Writing the same value twice is harmless: a lost reply may be retried.
        self.run(&format!("Setting key '{}'", shown_key(key)), Effect::RepeatableWrite, |c| self.entry_script(&scripts::PUT, &field).arg(value).arg(spelling).invoke(c))
    }

    /// Stores many entries (key, encoded value): one script per thousand
    /// entries (see [`scripts::PUT_MANY`]), each batch one atomic step; the
    /// whole is not one (like a loop of puts, entries of a later batch are
    /// written after those of an earlier one).
    pub fn put_many(&self, entries: &[(KeyRef<'_>, Vec<u8>)]) -> Result<(), RemoteError> {
        const CHUNK: usize = 1000;
        for chunk in entries.chunks(CHUNK) {
            let mut invocation = scripts::PUT_MANY.prepare_invoke();
            invocation
                .key(&self.names.data)
                .key(&self.names.versions)
                .key(&self.names.spellings)
                .key(&self.names.clock)
                .arg(&self.names.all_channel);
            for (key, value) in chunk {
                invocation.arg(self.field(*key)).arg(value).arg(encoding::spelling(*key, self.case_sensitive));
            }
            // A lost reply is retried, as a loop of puts would retry each put.
            self.run("Writing entries", Effect::RepeatableWrite, |c| invocation.invoke::<i64>(c))?;
        }
        Ok(())
    }

    /// Removes `key`; returns what it held.
    pub fn delete(&self, key: KeyRef<'_>) -> Result<Option<(Vec<u8>, u64)>, RemoteError> {
        let field = self.field(key);
        let removed: Option<(Vec<u8>, u64)> = self.run(&format!("Remove of key '{}'", shown_key(key)), Effect::Write, |c| self.entry_script(&scripts::DELETE, &field).invoke(c))?;
        Ok(removed)
    }

    pub fn clear(&self) -> Result<(), RemoteError> {
        self.run("Clear", Effect::RepeatableWrite, |c| {
            scripts::CLEAR
                .key(&self.names.data)
                .key(&self.names.versions)
                .key(&self.names.spellings)
                .key(&self.names.clock)
                .arg("")
                .arg(&self.names.all_channel)
                .invoke::<i64>(c)
        })
        .map(|_| ())
    }

    pub fn increment(&self, key: KeyRef<'_>, delta: Delta) -> Result<Sum, RemoteError> {
        let field = self.field(key);
        let spelling = encoding::spelling(key, self.case_sensitive);
        let (kind, text) = match delta {
            Delta::Int(n) => ("i", n.to_string()),
            Delta::Double(x) => ("f", format!("{x:?}")),
        };
        let what = format!("Increment of key '{}'", shown_key(key));
        let reply: Vec<String> = self.run(&what, Effect::Write, |c| self.entry_script(&scripts::INCREMENT, &field).arg(kind).arg(&text).arg(spelling).invoke(c))?;
        match reply.first().map(String::as_str) {
            Some("i") => reply.get(1).and_then(|t| t.parse().ok()).map(Sum::Int).ok_or_else(|| self.odd(&what)),
            Some("f") => reply.get(1).and_then(|t| encoding::parse_double(t)).map(Sum::Double).ok_or_else(|| self.odd(&what)),
            Some("o") => Err(RemoteError::Overflow(format!("Increment of key '{}' by {text} would overflow a 64-bit integer; nothing was changed.", shown_key(key)))),
            Some("n") => {
                // Worded as the in-process table words it.
                let held = match reply.get(1).map(String::as_str) {
                    Some("s") => "a string",
                    Some("b") => "a boolean",
                    Some("n") => "$null",
                    Some("x") => "a byte array",
                    Some("d") => "a DateTime",
                    _ => "PowerShell data or a .NET object (a decimal, an array, a hashtable...)",
                };
                Err(RemoteError::NotNumeric(format!("Cannot increment key '{}': its value is {held}, not a number.", shown_key(key))))
            }
            _ => Err(self.odd(&what)),
        }
    }

    /// Replaces the value only if it equals `expected` (both encoded); true if it did.
    pub fn compare_exchange(&self, key: KeyRef<'_>, expected: &[u8], replacement: &[u8]) -> Result<bool, RemoteError> {
        let field = self.field(key);
        let spelling = encoding::spelling(key, self.case_sensitive);
        let swapped: i64 = self.run(&format!("CompareExchange of key '{}'", shown_key(key)), Effect::Write, |c| {
            self.entry_script(&scripts::COMPARE_EXCHANGE, &field).arg(expected).arg(replacement).arg(spelling).invoke(c)
        })?;
        Ok(swapped == 1)
    }

    /// The value now under `key` (adding `value` first if absent), its version, and whether this call added it.
    pub fn get_or_add(&self, key: KeyRef<'_>, value: &[u8]) -> Result<(Vec<u8>, u64, bool), RemoteError> {
        let field = self.field(key);
        let spelling = encoding::spelling(key, self.case_sensitive);
        // Retried on a fresh connection when a reused one was dead. A retry
        // that adds, or finds another value, answers for certain; one that
        // finds this very value cannot tell whether the first attempt added
        // it (its reply lost) or another caller did, and says so.
        let what = format!("GetOrAdd of key '{}'", shown_key(key));
        let mut attempts = 0;
        let (added, stored, version): (i64, Vec<u8>, u64) = self.run(&what, Effect::RepeatableWrite, |c| {
            attempts += 1;
            self.entry_script(&scripts::GET_OR_ADD, &field).arg(value).arg(spelling).invoke(c)
        })?;
        if attempts > 1 && added == 0 && stored == value {
            return Err(self.connections.outcome_unknown(&what, "whether it added the value"));
        }
        Ok((stored, version, added == 1))
    }

    /// Writes `value` only if the key is still at `expected_version` (`None`: still absent).
    pub fn replace_if_version(&self, key: KeyRef<'_>, expected_version: Option<u64>, value: &[u8]) -> Result<bool, RemoteError> {
        let field = self.field(key);
        let spelling = encoding::spelling(key, self.case_sensitive);
        let expected = expected_version.map(|v| v.to_string()).unwrap_or_default();
        let written: i64 = self.run(&format!("Update of key '{}'", shown_key(key)), Effect::Write, |c| {
            self.entry_script(&scripts::REPLACE_IF_VERSION, &field).arg(&expected).arg(value).arg(spelling).invoke(c)
        })?;
        Ok(written == 1)
    }

    /// Every entry, read in one atomic step (safe while other processes write).
    pub fn snapshot(&self) -> Result<Vec<RemoteEntry>, RemoteError> {
        type Hash = Vec<(Vec<u8>, Vec<u8>)>;
        let (data, versions, spellings): (Hash, HashMap<Vec<u8>, u64>, HashMap<Vec<u8>, Vec<u8>>) = self.run("Snapshot", Effect::Reads, |c| {
            redis::pipe()
                .atomic()
                .cmd("HGETALL")
                .arg(&self.names.data)
                .cmd("HGETALL")
                .arg(&self.names.versions)
                .cmd("HGETALL")
                .arg(&self.names.spellings)
                .query(c)
        })?;
        data.into_iter()
            .map(|(field, value)| {
                let key = encoding::key_of(&field, spellings.get(&field).map(Vec::as_slice)).map_err(RemoteError::Corrupt)?;
                Ok(RemoteEntry { key, version: versions.get(&field).copied().unwrap_or(0), value })
            })
            .collect()
    }

    pub fn keys(&self) -> Result<Vec<Key>, RemoteError> {
        let (fields, spellings): (Vec<Vec<u8>>, HashMap<Vec<u8>, Vec<u8>>) =
            self.run("Keys", Effect::Reads, |c| redis::pipe().atomic().cmd("HKEYS").arg(&self.names.data).cmd("HGETALL").arg(&self.names.spellings).query(c))?;
        fields.iter().map(|f| encoding::key_of(f, spellings.get(f).map(Vec::as_slice)).map_err(RemoteError::Corrupt)).collect()
    }

    /// Blocks until `key` exists (or its version exceeds `after`), woken by
    /// writes from any process; see [`Changes::wait`].
    pub fn wait_for(&self, key: KeyRef<'_>, after: Option<u64>, timeout: Duration, cancel: Option<&Cancel>) -> Result<Waited<(Vec<u8>, u64)>, RemoteError> {
        if self.is_closed() {
            return Ok(Waited::Closed);
        }
        let field = self.field(key);
        let client = self.connections.client();
        let channel = channel_of(&self.names.key_channels, &field);
        self.changes.wait(&client, channel, || self.poke(), deadline(timeout), cancel, || {
            Ok(match self.read_field(&field, key)? {
                Some((value, version)) if after.is_none_or(|a| version > a) => Check::Done((value, version)),
                _ => Check::Retry { until: None },
            })
        })
    }

    /// Wakes this table's listener so it subscribes to what waits now want.
    fn poke(&self) -> Result<(), RemoteError> {
        self.run("Waiting", Effect::Reads, |c| redis::cmd("PUBLISH").arg(self.changes.control()).arg("sync").query::<i64>(c)).map(|_| ())
    }

    fn lock_name(&self, field: &[u8]) -> Vec<u8> {
        let mut name = self.names.lock_prefix.as_bytes().to_vec();
        name.extend_from_slice(field);
        name
    }

    fn odd(&self, what: &str) -> RemoteError {
        RemoteError::Server(format!("{what} failed: the Redis server at {} gave a reply SyncPool did not expect.", self.shown))
    }
}

impl Drop for RemoteStore {
    fn drop(&mut self) {
        self.close();
    }
}

/// `syncpool:{<name>}:`, the start of every key of table `name`. Names
/// ignore case exactly as the process's registry of tables does (.NET's
/// OrdinalIgnoreCase): folded as keys are, so two names land on the same
/// keys if and only if .NET takes them for one (the Kelvin sign is not 'k';
/// Rust's to_lowercase would merge them). ASCII letters are then shown in
/// lower case (a fold never yields a lower-case ASCII letter, so this merges
/// nothing).
fn key_base(name: &str) -> String {
    let folded: String = name.chars().map(|c| crate::table::key::fold_char(c).to_ascii_lowercase()).collect();
    format!("syncpool:{{{folded}}}:")
}

fn channel_of(prefix: &str, field: &[u8]) -> Vec<u8> {
    let mut channel = prefix.as_bytes().to_vec();
    channel.extend_from_slice(field);
    channel
}

fn deadline(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

fn shown_key(key: KeyRef<'_>) -> String {
    match key {
        KeyRef::Text(t) => t.to_string(),
        KeyRef::Int(n) => n.to_string(),
    }
}

fn nanos_now() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

/// `text` with the glob characters SCAN MATCH knows escaped.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Encodes a value for the server (see [`encoding`]).
pub fn encode(value: Remote<'_>) -> Vec<u8> {
    encoding::encode(value)
}

#[cfg(test)]
mod tests {
    use super::key_base;

    #[test]
    fn names_dotnet_takes_for_one_share_their_keys() {
        // What .NET's OrdinalIgnoreCase says (checked in pwsh 7.6.9).
        assert_eq!(key_base("Results"), "syncpool:{results}:");
        assert_eq!(key_base("RESULTS"), key_base("results"));
        assert_eq!(key_base("\u{E4}bc"), key_base("\u{C4}BC"), "a and A with diaeresis are one");
        assert_ne!(key_base("\u{212A}elvin"), key_base("kelvin"), "the Kelvin sign is not k");
        assert_ne!(key_base("\u{17F}tats"), key_base("stats"), "the long s is not s");
        assert_ne!(key_base("Stra\u{DF}e"), key_base("STRASSE"));
    }
}
