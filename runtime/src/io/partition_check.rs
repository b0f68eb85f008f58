//! `featc_in_partition(time, value)`: a partitioned source's event time (µs UTC)
//! unchanged, or a data error at the first event outside the time its partition
//! folder declares (`partition KEY by UNIT`): a file in the wrong folder would
//! otherwise be skipped by a run that needs it, silently.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, UInt16Type};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::partition::time_range;
use crate::ir::TimePartition;
use crate::row::time::iso8601;

/// The check (see the module docs) of source `source`'s events.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct InPartition {
    source: String,
    partition: TimePartition,
    signature: Signature,
}

/// `time` (µs UTC) checked against the partition `value` its row was read from.
pub fn in_partition(time: Expr, value: Expr, source: &str, partition: &TimePartition) -> Expr {
    let udf = InPartition::new(source, partition.clone());
    Expr::ScalarFunction(ScalarFunction::new_udf(
        Arc::new(ScalarUDF::new_from_impl(udf)),
        vec![time, value],
    ))
}

impl InPartition {
    pub fn new(source: &str, partition: TimePartition) -> InPartition {
        InPartition {
            source: source.to_string(),
            partition,
            signature: Signature::any(2, Volatility::Immutable),
        }
    }

    /// The source and its declaration, for a plan codec.
    pub fn parts(&self) -> (&str, &TimePartition) {
        (&self.source, &self.partition)
    }

    fn error(&self, time: i64, value: &str) -> DataFusionError {
        let key = &self.partition.key;
        let unit = self.partition.unit;
        let what = match time_range(unit, value) {
            Some((start, end)) => format!(
                "which holds the events from {} to {} (excluded)",
                iso8601(start),
                iso8601(end)
            ),
            None => format!("whose value is not written {}", unit.written()),
        };
        DataFusionError::Execution(format!(
            "source `{}`: the event at {} is in partition folder `{key}={value}`, {what} (`partition {key} by {}`)",
            self.source,
            iso8601(time),
            unit.name()
        ))
    }
}

impl ScalarUDFImpl for InPartition {
    fn name(&self) -> &str {
        "featc_in_partition"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        arg_types.first().cloned().ok_or_else(|| {
            DataFusionError::Internal("featc_in_partition takes two arguments".into())
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [time, value] = arrays.as_slice() else {
            return Err(DataFusionError::Internal(
                "featc_in_partition takes two arguments".into(),
            ));
        };
        let times = time
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .ok_or_else(|| DataFusionError::Internal("featc_in_partition: not µs".into()))?;
        let values = value.as_dictionary_opt::<UInt16Type>().ok_or_else(|| {
            DataFusionError::Internal("featc_in_partition: not a partition value".into())
        })?;
        let names = values.values().as_string::<i32>();
        // Each partition's range once: a batch is usually one partition's rows.
        let ranges: Vec<Option<(i64, i64)>> = (0..names.len())
            .map(|i| time_range(self.partition.unit, names.value(i)))
            .collect();
        for (row, key) in values.keys().iter().enumerate() {
            // A null time is `featc_require`'s error, raised on the same row.
            let (Some(key), false) = (key, times.is_null(row)) else {
                continue;
            };
            let t = times.value(row);
            let inside = ranges
                .get(usize::from(key))
                .copied()
                .flatten()
                .is_some_and(|(start, end)| start <= t && t < end);
            if !inside {
                return Err(self.error(t, names.value(usize::from(key))));
            }
        }
        Ok(ColumnarValue::Array(Arc::clone(time)))
    }
}
