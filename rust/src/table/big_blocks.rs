//! Slot arrays given back to the system when a table grows (Linux, glibc).
//!
//! A table grows by doubling each shard's slot array: a new array is
//! allocated, the entries are moved, the old array is freed. glibc serves
//! big blocks from their own mappings, but raises that threshold to the size
//! of every such block freed, so from then on the old arrays of a growing
//! table were carved out of its heaps and stayed there as holes after being
//! freed. Inside pwsh a table grown to a million entries kept 5 to 14 MiB of
//! such holes for the rest of the process (tests/bench/results).
//!
//! Fixing the threshold at 256 KiB (`mallopt(M_MMAP_THRESHOLD)`, which also
//! turns the raising off) keeps every block that big in its own mapping,
//! returned the moment it is freed. It is a process-wide malloc setting: it
//! only changes where blocks of 256 KiB and more live, which costs a system
//! call per such allocation; code that allocates those in a loop is rare
//! (.NET's own heaps do not use malloc). Set once, when the first table is
//! made.

/// Blocks of at least this many bytes get their own mapping.
const THRESHOLD: i32 = 256 * 1024;

pub(crate) fn return_freed_slot_arrays() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: `mallopt` only sets a malloc tuning parameter; it is safe to
        // call at any time from any thread.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
        }
    });
}
