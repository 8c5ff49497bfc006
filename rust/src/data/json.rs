//! Typed JSON: every [`Data`] value as a JSON object that says what it is,
//! so it reads back exactly.
//!
//! ```json
//! {"type": "int",      "value": 42}
//! {"type": "long",     "value": 42}                 (also short, byte, sbyte, ushort, uint, ulong)
//! {"type": "double",   "value": "0.1"}              (shortest text that reads back to the same bits;
//!                                                    "NaN" / "Infinity" / "-Infinity", a NaN with "bits")
//! {"type": "single",   "value": "1.1"}              (the same for a [single]; a NaN's "bits" are 8 digits)
//! {"type": "decimal",  "value": "1.10"}
//! {"type": "bigint",   "value": "123456789012345678901234567890"}
//! {"type": "string",   "value": "Ada"}
//! {"type": "char",     "value": 97}                 (the UTF-16 code unit)
//! {"type": "bool",     "value": true}
//! {"type": "null"}
//! {"type": "bytes",    "value": "AAEC"}             (base64)
//! {"type": "datetime", "value": {"ticks": 638000000000000000, "kind": 1}}
//! {"type": "datetimeoffset", "value": {"ticks": 638000000000000000, "offsetMinutes": 60}}
//! {"type": "timespan", "value": 12345678}           (ticks)
//! {"type": "guid",     "value": "0f8fad5b-d9cb-469f-a165-70867728950e"}
//! {"type": "uri",      "value": "https://example.org/a"}
//! {"type": "version",  "value": "1.2.3"}
//! {"type": "enum",     "enumType": "System.DayOfWeek", "enumName": "Monday", "underlying": "int", "value": 1}
//! {"type": "list",     "value": [ node, ... ]}
//! {"type": "hashtable","value": [ {"key": K, ...node}, ... ]}   (also "ordered")
//! {"type": "pscustomobject", "typeNames": ["My.Type"], "value": [ {"name": "Ping", ...node}, ... ]}
//! ```
//!
//! A dictionary key `K` is a JSON string (a text key), a JSON integer (an
//! `[int]` key), or a node for any other key. `typeNames` is only there for
//! objects made with a `PSTypeName`. An enum reads back as its underlying
//! integer: the enum type may not exist where the file is read.

use super::json_tree::JsonTree;
use super::text_forms::{Float, float_text, parse_float_text};
use super::{Data, IntKind, base64};
use serde_json::Number;

/// `data` as a node: a JSON object starting with the caller's `first`
/// members (a `key` or `name`), then `type`, `value` and any others.
pub(crate) fn node(first: Vec<(String, JsonTree)>, data: &Data) -> JsonTree {
    let mut members = first;
    let mut put = |name: &str, value: JsonTree| members.push((name.to_owned(), value));
    put("type", data.type_tag().into());
    match data {
        Data::Null => {}
        Data::Bool(b) => put("value", (*b).into()),
        Data::Integer(_, n) => put("value", integer(*n)),
        Data::Double(x) => put_float(&mut put, *x),
        Data::Single(x) => put_float(&mut put, *x),
        Data::Decimal(text) | Data::BigInteger(text) | Data::Text(text) | Data::Guid(text) | Data::Uri(text) | Data::Version(text) => {
            put("value", text.as_str().into())
        }
        Data::Char(c) => put("value", i64::from(*c).into()),
        Data::Bytes(bytes) => put("value", base64::encode(bytes).into()),
        Data::DateTime { ticks, kind } => put(
            "value",
            JsonTree::object(vec![("ticks", (*ticks).into()), ("kind", i64::from(*kind).into())]),
        ),
        Data::DateTimeOffset { ticks, offset_minutes } => put(
            "value",
            JsonTree::object(vec![("ticks", (*ticks).into()), ("offsetMinutes", i64::from(*offset_minutes).into())]),
        ),
        Data::TimeSpan(ticks) => put("value", (*ticks).into()),
        Data::Enum { type_name, name, kind, value } => {
            put("enumType", type_name.as_str().into());
            put("enumName", name.as_str().into());
            put("underlying", kind.name().into());
            put("value", integer(*value));
        }
        Data::List(items) => put("value", JsonTree::Array(items.iter().map(|item| node(Vec::new(), item)).collect())),
        Data::Dictionary { ordered, entries } => {
            // An ordered dictionary keeps its order; a hashtable's is an accident of hashing.
            let mut entries: Vec<&(Data, Data)> = entries.iter().collect();
            if !*ordered {
                entries.sort_by(|(a, _), (b, _)| crate::data::document::key_order(a, b));
            }
            put(
                "value",
                JsonTree::Array(entries.into_iter().map(|(key, value)| node(vec![("key".to_owned(), key_json(key))], value)).collect()),
            )
        }
        Data::Object { type_names, properties } => {
            if !type_names.is_empty() {
                put("typeNames", JsonTree::Array(type_names.iter().map(|name| name.as_str().into()).collect()));
            }
            put(
                "value",
                JsonTree::Array(
                    properties
                        .iter()
                        .map(|(name, value)| node(vec![("name".to_owned(), name.as_str().into())], value))
                        .collect(),
                ),
            );
        }
        // Exports refuse these before writing anything (see `document`).
        Data::Unsavable { .. } => {}
    }
    JsonTree::Object(members)
}


/// A dictionary key: text as a string, an `[int]` as a number, anything else as a node.
pub(crate) fn key_json(key: &Data) -> JsonTree {
    match key {
        Data::Text(text) => text.as_str().into(),
        Data::Integer(IntKind::Int, n) => integer(*n),
        other => node(Vec::new(), other),
    }
}

fn integer(n: i128) -> JsonTree {
    // Every integer kind fits in an i64 or a u64.
    match i64::try_from(n) {
        Ok(n) => JsonTree::Number(n.into()),
        Err(_) => JsonTree::Number(Number::from(u64::try_from(n).unwrap_or(u64::MAX))),
    }
}

/// Reads a dictionary key written by [`key_json`].
pub(crate) fn read_key(key: &JsonTree) -> Result<Data, String> {
    match key {
        JsonTree::String(text) => Ok(Data::Text(text.clone())),
        JsonTree::Number(n) => n
            .as_i64()
            .map(|n| Data::Integer(IntKind::Int, n.into()))
            .ok_or_else(|| format!("the key {n} is not a whole number in the Int64 range")),
        JsonTree::Object(members) => read_node(members, &[]),
        other => Err(format!("a key must be a string, an integer or a typed value, not {}", other.kind())),
    }
}

/// Reads a node from an object's `members`, skipping the ones named in
/// `consumed` (the caller's `key` or `name`). Unknown or repeated members
/// are errors: a misspelt member must not be silently ignored.
pub(crate) fn read_node(members: &[(String, JsonTree)], consumed: &[&str]) -> Result<Data, String> {
    for (i, (name, _)) in members.iter().enumerate() {
        if members[..i].iter().any(|(other, _)| other == name) {
            return Err(format!("\"{name}\" is given twice"));
        }
    }
    let get = |name: &str| members.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let type_name = match get("type") {
        Some(JsonTree::String(name)) => name.as_str(),
        Some(other) => return Err(format!("\"type\" must be a string, not {}", other.kind())),
        None => return Err("\"type\" is missing".to_owned()),
    };
    let allowed: &[&str] = match type_name {
        "double" | "single" => &["bits"],
        "enum" => &["enumType", "enumName", "underlying"],
        "pscustomobject" => &["typeNames"],
        _ => &[],
    };
    if let Some((unknown, _)) = members
        .iter()
        .find(|(name, _)| name != "type" && name != "value" && !allowed.contains(&name.as_str()) && !consumed.contains(&name.as_str()))
    {
        return Err(format!("a {type_name} has no member \"{unknown}\""));
    }
    let null = JsonTree::Null;
    let value = get("value").unwrap_or(&null);
    let wrong = |expected: &str| format!("a {type_name} value must be {expected}, found {}", value.kind());
    let text = || match value {
        JsonTree::String(text) => Ok(text.clone()),
        _ => Err(wrong("a string")),
    };
    let data = match type_name {
        "null" => match value {
            JsonTree::Null => Data::Null,
            _ => return Err(wrong("null")),
        },
        "bool" => match value {
            JsonTree::Bool(b) => Data::Bool(*b),
            _ => return Err(wrong("true or false")),
        },
        "double" => Data::Double(read_float(value, get("bits"), Some(|n: &Number| n.as_f64()), "a double value must be a string or a number")?),
        "single" => Data::Single(read_float(value, get("bits"), None, "a single value must be a string")?),
        "decimal" => Data::Decimal(text()?),
        "bigint" => Data::BigInteger(text()?),
        "string" => Data::Text(text()?),
        "guid" => Data::Guid(text()?),
        "uri" => Data::Uri(text()?),
        "version" => Data::Version(text()?),
        "char" => match value {
            JsonTree::Number(n) => Data::Char(n.as_u64().and_then(|c| u16::try_from(c).ok()).ok_or_else(|| wrong("a UTF-16 code unit (0 to 65535)"))?),
            _ => return Err(wrong("a number")),
        },
        "bytes" => Data::Bytes(base64::decode(&text()?)?),
        "datetime" => {
            let parts = read_parts(value, &["ticks", "kind"]).map_err(|why| wrong(&why))?;
            Data::DateTime { ticks: parts[0], kind: u8::try_from(parts[1]).map_err(|_| "datetime kind must be 0, 1, 2 or 4".to_owned())? }
        }
        "datetimeoffset" => {
            let parts = read_parts(value, &["ticks", "offsetMinutes"]).map_err(|why| wrong(&why))?;
            Data::DateTimeOffset {
                ticks: parts[0],
                offset_minutes: i16::try_from(parts[1]).map_err(|_| "a datetimeoffset offset must be within 14 hours".to_owned())?,
            }
        }
        "timespan" => match value {
            JsonTree::Number(n) => Data::TimeSpan(n.as_i64().ok_or_else(|| wrong("a whole number of ticks"))?),
            _ => return Err(wrong("a number of ticks")),
        },
        "enum" => {
            let name = |member: &str| match get(member) {
                Some(JsonTree::String(s)) => Ok(s.clone()),
                _ => Err(format!("an enum needs \"{member}\" as a string")),
            };
            let kind = IntKind::from_name(&name("underlying")?).ok_or("an enum's \"underlying\" must be an integer type name")?;
            Data::Enum { type_name: name("enumType")?, name: name("enumName")?, kind, value: read_integer(value).map_err(|why| wrong(&why))? }
        }
        "list" => match value {
            JsonTree::Array(items) => Data::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| match item {
                        JsonTree::Object(members) => read_node(members, &[]).map_err(|why| format!("[{i}]: {why}")),
                        other => Err(format!("[{i}]: a list item must be a typed value (an object), not {}", other.kind())),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(wrong("an array")),
        },
        "hashtable" | "ordered" => match value {
            JsonTree::Array(items) => Data::Dictionary { ordered: type_name == "ordered", entries: read_entries(items)? },
            _ => return Err(wrong("an array of entries")),
        },
        "pscustomobject" => {
            let type_names = match get("typeNames") {
                None => Vec::new(),
                Some(JsonTree::Array(names)) => names
                    .iter()
                    .map(|name| match name {
                        JsonTree::String(s) => Ok(s.clone()),
                        _ => Err("\"typeNames\" must hold strings".to_owned()),
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err("\"typeNames\" must be an array of strings".to_owned()),
            };
            let JsonTree::Array(items) = value else { return Err(wrong("an array of properties")) };
            let properties = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let JsonTree::Object(members) = item else {
                        return Err(format!("property {i} must be an object"));
                    };
                    let Some((_, JsonTree::String(name))) = members.iter().find(|(n, _)| n == "name") else {
                        return Err(format!("property {i} needs a \"name\" string"));
                    };
                    let value = read_node(members, &["name"]).map_err(|why| format!(".{name}: {why}"))?;
                    Ok((name.clone(), value))
                })
                .collect::<Result<_, String>>()?;
            Data::Object { type_names, properties }
        }
        "object" => return Err("live .NET objects cannot be imported".to_owned()),
        other => match IntKind::from_name(other) {
            Some(kind) => Data::Integer(kind, read_integer(value).map_err(|why| wrong(&why))?),
            None => return Err(format!("unknown type '{other}'")),
        },
    };
    Ok(data)
}

/// Entries `{"key": K, ...node}` of a dictionary.
pub(crate) fn read_entries(items: &[JsonTree]) -> Result<Vec<(Data, Data)>, String> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let JsonTree::Object(members) = item else {
                return Err(format!("entry {i} must be an object"));
            };
            let Some((_, key)) = members.iter().find(|(n, _)| n == "key") else {
                return Err(format!("entry {i} has no \"key\""));
            };
            let key = read_key(key).map_err(|why| format!("entry {i}: {why}"))?;
            let value = read_node(members, &["key"]).map_err(|why| format!("{{{}}}: {why}", key.display_key()))?;
            Ok((key, value))
        })
        .collect()
}

fn read_integer(value: &JsonTree) -> Result<i128, String> {
    match value {
        JsonTree::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .ok_or_else(|| "a whole number".to_owned()),
        _ => Err("a whole number".to_owned()),
    }
}

/// The whole-number members of an object such as `{"ticks": ..., "kind": ...}`, in `names` order.
fn read_parts(value: &JsonTree, names: &[&str]) -> Result<Vec<i64>, String> {
    let describe = || format!("an object with {}", names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(" and "));
    let JsonTree::Object(members) = value else { return Err(describe()) };
    if members.len() != names.len() || members.iter().any(|(n, _)| !names.contains(&n.as_str())) {
        return Err(describe());
    }
    names
        .iter()
        .map(|name| match members.iter().find(|(n, _)| n == name) {
            Some((_, JsonTree::Number(n))) => n.as_i64().ok_or_else(describe),
            _ => Err(describe()),
        })
        .collect()
}

/// A double's or single's value and, for a NaN, its "bits".
fn put_float<F: Float>(put: &mut impl FnMut(&str, JsonTree), x: F) {
    put("value", float_text(x).into());
    if x.is_nan() {
        put("bits", format!("{:0width$x}", x.bits(), width = F::BIT_DIGITS).into());
    }
}

/// A double or single written by [`put_float`]: its text, or (where
/// `from_number` is given) a JSON number, refined by "bits".
fn read_float<F: Float>(
    value: &JsonTree,
    bits: Option<&JsonTree>,
    from_number: Option<fn(&Number) -> Option<F>>,
    expected: &str,
) -> Result<F, String> {
    let parsed = match (value, from_number) {
        (JsonTree::String(text), _) => parse_float_text(text)?,
        (JsonTree::Number(n), Some(from_number)) => from_number(n).ok_or_else(|| format!("{n} is not a double"))?,
        (other, _) => return Err(format!("{expected}, found {}", other.kind())),
    };
    let Some(bits) = bits else { return Ok(parsed) };
    let exact = match bits {
        JsonTree::String(hex) if hex.len() == F::BIT_DIGITS => u64::from_str_radix(hex, 16).ok(),
        _ => None,
    }
    .map(F::from_bits)
    .ok_or_else(|| format!("\"bits\" must be {} hexadecimal digits", F::BIT_DIGITS))?;
    // The bits refine the value (which NaN); they may not contradict it.
    if exact.is_nan() && parsed.is_nan() || exact.bits() == parsed.bits() {
        Ok(exact)
    } else {
        Err("\"bits\" do not match the value".to_owned())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One value of every kind, nested.
    pub(crate) fn every_kind() -> Vec<Data> {
        vec![
            Data::Null,
            Data::Bool(true),
            Data::Integer(IntKind::Int, i64::MIN.into()),
            Data::Integer(IntKind::Long, 5),
            Data::Integer(IntKind::ULong, u64::MAX.into()),
            Data::Integer(IntKind::SByte, -128),
            Data::Double(0.1),
            Data::Double(-0.0),
            Data::Double(f64::from_bits(0xfff8_0000_0000_0001)),
            Data::Double(f64::INFINITY),
            Data::Single(1.1),
            Data::Single(-0.0),
            Data::Single(f32::from_bits(0xffc0_0001)),
            Data::Decimal("1.10".into()),
            Data::BigInteger("-123456789012345678901234567890".into()),
            Data::Text("héllo \"wörld\"\n\u{0}\u{1F600}".into()),
            Data::Char(0xd800),
            Data::Bytes((0..=255).collect()),
            Data::DateTime { ticks: 638_000_000_000_000_000, kind: 1 },
            Data::DateTimeOffset { ticks: 638_000_000_000_000_000, offset_minutes: -330 },
            Data::TimeSpan(-12_345_678),
            Data::Guid("0f8fad5b-d9cb-469f-a165-70867728950e".into()),
            Data::Uri("../relative?x=1".into()),
            Data::Version("1.2.3".into()),
            Data::Enum { type_name: "System.DayOfWeek".into(), name: "Monday".into(), kind: IntKind::Int, value: 1 },
            Data::List(vec![Data::Null, Data::List(vec![Data::Text("inner".into())])]),
            Data::Dictionary {
                ordered: true,
                entries: vec![
                    (Data::Text("z".into()), Data::Integer(IntKind::Int, 1)),
                    (Data::Integer(IntKind::Int, 2), Data::Null),
                    (Data::Integer(IntKind::Long, 2), Data::Null),
                    (Data::Guid("0f8fad5b-d9cb-469f-a165-70867728950e".into()), Data::Bool(false)),
                ],
            },
            Data::Dictionary { ordered: false, entries: vec![] },
            Data::Object {
                type_names: vec!["Seed.Result".into()],
                properties: vec![
                    ("Ping".into(), Data::Bool(true)),
                    ("TimeFinished".into(), Data::DateTime { ticks: 1, kind: 2 }),
                ],
            },
            Data::Object { type_names: vec![], properties: vec![] },
        ]
    }

    fn same(a: &Data, b: &Data) -> bool {
        match (a, b) {
            (Data::Double(x), Data::Double(y)) => x.to_bits() == y.to_bits(),
            (Data::Single(x), Data::Single(y)) => x.to_bits() == y.to_bits(),
            (Data::List(x), Data::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
            _ => a == b,
        }
    }

    #[test]
    fn a_hashtable_is_written_in_key_order_whatever_order_it_came_in() {
        let entries = |keys: &[&str]| keys.iter().map(|k| (Data::Text((*k).into()), Data::Bool(true))).collect::<Vec<_>>();
        let one = Data::Dictionary { ordered: false, entries: entries(&["Inner", "Hosts", "b"]) };
        let other = Data::Dictionary { ordered: false, entries: entries(&["b", "Inner", "Hosts"]) };
        assert_eq!(node(Vec::new(), &one).to_pretty_string(), node(Vec::new(), &other).to_pretty_string());
        let ordered = Data::Dictionary { ordered: true, entries: entries(&["Inner", "Hosts"]) };
        let text = node(Vec::new(), &ordered).to_pretty_string();
        assert!(text.find("Inner").unwrap() < text.find("Hosts").unwrap(), "an ordered dictionary keeps its order: {text}");
    }

    #[test]
    fn every_kind_round_trips_exactly() {
        for data in every_kind() {
            data.check().unwrap();
            let JsonTree::Object(members) = JsonTree::parse(&node(Vec::new(), &data).to_pretty_string()).unwrap() else {
                panic!()
            };
            let back = read_node(&members, &[]).unwrap();
            assert!(same(&back, &data), "{data:?} came back as {back:?}");
        }
    }

    #[test]
    fn refuses_malformed_nodes_saying_why() {
        let cases = [
            (r#"{"value":1}"#, "\"type\" is missing"),
            (r#"{"type":"int","value":1.5}"#, "whole number"),
            (r#"{"type":"int","value":1,"vaule":2}"#, "no member \"vaule\""),
            (r#"{"type":"int","type":"long","value":1}"#, "given twice"),
            (r#"{"type":"widget"}"#, "unknown type 'widget'"),
            (r#"{"type":"object","value":1}"#, "live .NET objects"),
            (r#"{"type":"list","value":[1]}"#, "[0]: a list item must be a typed value"),
            (r#"{"type":"hashtable","value":[{"type":"int","value":1}]}"#, "no \"key\""),
            (r#"{"type":"pscustomobject","value":[{"name":"a","type":"bool","value":1}]}"#, ".a: a bool value must be true or false"),
            (r#"{"type":"char","value":70000}"#, "UTF-16 code unit"),
            (r#"{"type":"datetime","value":{"ticks":1}}"#, "\"ticks\" and \"kind\""),
            (r#"{"type":"double","value":"1.0","bits":"7ff8000000000000"}"#, "do not match"),
            (r#"{"type":"bytes","value":"Zg="}"#, "base64"),
        ];
        for (json, expected) in cases {
            let JsonTree::Object(members) = JsonTree::parse(json).unwrap() else { panic!() };
            let error = read_node(&members, &[]).unwrap_err();
            assert!(error.contains(expected), "{json}: '{error}' should mention '{expected}'");
        }
    }
}
