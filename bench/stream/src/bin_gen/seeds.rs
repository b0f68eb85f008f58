//! The generator's random streams: one SplitMix64 per (seed, purpose, index), so that
//! every block of rows draws from its own stream and the files do not depend on which
//! thread drew which block, nor on how many threads there are.

use crate::rng::Rng;

/// What a stream is drawn for (its `index` says which chunk or block).
#[derive(Clone, Copy)]
pub enum Stream {
    /// The permutation of the user ids.
    Users = 1,
    /// The rows of one block of a chunk (index: chunk << 32 | block).
    Block = 2,
    /// A chunk's ties and spine samples, drawn after its blocks (index: chunk).
    Chunk = 3,
    /// The spine, drawn once at the end.
    Spine = 4,
}

/// SplitMix64's output function of `x`: neighbouring inputs give unrelated outputs.
fn mix(x: u64) -> u64 {
    Rng::new(x).next_u64()
}

/// The stream for `purpose` and `index` of a run with `seed`. Hashing (rather than, say,
/// `seed + index`) keeps the streams of different blocks from being shifted copies of
/// each other, which SplitMix64 seeds a multiple of its increment apart would be.
pub fn rng(seed: u64, purpose: Stream, index: u64) -> Rng {
    Rng::new(mix(mix(mix(seed) ^ purpose as u64) ^ index))
}
