//! The runtime value of one column cell, and the total order / identity that
//! min, max, first, last and count_distinct use (semantics.md, "Ordering").

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::ir::{DataType, ListType, Scalar};

/// One cell. `Timestamp` is microseconds since the Unix epoch, UTC; `Date` days since
/// 1970-01-01 (semantics.md "Dates"); `Decimal` an unscaled value with the column's
/// precision and scale (semantics.md "Decimals", `row::decimal`).
///
/// Executors may feed strings as order-preserving dictionary ids in `Int64`: the
/// algebra only relies on an `Int64`'s order and equality, except in sum, avg,
/// var_pop and stddev_pop where it is a number (and a list aggregation's result then
/// holds the ids, which the executor maps back).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int64(i64),
    Float64(f64),
    Bool(bool),
    String(Arc<str>),
    Timestamp(i64),
    Date(i32),
    /// `unscaled * 10^-scale`, `|unscaled| < 10^precision`. The fields sit in the
    /// variant (not a struct of their own) so a `Value` stays three words.
    Decimal {
        unscaled: Unscaled,
        precision: u8,
        scale: u8,
    },
    /// A list: a list aggregation's result, or a cell of a `list<T>` source column
    /// (which `count`, `first`, `last` and the element-wise `avg` and `sum` read).
    /// Behind one pointer, so a `Value` stays three words.
    List(Arc<List>),
}

/// An i128 held as two words: an `i128` is 16-byte aligned and would make every
/// `Value` four words.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Unscaled([u64; 2]);

impl Unscaled {
    #[inline]
    pub fn new(v: i128) -> Unscaled {
        Unscaled([v as u64, (v >> 64) as u64])
    }

    #[inline]
    pub fn get(self) -> i128 {
        (i128::from(self.0[1] as i64) << 64) | i128::from(self.0[0])
    }
}

impl std::fmt::Debug for Unscaled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.get())
    }
}

/// The value of a list type (`ir::ListType`): `items` in the list's order, and for a
/// counted list (`top_k`) one count per item.
///
/// Invariant: every item is a value of type `item` or, in an uncounted list, null (a
/// list column's items may be; a list aggregation's never are); `counts`, when
/// present, has as many entries as `items`.
#[derive(Debug, Clone, PartialEq)]
pub struct List {
    pub item: Scalar,
    pub items: Vec<Value>,
    pub counts: Option<Vec<i64>>,
}

impl List {
    /// The list's type.
    pub fn list_type(&self) -> ListType {
        ListType {
            item: self.item,
            counted: self.counts.is_some(),
        }
    }

    /// The empty list of type `ty`.
    pub fn empty(ty: ListType) -> List {
        List {
            item: ty.item,
            items: Vec::new(),
            counts: ty.counted.then(Vec::new),
        }
    }

    /// Every item with its count (`None` for an uncounted list).
    pub fn entries(&self) -> impl Iterator<Item = (&Value, Option<i64>)> {
        self.items
            .iter()
            .enumerate()
            .map(|(i, v)| (v, self.counts.as_ref().and_then(|c| c.get(i).copied())))
    }
}

impl Value {
    /// A decimal value of type `decimal(precision, scale)`.
    #[inline]
    pub fn decimal(unscaled: i128, precision: u8, scale: u8) -> Value {
        Value::Decimal {
            unscaled: Unscaled::new(unscaled),
            precision,
            scale,
        }
    }

    /// A decimal's unscaled value and scale.
    #[inline]
    pub fn as_decimal(&self) -> Option<(i128, u8)> {
        match self {
            Value::Decimal {
                unscaled, scale, ..
            } => Some((unscaled.get(), *scale)),
            _ => None,
        }
    }

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
            Value::Date(_) => Some(DataType::Date),
            Value::Decimal {
                precision, scale, ..
            } => Some(DataType::Decimal {
                precision: *precision,
                scale: *scale,
            }),
            Value::List(l) => Some(DataType::List(l.list_type())),
        }
    }

    /// Equality for comparing results: floats (list items too) by their bits, except
    /// that every NaN is one value; everything else as `==`.
    pub fn same_bits(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Float64(x), Value::Float64(y)) => {
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
            }
            (Value::List(a), Value::List(b)) => {
                a.item == b.item
                    && a.counts == b.counts
                    && a.items.len() == b.items.len()
                    && a.items.iter().zip(&b.items).all(|(x, y)| x.same_bits(y))
            }
            (a, b) => a == b,
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
            Some(t) => t.kind_name(),
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
            // Interned strings (see `row::Interner`) are usually the same allocation.
            (Value::String(a), Value::String(b)) if Arc::ptr_eq(a, b) => Ordering::Equal,
            (Value::String(a), Value::String(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Value::Timestamp(a), Value::Timestamp(b)) => a.cmp(b),
            (Value::Date(a), Value::Date(b)) => a.cmp(b),
            (
                Value::Decimal {
                    unscaled: a,
                    scale: sa,
                    ..
                },
                Value::Decimal {
                    unscaled: b,
                    scale: sb,
                    ..
                },
            ) if sa == sb => a.get().cmp(&b.get()),
            (Value::Decimal { .. }, Value::Decimal { .. }) => {
                match (self.as_decimal(), other.as_decimal()) {
                    (Some((a, sa)), Some((b, sb))) => decimal_cmp(a, sa, b, sb),
                    _ => Ordering::Equal,
                }
            }
            (Value::Null, Value::Null) => Ordering::Equal,
            // Lists (semantics.md "List columns and embeddings"): item by item in
            // this order (a null item first), a list before every longer list it
            // begins.
            (Value::List(a), Value::List(b)) => {
                let items = |l: &List| l.items.iter().map(ValueKey::of).collect::<Vec<_>>();
                items(a)
                    .cmp(&items(b))
                    .then_with(|| a.counts.cmp(&b.counts))
                    .then_with(|| a.item.cmp(&b.item))
            }
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
            Value::List(l)
                if l.items
                    .iter()
                    .any(|v| matches!(v, Value::Float64(f) if f.is_nan())) =>
            {
                Value::List(Arc::new(List {
                    item: l.item,
                    items: l.items.iter().map(Value::canonical).collect(),
                    counts: l.counts.clone(),
                }))
            }
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
            Value::Date(_) => 5,
            Value::Decimal { .. } => 6,
            Value::String(_) => 7,
            Value::List(_) => 8,
        }
    }
}

/// The exact order of `a * 10^-sa` and `b * 10^-sb` (widened to 256 bits, where
/// rescaling cannot overflow: 10^38 * 10^38 < 2^255).
pub fn decimal_cmp(a: i128, sa: u8, b: i128, sb: u8) -> Ordering {
    use datafusion::arrow::datatypes::i256;
    let ten = i256::from_i128(10);
    let widen = |u: i128, by: u8| i256::from_i128(u).wrapping_mul(ten.wrapping_pow(u32::from(by)));
    let s = sa.max(sb);
    widen(a, s - sa).cmp(&widen(b, s - sb))
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

impl ValueKey {
    fn of(v: &Value) -> ValueKey {
        ValueKey(v.clone())
    }
}

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
            Value::Date(d) => d.hash(state),
            // Equal values of different scales (`1.5`, `1.50`) hash alike: by the
            // value without its fractional trailing zeros.
            Value::Decimal {
                unscaled, scale, ..
            } => {
                let (mut u, mut s) = (unscaled.get(), *scale);
                while s > 0 && u % 10 == 0 {
                    u /= 10;
                    s -= 1;
                }
                (u, s).hash(state)
            }
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
            Value::List(l) => {
                l.items.len().hash(state);
                for v in &l.items {
                    ValueKey::of(v).hash(state);
                }
                l.counts.hash(state);
            }
        }
    }
}
