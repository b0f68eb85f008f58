//! `count(x)`: the number of non-null values.

use super::{CountAgg, Counts};
use crate::value::Value;

#[derive(Debug, Clone, Copy, Default)]
pub struct NonNull;

pub type Count = CountAgg<NonNull>;

impl Counts for NonNull {
    #[inline]
    fn counts(v: &Value) -> bool {
        !v.is_null()
    }
}
