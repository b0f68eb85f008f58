//! `featc_parse(text, time)`: the typed value of a CSV cell read as text, or a data
//! error naming the source, the column, the cell and the row's time. CSV columns of
//! numbers and booleans are read as text and parsed here, because the CSV reader's
//! own error only says "column 3 at line 7".

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Decimal128Array, StringArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::arrow::datatypes::{Date32Type, Decimal128Type};
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::ir::DataType;
use crate::row::date::to_days;
use crate::row::decimal::to_decimal;
use crate::row::list_column::to_lists;
use crate::row::types::arrow_type;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ParseCell {
    source: String,
    column: String,
    /// The column's declared type (int64, float64 or bool).
    ty: DataType,
    time_name: String,
    signature: Signature,
}

/// Parses `text` (column `column` of source `source`, read as Utf8) to `ty`; `time`
/// (the row's time, column `time_name`) identifies a failing row in the error.
pub fn parse_cell(
    text: Expr,
    ty: DataType,
    source: &str,
    column: &str,
    time: (Expr, &str),
) -> Expr {
    let udf = ParseCell::new(source, column, ty, time.1);
    Expr::ScalarFunction(ScalarFunction::new_udf(
        Arc::new(ScalarUDF::new_from_impl(udf)),
        vec![text, time.0],
    ))
}

impl ParseCell {
    pub(super) fn new(source: &str, column: &str, ty: DataType, time_name: &str) -> ParseCell {
        ParseCell {
            source: source.to_string(),
            column: column.to_string(),
            ty,
            time_name: time_name.to_string(),
            signature: Signature::any(2, Volatility::Immutable),
        }
    }

    /// What `new` was given: source, column, type and time column name.
    pub(super) fn parts(&self) -> (&str, &str, DataType, &str) {
        (&self.source, &self.column, self.ty, &self.time_name)
    }
}

/// True for the declared types a CSV column is read as text for and parsed by
/// `parse_cell` (strings need no parsing; timestamps keep the reader's parser). Dates
/// and lists go through `parse_cell` in every format (`row::date::to_days`,
/// `row::list_column::to_lists`: a CSV cell holds a list's JSON text).
pub fn parsed_from_text(ty: DataType) -> bool {
    matches!(
        ty,
        DataType::Int64
            | DataType::Float64
            | DataType::Bool
            | DataType::Date
            | DataType::Decimal { .. }
            | DataType::List(_)
    )
}

/// The spellings a CSV boolean may have, in any case (docs/semantics.md).
const TRUE: [&str; 3] = ["true", "t", "1"];
const FALSE: [&str; 3] = ["false", "f", "0"];

/// Parses a text column to `ty` (int64, float64 or bool); a cell that does not parse
/// becomes null (callers compare nulls to find it). Numbers are Arrow's parsers; a
/// boolean is exactly one of `TRUE` or `FALSE` (Arrow's cast also takes prefixes such
/// as `tr` or `ye`, which no CSV writer produces: a typo must not become a value).
pub fn parse_text(text: &ArrayRef, ty: DataType) -> Result<ArrayRef> {
    if ty == DataType::Date {
        return Ok(days_or_null(text));
    }
    if let DataType::Decimal { precision, scale } = ty {
        return decimals_or_null(text, precision, scale);
    }
    if ty != DataType::Bool {
        return Ok(cast(text, &arrow_type(ty))?);
    }
    let Some(strings) = text.as_any().downcast_ref::<StringArray>() else {
        return Ok(cast(text, &ArrowType::Boolean)?);
    };
    let is = |set: &[&str], s: &str| set.iter().any(|w| w.eq_ignore_ascii_case(s));
    let parsed: BooleanArray = strings
        .iter()
        .map(|cell| match cell {
            Some(s) if is(&TRUE, s) => Some(true),
            Some(s) if is(&FALSE, s) => Some(false),
            _ => None,
        })
        .collect();
    Ok(Arc::new(parsed))
}

/// Dates (`Date32`, `Date64`, `YYYY-MM-DD` text) as `Date32`, a value that is not
/// a date (`row::date`) as null, for `parse_cell` to name.
fn days_or_null(values: &ArrayRef) -> ArrayRef {
    let mut out = Vec::with_capacity(values.len());
    for row in 0..values.len() {
        let one = values.slice(row, 1);
        out.push(match to_days(&one) {
            Ok(d) if d.is_valid(0) => Some(d.as_primitive::<Date32Type>().value(0)),
            _ => None,
        });
    }
    Arc::new(Date32Array::from(out))
}

/// Decimals (decimal, integer or text columns, `row::decimal::to_decimal`) as
/// `Decimal128(precision, scale)`, a value that does not fit exactly as null, for
/// `parse_cell` to name.
fn decimals_or_null(values: &ArrayRef, precision: u8, scale: u8) -> Result<ArrayRef> {
    let mut out = Vec::with_capacity(values.len());
    for row in 0..values.len() {
        let one = values.slice(row, 1);
        out.push(match to_decimal(&one, precision, scale) {
            Ok(d) if d.is_valid(0) => Some(d.as_primitive::<Decimal128Type>().value(0)),
            _ => None,
        });
    }
    Ok(Arc::new(
        Decimal128Array::from(out).with_precision_and_scale(precision, scale as i8)?,
    ))
}

impl ScalarUDFImpl for ParseCell {
    fn name(&self) -> &str {
        "featc_parse"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[ArrowType]) -> Result<ArrowType> {
        Ok(arrow_type(self.ty))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [text, time] = arrays.as_slice() else {
            return Err(DataFusionError::Internal(
                "featc_parse takes two arguments".into(),
            ));
        };
        if let DataType::List(l) = self.ty {
            // Lists name their bad cell themselves (a cap is no parse failure).
            return match to_lists(text, l.item) {
                Ok(lists) => Ok(ColumnarValue::Array(lists)),
                Err(e) => Err(DataFusionError::Execution(format!(
                    "source `{}`, column `{}`: {} at the row with {} = {}",
                    self.source,
                    self.column,
                    e.error,
                    self.time_name,
                    array_value_to_string(time, e.row).unwrap_or_default()
                ))),
            };
        }
        // Unparsable cells become nulls: any new null is a cell that did not parse.
        let typed = match (self.ty, to_days(text)) {
            // A whole column of dates: no cell by cell.
            (DataType::Date, Ok(days)) => days,
            (DataType::Decimal { precision, scale }, _) => {
                match to_decimal(text, precision, scale) {
                    Ok(d) => d,
                    Err(_) => parse_text(text, self.ty)?,
                }
            }
            _ => parse_text(text, self.ty)?,
        };
        if typed.null_count() == text.null_count() {
            return Ok(ColumnarValue::Array(typed));
        }
        let row = (0..text.len())
            .find(|&i| typed.is_null(i) && text.is_valid(i))
            .unwrap_or(0);
        let cell = text
            .as_any()
            .downcast_ref::<StringArray>()
            .map(|s| s.value(row).to_string())
            .unwrap_or_else(|| array_value_to_string(text, row).unwrap_or_default());
        Err(DataFusionError::Execution(format!(
            "source `{}`, column `{}`: cannot read '{}' as {} at the row with {} = {}",
            self.source,
            self.column,
            cell,
            self.ty.name(),
            self.time_name,
            array_value_to_string(time, row).unwrap_or_default()
        )))
    }
}
