//! PowerShell data: the values that can leave the process.
//!
//! In the process, a table keeps arrays, hashtables and `[PSCustomObject]`s
//! as the live .NET objects they are (the same instance comes back, as from
//! a hashtable). To save a table (Export-SyncTable) or, later, share it with
//! another process, such values travel as [`Data`]: a tree of the values
//! PowerShell users store, each with enough type to come back as what it
//! was (an `[int]` stays an `[int]`, an ordered dictionary stays ordered, a
//! `[PSCustomObject]` keeps its property order).
//!
//! This module knows nothing about tables. It defines the data model and
//! its encodings:
//! - [`wire`]: compact bytes, how data crosses the C ABI (C#'s
//!   `PowerShellData` turns .NET objects into it and back);
//! - [`json`]: the typed JSON form, exact for every value;
//! - [`plain`]: reading ordinary JSON (what ConvertTo-Json writes);
//! - [`document`]: a whole table as a JSON file of entries.
//!
//! Every decoder checks the complete input and refuses anything it could
//! not give back exactly, saying where (`[2].Ping`) and why.

pub mod document;
pub mod json;
pub mod plain;
pub mod wire;

pub(crate) mod base64;
mod json_tree;
pub(crate) mod text_forms;

use std::fmt;

/// How deeply containers (lists, dictionaries, objects) may nest. Deeper
/// data (or a value that contains itself) is refused rather than cut off.
pub const MAX_DEPTH: usize = 50;

/// The .NET integer type a number had, so it comes back as that type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntKind {
    /// `[int]` when the value fits, `[long]` otherwise: how a table hands
    /// back the integers it stores natively.
    Int,
    Long,
    Short,
    Byte,
    SByte,
    UShort,
    UInt,
    ULong,
}

impl IntKind {
    /// The range of values the type holds.
    pub fn range(self) -> (i128, i128) {
        match self {
            IntKind::Int | IntKind::Long => (i64::MIN.into(), i64::MAX.into()),
            IntKind::Short => (i16::MIN.into(), i16::MAX.into()),
            IntKind::Byte => (0, u8::MAX.into()),
            IntKind::SByte => (i8::MIN.into(), i8::MAX.into()),
            IntKind::UShort => (0, u16::MAX.into()),
            IntKind::UInt => (0, u32::MAX.into()),
            IntKind::ULong => (0, u64::MAX.into()),
        }
    }

    /// The name used in typed JSON.
    pub fn name(self) -> &'static str {
        match self {
            IntKind::Int => "int",
            IntKind::Long => "long",
            IntKind::Short => "short",
            IntKind::Byte => "byte",
            IntKind::SByte => "sbyte",
            IntKind::UShort => "ushort",
            IntKind::UInt => "uint",
            IntKind::ULong => "ulong",
        }
    }

    pub fn from_name(name: &str) -> Option<IntKind> {
        IntKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    pub const ALL: [IntKind; 8] = [
        IntKind::Int,
        IntKind::Long,
        IntKind::Short,
        IntKind::Byte,
        IntKind::SByte,
        IntKind::UShort,
        IntKind::UInt,
        IntKind::ULong,
    ];
}

/// One PowerShell value, as data.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    Null,
    Bool(bool),
    /// An integer of the given .NET type (the value is within its range).
    Integer(IntKind, i128),
    Double(f64),
    /// A `[single]` (`[float]`).
    Single(f32),
    /// A `[decimal]` in its invariant text form, which keeps its scale
    /// (`1.10` stays `1.10`).
    Decimal(String),
    /// A `[bigint]` (System.Numerics.BigInteger) in decimal digits, with an
    /// optional leading '-'.
    BigInteger(String),
    Text(String),
    /// A `[char]`: one UTF-16 code unit.
    Char(u16),
    Bytes(Vec<u8>),
    /// .NET ticks and a kind: 0 (Unspecified), 1 (Utc) and 2 (Local, wall-clock
    /// ticks of a time zone nobody recorded) as .NET has them; 4, a local time
    /// held as the moment it names (UTC ticks, so another time zone reads the
    /// same moment, as with Export-Clixml). The C# side converts
    /// (module/Table/DateForms.cs).
    DateTime { ticks: i64, kind: u8 },
    /// Local ticks and the offset from UTC in minutes.
    DateTimeOffset { ticks: i64, offset_minutes: i16 },
    TimeSpan(i64),
    /// Lowercase `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    Guid(String),
    /// The URI as it was written (absolute or relative).
    Uri(String),
    /// A `[version]` such as `1.2.3`.
    Version(String),
    /// An enum value, kept as its underlying integer (which is what comes
    /// back); the type and member names are there for people reading it.
    Enum { type_name: String, name: String, kind: IntKind, value: i128 },
    List(Vec<Data>),
    /// A hashtable (`ordered: false`) or ordered dictionary; text keys
    /// compare like PowerShell's (ignoring case).
    Dictionary { ordered: bool, entries: Vec<(Data, Data)> },
    /// A `[PSCustomObject]`: its own type names (from `PSTypeName`), and its
    /// note properties in order.
    Object { type_names: Vec<String>, properties: Vec<(String, Data)> },
    /// A value that is not data (a live `$host`, a service object, a
    /// scriptblock), of this .NET type. Only an export meets it, and refuses
    /// it, naming where it was.
    Unsavable { type_name: String },
}

/// Where in a value something was found: `[2].Ping`, `{'host1'}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Path(String);

impl Path {
    fn index(&self, i: usize) -> Path {
        Path(format!("{}[{i}]", self.0))
    }
    fn property(&self, name: &str) -> Path {
        Path(format!("{}.{name}", self.0))
    }
    fn key(&self, key: &Data) -> Path {
        Path(format!("{}{{{}}}", self.0, key.display_key()))
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Data {
    /// A key as it appears in messages: text quoted, anything else as is.
    pub fn display_key(&self) -> String {
        match self {
            Data::Text(text) => format!("'{text}'"),
            Data::Integer(_, n) => n.to_string(),
            other => format!("({})", other.type_label()),
        }
    }

    /// The name of this kind of value in a JSON export (a node's `type`).
    pub(crate) fn type_tag(&self) -> &'static str {
        match self {
            Data::Null => "null",
            Data::Bool(_) => "bool",
            Data::Integer(kind, _) => kind.name(),
            Data::Double(_) => "double",
            Data::Single(_) => "single",
            Data::BigInteger(_) => "bigint",
            Data::Decimal(_) => "decimal",
            Data::Text(_) => "string",
            Data::Char(_) => "char",
            Data::Bytes(_) => "bytes",
            Data::DateTime { .. } => "datetime",
            Data::DateTimeOffset { .. } => "datetimeoffset",
            Data::TimeSpan(_) => "timespan",
            Data::Guid(_) => "guid",
            Data::Uri(_) => "uri",
            Data::Version(_) => "version",
            Data::Enum { .. } => "enum",
            Data::List(_) => "list",
            Data::Dictionary { ordered: false, .. } => "hashtable",
            Data::Dictionary { ordered: true, .. } => "ordered",
            Data::Object { .. } => "pscustomobject",
            Data::Unsavable { .. } => "unsavable",
        }
    }

    /// What kind of value this is, for messages: the export's name, but in
    /// PowerShell's spelling where it has one.
    pub fn type_label(&self) -> &str {
        match self {
            Data::Null => "$null",
            Data::Bytes(_) => "byte[]",
            Data::Unsavable { type_name } => type_name,
            other => other.type_tag(),
        }
    }

    /// Every value inside `self` that is not data, with where it is.
    pub fn unsavable(&self) -> Vec<(Path, &str)> {
        let mut found = Vec::new();
        self.visit(&Path::default(), &mut |path, data| {
            if let Data::Unsavable { type_name } = data {
                found.push((path.clone(), type_name.as_str()));
            }
        });
        found
    }

    fn visit<'a>(&'a self, path: &Path, seen: &mut impl FnMut(&Path, &'a Data)) {
        seen(path, self);
        match self {
            Data::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    item.visit(&path.index(i), seen);
                }
            }
            Data::Dictionary { entries, .. } => {
                for (key, value) in entries {
                    key.visit(&path.key(key), seen);
                    value.visit(&path.key(key), seen);
                }
            }
            Data::Object { properties, .. } => {
                for (name, value) in properties {
                    value.visit(&path.property(name), seen);
                }
            }
            _ => {}
        }
    }

    /// Checks everything a decoder cannot check field by field: integer
    /// ranges, the text forms, date ranges, nesting depth, and that no
    /// dictionary or object holds the same key twice (which .NET would
    /// refuse on the way back). The message says where.
    pub fn check(&self) -> Result<(), String> {
        self.check_at(&Path::default(), 0)
    }

    fn check_at(&self, path: &Path, depth: usize) -> Result<(), String> {
        let at = |why: String| if path.is_empty() { why } else { format!("{path}: {why}") };
        match self {
            Data::Integer(kind, n) | Data::Enum { kind, value: n, .. } => {
                let (low, high) = kind.range();
                if !(low..=high).contains(n) {
                    return Err(at(format!("{n} does not fit in a {}", kind.name())));
                }
            }
            Data::Decimal(text) => text_forms::check_decimal(text).map_err(at)?,
            Data::BigInteger(text) => text_forms::check_big_integer(text).map_err(at)?,
            Data::Guid(text) => text_forms::check_guid(text).map_err(at)?,
            Data::Version(text) => text_forms::check_version(text).map_err(at)?,
            Data::DateTime { ticks, kind } => text_forms::check_datetime(*ticks, *kind).map_err(at)?,
            Data::DateTimeOffset { ticks, offset_minutes } => {
                text_forms::check_datetime_offset(*ticks, *offset_minutes).map_err(at)?
            }
            Data::List(_) | Data::Dictionary { .. } | Data::Object { .. } if depth >= MAX_DEPTH => {
                return Err(at(format!(
                    "containers nest deeper than {MAX_DEPTH} levels (does a value contain itself?)"
                )));
            }
            Data::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    item.check_at(&path.index(i), depth + 1)?;
                }
            }
            Data::Dictionary { entries, .. } => {
                for (i, (key, value)) in entries.iter().enumerate() {
                    if matches!(key, Data::Null) {
                        return Err(at(format!("entry {i}: a dictionary key cannot be $null")));
                    }
                    if let Some(first) = entries[..i].iter().position(|(other, _)| other.same_key(key)) {
                        return Err(at(format!(
                            "the key {} appears twice (entries {first} and {i}; keys ignore case)",
                            key.display_key()
                        )));
                    }
                    key.check_at(&path.key(key), depth + 1)?;
                    value.check_at(&path.key(key), depth + 1)?;
                }
            }
            Data::Object { properties, .. } => {
                for (i, (name, value)) in properties.iter().enumerate() {
                    if properties[..i].iter().any(|(other, _)| equal_ignoring_case(other, name)) {
                        return Err(at(format!("the property '{name}' appears twice (property names ignore case)")));
                    }
                    value.check_at(&path.property(name), depth + 1)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether two dictionary keys are the same key once back in .NET: text
    /// ignoring case, anything else by value and type.
    fn same_key(&self, other: &Data) -> bool {
        match (self, other) {
            (Data::Text(a), Data::Text(b)) => equal_ignoring_case(a, b),
            _ => self == other,
        }
    }
}

/// .NET `StringComparer.OrdinalIgnoreCase`, the rule C# rebuilds
/// dictionaries and objects with (the same rule tables use for keys).
fn equal_ignoring_case(a: &str, b: &str) -> bool {
    crate::table::key::equal_ignoring_case(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_finds_what_dotnet_would_refuse_and_says_where() {
        let deep = (0..MAX_DEPTH + 1).fold(Data::Null, |inner, _| Data::List(vec![inner]));
        assert!(deep.check().unwrap_err().contains("deeper than 50"));
        let shallow = (0..MAX_DEPTH).fold(Data::Null, |inner, _| Data::List(vec![inner]));
        assert!(shallow.check().is_ok());
        let dup = Data::Dictionary {
            ordered: false,
            entries: vec![(Data::Text("Host".into()), Data::Null), (Data::Text("HOST".into()), Data::Null)],
        };
        assert!(dup.check().unwrap_err().contains("'HOST' appears twice"));
        let distinct = Data::Dictionary {
            ordered: true,
            entries: vec![(Data::Text("1".into()), Data::Null), (Data::Integer(IntKind::Int, 1), Data::Null)],
        };
        assert!(distinct.check().is_ok(), "text '1' and int 1 are different keys");
        let null_key = Data::Dictionary { ordered: false, entries: vec![(Data::Null, Data::Null)] };
        assert!(null_key.check().unwrap_err().contains("cannot be $null"));
        let object = Data::Object {
            type_names: vec![],
            properties: vec![("Ping".into(), Data::List(vec![Data::Integer(IntKind::Byte, 300)]))],
        };
        assert_eq!(object.check().unwrap_err(), ".Ping[0]: 300 does not fit in a byte");
        let props = Data::Object { type_names: vec![], properties: vec![("a".into(), Data::Null), ("A".into(), Data::Null)] };
        assert!(props.check().unwrap_err().contains("'A' appears twice"));
    }

    #[test]
    fn unsavable_values_are_found_with_their_paths() {
        let data = Data::List(vec![
            Data::Integer(IntKind::Int, 1),
            Data::Object {
                type_names: vec![],
                properties: vec![("Svc".into(), Data::Unsavable { type_name: "System.ServiceProcess.ServiceController".into() })],
            },
            Data::Dictionary {
                ordered: false,
                entries: vec![(Data::Text("sb".into()), Data::Unsavable { type_name: "System.Management.Automation.ScriptBlock".into() })],
            },
        ]);
        let found: Vec<_> = data.unsavable().into_iter().map(|(path, name)| format!("{path} {name}")).collect();
        assert_eq!(
            found,
            ["[1].Svc System.ServiceProcess.ServiceController", "[2]{'sb'} System.Management.Automation.ScriptBlock"]
        );
    }
}
