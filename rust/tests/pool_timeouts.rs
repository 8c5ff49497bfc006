//! Timeouts count from the moment a script starts; stops escalate from
//! asking, to interrupting the thread, to abandoning the worker (which is
//! replaced, so the pool keeps its throttle).

#[path = "pool_support.rs"]
mod support;

use std::time::{Duration, Instant};

use support::*;
use syncpool::pool::{Outcome, StopLevel, TaskState};

#[test]
fn a_timeout_counts_from_the_start_of_the_script_not_from_queueing_or_context_setup() {
    // Setting up a context takes 400 ms (a slow -ImportModule); scripts take 50 ms.
    let host = FakeHost::with_setup(Duration::from_millis(400), |_, _| {
        std::thread::sleep(Duration::from_millis(50));
        Outcome::Completed
    });
    let e = engine(&host);
    let p = pool(&e, 1);
    let tasks = submit(&e, &p, 4, Some(Duration::from_millis(250)));
    wait_all(&tasks);
    // Queued up to ~550 ms and behind a 400 ms setup, yet none timed out.
    assert!(tasks.iter().all(|t| t.state() == TaskState::Completed), "{:?}", tasks.iter().map(|t| t.state()).collect::<Vec<_>>());
    e.shutdown();
}

#[test]
fn preparing_a_batch_after_peeking_at_its_first_task_does_not_count_against_its_timeout() {
    // The host takes 300 ms to prepare each batch's pipeline (as C# does:
    // directory, variables, the driver) between peeking and starting; scripts
    // take 50 ms, the timeout is 200 ms.
    let host = FakeHost::with_batch_setup(Duration::from_millis(300), |_, _| {
        std::thread::sleep(Duration::from_millis(50));
        Outcome::Completed
    });
    let e = engine(&host);
    let p = pool(&e, 2);
    let tasks = submit(&e, &p, 4, Some(Duration::from_millis(200)));
    wait_all(&tasks);
    assert!(tasks.iter().all(|t| t.state() == TaskState::Completed), "{:?}", tasks.iter().map(|t| t.state()).collect::<Vec<_>>());
    let log = host.log();
    assert!(!log.peeked.is_empty(), "every batch peeks at its first task");
    assert!(log.peeked.iter().all(|(_, state)| *state == TaskState::Queued), "a peeked task has not started: {:?}", log.peeked);
    drop(log);
    e.shutdown();
}

#[test]
fn a_cooperative_script_is_asked_to_stop_at_its_timeout() {
    let host = FakeHost::new(|h, task| {
        h.gate(task.id, Some(StopLevel::Ask));
        Outcome::Completed
    });
    let e = engine(&host);
    let p = pool(&e, 1);
    let t0 = Instant::now();
    let tasks = submit(&e, &p, 1, Some(Duration::from_millis(150)));
    wait_all(&tasks);
    assert!(t0.elapsed() >= Duration::from_millis(150));
    let info = tasks[0].info();
    assert_eq!(info.state, TaskState::TimedOut);
    assert_eq!(info.message.as_deref(), Some("timed out after 0.15 s"));
    assert!(host.wait_for(LONG, |l| l.ended.contains(&tasks[0].id)));
    assert!(!host.log().stops.iter().any(|s| s.2 != StopLevel::Ask), "it returned when asked: no escalation");
    e.shutdown();
}

#[test]
fn a_script_that_only_an_interrupt_ends_is_interrupted() {
    let host = FakeHost::new(|h, task| {
        h.gate(task.id, Some(StopLevel::Interrupt));
        Outcome::Completed
    });
    let e = engine(&host);
    let p = pool(&e, 1);
    let tasks = submit(&e, &p, 2, Some(Duration::from_millis(100)));
    wait_all(&tasks);
    assert!(host.wait_for(LONG, |l| l.ended.len() == 2));
    let log = host.log();
    let levels: Vec<_> = log.stops.iter().filter(|s| s.1 == tasks[0].id).map(|s| s.2).collect();
    assert_eq!(levels, vec![StopLevel::Ask, StopLevel::Interrupt]);
    assert_eq!(e.pool(p.id).unwrap().counts().abandoned_workers, 0);
    drop(log);
    e.shutdown();
}

#[test]
fn a_stuck_script_gets_its_worker_abandoned_and_replaced_and_the_rest_run_elsewhere() {
    // Task 1 ignores every stop until released; the others are quick.
    let host = FakeHost::new(|h, task| {
        if task.group == 1 {
            h.gate(task.id, None);
        }
        Outcome::Completed
    });
    let e = engine(&host);
    let p = pool(&e, 1);
    let stuck = submit(&e, &p, 1, Some(Duration::from_millis(100)));
    let rest = e.submit(&p, 2, None, vec![None; 5]).unwrap();
    let t0 = Instant::now();
    wait_all(&rest);
    // 100 ms timeout + 300 ms to abandonment, then a replacement runs the rest.
    assert!(t0.elapsed() < Duration::from_secs(5), "the pool stalled behind a stuck script: {:?}", t0.elapsed());
    assert_eq!(stuck[0].state(), TaskState::TimedOut);
    assert!(rest.iter().all(|t| t.state() == TaskState::Completed));
    let levels: Vec<_> = host.log().stops.iter().filter(|s| s.1 == stuck[0].id).map(|s| s.2).collect();
    assert_eq!(levels, vec![StopLevel::Ask, StopLevel::Interrupt, StopLevel::Abandon]);
    assert_eq!(p.counts().abandoned_workers, 1);
    // When the stuck script finally returns, its context is not reused.
    let stuck_context = host.log().batches.iter().find(|b| b.group == 1).unwrap().context;
    host.release();
    assert!(host.wait_for(LONG, |l| l.disposed.contains(&stuck_context)));
    e.shutdown();
}

#[test]
fn stopping_a_stuck_script_escalates_like_a_timeout() {
    let host = FakeHost::new(|h, task| {
        h.gate(task.id, None);
        Outcome::Completed
    });
    let e = engine(&host);
    let p = pool(&e, 1);
    let tasks = submit(&e, &p, 1, None);
    assert!(host.wait_for(LONG, |l| !l.started.is_empty()));
    e.stop_task(&tasks[0], TaskState::Stopped, "stopped");
    assert!(host.wait_for(LONG, |l| l.stops.iter().any(|s| s.2 == StopLevel::Abandon)));
    assert_eq!(tasks[0].state(), TaskState::Stopped);
    host.release();
    e.shutdown();
}

#[test]
fn timeouts_of_tasks_that_finish_early_do_not_pile_up() {
    let host = FakeHost::instant();
    let e = engine(&host);
    let p = pool(&e, 2);
    let tasks = submit(&e, &p, 20_000, Some(Duration::from_secs(3600)));
    wait_all(&tasks);
    assert!(e.pending_deadlines() < 10_000, "{} deadlines left", e.pending_deadlines());
    e.shutdown();
}
