//! `max(x)`: the greatest non-null value under the featc total order; null when empty.

use super::{Select, SelectAgg};
use crate::ir::AggKind;
use crate::value::{Value, ValueKey};

#[derive(Debug, Clone, Copy, Default)]
pub struct MaxSel;

pub type Max = SelectAgg<MaxSel>;

impl Select for MaxSel {
    type Key = ValueKey;
    const PREFER_GREATER: bool = true;
    const KIND: AggKind = AggKind::Max;

    #[inline]
    fn key(_ts: i64, v: &Value) -> Option<ValueKey> {
        if v.is_null() {
            None
        } else {
            Some(ValueKey(v.canonical()))
        }
    }

    fn value(k: &ValueKey) -> Value {
        k.0.clone()
    }
}
