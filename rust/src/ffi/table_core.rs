//! `TableCore`: the [`Store`] as a C ABI service (C#'s `SyncTable` wraps it).
//!
//! Each method converts its arguments, calls the store, converts the result;
//! all decisions (atomicity, versions, case rules, waits, the end of a
//! table's life) stay in the store.
//!
//! # A removed table
//! `close` (Remove-SyncTable) empties the store and marks it closed; the
//! native object itself lives on until C#'s garbage collector frees it, so a
//! call that races with the removal, or comes after it, never reaches freed
//! memory. Every method first refuses a closed table with
//! [`ErrorCode::Disposed`]: a removed table must never answer like an empty
//! one. (That one check replaces a reference count C# used to take around
//! every call.)
//!
//! # Arguments by reference
//! Keys, values and results pass by reference: the generated C# then has an
//! overload taking plain pointers, which crosses with no marshalling at all
//! (by value, every struct went through generated copy-converters, which
//! cost more than the table operation itself). Calls that hand a value back
//! take a `buffer` the caller lends for text and bytes and fill a flat
//! [`ValueRead`] in place; see [`values`](crate::ffi::values).

use crate::cancel::Cancel;
use crate::data::document::{self, DocumentError};
use crate::data::{Data, wire};
use crate::ffi::batch;
use crate::ffi::cancel;
use crate::ffi::fault::{ErrorCode, Fault, guard, install_panic_hook};
use crate::ffi::values::{AddedRead, EntryOut, KeyIn, KeyOut, LentBuffer, LentBytes, ValueIn, ValueKind, ValueRead};
use crate::ffi::remote_calls;
use crate::remote::RemoteStore;
use crate::table::{Key, KeyRef, Store, Swap, TableError, Waited};
use interoptopus::ffi;
use std::time::Duration;

/// A concurrent key/value table owned by one C# `SyncTable`: in this
/// process, or on a Redis server. C# calls the same methods either way.
#[ffi(service)]
pub struct TableCore {
    backend: Backend,
}

/// The two stores of the one table model. Each method picks its store with
/// one well-predicted branch; the Redis arms live in [`remote_calls`](super::remote_calls),
/// out of line, so the in-process calls stay as they were.
enum Backend {
    Local(Store),
    Remote(RemoteStore),
}

/// The store of an open table.
enum Open<'a> {
    Local(&'a Store),
    Remote(&'a RemoteStore),
}

/// Two entries of a batch that are one key (see [`TableCore::first_duplicate_key`]).
#[ffi]
#[derive(Clone, Copy)]
pub struct DuplicateKeys {
    pub first: u64,
    pub second: u64,
    pub found: ffi::Bool,
}

/// How a Redis table is opened (New-SyncTable -Redis).
#[ffi]
pub struct RedisOptionsIn<'a> {
    /// `redis://host:port/db`, possibly with user and password.
    pub address: ffi::Slice<'a, u8>,
    pub name: ffi::Slice<'a, u8>,
    /// Replace the URI's user and password when `has_credential`.
    pub user: ffi::Slice<'a, u8>,
    pub password: ffi::Slice<'a, u8>,
    pub has_credential: ffi::Bool,
    pub case_sensitive: ffi::Bool,
    /// 0: the default (30 s).
    pub lock_expiry_ms: u64,
}

impl From<TableError> for Fault {
    fn from(error: TableError) -> Self {
        let code = match error {
            TableError::NotNumeric { .. } | TableError::DeltaNotNumeric(_) => ErrorCode::NotNumeric,
            TableError::Overflow { .. } => ErrorCode::Overflow,
            TableError::NotLockOwner { .. } => ErrorCode::NotLockOwner,
        };
        Fault::new(code, error.to_string())
    }
}

impl From<DocumentError> for Fault {
    fn from(error: DocumentError) -> Self {
        let code = match error {
            DocumentError::BadFormat(_) => ErrorCode::BadFormat,
            DocumentError::Unsavable(_) => ErrorCode::NotSerializable,
        };
        Fault::new(code, error.to_string())
    }
}

fn swapped(swap: Swap) -> ffi::Bool {
    ffi::Bool::from(matches!(swap, Swap::Swapped { .. }))
}

/// A timeout in milliseconds from C#; `u64::MAX` waits without a deadline
/// (the store treats a timeout too large to represent as "forever").
fn timeout(ms: u64) -> Duration {
    if ms == u64::MAX { Duration::MAX } else { Duration::from_millis(ms) }
}

/// Longest text or byte value [`TableCore::put_plain`] writes: it copies and
/// checks the value while the calling .NET thread cannot stop for a
/// collection, which other threads may be waiting for.
pub const PLAIN_BYTES_MAX: u64 = 4096;

/// An increment of an in-process table, shared by `increment` and
/// `increment_plain` and inlined into both exports.
#[inline(always)]
fn increment_locally(store: &Store, key: &KeyIn, delta: &ValueIn, result: &mut ValueRead) -> Result<(), Fault> {
    let Some(delta) = delta.to_scalar() else {
        // Text, bytes, an object (or serialized data, only a Redis table's)
        // never count as a number: refused without copying the text, which
        // `increment_plain` would do with the GC waiting, or adopting the
        // object (C# forgets its registration when the call fails). A bad
        // key is still reported first.
        key.key_ref()?;
        return Err(TableError::DeltaNotNumeric(delta.kind.type_name()).into());
    };
    let sum = store.increment_scalar(key.key_ref()?, delta)?;
    result.set(sum.as_value_ref(), 0, &mut []);
    Ok(())
}

impl TableCore {
    /// The store, unless the table was closed.
    #[inline]
    fn open(&self) -> Result<Open<'_>, Fault> {
        match &self.backend {
            Backend::Local(store) if !store.is_closed() => Ok(Open::Local(store)),
            Backend::Remote(remote) if !remote.is_closed() => Ok(Open::Remote(remote)),
            Backend::Local(_) => Err(Fault::new(
                ErrorCode::Disposed,
                "This SyncTable has been removed (Remove-SyncTable); its data is gone. Create a new table with New-SyncTable.",
            )),
            Backend::Remote(remote) => Err(remote_calls::disconnected(remote)),
        }
    }

    /// Whether keys compare ordinally.
    fn case_sensitive_now(&self) -> Result<bool, Fault> {
        Ok(match self.open()? {
            Open::Local(store) => store.case_sensitive(),
            Open::Remote(remote) => remote.case_sensitive(),
        })
    }

    /// Maps how a wait ended onto the C ABI: `Ok(Some)` ready, `Ok(None)` timed out.
    fn waited<T>(&self, waited: Waited<T>) -> Result<Option<T>, Fault> {
        match waited {
            Waited::Ready(value) => Ok(Some(value)),
            Waited::TimedOut => Ok(None),
            Waited::Cancelled => Err(Fault::new(ErrorCode::Cancelled, "The wait was cancelled.")),
            Waited::Closed => self.open().map(|_| None),
        }
    }
}

#[ffi]
impl TableCore {
    /// Creates an empty table; keys compare like .NET OrdinalIgnoreCase unless `case_sensitive`.
    pub fn create(case_sensitive: ffi::Bool) -> ffi::Result<Self, ErrorCode> {
        install_panic_hook();
        guard(|| Ok(Self { backend: Backend::Local(Store::new(case_sensitive.is())) }))
    }

    /// Opens (creating if new) the table `name` on a Redis server. Fails
    /// within about 5 s, naming the address (never the password), when no
    /// server answers, the credentials are refused or the address is bad.
    pub fn open_redis(options: RedisOptionsIn) -> ffi::Result<Self, ErrorCode> {
        install_panic_hook();
        guard(|| Ok(Self { backend: Backend::Remote(remote_calls::open(&options)?) }))
    }

    /// Where the table lives: empty for this process, else the Redis address without user or password.
    pub fn location(&self) -> ffi::Result<ffi::String, ErrorCode> {
        guard(|| {
            Ok(ffi::String::from_string(match &self.backend {
                Backend::Local(_) => String::new(),
                Backend::Remote(remote) => remote.address().to_string(),
            }))
        })
    }

    /// Deletes a Redis table's data from the server, then disconnects (Remove-SyncTable -DeleteData).
    /// For an in-process table the same as `close`.
    pub fn delete_data(&self) -> ffi::Result<(), ErrorCode> {
        guard(|| match &self.backend {
            Backend::Local(store) => {
                store.close();
                Ok(())
            }
            Backend::Remote(remote) => {
                if remote.is_closed() {
                    return Err(remote_calls::disconnected(remote));
                }
                remote.delete_data().map_err(Fault::from)
            }
        })
    }

    /// Removes the table for good (Remove-SyncTable): empties it, ends every
    /// wait on it, and makes every later call fail with `Disposed`. Idempotent.
    pub fn close(&self) -> ffi::Result<(), ErrorCode> {
        guard(|| {
            match &self.backend {
                Backend::Local(store) => store.close(),
                Backend::Remote(remote) => remote.close(),
            }
            Ok(())
        })
    }

    pub fn is_closed(&self) -> ffi::Result<ffi::Bool, ErrorCode> {
        guard(|| {
            Ok(match &self.backend {
                Backend::Local(store) => store.is_closed(),
                Backend::Remote(remote) => remote.is_closed(),
            }
            .into())
        })
    }

    pub fn count(&self) -> ffi::Result<u64, ErrorCode> {
        guard(|| match self.open()? {
            Open::Local(store) => Ok(store.len() as u64),
            Open::Remote(remote) => Ok(remote.count()?),
        })
    }

    pub fn is_case_sensitive(&self) -> ffi::Result<ffi::Bool, ErrorCode> {
        guard(|| Ok(self.case_sensitive_now()?.into()))
    }

    /// The value under `key` with its version (`found` false when absent);
    /// text and bytes go into `buffer`. The common read: one call, no
    /// allocation on either side for scalars and short text.
    /// Inlined into its export (see `increment`).
    #[inline(always)]
    pub fn read(&self, key: &KeyIn, buffer: &mut LentBuffer, result: &mut ValueRead) -> ffi::Result<(), ErrorCode> {
        guard(|| {
            let buffer = buffer.as_mut_slice();
            match self.open()? {
                Open::Local(store) => {
                    // A scalar is copied out under the shard's read lock and
                    // written to `result` after the lock is released, so the
                    // unlock (an atomic instruction) need not wait for those
                    // stores to drain; text and bytes are copied, and an
                    // object leased, under the lock.
                    let scalar = store.view(key.key_ref()?, |value, version| match value.to_scalar() {
                        Some(scalar) => Some((scalar, version)),
                        None => {
                            result.set(value, version, buffer);
                            None
                        }
                    });
                    match scalar {
                        None => result.set_absent(),
                        Some(Some((scalar, version))) => result.set_scalar_value(scalar, version),
                        Some(None) => {}
                    }
                    Ok(())
                }
                Open::Remote(remote) => remote_calls::read(remote, key, buffer, result),
            }
        })
    }

    pub fn contains(&self, key: &KeyIn) -> ffi::Result<ffi::Bool, ErrorCode> {
        guard(|| match self.open()? {
            Open::Local(store) => Ok(store.contains(key.key_ref()?).into()),
            Open::Remote(remote) => Ok(remote.contains(key.key_ref()?)?.into()),
        })
    }

    /// Stores `val` under `key`; returns the version of this write.
    pub fn put(&self, key: &KeyIn, val: &ValueIn) -> ffi::Result<u64, ErrorCode> {
        guard(|| match self.open()? {
            Open::Local(store) => {
                let val = val.to_value()?;
                let key = key.key_ref()?;
                Ok(store.set(key, val))
            }
            Open::Remote(remote) => remote_calls::put(remote, key, val),
        })
    }

    /// [`put`](Self::put) for an in-process table, made so that it never runs
    /// .NET code and never takes long (module/Table/DirectCalls.cs calls it
    /// without a GC transition, and a collection waits for such a call). It
    /// writes nothing and answers 0, no version, for what would break either:
    /// a value that is a live object or longer than [`PLAIN_BYTES_MAX`]
    /// (refused before it is adopted), or a key that holds a live object
    /// (whose release calls into .NET). The caller then writes with `put`.
    /// Inlined into its export, so the result is written once, not copied
    /// from a callee's frame in pieces.
    #[inline(always)]
    pub fn put_plain(&self, key: &KeyIn, val: &ValueIn) -> ffi::Result<u64, ErrorCode> {
        guard(|| match self.open()? {
            Open::Local(store) => {
                if let Some(scalar) = val.to_scalar() {
                    return Ok(store.set_scalar_unless_object(key.key_ref()?, scalar).unwrap_or(0));
                }
                if val.kind == ValueKind::Object || val.bytes.len > PLAIN_BYTES_MAX {
                    return Ok(0);
                }
                let val = val.to_value()?;
                let key = key.key_ref()?;
                Ok(store.set_unless_object(key, val).unwrap_or(0))
            }
            Open::Remote(_) => Err(Fault::invalid("put_plain is for in-process tables.")),
        })
    }

    /// Stores a batch of entries (Import-SyncTable into a Redis table): one
    /// round trip per thousand entries instead of one per entry. The batch
    /// layout is `remote_calls::batch_entries`'. Returns how many were stored.
    /// An in-process table is written entry by entry by C# and never calls this.
    pub fn put_many(&self, batch: &LentBytes) -> ffi::Result<u64, ErrorCode> {
        guard(|| match self.open()? {
            Open::Local(_) => Err(Fault::invalid("put_many is for tables on a Redis server.")),
            Open::Remote(remote) => remote_calls::put_many(remote, batch.as_slice()),
        })
    }

    /// Removes `key`; returns the value it had (`found` false if it was absent).
    pub fn delete(&self, key: &KeyIn, buffer: &mut LentBuffer, result: &mut ValueRead) -> ffi::Result<(), ErrorCode> {
        guard(|| {
            let store = match self.open()? {
                Open::Local(store) => store,
                Open::Remote(remote) => return remote_calls::delete(remote, key, buffer.as_mut_slice(), result),
            };
            let removed = store.remove(key.key_ref()?);
            match removed {
                Some(entry) => result.set_owned(entry.value, entry.version, buffer.as_mut_slice()),
                None => result.set_absent(),
            }
            Ok(())
        })
    }

    pub fn clear(&self) -> ffi::Result<(), ErrorCode> {
        guard(|| match self.open()? {
            Open::Local(store) => {
                store.clear();
                Ok(())
            }
            Open::Remote(remote) => Ok(remote.clear()?),
        })
    }

    /// Adds `delta` (int or double) to the number under `key` atomically; returns the new value.
    /// Inlined into its export with the store's increment, so the sum is not
    /// copied out of a callee's frame in pieces (a reload that stalled).
    #[inline(always)]
    pub fn increment(&self, key: &KeyIn, delta: &ValueIn, result: &mut ValueRead) -> ffi::Result<(), ErrorCode> {
        guard(|| {
            match self.open()? {
                Open::Local(store) => increment_locally(store, key, delta, result),
                Open::Remote(remote) => remote_calls::increment(remote, key, delta, result),
            }
        })
    }

    /// [`increment`](Self::increment) for an in-process table, made so that it
    /// never runs .NET code (module/Table/DirectCalls.cs calls it without a
    /// GC transition): a delta that is a live object is refused before it is
    /// adopted (refusing it after adopting would drop it, and its release
    /// calls into .NET), answering false with nothing changed; the caller
    /// then calls `increment`, which reports the bad delta. Any other delta
    /// is the store's to accept or refuse: numbers, texts and the rest are
    /// plain Rust values, and the store's increment releases no object (the
    /// value it replaces is a number). Inlined into its export like `increment`.
    #[inline(always)]
    pub fn increment_plain(&self, key: &KeyIn, delta: &ValueIn, result: &mut ValueRead) -> ffi::Result<ffi::Bool, ErrorCode> {
        guard(|| match self.open()? {
            Open::Local(store) => {
                if delta.kind == ValueKind::Object {
                    return Ok(false.into());
                }
                increment_locally(store, key, delta, result)?;
                Ok(true.into())
            }
            Open::Remote(_) => Err(Fault::invalid("increment_plain is for in-process tables.")),
        })
    }

    /// Replaces the value only if it currently equals `expected`; true if it did.
    pub fn compare_exchange(&self, key: &KeyIn, expected: &ValueIn, replacement: &ValueIn) -> ffi::Result<ffi::Bool, ErrorCode> {
        guard(|| {
            let store = match self.open()? {
                Open::Local(store) => store,
                Open::Remote(remote) => return remote_calls::compare_exchange(remote, key, expected, replacement),
            };
            let expected = expected.to_value()?;
            let replacement = replacement.to_value()?;
            let key = key.key_ref()?;
            Ok(swapped(store.compare_exchange(key, &expected, replacement)))
        })
    }

    /// Returns the value under `key`, adding `val` first if the key is absent.
    pub fn get_or_add(&self, key: &KeyIn, val: &ValueIn, buffer: &mut LentBuffer, result: &mut AddedRead) -> ffi::Result<(), ErrorCode> {
        guard(|| {
            let store = match self.open()? {
                Open::Local(store) => store,
                Open::Remote(remote) => return remote_calls::get_or_add(remote, key, val, buffer.as_mut_slice(), result),
            };
            let val = val.to_value()?;
            let key = key.key_ref()?;
            let (entry, added) = store.get_or_add(key, val);
            result.stored.set_owned(entry.value, entry.version, buffer.as_mut_slice());
            result.added = added.into();
            Ok(())
        })
    }

    /// Optimistic write: succeeds only if the key is still at `expected_version`
    /// (or still absent when `expect_absent`). The basis of Update's retry loop.
    pub fn replace_if_version(&self, key: &KeyIn, expect_absent: ffi::Bool, expected_version: u64, val: &ValueIn) -> ffi::Result<ffi::Bool, ErrorCode> {
        guard(|| {
            let expected = if expect_absent.is() { None } else { Some(expected_version) };
            let store = match self.open()? {
                Open::Local(store) => store,
                Open::Remote(remote) => return remote_calls::replace_if_version(remote, key, expected, val),
            };
            let val = val.to_value()?;
            let key = key.key_ref()?;
            Ok(swapped(store.replace_if_version(key, expected, val)))
        })
    }

    /// Blocks until `key` exists (or, with `has_after`, until its version
    /// exceeds `after_version`), up to `timeout_ms` (`u64::MAX`: no limit).
    /// One wait, woken by the write, by signal `cancel` (a number from
    /// `syncpool_cancel_create`; 0 = not cancellable: fails with `Cancelled`)
    /// or by the table's removal (fails with `Disposed`). `found` is false on
    /// timeout.
    #[allow(clippy::too_many_arguments)]
    pub fn wait_for(&self, key: &KeyIn, has_after: ffi::Bool, after_version: u64, timeout_ms: u64, cancel: u64, buffer: &mut LentBuffer, result: &mut ValueRead) -> ffi::Result<(), ErrorCode> {
        guard(|| {
            let after = if has_after.is() { Some(after_version) } else { None };
            let signal: Option<Cancel> = cancel::lookup(cancel);
            let store = match self.open()? {
                Open::Local(store) => store,
                Open::Remote(remote) => {
                    let waited = remote.wait_for(key.key_ref()?, after, timeout(timeout_ms), signal.as_ref())?;
                    match self.waited(waited)? {
                        Some((value, version)) => remote_calls::set_read(&value, version, buffer.as_mut_slice(), result)?,
                        None => result.set_absent(),
                    }
                    return Ok(());
                }
            };
            let key = key.key_ref()?;
            let waited = store.wait_for(key, after, timeout(timeout_ms), signal.as_ref());
            match self.waited(waited)? {
                Some(entry) => result.set_owned(entry.value, entry.version, buffer.as_mut_slice()),
                None => result.set_absent(),
            }
            Ok(())
        })
    }

    /// A copy of every entry; safe while other threads write.
    pub fn snapshot(&self) -> ffi::Result<ffi::Vec<EntryOut>, ErrorCode> {
        guard(|| match self.open()? {
            Open::Local(store) => Ok(ffi::Vec::from_vec(store.snapshot().into_iter().map(EntryOut::from).collect())),
            Open::Remote(remote) => remote_calls::snapshot(remote),
        })
    }

    pub fn key_list(&self) -> ffi::Result<ffi::Vec<KeyOut>, ErrorCode> {
        guard(|| {
            let keys = match self.open()? {
                Open::Local(store) => store.keys(),
                Open::Remote(remote) => remote.keys()?,
            };
            Ok(ffi::Vec::from_vec(keys.into_iter().map(KeyOut::from).collect()))
        })
    }

    /// Enters the critical section of `key` for `owner`, waiting up to
    /// `timeout_ms` (`u64::MAX`: no limit); false on timeout. Cancelled and
    /// removed as for `wait_for`.
    pub fn lock_key(&self, key: &KeyIn, owner: u64, timeout_ms: u64, cancel: u64) -> ffi::Result<ffi::Bool, ErrorCode> {
        guard(|| {
            let signal: Option<Cancel> = cancel::lookup(cancel);
            let waited = match self.open()? {
                Open::Local(store) => store.lock_key(key.key_ref()?, owner, timeout(timeout_ms), signal.as_ref()),
                Open::Remote(remote) => remote.lock_key(key.key_ref()?, owner, timeout(timeout_ms), signal.as_ref())?,
            };
            Ok(self.waited(waited)?.is_some().into())
        })
    }

    pub fn unlock_key(&self, key: &KeyIn, owner: u64) -> ffi::Result<(), ErrorCode> {
        guard(|| match self.open()? {
            Open::Local(store) => Ok(store.unlock_key(key.key_ref()?, owner)?),
            Open::Remote(remote) => Ok(remote.unlock_key(key.key_ref()?, owner)?),
        })
    }

    pub fn unlock_all(&self, owner: u64) -> ffi::Result<(), ErrorCode> {
        guard(|| {
            match self.open()? {
                Open::Local(store) => store.unlock_all(owner),
                Open::Remote(remote) => remote.unlock_all(owner),
            }
            Ok(())
        })
    }

    /// The JSON document (Export-SyncTable) for `entries`: data wire bytes
    /// (see [`wire`]) C# made from a snapshot of this table, every live
    /// object turned into data or marked as not data. Refuses, naming every
    /// key, entries that hold anything that is not data.
    pub fn write_document(&self, entries: &LentBytes) -> ffi::Result<ffi::String, ErrorCode> {
        guard(|| {
            let case_sensitive = self.case_sensitive_now()?;
            let entries = wire::decode_entries(entries.as_slice()).map_err(|why| Fault::invalid(format!("The table's data could not be read: {why}")))?;
            Ok(ffi::String::from_string(document::write(&entries, case_sensitive)?))
        })
    }

    /// The entries of a JSON document or plain JSON object (Import-SyncTable)
    /// as data wire bytes, checked completely: a bad file, or two keys this
    /// table would treat as one, is an error before anything is loaded.
    /// The first two keys of `batch` (a batch of keys, see [`batch`](super::batch))
    /// that are one key in this table (`found` false when there are none):
    /// New-SyncTable -InitialValue refuses them before writing anything, by
    /// the table's own rule for keys.
    pub fn first_duplicate_key(&self, batch: &LentBytes) -> ffi::Result<DuplicateKeys, ErrorCode> {
        guard(|| {
            let store = Store::new(self.case_sensitive_now()?);
            let keys = batch::keys(batch.as_slice())?;
            Ok(match store.first_duplicate(keys) {
                Some((first, second)) => DuplicateKeys { first: first as u64, second: second as u64, found: true.into() },
                None => DuplicateKeys { first: 0, second: 0, found: false.into() },
            })
        })
    }

    pub fn read_document(&self, text: &LentBytes) -> ffi::Result<ffi::Vec<u8>, ErrorCode> {
        guard(|| {
            let case_sensitive = self.case_sensitive_now()?;
            // Duplicate keys are found by the rules of this table's store; a Redis
            // table compares exactly like an in-process one.
            let store = Store::new(case_sensitive);
            let text = std::str::from_utf8(text.as_slice()).map_err(|_| Fault::new(ErrorCode::BadFormat, "The file is not UTF-8 text."))?;
            let entries = document::read(text)?;
            let keys: Vec<Key> = entries
                .iter()
                .map(|(key, _)| match key {
                    Data::Text(text) => Key::Text(text.clone()),
                    Data::Integer(_, n) => Key::Int(*n as i64),
                    _ => Key::Text(String::new()),
                })
                .collect();
            if let Some((first, second)) = store.first_duplicate(keys.iter().map(KeyRef::from)) {
                let how = if store.case_sensitive() { "" } else { " (this table ignores case)" };
                return Err(Fault::new(
                    ErrorCode::BadFormat,
                    format!("The data is not a valid SyncPool table export: entries {first} and {second} are the same key '{}'{how}", keys[second]),
                ));
            }
            Ok(ffi::Vec::from_vec(wire::encode_entries(&entries)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::values::{KeyKind, LentBytes, ValueKind};

    fn table() -> TableCore {
        match TableCore::create(false.into()) {
            ffi::Ok(core) => core,
            _ => panic!("create failed"),
        }
    }

    fn key(text: &str) -> KeyIn {
        KeyIn { kind: KeyKind::Text, number: 0, text: LentBytes { ptr: text.as_ptr(), len: text.len() as u64 } }
    }

    fn int(n: i64) -> ValueIn {
        ValueIn { kind: ValueKind::Int, number: n, real: 0.0, bytes: LentBytes { ptr: std::ptr::null(), len: 0 }, flag: 0 }
    }

    fn read(core: &TableCore, name: &str) -> ffi::Result<ValueRead, ErrorCode> {
        let mut buffer = [0u8; 16];
        let mut lent = LentBuffer { ptr: buffer.as_mut_ptr(), len: 16 };
        let mut result = ValueRead::default_for_tests();
        match core.read(&key(name), &mut lent, &mut result) {
            ffi::Ok(()) => ffi::Ok(result),
            ffi::Err(code) => ffi::Err(code),
            _ => panic!("unexpected result"),
        }
    }

    impl ValueRead {
        fn default_for_tests() -> Self {
            ValueRead { number: 0, real: 0.0, length: 0, parked: 0, lease: 0, version: 0, kind: ValueKind::Null, found: false.into(), flag: 0 }
        }
    }

    #[test]
    fn a_closed_table_refuses_every_call_instead_of_answering_empty() {
        let core = table();
        assert!(matches!(core.put(&key("a"), &int(1)), ffi::Ok(_)));
        assert!(matches!(read(&core, "A"), ffi::Ok(r) if r.found.is() && r.number == 1));
        assert!(matches!(core.close(), ffi::Ok(())));
        assert!(matches!(core.is_closed(), ffi::Ok(b) if b.is()));
        assert!(matches!(read(&core, "a"), ffi::Err(ErrorCode::Disposed)));
        assert!(matches!(core.count(), ffi::Err(ErrorCode::Disposed)));
        assert!(matches!(core.contains(&key("a")), ffi::Err(ErrorCode::Disposed)));
        assert!(matches!(core.put(&key("a"), &int(2)), ffi::Err(ErrorCode::Disposed)));
        assert!(matches!(core.snapshot(), ffi::Err(ErrorCode::Disposed)));
        assert!(matches!(core.close(), ffi::Ok(())), "closing twice is fine");
    }

    #[test]
    fn the_plain_calls_read_write_and_increment_every_kind_of_value() {
        use crate::ffi::fault::syncpool_last_error;
        let core = table();
        let text_value = |text: &'static str| ValueIn {
            kind: ValueKind::Text,
            number: 0,
            real: 0.0,
            bytes: LentBytes { ptr: text.as_ptr(), len: text.len() as u64 },
            flag: 0,
        };
        let double = ValueIn { kind: ValueKind::Double, real: 1.5, ..int(0) };
        let date = ValueIn { kind: ValueKind::DateTime, number: 42, flag: 2, ..int(0) };
        let yes = ValueIn { kind: ValueKind::Bool, number: 1, ..int(0) };
        let null = ValueIn { kind: ValueKind::Null, number: 9, real: 9.0, ..int(0) };
        let written = match core.put_plain(&key("b"), &yes) {
            ffi::Ok(version) => version,
            _ => panic!("a bool is written"),
        };
        assert!(matches!(read(&core, "b"), ffi::Ok(r) if r.found.is() && r.kind == ValueKind::Bool && r.number == 1 && r.version == written));
        assert!(matches!(core.put_plain(&key("n"), &null), ffi::Ok(v) if v > 0));
        assert!(matches!(read(&core, "n"), ffi::Ok(r) if r.found.is() && r.kind == ValueKind::Null && r.number == 0 && r.real == 0.0));
        // Scalars go through the scalar write; text through the general one.
        assert!(matches!(core.put_plain(&key("i"), &int(7)), ffi::Ok(v) if v > 0));
        assert!(matches!(core.put_plain(&key("d"), &double), ffi::Ok(v) if v > 0));
        assert!(matches!(core.put_plain(&key("t"), &date), ffi::Ok(v) if v > 0));
        assert!(matches!(core.put_plain(&key("s"), &text_value("hello")), ffi::Ok(v) if v > 0));
        assert!(matches!(read(&core, "I"), ffi::Ok(r) if r.found.is() && r.kind == ValueKind::Int && r.number == 7 && r.version > 0));
        assert!(matches!(read(&core, "d"), ffi::Ok(r) if r.kind == ValueKind::Double && r.real == 1.5));
        assert!(matches!(read(&core, "t"), ffi::Ok(r) if r.kind == ValueKind::DateTime && r.number == 42 && r.flag == 2));
        let mut buffer = [0u8; 16];
        let mut lent = LentBuffer { ptr: buffer.as_mut_ptr(), len: 16 };
        let mut result = ValueRead::default_for_tests();
        assert!(matches!(core.read(&key("S"), &mut lent, &mut result), ffi::Ok(())));
        assert!(result.found.is() && result.kind == ValueKind::Text && result.length == 5);
        assert_eq!(&buffer[..5], b"hello");
        assert!(matches!(read(&core, "absent"), ffi::Ok(r) if !r.found.is()));
        // Increments by a scalar delta, and the refusals they report.
        let mut sum = ValueRead::default_for_tests();
        assert!(matches!(core.increment_plain(&key("i"), &int(3), &mut sum), ffi::Ok(done) if done.is()));
        assert!(sum.kind == ValueKind::Int && sum.number == 10);
        assert!(matches!(core.increment_plain(&key("i"), &double, &mut sum), ffi::Ok(done) if done.is()));
        assert!(sum.kind == ValueKind::Double && sum.real == 11.5);
        assert!(matches!(core.increment_plain(&key("s"), &int(1), &mut sum), ffi::Err(ErrorCode::NotNumeric)));
        assert!(syncpool_last_error().as_str().contains("'s'"), "the error names the key");
        assert!(matches!(core.increment_plain(&key("i"), &date, &mut sum), ffi::Err(ErrorCode::NotNumeric)));
        assert!(syncpool_last_error().as_str().contains("DateTime"), "{}", syncpool_last_error().as_str());
        assert!(matches!(core.increment_plain(&key("i"), &text_value("1"), &mut sum), ffi::Err(ErrorCode::NotNumeric)));
        assert!(syncpool_last_error().as_str().contains("a string"), "{}", syncpool_last_error().as_str());
        assert!(matches!(read(&core, "i"), ffi::Ok(r) if r.kind == ValueKind::Double && r.real == 11.5), "refused increments change nothing");
        // A key that is not UTF-8 is refused with a message, on every path.
        let bad = [0xffu8, 0xfe];
        let bad_key = KeyIn { kind: KeyKind::Text, number: 0, text: LentBytes { ptr: bad.as_ptr(), len: 2 } };
        assert!(matches!(core.put_plain(&bad_key, &int(1)), ffi::Err(ErrorCode::InvalidArgument)));
        assert!(syncpool_last_error().as_str().contains("not valid text"));
        assert!(matches!(core.increment_plain(&bad_key, &int(1), &mut sum), ffi::Err(ErrorCode::InvalidArgument)));
        assert!(matches!(core.read(&bad_key, &mut lent, &mut result), ffi::Err(ErrorCode::InvalidArgument)));
    }

    #[test]
    fn a_cancel_signal_ends_a_native_wait() {
        let core = std::sync::Arc::new(table());
        let id = cancel::syncpool_cancel_create();
        let waiter = {
            let core = std::sync::Arc::clone(&core);
            std::thread::spawn(move || {
                let mut buffer = [0u8; 16];
                let mut lent = LentBuffer { ptr: buffer.as_mut_ptr(), len: 16 };
                let mut result = ValueRead::default_for_tests();
                let outcome = core.wait_for(&key("never"), false.into(), 0, u64::MAX, id, &mut lent, &mut result);
                matches!(outcome, ffi::Err(ErrorCode::Cancelled))
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        cancel::syncpool_cancel_signal(id);
        assert!(waiter.join().unwrap(), "the wait ends with Cancelled");
        cancel::syncpool_cancel_release(id);
    }
}
