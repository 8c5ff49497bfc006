//! Model test: random operation sequences against a plain `HashMap` that
//! implements the documented semantics, compared after every step.
//!
//! Versions are not predicted as numbers (which counter a key draws from is
//! the store's business); the model checks the documented rules instead:
//! every successful write gives the key a version higher than any it had
//! before, also across removal, no version is handed out twice, and failed
//! operations change no version.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use syncpool::data::{Data, IntKind, document};
use syncpool::table::{Key, KeyRef, Store, Swap, TableError, Value, Versioned};

/// .NET `OrdinalIgnoreCase` for the characters this model uses, written
/// independently of the crate's version (.NET leaves 'ı' and 'ſ' unmapped).
fn fold(text: &str) -> String {
    text.chars()
        .map(|c| {
            if matches!(c, 'ı' | 'ſ') {
                return c;
            }
            let upper: Vec<char> = c.to_uppercase().collect();
            if upper.len() == 1 { upper[0] } else { c }
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum ModelKey {
    Text(String),
    Int(i64),
}

#[derive(Clone, Debug)]
struct Entry {
    key: Key,
    value: Value,
    version: u64,
}

struct Model {
    case_sensitive: bool,
    entries: HashMap<ModelKey, Entry>,
    /// The last version each key had, kept when the key is removed.
    last_version: HashMap<ModelKey, u64>,
    /// Every version the store has handed out.
    handed_out: HashSet<u64>,
}

impl Model {
    fn new(case_sensitive: bool) -> Self {
        Model {
            case_sensitive,
            entries: HashMap::new(),
            last_version: HashMap::new(),
            handed_out: HashSet::new(),
        }
    }

    fn id(&self, key: &Key) -> ModelKey {
        match key {
            Key::Int(n) => ModelKey::Int(*n),
            Key::Text(t) if self.case_sensitive => ModelKey::Text(t.clone()),
            Key::Text(t) => ModelKey::Text(fold(t)),
        }
    }

    fn get(&self, key: &Key) -> Option<Versioned> {
        self.entries.get(&self.id(key)).map(|e| Versioned {
            key: e.key.clone(),
            value: e.value.clone(),
            version: e.version,
        })
    }

    /// Writes `value` with the `version` the store stamped it with, keeping
    /// an existing entry's spelling; fails if that version breaks the rules.
    fn write(&mut self, key: Key, value: Value, version: u64) -> Result<(), TestCaseError> {
        let id = self.id(&key);
        if let Some(&last) = self.last_version.get(&id) {
            prop_assert!(
                version > last,
                "{:?}: version {} after {}; versions must only grow, also across removal",
                key,
                version,
                last
            );
        }
        prop_assert!(
            self.handed_out.insert(version),
            "version {} handed out twice",
            version
        );
        self.last_version.insert(id.clone(), version);
        let entry = self.entries.entry(id).or_insert(Entry {
            key,
            value: Value::Null,
            version,
        });
        entry.value = value;
        entry.version = version;
        Ok(())
    }

    /// The sum an increment should produce, or its error; changes nothing.
    fn increment(&self, key: &Key, delta: Value) -> Result<Value, TableError> {
        let found = |v: &Value| v.type_name();
        let sum = match (
            self.get(key).map(|e| e.value).unwrap_or(Value::Int(0)),
            &delta,
        ) {
            (_, d) if !matches!(d, Value::Int(_) | Value::Double(_)) => {
                return Err(TableError::DeltaNotNumeric(found(d)));
            }
            (Value::Int(a), Value::Int(b)) => match a.checked_add(*b) {
                Some(n) => Value::Int(n),
                None => {
                    return Err(TableError::Overflow {
                        key: self.display(key),
                    });
                }
            },
            (Value::Int(a), Value::Double(b)) => Value::Double(a as f64 + b),
            (Value::Double(a), Value::Int(b)) => Value::Double(a + *b as f64),
            (Value::Double(a), Value::Double(b)) => Value::Double(a + b),
            (other, _) => {
                return Err(TableError::NotNumeric {
                    key: self.display(key),
                    found: found(&other),
                });
            }
        };
        Ok(sum)
    }

    /// Display form of the key as stored (the store reports the stored
    /// spelling), or as given when absent.
    fn display(&self, key: &Key) -> String {
        self.get(key)
            .map(|e| e.key)
            .unwrap_or_else(|| key.clone())
            .to_string()
    }
}

#[derive(Clone, Debug)]
enum Pick {
    /// The key's current version, or "absent" if it has none.
    Current,
    Absent,
    /// A version that is (almost certainly) stale.
    Fixed(u64),
}

#[derive(Clone, Debug)]
enum Op {
    Set(Key, Value),
    Get(Key),
    Contains(Key),
    Remove(Key),
    Increment(Key, Value),
    CompareExchange(Key, Value, Value),
    /// Compare against whatever the key holds now (a hit when present).
    CompareExchangeCurrent(Key, Value),
    GetOrAdd(Key, Value),
    ReplaceIfVersion(Key, Pick, Value),
    RemoveIfVersion(Key, Pick),
    Clear,
    Len,
}

fn key_strategy() -> impl Strategy<Value = Key> {
    const TEXTS: &[&str] = &[
        "a", "A", "b", "B", "ß", "SS", "ss", "ä", "Ä", "ı", "I", "i", "1", "Größe", "GRÖßE", "",
    ];
    prop_oneof![
        4 => proptest::sample::select(TEXTS).prop_map(Key::from),
        1 => proptest::sample::select(&[0i64, 1, -1][..]).prop_map(Key::Int),
    ]
}

fn value_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        4 => prop_oneof![
            (-3i64..=3),
            Just(i64::MAX),
            Just(i64::MIN),
            Just(i64::MAX - 1),
        ]
        .prop_map(Value::Int),
        2 => proptest::sample::select(&[0.5, -0.0, 0.0, 1.0, f64::NAN, f64::INFINITY][..]).prop_map(Value::Double),
        1 => proptest::sample::select(&["x", "X", "1"][..]).prop_map(Value::from),
        1 => Just(Value::Bytes(vec![1, 2])),
        1 => Just(Value::DateTime { ticks: 5, kind: 1 }),
    ]
}

fn pick_strategy() -> impl Strategy<Value = Pick> {
    prop_oneof![3 => Just(Pick::Current), 1 => Just(Pick::Absent), 1 => (0u64..4).prop_map(Pick::Fixed)]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let k = key_strategy;
    let v = value_strategy;
    prop_oneof![
        6 => (k(), v()).prop_map(|(k, v)| Op::Set(k, v)),
        3 => k().prop_map(Op::Get),
        1 => k().prop_map(Op::Contains),
        2 => k().prop_map(Op::Remove),
        5 => (k(), v()).prop_map(|(k, v)| Op::Increment(k, v)),
        2 => (k(), v(), v()).prop_map(|(k, e, n)| Op::CompareExchange(k, e, n)),
        2 => (k(), v()).prop_map(|(k, n)| Op::CompareExchangeCurrent(k, n)),
        2 => (k(), v()).prop_map(|(k, v)| Op::GetOrAdd(k, v)),
        3 => (k(), pick_strategy(), v()).prop_map(|(k, p, v)| Op::ReplaceIfVersion(k, p, v)),
        2 => (k(), pick_strategy()).prop_map(|(k, p)| Op::RemoveIfVersion(k, p)),
        1 => Just(Op::Clear),
        1 => Just(Op::Len),
    ]
}

fn same_versioned(a: &Option<Versioned>, b: &Option<Versioned>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.key == b.key && a.version == b.version && a.value.same_as(&b.value),
        _ => false,
    }
}

/// Checks a conditional write: `swap` says whether the model expects it to
/// happen; if it did, the model records it with the store's version.
fn check_swap(
    model: &mut Model,
    got: Swap,
    swap: bool,
    key: &Key,
    value: Value,
) -> Result<(), TestCaseError> {
    match got {
        Swap::Swapped { version } if swap => model.write(key.clone(), value, version),
        Swap::Mismatch { current } if !swap => {
            let want = model.get(key);
            prop_assert!(
                same_versioned(&current, &want),
                "{:?}: mismatch reported {:?}, model has {:?}",
                key,
                current,
                want
            );
            Ok(())
        }
        other => Err(TestCaseError::fail(format!(
            "{key:?}: got {other:?}, model expected {}",
            if swap { "a swap" } else { "a mismatch" }
        ))),
    }
}

fn resolve(pick: &Pick, model: &Model, key: &Key) -> Option<u64> {
    match pick {
        Pick::Current => model.get(key).map(|e| e.version),
        Pick::Absent => None,
        Pick::Fixed(v) => Some(*v),
    }
}

/// Applies `op` to both and fails the case on any difference.
fn step(store: &Store, model: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    match op.clone() {
        Op::Set(k, v) => {
            let version = store.set(KeyRef::from(&k), v.clone());
            model.write(k, v, version)?;
        }
        Op::Get(k) => {
            let (got, want) = (store.get(KeyRef::from(&k)), model.get(&k));
            prop_assert!(
                same_versioned(&got, &want),
                "get {:?}: {:?} vs {:?}",
                k,
                got,
                want
            );
            let value = store.get_value(KeyRef::from(&k));
            prop_assert!(
                match (&value, &want) {
                    (None, None) => true,
                    (Some((value, version)), Some(want)) =>
                        value.same_as(&want.value) && *version == want.version,
                    _ => false,
                },
                "get_value {:?}: {:?} vs {:?}",
                k,
                value,
                want
            );
        }
        Op::Contains(k) => {
            prop_assert_eq!(store.contains(KeyRef::from(&k)), model.get(&k).is_some())
        }
        Op::Remove(k) => {
            let got = store.remove(KeyRef::from(&k));
            let want = model.get(&k);
            model.entries.remove(&model.id(&k));
            prop_assert!(
                same_versioned(&got, &want),
                "remove {:?}: {:?} vs {:?}",
                k,
                got,
                want
            );
        }
        Op::Increment(k, d) => {
            let got = store.increment(KeyRef::from(&k), d.clone());
            let want = model.increment(&k, d);
            match (&got, &want) {
                (Ok(a), Ok(b)) => {
                    prop_assert!(a.same_as(b), "increment {:?}: {:?} vs {:?}", k, a, b);
                    // The store does not return the version of an increment;
                    // read it back (nothing else writes).
                    let (_, version) = store.get_value(KeyRef::from(&k)).unwrap();
                    model.write(k, b.clone(), version)?;
                }
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                _ => prop_assert!(false, "increment {:?}: {:?} vs {:?}", k, got, want),
            }
        }
        Op::CompareExchange(k, expected, new) => cas(store, model, k, expected, new)?,
        Op::CompareExchangeCurrent(k, new) => {
            let expected = model.get(&k).map(|e| e.value).unwrap_or(Value::Null);
            cas(store, model, k, expected, new)?;
        }
        Op::GetOrAdd(k, v) => {
            let (got, added) = store.get_or_add(KeyRef::from(&k), v.clone());
            let present = model.get(&k);
            prop_assert_eq!(added, present.is_none());
            if !added {
                prop_assert!(same_versioned(&Some(got), &present));
            } else {
                prop_assert!(got.value.same_as(&v) && got.key == k, "{:?}", got);
                model.write(k, v, got.version)?;
            }
        }
        Op::ReplaceIfVersion(k, pick, v) => {
            let expected = resolve(&pick, model, &k);
            let got = store.replace_if_version(KeyRef::from(&k), expected, v.clone());
            let swap = model.get(&k).map(|e| e.version) == expected;
            check_swap(model, got, swap, &k, v)?;
        }
        Op::RemoveIfVersion(k, pick) => {
            let Some(expected) = resolve(&pick, model, &k) else {
                return Ok(());
            };
            let got = store.remove_if_version(KeyRef::from(&k), expected);
            let current = model.get(&k);
            match (got, current) {
                (Swap::Swapped { version }, Some(e)) if e.version == expected => {
                    prop_assert_eq!(version, expected);
                    model.entries.remove(&model.id(&k));
                }
                (Swap::Mismatch { current: got }, want)
                    if want.as_ref().is_none_or(|e| e.version != expected) =>
                {
                    prop_assert!(
                        same_versioned(&got, &want),
                        "remove_if_version: {:?} vs {:?}",
                        got,
                        want
                    );
                }
                (got, want) => prop_assert!(false, "remove_if_version: {:?} vs {:?}", got, want),
            }
        }
        Op::Clear => {
            store.clear();
            model.entries.clear();
        }
        Op::Len => prop_assert_eq!(store.len(), model.entries.len()),
    }
    Ok(())
}

fn cas(
    store: &Store,
    model: &mut Model,
    k: Key,
    expected: Value,
    new: Value,
) -> Result<(), TestCaseError> {
    let got = store.compare_exchange(KeyRef::from(&k), &expected, new.clone());
    let swap = model.get(&k).is_some_and(|e| e.value.same_as(&expected));
    check_swap(model, got, swap, &k, new)
}

/// The whole table must match the model, spelling and version included.
fn same_contents(store: &Store, model: &Model) -> Result<(), TestCaseError> {
    let snapshot = store.snapshot();
    prop_assert_eq!(snapshot.len(), model.entries.len());
    prop_assert_eq!(store.len(), model.entries.len());
    for entry in snapshot {
        let want = model.get(&entry.key);
        prop_assert!(
            same_versioned(&Some(entry.clone()), &want),
            "{:?} vs {:?}",
            entry,
            want
        );
    }
    Ok(())
}

fn run(case_sensitive: bool, ops: &[Op]) -> Result<(), TestCaseError> {
    let store = Store::new(case_sensitive);
    let mut model = Model::new(case_sensitive);
    for op in ops {
        step(&store, &mut model, op)?;
        same_contents(&store, &model)?;
    }
    // Saved as a document and loaded back, the table is the same (versions aside).
    if model
        .entries
        .values()
        .all(|e| !matches!(e.value, Value::Object(_)))
    {
        let entries: Vec<(Data, Data)> = store
            .snapshot()
            .iter()
            .map(|e| (key_data(&e.key), value_data(&e.value)))
            .collect();
        let text = document::write(&entries, case_sensitive).unwrap();
        let copy = Store::new(case_sensitive);
        let loaded = document::read(&text).unwrap();
        prop_assert_eq!(loaded.len(), store.len());
        for (key, value) in loaded {
            let key = match key {
                Data::Text(text) => Key::Text(text),
                Data::Integer(_, n) => Key::Int(n as i64),
                other => panic!("{other:?}"),
            };
            copy.set(KeyRef::from(&key), data_value(value));
        }
        for entry in store.snapshot() {
            let other = copy.get(KeyRef::from(&entry.key)).unwrap();
            prop_assert_eq!(&other.key, &entry.key);
            prop_assert!(other.value.same_as(&entry.value));
        }
    }
    Ok(())
}

fn key_data(key: &Key) -> Data {
    match key {
        Key::Text(text) => Data::Text(text.clone()),
        Key::Int(n) => Data::Integer(IntKind::Int, (*n).into()),
    }
}

/// A stored value as the data C# would send for it.
fn value_data(value: &Value) -> Data {
    match value {
        Value::Null => Data::Null,
        Value::Bool(b) => Data::Bool(*b),
        Value::Int(n) => Data::Integer(IntKind::Int, (*n).into()),
        Value::Double(x) => Data::Double(*x),
        Value::Text(text) => Data::Text(text.clone()),
        Value::Bytes(bytes) => Data::Bytes(bytes.clone()),
        Value::DateTime { ticks, kind } => Data::DateTime { ticks: *ticks, kind: *kind },
        Value::Object(_) => unreachable!("objects are not exported"),
    }
}

fn data_value(data: Data) -> Value {
    match data {
        Data::Null => Value::Null,
        Data::Bool(b) => Value::Bool(b),
        Data::Integer(_, n) => Value::Int(n as i64),
        Data::Double(x) => Value::Double(x),
        Data::Text(text) => Value::Text(text),
        Data::Bytes(bytes) => Value::Bytes(bytes),
        Data::DateTime { ticks, kind } => Value::DateTime { ticks, kind },
        other => panic!("the store holds no {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn case_insensitive_store_matches_model(ops in proptest::collection::vec(op_strategy(), 1..60)) {
        run(false, &ops)?;
    }

    #[test]
    fn case_sensitive_store_matches_model(ops in proptest::collection::vec(op_strategy(), 1..60)) {
        run(true, &ops)?;
    }
}
