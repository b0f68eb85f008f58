//! The aggregations of semantics.md, each computed from scratch over the events of
//! one window: a list of `(ts, value)` in no particular order.

use std::cmp::Ordering;

use num_bigint::BigInt;

use super::decimal;
use super::exact::{moments, Dyadic, Moments};
use super::round::{round_ratio, sqrt_ratio};
use super::value::{total_cmp, RValue};
use super::EvalError;
use crate::ir::{AggKind, DataType};

/// The value of `kind` over `events`; `ty` is the feature's result type (it decides
/// between an int64 and a float64 sum, and the type of an empty sum). An error says
/// why (integer sum overflow, a value of the wrong type).
pub fn aggregate(
    kind: AggKind,
    ty: DataType,
    events: &[(i64, &RValue)],
) -> Result<RValue, EvalError> {
    let present: Vec<(i64, &RValue)> = events
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_null())
        .collect();
    let values: Vec<&RValue> = present.iter().map(|(_, v)| *v).collect();
    Ok(match kind {
        AggKind::CountStar => RValue::Int(events.len() as i64),
        AggKind::Count => RValue::Int(values.len() as i64),
        AggKind::CountIf => RValue::Int(
            values
                .iter()
                .filter(|v| matches!(v, RValue::Bool(true)))
                .count() as i64,
        ),
        AggKind::CountDistinct => {
            // SQL's equality: `-0.0` is `+0.0` (NaNs are already one under total_cmp).
            let mut sorted: Vec<RValue> = values
                .iter()
                .map(|v| match v {
                    RValue::Float(x) if *x == 0.0 => RValue::Float(0.0),
                    v => (*v).clone(),
                })
                .collect();
            sorted.sort_by(total_cmp);
            sorted.dedup_by(|a, b| total_cmp(a, b) == Ordering::Equal);
            RValue::Int(sorted.len() as i64)
        }
        AggKind::Sum if ty == DataType::Int64 => int_sum(&values)?,
        AggKind::Sum if ty.is_decimal() => {
            let scale = ty.decimal_parts().map_or(0, |(_, s)| s);
            decimal::sum(&values, scale)?
        }
        AggKind::Avg if values.iter().any(|v| matches!(v, RValue::Dec(..))) => decimal_avg(&values),
        AggKind::VarPop | AggKind::StddevPop
            if values.iter().any(|v| matches!(v, RValue::Dec(..))) =>
        {
            // semantics.md: those of the values each converted to the nearest float64.
            let floats: Vec<RValue> = values
                .iter()
                .map(|v| match v {
                    RValue::Dec(x, s) => RValue::Float(decimal::to_f64(x, *s)),
                    v => (*v).clone(),
                })
                .collect();
            let floats: Vec<&RValue> = floats.iter().collect();
            let finish = if kind == AggKind::VarPop {
                Finish::Var
            } else {
                Finish::Stddev
            };
            float_finish(&floats, finish)?.unwrap_or(RValue::Null)
        }
        AggKind::Sum => float_finish(&values, Finish::Sum)?.unwrap_or(RValue::Float(0.0)),
        AggKind::Avg if matches!(ty, DataType::List(_)) => list_avg(&values)?,
        AggKind::Avg => float_finish(&values, Finish::Avg)?.unwrap_or(RValue::Null),
        AggKind::VarPop => float_finish(&values, Finish::Var)?.unwrap_or(RValue::Null),
        AggKind::StddevPop => float_finish(&values, Finish::Stddev)?.unwrap_or(RValue::Null),
        AggKind::Min => extreme(values.iter().copied().min_by(|a, b| total_cmp(a, b))),
        AggKind::Max => extreme(values.iter().copied().max_by(|a, b| total_cmp(a, b))),
        AggKind::First => extreme(
            present
                .iter()
                .min_by(|a, b| by_time_then_value(a, b))
                .map(|e| e.1),
        ),
        AggKind::Last => extreme(
            present
                .iter()
                .max_by(|a, b| by_time_then_value(a, b))
                .map(|e| e.1),
        ),
        AggKind::Percentile(q) => {
            // Nearest rank: the value at position ceil(p * n) (1-based, at least 1)
            // of the sorted values.
            let mut sorted = values.clone();
            sorted.sort_by(|a, b| total_cmp(a, b));
            let n = BigInt::from(sorted.len());
            let scaled = n * BigInt::from(q.num());
            let den = BigInt::from(q.den());
            let rank = (scaled + &den - 1) / den;
            let index = usize::try_from(rank).unwrap_or(1).max(1) - 1;
            extreme(sorted.get(index).copied())
        }
        AggKind::LastK(k) | AggKind::FirstK(k) => {
            // last_k: newest first, by time descending, a tie on time by value
            // descending; first_k: the reverse order, oldest and smallest first.
            let mut events = present.clone();
            match kind {
                AggKind::LastK(_) => events.sort_by(|a, b| by_time_then_value(b, a)),
                _ => events.sort_by(by_time_then_value),
            }
            RValue::List(
                events
                    .iter()
                    .take(k as usize)
                    .map(|e| extreme(Some(e.1)))
                    .collect(),
            )
        }
        AggKind::TopK(k) => {
            // Grouped like count_distinct (`-0.0` is `+0.0`; NaNs are one under
            // total_cmp), counted, then by count descending and value ascending.
            let mut sorted: Vec<RValue> = values
                .iter()
                .map(|v| match v {
                    RValue::Float(x) if *x == 0.0 => RValue::Float(0.0),
                    v => extreme(Some(v)),
                })
                .collect();
            sorted.sort_by(total_cmp);
            let mut groups: Vec<(RValue, i64)> = Vec::new();
            for v in sorted {
                match groups.last_mut() {
                    Some((g, n)) if total_cmp(g, &v) == Ordering::Equal => *n += 1,
                    _ => groups.push((v, 1)),
                }
            }
            groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| total_cmp(&a.0, &b.0)));
            groups.truncate(k as usize);
            RValue::Counted(groups)
        }
    })
}

fn by_time_then_value(a: &(i64, &RValue), b: &(i64, &RValue)) -> Ordering {
    a.0.cmp(&b.0).then_with(|| total_cmp(a.1, b.1))
}

/// The selected value; every NaN is one value (semantics.md "Ordering"), so a NaN
/// comes out as the one canonical NaN whichever payload the input carried.
fn extreme(v: Option<&RValue>) -> RValue {
    match v {
        Some(RValue::Float(x)) if x.is_nan() => RValue::Float(f64::NAN),
        Some(RValue::List(xs)) => RValue::List(xs.iter().map(|x| extreme(Some(x))).collect()),
        Some(v) => v.clone(),
        None => RValue::Null,
    }
}

/// `avg` of a list column (semantics.md "List columns and embeddings"): item `i` is
/// the avg of the non-null items `i` of the lists (null when there are none), as
/// long as the longest list; no list at all is null.
fn list_avg(values: &[&RValue]) -> Result<RValue, EvalError> {
    if values.is_empty() {
        return Ok(RValue::Null);
    }
    let lists: Vec<&[RValue]> = values
        .iter()
        .filter_map(|v| match v {
            RValue::List(xs) => Some(xs.as_slice()),
            _ => None,
        })
        .collect();
    let longest = lists.iter().map(|l| l.len()).max().unwrap_or(0);
    let mut out = Vec::with_capacity(longest);
    for i in 0..longest {
        let column: Vec<&RValue> = lists
            .iter()
            .filter_map(|l| l.get(i).filter(|x| !x.is_null()))
            .collect();
        out.push(float_finish(&column, Finish::Avg)?.unwrap_or(RValue::Null));
    }
    Ok(RValue::List(out))
}

/// avg of decimals: the exact sum over the count and the scale, rounded once.
fn decimal_avg(values: &[&RValue]) -> RValue {
    let mut total = BigInt::from(0);
    let mut scale = 0;
    for v in values {
        if let RValue::Dec(x, s) = v {
            total += x;
            scale = *s;
        }
    }
    RValue::Float(decimal::avg(&total, values.len(), scale))
}

fn int_sum(values: &[&RValue]) -> Result<RValue, EvalError> {
    let mut total = BigInt::from(0);
    for v in values {
        match v {
            RValue::Int(x) => total += *x,
            other => {
                return Err(EvalError::IntSumKind {
                    found: other.kind_name(),
                })
            }
        }
    }
    i64::try_from(&total)
        .map(RValue::Int)
        .map_err(|_| EvalError::SumOverflow(total.clone()))
}

#[derive(Clone, Copy)]
enum Finish {
    Sum,
    Avg,
    Var,
    Stddev,
}

/// The float results; `None` when there is no non-null value.
fn float_finish(values: &[&RValue], finish: Finish) -> Result<Option<RValue>, EvalError> {
    if values.is_empty() {
        return Ok(None);
    }
    let mut finite = Vec::with_capacity(values.len());
    let (mut nan, mut pos_inf, mut neg_inf) = (false, false, false);
    for v in values {
        match v {
            RValue::Int(x) => finite.push(Dyadic::from_i64(*x)),
            RValue::Float(x) => match Dyadic::from_f64(*x) {
                Some(d) => finite.push(d),
                None if x.is_nan() => nan = true,
                None if *x > 0.0 => pos_inf = true,
                None => neg_inf = true,
            },
            other => {
                return Err(EvalError::NumericKind {
                    found: other.kind_name(),
                })
            }
        }
    }
    let n = values.len() as i64;
    if nan || pos_inf || neg_inf {
        let sum = if nan || (pos_inf && neg_inf) {
            f64::NAN
        } else if pos_inf {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        };
        return Ok(Some(RValue::Float(match finish {
            Finish::Sum => sum,
            Finish::Avg => sum / n as f64,
            Finish::Var | Finish::Stddev => f64::NAN,
        })));
    }
    let m: Moments = moments(&finite);
    let n_big = BigInt::from(n);
    let result = match finish {
        Finish::Sum => round_ratio(&m.s1, &BigInt::from(1), m.exp),
        Finish::Avg => round_ratio(&m.s1, &n_big, m.exp),
        Finish::Var => round_ratio(&m.n2_variance(), &(&n_big * &n_big), 2 * m.exp),
        Finish::Stddev => sqrt_ratio(&m.n2_variance(), &(&n_big * &n_big), 2 * m.exp),
    };
    Ok(Some(RValue::Float(result)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(kind: AggKind, xs: &[f64]) -> RValue {
        let values: Vec<RValue> = xs.iter().map(|x| RValue::Float(*x)).collect();
        let events: Vec<(i64, &RValue)> = values.iter().map(|v| (0, v)).collect();
        aggregate(kind, DataType::Float64, &events).expect("aggregate")
    }

    fn bits(v: RValue) -> u64 {
        match v {
            RValue::Float(x) => x.to_bits(),
            other => panic!("not a float: {other:?}"),
        }
    }

    #[test]
    fn float_sums_are_exact_and_rounded_once() {
        // A naive left-to-right sum gives 0.0 (1.0 is lost next to 1e16).
        assert_eq!(
            floats(AggKind::Sum, &[1e16, 1.0, -1e16]),
            RValue::Float(1.0)
        );
        // Rounded once, two 1e308 overflow to infinity.
        assert_eq!(
            floats(AggKind::Sum, &[1e308, 1e308, -1e308]),
            RValue::Float(1e308)
        );
        assert_eq!(bits(floats(AggKind::Sum, &[-0.0, -0.0])), 0.0f64.to_bits());
        assert_eq!(bits(floats(AggKind::Sum, &[])), 0.0f64.to_bits());
        // (0.1 + 0.2) / 2 exactly lies halfway between 0.15 and the next float up;
        // the tie goes to the even significand, the one above.
        assert_eq!(
            floats(AggKind::Avg, &[0.1, 0.2]),
            RValue::Float(0.15000000000000002)
        );
    }

    #[test]
    fn non_finite_inputs() {
        assert!(
            matches!(floats(AggKind::Sum, &[f64::INFINITY, f64::NEG_INFINITY]), RValue::Float(x) if x.is_nan())
        );
        assert_eq!(
            floats(AggKind::Avg, &[f64::INFINITY, 1.0]),
            RValue::Float(f64::INFINITY)
        );
        assert!(
            matches!(floats(AggKind::VarPop, &[f64::INFINITY]), RValue::Float(x) if x.is_nan())
        );
        assert_eq!(
            bits(floats(AggKind::Max, &[1.0, -f64::NAN])),
            f64::NAN.to_bits()
        );
    }

    #[test]
    fn ties_and_ordering() {
        let (a, b) = (RValue::Str("a".into()), RValue::Str("b".into()));
        let events = [(5, &a), (5, &b), (1, &b)];
        assert_eq!(
            aggregate(AggKind::Last, DataType::String, &events),
            Ok(b.clone())
        );
        assert_eq!(
            aggregate(AggKind::First, DataType::String, &events),
            Ok(b.clone())
        );
        assert_eq!(
            aggregate(AggKind::First, DataType::String, &events[..2]),
            Ok(a)
        );
        assert_eq!(
            floats(AggKind::CountDistinct, &[0.0, -0.0, f64::NAN, -f64::NAN]),
            RValue::Int(2)
        );
        assert_eq!(
            floats(AggKind::Min, &[0.0, -0.0]).clone(),
            RValue::Float(-0.0)
        );
    }

    #[test]
    fn integer_sums_overflow_as_errors_and_moments_are_exact() {
        let big = RValue::Int(i64::MAX);
        let one = RValue::Int(1);
        let minus = RValue::Int(-1);
        assert!(aggregate(AggKind::Sum, DataType::Int64, &[(0, &big), (0, &one)]).is_err());
        // The sum only overflows in the middle: the exact total fits.
        assert_eq!(
            aggregate(
                AggKind::Sum,
                DataType::Int64,
                &[(0, &big), (0, &one), (0, &minus)]
            ),
            Ok(RValue::Int(i64::MAX))
        );
        let (x, y) = (RValue::Int(1 << 62), RValue::Int((1 << 62) + 2));
        assert_eq!(
            aggregate(AggKind::VarPop, DataType::Float64, &[(0, &x), (0, &y)]),
            Ok(RValue::Float(1.0))
        );
    }
}
