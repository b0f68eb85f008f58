//! The spine, as gen.py's `spine_from`: SPINE_MIX's kinds of rows in its order (event
//! times, tied times, window edges and their neighbours, expired windows, absent users,
//! random times), drawn from the spine sources of `sources`, then exact duplicates of
//! some rows, shuffled, and a label with p = 0.1.

use crate::params::{SpineKind, DAY_US, LABEL_P, SPAN_US, SPINE_MIX, START_US, WINDOWS_US};
use crate::rng::Rng;
use crate::sources::Sources;

pub struct Spine {
    pub user: Vec<i64>,
    pub ts: Vec<i64>,
    pub label: Vec<i8>,
}

/// `m` spine rows from the sources and the users seen (`users_all`, not empty).
pub fn draw(sources: &Sources, users_all: &[i64], m: usize, rng: &mut Rng) -> Spine {
    // gen.py: the events are the pool followed by the tied rows; `pick_events` draws
    // from the pool only, `at_tie` from the tied rows.
    let (pool_u, pool_t) = (&sources.pool_user, &sources.pool_ts);
    let (tie_u, tie_t) = (&sources.tie_user, &sources.tie_ts);
    let n = pool_u.len() as u64;
    let mut counts: Vec<i64> = SPINE_MIX
        .iter()
        .map(|&(_, share)| (share * m as f64).round_ties_even() as i64)
        .collect();
    let total: i64 = counts.iter().sum();
    // The last kind (random_uniform) takes what rounding left over.
    if let Some(last) = counts.last_mut() {
        *last = (*last + m as i64 - total).max(0);
    }
    let window = |rng: &mut Rng| WINDOWS_US[rng.below(WINDOWS_US.len() as u64) as usize];
    let (lo, hi) = (START_US - 2 * DAY_US, START_US + SPAN_US + 10 * DAY_US);
    let mut user = Vec::with_capacity(m);
    let mut ts = Vec::with_capacity(m);
    let mut duplicates = 0;
    for (&(kind, _), &count) in SPINE_MIX.iter().zip(&counts) {
        let count = count as usize;
        // gen.py draws each kind's columns one after the other (all the event
        // indexes, then all the windows): the same here, kind by kind.
        match kind {
            SpineKind::AtEvent => {
                for _ in 0..count {
                    let i = rng.below(n) as usize;
                    user.push(pool_u[i]);
                    ts.push(pool_t[i]);
                }
            }
            SpineKind::AtTie if !tie_u.is_empty() => {
                for _ in 0..count {
                    let i = rng.below(tie_u.len() as u64) as usize;
                    user.push(tie_u[i]);
                    ts.push(tie_t[i]);
                }
            }
            SpineKind::AtTie => {
                for _ in 0..count {
                    let i = rng.below(n) as usize;
                    user.push(pool_u[i]);
                    ts.push(pool_t[i]);
                }
            }
            SpineKind::EdgeExcluded | SpineKind::EdgeInside | SpineKind::EdgeOutside => {
                let delta = match kind {
                    SpineKind::EdgeInside => -1,
                    SpineKind::EdgeOutside => 1,
                    _ => 0,
                };
                let events: Vec<usize> = (0..count).map(|_| rng.below(n) as usize).collect();
                for i in events {
                    user.push(pool_u[i]);
                    ts.push(pool_t[i] + window(rng) + delta);
                }
            }
            SpineKind::AfterExpiry => {
                let events: Vec<usize> = (0..count).map(|_| rng.below(n) as usize).collect();
                let windows: Vec<i64> = (0..count).map(|_| window(rng)).collect();
                for (i, w) in events.into_iter().zip(windows) {
                    user.push(pool_u[i]);
                    ts.push(pool_t[i] + w + 1 + (rng.f64() * w as f64) as i64);
                }
            }
            SpineKind::AbsentUser => {
                // Ids 1..999: below every generated id.
                let users: Vec<i64> = (0..count).map(|_| 1 + rng.below(998) as i64).collect();
                for u in users {
                    user.push(u);
                    ts.push(START_US + rng.below(SPAN_US as u64) as i64);
                }
            }
            SpineKind::DuplicateRow => duplicates = count,
            SpineKind::RandomWeighted => {
                let events: Vec<usize> = (0..count).map(|_| rng.below(n) as usize).collect();
                for i in events {
                    user.push(pool_u[i]);
                    ts.push(lo + rng.below((hi - lo) as u64) as i64);
                }
            }
            SpineKind::RandomUniform => {
                let users: Vec<i64> = (0..count)
                    .map(|_| users_all[rng.below(users_all.len() as u64) as usize])
                    .collect();
                for u in users {
                    user.push(u);
                    ts.push(lo + rng.below((hi - lo) as u64) as i64);
                }
            }
        }
    }
    // Exact copies of rows drawn above (gen.py appends them after every other kind).
    let drawn = user.len() as u64;
    for _ in 0..if drawn > 0 { duplicates } else { 0 } {
        let j = rng.below(drawn) as usize;
        user.push(user[j]);
        ts.push(ts[j]);
    }
    let mut rows: Vec<(i64, i64)> = user.into_iter().zip(ts).collect();
    rng.shuffle(&mut rows);
    let label = (0..rows.len())
        .map(|_| (rng.f64() < LABEL_P) as i8)
        .collect();
    let (user, ts) = rows.into_iter().unzip();
    Spine { user, ts, label }
}
