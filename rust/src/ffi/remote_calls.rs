//! The Redis arms of [`TableCore`](super::table_core::TableCore)'s methods:
//! C ABI arguments converted for the [`RemoteStore`], results written back
//! the way the in-process arms write them, so C# cannot tell the stores
//! apart. Kept out of line (`#[inline(never)]`) so the in-process calls
//! stay as small as they were.

use std::time::Duration;

use interoptopus::ffi;

use crate::ffi::batch;
use crate::ffi::fault::{ErrorCode, Fault};
use crate::ffi::table_core::RedisOptionsIn;
use crate::ffi::values::{AddedRead, EntryOut, KeyIn, KeyOut, ValueIn, ValueOut, ValueRead};
use crate::remote::address::{Address, Secret};
use crate::remote::encoding::{self, Remote};
use crate::remote::{DEFAULT_LOCK_EXPIRY, Delta, RemoteError, RemoteOptions, RemoteStore, Sum};

impl From<RemoteError> for Fault {
    fn from(error: RemoteError) -> Self {
        let code = match &error {
            RemoteError::BadAddress(_) => ErrorCode::InvalidArgument,
            RemoteError::Unreachable(_) => ErrorCode::RedisUnreachable,
            RemoteError::AuthenticationFailed(_) => ErrorCode::RedisAuthenticationFailed,
            RemoteError::UnknownDatabase(_) => ErrorCode::RedisUnknownDatabase,
            RemoteError::ConnectionLost(_) => ErrorCode::RedisConnectionLost,
            RemoteError::OutcomeUnknown(_) => ErrorCode::RedisOutcomeUnknown,
            RemoteError::Server(_) => ErrorCode::RedisError,
            RemoteError::NotNumeric(_) => ErrorCode::NotNumeric,
            RemoteError::Overflow(_) => ErrorCode::Overflow,
            RemoteError::NotLockOwner(_) => ErrorCode::NotLockOwner,
            RemoteError::Corrupt(_) => ErrorCode::BadFormat,
        };
        Fault::new(code, error.message().to_string())
    }
}

fn text(bytes: &ffi::Slice<u8>, what: &str) -> Result<String, Fault> {
    String::from_utf8(bytes.as_slice().to_vec()).map_err(|_| Fault::invalid(format!("The {what} is not valid UTF-8 text.")))
}

#[inline(never)]
pub fn open(options: &RedisOptionsIn) -> Result<RemoteStore, Fault> {
    let mut address = Address::parse(&text(&options.address, "Redis address")?).map_err(|bad| Fault::invalid(bad.0))?;
    if options.has_credential.is() {
        let user = text(&options.user, "user name")?;
        address.user = (!user.is_empty() && user != "default").then_some(user);
        let password = text(&options.password, "password")?;
        address.password = (!password.is_empty()).then(|| Secret::new(password));
    }
    let lock_expiry = if options.lock_expiry_ms == 0 { DEFAULT_LOCK_EXPIRY } else { Duration::from_millis(options.lock_expiry_ms) };
    Ok(RemoteStore::open(RemoteOptions { address, name: text(&options.name, "table name")?, case_sensitive: options.case_sensitive.is(), lock_expiry })?)
}

#[cold]
pub fn disconnected(remote: &RemoteStore) -> Fault {
    Fault::new(
        ErrorCode::Disposed,
        format!(
            "This SyncTable was disconnected from {} (Remove-SyncTable); its data is still on the server. Open it again with New-SyncTable -Name '{}' -Redis.",
            remote.address(),
            remote.name()
        ),
    )
}

fn decoded(bytes: &[u8]) -> Result<Remote<'_>, Fault> {
    encoding::decode(bytes).map_err(|why| Fault::new(ErrorCode::BadFormat, why))
}

/// Writes a stored (encoded) value into a single-key result.
pub fn set_read(value: &[u8], version: u64, buffer: &mut [u8], result: &mut ValueRead) -> Result<(), Fault> {
    result.set_remote(decoded(value)?, version, buffer);
    Ok(())
}

#[inline(never)]
pub fn read(remote: &RemoteStore, key: &KeyIn, buffer: &mut [u8], result: &mut ValueRead) -> Result<(), Fault> {
    match remote.read(key.key_ref()?)? {
        Some((value, version)) => set_read(&value, version, buffer, result),
        None => {
            result.set_absent();
            Ok(())
        }
    }
}

#[inline(never)]
pub fn put(remote: &RemoteStore, key: &KeyIn, value: &ValueIn) -> Result<u64, Fault> {
    let encoded = encoding::encode(value.to_remote()?);
    Ok(remote.put(key.key_ref()?, &encoded)?)
}

#[inline(never)]
pub fn delete(remote: &RemoteStore, key: &KeyIn, buffer: &mut [u8], result: &mut ValueRead) -> Result<(), Fault> {
    match remote.delete(key.key_ref()?)? {
        Some((value, version)) => set_read(&value, version, buffer, result),
        None => {
            result.set_absent();
            Ok(())
        }
    }
}

#[inline(never)]
pub fn increment(remote: &RemoteStore, key: &KeyIn, delta: &ValueIn, result: &mut ValueRead) -> Result<(), Fault> {
    let delta = match delta.to_remote()? {
        Remote::Int(n) => Delta::Int(n),
        Remote::Double(x) => Delta::Double(x),
        _ => return Err(Fault::new(ErrorCode::NotNumeric, "The increment must be a number (an integer or a double).")),
    };
    match remote.increment(key.key_ref()?, delta)? {
        Sum::Int(n) => result.set_remote(Remote::Int(n), 0, &mut []),
        Sum::Double(x) => result.set_remote(Remote::Double(x), 0, &mut []),
    }
    Ok(())
}

#[inline(never)]
pub fn compare_exchange(remote: &RemoteStore, key: &KeyIn, expected: &ValueIn, replacement: &ValueIn) -> Result<ffi::Bool, Fault> {
    let expected = encoding::encode(expected.to_remote()?);
    let replacement = encoding::encode(replacement.to_remote()?);
    Ok(remote.compare_exchange(key.key_ref()?, &expected, &replacement)?.into())
}

#[inline(never)]
pub fn get_or_add(remote: &RemoteStore, key: &KeyIn, value: &ValueIn, buffer: &mut [u8], result: &mut AddedRead) -> Result<(), Fault> {
    let encoded = encoding::encode(value.to_remote()?);
    let (stored, version, added) = remote.get_or_add(key.key_ref()?, &encoded)?;
    set_read(&stored, version, buffer, &mut result.stored)?;
    result.added = added.into();
    Ok(())
}

#[inline(never)]
pub fn replace_if_version(remote: &RemoteStore, key: &KeyIn, expected: Option<u64>, value: &ValueIn) -> Result<ffi::Bool, Fault> {
    let encoded = encoding::encode(value.to_remote()?);
    Ok(remote.replace_if_version(key.key_ref()?, expected, &encoded)?.into())
}

#[inline(never)]
pub fn snapshot(remote: &RemoteStore) -> Result<ffi::Vec<EntryOut>, Fault> {
    let entries = remote.snapshot()?;
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let data = ValueOut::from(decoded(&entry.value)?);
        out.push(EntryOut { key: KeyOut::from(entry.key), data, version: entry.version });
    }
    Ok(ffi::Vec::from_vec(out))
}

#[inline(never)]
pub fn put_many(remote: &RemoteStore, batch: &[u8]) -> Result<u64, Fault> {
    let entries = batch::entries(batch)?;
    let mut encoded = Vec::with_capacity(entries.len());
    for (key, value) in &entries {
        encoded.push((*key, encoding::encode(value.to_remote()?)));
    }
    remote.put_many(&encoded)?;
    Ok(encoded.len() as u64)
}
