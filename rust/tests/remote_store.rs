//! The Redis store against a real `redis-server` this test starts on a free
//! loopback port (no persistence, own temp dir). Fails, never skips, when
//! redis-server is not installed.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use syncpool::cancel::Cancel;
use syncpool::remote::address::Address;
use syncpool::remote::encoding::{Remote, decode, encode};
use syncpool::remote::{Delta, RemoteError, RemoteOptions, RemoteStore, Sum};
use syncpool::table::{KeyRef, Waited};

struct Server {
    child: Child,
    port: u16,
    _dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn server(password: Option<&str>) -> Server {
    server_on(free_port(), password)
}

fn server_on(port: u16, password: Option<&str>) -> Server {
    let dir = std::env::temp_dir().join(format!("syncpool-redis-test-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut command = Command::new("redis-server");
    command.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir"]).arg(&dir);
    if let Some(p) = password {
        command.args(["--requirepass", p]);
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server must be installed for these tests (apt-get install redis-server)");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "redis-server did not start on port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
    Server { child, port, _dir: dir }
}

fn open(port: u16, name: &str, password: Option<&str>) -> Result<RemoteStore, RemoteError> {
    let mut address = Address::parse(&format!("redis://127.0.0.1:{port}/0")).unwrap();
    address.password = password.map(|p| syncpool::remote::address::Secret::new(p.into()));
    RemoteStore::open(RemoteOptions { address, name: name.into(), case_sensitive: false, lock_expiry: Duration::from_millis(500) })
}

#[test]
fn values_keys_and_versions_round_trip() {
    let s = server(None);
    let t = open(s.port, "basics", None).unwrap();
    let v1 = t.put(KeyRef::Text("Name"), &encode(Remote::Text(b"x"))).unwrap();
    let (value, version) = t.read(KeyRef::Text("NAME")).unwrap().unwrap();
    assert_eq!(decode(&value).unwrap(), Remote::Text(b"x"));
    assert_eq!(version, v1);
    let v2 = t.put(KeyRef::Text("name"), &encode(Remote::Int(5))).unwrap();
    assert!(v2 > v1);
    assert_eq!(t.keys().unwrap(), vec![syncpool::table::Key::Text("Name".into())], "first spelling kept");
    assert_eq!(t.count().unwrap(), 1);
    assert!(!t.replace_if_version(KeyRef::Text("name"), Some(v1), &encode(Remote::Null)).unwrap());
    assert!(t.replace_if_version(KeyRef::Text("name"), Some(v2), &encode(Remote::Null)).unwrap());
    assert!(t.compare_exchange(KeyRef::Text("name"), &encode(Remote::Null), &encode(Remote::Double(1.5))).unwrap());
    assert_eq!(t.increment(KeyRef::Text("name"), Delta::Int(2)).unwrap(), Sum::Double(3.5));
    assert!(t.compare_exchange(KeyRef::Text("name"), &encode(Remote::Double(3.5)), &encode(Remote::Text(b"s"))).unwrap());
    assert!(matches!(t.increment(KeyRef::Text("name"), Delta::Int(1)), Err(RemoteError::NotNumeric(_))));
    t.put(KeyRef::Int(7), &encode(Remote::Int(i64::MAX))).unwrap();
    assert!(matches!(t.increment(KeyRef::Int(7), Delta::Int(1)), Err(RemoteError::Overflow(_))));
    assert!(t.delete(KeyRef::Int(7)).unwrap().is_some());
    assert!(!t.contains(KeyRef::Int(7)).unwrap());
    assert_eq!(t.snapshot().unwrap().len(), 1);
    t.clear().unwrap();
    assert_eq!(t.count().unwrap(), 0);
}

#[test]
fn compare_exchange_matches_doubles_as_the_in_process_table_does() {
    // NaN matches NaN, however it is spelled (Rust writes 'NaN', the
    // increment script 'nan' or '-nan'); 0.0 and -0.0 do not match; a number
    // spelled two ways ('3', '3.0') matches.
    let s = server(None);
    let t = open(s.port, "doubles", None).unwrap();
    let double = |x: f64| encode(Remote::Double(x));
    t.put(KeyRef::Text("n"), &double(f64::NAN)).unwrap();
    assert!(t.compare_exchange(KeyRef::Text("n"), &double(f64::NAN), &double(1.0)).unwrap(), "NaN written by Rust");
    t.put(KeyRef::Text("inc"), &double(f64::INFINITY)).unwrap();
    assert!(matches!(t.increment(KeyRef::Text("inc"), Delta::Double(f64::NEG_INFINITY)).unwrap(), Sum::Double(x) if x.is_nan()));
    assert!(t.compare_exchange(KeyRef::Text("inc"), &double(f64::NAN), &double(2.0)).unwrap(), "NaN written by the increment script");
    assert!(!t.compare_exchange(KeyRef::Text("inc"), &double(f64::NAN), &double(3.0)).unwrap(), "2 is not NaN");
    t.put(KeyRef::Text("z"), &double(0.0)).unwrap();
    assert!(!t.compare_exchange(KeyRef::Text("z"), &double(-0.0), &double(1.0)).unwrap(), "-0.0 is not 0.0");
    t.increment(KeyRef::Text("z"), Delta::Double(-0.0)).unwrap();
    assert!(!t.compare_exchange(KeyRef::Text("z"), &double(-0.0), &double(1.0)).unwrap(), "the script's '0' is not -0.0");
    assert!(t.compare_exchange(KeyRef::Text("z"), &double(0.0), &double(-0.0)).unwrap(), "the script's '0' is 0.0");
    assert!(t.compare_exchange(KeyRef::Text("z"), &double(-0.0), &double(2.0)).unwrap());
    t.increment(KeyRef::Text("z"), Delta::Double(1.0)).unwrap();
    assert!(t.compare_exchange(KeyRef::Text("z"), &double(3.0), &double(0.5)).unwrap(), "'3' from the script is 3.0");
    assert!(!t.compare_exchange(KeyRef::Text("z"), &double(f64::NAN), &double(0.0)).unwrap(), "0.5 is not NaN");
}

#[test]
fn every_write_that_adds_a_key_keeps_its_first_spelling() {
    // The scripts write a spelling only when they add the field; later writes
    // in another case, and a key removed and added again, must show the right one.
    let s = server(None);
    let t = open(s.port, "spellings", None).unwrap();
    t.put(KeyRef::Text("Put"), &encode(Remote::Int(1))).unwrap();
    t.put(KeyRef::Text("PUT"), &encode(Remote::Int(2))).unwrap();
    t.increment(KeyRef::Text("IncInt"), Delta::Int(0)).unwrap();
    t.increment(KeyRef::Text("incint"), Delta::Int(5)).unwrap();
    t.increment(KeyRef::Text("IncDouble"), Delta::Double(0.5)).unwrap();
    t.increment(KeyRef::Text("INCDOUBLE"), Delta::Double(0.5)).unwrap();
    t.get_or_add(KeyRef::Text("GetOrAdd"), &encode(Remote::Int(1))).unwrap();
    t.get_or_add(KeyRef::Text("getoradd"), &encode(Remote::Int(2))).unwrap();
    assert!(t.replace_if_version(KeyRef::Text("Update"), None, &encode(Remote::Int(1))).unwrap());
    let (_, version) = t.read(KeyRef::Text("UPDATE")).unwrap().unwrap();
    assert!(t.replace_if_version(KeyRef::Text("UPDATE"), Some(version), &encode(Remote::Int(2))).unwrap());
    assert!(t.compare_exchange(KeyRef::Text("PUT"), &encode(Remote::Int(2)), &encode(Remote::Int(3))).unwrap());
    t.put(KeyRef::Text("Again"), &encode(Remote::Int(1))).unwrap();
    t.delete(KeyRef::Text("again")).unwrap();
    t.increment(KeyRef::Text("aGAIN"), Delta::Int(1)).unwrap();
    let mut keys: Vec<String> = t
        .keys()
        .unwrap()
        .into_iter()
        .map(|k| match k {
            syncpool::table::Key::Text(text) => text.to_string(),
            other => panic!("unexpected key {other:?}"),
        })
        .collect();
    keys.sort();
    assert_eq!(keys, ["GetOrAdd", "IncDouble", "IncInt", "Put", "Update", "aGAIN"]);
}

#[test]
fn large_integer_sums_come_back_exact() {
    // Lua holds numbers as doubles: a sum beyond 2^53 (or printed with
    // tostring, beyond 14 digits) must still come back digit for digit, for a
    // new key and an existing one, up and down, and read back the same.
    let s = server(None);
    let t = open(s.port, "large", None).unwrap();
    let cases: &[(i64, i64)] = &[
        (0, 123_456_789_012_345),
        (123_456_789_012_345, 1),
        (0, 123_456_789_012_345_678),
        ((1 << 53) - 1, 2),
        (i64::MAX - 3, 2),
        (i64::MIN + 3, -2),
        (-(1 << 53), -1),
    ];
    for (n, &(start, delta)) in cases.iter().enumerate() {
        let key = KeyRef::Int(n as i64);
        if start != 0 {
            t.put(key, &encode(Remote::Int(start))).unwrap();
        }
        assert_eq!(t.increment(key, Delta::Int(delta)).unwrap(), Sum::Int(start + delta), "{start} + {delta}");
        let (value, _) = t.read(key).unwrap().unwrap();
        assert_eq!(decode(&value).unwrap(), Remote::Int(start + delta), "{start} + {delta} read back");
    }
}

#[test]
fn increments_from_many_threads_and_two_stores_are_exact() {
    let s = server(None);
    let a = Arc::new(open(s.port, "counter", None).unwrap());
    let b = Arc::new(open(s.port, "COUNTER", None).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let t = if i % 2 == 0 { Arc::clone(&a) } else { Arc::clone(&b) };
            std::thread::spawn(move || {
                for _ in 0..500 {
                    t.increment(KeyRef::Text("n"), Delta::Int(1)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(a.increment(KeyRef::Text("n"), Delta::Int(0)).unwrap(), Sum::Int(4000));
}

#[test]
fn get_or_add_has_one_winner() {
    let s = server(None);
    let winners: usize = (0..8)
        .map(|i| {
            let port = s.port;
            std::thread::spawn(move || open(port, "goa", None).unwrap().get_or_add(KeyRef::Text("k"), &encode(Remote::Int(i))).unwrap().2)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap() as usize)
        .sum();
    assert_eq!(winners, 1);
}

#[test]
fn a_wait_is_woken_by_a_write_from_another_store() {
    let s = server(None);
    let waiter = open(s.port, "wake", None).unwrap();
    let writer = open(s.port, "wake", None).unwrap();
    let handle = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        writer.put(KeyRef::Text("ready"), &encode(Remote::Bool(true))).unwrap();
    });
    let started = Instant::now();
    let waited = waiter.wait_for(KeyRef::Text("ready"), None, Duration::from_secs(10), None).unwrap();
    assert!(matches!(waited, Waited::Ready(_)));
    assert!(started.elapsed() < Duration::from_secs(2), "woken late: {:?}", started.elapsed());
    handle.join().unwrap();
    assert!(matches!(waiter.wait_for(KeyRef::Text("never"), None, Duration::from_millis(100), None).unwrap(), Waited::TimedOut));
    let cancel = Cancel::new();
    let c2 = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        c2.cancel();
    });
    assert!(matches!(waiter.wait_for(KeyRef::Text("never"), None, Duration::MAX, Some(&cancel)).unwrap(), Waited::Cancelled));
}

fn lock_key_name(table: &str, key: &str) -> Vec<u8> {
    let mut name = format!("syncpool:{{{table}}}:l:").into_bytes();
    name.extend_from_slice(&syncpool::remote::encoding::field(KeyRef::Text(key), false));
    name
}

#[test]
fn locks_exclude_are_renewed_while_held_expire_when_the_holder_is_gone_and_tell_a_holder_that_lost_one() {
    let s = server(None);
    let a = open(s.port, "locks", None).unwrap();
    let b = open(s.port, "locks", None).unwrap();
    assert!(matches!(a.lock_key(KeyRef::Text("k"), 1, Duration::from_secs(1), None).unwrap(), Waited::Ready(())));
    assert!(matches!(a.lock_key(KeyRef::Text("k"), 1, Duration::from_secs(1), None).unwrap(), Waited::Ready(())), "re-entrant");
    assert!(matches!(b.lock_key(KeyRef::Text("k"), 1, Duration::from_millis(50), None).unwrap(), Waited::TimedOut), "excluded");
    // The expiry is 500 ms; a is alive and keeps its lock for three times that.
    assert!(matches!(b.lock_key(KeyRef::Text("k"), 1, Duration::from_millis(1500), None).unwrap(), Waited::TimedOut), "renewed while held");
    a.unlock_key(KeyRef::Text("k"), 1).unwrap(); // the re-entered level
    a.unlock_key(KeyRef::Text("k"), 1).unwrap();
    assert!(matches!(b.lock_key(KeyRef::Text("k"), 1, Duration::from_millis(100), None).unwrap(), Waited::Ready(())));
    b.unlock_key(KeyRef::Text("k"), 1).unwrap();

    // A holder that is gone (a killed process: its token, no renewal): the lock expires.
    let mut admin = redis::Client::open(format!("redis://127.0.0.1:{}/0", s.port)).unwrap().get_connection().unwrap();
    let _: () = redis::cmd("SET").arg(lock_key_name("locks", "dead")).arg("a-killed-process").arg("PX").arg(500).query(&mut admin).unwrap();
    let started = Instant::now();
    assert!(matches!(b.lock_key(KeyRef::Text("dead"), 1, Duration::from_secs(5), None).unwrap(), Waited::Ready(())));
    assert!(started.elapsed() < Duration::from_secs(2));
    b.unlock_key(KeyRef::Text("dead"), 1).unwrap();

    // The server loses a held lock (restart, eviction, an admin): its holder is told.
    assert!(matches!(a.lock_key(KeyRef::Text("m"), 7, Duration::from_secs(1), None).unwrap(), Waited::Ready(())));
    let _: i64 = redis::cmd("DEL").arg(lock_key_name("locks", "m")).query(&mut admin).unwrap();
    assert!(matches!(b.lock_key(KeyRef::Text("m"), 1, Duration::from_secs(1), None).unwrap(), Waited::Ready(())), "another holder took it meanwhile");
    std::thread::sleep(Duration::from_millis(400)); // more than one renewal
    assert!(matches!(a.lock_key(KeyRef::Text("m"), 7, Duration::from_secs(1), None), Err(RemoteError::NotLockOwner(m)) if m.contains("lost")), "re-entering a lost lock");
    assert!(matches!(a.unlock_key(KeyRef::Text("m"), 7), Err(RemoteError::NotLockOwner(m)) if m.contains("lost")), "releasing a lost lock");
    assert!(matches!(a.unlock_key(KeyRef::Text("m"), 7), Err(RemoteError::NotLockOwner(m)) if m.contains("not locked")), "released once");
    b.unlock_key(KeyRef::Text("m"), 1).unwrap();

    // A re-entered lock the server loses: every level's release tells, the inner one first.
    assert!(matches!(a.lock_key(KeyRef::Text("n"), 7, Duration::from_secs(1), None).unwrap(), Waited::Ready(())));
    assert!(matches!(a.lock_key(KeyRef::Text("n"), 7, Duration::from_secs(1), None).unwrap(), Waited::Ready(())));
    let _: i64 = redis::cmd("DEL").arg(lock_key_name("locks", "n")).query(&mut admin).unwrap();
    std::thread::sleep(Duration::from_millis(400)); // more than one renewal
    assert!(matches!(a.unlock_key(KeyRef::Text("n"), 7), Err(RemoteError::NotLockOwner(m)) if m.contains("lost")), "the inner level of a lost lock");
    assert!(matches!(a.unlock_key(KeyRef::Text("n"), 7), Err(RemoteError::NotLockOwner(m)) if m.contains("lost")), "its outer level");
    assert!(matches!(a.unlock_key(KeyRef::Text("n"), 7), Err(RemoteError::NotLockOwner(m)) if m.contains("not locked")), "both released");
}

#[test]
fn faults_are_clear_and_never_show_the_password() {
    let s = server(Some("hunter2-secret"));
    let wrong = open(s.port, "auth", Some("wrong-pass")).err().unwrap();
    assert!(matches!(wrong, RemoteError::AuthenticationFailed(_)), "{wrong:?}");
    assert!(!wrong.message().contains("wrong-pass"));
    let none = open(s.port, "auth", None).err().unwrap();
    assert!(matches!(none, RemoteError::AuthenticationFailed(_)), "{none:?}");
    let ok = open(s.port, "auth", Some("hunter2-secret")).unwrap();
    ok.put(KeyRef::Text("a"), &encode(Remote::Int(1))).unwrap();
    let port = free_port();
    let started = Instant::now();
    let unreachable = open(port, "x", Some("hunter2-secret")).err().unwrap();
    assert!(matches!(unreachable, RemoteError::Unreachable(ref m) if m.contains(&format!("127.0.0.1:{port}"))), "{unreachable:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!unreachable.message().contains("hunter2"));
}

#[test]
fn a_released_lock_wakes_the_next_waiter_at_once_and_other_keys_do_not_disturb_a_wait() {
    let s = server(None);
    let holder = Arc::new(open(s.port, "release", None).unwrap());
    let waiter = open(s.port, "release", None).unwrap();
    assert!(matches!(holder.lock_key(KeyRef::Text("k"), 1, Duration::from_secs(1), None).unwrap(), Waited::Ready(())));
    let h = Arc::clone(&holder);
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        // Writes to other keys meanwhile: the waiter is not on their channels.
        for i in 0..50 {
            h.put(KeyRef::Text("noise"), &encode(Remote::Int(i))).unwrap();
        }
        h.unlock_key(KeyRef::Text("k"), 1).unwrap();
    });
    let started = Instant::now();
    assert!(matches!(waiter.lock_key(KeyRef::Text("k"), 2, Duration::from_secs(5), None).unwrap(), Waited::Ready(())));
    let waited = started.elapsed();
    assert!(waited < Duration::from_millis(400), "woken by the release, not the 500 ms expiry: {waited:?}");
    releaser.join().unwrap();
    waiter.unlock_key(KeyRef::Text("k"), 2).unwrap();
    // A wait on one key ignores writes to another and still times out.
    let writer = Arc::clone(&holder);
    let noise = std::thread::spawn(move || {
        for i in 0..100 {
            writer.put(KeyRef::Text("other"), &encode(Remote::Int(i))).unwrap();
        }
    });
    assert!(matches!(waiter.wait_for(KeyRef::Text("absent"), None, Duration::from_millis(300), None).unwrap(), Waited::TimedOut));
    noise.join().unwrap();
    holder.clear().unwrap();
}

#[test]
fn after_a_server_restart_a_call_on_a_dead_connection_says_its_outcome_is_unknown_and_later_calls_reconnect() {
    let first = server(None);
    let port = first.port;
    let t = open(port, "restart", None).unwrap();
    assert_eq!(t.increment(KeyRef::Text("n"), Delta::Int(1)).unwrap(), Sum::Int(1));
    let used = Instant::now();
    drop(first);
    let _second = server_on(port, None);
    // Straight after the restart: the pooled connection is dead, the call was sent on it.
    let outcome = t.increment(KeyRef::Text("n"), Delta::Int(1));
    if used.elapsed() < Duration::from_millis(900) {
        match outcome {
            Err(RemoteError::OutcomeUnknown(m)) => assert!(m.contains("outcome is unknown"), "{m}"),
            other => panic!("expected OutcomeUnknown, got {other:?}"),
        }
    } else {
        // The restart took so long that the idle check (after 1 s) ran first: nothing was lost.
        assert_eq!(outcome.unwrap(), Sum::Int(1));
        t.put(KeyRef::Text("n"), &encode(Remote::Int(0))).unwrap();
    }
    assert_eq!(t.increment(KeyRef::Text("n"), Delta::Int(1)).unwrap(), Sum::Int(1), "reconnected (the new server starts empty)");
    // Reads on a dead connection are retried on a fresh one, and a change
    // after an idle spell checks its connection first: neither fails.
    let third_port = port;
    drop(_second);
    let _third = server_on(third_port, None);
    assert_eq!(t.count().unwrap(), 0);
    drop(_third);
    let _fourth = server_on(third_port, None);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(t.increment(KeyRef::Text("n"), Delta::Int(5)).unwrap(), Sum::Int(5));
}

#[test]
fn waits_on_one_key_hear_every_write_while_waits_on_other_keys_churn_the_subscriptions() {
    // One wait on 'a' after another, so the channel of 'a' is left and joined
    // again between waits, while waits on fresh keys keep the listener
    // re-syncing its subscriptions: no wait may sleep through the writes.
    let s = server(None);
    let waiter = Arc::new(open(s.port, "churn", None).unwrap());
    let writer = open(s.port, "churn", None).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn: Vec<_> = (0..4)
        .map(|t| {
            let (waiter, stop) = (Arc::clone(&waiter), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    i += 1;
                    let key = format!("fresh{t}-{i}");
                    waiter.wait_for(KeyRef::Text(&key), None, Duration::from_millis(1), None).unwrap();
                }
            })
        })
        .collect();
    let writes = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut n = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                writer.put(KeyRef::Text("a"), &encode(Remote::Int(n))).unwrap();
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let started = Instant::now();
    let (mut seen, mut waits, mut missed) = (0u64, 0u32, 0u32);
    while started.elapsed() < Duration::from_secs(4) {
        match waiter.wait_for(KeyRef::Text("a"), Some(seen), Duration::from_millis(500), None).unwrap() {
            Waited::Ready((_, version)) => seen = version,
            Waited::TimedOut => missed += 1,
            other => panic!("unexpected {other:?}"),
        }
        waits += 1;
        // A pause of 0 to 200 µs, so the listener leaves 'a' now and then
        // just as the next wait on it starts.
        std::thread::sleep(Duration::from_micros(u64::from(waits % 5) * 50));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    churn.into_iter().for_each(|c| c.join().unwrap());
    writes.join().unwrap();
    assert_eq!(missed, 0, "{missed} of {waits} waits slept through writes made every millisecond");
    assert!(waits > 100, "only {waits} waits");
}

fn pubsub_clients(port: u16) -> usize {
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/0")).unwrap().get_connection().unwrap();
    let list: String = redis::cmd("CLIENT").arg("LIST").arg("TYPE").arg("pubsub").query(&mut c).unwrap();
    list.lines().filter(|l| !l.trim().is_empty()).count()
}

#[test]
fn a_close_releases_held_locks_and_ends_the_listener_even_without_an_idle_connection() {
    let s = server(None);
    let long = |name: &str| {
        let address = Address::parse(&format!("redis://127.0.0.1:{}/0", s.port)).unwrap();
        RemoteStore::open(RemoteOptions { address, name: name.into(), case_sensitive: false, lock_expiry: Duration::from_secs(60) }).unwrap()
    };
    let holder = long("close");
    let other = long("close");
    assert!(matches!(holder.lock_key(KeyRef::Text("k"), 1, Duration::from_secs(1), None).unwrap(), Waited::Ready(())));
    holder.close();
    let started = Instant::now();
    assert!(matches!(other.lock_key(KeyRef::Text("k"), 2, Duration::from_secs(5), None).unwrap(), Waited::Ready(())), "the lock was released by the close");
    assert!(started.elapsed() < Duration::from_secs(5));
    other.unlock_key(KeyRef::Text("k"), 2).unwrap();

    // A table whose idle connections are gone when it closes: its listener
    // cannot be woken by a message, and must still end (and disconnect).
    let waiter = long("close2");
    assert!(matches!(waiter.wait_for(KeyRef::Text("never"), None, Duration::from_millis(100), None).unwrap(), Waited::TimedOut));
    let before = pubsub_clients(s.port);
    assert!(before >= 1, "the listener of 'waiter' is subscribed ({before})");
    let mut admin = redis::Client::open(format!("redis://127.0.0.1:{}/0", s.port)).unwrap().get_connection().unwrap();
    let _: i64 = redis::cmd("CLIENT").arg("KILL").arg("TYPE").arg("normal").arg("SKIPME").arg("yes").query(&mut admin).unwrap();
    waiter.close();
    let closed = Instant::now();
    while pubsub_clients(s.port) >= before {
        assert!(closed.elapsed() < syncpool::remote::changes::LISTENER_CHECK * 2, "the closed table's listener is still subscribed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn versions_keep_growing_when_another_process_deletes_the_data() {
    // B stays attached while A deletes the table's data (clock included): a
    // version B read before must never be issued again, or B's Update would
    // overwrite a later write.
    let s = server(None);
    let a = open(s.port, "deleted", None).unwrap();
    let b = open(s.port, "deleted", None).unwrap();
    let mut before = 0;
    for i in 0..5 {
        before = b.put(KeyRef::Text("x"), &encode(Remote::Int(i))).unwrap();
    }
    a.delete_data().unwrap();
    assert_eq!(b.count().unwrap(), 0);
    let after = b.put(KeyRef::Text("x"), &encode(Remote::Int(9))).unwrap();
    assert!(after > before, "version {after} after the deletion, {before} before");
    assert!(!b.replace_if_version(KeyRef::Text("x"), Some(before), &encode(Remote::Int(10))).unwrap(), "a version from before cannot match");
    b.clear().unwrap();
    let cleared = b.put(KeyRef::Text("y"), &encode(Remote::Int(1))).unwrap();
    assert!(cleared > after);
    // A batch (Import-SyncTable) as the first write after a deletion: its
    // clock step starts the clock again, with the same jump.
    a.delete_data().unwrap();
    let entries: Vec<(KeyRef<'_>, Vec<u8>)> = ["p", "q", "r"].iter().map(|k| (KeyRef::Text(k), encode(Remote::Int(1)))).collect();
    b.put_many(&entries).unwrap();
    let batch: Vec<u64> = b.snapshot().unwrap().iter().map(|e| e.version).collect();
    assert_eq!(batch.len(), 3);
    assert!(batch.iter().all(|v| *v > cleared), "batch versions {batch:?} after the deletion, {cleared} before");
    assert!(b.put(KeyRef::Text("p"), &encode(Remote::Int(2))).unwrap() > *batch.iter().max().unwrap());
}

/// A loopback TCP proxy to a server that, once told to, swallows new
/// connections (accepted, never answered): a server too slow to subscribe.
struct Proxy {
    port: u16,
    swallow: Arc<std::sync::atomic::AtomicBool>,
}

fn proxy_to(target: u16) -> Proxy {
    use std::io::copy;
    use std::net::TcpStream;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let swallow = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = Arc::clone(&swallow);
    std::thread::spawn(move || {
        let mut swallowed = Vec::new();
        for client in listener.incoming().flatten() {
            if flag.load(std::sync::atomic::Ordering::SeqCst) {
                swallowed.push(client);
                continue;
            }
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else { continue };
            let (mut c1, mut s1) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut c2, mut s2) = (client, server);
            std::thread::spawn(move || {
                let _ = copy(&mut c1, &mut s1);
            });
            std::thread::spawn(move || {
                let _ = copy(&mut s2, &mut c2);
            });
        }
    });
    Proxy { port, swallow }
}

#[test]
fn a_wait_keeps_its_own_timeout_while_the_server_is_slow_to_subscribe() {
    let s = server(None);
    let proxy = proxy_to(s.port);
    let t = open(proxy.port, "slow", None).unwrap(); // its connection stays pooled and keeps working
    t.put(KeyRef::Text("there"), &encode(Remote::Int(1))).unwrap();
    proxy.swallow.store(true, std::sync::atomic::Ordering::SeqCst); // the listener's connection will hang
    let started = Instant::now();
    assert!(matches!(t.wait_for(KeyRef::Text("there"), None, Duration::from_secs(10), None).unwrap(), Waited::Ready(_)), "an existing key needs no subscription");
    assert!(started.elapsed() < Duration::from_secs(1));
    let started = Instant::now();
    let waited = t.wait_for(KeyRef::Text("absent"), None, Duration::from_millis(300), None).unwrap();
    let took = started.elapsed();
    assert!(matches!(waited, Waited::TimedOut), "{waited:?}");
    assert!(took < Duration::from_secs(2), "the 300 ms timeout took {took:?}");
}

#[test]
fn a_cancel_that_came_first_wins_over_a_free_lock_and_an_existing_key_as_in_process() {
    let s = server(None);
    let t = open(s.port, "cancelled", None).unwrap();
    let local = syncpool::table::Store::new(false);
    let cancel = Cancel::new();
    cancel.cancel();
    assert!(matches!(local.lock_key(KeyRef::Text("k"), 1, Duration::from_secs(1), Some(&cancel)), Waited::Cancelled));
    assert!(matches!(t.lock_key(KeyRef::Text("k"), 1, Duration::from_secs(1), Some(&cancel)).unwrap(), Waited::Cancelled));
    t.put(KeyRef::Text("x"), &encode(Remote::Int(1))).unwrap();
    assert!(matches!(t.wait_for(KeyRef::Text("x"), None, Duration::from_secs(1), Some(&cancel)).unwrap(), Waited::Cancelled));
    // Nothing was taken: another caller gets the lock at once.
    assert!(matches!(t.lock_key(KeyRef::Text("k"), 2, Duration::from_millis(100), None).unwrap(), Waited::Ready(())));
}

#[test]
fn a_lost_lock_taken_by_another_thread_of_the_same_process_still_tells_its_first_holder() {
    let s = server(None);
    let t = open(s.port, "retaken", None).unwrap();
    let mut admin = redis::Client::open(format!("redis://127.0.0.1:{}/0", s.port)).unwrap().get_connection().unwrap();
    assert!(matches!(t.lock_key(KeyRef::Text("m"), 1, Duration::from_secs(1), None).unwrap(), Waited::Ready(())));
    let _: i64 = redis::cmd("DEL").arg(lock_key_name("retaken", "m")).query(&mut admin).unwrap(); // the server loses it
    assert!(matches!(t.lock_key(KeyRef::Text("m"), 2, Duration::from_secs(1), None).unwrap(), Waited::Ready(())), "owner 2 takes it");
    std::thread::sleep(Duration::from_millis(400)); // more than one renewal
    let started = Instant::now();
    assert!(matches!(t.lock_key(KeyRef::Text("m"), 1, Duration::from_secs(5), None), Err(RemoteError::NotLockOwner(m)) if m.contains("lost")), "owner 1 re-entering is told at once");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(matches!(t.unlock_key(KeyRef::Text("m"), 1), Err(RemoteError::NotLockOwner(m)) if m.contains("lost")), "owner 1 releasing is told");
    t.unlock_key(KeyRef::Text("m"), 2).unwrap();
}

#[test]
fn short_locks_cost_no_renewals_and_a_release_after_close_is_quiet() {
    let s = server(None);
    let address = Address::parse(&format!("redis://127.0.0.1:{}/0", s.port)).unwrap();
    let t = RemoteStore::open(RemoteOptions { address, name: "short".into(), case_sensitive: false, lock_expiry: Duration::from_secs(30) }).unwrap();
    let mut admin = redis::Client::open(format!("redis://127.0.0.1:{}/0", s.port)).unwrap().get_connection().unwrap();
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut admin).unwrap();
    for _ in 0..200 {
        t.lock_key(KeyRef::Text("k"), 1, Duration::from_secs(1), None).unwrap();
        t.unlock_key(KeyRef::Text("k"), 1).unwrap();
    }
    let info: String = redis::cmd("INFO").arg("commandstats").query(&mut admin).unwrap();
    // PEXPIRE runs only in renewals here (no lock was contended): none was due within 10 s.
    let renewals = info.lines().find(|l| l.starts_with("cmdstat_pexpire:")).map(str::to_string);
    assert_eq!(renewals, None, "200 short locks with a 30 s expiry renewed: {renewals:?}");
    t.lock_key(KeyRef::Text("k"), 1, Duration::from_secs(1), None).unwrap();
    t.close();
    t.unlock_key(KeyRef::Text("k"), 1).unwrap(); // the close released it, as removing an in-process table does
}

#[test]
fn a_batch_of_puts_acts_like_a_loop_of_puts_and_wakes_waiters() {
    let s = server(None);
    let t = open(s.port, "batch", None).unwrap();
    let before = t.put(KeyRef::Text("Kept"), &encode(Remote::Int(0))).unwrap();
    let waiter = open(s.port, "batch", None).unwrap();
    let waiting = std::thread::spawn(move || waiter.wait_for(KeyRef::Text("k1999"), None, Duration::from_secs(10), None).map(|w| matches!(w, Waited::Ready(_))));
    std::thread::sleep(Duration::from_millis(200)); // the wait is subscribed

    // 2,500 entries: three batches; a field named twice, once in another case;
    // an existing key in another spelling; an integer key.
    let names: Vec<String> = (0..2497).map(|i| format!("k{i}")).collect();
    let values: Vec<Vec<u8>> = (0..2497).map(|i| encode(Remote::Int(i))).collect();
    let mut entries: Vec<(KeyRef<'_>, Vec<u8>)> = names.iter().map(|n| KeyRef::Text(n.as_str())).zip(values.iter().cloned()).collect();
    entries.push((KeyRef::Text("Twice"), encode(Remote::Text(b"first"))));
    entries.push((KeyRef::Text("TWICE"), encode(Remote::Text(b"second"))));
    entries.push((KeyRef::Text("KEPT"), encode(Remote::Int(1))));
    entries.push((KeyRef::Int(7), encode(Remote::Int(70))));
    entries.push((KeyRef::Text("k5"), encode(Remote::Int(-5))));
    t.put_many(&entries).unwrap();

    assert!(waiting.join().unwrap().unwrap(), "the waiter was woken by a batch");
    assert_eq!(t.count().unwrap(), 2497 + 3);
    let snapshot = t.snapshot().unwrap();
    let entry = |key: syncpool::table::Key| snapshot.iter().find(|e| e.key == key).unwrap_or_else(|| panic!("{key:?} missing"));
    assert_eq!(decode(&entry("k42".into()).value).unwrap(), Remote::Int(42));
    assert_eq!(decode(&entry("k5".into()).value).unwrap(), Remote::Int(-5), "the later write of a key wins");
    assert_eq!(decode(&entry("Twice".into()).value).unwrap(), Remote::Text(b"second"), "the last value, the first spelling");
    let kept = entry("Kept".into());
    assert_eq!(decode(&kept.value).unwrap(), Remote::Int(1), "an existing key keeps its spelling");
    assert!(kept.version > before, "versions grow");
    assert_eq!(decode(&entry(7i64.into()).value).unwrap(), Remote::Int(70));
    let mut versions: Vec<u64> = snapshot.iter().filter(|e| e.key != "Kept".into()).map(|e| e.version).collect();
    versions.sort_unstable();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "distinct versions");
    let later = t.put(KeyRef::Text("k0"), &encode(Remote::Int(0))).unwrap();
    assert!(snapshot.iter().all(|e| e.version < later), "a later write gets a later version than every batch entry");
    t.put_many(&[]).unwrap();
}
