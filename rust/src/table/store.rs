//! The table itself: a concurrent map from keys to versioned [`Value`]s.
//!
//! The map is a [`DashMap`]: a fixed set of shards, each a hash table
//! behind its own reader-writer lock, the shard picked by the key's hash.
//! Every compound operation (increment, compare-and-swap, get-or-add,
//! replace-if-version) runs under the lock of the one shard it touches
//! (inside `get_mut`, `entry` or `remove_if`), so it is atomic without a
//! table-wide lock.
//!
//! Callers name keys with a borrowed [`KeyRef`]: the map's keys borrow as
//! a [`Lookup`](super::key::Lookup) trait object that hashes and compares
//! by the store's comparer, so a read, or a write to a key that exists,
//! allocates nothing (`get`/`get_mut`/`remove` take that borrowed form).
//! Only adding a key needs an owned copy, which `DashMap::entry` takes; the
//! entry re-checks under the shard lock, so "look up, then insert" stays
//! one atomic step.
//!
//! # Versions
//! Each write stamps the entry with a version from one of [`CLOCKS`]
//! cache-padded clocks, one per shard: a key's clock is picked by the same
//! bits of its hash that pick its shard, so a clock is only ever advanced by
//! a writer holding that shard's write lock. That lock orders every advance
//! of the clock, so the advance is a plain load and store rather than an
//! atomic read-modify-write (which cost a locked instruction on every write;
//! a test checks the clock and shard choices agree with DashMap's). One
//! store-wide counter made every write on every core fight over the same
//! cache line; with a clock per shard, writers to different shards never
//! share one. Successive writes to a key are ordered by its shard lock, so
//! its versions only grow, also across removal and re-adding: a removed and
//! re-added key never reuses a version (no ABA for optimistic updates). The
//! clock's index is folded into the low bits of each version, so no version
//! is handed out twice in one store either. Versions of *different* keys
//! are not ordered by time.
//!
//! Values are never dropped while a shard lock is held. Dropping a
//! [`Value::Object`] may call into C# (the releaser), and C# must be free to
//! call back into the table from there (DashMap locks are not reentrant).
//!
//! # Closing
//! [`close`](Store::close) ends a store's life while callers may still hold
//! it (C# keeps the native object until the garbage collector frees it, so
//! that no call can ever reach freed memory): it fires the store's closing
//! signal, which ends every wait and key-lock wait with
//! [`Waited::Closed`], and empties the store. A write racing with `close`
//! re-checks the signal after its shard lock is released and empties the
//! store again, so nothing written survives a close. Callers that must not
//! answer like an empty table ask [`is_closed`](Store::is_closed) first (the
//! C ABI does, for every call).

use std::collections::HashMap;
use std::collections::hash_map::Entry as HashEntry;
use std::fmt;
use std::mem;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam::utils::CachePadded;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use super::error::TableError;
use super::key::{
    Comparer, IgnoreCase, Key, KeyRef, Lookup, MapKey, Ordinal, PassThrough, Probe, map_hash,
};
use super::key_locks::KeyLocks;
use super::value::{Scalar, StoredValue, Value, ValueRef};
use super::waiters::{Waited, Waiters};
use crate::cancel::Cancel;

/// A key's value together with the version of the write that stored it.
#[derive(Clone, Debug)]
pub struct Versioned {
    pub key: Key,
    pub value: Value,
    pub version: u64,
}

/// Outcome of a conditional write.
#[derive(Clone, Debug)]
pub enum Swap {
    /// The write happened; `version` is the version it was stamped with (for
    /// a removal, the version of the entry that was removed).
    Swapped { version: u64 },
    /// The condition did not hold; nothing changed. `current` is what the
    /// key held when the condition was checked (`None`: it was absent).
    Mismatch { current: Option<Versioned> },
}

/// A concurrent key/value table (the engine behind `New-SyncTable`).
pub struct Store {
    table: Tables,
}

/// The comparer is a type parameter so that key hashing and equality compile
/// to straight-line code; the store picks one of the two at construction.
enum Tables {
    Ordinal(Table<Ordinal>),
    IgnoreCase(Table<IgnoreCase>),
}

/// Runs `$body` with `$t` bound to whichever table the store has.
macro_rules! with_table {
    ($store:expr, $t:ident => $body:expr) => {
        match &$store.table {
            Tables::Ordinal($t) => $body,
            Tables::IgnoreCase($t) => $body,
        }
    };
}

impl Store {
    /// A new, empty table. `case_sensitive: false` compares text keys like
    /// .NET `StringComparer.OrdinalIgnoreCase` (the PowerShell default).
    pub fn new(case_sensitive: bool) -> Self {
        super::big_blocks::return_freed_slot_arrays();
        let table = if case_sensitive {
            Tables::Ordinal(Table::new())
        } else {
            Tables::IgnoreCase(Table::new())
        };
        Store { table }
    }

    pub fn case_sensitive(&self) -> bool {
        matches!(self.table, Tables::Ordinal(_))
    }

    /// Number of entries. Exact when nobody writes; otherwise each shard is
    /// counted at a slightly different moment.
    pub fn len(&self) -> usize {
        with_table!(self, t => t.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entry under `key`: stored spelling, a copy of the value, version.
    /// Use [`get_value`](Store::get_value) when the spelling is not needed;
    /// it saves copying the key.
    pub fn get(&self, key: KeyRef<'_>) -> Option<Versioned> {
        with_table!(self, t => t.get(key))
    }

    /// A copy of the value under `key` and its version.
    pub fn get_value(&self, key: KeyRef<'_>) -> Option<(Value, u64)> {
        with_table!(self, t => t.get_value(key))
    }

    /// Runs `look` on the value under `key` and its version, in place: no
    /// copy is made unless `look` makes one. `look` runs under the key's
    /// shard read lock, so it must be short and must not call the store.
    #[inline]
    pub fn view<R>(&self, key: KeyRef<'_>, look: impl FnOnce(ValueRef<'_>, u64) -> R) -> Option<R> {
        with_table!(self, t => t.read(key, |_, stamped| look(stamped.value.as_value_ref(), stamped.version)))
    }

    pub fn contains(&self, key: KeyRef<'_>) -> bool {
        with_table!(self, t => t.contains(key))
    }

    /// Stores `value` under `key` and returns the new version. An existing
    /// key keeps the spelling it was first stored with.
    pub fn set(&self, key: KeyRef<'_>, value: Value) -> u64 {
        with_table!(self, t => t.set(key, value))
    }

    /// [`set`](Store::set), unless `key` holds a live object or `value` is
    /// one: then nothing is written and the answer is `None`. Such a write
    /// neither adopts nor releases an object, so it never runs foreign code
    /// (the object releaser calls into .NET); the in-process table's hot
    /// write relies on that to run without a GC transition.
    #[inline]
    pub fn set_unless_object(&self, key: KeyRef<'_>, value: Value) -> Option<u64> {
        with_table!(self, t => t.set_unless_object(key, value))
    }

    /// [`set_unless_object`](Store::set_unless_object) of a value that owns
    /// nothing (the in-process table's commonest write, made cheapest).
    #[inline]
    pub fn set_scalar_unless_object(&self, key: KeyRef<'_>, value: Scalar) -> Option<u64> {
        with_table!(self, t => t.put(key, StoredValue::from(value), Replacing::NoObject))
    }

    /// Removes `key`, handing back what it held.
    pub fn remove(&self, key: KeyRef<'_>) -> Option<Versioned> {
        with_table!(self, t => t.remove(key))
    }

    /// Removes every entry. Not atomic with respect to concurrent writers: a
    /// key written while `clear` runs may survive it.
    pub fn clear(&self) {
        with_table!(self, t => t.clear())
    }

    /// Adds `delta` to the number under `key` and returns the new value.
    ///
    /// A missing key counts as `0`. `Int + Int` stays an `Int` and fails with
    /// [`TableError::Overflow`] rather than wrapping; anything involving a
    /// `Double` gives a `Double`.
    ///
    /// # Errors
    /// [`TableError::DeltaNotNumeric`] if `delta` is not an `Int` or
    /// `Double`, [`TableError::NotNumeric`] if the key holds something else,
    /// [`TableError::Overflow`] if an integer sum does not fit. On error
    /// nothing changes (not even the version).
    #[inline]
    pub fn increment(&self, key: KeyRef<'_>, delta: Value) -> Result<Value, TableError> {
        match delta.as_value_ref().to_scalar() {
            Some(delta) => self.increment_scalar(key, delta),
            None => Err(TableError::DeltaNotNumeric(delta.type_name())),
        }
    }

    /// [`increment`](Store::increment) by a delta that owns nothing (the
    /// in-process table's hot path: the delta travels in registers).
    #[inline(always)]
    pub fn increment_scalar(&self, key: KeyRef<'_>, delta: Scalar) -> Result<Value, TableError> {
        let delta = Number::of_scalar(delta)?;
        with_table!(self, t => t.increment(key, delta))
    }

    /// Stores `new` only if `key` exists and its value is
    /// [`same_as`](Value::same_as) `expected`.
    pub fn compare_exchange(&self, key: KeyRef<'_>, expected: &Value, new: Value) -> Swap {
        with_table!(self, t => t.compare_exchange(key, expected, new))
    }

    /// Returns the entry under `key`, adding `value` first if it is missing.
    /// The flag says whether this call added it.
    pub fn get_or_add(&self, key: KeyRef<'_>, value: Value) -> (Versioned, bool) {
        with_table!(self, t => t.get_or_add(key, value))
    }

    /// Optimistic update: stores `value` only if `key` is still at
    /// `expected_version` (`None`: only if `key` is absent).
    ///
    /// The C# side reads an entry, runs the user's scriptblock outside any
    /// lock, then calls this; on `Mismatch` it retries with `current`.
    pub fn replace_if_version(
        &self,
        key: KeyRef<'_>,
        expected_version: Option<u64>,
        value: Value,
    ) -> Swap {
        with_table!(self, t => t.replace_if_version(key, expected_version, value))
    }

    /// Removes `key` only if it is still at `expected_version`.
    pub fn remove_if_version(&self, key: KeyRef<'_>, expected_version: u64) -> Swap {
        with_table!(self, t => t.remove_if_version(key, expected_version))
    }

    /// Blocks until `key` exists (`after_version: None`) or exists with a
    /// version greater than `after_version`. A zero timeout checks once; a
    /// timeout too large to represent waits until the key arrives, `cancel`
    /// fires or the store is closed. Sleeps on a condition variable, woken
    /// by the write, the signal or the close; never polls.
    pub fn wait_for(
        &self,
        key: KeyRef<'_>,
        after_version: Option<u64>,
        timeout: Duration,
        cancel: Option<&Cancel>,
    ) -> Waited<Versioned> {
        with_table!(self, t => t.wait_for(key, after_version, timeout, cancel))
    }

    /// Empties the store for good: every wait in progress or to come ends
    /// with [`Waited::Closed`], and writes that race with the close leave
    /// nothing behind (see the module docs). Idempotent.
    pub fn close(&self) {
        with_table!(self, t => t.close())
    }

    /// Whether [`close`](Store::close) has been called.
    #[inline]
    pub fn is_closed(&self) -> bool {
        with_table!(self, t => t.is_closed())
    }

    /// A copy of every entry. Each entry is read atomically; entries written
    /// while the snapshot runs may or may not be in it. Never blocks writers
    /// for longer than copying one shard.
    pub fn snapshot(&self) -> Vec<Versioned> {
        with_table!(self, t => t.snapshot())
    }

    /// Every key, in its stored spelling (same consistency as `snapshot`).
    pub fn keys(&self) -> Vec<Key> {
        with_table!(self, t => t.keys())
    }

    /// Takes the critical-section lock on `key` for `owner`, waiting up to
    /// `timeout` unless `cancel` fires or the store is closed first.
    /// Reentrant: each take needs an unlock. The key need not exist in the
    /// table.
    pub fn lock_key(
        &self,
        key: KeyRef<'_>,
        owner: u64,
        timeout: Duration,
        cancel: Option<&Cancel>,
    ) -> Waited<()> {
        with_table!(self, t => t.lock_key(key, owner, timeout, cancel))
    }

    /// Releases one take of the lock on `key`.
    ///
    /// # Errors
    /// [`TableError::NotLockOwner`] if `owner` does not hold the lock.
    pub fn unlock_key(&self, key: KeyRef<'_>, owner: u64) -> Result<(), TableError> {
        with_table!(self, t => t.locks.unlock(key, owner))
    }

    /// Releases every key lock `owner` holds (its runspace was stopped).
    pub fn unlock_all(&self, owner: u64) {
        with_table!(self, t => t.locks.unlock_all(owner))
    }

    /// Who holds the lock on `key` and how many times: `(owner, depth)`.
    pub fn lock_holder(&self, key: KeyRef<'_>) -> Option<(u64, u64)> {
        with_table!(self, t => t.locks.holder(key))
    }

    /// Positions of the first two keys in `keys` that this store would treat
    /// as the same key.
    pub(crate) fn first_duplicate<'k>(
        &self,
        keys: impl IntoIterator<Item = KeyRef<'k>>,
    ) -> Option<(usize, usize)> {
        match self.table {
            Tables::Ordinal(_) => first_duplicate::<Ordinal>(keys),
            Tables::IgnoreCase(_) => first_duplicate::<IgnoreCase>(keys),
        }
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("case_sensitive", &self.case_sensitive())
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

fn first_duplicate<'k, C: Comparer>(
    keys: impl IntoIterator<Item = KeyRef<'k>>,
) -> Option<(usize, usize)> {
    let probes: Vec<Probe<'k, C>> = keys.into_iter().map(Probe::new).collect();
    let mut seen: HashMap<&dyn Lookup<C>, usize, PassThrough> =
        HashMap::with_capacity_and_hasher(probes.len(), PassThrough);
    for (index, probe) in probes.iter().enumerate() {
        match seen.entry(probe.query()) {
            HashEntry::Occupied(first) => return Some((*first.get(), index)),
            HashEntry::Vacant(slot) => {
                slot.insert(index);
            }
        }
    }
    None
}

/// Number of map shards, and of version clocks (a power of two). Enough
/// that writers on different keys rarely meet on one lock even with many
/// cores; an empty shard costs one cache-padded lock and an empty table
/// (128 bytes), so a store starts at about 16 KiB with its clocks.
const SHARD_BITS: u32 = 6;
const SHARDS: usize = 1 << SHARD_BITS;

/// Number of version clocks: one per shard.
const CLOCKS: usize = SHARDS;

/// The clock of a key with this hash: the shard DashMap keeps the key in
/// (`(hash << 7) >> (64 - SHARD_BITS)`, with the map's hasher passing this
/// very hash through), so a clock is only advanced under that one shard's
/// write lock (see the module docs; `clocks_follow_dashmap_shards` checks
/// the two choices agree).
#[inline]
fn clock_of(hash: u64) -> usize {
    ((hash << 7) >> (64 - SHARD_BITS)) as usize & (CLOCKS - 1)
}

/// What the map holds for each key besides the key itself: the value and
/// the version of the write that stored it. With the key, 40 bytes per
/// entry, short keys inline.
struct Stamped {
    value: StoredValue,
    version: u64,
}

/// A caller's copy of one entry.
#[inline]
fn versioned<C>(key: &MapKey<C>, stamped: &Stamped) -> Versioned {
    Versioned {
        key: key.stored().to_key(),
        value: stamped.value.to_value(),
        version: stamped.version,
    }
}

/// A number: an increment amount, or the sum it produces. `Copy`, so the
/// increment path moves plain numbers around instead of cloning values.
#[derive(Clone, Copy)]
enum Number {
    Int(i64),
    Double(f64),
}

/// Why [`Number::add_to`] could not add: a [`TableError`] without the key.
#[derive(Clone, Copy, Debug)]
enum SumError {
    NotNumeric(&'static str),
    Overflow,
}

impl SumError {
    /// The error, naming `key` as the table stores it.
    #[cold]
    fn for_key(self, key: KeyRef<'_>) -> TableError {
        match self {
            SumError::NotNumeric(found) => TableError::NotNumeric { key: key.to_string(), found },
            SumError::Overflow => TableError::Overflow { key: key.to_string() },
        }
    }
}

impl Number {
    #[inline]
    fn of_scalar(value: Scalar) -> Result<Self, TableError> {
        match value {
            Scalar::Int(n) => Ok(Number::Int(n)),
            Scalar::Double(x) => Ok(Number::Double(x)),
            other => Err(TableError::DeltaNotNumeric(StoredValue::from(other).type_name())),
        }
    }

    /// `current + self`, or why that is not possible. The key is not an
    /// argument: only a failure names it (see [`SumError::for_key`]), so an
    /// increment's key never has to be put in memory for this call.
    #[inline]
    fn add_to(self, current: &StoredValue) -> Result<Number, SumError> {
        match (current, self) {
            (StoredValue::Int(a), Number::Int(b)) => a.checked_add(b).map(Number::Int).ok_or(SumError::Overflow),
            (StoredValue::Int(a), Number::Double(b)) => Ok(Number::Double(*a as f64 + b)),
            (StoredValue::Double(a), Number::Int(b)) => Ok(Number::Double(a + b as f64)),
            (StoredValue::Double(a), Number::Double(b)) => Ok(Number::Double(a + b)),
            (other, _) => Err(SumError::NotNumeric(other.type_name())),
        }
    }

    #[inline]
    fn stored(self) -> StoredValue {
        match self {
            Number::Int(n) => StoredValue::Int(n),
            Number::Double(x) => StoredValue::Double(x),
        }
    }

    #[inline]
    fn value(self) -> Value {
        match self {
            Number::Int(n) => Value::Int(n),
            Number::Double(x) => Value::Double(x),
        }
    }
}

/// What a write may replace (see [`Store::set_unless_object`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Replacing {
    /// Any value; a replaced object is released.
    Anything,
    /// Anything but a live object: the write is refused instead.
    NoObject,
}

/// The store's state for one comparer.
struct Table<C: Comparer> {
    /// Hashed by [`PassThrough`]: lookups hand it the hash their [`Probe`]
    /// already computed.
    map: DashMap<MapKey<C>, Stamped, PassThrough>,
    /// Writes stamped by each clock so far (see the module docs).
    clocks: Box<[CachePadded<AtomicU64>]>,
    waiters: Arc<Waiters>,
    locks: KeyLocks<C>,
    /// Set by [`close`](Table::close). Checked by every call, so it lives
    /// here rather than behind the signal's shared allocation.
    closed: AtomicBool,
    /// Fired by [`close`](Table::close); every wait listens to it.
    closing: Cancel,
}

impl<C: Comparer> Table<C> {
    fn new() -> Self {
        Table {
            map: DashMap::with_capacity_and_hasher_and_shard_amount(0, PassThrough, SHARDS),
            clocks: (0..CLOCKS)
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect(),
            waiters: Arc::new(Waiters::new()),
            locks: KeyLocks::new(),
            closed: AtomicBool::new(false),
            closing: Cancel::new(),
        }
    }

    #[inline]
    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    fn close(&self) {
        // Flag first: writes that check it after this point sweep up after
        // themselves (`after_write`); then the signal ends every wait.
        self.closed.store(true, Ordering::SeqCst);
        self.closing.cancel();
        self.clear();
    }

    /// The signals a wait listens to: the store's own closing and the
    /// caller's.
    fn cancels<'a>(&'a self, cancel: Option<&'a Cancel>) -> ([&'a Cancel; 2], usize) {
        match cancel {
            Some(cancel) => ([&self.closing, cancel], 2),
            None => ([&self.closing, &self.closing], 1),
        }
    }

    /// A cancelled wait ended by the close is reported as `Closed`.
    fn closed_or<T>(&self, waited: Waited<T>) -> Waited<T> {
        match waited {
            Waited::Cancelled if self.is_closed() => Waited::Closed,
            other => other,
        }
    }

    fn lock_key(
        &self,
        key: KeyRef<'_>,
        owner: u64,
        timeout: Duration,
        cancel: Option<&Cancel>,
    ) -> Waited<()> {
        let (cancels, count) = self.cancels(cancel);
        self.closed_or(self.locks.lock(key, owner, timeout, &cancels[..count]))
    }

    /// The next version from clock `clock`: the clock's count in the high
    /// bits, its index in the low ones, so clocks never hand out the same
    /// version. Must be called while holding the write lock of the shard
    /// `clock` names (every caller holds the written entry's, which is that
    /// one): the lock orders all advances of the clock, so a plain load and
    /// store (`Relaxed`, made visible to the next holder by the lock's
    /// release and acquire) cannot lose an advance. Overflow would take 2^57
    /// writes on one clock (versions stay below 2^63, as C# reads them as
    /// `long`): at a billion writes a second, over four years of nothing but
    /// writes.
    #[inline]
    fn tick(&self, clock: usize) -> u64 {
        let count = self.clocks[clock].load(Ordering::Relaxed) + 1;
        self.clocks[clock].store(count, Ordering::Relaxed);
        (count << SHARD_BITS) | clock as u64
    }

    /// The wait slot to wake after a write of a key with this hash, decided
    /// while the shard lock is still held (see `waiters`); `None` when
    /// nobody waits.
    #[inline]
    fn wake_slot(&self, hash: u64) -> Option<usize> {
        self.waiters
            .any()
            .then(|| self.waiters.slot_for(hash as usize))
    }

    /// Runs after every write, once every shard lock is released. A write
    /// that raced with `close` may have landed after `close` emptied the
    /// map; it empties the map again (see the module docs for why this
    /// check, made after the write, cannot miss the close).
    #[inline]
    fn after_write(&self, wake: Option<usize>, garbage: Option<StoredValue>) {
        drop(garbage);
        if let Some(slot) = wake {
            self.waiters.wake(slot);
        }
        if self.is_closed() {
            self.clear();
        }
    }

    /// [`after_write`](Self::after_write) for a write that stored no object
    /// and released none, and must not (it may run without a GC transition:
    /// see `set_unless_object`). Instead of emptying a map that `close`
    /// emptied before this write landed, it removes only its own entry, and
    /// only if that still holds no object: a racing write that stored an
    /// object sweeps up after itself.
    #[inline]
    fn after_plain_write(&self, wake: Option<usize>, probe: &Probe<'_, C>) {
        if let Some(slot) = wake {
            self.waiters.wake(slot);
        }
        if self.is_closed() {
            let swept = self
                .map
                .remove_if(probe.query(), |_, stamped| !matches!(stamped.value, StoredValue::Object(_)));
            drop(swept);
        }
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    /// Runs `read` on the entry of `key`, if any, under its shard's read lock.
    #[inline]
    fn read<R>(&self, key: KeyRef<'_>, read: impl FnOnce(&MapKey<C>, &Stamped) -> R) -> Option<R> {
        let probe = Probe::<C>::new(key);
        self.map
            .get(probe.query())
            .map(|entry| read(entry.key(), entry.value()))
    }

    fn get(&self, key: KeyRef<'_>) -> Option<Versioned> {
        self.read(key, versioned)
    }

    fn get_value(&self, key: KeyRef<'_>) -> Option<(Value, u64)> {
        self.read(key, |_, stamped| (stamped.value.to_value(), stamped.version))
    }

    fn contains(&self, key: KeyRef<'_>) -> bool {
        self.map.contains_key(Probe::<C>::new(key).query())
    }

    fn set(&self, key: KeyRef<'_>, value: Value) -> u64 {
        self.put(key, StoredValue::from(value), Replacing::Anything)
            .expect("a write that may replace objects always writes")
    }

    fn set_unless_object(&self, key: KeyRef<'_>, value: Value) -> Option<u64> {
        if matches!(value, Value::Object(_)) {
            return None;
        }
        self.put(key, StoredValue::from(value), Replacing::NoObject)
    }

    /// The one write behind `set` and `set_unless_object`; `None` when
    /// `replacing` forbids replacing what the key holds (nothing written).
    #[inline(always)]
    fn put(&self, key: KeyRef<'_>, value: StoredValue, replacing: Replacing) -> Option<u64> {
        let probe = Probe::<C>::new(key);
        let hash = probe.hash();
        let clock = clock_of(hash);
        let refused = |old: &StoredValue| replacing == Replacing::NoObject && matches!(old, StoredValue::Object(_));
        // An existing key is updated through `get_mut` (borrowed key, no
        // allocation); only a missing one goes through `entry`, which needs
        // an owned key and re-checks under the shard lock.
        let (version, old, wake) = match self.map.get_mut(probe.query()) {
            Some(entry) if refused(&entry.value) => return None,
            Some(mut entry) => {
                let version = self.tick(clock);
                entry.version = version;
                let old = mem::replace(&mut entry.value, value);
                (version, Some(old), self.wake_slot(hash))
            }
            None => match self.map.entry(MapKey::new(key)) {
                Entry::Occupied(entry) if refused(&entry.get().value) => return None,
                Entry::Occupied(mut entry) => {
                    let version = self.tick(clock);
                    let stamped = entry.get_mut();
                    stamped.version = version;
                    let old = mem::replace(&mut stamped.value, value);
                    (version, Some(old), self.wake_slot(hash))
                }
                Entry::Vacant(entry) => {
                    let version = self.tick(clock);
                    entry.insert(Stamped { value, version });
                    (version, None, self.wake_slot(hash))
                }
            },
        };
        match replacing {
            Replacing::Anything => self.after_write(wake, old),
            Replacing::NoObject => {
                drop(old); // not an object: dropping it runs no foreign code
                self.after_plain_write(wake, &probe);
            }
        }
        Some(version)
    }

    fn remove(&self, key: KeyRef<'_>) -> Option<Versioned> {
        // `remove` hands the entry back; it is dropped after the shard unlocks.
        self.map
            .remove(Probe::<C>::new(key).query())
            .map(|(key, stamped)| Versioned {
                key: key.into_stored().into_key(),
                value: stamped.value.into_value(),
                version: stamped.version,
            })
    }

    fn clear(&self) {
        // `DashMap::clear` would drop values under the shard locks, so the
        // objects (the only values whose drop runs foreign code) are moved
        // out first and dropped after `retain` has unlocked every shard.
        // The shards then shrink, so the memory goes back too.
        let mut objects = Vec::new();
        self.map.retain(|_, stamped| {
            if matches!(stamped.value, StoredValue::Object(_)) {
                objects.push(mem::replace(&mut stamped.value, StoredValue::Null));
            }
            false
        });
        self.map.shrink_to_fit();
        drop(objects);
    }

    #[inline(always)]
    fn increment(&self, key: KeyRef<'_>, delta: Number) -> Result<Value, TableError> {
        let probe = Probe::<C>::new(key);
        let hash = probe.hash();
        let clock = clock_of(hash);
        // The old value is a number: nothing to release.
        let sum = match self.map.get_mut(probe.query()) {
            Some(mut entry) => {
                let (stored, stamped) = entry.pair_mut();
                let sum = delta.add_to(&stamped.value).map_err(|e| e.for_key(stored.stored().as_key_ref()))?;
                stamped.version = self.tick(clock);
                stamped.value = sum.stored();
                (sum, self.wake_slot(hash))
            }
            None => match self.map.entry(MapKey::new(key)) {
                Entry::Occupied(mut entry) => {
                    let sum = delta
                        .add_to(&entry.get().value)
                        .map_err(|e| e.for_key(entry.key().stored().as_key_ref()))?;
                    let version = self.tick(clock);
                    let stamped = entry.get_mut();
                    stamped.version = version;
                    stamped.value = sum.stored();
                    (sum, self.wake_slot(hash))
                }
                Entry::Vacant(entry) => {
                    let sum = delta.add_to(&StoredValue::Int(0)).map_err(|e| e.for_key(entry.key().stored().as_key_ref()))?;
                    let version = self.tick(clock);
                    entry.insert(Stamped {
                        value: sum.stored(),
                        version,
                    });
                    (sum, self.wake_slot(hash))
                }
            },
        };
        let (sum, wake) = sum;
        self.after_plain_write(wake, &probe);
        Ok(sum.value())
    }

    fn compare_exchange(&self, key: KeyRef<'_>, expected: &Value, new: Value) -> Swap {
        let probe = Probe::<C>::new(key);
        let hash = probe.hash();
        let (swap, garbage, wake) = match self.map.get_mut(probe.query()) {
            Some(mut entry) if entry.value.same_as(expected) => {
                let version = self.tick(clock_of(hash));
                entry.version = version;
                let old = mem::replace(&mut entry.value, StoredValue::from(new));
                (Swap::Swapped { version }, Some(old), self.wake_slot(hash))
            }
            Some(entry) => (
                Swap::Mismatch {
                    current: Some(versioned(entry.key(), entry.value())),
                },
                Some(StoredValue::from(new)),
                None,
            ),
            None => (
                Swap::Mismatch { current: None },
                Some(StoredValue::from(new)),
                None,
            ),
        };
        self.after_write(wake, garbage);
        swap
    }

    fn get_or_add(&self, key: KeyRef<'_>, value: Value) -> (Versioned, bool) {
        let probe = Probe::<C>::new(key);
        let hash = probe.hash();
        // A key that exists is found under a read lock, without an owned key.
        let found = self
            .map
            .get(probe.query())
            .map(|entry| versioned(entry.key(), entry.value()));
        if let Some(found) = found {
            drop(value);
            return (found, false);
        }
        let value = StoredValue::from(value);
        let (found, garbage, wake) = match self.map.entry(MapKey::new(key)) {
            Entry::Occupied(entry) => (
                (versioned(entry.key(), entry.get()), false),
                Some(value),
                None,
            ),
            Entry::Vacant(entry) => {
                let version = self.tick(clock_of(hash));
                let added = entry.insert(Stamped { value, version });
                (
                    (versioned(added.key(), added.value()), true),
                    None,
                    self.wake_slot(hash),
                )
            }
        };
        self.after_write(wake, garbage);
        found
    }

    fn replace_if_version(
        &self,
        key: KeyRef<'_>,
        expected_version: Option<u64>,
        value: Value,
    ) -> Swap {
        let value = StoredValue::from(value);
        let probe = Probe::<C>::new(key);
        let hash = probe.hash();
        let clock = clock_of(hash);
        let (swap, garbage, wake) = match expected_version {
            // Only an existing key can match a version: no owned key needed.
            Some(expected) => match self.map.get_mut(probe.query()) {
                Some(mut entry) if entry.version == expected => {
                    let version = self.tick(clock);
                    entry.version = version;
                    let old = mem::replace(&mut entry.value, value);
                    (Swap::Swapped { version }, Some(old), self.wake_slot(hash))
                }
                Some(entry) => (
                    Swap::Mismatch {
                        current: Some(versioned(entry.key(), entry.value())),
                    },
                    Some(value),
                    None,
                ),
                None => (Swap::Mismatch { current: None }, Some(value), None),
            },
            None => match self.read(key, versioned) {
                Some(current) => (
                    Swap::Mismatch {
                        current: Some(current),
                    },
                    Some(value),
                    None,
                ),
                None => match self.map.entry(MapKey::new(key)) {
                    Entry::Occupied(entry) => (
                        Swap::Mismatch {
                            current: Some(versioned(entry.key(), entry.get())),
                        },
                        Some(value),
                        None,
                    ),
                    Entry::Vacant(entry) => {
                        let version = self.tick(clock);
                        entry.insert(Stamped { value, version });
                        (Swap::Swapped { version }, None, self.wake_slot(hash))
                    }
                },
            },
        };
        self.after_write(wake, garbage);
        swap
    }

    fn remove_if_version(&self, key: KeyRef<'_>, expected_version: u64) -> Swap {
        let mut current = None;
        // The removed entry is dropped after the shard unlocks.
        let probe = Probe::<C>::new(key);
        let removed = self.map.remove_if(probe.query(), |stored, stamped| {
            if stamped.version == expected_version {
                return true;
            }
            current = Some(versioned(stored, stamped));
            false
        });
        match removed {
            Some((_, stamped)) => Swap::Swapped {
                version: stamped.version,
            },
            None => Swap::Mismatch { current },
        }
    }

    fn wait_for(
        &self,
        key: KeyRef<'_>,
        after_version: Option<u64>,
        timeout: Duration,
        cancel: Option<&Cancel>,
    ) -> Waited<Versioned> {
        let (cancels, count) = self.cancels(cancel);
        let cancels = &cancels[..count];
        if cancels.iter().any(|cancel| cancel.is_cancelled()) {
            return self.closed_or(Waited::Cancelled);
        }
        let check = || {
            self.read(key, |stored, stamped| {
                after_version
                    .is_none_or(|after| stamped.version > after)
                    .then(|| versioned(stored, stamped))
            })
            .flatten()
        };
        if let Some(found) = check() {
            return Waited::Ready(found);
        }
        if timeout.is_zero() {
            return Waited::TimedOut;
        }
        // `None` (a timeout too large to represent) waits without a deadline.
        let deadline = Instant::now().checked_add(timeout);
        let slot = self.waiters.slot_for(map_hash::<C>(key) as usize);
        self.closed_or(self.waiters.wait_until(slot, deadline, cancels, check))
    }

    fn snapshot(&self) -> Vec<Versioned> {
        let mut out = Vec::with_capacity(self.len());
        out.extend(
            self.map
                .iter()
                .map(|entry| versioned(entry.key(), entry.value())),
        );
        out
    }

    fn keys(&self) -> Vec<Key> {
        let mut out = Vec::with_capacity(self.len());
        out.extend(self.map.iter().map(|entry| entry.key().stored().to_key()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::ValueRef;
    use crate::table::key::fold_char;
    use crate::table::value::tests::{object, recording_releaser};
    use crate::table::value::{ObjectRef, Releaser};
    use std::sync::{Arc, Barrier, Mutex};
    use std::thread;

    fn text(s: &str) -> KeyRef<'_> {
        KeyRef::Text(s)
    }

    /// The owned form, to compare with what the store hands back.
    fn key(s: &str) -> Key {
        Key::Text(s.to_owned())
    }

    fn value_of(store: &Store, key: KeyRef<'_>) -> Option<Value> {
        store.get_value(key).map(|(value, _)| value)
    }

    fn assert_value(store: &Store, key: KeyRef<'_>, expected: &Value) {
        let found = value_of(store, key);
        assert!(
            found.as_ref().is_some_and(|v| v.same_as(expected)),
            "{key:?}: expected {expected:?}, found {found:?}"
        );
    }

    const SHORT: Duration = Duration::from_millis(50);
    const LONG: Duration = Duration::from_secs(10);

    #[test]
    fn store_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Store>();
        check::<Versioned>();
        check::<Swap>();
    }

    #[test]
    fn entries_stay_small() {
        // One map slot per key: the key once (short text inline), the
        // value, the version. A hash table keeps up to twice as many slots
        // as entries, so every byte here counts double in a big table.
        assert_eq!(mem::size_of::<MapKey<IgnoreCase>>(), 16);
        assert_eq!(mem::size_of::<StoredValue>(), 16);
        assert_eq!(mem::size_of::<(MapKey<IgnoreCase>, Stamped)>(), 40);
    }

    #[test]
    fn case_insensitive_keys_fold_and_keep_first_spelling() {
        let store = Store::new(false);
        assert!(!store.case_sensitive());
        let v1 = store.set(text("a"), Value::Int(1));
        let v2 = store.set(text("A"), Value::Int(2));
        assert!(v2 > v1);
        assert_eq!(store.len(), 1);
        let entry = store.get(text("A")).unwrap();
        assert_eq!(entry.key, key("a"), "$h.a=1; $h.A=2 keeps key 'a'");
        assert!(entry.value.same_as(&Value::Int(2)));
        assert_eq!(entry.version, v2);

        store.set(text("Größe"), Value::Int(3));
        assert_value(&store, text("GRÖßE"), &Value::Int(3));
        store.set(text("ß"), Value::Int(4));
        assert!(
            !store.contains(text("SS")),
            "'ß' and 'SS' are different keys"
        );
        store.set(text("SS"), Value::Int(5));
        assert_value(&store, text("ß"), &Value::Int(4));
        assert_value(&store, text("ss"), &Value::Int(5));
        assert_eq!(store.keys().len(), 4);
    }

    #[test]
    fn case_sensitive_keys_are_exact() {
        let store = Store::new(true);
        assert!(store.case_sensitive());
        store.set(text("a"), Value::Int(1));
        store.set(text("A"), Value::Int(2));
        assert_eq!(store.len(), 2);
        assert_value(&store, text("a"), &Value::Int(1));
        assert_value(&store, text("A"), &Value::Int(2));
        assert!(store.get(text("ä")).is_none());
    }

    #[test]
    fn int_and_text_keys_are_different() {
        for case_sensitive in [true, false] {
            let store = Store::new(case_sensitive);
            store.set(KeyRef::Int(1), Value::from("int"));
            store.set(text("1"), Value::from("text"));
            assert_eq!(store.len(), 2);
            assert_value(&store, KeyRef::Int(1), &Value::from("int"));
            assert_value(&store, text("1"), &Value::from("text"));
            assert_eq!(store.remove(KeyRef::Int(1)).unwrap().key, Key::Int(1));
            assert!(store.contains(text("1")));
        }
    }

    #[test]
    fn every_write_bumps_the_version_and_removal_never_reuses_one() {
        let store = Store::new(false);
        let a = store.set(text("k"), Value::Int(1));
        let b = store.set(text("k"), Value::Int(1));
        assert!(b > a);
        let Ok(_) = store.increment(text("k"), Value::Int(1)) else {
            panic!()
        };
        let c = store.get(text("k")).unwrap().version;
        assert!(c > b);
        let removed = store.remove(text("K")).unwrap();
        assert_eq!(removed.version, c);
        assert_eq!(removed.key, key("k"));
        assert!(store.remove(text("k")).is_none());
        let d = store.set(text("k"), Value::Int(1));
        assert!(d > c, "re-added key gets a fresh, higher version");
    }

    #[test]
    fn clear_never_reuses_versions_either() {
        let store = Store::new(true);
        let before = store.set(text("k"), Value::Int(1));
        store.clear();
        assert!(store.get_value(text("k")).is_none());
        assert!(store.set(text("k"), Value::Int(1)) > before);
    }

    #[test]
    fn get_value_matches_get_without_the_key() {
        let store = Store::new(false);
        let version = store.set(text("Name"), Value::from("Ada"));
        let (value, found) = store.get_value(text("NAME")).unwrap();
        assert_eq!(found, version);
        assert!(value.same_as(&Value::from("Ada")));
        let entry = store.get(text("name")).unwrap();
        assert_eq!((entry.key, entry.version), (key("Name"), version));
        assert!(store.get_value(text("other")).is_none());
        assert!(store.get_value(KeyRef::Int(0)).is_none());
    }

    #[test]
    fn many_keys_survive_growth_in_every_spelling() {
        // Shard tables grow and rehash their stored keys many times here;
        // every key must still be found by each spelling afterwards. Covers
        // inline and heap-stored text, ASCII and not, and integers.
        for case_sensitive in [false, true] {
            let store = Store::new(case_sensitive);
            let spell = |i: i64| match i % 4 {
                0 => format!("key-{i}"),
                1 => format!("straße-{i}-ä"),
                2 => format!("a key long enough to live on the heap, number {i}"),
                _ => format!("ſ-ı-{i}"),
            };
            for i in 0..5_000 {
                store.set(text(&spell(i)), Value::Int(i));
                store.set(KeyRef::Int(i), Value::Int(-i));
            }
            assert_eq!(store.len(), 10_000);
            // The spelling .NET's OrdinalIgnoreCase treats as the same key
            // (`to_uppercase` would turn 'ß' into "SS", a different key).
            let other = |text: &str| -> String { text.chars().map(fold_char).collect() };
            for i in 0..5_000 {
                let lower = spell(i);
                let upper = other(&lower);
                assert_value(&store, text(&lower), &Value::Int(i));
                assert_value(&store, KeyRef::Int(i), &Value::Int(-i));
                assert_eq!(
                    store.contains(text(&upper)),
                    !case_sensitive || upper == lower,
                    "{upper:?} (case_sensitive: {case_sensitive})"
                );
            }
            for i in (0..5_000).step_by(2) {
                let removed = store.remove(text(&other(&spell(i))));
                assert_eq!(removed.is_some(), !case_sensitive, "{i}");
            }
            assert_eq!(store.len(), if case_sensitive { 10_000 } else { 7_500 });
        }
    }

    #[test]
    fn increment_numbers() {
        let store = Store::new(false);
        assert!(
            store
                .increment(text("n"), Value::Int(5))
                .unwrap()
                .same_as(&Value::Int(5)),
            "missing starts at 0"
        );
        assert!(
            store
                .increment(text("N"), Value::Int(-7))
                .unwrap()
                .same_as(&Value::Int(-2))
        );
        assert!(
            store
                .increment(text("n"), Value::Double(0.5))
                .unwrap()
                .same_as(&Value::Double(-1.5))
        );
        assert!(
            store
                .increment(text("n"), Value::Int(2))
                .unwrap()
                .same_as(&Value::Double(0.5)),
            "double stays double"
        );
        assert!(
            store
                .increment(text("d"), Value::Double(1.25))
                .unwrap()
                .same_as(&Value::Double(1.25))
        );
        assert_value(&store, text("n"), &Value::Double(0.5));
        assert_eq!(store.get(text("n")).unwrap().key, key("n"));
    }

    #[test]
    fn increment_overflow_changes_nothing() {
        let store = Store::new(false);
        let version = store.set(text("big"), Value::Int(i64::MAX - 1));
        assert!(
            store
                .increment(text("big"), Value::Int(1))
                .unwrap()
                .same_as(&Value::Int(i64::MAX))
        );
        let version_after = store.get(text("big")).unwrap().version;
        assert!(version_after > version);
        assert_eq!(
            store.increment(text("BIG"), Value::Int(1)).unwrap_err(),
            TableError::Overflow { key: "big".into() }
        );
        let entry = store.get(text("big")).unwrap();
        assert!(entry.value.same_as(&Value::Int(i64::MAX)));
        assert_eq!(
            entry.version, version_after,
            "failed increment does not bump the version"
        );

        store.set(KeyRef::Int(-1), Value::Int(i64::MIN));
        assert_eq!(
            store
                .increment(KeyRef::Int(-1), Value::Int(-1))
                .unwrap_err(),
            TableError::Overflow { key: "-1".into() }
        );
        assert!(
            store
                .increment(KeyRef::Int(-1), Value::Double(-1.0))
                .is_ok(),
            "double arithmetic does not overflow"
        );
    }

    #[test]
    fn increment_rejects_non_numbers() {
        let store = Store::new(false);
        let version = store.set(text("s"), Value::from("x"));
        assert_eq!(
            store.increment(text("S"), Value::Int(1)).unwrap_err(),
            TableError::NotNumeric {
                key: "s".into(),
                found: "string"
            }
        );
        assert_eq!(store.get(text("s")).unwrap().version, version);
        assert_value(&store, text("s"), &Value::from("x"));

        assert_eq!(
            store.increment(text("new"), Value::from("1")).unwrap_err(),
            TableError::DeltaNotNumeric("string")
        );
        assert_eq!(
            store.increment(text("new"), Value::Null).unwrap_err(),
            TableError::DeltaNotNumeric("null")
        );
        assert!(
            !store.contains(text("new")),
            "failed increment of a missing key adds nothing"
        );
        store.set(text("b"), Value::Bool(true));
        assert_eq!(
            store.increment(text("b"), Value::Int(1)).unwrap_err(),
            TableError::NotNumeric {
                key: "b".into(),
                found: "bool"
            }
        );
    }

    #[test]
    fn compare_exchange_swaps_only_on_match() {
        let store = Store::new(false);
        match store.compare_exchange(text("k"), &Value::Null, Value::Int(1)) {
            Swap::Mismatch { current: None } => {}
            other => panic!("missing key must not swap: {other:?}"),
        }
        assert!(!store.contains(text("k")));

        let v1 = store.set(text("k"), Value::Int(1));
        let Swap::Swapped { version: v2 } =
            store.compare_exchange(text("K"), &Value::Int(1), Value::Int(2))
        else {
            panic!()
        };
        assert!(v2 > v1);
        assert_value(&store, text("k"), &Value::Int(2));
        match store.compare_exchange(text("k"), &Value::Int(1), Value::Int(3)) {
            Swap::Mismatch {
                current: Some(current),
            } => {
                assert!(current.value.same_as(&Value::Int(2)));
                assert_eq!(current.version, v2);
                assert_eq!(current.key, key("k"));
            }
            other => panic!("{other:?}"),
        }
        match store.compare_exchange(text("k"), &Value::Double(2.0), Value::Int(3)) {
            Swap::Mismatch { .. } => {}
            other => panic!("Int(2) is not Double(2.0): {other:?}"),
        }
        store.set(text("nan"), Value::Double(f64::NAN));
        assert!(matches!(
            store.compare_exchange(text("nan"), &Value::Double(f64::NAN), Value::Double(1.0)),
            Swap::Swapped { .. }
        ));
    }

    #[test]
    fn get_or_add_adds_once() {
        let store = Store::new(false);
        let (added, was_added) = store.get_or_add(text("Key"), Value::Int(1));
        assert!(was_added);
        assert_eq!(added.key, key("Key"));
        assert!(added.value.same_as(&Value::Int(1)));
        let (found, was_added) = store.get_or_add(text("KEY"), Value::Int(2));
        assert!(!was_added);
        assert_eq!(found.key, key("Key"));
        assert!(found.value.same_as(&Value::Int(1)));
        assert_eq!(found.version, added.version);
    }

    #[test]
    fn replace_if_version_is_optimistic() {
        let store = Store::new(false);
        let Swap::Swapped { version: v1 } =
            store.replace_if_version(text("k"), None, Value::Int(1))
        else {
            panic!()
        };
        match store.replace_if_version(text("K"), None, Value::Int(9)) {
            Swap::Mismatch {
                current: Some(current),
            } => assert_eq!(current.version, v1),
            other => panic!("None means 'must be absent': {other:?}"),
        }
        let Swap::Swapped { version: v2 } =
            store.replace_if_version(text("K"), Some(v1), Value::Int(2))
        else {
            panic!()
        };
        assert!(v2 > v1);
        assert_eq!(store.get(text("k")).unwrap().key, key("k"));
        match store.replace_if_version(text("k"), Some(v1), Value::Int(3)) {
            Swap::Mismatch {
                current: Some(current),
            } => {
                assert_eq!(current.version, v2);
                assert!(current.value.same_as(&Value::Int(2)));
            }
            other => panic!("stale version must conflict: {other:?}"),
        }
        assert!(matches!(
            store.replace_if_version(text("missing"), Some(v2), Value::Int(1)),
            Swap::Mismatch { current: None }
        ));
        assert!(!store.contains(text("missing")));
        assert_value(&store, text("k"), &Value::Int(2));
    }

    #[test]
    fn remove_if_version_checks_the_version() {
        let store = Store::new(false);
        let v1 = store.set(text("k"), Value::Int(1));
        let v2 = store.set(text("k"), Value::Int(2));
        match store.remove_if_version(text("K"), v1) {
            Swap::Mismatch {
                current: Some(current),
            } => assert_eq!(current.version, v2),
            other => panic!("{other:?}"),
        }
        assert!(store.contains(text("k")));
        assert!(
            matches!(store.remove_if_version(text("K"), v2), Swap::Swapped { version } if version == v2)
        );
        assert!(!store.contains(text("k")));
        assert!(matches!(
            store.remove_if_version(text("k"), v2),
            Swap::Mismatch { current: None }
        ));
    }

    #[test]
    fn clear_len_keys_snapshot() {
        let store = Store::new(false);
        assert!(store.is_empty());
        for i in 0..100 {
            store.set(KeyRef::Int(i), Value::Int(i * 2));
        }
        store.set(text("Mixed"), Value::Null);
        assert_eq!(store.len(), 101);
        assert!(!store.is_empty());
        let mut snapshot = store.snapshot();
        assert_eq!(snapshot.len(), 101);
        snapshot.retain(|e| matches!(e.key, Key::Int(_)));
        for e in &snapshot {
            let Key::Int(i) = e.key else { unreachable!() };
            assert!(e.value.same_as(&Value::Int(i * 2)));
        }
        assert!(store.keys().contains(&key("Mixed")));
        store.clear();
        assert!(store.is_empty());
        assert!(store.snapshot().is_empty());
        assert!(store.get(KeyRef::Int(5)).is_none());
        assert!(format!("{store:?}").contains("len: 0"));
    }

    #[test]
    fn wait_for_returns_at_once_when_satisfied() {
        let store = Store::new(false);
        let v = store.set(text("k"), Value::Int(1));
        assert_eq!(
            store
                .wait_for(text("K"), None, Duration::ZERO, None).ready()
                .unwrap()
                .version,
            v
        );
        assert_eq!(
            store
                .wait_for(text("k"), Some(v - 1), LONG, None).ready()
                .unwrap()
                .version,
            v
        );
        assert!(
            store.wait_for(text("k"), Some(v), Duration::ZERO, None).ready().is_none(),
            "zero timeout checks once"
        );
        assert!(store.wait_for(text("nope"), None, Duration::ZERO, None).ready().is_none());
    }

    #[test]
    fn wait_for_times_out() {
        let store = Store::new(false);
        let start = Instant::now();
        assert!(store.wait_for(text("k"), None, SHORT, None).ready().is_none());
        let waited = start.elapsed();
        assert!(waited >= SHORT, "returned early: {waited:?}");
        assert!(waited < Duration::from_secs(5), "returned late: {waited:?}");
        let v = store.set(text("k"), Value::Int(1));
        let start = Instant::now();
        assert!(store.wait_for(text("k"), Some(v), SHORT, None).ready().is_none());
        assert!(start.elapsed() >= SHORT);
    }

    #[test]
    fn wait_for_wakes_on_set_from_another_thread() {
        let store = Arc::new(Store::new(false));
        let ready = Arc::new(Barrier::new(2));
        let waiter = {
            let (store, ready) = (Arc::clone(&store), Arc::clone(&ready));
            thread::spawn(move || {
                ready.wait();
                let start = Instant::now();
                (store.wait_for(text("KEY"), None, LONG, None).ready(), start.elapsed())
            })
        };
        ready.wait();
        thread::sleep(Duration::from_millis(20));
        // Writes to other keys (maybe in the same wait slot) do not satisfy it.
        for i in 0..50 {
            store.set(KeyRef::Int(i), Value::Int(i));
        }
        let version = store.set(text("key"), Value::from("here"));
        let (found, waited) = waiter.join().unwrap();
        let found = found.expect("woken by the write");
        assert_eq!(found.version, version);
        assert_eq!(found.key, key("key"));
        assert!(waited < LONG / 2, "woken, not timed out: {waited:?}");
    }

    #[test]
    fn wait_for_after_version_needs_a_newer_write() {
        let store = Arc::new(Store::new(true));
        let v1 = store.set(text("k"), Value::Int(1));
        let waiter = {
            let store = Arc::clone(&store);
            thread::spawn(move || store.wait_for(text("k"), Some(v1), LONG, None).ready())
        };
        thread::sleep(Duration::from_millis(20));
        let Ok(Value::Int(2)) = store.increment(text("k"), Value::Int(1)) else {
            panic!()
        };
        let found = waiter.join().unwrap().expect("woken by the increment");
        assert!(found.version > v1);
        assert!(found.value.same_as(&Value::Int(2)));
    }

    #[test]
    fn wait_for_wakes_on_every_kind_of_write() {
        type Write = fn(&Store);
        let writes: [Write; 4] = [
            |s| {
                s.get_or_add(text("k"), Value::Null);
            },
            |s| {
                s.replace_if_version(text("k"), None, Value::Null);
            },
            |s| {
                s.increment(text("k"), Value::Int(1)).unwrap();
            },
            |s| {
                s.compare_exchange(text("k"), &Value::Null, Value::Null);
                s.set(text("k"), Value::Null);
            },
        ];
        for write in writes {
            let store = Arc::new(Store::new(false));
            let waiter = {
                let store = Arc::clone(&store);
                thread::spawn(move || store.wait_for(text("K"), None, LONG, None).ready().is_some())
            };
            thread::sleep(Duration::from_millis(10));
            write(&store);
            assert!(waiter.join().unwrap());
        }
    }

    #[test]
    fn many_waiters_all_wake() {
        let store = Arc::new(Store::new(false));
        let waiters: Vec<_> = (0..8)
            .map(|i| {
                let store = Arc::clone(&store);
                thread::spawn(move || store.wait_for(KeyRef::Int(i % 2), None, LONG, None).ready().is_some())
            })
            .collect();
        thread::sleep(Duration::from_millis(20));
        store.set(KeyRef::Int(0), Value::Null);
        store.set(KeyRef::Int(1), Value::Null);
        assert!(waiters.into_iter().all(|w| w.join().unwrap()));
    }

    #[test]
    fn key_locks_through_the_store() {
        let store = Store::new(false);
        assert!(store.lock_key(text("Account"), 1, Duration::ZERO, None).ready().is_some());
        assert!(
            store.lock_key(text("ACCOUNT"), 1, Duration::ZERO, None).ready().is_some(),
            "reentrant, folded"
        );
        assert!(store.lock_key(text("account"), 2, SHORT, None).ready().is_none());
        assert_eq!(store.lock_holder(text("account")), Some((1, 2)));
        assert_eq!(
            store.unlock_key(text("account"), 2),
            Err(TableError::NotLockOwner {
                key: "account".into()
            })
        );
        store.unlock_key(text("account"), 1).unwrap();
        store.unlock_key(text("account"), 1).unwrap();
        assert!(store.unlock_key(text("account"), 1).is_err());
        assert!(
            !store.contains(text("account")),
            "locking does not create the key"
        );
        assert!(store.lock_key(KeyRef::Int(1), 3, Duration::ZERO, None).ready().is_some());
        assert!(store.lock_key(KeyRef::Int(2), 3, Duration::ZERO, None).ready().is_some());
        store.unlock_all(3);
        assert_eq!(store.lock_holder(KeyRef::Int(1)), None);
        assert!(store.lock_key(KeyRef::Int(2), 4, Duration::ZERO, None).ready().is_some());
    }

    #[test]
    fn key_lock_excludes_other_owners_across_threads() {
        let store = Arc::new(Store::new(false));
        let counter = Arc::new(Mutex::new((0u32, 0u32)));
        let threads: Vec<_> = (0..4u64)
            .map(|owner| {
                let (store, counter) = (Arc::clone(&store), Arc::clone(&counter));
                thread::spawn(move || {
                    for _ in 0..200 {
                        assert!(store.lock_key(text("pair"), owner, LONG, None).ready().is_some());
                        // Two-step update that would tear without the lock.
                        let (a, _) = *counter.lock().unwrap();
                        counter.lock().unwrap().0 = a + 1;
                        thread::yield_now();
                        let (a, b) = *counter.lock().unwrap();
                        assert_eq!(a, b + 1, "another owner got into the critical section");
                        counter.lock().unwrap().1 = b + 1;
                        store.unlock_key(text("pair"), owner).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*counter.lock().unwrap(), (800, 800));
    }

    #[test]
    fn object_released_once_when_overwritten_removed_cleared_or_dropped() {
        let (releaser, released) = recording_releaser();
        let released_ids = || {
            let mut ids = released.lock().unwrap().clone();
            ids.sort_unstable();
            ids
        };
        let store = Store::new(false);

        store.set(text("a"), object(1, &releaser));
        assert!(released_ids().is_empty(), "not released while stored");
        let copy = store.get(text("a")).unwrap();
        store.set(text("A"), Value::Int(0));
        assert!(released_ids().is_empty(), "a copy from get keeps it alive");
        drop(copy);
        assert_eq!(released_ids(), [1], "released when overwritten");

        store.set(text("b"), object(2, &releaser));
        let removed = store.remove(text("b")).unwrap();
        assert_eq!(released_ids(), [1]);
        drop(removed);
        assert_eq!(
            released_ids(),
            [1, 2],
            "released when the removed value is dropped"
        );

        store.set(text("c"), object(3, &releaser));
        assert!(matches!(
            store.compare_exchange(text("c"), &object(3, &releaser), Value::Null),
            Swap::Swapped { .. }
        ));
        assert_eq!(
            released_ids(),
            [1, 2, 3, 3],
            "the expected-value copy and the stored one"
        );

        let v = store.set(text("d"), object(4, &releaser));
        store.replace_if_version(text("d"), Some(v), Value::Null);
        assert_eq!(released_ids(), [1, 2, 3, 3, 4]);

        let v = store.set(text("e"), object(5, &releaser));
        store.remove_if_version(text("e"), v);
        assert_eq!(released_ids(), [1, 2, 3, 3, 4, 5]);

        store.set(text("f"), object(6, &releaser));
        store.set(text("g"), object(7, &releaser));
        store.set(text("h"), Value::Int(1));
        store.clear();
        assert_eq!(released_ids(), [1, 2, 3, 3, 4, 5, 6, 7]);

        store.set(text("i"), object(8, &releaser));
        let (_, added) = store.get_or_add(text("i"), object(9, &releaser));
        assert!(!added);
        assert_eq!(
            released_ids(),
            [1, 2, 3, 3, 4, 5, 6, 7, 9],
            "an unused get_or_add value is released"
        );
        store.compare_exchange(text("i"), &Value::Null, object(10, &releaser));
        assert_eq!(
            released_ids(),
            [1, 2, 3, 3, 4, 5, 6, 7, 9, 10],
            "a rejected CAS value is released"
        );
        drop(store);
        assert_eq!(
            released_ids(),
            [1, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10],
            "released when the store is dropped"
        );
    }

    #[test]
    fn releaser_may_call_back_into_the_store() {
        // If a value were dropped while a shard lock is held, this releaser
        // would deadlock (DashMap locks are not reentrant).
        let store: Arc<Mutex<Option<Arc<Store>>>> = Arc::new(Mutex::new(None));
        let calls = Arc::new(Mutex::new(0usize));
        let releaser: Releaser = {
            let (store, calls) = (Arc::clone(&store), Arc::clone(&calls));
            Arc::new(move |_| {
                let current = store.lock().unwrap().clone();
                if let Some(current) = current {
                    current.snapshot();
                    current.set(text("released"), Value::Bool(true));
                    *calls.lock().unwrap() += 1;
                }
            })
        };
        let table = Arc::new(Store::new(false));
        *store.lock().unwrap() = Some(Arc::clone(&table));
        let obj = || Value::Object(Arc::new(ObjectRef::new(1, Arc::clone(&releaser))));

        table.set(text("k"), obj());
        table.set(text("k"), Value::Null);
        let v = table.set(text("k"), obj());
        table.replace_if_version(text("k"), Some(v), Value::Null);
        table.set(text("k"), obj());
        table.compare_exchange(text("k"), &Value::Null, obj());
        table.compare_exchange(
            text("k"),
            &Value::Object(Arc::new(ObjectRef::new(1, Arc::new(|_| {})))),
            Value::Null,
        );
        table.get_or_add(text("released"), obj());
        let v = table.set(text("k"), obj());
        table.remove_if_version(text("k"), v);
        table.set(text("k"), obj());
        table.clear();
        assert_eq!(*calls.lock().unwrap(), 7);
        *store.lock().unwrap() = None;
    }

    #[test]
    fn view_sees_the_value_in_place() {
        let store = Store::new(false);
        let v = store.set(text("Name"), Value::from("Ada"));
        let seen = store.view(text("NAME"), |value, version| match value {
            ValueRef::Text(name) => (name.to_owned(), version),
            other => panic!("{other:?}"),
        });
        assert_eq!(seen, Some(("Ada".to_owned(), v)));
        assert_eq!(store.view(text("missing"), |_, _| ()), None);
    }

    #[test]
    fn close_empties_the_store_and_releases_objects() {
        let (releaser, released) = recording_releaser();
        let store = Store::new(false);
        store.set(text("a"), Value::Int(1));
        store.set(text("obj"), object(5, &releaser));
        assert!(!store.is_closed());
        store.close();
        assert!(store.is_closed());
        assert!(store.is_empty());
        assert_eq!(*released.lock().unwrap(), [5]);
        store.close();
        assert!(store.is_closed(), "close is idempotent");
        // A write after the close (a caller that raced with it) leaves nothing.
        store.set(text("late"), object(6, &releaser));
        assert!(store.is_empty());
        assert_eq!(*released.lock().unwrap(), [5, 6]);
    }

    /// Every scalar, with the value it stands for.
    fn scalars() -> [(Scalar, Value); 6] {
        [
            (Scalar::Null, Value::Null),
            (Scalar::Bool(true), Value::Bool(true)),
            (Scalar::Int(-7), Value::Int(-7)),
            (Scalar::Double(2.5), Value::Double(2.5)),
            (Scalar::DateTime { ticks: 638_000_000_000_000_000, kind: 1 }, Value::DateTime { ticks: 638_000_000_000_000_000, kind: 1 }),
            (Scalar::Int(i64::MAX), Value::Int(i64::MAX)),
        ]
    }

    #[test]
    fn scalar_writes_store_what_value_writes_store() {
        let (releaser, released) = recording_releaser();
        let store = Store::new(false);
        for (scalar, value) in scalars() {
            let before = store.get(text("k")).map(|entry| entry.version);
            let version = store.set_scalar_unless_object(text("K"), scalar).expect("a plain key is written");
            assert!(before.is_none_or(|b| version > b), "a newer version");
            assert_eq!(store.get(text("k")).unwrap().version, version, "the version answered is the one stored");
            assert_value(&store, text("k"), &value);
        }
        store.set(text("obj"), object(3, &releaser));
        let before = store.get(text("obj")).unwrap().version;
        assert_eq!(store.set_scalar_unless_object(text("obj"), Scalar::Int(1)), None, "an object is not replaced");
        assert_eq!(store.get(text("obj")).unwrap().version, before, "nothing written");
        assert!(released.lock().unwrap().is_empty(), "and not released");
    }

    #[test]
    fn scalar_increments_answer_as_value_increments_do() {
        for (scalar, value) in scalars() {
            let by_scalar = Store::new(false);
            let by_value = Store::new(false);
            for store in [&by_scalar, &by_value] {
                store.set(text("n"), Value::Int(i64::MAX - 1));
                store.set(text("s"), Value::from("x"));
            }
            for key in ["n", "N", "s", "new"] {
                let a = by_scalar.increment_scalar(text(key), scalar);
                let b = by_value.increment(text(key), value.clone());
                match (&a, &b) {
                    (Ok(x), Ok(y)) => assert!(x.same_as(y), "{key} by {scalar:?}: {x:?} vs {y:?}"),
                    (Err(x), Err(y)) => assert_eq!(x, y, "{key} by {scalar:?}"),
                    _ => panic!("{key} by {scalar:?}: {a:?} vs {b:?}"),
                }
            }
        }
        // The errors name the key as the table stores it.
        let store = Store::new(false);
        store.set(text("Big"), Value::Int(i64::MAX));
        assert_eq!(
            store.increment_scalar(text("BIG"), Scalar::Int(1)).unwrap_err(),
            TableError::Overflow { key: "Big".into() }
        );
        assert_eq!(
            store.increment_scalar(text("x"), Scalar::Bool(false)).unwrap_err(),
            TableError::DeltaNotNumeric("bool")
        );
    }

    #[test]
    fn set_unless_object_never_adopts_or_releases_an_object() {
        let (releaser, released) = recording_releaser();
        let store = Store::new(false);
        let first = store.set_unless_object(text("k"), Value::Int(1)).expect("a new key is written");
        let second = store.set_unless_object(text("K"), Value::from("text")).expect("a plain value is replaced");
        assert!(second > first);
        assert!(store.get_value(text("k")).unwrap().0.same_as(&Value::from("text")));
        store.set(text("k"), object(7, &releaser));
        let before = store.get_value(text("k")).unwrap().1;
        assert_eq!(store.set_unless_object(text("k"), Value::Int(2)), None, "an object is not replaced");
        assert_eq!(store.get_value(text("k")).unwrap().1, before, "nothing written: the version stays");
        assert!(released.lock().unwrap().is_empty(), "and not released");
        assert_eq!(store.set_unless_object(text("other"), object(8, &releaser)), None, "an object is not taken");
        assert!(store.get_value(text("other")).is_none());
        assert_eq!(*released.lock().unwrap(), [8], "the refused object is the caller's to drop");
        store.set(text("k"), Value::Int(3));
        assert_eq!(*released.lock().unwrap(), [8, 7]);
    }

    #[test]
    fn plain_writes_after_a_close_sweep_their_own_entry() {
        let store = Store::new(false);
        store.close();
        assert!(store.set_unless_object(text("late"), Value::Int(1)).is_some());
        assert!(store.increment(text("counter"), Value::Int(1)).is_ok());
        assert!(store.is_empty());
    }

    #[test]
    fn close_ends_waits_and_lock_waits_at_once() {
        let store = Arc::new(Store::new(false));
        assert!(store.lock_key(text("held"), 1, Duration::ZERO, None).ready().is_some());
        let waiter = {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                let start = Instant::now();
                (store.wait_for(text("never"), None, Duration::MAX, None), start.elapsed())
            })
        };
        let locker = {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                let start = Instant::now();
                (store.lock_key(text("held"), 2, Duration::MAX, None), start.elapsed())
            })
        };
        thread::sleep(Duration::from_millis(50));
        store.close();
        let (waited, took) = waiter.join().unwrap();
        assert!(matches!(waited, Waited::Closed), "{waited:?}");
        assert!(took < LONG, "woken by the close: {took:?}");
        let (locked, took) = locker.join().unwrap();
        assert_eq!(locked, Waited::Closed);
        assert!(took < LONG, "woken by the close: {took:?}");
        assert!(matches!(store.wait_for(text("k"), None, LONG, None), Waited::Closed), "later waits end at once");
        assert_eq!(store.lock_key(text("x"), 3, LONG, None), Waited::Closed);
    }

    #[test]
    fn a_cancel_ends_a_wait_at_once_and_refuses_later_ones() {
        let store = Arc::new(Store::new(true));
        let cancel = Cancel::new();
        let waiter = {
            let (store, cancel) = (Arc::clone(&store), cancel.clone());
            thread::spawn(move || {
                let start = Instant::now();
                (store.wait_for(text("never"), None, Duration::MAX, Some(&cancel)), start.elapsed())
            })
        };
        thread::sleep(Duration::from_millis(50));
        cancel.cancel();
        let (waited, took) = waiter.join().unwrap();
        assert!(matches!(waited, Waited::Cancelled), "{waited:?}");
        assert!(took < LONG, "woken by the cancel: {took:?}");
        store.set(text("here"), Value::Int(1));
        assert!(
            matches!(store.wait_for(text("here"), None, LONG, Some(&cancel)), Waited::Cancelled),
            "a fired signal refuses even a wait that would succeed"
        );
        assert!(store.wait_for(text("here"), None, LONG, None).ready().is_some());
        assert!(!store.is_closed(), "a caller's cancel does not close the store");
    }

    #[test]
    fn clocks_follow_dashmap_shards() {
        // `tick` relies on a clock being advanced only under its shard's lock:
        // the shard DashMap picks for a hash must be the clock `clock_of` picks.
        let map: DashMap<u64, (), PassThrough> = DashMap::with_capacity_and_hasher_and_shard_amount(0, PassThrough, SHARDS);
        let mut hash = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            hash = hash.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            assert_eq!(map.determine_shard(hash as usize), clock_of(hash), "hash {hash:#x}");
        }
        for key in ["", "a", "k999999", "Größe"] {
            let probe = Probe::<IgnoreCase>::new(text(key));
            assert_eq!(map.determine_shard(probe.hash() as usize), clock_of(probe.hash()));
        }
    }
}
