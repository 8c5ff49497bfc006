//! Saving a table as JSON and loading it back (`Export-SyncTable`,
//! `Import-SyncTable`).
//!
//! The format is self-describing and round-trips exactly:
//!
//! ```json
//! {
//!   "format": "syncpool-table/1",
//!   "caseSensitive": false,
//!   "entries": [
//!     { "key": 7,      "type": "int",      "value": 42 },
//!     { "key": "name", "type": "string",   "value": "Ada" },
//!     { "key": "pi",   "type": "double",   "value": "3.141592653589793" },
//!     { "key": "nan",  "type": "double",   "value": "NaN", "bits": "7ff8000000000000" },
//!     { "key": "raw",  "type": "bytes",    "value": "AAEC" },
//!     { "key": "when", "type": "datetime", "value": { "ticks": 638000000000000000, "kind": 1 } },
//!     { "key": "flag", "type": "bool",     "value": true },
//!     { "key": "none", "type": "null",     "value": null }
//!   ]
//! }
//! ```
//!
//! - A text key is a JSON string and an integer key a JSON number, so `"1"`
//!   and `1` stay different keys.
//! - Integers are JSON numbers, which hold every `Int64` exactly.
//! - Doubles are written as the shortest decimal text that reads back to the
//!   same bits, inside a string: JSON numbers cannot hold `NaN`, `Infinity`
//!   or `-0`, and JSON readers need not parse numbers bit-exactly. A NaN also
//!   carries its bits (.NET's `NaN` and Rust's differ in sign). Import also
//!   accepts a plain JSON number for hand-written files.
//! - Bytes are standard, padded base64.
//! - `caseSensitive` records the exporting table's mode; an import always
//!   uses the mode of the table it loads into.
//!
//! Import checks the whole document before changing anything, so a bad file
//! leaves the table as it was.

use serde::Serialize;
use serde_json::{Map as JsonMap, Value as Json};

use super::base64;
use super::error::TableError;
use super::key::{Key, KeyRef};
use super::store::{Store, Versioned};
use super::value::Value;

/// The `format` marker of this version of the export format.
pub const FORMAT: &str = "syncpool-table/1";

/// `DateTime.MaxValue.Ticks` in .NET.
const MAX_DATETIME_TICKS: i64 = 3_155_378_975_999_999_999;
/// Highest `DateTimeKind` (`Local`).
const MAX_DATETIME_KIND: u8 = 2;

#[derive(Serialize)]
struct Document<'a> {
    format: &'static str,
    #[serde(rename = "caseSensitive")]
    case_sensitive: bool,
    entries: Vec<EntryOut<'a>>,
}

#[derive(Serialize)]
struct EntryOut<'a> {
    key: KeyOut<'a>,
    #[serde(rename = "type")]
    type_name: &'static str,
    value: ValueOut<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bits: Option<String>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum KeyOut<'a> {
    Text(&'a str),
    Int(i64),
}

#[derive(Serialize)]
#[serde(untagged)]
enum ValueOut<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Text(&'a str),
    Owned(String),
    DateTime { ticks: i64, kind: u8 },
}

impl Store {
    /// The whole table as JSON (see the module docs for the format).
    ///
    /// Entries are sorted (integer keys first, then text keys ordinally) so
    /// that exporting the same data twice gives the same text.
    ///
    /// # Errors
    /// [`TableError::NotSerializable`], naming the key, if any value is a
    /// live .NET object.
    pub fn export_json(&self) -> Result<String, TableError> {
        let mut entries = self.snapshot();
        entries.sort_by(|a, b| key_order(&a.key, &b.key));
        let entries = entries
            .iter()
            .map(entry_out)
            .collect::<Result<Vec<_>, _>>()?;
        let document = Document {
            format: FORMAT,
            case_sensitive: self.case_sensitive(),
            entries,
        };
        serde_json::to_string_pretty(&document).map_err(|e| {
            TableError::BadFormat(format!("the table could not be written as JSON: {e}"))
        })
    }

    /// Loads entries from JSON written by [`export_json`](Store::export_json)
    /// and returns how many were loaded. With `replace`, the table is cleared
    /// first; otherwise loaded keys overwrite existing ones and other keys
    /// stay.
    ///
    /// The document is checked completely before anything is written: on
    /// error the table is unchanged. Keys that this table would treat as the
    /// same key (e.g. `a` and `A` when loading a case-sensitive export into a
    /// case-insensitive table) are an error rather than a silent overwrite.
    ///
    /// Checking is all-or-nothing; writing is not a transaction: readers
    /// running at the same time can see some loaded keys before others (and,
    /// with `replace`, the table briefly empty).
    ///
    /// # Errors
    /// [`TableError::BadFormat`] saying what is wrong and where (e.g.
    /// `entries[3] (key 'x'): ...`).
    pub fn import_json(&self, json: &str, replace: bool) -> Result<usize, TableError> {
        let entries = parse_document(json)?;
        if let Some((first, second)) = self.first_duplicate(entries.iter().map(|(key, _)| key)) {
            let how = if self.case_sensitive() {
                ""
            } else {
                " (this table ignores case)"
            };
            return Err(TableError::BadFormat(format!(
                "entries[{first}] and entries[{second}] are the same key '{}'{how}",
                entries[second].0
            )));
        }
        if replace {
            self.clear();
        }
        let count = entries.len();
        for (key, value) in entries {
            self.set(KeyRef::from(&key), value);
        }
        Ok(count)
    }
}

fn key_order(a: &Key, b: &Key) -> std::cmp::Ordering {
    match (a, b) {
        (Key::Int(a), Key::Int(b)) => a.cmp(b),
        (Key::Int(_), Key::Text(_)) => std::cmp::Ordering::Less,
        (Key::Text(_), Key::Int(_)) => std::cmp::Ordering::Greater,
        (Key::Text(a), Key::Text(b)) => a.cmp(b),
    }
}

fn entry_out(entry: &Versioned) -> Result<EntryOut<'_>, TableError> {
    let key = match &entry.key {
        Key::Text(text) => KeyOut::Text(text),
        Key::Int(n) => KeyOut::Int(*n),
    };
    let mut bits = None;
    let value = match &entry.value {
        Value::Null => ValueOut::Null,
        Value::Bool(b) => ValueOut::Bool(*b),
        Value::Int(n) => ValueOut::Int(*n),
        Value::Double(x) => {
            if x.is_nan() {
                bits = Some(format!("{:016x}", x.to_bits()));
            }
            ValueOut::Owned(double_text(*x))
        }
        Value::Text(text) => ValueOut::Text(text),
        Value::Bytes(bytes) => ValueOut::Owned(base64::encode(bytes)),
        Value::DateTime { ticks, kind } => ValueOut::DateTime {
            ticks: *ticks,
            kind: *kind,
        },
        Value::Object(_) => {
            return Err(TableError::NotSerializable {
                key: entry.key.to_string(),
                found: entry.value.type_name(),
            });
        }
    };
    Ok(EntryOut {
        key,
        type_name: entry.value.type_name(),
        value,
        bits,
    })
}

/// Shortest text that parses back to the same double; .NET spellings for the
/// values JSON has no number for.
fn double_text(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_owned()
    } else if x == f64::INFINITY {
        "Infinity".to_owned()
    } else if x == f64::NEG_INFINITY {
        "-Infinity".to_owned()
    } else {
        // `{:?}` is shortest-round-trip and keeps the sign of -0.0.
        format!("{x:?}")
    }
}

fn bad(message: String) -> TableError {
    TableError::BadFormat(message)
}

fn parse_document(json: &str) -> Result<Vec<(Key, Value)>, TableError> {
    let document: Json =
        serde_json::from_str(json).map_err(|e| bad(format!("it is not valid JSON ({e})")))?;
    let Json::Object(top) = document else {
        return Err(bad("expected a JSON object at the top level".to_owned()));
    };
    match top.get("format") {
        Some(Json::String(format)) if format == FORMAT => {}
        Some(Json::String(format)) => {
            return Err(bad(format!(
                "unsupported format '{format}' (this version reads '{FORMAT}')"
            )));
        }
        Some(_) => return Err(bad("\"format\" must be a string".to_owned())),
        None => {
            return Err(bad(format!(
                "the \"format\": \"{FORMAT}\" marker is missing"
            )));
        }
    }
    match top.get("caseSensitive") {
        None | Some(Json::Bool(_)) => {}
        Some(_) => return Err(bad("\"caseSensitive\" must be true or false".to_owned())),
    }
    let Some(Json::Array(entries)) = top.get("entries") else {
        return Err(bad("\"entries\" must be present and be an array".to_owned()));
    };
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| parse_entry(index, entry))
        .collect()
}

fn parse_entry(index: usize, entry: &Json) -> Result<(Key, Value), TableError> {
    let Json::Object(fields) = entry else {
        return Err(bad(format!("entries[{index}] must be an object")));
    };
    if let Some(unknown) = fields
        .keys()
        .find(|name| !["key", "type", "value", "bits"].contains(&name.as_str()))
    {
        return Err(bad(format!(
            "entries[{index}] has an unknown field \"{unknown}\""
        )));
    }
    let key = match fields.get("key") {
        Some(Json::String(text)) => Key::Text(text.clone()),
        Some(Json::Number(n)) => Key::Int(n.as_i64().ok_or_else(|| {
            bad(format!(
                "entries[{index}]: key {n} is not a whole number in the Int64 range"
            ))
        })?),
        Some(_) => {
            return Err(bad(format!(
                "entries[{index}]: \"key\" must be a string or an integer"
            )));
        }
        None => return Err(bad(format!("entries[{index}] has no \"key\""))),
    };
    let value =
        parse_value(fields).map_err(|why| bad(format!("entries[{index}] (key '{key}'): {why}")))?;
    Ok((key, value))
}

fn parse_value(fields: &JsonMap<String, Json>) -> Result<Value, String> {
    let type_name = match fields.get("type") {
        Some(Json::String(name)) => name.as_str(),
        Some(_) => return Err("\"type\" must be a string".to_owned()),
        None => return Err("\"type\" is missing".to_owned()),
    };
    let value = fields.get("value").unwrap_or(&Json::Null);
    if type_name != "double" && fields.contains_key("bits") {
        return Err("\"bits\" is only allowed for doubles".to_owned());
    }
    let wrong = |expected: &str| {
        format!(
            "a {type_name} value must be {expected}, found {}",
            json_kind(value)
        )
    };
    match type_name {
        "null" => match value {
            Json::Null => Ok(Value::Null),
            _ => Err(wrong("null")),
        },
        "bool" => value
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| wrong("true or false")),
        "int" => match value {
            Json::Number(n) => n
                .as_i64()
                .map(Value::Int)
                .ok_or_else(|| format!("{n} is not a whole number in the Int64 range")),
            _ => Err(wrong("a whole number")),
        },
        "double" => parse_double(value, fields.get("bits")).map(Value::Double),
        "string" => match value {
            Json::String(text) => Ok(Value::Text(text.clone())),
            _ => Err(wrong("a string")),
        },
        "bytes" => match value {
            Json::String(text) => base64::decode(text).map(Value::Bytes),
            _ => Err(wrong("a base64 string")),
        },
        "datetime" => parse_datetime(value),
        "object" => Err("live .NET objects cannot be imported".to_owned()),
        other => Err(format!(
            "unknown type '{other}' (expected null, bool, int, double, string, bytes or datetime)"
        )),
    }
}

fn parse_double(value: &Json, bits: Option<&Json>) -> Result<f64, String> {
    let parsed = match value {
        Json::String(text) => match text.as_str() {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            other => other
                .parse::<f64>()
                .map_err(|_| format!("'{other}' is not a number"))?,
        },
        Json::Number(n) => n.as_f64().ok_or_else(|| format!("{n} is not a double"))?,
        other => {
            return Err(format!(
                "a double value must be a string or a number, found {}",
                json_kind(other)
            ));
        }
    };
    let Some(bits) = bits else {
        return Ok(parsed);
    };
    let exact = match bits {
        Json::String(hex) if hex.len() == 16 => u64::from_str_radix(hex, 16).ok(),
        _ => None,
    }
    .map(f64::from_bits)
    .ok_or_else(|| "\"bits\" must be 16 hexadecimal digits".to_owned())?;
    // The bits refine the value (which NaN); they may not contradict it.
    if exact.is_nan() && parsed.is_nan() || exact.to_bits() == parsed.to_bits() {
        Ok(exact)
    } else {
        Err(format!("\"bits\" {bits} do not match the value {value}"))
    }
}

fn parse_datetime(value: &Json) -> Result<Value, String> {
    let Json::Object(parts) = value else {
        return Err(format!(
            "a datetime value must be an object {{\"ticks\": ..., \"kind\": ...}}, found {}",
            json_kind(value)
        ));
    };
    if let Some(unknown) = parts
        .keys()
        .find(|name| *name != "ticks" && *name != "kind")
    {
        return Err(format!(
            "a datetime value has an unknown field \"{unknown}\""
        ));
    }
    let ticks = parts
        .get("ticks")
        .and_then(Json::as_i64)
        .filter(|ticks| (0..=MAX_DATETIME_TICKS).contains(ticks))
        .ok_or_else(|| {
            format!("datetime \"ticks\" must be a whole number from 0 to {MAX_DATETIME_TICKS}")
        })?;
    let kind = parts
        .get("kind")
        .and_then(Json::as_u64)
        .and_then(|kind| u8::try_from(kind).ok())
        .filter(|kind| *kind <= MAX_DATETIME_KIND)
        .ok_or_else(|| {
            "datetime \"kind\" must be 0 (Unspecified), 1 (Utc) or 2 (Local)".to_owned()
        })?;
    Ok(Value::DateTime { ticks, kind })
}

fn json_kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::value::tests::{object, recording_releaser};

    fn text(s: &str) -> Key {
        Key::Text(s.to_owned())
    }

    fn k(s: &str) -> KeyRef<'_> {
        KeyRef::Text(s)
    }

    fn every_kind_of_value() -> Vec<(Key, Value)> {
        vec![
            (text("null"), Value::Null),
            (text("true"), Value::Bool(true)),
            (text("false"), Value::Bool(false)),
            (text("max"), Value::Int(i64::MAX)),
            (text("min"), Value::Int(i64::MIN)),
            (text("zero"), Value::Int(0)),
            (text("pi"), Value::Double(std::f64::consts::PI)),
            (text("tenth"), Value::Double(0.1)),
            (text("tiny"), Value::Double(f64::MIN_POSITIVE / 3.0)),
            (text("huge"), Value::Double(f64::MAX)),
            (text("negzero"), Value::Double(-0.0)),
            (text("poszero"), Value::Double(0.0)),
            (text("nan"), Value::Double(f64::NAN)),
            (
                text("dotnet-nan"),
                Value::Double(f64::from_bits(0xfff8_0000_0000_0000)),
            ),
            (
                text("payload-nan"),
                Value::Double(f64::from_bits(0x7ff0_0000_dead_beef)),
            ),
            (text("inf"), Value::Double(f64::INFINITY)),
            (text("-inf"), Value::Double(f64::NEG_INFINITY)),
            (
                text("string"),
                Value::Text("héllo \"wörld\"\n\u{0}\u{1F600}".to_owned()),
            ),
            (text("empty"), Value::Text(String::new())),
            (text("bytes"), Value::Bytes((0..=255).collect())),
            (text("nobytes"), Value::Bytes(Vec::new())),
            (
                text("date"),
                Value::DateTime {
                    ticks: 638_000_000_000_000_000,
                    kind: 1,
                },
            ),
            (
                text("maxdate"),
                Value::DateTime {
                    ticks: MAX_DATETIME_TICKS,
                    kind: 2,
                },
            ),
            (Key::Int(1), Value::Text("int key".to_owned())),
            (text("1"), Value::Text("text key".to_owned())),
            (Key::Int(i64::MIN), Value::Int(-1)),
            (Key::Int(i64::MAX), Value::Int(1)),
        ]
    }

    fn assert_same_contents(a: &Store, b: &Store) {
        assert_eq!(a.len(), b.len());
        for entry in a.snapshot() {
            let other = b
                .get(KeyRef::from(&entry.key))
                .unwrap_or_else(|| panic!("{:?} missing", entry.key));
            assert_eq!(other.key, entry.key, "key spelling and kind");
            assert!(
                other.value.same_as(&entry.value),
                "{:?}: {:?} vs {:?}",
                entry.key,
                entry.value,
                other.value
            );
        }
    }

    #[test]
    fn every_type_round_trips_exactly() {
        for case_sensitive in [true, false] {
            let source = Store::new(case_sensitive);
            for (key, value) in every_kind_of_value() {
                source.set(KeyRef::from(&key), value);
            }
            let json = source.export_json().unwrap();
            let target = Store::new(case_sensitive);
            assert_eq!(target.import_json(&json, false).unwrap(), source.len());
            assert_same_contents(&source, &target);
            assert_eq!(
                target.export_json().unwrap(),
                json,
                "export is deterministic"
            );
        }
    }

    #[test]
    fn document_shape() {
        let store = Store::new(false);
        store.set(k("a"), Value::Int(1));
        store.set(KeyRef::Int(2), Value::Double(-0.0));
        let json: Json = serde_json::from_str(&store.export_json().unwrap()).unwrap();
        assert_eq!(json["format"], FORMAT);
        assert_eq!(json["caseSensitive"], false);
        assert_eq!(json["entries"][0]["key"], 2);
        assert_eq!(json["entries"][0]["type"], "double");
        assert_eq!(json["entries"][0]["value"], "-0.0");
        assert_eq!(json["entries"][1]["key"], "a");
        assert_eq!(json["entries"][1]["value"], 1);
    }

    #[test]
    fn object_values_are_not_serializable() {
        let (releaser, _) = recording_releaser();
        let store = Store::new(false);
        store.set(k("fine"), Value::Int(1));
        store.set(k("conn"), object(5, &releaser));
        assert_eq!(
            store.export_json(),
            Err(TableError::NotSerializable {
                key: "conn".to_owned(),
                found: "object"
            })
        );
    }

    #[test]
    fn bad_input_changes_nothing() {
        let store = Store::new(false);
        store.set(k("keep"), Value::Int(1));
        let version = store.get(k("keep")).unwrap().version;
        let cases = [
            "not json",
            "[]",
            r#"{"entries":[]}"#,
            r#"{"format":"other/9","entries":[]}"#,
            r#"{"format":"syncpool-table/1"}"#,
            r#"{"format":"syncpool-table/1","caseSensitive":"no","entries":[]}"#,
            r#"{"format":"syncpool-table/1","entries":[{"key":"ok","type":"int","value":1},{"key":"x","type":"int","value":"1"}]}"#,
            r#"{"format":"syncpool-table/1","entries":[{"key":"x","type":"int","value":1.5}]}"#,
            r#"{"format":"syncpool-table/1","entries":[{"key":"x","type":"int","value":9223372036854775808}]}"#,
            r#"{"format":"syncpool-table/1","entries":[{"key":1.5,"type":"int","value":1}]}"#,
            r#"{"format":"syncpool-table/1","entries":[{"key":"x","type":"double","value":"abc"}]}"#,
            r#"{"format":"syncpool-table/1","entries":[{"key":"x","type":"double","value":"1.0","bits":"7ff8000000000000"}]}"#,
            r#"{"format":"syncpool-table/1","entries":[{"key":"x","type":"double","value":"NaN","bits":"zz"}]}"#,
            r#"{"format":"syncpool-table/1","entries":[{"key":"x","type":"bytes","value":"Zg="}]}"#,
            r#"{"format":"syncpool-table/1","entries":[{"key":"x","type":"datetime","value":{"ticks":-1,"kind":0}}]}"#,
            r#"{"format":"syncpool-table/1","entries":[{"key":"x","type":"datetime","value":{"ticks":1,"kind":3}}]}"#,
            r#"{"format":"syncpool-table/1","entries":[{"key":"x","type":"object","value":1}]}"#,
            r#"{"format":"syncpool-table/1","entries":[{"key":"x","type":"widget","value":1}]}"#,
            r#"{"format":"syncpool-table/1","entries":[{"key":"x","type":"null","value":0}]}"#,
            r#"{"format":"syncpool-table/1","entries":[{"key":"x","type":"int","vaule":1}]}"#,
            r#"{"format":"syncpool-table/1","entries":[{"type":"int","value":1}]}"#,
            r#"{"format":"syncpool-table/1","entries":[{"key":"a","type":"int","value":1},{"key":"A","type":"int","value":2}]}"#,
        ];
        for (i, case) in cases.iter().enumerate() {
            for replace in [false, true] {
                match store.import_json(case, replace) {
                    Err(TableError::BadFormat(message)) => assert!(!message.is_empty()),
                    other => panic!("case {i} {case}: expected BadFormat, got {other:?}"),
                }
                assert_eq!(store.len(), 1, "case {i}");
                assert_eq!(store.get(k("keep")).unwrap().version, version, "case {i}");
            }
        }
    }

    #[test]
    fn error_messages_point_at_the_entry() {
        let store = Store::new(true);
        let json = r#"{"format":"syncpool-table/1","entries":[{"key":"a","type":"int","value":1},{"key":"b","type":"int","value":"x"}]}"#;
        let Err(TableError::BadFormat(message)) = store.import_json(json, false) else {
            panic!()
        };
        assert!(
            message.contains("entries[1]") && message.contains("'b'"),
            "{message}"
        );
        let Err(TableError::BadFormat(message)) = store.import_json("{", false) else {
            panic!()
        };
        assert!(message.contains("not valid JSON"), "{message}");
    }

    #[test]
    fn case_collisions_depend_on_the_target_table() {
        let source = Store::new(true);
        source.set(k("a"), Value::Int(1));
        source.set(k("A"), Value::Int(2));
        let json = source.export_json().unwrap();
        assert_eq!(Store::new(true).import_json(&json, false), Ok(2));
        let folded = Store::new(false);
        let Err(TableError::BadFormat(message)) = folded.import_json(&json, false) else {
            panic!()
        };
        assert!(message.contains("ignores case"), "{message}");
        assert!(folded.is_empty());
    }

    #[test]
    fn merge_or_replace() {
        let store = Store::new(false);
        store.set(k("old"), Value::Int(1));
        store.set(k("Shared"), Value::Int(1));
        let json = r#"{"format":"syncpool-table/1","caseSensitive":true,"entries":[
            {"key":"SHARED","type":"int","value":2},{"key":"new","type":"double","value":2.5}]}"#;
        assert_eq!(store.import_json(json, false), Ok(2));
        assert_eq!(store.len(), 3);
        let shared = store.get(k("shared")).unwrap();
        assert_eq!(
            shared.key,
            text("Shared"),
            "merge keeps the existing spelling"
        );
        assert!(shared.value.same_as(&Value::Int(2)));
        assert!(
            store
                .get(k("new"))
                .unwrap()
                .value
                .same_as(&Value::Double(2.5))
        );

        assert_eq!(store.import_json(json, true), Ok(2));
        assert_eq!(store.len(), 2);
        assert!(!store.contains(k("old")));
        assert_eq!(store.get(k("shared")).unwrap().key, text("SHARED"));
    }

    #[test]
    fn hand_written_doubles_and_missing_null_value() {
        let store = Store::new(false);
        let json = r#"{"format":"syncpool-table/1","entries":[
            {"key":"a","type":"double","value":1e300},
            {"key":"b","type":"double","value":"-Infinity"},
            {"key":"c","type":"null"}]}"#;
        assert_eq!(store.import_json(json, false), Ok(3));
        assert!(
            store
                .get(k("a"))
                .unwrap()
                .value
                .same_as(&Value::Double(1e300))
        );
        assert!(
            store
                .get(k("b"))
                .unwrap()
                .value
                .same_as(&Value::Double(f64::NEG_INFINITY))
        );
        assert!(store.get(k("c")).unwrap().value.same_as(&Value::Null));
    }

    #[test]
    fn double_text_round_trips() {
        let samples = [
            0.1,
            1.0 / 3.0,
            1e-320,
            5e-324,
            123456789012345680.0,
            -2.5e-10,
            f64::EPSILON,
        ];
        for x in samples {
            let parsed = parse_double(&Json::String(double_text(x)), None).unwrap();
            assert_eq!(parsed.to_bits(), x.to_bits(), "{x:?}");
        }
    }
}
