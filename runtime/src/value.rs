//! The runtime value of one column cell, and the total order / identity that
//! min, max, first, last and count_distinct use (semantics.md, "Ordering").

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::ir::DataType;

/// One cell. `Timestamp` is microseconds since the Unix epoch, UTC.
///
/// Executors may feed strings as order-preserving dictionary ids in `Int64`: the
/// algebra only relies on an `Int64`'s order and equality, except in sum, avg,
/// var_pop and stddev_pop where it is a number.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int64(i64),
    Float64(f64),
    Bool(bool),
    String(Arc<str>),
    Timestamp(i64),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value's type; `None` for `Null` (nulls are untyped at runtime).
    pub fn data_type(&self) -> Option<DataType> {
        match self {
            Value::Null => None,
            Value::Int64(_) => Some(DataType::Int64),
            Value::Float64(_) => Some(DataType::Float64),
            Value::Bool(_) => Some(DataType::Bool),
            Value::String(_) => Some(DataType::String),
            Value::Timestamp(_) => Some(DataType::Timestamp),
        }
    }

    /// True when the value may appear in a column of type `ty` (null always may).
    pub fn fits(&self, ty: DataType) -> bool {
        match self.data_type() {
            None => true,
            Some(t) => t == ty,
        }
    }

    /// The name of the variant, for error messages.
    pub fn variant_name(&self) -> &'static str {
        match self.data_type() {
            None => "null",
            Some(t) => t.name(),
        }
    }

    /// The featc total order (semantics.md "Ordering"): numbers by value, floats by
    /// IEEE total order except that every NaN is one value above +inf (so the order
    /// does not depend on NaN payloads, which differ between platforms), strings by
    /// bytes, `false < true`. Values of different variants are ordered by variant
    /// (Null first); an accumulator never mixes variants, so that part is arbitrary
    /// but still total.
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Int64(a), Value::Int64(b)) => a.cmp(b),
            (Value::Float64(a), Value::Float64(b)) => float_cmp(*a, *b),
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            // Interned strings (see `stream::intern`) are usually the same allocation.
            (Value::String(a), Value::String(b)) if Arc::ptr_eq(a, b) => Ordering::Equal,
            (Value::String(a), Value::String(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Value::Timestamp(a), Value::Timestamp(b)) => a.cmp(b),
            (Value::Null, Value::Null) => Ordering::Equal,
            _ => self.rank().cmp(&other.rank()),
        }
    }

    /// Equality under `total_cmp` (so `-0.0 != +0.0` and NaN == NaN).
    pub fn total_eq(&self, other: &Value) -> bool {
        self.total_cmp(other) == Ordering::Equal
    }

    /// The same value with every NaN replaced by the canonical `f64::NAN`, so that
    /// values equal under `total_cmp` are also bit-identical (keeps min/max/first/
    /// last results independent of which NaN arrived first).
    pub fn canonical(&self) -> Value {
        match self {
            Value::Float64(f) if f.is_nan() => Value::Float64(f64::NAN),
            v => v.clone(),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int64(_) => 2,
            Value::Float64(_) => 3,
            Value::Timestamp(_) => 4,
            Value::String(_) => 5,
        }
    }
}

/// IEEE total order with all NaNs equal and above +inf.
pub fn float_cmp(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.total_cmp(&b),
    }
}

/// A `Value` with `Eq`, `Ord` and `Hash` following `Value::total_cmp`, for ordered
/// and hashed containers (count_distinct's multiset, min/max deques).
/// Invariant: `a == b` iff `a.0.total_cmp(&b.0) == Equal`, and equal keys hash equally.
#[derive(Debug, Clone)]
pub struct ValueKey(pub Value);

impl PartialEq for ValueKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_eq(&other.0)
    }
}

impl Eq for ValueKey {}

impl PartialOrd for ValueKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ValueKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl Hash for ValueKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.rank().hash(state);
        match &self.0 {
            Value::Null => {}
            Value::Int64(v) | Value::Timestamp(v) => v.hash(state),
            Value::Float64(f) => {
                let bits = if f.is_nan() {
                    f64::NAN.to_bits()
                } else {
                    f.to_bits()
                };
                bits.hash(state)
            }
            Value::Bool(b) => b.hash(state),
            Value::String(s) => s.as_bytes().hash(state),
        }
    }
}
