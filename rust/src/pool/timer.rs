//! Deadlines: task timeouts, stop escalation and context expiry, enforced by
//! one timer thread sleeping until the earliest one (or until an earlier one
//! is pushed), never polling.
//!
//! Entries are not removed when what they guard ends early: each is checked
//! when it fires (a task that finished, or a batch that moved on, makes it
//! stale). The heap is compacted whenever stale entries could dominate, so
//! memory follows the live timeouts, not the history.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::{Arc, Weak};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use super::host::StopLevel;
use super::task::{BatchId, Task, WorkerId};
use super::task_state::TaskState;

/// What to do when a deadline passes.
#[derive(Clone, Debug)]
pub(crate) enum Deadline {
    /// The task's own time limit.
    Timeout { task: Weak<Task> },
    /// The task was asked to stop in `batch` on `worker`; if its script is
    /// still running there, stop it harder (`level`).
    Escalate { task: Weak<Task>, batch: BatchId, worker: WorkerId, level: StopLevel },
    /// Some idle context may have expired.
    ExpireContexts,
}

impl Deadline {
    /// Whether firing it could still do anything.
    fn is_live(&self) -> bool {
        match self {
            Deadline::Timeout { task } => task.upgrade().is_some_and(|t| t.state() == TaskState::Running),
            Deadline::Escalate { task, batch, .. } => task.upgrade().is_some_and(|t| t.is_run_by(*batch)),
            Deadline::ExpireContexts => true,
        }
    }
}

struct Entry {
    at: Instant,
    /// Insertion order, so equal instants fire first in, first out.
    seq: u64,
    what: Deadline,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Compaction threshold floor: below this many entries staleness is harmless.
const COMPACT_FLOOR: usize = 4096;

struct TimerState {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    compact_at: usize,
    stop: bool,
}

pub(crate) struct Timer {
    state: Mutex<TimerState>,
    wake: Condvar,
}

impl Timer {
    pub fn new() -> Arc<Timer> {
        Arc::new(Timer {
            state: Mutex::new(TimerState { heap: BinaryHeap::new(), seq: 0, compact_at: COMPACT_FLOOR, stop: false }),
            wake: Condvar::new(),
        })
    }

    /// Adds a deadline; wakes the timer thread if it is now the earliest.
    pub fn push(&self, at: Instant, what: Deadline) {
        let mut st = self.state.lock();
        let earliest = st.heap.peek().is_none_or(|e| at < e.0.at);
        st.seq += 1;
        let seq = st.seq;
        st.heap.push(Reverse(Entry { at, seq, what }));
        if st.heap.len() >= st.compact_at {
            st.heap.retain(|e| e.0.what.is_live());
            st.compact_at = COMPACT_FLOOR.max(st.heap.len() * 2);
        }
        drop(st);
        if earliest {
            self.wake.notify_one();
        }
    }

    pub fn len(&self) -> usize {
        self.state.lock().heap.len()
    }

    /// Ends the timer thread (the engine is gone).
    pub fn stop(&self) {
        self.state.lock().stop = true;
        self.wake.notify_one();
    }

    /// Body of the timer thread: fires due deadlines (with the lock
    /// released) until stopped. `fire` returns false once the engine is gone.
    pub fn run(&self, mut fire: impl FnMut(Deadline) -> bool) {
        let mut st = self.state.lock();
        loop {
            if st.stop {
                return;
            }
            let now = Instant::now();
            match st.heap.peek().map(|e| e.0.at) {
                Some(at) if at <= now => {
                    let due = st.heap.pop().expect("peeked").0.what;
                    drop(st);
                    if !fire(due) {
                        return;
                    }
                    st = self.state.lock();
                }
                Some(at) => {
                    self.wake.wait_until(&mut st, at);
                }
                None => self.wake.wait(&mut st),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn fires_in_deadline_order_then_first_in_first_out() {
        let timer = Timer::new();
        let t0 = Instant::now();
        let task = |id| Arc::new(Task::new(id, 1, 1, None, None, SystemTime::now()));
        let tasks: Vec<_> = (1..=3).map(task).collect();
        timer.push(t0 + Duration::from_millis(30), Deadline::Timeout { task: Arc::downgrade(&tasks[2]) });
        timer.push(t0 + Duration::from_millis(10), Deadline::Timeout { task: Arc::downgrade(&tasks[0]) });
        timer.push(t0 + Duration::from_millis(10), Deadline::ExpireContexts);
        timer.push(t0 + Duration::from_millis(20), Deadline::Timeout { task: Arc::downgrade(&tasks[1]) });
        let mut fired = Vec::new();
        let worker = {
            let timer = Arc::clone(&timer);
            std::thread::spawn(move || {
                timer.run(|d| {
                    fired.push(match d {
                        Deadline::Timeout { task } => task.upgrade().unwrap().id,
                        _ => 0,
                    });
                    fired.len() < 4
                });
                fired
            })
        };
        let fired = worker.join().unwrap();
        assert_eq!(fired, vec![1, 0, 2, 3]);
        assert!(t0.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn stale_entries_are_compacted_away() {
        let timer = Timer::new();
        let later = Instant::now() + Duration::from_secs(3600);
        for id in 0..(COMPACT_FLOOR as u64 * 3) {
            // Each task is dropped at once: its timeout is stale.
            let task = Arc::new(Task::new(id, 1, 1, None, None, SystemTime::now()));
            timer.push(later, Deadline::Timeout { task: Arc::downgrade(&task) });
        }
        assert!(timer.len() < COMPACT_FLOOR, "{} entries left", timer.len());
    }
}
