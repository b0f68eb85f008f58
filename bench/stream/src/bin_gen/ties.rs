//! The (user, ts) ties of a chunk, as gen.py's chunked draw makes them: each row
//! flagged as a copy takes the user and time of a row drawn uniformly among the
//! chunk's unflagged rows. Never from a flagged row, so every copy stays tied with its
//! source; and copying a random row keeps the user and time distributions exact.

use crate::chunk::{bit, ones, Chunk};
use crate::rng::Rng;

/// Fills in the copies; returns their row numbers (ascending).
pub fn copy(chunk: &mut Chunk, rng: &mut Rng) -> Vec<u32> {
    let copies: Vec<u32> = ones(&chunk.copy).map(|r| r as u32).collect();
    if copies.len() == chunk.rows {
        // A chunk of copies only (a handful of rows) has nothing to copy from.
        chunk.copy.fill(0);
        return Vec::new();
    }
    for &c in &copies {
        // Uniform among unflagged rows by rejection: 2% of the draws are redrawn.
        let source = loop {
            let s = rng.below(chunk.rows as u64) as usize;
            if !bit(&chunk.copy, s) {
                break s;
            }
        };
        chunk.user[c as usize] = chunk.user[source];
        chunk.ts[c as usize] = chunk.ts[source];
    }
    copies
}
