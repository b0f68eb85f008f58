//! List source columns (`list<T>`, docs/semantics.md "List columns and embeddings"):
//! every form a list cell arrives in, read into featc's one Arrow form, `List<T>`
//! with nullable items (`list::arrow_list_type`).
//!
//! Accepted: Arrow `List`, `LargeList` and `FixedSizeList` whose items a `T` column
//! accepts (`types::compatible`, so `Float32` items widen exactly into a
//! `list<float64>`: that is `list<float32>`), and text holding a JSON array (a CSV
//! cell) whose items are JSON values of `T` as a push spells them. Every path (batch,
//! stream, reference, server) reads a cell with these functions, so a cell means the
//! same everywhere. A list longer than `MAX_LIST_ITEMS` is a bad value, found before
//! its items are copied.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListArray, StringArray};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType as ArrowType, TimestampMicrosecondType};
use serde_json::Value as Json;

use super::cells::conform_in;
use super::date::parse_date;
use super::list::{arrow_list_type, list_array, list_at};
use super::time::{epoch_micros, to_micros_in};
use super::types::compatible;
use crate::ir::{EpochUnit, ListType, Scalar};
use crate::value::{List, Value};

/// The most items one list cell may hold: bounds what one event makes every path
/// allocate (a row's copy, an element-wise `avg`'s state per entity and window).
pub const MAX_LIST_ITEMS: usize = 65_536;

/// The list type of a `list<T>` column (never counted).
pub fn column_list_type(item: Scalar) -> ListType {
    ListType {
        item,
        counted: false,
    }
}

/// Why one list cell is not a `list<T>`.
#[derive(Debug, Clone, PartialEq)]
pub enum ListCellError {
    /// More than `MAX_LIST_ITEMS` items.
    TooLong { len: usize },
    /// Text that is not a JSON array.
    NotAnArray(String),
    /// Item `index` (0-based) is not a value of the item type.
    BadItem {
        index: usize,
        item: Scalar,
        found: String,
    },
    /// The column's Arrow type is no list form of the item type.
    NotAList { found: ArrowType, item: Scalar },
}

impl fmt::Display for ListCellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListCellError::TooLong { len } => write!(
                f,
                "a list of {len} items, more than the {MAX_LIST_ITEMS} a list may hold"
            ),
            ListCellError::NotAnArray(text) => write!(f, "'{text}' is not a JSON array"),
            ListCellError::BadItem { index, item, found } => {
                write!(f, "item {} is {found}, not a {}", index + 1, item.name())
            }
            ListCellError::NotAList { found, item } => {
                write!(f, "has type {found}, expected list<{}>", item.name())
            }
        }
    }
}

impl std::error::Error for ListCellError {}

/// A `ListCellError` at row `row` of an array.
#[derive(Debug, Clone, PartialEq)]
pub struct RowListError {
    pub row: usize,
    pub error: ListCellError,
}

impl fmt::Display for RowListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}: {}", self.row, self.error)
    }
}

/// Whether Arrow type `found` is a list form a `list<item>` column reads.
pub fn is_list_input(found: &ArrowType, item: Scalar) -> bool {
    match found {
        ArrowType::List(f) | ArrowType::LargeList(f) | ArrowType::FixedSizeList(f, _) => {
            compatible(item.data_type(), f.data_type())
                || (item == Scalar::Timestamp && super::time::is_integer_time(f.data_type()))
        }
        _ => false,
    }
}

/// `array` (a list form, or text holding JSON arrays) as featc's `List<item>` column.
/// The error names the first bad row. A source's `epoch` does not apply to list
/// items: an integer timestamp item is plausible microseconds or a bad value.
pub fn to_lists(array: &ArrayRef, item: Scalar) -> Result<ArrayRef, RowListError> {
    let epoch: Option<EpochUnit> = None;
    let at0 = |error| RowListError { row: 0, error };
    let not_list = || {
        at0(ListCellError::NotAList {
            found: array.data_type().clone(),
            item,
        })
    };
    let ty = column_list_type(item);
    if *array.data_type() == ArrowType::Null {
        return list_array(ty, &vec![Value::Null; array.len()]).map_err(|_| not_list());
    }
    let (offsets, child, nulls): (Vec<i64>, ArrayRef, Option<NullBuffer>) = match array.data_type()
    {
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => {
            return from_text(array, item)
        }
        ArrowType::List(_) => {
            let l = array.as_list::<i32>();
            let offsets = l.value_offsets().iter().map(|&o| i64::from(o)).collect();
            (offsets, Arc::clone(l.values()), l.nulls().cloned())
        }
        ArrowType::LargeList(_) => {
            let l = array.as_list::<i64>();
            (
                l.value_offsets().to_vec(),
                Arc::clone(l.values()),
                l.nulls().cloned(),
            )
        }
        ArrowType::FixedSizeList(_, n) => {
            let l = array.as_fixed_size_list();
            let n = i64::from(*n);
            let first = i64::from(l.value_offset(0).max(0));
            let offsets = (0..=l.len() as i64).map(|i| first + i * n).collect();
            (offsets, Arc::clone(l.values()), l.nulls().cloned())
        }
        _ => return Err(not_list()),
    };
    if !is_list_input(array.data_type(), item) {
        return Err(not_list());
    }
    // Lengths first: a list over the cap is refused before its items are converted.
    for (row, w) in offsets.windows(2).enumerate() {
        let valid = nulls.as_ref().is_none_or(|n| n.is_valid(row));
        let len = usize::try_from(w[1] - w[0]).unwrap_or(usize::MAX);
        if valid && len > MAX_LIST_ITEMS {
            return Err(RowListError {
                row,
                error: ListCellError::TooLong { len },
            });
        }
    }
    let start = offsets.first().copied().unwrap_or(0);
    let end = offsets.last().copied().unwrap_or(0);
    let used = child.slice(
        usize::try_from(start).unwrap_or(0),
        usize::try_from(end - start).unwrap_or(0),
    );
    let items = conform_in(&used, item.data_type(), "item", epoch).map_err(|_| not_list())?;
    let offsets: Vec<i32> = offsets
        .iter()
        .map(|o| i32::try_from(o - start))
        .collect::<Result<_, _>>()
        .map_err(|_| not_list())?;
    let field = match arrow_list_type(ty) {
        ArrowType::List(f) => f,
        _ => return Err(not_list()),
    };
    let lists = ListArray::try_new(field, OffsetBuffer::new(offsets.into()), items, nulls)
        .map_err(|_| not_list())?;
    Ok(Arc::new(lists))
}

/// Text cells holding JSON arrays (a null cell is a null list).
fn from_text(array: &ArrayRef, item: Scalar) -> Result<ArrayRef, RowListError> {
    let text =
        datafusion::arrow::compute::cast(array, &ArrowType::Utf8).map_err(|_| RowListError {
            row: 0,
            error: ListCellError::NotAList {
                found: array.data_type().clone(),
                item,
            },
        })?;
    let mut values = Vec::with_capacity(text.len());
    for (row, cell) in text.as_string::<i32>().iter().enumerate() {
        values.push(match cell {
            None => Value::Null,
            Some(t) => parse_list_text(t, item).map_err(|error| RowListError { row, error })?,
        });
    }
    list_array(column_list_type(item), &values).map_err(|_| RowListError {
        row: 0,
        error: ListCellError::NotAnArray(String::new()),
    })
}

/// A cell's text (`[0.1, 0.2]`) as a list of `item`.
pub fn parse_list_text(text: &str, item: Scalar) -> Result<Value, ListCellError> {
    let json: Json = serde_json::from_str(text.trim())
        .map_err(|_| ListCellError::NotAnArray(text.to_string()))?;
    match json {
        Json::Array(_) => json_list(&json, item),
        _ => Err(ListCellError::NotAnArray(text.to_string())),
    }
}

/// A JSON value (a push's or a Kafka record's cell) as a list of `item`: an array, or
/// null for a null list.
pub fn json_list(json: &Json, item: Scalar) -> Result<Value, ListCellError> {
    let items = match json {
        Json::Null => return Ok(Value::Null),
        Json::Array(items) => items,
        other => return Err(ListCellError::NotAnArray(other.to_string())),
    };
    if items.len() > MAX_LIST_ITEMS {
        return Err(ListCellError::TooLong { len: items.len() });
    }
    let values = items
        .iter()
        .enumerate()
        .map(|(index, j)| {
            json_item(j, item).ok_or_else(|| ListCellError::BadItem {
                index,
                item,
                found: j.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::List(Arc::new(List {
        item,
        items: values,
        counts: None,
    })))
}

/// One JSON item as a value of `item` (null for JSON null), as a push spells it.
fn json_item(j: &Json, item: Scalar) -> Option<Value> {
    let epoch: Option<EpochUnit> = None;
    Some(match (item, j) {
        (_, Json::Null) => Value::Null,
        (Scalar::Int64, Json::Number(n)) => Value::Int64(n.as_i64()?),
        (Scalar::Float64, Json::Number(n)) => Value::Float64(n.as_f64()?),
        (Scalar::Float64, Json::String(s)) => Value::Float64(match s.as_str() {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            _ => return None,
        }),
        (Scalar::String, Json::String(s)) => Value::String(Arc::from(s.as_str())),
        (Scalar::Bool, Json::Bool(b)) => Value::Bool(*b),
        (Scalar::Date, Json::String(s)) => Value::Date(parse_date(s).ok()?),
        (Scalar::Timestamp, Json::Number(n)) => {
            Value::Timestamp(epoch_micros(n.as_i64()?, epoch).ok()?)
        }
        (Scalar::Timestamp, Json::String(s)) => {
            let one: ArrayRef = Arc::new(StringArray::from(vec![s.as_str()]));
            let t = to_micros_in(&one, epoch).ok()?;
            let t = t.as_primitive_opt::<TimestampMicrosecondType>()?;
            if t.is_null(0) {
                return None;
            }
            Value::Timestamp(t.value(0))
        }
        _ => return None,
    })
}

/// Row `row` of a conformed list column as a value (`Value::Null` for a null cell).
pub fn list_cell(array: &dyn Array, item: Scalar, row: usize) -> Value {
    list_at(array, column_list_type(item), row).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{
        FixedSizeListArray, Float32Array, Float32Builder, Int64Array, LargeListArray, ListBuilder,
    };
    use datafusion::arrow::datatypes::{Field, Float32Type, Int64Type};

    fn floats(items: &[Option<f64>]) -> Value {
        Value::List(Arc::new(List {
            item: Scalar::Float64,
            items: items
                .iter()
                .map(|x| x.map_or(Value::Null, Value::Float64))
                .collect(),
            counts: None,
        }))
    }

    fn cells(array: &ArrayRef, item: Scalar) -> Vec<Value> {
        (0..array.len())
            .map(|r| list_cell(array.as_ref(), item, r))
            .collect()
    }

    #[test]
    fn every_arrow_list_form_of_float32_reads_widened_exactly() {
        let mut b = ListBuilder::new(Float32Builder::new());
        b.values().append_value(0.1);
        b.values().append_null();
        b.append(true);
        b.append(false);
        b.append(true);
        let list: ArrayRef = Arc::new(b.finish());
        let want = vec![
            floats(&[Some(f64::from(0.1f32)), None]),
            Value::Null,
            floats(&[]),
        ];
        let got = cells(&to_lists(&list, Scalar::Float64).unwrap(), Scalar::Float64);
        assert!(
            got.iter().zip(&want).all(|(a, b)| a.same_bits(b)),
            "{got:?}"
        );

        let large: ArrayRef = Arc::new(LargeListArray::from_iter_primitive::<Float32Type, _, _>(
            vec![Some(vec![Some(0.1f32), None]), None, Some(vec![])],
        ));
        let got = cells(&to_lists(&large, Scalar::Float64).unwrap(), Scalar::Float64);
        assert!(
            got.iter().zip(&want).all(|(a, b)| a.same_bits(b)),
            "{got:?}"
        );

        let fixed: ArrayRef = Arc::new(FixedSizeListArray::new(
            Arc::new(Field::new("item", ArrowType::Float32, true)),
            2,
            Arc::new(Float32Array::from(vec![
                Some(1.5),
                None,
                Some(0.25),
                Some(-0.0),
            ])),
            Some(NullBuffer::from(vec![true, false])),
        ));
        let got = cells(&to_lists(&fixed, Scalar::Float64).unwrap(), Scalar::Float64);
        assert!(got[0].same_bits(&floats(&[Some(1.5), None])), "{got:?}");
        assert!(got[1].is_null());
        // A sliced list column keeps its own rows.
        let sliced = list.slice(2, 1);
        let got = cells(
            &to_lists(&sliced, Scalar::Float64).unwrap(),
            Scalar::Float64,
        );
        assert!(got[0].same_bits(&floats(&[])));
    }

    #[test]
    fn text_cells_are_json_arrays_and_bad_ones_name_their_row() {
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            Some("[0.5, null, \"NaN\"]"),
            None,
            Some("[]"),
        ]));
        let got = cells(&to_lists(&text, Scalar::Float64).unwrap(), Scalar::Float64);
        assert!(got[0].same_bits(&floats(&[Some(0.5), None, Some(f64::NAN)])));
        assert!(got[1].is_null());
        assert!(got[2].same_bits(&floats(&[])));
        for (bad, row) in [
            (vec![Some("[1]"), Some("1.5")], 1),
            (vec![Some("[\"a\"]")], 0),
        ] {
            let text: ArrayRef = Arc::new(StringArray::from(bad));
            let err = to_lists(&text, Scalar::Float64).unwrap_err();
            assert_eq!(err.row, row, "{err}");
        }
        let ints = parse_list_text("[1, -2]", Scalar::Int64).unwrap();
        assert!(ints.same_bits(&Value::List(Arc::new(List {
            item: Scalar::Int64,
            items: vec![Value::Int64(1), Value::Int64(-2)],
            counts: None,
        }))));
        assert!(parse_list_text("[1.5]", Scalar::Int64).is_err());
        let days = parse_list_text("[\"2024-02-29\"]", Scalar::Date).unwrap();
        assert!(days.same_bits(&Value::List(Arc::new(List {
            item: Scalar::Date,
            items: vec![Value::Date(19_782)],
            counts: None,
        }))));
    }

    #[test]
    fn the_item_cap_is_checked_before_the_items_are_read() {
        let at_cap = vec![Some(0i64); MAX_LIST_ITEMS];
        let over = vec![Some(0i64); MAX_LIST_ITEMS + 1];
        let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(at_cap),
            Some(over.clone()),
        ]));
        let err = to_lists(&list, Scalar::Int64).unwrap_err();
        assert_eq!(
            err,
            RowListError {
                row: 1,
                error: ListCellError::TooLong {
                    len: MAX_LIST_ITEMS + 1
                }
            }
        );
        let json = Json::Array(vec![Json::from(1); MAX_LIST_ITEMS + 1]);
        assert!(matches!(
            json_list(&json, Scalar::Int64),
            Err(ListCellError::TooLong { .. })
        ));
        let _ = Int64Array::from(vec![1]);
    }

    #[test]
    fn other_columns_are_not_lists() {
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![1]));
        assert!(to_lists(&ints, Scalar::Int64).is_err());
        let strings: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(1)]),
        ]));
        assert!(to_lists(&strings, Scalar::Date).is_err());
    }
}
