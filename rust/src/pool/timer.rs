//! Deadlines: the heap of pending timeouts/escalations and the timer thread
//! that enforces them.
//!
//! One thread sleeps on a Condvar until the earliest deadline (or until a new,
//! earlier one is pushed), instead of polling tasks. Entries are never removed
//! eagerly when a task finishes early: each entry is re-validated when it fires
//! (ids are never reused, so a stale entry simply no longer matches), and the
//! heap is compacted when stale entries dominate so memory stays bounded.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Instant;

use super::shared::Shared;
use super::task::{TaskId, WorkerId};

/// What to do when a deadline passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Deadline {
    /// `task`, started on `worker`, has run for its whole timeout.
    Timeout { task: TaskId, worker: WorkerId },
    /// `worker` was asked to stop `task` `stop_grace` ago; if it is still in
    /// that run, abandon the worker.
    Escalate { task: TaskId, worker: WorkerId },
}

#[derive(Debug)]
struct Entry {
    at: Instant,
    /// Insertion order, so equal instants fire FIFO and `Ord` is total.
    seq: u64,
    what: Deadline,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
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

/// A min-heap of deadlines.
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

impl Deadlines {
    /// Adds a deadline; returns true if it is now the earliest one, i.e. the
    /// timer thread must be woken to shorten its sleep.
    pub fn push(&mut self, at: Instant, what: Deadline) -> bool {
        let earliest = self.next_at().is_none_or(|next| at < next);
        self.seq += 1;
        self.heap.push(Reverse(Entry { at, seq: self.seq, what }));
        earliest
    }

    pub fn next_at(&self) -> Option<Instant> {
        self.heap.peek().map(|e| e.0.at)
    }

    /// Removes and returns the earliest deadline if it is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Deadline> {
        if self.next_at()? <= now { self.heap.pop().map(|e| e.0.what) } else { None }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Keeps only the deadlines for which `live` is true.
    pub fn retain(&mut self, mut live: impl FnMut(&Deadline) -> bool) {
        self.heap.retain(|e| live(&e.0.what));
    }
}

/// The timer thread: fires due deadlines, then sleeps until the next one.
/// It exits once the pool is shut down and no deadline is left (escalations
/// pushed by the shutdown itself are still honoured).
pub(crate) fn run(shared: Arc<Shared>) {
    let mut st = shared.state.lock();
    loop {
        let now = Instant::now();
        if let Some(due) = st.deadlines.pop_due(now) {
            shared.fire(&mut st, due, now);
            continue;
        }
        if st.shutdown && st.deadlines.is_empty() {
            return;
        }
        match st.deadlines.next_at() {
            Some(at) => {
                shared.timer_cv.wait_until(&mut st, at);
            }
            None => shared.timer_cv.wait(&mut st),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pops_in_deadline_order_then_fifo() {
        let mut d = Deadlines::default();
        let t0 = Instant::now();
        assert!(d.push(t0 + Duration::from_millis(30), Deadline::Timeout { task: 3, worker: 1 }));
        assert!(d.push(t0 + Duration::from_millis(10), Deadline::Timeout { task: 1, worker: 1 }));
        assert!(!d.push(t0 + Duration::from_millis(10), Deadline::Escalate { task: 2, worker: 1 }));
        assert!(!d.push(t0 + Duration::from_millis(20), Deadline::Timeout { task: 4, worker: 1 }));
        assert_eq!(d.pop_due(t0), None);
        let later = t0 + Duration::from_secs(1);
        let order: Vec<_> = std::iter::from_fn(|| d.pop_due(later)).collect();
        assert_eq!(
            order,
            vec![
                Deadline::Timeout { task: 1, worker: 1 },
                Deadline::Escalate { task: 2, worker: 1 },
                Deadline::Timeout { task: 4, worker: 1 },
                Deadline::Timeout { task: 3, worker: 1 },
            ]
        );
        assert!(d.is_empty());
    }

    #[test]
    fn retain_drops_stale_entries() {
        let mut d = Deadlines::default();
        let t0 = Instant::now();
        for task in 1..=10 {
            d.push(t0, Deadline::Timeout { task, worker: 1 });
        }
        d.retain(|e| matches!(e, Deadline::Timeout { task, .. } if task % 2 == 0));
        assert_eq!(d.len(), 5);
    }
}
