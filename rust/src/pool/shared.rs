//! What the [`Pool`](super::Pool) handle and its threads share.
//!
//! Worker and timer threads hold an `Arc<Shared>`, never an `Arc<Pool>`: that
//! way dropping the last user handle is what shuts the pool down, and the
//! threads wind down on their own afterwards.
//!
//! The methods here pair each `State` transition with the notifications and
//! host calls it implies. Host calls are always made with the lock released.

use std::io;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::host::{self, Host};
use super::state::{State, StopResult};
use super::task::{TaskId, TaskState, WorkerId};
use super::timer::{self, Deadline};
use super::worker;

pub(crate) struct Shared {
    /// Unique per process, so a worker thread can tell which pool it serves.
    pub id: u64,
    pub name: String,
    /// The throttle: how many workers serve the queue in steady state.
    pub throttle: usize,
    pub stop_grace: Duration,
    /// Stack size for worker threads, in bytes (already defaulted/clamped).
    pub stack_size: usize,
    pub host: Arc<dyn Host>,
    pub state: Mutex<State>,
    /// Workers park here waiting for the queue (or for a reason to retire).
    pub work_cv: Condvar,
    /// Waiters park here; notified whenever any task reaches a final state.
    pub done_cv: Condvar,
    /// The timer thread parks here until its next deadline.
    pub timer_cv: Condvar,
    /// `shutdown` parks here until worker threads have exited.
    pub exit_cv: Condvar,
}

/// A task a stop sweep (stop_all, shutdown) finished, for the host calls that
/// follow once the lock is released.
pub(crate) struct Swept {
    task: TaskId,
    /// Set if the task was running there and the host must be asked to stop it.
    worker: Option<WorkerId>,
}

impl Shared {
    pub fn new(id: u64, name: String, throttle: usize, stop_grace: Duration, stack_size: usize, host: Arc<dyn Host>) -> Shared {
        Shared {
            id,
            name,
            throttle,
            stop_grace,
            stack_size,
            host,
            state: Mutex::new(State::new()),
            work_cv: Condvar::new(),
            done_cv: Condvar::new(),
            timer_cv: Condvar::new(),
            exit_cv: Condvar::new(),
        }
    }

    /// Starts a worker thread (a temporary one if `compensating`).
    pub fn spawn_worker(self: &Arc<Self>, st: &mut State, compensating: bool) -> io::Result<WorkerId> {
        let id = st.add_worker(compensating);
        let shared = Arc::clone(self);
        let spawned = thread::Builder::new()
            .name(format!("{}-worker-{id}", self.name))
            .stack_size(self.stack_size)
            .spawn(move || worker::main(shared, id));
        match spawned {
            Ok(_detached) => Ok(id),
            Err(e) => {
                st.forget_worker(id);
                Err(e)
            }
        }
    }

    /// Starts the timer thread.
    pub fn spawn_timer(self: &Arc<Self>) -> io::Result<()> {
        let shared = Arc::clone(self);
        thread::Builder::new().name(format!("{}-timer", self.name)).spawn(move || {
            // Pool code does not panic by design; this only guarantees that a
            // bug can never unwind out of a pool thread.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| timer::run(shared)));
        })?;
        Ok(())
    }

    /// Starts compensating workers for workers blocked in nested waits, as
    /// many as `State::compensation_needed` says. If a thread cannot be
    /// spawned the nested wait simply relies on its timeout.
    pub fn compensate(self: &Arc<Self>, st: &mut State) {
        for _ in 0..st.compensation_needed() {
            if self.spawn_worker(st, true).is_err() {
                break;
            }
        }
    }

    /// Acts on a deadline the timer found due.
    pub fn fire(self: &Arc<Self>, st: &mut MutexGuard<'_, State>, due: Deadline, clock: Instant) {
        match due {
            Deadline::Timeout { task, worker } => {
                if st.time_out(task, worker, self.stop_grace, SystemTime::now(), clock) {
                    // Waiters must not wait for a runner that may never return.
                    self.done_cv.notify_all();
                    MutexGuard::unlocked(st, || {
                        host::stop(&*self.host, worker, task);
                        host::task_finished(&*self.host, task, TaskState::TimedOut);
                    });
                }
            }
            Deadline::Escalate { task, worker } => {
                if let Some(was_compensating) = st.abandon(task, worker) {
                    if was_compensating {
                        // Only replace it if a blocked worker still needs it.
                        self.compensate(st);
                    } else if !st.shutdown {
                        // Restore the throttle. If the thread cannot be spawned
                        // the pool runs one worker short (Counts.workers shows it).
                        let _ = self.spawn_worker(st, false);
                    }
                    // The abandoned worker may have been blocked; a
                    // compensating worker may now be free to retire.
                    self.work_cv.notify_all();
                }
            }
        }
    }

    /// Stops one task, ending it in `to` (Stopped or TimedOut) with
    /// `message`; returns its state afterwards.
    pub fn stop(&self, task: TaskId, to: TaskState, message: &str) -> Result<TaskState, super::PoolError> {
        let mut st = self.state.lock();
        match st.stop(task, to, message, self.stop_grace, SystemTime::now(), Instant::now())? {
            StopResult::AlreadyFinished(state) => Ok(state),
            StopResult::WasQueued => {
                self.done_cv.notify_all();
                drop(st);
                host::task_finished(&*self.host, task, to);
                Ok(to)
            }
            StopResult::WasRunning { worker, wake_timer } => {
                self.done_cv.notify_all();
                if wake_timer {
                    self.timer_cv.notify_one();
                }
                drop(st);
                host::stop(&*self.host, worker, task);
                host::task_finished(&*self.host, task, to);
                Ok(to)
            }
        }
    }

    /// Stops every queued and running task under the lock; the host calls
    /// are left to [`Shared::report_swept`] once the lock is released.
    pub fn sweep(&self, st: &mut State, message: &str) -> Vec<Swept> {
        let (now, clock) = (SystemTime::now(), Instant::now());
        let mut swept = Vec::new();
        let mut wake_timer = false;
        for task in st.unfinished() {
            match st.stop(task, TaskState::Stopped, message, self.stop_grace, now, clock) {
                Ok(StopResult::WasQueued) => swept.push(Swept { task, worker: None }),
                Ok(StopResult::WasRunning { worker, wake_timer: wake }) => {
                    wake_timer |= wake;
                    swept.push(Swept { task, worker: Some(worker) });
                }
                Ok(StopResult::AlreadyFinished(_)) | Err(_) => {}
            }
        }
        if !swept.is_empty() {
            self.done_cv.notify_all();
        }
        if wake_timer {
            self.timer_cv.notify_one();
        }
        swept
    }

    /// The host calls for a sweep: stop requests first (they are urgent),
    /// then the finished notifications.
    pub fn report_swept(&self, swept: &[Swept]) {
        for s in swept {
            if let Some(worker) = s.worker {
                host::stop(&*self.host, worker, s.task);
            }
        }
        for s in swept {
            host::task_finished(&*self.host, s.task, TaskState::Stopped);
        }
    }
}
