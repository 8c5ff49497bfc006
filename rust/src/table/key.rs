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
//! The map stores every key exactly once, in the spelling it had when it was
//! first inserted; hashing and equality fold on the fly instead of keeping a
//! folded copy next to it.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

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
pub(crate) fn fold_char(c: char) -> char {
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
    fn text_eq(a: &str, b: &str) -> bool {
        // Cheap answers first: lookups mostly use the stored spelling, and
        // texts that differ only in ASCII case fold-match whatever else they
        // hold. Two ASCII texts that fail that cannot match; anything else
        // needs the char walk ('ı' folds to ASCII 'I').
        if a == b || a.eq_ignore_ascii_case(b) {
            return true;
        }
        if a.is_ascii() && b.is_ascii() {
            return false;
        }
        a.chars().map(fold_char).eq(b.chars().map(fold_char))
    }

    fn hash_text<H: Hasher>(text: &str, state: &mut H) {
        // Feed the UTF-8 of the folded text through a stack buffer, so no
        // folded copy is ever allocated. The sequence of `write` calls depends
        // only on the folded chars, so equal keys hash identically whatever
        // their spelling (hashers need not treat split writes like one write).
        let mut buf = [0u8; 64];
        if text.is_ascii() {
            // Same writes as the loop below would make (full 64-byte chunks,
            // then the rest), without decoding chars.
            for chunk in text.as_bytes().chunks(buf.len()) {
                for (folded, byte) in buf.iter_mut().zip(chunk) {
                    *folded = byte.to_ascii_uppercase();
                }
                state.write(&buf[..chunk.len()]);
            }
            state.write_u8(0xff);
            return;
        }
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
}

/// Compares two keys under comparer `C`.
#[inline]
pub(crate) fn keys_eq<C: Comparer>(a: &Key, b: &Key) -> bool {
    match (a, b) {
        (Key::Text(a), Key::Text(b)) => C::text_eq(a, b),
        (Key::Int(a), Key::Int(b)) => a == b,
        _ => false,
    }
}

/// Hashes a key under comparer `C`.
#[inline]
pub(crate) fn hash_key<C: Comparer, H: Hasher>(key: &Key, state: &mut H) {
    match key {
        Key::Text(text) => {
            state.write_u8(0);
            C::hash_text(text, state);
        }
        Key::Int(n) => {
            state.write_u8(1);
            state.write_i64(*n);
        }
    }
}

/// A key as stored in a map: the original key, hashed and compared by `C`.
///
/// Zero-cost wrapper: it has the size of `Key` and never stores a second,
/// folded spelling.
pub(crate) struct MapKey<C> {
    key: Key,
    // `fn() -> C` keeps the wrapper Send + Sync whatever `C` is.
    _comparer: PhantomData<fn() -> C>,
}

impl<C> MapKey<C> {
    #[inline]
    pub(crate) fn new(key: Key) -> Self {
        MapKey {
            key,
            _comparer: PhantomData,
        }
    }

    #[inline]
    pub(crate) fn key(&self) -> &Key {
        &self.key
    }

    #[inline]
    pub(crate) fn into_key(self) -> Key {
        self.key
    }
}

impl<C: Comparer> Hash for MapKey<C> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_key::<C, H>(&self.key, state);
    }
}

impl<C: Comparer> PartialEq for MapKey<C> {
    fn eq(&self, other: &Self) -> bool {
        keys_eq::<C>(&self.key, &other.key)
    }
}

impl<C: Comparer> Eq for MapKey<C> {}

/// Lets a map of `MapKey<C>` be searched with a plain `&Key`.
///
/// Maps look keys up through `Borrow`, and `Key`'s own `Hash`/`Eq` are
/// ordinal, so `MapKey<C>` cannot borrow as `Key` in case-insensitive mode.
/// It borrows as this trait object instead, whose `Hash`/`Eq` use `C`; a
/// `&Key` coerces to it for free, so a lookup needs no clone and no `unsafe`.
pub(crate) trait Lookup<C> {
    fn lookup_key(&self) -> &Key;
}

impl<C> Lookup<C> for Key {
    #[inline]
    fn lookup_key(&self) -> &Key {
        self
    }
}

impl<C> Lookup<C> for MapKey<C> {
    #[inline]
    fn lookup_key(&self) -> &Key {
        &self.key
    }
}

impl<C: Comparer> Hash for dyn Lookup<C> + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_key::<C, H>(self.lookup_key(), state);
    }
}

impl<C: Comparer> PartialEq for dyn Lookup<C> + '_ {
    fn eq(&self, other: &Self) -> bool {
        keys_eq::<C>(self.lookup_key(), other.lookup_key())
    }
}

impl<C: Comparer> Eq for dyn Lookup<C> + '_ {}

impl<'a, C: Comparer> Borrow<dyn Lookup<C> + 'a> for MapKey<C> {
    #[inline]
    fn borrow(&self) -> &(dyn Lookup<C> + 'a) {
        self
    }
}

/// The form in which a `&Key` is passed to map lookups under comparer `C`.
#[inline]
pub(crate) fn query<C: Comparer>(key: &Key) -> &(dyn Lookup<C> + 'static) {
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::collections::hash_map::DefaultHasher;

    fn text(s: &str) -> Key {
        Key::Text(s.to_owned())
    }

    fn hash_of<C: Comparer>(key: &Key) -> u64 {
        let mut h = DefaultHasher::new();
        hash_key::<C, _>(key, &mut h);
        h.finish()
    }

    fn same<C: Comparer>(a: &str, b: &str) -> bool {
        let (a, b) = (text(a), text(b));
        let eq = keys_eq::<C>(&a, &b);
        if eq {
            assert_eq!(
                hash_of::<C>(&a),
                hash_of::<C>(&b),
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
        assert!(same::<IgnoreCase>("\u{1F80}", "\u{1F88}"), "simple mapping for iota subscript");
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
        assert!(!keys_eq::<IgnoreCase>(&Key::Int(1), &text("1")));
        assert!(!keys_eq::<Ordinal>(&Key::Int(1), &text("1")));
        assert!(keys_eq::<IgnoreCase>(&Key::Int(-7), &Key::Int(-7)));
        assert!(!keys_eq::<Ordinal>(&Key::Int(1), &Key::Int(2)));
    }

    #[test]
    fn map_lookup_by_plain_key_folds() {
        let mut map: HashMap<MapKey<IgnoreCase>, u32> = HashMap::new();
        map.insert(MapKey::new(text("Name")), 1);
        map.insert(MapKey::new(Key::Int(1)), 2);
        assert_eq!(map.get(query::<IgnoreCase>(&text("NAME"))), Some(&1));
        assert_eq!(map.get(query::<IgnoreCase>(&text("name"))), Some(&1));
        assert_eq!(map.get(query::<IgnoreCase>(&Key::Int(1))), Some(&2));
        assert_eq!(map.get(query::<IgnoreCase>(&text("1"))), None);
        let stored = map
            .keys()
            .find(|k| matches!(k.key(), Key::Text(_)))
            .unwrap();
        assert_eq!(stored.key(), &text("Name"), "original spelling is kept");
    }

    #[test]
    fn map_key_is_no_bigger_than_key() {
        assert_eq!(
            std::mem::size_of::<MapKey<IgnoreCase>>(),
            std::mem::size_of::<Key>()
        );
    }

    #[test]
    fn display_form() {
        assert_eq!(text("abc").to_string(), "abc");
        assert_eq!(Key::Int(-42).to_string(), "-42");
        assert_eq!(Key::from(5i64), Key::Int(5));
        assert_eq!(Key::from("x"), text("x"));
    }

    #[test]
    fn dotnet_exceptions_are_sorted_and_applied() {
        assert!(super::DOTNET_EXCEPTIONS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(super::fold_char('ı'), 'ı');
        assert_eq!(super::fold_char('ſ'), 'ſ');
        assert_eq!(super::fold_char('\u{1F80}'), '\u{1F88}');
        assert_eq!(super::fold_char('ä'), 'Ä');
    }
}
