//! The bookkeeping kept under the pool's single lock.
//!
//! Everything here is plain data plus transitions that keep the counters in
//! step with the task map. Nothing here blocks, notifies or calls the host:
//! `shared` wraps these transitions with the Condvar notifications and host
//! calls they imply, which keeps every invariant checkable in one place.
//!
//! One lock for the whole pool is deliberate: tasks are PowerShell scripts
//! (milliseconds at least), so the lock is never the bottleneck, and a single
//! lock makes the state machine, the counters and the waits trivially
//! consistent with each other.

use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::time::{Duration, Instant, SystemTime};

use super::error::PoolError;
use super::task::{RunOutcome, Task, TaskId, TaskState, WorkerId, timed_out_message};
use super::timer::{Deadline, Deadlines};

/// Progress counters, as returned by [`Pool::counts`](super::Pool::counts).
///
/// The per-state counts cover the tasks the pool still tracks: a removed task
/// leaves them, so they always add up to [`Pool::tracked_tasks`](super::Pool::tracked_tasks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub queued: usize,
    /// Tasks in the Running state. A runner still winding down after its task
    /// was stopped or timed out is not counted (its task is already final),
    /// though its worker stays busy until it returns or is abandoned.
    pub running: usize,
    pub completed: usize,
    pub failed: usize,
    pub stopped: usize,
    pub timed_out: usize,
    /// Worker threads currently serving the queue: the throttle, plus any
    /// temporary workers compensating for nested waits. Abandoned workers are
    /// not included.
    pub workers: usize,
    /// How many workers have been abandoned (escalations) since the pool started.
    pub abandoned_workers: usize,
}

impl Counts {
    fn of(&mut self, state: TaskState) -> &mut usize {
        match state {
            TaskState::Queued => &mut self.queued,
            TaskState::Running => &mut self.running,
            TaskState::Completed => &mut self.completed,
            TaskState::Failed => &mut self.failed,
            TaskState::Stopped => &mut self.stopped,
            TaskState::TimedOut => &mut self.timed_out,
        }
    }

    /// Number of tasks counted in any state (equals `Pool::tracked_tasks`).
    pub fn total(&self) -> usize {
        self.queued + self.running + self.completed + self.failed + self.stopped + self.timed_out
    }
}

/// The pool's view of one worker thread.
#[derive(Debug, Default)]
pub(crate) struct WorkerSlot {
    /// The task whose runner is executing on this worker right now. Stays set
    /// after the task is TimedOut/Stopped, until the runner actually returns:
    /// that is what escalation checks.
    pub current: Option<TaskId>,
    /// Given up on: a replacement was spawned; the thread exits when (if) its
    /// runner returns.
    pub abandoned: bool,
    /// A temporary worker spawned to compensate for a nested wait; it retires
    /// when there are no longer more such workers than blocked workers.
    pub compensating: bool,
    /// Inside `wait_any`/`wait_all` on its own pool (counted in `State::blocked`).
    pub blocked: bool,
}

/// What happened to a stop request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StopResult {
    /// The task was queued and is now Stopped; it will never run.
    WasQueued,
    /// The task was running on `worker` and is now Stopped; the host must be
    /// asked to stop it. `wake_timer`: the escalation is the earliest deadline.
    WasRunning { worker: WorkerId, wake_timer: bool },
    /// The task had already finished; its state is unchanged.
    AlreadyFinished(TaskState),
}

/// What a worker must do after its runner returned.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Returned {
    /// The task took the runner's outcome; the host must be told.
    Finished(TaskState),
    /// The task had already been timed out/stopped (or removed); nothing to report.
    Ignored,
    /// The worker was abandoned while the runner was stuck: it must exit.
    Abandoned,
}

/// The whole mutable state of a pool.
#[derive(Debug)]
pub(crate) struct State {
    next_task: TaskId,
    next_worker: WorkerId,
    pub tasks: HashMap<TaskId, Task>,
    /// FIFO of tasks to run. A task stopped while queued is left in place and
    /// skipped when popped (so stopping one of N queued tasks is O(1), not
    /// O(N)); the queue is cleared whenever no task is queued any more.
    pub queue: VecDeque<TaskId>,
    pub workers: HashMap<WorkerId, WorkerSlot>,
    pub counts: Counts,
    pub deadlines: Deadlines,
    /// Workers parked waiting for the queue.
    pub idle: usize,
    /// Non-abandoned workers inside a wait on their own pool.
    pub blocked: usize,
    /// Non-abandoned compensating workers.
    pub extra: usize,
    /// Live worker threads, abandoned ones included (what shutdown waits for).
    pub threads: usize,
    pub shutdown: bool,
}

/// Maps are shrunk once they are this large and at most 1/8 full, so memory
/// follows the number of tracked tasks instead of its historical peak.
const SHRINK_MIN_CAPACITY: usize = 4096;
/// The deadline heap is compacted once it exceeds this many entries plus four
/// per worker slot (live entries never exceed two per worker slot).
const DEADLINE_SLACK: usize = 64;

impl State {
    pub fn new() -> State {
        State {
            next_task: 1,
            next_worker: 1,
            tasks: HashMap::new(),
            queue: VecDeque::new(),
            workers: HashMap::new(),
            counts: Counts::default(),
            deadlines: Deadlines::default(),
            idle: 0,
            blocked: 0,
            extra: 0,
            threads: 0,
            shutdown: false,
        }
    }

    /// Queues `count` new tasks with contiguous ids.
    pub fn submit(&mut self, count: usize, timeout: Option<Duration>, now: SystemTime) -> Range<TaskId> {
        let first = self.next_task;
        self.next_task += count as TaskId;
        self.tasks.reserve(count);
        self.queue.reserve(count);
        for id in first..self.next_task {
            self.tasks.insert(id, Task::new(timeout, now));
            self.queue.push_back(id);
        }
        self.counts.queued += count;
        first..self.next_task
    }

    /// Registers a new worker slot (its thread is about to be spawned).
    pub fn add_worker(&mut self, compensating: bool) -> WorkerId {
        let id = self.next_worker;
        self.next_worker += 1;
        self.workers.insert(id, WorkerSlot { compensating, ..WorkerSlot::default() });
        self.counts.workers += 1;
        self.threads += 1;
        if compensating {
            self.extra += 1;
        }
        id
    }

    /// Undoes `add_worker` when the thread could not be spawned.
    pub fn forget_worker(&mut self, id: WorkerId) {
        if let Some(slot) = self.workers.remove(&id) {
            self.counts.workers -= 1;
            self.threads -= 1;
            if slot.compensating {
                self.extra -= 1;
            }
        }
    }

    /// Removes an idle, non-abandoned worker that is exiting (shutdown or a
    /// compensating worker retiring). The thread still counts in `threads`
    /// until it has told the host.
    pub fn retire_worker(&mut self, id: WorkerId) {
        if let Some(slot) = self.workers.remove(&id) {
            debug_assert!(!slot.abandoned && slot.current.is_none());
            self.counts.workers -= 1;
            if slot.compensating {
                self.extra -= 1;
            }
            if slot.blocked {
                self.blocked -= 1;
            }
        }
    }

    /// Should this idle worker exit instead of taking work?
    pub fn should_retire(&self, id: WorkerId) -> bool {
        self.shutdown || (self.workers.get(&id).is_some_and(|w| w.compensating) && self.extra > self.blocked)
    }

    /// Pops the next queued task and starts it on `worker`. Returns the task
    /// and whether its timeout became the earliest deadline (wake the timer).
    pub fn start_next(&mut self, worker: WorkerId, now: SystemTime, clock: Instant) -> Option<(TaskId, bool)> {
        while let Some(id) = self.queue.pop_front() {
            let Some(task) = self.tasks.get_mut(&id) else { continue };
            if task.state != TaskState::Queued {
                continue;
            }
            task.state = TaskState::Running;
            task.worker = Some(worker);
            task.started_at = Some(now);
            let deadline = task.timeout.and_then(|t| clock.checked_add(t));
            self.counts.queued -= 1;
            self.counts.running += 1;
            if let Some(slot) = self.workers.get_mut(&worker) {
                slot.current = Some(id);
            }
            let wake_timer = deadline.is_some_and(|at| self.push_deadline(at, Deadline::Timeout { task: id, worker }));
            if self.counts.queued == 0 {
                self.queue.clear();
            }
            shrink_queue(&mut self.queue);
            return Some((id, wake_timer));
        }
        None
    }

    /// Moves a Queued or Running task to the final state `to`. Returns false
    /// (and changes nothing) if the task is unknown or already final.
    pub fn finish(&mut self, id: TaskId, to: TaskState, message: Option<String>, now: SystemTime) -> bool {
        debug_assert!(to.is_finished());
        let Some(task) = self.tasks.get_mut(&id) else { return false };
        let from = task.state;
        if from.is_finished() {
            return false;
        }
        task.state = to;
        task.ended_at = Some(now);
        task.message = message;
        *self.counts.of(from) -= 1;
        *self.counts.of(to) += 1;
        if from == TaskState::Queued && self.counts.queued == 0 {
            self.queue.clear();
        }
        true
    }

    /// Stops a task: a queued one never runs; a running one is marked `to`
    /// (Stopped or TimedOut) now and its worker is escalated (abandoned) if
    /// the runner has not returned `grace` after this.
    pub fn stop(
        &mut self,
        id: TaskId,
        to: TaskState,
        message: &str,
        grace: Duration,
        now: SystemTime,
        clock: Instant,
    ) -> Result<StopResult, PoolError> {
        let task = self.tasks.get(&id).ok_or(PoolError::UnknownTask(id))?;
        match (task.state, task.worker) {
            (TaskState::Queued, _) => {
                self.finish(id, to, Some(message.to_owned()), now);
                Ok(StopResult::WasQueued)
            }
            (TaskState::Running, Some(worker)) => {
                self.finish(id, to, Some(message.to_owned()), now);
                let wake_timer = self.push_escalation(id, worker, grace, clock);
                Ok(StopResult::WasRunning { worker, wake_timer })
            }
            (state, _) => Ok(StopResult::AlreadyFinished(state)),
        }
    }

    /// Ids of every queued task, in queue order, then every running task.
    pub fn unfinished(&self) -> Vec<TaskId> {
        let queued =
            self.queue.iter().copied().filter(|id| self.tasks.get(id).is_some_and(|t| t.state == TaskState::Queued));
        let running = self
            .workers
            .values()
            .filter_map(|w| w.current)
            .filter(|id| self.tasks.get(id).is_some_and(|t| t.state == TaskState::Running));
        queued.chain(running).collect()
    }

    /// The timer says `task` on `worker` has used up its timeout: if it is
    /// still running there, it becomes TimedOut and its worker is escalated
    /// `grace` from now. Returns true if the host must be asked to stop it.
    pub fn time_out(
        &mut self,
        task: TaskId,
        worker: WorkerId,
        grace: Duration,
        now: SystemTime,
        clock: Instant,
    ) -> bool {
        if !deadline_live(&self.tasks, &self.workers, &Deadline::Timeout { task, worker }) {
            return false;
        }
        let message = self.tasks[&task].timeout.map(timed_out_message);
        self.finish(task, TaskState::TimedOut, message, now);
        self.push_escalation(task, worker, grace, clock);
        true
    }

    /// The timer says `worker` was asked to stop `task` a grace period ago: if
    /// it is still stuck in that run, abandon it. Returns whether the abandoned
    /// worker was a compensating one (`None` if nothing was abandoned).
    pub fn abandon(&mut self, task: TaskId, worker: WorkerId) -> Option<bool> {
        if !deadline_live(&self.tasks, &self.workers, &Deadline::Escalate { task, worker }) {
            return None;
        }
        let slot = self.workers.get_mut(&worker)?;
        slot.abandoned = true;
        self.counts.workers -= 1;
        self.counts.abandoned_workers += 1;
        if slot.blocked {
            slot.blocked = false;
            self.blocked -= 1;
        }
        if slot.compensating {
            self.extra -= 1;
        }
        Some(slot.compensating)
    }

    /// `worker`'s runner for `task` returned `outcome` (`panic` holds the panic
    /// text if it panicked).
    pub fn runner_returned(
        &mut self,
        worker: WorkerId,
        task: TaskId,
        outcome: RunOutcome,
        panic: Option<String>,
        now: SystemTime,
    ) -> Returned {
        match self.workers.get_mut(&worker) {
            Some(slot) if !slot.abandoned => slot.current = None,
            _ => {
                self.workers.remove(&worker);
                return Returned::Abandoned;
            }
        }
        let to = match outcome {
            RunOutcome::Completed => TaskState::Completed,
            RunOutcome::Failed => TaskState::Failed,
        };
        if self.finish(task, to, panic, now) { Returned::Finished(to) } else { Returned::Ignored }
    }

    /// Forgets a finished task.
    pub fn remove(&mut self, id: TaskId) -> Result<(), PoolError> {
        let task = self.tasks.get(&id).ok_or(PoolError::UnknownTask(id))?;
        if !task.state.is_finished() {
            return Err(PoolError::NotFinished(id));
        }
        let state = task.state;
        self.tasks.remove(&id);
        *self.counts.of(state) -= 1;
        if self.tasks.capacity() > SHRINK_MIN_CAPACITY && self.tasks.len() * 8 < self.tasks.capacity() {
            self.tasks.shrink_to(self.tasks.len() * 2);
        }
        Ok(())
    }

    /// Marks `worker` (a thread of this pool) as blocked in a wait. Returns
    /// false if it does not count (unknown or abandoned worker, or already blocked).
    pub fn enter_blocked(&mut self, worker: WorkerId) -> bool {
        match self.workers.get_mut(&worker) {
            Some(slot) if !slot.abandoned && !slot.blocked => {
                slot.blocked = true;
                self.blocked += 1;
                true
            }
            _ => false,
        }
    }

    /// Undoes `enter_blocked` (unless abandonment already did).
    pub fn leave_blocked(&mut self, worker: WorkerId) {
        if let Some(slot) = self.workers.get_mut(&worker)
            && slot.blocked
        {
            slot.blocked = false;
            self.blocked -= 1;
        }
    }

    /// How many compensating workers should be started now: one per blocked
    /// worker not yet compensated, but only while queued work would otherwise
    /// wait (idle workers will pick it up first).
    pub fn compensation_needed(&self) -> usize {
        if self.shutdown || self.counts.queued <= self.idle {
            return 0;
        }
        self.blocked.saturating_sub(self.extra).min(self.counts.queued - self.idle)
    }

    fn push_escalation(&mut self, task: TaskId, worker: WorkerId, grace: Duration, clock: Instant) -> bool {
        // An unrepresentable instant means "never escalate" (grace of centuries).
        match clock.checked_add(grace) {
            Some(at) => self.push_deadline(at, Deadline::Escalate { task, worker }),
            None => false,
        }
    }

    fn push_deadline(&mut self, at: Instant, what: Deadline) -> bool {
        if self.deadlines.len() > DEADLINE_SLACK + 4 * self.workers.len() {
            let (tasks, workers) = (&self.tasks, &self.workers);
            self.deadlines.retain(|d| deadline_live(tasks, workers, d));
        }
        self.deadlines.push(at, what)
    }
}

/// Whether a deadline still refers to the situation it was set for. Ids are
/// never reused, so a task that finished (or a worker that moved on) simply
/// no longer matches.
pub(crate) fn deadline_live(
    tasks: &HashMap<TaskId, Task>,
    workers: &HashMap<WorkerId, WorkerSlot>,
    d: &Deadline,
) -> bool {
    match *d {
        Deadline::Timeout { task, worker } => {
            tasks.get(&task).is_some_and(|t| t.state == TaskState::Running && t.worker == Some(worker))
        }
        Deadline::Escalate { task, worker } => {
            workers.get(&worker).is_some_and(|w| w.current == Some(task) && !w.abandoned)
        }
    }
}

fn shrink_queue(queue: &mut VecDeque<TaskId>) {
    if queue.capacity() > SHRINK_MIN_CAPACITY && queue.len() * 8 < queue.capacity() {
        queue.shrink_to(queue.len() * 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> (SystemTime, Instant) {
        (SystemTime::now(), Instant::now())
    }

    #[test]
    fn counts_follow_transitions() {
        let mut st = State::new();
        let w = st.add_worker(false);
        let (sys, clock) = now();
        assert_eq!(st.submit(3, None, sys), 1..4);
        assert_eq!(st.counts.queued, 3);
        assert_eq!(st.start_next(w, sys, clock), Some((1, false)));
        assert_eq!(st.counts.running, 1);
        assert_eq!(st.runner_returned(w, 1, RunOutcome::Failed, None, sys), Returned::Finished(TaskState::Failed));
        assert_eq!(st.stop(2, TaskState::Stopped, "stopped", Duration::from_secs(1), sys, clock), Ok(StopResult::WasQueued));
        // The stopped task is skipped by the queue.
        assert_eq!(st.start_next(w, sys, clock), Some((3, false)));
        assert_eq!(
            st.runner_returned(w, 3, RunOutcome::Completed, None, sys),
            Returned::Finished(TaskState::Completed)
        );
        assert_eq!(st.counts.total(), 3);
        assert_eq!((st.counts.failed, st.counts.stopped, st.counts.completed), (1, 1, 1));
        assert!(st.queue.is_empty());
        for id in 1..4 {
            st.remove(id).unwrap();
        }
        assert_eq!(st.counts.total(), 0);
        assert_eq!(st.remove(1), Err(PoolError::UnknownTask(1)));
    }

    #[test]
    fn late_runner_does_not_overwrite_timeout() {
        let mut st = State::new();
        let w = st.add_worker(false);
        let (sys, clock) = now();
        st.submit(1, Some(Duration::from_millis(10)), sys);
        assert_eq!(st.start_next(w, sys, clock), Some((1, true)));
        assert!(st.time_out(1, w, Duration::from_secs(1), sys, clock));
        assert!(!st.time_out(1, w, Duration::from_secs(1), sys, clock), "fires once");
        assert_eq!(st.tasks[&1].message.as_deref(), Some("timed out after 0.01 s"));
        assert_eq!(st.runner_returned(w, 1, RunOutcome::Completed, None, sys), Returned::Ignored);
        assert_eq!(st.tasks[&1].state, TaskState::TimedOut);
        // The runner returned in time: the escalation no longer applies.
        assert_eq!(st.abandon(1, w), None);
        assert_eq!(st.counts.abandoned_workers, 0);
    }

    #[test]
    fn abandoned_worker_exits_when_runner_returns() {
        let mut st = State::new();
        let w = st.add_worker(false);
        let (sys, clock) = now();
        st.submit(1, None, sys);
        st.start_next(w, sys, clock);
        assert!(matches!(st.stop(1, TaskState::Stopped, "stopped", Duration::ZERO, sys, clock), Ok(StopResult::WasRunning { .. })));
        assert_eq!(st.abandon(1, w), Some(false));
        assert_eq!(st.counts.workers, 0);
        assert_eq!(st.counts.abandoned_workers, 1);
        assert_eq!(st.runner_returned(w, 1, RunOutcome::Completed, None, sys), Returned::Abandoned);
        assert!(st.workers.is_empty());
        assert_eq!(st.tasks[&1].state, TaskState::Stopped);
    }

    #[test]
    fn deadline_heap_stays_bounded_when_tasks_finish_early() {
        let mut st = State::new();
        let w = st.add_worker(false);
        let (sys, clock) = now();
        for _ in 0..10_000 {
            let id = st.submit(1, Some(Duration::from_secs(3600)), sys).start;
            st.start_next(w, sys, clock).unwrap();
            st.runner_returned(w, id, RunOutcome::Completed, None, sys);
            st.remove(id).unwrap();
        }
        assert!(st.deadlines.len() <= DEADLINE_SLACK + 4 * st.workers.len() + 1, "{}", st.deadlines.len());
        assert!(st.tasks.is_empty() && st.queue.is_empty());
    }

    #[test]
    fn compensation_only_while_work_waits() {
        let mut st = State::new();
        let w = st.add_worker(false);
        let (sys, _) = now();
        assert!(st.enter_blocked(w));
        assert!(!st.enter_blocked(w), "counted once");
        assert_eq!(st.compensation_needed(), 0, "nothing queued");
        st.submit(3, None, sys);
        assert_eq!(st.compensation_needed(), 1, "one per blocked worker");
        let c = st.add_worker(true);
        assert_eq!(st.compensation_needed(), 0);
        assert!(!st.should_retire(c));
        st.leave_blocked(w);
        assert!(st.should_retire(c));
        assert!(!st.should_retire(w));
    }
}
