//! `first_k(x, k)`: the `k` earliest non-null values, oldest first: the values of the
//! `k` smallest `(ts, value)` keys, in increasing order (a tie on time puts the
//! smaller value first, as `first` prefers it); fewer when fewer are folded; the
//! empty list when empty.

use super::{ByTime, End};

#[derive(Debug, Clone, Copy, Default)]
pub struct Oldest;

impl End for Oldest {
    const NEWEST: bool = false;
}

pub type FirstK = ByTime<Oldest>;
