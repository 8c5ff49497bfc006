//! Signals held off while a thread talks to the Redis server (Linux, glibc).
//!
//! Every connection has read and write timeouts, and on Linux a `recv` on a
//! socket with a receive timeout is never restarted after a signal handler
//! ran, even with `SA_RESTART` (signal(7)): it fails with EINTR. A pwsh
//! process handles signals (.NET catches SIGCHLD whenever a child process
//! ends: Start-Job, a native command; SIGWINCH, SIGCONT...), so a reply
//! being read when one landed on the reading thread was lost, reported as
//! "the server closed the connection instead of answering (Interrupted
//! system call)"; a test met it right after a Start-Job process ended.
//!
//! So a call blocks the asynchronous signals on its own thread while it
//! talks to the server ([`Held`]): the kernel gives signals meant for the
//! process to another thread meanwhile, and a signal meant for this thread
//! waits until the call is over (at most the reply timeout). The threads
//! the Redis store starts for itself block them for good
//! ([`block_for_this_thread`]); they never run .NET code. The signals a
//! fault raises (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS)
//! stay unblocked. A thread that calls in is in preemptive mode for .NET
//! (these calls are not made without a GC transition), so the runtime never
//! needs to signal it to suspend it for a collection.

/// The thread's signal mask as it was, put back when this is dropped.
pub struct Held {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    old: Option<libc::sigset_t>,
}

impl Held {
    /// Blocks the asynchronous signals on this thread until the value is dropped.
    #[must_use]
    pub fn new() -> Held {
        Held {
            #[cfg(all(target_os = "linux", target_env = "gnu"))]
            old: block(),
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        if let Some(old) = self.old.take() {
            // SAFETY: `old` is a mask `pthread_sigmask` filled in; setting
            // it back only changes this thread's mask.
            unsafe {
                libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            }
        }
    }
}

/// Blocks the asynchronous signals on this thread for good (a thread of the
/// Redis store's own, which never runs .NET code).
pub fn block_for_this_thread() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    let _ = block();
}

/// Blocks every signal but those a fault raises; returns the previous mask,
/// or `None` if the mask could not be changed (then nothing changed).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn block() -> Option<libc::sigset_t> {
    // SAFETY: the sets are plain values initialised by `sigemptyset` /
    // `sigfillset` before use; `pthread_sigmask` only changes this thread's
    // mask and writes the old one into `old`.
    unsafe {
        let mut held: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut held);
        for fault in [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP, libc::SIGABRT, libc::SIGSYS] {
            libc::sigdelset(&mut held, fault);
        }
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut old);
        (libc::pthread_sigmask(libc::SIG_BLOCK, &held, &mut old) == 0).then_some(old)
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    fn blocked(signal: i32) -> bool {
        // SAFETY: reads this thread's mask into a zeroed set.
        unsafe {
            let mut now: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut now);
            libc::sigismember(&now, signal) == 1
        }
    }

    #[test]
    fn holds_asynchronous_signals_only_while_held() {
        std::thread::spawn(|| {
            assert!(!blocked(libc::SIGCHLD));
            {
                let _held = Held::new();
                assert!(blocked(libc::SIGCHLD) && blocked(libc::SIGWINCH) && blocked(libc::SIGINT));
                assert!(!blocked(libc::SIGSEGV) && !blocked(libc::SIGBUS));
            }
            assert!(!blocked(libc::SIGCHLD), "the old mask is back");
            block_for_this_thread();
            assert!(blocked(libc::SIGCHLD));
        })
        .join()
        .unwrap();
    }
}
