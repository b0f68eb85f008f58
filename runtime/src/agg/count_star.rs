//! `count(*)`: the number of events (rows that passed the filters).

use super::{CountAgg, Counts, ValueRun};
use crate::value::Value;

#[derive(Debug, Clone, Copy, Default)]
pub struct EveryEvent;

pub type CountStar = CountAgg<EveryEvent>;

impl Counts for EveryEvent {
    #[inline]
    fn counts(_v: &Value) -> bool {
        true
    }

    #[inline]
    fn count_run<R: ValueRun>(run: &R) -> Option<u64> {
        Some(run.events())
    }
}
