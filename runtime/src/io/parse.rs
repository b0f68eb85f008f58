//! `featc_parse(text, time)`: the typed value of a CSV cell read as text, or a data
//! error naming the source, the column, the cell and the row's time. CSV columns of
//! numbers and booleans are read as text and parsed here, because the CSV reader's
//! own error only says "column 3 at line 7".

use std::sync::Arc;

use datafusion::arrow::array::{Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::expr::arrow_type;
use crate::ir::DataType;

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
    let udf = ParseCell {
        source: source.to_string(),
        column: column.to_string(),
        ty,
        time_name: time.1.to_string(),
        signature: Signature::any(2, Volatility::Immutable),
    };
    Expr::ScalarFunction(ScalarFunction::new_udf(
        Arc::new(ScalarUDF::new_from_impl(udf)),
        vec![text, time.0],
    ))
}

/// True for the declared types a CSV column is read as text for and parsed by
/// `parse_cell` (strings need no parsing; timestamps keep the reader's parser).
pub fn parsed_from_text(ty: DataType) -> bool {
    matches!(ty, DataType::Int64 | DataType::Float64 | DataType::Bool)
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
        // `cast` in safe mode turns unparsable cells into nulls: any new null is a
        // cell that did not parse.
        let typed = cast(text, &arrow_type(self.ty))?;
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
