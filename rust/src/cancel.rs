//! Cancellation of blocking waits (Ctrl+C).
//!
//! A cmdlet blocked in a native wait must return as soon as PowerShell asks it
//! to stop, without the wait polling for that. A [`Cancel`] is the signal: the
//! cmdlet's `StopProcessing` (another thread) calls [`Cancel::cancel`], which
//! runs every waker registered by a wait in progress. A wait registers a waker
//! that takes the lock its condition variable sleeps under and notifies it, so
//! the waiter wakes at once, sees [`Cancel::is_cancelled`] and returns.
//!
//! No lost wake-up: a wait checks `is_cancelled` after registering its waker
//! and while holding its own lock; `cancel` sets the flag before running the
//! wakers, and a waker cannot notify before the waiter sleeps because it needs
//! the waiter's lock, which sleeping releases.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;

type Waker = Arc<dyn Fn() + Send + Sync>;

#[derive(Default)]
struct Inner {
    cancelled: AtomicBool,
    next: AtomicU64,
    wakers: Mutex<Vec<(u64, Waker)>>,
}

/// A cancellation signal, cheap to clone (all clones share the signal).
#[derive(Clone, Default)]
pub struct Cancel {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancel").field("cancelled", &self.is_cancelled()).finish()
    }
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Whether [`Cancel::cancel`] has been called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// Signals cancellation and wakes every wait registered on this signal.
    /// Idempotent. The wakers run on the calling thread, outside any lock of
    /// this signal, so a waker may register or drop registrations itself.
    pub fn cancel(&self) {
        if self.inner.cancelled.swap(true, Ordering::SeqCst) {
            return;
        }
        let wakers: Vec<Waker> = self.inner.wakers.lock().iter().map(|(_, w)| Arc::clone(w)).collect();
        for wake in wakers {
            wake();
        }
    }

    /// Registers `wake` to run when the signal is cancelled (at once, on this
    /// thread, if it already is). Dropping the returned registration removes it.
    pub fn on_cancel(&self, wake: impl Fn() + Send + Sync + 'static) -> Registration {
        let id = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let wake: Waker = Arc::new(wake);
        self.inner.wakers.lock().push((id, Arc::clone(&wake)));
        if self.is_cancelled() {
            wake();
        }
        Registration { inner: Arc::clone(&self.inner), id }
    }
}

/// Keeps a waker registered; unregisters it when dropped.
pub struct Registration {
    inner: Arc<Inner>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.inner.wakers.lock().retain(|(id, _)| *id != self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Condvar;
    use std::time::{Duration, Instant};

    #[test]
    fn cancel_wakes_a_condvar_wait_at_once() {
        let cancel = Cancel::new();
        let pair = Arc::new((Mutex::new(()), Condvar::new()));
        let waiter = {
            let (cancel, pair) = (cancel.clone(), Arc::clone(&pair));
            std::thread::spawn(move || {
                let wake_pair = Arc::clone(&pair);
                let _registered = cancel.on_cancel(move || {
                    let _held = wake_pair.0.lock();
                    wake_pair.1.notify_all();
                });
                let started = Instant::now();
                let mut guard = pair.0.lock();
                while !cancel.is_cancelled() {
                    pair.1.wait_for(&mut guard, Duration::from_secs(30));
                }
                started.elapsed()
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        cancel.cancel();
        let waited = waiter.join().unwrap();
        assert!(waited < Duration::from_secs(5), "the wait took {waited:?}");
    }

    #[test]
    fn registering_after_cancel_wakes_immediately_and_drop_unregisters() {
        let cancel = Cancel::new();
        let hits = Arc::new(AtomicU64::new(0));
        let first = {
            let hits = Arc::clone(&hits);
            cancel.on_cancel(move || {
                hits.fetch_add(1, Ordering::SeqCst);
            })
        };
        drop(first);
        cancel.cancel();
        cancel.cancel();
        assert_eq!(hits.load(Ordering::SeqCst), 0, "a dropped registration must not run");
        let hits2 = Arc::clone(&hits);
        let _late = cancel.on_cancel(move || {
            hits2.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert!(cancel.inner.wakers.lock().len() == 1);
    }
}
