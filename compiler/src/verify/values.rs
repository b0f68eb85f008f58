//! The values generated cases are made of, by type: the ones semantics.md has rules
//! for (`-0.0`, NaN, the infinities, floats whose sums need exact arithmetic, the
//! empty string, non-ASCII text; null and empty lists, null items) next to ordinary
//! ones, and small key pools so that keys repeat. Struct and map values are drawn by
//! `nested` out of these (a struct's fields, a map's values) and held here as
//! `CaseValue`s too; `nested_array` makes their columns.

use std::fmt;

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, ListArray};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::arrow::error::ArrowError;
use datafusion::error::DataFusionError;
use datafusion::scalar::ScalarValue;
use rand::rngs::StdRng;
use rand::Rng;

use crate::ir::{DataType, ListType};

const INTS: [i64; 10] = [0, 1, -1, 2, 3, 7, -20, 100, 1_000_000, 2_147_483_647];
/// `1e16` next to `1.0` and `-1e16`: a sum rounded at each step loses the `1.0`.
const FLOATS: [f64; 13] = [
    0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 2.5, -7.25, 1e16, -1e16, 1e-300, 1e300,
];
const SPECIAL_FLOATS: [f64; 3] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
const STRINGS: [&str; 9] = ["", "a", "b", "A", "ab", "ü", "日本", "a b", "x_1"];
/// Days since 1970-01-01: the ends of the date range (0001-01-01, 9999-12-31), days
/// around 1970 and a leap day.
const DAYS: [i32; 7] = [-719_162, -1, 0, 1, 19_782, 19_783, 2_932_896];

/// The probability of a null in a nullable column (a struct, a field, a map too).
pub const NULL_RATE: f64 = 0.15;
/// The most items a generated list has: enough for `dot` and element access to have
/// something to do, few enough that a case stays readable.
const MAX_LIST_ITEMS: usize = 4;

/// A value of `ty` (null at `NULL_RATE` when `nullable`); timestamps around `base`
/// within `span` microseconds.
pub fn value(ty: DataType, nullable: bool, rng: &mut StdRng, base: i64, span: i64) -> CaseValue {
    if nullable && rng.random_bool(NULL_RATE) {
        return CaseValue::Null;
    }
    match ty {
        DataType::Int64 => CaseValue::Int(INTS[rng.random_range(0..INTS.len())]),
        DataType::Float64 if rng.random_bool(0.05) => {
            CaseValue::Float(SPECIAL_FLOATS[rng.random_range(0..SPECIAL_FLOATS.len())])
        }
        DataType::Float64 => CaseValue::Float(FLOATS[rng.random_range(0..FLOATS.len())]),
        DataType::String => CaseValue::Text(STRINGS[rng.random_range(0..STRINGS.len())].into()),
        DataType::Bool => CaseValue::Bool(rng.random_bool(0.5)),
        DataType::Timestamp => CaseValue::Time(base + rng.random_range(-span..=span)),
        DataType::Date => CaseValue::Day(DAYS[rng.random_range(0..DAYS.len())]),
        // Small values, the type's ends and one digit short of them.
        DataType::Decimal { precision, .. } => {
            let max = featc_runtime::row::decimal::pow10(precision) - 1;
            let picks = [0, 1, -1, 150, -7, max, -max, max / 10];
            CaseValue::Dec(picks[rng.random_range(0..picks.len())] % (max + 1))
        }
        DataType::List(l) => list(l, rng, base, span),
    }
}

/// A list of `l`'s items: empty at times, of one item, or a few, with null items
/// (semantics.md: a null list, `[]` and `[null]` are three values). Lists of the same
/// length are common so that `dot`, `cosine` and the element-wise `avg` find pairs.
fn list(l: ListType, rng: &mut StdRng, base: i64, span: i64) -> CaseValue {
    let len = match rng.random_range(0..6) {
        0 => 0,
        1..=3 => 2,
        _ => rng.random_range(1..=MAX_LIST_ITEMS),
    };
    let item = l.item.data_type();
    CaseValue::List(
        (0..len)
            .map(|_| value(item, true, rng, base, span))
            .collect(),
    )
}

/// The `i`-th key of a pool of keys of `ty` (a small `i` for keys that repeat, a
/// large one for a key seen once).
pub fn key(ty: DataType, i: u32, base: i64) -> CaseValue {
    match ty {
        DataType::Int64 => CaseValue::Int(i64::from(i) + 1),
        DataType::Float64 => CaseValue::Float(f64::from(i) + 0.5),
        DataType::String => CaseValue::Text(format!("k{i}")),
        DataType::Bool => CaseValue::Bool(i.is_multiple_of(2)),
        DataType::Timestamp => CaseValue::Time(base + i64::from(i)),
        DataType::Date => CaseValue::Day(i32::try_from(i).unwrap_or(i32::MAX).min(2_932_896)),
        // No key is a decimal (E0057) nor a list (E0058).
        DataType::Decimal { .. } | DataType::List(_) => CaseValue::Null,
    }
}

/// One generated value, before it becomes an Arrow column.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseValue {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
    /// Microseconds since the epoch, UTC.
    Time(i64),
    /// Days since 1970-01-01.
    Day(i32),
    /// A decimal's unscaled value (the column's type gives its scale).
    Dec(i128),
    /// A list's items (the column's type gives theirs).
    List(Vec<CaseValue>),
    /// A struct's fields, in declaration order.
    Struct(Vec<CaseValue>),
    /// A null struct whose children hold these values all the same (an Arrow struct
    /// may): every path must read null below it.
    NullStruct(Vec<CaseValue>),
    /// A map's entries in order; a key may repeat.
    Map(Vec<(String, CaseValue)>),
}

/// `values` of `ty` as a column of Arrow type `arrow`.
pub fn column(
    ty: DataType,
    values: &[CaseValue],
    arrow: &ArrowType,
) -> Result<ArrayRef, ColumnError> {
    if let (DataType::List(l), ArrowType::List(field)) = (ty, arrow) {
        return list_column(l, values, field);
    }
    let scalars = values.iter().map(|v| match (ty, v) {
        (DataType::Int64, CaseValue::Int(i)) => ScalarValue::Int64(Some(*i)),
        (DataType::Int64, _) => ScalarValue::Int64(None),
        (DataType::Float64, CaseValue::Float(f)) => ScalarValue::Float64(Some(*f)),
        (DataType::Float64, _) => ScalarValue::Float64(None),
        (DataType::String, CaseValue::Text(s)) => ScalarValue::Utf8(Some(s.clone())),
        (DataType::String, _) => ScalarValue::Utf8(None),
        (DataType::Bool, CaseValue::Bool(b)) => ScalarValue::Boolean(Some(*b)),
        (DataType::Bool, _) => ScalarValue::Boolean(None),
        (DataType::Date, CaseValue::Day(d)) => ScalarValue::Date32(Some(*d)),
        (DataType::Date, _) => ScalarValue::Date32(None),
        (DataType::Decimal { precision, scale }, CaseValue::Dec(u)) => {
            ScalarValue::Decimal128(Some(*u), precision, scale as i8)
        }
        (DataType::Decimal { precision, scale }, _) => {
            ScalarValue::Decimal128(None, precision, scale as i8)
        }
        // Timestamps are built as int64 microseconds and cast to the column's type.
        (_, CaseValue::Time(t)) => ScalarValue::Int64(Some(*t)),
        _ => ScalarValue::Int64(None),
    });
    let plain = match ty {
        DataType::Int64 | DataType::Timestamp | DataType::List(_) => ArrowType::Int64,
        DataType::Float64 => ArrowType::Float64,
        DataType::String => ArrowType::Utf8,
        DataType::Bool => ArrowType::Boolean,
        DataType::Date => ArrowType::Date32,
        DataType::Decimal { precision, scale } => ArrowType::Decimal128(precision, scale as i8),
    };
    let scalars: Vec<ScalarValue> = scalars.collect();
    let array = if scalars.is_empty() {
        datafusion::arrow::array::new_empty_array(&plain)
    } else {
        ScalarValue::iter_to_array(scalars).map_err(ColumnError::Scalars)?
    };
    cast(&array, arrow).map_err(ColumnError::Cast)
}

/// A list column: the items of every list as one column of the item type (`column`),
/// cut into rows by offsets; a value that is not a list is a null row.
fn list_column(
    l: ListType,
    values: &[CaseValue],
    field: &Arc<datafusion::arrow::datatypes::Field>,
) -> Result<ArrayRef, ColumnError> {
    let mut lengths = Vec::with_capacity(values.len());
    let mut valid = Vec::with_capacity(values.len());
    let mut items = Vec::new();
    for v in values {
        match v {
            CaseValue::List(xs) => {
                lengths.push(xs.len());
                valid.push(true);
                items.extend(xs.iter().cloned());
            }
            _ => {
                lengths.push(0);
                valid.push(false);
            }
        }
    }
    let items = column(l.item.data_type(), &items, field.data_type())?;
    let list = ListArray::try_new(
        Arc::clone(field),
        OffsetBuffer::from_lengths(lengths),
        items,
        Some(NullBuffer::from(valid)),
    )
    .map_err(ColumnError::Cast)?;
    Ok(Arc::new(list) as ArrayRef)
}

/// Why `column` (or `nested_array::column`) could not build a column: DataFusion's
/// or Arrow's error as it is, or an Arrow type that is not the shape's.
#[derive(Debug)]
pub enum ColumnError {
    /// The values could not be made an array.
    Scalars(DataFusionError),
    /// The array could not be cast to the column's Arrow type.
    Cast(ArrowError),
    /// A struct or map array could not be put together from its children.
    Build(ArrowError),
    /// The Arrow type given for a struct or map column is not one (what it is).
    Shape(String),
}

impl fmt::Display for ColumnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnError::Scalars(e) => write!(f, "{e}"),
            ColumnError::Cast(e) => write!(f, "{e}"),
            ColumnError::Build(e) => write!(f, "{e}"),
            ColumnError::Shape(what) => write!(f, "expected {what}"),
        }
    }
}

impl std::error::Error for ColumnError {}
