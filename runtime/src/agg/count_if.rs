//! `count_if(p)`: the number of events whose predicate is `true` (null and false
//! do not count).

use super::{CountAgg, Counts};
use crate::value::Value;

#[derive(Debug, Clone, Copy, Default)]
pub struct IsTrue;

pub type CountIf = CountAgg<IsTrue>;

impl Counts for IsTrue {
    #[inline]
    fn counts(v: &Value) -> bool {
        matches!(v, Value::Bool(true))
    }
}
