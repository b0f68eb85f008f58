//! What the spine is drawn from, collected chunk by chunk as gen.py's chunked draw does:
//! a uniform sample of the events (SPINE_POOL rows per spine row), a sample of the
//! copied rows (SPINE_TIES per spine row, each tied for sure), and the set of users
//! seen. Each chunk adds its share of the samples, so that after chunk i they hold
//! round(want * rows so far / events) rows.

use crate::chunk::ones;
use crate::params::{SPINE_POOL, SPINE_TIES};
use crate::rng::Rng;
use crate::users::FIRST_ID;

pub struct Sources {
    events: usize,
    pool_want: usize,
    ties_want: usize,
    pub pool_user: Vec<i64>,
    pub pool_ts: Vec<i64>,
    pub tie_user: Vec<i64>,
    pub tie_ts: Vec<i64>,
}

impl Sources {
    pub fn new(events: usize, spine: usize) -> Sources {
        let (pool_want, ties_want) = (SPINE_POOL * spine.max(1), SPINE_TIES * spine.max(1));
        // Reserved whole: growing by doubling would hold twice the pool for a moment
        // (160 MB of samples at a 1e6-row spine).
        let pool = pool_want.min(events);
        Sources {
            events,
            pool_want,
            ties_want,
            pool_user: Vec::with_capacity(pool),
            pool_ts: Vec::with_capacity(pool),
            tie_user: Vec::with_capacity(ties_want.min(events)),
            tie_ts: Vec::with_capacity(ties_want.min(events)),
        }
    }

    /// Takes the share of a chunk whose last row is event number `done` (1-based) of
    /// the run; `copies` are its copied rows.
    pub fn take(&mut self, rng: &mut Rng, user: &[i64], ts: &[i64], copies: &[u32], done: usize) {
        let rows = user.len();
        let take = share(self.pool_want, done, self.events) - self.pool_user.len() as i64;
        for r in sample(rng, rows, take.clamp(0, rows as i64) as usize) {
            self.pool_user.push(user[r]);
            self.pool_ts.push(ts[r]);
        }
        let take = share(self.ties_want, done, self.events) - self.tie_user.len() as i64;
        let take = take.clamp(0, copies.len() as i64) as usize;
        // The first `take` of a random permutation of the copies (partial Fisher-Yates).
        let mut copies = copies.to_vec();
        for i in 0..take {
            let j = i + rng.below((copies.len() - i) as u64) as usize;
            copies.swap(i, j);
            let r = copies[i] as usize;
            self.tie_user.push(user[r]);
            self.tie_ts.push(ts[r]);
        }
    }
}

/// gen.py's int(round(want * done / n)) (Python rounds halves to even).
fn share(want: usize, done: usize, n: usize) -> i64 {
    (want as f64 * done as f64 / n as f64).round_ties_even() as i64
}

/// `take` distinct rows of `0..rows` uniformly (Floyd's algorithm), ascending.
fn sample(rng: &mut Rng, rows: usize, take: usize) -> Vec<usize> {
    let mut chosen = vec![0u64; rows.div_ceil(64)];
    for j in rows - take..rows {
        let t = rng.below(j as u64 + 1) as usize;
        let pick = if (chosen[t / 64] >> (t % 64)) & 1 == 1 {
            j
        } else {
            t
        };
        chosen[pick / 64] |= 1 << (pick % 64);
    }
    ones(&chosen).collect()
}

/// The users seen in the events: a bit per user id.
pub struct Seen(Vec<u64>);

impl Seen {
    pub fn new(users: usize) -> Seen {
        Seen(vec![0; users.div_ceil(64)])
    }

    pub fn mark(&mut self, user: &[i64]) {
        for &u in user {
            let j = (u - FIRST_ID) as usize;
            self.0[j / 64] |= 1 << (j % 64);
        }
    }

    /// The ids seen, ascending.
    pub fn ids(&self) -> Vec<i64> {
        ones(&self.0).map(|j| FIRST_ID + j as i64).collect()
    }
}
