//! Multi-threaded stress tests with exact expected totals.
//!
//! Every test would lose updates, tear values, hang or fail under a race in
//! the store; none depends on timing to pass. Timeouts are generous and only
//! turn a lost wake-up into a failure instead of a hang.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use syncpool::data::{Data, IntKind, document};
use syncpool::table::{Key, KeyRef, Store, Swap, Value};

const THREADS: usize = 4;
const LONG: Duration = Duration::from_secs(20);

fn text(s: &str) -> KeyRef<'_> {
    KeyRef::Text(s)
}

fn int(value: &Value) -> i64 {
    match value {
        Value::Int(n) => *n,
        other => panic!("expected an int, found {other:?}"),
    }
}

/// Runs `work(thread_index)` on `THREADS` threads that start together.
fn on_threads<T: Send + 'static>(work: impl Fn(usize) -> T + Send + Sync + 'static) -> Vec<T> {
    let work = Arc::new(work);
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let (work, start) = (Arc::clone(&work), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                work(i)
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("worker panicked"))
        .collect()
}

#[test]
fn increments_of_one_key_are_exact() {
    for case_sensitive in [false, true] {
        let store = Arc::new(Store::new(case_sensitive));
        let s = Arc::clone(&store);
        on_threads(move |i| {
            // Different spellings of one key when case is ignored.
            let key = if case_sensitive {
                text("counter")
            } else {
                text(["counter", "COUNTER", "Counter", "cOUNTER"][i])
            };
            for _ in 0..25_000 {
                s.increment(key, Value::Int(1)).unwrap();
            }
        });
        let entry = store.get(text("counter")).unwrap();
        assert_eq!(int(&entry.value), 100_000);
        assert_eq!(store.len(), 1);
    }
}

#[test]
fn increments_of_mixed_keys_are_exact() {
    let store = Arc::new(Store::new(false));
    let s = Arc::clone(&store);
    on_threads(move |i| {
        for n in 0..10_000i64 {
            let k = (n + i as i64) % 16;
            s.increment(KeyRef::Int(k), Value::Int(1)).unwrap();
            // Halves add exactly in binary, so the double total is exact too.
            s.increment(text(&format!("d{k}")), Value::Double(0.5))
                .unwrap();
        }
    });
    for k in 0..16 {
        assert_eq!(
            int(&store.get(KeyRef::Int(k)).unwrap().value),
            2_500,
            "key {k}"
        );
        match store.get(text(&format!("D{k}"))).unwrap().value {
            Value::Double(x) => assert_eq!(x, 1_250.0),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn compare_exchange_loops_are_exact() {
    let store = Arc::new(Store::new(false));
    store.set(text("cas"), Value::Int(0));
    let s = Arc::clone(&store);
    let retries: usize = on_threads(move |_| {
        let mut retries = 0;
        let mut seen = s.get(text("cas")).unwrap().value;
        for _ in 0..5_000 {
            loop {
                match s.compare_exchange(text("CAS"), &seen, Value::Int(int(&seen) + 1)) {
                    Swap::Swapped { .. } => {
                        seen = Value::Int(int(&seen) + 1);
                        break;
                    }
                    Swap::Mismatch { current } => {
                        seen = current.expect("never removed").value;
                        retries += 1;
                    }
                }
            }
        }
        retries
    })
    .into_iter()
    .sum();
    assert_eq!(int(&store.get(text("cas")).unwrap().value), 20_000);
    eprintln!("compare_exchange retries: {retries}");
}

#[test]
fn optimistic_updates_are_exact() {
    // What Update-SyncKey does: read, compute outside any lock, write if the
    // version is unchanged, else retry.
    let store = Arc::new(Store::new(true));
    let s = Arc::clone(&store);
    on_threads(move |_| {
        for _ in 0..5_000 {
            loop {
                let current = s.get(text("opt"));
                let (expected, next) = match &current {
                    Some(e) => (Some(e.version), int(&e.value) + 1),
                    None => (None, 1),
                };
                if let Swap::Swapped { .. } =
                    s.replace_if_version(text("opt"), expected, Value::Int(next))
                {
                    break;
                }
            }
        }
    });
    assert_eq!(int(&store.get(text("opt")).unwrap().value), 20_000);
}

#[test]
fn get_or_add_adds_exactly_once() {
    for round in 0..200 {
        let store = Arc::new(Store::new(false));
        let s = Arc::clone(&store);
        let results = on_threads(move |i| {
            let (entry, added) = s.get_or_add(
                text(if i % 2 == 0 { "once" } else { "ONCE" }),
                Value::Int(i as i64),
            );
            (int(&entry.value), entry.version, added)
        });
        assert_eq!(
            results.iter().filter(|r| r.2).count(),
            1,
            "round {round}: exactly one adder"
        );
        let winner = results.iter().find(|r| r.2).unwrap();
        assert!(
            results.iter().all(|r| r.0 == winner.0 && r.1 == winner.1),
            "round {round}: all see the winner"
        );
    }
}

#[test]
fn versions_are_unique_and_increase_per_key() {
    let store = Arc::new(Store::new(false));
    let s = Arc::clone(&store);
    let per_thread = on_threads(move |i| {
        let mut versions = Vec::with_capacity(10_000);
        for n in 0..5_000 {
            versions.push(s.set(KeyRef::Int(i as i64), Value::Int(n)));
            versions.push(s.set(text("shared"), Value::Int(n)));
        }
        versions
    });
    let mut all = HashSet::new();
    for versions in &per_thread {
        let own: Vec<_> = versions.iter().step_by(2).collect();
        assert!(
            own.windows(2).all(|w| w[0] < w[1]),
            "a key's versions only grow"
        );
        for v in versions {
            assert!(all.insert(*v), "version {v} handed out twice");
        }
    }
    assert_eq!(all.len(), THREADS * 10_000);
}

#[test]
fn snapshots_and_exports_never_fail_while_others_write() {
    let store = Arc::new(Store::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (store, stop, writes) =
                (Arc::clone(&store), Arc::clone(&stop), Arc::clone(&writes));
            thread::spawn(move || {
                let mut n = 0i64;
                while !stop.load(Ordering::Relaxed) {
                    let k = (n * 7 + w) % 200;
                    // Invariant checked by readers: value == key * 10.
                    match n % 10 {
                        0 => {
                            store.remove(KeyRef::Int(k));
                        }
                        1 if w == 0 && n % 1_000 == 1 => store.clear(),
                        2 => {
                            store.compare_exchange(
                                KeyRef::Int(k),
                                &Value::Int(k * 10),
                                Value::Int(k * 10),
                            );
                        }
                        _ => {
                            store.set(KeyRef::Int(k), Value::Int(k * 10));
                        }
                    }
                    n += 1;
                    writes.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    // Keep reading until the writers have demonstrably run alongside.
    let give_up = Instant::now() + LONG;
    let mut snapshots = 0;
    while snapshots < 300 || writes.load(Ordering::Relaxed) < 20_000 {
        assert!(Instant::now() < give_up, "writers made no progress");
        let snapshot = store.snapshot();
        let mut keys = HashSet::new();
        for entry in &snapshot {
            let Key::Int(k) = entry.key else {
                panic!("unexpected key {:?}", entry.key)
            };
            assert_eq!(int(&entry.value), k * 10, "torn or wrong value");
            assert!(keys.insert(k), "key {k} twice in one snapshot");
        }
        // What an export makes of a snapshot taken while others write.
        let entries: Vec<(Data, Data)> = snapshot
            .iter()
            .map(|e| match e.key {
                Key::Int(k) => (Data::Integer(IntKind::Int, k.into()), Data::Integer(IntKind::Int, int(&e.value).into())),
                Key::Text(_) => unreachable!(),
            })
            .collect();
        let text = document::write(&entries, false).expect("a snapshot of plain values always exports");
        assert_eq!(document::read(&text).unwrap().len(), snapshot.len());
        store.keys();
        store.len();
        snapshots += 1;
    }
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
}

#[test]
fn wait_for_never_misses_a_wake_up() {
    // Ping-pong: each side waits for the other's next version. A lost
    // wake-up stalls the exchange until the (long) timeout and fails it.
    const ROUNDS: i64 = 2_000;
    let store = Arc::new(Store::new(false));
    let s = Arc::clone(&store);
    let ponger = thread::spawn(move || {
        let mut seen = None;
        for round in 1..=ROUNDS {
            let ping = s.wait_for(text("PING"), seen, LONG, None).ready().expect("ping lost");
            assert_eq!(int(&ping.value), round);
            seen = Some(ping.version);
            s.set(text("pong"), Value::Int(round));
        }
    });
    let mut seen = None;
    for round in 1..=ROUNDS {
        store.set(text("ping"), Value::Int(round));
        let pong = store.wait_for(text("Pong"), seen, LONG, None).ready().expect("pong lost");
        assert_eq!(int(&pong.value), round);
        seen = Some(pong.version);
    }
    ponger.join().unwrap();
}

#[test]
fn waiters_are_woken_by_concurrent_writers() {
    let store = Arc::new(Store::new(false));
    let waiters: Vec<_> = (0..6)
        .map(|i| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                // Each waits for its own key to reach 1_000.
                let key = KeyRef::Int(i % 3);
                let mut seen = None;
                loop {
                    let entry = store
                        .wait_for(key, seen, LONG, None)
                        .ready()
                        .expect("writer's wake-up lost");
                    if int(&entry.value) >= 1_000 {
                        return int(&entry.value);
                    }
                    seen = Some(entry.version);
                }
            })
        })
        .collect();
    let s = Arc::clone(&store);
    on_threads(move |i| {
        for _ in 0..1_000 {
            if i < 3 {
                s.increment(KeyRef::Int(i as i64), Value::Int(1)).unwrap();
            } else {
                s.set(text("noise"), Value::Null);
            }
        }
    });
    for waiter in waiters {
        assert_eq!(waiter.join().unwrap(), 1_000);
    }
}

#[test]
fn key_locks_keep_a_two_key_invariant() {
    // Transfers between two accounts under both key locks; the total is
    // checked under the same locks and must never change.
    let store = Arc::new(Store::new(false));
    store.set(text("alice"), Value::Int(1_000));
    store.set(text("bob"), Value::Int(1_000));
    let s = Arc::clone(&store);
    on_threads(move |i| {
        let owner = i as u64 + 1;
        let (from, to) = if i % 2 == 0 {
            ("alice", "bob")
        } else {
            ("BOB", "ALICE")
        };
        for n in 0..500 {
            // Always lock in one order to avoid deadlock.
            assert!(s.lock_key(text("Alice"), owner, LONG, None).ready().is_some());
            assert!(s.lock_key(text("Bob"), owner, LONG, None).ready().is_some());
            if n % 5 == 0 {
                let total = int(&s.get(text("alice")).unwrap().value)
                    + int(&s.get(text("bob")).unwrap().value);
                assert_eq!(total, 2_000);
            } else {
                s.increment(text(from), Value::Int(-3)).unwrap();
                thread::yield_now();
                s.increment(text(to), Value::Int(3)).unwrap();
            }
            if n % 50 == 0 {
                s.unlock_all(owner);
            } else {
                s.unlock_key(text("bob"), owner).unwrap();
                s.unlock_key(text("alice"), owner).unwrap();
            }
        }
    });
    let total =
        int(&store.get(text("alice")).unwrap().value) + int(&store.get(text("bob")).unwrap().value);
    assert_eq!(total, 2_000);
    assert_eq!(store.lock_holder(text("alice")), None);
}
