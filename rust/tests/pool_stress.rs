//! Many submitters, stoppers and waiters at once: exact counts, nothing left behind.

#[path = "pool_support.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::*;
use syncpool::pool::{Next, Outcome, PoolOptions, TaskState, Wait, WaitOrder};

#[test]
fn four_submitters_and_a_stopper_exact_counts_and_nothing_left() {
    let runs = Arc::new(parking_lot::Mutex::new(std::collections::HashMap::<u64, usize>::new()));
    let r = runs.clone();
    let host = FakeHost::new(move |_, task| {
        *r.lock().entry(task.id).or_default() += 1;
        if task.id % 97 == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
        Outcome::Completed
    });
    let e = engine(&host);
    let submitters: Vec<_> = (0..4)
        .map(|i| {
            let e = e.clone();
            std::thread::spawn(move || {
                let pool = e.create_pool(PoolOptions { throttle: 3, context_key: 1 + i % 2, per_call: true, ..PoolOptions::default() }, None).unwrap();
                let mut all = Vec::new();
                for chunk in 0..50 {
                    all.extend(e.submit(&pool, chunk, None, vec![None; 100]).unwrap());
                    if chunk % 7 == 0 {
                        // Stop a few queued tasks of our own while work runs.
                        for t in all.iter().rev().take(10) {
                            e.stop_task(t, TaskState::Stopped, "stopped");
                        }
                    }
                }
                e.seal(&pool);
                // Receive as the cmdlets do: in completion order, removing each.
                let wait = Wait::new(all.clone());
                let mut received = 0;
                loop {
                    match wait.next(WaitOrder::Completion, Some(Instant::now() + LONG), None) {
                        Next::Task(i) => {
                            e.remove_task(&all[i]).unwrap();
                            received += 1;
                        }
                        Next::End => break,
                        other => panic!("{other:?}"),
                    }
                }
                assert_eq!(received, all.len());
                let stopped = all.iter().filter(|t| t.state() == TaskState::Stopped).count();
                let completed = all.iter().filter(|t| t.state() == TaskState::Completed).count();
                assert_eq!(stopped + completed, 5000);
                let completed_ids: Vec<u64> = all.iter().filter(|t| t.state() == TaskState::Completed).map(|t| t.id).collect();
                (completed_ids, pool.id)
            })
        })
        .collect();
    let mut completed = Vec::new();
    for s in submitters {
        let (ids, pool) = s.join().unwrap();
        completed.extend(ids);
        assert!(e.pool(pool).is_none(), "a sealed, emptied per-call pool leaves");
    }
    let runs = runs.lock();
    assert!(runs.values().all(|&n| n == 1), "no task ran twice");
    assert!(completed.iter().all(|id| runs.get(id) == Some(&1)), "every completed task ran exactly once");
    // The rest that ran were stopped while running; a task stopped while queued never ran.
    assert!(runs.len() >= completed.len() && runs.len() - completed.len() <= 4 * 8 * 10);
    assert!(e.pools().is_empty());
    assert!(e.tasks().is_empty());
    assert!(host.log().internal_errors.is_empty(), "{:?}", host.log().internal_errors);
    e.shutdown();
}

#[test]
fn shutdown_with_work_in_flight_does_not_hang() {
    let host = FakeHost::new(|h, task| {
        h.gate(task.id, Some(syncpool::pool::StopLevel::Ask));
        Outcome::Completed
    });
    let e = engine(&host);
    let p = pool(&e, 3);
    let tasks = submit(&e, &p, 20, None);
    assert!(host.wait_for(LONG, |l| l.started.len() == 3));
    let t0 = Instant::now();
    e.shutdown();
    wait_all(&tasks);
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert!(tasks.iter().all(|t| t.state() == TaskState::Stopped));
}
