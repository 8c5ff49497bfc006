//! Values too long for the caller's buffer.
//!
//! A single-key call hands its value back in a [`ValueRead`] with text and
//! bytes copied into a buffer C# lends it (a stack buffer, so the common
//! short value costs no allocation on either side). A longer value is
//! parked here under a number instead; C# allocates an array of the exact
//! length and takes the bytes with [`syncpool_parked_take`]. Parking
//! instead of asking again keeps calls that consume their value (a removal)
//! exact, and keeps a value that changes meanwhile from coming back torn.
//!
//! [`ValueRead`]: crate::ffi::values::ValueRead

use crate::ffi::fault::{ErrorCode, Fault, guard};
use crate::ffi::values::LentBuffer;
use dashmap::DashMap;
use interoptopus::ffi;
use once_cell::sync::Lazy;
use std::sync::atomic::{AtomicU64, Ordering};

static PARKED: Lazy<DashMap<u64, Vec<u8>>> = Lazy::new(DashMap::new);
static NEXT: AtomicU64 = AtomicU64::new(1);

/// Parks `bytes` and returns their number (never 0).
pub fn park(bytes: Vec<u8>) -> u64 {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    PARKED.insert(id, bytes);
    id
}

/// How many values are parked and not yet taken (tests check this returns to zero).
pub fn parked_count() -> usize {
    PARKED.len()
}

/// Copies parked value `id` into `target`, which must be exactly as long as
/// the value, and forgets it. Returns the number of bytes copied.
#[ffi]
pub fn syncpool_parked_take(id: u64, target: &mut LentBuffer) -> ffi::Result<u64, ErrorCode> {
    guard(|| {
        let (_, bytes) = PARKED
            .remove(&id)
            .ok_or_else(|| Fault::invalid(format!("No parked value number {id} (already taken?).")))?;
        let buffer = target.as_mut_slice();
        if buffer.len() != bytes.len() {
            return Err(Fault::invalid(format!(
                "Parked value {id} has {} bytes; a buffer of {} bytes was given.",
                bytes.len(),
                buffer.len()
            )));
        }
        buffer.copy_from_slice(&bytes);
        Ok(bytes.len() as u64)
    })
}

/// How many parked values have not been taken (diagnostics and tests).
#[ffi]
pub fn syncpool_parked_open() -> u64 {
    parked_count() as u64
}
