//! `featc_path(column, time)`: a path column (`ir::ColumnPath`) read out of its struct
//! or map column (or a CSV cell's JSON text) by the one extraction the stream path
//! uses too (`row::nested_column::extract`); a bad value names the source, the path
//! and the row's time.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::ir::PathStep;
use crate::row::nested_column::{extract, path_type};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PathCell {
    source: String,
    /// The path as written (the flat column's name).
    column: String,
    steps: Vec<PathStep>,
    time_name: String,
    signature: Signature,
}

/// Reads `steps` out of `physical` (of source `source`) for the path column
/// `column`; `time` (column `time_name`) identifies a failing row in the error.
pub fn read_path(
    physical: Expr,
    source: &str,
    column: &str,
    steps: &[PathStep],
    time: (Expr, &str),
) -> Expr {
    let udf = PathCell::new(source, column, steps.to_vec(), time.1);
    Expr::ScalarFunction(ScalarFunction::new_udf(
        Arc::new(ScalarUDF::new_from_impl(udf)),
        vec![physical, time.0],
    ))
}

impl PathCell {
    pub(super) fn new(
        source: &str,
        column: &str,
        steps: Vec<PathStep>,
        time_name: &str,
    ) -> PathCell {
        PathCell {
            source: source.to_string(),
            column: column.to_string(),
            steps,
            time_name: time_name.to_string(),
            signature: Signature::any(2, Volatility::Immutable),
        }
    }

    /// What `new` was given: source, column, steps and time column name.
    pub(super) fn parts(&self) -> (&str, &str, &[PathStep], &str) {
        (&self.source, &self.column, &self.steps, &self.time_name)
    }

    fn error(&self, message: String) -> DataFusionError {
        DataFusionError::Execution(format!(
            "source `{}`, column `{}`: {message}",
            self.source, self.column
        ))
    }
}

impl ScalarUDFImpl for PathCell {
    fn name(&self) -> &str {
        "featc_path"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[ArrowType]) -> Result<ArrowType> {
        let physical = arg_types
            .first()
            .ok_or_else(|| self.error("no column".into()))?;
        path_type(physical, &self.steps).map_err(|e| self.error(e.message))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [physical, time] = arrays.as_slice() else {
            return Err(DataFusionError::Internal(
                "featc_path takes two arguments".into(),
            ));
        };
        extract(physical, &self.steps)
            .map(ColumnarValue::Array)
            .map_err(|e| {
                self.error(format!(
                    "{} at the row with {} = {}",
                    e.message,
                    self.time_name,
                    array_value_to_string(time, e.row).unwrap_or_default()
                ))
            })
    }
}
