//! Data as compact bytes: how data crosses the C ABI between C#'s
//! `PowerShellData` and Rust (little-endian throughout).
//!
//! ```text
//! value   := tag:u8 payload
//! tag  0  Null
//!      1  Bool            u8
//!      2  Integer         kind:u8 (IntKind::ALL index) bits:u64 (two's complement; ULong as is)
//!      3  Double          bits:u64
//!      4  Decimal         text
//!      5  Text            text
//!      6  Char            u16
//!      7  Bytes           len:u32 bytes
//!      8  DateTime        ticks:i64 kind:u8
//!      9  DateTimeOffset  ticks:i64 offsetMinutes:i16
//!     10  TimeSpan        ticks:i64
//!     11  Guid            text
//!     12  Uri             text
//!     13  Version         text
//!     14  Enum            typeName:text name:text kind:u8 bits:u64
//!     15  List            count:u32 value*
//!     16  Dictionary      ordered:u8 count:u32 (key:value value:value)*
//!     17  Object          count:u32 typeName:text* count:u32 (name:text value:value)*
//!     18  Unsavable       typeName:text
//!     19  Single          bits:u32
//!     20  BigInteger      text
//! text    := len:u32 UTF-8
//! entries := count:u32 (key:value value:value)*       (a whole table)
//! ```
//!
//! C# writes and reads the same layout (module/Table/DataWire.cs). Decoding
//! checks every length and tag and never recurses deeper than the data may
//! nest, so malformed bytes are an error, never a panic.

use super::{Data, IntKind, MAX_DEPTH};

pub fn encode(data: &Data, out: &mut Vec<u8>) {
    match data {
        Data::Null => out.push(0),
        Data::Bool(b) => {
            out.push(1);
            out.push(u8::from(*b));
        }
        Data::Integer(kind, n) => {
            out.push(2);
            integer(out, *kind, *n);
        }
        Data::Double(x) => {
            out.push(3);
            out.extend_from_slice(&x.to_bits().to_le_bytes());
        }
        Data::Decimal(text) => tagged_text(out, 4, text),
        Data::Single(x) => {
            out.push(19);
            out.extend_from_slice(&x.to_bits().to_le_bytes());
        }
        Data::BigInteger(text) => tagged_text(out, 20, text),
        Data::Text(text) => tagged_text(out, 5, text),
        Data::Char(c) => {
            out.push(6);
            out.extend_from_slice(&c.to_le_bytes());
        }
        Data::Bytes(bytes) => {
            out.push(7);
            length(out, bytes.len());
            out.extend_from_slice(bytes);
        }
        Data::DateTime { ticks, kind } => {
            out.push(8);
            out.extend_from_slice(&ticks.to_le_bytes());
            out.push(*kind);
        }
        Data::DateTimeOffset { ticks, offset_minutes } => {
            out.push(9);
            out.extend_from_slice(&ticks.to_le_bytes());
            out.extend_from_slice(&offset_minutes.to_le_bytes());
        }
        Data::TimeSpan(ticks) => {
            out.push(10);
            out.extend_from_slice(&ticks.to_le_bytes());
        }
        Data::Guid(text) => tagged_text(out, 11, text),
        Data::Uri(text) => tagged_text(out, 12, text),
        Data::Version(text) => tagged_text(out, 13, text),
        Data::Enum { type_name, name, kind, value } => {
            out.push(14);
            text(out, type_name);
            text(out, name);
            integer(out, *kind, *value);
        }
        Data::List(items) => {
            out.push(15);
            length(out, items.len());
            for item in items {
                encode(item, out);
            }
        }
        Data::Dictionary { ordered, entries } => {
            out.push(16);
            out.push(u8::from(*ordered));
            length(out, entries.len());
            for (key, value) in entries {
                encode(key, out);
                encode(value, out);
            }
        }
        Data::Object { type_names, properties } => {
            out.push(17);
            length(out, type_names.len());
            for name in type_names {
                text(out, name);
            }
            length(out, properties.len());
            for (name, value) in properties {
                text(out, name);
                encode(value, out);
            }
        }
        Data::Unsavable { type_name } => tagged_text(out, 18, type_name),
    }
}

/// A whole table's entries.
pub fn encode_entries(entries: &[(Data, Data)]) -> Vec<u8> {
    let mut out = Vec::new();
    length(&mut out, entries.len());
    for (key, value) in entries {
        encode(key, &mut out);
        encode(value, &mut out);
    }
    out
}

pub fn decode_entries(bytes: &[u8]) -> Result<Vec<(Data, Data)>, String> {
    let mut reader = Reader { bytes, at: 0 };
    let count = reader.length()?;
    let mut entries = Vec::with_capacity(count.min(bytes.len()));
    for _ in 0..count {
        let key = reader.value(0)?;
        let value = reader.value(0)?;
        entries.push((key, value));
    }
    reader.finish()?;
    Ok(entries)
}

pub fn decode(bytes: &[u8]) -> Result<Data, String> {
    let mut reader = Reader { bytes, at: 0 };
    let data = reader.value(0)?;
    reader.finish()?;
    Ok(data)
}

fn length(out: &mut Vec<u8>, len: usize) {
    // Lengths come from .NET collections, which hold at most int.MaxValue items.
    out.extend_from_slice(&(len as u32).to_le_bytes());
}

fn text(out: &mut Vec<u8>, text: &str) {
    length(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

fn tagged_text(out: &mut Vec<u8>, tag: u8, value: &str) {
    out.push(tag);
    text(out, value);
}

fn integer(out: &mut Vec<u8>, kind: IntKind, n: i128) {
    let index = IntKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    out.push(index as u8);
    // Every kind's range fits in 64 bits: signed kinds as i64, ULong as u64.
    let bits = if kind == IntKind::ULong { n as u64 } else { n as i64 as u64 };
    out.extend_from_slice(&bits.to_le_bytes());
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.bytes.len()).ok_or_else(|| {
            format!("the data ends early (at byte {} of {}, {n} more needed)", self.at, self.bytes.len())
        })?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    fn length(&mut self) -> Result<usize, String> {
        Ok(u32::from_le_bytes(self.array()?) as usize)
    }

    fn text(&mut self) -> Result<String, String> {
        let len = self.length()?;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| "text in the data is not UTF-8".to_owned())
    }

    fn integer(&mut self) -> Result<(IntKind, i128), String> {
        let kind = *IntKind::ALL.get(usize::from(self.u8()?)).ok_or("unknown integer kind in the data")?;
        let bits = self.u64()?;
        let value = if kind == IntKind::ULong { i128::from(bits) } else { i128::from(bits as i64) };
        Ok((kind, value))
    }

    fn value(&mut self, depth: usize) -> Result<Data, String> {
        let tag = self.u8()?;
        let nested = |depth: usize| {
            if depth >= MAX_DEPTH {
                Err(format!("the data nests deeper than {MAX_DEPTH} levels"))
            } else {
                Ok(depth + 1)
            }
        };
        Ok(match tag {
            0 => Data::Null,
            1 => Data::Bool(self.u8()? != 0),
            2 => {
                let (kind, value) = self.integer()?;
                Data::Integer(kind, value)
            }
            3 => Data::Double(f64::from_bits(self.u64()?)),
            4 => Data::Decimal(self.text()?),
            19 => Data::Single(f32::from_bits(u32::from_le_bytes(self.array()?))),
            20 => Data::BigInteger(self.text()?),
            5 => Data::Text(self.text()?),
            6 => Data::Char(u16::from_le_bytes(self.array()?)),
            7 => {
                let len = self.length()?;
                Data::Bytes(self.take(len)?.to_vec())
            }
            8 => Data::DateTime { ticks: self.i64()?, kind: self.u8()? },
            9 => Data::DateTimeOffset { ticks: self.i64()?, offset_minutes: i16::from_le_bytes(self.array()?) },
            10 => Data::TimeSpan(self.i64()?),
            11 => Data::Guid(self.text()?),
            12 => Data::Uri(self.text()?),
            13 => Data::Version(self.text()?),
            14 => {
                let type_name = self.text()?;
                let name = self.text()?;
                let (kind, value) = self.integer()?;
                Data::Enum { type_name, name, kind, value }
            }
            15 => {
                let depth = nested(depth)?;
                let count = self.length()?;
                let mut items = Vec::with_capacity(count.min(self.bytes.len()));
                for _ in 0..count {
                    items.push(self.value(depth)?);
                }
                Data::List(items)
            }
            16 => {
                let depth = nested(depth)?;
                let ordered = self.u8()? != 0;
                let count = self.length()?;
                let mut entries = Vec::with_capacity(count.min(self.bytes.len()));
                for _ in 0..count {
                    let key = self.value(depth)?;
                    let value = self.value(depth)?;
                    entries.push((key, value));
                }
                Data::Dictionary { ordered, entries }
            }
            17 => {
                let depth = nested(depth)?;
                let names = self.length()?;
                let type_names = (0..names).map(|_| self.text()).collect::<Result<_, _>>()?;
                let count = self.length()?;
                let mut properties = Vec::with_capacity(count.min(self.bytes.len()));
                for _ in 0..count {
                    let name = self.text()?;
                    properties.push((name, self.value(depth)?));
                }
                Data::Object { type_names, properties }
            }
            18 => Data::Unsavable { type_name: self.text()? },
            other => return Err(format!("unknown tag {other} in the data")),
        })
    }

    fn finish(&self) -> Result<(), String> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(format!("{} bytes left over after the data", self.bytes.len() - self.at))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::json::tests::every_kind;

    #[test]
    fn every_kind_round_trips() {
        let mut all = every_kind();
        all.push(Data::Unsavable { type_name: "System.Management.Automation.ScriptBlock".into() });
        for data in &all {
            let mut bytes = Vec::new();
            encode(data, &mut bytes);
            let back = decode(&bytes).unwrap();
            let mut again = Vec::new();
            encode(&back, &mut again);
            assert_eq!(bytes, again, "{data:?}");
        }
        let entries: Vec<_> = all.into_iter().map(|d| (Data::Text("k".into()), d)).collect();
        let bytes = encode_entries(&entries);
        assert_eq!(decode_entries(&bytes).unwrap().len(), entries.len());
    }

    #[test]
    fn malformed_bytes_are_errors_not_panics() {
        let mut bytes = Vec::new();
        encode(&Data::List(vec![Data::Text("abc".into()), Data::Integer(IntKind::UInt, 7)]), &mut bytes);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode(&[99]).unwrap_err().contains("unknown tag"));
        assert!(decode(&[2, 42, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap_err().contains("integer kind"));
        assert!(decode(&[5, 1, 0, 0, 0, 0xff]).unwrap_err().contains("UTF-8"));
        assert!(decode(&[0, 0]).unwrap_err().contains("left over"));
        let deep: Vec<u8> = std::iter::repeat_n([15u8, 1, 0, 0, 0], MAX_DEPTH + 1).flatten().chain([0]).collect();
        assert!(decode(&deep).unwrap_err().contains("deeper than"));
        let huge_count = [15u8, 0xff, 0xff, 0xff, 0xff];
        assert!(decode(&huge_count).is_err(), "a count larger than the data fails without allocating it");
    }
}
