//! Keys and values as they cross the C ABI.
//!
//! Inputs are flat structs over *borrowed* bytes (`ffi::Slice`): C# pins its
//! buffer for the duration of the call, so nothing is copied or allocated
//! until the store decides to keep it, and no payload size is limited by a
//! stack buffer.
//!
//! A single-key call hands its value back as a [`ValueRead`]: a flat struct
//! of plain fields (the generated C# is a struct, marshalled without any
//! allocation), with text and bytes copied into a buffer the caller lends
//! (see [`parked`](crate::ffi::parked) for values longer than it). Bulk
//! results (snapshots, key lists) are data enums that own Rust memory
//! (`ffi::String`, `ffi::Vec`); C# copies them into .NET objects and
//! disposes them.

use crate::ffi::fault::{ErrorCode, Fault};
use crate::ffi::objects::{self, ObjectLease};
use crate::ffi::parked;
use crate::remote::encoding::Remote;
use crate::table::{Key, KeyRef, Scalar, Value, ValueRef, Versioned};
use interoptopus::ffi;

/// Bytes C# lends for the duration of one call: `len` bytes at `ptr`, in a
/// buffer C# keeps pinned until the call returns (a `fixed` block or a
/// stack buffer). Plain fields rather than `ffi::Slice`, whose generated C#
/// is a class: a key or value passed in must not cost an allocation.
#[ffi]
#[derive(Clone, Copy)]
pub struct LentBytes {
    pub ptr: *const u8,
    pub len: u64,
}

/// A buffer C# lends for the duration of one call for Rust to write into
/// (text and bytes handed back; see [`ValueRead`]).
#[ffi]
#[derive(Clone, Copy)]
pub struct LentBuffer {
    pub ptr: *mut u8,
    pub len: u64,
}

impl LentBytes {
    /// The lent bytes. Borrowed from `self`, which lives only as long as
    /// the call it was passed to.
    pub fn as_slice(&self) -> &[u8] {
        if self.ptr.is_null() || self.len == 0 {
            return &[];
        }
        // SAFETY: C# passes a pointer to `len` readable bytes that it keeps
        // pinned and does not write until the call returns (see the type's
        // docs), and the slice cannot outlive `&self`, which is the call's
        // argument. `len` fits in `usize`: it is the length of a .NET
        // buffer, at most `int.MaxValue`.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len as usize) }
    }
}

impl LentBuffer {
    /// The lent buffer, borrowed from `self` (the call's argument).
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        if self.ptr.is_null() || self.len == 0 {
            return &mut [];
        }
        // SAFETY: C# passes a pointer to `len` writable bytes that it keeps
        // pinned and neither reads nor writes until the call returns; the
        // slice cannot outlive `&mut self`, the call's argument, so nothing
        // else aliases it meanwhile.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len as usize) }
    }
}

/// What a [`KeyIn`] holds.
#[ffi]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Text,
    Int,
}

/// A key passed in: text (UTF-8 bytes) or a 64-bit integer.
#[ffi]
#[derive(Clone, Copy)]
pub struct KeyIn {
    pub kind: KeyKind,
    pub number: i64,
    pub text: LentBytes,
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
    /// PowerShell data in the wire format of [`crate::data::wire`] (arrays,
    /// hashtables, [PSCustomObject]s...): how C# passes such values to a
    /// table on a Redis server, which cannot hold live objects.
    Data,
    /// An object serialized as CLIXML (UTF-8), for a table on a Redis server.
    Clixml,
}

impl ValueKind {
    /// The name [`Value::type_name`] gives a value of this kind (serialized
    /// forms, which only a table on a Redis server takes, as "data" and
    /// "clixml").
    pub fn type_name(self) -> &'static str {
        match self {
            ValueKind::Null => "null",
            ValueKind::Bool => "bool",
            ValueKind::Int => "int",
            ValueKind::Double => "double",
            ValueKind::Text => "string",
            ValueKind::Bytes => "bytes",
            ValueKind::DateTime => "datetime",
            ValueKind::Object => "object",
            ValueKind::Data => "data",
            ValueKind::Clixml => "clixml",
        }
    }
}

/// A value passed in. Which fields matter depends on `kind`: `number` holds
/// bools (0/1), ints, DateTime ticks and object ids; `real` holds doubles;
/// `bytes` holds text (UTF-8) and byte arrays; `flag` holds DateTimeKind.
#[ffi]
#[derive(Clone, Copy)]
pub struct ValueIn {
    pub kind: ValueKind,
    pub number: i64,
    pub real: f64,
    pub bytes: LentBytes,
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
    Data(ffi::Vec<u8>),
    Clixml(ffi::Vec<u8>),
}

/// A key handed back to C#, in the spelling it was first stored with.
#[ffi]
#[derive(Clone)]
pub enum KeyOut {
    Text(ffi::String),
    Int(i64),
}

/// A value handed back by a single-key call, filled in place in the
/// caller's memory. Which fields matter depends on `kind`, as for
/// [`ValueIn`]: `number` holds bools (0/1), ints, DateTime ticks and object
/// ids; `real` holds doubles; `flag` holds the DateTimeKind. Text (UTF-8)
/// and bytes are in the caller's buffer when `parked` is 0, otherwise parked
/// under that number; `length` is their byte count either way. An object
/// comes with a lease to end once C# has fetched it.
///
/// The 8-byte fields come first and every field is written on its own
/// (see [`set`](Self::set)): building the struct elsewhere and copying it
/// made the compiler move its small fields in overlapping pieces, which
/// stalled the processor on every read.
#[ffi]
#[derive(Clone, Copy)]
pub struct ValueRead {
    pub number: i64,
    pub real: f64,
    pub length: u64,
    pub parked: u64,
    pub lease: u64,
    /// The version of the write that stored the value.
    pub version: u64,
    pub kind: ValueKind,
    /// False when there is no value: the key is absent, or a wait timed out.
    pub found: ffi::Bool,
    pub flag: u8,
}

/// The result of get-or-add: the value now stored, and whether this call added it.
#[ffi]
#[derive(Clone, Copy)]
pub struct AddedRead {
    pub stored: ValueRead,
    pub added: ffi::Bool,
}

/// One entry handed back: key, value and the version of that write.
#[ffi]
#[derive(Clone)]
pub struct EntryOut {
    pub key: KeyOut,
    pub data: ValueOut,
    pub version: u64,
}

impl KeyIn {
    /// Borrows the key from C#'s pinned buffer: no allocation unless the
    /// store inserts a new entry. Always inlined: called out of line, its
    /// result (a key or a fault) came back through memory and was reloaded
    /// in pieces of another size, which stalled every keyed call.
    ///
    /// The error is a unit type that `?` turns into a [`Fault`] only on the
    /// failure path: with the fault itself in the result, the result had to
    /// live in memory (the fault's constructor wrote it there), and the key
    /// was reloaded from it, which stalled on store forwarding.
    #[inline(always)]
    pub fn key_ref(&self) -> Result<KeyRef<'_>, InvalidKeyText> {
        match self.kind {
            KeyKind::Text => utf8(self.text.as_slice()).map(KeyRef::Text).ok_or(InvalidKeyText),
            KeyKind::Int => Ok(KeyRef::Int(self.number)),
        }
    }
}

/// A text key that is not UTF-8 (C# encodes keys, so this means a bug there).
#[derive(Clone, Copy, Debug)]
pub struct InvalidKeyText;

impl From<InvalidKeyText> for Fault {
    #[cold]
    fn from(_: InvalidKeyText) -> Self {
        Fault::invalid("The key is not valid text (invalid UTF-8 reached the native core).")
    }
}

/// `bytes` as text, if they are UTF-8. ASCII, what nearly every key is, is
/// recognized by an inlined word-at-a-time test; only other text goes through
/// the full (out-of-line) UTF-8 check, which cost more than the rest of
/// decoding a key.
#[inline]
fn utf8(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: every byte is below 0x80, and ASCII is valid UTF-8.
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).ok()
}

impl ValueIn {
    /// The value, if it owns nothing (null, bool, number, DateTime): the
    /// hot write's fast form, needing no check and no allocation.
    #[inline(always)]
    pub fn to_scalar(&self) -> Option<Scalar> {
        match self.kind {
            ValueKind::Null => Some(Scalar::Null),
            ValueKind::Bool => Some(Scalar::Bool(self.number != 0)),
            ValueKind::Int => Some(Scalar::Int(self.number)),
            ValueKind::Double => Some(Scalar::Double(self.real)),
            ValueKind::DateTime => Some(Scalar::DateTime { ticks: self.number, kind: self.flag }),
            _ => None,
        }
    }

    /// Always inlined, as [`KeyIn::key_ref`] is, for the same reason.
    #[inline(always)]
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
            ValueKind::Data | ValueKind::Clixml => return Err(Fault::invalid("Serialized values are only for tables on a Redis server; an in-process table keeps the object itself.")),
        })
    }

    /// The value as a table on a Redis server takes it (borrowing text and
    /// bytes). A live object cannot leave the process: C# turns it into data
    /// or CLIXML first, so one arriving here is refused.
    pub fn to_remote(&self) -> Result<Remote<'_>, Fault> {
        Ok(match self.kind {
            ValueKind::Null => Remote::Null,
            ValueKind::Bool => Remote::Bool(self.number != 0),
            ValueKind::Int => Remote::Int(self.number),
            ValueKind::Double => Remote::Double(self.real),
            ValueKind::Text => Remote::Text(utf8(self.bytes.as_slice()).ok_or_else(|| Fault::invalid("The value is not valid text (invalid UTF-8 reached the native core)."))?.as_bytes()),
            ValueKind::Bytes => Remote::Bytes(self.bytes.as_slice()),
            ValueKind::DateTime => Remote::DateTime { ticks: self.number, kind: self.flag },
            ValueKind::Data => Remote::Data(self.bytes.as_slice()),
            ValueKind::Clixml => Remote::Clixml(self.bytes.as_slice()),
            // C# forgets its registration when the call fails.
            ValueKind::Object => return Err(Fault::new(ErrorCode::NotSerializable, "A live object cannot be stored in a table on a Redis server.")),
        })
    }
}

impl ValueRead {
    /// Writes "no value".
    pub fn set_absent(&mut self) {
        self.found = false.into();
        self.kind = ValueKind::Null;
        self.version = 0;
        self.length = 0;
        self.parked = 0;
        self.lease = 0;
    }

    fn set_scalar(&mut self, kind: ValueKind, number: i64, real: f64, flag: u8, version: u64) {
        self.found = true.into();
        self.kind = kind;
        self.number = number;
        self.real = real;
        self.flag = flag;
        self.version = version;
        self.length = 0;
        self.parked = 0;
        self.lease = 0;
    }

    /// Writes `value`: scalars in place, text and bytes into `buffer`
    /// (parked when longer), an object under a new lease. Cheap enough to
    /// run under a shard lock for short values: a copy of at most
    /// `buffer.len()` bytes.
    #[inline]
    pub fn set(&mut self, value: ValueRef<'_>, version: u64, buffer: &mut [u8]) {
        match value {
            ValueRef::Text(text) => self.set_bytes(ValueKind::Text, text.as_bytes(), version, buffer),
            ValueRef::Bytes(bytes) => self.set_bytes(ValueKind::Bytes, bytes, version, buffer),
            ValueRef::Object(object) => {
                let lease = objects::lease(std::sync::Arc::clone(object));
                self.set_scalar(ValueKind::Object, lease.id as i64, 0.0, 0, version);
                self.lease = lease.lease;
            }
            other => {
                let Some(scalar) = other.to_scalar() else { unreachable!("text, bytes and objects are matched above") };
                self.set_scalar_value(scalar, version);
            }
        }
    }

    /// [`set`](Self::set) of a value that owns nothing.
    #[inline(always)]
    pub fn set_scalar_value(&mut self, value: Scalar, version: u64) {
        match value {
            Scalar::Null => self.set_scalar(ValueKind::Null, 0, 0.0, 0, version),
            Scalar::Bool(b) => self.set_scalar(ValueKind::Bool, i64::from(b), 0.0, 0, version),
            Scalar::Int(n) => self.set_scalar(ValueKind::Int, n, 0.0, 0, version),
            Scalar::Double(x) => self.set_scalar(ValueKind::Double, 0, x, 0, version),
            Scalar::DateTime { ticks, kind } => self.set_scalar(ValueKind::DateTime, ticks, 0.0, kind, version),
        }
    }

    /// [`set`](Self::set) for a value the caller owns (a removed entry): a
    /// long text or byte array is parked without another copy.
    pub fn set_owned(&mut self, value: Value, version: u64, buffer: &mut [u8]) {
        match value {
            Value::Text(text) if text.len() > buffer.len() => self.set_parked(ValueKind::Text, text.into_bytes(), version),
            Value::Bytes(bytes) if bytes.len() > buffer.len() => self.set_parked(ValueKind::Bytes, bytes, version),
            other => self.set(other.as_value_ref(), version, buffer),
        }
    }

    fn set_bytes(&mut self, kind: ValueKind, bytes: &[u8], version: u64, buffer: &mut [u8]) {
        if bytes.len() > buffer.len() {
            return self.set_parked(kind, bytes.to_vec(), version);
        }
        buffer[..bytes.len()].copy_from_slice(bytes);
        self.set_scalar(kind, 0, 0.0, 0, version);
        self.length = bytes.len() as u64;
    }

    /// Writes a value read from a Redis table, as [`set`](Self::set) does.
    pub fn set_remote(&mut self, value: Remote<'_>, version: u64, buffer: &mut [u8]) {
        match value {
            Remote::Null => self.set_scalar(ValueKind::Null, 0, 0.0, 0, version),
            Remote::Bool(b) => self.set_scalar(ValueKind::Bool, i64::from(b), 0.0, 0, version),
            Remote::Int(n) => self.set_scalar(ValueKind::Int, n, 0.0, 0, version),
            Remote::Double(x) => self.set_scalar(ValueKind::Double, 0, x, 0, version),
            Remote::DateTime { ticks, kind } => self.set_scalar(ValueKind::DateTime, ticks, 0.0, kind, version),
            Remote::Text(text) => self.set_bytes(ValueKind::Text, text, version, buffer),
            Remote::Bytes(bytes) => self.set_bytes(ValueKind::Bytes, bytes, version, buffer),
            Remote::Data(bytes) => self.set_bytes(ValueKind::Data, bytes, version, buffer),
            Remote::Clixml(bytes) => self.set_bytes(ValueKind::Clixml, bytes, version, buffer),
        }
    }

    fn set_parked(&mut self, kind: ValueKind, bytes: Vec<u8>, version: u64) {
        self.set_scalar(kind, 0, 0.0, 0, version);
        self.length = bytes.len() as u64;
        self.parked = parked::park(bytes);
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

impl From<Remote<'_>> for ValueOut {
    fn from(value: Remote<'_>) -> Self {
        match value {
            Remote::Null => ValueOut::Null,
            Remote::Bool(b) => ValueOut::Bool(u8::from(b)),
            Remote::Int(i) => ValueOut::Int(i),
            Remote::Double(d) => ValueOut::Double(d),
            Remote::Text(s) => ValueOut::Text(ffi::String::from_string(String::from_utf8_lossy(s).into_owned())),
            Remote::Bytes(b) => ValueOut::Bytes(ffi::Vec::from_vec(b.to_vec())),
            Remote::DateTime { ticks, kind } => ValueOut::DateTime(DateTimeOut { ticks, flag: kind }),
            Remote::Data(b) => ValueOut::Data(ffi::Vec::from_vec(b.to_vec())),
            Remote::Clixml(b) => ValueOut::Clixml(ffi::Vec::from_vec(b.to_vec())),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::objects;
    use crate::ffi::parked;

    fn blank() -> ValueRead {
        ValueRead { number: -1, real: -1.0, length: 99, parked: 99, lease: 99, version: 99, kind: ValueKind::Bool, found: true.into(), flag: 9 }
    }

    fn take(read: &ValueRead) -> Vec<u8> {
        let mut bytes = vec![0u8; read.length as usize];
        let mut target = LentBuffer { ptr: bytes.as_mut_ptr(), len: bytes.len() as u64 };
        let copied = parked::syncpool_parked_take(read.parked, &mut target);
        assert!(matches!(copied, ffi::Ok(n) if n == read.length));
        bytes
    }

    #[test]
    fn scalars_are_written_in_place_and_clear_the_rest() {
        let mut read = blank();
        read.set(ValueRef::Int(-7), 42, &mut []);
        assert!(read.found.is() && read.kind == ValueKind::Int && read.number == -7 && read.version == 42);
        assert_eq!((read.length, read.parked, read.lease), (0, 0, 0));
        read.set(ValueRef::Double(-0.0), 1, &mut []);
        assert!(read.kind == ValueKind::Double && read.real.to_bits() == (-0.0f64).to_bits());
        read.set(ValueRef::DateTime { ticks: 5, kind: 2 }, 1, &mut []);
        assert!(read.kind == ValueKind::DateTime && read.number == 5 && read.flag == 2);
        read.set(ValueRef::Bool(true), 1, &mut []);
        assert!(read.kind == ValueKind::Bool && read.number == 1);
        read.set_absent();
        assert!(!read.found.is());
    }

    #[test]
    fn short_text_goes_into_the_buffer_long_text_is_parked() {
        let mut buffer = [0u8; 8];
        let mut read = blank();
        read.set(ValueRef::Text("héllo"), 3, &mut buffer);
        assert!(read.kind == ValueKind::Text && read.parked == 0);
        assert_eq!(&buffer[..read.length as usize], "héllo".as_bytes());

        let before = parked::parked_count();
        let long = "a text longer than the buffer";
        read.set(ValueRef::Text(long), 4, &mut buffer);
        assert!(read.parked != 0 && read.length == long.len() as u64);
        assert_eq!(take(&read), long.as_bytes());
        assert_eq!(parked::parked_count(), before, "taking a parked value forgets it");

        read.set_owned(Value::Bytes(vec![7; 20]), 5, &mut buffer);
        assert!(read.kind == ValueKind::Bytes && read.parked != 0);
        assert_eq!(take(&read), vec![7; 20]);
        let mut wrong = [0u8; 1];
        let mut target = LentBuffer { ptr: wrong.as_mut_ptr(), len: 1 };
        assert!(matches!(parked::syncpool_parked_take(read.parked, &mut target), ffi::Err(_)), "already taken");
    }

    #[test]
    fn objects_come_with_a_lease() {
        let before = objects::open_leases();
        let object = objects::adopt(77);
        let mut read = blank();
        read.set(ValueRef::Object(&object), 1, &mut []);
        assert!(read.kind == ValueKind::Object && read.number == 77 && read.lease != 0);
        assert_eq!(objects::open_leases(), before + 1);
        objects::syncpool_object_lease_end(read.lease);
        assert_eq!(objects::open_leases(), before);
    }

    #[test]
    fn lent_bytes_may_be_empty_or_null() {
        let empty = LentBytes { ptr: std::ptr::null(), len: 0 };
        assert!(empty.as_slice().is_empty());
        let key = KeyIn { kind: KeyKind::Text, number: 0, text: empty };
        assert!(matches!(key.key_ref(), Ok(KeyRef::Text(""))));
        let bad = [0xffu8];
        let key = KeyIn { kind: KeyKind::Text, number: 0, text: LentBytes { ptr: bad.as_ptr(), len: 1 } };
        assert!(key.key_ref().is_err(), "invalid UTF-8 is refused, not trusted");
    }
}
