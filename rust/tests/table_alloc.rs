//! Naming a key costs no allocation: reads, and writes of numbers to keys
//! that exist, allocate nothing, whatever the key's length or spelling (the
//! C ABI layer calls the store once per PowerShell operation, so an
//! allocation per call shows up directly).
//!
//! Counts every allocation of the process, so it lives alone in its own test
//! binary, with a single test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use syncpool::table::{KeyRef, Store, Swap, Value, ValueRef};

/// The system allocator, counting allocations.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are the ones the caller gets; the only
// addition is a relaxed counter increment, which cannot allocate or unwind.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as is (see above).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as is (see above).
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as is (see above).
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is (see above).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How many allocations `work` made.
fn allocations(work: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    work();
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

#[test]
fn naming_a_key_allocates_nothing() {
    for case_sensitive in [false, true] {
        let store = Store::new(case_sensitive);
        let short = KeyRef::Text("Counter");
        let long = KeyRef::Text("a key much longer than twenty-four bytes, kept on the heap");
        let int = KeyRef::Int(42);
        let missing = KeyRef::Text("missing");
        for key in [short, long, int] {
            store.set(key, Value::Int(1));
        }
        // Warm the key-lock table up, so its first allocation is not counted.
        assert!(store.lock_key(short, 1, Duration::ZERO, None).ready().is_some());
        store.unlock_key(short, 1).unwrap();

        for key in [short, long, int] {
            // Other spellings find the same entry when case is ignored.
            let upper = match key {
                KeyRef::Text(text) if !case_sensitive => text.to_uppercase(),
                _ => String::new(),
            };
            let key_as_given = if upper.is_empty() {
                key
            } else {
                KeyRef::Text(&upper)
            };
            let count = allocations(|| {
                for key in [key, key_as_given] {
                    assert!(store.contains(key));
                    let (value, version) = store.get_value(key).unwrap();
                    assert!(value.same_as(&Value::Int(1)) || value.same_as(&Value::Int(2)));
                    let seen = store.view(key, |value, seen| matches!(value, ValueRef::Int(1 | 2)).then_some(seen));
                    assert_eq!(seen, Some(Some(version)), "a view sees the value in place");
                    assert!(store.get_value(missing).is_none());
                    let version = store.set(key, Value::Int(1)).max(version);
                    store.increment(key, Value::Int(1)).unwrap();
                    let Swap::Swapped { .. } =
                        store.compare_exchange(key, &Value::Int(2), Value::Int(1))
                    else {
                        panic!("{key:?} holds 2")
                    };
                    let (_, current) = store.get_value(key).unwrap();
                    assert!(current > version);
                    let Swap::Swapped { .. } =
                        store.replace_if_version(key, Some(current), Value::Int(1))
                    else {
                        panic!("{key:?} is at {current}")
                    };
                    // A key lock adds an entry to the lock table: free for
                    // keys short enough to be stored inline.
                    if !matches!(key, KeyRef::Text(text) if text.len() > 24) {
                        assert!(store.lock_key(key, 7, Duration::ZERO, None).ready().is_some());
                        assert_eq!(store.lock_holder(key), Some((7, 1)));
                        store.unlock_key(key, 7).unwrap();
                    }
                }
            });
            assert_eq!(count, 0, "{key:?} (case_sensitive: {case_sensitive})");
        }
    }
}
