//! `Chunks`, `RankState`'s large form: sorted chunks of at most `CHUNK_MAX` words, in
//! order, with the last word of each kept again in one compact vector (`ends`).
//!
//! An insert or a removal finds its chunk by a binary search over `ends`, which sits in
//! a few lines of its own, instead of over the chunks, where each probe read a chunk's
//! header and then its last word from that chunk's block: two cold lines per step.
//! Chunks hold at most 128 words (1 KiB), so the binary search inside one touches at
//! most 16 lines and a move within it copies at most 1 KiB; 512-word chunks spent half
//! of a removal's time on the cache misses of that inner search, one after another.
//! The chunk found is prefetched whole before the search, so its misses overlap (the
//! move after it reads half of the chunk anyway) (BENCHMARKS.md, "Percentiles beside
//! max").

use super::batch::{merge_in, take_out};
use super::{insert_sorted, remove_sorted};
use crate::prefetch::prefetch_slice;

/// A chunk longer than this is cut in two halves.
pub(super) const CHUNK_MAX: usize = 128;

/// A chunk shorter than this is merged into a neighbour (then cut again if too long),
/// so that chunks stay long enough for the walk over them to stay short.
const CHUNK_MIN: usize = CHUNK_MAX / 8;

/// Sorted chunks, none empty, in order; `ends[i]` is the last word of `list[i]`, and
/// `len` the sum of their lengths.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Chunks {
    list: Vec<Vec<u64>>,
    ends: Vec<u64>,
    len: u64,
}

impl Chunks {
    pub(super) fn of_sorted(words: &[u64]) -> Chunks {
        let list: Vec<Vec<u64>> = words.chunks(CHUNK_MAX / 2).map(<[u64]>::to_vec).collect();
        Chunks::of_list(list, words.len() as u64)
    }

    /// The chunks as given (sorted, none empty, `len` words in all), with their index.
    pub(super) fn of_list(list: Vec<Vec<u64>>, len: u64) -> Chunks {
        let ends = list.iter().filter_map(|c| c.last().copied()).collect();
        Chunks { list, ends, len }
    }

    pub(super) fn len(&self) -> u64 {
        self.len
    }

    pub(super) fn list(&self) -> &[Vec<u64>] {
        &self.list
    }

    /// The index the searches start from (`RankState::prefetch` loads it early).
    pub(super) fn ends(&self) -> &[u64] {
        &self.ends
    }

    /// The first chunk whose last word is not below `w` (`list.len()` when none).
    fn first_not_below(&self, w: u64) -> usize {
        self.ends.partition_point(|&l| l < w)
    }

    pub(super) fn insert(&mut self, w: u64, count: u64) {
        if self.list.is_empty() {
            self.list.push(Vec::new());
            self.ends.push(w);
        }
        // The last chunk when every word is below `w`.
        let i = self.first_not_below(w).min(self.list.len() - 1);
        let chunk = &mut self.list[i];
        prefetch_slice(chunk);
        let at = insert_sorted(chunk, w, count);
        if at + count as usize == chunk.len() {
            self.ends[i] = w;
        }
        self.len += count;
        if chunk.len() > CHUNK_MAX {
            self.cut(i);
        }
    }

    /// Takes up to `count` copies of `w` out (they may span chunks).
    pub(super) fn remove(&mut self, w: u64, count: u64) {
        let mut left = count;
        let mut i = self.first_not_below(w);
        if let Some(chunk) = self.list.get(i) {
            prefetch_slice(chunk);
        }
        while left > 0 && i < self.list.len() {
            let chunk = &mut self.list[i];
            // Copies of `w` may go on in the next chunk only if this one ended with it.
            let (n, ended_with_w) = remove_sorted(chunk, w, left);
            if n == 0 {
                break;
            }
            left -= n as u64;
            self.len -= n as u64;
            if let Some(&last) = chunk.last() {
                self.ends[i] = last;
            }
            if chunk.len() < CHUNK_MIN {
                self.mend(i);
            } else {
                i += 1;
            }
            if !ended_with_w {
                break;
            }
        }
    }

    /// Inserts one copy of each of `words` (sorted, at least one) in one walk over the
    /// chunks: each chunk they reach is found once and merged into once (`merge_in`),
    /// the next one prefetched meanwhile, and cut when it grew past `CHUNK_MAX`.
    pub(super) fn insert_sorted_words(&mut self, words: &[u64]) {
        let Some(&first) = words.first() else {
            return;
        };
        if self.list.is_empty() {
            self.list.push(Vec::new());
            self.ends.push(first);
        }
        let mut i = 0;
        let mut from = 0;
        while let Some(&w) = words.get(from) {
            // As `insert`: the first chunk whose last word is not below `w`, else the
            // last; it takes every word up to its last word (the last chunk: all).
            i = (i + self.ends[i..].partition_point(|&l| l < w)).min(self.list.len() - 1);
            let to = match self.ends.get(i + 1) {
                Some(_) => from + words[from..].partition_point(|&x| x <= self.ends[i]),
                None => words.len(),
            };
            self.prefetch_next(i, words.get(to));
            let chunk = &mut self.list[i];
            prefetch_slice(chunk);
            merge_in(chunk, &words[from..to]);
            if let Some(&last) = chunk.last() {
                self.ends[i] = last;
            }
            let long = chunk.len() > CHUNK_MAX;
            self.len += (to - from) as u64;
            from = to;
            let before = self.list.len();
            if long {
                self.cut(i);
            }
            // The next word is above this chunk's last, and above its pieces'.
            i += 1 + self.list.len() - before;
        }
    }

    /// Takes one copy of each of `words` (sorted) out, absent ones doing nothing, in one
    /// walk over the chunks: each chunk holding some is found once and compacted once
    /// (`take_out`), the next prefetched meanwhile; copies of a chunk's last word may
    /// go on in the next chunk.
    pub(super) fn remove_sorted_words(&mut self, words: &[u64]) {
        let mut i = 0;
        let mut from = 0;
        while let Some(&w) = words.get(from) {
            i += self.ends[i..].partition_point(|&l| l < w);
            let Some(&end) = self.ends.get(i) else {
                break; // every word left is above every word held
            };
            let to = from + words[from..].partition_point(|&x| x <= end);
            self.prefetch_next(i, words.get(to));
            let chunk = &mut self.list[i];
            prefetch_slice(chunk);
            let before = chunk.len();
            from += take_out(chunk, &words[from..]);
            let removed = before - chunk.len();
            self.len -= removed as u64;
            if removed == 0 {
                i += 1;
                continue;
            }
            if let Some(&last) = chunk.last() {
                self.ends[i] = last;
            }
            if chunk.len() < CHUNK_MIN {
                // Dropped, merged with the next chunk or into the one before: the walk
                // goes on from the chunk before, which the next word cannot precede.
                self.mend(i);
                i = i.saturating_sub(1);
            } else {
                i += 1;
            }
        }
    }

    /// Starts loading the chunk the walk reaches after chunk `i`, the one `next` (the
    /// first word chunk `i` does not take) goes to; changes nothing.
    #[inline]
    fn prefetch_next(&self, i: usize, next: Option<&u64>) {
        if let Some(&w) = next {
            let j = i
                + 1
                + self
                    .ends
                    .get(i + 1..)
                    .map_or(0, |e| e.partition_point(|&l| l < w));
            if let Some(chunk) = self.list.get(j.min(self.list.len().saturating_sub(1))) {
                prefetch_slice(chunk);
            }
        }
    }

    /// Cuts chunk `i` into halves, and each half again while longer than `CHUNK_MAX`
    /// (only a chunk loaded from a snapshot of longer chunks is cut more than once).
    fn cut(&mut self, i: usize) {
        let chunk = &mut self.list[i];
        let back = chunk.split_off(chunk.len() / 2);
        let front_end = chunk.last().copied();
        let back_end = back.last().copied();
        self.list.insert(i + 1, back);
        if let (Some(f), Some(b)) = (front_end, back_end) {
            self.ends[i] = f;
            self.ends.insert(i + 1, b);
        }
        if self.list[i + 1].len() > CHUNK_MAX {
            self.cut(i + 1);
        }
        if self.list[i].len() > CHUNK_MAX {
            self.cut(i);
        }
    }

    /// Chunk `i` is short: drops it when empty, else merges it into a neighbour (then
    /// cuts that one again when too long).
    fn mend(&mut self, i: usize) {
        if self.list[i].is_empty() {
            self.list.remove(i);
            self.ends.remove(i);
            return;
        }
        if self.list.len() < 2 {
            return;
        }
        let (into, from) = if i + 1 < self.list.len() {
            (i, i + 1)
        } else {
            (i - 1, i)
        };
        let moved = self.list.remove(from);
        self.ends.remove(from);
        self.list[into].extend_from_slice(&moved);
        if let Some(&last) = self.list[into].last() {
            self.ends[into] = last;
        }
        if self.list[into].len() > CHUNK_MAX {
            self.cut(into);
        }
    }

    /// The word of rank `rank` (1-based, at most `len`).
    /// Walks the chunks' lengths from the nearer end (a high percentile's rank is
    /// found among the last few chunks).
    pub(super) fn at_rank(&self, rank: u64) -> Option<u64> {
        let mut left = rank.checked_sub(1)?;
        if left >= self.len {
            return None;
        }
        if left < self.len / 2 {
            for chunk in &self.list {
                let n = chunk.len() as u64;
                if left < n {
                    return chunk.get(left as usize).copied();
                }
                left -= n;
            }
            return None;
        }
        // Counted from the end: the 0-based rank among the largest words.
        let mut right = self.len - 1 - left;
        for chunk in self.list.iter().rev() {
            let n = chunk.len() as u64;
            if right < n {
                return chunk.get(chunk.len() - 1 - right as usize).copied();
            }
            right -= n;
        }
        None
    }

    pub(super) fn words(&self) -> impl Iterator<Item = u64> + '_ {
        self.list.iter().flatten().copied()
    }

    /// The bytes it holds beside its box's header: the chunk list and the index by
    /// their lengths (their few spare slots are noise, and a restored list is allocated
    /// exact), and each chunk by its capacity.
    pub(super) fn bytes(&self) -> usize {
        let per_chunk = std::mem::size_of::<Vec<u64>>() + std::mem::size_of::<u64>();
        self.list.len() * per_chunk + self.list.iter().map(|v| v.capacity() * 8).sum::<usize>()
    }
}
