//! The sorted multiset of words a percentile keeps (`RankState`): one sorted vector
//! while small, else a list of sorted chunks, each a vector of at most `CHUNK_MAX`
//! words, the last word of each at most the first of the next.
//!
//! A per-entity window usually holds few values, where one sorted vector is the
//! fastest order statistic there is (and a single heap block: the state's only cold
//! line). A hot entity's window holds thousands: inserting or removing then finds
//! its chunk by a binary search over the chunks' last words and moves at most
//! `CHUNK_MAX` words, and the value at a rank is found by walking the chunks'
//! lengths. This replaced an order-statistic split over two B-tree maps of word to
//! multiplicity, which paid a tree walk per insert, per removal and per rebalancing
//! step (BENCHMARKS.md, "Percentiles beside max").

use crate::snapshot::{vec_with_capacity, Persist, Reader, SnapshotError, Writer};

/// More values than this leave the single vector for chunks (and come back below half
/// of it).
pub const SMALL: usize = 256;

/// A chunk longer than this is cut in two halves.
const CHUNK_MAX: usize = 512;

/// A chunk shorter than this is merged into a neighbour (then cut again if too long),
/// so that chunks stay long enough for the walk over them to stay short.
const CHUNK_MIN: usize = CHUNK_MAX / 8;

/// The multiset (see the module docs). Which form holds the values changes speed and
/// memory only, never an answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RankState {
    small: Vec<u64>,
    chunks: Option<Box<Chunks>>,
}

/// Sorted chunks, none empty, in order; `len` is the sum of their lengths.
#[derive(Debug, Clone, Default, PartialEq)]
struct Chunks {
    list: Vec<Vec<u64>>,
    len: u64,
}

impl Chunks {
    fn of_sorted(words: &[u64]) -> Chunks {
        let half = CHUNK_MAX / 2;
        Chunks {
            list: words.chunks(half).map(<[u64]>::to_vec).collect(),
            len: words.len() as u64,
        }
    }

    /// The chunk where `w` goes: the first whose last word is not below `w` (the last
    /// chunk when every word is below it).
    fn chunk_for(&self, w: u64) -> usize {
        self.list
            .partition_point(|c| c.last().is_some_and(|&l| l < w))
            .min(self.list.len().saturating_sub(1))
    }

    fn insert(&mut self, w: u64, count: u64) {
        if self.list.is_empty() {
            self.list.push(Vec::new());
        }
        let i = self.chunk_for(w);
        let chunk = &mut self.list[i];
        let at = chunk.partition_point(|&x| x <= w);
        if count == 1 {
            chunk.insert(at, w);
        } else {
            chunk.splice(at..at, std::iter::repeat_n(w, count as usize));
        }
        self.len += count;
        if chunk.len() > CHUNK_MAX {
            self.cut(i);
        }
    }

    /// Takes up to `count` copies of `w` out (they may span chunks).
    fn remove(&mut self, w: u64, count: u64) {
        let mut left = count;
        let mut i = self
            .list
            .partition_point(|c| c.last().is_some_and(|&l| l < w));
        while left > 0 && i < self.list.len() {
            let chunk = &mut self.list[i];
            let from = chunk.partition_point(|&x| x < w);
            let to = chunk.partition_point(|&x| x <= w);
            let n = (to - from).min(left as usize);
            if n == 0 {
                break;
            }
            if n == 1 {
                chunk.remove(from);
            } else {
                chunk.drain(from..from + n);
            }
            left -= n as u64;
            self.len -= n as u64;
            // Copies of `w` may go on in the next chunk only if this one ended with it.
            let ended_with_w = to == chunk.len() + n;
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

    /// Cuts chunk `i` into two halves.
    fn cut(&mut self, i: usize) {
        let chunk = &mut self.list[i];
        let back = chunk.split_off(chunk.len() / 2);
        self.list.insert(i + 1, back);
    }

    /// Chunk `i` is short: drops it when empty, else merges it into a neighbour (then
    /// cuts that one again when too long).
    fn mend(&mut self, i: usize) {
        if self.list[i].is_empty() {
            self.list.remove(i);
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
        self.list[into].extend_from_slice(&moved);
        if self.list[into].len() > CHUNK_MAX {
            self.cut(into);
        }
    }

    /// The word of rank `rank` (1-based, at most `len`).
    fn at_rank(&self, rank: u64) -> Option<u64> {
        let mut left = rank.checked_sub(1)?;
        for chunk in &self.list {
            let n = chunk.len() as u64;
            if left < n {
                return chunk.get(left as usize).copied();
            }
            left -= n;
        }
        None
    }

    fn words(&self) -> impl Iterator<Item = u64> + '_ {
        self.list.iter().flatten().copied()
    }
}

impl RankState {
    /// How many values it holds.
    pub fn len(&self) -> u64 {
        match &self.chunks {
            Some(c) => c.len,
            None => self.small.len() as u64,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `count` copies of `w`.
    pub fn insert(&mut self, w: u64, count: u64) {
        match &mut self.chunks {
            Some(c) => c.insert(w, count),
            None => {
                let at = self.small.partition_point(|&x| x <= w);
                if count == 1 {
                    self.small.insert(at, w);
                } else {
                    self.small
                        .splice(at..at, std::iter::repeat_n(w, count as usize));
                }
                if self.small.len() > SMALL {
                    self.chunks = Some(Box::new(Chunks::of_sorted(&self.small)));
                    self.small = Vec::new();
                }
            }
        }
    }

    /// Takes up to `count` copies of `w` out.
    pub fn remove(&mut self, w: u64, count: u64) {
        match &mut self.chunks {
            Some(c) => {
                c.remove(w, count);
                if c.len < (SMALL / 2) as u64 {
                    self.small = c.words().collect();
                    self.chunks = None;
                }
            }
            None => {
                let from = self.small.partition_point(|&x| x < w);
                if count == 1 {
                    if self.small.get(from) == Some(&w) {
                        self.small.remove(from);
                    }
                } else {
                    let to = self.small.partition_point(|&x| x <= w);
                    let n = (to - from).min(count as usize);
                    self.small.drain(from..from + n);
                }
            }
        }
    }

    /// The word of rank `rank` (1-based); `None` when out of range.
    pub fn at_rank(&self, rank: u64) -> Option<u64> {
        match &self.chunks {
            Some(c) => c.at_rank(rank),
            None => self.small.get(rank.checked_sub(1)? as usize).copied(),
        }
    }

    /// (word, multiplicity) in order.
    pub fn entries(&self) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        let mut push = |w: u64| match out.last_mut() {
            Some((k, c)) if *k == w => *c += 1,
            _ => out.push((w, 1)),
        };
        match &self.chunks {
            Some(c) => c.words().for_each(&mut push),
            None => self.small.iter().copied().for_each(&mut push),
        }
        out
    }

    /// The bytes it holds (its vectors' capacities).
    pub fn bytes(&self) -> usize {
        match &self.chunks {
            Some(c) => {
                // The chunk list by its length: its few spare slots are noise, and a
                // restored list is allocated exact.
                64 + c.list.len() * 24 + c.list.iter().map(|v| v.capacity() * 8).sum::<usize>()
            }
            None => 48 + self.small.capacity() * 8,
        }
    }

    pub fn shrink(&mut self) {
        if self.chunks.is_none() {
            self.small.shrink_to_fit();
        }
    }
}

/// The multiset as (word, multiplicity) in order, then its form: the single vector's
/// capacity, or each chunk's length and capacity, so that a loaded state is the saved
/// one (its memory accounting included), not a rebuilt one.
impl Persist for RankState {
    fn save(&self, w: &mut Writer) {
        let entries = self.entries();
        w.usize(entries.len());
        for (k, c) in entries {
            w.u64(k);
            w.u64(c);
        }
        match &self.chunks {
            None => {
                w.u8(0);
                w.usize(self.small.capacity());
            }
            Some(c) => {
                w.u8(1);
                w.usize(c.list.len());
                for chunk in &c.list {
                    w.usize(chunk.len());
                    w.usize(chunk.capacity());
                }
            }
        }
    }

    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let malformed = |m: &str| SnapshotError::Malformed(format!("a percentile state {m}"));
        let n = r.count(2)?;
        let mut entries = Vec::with_capacity(n);
        let mut total: u64 = 0;
        for _ in 0..n {
            let (k, c) = (r.u64()?, r.u64()?);
            if c == 0 || entries.last().is_some_and(|&(prev, _)| prev >= k) {
                return Err(malformed("out of order"));
            }
            total = total.checked_add(c).ok_or_else(|| malformed("too large"))?;
            entries.push((k, c));
        }
        // Every copy is a word in memory: refuse counts the snapshot's size cannot
        // justify before expanding them (a multiplicity is not bounded by the bytes).
        let words = usize::try_from(total)
            .ok()
            .filter(|&t| t <= r.remaining().saturating_mul(1 << 10))
            .ok_or_else(|| malformed("too large"))?;
        let mut expanded = entries
            .iter()
            .flat_map(|&(k, c)| std::iter::repeat_n(k, c as usize));
        match r.u8()? {
            0 => {
                if words > SMALL * 2 {
                    return Err(malformed("too large for its vector"));
                }
                let mut small = vec_with_capacity(r.capacity(words)?)?;
                small.extend(expanded);
                Ok(RankState {
                    small,
                    chunks: None,
                })
            }
            1 => {
                let count = r.count(2)?;
                let mut list = Vec::with_capacity(count);
                let mut placed = 0usize;
                for _ in 0..count {
                    let len = r.usize()?;
                    if len == 0 || len > CHUNK_MAX * 2 || placed + len > words {
                        return Err(malformed("with a chunk that does not fit"));
                    }
                    let mut chunk = vec_with_capacity(r.capacity(len)?)?;
                    chunk.extend(expanded.by_ref().take(len));
                    placed += len;
                    list.push(chunk);
                }
                if placed != words {
                    return Err(malformed("with chunks that do not hold its values"));
                }
                Ok(RankState {
                    small: Vec::new(),
                    chunks: Some(Box::new(Chunks { list, len: total })),
                })
            }
            b => Err(malformed(&format!("with tag {b}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reference multiset: a plain sorted vector.
    fn check(s: &RankState, want: &[u64]) {
        assert_eq!(s.len(), want.len() as u64);
        for (i, &w) in want.iter().enumerate() {
            assert_eq!(s.at_rank(i as u64 + 1), Some(w), "rank {}", i + 1);
        }
        assert_eq!(s.at_rank(0), None);
        assert_eq!(s.at_rank(want.len() as u64 + 1), None);
        if let Some(c) = &s.chunks {
            assert!(c.list.iter().all(|v| !v.is_empty() && v.len() <= CHUNK_MAX));
            let words: Vec<u64> = c.words().collect();
            assert_eq!(words, want);
        }
    }

    #[test]
    fn chunks_answer_every_rank_like_a_sorted_vector_through_growth_and_shrinking() {
        let mut s = RankState::default();
        let mut want: Vec<u64> = Vec::new();
        let mut x: u64 = 7;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % 700 // many duplicates
        };
        for step in 0..6000 {
            let grow = step < 3000 || step % 3 == 0;
            if grow || want.is_empty() {
                let w = next();
                let count = if step % 97 == 0 { 3 } else { 1 };
                s.insert(w, count);
                let at = want.partition_point(|&v| v <= w);
                want.splice(at..at, std::iter::repeat_n(w, count as usize));
            } else {
                let w = want[(next() as usize) % want.len()];
                let count = if step % 89 == 0 { 5 } else { 1 };
                s.remove(w, count);
                let from = want.partition_point(|&v| v < w);
                let to = want.partition_point(|&v| v <= w);
                want.drain(from..from + (to - from).min(count as usize));
            }
            if step % 250 == 0 {
                check(&s, &want);
            }
        }
        check(&s, &want);
        // Back below half of SMALL: one vector again.
        while want.len() > 10 {
            let w = want.pop().unwrap_or(0);
            s.remove(w, 1);
        }
        assert!(s.chunks.is_none());
        check(&s, &want);
    }

    #[test]
    fn removing_copies_that_span_chunks_takes_them_all() {
        let mut s = RankState::default();
        s.insert(5, 2000);
        s.insert(1, 300);
        s.insert(9, 300);
        assert!(s.chunks.as_ref().is_some_and(|c| c.list.len() > 3));
        s.remove(5, 1999);
        assert_eq!(s.entries(), vec![(1, 300), (5, 1), (9, 300)]);
        s.remove(7, 1); // absent: nothing
        assert_eq!(s.len(), 601);
    }

    #[test]
    fn both_forms_survive_a_snapshot_as_they_were() {
        for n in [0u64, 5, 300, 5000] {
            let mut s = RankState::default();
            for i in 0..n {
                s.insert((i * 7919) % 613, 1);
            }
            let mut w = Writer::new();
            s.save(&mut w);
            let bytes = w.into_bytes();
            let loaded = RankState::load(&mut Reader::new(&bytes));
            assert!(
                loaded.as_ref().is_ok_and(|l| *l == s),
                "{n}: {:?}",
                loaded.err()
            );
            assert_eq!(loaded.map(|l| l.bytes()).ok(), Some(s.bytes()));
        }
    }
}
