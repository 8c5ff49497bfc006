//! Waits: all, any, next in completion or input order, across pools; time
//! limits and cancellation; nested waits that must not deadlock.

#[path = "pool_support.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::*;
use syncpool::cancel::Cancel;
use syncpool::pool::{Next, Outcome, StopLevel, TaskState, Wait, WaitEnd, WaitOrder};

fn sleepy() -> Arc<FakeHost> {
    // Task n sleeps (n mod 5) * 30 ms: later ids may finish first.
    FakeHost::new(|_, task| {
        std::thread::sleep(Duration::from_millis((5 - task.id % 5) * 30));
        Outcome::Completed
    })
}

#[test]
fn next_delivers_in_completion_order_or_in_input_order() {
    let host = sleepy();
    let e = engine(&host);
    let p = pool(&e, 5);
    let tasks = submit(&e, &p, 5, None);
    let wait = Wait::new(tasks.clone());
    let mut got = Vec::new();
    loop {
        match wait.next(WaitOrder::Completion, Some(Instant::now() + LONG), None) {
            Next::Task(i) => got.push(i),
            Next::End => break,
            other => panic!("{other:?}"),
        }
    }
    // Delivered as they finished: their end times never go backwards, and
    // (task n sleeps less than task n-1) not in the order given.
    let ends: Vec<_> = got.iter().map(|&i| tasks[i].info().ended_at.unwrap()).collect();
    assert!(ends.windows(2).all(|w| w[0] <= w[1]), "completion order: {got:?}");
    assert_ne!(got, vec![0, 1, 2, 3, 4]);
    let again = Wait::new(tasks.clone());
    let ordered: Vec<usize> = std::iter::from_fn(|| match again.next(WaitOrder::Input, Some(Instant::now() + LONG), None) {
        Next::Task(i) => Some(i),
        _ => None,
    })
    .collect();
    assert_eq!(ordered, vec![0, 1, 2, 3, 4]);
    e.shutdown();
}

#[test]
fn all_any_timeouts_and_an_empty_set() {
    let host = FakeHost::new(|h, task| {
        if task.group == 2 {
            h.gate(task.id, Some(StopLevel::Ask));
        }
        Outcome::Completed
    });
    let e = engine(&host);
    let p = pool(&e, 2);
    let quick = submit(&e, &p, 1, None);
    let slow = e.submit(&p, 2, None, vec![None]).unwrap();
    let both = Wait::new(vec![quick[0].clone(), slow[0].clone()]);
    assert_eq!(both.any(Some(Instant::now() + LONG), None), WaitEnd::Done);
    let t0 = Instant::now();
    assert_eq!(both.all(Some(Instant::now() + Duration::from_millis(200)), None), WaitEnd::TimedOut);
    assert!(t0.elapsed() >= Duration::from_millis(200));
    assert_eq!(both.progress().finished, 1);
    assert_eq!(Wait::new(vec![]).all(None, None), WaitEnd::Done);
    assert_eq!(Wait::new(vec![]).next(WaitOrder::Completion, None, None), Next::End);
    host.release();
    assert_eq!(both.all(Some(Instant::now() + LONG), None), WaitEnd::Done);
    e.shutdown();
}

#[test]
fn a_cancel_ends_a_wait_at_once() {
    let host = FakeHost::new(|h, task| {
        h.gate(task.id, Some(StopLevel::Ask));
        Outcome::Completed
    });
    let e = engine(&host);
    let p = pool(&e, 1);
    let tasks = submit(&e, &p, 3, None);
    let cancel = Cancel::new();
    let waiter = {
        let (tasks, cancel) = (tasks.clone(), cancel.clone());
        std::thread::spawn(move || {
            let wait = Wait::new(tasks);
            let t0 = Instant::now();
            (wait.all(None, Some(&cancel)), t0.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    cancel.cancel();
    let (end, waited) = waiter.join().unwrap();
    assert_eq!(end, WaitEnd::Cancelled);
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    for t in &tasks {
        e.stop_task(t, TaskState::Stopped, "stopped");
    }
    host.release();
    e.shutdown();
}

#[test]
fn a_wait_across_pools() {
    let host = sleepy();
    let e = engine(&host);
    let a = pool(&e, 2);
    let b = pool(&e, 2);
    let mut tasks = submit(&e, &a, 4, None);
    tasks.extend(submit(&e, &b, 4, None));
    let wait = Wait::new(tasks.clone());
    assert_eq!(wait.all(Some(Instant::now() + LONG), None), WaitEnd::Done);
    assert!(tasks.iter().all(|t| t.is_finished()));
    e.shutdown();
}

/// A script that submits `n` tasks to its own pool and waits for them.
fn nesting_host(depth_of: fn(u64) -> usize) -> Arc<FakeHost> {
    FakeHost::new(move |h, task| {
        let depth = depth_of(task.group);
        if depth > 0 {
            let e = h.engine();
            let pool = e.pool(task.pool).unwrap();
            let inner = e.submit(&pool, task.group - 1, None, vec![None; 2]).unwrap();
            let wait = Wait::new(inner);
            if wait.all(Some(Instant::now() + LONG), None) != WaitEnd::Done {
                return Outcome::Failed;
            }
        }
        Outcome::Completed
    })
}

#[test]
fn nested_waits_at_throttle_1_do_not_deadlock() {
    // Group 3 tasks start group 2 tasks, which start group 1 tasks, which start nothing.
    let host = nesting_host(|group| group as usize - 1);
    let e = engine(&host);
    let p = pool(&e, 1);
    let top = e.submit(&p, 3, None, vec![None; 2]).unwrap();
    let t0 = Instant::now();
    wait_all(&top);
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert!(top.iter().all(|t| t.state() == TaskState::Completed));
    // 2 + 4 + 8 tasks ran (the fake logs an end just after reporting it).
    assert!(host.wait_for(LONG, |l| l.ended.len() == 14), "{} ended", host.log().ended.len());
    e.shutdown();
}

#[test]
fn dropping_a_wait_unregisters_it() {
    let host = FakeHost::new(|h, task| {
        h.gate(task.id, Some(StopLevel::Ask));
        Outcome::Completed
    });
    let e = engine(&host);
    let p = pool(&e, 1);
    let tasks = submit(&e, &p, 1, None);
    for _ in 0..10_000 {
        let wait = Wait::new(tasks.clone());
        assert_eq!(wait.all(Some(Instant::now()), None), WaitEnd::TimedOut);
    }
    host.release();
    wait_all(&tasks);
    e.shutdown();
}

#[test]
fn stopping_a_set_never_starts_its_queued_tasks_in_the_slots_its_running_ones_free() {
    // Stopped one by one in order, each running task's stop freed a slot that
    // the next queued task of the set took (its script ran, yet it ended
    // Stopped): QA saw 23 to 100 scripts of 100 run with a throttle of 4.
    let host = FakeHost::new(|h, task| {
        h.gate(task.id, Some(StopLevel::Ask));
        Outcome::Completed
    });
    let e = engine(&host);
    let p = pool(&e, 4);
    let tasks = submit(&e, &p, 100, None);
    assert!(host.wait_for(LONG, |l| l.started.len() == 4), "four scripts run");
    assert_eq!(e.stop_tasks(&tasks, TaskState::Stopped, "stopped"), 100);
    assert!(tasks.iter().all(|t| t.state() == TaskState::Stopped));
    assert!(host.wait_for(LONG, |l| l.ended.len() == 4), "the four running scripts end");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(host.log().started.len(), 4, "no queued task of the set started");
    e.shutdown();
}
