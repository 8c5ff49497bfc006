//! Tasks that submit to their own pool and wait: must not deadlock, even at
//! throttle 1, and the temporary workers must go away afterwards.

#[path = "pool_support.rs"]
mod support;

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use support::{FakeHost, LONG, pool};
use syncpool::pool::{RunOutcome, TaskId, TaskState};

#[test]
fn nested_submit_and_wait_at_throttle_1() {
    // Task 1 (the outer) submits three inner tasks and waits for all of them.
    let host = FakeHost::new(|h, _, task| {
        if task != 1 {
            return RunOutcome::Completed;
        }
        let pool = h.pool();
        let inner = pool.submit_many(3, None).unwrap();
        if pool.wait_all(&inner, Some(LONG)).unwrap() { RunOutcome::Completed } else { RunOutcome::Failed }
    });
    let pool = pool(1, &host);
    let outer = pool.submit(None).unwrap();
    assert!(pool.wait_all(&[outer], Some(LONG)).unwrap());
    assert_eq!(pool.info(outer).unwrap().state, TaskState::Completed);
    for inner in 2..=4 {
        let i = pool.info(inner).unwrap();
        assert_eq!(i.state, TaskState::Completed);
        assert_eq!(i.worker, Some(2), "run by the compensating worker");
    }
    // The compensating worker retires once the outer task stopped waiting.
    assert!(host.wait_for(LONG, |l| l.exited == vec![2]));
    assert_eq!(pool.counts().workers, 1);
    assert_eq!(pool.counts().abandoned_workers, 0);

    // Plain work still flows through the original worker.
    let more = pool.submit_many(3, None).unwrap();
    assert!(pool.wait_all(&more, Some(LONG)).unwrap());
    assert!(more.iter().all(|id| pool.info(*id).unwrap().worker == Some(1)));
}

#[test]
fn nested_wait_any_at_throttle_1() {
    let host = FakeHost::new(|h, _, task| {
        if task != 1 {
            return RunOutcome::Completed;
        }
        let pool = h.pool();
        let inner = pool.submit_many(2, None).unwrap();
        match pool.wait_any(&inner, Some(LONG)).unwrap() {
            Some(_) => RunOutcome::Completed,
            None => RunOutcome::Failed,
        }
    });
    let pool = pool(1, &host);
    let outer = pool.submit(None).unwrap();
    assert!(pool.wait_all(&[outer], Some(LONG)).unwrap());
    assert_eq!(pool.info(outer).unwrap().state, TaskState::Completed);
    assert!(pool.wait_all(&[2, 3], Some(LONG)).unwrap());
}

#[test]
fn three_levels_of_nesting_with_every_worker_blocked() {
    // Two outer tasks at throttle 2, each waiting on two middle tasks, each
    // waiting on two leaves: at some point every original worker is blocked.
    let levels: Arc<Mutex<HashMap<TaskId, u32>>> = Arc::default();
    let l = levels.clone();
    let host = FakeHost::new(move |h, _, task| {
        // The parent holds the lock while it submits and records the
        // children's level, so a child never looks itself up too early.
        let level = *l.lock().get(&task).unwrap_or(&0);
        if level == 2 {
            return RunOutcome::Completed;
        }
        let pool = h.pool();
        let children = {
            let mut map = l.lock();
            let ids = pool.submit_many(2, None).unwrap();
            for id in &ids {
                map.insert(*id, level + 1);
            }
            ids
        };
        if pool.wait_all(&children, Some(LONG)).unwrap() { RunOutcome::Completed } else { RunOutcome::Failed }
    });
    let pool = pool(2, &host);
    let outers = {
        let mut map = levels.lock();
        let ids = pool.submit_many(2, None).unwrap();
        for id in &ids {
            map.insert(*id, 0);
        }
        ids
    };
    assert!(pool.wait_all(&outers, Some(LONG)).unwrap());
    let all: Vec<_> = levels.lock().keys().copied().collect();
    assert_eq!(all.len(), 2 + 4 + 8);
    assert!(pool.wait_all(&all, Some(LONG)).unwrap());
    for id in all {
        assert_eq!(pool.info(id).unwrap().state, TaskState::Completed, "task {id}");
    }
    // All temporary workers retire.
    assert!(host.wait_for(LONG, |_| pool.counts().workers == 2) || pool.counts().workers == 2);
    let c = pool.counts();
    assert_eq!((c.completed, c.failed), (14, 0));
}

#[test]
fn waiting_from_outside_the_pool_does_not_add_workers() {
    let host = FakeHost::new(|h, _, task| {
        if task == 1 {
            h.gate();
        }
        RunOutcome::Completed
    });
    let pool = pool(1, &host);
    let ids = pool.submit_many(3, None).unwrap();
    assert!(!pool.wait_all(&ids, Some(support::ms(50))).unwrap());
    assert_eq!(pool.counts().workers, 1);
    host.release();
    assert!(pool.wait_all(&ids, Some(LONG)).unwrap());
    assert!(host.log().runs.iter().all(|r| r.0 == 1));
}

#[test]
fn nested_wait_ends_when_the_waiting_task_times_out() {
    // The outer task (timeout 100 ms) waits on an inner task that never
    // finishes by itself. A stopped PowerShell pipeline cannot interrupt a
    // native wait, so the pool ends the wait itself: the runner returns
    // right after the timeout and its worker is not abandoned.
    let host = FakeHost::new(|h, _, task| {
        if task != 1 {
            h.gate();
            return RunOutcome::Completed;
        }
        let pool = h.pool();
        let inner = pool.submit(None).unwrap();
        if pool.wait_all(&[inner], Some(LONG)).unwrap() { RunOutcome::Completed } else { RunOutcome::Failed }
    });
    let pool = support::pool_with(1, support::ms(5_000), &host);
    let (outer, took) = support::timed(|| {
        let outer = pool.submit(Some(support::ms(100))).unwrap();
        assert!(host.wait_for(LONG, |l| l.returned.contains(&outer)));
        outer
    });
    assert!(took >= support::ms(100) && took < support::ms(100 + 300), "{took:?}");
    assert_eq!(pool.info(outer).unwrap().state, TaskState::TimedOut);
    assert_eq!(pool.info(2).unwrap().state, TaskState::Running, "the inner task is not affected");
    assert_eq!(pool.counts().abandoned_workers, 0);

    host.release();
    assert!(pool.wait_all(&[2], Some(LONG)).unwrap());
    assert_eq!(pool.info(2).unwrap().state, TaskState::Completed);
    assert!(host.wait_for(LONG, |l| l.exited == vec![2]), "compensating worker retired");
}
