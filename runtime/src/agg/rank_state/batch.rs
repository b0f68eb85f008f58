//! A fold run's words into or out of a `RankState` in one ordered pass: `RunWords`
//! gathers them in a bounded buffer on the stack, sorts them, and the state merges
//! them in (or takes them out) walking its words once, instead of a search and a move
//! per word. A hot entity's run carries tens of words (`Options::fold_run`, 64 by
//! default) that each found the same cold chunk again one at a time
//! (BENCHMARKS.md, "Percentiles beside max").

use super::{unpacked, Form, RankState, INLINE};

/// The most words gathered before they are merged: a fold run of the stream's default
/// length (64 events, up to twice that pending) in one pass, in 1 KiB of stack.
pub(crate) const RUN_WORDS: usize = 128;

/// Words gathered for one state, all to insert or all to remove (a fold run does one
/// or the other); `flush` applies them.
pub(crate) struct RunWords {
    len: usize,
    words: [u64; RUN_WORDS],
}

impl RunWords {
    pub(crate) fn new() -> RunWords {
        RunWords {
            len: 0,
            words: [0; RUN_WORDS],
        }
    }

    /// Gathers `w`, applying what was gathered first when the buffer is full.
    #[inline]
    pub(crate) fn push(&mut self, s: &mut RankState, w: u64, insert: bool) {
        if self.len == RUN_WORDS {
            self.flush(s, insert);
        }
        self.words[self.len] = w;
        self.len += 1;
    }

    /// Inserts (or removes) every word gathered, once each, and empties the buffer.
    pub(crate) fn flush(&mut self, s: &mut RankState, insert: bool) {
        let words = &mut self.words[..self.len];
        words.sort_unstable();
        if insert {
            s.insert_sorted_words(words);
        } else {
            s.remove_sorted_words(words);
        }
        self.len = 0;
    }
}

/// Fewer new (or leaving) words than one in this many of a vector's words are placed
/// by a binary search each and the words between them moved in blocks; more are merged
/// word by word. A hot entity's run spreads over many chunks, a few words each, where
/// the word-by-word loop walked most of every chunk it touched.
const SPARSE: usize = 16;

/// Merges `words` (sorted) into the sorted vector `v` from the back: each word of `v`
/// above the smallest new one moves once, to its final place.
pub(super) fn merge_in(v: &mut Vec<u64>, words: &[u64]) {
    let n = v.len();
    let k = words.len();
    v.resize(n + k, 0);
    if k * SPARSE <= n {
        // From the largest new word down: the words of `v` above it move up past it
        // and every new word still to come, in one block.
        let mut end = n;
        for (j, &w) in words.iter().enumerate().rev() {
            let at = v[..end].partition_point(|&x| x <= w);
            v.copy_within(at..end, at + j + 1);
            v[at + j] = w;
            end = at;
        }
        return;
    }
    let (mut i, mut j) = (n, k);
    while j > 0 {
        let w = words[j - 1];
        if i > 0 && v[i - 1] > w {
            v[i + j - 1] = v[i - 1];
            i -= 1;
        } else {
            v[i + j - 1] = w;
            j -= 1;
        }
    }
}

/// Takes one copy of each of `words` (sorted) out of the sorted vector `v`, as
/// `remove_sorted` would one by one, in one pass that moves each word kept once.
/// Returns how many of `words` it dealt with: each word below `v`'s last (taken out,
/// or absent) and each copy of the last it took out; the rest are above `v`'s last or
/// copies of it beyond those `v` holds, and may be in the next chunk.
pub(super) fn take_out(v: &mut Vec<u64>, words: &[u64]) -> usize {
    let Some(&first) = words.first() else {
        return 0;
    };
    let len = v.len();
    let mut read = v.partition_point(|&x| x < first);
    let mut kept = read;
    let mut j = 0;
    if words.len() * SPARSE <= len - read {
        // Each word found by a binary search past the last one; the words kept
        // between two found ones move down in one block.
        while let Some(&w) = words.get(j) {
            let at = read + v[read..len].partition_point(|&x| x < w);
            if at == len {
                break; // above every word left: not dealt with here
            }
            v.copy_within(read..at, kept);
            kept += at - read;
            read = at;
            if v[at] == w {
                read += 1;
            }
            j += 1;
        }
    } else {
        while read < len && j < words.len() {
            let x = v[read];
            while j < words.len() && words[j] < x {
                j += 1; // absent
            }
            if words.get(j) == Some(&x) {
                j += 1;
            } else {
                v[kept] = x;
                kept += 1;
            }
            read += 1;
        }
    }
    // Every word dealt with: the rest of `v` moves once, in one copy.
    v.copy_within(read..len, kept);
    v.truncate(kept + (len - read));
    j
}

impl RankState {
    /// Inserts one copy of each of `words` (sorted): the multiset `insert(w, 1)` for
    /// each would leave, in one ordered pass.
    pub(crate) fn insert_sorted_words(&mut self, words: &[u64]) {
        match words {
            [] => return,
            [w] => {
                // One word: the plain insert (no pass to set up).
                self.insert(*w, 1);
                return;
            }
            _ => {}
        }
        match &mut self.form {
            Form::Inline(s) => {
                if s.len() + words.len() <= INLINE {
                    for &w in words {
                        // Fits: checked above.
                        s.insert(w, 1);
                    }
                    return;
                }
                let mut v = unpacked(s, words.len());
                merge_in(&mut v, words);
                self.form = Form::Small(v);
                self.spill_if_large();
            }
            Form::Small(v) => {
                merge_in(v, words);
                self.spill_if_large();
            }
            Form::Chunks(c) => c.insert_sorted_words(words),
        }
    }

    /// Takes one copy of each of `words` (sorted) out, absent words doing nothing: the
    /// multiset `remove(w, 1)` for each would leave, in one ordered pass.
    pub(crate) fn remove_sorted_words(&mut self, words: &[u64]) {
        if let [w] = words {
            // One word: the plain removal (no pass to set up).
            self.remove(*w, 1);
            return;
        }
        match &mut self.form {
            Form::Inline(s) => {
                for &w in words {
                    s.remove(w, 1);
                }
            }
            Form::Small(v) => {
                take_out(v, words);
                self.settle_if_small();
            }
            Form::Chunks(c) => {
                c.remove_sorted_words(words);
                self.settle_if_small();
            }
        }
    }
}
