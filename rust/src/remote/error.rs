//! How a Redis table fails. Every message names the server by its
//! password-free address; the ffi layer maps each kind to an error code.

use std::fmt;

/// What went wrong, with a message for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteError {
    /// The address (or an option) was refused before connecting.
    BadAddress(String),
    /// No server answered at the address (refused, unknown host, timeout).
    Unreachable(String),
    /// The server refused the user name or password (or wants one).
    AuthenticationFailed(String),
    /// The server has no database of that number.
    UnknownDatabase(String),
    /// The connection broke during an operation that changes nothing, or
    /// that was never sent: nothing happened, trying again is safe.
    ConnectionLost(String),
    /// The connection broke after an operation that changes data was sent:
    /// the server may or may not have applied it.
    OutcomeUnknown(String),
    /// The server answered with an error SyncPool did not expect.
    Server(String),
    /// Increment met a value that is not a number.
    NotNumeric(String),
    /// Increment would overflow a 64-bit integer.
    Overflow(String),
    /// Unlock by a caller that does not hold the lock (any more).
    NotLockOwner(String),
    /// Data on the server is not in SyncPool's format.
    Corrupt(String),
}

impl RemoteError {
    pub fn message(&self) -> &str {
        match self {
            RemoteError::BadAddress(m)
            | RemoteError::Unreachable(m)
            | RemoteError::AuthenticationFailed(m)
            | RemoteError::UnknownDatabase(m)
            | RemoteError::ConnectionLost(m)
            | RemoteError::OutcomeUnknown(m)
            | RemoteError::Server(m)
            | RemoteError::NotNumeric(m)
            | RemoteError::Overflow(m)
            | RemoteError::NotLockOwner(m)
            | RemoteError::Corrupt(m) => m,
        }
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for RemoteError {}
