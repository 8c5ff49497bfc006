//! Errors a table operation can report.
//!
//! Every message is written for the PowerShell user who called the cmdlet:
//! it names the key involved and says what was wrong. An operation that
//! returns an error has changed nothing.

use std::fmt;

/// Why a table operation was refused. `key` is the key's display form: text
/// as is, integers in decimal.
#[derive(Debug, Clone, PartialEq)]
pub enum TableError {
    /// Increment of a key whose value is not a number.
    NotNumeric { key: String, found: &'static str },
    /// Integer increment whose result does not fit in an `Int64`.
    Overflow { key: String },
    /// Unlock of a key lock the caller does not hold.
    NotLockOwner { key: String },
    /// Increment by an amount that is not a number.
    DeltaNotNumeric(&'static str),
}

/// "a string", "an integer", ... for a `Value::type_name`.
fn described(type_name: &str) -> &'static str {
    match type_name {
        "null" => "$null",
        "bool" => "a boolean",
        "int" => "an integer",
        "double" => "a double",
        "string" => "a string",
        "bytes" => "a byte array",
        "datetime" => "a DateTime",
        "object" => "a .NET object",
        _ => "an unsupported value",
    }
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableError::NotNumeric { key, found } => write!(
                f,
                "Cannot increment key '{key}': its value is {}, not a number.",
                described(found)
            ),
            TableError::Overflow { key } => write!(
                f,
                "Cannot increment key '{key}': the result is too large for a 64-bit integer (Int64). The value was not changed."
            ),
            TableError::NotLockOwner { key } => write!(
                f,
                "Cannot unlock key '{key}': it is not locked by this caller."
            ),
            TableError::DeltaNotNumeric(found) => write!(
                f,
                "Cannot increment by {}: the amount must be a number (an integer or a double).",
                described(found)
            ),
        }
    }
}

impl std::error::Error for TableError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_key_and_the_problem() {
        let e = TableError::NotNumeric {
            key: "x".into(),
            found: "string",
        };
        assert_eq!(
            e.to_string(),
            "Cannot increment key 'x': its value is a string, not a number."
        );
        let e = TableError::Overflow { key: "42".into() };
        assert!(e.to_string().contains("key '42'"));
        assert!(e.to_string().contains("not changed"));
        let e = TableError::NotLockOwner { key: "k".into() };
        assert!(e.to_string().contains("'k'"));
        let e = TableError::DeltaNotNumeric("bool");
        assert!(e.to_string().starts_with("Cannot increment by a boolean"));
    }
}
