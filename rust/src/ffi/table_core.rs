//! `TableCore`: the [`Store`] as a C ABI service (C#'s `SyncTable` wraps it).
//!
//! Each method converts its arguments, calls the store, converts the result;
//! all decisions (atomicity, versions, case rules, waits) stay in the store.

use crate::ffi::fault::{ErrorCode, Fault, guard, install_panic_hook};
use crate::ffi::values::{AddedOut, EntryOut, KeyIn, KeyOut, ValueIn, ValueOut, VersionedOut};
use crate::table::{Store, Swap, TableError};
use interoptopus::ffi;
use std::time::Duration;

/// A concurrent key/value table owned by one C# `SyncTable`.
#[ffi(service)]
pub struct TableCore {
    store: Store,
}

impl From<TableError> for Fault {
    fn from(error: TableError) -> Self {
        let code = match error {
            TableError::NotNumeric { .. } | TableError::DeltaNotNumeric(_) => ErrorCode::NotNumeric,
            TableError::Overflow { .. } => ErrorCode::Overflow,
            TableError::NotSerializable { .. } => ErrorCode::NotSerializable,
            TableError::BadFormat(_) => ErrorCode::BadFormat,
            TableError::NotLockOwner { .. } => ErrorCode::NotLockOwner,
        };
        Fault::new(code, error.to_string())
    }
}

fn swapped(swap: Swap) -> ffi::Bool {
    ffi::Bool::from(matches!(swap, Swap::Swapped { .. }))
}

#[ffi]
impl TableCore {
    /// Creates an empty table; keys compare like .NET OrdinalIgnoreCase unless `case_sensitive`.
    pub fn create(case_sensitive: ffi::Bool) -> ffi::Result<Self, ErrorCode> {
        install_panic_hook();
        guard(|| Ok(Self { store: Store::new(case_sensitive.is()) }))
    }

    pub fn count(&self) -> ffi::Result<u64, ErrorCode> {
        guard(|| Ok(self.store.len() as u64))
    }

    pub fn is_case_sensitive(&self) -> ffi::Result<ffi::Bool, ErrorCode> {
        guard(|| Ok(self.store.case_sensitive().into()))
    }

    /// The value and its version, without the key (the common read).
    pub fn get_value(&self, key: KeyIn) -> ffi::Result<ffi::Option<VersionedOut>, ErrorCode> {
        guard(|| {
            let found = self.store.get_value(key.key_ref()?);
            Ok(found.map(|(value, version)| VersionedOut { data: value.into(), version }).into())
        })
    }

    pub fn contains(&self, key: KeyIn) -> ffi::Result<ffi::Bool, ErrorCode> {
        guard(|| Ok(self.store.contains(key.key_ref()?).into()))
    }

    /// Stores `val` under `key`; returns the version of this write.
    pub fn put(&self, key: KeyIn, val: ValueIn) -> ffi::Result<u64, ErrorCode> {
        guard(|| {
            let val = val.to_value()?;
            let key = key.key_ref()?;
            Ok(self.store.set(key, val))
        })
    }

    /// Removes `key`; returns the removed entry, if there was one.
    pub fn delete(&self, key: KeyIn) -> ffi::Result<ffi::Option<EntryOut>, ErrorCode> {
        guard(|| Ok(self.store.remove(key.key_ref()?).map(EntryOut::from).into()))
    }

    pub fn clear(&self) -> ffi::Result<(), ErrorCode> {
        guard(|| {
            self.store.clear();
            Ok(())
        })
    }

    /// Adds `delta` (int or double) to the number under `key` atomically; returns the new value.
    pub fn increment(&self, key: KeyIn, delta: ValueIn) -> ffi::Result<ValueOut, ErrorCode> {
        guard(|| {
            let key = key.key_ref()?;
            let delta = delta.to_value()?;
            Ok(self.store.increment(key, delta)?.into())
        })
    }

    /// Replaces the value only if it currently equals `expected`; true if it did.
    pub fn compare_exchange(&self, key: KeyIn, expected: ValueIn, replacement: ValueIn) -> ffi::Result<ffi::Bool, ErrorCode> {
        guard(|| {
            let expected = expected.to_value()?;
            let replacement = replacement.to_value()?;
            let key = key.key_ref()?;
            Ok(swapped(self.store.compare_exchange(key, &expected, replacement)))
        })
    }

    /// Returns the entry under `key`, adding `val` first if the key is absent.
    pub fn get_or_add(&self, key: KeyIn, val: ValueIn) -> ffi::Result<AddedOut, ErrorCode> {
        guard(|| {
            let val = val.to_value()?;
            let key = key.key_ref()?;
            let (entry, added) = self.store.get_or_add(key, val);
            Ok(AddedOut { entry: entry.into(), added: added.into() })
        })
    }

    /// Optimistic write: succeeds only if the key is still at `expected_version`
    /// (or still absent when `expect_absent`). The basis of Update's retry loop.
    pub fn replace_if_version(&self, key: KeyIn, expect_absent: ffi::Bool, expected_version: u64, val: ValueIn) -> ffi::Result<ffi::Bool, ErrorCode> {
        guard(|| {
            let val = val.to_value()?;
            let key = key.key_ref()?;
            let expected = if expect_absent.is() { None } else { Some(expected_version) };
            Ok(swapped(self.store.replace_if_version(key, expected, val)))
        })
    }

    /// Blocks up to `timeout_ms` until `key` exists (or, with `has_after`, until
    /// its version exceeds `after_version`). C# calls this in short slices so
    /// Ctrl+C is honoured; arrival itself wakes the waiter at once.
    pub fn wait_for(&self, key: KeyIn, has_after: ffi::Bool, after_version: u64, timeout_ms: u64) -> ffi::Result<ffi::Option<EntryOut>, ErrorCode> {
        guard(|| {
            let key = key.key_ref()?;
            let after = if has_after.is() { Some(after_version) } else { None };
            Ok(self.store.wait_for(key, after, Duration::from_millis(timeout_ms)).map(EntryOut::from).into())
        })
    }

    /// A copy of every entry; safe while other threads write.
    pub fn snapshot(&self) -> ffi::Result<ffi::Vec<EntryOut>, ErrorCode> {
        guard(|| Ok(ffi::Vec::from_vec(self.store.snapshot().into_iter().map(EntryOut::from).collect())))
    }

    pub fn key_list(&self) -> ffi::Result<ffi::Vec<KeyOut>, ErrorCode> {
        guard(|| Ok(ffi::Vec::from_vec(self.store.keys().into_iter().map(KeyOut::from).collect())))
    }

    /// Enters the critical section of `key` for `owner`; false on timeout.
    pub fn lock_key(&self, key: KeyIn, owner: u64, timeout_ms: u64) -> ffi::Result<ffi::Bool, ErrorCode> {
        guard(|| Ok(self.store.lock_key(key.key_ref()?, owner, Duration::from_millis(timeout_ms)).into()))
    }

    pub fn unlock_key(&self, key: KeyIn, owner: u64) -> ffi::Result<(), ErrorCode> {
        guard(|| Ok(self.store.unlock_key(key.key_ref()?, owner)?))
    }

    pub fn unlock_all(&self, owner: u64) -> ffi::Result<(), ErrorCode> {
        guard(|| {
            self.store.unlock_all(owner);
            Ok(())
        })
    }

    /// The whole table as type-tagged JSON (live objects are refused by key).
    pub fn export_json(&self) -> ffi::Result<ffi::String, ErrorCode> {
        guard(|| Ok(ffi::String::from_string(self.store.export_json()?)))
    }

    /// Loads an export (all or nothing); returns how many entries were written.
    pub fn import_json(&self, json: ffi::Slice<u8>, replace: ffi::Bool) -> ffi::Result<u64, ErrorCode> {
        guard(|| {
            let text = std::str::from_utf8(json.as_slice()).map_err(|_| Fault::new(ErrorCode::BadFormat, "The file is not UTF-8 text."))?;
            Ok(self.store.import_json(text, replace.is())? as u64)
        })
    }
}
