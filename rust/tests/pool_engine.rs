//! The engine's basic promises: every task runs once, in queue order, within
//! its pool's throttle; states and timestamps; failures; stops; pools that
//! come and go; warm contexts; batching of tiny tasks.

#[path = "pool_support.rs"]
mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use support::*;
use syncpool::pool::{EngineConfig, Outcome, PoolError, PoolOptions, StopLevel, TaskState, MAX_BATCH};

#[test]
fn every_task_runs_once_in_queue_order_at_throttle_1() {
    let host = FakeHost::instant();
    let e = engine(&host);
    let p = pool(&e, 1);
    let tasks = submit(&e, &p, 50, None);
    wait_all(&tasks);
    let started = host.log().started.clone();
    assert_eq!(started, tasks.iter().map(|t| t.id).collect::<Vec<_>>());
    assert!(tasks.iter().all(|t| t.state() == TaskState::Completed));
    e.shutdown();
}

#[test]
fn throttle_is_per_pool_and_pools_do_not_share_a_queue() {
    let spans = Arc::new(Mutex::new(Vec::new()));
    let s = spans.clone();
    let host = FakeHost::new(move |_, task| {
        let start = Instant::now();
        std::thread::sleep(Duration::from_millis(if task.pool == 1 { 60 } else { 5 }));
        s.lock().push((task.pool, start, Instant::now()));
        Outcome::Completed
    });
    let e = engine(&host);
    let slow = pool(&e, 2);
    let fast = pool(&e, 3);
    let slow_tasks = submit(&e, &slow, 8, None);
    let fast_tasks = submit(&e, &fast, 6, None);
    let t0 = Instant::now();
    wait_all(&fast_tasks);
    // With one shared queue the fast tasks would wait behind the 480 ms of slow ones.
    assert!(t0.elapsed() < Duration::from_millis(400), "fast pool waited {:?}", t0.elapsed());
    assert!(slow_tasks.iter().any(|t| !t.is_finished()));
    wait_all(&slow_tasks);
    let spans = spans.lock();
    let of = |pool| spans.iter().filter(|s| s.0 == pool).map(|s| (s.1, s.2)).collect::<Vec<_>>();
    assert!(peak_overlap(&of(slow.id)) <= 2);
    assert!(peak_overlap(&of(fast.id)) <= 3);
    e.shutdown();
}

#[test]
fn states_timestamps_and_failures() {
    let host = FakeHost::new(|_, task| if task.id % 2 == 0 { Outcome::Failed } else { Outcome::Completed });
    let e = engine(&host);
    let p = pool(&e, 2);
    let tasks = submit(&e, &p, 4, Some(Duration::from_secs(30)));
    wait_all(&tasks);
    for t in &tasks {
        let info = t.info();
        assert_eq!(info.state, if t.id % 2 == 0 { TaskState::Failed } else { TaskState::Completed });
        assert!(info.worker.is_some());
        let (started, ended) = (info.started_at.unwrap(), info.ended_at.unwrap());
        assert!(info.queued_at <= started && started <= ended);
        assert_eq!(info.timeout, Some(Duration::from_secs(30)));
    }
    let c = p.counts();
    assert_eq!((c.completed, c.failed, c.queued, c.running), (2, 2, 0, 0));
    e.shutdown();
}

#[test]
fn a_task_stopped_while_queued_never_runs_and_a_running_one_is_asked_to_stop() {
    let host = FakeHost::new(|h, task| {
        h.gate(task.id, Some(StopLevel::Ask));
        Outcome::Completed
    });
    let e = engine(&host);
    let p = pool(&e, 1);
    let tasks = submit(&e, &p, 3, None);
    assert!(host.wait_for(LONG, |l| l.started.contains(&tasks[0].id)));
    assert_eq!(e.stop_task(&tasks[2], TaskState::Stopped, "stopped"), TaskState::Stopped);
    assert_eq!(e.stop_task(&tasks[0], TaskState::Stopped, "stopped"), TaskState::Stopped);
    assert!(host.wait_for(LONG, |l| l.stops.iter().any(|s| s.1 == tasks[0].id && s.2 == StopLevel::Ask)));
    host.release();
    wait_all(&tasks);
    assert_eq!(tasks[0].state(), TaskState::Stopped, "the script returning later does not change it");
    assert_eq!(tasks[1].state(), TaskState::Completed);
    assert_eq!(tasks[2].state(), TaskState::Stopped);
    assert!(!host.log().started.contains(&tasks[2].id));
    e.shutdown();
}

#[test]
fn tiny_tasks_share_pipelines_and_long_ones_still_spread_over_every_worker() {
    let spans = Arc::new(Mutex::new(Vec::new()));
    let s = spans.clone();
    let host = FakeHost::new(move |_, task| {
        if task.group == 2 {
            let start = Instant::now();
            std::thread::sleep(Duration::from_millis(40));
            s.lock().push((start, Instant::now()));
        }
        Outcome::Completed
    });
    let e = engine(&host);
    let p = pool(&e, 4);
    let tiny = submit(&e, &p, 20_000, None);
    wait_all(&tiny);
    let batches = host.log().batches.len();
    assert!(batches < 20_000 / 20, "{batches} batches for 20,000 tiny tasks");
    // 12 long tasks on 4 workers: three rounds, not one worker working through a backlog.
    let t0 = Instant::now();
    let long = e.submit(&p, 2, None, vec![None; 12]).unwrap();
    wait_all(&long);
    let took = t0.elapsed();
    assert!(took < Duration::from_millis(400), "12 x 40 ms on 4 workers took {took:?}");
    assert_eq!(peak_overlap(&spans.lock()), 4);
    let log = host.log();
    assert_eq!(log.started.len(), 20_012);
    assert_eq!(log.started.iter().collect::<HashSet<_>>().len(), 20_012, "no task ran twice");
    drop(log);
    e.shutdown();
}

#[test]
fn a_worker_waits_for_more_of_a_call_still_submitting_and_leaves_when_it_ends() {
    let host = FakeHost::instant();
    let e = engine_with(&host, EngineConfig { linger: Duration::from_secs(5), ..quick_config() });
    let p = pool(&e, 1);
    let mut all = Vec::new();
    // A producer slower than the worker: the queue runs dry between submits.
    for _ in 0..20 {
        all.extend(e.submit(&p, 7, None, vec![None; 1]).unwrap());
        std::thread::sleep(Duration::from_millis(3));
    }
    wait_all(&all);
    assert_eq!(host.log().batches.len(), 1, "one batch for the whole call");
    assert_eq!(host.log().batches_ended, 0, "still waiting for more of the call");
    // Another group at the front ends the wait as well; so does the call's end, at once (not after 5 s).
    let ended = Instant::now();
    e.end_group(&p, 7);
    assert!(host.wait_for(LONG, |l| l.batches_ended == 1));
    assert!(ended.elapsed() < Duration::from_secs(2), "the call's end woke the worker");
    // Ending a group that is not the open one changes nothing; a new call is a new batch.
    e.end_group(&p, 99);
    let next = submit(&e, &p, 1, None);
    wait_all(&next);
    assert_eq!(host.log().batches.len(), 2);
    e.end_group(&p, 1);
    assert!(host.wait_for(LONG, |l| l.batches_ended == 2));
    e.shutdown();
}

#[test]
fn a_waiting_worker_ends_its_batch_after_the_linger_or_when_its_pool_goes() {
    let host = FakeHost::instant();
    let e = engine_with(&host, EngineConfig { linger: Duration::from_millis(50), ..quick_config() });
    let p = pool(&e, 2);
    wait_all(&submit(&e, &p, 1, None));
    // The call never says it ended: the worker gives up after the linger.
    assert!(host.wait_for(LONG, |l| l.batches_ended == 1));
    // A removed pool wakes it at once.
    let host2 = FakeHost::instant();
    let e2 = engine_with(&host2, EngineConfig { linger: Duration::from_secs(30), ..quick_config() });
    let p2 = pool(&e2, 1);
    wait_all(&submit(&e2, &p2, 1, None));
    let removed = Instant::now();
    e2.remove_pool(&p2, "stopped: test");
    assert!(host2.wait_for(LONG, |l| l.batches_ended == 1));
    assert!(removed.elapsed() < Duration::from_secs(5));
    e.shutdown();
    e2.shutdown();
}

#[test]
fn a_batch_never_mixes_groups() {
    let host = FakeHost::instant();
    let e = engine(&host);
    let p = pool(&e, 1);
    let mut all = Vec::new();
    for group in 1..=30 {
        all.extend(e.submit(&p, group, None, vec![None; 50]).unwrap());
    }
    wait_all(&all);
    let log = host.log();
    let group_of = |id| all.iter().find(|t| t.id == id).unwrap().group;
    let mut index = 0;
    for batch in &log.batches {
        // Tasks started in this batch are the next ones in `started`; they share the batch's group.
        while index < log.started.len() && group_of(log.started[index]) == batch.group {
            index += 1;
        }
    }
    assert_eq!(index, log.started.len(), "some batch ran a task of another group");
    assert!(log.batches.len() >= 30);
    drop(log);
    e.shutdown();
}

#[test]
fn warm_contexts_are_reused_across_pools_with_the_same_key_and_expire() {
    let host = FakeHost::instant();
    let e = engine_with(&host, EngineConfig { context_idle: Duration::from_millis(300), ..quick_config() });
    let a = pool(&e, 1);
    wait_all(&submit(&e, &a, 3, None));
    // The call ends (as Start-ParallelTask's end says): its worker hands the context back.
    end_call(&host, &e, &a);
    let b = pool(&e, 1); // same key (1)
    wait_all(&submit(&e, &b, 3, None));
    end_call(&host, &e, &b);
    let other = e.create_pool(PoolOptions { throttle: 1, context_key: 9, ..PoolOptions::default() }, None).unwrap();
    wait_all(&submit(&e, &other, 1, None));
    end_call(&host, &e, &other);
    {
        let log = host.log();
        assert_eq!(log.created.len(), 2, "one context per key: {:?}", log.batches);
        let keys: HashSet<_> = log.batches.iter().map(|b| (b.context, b.context_key)).collect();
        assert_eq!(keys.len(), 2);
    }
    assert_eq!(e.idle_contexts(), 2);
    assert!(host.wait_for(LONG, |l| l.disposed.len() == 2), "idle contexts are disposed of after the expiry");
    assert_eq!(e.idle_contexts(), 0);
    e.shutdown();
}

#[test]
fn per_call_pools_leave_once_sealed_and_emptied_and_named_pools_stay() {
    let host = FakeHost::instant();
    let e = engine(&host);
    let call = e.create_pool(PoolOptions { throttle: 2, context_key: 1, per_call: true, ..PoolOptions::default() }, None).unwrap();
    let named = e.create_pool(PoolOptions { throttle: 2, context_key: 1, name: Some("Web".into()), ..PoolOptions::default() }, None).unwrap();
    assert_eq!(
        e.create_pool(PoolOptions { throttle: 1, name: Some("wEB".into()), ..PoolOptions::default() }, None).err(),
        Some(PoolError::NameTaken("wEB".into()))
    );
    assert!(e.find_pool("web").is_some());
    let tasks = submit(&e, &call, 3, None);
    e.seal(&call);
    assert_eq!(e.submit(&call, 1, None, vec![None]).err(), Some(PoolError::Sealed(call.id)));
    wait_all(&tasks);
    assert!(e.pool(call.id).is_some(), "listed while it holds tasks");
    for t in &tasks {
        e.remove_task(t).unwrap();
    }
    assert!(e.pool(call.id).is_none());
    assert_eq!(tasks[0].state(), TaskState::Completed, "removed tasks stay readable");
    wait_all(&submit(&e, &named, 2, None));
    assert!(e.pool(named.id).is_some());
    e.remove_pool(&named, "removed");
    assert!(e.find_pool("Web").is_none());
    assert_eq!(e.submit(&named, 1, None, vec![None]).err(), Some(PoolError::PoolGone(named.id)));
    e.shutdown();
}

#[test]
fn removing_needs_a_finished_task_and_removing_a_pool_stops_its_tasks() {
    let host = FakeHost::new(|h, task| {
        h.gate(task.id, Some(StopLevel::Ask));
        Outcome::Completed
    });
    let e = engine(&host);
    let p = pool(&e, 1);
    let tasks = submit(&e, &p, 2, None);
    assert!(host.wait_for(LONG, |l| !l.started.is_empty()));
    assert_eq!(e.remove_task(&tasks[0]).err(), Some(PoolError::NotFinished(tasks[0].id)));
    e.remove_pool(&p, "stopped: pool removed");
    assert_eq!(tasks[0].state(), TaskState::Stopped);
    assert_eq!(tasks[1].state(), TaskState::Stopped);
    assert!(e.tasks().is_empty());
    assert_eq!(tasks[1].info().message.as_deref(), Some("stopped: pool removed"));
    e.shutdown();
}

#[test]
fn a_panicking_runner_fails_its_tasks_says_so_and_the_engine_keeps_going() {
    let host = FakeHost::new(|_, task| {
        if task.id == 2 {
            panic!("runner bug");
        }
        Outcome::Completed
    });
    let e = engine(&host);
    let p = pool(&e, 1);
    let tasks = submit(&e, &p, 3, None);
    wait_all(&tasks);
    assert_eq!(tasks[1].state(), TaskState::Failed);
    assert!(tasks[1].info().message.unwrap().contains("runner bug"));
    assert!(host.log().internal_errors.iter().any(|m| m.contains("runner bug")));
    assert!(tasks[2].is_finished());
    let more = submit(&e, &p, 2, None);
    wait_all(&more);
    assert!(more.iter().all(|t| t.state() == TaskState::Completed));
    e.shutdown();
}

#[test]
fn idle_threads_exit_and_come_back_when_work_arrives() {
    let host = FakeHost::instant();
    let e = engine_with(&host, EngineConfig { thread_idle: Duration::from_millis(100), ..quick_config() });
    let p = pool(&e, 4);
    wait_all(&submit(&e, &p, 100, None));
    let deadline = Instant::now() + LONG;
    while e.threads() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(e.threads(), 0);
    wait_all(&submit(&e, &p, 10, None));
    e.shutdown();
}

#[test]
fn argument_errors() {
    let host = FakeHost::instant();
    let e = engine(&host);
    let default = e.create_pool(PoolOptions { throttle: 0, ..PoolOptions::default() }, None).unwrap();
    assert_eq!(default.throttle(), syncpool::pool::default_throttle());
    assert!((5..=16).contains(&default.throttle()));
    assert!(matches!(e.create_pool(PoolOptions { throttle: 5000, ..PoolOptions::default() }, None), Err(PoolError::InvalidArgument(_))));
    let p = pool(&e, 1);
    assert!(matches!(e.submit(&p, 1, Some(Duration::ZERO), vec![None]), Err(PoolError::InvalidArgument(_))));
    assert!(MAX_BATCH >= 1);
    e.shutdown();
}
