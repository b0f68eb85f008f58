//! `count(*)`: the number of events (rows that passed the filters).

use super::{CountAgg, Counts};
use crate::value::Value;

#[derive(Debug, Clone, Copy, Default)]
pub struct EveryEvent;

pub type CountStar = CountAgg<EveryEvent>;

impl Counts for EveryEvent {
    #[inline]
    fn counts(_v: &Value) -> bool {
        true
    }
}
