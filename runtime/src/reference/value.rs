//! The reference interpreter's own cell value, its total order (semantics.md
//! "Ordering") and the hashable entity key built from it.

use std::cmp::Ordering;

/// One cell. Timestamps are microseconds since the Unix epoch, UTC; dates days since
/// 1970-01-01.
#[derive(Debug, Clone, PartialEq)]
pub enum RValue {
    Null,
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Ts(i64),
    Date(i32),
    /// A decimal: the value times 10^-scale (semantics.md "Decimals").
    Dec(num_bigint::BigInt, u8),
    /// A list: a list feature's value (`last_k`, `first_k`; items never null) or a
    /// list column's cell (items may be null).
    List(Vec<RValue>),
    /// A counted list feature's value (`top_k`): (value, count) entries.
    Counted(Vec<(RValue, i64)>),
}

impl RValue {
    pub fn is_null(&self) -> bool {
        matches!(self, RValue::Null)
    }

    /// The variant's name, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            RValue::Null => "null",
            RValue::Int(_) => "int64",
            RValue::Float(_) => "float64",
            RValue::Str(_) => "string",
            RValue::Bool(_) => "bool",
            RValue::Ts(_) => "timestamp",
            RValue::Date(_) => "date",
            RValue::Dec(..) => "decimal",
            RValue::List(_) => "list",
            RValue::Counted(_) => "counted list",
        }
    }

    fn rank(&self) -> u8 {
        match self {
            RValue::Null => 0,
            RValue::Int(_) => 1,
            RValue::Float(_) => 2,
            RValue::Str(_) => 3,
            RValue::Bool(_) => 4,
            RValue::Ts(_) => 5,
            RValue::Date(_) => 6,
            RValue::Dec(..) => 7,
            RValue::List(_) => 8,
            RValue::Counted(_) => 9,
        }
    }
}

/// Every NaN is one value (semantics.md: NaN sorts above +inf, whatever its sign or
/// payload); everything else keeps its bits, so `-0.0` and `+0.0` stay distinct.
fn canonical(x: f64) -> f64 {
    if x.is_nan() {
        f64::NAN
    } else {
        x
    }
}

/// The featc total order used by min, max and first/last tie-breaks (count_distinct
/// also sorts by it, after mapping `-0.0` to `+0.0`):
/// numbers by value, floats by IEEE total order with one NaN above +inf, strings by
/// bytes, `false < true`. Values of different variants (never produced by a checked
/// project) order by variant so the order stays total.
pub fn total_cmp(a: &RValue, b: &RValue) -> Ordering {
    match (a, b) {
        (RValue::Int(x), RValue::Int(y)) => x.cmp(y),
        (RValue::Float(x), RValue::Float(y)) => canonical(*x).total_cmp(&canonical(*y)),
        (RValue::Str(x), RValue::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        (RValue::Bool(x), RValue::Bool(y)) => x.cmp(y),
        (RValue::Ts(x), RValue::Ts(y)) => x.cmp(y),
        (RValue::Date(x), RValue::Date(y)) => x.cmp(y),
        (RValue::Dec(..), RValue::Dec(..)) => {
            super::decimal::compare(a, b).unwrap_or(Ordering::Equal)
        }
        // Lists: item by item (null first), a list before any longer list it begins.
        (RValue::List(x), RValue::List(y)) => {
            for (p, q) in x.iter().zip(y) {
                match total_cmp(p, q) {
                    Ordering::Equal => {}
                    other => return other,
                }
            }
            x.len().cmp(&y.len())
        }
        _ => a.rank().cmp(&b.rank()),
    }
}

/// One part of an entity key; floats by canonical bits so keys can be hashed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyPart {
    Int(i64),
    FloatBits(u64),
    Str(String),
    Bool(bool),
    Ts(i64),
    Date(i32),
}

/// A whole entity key, or `None` when any part is null (such rows match nothing).
pub fn key_of(parts: &[RValue]) -> Option<Vec<KeyPart>> {
    parts
        .iter()
        .map(|v| match v {
            RValue::Null => None,
            RValue::Int(x) => Some(KeyPart::Int(*x)),
            RValue::Float(x) => Some(KeyPart::FloatBits(canonical(*x).to_bits())),
            RValue::Str(x) => Some(KeyPart::Str(x.clone())),
            RValue::Bool(x) => Some(KeyPart::Bool(*x)),
            RValue::Ts(x) => Some(KeyPart::Ts(*x)),
            RValue::Date(x) => Some(KeyPart::Date(*x)),
            // Keys are never lists, nor decimals (`check` refuses them, E0057).
            RValue::List(_) | RValue::Counted(_) | RValue::Dec(..) => None,
        })
        .collect()
}
