//! The sorted multiset of words a percentile keeps (`RankState`), in one of three
//! forms by size: up to `INLINE` words inside the state (`inline`), then one sorted
//! vector up to `SMALL` words, then sorted chunks (`chunks`) of at most 128 words, the
//! last word of each at most the first of the next.
//!
//! A per-entity window usually holds few values. The fewest are kept inline: no heap
//! block for an insert and a later removal to find cold. Up to `SMALL`, one sorted
//! vector is the fastest order statistic there is (one heap block, which
//! `prefetch` starts loading before a fold reaches it). A hot entity's window holds
//! thousands: inserting or removing then finds its chunk by a binary search over a
//! compact index of the chunks' last words and moves at most a chunk's words, and the
//! value at a rank is found by walking the chunks' lengths. A fold run's words come
//! sorted and go in (or out) in one ordered pass (`batch`): each chunk they reach is
//! found once per run, not once per word. This replaced an
//! order-statistic split over two B-tree maps of word to multiplicity, which paid a
//! tree walk per insert, per removal and per rebalancing step (BENCHMARKS.md,
//! "Percentiles beside max").

mod batch;
#[cfg(test)]
mod batch_tests;
mod chunks;
mod inline;
#[cfg(test)]
mod tests;

pub(crate) use self::batch::RunWords;
use self::chunks::Chunks;
use self::inline::{InlineWords, INLINE};
use crate::prefetch::{prefetch, prefetch_slice};
use crate::snapshot::{vec_with_capacity, Persist, Reader, SnapshotError, Writer};

/// More values than this leave the single vector for chunks (and come back below half
/// of it).
pub const SMALL: usize = 256;

/// The longest chunk a snapshot may hold: twice the longest chunk any version has cut
/// (512 words before the chunks shrank to 128), so that older snapshots still load.
const LOADED_CHUNK_MAX: usize = 1024;

/// The multiset (see the module docs). Which form holds the values changes speed and
/// memory only, never an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct RankState {
    form: Form,
}

/// Inline while at most `INLINE` words (and back when a removal leaves at most half of
/// that: an entity that hovers at the boundary does not allocate at every crossing),
/// one vector up to `SMALL`, chunks above.
#[derive(Debug, Clone, PartialEq)]
enum Form {
    Inline(InlineWords),
    Small(Vec<u64>),
    Chunks(Box<Chunks>),
}

impl Default for RankState {
    fn default() -> RankState {
        RankState {
            form: Form::Inline(InlineWords::default()),
        }
    }
}

/// The inline words as a vector with room for `more`, on their way to the vector form.
fn unpacked(s: &InlineWords, more: usize) -> Vec<u64> {
    let mut v = Vec::with_capacity((s.len() + more).max(2 * INLINE));
    v.extend_from_slice(s.as_slice());
    v
}

/// The form for a sorted vector of words that shrank: inline when few enough.
fn settled(small: Vec<u64>) -> Form {
    if small.len() <= INLINE / 2 {
        if let Some(inline) = InlineWords::of_sorted(&small) {
            return Form::Inline(inline);
        }
    }
    Form::Small(small)
}

/// Inserts `count` copies of `w` into a sorted vector (the single vector, or one
/// chunk); returns where the first went.
fn insert_sorted(v: &mut Vec<u64>, w: u64, count: u64) -> usize {
    let at = v.partition_point(|&x| x <= w);
    if count == 1 {
        v.insert(at, w);
    } else {
        v.splice(at..at, std::iter::repeat_n(w, count as usize));
    }
    at
}

/// Takes up to `count` copies of `w` out of a sorted vector; returns how many it took
/// and whether its copies of `w` ran to its end (more may follow in the next chunk).
fn remove_sorted(v: &mut Vec<u64>, w: u64, count: u64) -> (usize, bool) {
    let from = v.partition_point(|&x| x < w);
    let to = from + v[from..].iter().take_while(|&&x| x == w).count();
    let n = (to - from).min(usize::try_from(count).unwrap_or(usize::MAX));
    let to_end = to == v.len();
    match n {
        0 => {}
        1 => {
            v.remove(from);
        }
        _ => {
            v.drain(from..from + n);
        }
    }
    (n, to_end)
}

/// Starts loading the lines a binary search over `words` reads first: all of them
/// when they are few, else the middle and quarter lines.
fn prefetch_search(words: &[u64]) {
    if words.len() <= 64 {
        prefetch_slice(words);
    } else {
        let n = words.len();
        for at in [n / 2, n / 4, n - n / 4] {
            prefetch(words.as_ptr().wrapping_add(at));
        }
    }
}

impl RankState {
    /// How many values it holds.
    pub fn len(&self) -> u64 {
        match &self.form {
            Form::Inline(s) => s.len() as u64,
            Form::Small(v) => v.len() as u64,
            Form::Chunks(c) => c.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `count` copies of `w`.
    pub fn insert(&mut self, w: u64, count: u64) {
        match &mut self.form {
            Form::Inline(s) => {
                if s.insert(w, count) {
                    return;
                }
                let mut v = unpacked(s, count as usize);
                insert_sorted(&mut v, w, count);
                self.form = Form::Small(v);
                self.spill_if_large();
            }
            Form::Small(v) => {
                insert_sorted(v, w, count);
                self.spill_if_large();
            }
            Form::Chunks(c) => c.insert(w, count),
        }
    }

    /// A vector past `SMALL` words becomes chunks.
    fn spill_if_large(&mut self) {
        if let Form::Small(v) = &self.form {
            if v.len() > SMALL {
                self.form = Form::Chunks(Box::new(Chunks::of_sorted(v)));
            }
        }
    }

    /// A vector down to `INLINE / 2` words, or chunks below `SMALL / 2`, goes back to
    /// the form its length takes (`settled`).
    fn settle_if_small(&mut self) {
        let words = match &mut self.form {
            Form::Small(v) if v.len() <= INLINE / 2 => std::mem::take(v),
            Form::Chunks(c) if c.len() < (SMALL / 2) as u64 => c.words().collect(),
            _ => return,
        };
        self.form = settled(words);
    }

    /// Takes up to `count` copies of `w` out.
    pub fn remove(&mut self, w: u64, count: u64) {
        match &mut self.form {
            Form::Inline(s) => s.remove(w, count),
            Form::Small(v) => {
                remove_sorted(v, w, count);
                self.settle_if_small();
            }
            Form::Chunks(c) => {
                c.remove(w, count);
                self.settle_if_small();
            }
        }
    }

    /// The word of rank `rank` (1-based); `None` when out of range.
    pub fn at_rank(&self, rank: u64) -> Option<u64> {
        let i = rank.checked_sub(1)? as usize;
        match &self.form {
            Form::Inline(s) => s.as_slice().get(i).copied(),
            Form::Small(v) => v.get(i).copied(),
            Form::Chunks(c) => c.at_rank(rank),
        }
    }

    /// (word, multiplicity) in order.
    pub fn entries(&self) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        let mut push = |w: u64| match out.last_mut() {
            Some((k, c)) if *k == w => *c += 1,
            _ => out.push((w, 1)),
        };
        match &self.form {
            Form::Inline(s) => s.as_slice().iter().copied().for_each(&mut push),
            Form::Small(v) => v.iter().copied().for_each(&mut push),
            Form::Chunks(c) => c.words().for_each(&mut push),
        }
        out
    }

    /// The bytes it holds: the state, and its heap blocks by capacity (the chunks'
    /// box by its size and the chunks as `Chunks::bytes` counts them).
    pub fn bytes(&self) -> usize {
        let own = std::mem::size_of::<RankState>();
        match &self.form {
            Form::Inline(_) => own,
            Form::Small(v) => own + v.capacity() * 8,
            Form::Chunks(c) => own + std::mem::size_of::<Chunks>() + c.bytes(),
        }
    }

    /// Releases spare room: a vector of at most `INLINE` words goes inline.
    pub fn shrink(&mut self) {
        if let Form::Small(v) = &mut self.form {
            match InlineWords::of_sorted(v) {
                Some(inline) => self.form = Form::Inline(inline),
                None => v.shrink_to_fit(),
            }
        }
    }

    /// Starts loading the heap lines the next insert or removal searches first (see
    /// `crate::prefetch`); changes nothing.
    #[inline]
    pub fn prefetch(&self) {
        match &self.form {
            Form::Inline(_) => {}
            Form::Small(v) => prefetch_search(v),
            Form::Chunks(c) => prefetch_search(c.ends()),
        }
    }
}

/// The multiset as (word, multiplicity) in order, then its form: tag 0 and the single
/// vector's capacity, tag 1 and each chunk's length and capacity, or tag 2 for the
/// inline words, so that a loaded state is the saved one (its memory accounting
/// included), not a rebuilt one. Snapshots written before the inline form (tags 0 and
/// 1 only, chunks of up to 512 words) load as they were saved.
impl Persist for RankState {
    fn save(&self, w: &mut Writer) {
        let entries = self.entries();
        w.usize(entries.len());
        for (k, c) in entries {
            w.u64(k);
            w.u64(c);
        }
        match &self.form {
            Form::Small(v) => {
                w.u8(0);
                w.usize(v.capacity());
            }
            Form::Chunks(c) => {
                w.u8(1);
                w.usize(c.list().len());
                for chunk in c.list() {
                    w.usize(chunk.len());
                    w.usize(chunk.capacity());
                }
            }
            Form::Inline(_) => w.u8(2),
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
        let form = match r.u8()? {
            0 => {
                if words > SMALL * 2 {
                    return Err(malformed("too large for its vector"));
                }
                let mut small = vec_with_capacity(r.capacity(words)?)?;
                small.extend(expanded);
                Form::Small(small)
            }
            1 => {
                let count = r.count(2)?;
                let mut list = Vec::with_capacity(count);
                let mut placed = 0usize;
                for _ in 0..count {
                    let len = r.usize()?;
                    if len == 0 || len > LOADED_CHUNK_MAX || placed + len > words {
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
                Form::Chunks(Box::new(Chunks::of_list(list, total)))
            }
            2 => {
                let inline: Vec<u64> = expanded.take(INLINE + 1).collect();
                Form::Inline(
                    InlineWords::of_sorted(&inline)
                        .ok_or_else(|| malformed("too large to be inline"))?,
                )
            }
            b => return Err(malformed(&format!("with tag {b}"))),
        };
        Ok(RankState { form })
    }
}
