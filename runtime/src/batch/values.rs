//! Arrow columns of a group's events as `Value`s for the window state, and the
//! feature results back to Arrow.
//!
//! Strings are fed to the algebra as order-preserving dictionary ids (`Value::Int64`,
//! ids in byte order of the distinct strings), which the algebra allows (`value.rs`):
//! no allocation per event, and min/max/first/last/count_distinct see the same order
//! and identity as on the strings. Their results are mapped back at output.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, Float64Array, Float64Builder,
    Int64Array, Int64Builder, StringBuilder, TimestampMicrosecondArray,
    TimestampMicrosecondBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{Float64Type, Int64Type, TimestampMicrosecondType};
use datafusion::common::{DataFusionError, Result};

use crate::expr::{arrow_type, UTC};
use crate::ir::{AggKind, DataType};
use crate::value::Value;
use crate::window::{EncodedRows, SlotStore};

/// One input column of a group's events, ready to hand out `Value`s by row.
#[derive(Debug)]
pub enum InputColumn {
    Int64(Int64Array),
    Float64(Float64Array),
    Bool(BooleanArray),
    Timestamp(TimestampMicrosecondArray),
    /// Per-row dictionary id (-1 for null) and the sorted distinct strings.
    Dict {
        ids: Vec<i64>,
        strings: Arc<Vec<String>>,
    },
}

impl InputColumn {
    /// Wraps `array` (of featc type `ty`; strings of any Arrow string type).
    pub fn new(array: &ArrayRef, ty: DataType) -> Result<InputColumn> {
        let array = if array.data_type() == &arrow_type(ty) {
            Arc::clone(array)
        } else {
            cast(array, &arrow_type(ty))?
        };
        Ok(match ty {
            DataType::Int64 => InputColumn::Int64(array.as_primitive::<Int64Type>().clone()),
            DataType::Float64 => InputColumn::Float64(array.as_primitive::<Float64Type>().clone()),
            DataType::Bool => InputColumn::Bool(array.as_boolean().clone()),
            DataType::Timestamp => {
                InputColumn::Timestamp(array.as_primitive::<TimestampMicrosecondType>().clone())
            }
            DataType::String => dictionary(array.as_string::<i32>().iter()),
            DataType::List(_) => {
                return Err(DataFusionError::Internal(
                    "a list-typed input (lists are results only)".to_string(),
                ))
            }
        })
    }

    /// The type the algebra sees (strings become their int64 ids).
    pub fn fed_type(&self, ty: DataType) -> DataType {
        match self {
            InputColumn::Dict { .. } => DataType::Int64,
            _ => ty,
        }
    }

    /// The value at `row`.
    #[inline]
    pub fn value(&self, row: usize) -> Value {
        match self {
            InputColumn::Int64(a) if a.is_valid(row) => Value::Int64(a.value(row)),
            InputColumn::Float64(a) if a.is_valid(row) => Value::Float64(a.value(row)),
            InputColumn::Bool(a) if a.is_valid(row) => Value::Bool(a.value(row)),
            InputColumn::Timestamp(a) if a.is_valid(row) => Value::Timestamp(a.value(row)),
            InputColumn::Dict { ids, .. } if ids[row] >= 0 => Value::Int64(ids[row]),
            _ => Value::Null,
        }
    }

    /// Writes the value at `row` into slot `slot` of row 0 of `out` (an
    /// `EncodedRows` reset for the group's layout): by its storage when the slot
    /// stores the type the algebra sees for this column, value by value otherwise.
    #[inline]
    pub fn encode(&self, row: usize, out: &mut EncodedRows, slot: usize) {
        let (ty, bits) = match self {
            InputColumn::Int64(a) if a.is_valid(row) => (DataType::Int64, a.value(row) as u64),
            InputColumn::Float64(a) if a.is_valid(row) => {
                (DataType::Float64, a.value(row).to_bits())
            }
            InputColumn::Timestamp(a) if a.is_valid(row) => {
                (DataType::Timestamp, a.value(row) as u64)
            }
            InputColumn::Dict { ids, .. } if ids[row] >= 0 => (DataType::Int64, ids[row] as u64),
            InputColumn::Bool(a) if a.is_valid(row) => (DataType::Bool, u64::from(a.value(row))),
            _ => return,
        };
        match out.store(slot) {
            SlotStore::Word { ty: t, word, tag } if t == ty => out.put_word(0, word, tag, bits),
            SlotStore::Bit { tag } if ty == DataType::Bool => out.put_bit(0, tag, bits == 1),
            _ => out.put_value(0, slot, &self.value(row)),
        }
    }

    /// The dictionary of a string column.
    pub fn strings(&self) -> Option<&Arc<Vec<String>>> {
        match self {
            InputColumn::Dict { strings, .. } => Some(strings),
            _ => None,
        }
    }
}

fn dictionary<'a>(values: impl Iterator<Item = Option<&'a str>>) -> InputColumn {
    let mut first_ids: HashMap<&'a str, i64> = HashMap::new();
    let mut ids: Vec<i64> = Vec::new();
    let mut distinct: Vec<&'a str> = Vec::new();
    for v in values {
        ids.push(match v {
            None => -1,
            Some(s) => *first_ids.entry(s).or_insert_with(|| {
                distinct.push(s);
                distinct.len() as i64 - 1
            }),
        });
    }
    // Renumber in byte order so that id order is string order.
    let mut order: Vec<usize> = (0..distinct.len()).collect();
    order.sort_unstable_by(|&a, &b| distinct[a].as_bytes().cmp(distinct[b].as_bytes()));
    let mut rank = vec![0i64; distinct.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r as i64;
    }
    for id in ids.iter_mut().filter(|id| **id >= 0) {
        *id = rank[*id as usize];
    }
    let strings = order.iter().map(|&i| distinct[i].to_string()).collect();
    InputColumn::Dict {
        ids,
        strings: Arc::new(strings),
    }
}

/// True when a feature's result is one of its input's values, or a list of them (so
/// a dictionary id must be mapped back to its string).
pub fn returns_input(agg: AggKind) -> bool {
    matches!(
        agg,
        AggKind::Min
            | AggKind::Max
            | AggKind::First
            | AggKind::Last
            | AggKind::LastK(_)
            | AggKind::FirstK(_)
            | AggKind::TopK(_)
    )
}

/// Builds the Arrow column of type `arrow_type(ty)` from one result per row.
/// `strings` maps int64 results back to strings for dictionary-fed string features.
pub fn to_array(ty: DataType, values: &[Value], strings: Option<&[String]>) -> Result<ArrayRef> {
    let mismatch = |v: &Value| {
        DataFusionError::Internal(format!(
            "feature of type {} produced a {} value",
            ty.name(),
            v.variant_name()
        ))
    };
    Ok(match ty {
        DataType::Int64 => {
            let mut b = Int64Builder::with_capacity(values.len());
            for v in values {
                match v {
                    Value::Int64(x) => b.append_value(*x),
                    Value::Null => b.append_null(),
                    v => return Err(mismatch(v)),
                }
            }
            Arc::new(b.finish())
        }
        DataType::Float64 => {
            let mut b = Float64Builder::with_capacity(values.len());
            for v in values {
                match v {
                    Value::Float64(x) => b.append_value(*x),
                    Value::Null => b.append_null(),
                    v => return Err(mismatch(v)),
                }
            }
            Arc::new(b.finish())
        }
        DataType::Bool => {
            let mut b = BooleanBuilder::with_capacity(values.len());
            for v in values {
                match v {
                    Value::Bool(x) => b.append_value(*x),
                    Value::Null => b.append_null(),
                    v => return Err(mismatch(v)),
                }
            }
            Arc::new(b.finish())
        }
        DataType::Timestamp => {
            let mut b = TimestampMicrosecondBuilder::with_capacity(values.len()).with_timezone(UTC);
            for v in values {
                match v {
                    Value::Timestamp(x) => b.append_value(*x),
                    Value::Null => b.append_null(),
                    v => return Err(mismatch(v)),
                }
            }
            Arc::new(b.finish())
        }
        DataType::String => {
            let mut b = StringBuilder::with_capacity(values.len(), values.len() * 8);
            for v in values {
                match (v, strings) {
                    (Value::String(s), _) => b.append_value(s.as_ref()),
                    (Value::Int64(id), Some(dict)) => match dict.get(*id as usize) {
                        Some(s) => b.append_value(s),
                        None => return Err(mismatch(v)),
                    },
                    (Value::Null, _) => b.append_null(),
                    (v, _) => return Err(mismatch(v)),
                }
            }
            Arc::new(b.finish())
        }
        DataType::List(l) => {
            crate::list::list_array(l, values, strings).map_err(DataFusionError::Internal)?
        }
    })
}
