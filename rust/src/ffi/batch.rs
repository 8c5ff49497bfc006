//! Batches C# writes into one buffer, so that many items cross the C ABI in
//! one call: an import's entries (`put_many`), `-InitialValue`'s keys
//! (`first_duplicate_key`). Little-endian records, one after another:
//!
//! - a key: u8 0, u32 length, UTF-8 text; or u8 1, i64;
//! - an entry: a key, then its value: u8 kind (C#'s `ValueKind` number), i64
//!   number, f64 real, u8 flag, u32 length, bytes.

use crate::ffi::fault::Fault;
use crate::ffi::values::{LentBytes, ValueIn, ValueKind};
use crate::table::KeyRef;

/// The value kinds in the order C# numbers them (`ValueKind`'s declaration order).
const KINDS: [ValueKind; 10] = [
    ValueKind::Null,
    ValueKind::Bool,
    ValueKind::Int,
    ValueKind::Double,
    ValueKind::Text,
    ValueKind::Bytes,
    ValueKind::DateTime,
    ValueKind::Object,
    ValueKind::Data,
    ValueKind::Clixml,
];

/// The keys of a batch of keys.
pub fn keys(bytes: &[u8]) -> Result<Vec<KeyRef<'_>>, Fault> {
    let mut reader = Reader { bytes, at: 0 };
    let mut keys = Vec::new();
    while !reader.done() {
        keys.push(reader.key()?);
    }
    Ok(keys)
}

/// The entries of a batch of entries.
pub fn entries(bytes: &[u8]) -> Result<Vec<(KeyRef<'_>, ValueIn)>, Fault> {
    let mut reader = Reader { bytes, at: 0 };
    let mut entries = Vec::new();
    while !reader.done() {
        let key = reader.key()?;
        let kind = *KINDS.get(reader.take(1)?[0] as usize).ok_or_else(malformed)?;
        let number = i64::from_le_bytes(reader.array()?);
        let real = f64::from_le_bytes(reader.array()?);
        let flag = reader.take(1)?[0];
        let len = u32::from_le_bytes(reader.array()?) as usize;
        let payload = reader.take(len)?;
        let value = ValueIn { kind, number, real, bytes: LentBytes { ptr: payload.as_ptr(), len: payload.len() as u64 }, flag };
        entries.push((key, value));
    }
    Ok(entries)
}

fn malformed() -> Fault {
    Fault::invalid("The batch from C# is malformed.")
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Fault> {
        let slice = self.bytes.get(self.at..self.at + n).ok_or_else(malformed)?;
        self.at += n;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Fault> {
        self.take(N)?.try_into().map_err(|_| malformed())
    }

    fn key(&mut self) -> Result<KeyRef<'a>, Fault> {
        Ok(match self.take(1)?[0] {
            0 => {
                let len = u32::from_le_bytes(self.array()?) as usize;
                KeyRef::Text(std::str::from_utf8(self.take(len)?).map_err(|_| Fault::invalid("A key is not valid UTF-8."))?)
            }
            1 => KeyRef::Int(i64::from_le_bytes(self.array()?)),
            _ => return Err(malformed()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_and_refuses_a_cut_batch() {
        let mut bytes = vec![0];
        bytes.extend_from_slice(&2u32.to_le_bytes());
        bytes.extend_from_slice(b"ab");
        bytes.push(1);
        bytes.extend_from_slice(&(-5i64).to_le_bytes());
        let read = keys(&bytes).unwrap();
        assert!(matches!(read.as_slice(), [KeyRef::Text("ab"), KeyRef::Int(-5)]));
        assert!(keys(&bytes[..bytes.len() - 1]).is_err());
        assert!(keys(&[2]).is_err());
    }
}
