//! Scalar functions the source binding puts in its projection: time conversion to
//! µs UTC, and the non-null check of declared non-nullable columns (a data error that
//! names the source, the column and the time of the offending row).

use std::sync::Arc;

use datafusion::arrow::array::Array;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use serde::{Deserialize, Serialize};

use super::parse::ParseCell;
use super::partition_check::InPartition;
use super::path::PathCell;
use crate::ir::{DataType as FeatcType, EpochUnit};
use crate::row::time::{to_micros_in, TimeError};

/// `featc_utc_micros(ts)`: any timestamp, integer time (in the source's epoch unit) or
/// time's text (a CSV cell) to `Timestamp(µs, "UTC")` (see `row::time`).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct UtcMicros {
    source: String,
    column: String,
    epoch: Option<EpochUnit>,
    signature: Signature,
}

/// `featc_utc_micros(arg)` for column `column` of source `source` (named in errors),
/// whose integer times count `epoch` (the source's `epoch` clause).
pub fn utc_micros(arg: Expr, source: &str, column: &str, epoch: Option<EpochUnit>) -> Expr {
    let udf = UtcMicros::new(source, column, epoch);
    Expr::ScalarFunction(ScalarFunction::new_udf(
        Arc::new(ScalarUDF::new_from_impl(udf)),
        vec![arg],
    ))
}

impl UtcMicros {
    fn new(source: &str, column: &str, epoch: Option<EpochUnit>) -> UtcMicros {
        UtcMicros {
            source: source.to_string(),
            column: column.to_string(),
            epoch,
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for UtcMicros {
    fn name(&self) -> &str {
        "featc_utc_micros"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(crate::row::types::timestamp_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(array) = arrays.first() else {
            return Err(DataFusionError::Internal(
                "featc_utc_micros takes one argument".into(),
            ));
        };
        match to_micros_in(array, self.epoch) {
            // Text that is neither an integer nor a time became null: name the cell.
            Ok(out) if out.null_count() > array.null_count() => {
                let row = (0..array.len())
                    .find(|&r| out.is_null(r) && array.is_valid(r))
                    .unwrap_or(0);
                Err(DataFusionError::Execution(format!(
                    "source `{}`, column `{}`: cannot read '{}' as timestamp",
                    self.source,
                    self.column,
                    array_value_to_string(array, row).unwrap_or_default()
                )))
            }
            Ok(out) => Ok(ColumnarValue::Array(out)),
            Err(TimeError::Integer { error, .. }) => Err(DataFusionError::Execution(format!(
                "source `{}`, column `{}`: {error}",
                self.source, self.column
            ))),
            Err(TimeError::Overflow { row }) => Err(DataFusionError::Execution(format!(
                "source `{}`, column `{}`: the timestamp {} does not fit in microseconds",
                self.source,
                self.column,
                array_value_to_string(array, row).unwrap_or_default()
            ))),
            Err(TimeError::NotATimestamp(t)) => Err(DataFusionError::Execution(format!(
                "source `{}`, column `{}`: expected a timestamp, found {t}",
                self.source, self.column
            ))),
        }
    }
}

/// `featc_require(value [, context])`: `value` unchanged, or a data error at its first
/// null naming the source, the column and the row's `context` value (its time).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Require {
    source: String,
    column: String,
    context_name: Option<String>,
    signature: Signature,
}

/// Wraps `value` (column `column` of source `source`) in a non-null check; `context`
/// (a column named `name`, usually the time column) identifies the row in the error.
pub fn require(value: Expr, source: &str, column: &str, context: Option<(Expr, &str)>) -> Expr {
    let mut args = vec![value];
    let context_name = context.map(|(e, name)| {
        args.push(e);
        name.to_string()
    });
    let udf = Require::new(source, column, context_name);
    Expr::ScalarFunction(ScalarFunction::new_udf(
        Arc::new(ScalarUDF::new_from_impl(udf)),
        args,
    ))
}

impl Require {
    /// Takes a second argument (the row's context) when `context_name` is given.
    fn new(source: &str, column: &str, context_name: Option<String>) -> Require {
        let args = 1 + usize::from(context_name.is_some());
        Require {
            source: source.to_string(),
            column: column.to_string(),
            context_name,
            signature: Signature::any(args, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Require {
    fn name(&self) -> &str {
        "featc_require"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        arg_types
            .first()
            .cloned()
            .ok_or_else(|| DataFusionError::Internal("featc_require takes an argument".into()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(value) = arrays.first() else {
            return Err(DataFusionError::Internal(
                "featc_require takes an argument".into(),
            ));
        };
        if value.null_count() == 0 {
            return Ok(ColumnarValue::Array(Arc::clone(value)));
        }
        let row = (0..value.len()).find(|&i| value.is_null(i)).unwrap_or(0);
        let at = match (arrays.get(1), &self.context_name) {
            (Some(ctx), Some(name)) => format!(
                " at the row with {name} = {}",
                array_value_to_string(ctx, row).unwrap_or_default()
            ),
            _ => String::new(),
        };
        Err(DataFusionError::Execution(format!(
            "source `{}`: null in column `{}`, which is declared non-nullable{at}",
            self.source, self.column
        )))
    }
}

/// featc's functions of a source projection (`featc_utc_micros`, `featc_require`,
/// `featc_parse`, `featc_in_partition`) as plain data: what a plan codec (`batch::codec`) ships so that
/// another process rebuilds the very same function, error messages included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SourceFunction {
    UtcMicros {
        source: String,
        column: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<EpochUnit>,
    },
    Require {
        source: String,
        column: String,
        context_name: Option<String>,
    },
    Parse {
        source: String,
        column: String,
        ty: FeatcType,
        time_name: String,
    },
    Path {
        source: String,
        column: String,
        steps: Vec<crate::ir::PathStep>,
        time_name: String,
    },
    InPartition {
        source: String,
        partition: crate::ir::TimePartition,
    },
}

impl SourceFunction {
    /// The description of `udf` when it is one of featc's source functions.
    pub fn of(udf: &ScalarUDF) -> Option<SourceFunction> {
        let any: &dyn std::any::Any = udf.inner().as_ref();
        if let Some(f) = any.downcast_ref::<UtcMicros>() {
            return Some(SourceFunction::UtcMicros {
                source: f.source.clone(),
                column: f.column.clone(),
                epoch: f.epoch,
            });
        }
        if let Some(f) = any.downcast_ref::<Require>() {
            return Some(SourceFunction::Require {
                source: f.source.clone(),
                column: f.column.clone(),
                context_name: f.context_name.clone(),
            });
        }
        if let Some(f) = any.downcast_ref::<PathCell>() {
            let (source, column, steps, time_name) = f.parts();
            return Some(SourceFunction::Path {
                source: source.to_string(),
                column: column.to_string(),
                steps: steps.to_vec(),
                time_name: time_name.to_string(),
            });
        }
        if let Some(f) = any.downcast_ref::<InPartition>() {
            let (source, partition) = f.parts();
            return Some(SourceFunction::InPartition {
                source: source.to_string(),
                partition: partition.clone(),
            });
        }
        let (source, column, ty, time_name) = any.downcast_ref::<ParseCell>()?.parts();
        Some(SourceFunction::Parse {
            source: source.to_string(),
            column: column.to_string(),
            ty,
            time_name: time_name.to_string(),
        })
    }

    /// The function described.
    pub fn udf(&self) -> Arc<ScalarUDF> {
        Arc::new(match self {
            SourceFunction::UtcMicros {
                source,
                column,
                epoch,
            } => ScalarUDF::new_from_impl(UtcMicros::new(source, column, *epoch)),
            SourceFunction::Require {
                source,
                column,
                context_name,
            } => ScalarUDF::new_from_impl(Require::new(source, column, context_name.clone())),
            SourceFunction::Parse {
                source,
                column,
                ty,
                time_name,
            } => ScalarUDF::new_from_impl(ParseCell::new(source, column, *ty, time_name)),
            SourceFunction::Path {
                source,
                column,
                steps,
                time_name,
            } => ScalarUDF::new_from_impl(PathCell::new(source, column, steps.clone(), time_name)),
            SourceFunction::InPartition { source, partition } => {
                ScalarUDF::new_from_impl(InPartition::new(source, partition.clone()))
            }
        })
    }
}
