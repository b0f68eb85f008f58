//! `first(x)`: the value of the non-null event with the smallest ts, ties broken by the
//! smallest value (the minimum of `(ts, value)`); null when empty.

use super::{Select, SelectAgg};
use crate::ir::AggKind;
use crate::value::{Value, ValueKey};

#[derive(Debug, Clone, Copy, Default)]
pub struct FirstSel;

pub type First = SelectAgg<FirstSel>;

impl Select for FirstSel {
    type Key = (i64, ValueKey);
    const PREFER_GREATER: bool = false;
    const KIND: AggKind = AggKind::First;
    const BY_TIME: bool = true;

    #[inline]
    fn key(ts: i64, v: &Value) -> Option<(i64, ValueKey)> {
        if v.is_null() {
            None
        } else {
            Some((ts, ValueKey(v.canonical())))
        }
    }

    fn value(k: &(i64, ValueKey)) -> Value {
        k.1 .0.clone()
    }
}
