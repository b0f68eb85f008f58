//! `min(x)`: the smallest non-null value under the featc total order; null when empty.

use super::{Select, SelectAgg};
use crate::ir::AggKind;
use crate::value::{Value, ValueKey};

#[derive(Debug, Clone, Copy, Default)]
pub struct MinSel;

pub type Min = SelectAgg<MinSel>;

impl Select for MinSel {
    type Key = ValueKey;
    const PREFER_GREATER: bool = false;
    const KIND: AggKind = AggKind::Min;

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
