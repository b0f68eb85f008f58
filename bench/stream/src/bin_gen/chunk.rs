//! One chunk of events as plain columns, and the drawing of its rows block by block:
//! every block has its own random stream (`seeds`), so blocks can be drawn on any
//! thread in any order and give the same rows.
//!
//! Each row is i.i.d. as in gen.py's chunked draw: a user from the Zipf-Mandelbrot
//! table (drawn first for the whole block), a time uniform over the 60 days, the flag that makes it a (user, ts) copy
//! (`ties` fills those in once the chunk is drawn), a lognormal amount rounded to cents,
//! a category, `is_mobile`, and the null flag of each nullable column.

use crate::params::{
    AMOUNT_MEAN, AMOUNT_NULL_P, AMOUNT_SIGMA, CATEGORY_NULL_P, COPY_P, MOBILE_NULL_P, MOBILE_P,
    SPAN_US, START_US,
};
use crate::rng::Rng;
use crate::seeds::{self, Stream};
use crate::users::Users;

/// Rows per block: small enough for two threads to share a chunk evenly, and a multiple
/// of 64 so that each block owns whole words of the bit columns.
pub const BLOCK_ROWS: usize = 1 << 16;

/// Bit columns hold row r at bit r % 64 of word r / 64: Arrow's validity layout.
pub struct Chunk {
    pub index: u64,
    pub rows: usize,
    pub user: Vec<i64>,
    pub ts: Vec<i64>,
    pub amount: Vec<f64>,
    pub amount_valid: Vec<u64>,
    /// Index into CATEGORIES.
    pub category: Vec<u8>,
    pub category_valid: Vec<u64>,
    pub mobile: Vec<u64>,
    pub mobile_valid: Vec<u64>,
    /// Rows to be made copies of another row's (user, ts).
    pub copy: Vec<u64>,
}

/// The rows of one block, as disjoint slices of the chunk's columns.
pub struct Block<'a> {
    rng: Rng,
    user: &'a mut [i64],
    ts: &'a mut [i64],
    amount: &'a mut [f64],
    amount_valid: &'a mut [u64],
    category: &'a mut [u8],
    category_valid: &'a mut [u64],
    mobile: &'a mut [u64],
    mobile_valid: &'a mut [u64],
    copy: &'a mut [u64],
}

impl Chunk {
    /// Columns for `rows` rows, to be filled by `blocks`.
    pub fn new(index: u64, rows: usize) -> Chunk {
        let words = rows.div_ceil(64);
        Chunk {
            index,
            rows,
            user: vec![0; rows],
            ts: vec![0; rows],
            amount: vec![0.0; rows],
            amount_valid: vec![0; words],
            category: vec![0; rows],
            category_valid: vec![0; words],
            mobile: vec![0; words],
            mobile_valid: vec![0; words],
            copy: vec![0; words],
        }
    }

    /// The chunk's blocks, each with the stream of (seed, chunk, block).
    pub fn blocks(&mut self, seed: u64) -> Vec<Block<'_>> {
        const WORDS: usize = BLOCK_ROWS / 64;
        let count = self.rows.div_ceil(BLOCK_ROWS);
        let mut user = self.user.chunks_mut(BLOCK_ROWS);
        let mut ts = self.ts.chunks_mut(BLOCK_ROWS);
        let mut amount = self.amount.chunks_mut(BLOCK_ROWS);
        let mut amount_valid = self.amount_valid.chunks_mut(WORDS);
        let mut category = self.category.chunks_mut(BLOCK_ROWS);
        let mut category_valid = self.category_valid.chunks_mut(WORDS);
        let mut mobile = self.mobile.chunks_mut(WORDS);
        let mut mobile_valid = self.mobile_valid.chunks_mut(WORDS);
        let mut copy = self.copy.chunks_mut(WORDS);
        let index = self.index;
        // Every column splits into `count` pieces (rows and words alike).
        (0..count as u64)
            .map(|b| Block {
                rng: seeds::rng(seed, Stream::Block, (index << 32) | b),
                user: user.next().expect("a row slice per block"),
                ts: ts.next().expect("a row slice per block"),
                amount: amount.next().expect("a row slice per block"),
                amount_valid: amount_valid.next().expect("a word slice per block"),
                category: category.next().expect("a row slice per block"),
                category_valid: category_valid.next().expect("a word slice per block"),
                mobile: mobile.next().expect("a word slice per block"),
                mobile_valid: mobile_valid.next().expect("a word slice per block"),
                copy: copy.next().expect("a word slice per block"),
            })
            .collect()
    }
}

impl Block<'_> {
    /// Draws the block's rows.
    pub fn draw(self, users: &Users, category_cumulative: &[f64]) {
        let Block {
            mut rng,
            user,
            ts,
            amount,
            amount_valid,
            category,
            category_valid,
            mobile,
            mobile_valid,
            copy,
        } = self;
        let rows = user.len();
        // The users first, in a loop of their own: at K = 1e7 each draw misses the
        // cache, and a short loop body lets the CPU have many of those misses in
        // flight at once. Measured, 2e7 events on one thread: with the users drawn in
        // the row loop, 1e7 users took 5.5 s of CPU against 3.6 s for 1e4 users; with
        // this pass, the same for both.
        for u in user.iter_mut() {
            *u = users.sample(rng.next_u64());
        }
        // Normals come in pairs: the second waits for the next row.
        let mut spare: Option<f64> = None;
        for w in 0..rows.div_ceil(64) {
            let (mut amount_v, mut category_v, mut mobile_b, mut mobile_v, mut copy_b) =
                (0u64, 0u64, 0u64, 0u64, 0u64);
            for bit in 0..(rows - 64 * w).min(64) {
                let r = 64 * w + bit;
                ts[r] = START_US + rng.below(SPAN_US as u64) as i64;
                copy_b |= ((rng.f64() < COPY_P) as u64) << bit;
                let z = match spare.take() {
                    Some(z) => z,
                    None => {
                        let (z, next) = rng.normal_pair();
                        spare = Some(next);
                        z
                    }
                };
                // numpy's round(x, 2) is rint(x * 100) / 100: halves to even.
                amount[r] =
                    ((AMOUNT_MEAN + AMOUNT_SIGMA * z).exp() * 100.0).round_ties_even() / 100.0;
                amount_v |= ((rng.f64() >= AMOUNT_NULL_P) as u64) << bit;
                category[r] = rng.pick(category_cumulative) as u8;
                category_v |= ((rng.f64() >= CATEGORY_NULL_P) as u64) << bit;
                mobile_b |= ((rng.f64() < MOBILE_P) as u64) << bit;
                mobile_v |= ((rng.f64() >= MOBILE_NULL_P) as u64) << bit;
            }
            amount_valid[w] = amount_v;
            category_valid[w] = category_v;
            mobile[w] = mobile_b;
            mobile_valid[w] = mobile_v;
            copy[w] = copy_b;
        }
    }
}

/// Whether bit `i` of a bit column is set.
#[inline]
pub fn bit(words: &[u64], i: usize) -> bool {
    (words[i / 64] >> (i % 64)) & 1 == 1
}

/// The set bits of a bit column, ascending.
pub fn ones(words: &[u64]) -> impl Iterator<Item = usize> + '_ {
    words.iter().enumerate().flat_map(|(w, &word)| {
        let mut rest = word;
        std::iter::from_fn(move || {
            (rest != 0).then(|| {
                let b = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                64 * w + b
            })
        })
    })
}
