//! Ordinary JSON (what ConvertTo-Json writes, or a hand-written file) read
//! as data, the way ConvertFrom-Json reads it:
//!
//! | JSON | PowerShell |
//! |---|---|
//! | object | `[PSCustomObject]`, members in order |
//! | array | array |
//! | string | string (date-like text stays text) |
//! | whole number | `[int]` when it fits, else `[long]`; beyond that `[decimal]`, then `[double]` |
//! | other number | `[double]` |
//! | `true` / `false` / `null` | `$true` / `$false` / `$null` |

use super::json_tree::JsonTree;
use super::{Data, IntKind};

/// The data a plain JSON value stands for.
pub(crate) fn read(value: &JsonTree) -> Data {
    match value {
        JsonTree::Null => Data::Null,
        JsonTree::Bool(b) => Data::Bool(*b),
        JsonTree::String(text) => Data::Text(text.clone()),
        JsonTree::Number(n) => {
            if let Some(n) = n.as_i64() {
                Data::Integer(IntKind::Int, n.into())
            } else if let Some(n) = n.as_u64() {
                // Beyond Int64: a decimal holds it exactly.
                Data::Decimal(n.to_string())
            } else {
                Data::Double(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        JsonTree::Array(items) => Data::List(items.iter().map(read).collect()),
        JsonTree::Object(members) => Data::Object {
            type_names: Vec::new(),
            properties: members.iter().map(|(name, value)| (name.clone(), read(value))).collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_convertfrom_json() {
        let tree = JsonTree::parse(
            r#"{"b": 1, "a": [1.5, "2026-01-01T00:00:00", null, true], "big": 18446744073709551615, "huge": 1e300, "o": {"z": 5000000000}}"#,
        )
        .unwrap();
        let Data::Object { properties, .. } = read(&tree) else { panic!() };
        let names: Vec<_> = properties.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["b", "a", "big", "huge", "o"], "member order is kept");
        assert_eq!(properties[0].1, Data::Integer(IntKind::Int, 1));
        assert_eq!(
            properties[1].1,
            Data::List(vec![Data::Double(1.5), Data::Text("2026-01-01T00:00:00".into()), Data::Null, Data::Bool(true)])
        );
        assert_eq!(properties[2].1, Data::Decimal("18446744073709551615".into()));
        assert_eq!(properties[3].1, Data::Double(1e300));
        let Data::Object { properties: inner, .. } = &properties[4].1 else { panic!() };
        assert_eq!(inner[0].1, Data::Integer(IntKind::Int, 5_000_000_000), "narrowed to [long] when read back");
    }
}
