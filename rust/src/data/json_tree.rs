//! A JSON value that keeps what `serde_json::Value` loses: the order of an
//! object's members, and members that appear twice.
//!
//! Property order is part of a `[PSCustomObject]` read from plain JSON, and
//! a member given twice must be an error, not silently the last one.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Number;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum JsonTree {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<JsonTree>),
    /// Members in the order written, duplicates kept.
    Object(Vec<(String, JsonTree)>),
}

impl JsonTree {
    /// What kind of JSON value this is, for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            JsonTree::Null => "null",
            JsonTree::Bool(_) => "a boolean",
            JsonTree::Number(_) => "a number",
            JsonTree::String(_) => "a string",
            JsonTree::Array(_) => "an array",
            JsonTree::Object(_) => "an object",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<JsonTree, String> {
        serde_json::from_str(text).map_err(|e| {
            // serde_json words a lone surrogate as an escape that ends early.
            let hint = if e.to_string().contains("hex escape") {
                "; a \\uD800-\\uDBFF escape must be followed by a \\uDC00-\\uDFFF one, as UTF-16 text has no lone surrogates"
            } else {
                ""
            };
            format!("it is not valid JSON ({e}{hint})")
        })
    }

    pub(crate) fn to_pretty_string(&self) -> String {
        // Serializing this tree cannot fail: every key is a string and every
        // number is finite.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub(crate) fn object(members: Vec<(&str, JsonTree)>) -> JsonTree {
        JsonTree::Object(members.into_iter().map(|(name, value)| (name.to_owned(), value)).collect())
    }
}

impl From<&str> for JsonTree {
    fn from(text: &str) -> Self {
        JsonTree::String(text.to_owned())
    }
}

impl From<String> for JsonTree {
    fn from(text: String) -> Self {
        JsonTree::String(text)
    }
}

impl From<i64> for JsonTree {
    fn from(n: i64) -> Self {
        JsonTree::Number(n.into())
    }
}

impl From<bool> for JsonTree {
    fn from(b: bool) -> Self {
        JsonTree::Bool(b)
    }
}

impl Serialize for JsonTree {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            JsonTree::Null => serializer.serialize_unit(),
            JsonTree::Bool(b) => serializer.serialize_bool(*b),
            JsonTree::Number(n) => n.serialize(serializer),
            JsonTree::String(s) => serializer.serialize_str(s),
            JsonTree::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            JsonTree::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (name, value) in members {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for JsonTree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = JsonTree;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<JsonTree, E> {
        Ok(JsonTree::Null)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<JsonTree, E> {
        Ok(JsonTree::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<JsonTree, E> {
        Ok(JsonTree::Number(n.into()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<JsonTree, E> {
        Ok(JsonTree::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<JsonTree, E> {
        Number::from_f64(x).map(JsonTree::Number).ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<JsonTree, E> {
        Ok(JsonTree::String(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<JsonTree, E> {
        Ok(JsonTree::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonTree, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(JsonTree::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonTree, A::Error> {
        let mut members = Vec::new();
        while let Some((name, value)) = map.next_entry::<String, JsonTree>()? {
            members.push((name, value));
        }
        Ok(JsonTree::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_member_order_and_duplicates() {
        let tree = JsonTree::parse(r#"{"b":1,"a":[true,null,"x"],"b":2.5}"#).unwrap();
        let JsonTree::Object(members) = &tree else { panic!() };
        let names: Vec<_> = members.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["b", "a", "b"]);
        let again = JsonTree::parse(&tree.to_pretty_string()).unwrap();
        assert_eq!(again, tree);
    }

    #[test]
    fn explains_a_lone_surrogate() {
        for text in [r#""\ud800""#, r#""\ud800x""#] {
            let error = JsonTree::parse(text).unwrap_err();
            assert!(error.contains("must be followed by a \\uDC00-\\uDFFF one"), "{error}");
        }
        assert!(!JsonTree::parse("{").unwrap_err().contains("surrogate"));
    }

    #[test]
    fn reports_bad_json() {
        assert!(JsonTree::parse("{").unwrap_err().contains("not valid JSON"));
        assert!(JsonTree::parse("[1,]").is_err());
    }
}
