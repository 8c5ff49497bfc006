//! A batch: the tasks one worker takes from a pool's queue in one go, and
//! how many that should be.
//!
//! Handing a worker several tiny tasks at once lets the host run them in one
//! pipeline, which is what makes small items cheap. Each task still starts,
//! ends and times out on its own: the host asks for them one at a time with
//! [`Batch::next`] and reports each with [`Batch::end`].
//!
//! The size adapts to what the pool's scripts cost (see [`batch_size`]): a
//! pool of long tasks never batches, so a few long items still spread over
//! every worker; a pool of microsecond tasks takes hundreds at a time, but
//! never more than a fraction of what is queued, so the tail is shared too.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::pool::Pool;
use super::task::{BatchId, GroupId, Task, WorkerId};

/// How much script time one batch should hold.
pub const BATCH_TARGET: Duration = Duration::from_millis(4);
/// The most tasks one batch holds.
pub const MAX_BATCH: usize = 512;

/// How many tasks to take from a queue of `queued` for one worker of a pool
/// with `throttle` workers, given the measured time of one task (`None`:
/// nothing measured yet, so one at a time until something is).
///
/// - as many as fit in [`BATCH_TARGET`], so batching never delays results
///   by more than a few milliseconds;
/// - at most a quarter of an even share of the queue (guided scheduling),
///   so every worker keeps getting work until the queue runs dry;
/// - between 1 and [`MAX_BATCH`].
pub fn batch_size(queued: usize, throttle: usize, item_time: Option<Duration>) -> usize {
    let Some(item) = item_time else { return 1 };
    let by_time = (BATCH_TARGET.as_nanos() / item.as_nanos().max(1)) as usize;
    let by_share = queued / (4 * throttle.max(1));
    by_time.min(by_share).clamp(1, MAX_BATCH)
}

/// One worker's run over some tasks of one pool and group.
pub struct Batch {
    pub id: BatchId,
    pub worker: WorkerId,
    pub pool: Arc<Pool>,
    pub group: GroupId,
    pub(crate) inner: Mutex<BatchInner>,
}

pub(crate) struct BatchInner {
    /// Claimed, not started yet, in queue order.
    pub pending: VecDeque<Arc<Task>>,
    /// The task whose script is running (started, not ended).
    pub current: Option<Arc<Task>>,
    /// The worker was given up on: start nothing more.
    pub abandoned: bool,
    /// The batch holds one of its pool's throttle slots.
    pub holds_slot: bool,
}

impl Batch {
    pub(crate) fn new(id: BatchId, worker: WorkerId, pool: Arc<Pool>, group: GroupId, tasks: VecDeque<Arc<Task>>) -> Batch {
        Batch {
            id,
            worker,
            pool,
            group,
            inner: Mutex::new(BatchInner { pending: tasks, current: None, abandoned: false, holds_slot: true }),
        }
    }

}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_at_a_time_until_measured_and_for_long_tasks() {
        assert_eq!(batch_size(10_000, 5, None), 1);
        assert_eq!(batch_size(10_000, 5, Some(Duration::from_millis(50))), 1);
        assert_eq!(batch_size(10_000, 5, Some(BATCH_TARGET)), 1);
    }

    #[test]
    fn tiny_tasks_batch_up_to_the_time_target_and_the_share() {
        // 10 µs tasks: 400 fit in 4 ms; the share of 10,000 over 5 workers is 500.
        assert_eq!(batch_size(10_000, 5, Some(Duration::from_micros(10))), 400);
        // Near the end of the queue the share caps it.
        assert_eq!(batch_size(100, 5, Some(Duration::from_micros(10))), 5);
        assert_eq!(batch_size(3, 5, Some(Duration::from_micros(10))), 1);
        // Never above the cap.
        assert_eq!(batch_size(1_000_000, 1, Some(Duration::from_nanos(10))), MAX_BATCH);
    }
}
