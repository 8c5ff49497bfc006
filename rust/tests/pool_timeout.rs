//! Timeouts counted from start, and escalation of runners that ignore stop.

#[path = "pool_support.rs"]
mod support;

use std::time::Duration;

use support::{FakeHost, LONG, ms, pool, pool_with, timed};
use syncpool::pool::{RunOutcome, TaskState};

#[test]
fn timeout_is_counted_from_start_not_from_submit() {
    // Task 2 waits ~300 ms in the queue behind task 1, with a 200 ms
    // timeout; it only runs 50 ms, so it must complete.
    let host = FakeHost::new(|_, _, task| {
        std::thread::sleep(if task == 1 { ms(300) } else { ms(50) });
        RunOutcome::Completed
    });
    let pool = pool(1, &host);
    let a = pool.submit(None).unwrap();
    let b = pool.submit(Some(ms(200))).unwrap();
    assert!(pool.wait_all(&[a, b], Some(LONG)).unwrap());
    assert_eq!(pool.info(a).unwrap().state, TaskState::Completed);
    let ib = pool.info(b).unwrap();
    assert_eq!(ib.state, TaskState::Completed);
    assert!(ib.started_at.unwrap().duration_since(ib.queued_at).unwrap() >= ms(250));
    assert!(host.log().stops.is_empty());
}

#[test]
fn cooperative_runner_times_out() {
    let host = FakeHost::new(|h, _, task| {
        if task == 1 {
            h.work_unless_stopped(task, LONG);
        }
        RunOutcome::Completed
    });
    let pool = pool(1, &host);
    let a = pool.submit(Some(ms(100))).unwrap();
    let (r, took) = timed(|| pool.wait_any(&[a], Some(LONG)).unwrap());
    assert_eq!(r, Some(a));
    assert!(took >= ms(100) && took < ms(100 + 300), "{took:?}");
    let i = pool.info(a).unwrap();
    assert_eq!(i.state, TaskState::TimedOut);
    assert_eq!(i.message.as_deref(), Some("timed out after 0.1 s"));
    assert!(i.ended_at.unwrap().duration_since(i.started_at.unwrap()).unwrap() >= ms(100));
    assert!(host.wait_for(LONG, |l| l.stops == vec![(1, a)]));
    assert!(host.wait_for(LONG, |l| l.returned.contains(&a)));
    assert!(host.wait_for(LONG, |l| l.finished == vec![(a, TaskState::TimedOut)]), "reported once, as TimedOut");

    // The runner returned within the grace period: same worker goes on.
    let b = pool.submit(None).unwrap();
    assert!(pool.wait_all(&[b], Some(LONG)).unwrap());
    assert_eq!(pool.info(b).unwrap().worker, Some(1));
    assert_eq!(pool.info(a).unwrap().state, TaskState::TimedOut, "late Completed ignored");
    let c = pool.counts();
    assert_eq!((c.timed_out, c.completed, c.abandoned_workers, c.workers), (1, 1, 0, 1));
}

#[test]
fn stuck_runner_is_timed_out_abandoned_and_replaced() {
    // Task 1 ignores stop requests entirely; the others are instant.
    let host = FakeHost::new(|h, _, task| {
        if task == 1 {
            h.gate();
        }
        RunOutcome::Completed
    });
    let grace = ms(150);
    let pool = pool_with(1, grace, &host);
    let stuck = pool.submit(Some(ms(100))).unwrap();
    let later = pool.submit_many(3, None).unwrap();

    // Waiters are released at the timeout, not when the runner returns.
    let (r, took) = timed(|| pool.wait_any(&[stuck], Some(LONG)).unwrap());
    assert_eq!(r, Some(stuck));
    assert!(took < ms(100 + 300), "{took:?}");
    assert_eq!(pool.info(stuck).unwrap().state, TaskState::TimedOut);
    assert!(host.wait_for(LONG, |l| l.stops == vec![(1, stuck)]));

    // After the grace period a replacement worker (new id) runs the rest.
    assert!(pool.wait_all(&later, Some(LONG)).unwrap());
    let timed_out_at = pool.info(stuck).unwrap().ended_at.unwrap();
    for id in &later {
        let i = pool.info(*id).unwrap();
        assert_eq!(i.state, TaskState::Completed);
        assert_eq!(i.worker, Some(2), "replacement worker");
        assert!(i.started_at.unwrap().duration_since(timed_out_at).unwrap() >= grace - ms(20));
    }
    let c = pool.counts();
    assert_eq!((c.workers, c.abandoned_workers, c.running, c.timed_out), (1, 1, 0, 1));
    assert!(host.log().exited.is_empty(), "the stuck thread has not exited yet");

    // When the stuck runner finally returns, its result is ignored and its
    // thread exits, telling the host.
    host.release();
    assert!(host.wait_for(LONG, |l| l.exited == vec![1]));
    assert_eq!(pool.info(stuck).unwrap().state, TaskState::TimedOut);
    assert_eq!(host.log().finished.iter().filter(|f| f.0 == stuck).count(), 1);

    // Throughput is intact.
    let more = pool.submit_many(5, Some(ms(5_000))).unwrap();
    assert!(pool.wait_all(&more, Some(LONG)).unwrap());
    assert!(more.iter().all(|id| pool.info(*id).unwrap().state == TaskState::Completed));
    assert!(pool.shutdown(LONG));
    let mut exited = host.log().exited.clone();
    exited.sort();
    assert_eq!(exited, vec![1, 2]);
}

#[test]
fn stopping_a_stuck_runner_escalates_like_a_timeout() {
    let host = FakeHost::new(|h, _, task| {
        match task {
            1 => h.gate(),
            2 => std::thread::sleep(ms(400)),
            _ => {}
        }
        RunOutcome::Completed
    });
    let pool = pool_with(2, ms(100), &host);
    let stuck = pool.submit(None).unwrap();
    assert!(host.wait_for(LONG, |l| l.runs.len() == 1));
    let w = host.worker_of(stuck).unwrap();

    let waiter = {
        let p = pool.clone();
        std::thread::spawn(move || timed(|| p.wait_all(&[stuck], Some(LONG)).unwrap()))
    };
    assert_eq!(pool.stop(stuck).unwrap(), TaskState::Stopped);
    let (all, took) = waiter.join().unwrap();
    assert!(all && took < ms(300), "{took:?}");
    assert_eq!(host.log().stops, vec![(w, stuck)]);

    // Escalation: while task 2 keeps the healthy worker busy, task 3 can
    // only run on a replacement (worker 3) started after the grace period.
    let busy = pool.submit(None).unwrap();
    let next = pool.submit(None).unwrap();
    assert!(pool.wait_all(&[next], Some(LONG)).unwrap());
    assert_eq!(pool.info(next).unwrap().worker, Some(3));
    assert_eq!(pool.info(busy).unwrap().state, TaskState::Running, "ran alongside the busy task");
    let c = pool.counts();
    assert_eq!((c.workers, c.abandoned_workers), (2, 1));
    assert!(pool.wait_all(&[busy], Some(LONG)).unwrap());

    host.release();
    assert!(host.wait_for(LONG, |l| l.exited == vec![w]));
    let i = pool.info(stuck).unwrap();
    assert_eq!((i.state, i.message.as_deref()), (TaskState::Stopped, Some("stopped")));
}

#[test]
fn timeouts_fire_in_deadline_order_across_workers() {
    // Three cooperative runners with different timeouts: each is timed out
    // close to its own deadline (one timer thread, one heap).
    let host = FakeHost::new(|h, _, task| {
        h.work_unless_stopped(task, LONG);
        RunOutcome::Completed
    });
    let pool = pool(3, &host);
    let ids: Vec<_> = [300u64, 100, 200].iter().map(|t| pool.submit(Some(ms(*t))).unwrap()).collect();
    assert!(pool.wait_all(&ids, Some(LONG)).unwrap());
    assert!(host.wait_for(LONG, |l| l.stops.len() == 3));
    let order: Vec<_> = host.log().stops.iter().map(|s| s.1).collect();
    assert_eq!(order, vec![ids[1], ids[2], ids[0]]);
    for (id, t) in ids.iter().zip([300u64, 100, 200]) {
        let i = pool.info(*id).unwrap();
        assert_eq!(i.state, TaskState::TimedOut);
        let ran = i.ended_at.unwrap().duration_since(i.started_at.unwrap()).unwrap();
        assert!(ran >= ms(t) && ran < ms(t + 250), "{id}: {ran:?}");
    }
}

#[test]
fn huge_timeouts_and_grace_are_accepted() {
    let host = FakeHost::instant();
    let pool = pool_with(1, Duration::MAX, &host);
    let a = pool.submit(Some(Duration::MAX)).unwrap();
    assert!(pool.wait_all(&[a], Some(Duration::MAX)).unwrap());
    assert_eq!(pool.info(a).unwrap().state, TaskState::Completed);
}
