use syncpool::table::{Key, Store, Value};
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}
#[test]
fn million() {
    for case_sensitive in [false, true] {
        let before = rss();
        let store = Store::new(case_sensitive);
        for i in 0..1_000_000i64 {
            store.set(Key::Text(format!("k{i}")), Value::Int(i));
        }
        let after = rss();
        eprintln!("case_sensitive={case_sensitive}: {} entries, RSS growth {:.1} MB", store.len(), (after - before) as f64 / 1e6);
        drop(store);
    }
}
