//! Throughput of the table engine: increments per second on one contended
//! key and on distinct keys (1 and 2 threads), and plain get/set. `get_hit`
//! copies the stored key into the result; `get_value_hit` does not; `view_hit`
//! looks at the value in place (what a read through the C ABI does).
//!
//! Run with `cargo bench -p syncpool --bench table`; the whole run takes
//! well under a minute (short measurement, 10 samples).

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use syncpool::table::{KeyRef, Store, Value, ValueRef};

/// Runs `iters` increments on each of `threads` threads and returns the wall
/// time from the common start to the last finish. `distinct` gives every
/// thread its own key; otherwise all fight over one.
fn increments(store: &Arc<Store>, threads: usize, iters: u64, distinct: bool) -> Duration {
    let start = Arc::new(Barrier::new(threads + 1));
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (store, start) = (Arc::clone(store), Arc::clone(&start));
            let key = if distinct {
                format!("counter-{t}")
            } else {
                "counter".to_owned()
            };
            thread::spawn(move || {
                start.wait();
                for _ in 0..iters {
                    black_box(store.increment(KeyRef::Text(&key), Value::Int(1)).unwrap());
                }
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    for worker in workers {
        worker.join().unwrap();
    }
    began.elapsed()
}

fn bench_increment(c: &mut Criterion) {
    let mut group = c.benchmark_group("increment");
    for threads in [1usize, 2] {
        // One iteration = one increment on every thread.
        group.throughput(Throughput::Elements(threads as u64));
        for (name, distinct) in [("one_key", false), ("distinct_keys", true)] {
            let store = Arc::new(Store::new(false));
            group.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &threads| {
                b.iter_custom(|iters| increments(&store, threads, iters, distinct));
            });
        }
    }
    group.finish();
}

fn bench_get_set(c: &mut Criterion) {
    let mut group = c.benchmark_group("get_set");
    group.throughput(Throughput::Elements(1));
    for case_sensitive in [false, true] {
        let mode = if case_sensitive {
            "case_sensitive"
        } else {
            "ignore_case"
        };
        let store = Store::new(case_sensitive);
        for i in 0..10_000 {
            store.set(KeyRef::Text(&format!("Key-{i}")), Value::Int(i));
        }
        let hit = KeyRef::Text("Key-4242");
        let miss = KeyRef::Text("absent");
        group.bench_function(BenchmarkId::new("get_hit", mode), |b| {
            b.iter(|| black_box(store.get(black_box(hit))))
        });
        group.bench_function(BenchmarkId::new("get_value_hit", mode), |b| {
            b.iter(|| black_box(store.get_value(black_box(hit))))
        });
        group.bench_function(BenchmarkId::new("view_hit", mode), |b| {
            b.iter(|| black_box(store.view(black_box(hit), |value, version| matches!(value, ValueRef::Int(_)) as u64 + version)))
        });
        group.bench_function(BenchmarkId::new("get_miss", mode), |b| {
            b.iter(|| black_box(store.get(black_box(miss))))
        });
        group.bench_function(BenchmarkId::new("set_existing", mode), |b| {
            b.iter(|| black_box(store.set(black_box(hit), Value::Int(1))))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300))
        .sample_size(10);
    targets = bench_increment, bench_get_set
}
criterion_main!(benches);
