//! Table keys and the two ways of comparing them.
//!
//! A key is either text or a 64-bit integer, exactly like the keys a
//! PowerShell user puts in a `[hashtable]`: `'1'` and `1` are different keys.
//!
//! Text comparison comes in two flavours, picked once per table:
//! - `Ordinal`: byte-for-byte (`StringComparer.Ordinal`).
//! - `IgnoreCase`: .NET `StringComparer.OrdinalIgnoreCase`, i.e. every char
//!   is mapped to its *simple* uppercase form before comparing. A char whose
//!   uppercase form is more than one char (`'ß'` → `"SS"`) stays as it is, so
//!   `'ß'` never equals `"SS"` — the same answer .NET gives.
//!
//! Callers name keys with a borrowed [`KeyRef`], so a lookup never allocates;
//! a table makes an owned copy (`StoredKey`, wrapped in [`MapKey`]) only when
//! it adds a new entry. Maps find a `MapKey` from a `KeyRef` through the
//! [`Lookup`] trait object (see [`Probe`]).
//! It stores every key exactly once, in the spelling it had when it was
//! first inserted; hashing and equality fold on the fly instead of keeping a
//! folded copy next to it.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::marker::PhantomData;

use compact_str::CompactString;
use once_cell::sync::Lazy;

/// A table key: text or a 64-bit integer.
///
/// `Key::Text("1")` and `Key::Int(1)` are different keys, as in a .NET
/// `Hashtable`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Key {
    Text(String),
    Int(i64),
}

impl fmt::Display for Key {
    /// The form shown to users in messages: text as is, integers in decimal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Text(text) => f.write_str(text),
            Key::Int(n) => write!(f, "{n}"),
        }
    }
}

impl Key {
    /// The borrowed form every [`Store`](super::Store) method takes.
    #[inline]
    pub fn as_key_ref(&self) -> KeyRef<'_> {
        KeyRef::from(self)
    }
}

/// A borrowed key: what [`Store`](super::Store) methods take, so that naming
/// a key (to read it, or to write a key that already exists) allocates
/// nothing.
///
/// `KeyRef::Text("1")` and `KeyRef::Int(1)` are different keys. The derived
/// `Eq`/`Hash` are ordinal; a store compares keys by its own rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyRef<'a> {
    Text(&'a str),
    Int(i64),
}

impl KeyRef<'_> {
    /// An owned copy (allocates for text).
    pub fn to_owned(&self) -> Key {
        match *self {
            KeyRef::Text(text) => Key::Text(text.to_owned()),
            KeyRef::Int(n) => Key::Int(n),
        }
    }
}

impl fmt::Display for KeyRef<'_> {
    /// Same form as [`Key`]'s: text as is, integers in decimal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyRef::Text(text) => f.write_str(text),
            KeyRef::Int(n) => write!(f, "{n}"),
        }
    }
}

impl<'a> From<&'a Key> for KeyRef<'a> {
    #[inline]
    fn from(key: &'a Key) -> Self {
        match key {
            Key::Text(text) => KeyRef::Text(text),
            Key::Int(n) => KeyRef::Int(*n),
        }
    }
}

impl<'a> From<&'a str> for KeyRef<'a> {
    #[inline]
    fn from(text: &'a str) -> Self {
        KeyRef::Text(text)
    }
}

impl From<i64> for KeyRef<'_> {
    #[inline]
    fn from(n: i64) -> Self {
        KeyRef::Int(n)
    }
}

impl From<&str> for Key {
    fn from(text: &str) -> Self {
        Key::Text(text.to_owned())
    }
}

impl From<String> for Key {
    fn from(text: String) -> Self {
        Key::Text(text)
    }
}

impl From<i64> for Key {
    fn from(n: i64) -> Self {
        Key::Int(n)
    }
}

/// Maps one char the way .NET `OrdinalIgnoreCase` does: to its uppercase form
/// when that is a single char, otherwise to itself, except for the handful of
/// characters in [`DOTNET_EXCEPTIONS`].
#[inline]
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    if let Ok(i) = DOTNET_EXCEPTIONS.binary_search_by_key(&c, |&(from, _)| from) {
        return DOTNET_EXCEPTIONS[i].1;
    }
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(single), None) => single,
        _ => c,
    }
}

/// Characters whose .NET `OrdinalIgnoreCase` upper form differs from the
/// rule above, sorted by the first column: `(char, what .NET folds it to)`.
///
/// Derived by comparing every BMP character against .NET 10 (the C# test
/// `CaseFoldingTests` re-checks all of them against the running .NET):
/// - U+0131 'ı' and U+017F 'ſ': .NET deliberately leaves them unmapped.
/// - Greek letters with iota subscript (U+1F80..U+1FF3): their full uppercase
///   is two characters, but .NET uses the one-character simple mapping.
/// - Letters added in Unicode 16 (U+019B, U+0264, U+1C8A, U+A7CB..U+A7DC),
///   which Rust's tables know and .NET 10's do not yet: kept unmapped.
const DOTNET_EXCEPTIONS: [(char, char); 37] = [
    ('\u{0131}', '\u{0131}'),
    ('\u{017F}', '\u{017F}'),
    ('\u{019B}', '\u{019B}'),
    ('\u{0264}', '\u{0264}'),
    ('\u{1C8A}', '\u{1C8A}'),
    ('\u{1F80}', '\u{1F88}'),
    ('\u{1F81}', '\u{1F89}'),
    ('\u{1F82}', '\u{1F8A}'),
    ('\u{1F83}', '\u{1F8B}'),
    ('\u{1F84}', '\u{1F8C}'),
    ('\u{1F85}', '\u{1F8D}'),
    ('\u{1F86}', '\u{1F8E}'),
    ('\u{1F87}', '\u{1F8F}'),
    ('\u{1F90}', '\u{1F98}'),
    ('\u{1F91}', '\u{1F99}'),
    ('\u{1F92}', '\u{1F9A}'),
    ('\u{1F93}', '\u{1F9B}'),
    ('\u{1F94}', '\u{1F9C}'),
    ('\u{1F95}', '\u{1F9D}'),
    ('\u{1F96}', '\u{1F9E}'),
    ('\u{1F97}', '\u{1F9F}'),
    ('\u{1FA0}', '\u{1FA8}'),
    ('\u{1FA1}', '\u{1FA9}'),
    ('\u{1FA2}', '\u{1FAA}'),
    ('\u{1FA3}', '\u{1FAB}'),
    ('\u{1FA4}', '\u{1FAC}'),
    ('\u{1FA5}', '\u{1FAD}'),
    ('\u{1FA6}', '\u{1FAE}'),
    ('\u{1FA7}', '\u{1FAF}'),
    ('\u{1FB3}', '\u{1FBC}'),
    ('\u{1FC3}', '\u{1FCC}'),
    ('\u{1FF3}', '\u{1FFC}'),
    ('\u{A7CD}', '\u{A7CD}'),
    ('\u{A7CF}', '\u{A7CF}'),
    ('\u{A7D3}', '\u{A7D3}'),
    ('\u{A7D5}', '\u{A7D5}'),
    ('\u{A7DB}', '\u{A7DB}'),
];

/// How a table compares and hashes the text of its keys.
///
/// Integer keys always compare by value; the two text rules only differ for
/// `Key::Text`. Implementations must keep `hash_text` consistent with
/// `text_eq`: texts that are equal must feed the hasher identically.
pub(crate) trait Comparer: Send + Sync + 'static {
    fn text_eq(a: &str, b: &str) -> bool;
    fn hash_text<H: Hasher>(text: &str, state: &mut H);
}

/// Byte-for-byte comparison (`StringComparer.Ordinal`).
pub(crate) struct Ordinal;

/// .NET `StringComparer.OrdinalIgnoreCase`: compares simple-uppercase forms.
pub(crate) struct IgnoreCase;

impl Comparer for Ordinal {
    #[inline]
    fn text_eq(a: &str, b: &str) -> bool {
        a == b
    }

    #[inline]
    fn hash_text<H: Hasher>(text: &str, state: &mut H) {
        text.hash(state);
    }
}

impl Comparer for IgnoreCase {
    #[inline]
    fn text_eq(a: &str, b: &str) -> bool {
        // Cheap answers first: lookups mostly use the stored spelling, and
        // texts that differ only in ASCII case fold-match whatever else they
        // hold. Two ASCII texts that fail that cannot match; anything else
        // needs the char walk (which also says no when only one of the two
        // is ASCII, since no non-ASCII char folds to an ASCII one).
        // `eq_ignoring_ascii_case` compares eight bytes at a time and also
        // accepts identical texts; `a == b` first cost a call to libc's
        // memcmp on every lookup, more than the whole comparison of a short
        // key, and std's `eq_ignore_ascii_case` byte loop took a fifth of a
        // lookup of an 8-byte key.
        if eq_ignoring_ascii_case(a.as_bytes(), b.as_bytes()) {
            return true;
        }
        if a.is_ascii() && b.is_ascii() {
            return false;
        }
        a.chars().map(fold_char).eq(b.chars().map(fold_char))
    }

    #[inline(always)]
    fn hash_text<H: Hasher>(text: &str, state: &mut H) {
        // Hashes the folded text without ever allocating a folded copy.
        if text.is_ascii() {
            // ASCII text only ever equals ASCII text (no non-ASCII char folds
            // to an ASCII one: see `no_non_ascii_char_folds_to_ascii`), so
            // this path need not feed the hasher the way the loop below
            // does. It folds eight bytes at a time in a register; folding
            // byte by byte into a stack buffer and then hashing the buffer
            // stalled on store forwarding and took about half of a lookup.
            let bytes = text.as_bytes();
            if bytes.len() < 8 {
                // The commonest key, in one word: the folded bytes with the
                // length in the top byte (so zero padding is unambiguous),
                // one write where the general form below takes two.
                state.write_u64(ascii_uppercase_word(packed_word(bytes)) | (bytes.len() as u64) << 56);
                return;
            }
            // The length first, so zero padding of the last word is unambiguous.
            state.write_usize(bytes.len());
            let mut words = bytes.chunks_exact(8);
            for word in &mut words {
                let word: [u8; 8] = word.try_into().expect("chunks of 8");
                state.write_u64(ascii_uppercase_word(u64::from_le_bytes(word)));
            }
            let rest = words.remainder();
            if !rest.is_empty() {
                state.write_u64(ascii_uppercase_word(packed_word(rest)));
            }
            return;
        }
        hash_folded_text(text, state);
    }
}

/// [`IgnoreCase::hash_text`] of text that is not all ASCII, kept out of line
/// so that the ASCII path stays small enough to inline into every lookup.
#[inline(never)]
fn hash_folded_text<H: Hasher>(text: &str, state: &mut H) {
    // Feed the UTF-8 of the folded text through a stack buffer. The
    // sequence of `write` calls depends only on the folded chars, so
    // equal keys hash identically whatever their spelling (hashers need
    // not treat split writes like one write).
    let mut buf = [0u8; 64];
    let mut len = 0;
    for c in text.chars() {
        let folded = fold_char(c);
        let width = folded.len_utf8();
        if len + width > buf.len() {
            state.write(&buf[..len]);
            len = 0;
        }
        folded.encode_utf8(&mut buf[len..]);
        len += width;
    }
    if len > 0 {
        state.write(&buf[..len]);
    }
    // Terminator, as `str` does, so ("ab","c") and ("a","bc") differ
    // inside composite hashes.
    state.write_u8(0xff);
}

/// Uppercases the ASCII letters among the eight bytes packed in `word`, as
/// `u8::to_ascii_uppercase` does for each byte (bytes from 0x80 up, such as
/// the parts of a multi-byte UTF-8 char, stay as they are).
#[inline]
fn ascii_uppercase_word(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // With each byte's high bit cleared neither sum carries into the next
    // byte: the high bit of each byte then says ">= 'a'" and "> 'z'".
    let low = word & !HIGH;
    let at_least_a = low + ONES * u64::from(0x80 - b'a');
    let above_z = low + ONES * u64::from(0x80 - b'z' - 1);
    // `!word` drops the bytes from 0x80 up, which are no letters.
    let lowercase = at_least_a & !above_z & !word & HIGH;
    // 0x80 >> 2 == 0x20, the case bit; lowercase bytes have it set.
    word - (lowercase >> 2)
}

/// Up to eight bytes packed into a word, little-endian, zero above them.
#[inline]
fn packed_word(bytes: &[u8]) -> u64 {
    debug_assert!(bytes.len() <= 8);
    bytes
        .iter()
        .rev()
        .fold(0u64, |word, &byte| word << 8 | u64::from(byte))
}

/// The eight bytes of `bytes` from `at` as a little-endian word.
#[inline]
fn word_at(bytes: &[u8], at: usize) -> u64 {
    let word: [u8; 8] = bytes[at..at + 8].try_into().expect("eight bytes");
    u64::from_le_bytes(word)
}

/// `a.eq_ignore_ascii_case(b)`, eight bytes at a time.
#[inline]
fn eq_ignoring_ascii_case(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let same = |a: u64, b: u64| a == b || ascii_uppercase_word(a) == ascii_uppercase_word(b);
    let len = a.len();
    if len < 8 {
        return same(packed_word(a), packed_word(b));
    }
    let mut at = 0;
    while at + 8 <= len {
        if !same(word_at(a, at), word_at(b, at)) {
            return false;
        }
        at += 8;
    }
    // The last word overlaps the one before it: bytes compared twice
    // compare alike twice.
    at == len || same(word_at(a, len - 8), word_at(b, len - 8))
}

/// Text equality like .NET `StringComparer.OrdinalIgnoreCase` (what
/// case-insensitive tables compare keys with).
pub(crate) fn equal_ignoring_case(a: &str, b: &str) -> bool {
    IgnoreCase::text_eq(a, b)
}

/// Compares two keys under comparer `C`.
#[inline]
pub(crate) fn keys_eq<C: Comparer>(a: KeyRef<'_>, b: KeyRef<'_>) -> bool {
    match (a, b) {
        (KeyRef::Text(a), KeyRef::Text(b)) => C::text_eq(a, b),
        (KeyRef::Int(a), KeyRef::Int(b)) => a == b,
        _ => false,
    }
}

/// Feeds a key into `state` under comparer `C`.
#[inline(always)]
fn write_key<C: Comparer, H: Hasher>(key: KeyRef<'_>, state: &mut H) {
    match key {
        // Only integer keys are tagged: a text key and an integer key that
        // hashed alike would merely share a bucket, never compare equal.
        KeyRef::Text(text) => C::hash_text(text, state),
        KeyRef::Int(n) => {
            state.write_u8(1);
            state.write_i64(n);
        }
    }
}

/// The hash of a key under comparer `C`.
///
/// Tables hash a stored key through its [`StoredKey::as_key_ref`] view, so a
/// stored key and any borrowed spelling of it go through this one function
/// and agree by construction.
///
/// Always inlined: called out of line, the key it was given had to be
/// reloaded from the stack right after being stored there in pieces, and
/// that reload stalled on store forwarding (a tenth of an increment).
#[inline(always)]
pub(crate) fn hash_key<C: Comparer>(key: KeyRef<'_>, hasher: &impl BuildHasher) -> u64 {
    let mut state = hasher.build_hasher();
    write_key::<C, _>(key, &mut state);
    state.finish()
}

/// The hash function behind [`map_hash`]: foldhash, seeded randomly once
/// per process. It is several times faster than std's SipHash on short
/// keys, and the random seed still keeps an attacker from precomputing
/// colliding keys.
pub(crate) type KeyHasher = foldhash::fast::RandomState;

/// A key as a table owns it, in 16 bytes: the original spelling, with text
/// of up to [`INLINE_TEXT`] bytes kept inline.
///
/// Most keys are short ("k42", a user name, a host name), so keeping them
/// inside the table slot saves a heap allocation (and its malloc chunk) per
/// entry; longer text goes to the heap. The slot size is most of a big
/// table's memory (a hash table keeps up to twice as many slots as
/// entries): 16 bytes here instead of the 24 of a `CompactString` took a
/// million-entry table from about 98 MiB to about 82 MiB.
#[derive(Clone, Debug)]
pub(crate) enum StoredKey {
    Int(i64),
    Short(ShortText),
    /// Text longer than [`INLINE_TEXT`] bytes. Boxed so the slot stays 16
    /// bytes; the box itself keeps up to 24 bytes inline, so a key of up to
    /// 24 bytes costs one allocation.
    Long(Box<CompactString>),
}

/// Longest text a [`StoredKey`] keeps inline.
pub(crate) const INLINE_TEXT: usize = 14;

/// Text of at most [`INLINE_TEXT`] bytes, kept in place.
#[derive(Clone, Copy)]
pub(crate) struct ShortText {
    len: u8,
    bytes: [u8; INLINE_TEXT],
}

impl ShortText {
    /// A copy of `text`, if it is short enough.
    #[inline]
    fn new(text: &str) -> Option<ShortText> {
        if text.len() > INLINE_TEXT {
            return None;
        }
        let mut bytes = [0u8; INLINE_TEXT];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Some(ShortText { len: text.len() as u8, bytes })
    }

    #[inline]
    fn as_str(&self) -> &str {
        let bytes = &self.bytes[..usize::from(self.len)];
        // SAFETY: `bytes` is a copy of the bytes of a `&str` (`new` is the only
        // constructor, and the fields are private and never changed after it),
        // so they are valid UTF-8. Checking them again on every key comparison
        // would cost a noticeable part of a lookup.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }
}

impl fmt::Debug for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl StoredKey {
    #[inline]
    pub(crate) fn new(key: KeyRef<'_>) -> Self {
        match key {
            KeyRef::Text(text) => match ShortText::new(text) {
                Some(short) => StoredKey::Short(short),
                None => StoredKey::Long(Box::new(CompactString::new(text))),
            },
            KeyRef::Int(n) => StoredKey::Int(n),
        }
    }

    #[inline]
    pub(crate) fn as_key_ref(&self) -> KeyRef<'_> {
        match self {
            StoredKey::Short(text) => KeyRef::Text(text.as_str()),
            StoredKey::Long(text) => KeyRef::Text(text.as_str()),
            StoredKey::Int(n) => KeyRef::Int(*n),
        }
    }

    pub(crate) fn to_key(&self) -> Key {
        self.as_key_ref().to_owned()
    }

    pub(crate) fn into_key(self) -> Key {
        match self {
            StoredKey::Long(text) => Key::Text(text.into_string()),
            other => other.to_key(),
        }
    }
}

/// A key as a map stores it: the [`StoredKey`] (first spelling, short text
/// inline), hashed and compared by comparer `C`.
///
/// Zero-cost wrapper: the size of `StoredKey`, and no second, folded copy.
pub(crate) struct MapKey<C> {
    key: StoredKey,
    // `fn() -> C` keeps the wrapper Send + Sync whatever `C` is.
    _comparer: PhantomData<fn() -> C>,
}

impl<C> MapKey<C> {
    /// An owned copy of `key` (allocates only for text over 24 bytes).
    #[inline]
    pub(crate) fn new(key: KeyRef<'_>) -> Self {
        MapKey {
            key: StoredKey::new(key),
            _comparer: PhantomData,
        }
    }

    #[inline]
    pub(crate) fn stored(&self) -> &StoredKey {
        &self.key
    }

    #[inline]
    pub(crate) fn into_stored(self) -> StoredKey {
        self.key
    }
}

impl<C: Comparer> Hash for MapKey<C> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(map_hash::<C>(self.key.as_key_ref()));
    }
}

impl<C: Comparer> PartialEq for MapKey<C> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        keys_eq::<C>(self.key.as_key_ref(), other.key.as_key_ref())
    }
}

impl<C: Comparer> Eq for MapKey<C> {}

/// Lets a map keyed by `MapKey<C>` be searched with a borrowed key.
///
/// Maps (`DashMap`, std `HashMap`) look keys up through `Borrow<Q>`, and a
/// `MapKey` cannot borrow as a `KeyRef` (it holds a `StoredKey`, not a
/// `&str`, and `KeyRef`'s own `Hash`/`Eq` are ordinal). It borrows as this
/// trait object instead, whose `Hash`/`Eq` go through `C`; a `&Probe`
/// coerces to it for free, so a lookup needs no owned key, no allocation and
/// no `unsafe`.
///
/// Both sides hash to [`map_hash`], which they feed to the map's
/// [`PassThrough`] hasher as one `u64`: a probe carries the hash its caller
/// computed once (the store also needs it for the version clock and the
/// wait slot), so an operation hashes its key once, not once per use.
pub(crate) trait Lookup<C> {
    fn key_ref(&self) -> KeyRef<'_>;
    fn map_hash(&self) -> u64;
}

/// A borrowed key with its [`map_hash`] under comparer `C`, computed once.
#[derive(Clone, Copy)]
pub(crate) struct Probe<'a, C> {
    key: KeyRef<'a>,
    hash: u64,
    _comparer: PhantomData<fn() -> C>,
}

impl<'a, C: Comparer> Probe<'a, C> {
    #[inline]
    pub(crate) fn new(key: KeyRef<'a>) -> Self {
        Probe {
            key,
            hash: map_hash::<C>(key),
            _comparer: PhantomData,
        }
    }

    #[inline]
    pub(crate) fn hash(&self) -> u64 {
        self.hash
    }

    /// The form in which the probe is passed to map lookups.
    #[inline]
    pub(crate) fn query(&self) -> &(dyn Lookup<C> + '_) {
        self
    }
}

impl<C: Comparer> Lookup<C> for Probe<'_, C> {
    #[inline]
    fn key_ref(&self) -> KeyRef<'_> {
        self.key
    }

    #[inline]
    fn map_hash(&self) -> u64 {
        self.hash
    }
}

impl<C: Comparer> Lookup<C> for MapKey<C> {
    #[inline]
    fn key_ref(&self) -> KeyRef<'_> {
        self.key.as_key_ref()
    }

    /// Recomputed: only needed when a map grows or an owned key is inserted.
    #[inline]
    fn map_hash(&self) -> u64 {
        map_hash::<C>(self.key.as_key_ref())
    }
}

impl<C: Comparer> Hash for dyn Lookup<C> + '_ {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.map_hash());
    }
}

impl<C: Comparer> PartialEq for dyn Lookup<C> + '_ {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        keys_eq::<C>(self.key_ref(), other.key_ref())
    }
}

impl<C: Comparer> Eq for dyn Lookup<C> + '_ {}

impl<'a, C: Comparer> Borrow<dyn Lookup<C> + 'a> for MapKey<C> {
    #[inline]
    fn borrow(&self) -> &(dyn Lookup<C> + 'a) {
        self
    }
}

/// The hash maps of keys use: [`hash_key`] with a per-process random seed.
/// (Not per table: a stored key must be able to rehash itself when its map
/// grows, without a reference to the table. A random seed per process still
/// keeps an attacker from precomputing colliding keys.)
#[inline]
pub(crate) fn map_hash<C: Comparer>(key: KeyRef<'_>) -> u64 {
    static SEED: Lazy<KeyHasher> = Lazy::new(KeyHasher::default);
    hash_key::<C>(key, &*SEED)
}

/// The hasher of maps keyed by [`MapKey`]: the key's `Hash` already wrote
/// its finished [`map_hash`] as one `u64`, which this hands back unchanged.
#[derive(Clone, Copy, Default)]
pub(crate) struct PassThrough;

impl BuildHasher for PassThrough {
    type Hasher = PassThroughHasher;

    #[inline]
    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

#[derive(Default)]
pub(crate) struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }

    /// Keys only ever write one `u64`; anything else still hashes, slowly.
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::RandomState;

    fn text(s: &str) -> KeyRef<'_> {
        KeyRef::Text(s)
    }

    fn hash_of<C: Comparer>(key: KeyRef<'_>) -> u64 {
        thread_local! {
            static HASHER: KeyHasher = KeyHasher::default();
        }
        HASHER.with(|hasher| hash_key::<C>(key, hasher))
    }

    fn same<C: Comparer>(a: &str, b: &str) -> bool {
        let (a, b) = (text(a), text(b));
        let eq = keys_eq::<C>(a, b);
        if eq {
            assert_eq!(
                hash_of::<C>(a),
                hash_of::<C>(b),
                "equal keys must hash alike"
            );
        }
        eq
    }

    #[test]
    fn fold_char_uses_simple_uppercase_only() {
        assert_eq!(fold_char('a'), 'A');
        assert_eq!(fold_char('Z'), 'Z');
        assert_eq!(fold_char('ä'), 'Ä');
        assert_eq!(
            fold_char('ß'),
            'ß',
            "'ß' uppercases to two chars, so it stays"
        );
        assert_eq!(fold_char('ı'), 'ı', ".NET leaves dotless i unmapped");
        assert_eq!(fold_char('1'), '1');
        assert_eq!(fold_char('ω'), 'Ω');
    }

    #[test]
    fn ignore_case_follows_ordinal_ignore_case() {
        assert!(same::<IgnoreCase>("a", "A"));
        assert!(same::<IgnoreCase>("ä", "Ä"));
        assert!(same::<IgnoreCase>("Größe", "GRÖßE"));
        assert!(same::<IgnoreCase>("straße", "STRAßE"));
        assert!(!same::<IgnoreCase>("ß", "SS"));
        assert!(!same::<IgnoreCase>("straße", "STRASSE"));
        assert!(
            !same::<IgnoreCase>("ı", "i"),
            ".NET OrdinalIgnoreCase keeps dotless i apart from i"
        );
        assert!(
            same::<IgnoreCase>("\u{1F80}", "\u{1F88}"),
            "simple mapping for iota subscript"
        );
        assert!(same::<IgnoreCase>("", ""));
        assert!(!same::<IgnoreCase>("a", ""));
        assert!(!same::<IgnoreCase>("ab", "abc"));
    }

    #[test]
    fn long_keys_hash_alike_across_buffer_boundaries() {
        // Mixed widths so the 64-byte buffer flushes at different places in
        // the source text but at the same places in the folded text.
        let lower: String = "aäßxω".repeat(40);
        let upper: String = "AÄßXΩ".repeat(40);
        assert!(same::<IgnoreCase>(&lower, &upper));
        assert!(!same::<Ordinal>(&lower, &upper));
        // No non-ASCII char folds to ASCII under .NET's rules (U+0131 and
        // U+017F are exceptions), so ASCII and non-ASCII texts stay apart
        // across chunk boundaries too.
        for len in [1, 63, 64, 65, 130] {
            assert!(!same::<IgnoreCase>(&"ı".repeat(len), &"i".repeat(len)));
            assert!(!same::<IgnoreCase>(&"ſ".repeat(len), &"S".repeat(len)));
            assert!(same::<IgnoreCase>(&"ä".repeat(len), &"Ä".repeat(len)));
        }
    }

    #[test]
    fn ordinal_is_exact() {
        assert!(same::<Ordinal>("a", "a"));
        assert!(!same::<Ordinal>("a", "A"));
        assert!(!same::<Ordinal>("ä", "Ä"));
    }

    #[test]
    fn int_and_text_keys_differ() {
        assert!(!keys_eq::<IgnoreCase>(KeyRef::Int(1), text("1")));
        assert!(!keys_eq::<Ordinal>(KeyRef::Int(1), text("1")));
        assert!(keys_eq::<IgnoreCase>(KeyRef::Int(-7), KeyRef::Int(-7)));
        assert!(!keys_eq::<Ordinal>(KeyRef::Int(1), KeyRef::Int(2)));
    }

    #[test]
    fn stored_and_borrowed_forms_hash_and_compare_alike() {
        // A table hashes its stored keys (when it grows) and the borrowed
        // keys callers pass with the same function; check the round trip
        // for short (inline) and long (heap) text, in both modes.
        let long = "Ä".repeat(30);
        let samples = [
            (text("Name"), text("NAME")),
            (text("k999999"), text("K999999")),
            (text(&long), text(&long)),
            (text(""), text("")),
            (KeyRef::Int(i64::MIN), KeyRef::Int(i64::MIN)),
        ];
        for (stored, probe) in samples {
            let owned = StoredKey::new(stored);
            assert_eq!(owned.as_key_ref(), stored, "spelling is kept");
            assert_eq!(owned.to_key(), stored.to_owned());
            assert_eq!(owned.clone().into_key(), stored.to_owned());
            assert!(keys_eq::<IgnoreCase>(owned.as_key_ref(), probe));
            assert_eq!(
                hash_of::<IgnoreCase>(owned.as_key_ref()),
                hash_of::<IgnoreCase>(probe)
            );
            assert_eq!(
                hash_of::<Ordinal>(owned.as_key_ref()),
                hash_of::<Ordinal>(stored)
            );
        }
        assert!(!keys_eq::<Ordinal>(
            StoredKey::new(text("Name")).as_key_ref(),
            text("NAME")
        ));
    }

    #[test]
    fn short_keys_are_stored_inline_in_16_bytes() {
        assert_eq!(std::mem::size_of::<StoredKey>(), 16);
        for (key, inline) in [("k999999", true), ("", true), ("fourteen bytes", true), ("fifteen bytes..", false), ("Größe", true)] {
            let stored = StoredKey::new(text(key));
            assert_eq!(matches!(stored, StoredKey::Short(_)), inline, "{key:?}");
            assert_eq!(stored.as_key_ref(), text(key));
            assert_eq!(stored.clone().into_key(), Key::Text(key.to_owned()));
        }
        let StoredKey::Long(medium) = StoredKey::new(text(&"x".repeat(24))) else {
            unreachable!()
        };
        assert!(!medium.is_heap_allocated(), "up to 24 bytes: the box is the only allocation");
        assert_eq!(format!("{:?}", StoredKey::new(text("ab"))), "Short(\"ab\")");
    }

    #[test]
    fn key_ref_conversions() {
        let owned = Key::Text("Abc".to_owned());
        assert_eq!(KeyRef::from(&owned), text("Abc"));
        assert_eq!(owned.as_key_ref().to_owned(), owned);
        assert_eq!(KeyRef::from(&Key::Int(3)), KeyRef::Int(3));
        assert_eq!(KeyRef::from(7i64), KeyRef::Int(7));
        assert_eq!(KeyRef::from("x"), text("x"));
        assert_eq!(text("x").to_string(), "x");
        assert_eq!(KeyRef::Int(-42).to_string(), "-42");
        assert_ne!(text("1"), KeyRef::Int(1));
    }

    #[test]
    fn display_form() {
        let text = |s: &str| Key::Text(s.to_owned());
        assert_eq!(text("abc").to_string(), "abc");
        assert_eq!(Key::Int(-42).to_string(), "-42");
        assert_eq!(Key::from(5i64), Key::Int(5));
        assert_eq!(Key::from("x"), text("x"));
    }

    #[test]
    fn no_non_ascii_char_folds_to_ascii() {
        // The case-insensitive hash relies on this: it hashes ASCII text
        // differently from other text, which is only sound if the two can
        // never be equal.
        for c in (0x80..=0x10FFFF).filter_map(char::from_u32) {
            assert!(!fold_char(c).is_ascii(), "{c:?} folds to ASCII");
        }
    }

    #[test]
    fn word_comparison_matches_eq_ignore_ascii_case() {
        // Every byte against every byte, at each position of texts around
        // the word size, among neighbours that are letters and not.
        let filler = b"aZ{`@z[m\xc3\xa4Az";
        for len in [1usize, 7, 8, 9, 12, 16, 17] {
            let base: Vec<u8> = filler.iter().copied().cycle().take(len).collect();
            for position in [0, len / 2, len - 1] {
                for x in 0..=255u8 {
                    for y in [x, x ^ 0x20, x.to_ascii_uppercase(), x.to_ascii_lowercase(), x.wrapping_add(1)] {
                        let mut a = base.clone();
                        let mut b = base.clone();
                        a[position] = x;
                        b[position] = y;
                        assert_eq!(
                            eq_ignoring_ascii_case(&a, &b),
                            a.eq_ignore_ascii_case(&b),
                            "{a:?} vs {b:?}"
                        );
                    }
                }
            }
        }
        assert!(!eq_ignoring_ascii_case(b"ab", b"abc"));
        assert!(eq_ignoring_ascii_case(b"", b""));
    }

    #[test]
    fn ascii_uppercase_word_matches_the_byte_rule() {
        for byte in 0..=0xFFu8 {
            for position in 0..8 {
                // The byte among neighbours that are letters and not.
                let mut bytes = *b"aZ{`@z[m";
                bytes[position] = byte;
                let folded = ascii_uppercase_word(u64::from_le_bytes(bytes)).to_le_bytes();
                assert_eq!(folded, bytes.map(|b| b.to_ascii_uppercase()));
            }
        }
    }

    #[test]
    fn ascii_keys_of_every_length_hash_alike() {
        // Around the 8-byte words the ASCII path hashes in.
        for len in 0..=33 {
            let lower: String = "abcxyz@[`{".chars().cycle().take(len).collect();
            let upper = lower.to_ascii_uppercase();
            assert!(same::<IgnoreCase>(&lower, &upper), "{lower:?}");
            assert!(!same::<IgnoreCase>(&lower, &format!("{upper}a")));
        }
        assert_ne!(
            hash_of::<IgnoreCase>(text("a")),
            hash_of::<IgnoreCase>(text("a\0")),
            "zero padding of the last word does not hide a trailing NUL"
        );
    }

    #[test]
    fn dotnet_exceptions_are_sorted_and_applied() {
        assert!(super::DOTNET_EXCEPTIONS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(super::fold_char('ı'), 'ı');
        assert_eq!(super::fold_char('ſ'), 'ſ');
        assert_eq!(super::fold_char('\u{1F80}'), '\u{1F88}');
        assert_eq!(super::fold_char('ä'), 'Ä');
    }

    #[test]
    fn std_random_state_also_agrees() {
        // `hash_key` works with any `BuildHasher`; the split writes of the
        // case-insensitive hash must not depend on the hasher either.
        let hasher = RandomState::new();
        let a = hash_key::<IgnoreCase>(text("straße"), &hasher);
        let b = hash_key::<IgnoreCase>(text("STRAßE"), &hasher);
        assert_eq!(a, b);
    }
}
