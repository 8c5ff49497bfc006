//! Waiting for sets of tasks, across pools, without polling.
//!
//! A [`Wait`] registers itself on every task it covers. When a task reaches a
//! final state it hands its registrations to [`notify`], which marks the task
//! done in each wait and wakes that wait's condition variable: one wake-up per
//! finished task, no re-scanning of the set. A wait delivers finished tasks in
//! completion order or in the order given (each as soon as all earlier ones
//! are done), waits for all or for any, and ends early on a [`Cancel`]
//! (Ctrl+C) or at a deadline.
//!
//! A wait made on one of the engine's own worker threads (a task waiting for
//! tasks it started) releases that worker's throttle slot while it blocks, so
//! nested waits cannot deadlock a pool (see `executor::block_current`).
//!
//! Lock order: task, then wait. A wait never takes a task's or pool's lock
//! while holding its own.

use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use std::time::Instant;

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::executor;
use super::task::{Task, TaskId};
use super::task_state::TaskState;
use crate::cancel::Cancel;

/// A wait's registration on one task: the wait, and the task's index in it.
pub(crate) type WaiterLink = (Weak<WaitShared>, usize);

/// Tells the waits registered on a task that it has finished.
pub(crate) fn notify(links: Vec<WaiterLink>, _task: TaskId) {
    for (wait, index) in links {
        if let Some(wait) = wait.upgrade() {
            wait.finished(index);
        }
    }
}

pub(crate) struct WaitShared {
    inner: Mutex<WaitInner>,
    wake: Condvar,
}

struct WaitInner {
    done: Vec<bool>,
    finished: usize,
    /// Finished and not yet delivered, in the order they finished.
    ready: VecDeque<usize>,
    /// In-order delivery: the index of the next task to deliver.
    next_in_order: usize,
    delivered: usize,
    /// What the blocked waiter needs, if one is blocked: a completion wakes
    /// it only when that may now be true, so waiting for all of 10,000 tasks
    /// costs one wake-up, not 10,000.
    want: Option<Want>,
}

/// What a blocked waiter is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    All,
    Any,
    NextCompleted,
    NextInOrder,
}

impl WaitInner {
    fn wants_wake(&self) -> bool {
        match self.want {
            None => false,
            Some(Want::All) => self.finished == self.done.len(),
            Some(Want::Any) => self.finished > 0,
            Some(Want::NextCompleted) => !self.ready.is_empty(),
            Some(Want::NextInOrder) => self.done.get(self.next_in_order).copied().unwrap_or(true),
        }
    }
}

impl WaitShared {
    fn finished(&self, index: usize) {
        let mut inner = self.inner.lock();
        if !inner.done[index] {
            inner.done[index] = true;
            inner.finished += 1;
            inner.ready.push_back(index);
        }
        let wake = inner.wants_wake();
        drop(inner);
        if wake {
            self.wake.notify_all();
        }
    }
}

/// In which order [`Wait::next`] delivers finished tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitOrder {
    /// As they finish.
    Completion,
    /// In the order given, each as soon as it and all earlier ones are done.
    Input,
}

/// What [`Wait::next`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// The task at this index (in the order given) is done and now delivered.
    Task(usize),
    /// Every task has been delivered.
    End,
    TimedOut,
    Cancelled,
}

/// How a blocking wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitEnd {
    /// What was waited for happened (all done, or at least one done for `any`).
    Done,
    TimedOut,
    Cancelled,
}

/// Counts for a progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WaitProgress {
    pub total: usize,
    pub finished: usize,
    pub running: usize,
}

/// A set of tasks to wait for (duplicates allowed; each counts once per occurrence).
pub struct Wait {
    shared: Arc<WaitShared>,
    tasks: Vec<Arc<Task>>,
}

impl Wait {
    pub fn new(tasks: Vec<Arc<Task>>) -> Wait {
        let shared = Arc::new(WaitShared {
            inner: Mutex::new(WaitInner {
                done: vec![false; tasks.len()],
                finished: 0,
                ready: VecDeque::new(),
                next_in_order: 0,
                delivered: 0,
                want: None,
            }),
            wake: Condvar::new(),
        });
        for (index, task) in tasks.iter().enumerate() {
            let mut inner = task.lock();
            if inner.state.is_finished() {
                drop(inner);
                shared.finished(index);
            } else {
                inner.waiters.push((Arc::downgrade(&shared), index));
            }
        }
        Wait { shared, tasks }
    }

    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    pub fn task(&self, index: usize) -> &Arc<Task> {
        &self.tasks[index]
    }

    pub fn tasks(&self) -> &[Arc<Task>] {
        &self.tasks
    }

    /// The tasks not finished yet.
    pub fn unfinished(&self) -> Vec<Arc<Task>> {
        let inner = self.shared.inner.lock();
        self.tasks.iter().enumerate().filter(|(i, _)| !inner.done[*i]).map(|(_, t)| Arc::clone(t)).collect()
    }

    pub fn progress(&self) -> WaitProgress {
        let unfinished = self.unfinished();
        let running = unfinished.iter().filter(|t| t.state() == TaskState::Running).count();
        WaitProgress { total: self.tasks.len(), finished: self.tasks.len() - unfinished.len(), running }
    }

    /// The next finished task in `order`, blocking until there is one.
    pub fn next(&self, order: WaitOrder, deadline: Option<Instant>, cancel: Option<&Cancel>) -> Next {
        let total = self.tasks.len();
        let want = match order {
            WaitOrder::Completion => Want::NextCompleted,
            WaitOrder::Input => Want::NextInOrder,
        };
        let result = self.block(want, deadline, cancel, |inner| {
            if inner.delivered == total {
                return Some(Next::End);
            }
            let index = match order {
                WaitOrder::Completion => inner.ready.pop_front()?,
                WaitOrder::Input => {
                    let i = inner.next_in_order;
                    if !inner.done[i] {
                        return None;
                    }
                    inner.next_in_order += 1;
                    i
                }
            };
            inner.delivered += 1;
            Some(Next::Task(index))
        });
        match result {
            Ok(next) => next,
            Err(WaitEnd::Cancelled) => Next::Cancelled,
            Err(_) => Next::TimedOut,
        }
    }

    /// Blocks until every task has finished.
    pub fn all(&self, deadline: Option<Instant>, cancel: Option<&Cancel>) -> WaitEnd {
        let total = self.tasks.len();
        self.block(Want::All, deadline, cancel, |inner| (inner.finished == total).then_some(())).err().unwrap_or(WaitEnd::Done)
    }

    /// Blocks until at least one task has finished (at once for an empty set).
    pub fn any(&self, deadline: Option<Instant>, cancel: Option<&Cancel>) -> WaitEnd {
        let total = self.tasks.len();
        self.block(Want::Any, deadline, cancel, |inner| (total == 0 || inner.finished > 0).then_some(())).err().unwrap_or(WaitEnd::Done)
    }

    /// Whether the task at `index` has finished.
    pub fn is_done(&self, index: usize) -> bool {
        self.shared.inner.lock().done[index]
    }

    /// Waits on the condition variable until `ready` yields, the deadline
    /// passes or `cancel` is signalled. `ready` runs under the wait's lock.
    fn block<T>(&self, want: Want, deadline: Option<Instant>, cancel: Option<&Cancel>, mut ready: impl FnMut(&mut WaitInner) -> Option<T>) -> Result<T, WaitEnd> {
        // Fast path: no registration, no compensation.
        {
            let mut inner = self.shared.inner.lock();
            if let Some(found) = ready(&mut inner) {
                return Ok(found);
            }
        }
        if cancel.is_some_and(Cancel::is_cancelled) {
            return Err(WaitEnd::Cancelled);
        }
        if deadline.is_some_and(|at| Instant::now() >= at) {
            return Err(WaitEnd::TimedOut);
        }
        let _woken_by_cancel = cancel.map(|c| {
            let shared = Arc::clone(&self.shared);
            c.on_cancel(move || {
                drop(shared.inner.lock());
                shared.wake.notify_all();
            })
        });
        // Taken with no wait lock held: it takes pool and scheduler locks.
        let _blocked = executor::block_current();
        let mut inner: MutexGuard<'_, WaitInner> = self.shared.inner.lock();
        let result = loop {
            if let Some(found) = ready(&mut inner) {
                break Ok(found);
            }
            if cancel.is_some_and(Cancel::is_cancelled) {
                break Err(WaitEnd::Cancelled);
            }
            inner.want = Some(want);
            match deadline {
                Some(at) => {
                    if Instant::now() >= at {
                        break Err(WaitEnd::TimedOut);
                    }
                    self.shared.wake.wait_until(&mut inner, at);
                }
                None => self.shared.wake.wait(&mut inner),
            }
        };
        inner.want = None;
        result
        // `inner` is released before `_blocked` re-takes the worker's slot
        // (locals drop in reverse order of declaration).
    }
}

impl Drop for Wait {
    /// Unregisters from the tasks still running, so long-lived tasks waited on
    /// many times do not collect dead registrations.
    fn drop(&mut self) {
        let me = Arc::downgrade(&self.shared);
        for task in &self.tasks {
            let mut inner = task.lock();
            if !inner.state.is_finished() {
                inner.waiters.retain(|(w, _)| !w.ptr_eq(&me));
            }
        }
    }
}
