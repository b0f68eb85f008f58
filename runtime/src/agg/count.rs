//! `count(x)`: the number of non-null values.

use super::{CountAgg, Counts, ValueRun};
use crate::value::Value;

#[derive(Debug, Clone, Copy, Default)]
pub struct NonNull;

pub type Count = CountAgg<NonNull>;

impl Counts for NonNull {
    #[inline]
    fn counts(v: &Value) -> bool {
        !v.is_null()
    }

    #[inline]
    fn count_run<R: ValueRun>(run: &R) -> Option<u64> {
        run.non_null()
    }
}
