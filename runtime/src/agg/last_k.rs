//! `last_k(x, k)`: the `k` latest non-null values, newest first: the values of the
//! `k` greatest `(ts, value)` keys, in decreasing order (a tie on time puts the
//! greater value first, as `last` prefers it); fewer when fewer are folded; the empty
//! list when empty.

use super::{ByTime, End};

#[derive(Debug, Clone, Copy, Default)]
pub struct Newest;

impl End for Newest {
    const NEWEST: bool = true;
}

pub type LastK = ByTime<Newest>;
