//! The key/value table engine behind `New-SyncTable`.
//!
//! A [`Store`] maps keys (text or integers, compared case-sensitively or
//! like .NET `OrdinalIgnoreCase`) to [`Value`]s. Callers name keys with a
//! borrowed [`KeyRef`], so reads allocate no key; results carry owned
//! [`Key`]s. It is safe to share between threads, every operation on a
//! single key is atomic, every write stamps the entry with a new version
//! (versions only grow per key, also across removal, and are never reused
//! within a store), and callers can block until a key appears or changes.
//! Saving a table as a file is [`crate::data`]'s business.
//!
//! Nothing here knows about the C ABI; `ffi` builds on this API.

pub mod error;
pub mod key;
pub mod key_locks;
pub mod store;
pub mod value;

mod big_blocks;
mod waiters;

pub use error::TableError;
pub use key::{Key, KeyRef};
pub use store::{Store, Swap, Versioned};
pub use value::{ObjectRef, Releaser, Scalar, Value, ValueRef};
pub use waiters::Waited;
