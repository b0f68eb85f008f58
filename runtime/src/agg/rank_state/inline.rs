//! `InlineWords`, `RankState`'s form for the fewest values: up to `INLINE` sorted
//! words inside the state itself, so that a window of a few values has no heap block
//! of its own for an insert and a later removal to find cold.

/// The most words held inline; the state is 48 bytes with 4 (it was 32 with a vector
/// alone; 5 would make it 56).
pub(super) const INLINE: usize = 4;

/// Sorted words `words[..len]`; the slots past `len` mean nothing.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct InlineWords {
    len: u8,
    words: [u64; INLINE],
}

impl InlineWords {
    /// The words of `sorted`, which must hold at most `INLINE`.
    pub(super) fn of_sorted(sorted: &[u64]) -> Option<InlineWords> {
        let mut s = InlineWords::default();
        s.words.get_mut(..sorted.len())?.copy_from_slice(sorted);
        s.len = sorted.len() as u8;
        Some(s)
    }

    pub(super) fn as_slice(&self) -> &[u64] {
        &self.words[..self.len as usize]
    }

    pub(super) fn len(&self) -> usize {
        self.len as usize
    }

    /// Adds `count` copies of `w` when they fit; `false` (unchanged) when they do not.
    pub(super) fn insert(&mut self, w: u64, count: u64) -> bool {
        let n = self.len as usize;
        let Some(total) = usize::try_from(count)
            .ok()
            .and_then(|c| c.checked_add(n))
            .filter(|&t| t <= INLINE)
        else {
            return false;
        };
        let at = self.as_slice().partition_point(|&x| x <= w);
        let k = total - n;
        self.words.copy_within(at..n, at + k);
        self.words[at..at + k].fill(w);
        self.len = total as u8;
        true
    }

    /// Takes up to `count` copies of `w` out.
    pub(super) fn remove(&mut self, w: u64, count: u64) {
        let n = self.len as usize;
        let from = self.as_slice().partition_point(|&x| x < w);
        let copies = self.words[from..n].iter().take_while(|&&x| x == w).count();
        let k = copies.min(usize::try_from(count).unwrap_or(usize::MAX));
        self.words.copy_within(from + k..n, from);
        self.len = (n - k) as u8;
    }
}

/// Equal when they hold the same words (the slots past `len` do not count).
impl PartialEq for InlineWords {
    fn eq(&self, other: &InlineWords) -> bool {
        self.as_slice() == other.as_slice()
    }
}
