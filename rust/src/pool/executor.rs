//! The worker threads: which pool a free thread serves next, how it claims a
//! batch, runs it through the host, and gives its throttle slot back.
//!
//! Threads belong to the engine, not to a pool: a pool with work and a free
//! slot (fewer workers than its throttle) is put on the scheduler's ready
//! list, and an idle thread (or a new one, if none is idle) takes it. Threads
//! idle for [`EngineConfig::thread_idle`](super::EngineConfig) exit.
//!
//! A thread blocked in a wait on its own engine (a task waiting for tasks it
//! started) gives its slot back for as long as it is blocked and returns its
//! claimed, unstarted tasks to the queue, so nested waits never deadlock a
//! pool, even at throttle 1. This is rayon's and .NET's answer too.
//!
//! Lock order: pool, then batch, then task. The scheduler's lock is never
//! held together with any of them.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Instant, SystemTime};

use super::batch::{Batch, batch_size};
use super::engine::Engine;
use super::error::PoolError;
use super::host::{self, BatchRun, ContextFate, StopLevel};
use super::pool::Pool;
use super::task::{Begin, BatchId, Outcome, Task, TaskId, WorkerId};
use super::timer::Deadline;

thread_local! {
    /// The batch this thread is running, on engine worker threads.
    static CURRENT: RefCell<Option<(Weak<Engine>, Arc<Batch>)>> = const { RefCell::new(None) };
}

/// Ends the blocking of a worker thread (see [`block_current`]) when dropped.
pub(crate) struct Blocked(Option<(Arc<Engine>, Arc<Batch>)>);

/// Called by a wait about to block: on an engine worker thread, gives the
/// batch's slot back and requeues its unstarted tasks until the guard drops.
pub(crate) fn block_current() -> Blocked {
    let current = CURRENT.with(|c| c.borrow().as_ref().and_then(|(e, b)| e.upgrade().map(|e| (e, Arc::clone(b)))));
    if let Some((engine, batch)) = &current {
        engine.release_slot(batch, true);
    }
    Blocked(current)
}

impl Drop for Blocked {
    fn drop(&mut self) {
        if let Some((engine, batch)) = self.0.take() {
            engine.retake_slot(&batch);
        }
    }
}

impl Engine {
    /// Puts `pool` on the ready list if a worker could take work from it,
    /// waking an idle thread or starting one.
    pub(crate) fn schedule(&self, pool: &Arc<Pool>) {
        {
            let mut inner = pool.lock();
            if inner.scheduled || !inner.wants_worker(pool.throttle()) {
                return;
            }
            inner.scheduled = true;
        }
        let spawn = {
            let mut sched = self.sched.lock();
            if sched.shutdown {
                return;
            }
            sched.ready.push_back(Arc::clone(pool));
            // Wake an idle thread no other wake-up is already meant for, or start one.
            if sched.idle > sched.wakeups {
                sched.wakeups += 1;
                false
            } else {
                sched.threads += 1;
                true
            }
        };
        if spawn {
            self.spawn_worker(pool);
        } else {
            self.work.notify_one();
        }
    }

    fn spawn_worker(&self, pool: &Arc<Pool>) {
        let Some(engine) = self.me.upgrade() else { return };
        let id = self.next_worker.fetch_add(1, Ordering::Relaxed);
        let spawned = std::thread::Builder::new()
            .name(format!("syncpool-worker-{id}"))
            .stack_size(self.config.stack_size)
            .spawn(move || engine.worker_main(id));
        if let Err(e) = spawned {
            self.sched.lock().threads -= 1;
            let message = format!("SyncPool could not start a worker thread ({e}); the queued tasks of Pool{} were failed.", pool.id);
            let queued: Vec<Arc<Task>> = pool.lock().queue.drain(..).collect();
            for task in queued {
                self.fail_task(&task, &message);
            }
            pool.lock().scheduled = false;
            host::internal_error(&*self.host, &message);
        }
    }

    fn worker_main(self: Arc<Self>, id: WorkerId) {
        // After a batch the worker first tries the same pool again: its
        // context is warm, and it needs no trip through the scheduler.
        let mut same: Option<Arc<Pool>> = None;
        loop {
            let Some(pool) = same.take().or_else(|| self.next_ready_pool()) else { break };
            let served = catch_unwind(AssertUnwindSafe(|| self.claim(&pool, id).map(|batch| self.run(batch))));
            match served {
                Ok(Some(true)) => same = Some(pool),
                Ok(None) => {}
                Ok(Some(false)) => break, // abandoned: this thread's runspace is gone with it
                Err(payload) => {
                    host::internal_error(&*self.host, &format!("SyncPool internal error in worker {id}: {}", host::panic_text(&*payload)));
                }
            }
        }
        self.sched.lock().threads -= 1;
    }

    /// The next pool with work, or `None` once this thread has idled long
    /// enough (or the engine is shutting down).
    fn next_ready_pool(&self) -> Option<Arc<Pool>> {
        let mut sched = self.sched.lock();
        loop {
            if sched.shutdown {
                return None;
            }
            if let Some(pool) = sched.ready.pop_front() {
                return Some(pool);
            }
            sched.idle += 1;
            let timed_out = self.work.wait_for(&mut sched, self.config.thread_idle).timed_out();
            sched.idle -= 1;
            sched.wakeups = sched.wakeups.saturating_sub(1);
            if timed_out && sched.ready.is_empty() {
                return None;
            }
        }
    }

    /// Takes a batch of tasks of one group from the front of `pool`'s queue
    /// and a throttle slot, if the pool still wants a worker.
    fn claim(&self, pool: &Arc<Pool>, worker: WorkerId) -> Option<Arc<Batch>> {
        let batch = {
            let mut inner = pool.lock();
            inner.scheduled = false;
            if !inner.wants_worker(pool.throttle()) {
                return None;
            }
            let size = batch_size(inner.queue.len(), pool.throttle(), pool.item_time());
            let mut tasks = VecDeque::with_capacity(size);
            let mut group = None;
            while tasks.len() < size {
                let Some(front) = inner.queue.front() else { break };
                if front.is_finished() {
                    inner.queue.pop_front();
                    continue;
                }
                if group.is_some_and(|g| g != front.group) {
                    break;
                }
                group = Some(front.group);
                let task = inner.queue.pop_front().expect("front exists");
                task.lock().claimed = true;
                tasks.push_back(task);
            }
            let group = group?;
            inner.active += 1;
            let id = self.next_batch.fetch_add(1, Ordering::Relaxed);
            Arc::new(Batch::new(id, worker, Arc::clone(pool), group, tasks))
        };
        self.batches.lock().insert(batch.id, Arc::clone(&batch));
        // More work and room for another worker: hand the pool on.
        self.schedule(pool);
        Some(batch)
    }

    /// Runs a claimed batch through the host; returns false if the worker was
    /// abandoned meanwhile (the thread must exit).
    fn run(&self, batch: Arc<Batch>) -> bool {
        let pool = Arc::clone(&batch.pool);
        let key = pool.options.context_key;
        let (context, fresh) = self.contexts.lock().check_out(key);
        let run = BatchRun { worker: batch.worker, batch: batch.id, pool: pool.id, group: batch.group, context, fresh, context_key: key };
        CURRENT.with(|c| *c.borrow_mut() = Some((self.me.clone(), Arc::clone(&batch))));
        let result = host::run_batch(&*self.host, &run);
        CURRENT.with(|c| *c.borrow_mut() = None);
        self.batches.lock().remove(&batch.id);

        let (leftover, current, abandoned) = {
            let mut inner = batch.inner.lock();
            (std::mem::take(&mut inner.pending), inner.current.take(), inner.abandoned)
        };
        match &result {
            Err(panic) => {
                let message = format!("SyncPool internal error: the task runner failed ({panic}).");
                for task in current.iter().chain(leftover.iter()) {
                    self.fail_task(task, &message);
                }
                host::internal_error(&*self.host, &message);
            }
            Ok(_) => {
                if let Some(task) = current {
                    // The host must end every task it starts; if it did not, say so rather than leave it Running.
                    let message = "SyncPool internal error: the task's runner returned without reporting how the task ended.";
                    task.end(batch.id, Outcome::Failed, Some(message.to_owned()), SystemTime::now());
                    host::internal_error(&*self.host, message);
                }
                self.requeue(&pool, leftover);
            }
        }
        let keep = !abandoned && matches!(result, Ok(ContextFate::Keep));
        if keep {
            let now = Instant::now();
            if self.contexts.lock().check_in(key, context, now) {
                self.timer.push(now + self.config.context_idle, Deadline::ExpireContexts);
            }
        } else {
            host::dispose_context(&*self.host, context);
        }
        self.release_slot(&batch, false);
        !abandoned
    }

    /// Claimed tasks that were never started go back to the front of the
    /// queue, in order (or are stopped, if the pool is gone).
    fn requeue(&self, pool: &Arc<Pool>, tasks: VecDeque<Arc<Task>>) {
        if tasks.is_empty() {
            return;
        }
        let removed = {
            let mut inner = pool.lock();
            for task in tasks.iter().rev() {
                task.lock().claimed = false;
                if !inner.removed {
                    inner.queue.push_front(Arc::clone(task));
                }
            }
            inner.removed
        };
        if removed {
            for task in &tasks {
                self.stop_task(task, super::task_state::TaskState::Stopped, "stopped: its pool was removed");
            }
        }
        self.schedule(pool);
    }

    /// Gives the batch's throttle slot back (`blocking`: only while its
    /// thread blocks in a nested wait, and its unstarted tasks are requeued).
    pub(crate) fn release_slot(&self, batch: &Arc<Batch>, blocking: bool) {
        let pool = &batch.pool;
        let pending = {
            let mut inner = pool.lock();
            let mut b = batch.inner.lock();
            if b.holds_slot {
                b.holds_slot = false;
                inner.active -= 1;
            }
            if blocking { std::mem::take(&mut b.pending) } else { VecDeque::new() }
        };
        if blocking {
            // Someone else must take over the queue while this thread blocks.
            if pending.is_empty() { self.schedule(pool) } else { self.requeue(pool, pending) }
        }
    }

    /// The blocked thread resumes: it takes a slot again (possibly above the
    /// throttle for a moment), unless it was abandoned meanwhile.
    pub(crate) fn retake_slot(&self, batch: &Arc<Batch>) {
        let mut inner = batch.pool.lock();
        let mut b = batch.inner.lock();
        if !b.abandoned && !b.holds_slot {
            b.holds_slot = true;
            inner.active += 1;
        }
    }

    /// Gives up on the worker running `task` in `batch`: its script ignored
    /// every stop. The slot is freed (a new thread takes over the queue), the
    /// batch's other tasks are requeued, and the host learns it.
    pub(crate) fn abandon(&self, batch: BatchId, task: &Arc<Task>) {
        let Some(running) = self.batches.lock().get(&batch).cloned() else { return };
        let pending = {
            let mut inner = running.pool.lock();
            let mut b = running.inner.lock();
            if b.abandoned {
                return;
            }
            b.abandoned = true;
            inner.abandoned_workers += 1;
            if b.holds_slot {
                b.holds_slot = false;
                inner.active -= 1;
            }
            std::mem::take(&mut b.pending)
        };
        host::stop(&*self.host, running.worker, task.id, StopLevel::Abandon);
        self.requeue(&running.pool, pending);
        self.schedule(&running.pool);
    }

    // ---- what the host calls while it runs a batch --------------------------------------------

    /// The task batch `batch` would start next, not started: the host reads
    /// its script to prepare the batch's pipeline (directory, variables,
    /// compiling the driver) before [`next_item`](Self::next_item) starts it,
    /// so that preparation never counts against the task's timeout. `None`
    /// when the batch holds no claimed task that is still to run (the host
    /// then asks `next_item`, which may also take more from the queue) or a
    /// task is running. Must be called on the thread running the batch.
    pub fn peek_item(&self, batch: BatchId) -> Result<Option<Arc<Task>>, PoolError> {
        let running = current_batch(batch)?;
        let b = running.inner.lock();
        if b.abandoned || b.current.is_some() {
            return Ok(None);
        }
        Ok(b.pending.iter().find(|t| !t.is_finished()).cloned())
    }

    /// The next task of batch `batch` to run, started now (its timeout counts
    /// from here); `None` when the batch is done or its worker was abandoned.
    /// Must be called on the thread running the batch.
    pub fn next_item(&self, batch: BatchId) -> Result<Option<Arc<Task>>, PoolError> {
        let running = current_batch(batch)?;
        loop {
            let popped = {
                let mut b = running.inner.lock();
                if let Some(unended) = b.current.take() {
                    drop(b);
                    let message = "SyncPool internal error: the next task was asked for before this one was reported as ended.";
                    unended.end(batch, Outcome::Failed, Some(message.to_owned()), SystemTime::now());
                    host::internal_error(&*self.host, message);
                    b = running.inner.lock();
                }
                if b.abandoned {
                    return Ok(None);
                }
                b.pending.pop_front()
            };
            // Out of claimed tasks: keep the pipeline going while the queue
            // holds more of this group (taken with no batch lock held: the
            // pool's lock comes first).
            let task = match popped {
                Some(task) => task,
                None => match self.extend(&running) {
                    Some(more) => more,
                    None => return Ok(None),
                },
            };
            let mut b = running.inner.lock();
            if b.abandoned {
                drop(b);
                self.requeue(&running.pool, VecDeque::from([task]));
                return Ok(None);
            }
            match task.begin(batch, running.worker, SystemTime::now(), Instant::now()) {
                Begin::Skip => continue,
                Begin::Run { deadline } => {
                    b.current = Some(Arc::clone(&task));
                    if let Some(at) = deadline {
                        self.timer.push(at, Deadline::Timeout { task: Arc::downgrade(&task) });
                    }
                    return Ok(Some(task));
                }
            }
        }
    }

    /// The next queued task of the batch's group, claimed for it, if the pool
    /// has one at the front of its queue. Takes the pool's lock: call with no
    /// batch lock held.
    ///
    /// When the queue holds none but the batch's call is still submitting
    /// (the producer is slower than the workers, the common case for tiny
    /// items), waits up to [`EngineConfig::linger`](super::EngineConfig) for
    /// its next task instead of ending the batch; woken by the submit, the
    /// call's end, a seal or the pool's removal.
    fn extend(&self, batch: &Arc<Batch>) -> Option<Arc<Task>> {
        let pool = &batch.pool;
        let mut inner = pool.lock();
        let mut until: Option<Instant> = None;
        loop {
            if inner.removed || batch.inner.lock().abandoned {
                return None;
            }
            while let Some(front) = inner.queue.front() {
                if front.is_finished() {
                    inner.queue.pop_front();
                    continue;
                }
                if front.group != batch.group {
                    return None;
                }
                let task = inner.queue.pop_front().expect("front exists");
                task.lock().claimed = true;
                return Some(task);
            }
            if inner.open_group != Some(batch.group) {
                return None;
            }
            let deadline = *until.get_or_insert_with(|| Instant::now() + self.config.linger);
            inner.lingering += 1;
            let timed_out = pool.more.wait_until(&mut inner, deadline).timed_out();
            inner.lingering -= 1;
            if timed_out && inner.queue.is_empty() {
                return None;
            }
        }
    }

    /// The script of `task` (the batch's current one) returned with `outcome`.
    pub fn end_item(&self, batch: BatchId, task: TaskId, outcome: Outcome, message: Option<String>) -> Result<(), PoolError> {
        let running = current_batch(batch)?;
        let current = {
            let mut b = running.inner.lock();
            match &b.current {
                Some(t) if t.id == task => b.current.take().expect("checked"),
                _ => return Err(PoolError::InvalidArgument(format!("Task {task} is not the task batch {batch} is running."))),
            }
        };
        if let Some(elapsed) = current.end(batch, outcome, message, SystemTime::now()) {
            running.pool.record_item_time(elapsed);
        }
        Ok(())
    }
}

/// The batch this thread runs, if it is `batch`.
fn current_batch(batch: BatchId) -> Result<Arc<Batch>, PoolError> {
    CURRENT.with(|c| match c.borrow().as_ref() {
        Some((_, b)) if b.id == batch => Ok(Arc::clone(b)),
        _ => Err(PoolError::InvalidArgument(format!("Batch {batch} is not being run on this thread."))),
    })
}
