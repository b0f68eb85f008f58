//! A naive, independent evaluation of every aggregation over a multiset of
//! `(ts, value)` events, straight from the semantics.md table.

use std::cmp::Ordering;
use std::sync::Arc;

use featc_runtime::agg::AggError;
use featc_runtime::ir::{AggKind, DataType};
use featc_runtime::value::{List, Value};
use num_rational::BigRational;
use num_traits::Zero;

use super::{exact_avg, exact_var, rat, rat_int, round_rat, round_sqrt_rat};

fn ord(a: &Value, b: &Value) -> Ordering {
    a.total_cmp(b)
}

/// Equality for results: floats by bits, except that all NaNs are equal; lists item
/// by item.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float64(x), Value::Float64(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Value::List(x), Value::List(y)) => {
            x.item == y.item
                && x.counts == y.counts
                && x.items.len() == y.items.len()
                && x.items.iter().zip(&y.items).all(|(p, q)| same_value(p, q))
        }
        _ => a == b,
    }
}

/// A list of `items` of the input's type, with `counts` for a counted one.
fn list(input: Option<DataType>, items: Vec<Value>, counts: Option<Vec<i64>>) -> Value {
    let item = input.and_then(|t| t.scalar()).expect("a scalar input");
    Value::List(Arc::new(List {
        item,
        items,
        counts,
    }))
}

/// `v` with every NaN the one NaN.
fn one_nan(v: &Value) -> Value {
    match v {
        Value::Float64(x) if x.is_nan() => Value::Float64(f64::NAN),
        v => v.clone(),
    }
}

pub fn same_result(a: &Result<Value, AggError>, b: &Result<Value, AggError>) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => same_value(x, y),
        (Err(x), Err(y)) => x == y,
        _ => false,
    }
}

fn as_rat(v: &Value) -> Option<BigRational> {
    match v {
        Value::Int64(i) => Some(rat_int(*i)),
        Value::Decimal {
            unscaled, scale, ..
        } => Some(BigRational::new(
            unscaled.get().into(),
            num_traits::pow(num_bigint::BigInt::from(10), usize::from(*scale)),
        )),
        Value::Float64(f) if f.is_finite() => Some(rat(*f)),
        _ => None,
    }
}

/// IEEE sum of the non-finite inputs, if any.
fn non_finite(vals: &[&Value]) -> Option<f64> {
    let nf: Vec<f64> = vals
        .iter()
        .filter_map(|v| match v {
            Value::Float64(f) if !f.is_finite() => Some(*f),
            _ => None,
        })
        .collect();
    if nf.is_empty() {
        None
    } else {
        Some(nf.iter().sum())
    }
}

pub fn naive(
    agg: AggKind,
    input: Option<DataType>,
    events: &[(i64, Value)],
) -> Result<Value, AggError> {
    let vals: Vec<&Value> = events
        .iter()
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
        .collect();
    let n = vals.len();
    Ok(match agg {
        AggKind::CountStar => Value::Int64(events.len() as i64),
        AggKind::Count => Value::Int64(n as i64),
        AggKind::CountIf => Value::Int64(
            vals.iter()
                .filter(|v| matches!(v, Value::Bool(true)))
                .count() as i64,
        ),
        AggKind::CountDistinct => {
            let mut s: Vec<&Value> = vals.clone();
            s.sort_by(|a, b| ord(a, b));
            // SQL's equality: `-0.0` and `+0.0` (adjacent in the total order) are one.
            let zero = |v: &Value| matches!(v, Value::Float64(x) if *x == 0.0);
            s.dedup_by(|a, b| ord(a, b) == Ordering::Equal || (zero(a) && zero(b)));
            Value::Int64(s.len() as i64)
        }
        AggKind::Sum if input == Some(DataType::Int64) => {
            let t: i128 = vals
                .iter()
                .map(|v| match v {
                    Value::Int64(i) => *i as i128,
                    _ => 0,
                })
                .sum();
            match i64::try_from(t) {
                Ok(x) => Value::Int64(x),
                Err(_) => return Err(AggError::IntegerOverflow { agg: AggKind::Sum }),
            }
        }
        // Exact, `decimal(38, s)`, an error past 38 digits (semantics.md "Decimals").
        AggKind::Sum if matches!(input, Some(DataType::Decimal { .. })) => {
            let scale = match input {
                Some(DataType::Decimal { scale, .. }) => scale,
                _ => 0,
            };
            let t: num_bigint::BigInt = vals
                .iter()
                .filter_map(|v| v.as_decimal())
                .map(|(u, _)| num_bigint::BigInt::from(u))
                .sum();
            let limit = num_traits::pow(num_bigint::BigInt::from(10), 38);
            match i128::try_from(&t) {
                Ok(x) if num_bigint::BigInt::from(x.unsigned_abs()) < limit => {
                    Value::decimal(x, 38, scale)
                }
                _ => return Err(AggError::DecimalOverflow { agg: AggKind::Sum }),
            }
        }
        // Over the nearest float64s of decimals.
        AggKind::VarPop | AggKind::StddevPop if matches!(input, Some(DataType::Decimal { .. })) => {
            let floats: Vec<Value> = vals
                .iter()
                .filter_map(|v| v.as_decimal())
                .map(|(u, s)| {
                    Value::Float64(format!("{u}e-{s}").parse::<f64>().unwrap_or(f64::NAN))
                })
                .collect();
            let events: Vec<(i64, Value)> = floats.into_iter().map(|v| (0, v)).collect();
            return naive(agg, Some(DataType::Float64), &events);
        }
        AggKind::Sum => match non_finite(&vals) {
            Some(x) => Value::Float64(x),
            None => Value::Float64(round_rat(
                &vals
                    .iter()
                    .filter_map(|v| as_rat(v))
                    .fold(BigRational::zero(), |a, b| a + b),
            )),
        },
        AggKind::Avg | AggKind::VarPop | AggKind::StddevPop => {
            if n == 0 {
                return Ok(Value::Null);
            }
            if let Some(x) = non_finite(&vals) {
                return Ok(Value::Float64(if agg == AggKind::Avg {
                    x / n as f64
                } else {
                    f64::NAN
                }));
            }
            let xs: Vec<BigRational> = vals.iter().filter_map(|v| as_rat(v)).collect();
            Value::Float64(match agg {
                AggKind::Avg => round_rat(&exact_avg(&xs).unwrap()),
                AggKind::VarPop => round_rat(&exact_var(&xs).unwrap()),
                _ => round_sqrt_rat(&exact_var(&xs).unwrap()),
            })
        }
        AggKind::Min => vals
            .iter()
            .min_by(|a, b| ord(a, b))
            .map_or(Value::Null, |v| (*v).clone()),
        AggKind::Max => vals
            .iter()
            .max_by(|a, b| ord(a, b))
            .map_or(Value::Null, |v| (*v).clone()),
        AggKind::Percentile(q) => {
            // The smallest value with at least p * n values at or below it.
            let mut s: Vec<&Value> = vals.clone();
            s.sort_by(|a, b| ord(a, b));
            let pick = (0..s.len())
                .find(|&i| (i + 1) as u128 * q.den() as u128 >= q.num() as u128 * s.len() as u128);
            pick.map_or(Value::Null, |i| s[i].clone())
        }
        AggKind::LastK(k) | AggKind::FirstK(k) => {
            // Sorted by (ts, value), oldest first; last_k reads it from the end.
            let mut s: Vec<&(i64, Value)> = events.iter().filter(|(_, v)| !v.is_null()).collect();
            s.sort_by(|a, b| a.0.cmp(&b.0).then(ord(&a.1, &b.1)));
            if matches!(agg, AggKind::LastK(_)) {
                s.reverse();
            }
            let items = s.iter().take(k as usize).map(|(_, v)| one_nan(v)).collect();
            list(input, items, None)
        }
        AggKind::TopK(k) => {
            // Count each value's occurrences by scanning all of them (SQL equality:
            // `-0.0` is `+0.0`, NaN is NaN), then rank by count, then by value.
            let same = |a: &Value, b: &Value| match (a, b) {
                (Value::Float64(x), Value::Float64(y)) => x == y || (x.is_nan() && y.is_nan()),
                _ => a == b,
            };
            let mut groups: Vec<(Value, i64)> = Vec::new();
            for v in &vals {
                if groups.iter().any(|(g, _)| same(g, v)) {
                    continue;
                }
                let n = vals.iter().filter(|w| same(w, v)).count() as i64;
                let shown = match v {
                    Value::Float64(x) if *x == 0.0 => Value::Float64(0.0),
                    v => one_nan(v),
                };
                groups.push((shown, n));
            }
            groups.sort_by(|a, b| b.1.cmp(&a.1).then(ord(&a.0, &b.0)));
            groups.truncate(k as usize);
            let (items, counts) = groups.into_iter().unzip();
            list(input, items, Some(counts))
        }
        AggKind::First | AggKind::Last => {
            let it = events.iter().filter(|(_, v)| !v.is_null());
            let cmp = |a: &&(i64, Value), b: &&(i64, Value)| a.0.cmp(&b.0).then(ord(&a.1, &b.1));
            let pick = if agg == AggKind::First {
                it.min_by(cmp)
            } else {
                it.max_by(cmp)
            };
            pick.map_or(Value::Null, |(_, v)| v.clone())
        }
    })
}
