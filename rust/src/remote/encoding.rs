//! Keys and values as bytes in Redis hashes.
//!
//! # Fields (keys)
//! A text key is `t` + its text, an integer key `i` + its decimal digits, so
//! `'1'` and `1` stay two keys as in the in-process table. A table that
//! ignores case stores the text folded exactly as the in-process table
//! compares it (.NET `OrdinalIgnoreCase`) and keeps the spelling the key was
//! first stored with in a separate hash, so every process agrees on which
//! spellings are one key.
//!
//! # Values
//! An integer is stored as bare decimal digits, so the server's own
//! `HINCRBY` adds to it atomically and refuses overflow. Everything else is
//! one tag byte (never a digit or `-`) followed by its payload.

use crate::table::KeyRef;
use crate::table::key::fold_char;

/// A value as the Redis store reads and writes it; text and bytes borrowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Remote<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Text(&'a [u8]),
    Bytes(&'a [u8]),
    DateTime { ticks: i64, kind: u8 },
    /// PowerShell data (arrays, hashtables, [PSCustomObject]...) in the data
    /// wire format of [`crate::data::wire`], written and read by C#.
    Data(&'a [u8]),
    /// Any other object, as PowerShell serializes it between processes.
    Clixml(&'a [u8]),
}

const NULL: u8 = b'n';
const BOOL: u8 = b'b';
const DOUBLE: u8 = b'f';
const TEXT: u8 = b's';
const BYTES: u8 = b'x';
const DATETIME: u8 = b'd';
const DATA: u8 = b'w';
const CLIXML: u8 = b'c';

/// The bytes stored for `value`.
pub fn encode(value: Remote<'_>) -> Vec<u8> {
    fn tagged(tag: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + payload.len());
        out.push(tag);
        out.extend_from_slice(payload);
        out
    }
    match value {
        Remote::Null => vec![NULL],
        Remote::Bool(b) => vec![BOOL, if b { b'1' } else { b'0' }],
        Remote::Int(n) => n.to_string().into_bytes(),
        // Debug formatting is the shortest text that parses back to the same bits.
        Remote::Double(x) => tagged(DOUBLE, format!("{x:?}").as_bytes()),
        Remote::Text(text) => tagged(TEXT, text),
        Remote::Bytes(bytes) => tagged(BYTES, bytes),
        Remote::DateTime { ticks, kind } => {
            let mut out = vec![DATETIME, kind];
            out.extend_from_slice(&ticks.to_le_bytes());
            out
        }
        Remote::Data(bytes) => tagged(DATA, bytes),
        Remote::Clixml(bytes) => tagged(CLIXML, bytes),
    }
}

/// The value `bytes` hold; an error names what was wrong (another program
/// wrote to SyncPool's keys).
pub fn decode(bytes: &[u8]) -> Result<Remote<'_>, String> {
    let bad = || format!("a value on the server is not in SyncPool's format (it starts with {:?})", String::from_utf8_lossy(&bytes[..bytes.len().min(8)]));
    let Some((&tag, payload)) = bytes.split_first() else { return Err(bad()) };
    Ok(match tag {
        b'-' | b'0'..=b'9' => Remote::Int(std::str::from_utf8(bytes).ok().and_then(|t| t.parse().ok()).ok_or_else(bad)?),
        NULL => Remote::Null,
        BOOL => Remote::Bool(payload == b"1"),
        DOUBLE => Remote::Double(std::str::from_utf8(payload).ok().and_then(parse_double).ok_or_else(bad)?),
        TEXT => Remote::Text(payload),
        BYTES => Remote::Bytes(payload),
        DATETIME if payload.len() == 9 => {
            let mut ticks = [0u8; 8];
            ticks.copy_from_slice(&payload[1..]);
            let (ticks, kind) = (i64::from_le_bytes(ticks), payload[0]);
            // A value another program wrote may hold what .NET would refuse.
            crate::data::text_forms::check_datetime(ticks, kind).map_err(|_| bad())?;
            Remote::DateTime { ticks, kind }
        }
        DATA => Remote::Data(payload),
        CLIXML => Remote::Clixml(payload),
        _ => return Err(bad()),
    })
}

/// Doubles written by Rust (`1.5`, `NaN`, `inf`) or by the increment script
/// (Lua's `%.17g`: `3`, `nan`, `-inf`).
pub fn parse_double(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().or_else(|| match text.to_ascii_lowercase().trim_start_matches('-') {
        "nan" => Some(f64::NAN),
        _ => None,
    })
}

/// The hash field for `key`.
pub fn field(key: KeyRef<'_>, case_sensitive: bool) -> Vec<u8> {
    match key {
        KeyRef::Int(n) => format!("i{n}").into_bytes(),
        KeyRef::Text(text) if case_sensitive => {
            let mut out = Vec::with_capacity(1 + text.len());
            out.push(b't');
            out.extend_from_slice(text.as_bytes());
            out
        }
        KeyRef::Text(text) => {
            let mut out = String::with_capacity(1 + text.len());
            out.push('t');
            out.extend(text.chars().map(fold_char));
            out.into_bytes()
        }
    }
}

/// The spelling to remember next to `field`: only needed where the field
/// does not keep it (text keys of a table that ignores case); empty otherwise.
pub fn spelling<'a>(key: KeyRef<'a>, case_sensitive: bool) -> &'a [u8] {
    match key {
        KeyRef::Text(text) if !case_sensitive => text.as_bytes(),
        _ => b"",
    }
}

/// The key a field names, in `spelling` when one was kept.
pub fn key_of(field: &[u8], spelling: Option<&[u8]>) -> Result<crate::table::Key, String> {
    use crate::table::Key;
    let bad = || "a key on the server is not in SyncPool's format".to_string();
    if let Some(spelling) = spelling {
        return String::from_utf8(spelling.to_vec()).map(Key::Text).map_err(|_| bad());
    }
    match field.split_first() {
        Some((b't', text)) => String::from_utf8(text.to_vec()).map(Key::Text).map_err(|_| bad()),
        Some((b'i', digits)) => std::str::from_utf8(digits).ok().and_then(|d| d.parse().ok()).map(Key::Int).ok_or_else(bad),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_value_round_trips() {
        let values = [
            Remote::Null,
            Remote::Bool(true),
            Remote::Bool(false),
            Remote::Int(i64::MIN),
            Remote::Int(42),
            Remote::Double(0.1),
            Remote::Double(-0.0),
            Remote::Double(1e300),
            Remote::Double(f64::INFINITY),
            Remote::Text("héllo 12".as_bytes()),
            Remote::Text(b""),
            Remote::Bytes(&[0, 255, 1]),
            Remote::DateTime { ticks: 638_000_000_000_000_000, kind: 1 },
            Remote::Data(&[17, 0, 0]),
            Remote::Clixml(b"<Objs/>"),
        ];
        for value in values {
            let bytes = encode(value);
            assert_eq!(decode(&bytes).unwrap(), value, "{bytes:?}");
        }
        assert!(matches!(decode(&encode(Remote::Double(f64::NAN))).unwrap(), Remote::Double(x) if x.is_nan()));
        assert!(decode(b"").is_err() && decode(b"zzz").is_err() && decode(b"12x").is_err());
    }

    #[test]
    fn datetimes_of_every_kind_read_back_and_foreign_ones_are_refused() {
        // Kind 2 (local, wall-clock ticks) is what earlier versions wrote; it reads as it was.
        for kind in [0, 1, 2, 4] {
            let value = Remote::DateTime { ticks: 638_000_000_000_000_000, kind };
            assert_eq!(decode(&encode(value)).unwrap(), value, "kind {kind}");
        }
        assert!(decode(&encode(Remote::DateTime { ticks: 1, kind: 3 })).is_err(), "no kind 3");
        assert!(decode(&encode(Remote::DateTime { ticks: -1, kind: 1 })).is_err(), "ticks before year 1");
    }

    #[test]
    fn integers_are_bare_digits_so_the_server_can_add_to_them() {
        assert_eq!(encode(Remote::Int(-17)), b"-17");
        assert_eq!(encode(Remote::Text(b"17")), b"s17", "text that looks like a number is not one");
    }

    #[test]
    fn lua_doubles_parse() {
        assert_eq!(parse_double("3"), Some(3.0));
        assert_eq!(parse_double("-inf"), Some(f64::NEG_INFINITY));
        assert!(parse_double("-nan").unwrap().is_nan());
    }

    #[test]
    fn fields_fold_case_like_the_in_process_table() {
        assert_eq!(field(KeyRef::Text("Straße"), false), field(KeyRef::Text("STRAßE"), false), "ß stays ß, as in .NET");
        assert_eq!(field(KeyRef::Text("abc"), false), field(KeyRef::Text("ABC"), false));
        assert_ne!(field(KeyRef::Text("abc"), true), field(KeyRef::Text("ABC"), true));
        assert_ne!(field(KeyRef::Text("1"), false), field(KeyRef::Int(1), false));
        assert_eq!(key_of(&field(KeyRef::Int(-5), false), None).unwrap(), crate::table::Key::Int(-5));
        assert_eq!(key_of(&field(KeyRef::Text("Abc"), true), None).unwrap(), crate::table::Key::Text("Abc".into()));
        assert_eq!(key_of(b"tABC", Some(b"aBc")).unwrap(), crate::table::Key::Text("aBc".into()));
    }
}
