//! Volume, concurrency, shutdown and drop.

#[path = "pool_support.rs"]
mod support;

use std::collections::HashSet;
use std::time::Duration;

use proptest::prelude::*;
use support::{FakeHost, LONG, ms, pool, pool_with, timed};
use syncpool::pool::{PoolError, RunOutcome, TaskState};

#[test]
fn four_submitters_exact_counts() {
    let host = FakeHost::new(|_, _, task| if task % 3 == 0 { RunOutcome::Failed } else { RunOutcome::Completed });
    let pool = pool(4, &host);
    let submitters: Vec<_> = (0..4)
        .map(|_| {
            let pool = pool.clone();
            std::thread::spawn(move || (0..2_000).map(|_| pool.submit(None).unwrap()).collect::<Vec<_>>())
        })
        .collect();
    let ids: Vec<_> = submitters.into_iter().flat_map(|s| s.join().unwrap()).collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 8_000, "ids unique");
    assert_eq!(*ids.iter().max().unwrap(), 8_000, "and dense");
    assert!(pool.wait_all(&ids, Some(LONG)).unwrap());

    let failed = ids.iter().filter(|id| *id % 3 == 0).count();
    let c = pool.counts();
    assert_eq!((c.queued, c.running, c.stopped, c.timed_out), (0, 0, 0, 0));
    assert_eq!((c.completed, c.failed), (8_000 - failed, failed));
    assert!(host.wait_for(LONG, |l| l.finished.len() == 8_000));
    let log = host.log();
    assert_eq!(log.runs.len(), 8_000, "each task ran exactly once");
    assert_eq!(log.runs.iter().map(|r| r.1).collect::<HashSet<_>>().len(), 8_000);
    drop(log);

    for id in &ids {
        pool.remove(*id).unwrap();
    }
    assert_eq!(pool.tracked_tasks(), 0);
    let c = pool.counts();
    assert_eq!((c.completed, c.failed, c.workers), (0, 0, 4));
}

#[test]
fn fifty_thousand_tasks_leave_nothing_behind() {
    let host = FakeHost::instant();
    let pool = pool(2, &host);
    let mut total = 0;
    for round in 0..10 {
        // Half with a (never reached) timeout, to exercise the deadline heap.
        let timeout = (round % 2 == 0).then(|| Duration::from_secs(3_600));
        let ids = pool.submit_many(5_000, timeout).unwrap();
        assert!(pool.wait_all(&ids, Some(LONG)).unwrap());
        for id in ids {
            pool.remove(id).unwrap();
        }
        total += 5_000;
        assert_eq!(pool.tracked_tasks(), 0, "after {total} tasks");
    }
    let c = pool.counts();
    assert_eq!(c.total(), 0);
    assert_eq!(c.workers, 2);
    assert!(pool.shutdown(LONG));
}

#[test]
fn shutdown_with_running_and_queued_tasks_does_not_hang() {
    // Task 1 honours stop, task 2 ignores it; 3.. are queued behind them.
    let host = FakeHost::new(|h, _, task| {
        match task {
            1 => {
                h.work_unless_stopped(task, LONG);
            }
            _ => h.gate(),
        }
        RunOutcome::Completed
    });
    let pool = pool_with(2, ms(100), &host);
    let ids = pool.submit_many(12, None).unwrap();
    assert!(host.wait_for(LONG, |l| l.runs.len() == 2));
    let (w1, w2) = (host.worker_of(1).unwrap(), host.worker_of(2).unwrap());

    // The stuck runner keeps its thread: shutdown reports that, on time.
    let (all_exited, took) = timed(|| pool.shutdown(ms(400)));
    assert!(!all_exited);
    assert!(took >= ms(400) && took < ms(1_500), "{took:?}");
    assert!(pool.wait_all(&ids, Some(Duration::ZERO)).unwrap(), "every task is final");
    for id in &ids {
        let i = pool.info(*id).unwrap();
        assert_eq!(i.state, TaskState::Stopped);
        assert_eq!(i.message.as_deref(), Some("stopped: pool shut down"));
        assert_eq!(i.started_at.is_some(), *id <= 2);
    }
    let mut stops = host.log().stops.clone();
    stops.sort();
    let mut want = vec![(w1, 1), (w2, 2)];
    want.sort();
    assert_eq!(stops, want);
    assert_eq!(host.log().exited, vec![w1], "the cooperative worker exited");
    let c = pool.counts();
    assert_eq!((c.stopped, c.workers, c.abandoned_workers), (12, 0, 1), "stuck worker escalated, not replaced");
    assert_eq!(pool.submit(None), Err(PoolError::ShutDown));
    assert_eq!(host.log().runs.len(), 2, "queued tasks never ran");

    host.release();
    assert!(pool.shutdown(LONG));
    let mut exited = host.log().exited.clone();
    exited.sort();
    assert_eq!(exited, vec![1, 2]);
}

#[test]
fn shutdown_of_cooperative_pool_returns_true_quickly() {
    let host = FakeHost::new(|h, _, task| {
        h.work_unless_stopped(task, LONG);
        RunOutcome::Completed
    });
    let pool = pool(3, &host);
    pool.submit_many(10, Some(Duration::from_secs(60))).unwrap();
    assert!(host.wait_for(LONG, |l| l.runs.len() == 3));
    let (all_exited, took) = timed(|| pool.shutdown(LONG));
    assert!(all_exited);
    assert!(took < ms(500), "{took:?}");
    let mut exited = host.log().exited.clone();
    exited.sort();
    assert_eq!(exited, vec![1, 2, 3]);
    assert_eq!(pool.counts().stopped, 10);
    assert_eq!(pool.counts().abandoned_workers, 0);
}

#[test]
fn waiters_are_released_by_shutdown() {
    let host = FakeHost::new(|h, _, task| {
        h.work_unless_stopped(task, LONG);
        RunOutcome::Completed
    });
    let pool = pool(1, &host);
    let ids = pool.submit_many(3, None).unwrap();
    let waiter = {
        let pool = pool.clone();
        let ids = ids.clone();
        std::thread::spawn(move || timed(|| pool.wait_all(&ids, None).unwrap()))
    };
    assert!(host.wait_for(LONG, |l| l.runs.len() == 1));
    assert!(pool.shutdown(LONG));
    let (all, took) = waiter.join().unwrap();
    assert!(all && took < LONG);
}

#[test]
fn dropping_the_last_handle_does_not_hang() {
    let host = FakeHost::new(|h, _, task| {
        if task == 1 {
            h.gate();
        }
        RunOutcome::Completed
    });
    let pool = pool_with(2, ms(50), &host);
    pool.submit_many(5, None).unwrap();
    assert!(host.wait_for(LONG, |l| l.runs.iter().any(|r| r.1 == 1)));
    let (_, took) = timed(|| drop(pool));
    assert!(took < ms(200), "{took:?}");
    // The idle/cooperative worker exits on its own; the stuck one when released.
    assert!(host.wait_for(LONG, |l| l.exited.len() == 1));
    host.release();
    assert!(host.wait_for(LONG, |l| l.exited.len() == 2));
}

#[test]
fn many_waiters_many_submitters() {
    // Waiters on other threads, each on its own tasks, all woken correctly.
    let host = FakeHost::new(|_, _, task| {
        if task % 7 == 0 {
            std::thread::sleep(ms(1));
        }
        RunOutcome::Completed
    });
    let pool = pool(2, &host);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    let ids = pool.submit_many(10, Some(Duration::from_secs(60))).unwrap();
                    assert!(pool.wait_any(&ids, Some(LONG)).unwrap().is_some());
                    assert!(pool.wait_all(&ids, Some(LONG)).unwrap());
                    for id in ids {
                        pool.remove(id).unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(pool.tracked_tasks(), 0);
}

#[derive(Clone, Debug)]
enum Op {
    Submit(u8, bool),
    Stop(usize),
    Remove(usize),
    Wait(usize),
    StopAll,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u8..4, any::<bool>()).prop_map(|(n, t)| Op::Submit(n, t)),
        2 => any::<usize>().prop_map(Op::Stop),
        2 => any::<usize>().prop_map(Op::Remove),
        1 => any::<usize>().prop_map(Op::Wait),
        1 => Just(Op::StopAll),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Whatever the interleaving of submit/stop/remove/wait, the counters
    /// always add up to the tracked tasks, removed ids are unknown, and after
    /// shutdown everything is final.
    #[test]
    fn counters_stay_consistent(ops in proptest::collection::vec(op(), 1..40)) {
        let host = FakeHost::new(|_, _, task| {
            if task % 4 == 0 { std::thread::sleep(Duration::from_micros(300)); }
            RunOutcome::Completed
        });
        let pool = pool_with(2, ms(50), &host);
        let mut live: Vec<u64> = Vec::new();
        let mut removed: Vec<u64> = Vec::new();
        for op in ops {
            match op {
                Op::Submit(n, t) => live.extend(pool.submit_many(n as usize, t.then(|| ms(10_000))).unwrap()),
                Op::Stop(i) if !live.is_empty() => {
                    let state = pool.stop(live[i % live.len()]).unwrap();
                    prop_assert!(state.is_finished());
                }
                Op::Remove(i) if !live.is_empty() => {
                    let id = live[i % live.len()];
                    match pool.remove(id) {
                        Ok(()) => { live.retain(|x| *x != id); removed.push(id); }
                        Err(PoolError::NotFinished(_)) => {}
                        Err(e) => prop_assert!(false, "{e}"),
                    }
                }
                Op::Wait(i) if !live.is_empty() => {
                    prop_assert!(pool.wait_all(&[live[i % live.len()]], Some(LONG)).unwrap());
                }
                Op::StopAll => pool.stop_all(),
                _ => {}
            }
            let c = pool.counts();
            prop_assert_eq!(c.total(), pool.tracked_tasks());
            prop_assert_eq!(pool.tracked_tasks(), live.len());
        }
        for id in &removed {
            prop_assert_eq!(pool.info(*id).unwrap_err(), PoolError::UnknownTask(*id));
        }
        prop_assert!(pool.shutdown(LONG));
        prop_assert!(pool.wait_all(&live, Some(Duration::ZERO)).unwrap());
        let c = pool.counts();
        prop_assert_eq!((c.queued, c.running, c.workers), (0, 0, 0));
    }
}
