//! Queue order, throttle, states, outcomes, stop, remove, waits and errors.

#[path = "pool_support.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::{FakeHost, LONG, ms, pool, timed};
use syncpool::pool::{Host, Pool, PoolConfig, PoolError, RunOutcome, TaskState};

#[test]
fn fifo_order_at_throttle_1() {
    let host = FakeHost::instant();
    let pool = pool(1, &host);
    let ids: Vec<_> = (0..20).map(|_| pool.submit(None).unwrap()).collect();
    assert_eq!(ids, (1..=20).collect::<Vec<_>>(), "ids start at 1 and are contiguous");
    assert!(pool.wait_all(&ids, Some(LONG)).unwrap());
    let order: Vec<_> = host.log().runs.iter().map(|r| r.1).collect();
    assert_eq!(order, ids);
}

#[test]
fn submit_many_gives_contiguous_ids_in_fifo_order() {
    let host = FakeHost::instant();
    let pool = pool(1, &host);
    let first = pool.submit(None).unwrap();
    let many = pool.submit_many(5, None).unwrap();
    assert_eq!(many, (first + 1..=first + 5).collect::<Vec<_>>());
    assert_eq!(pool.submit_many(0, None).unwrap(), Vec::<u64>::new());
    assert!(pool.wait_all(&many, Some(LONG)).unwrap());
    let order: Vec<_> = host.log().runs.iter().map(|r| r.1).collect();
    assert_eq!(order, (1..=6).collect::<Vec<_>>());
}

#[test]
fn throttle_is_respected() {
    let current = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let (c, m) = (current.clone(), max.clone());
    let host = FakeHost::new(move |_, _, _| {
        let now = c.fetch_add(1, Ordering::SeqCst) + 1;
        m.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(ms(15));
        c.fetch_sub(1, Ordering::SeqCst);
        RunOutcome::Completed
    });
    let pool = pool(3, &host);
    assert_eq!(pool.throttle(), 3);
    let ids = pool.submit_many(24, None).unwrap();
    assert!(pool.wait_all(&ids, Some(LONG)).unwrap());
    assert_eq!(max.load(Ordering::SeqCst), 3);
    let workers: std::collections::BTreeSet<_> = host.log().runs.iter().map(|r| r.0).collect();
    assert_eq!(workers.into_iter().collect::<Vec<_>>(), vec![1, 2, 3], "workers are spawned eagerly with ids 1..=3");
    assert_eq!(pool.counts().workers, 3);
}

#[test]
fn states_and_timestamps() {
    let host = FakeHost::new(|h, _, task| {
        if task == 1 {
            h.gate();
        }
        RunOutcome::Completed
    });
    let pool = pool(1, &host);
    let a = pool.submit(Some(Duration::from_secs(60))).unwrap();
    let b = pool.submit(None).unwrap();
    assert!(host.wait_for(LONG, |l| l.runs.len() == 1));

    let ia = pool.info(a).unwrap();
    assert_eq!((ia.id, ia.state, ia.worker), (a, TaskState::Running, Some(1)));
    assert!(ia.started_at.is_some() && ia.ended_at.is_none());
    assert_eq!(ia.timeout, Some(Duration::from_secs(60)));
    let ib = pool.info(b).unwrap();
    assert_eq!((ib.state, ib.worker, ib.started_at, ib.ended_at), (TaskState::Queued, None, None, None));
    let c = pool.counts();
    assert_eq!((c.queued, c.running, c.completed), (1, 1, 0));

    host.release();
    assert!(pool.wait_all(&[a, b], Some(LONG)).unwrap());
    for id in [a, b] {
        let i = pool.info(id).unwrap();
        assert_eq!(i.state, TaskState::Completed);
        assert_eq!(i.message, None);
        let (started, ended) = (i.started_at.unwrap(), i.ended_at.unwrap());
        assert!(i.queued_at <= started && started <= ended);
    }
    assert!(pool.info(a).unwrap().ended_at.unwrap() <= pool.info(b).unwrap().started_at.unwrap());
    let c = pool.counts();
    assert_eq!((c.queued, c.running, c.completed), (0, 0, 2));
    // task_finished is a notification made after waiters are woken.
    assert!(host.wait_for(LONG, |l| l.finished.len() == 2));
    let mut finished = host.log().finished.clone();
    finished.sort_by_key(|f| f.0);
    assert_eq!(finished, vec![(a, TaskState::Completed), (b, TaskState::Completed)]);
}

#[test]
fn failed_outcome_is_recorded() {
    let host = FakeHost::new(|_, _, task| if task % 2 == 0 { RunOutcome::Failed } else { RunOutcome::Completed });
    let pool = pool(2, &host);
    let ids = pool.submit_many(10, None).unwrap();
    assert!(pool.wait_all(&ids, Some(LONG)).unwrap());
    for id in &ids {
        let want = if id % 2 == 0 { TaskState::Failed } else { TaskState::Completed };
        assert_eq!(pool.info(*id).unwrap().state, want);
    }
    let c = pool.counts();
    assert_eq!((c.completed, c.failed), (5, 5));
    assert!(host.wait_for(LONG, |l| l.finished.len() == 10));
    assert_eq!(host.log().finished.iter().filter(|f| f.1 == TaskState::Failed).count(), 5);
}

#[test]
fn runner_panic_fails_the_task_and_the_worker_survives() {
    let host = FakeHost::new(|_, _, task| {
        if task == 1 {
            panic!("boom {}", 42);
        }
        RunOutcome::Completed
    });
    let pool = pool(1, &host);
    let a = pool.submit(None).unwrap();
    let b = pool.submit(None).unwrap();
    assert!(pool.wait_all(&[a, b], Some(LONG)).unwrap());
    let ia = pool.info(a).unwrap();
    assert_eq!(ia.state, TaskState::Failed);
    assert_eq!(ia.message.as_deref(), Some("boom 42"));
    let ib = pool.info(b).unwrap();
    assert_eq!(ib.state, TaskState::Completed);
    assert_eq!(ib.worker, ia.worker, "same worker ran the next task");
    assert!(host.log().exited.is_empty());
    assert_eq!(pool.counts().workers, 1);
}

#[test]
fn stop_queued_task_never_runs() {
    let host = FakeHost::new(|h, _, task| {
        if task == 1 {
            h.gate();
        }
        RunOutcome::Completed
    });
    let pool = pool(1, &host);
    let ids = pool.submit_many(3, None).unwrap();
    assert!(host.wait_for(LONG, |l| l.runs.len() == 1));
    assert_eq!(pool.stop(ids[1]).unwrap(), TaskState::Stopped);
    let i = pool.info(ids[1]).unwrap();
    assert_eq!((i.state, i.worker, i.started_at), (TaskState::Stopped, None, None));
    assert_eq!(i.message.as_deref(), Some("stopped"));
    assert!(i.ended_at.is_some());
    assert_eq!(pool.counts().queued, 1);

    host.release();
    assert!(pool.wait_all(&ids, Some(LONG)).unwrap());
    let ran: Vec<_> = host.log().runs.iter().map(|r| r.1).collect();
    assert_eq!(ran, vec![ids[0], ids[2]]);
    assert!(host.log().stops.is_empty(), "a queued task needs no host.stop");
    assert!(host.log().finished.contains(&(ids[1], TaskState::Stopped)));
    assert_eq!(pool.stop(ids[1]).unwrap(), TaskState::Stopped, "stopping a finished task changes nothing");
    assert_eq!(pool.stop(ids[0]).unwrap(), TaskState::Completed);
}

#[test]
fn stop_running_task_cooperatively() {
    // The runner honours stop requests, but reports Completed anyway: the
    // pool must keep Stopped.
    let host = FakeHost::new(|h, _, task| {
        if task == 1 {
            h.work_unless_stopped(task, LONG);
        }
        RunOutcome::Completed
    });
    let pool = pool(1, &host);
    let a = pool.submit(None).unwrap();
    assert!(host.wait_for(LONG, |l| l.runs.len() == 1));
    let (state, took) = timed(|| pool.stop(a).unwrap());
    assert_eq!(state, TaskState::Stopped);
    assert!(took < ms(200), "{took:?}");
    assert_eq!(host.log().stops, vec![(1, a)]);
    assert!(host.wait_for(LONG, |l| l.returned.contains(&a)));
    let b = pool.submit(None).unwrap();
    assert!(pool.wait_all(&[b], Some(LONG)).unwrap());

    let i = pool.info(a).unwrap();
    assert_eq!((i.state, i.message.as_deref()), (TaskState::Stopped, Some("stopped")));
    assert_eq!(pool.info(b).unwrap().worker, Some(1), "no escalation: the worker was reused");
    let c = pool.counts();
    assert_eq!((c.stopped, c.completed, c.abandoned_workers, c.workers), (1, 1, 0, 1));
    assert_eq!(host.log().finished.iter().filter(|f| f.0 == a).count(), 1, "reported once");
}

#[test]
fn stop_all_stops_queued_and_running() {
    let host = FakeHost::new(|h, _, task| {
        if task <= 6 {
            h.work_unless_stopped(task, LONG);
        }
        RunOutcome::Completed
    });
    let pool = pool(2, &host);
    let ids = pool.submit_many(6, None).unwrap();
    assert!(host.wait_for(LONG, |l| l.runs.len() == 2));
    let (_, took) = timed(|| pool.stop_all());
    assert!(took < ms(200), "{took:?}");
    assert!(pool.wait_all(&ids, Some(Duration::ZERO)).unwrap(), "all final at once");
    assert_eq!(pool.counts().stopped, 6);
    assert_eq!(host.log().stops.len(), 2);
    assert!(host.wait_for(LONG, |l| l.returned.len() == 2));
    // The pool keeps working afterwards.
    let more = pool.submit(Some(ms(5_000))).unwrap();
    assert!(pool.wait_all(&[more], Some(LONG)).unwrap());
    assert_eq!(pool.info(more).unwrap().state, TaskState::Completed);
}

#[test]
fn remove_and_unknown_task() {
    let host = FakeHost::new(|h, _, task| {
        if task == 1 {
            h.gate();
        }
        RunOutcome::Completed
    });
    let pool = pool(1, &host);
    let a = pool.submit(None).unwrap();
    assert!(host.wait_for(LONG, |l| l.runs.len() == 1));
    assert_eq!(pool.remove(a), Err(PoolError::NotFinished(a)));
    host.release();
    assert!(pool.wait_all(&[a], Some(LONG)).unwrap());
    assert_eq!(pool.tracked_tasks(), 1);
    pool.remove(a).unwrap();
    assert_eq!(pool.tracked_tasks(), 0);
    assert_eq!(pool.counts().completed, 0, "counts cover tracked tasks");
    assert_eq!(pool.remove(a), Err(PoolError::UnknownTask(a)));
    assert!(matches!(pool.info(a), Err(PoolError::UnknownTask(id)) if id == a));
    assert_eq!(pool.stop(a), Err(PoolError::UnknownTask(a)));
    assert_eq!(pool.wait_any(&[a], Some(ms(10))), Err(PoolError::UnknownTask(a)));
    assert_eq!(pool.wait_all(&[a], Some(ms(10))), Err(PoolError::UnknownTask(a)));
    assert_eq!(pool.info(999).unwrap_err(), PoolError::UnknownTask(999));
    assert_eq!(PoolError::UnknownTask(999).to_string(), "unknown task 999");
}

#[test]
fn argument_errors_and_shut_down() {
    let host = FakeHost::instant();
    let config = PoolConfig { workers: 0, stop_grace: ms(10), name: "x".into(), ..PoolConfig::default() };
    assert!(matches!(Pool::new(config, host.clone()), Err(PoolError::InvalidArgument(_))));
    let pool = pool(1, &host);
    assert!(matches!(pool.submit(Some(Duration::ZERO)), Err(PoolError::InvalidArgument(_))));
    assert!(matches!(pool.submit_many(2, Some(Duration::ZERO)), Err(PoolError::InvalidArgument(_))));
    assert!(matches!(pool.submit_many(syncpool::pool::MAX_SUBMIT_MANY + 1, None), Err(PoolError::InvalidArgument(_))));
    assert_eq!(pool.tracked_tasks(), 0);
    assert!(pool.shutdown(LONG));
    assert!(pool.shutdown(LONG), "idempotent");
    assert_eq!(pool.submit(None), Err(PoolError::ShutDown));
    assert_eq!(pool.submit_many(3, None), Err(PoolError::ShutDown));
}

#[test]
fn wait_any_and_wait_all_wake_promptly_and_time_out() {
    let host = FakeHost::new(|h, _, task| {
        match task {
            1 => std::thread::sleep(ms(100)),
            _ => h.gate(),
        }
        RunOutcome::Completed
    });
    let pool = pool(2, &host);
    let (a, b) = (pool.submit(None).unwrap(), pool.submit(None).unwrap());

    // Nothing finished yet: a zero timeout is a poll.
    let (r, took) = timed(|| pool.wait_any(&[b], Some(Duration::ZERO)).unwrap());
    assert_eq!(r, None);
    assert!(took < ms(50), "{took:?}");

    // Woken by a finish, not by its timeout.
    let (r, took) = timed(|| pool.wait_any(&[b, a], Some(LONG)).unwrap());
    assert_eq!(r, Some(a));
    assert!(took < ms(100 + 200), "{took:?}");

    // Already finished counts, in slice order.
    let (r, took) = timed(|| pool.wait_any(&[b, a], Some(LONG)).unwrap());
    assert_eq!(r, Some(a));
    assert!(took < ms(50), "{took:?}");

    // Timeouts are honoured and bounded.
    let (r, took) = timed(|| pool.wait_all(&[a, b], Some(ms(150))).unwrap());
    assert!(!r);
    assert!(took >= ms(150) && took < ms(1_000), "{took:?}");
    let (r, took) = timed(|| pool.wait_any(&[b], Some(ms(100))).unwrap());
    assert_eq!(r, None);
    assert!(took >= ms(100) && took < ms(1_000), "{took:?}");

    // A waiter on another thread wakes promptly when the last task finishes.
    let p = pool.clone();
    let waiter = std::thread::spawn(move || timed(|| p.wait_all(&[a, b], None).unwrap()));
    std::thread::sleep(ms(50));
    let released = std::time::Instant::now();
    host.release();
    let (all, _) = waiter.join().unwrap();
    assert!(all);
    assert!(released.elapsed() < ms(200), "{:?}", released.elapsed());

    assert!(pool.wait_all(&[], Some(Duration::ZERO)).unwrap(), "vacuously true");
    assert_eq!(pool.wait_any(&[], Some(Duration::ZERO)).unwrap(), None);
}

#[test]
fn current_worker_is_set_on_worker_threads_only() {
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let s = seen.clone();
    let host = FakeHost::new(move |_, worker, _| {
        s.lock().push((Pool::current_worker(), worker));
        RunOutcome::Completed
    });
    let pool = pool(2, &host);
    let ids = pool.submit_many(4, None).unwrap();
    assert!(pool.wait_all(&ids, Some(LONG)).unwrap());
    assert_eq!(Pool::current_worker(), None);
    for (current, worker) in seen.lock().iter() {
        assert_eq!(*current, Some((pool.id(), *worker)));
    }
    let other = support::pool(1, &FakeHost::instant());
    assert_ne!(other.id(), pool.id(), "pool instance ids are unique");
}

#[test]
fn host_callbacks_may_reenter_the_pool() {
    // task_finished is called without the pool lock held: calling back in
    // (as C# event handlers will) must not deadlock.
    struct Reentrant {
        inner: Arc<FakeHost>,
    }
    impl Host for Reentrant {
        fn run(&self, w: u32, t: u64) -> RunOutcome {
            let pool = self.inner.pool();
            assert_eq!(pool.info(t).unwrap().state, TaskState::Running);
            self.inner.run(w, t)
        }
        fn stop(&self, w: u32, t: u64) {
            self.inner.stop(w, t)
        }
        fn worker_exited(&self, w: u32) {
            self.inner.worker_exited(w)
        }
        fn task_finished(&self, t: u64, s: TaskState) {
            let pool = self.inner.pool();
            assert_eq!(pool.info(t).unwrap().state, s);
            let _ = pool.counts();
            self.inner.task_finished(t, s)
        }
    }
    let inner = FakeHost::instant();
    // Register the pool with the inner fake so callbacks can reach it.
    let config = PoolConfig { workers: 2, stop_grace: ms(100), name: "reentrant".into(), ..PoolConfig::default() };
    let pool = Pool::new(config, Arc::new(Reentrant { inner: inner.clone() })).unwrap();
    support::register(&inner, &pool);
    let ids = pool.submit_many(20, None).unwrap();
    assert!(pool.wait_all(&ids, Some(LONG)).unwrap());
    assert!(inner.wait_for(LONG, |l| l.finished.len() == 20));
    assert!(pool.shutdown(LONG));
}

#[test]
fn stop_as_timed_out_keeps_the_callers_reason() {
    let host = FakeHost::new(|h, _, task| {
        if task == 1 {
            h.work_unless_stopped(task, LONG);
        }
        RunOutcome::Completed
    });
    let pool = pool(1, &host);
    let ids = pool.submit_many(2, None).unwrap();
    assert!(host.wait_for(LONG, |l| l.runs.len() == 1));
    let msg = "timed out: the caller's wait of 3 s ran out";
    assert_eq!(pool.stop_as(ids[1], TaskState::TimedOut, msg).unwrap(), TaskState::TimedOut, "queued too");
    assert_eq!(pool.stop_as(ids[0], TaskState::TimedOut, msg).unwrap(), TaskState::TimedOut);
    assert_eq!(host.log().stops, vec![(1, ids[0])], "the running one is asked to stop");
    let i = pool.info(ids[0]).unwrap();
    assert_eq!((i.state, i.message.as_deref()), (TaskState::TimedOut, Some(msg)));
    assert_eq!(pool.counts().timed_out, 2);
    assert!(host.wait_for(LONG, |l| l.finished.contains(&(ids[0], TaskState::TimedOut))));
    assert!(matches!(pool.stop_as(ids[0], TaskState::Completed, "x"), Err(PoolError::InvalidArgument(_))));
    assert_eq!(pool.stop_as(ids[0], TaskState::Stopped, "x").unwrap(), TaskState::TimedOut, "final states stay");
}

/// Recurses until about `bytes` of stack are in use below `top` (measured
/// from frame addresses, so it does not depend on the optimisation level).
#[inline(never)]
fn burn_stack(top: usize, bytes: usize) -> usize {
    let mut frame = [0u8; 512];
    let here = std::hint::black_box(&mut frame) as *mut _ as usize;
    frame[0] = 1;
    if top.saturating_sub(here) >= bytes {
        return 1;
    }
    1 + burn_stack(top, bytes) + std::hint::black_box(&frame)[0] as usize - 1
}

fn burn_stack_from_here(bytes: usize) -> usize {
    let marker = 0u8;
    burn_stack(std::hint::black_box(&marker) as *const _ as usize, bytes)
}

#[test]
fn workers_get_a_large_stack_by_default() {
    // 8 MiB of recursion overflows Rust's 2 MiB default thread stack (which
    // aborts the process); the pool's 16 MiB default must hold it.
    let host = FakeHost::new(|_, _, _| {
        std::hint::black_box(burn_stack_from_here(8 * 1024 * 1024));
        RunOutcome::Completed
    });
    let config = PoolConfig { workers: 1, stop_grace: ms(100), name: "deep".into(), stack_size: 0 };
    let pool = Pool::new(config, host.clone()).unwrap();
    assert_eq!(pool.stack_size(), syncpool::pool::DEFAULT_WORKER_STACK);
    let id = pool.submit(None).unwrap();
    assert!(pool.wait_all(&[id], Some(LONG)).unwrap());
    assert_eq!(pool.info(id).unwrap().state, TaskState::Completed);
    assert!(pool.shutdown(LONG));

    let tiny = PoolConfig { workers: 1, stop_grace: ms(100), name: "tiny".into(), stack_size: 1 };
    let pool = Pool::new(tiny, FakeHost::instant()).unwrap();
    assert_eq!(pool.stack_size(), syncpool::pool::MIN_WORKER_STACK, "clamped up to the minimum");
    assert!(pool.shutdown(LONG));
}
