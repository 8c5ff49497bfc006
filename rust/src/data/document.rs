//! A whole table as a JSON file (Export-SyncTable, Import-SyncTable).
//!
//! ```json
//! {
//!   "format": "syncpool-table/3",
//!   "caseSensitive": false,
//!   "entries": [
//!     { "key": 7,        "type": "int",    "value": 42 },
//!     { "key": "host1",  "type": "pscustomobject", "value": [
//!         { "name": "Ping",         "type": "bool",     "value": true },
//!         { "name": "TimeFinished", "type": "datetime", "value": { "ticks": 639000000000000000, "kind": 2 } } ] },
//!     { "key": "log",    "type": "list",   "value": [ { "type": "string", "value": "entry" } ] }
//!   ]
//! }
//! ```
//!
//! - Each entry is a typed node (see [`json`](super::json)) with its key: a
//!   text key is a JSON string and an integer key a JSON number, so `"1"`
//!   and `1` stay different keys.
//! - Entries are sorted (integer keys first, then text keys ordinally), so
//!   exporting the same data twice gives the same text.
//! - `caseSensitive` records the exporting table's mode: Import-SyncTable
//!   gives a new table that mode (unless told otherwise); an import into an
//!   existing table uses that table's mode.
//! - A local `datetime` is written as its UTC moment (kind 4), so a machine
//!   in another time zone reads the same moment. `syncpool-table/1` and `/2`
//!   files held local times as wall-clock ticks (kind 2), which still read
//!   back as before.
//! - Reading also accepts `syncpool-table/1` and `/2` files (the same, with
//!   fewer types) and plain JSON objects, whose members become entries (see
//!   [`plain`](super::plain)). A file is typed when its top-level `format`
//!   member is a text starting with `syncpool-table/`.
//!
//! Reading checks the whole document before handing back anything, so a bad
//! file changes nothing.

use std::cmp::Ordering;
use std::fmt;

use super::json_tree::JsonTree;
use super::{Data, IntKind, Path, json, plain};

/// The `format` marker this version writes.
pub const FORMAT: &str = "syncpool-table/3";

/// Markers this version reads.
const READS: [&str; 3] = ["syncpool-table/1", "syncpool-table/2", FORMAT];

/// Why a document could not be written or read.
#[derive(Debug, Clone, PartialEq)]
pub enum DocumentError {
    /// The text is not a table document, saying what is wrong and where.
    BadFormat(String),
    /// Entries whose values are not data, every one of them.
    Unsavable(Vec<UnsavableValue>),
}

/// A value an export met that is not data.
#[derive(Debug, Clone, PartialEq)]
pub struct UnsavableValue {
    /// The entry's key as users see it.
    pub key: String,
    /// Where in the entry's value (empty: the value itself).
    pub path: Path,
    pub type_name: String,
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocumentError::BadFormat(detail) => write!(f, "The data is not a valid SyncPool table export: {detail}"),
            DocumentError::Unsavable(values) => {
                let keys: Vec<&str> = values.iter().map(|v| v.key.as_str()).fold(Vec::new(), |mut keys, key| {
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                    keys
                });
                let what = if keys.len() == 1 { "1 key".to_owned() } else { format!("{} keys", keys.len()) };
                let each: Vec<String> = values
                    .iter()
                    .map(|v| {
                        let at = if v.path.is_empty() { String::new() } else { format!(" at {}", v.path) };
                        format!("'{}' holds a {}{at}", v.key, v.type_name)
                    })
                    .collect();
                write!(
                    f,
                    "Cannot export {what} as JSON, which holds data only (numbers, text, dates, arrays, hashtables, [PSCustomObject]s...): {}. \
                     Use Export-SyncTable -AsClixml to save such live objects as property bags (they come back as deserialized copies, not the objects themselves), \
                     or remove those keys before exporting.",
                    each.join("; ")
                )
            }
        }
    }
}

impl std::error::Error for DocumentError {}

fn bad(message: String) -> DocumentError {
    DocumentError::BadFormat(message)
}

/// The document for `entries` (keys are text or integers).
///
/// # Errors
/// [`DocumentError::Unsavable`] listing every value that is not data;
/// [`DocumentError::BadFormat`] if an entry's data is malformed (a bug on
/// the caller's side: the message says where).
pub fn write(entries: &[(Data, Data)], case_sensitive: bool) -> Result<String, DocumentError> {
    let mut sorted: Vec<&(Data, Data)> = entries.iter().collect();
    sorted.sort_by(|(a, _), (b, _)| key_order(a, b));
    let unsavable: Vec<UnsavableValue> = sorted
        .iter()
        .flat_map(|(key, value)| {
            value.unsavable().into_iter().map(move |(path, type_name)| UnsavableValue {
                key: key_text(key),
                path,
                type_name: type_name.to_owned(),
            })
        })
        .collect();
    if !unsavable.is_empty() {
        return Err(DocumentError::Unsavable(unsavable));
    }
    let mut written = Vec::with_capacity(sorted.len());
    for (key, value) in sorted {
        let key_json = match key {
            Data::Text(text) => JsonTree::from(text.as_str()),
            Data::Integer(_, n) => i64::try_from(*n).map(JsonTree::from).map_err(|_| bad(format!("the key {n} is not an Int64")))?,
            other => return Err(bad(format!("a table key must be text or an integer, not {}", other.type_label()))),
        };
        value.check().map_err(|why| bad(format!("key '{}': {why}", key_text(key))))?;
        written.push(json::node(vec![("key".to_owned(), key_json)], value));
    }
    let document = JsonTree::object(vec![
        ("format", FORMAT.into()),
        ("caseSensitive", case_sensitive.into()),
        ("entries", JsonTree::Array(written)),
    ]);
    Ok(document.to_pretty_string())
}

/// The entries of a document or a plain JSON object, checked completely.
///
/// # Errors
/// [`DocumentError::BadFormat`] saying what is wrong and where (e.g.
/// `entries[3] (key 'x'): ...`).
pub fn read(text: &str) -> Result<Vec<(Data, Data)>, DocumentError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let tree = JsonTree::parse(text).map_err(bad)?;
    let JsonTree::Object(top) = tree else {
        return Err(bad(format!("expected a JSON object at the top level, found {}", tree.kind())));
    };
    let entries = match top.iter().find(|(name, _)| name == "format") {
        Some((_, JsonTree::String(format))) if format.starts_with("syncpool-table/") => read_typed(&top, format)?,
        _ => read_plain(&top)?,
    };
    for (index, (key, value)) in entries.iter().enumerate() {
        value.check().map_err(|why| bad(format!("entries[{index}] (key '{}'): {why}", key_text(key))))?;
    }
    Ok(entries)
}

fn read_typed(top: &[(String, JsonTree)], format: &str) -> Result<Vec<(Data, Data)>, DocumentError> {
    if !READS.contains(&format) {
        return Err(bad(format!("unsupported format '{format}' (this version reads {})", READS.join(" and "))));
    }
    if let Some((unknown, _)) = top.iter().find(|(name, _)| !["format", "caseSensitive", "entries"].contains(&name.as_str())) {
        return Err(bad(format!("unknown top-level member \"{unknown}\"")));
    }
    match top.iter().find(|(name, _)| name == "caseSensitive") {
        None | Some((_, JsonTree::Bool(_))) => {}
        Some(_) => return Err(bad("\"caseSensitive\" must be true or false".to_owned())),
    }
    let Some((_, JsonTree::Array(items))) = top.iter().find(|(name, _)| name == "entries") else {
        return Err(bad("\"entries\" must be present and be an array".to_owned()));
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let JsonTree::Object(members) = item else {
                return Err(bad(format!("entries[{index}] must be an object")));
            };
            let key = match members.iter().find(|(name, _)| name == "key").map(|(_, key)| key) {
                Some(JsonTree::String(text)) => Data::Text(text.clone()),
                Some(JsonTree::Number(n)) => n
                    .as_i64()
                    .map(|n| Data::Integer(IntKind::Int, n.into()))
                    .ok_or_else(|| bad(format!("entries[{index}]: key {n} is not a whole number in the Int64 range")))?,
                Some(_) => return Err(bad(format!("entries[{index}]: \"key\" must be a string or an integer"))),
                None => return Err(bad(format!("entries[{index}] has no \"key\""))),
            };
            let value = json::read_node(members, &["key"])
                .map_err(|why| bad(format!("entries[{index}] (key '{}'): {why}", key_text(&key))))?;
            Ok((key, value))
        })
        .collect()
}

fn read_plain(top: &[(String, JsonTree)]) -> Result<Vec<(Data, Data)>, DocumentError> {
    top.iter()
        .enumerate()
        .map(|(index, (name, value))| {
            if top[..index].iter().any(|(other, _)| other == name) {
                return Err(bad(format!("the member \"{name}\" is given twice")));
            }
            Ok((Data::Text(name.clone()), plain::read(value)))
        })
        .collect()
}

/// A table key as users see it in messages: text as is, integers in decimal.
fn key_text(key: &Data) -> String {
    match key {
        Data::Text(text) => text.clone(),
        Data::Integer(_, n) => n.to_string(),
        other => other.display_key(),
    }
}

/// The order keys are written in: integer keys first (by value), then text
/// keys ordinally; other keys keep their order. Used for a table's entries
/// and for the members of a hashtable value, whose own order is an accident
/// of hashing, so that the same data always gives the same file.
pub(crate) fn key_order(a: &Data, b: &Data) -> Ordering {
    match (a, b) {
        (Data::Integer(_, a), Data::Integer(_, b)) => a.cmp(b),
        (Data::Integer(..), _) => Ordering::Less,
        (_, Data::Integer(..)) => Ordering::Greater,
        (Data::Text(a), Data::Text(b)) => a.cmp(b),
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::json::tests::every_kind;

    fn text(s: &str) -> Data {
        Data::Text(s.into())
    }

    #[test]
    fn every_kind_round_trips_through_a_document_and_writing_is_deterministic() {
        let entries: Vec<_> = every_kind().into_iter().enumerate().map(|(i, d)| (Data::Integer(IntKind::Int, i as i128), d)).collect();
        let mut with_text = entries.clone();
        with_text.push((text("1"), text("text key")));
        let json = write(&with_text, false).unwrap();
        let back = read(&json).unwrap();
        assert_eq!(back.len(), with_text.len());
        assert_eq!(write(&back, false).unwrap(), json);
        assert_eq!(back.last().unwrap(), &(text("1"), text("text key")), "text keys sort after integer keys");
    }

    #[test]
    fn shape_of_the_document() {
        let json = write(&[(text("a"), Data::Integer(IntKind::Int, 1)), (Data::Integer(IntKind::Int, 2), Data::Double(-0.0))], true).unwrap();
        let tree: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(tree["format"], FORMAT);
        assert_eq!(tree["caseSensitive"], true);
        assert_eq!(tree["entries"][0]["key"], 2);
        assert_eq!(tree["entries"][0]["value"], "-0.0");
        assert_eq!(tree["entries"][1]["key"], "a");
        assert_eq!(tree["entries"][1]["type"], "int");
    }

    #[test]
    fn every_unsavable_value_is_named_and_the_message_points_to_clixml() {
        let host = Data::Unsavable { type_name: "System.Management.Automation.Internal.Host.InternalHost".into() };
        let entries = [
            (text("fine"), Data::Integer(IntKind::Int, 1)),
            (text("Host"), host.clone()),
            (text("svc"), Data::List(vec![Data::Null, Data::Unsavable { type_name: "System.ServiceProcess.ServiceController".into() }])),
        ];
        let Err(error) = write(&entries, false) else { panic!() };
        let message = error.to_string();
        assert!(message.starts_with("Cannot export 2 keys as JSON"), "{message}");
        assert!(message.find("'Host'").unwrap() < message.find("'svc'").unwrap(), "keys in the order of the file: {message}");
        assert!(message.contains("'Host' holds a System.Management.Automation.Internal.Host.InternalHost;"), "{message}");
        assert!(message.contains("'svc' holds a System.ServiceProcess.ServiceController at [1]"), "{message}");
        assert!(message.contains("-AsClixml"), "{message}");
    }

    #[test]
    fn reads_version_1_files() {
        let v1 = r#"{"format":"syncpool-table/1","caseSensitive":false,"entries":[
            {"key":7,"type":"int","value":42},{"key":"name","type":"string","value":"Ada"},
            {"key":"nan","type":"double","value":"NaN","bits":"7ff8000000000000"},
            {"key":"when","type":"datetime","value":{"ticks":638000000000000000,"kind":1}},{"key":"none","type":"null"}]}"#;
        let entries = read(v1).unwrap();
        assert_eq!(entries[0], (Data::Integer(IntKind::Int, 7), Data::Integer(IntKind::Int, 42)));
        assert_eq!(entries[4], (text("none"), Data::Null));
    }

    #[test]
    fn local_times_of_older_files_read_as_they_were_written() {
        let local = |kind| Data::DateTime { ticks: 638_000_000_000_000_000, kind };
        let entries = |format: &str, kind: u8| {
            read(&format!(
                r#"{{"format":"{format}","entries":[
                {{"key":"top","type":"datetime","value":{{"ticks":638000000000000000,"kind":{kind}}}}},
                {{"key":"nested","type":"pscustomobject","value":[{{"name":"At","type":"list","value":[
                    {{"type":"datetime","value":{{"ticks":638000000000000000,"kind":{kind}}}}}]}}]}}]}}"#
            ))
        };
        let nested = |kind| Data::Object { type_names: vec![], properties: vec![("At".into(), Data::List(vec![local(kind)]))] };
        for format in ["syncpool-table/1", "syncpool-table/2", FORMAT] {
            let read = entries(format, 2).unwrap();
            assert_eq!((&read[0].1, &read[1].1), (&local(2), &nested(2)), "{format}: wall-clock local times stay so");
        }
        let read = entries(FORMAT, 4).unwrap();
        assert_eq!((&read[0].1, &read[1].1), (&local(4), &nested(4)), "local moments");
        assert!(entries(FORMAT, 3).is_err(), "kind 3 is no kind");
        let written = write(&[(text("w"), local(4))], false).unwrap();
        assert_eq!(read_one(&written), local(4));
    }

    fn read_one(text: &str) -> Data {
        read(text).unwrap().remove(0).1
    }

    #[test]
    fn reads_a_plain_json_object_with_its_members_as_entries() {
        let entries = read("\u{feff}{\"host1\": {\"Ping\": true, \"Ms\": 12}, \"log\": [\"a\", \"b\"], \"format\": \"not ours\"}").unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[1], (text("log"), Data::List(vec![text("a"), text("b")])));
        assert_eq!(entries[2], (text("format"), text("not ours")), "a 'format' member that is not our marker is data");
        let Data::Object { properties, .. } = &entries[0].1 else { panic!() };
        assert_eq!(properties[0].0, "Ping");
    }

    #[test]
    fn bad_documents_say_what_and_where() {
        let cases = [
            ("not json", "not valid JSON"),
            ("[]", "expected a JSON object"),
            (r#"{"format":"syncpool-table/9","entries":[]}"#, "unsupported format 'syncpool-table/9'"),
            (r#"{"format":"syncpool-table/3"}"#, "\"entries\" must be present"),
            (r#"{"format":"syncpool-table/3","caseSensitive":"no","entries":[]}"#, "caseSensitive"),
            (r#"{"format":"syncpool-table/3","entries":[],"extra":1}"#, "unknown top-level member"),
            (r#"{"format":"syncpool-table/3","entries":[{"key":"ok","type":"int","value":1},{"key":"x","type":"int","value":"1"}]}"#, "entries[1] (key 'x')"),
            (r#"{"format":"syncpool-table/3","entries":[{"key":1.5,"type":"int","value":1}]}"#, "key 1.5 is not a whole number"),
            (r#"{"format":"syncpool-table/3","entries":[{"key":true,"type":"int","value":1}]}"#, "\"key\" must be a string or an integer"),
            (r#"{"format":"syncpool-table/3","entries":[{"type":"int","value":1}]}"#, "has no \"key\""),
            (r#"{"format":"syncpool-table/3","entries":[{"key":"d","type":"decimal","value":"1e5"}]}"#, "is not a decimal"),
            (r#"{"format":"syncpool-table/3","entries":[{"key":"b","type":"byte","value":256}]}"#, "does not fit in a byte"),
            (r#"{"a":1,"a":2}"#, "\"a\" is given twice"),
            (r#"{"o":{"x":1,"X":2}}"#, "'X' appears twice"),
        ];
        for (json, expected) in cases {
            let Err(DocumentError::BadFormat(message)) = read(json) else { panic!("{json} should be refused") };
            assert!(message.contains(expected), "{json}: '{message}' should mention '{expected}'");
        }
    }
}
