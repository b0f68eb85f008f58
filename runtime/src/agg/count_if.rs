//! `count_if(p)`: the number of events whose predicate is `true` (null and false
//! do not count).

use super::{CountAgg, Counts, ValueRun};
use crate::value::Value;

#[derive(Debug, Clone, Copy, Default)]
pub struct IsTrue;

pub type CountIf = CountAgg<IsTrue>;

impl Counts for IsTrue {
    #[inline]
    fn counts(v: &Value) -> bool {
        matches!(v, Value::Bool(true))
    }

    #[inline]
    fn count_run<R: ValueRun>(run: &R) -> Option<u64> {
        run.trues()
    }
}
