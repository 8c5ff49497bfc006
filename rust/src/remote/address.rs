//! Where a Redis table lives: `redis://[user[:password]@]host[:port][/db]`.
//!
//! Parsed here rather than by the client library so that every refusal says
//! what a good address looks like, and so that the password is held in one
//! place ([`Secret`]) that never prints. [`Address`]'s `Display` is the
//! password-free form every message and `ToString()` uses.

use std::fmt;

/// An address every error message offers as the model of a good one.
pub const EXAMPLE: &str = "redis://127.0.0.1:6379/0";

/// A password: kept for the connection handshake, never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: String) -> Self {
        Secret(text)
    }

    /// The password itself, for the AUTH handshake only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    /// Debug output (a panic message, a test failure) must not leak it either.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A parsed Redis address plus the credentials to use there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub host: String,
    pub port: u16,
    pub db: i64,
    pub user: Option<String>,
    pub password: Option<Secret>,
}

impl fmt::Display for Address {
    /// The address without user or password (what users see).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "redis://[{}]:{}/{}", self.host, self.port, self.db)
        } else {
            write!(f, "redis://{}:{}/{}", self.host, self.port, self.db)
        }
    }
}

/// Why an address was refused; the message never repeats a password.
#[derive(Debug, PartialEq, Eq)]
pub struct BadAddress(pub String);

fn refuse(why: impl fmt::Display) -> BadAddress {
    BadAddress(format!("{why} Give an address like '{EXAMPLE}' (redis://host:port/database; the password goes in -Credential)."))
}

impl Address {
    /// Parses `text`. The user and password in the URI, if any, are kept;
    /// credentials given separately (`-Credential`) replace them later.
    pub fn parse(text: &str) -> Result<Address, BadAddress> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("rediss://") {
            return Err(BadAddress(format!(
                "TLS addresses (rediss://) are not supported: this build of SyncPool has no TLS client. Use '{EXAMPLE}' on a trusted network, or reach a remote server through an SSH tunnel or stunnel on 127.0.0.1."
            )));
        }
        let Some(rest) = lower.starts_with("redis://").then(|| &text["redis://".len()..]) else {
            return Err(refuse("The Redis address does not start with redis://."));
        };
        // The credentials end at the LAST '@' of the whole address, not of
        // the text before the first '/': a password pasted unescaped may hold
        // '/', '?', '#' or '@', and none of it may end up in a message below.
        let (credentials, location) = match rest.rfind('@') {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let (host_port, path) = match location.find(['/', '?', '#']) {
            Some(at) => (&location[..at], &location[at..]),
            None => (location, ""),
        };
        if path.contains(['?', '#']) {
            return Err(refuse("The Redis address has a query or fragment (?... or #...), which SyncPool does not read."));
        }
        let (user, password) = match credentials {
            None => (None, None),
            Some(part) => {
                let (user, password) = match part.find(':') {
                    Some(at) => (&part[..at], Some(&part[at + 1..])),
                    None => (part, None),
                };
                let user = percent_decode(user).ok_or_else(|| refuse("The user name in the Redis address has a bad %-escape."))?;
                let password = match password {
                    Some(p) => Some(Secret::new(percent_decode(p).ok_or_else(|| refuse("The password in the Redis address has a bad %-escape."))?)),
                    None => None,
                };
                ((!user.is_empty()).then_some(user), password.filter(|p| !p.expose().is_empty()))
            }
        };
        let (host, port) = split_host_port(host_port)?;
        let db = match path.trim_start_matches('/') {
            "" => 0,
            digits => digits
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                // Not quoted: in 'redis://user:pass' (no '@host') the text
                // taken for the port or database is a password.
                .ok_or_else(|| refuse("The database in the Redis address (after the last '/') is not a number 0 or greater."))?,
        };
        Ok(Address { host, port, db, user, password })
    }
}

fn split_host_port(text: &str) -> Result<(String, u16), BadAddress> {
    if text.is_empty() {
        return Err(refuse("The Redis address names no host."));
    }
    let (host, port) = if let Some(inner) = text.strip_prefix('[') {
        let Some(end) = inner.find(']') else {
            return Err(refuse("The IPv6 host in the Redis address lacks its closing ']'."));
        };
        let after = &inner[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return Err(refuse("The Redis address has text after its IPv6 host.")),
        };
        (inner[..end].to_string(), port)
    } else {
        match text.rfind(':') {
            Some(at) => (text[..at].to_string(), Some(&text[at + 1..])),
            None => (text.to_string(), None),
        }
    };
    if host.is_empty() || host.contains([' ', '/', '@']) {
        return Err(refuse("The host in the Redis address is empty or holds a space, '/' or '@'."));
    }
    let port = match port {
        None => 6379,
        Some(digits) => digits
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| refuse("The port in the Redis address (after the host's ':') is not a number from 1 to 65535."))?,
    };
    Ok((host, port))
}

/// `%XX` escapes decoded (a password may hold '@' or ':').
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_address_keeps_its_parts_and_shows_no_credentials() {
        let a = Address::parse("redis://app:s3cr%40t@db1:6380/2").unwrap();
        assert_eq!((a.host.as_str(), a.port, a.db, a.user.as_deref()), ("db1", 6380, 2, Some("app")));
        assert_eq!(a.password.as_ref().unwrap().expose(), "s3cr@t");
        assert_eq!(a.to_string(), "redis://db1:6380/2");
        assert!(!format!("{a:?}").contains("s3cr"), "Debug hides the password");
    }

    #[test]
    fn a_password_holding_slash_question_mark_or_at_is_read_whole() {
        let a = Address::parse("redis://app:Ab3/x9?Q#z@w@db1:6380/3").unwrap();
        assert_eq!((a.host.as_str(), a.port, a.db, a.user.as_deref()), ("db1", 6380, 3, Some("app")));
        assert_eq!(a.password.as_ref().unwrap().expose(), "Ab3/x9?Q#z@w");
    }

    #[test]
    fn defaults_are_port_6379_and_database_0() {
        let a = Address::parse("redis://localhost").unwrap();
        assert_eq!((a.port, a.db, a.user, a.password), (6379, 0, None, None));
        let a = Address::parse("redis://:pw@[::1]:7000/").unwrap();
        assert_eq!((a.host.as_str(), a.port, a.db), ("::1", 7000, 0));
        assert_eq!(a.to_string(), "redis://[::1]:7000/0");
        assert_eq!(a.user, None);
    }

    #[test]
    fn bad_addresses_are_refused_with_an_example_and_without_the_password() {
        for bad in ["http://x", "127.0.0.1:6379", "redis://", "redis://h:0", "redis://h:99999", "redis://h/x", "redis://h/-1", "redis://u:hunter2@h:port", "redis://h?db=1"] {
            let BadAddress(why) = Address::parse(bad).unwrap_err();
            assert!(why.contains(EXAMPLE), "{bad}: {why}");
            assert!(!why.contains("hunter2"), "{bad}: {why}");
        }
        // Passwords pasted unescaped, or with the '@host' forgotten: nothing
        // of them may be quoted back.
        for (bad, secret) in [
            ("redis://app:Ab3/x9Qz@db1:6379/x", "x9Qz"),
            ("redis://app:123/Secret@db1:port", "Secret"),
            ("redis://admin:hunter2", "hunter2"),
            ("redis://admin:123456", "123456"),
            ("redis://admin:pw/7x", "7x"),
            ("redis://u:p?q#r@h:0", "p?q#r"),
        ] {
            let BadAddress(why) = Address::parse(bad).unwrap_err();
            assert!(why.contains(EXAMPLE), "{bad}: {why}");
            assert!(!why.contains(secret), "{bad}: {why}");
        }
        let BadAddress(why) = Address::parse("rediss://h:6380").unwrap_err();
        assert!(why.contains("TLS"), "{why}");
    }
}
