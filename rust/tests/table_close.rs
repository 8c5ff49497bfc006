//! Closing a store (Remove-SyncTable) while other threads keep writing:
//! nothing written survives the close, every object written is released,
//! and no thread hangs or panics.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use syncpool::table::{KeyRef, ObjectRef, Releaser, Store, Value};

const WRITERS: usize = 4;

#[test]
fn writes_racing_a_close_leave_nothing_behind() {
    for round in 0..20 {
        let registered = Arc::new(AtomicU64::new(0));
        let released = Arc::new(AtomicU64::new(0));
        let releaser: Releaser = {
            let released = Arc::clone(&released);
            Arc::new(move |_| {
                released.fetch_add(1, Ordering::SeqCst);
            })
        };
        let store = Arc::new(Store::new(false));
        let start = Arc::new(Barrier::new(WRITERS + 1));
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (store, start, stop) = (Arc::clone(&store), Arc::clone(&start), Arc::clone(&stop));
                let (registered, releaser) = (Arc::clone(&registered), Arc::clone(&releaser));
                thread::spawn(move || {
                    start.wait();
                    let mut i = 0u64;
                    // Keep writing a while after the close, so writes land on both sides of it.
                    while !stop.load(Ordering::SeqCst) {
                        let key = format!("k{w}-{}", i % 64);
                        match i % 5 {
                            0 => {
                                registered.fetch_add(1, Ordering::SeqCst);
                                let object = Arc::new(ObjectRef::new(i, Arc::clone(&releaser)));
                                store.set(KeyRef::Text(&key), Value::Object(object));
                            }
                            1 => {
                                let _ = store.increment(KeyRef::Text(&key), Value::Int(1));
                            }
                            2 => {
                                let _ = store.get_or_add(KeyRef::Int(i as i64 % 64), Value::from("x"));
                            }
                            3 => {
                                // Refused (None) while the key holds an object.
                                let _ = store.set_unless_object(KeyRef::Text(&key), Value::Int(i as i64));
                            }
                            _ => {
                                store.set(KeyRef::Text(&key), Value::Int(i as i64));
                            }
                        }
                        i += 1;
                    }
                })
            })
            .collect();
        start.wait();
        thread::sleep(Duration::from_millis(1 + round % 5));
        store.close();
        thread::sleep(Duration::from_millis(5));
        stop.store(true, Ordering::SeqCst);
        for writer in writers {
            writer.join().expect("a writer panicked");
        }
        assert!(store.is_closed());
        assert_eq!(store.len(), 0, "round {round}: entries survived the close");
        assert_eq!(
            released.load(Ordering::SeqCst),
            registered.load(Ordering::SeqCst),
            "round {round}: every object written must be released"
        );
    }
}
