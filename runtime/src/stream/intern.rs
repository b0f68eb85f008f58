//! `Interner`: one shared `Arc<str>` per distinct string cell value, so that ingesting
//! a string column does not allocate per row and equal strings compare by pointer.

use std::sync::Arc;

use datafusion::common::HashSet;

/// Beyond this many distinct strings the set is cleared and refilled: a column of
/// unbounded cardinality (ids, free text) must not grow memory for the runtime's
/// lifetime. Values already handed out stay valid; only sharing is lost.
const MAX_ENTRIES: usize = 1 << 16;

/// Invariant: every entry is a distinct string; `get` returns a value equal to its
/// argument (interning never changes a value, only which allocation holds it).
#[derive(Debug, Default)]
pub(crate) struct Interner {
    set: HashSet<Arc<str>>,
}

impl Interner {
    /// The shared `Arc<str>` for `s`, allocated on first sight.
    #[inline]
    pub fn get(&mut self, s: &str) -> Arc<str> {
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
    fn the_set_stays_bounded() {
        let mut i = Interner::default();
        for n in 0..(MAX_ENTRIES + 10) {
            assert_eq!(&*i.get(&n.to_string()), n.to_string());
        }
        assert!(i.set.len() <= MAX_ENTRIES);
    }
}
