//! `Interner`: one shared `Arc<str>` per distinct string cell value, so that ingesting
//! a string column does not allocate per row and equal strings compare by pointer.

use std::sync::Arc;

use datafusion::common::HashSet;

/// Beyond this many distinct strings the set is cleared and refilled: a column of
/// unbounded cardinality (ids, free text) must not grow memory for the runtime's
/// lifetime. Values already handed out stay valid; only sharing is lost.
const MAX_ENTRIES: usize = 1 << 16;

/// Slots of the cache of short strings (see `Interner::recent`).
const RECENT: usize = 64;

/// Invariant: every entry is a distinct string; `get` returns a value equal to its
/// argument (interning never changes a value, only which allocation holds it).
#[derive(Debug, Default)]
pub(crate) struct Interner {
    set: HashSet<Arc<str>>,
    /// Strings of at most 8 bytes by their bytes as one word (with their length):
    /// a direct-mapped cache in front of `set`, since a string column of few
    /// distinct short values (categories, codes) is the common case and hashing
    /// each cell showed in the ingest profile.
    recent: Vec<(u64, u8, Option<Arc<str>>)>,
}

/// The bytes of a string of at most 8 bytes as one word.
#[inline]
fn short_word(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() > 8 {
        return None;
    }
    let mut w = [0u8; 8];
    w[..b.len()].copy_from_slice(b);
    Some(u64::from_le_bytes(w))
}

impl Interner {
    /// The shared `Arc<str>` for `s`, allocated on first sight.
    #[inline]
    pub fn get(&mut self, s: &str) -> Arc<str> {
        let Some(word) = short_word(s) else {
            return self.lookup(s);
        };
        if self.recent.is_empty() {
            self.recent = vec![(0, 0, None); RECENT];
        }
        let len = s.len() as u8;
        let slot = (word
            .wrapping_add(len as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            >> 58) as usize;
        if let (w, l, Some(a)) = &self.recent[slot] {
            if *w == word && *l == len {
                return Arc::clone(a);
            }
        }
        let a = self.lookup(s);
        self.recent[slot] = (word, len, Some(Arc::clone(&a)));
        a
    }

    /// `get` through the set.
    fn lookup(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.set.get(s) {
            return Arc::clone(a);
        }
        if self.set.len() >= MAX_ENTRIES {
            self.set.clear();
        }
        let a: Arc<str> = Arc::from(s);
        self.set.insert(Arc::clone(&a));
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_one_allocation() {
        let mut i = Interner::default();
        let a = i.get("grocery");
        let b = i.get(&String::from("grocery"));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*i.get("dining"), "dining");
    }

    #[test]
    fn short_strings_differing_only_by_trailing_zero_bytes_stay_apart() {
        let mut i = Interner::default();
        for _ in 0..2 {
            for s in ["", "\0", "a", "a\0", "a\0\0", "abcdefgh", "abcdefghi"] {
                assert_eq!(&*i.get(s), s);
            }
        }
        let a = i.get("fuel");
        assert!(Arc::ptr_eq(&a, &i.get("fuel")));
    }

    #[test]
    fn the_set_stays_bounded() {
        let mut i = Interner::default();
        for n in 0..(MAX_ENTRIES + 10) {
            assert_eq!(&*i.get(&n.to_string()), n.to_string());
        }
        assert!(i.set.len() <= MAX_ENTRIES);
    }
}
