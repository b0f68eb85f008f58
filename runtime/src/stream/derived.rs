//! Online reads of derived features: the values of the aggregated features they read
//! (already read at `t`) and the read's request fields, as one row for the shared
//! evaluator (`expr::derived::CompiledDerived`, which training sets use too): its
//! scalar program when it has one (no Arrow array, no allocation for a number), else,
//! and to report an evaluation error, its physical expression on a one-row batch.

use std::sync::Arc;

use super::error::StreamError;
use super::read::{FeatureValue, Status};
use crate::agg::AggError;
use crate::expr::derived::{CompiledDerived, DerivedInput};
use crate::ir::DataType;
use crate::row::{Cells, ValuesBuilder};
use crate::value::Value;

/// The request fields a read brings, by field name (Feast's `request_context`).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    fields: &'a [(&'a str, Value)],
}

impl<'a> Request<'a> {
    /// No request fields (reads of features that need none).
    pub const NONE: Request<'static> = Request { fields: &[] };

    pub fn new(fields: &'a [(&'a str, Value)]) -> Request<'a> {
        Request { fields }
    }

    /// The value given for `field`, if any.
    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v)
    }
}

/// Inputs a read through the scalar program holds on the stack; a feature reading more
/// takes a `Vec`.
const INLINE_INPUTS: usize = 8;

/// Evaluates one derived feature for one read. `inputs` are the values of the
/// aggregated features it reads, in its input order. The value is null with
/// `Status::Error` when an input failed or the expression fails (an int64 overflow);
/// a request field that is missing, null where its request says non-nullable, or of
/// another type refuses the read.
pub fn read(
    derived: &CompiledDerived,
    name: &Arc<str>,
    inputs: &[&FeatureValue],
    request: &Request<'_>,
) -> Result<FeatureValue, StreamError> {
    let event_time = inputs.iter().filter_map(|v| v.event_time).max();
    let value = |value: Value, status: Status| FeatureValue {
        name: Arc::clone(name),
        value,
        status,
        event_time,
    };
    let present = |v: Value| {
        let status = if v.is_null() {
            Status::Null
        } else {
            Status::Present
        };
        value(v, status)
    };
    // Every input is taken and checked once, whichever path evaluates the row.
    let n = derived.inputs().len();
    let mut inline: [Value; INLINE_INPUTS] = std::array::from_fn(|_| Value::Null);
    let mut spilled = Vec::new();
    let row: &mut [Value] = match inline.get_mut(..n) {
        Some(row) => row,
        None => {
            spilled.resize(n, Value::Null);
            spilled.as_mut_slice()
        }
    };
    let mut features = inputs.iter();
    for ((input, &ty), slot) in derived
        .inputs()
        .iter()
        .zip(derived.input_types())
        .zip(row.iter_mut())
    {
        match cell(derived, name, input, ty, &mut features, request)? {
            Cell::Value(v) => *slot = v,
            Cell::Failed(e) => return Ok(value(Value::Null, Status::Error(e))),
        }
    }
    if let Ok(program) = derived.scalar() {
        // A failure is rare (an overflow): the batch path gives it, with its message.
        if let Ok(v) = program.evaluate(row) {
            return Ok(present(v));
        }
    }
    let mut columns = Vec::with_capacity(n);
    for (cell, &ty) in row.iter().zip(derived.input_types()) {
        let mut b = ValuesBuilder::new(ty, 1);
        if !b.append(cell) {
            return Err(wrong_type(derived, cell, ty));
        }
        let column = b.finish().map_err(|message| StreamError::Data {
            table: "request".into(),
            column: derived.name().to_string(),
            row: 0,
            message: message.to_string(),
        })?;
        columns.push(column);
    }
    match derived.evaluate(columns) {
        Ok(array) => Ok(present(
            Cells::new(&array, derived.ty())
                .map(|c| c.get(0))
                .unwrap_or(Value::Null),
        )),
        Err(e) => Ok(value(
            Value::Null,
            Status::Error(AggError::Expression(e.message)),
        )),
    }
}

/// One input's value for a read, or the error of the aggregated feature it is.
enum Cell {
    Value(Value),
    Failed(AggError),
}

/// Input `input` (of type `ty`) of a read: the next of `features`, or the request's
/// field, checked (a missing, null or mistyped field refuses the read; an int64 is a
/// float64 field's value as in expressions).
fn cell(
    derived: &CompiledDerived,
    name: &Arc<str>,
    input: &DerivedInput,
    ty: DataType,
    features: &mut std::slice::Iter<'_, &FeatureValue>,
    request: &Request<'_>,
) -> Result<Cell, StreamError> {
    let cell = match input {
        DerivedInput::Feature(_) => {
            let Some(v) = features.next() else {
                return Err(StreamError::UnknownFeature(format!(
                    "an input of `{}`",
                    derived.name()
                )));
            };
            if let Status::Error(e) = &v.status {
                return Ok(Cell::Failed(e.clone()));
            }
            v.value.clone()
        }
        DerivedInput::Request(field) => {
            let given = request.get(&field.field).cloned().unwrap_or(Value::Null);
            if given.is_null() && !field.nullable {
                return Err(StreamError::MissingRequestField {
                    feature: name.to_string(),
                    request: field.request.clone(),
                    field: field.field.clone(),
                });
            }
            // An int64 is a float64 field's value as in expressions.
            let given = match (given, field.ty) {
                (Value::Int64(i), DataType::Float64) => Value::Float64(i as f64),
                (v, _) => v,
            };
            if !given.fits(field.ty) {
                return Err(StreamError::RequestFieldType {
                    request: field.request.clone(),
                    field: field.field.clone(),
                    expected: field.ty,
                    found: given.variant_name(),
                });
            }
            given
        }
    };
    // What `ValuesBuilder::append` takes: null, or a value of the column's type.
    if !cell.fits(ty) {
        return Err(wrong_type(derived, &cell, ty));
    }
    Ok(Cell::Value(cell))
}

/// An input value of another type than the input's (an internal inconsistency).
fn wrong_type(derived: &CompiledDerived, cell: &Value, ty: DataType) -> StreamError {
    StreamError::UnknownFeature(format!(
        "an input of `{}` (a {} value where {} was expected)",
        derived.name(),
        cell.variant_name(),
        ty.name()
    ))
}
