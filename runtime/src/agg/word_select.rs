//! `WordSel`: min, max, first and last over a fixed-width input type, keyed by an
//! order-preserving `u64` instead of a `Value`, so folding an event clones, drops and
//! compares machine words rather than enums.

use std::marker::PhantomData;

use super::Select;
use crate::ir::{AggKind, DataType};
use crate::value::Value;

/// A fixed-width type as order-preserving words.
///
/// Invariant: for values `a`, `b` of the type, `ordered(a).cmp(&ordered(b))` equals
/// `a.total_cmp(b)`, `value(ordered(a))` is bit-identical to `a.canonical()`, and
/// `from_stored` of the word the event buffer stores for `a` equals `ordered(a)`.
pub trait Word: Clone + Copy + Send + Sync + std::fmt::Debug + Default + 'static {
    /// The type whose values these words order.
    const TYPE: DataType;
    /// The word of a non-null value of the type; `None` for null or another variant.
    fn ordered(v: &Value) -> Option<u64>;
    fn value(w: u64) -> Value;
    /// The ordered word of the value whose stored word (`ValueRun::each_word`) is `w`.
    fn from_stored(w: u64) -> u64;
}

const SIGN: u64 = 1 << 63;

#[derive(Debug, Clone, Copy, Default)]
pub struct F64Word;

impl Word for F64Word {
    const TYPE: DataType = DataType::Float64;

    /// IEEE total order after every NaN became the canonical (positive) NaN, which
    /// puts NaN above +inf, as `float_cmp` does.
    #[inline]
    fn ordered(v: &Value) -> Option<u64> {
        let Value::Float64(x) = v else { return None };
        Some(Self::from_stored(x.to_bits()))
    }

    #[inline]
    fn from_stored(w: u64) -> u64 {
        let x = f64::from_bits(w);
        let b = if x.is_nan() { f64::NAN } else { x }.to_bits();
        if b & SIGN != 0 {
            !b
        } else {
            b ^ SIGN
        }
    }

    #[inline]
    fn value(w: u64) -> Value {
        Value::Float64(f64::from_bits(if w & SIGN != 0 { w ^ SIGN } else { !w }))
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct I64Word;

impl Word for I64Word {
    const TYPE: DataType = DataType::Int64;

    #[inline]
    fn from_stored(w: u64) -> u64 {
        w ^ SIGN
    }

    #[inline]
    fn ordered(v: &Value) -> Option<u64> {
        let Value::Int64(x) = v else { return None };
        Some(*x as u64 ^ SIGN)
    }

    #[inline]
    fn value(w: u64) -> Value {
        Value::Int64((w ^ SIGN) as i64)
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct TimestampWord;

impl Word for TimestampWord {
    const TYPE: DataType = DataType::Timestamp;

    #[inline]
    fn from_stored(w: u64) -> u64 {
        w ^ SIGN
    }

    #[inline]
    fn ordered(v: &Value) -> Option<u64> {
        let Value::Timestamp(x) = v else { return None };
        Some(*x as u64 ^ SIGN)
    }

    #[inline]
    fn value(w: u64) -> Value {
        Value::Timestamp((w ^ SIGN) as i64)
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct DateWord;

impl Word for DateWord {
    const TYPE: DataType = DataType::Date;

    /// The stored word is the day widened to i64 (`layout::encode_word`).
    #[inline]
    fn from_stored(w: u64) -> u64 {
        w ^ SIGN
    }

    #[inline]
    fn ordered(v: &Value) -> Option<u64> {
        let Value::Date(d) = v else { return None };
        Some(i64::from(*d) as u64 ^ SIGN)
    }

    #[inline]
    fn value(w: u64) -> Value {
        Value::Date((w ^ SIGN) as i64 as i32)
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct BoolWord;

impl Word for BoolWord {
    const TYPE: DataType = DataType::Bool;

    #[inline]
    fn from_stored(w: u64) -> u64 {
        w
    }

    #[inline]
    fn ordered(v: &Value) -> Option<u64> {
        let Value::Bool(x) = v else { return None };
        Some(u64::from(*x))
    }

    #[inline]
    fn value(w: u64) -> Value {
        Value::Bool(w == 1)
    }
}

/// The selection `S` (min, max, first or last) over values of word type `W`: the key
/// is `(ts, word)` for first/last and `(0, word)` for min/max, which orders events as
/// `S`'s own key does.
#[derive(Debug, Clone, Copy, Default)]
pub struct WordSel<S, W>(PhantomData<(S, W)>);

impl<S: Select, W: Word> Select for WordSel<S, W> {
    type Key = (i64, u64);
    const PREFER_GREATER: bool = S::PREFER_GREATER;
    const KIND: AggKind = S::KIND;
    const BY_TIME: bool = S::BY_TIME;

    #[inline]
    fn key(ts: i64, v: &Value) -> Option<(i64, u64)> {
        W::ordered(v).map(|w| (if S::BY_TIME { ts } else { 0 }, w))
    }

    #[inline]
    fn value(k: &(i64, u64)) -> Value {
        W::value(k.1)
    }

    const STORED: Option<DataType> = Some(W::TYPE);

    #[inline]
    fn stored_key(ts: i64, w: u64) -> Option<(i64, u64)> {
        Some((if S::BY_TIME { ts } else { 0 }, W::from_stored(w)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::float_cmp;

    #[test]
    fn float_words_follow_the_total_order_and_round_trip() {
        let xs = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -5e-324,
            -0.0,
            0.0,
            5e-324,
            1.0,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
            f64::from_bits(0x7ff0_0000_0000_0001),
        ];
        for a in xs {
            for b in xs {
                let (wa, wb) = (
                    F64Word::ordered(&Value::Float64(a)).unwrap(),
                    F64Word::ordered(&Value::Float64(b)).unwrap(),
                );
                assert_eq!(wa.cmp(&wb), float_cmp(a, b), "{a} vs {b}");
            }
            let Value::Float64(back) =
                F64Word::value(F64Word::ordered(&Value::Float64(a)).unwrap())
            else {
                panic!("not a float");
            };
            let Value::Float64(canon) = Value::Float64(a).canonical() else {
                unreachable!()
            };
            assert_eq!(back.to_bits(), canon.to_bits());
        }
    }

    #[test]
    fn integer_words_follow_the_order_and_round_trip() {
        let xs = [i64::MIN, -1, 0, 1, i64::MAX];
        for a in xs {
            for b in xs {
                assert_eq!(
                    I64Word::ordered(&Value::Int64(a)).cmp(&I64Word::ordered(&Value::Int64(b))),
                    a.cmp(&b)
                );
            }
            let w = TimestampWord::ordered(&Value::Timestamp(a)).unwrap();
            assert_eq!(TimestampWord::value(w), Value::Timestamp(a));
            assert_eq!(
                I64Word::value(I64Word::ordered(&Value::Int64(a)).unwrap()),
                Value::Int64(a)
            );
        }
        assert_eq!(BoolWord::ordered(&Value::Null), None);
        assert!(BoolWord::ordered(&Value::Bool(false)) < BoolWord::ordered(&Value::Bool(true)));
    }
}
