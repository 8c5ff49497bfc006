//! Keys and values as they cross the C ABI.
//!
//! Inputs are flat structs over *borrowed* bytes (`ffi::Slice`): C# pins its
//! buffer for the duration of the call, so nothing is copied or allocated
//! until the store decides to keep it, and no payload size is limited by a
//! stack buffer. Outputs are data enums that own Rust memory (`ffi::String`,
//! `ffi::Vec`); C# copies them into .NET objects and disposes them.

use crate::ffi::fault::Fault;
use crate::ffi::objects::{self, ObjectLease};
use crate::table::{Key, KeyRef, Value, Versioned};
use interoptopus::ffi;

/// What a [`KeyIn`] holds.
#[ffi]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Text,
    Int,
}

/// A key passed in: text (UTF-8 bytes) or a 64-bit integer.
#[ffi]
pub struct KeyIn<'a> {
    pub kind: KeyKind,
    pub number: i64,
    pub text: ffi::Slice<'a, u8>,
}

/// What a [`ValueIn`] holds.
#[ffi]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Null,
    Bool,
    Int,
    Double,
    Text,
    Bytes,
    DateTime,
    Object,
}

/// A value passed in. Which fields matter depends on `kind`: `number` holds
/// bools (0/1), ints, DateTime ticks and object ids; `real` holds doubles;
/// `bytes` holds text (UTF-8) and byte arrays; `flag` holds DateTimeKind.
#[ffi]
pub struct ValueIn<'a> {
    pub kind: ValueKind,
    pub number: i64,
    pub real: f64,
    pub bytes: ffi::Slice<'a, u8>,
    pub flag: u8,
}

/// A DateTime as .NET stores it: ticks plus DateTimeKind.
#[ffi]
#[derive(Clone, Copy)]
pub struct DateTimeOut {
    pub ticks: i64,
    pub flag: u8,
}

/// A value handed back to C#. `Object` carries a lease that keeps the live
/// object registered until C# has fetched it (see [`objects`]).
#[ffi]
#[derive(Clone)]
pub enum ValueOut {
    Null,
    Bool(u8),
    Int(i64),
    Double(f64),
    Text(ffi::String),
    Bytes(ffi::Vec<u8>),
    DateTime(DateTimeOut),
    Object(ObjectLease),
}

/// A key handed back to C#, in the spelling it was first stored with.
#[ffi]
#[derive(Clone)]
pub enum KeyOut {
    Text(ffi::String),
    Int(i64),
}

/// The result of get-or-add: the entry now stored, and whether this call added it.
#[ffi]
#[derive(Clone)]
pub struct AddedOut {
    pub entry: EntryOut,
    pub added: ffi::Bool,
}

/// A value and the version of the write that stored it (a get that does not
/// need the key back, so none is copied).
#[ffi]
#[derive(Clone)]
pub struct VersionedOut {
    pub data: ValueOut,
    pub version: u64,
}

/// One entry handed back: key, value and the version of that write.
#[ffi]
#[derive(Clone)]
pub struct EntryOut {
    pub key: KeyOut,
    pub data: ValueOut,
    pub version: u64,
}

impl<'a> KeyIn<'a> {
    /// Borrows the key from C#'s pinned buffer: no allocation unless the
    /// store inserts a new entry.
    pub fn key_ref(&self) -> Result<KeyRef<'a>, Fault> {
        match self.kind {
            KeyKind::Text => std::str::from_utf8(self.text.as_slice())
                .map(KeyRef::Text)
                .map_err(|_| Fault::invalid("The key is not valid text (invalid UTF-8 reached the native core).")),
            KeyKind::Int => Ok(KeyRef::Int(self.number)),
        }
    }
}

impl ValueIn<'_> {
    pub fn to_value(&self) -> Result<Value, Fault> {
        Ok(match self.kind {
            ValueKind::Null => Value::Null,
            ValueKind::Bool => Value::Bool(self.number != 0),
            ValueKind::Int => Value::Int(self.number),
            ValueKind::Double => Value::Double(self.real),
            ValueKind::Text => Value::Text(
                String::from_utf8(self.bytes.as_slice().to_vec())
                    .map_err(|_| Fault::invalid("The value is not valid text (invalid UTF-8 reached the native core)."))?,
            ),
            ValueKind::Bytes => Value::Bytes(self.bytes.as_slice().to_vec()),
            ValueKind::DateTime => Value::DateTime { ticks: self.number, kind: self.flag },
            ValueKind::Object => Value::Object(objects::adopt(self.number as u64)),
        })
    }
}

impl From<Value> for ValueOut {
    fn from(value: Value) -> Self {
        match value {
            Value::Null => ValueOut::Null,
            Value::Bool(b) => ValueOut::Bool(u8::from(b)),
            Value::Int(i) => ValueOut::Int(i),
            Value::Double(d) => ValueOut::Double(d),
            Value::Text(s) => ValueOut::Text(ffi::String::from_string(s)),
            Value::Bytes(b) => ValueOut::Bytes(ffi::Vec::from_vec(b)),
            Value::DateTime { ticks, kind } => ValueOut::DateTime(DateTimeOut { ticks, flag: kind }),
            Value::Object(object) => ValueOut::Object(objects::lease(object)),
        }
    }
}

impl From<Key> for KeyOut {
    fn from(key: Key) -> Self {
        match key {
            Key::Text(s) => KeyOut::Text(ffi::String::from_string(s)),
            Key::Int(i) => KeyOut::Int(i),
        }
    }
}

impl From<Versioned> for EntryOut {
    fn from(entry: Versioned) -> Self {
        EntryOut { key: entry.key.into(), data: entry.value.into(), version: entry.version }
    }
}
