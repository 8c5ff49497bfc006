//! A pool: one queue of tasks with its own throttle.
//!
//! A pool owns no threads and no runspaces. The engine's worker threads serve
//! every pool; a pool only limits how many of them work on its queue at once
//! (its throttle) and says which kind of runspace its tasks need (its context
//! key), so runspaces are reused across pools and calls. A pool is either
//! named and reusable (New-ParallelPool) or made for one Start-ParallelTask
//! call: such a pool is sealed when the call ends and leaves the engine once
//! it is sealed and none of its tasks is listed any more.
//!
//! Everything under [`PoolInner`] is guarded by the pool's own mutex. Lock
//! order: a pool's lock before a task's; the scheduler's lock is never held
//! together with a pool's.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::task::{GroupId, HostObject, PoolId, Task, TaskId};
use super::task_state::TaskState;

/// How a pool is set up.
#[derive(Clone, Debug, Default)]
pub struct PoolOptions {
    /// Unique among the engine's pools (compared case-insensitively).
    pub name: Option<String>,
    /// How many of the pool's tasks run at once (0: the engine's default).
    pub throttle: usize,
    /// Which kind of runspace (context) the pool's tasks run in.
    pub context_key: u64,
    /// The timeout of tasks submitted without one.
    pub default_timeout: Option<Duration>,
    /// Made for one call: sealed when the call ends, gone once drained and emptied.
    pub per_call: bool,
    /// Who made it (for PowerShell: the runspace), so its pools can be removed with it.
    pub owner: u64,
}

/// How many tasks of a pool are in each state, and how many workers serve it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolCounts {
    pub queued: usize,
    pub running: usize,
    pub completed: usize,
    pub failed: usize,
    pub stopped: usize,
    pub timed_out: usize,
    /// Workers on the pool's queue right now (at most the throttle, except while some are blocked in nested waits).
    pub workers: usize,
    /// Workers given up on because a script ignored a stop.
    pub abandoned_workers: usize,
}

impl PoolCounts {
    pub fn finished(&self) -> usize {
        self.completed + self.failed + self.stopped + self.timed_out
    }
}

pub struct Pool {
    pub id: PoolId,
    pub options: PoolOptions,
    pub created_at: SystemTime,
    host: Mutex<Option<HostObject>>,
    /// Exponential moving average of how long one task's script runs, in
    /// nanoseconds (as f64 bits; 0 = nothing measured yet): what batch sizes
    /// are chosen from.
    item_nanos: AtomicU64,
    pub(crate) inner: Mutex<PoolInner>,
    /// Wakes workers lingering for more of their call's tasks (see
    /// [`PoolInner::open_group`]): a submit, the call's end, a seal or a removal.
    pub(crate) more: Condvar,
}

pub(crate) struct PoolInner {
    /// Tasks not yet claimed by a worker (some may have been stopped meanwhile; they are skipped).
    pub queue: VecDeque<Arc<Task>>,
    /// Every task the engine lists for this pool, oldest first.
    pub tasks: BTreeMap<TaskId, Arc<Task>>,
    /// Workers serving this pool right now (slots taken against the throttle).
    pub active: usize,
    /// Waiting in the scheduler's list of pools with work.
    pub scheduled: bool,
    pub sealed: bool,
    pub removed: bool,
    pub abandoned_workers: usize,
    /// The group (one Start-ParallelTask call) still submitting tasks, if
    /// any: a worker that runs out of its tasks lingers briefly for more
    /// rather than ending its batch, as long as the call has not ended.
    pub open_group: Option<GroupId>,
    /// Workers lingering now.
    pub lingering: usize,
}

impl Pool {
    pub(crate) fn new(id: PoolId, options: PoolOptions, host: Option<HostObject>) -> Pool {
        Pool {
            id,
            options,
            created_at: SystemTime::now(),
            host: Mutex::new(host),
            item_nanos: AtomicU64::new(0),
            inner: Mutex::new(PoolInner {
                queue: VecDeque::new(),
                tasks: BTreeMap::new(),
                active: 0,
                scheduled: false,
                sealed: false,
                removed: false,
                abandoned_workers: 0,
                open_group: None,
                lingering: 0,
            }),
            more: Condvar::new(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, PoolInner> {
        self.inner.lock()
    }

    pub fn name(&self) -> Option<&str> {
        self.options.name.as_deref()
    }

    pub fn throttle(&self) -> usize {
        self.options.throttle
    }

    pub fn is_sealed(&self) -> bool {
        self.inner.lock().sealed
    }

    /// Removed (Remove-ParallelPool), or a per-call pool that is done.
    pub fn is_removed(&self) -> bool {
        self.inner.lock().removed
    }

    /// The host's object for this pool, while the engine lists it.
    pub fn host_object(&self) -> Option<HostObject> {
        self.host.lock().clone()
    }

    pub(crate) fn release_host_object(&self) -> Option<HostObject> {
        self.host.lock().take()
    }

    /// The tasks the engine lists for this pool, oldest first.
    pub fn tasks(&self) -> Vec<Arc<Task>> {
        self.inner.lock().tasks.values().cloned().collect()
    }

    pub fn task(&self, id: TaskId) -> Option<Arc<Task>> {
        self.inner.lock().tasks.get(&id).cloned()
    }

    pub fn counts(&self) -> PoolCounts {
        let (tasks, workers, abandoned_workers) = {
            let inner = self.inner.lock();
            (inner.tasks.values().cloned().collect::<Vec<_>>(), inner.active, inner.abandoned_workers)
        };
        let mut counts = PoolCounts { workers, abandoned_workers, ..PoolCounts::default() };
        for task in tasks {
            match task.state() {
                TaskState::Queued => counts.queued += 1,
                TaskState::Running => counts.running += 1,
                TaskState::Completed => counts.completed += 1,
                TaskState::Failed => counts.failed += 1,
                TaskState::Stopped => counts.stopped += 1,
                TaskState::TimedOut => counts.timed_out += 1,
            }
        }
        counts
    }

    /// The measured time one script takes, if any task has finished yet.
    pub(crate) fn item_time(&self) -> Option<Duration> {
        let nanos = f64::from_bits(self.item_nanos.load(Ordering::Relaxed));
        (nanos > 0.0).then(|| Duration::from_nanos(nanos as u64))
    }

    /// Folds one script's run time into the average (weight 1/4: quick to
    /// follow a change from long to short items, steady enough not to jump).
    pub(crate) fn record_item_time(&self, elapsed: Duration) {
        let sample = (elapsed.as_nanos() as f64).max(1.0);
        let _ = self.item_nanos.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            let old = f64::from_bits(bits);
            let new = if old == 0.0 { sample } else { old + (sample - old) / 4.0 };
            Some(new.to_bits())
        });
    }
}

impl Pool {
    /// Wakes the lingering workers, if any (call with the pool's lock held).
    pub(crate) fn wake_lingering(&self, inner: &PoolInner) {
        if inner.lingering > 0 {
            self.more.notify_all();
        }
    }

    /// Wakes as many lingering workers as there are new tasks: one per task,
    /// not all of them for each (which would wake every worker per submit).
    pub(crate) fn wake_for_tasks(&self, inner: &PoolInner, tasks: usize) {
        if inner.lingering == 0 {
            return;
        }
        if tasks >= inner.lingering {
            self.more.notify_all();
        } else {
            for _ in 0..tasks {
                self.more.notify_one();
            }
        }
    }
}

impl PoolInner {
    /// True if a worker could take work from this pool now.
    pub(crate) fn wants_worker(&self, throttle: usize) -> bool {
        !self.removed && self.active < throttle && !self.queue.is_empty()
    }

    /// True once a sealed per-call pool has nothing left to list.
    pub(crate) fn is_done(&self, per_call: bool) -> bool {
        per_call && self.sealed && self.tasks.is_empty()
    }
}
