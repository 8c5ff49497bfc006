//! Values a table holds.
//!
//! Plain data (numbers, text, bytes, dates) lives in Rust. A live .NET object
//! cannot, so the C# side keeps it in a registry and the table holds an
//! [`ObjectRef`]: a handle whose last drop tells C# to let the object go.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use compact_str::CompactString;

/// Called with an object's registry id when the table no longer refers to it.
pub type Releaser = Arc<dyn Fn(u64) + Send + Sync>;

/// A live .NET object kept by the C# side in a registry under `id`; dropping
/// the last `ObjectRef` tells C# to release it.
///
/// Values share an `ObjectRef` through an `Arc`, so copies handed out by
/// `get` or `snapshot` keep the object alive until they are dropped too.
pub struct ObjectRef {
    id: u64,
    releaser: Releaser,
}

impl ObjectRef {
    pub fn new(id: u64, releaser: Releaser) -> Self {
        ObjectRef { id, releaser }
    }

    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for ObjectRef {
    fn drop(&mut self) {
        // A releaser that panics must not unwind through the table: the drop
        // can happen in the middle of a write, or during another unwind (which
        // would abort the process). The worst outcome of swallowing it is one
        // .NET object that stays registered.
        let releaser = &self.releaser;
        let id = self.id;
        let _ = catch_unwind(AssertUnwindSafe(|| releaser(id)));
    }
}

impl fmt::Debug for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectRef")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A value stored under a key.
#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Text(String),
    Bytes(Vec<u8>),
    /// A .NET `DateTime` as ticks and a kind: 0 Unspecified, 1 Utc and 2 Local
    /// (wall-clock ticks) as in .NET, 4 a local time held as its UTC moment
    /// (see `Data::DateTime`; module/Table/DateForms.cs converts).
    DateTime {
        ticks: i64,
        kind: u8,
    },
    Object(Arc<ObjectRef>),
}

impl Value {
    /// The short type name used in messages and in exported JSON.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Double(_) => "double",
            Value::Text(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::DateTime { .. } => "datetime",
            Value::Object(_) => "object",
        }
    }

    /// Identity used by compare-and-swap: same variant and equal payload.
    ///
    /// Doubles compare by their bits, so `NaN` matches the same `NaN` (a CAS
    /// loop on a NaN value would otherwise never succeed) and `0.0` does not
    /// match `-0.0`. Objects compare by registry id; text is ordinal.
    /// `Int(1)` does not match `Double(1.0)`.
    pub fn same_as(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Double(a), Value::Double(b)) => a.to_bits() == b.to_bits(),
            (Value::Text(a), Value::Text(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::DateTime { ticks: a, kind: ka }, Value::DateTime { ticks: b, kind: kb }) => {
                a == b && ka == kb
            }
            (Value::Object(a), Value::Object(b)) => a.id() == b.id(),
            _ => false,
        }
    }
}

/// A stored value seen in place, without copying it (see
/// [`Store::view`](super::Store::view)): what a caller that copies the value
/// somewhere else itself (a caller's buffer across the C ABI) reads.
#[derive(Clone, Copy, Debug)]
pub enum ValueRef<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Text(&'a str),
    Bytes(&'a [u8]),
    DateTime { ticks: i64, kind: u8 },
    Object(&'a Arc<ObjectRef>),
}

impl ValueRef<'_> {
    /// The value, if it owns nothing (a copy that needs no allocation).
    #[inline(always)]
    pub fn to_scalar(self) -> Option<Scalar> {
        match self {
            ValueRef::Null => Some(Scalar::Null),
            ValueRef::Bool(b) => Some(Scalar::Bool(b)),
            ValueRef::Int(n) => Some(Scalar::Int(n)),
            ValueRef::Double(x) => Some(Scalar::Double(x)),
            ValueRef::DateTime { ticks, kind } => Some(Scalar::DateTime { ticks, kind }),
            ValueRef::Text(_) | ValueRef::Bytes(_) | ValueRef::Object(_) => None,
        }
    }

    /// An owned copy (text and bytes are copied, objects shared).
    pub fn to_value(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Int(n) => Value::Int(n),
            ValueRef::Double(x) => Value::Double(x),
            ValueRef::Text(text) => Value::Text(text.to_owned()),
            ValueRef::Bytes(bytes) => Value::Bytes(bytes.to_vec()),
            ValueRef::DateTime { ticks, kind } => Value::DateTime { ticks, kind },
            ValueRef::Object(object) => Value::Object(Arc::clone(object)),
        }
    }
}

impl Value {
    /// The value seen as a [`ValueRef`].
    pub fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Int(n) => ValueRef::Int(*n),
            Value::Double(x) => ValueRef::Double(*x),
            Value::Text(text) => ValueRef::Text(text),
            Value::Bytes(bytes) => ValueRef::Bytes(bytes),
            Value::DateTime { ticks, kind } => ValueRef::DateTime { ticks: *ticks, kind: *kind },
            Value::Object(object) => ValueRef::Object(object),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Double(x)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(text)
    }
}

impl From<Vec<u8>> for Value {
    fn from(bytes: Vec<u8>) -> Self {
        Value::Bytes(bytes)
    }
}

/// A value as a table slot holds it: the same data as [`Value`] in 16 bytes
/// instead of 32.
///
/// Slot size is most of a table's memory (a hash table keeps up to twice as
/// many slots as entries), and most values are numbers. Text and bytes are
/// boxed one level deeper so every variant fits in 8 bytes of payload; short
/// text stays inside that box ([`CompactString`] keeps up to 24 bytes
/// inline), so it still costs one allocation, as a `String` does.
#[derive(Clone, Debug)]
pub(crate) enum StoredValue {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Text(Box<CompactString>),
    // The extra box is the point: a `Vec` inline would make every slot
    // 8 bytes bigger for the sake of a rare kind of value.
    #[allow(clippy::box_collection)]
    Bytes(Box<Vec<u8>>),
    DateTime {
        ticks: i64,
        kind: u8,
    },
    Object(Arc<ObjectRef>),
}

/// A value that owns nothing (no text, bytes or object): what the hot write
/// path hands the store. `Copy` and 16 bytes, so it travels in registers;
/// a [`Value`] is 32 bytes and goes through memory, and reloading it whole
/// right after it was written in pieces stalled on store forwarding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    /// As [`Value::DateTime`].
    DateTime { ticks: i64, kind: u8 },
}

impl From<Scalar> for StoredValue {
    #[inline(always)]
    fn from(value: Scalar) -> Self {
        match value {
            Scalar::Null => StoredValue::Null,
            Scalar::Bool(b) => StoredValue::Bool(b),
            Scalar::Int(n) => StoredValue::Int(n),
            Scalar::Double(x) => StoredValue::Double(x),
            Scalar::DateTime { ticks, kind } => StoredValue::DateTime { ticks, kind },
        }
    }
}

impl From<Value> for StoredValue {
    /// Moves the payload in; a long text or a byte array keeps its buffer.
    /// Always inlined, for the reason `to_value` is.
    #[inline(always)]
    fn from(value: Value) -> Self {
        match value {
            Value::Null => StoredValue::Null,
            Value::Bool(b) => StoredValue::Bool(b),
            Value::Int(n) => StoredValue::Int(n),
            Value::Double(x) => StoredValue::Double(x),
            Value::Text(text) => StoredValue::Text(Box::new(CompactString::from(text))),
            Value::Bytes(bytes) => StoredValue::Bytes(Box::new(bytes)),
            Value::DateTime { ticks, kind } => StoredValue::DateTime { ticks, kind },
            Value::Object(object) => StoredValue::Object(object),
        }
    }
}

impl StoredValue {
    /// A copy for a caller (text and bytes are copied, objects shared).
    /// Always inlined: called out of line, the 32-byte `Value` it returns
    /// went through the stack in pieces and reloading it whole stalled.
    #[inline(always)]
    pub(crate) fn to_value(&self) -> Value {
        match self {
            StoredValue::Null => Value::Null,
            StoredValue::Bool(b) => Value::Bool(*b),
            StoredValue::Int(n) => Value::Int(*n),
            StoredValue::Double(x) => Value::Double(*x),
            StoredValue::Text(text) => Value::Text(text.as_str().to_owned()),
            StoredValue::Bytes(bytes) => Value::Bytes(bytes.as_ref().clone()),
            StoredValue::DateTime { ticks, kind } => Value::DateTime {
                ticks: *ticks,
                kind: *kind,
            },
            StoredValue::Object(object) => Value::Object(Arc::clone(object)),
        }
    }

    /// The value seen in place.
    #[inline(always)]
    pub(crate) fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            StoredValue::Null => ValueRef::Null,
            StoredValue::Bool(b) => ValueRef::Bool(*b),
            StoredValue::Int(n) => ValueRef::Int(*n),
            StoredValue::Double(x) => ValueRef::Double(*x),
            StoredValue::Text(text) => ValueRef::Text(text.as_str()),
            StoredValue::Bytes(bytes) => ValueRef::Bytes(bytes.as_slice()),
            StoredValue::DateTime { ticks, kind } => ValueRef::DateTime {
                ticks: *ticks,
                kind: *kind,
            },
            StoredValue::Object(object) => ValueRef::Object(object),
        }
    }

    /// The value itself, for an entry leaving the table.
    #[inline]
    pub(crate) fn into_value(self) -> Value {
        match self {
            StoredValue::Text(text) => Value::Text(text.into_string()),
            StoredValue::Bytes(bytes) => Value::Bytes(*bytes),
            StoredValue::Object(object) => Value::Object(object),
            other => other.to_value(),
        }
    }

    /// [`Value::same_as`] between a stored value and a caller's value.
    #[inline]
    pub(crate) fn same_as(&self, other: &Value) -> bool {
        match (self, other) {
            (StoredValue::Null, Value::Null) => true,
            (StoredValue::Bool(a), Value::Bool(b)) => a == b,
            (StoredValue::Int(a), Value::Int(b)) => a == b,
            (StoredValue::Double(a), Value::Double(b)) => a.to_bits() == b.to_bits(),
            (StoredValue::Text(a), Value::Text(b)) => a.as_str() == b,
            (StoredValue::Bytes(a), Value::Bytes(b)) => a.as_slice() == b.as_slice(),
            (
                StoredValue::DateTime { ticks: a, kind: ka },
                Value::DateTime { ticks: b, kind: kb },
            ) => a == b && ka == kb,
            (StoredValue::Object(a), Value::Object(b)) => a.id() == b.id(),
            _ => false,
        }
    }

    /// [`Value::type_name`] of the value.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            StoredValue::Null => "null",
            StoredValue::Bool(_) => "bool",
            StoredValue::Int(_) => "int",
            StoredValue::Double(_) => "double",
            StoredValue::Text(_) => "string",
            StoredValue::Bytes(_) => "bytes",
            StoredValue::DateTime { .. } => "datetime",
            StoredValue::Object(_) => "object",
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A releaser that records every id it is called with.
    pub(crate) fn recording_releaser() -> (Releaser, Arc<Mutex<Vec<u64>>>) {
        let released = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&released);
        let releaser: Releaser = Arc::new(move |id| sink.lock().unwrap().push(id));
        (releaser, released)
    }

    pub(crate) fn object(id: u64, releaser: &Releaser) -> Value {
        Value::Object(Arc::new(ObjectRef::new(id, Arc::clone(releaser))))
    }

    #[test]
    fn type_names() {
        let (r, _) = recording_releaser();
        let names: Vec<_> = [
            Value::Null,
            Value::Bool(true),
            Value::Int(1),
            Value::Double(1.0),
            Value::Text("x".into()),
            Value::Bytes(vec![1]),
            Value::DateTime { ticks: 1, kind: 1 },
            object(1, &r),
        ]
        .iter()
        .map(Value::type_name)
        .collect();
        assert_eq!(
            names,
            [
                "null", "bool", "int", "double", "string", "bytes", "datetime", "object"
            ]
        );
    }

    #[test]
    fn same_as_compares_variant_and_payload() {
        assert!(Value::Null.same_as(&Value::Null));
        assert!(Value::Int(3).same_as(&Value::Int(3)));
        assert!(!Value::Int(1).same_as(&Value::Double(1.0)));
        assert!(!Value::Int(1).same_as(&Value::Text("1".into())));
        assert!(Value::Double(f64::NAN).same_as(&Value::Double(f64::NAN)));
        assert!(!Value::Double(0.0).same_as(&Value::Double(-0.0)));
        assert!(Value::Text("a".into()).same_as(&Value::Text("a".into())));
        assert!(!Value::Text("a".into()).same_as(&Value::Text("A".into())));
        assert!(Value::Bytes(vec![1, 2]).same_as(&Value::Bytes(vec![1, 2])));
        assert!(
            !Value::DateTime { ticks: 1, kind: 0 }.same_as(&Value::DateTime { ticks: 1, kind: 1 })
        );
        assert!(Value::Bool(false).same_as(&Value::Bool(false)));
    }

    #[test]
    fn objects_compare_by_id() {
        let (r, _) = recording_releaser();
        assert!(object(7, &r).same_as(&object(7, &r)));
        assert!(!object(7, &r).same_as(&object(8, &r)));
    }

    #[test]
    fn releaser_runs_once_when_last_ref_drops() {
        let (r, released) = recording_releaser();
        let v = object(42, &r);
        let copy = v.clone();
        drop(v);
        assert!(released.lock().unwrap().is_empty(), "a copy is still alive");
        drop(copy);
        assert_eq!(*released.lock().unwrap(), [42]);
    }

    #[test]
    fn panicking_releaser_does_not_unwind() {
        let r: Releaser = Arc::new(|_| panic!("release failed"));
        drop(object(1, &r));
    }

    #[test]
    fn stored_values_are_16_bytes_and_round_trip() {
        assert_eq!(std::mem::size_of::<StoredValue>(), 16);
        let (r, released) = recording_releaser();
        let long = "long text ".repeat(10);
        let samples = [
            Value::Null,
            Value::Bool(true),
            Value::Int(i64::MIN),
            Value::Double(f64::from_bits(0xfff8_0000_0000_0001)),
            Value::Double(-0.0),
            Value::Text(String::new()),
            Value::Text("short".into()),
            Value::Text(long.clone()),
            Value::Bytes(vec![]),
            Value::Bytes(vec![0, 255]),
            Value::DateTime { ticks: 7, kind: 2 },
            object(3, &r),
        ];
        for value in samples {
            let stored = StoredValue::from(value.clone());
            assert_eq!(stored.type_name(), value.type_name());
            assert!(stored.same_as(&value), "{value:?}");
            assert!(stored.to_value().same_as(&value), "{value:?}");
            assert!(stored.into_value().same_as(&value), "{value:?}");
        }
        assert_eq!(
            *released.lock().unwrap(),
            [3],
            "conversions share the object: released once, by the last copy"
        );
        let stored = StoredValue::from(Value::Text(long.clone()));
        let StoredValue::Text(inner) = &stored else {
            unreachable!()
        };
        let buffer = inner.as_ptr();
        let Value::Text(back) = stored.into_value() else {
            unreachable!()
        };
        assert_eq!(back.as_ptr(), buffer, "long text is moved, not copied");
        assert!(!StoredValue::Int(1).same_as(&Value::Double(1.0)));
        assert!(!StoredValue::from(Value::from("a")).same_as(&Value::from("A")));
    }

    #[test]
    fn debug_shows_id() {
        let (r, _) = recording_releaser();
        assert_eq!(
            format!("{:?}", ObjectRef::new(9, r)),
            "ObjectRef { id: 9, .. }"
        );
    }
}
