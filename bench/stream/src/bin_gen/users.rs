//! The user column's distribution: Zipf-Mandelbrot over K ranks (s = 1, q = 20), the
//! ranks given the ids of a random permutation of 1000..1000+K-1 (so that id order is
//! not popularity), as gen.py's `zipf_users`; sampled with Walker's alias method.
//!
//! gen.py searches the cumulative table (24 dependent probes at K = 1e7, most of them
//! cache misses in its 80 MB); an alias table answers with one probe, and the probes of
//! successive rows are independent, so the CPU overlaps their misses. Measured (a
//! loop of 2e7 draws, this machine): 15 ns a draw against 300 for the binary search at
//! K = 1e7, 5 against 100 at 1e6, 2 against 21 at 1e4. The table is
//! indexed by user id rather than rank (the alias method takes its outcomes in any
//! order), so a probe gives the id itself and no second lookup in a permutation.

use crate::params::{ZIPF_Q, ZIPF_S};
use crate::rng::Rng;

pub const FIRST_ID: i64 = 1000;

pub struct Users {
    k: u64,
    /// Per id offset j: the probability of keeping j (scaled to 2^32) in the high 32
    /// bits, the id offset to take instead in the low 32.
    slots: Vec<u64>,
}

impl Users {
    /// K users (1 <= K < 2^32), the id permutation drawn from `rng`.
    pub fn new(k: usize, rng: &mut Rng) -> Users {
        let weights: Vec<f64> = (1..=k)
            .map(|r| 1.0 / (r as f64 + ZIPF_Q).powf(ZIPF_S))
            .collect();
        let total: f64 = weights.iter().sum();
        // ids[rank] = offset of that rank's id.
        let mut ids: Vec<u32> = (0..k as u32).collect();
        rng.shuffle(&mut ids);
        // Probability of each id offset, times K (the alias method's unit is 1 / K).
        let mut scaled = vec![0.0f64; k];
        for (w, &id) in weights.iter().zip(&ids) {
            scaled[id as usize] = w / total * k as f64;
        }
        drop(weights);
        drop(ids);
        Users {
            k: k as u64,
            slots: alias_slots(scaled),
        }
    }

    /// The user id of one uniform 64-bit draw: its high part (times K) picks the slot,
    /// the fraction left over is the coin of that slot.
    #[inline]
    pub fn sample(&self, u: u64) -> i64 {
        let product = u as u128 * self.k as u128;
        let j = (product >> 64) as usize;
        let coin = ((product as u64) >> 32) as u32;
        let slot = self.slots[j];
        let id = if coin < (slot >> 32) as u32 {
            j as u32
        } else {
            slot as u32
        };
        FIRST_ID + id as i64
    }

    pub fn count(&self) -> usize {
        self.k as usize
    }
}

/// Vose's construction of the alias table from probabilities scaled to mean 1.
fn alias_slots(mut scaled: Vec<f64>) -> Vec<u64> {
    let k = scaled.len();
    let mut slots = vec![0u64; k];
    let (mut small, mut large): (Vec<u32>, Vec<u32>) =
        (0..k as u32).partition(|&j| scaled[j as usize] < 1.0);
    while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
        small.pop();
        slots[s as usize] = (keep_bits(scaled[s as usize]) << 32) | l as u64;
        // The large one gives what the small one lacked.
        scaled[l as usize] -= 1.0 - scaled[s as usize];
        if scaled[l as usize] < 1.0 {
            large.pop();
            small.push(l);
        }
    }
    // What is left is 1 up to rounding: always kept.
    for j in small.into_iter().chain(large) {
        slots[j as usize] = ((u32::MAX as u64) << 32) | j as u64;
    }
    slots
}

/// A probability in [0, 1] as a threshold for a 32-bit coin.
fn keep_bits(p: f64) -> u64 {
    (p * 4_294_967_296.0).round().clamp(0.0, u32::MAX as f64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequencies_follow_the_ranks() {
        let mut rng = Rng::new(3);
        let users = Users::new(50, &mut rng);
        let mut counts = vec![0usize; 50];
        let n = 2_000_000;
        for _ in 0..n {
            counts[(users.sample(rng.next_u64()) - FIRST_ID) as usize] += 1;
        }
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let total: f64 = (1..=50).map(|r| 1.0 / (r as f64 + 20.0)).sum();
        for (r, &c) in counts.iter().enumerate().take(5) {
            let want = n as f64 / (r as f64 + 21.0) / total;
            assert!(
                (c as f64 - want).abs() < 6.0 * want.sqrt() + 0.01 * want,
                "{r} {c} {want}"
            );
        }
    }
}
