//! Memory use of a big table: 1,000,000 short text keys ("k0".."k999999")
//! with integer values, measured as growth of the process's resident set.
//!
//! A synchronized hashtable filled from PowerShell grows pwsh by about
//! 100 MiB (tests/bench/results/table-latest.md); the table must stay well
//! below that, as pwsh adds its own garbage to the table's figure. 40-byte
//! slots (keys of up to 14 bytes inline in 16 bytes, 16-byte values, the
//! version) at the load a hash table has after growing to 1M entries come to
//! about 86 MB; with 48-byte slots it was 103 MB, before slots were
//! compacted about 170 MB.
//!
//! Alone in its own test binary so no other test allocates meanwhile. Reads
//! `VmRSS` from `/proc/self/status` (the resident field of `statm`, already
//! in kB, so no page-size guess), so it runs on Linux only. Print the numbers with
//! `cargo test --release --test table_memory -- --nocapture`.
#![cfg(target_os = "linux")]

use std::fmt::Write as _;

use syncpool::table::{KeyRef, Store, Value};

/// Upper bound on the growth for 1,000,000 entries.
const LIMIT_BYTES: u64 = 92_000_000;

/// Resident set size in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line in /proc/self/status");
    kb * 1024
}

#[test]
fn a_million_short_keys_fit_in_the_budget() {
    const ENTRIES: i64 = 1_000_000;
    let mut key = String::new();
    let before = rss();
    let store = Store::new(false);
    for i in 0..ENTRIES {
        key.clear();
        write!(key, "k{i}").unwrap();
        store.set(KeyRef::Text(&key), Value::Int(i));
    }
    let grown = rss().saturating_sub(before);
    assert_eq!(store.len(), ENTRIES as usize);
    eprintln!(
        "{ENTRIES} entries: RSS grew by {:.1} MB ({:.0} bytes per entry)",
        grown as f64 / 1e6,
        grown as f64 / ENTRIES as f64
    );
    assert!(
        grown <= LIMIT_BYTES,
        "RSS grew by {grown} bytes, more than {LIMIT_BYTES}"
    );
    // Spot checks, so the loop above cannot be optimised into nothing.
    let (value, _) = store.get_value(KeyRef::Text("K999999")).unwrap();
    assert!(value.same_as(&Value::Int(999_999)));
}
