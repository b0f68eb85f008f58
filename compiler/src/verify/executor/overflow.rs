//! Where the emitted SQL's int64 overflow happened. An engine's error names no
//! feature, entity or time, so verify finds them (only on this error path): each kept
//! feature's script alone is run on the spine, and for those that overflow, on
//! prefixes of the spine in (time, row) order, halving to the first row that does (a
//! row's value does not depend on the other rows, so a prefix fails exactly when it
//! holds a failing row). Of those, the run's failure is the one semantics.md says
//! every path names ("Errors while computing"): the earliest by time, then by spine
//! row, then by feature name.

use datafusion::arrow::array::{AsArray, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::arrow::record_batch::RecordBatch;

use super::sql::{emitted, tables};
use super::{RunInput, SqlEngine};
use crate::emit::sql::SqlOptions;
use crate::ir::FeatureId;
use crate::verify::failure::{ComputeError, RunError};

/// Whether an engine's error is an int64 result out of range: DataFusion's cast of
/// the `DECIMAL(38, 0)` sum back to int64 (`value of N is out of range Int64`), or
/// an overflow its arithmetic (or another engine) reports.
pub fn is_overflow(error: &str) -> bool {
    let error = error.to_lowercase();
    error.contains("overflow") || error.contains("out of range int64")
}

/// The SQL's failure `error` (an overflow) with its place, when one of `kept`
/// overflows alone; otherwise as it is.
pub async fn locate(
    engine: &dyn SqlEngine,
    input: RunInput<'_>,
    kept: &[FeatureId],
    options: &SqlOptions,
    error: String,
) -> RunError {
    match first_overflow(engine, input, kept, options).await {
        Ok(Some(place)) => RunError::Compute {
            place,
            message: error,
        },
        Ok(None) => RunError::Other(error),
        Err(other) => RunError::Other(format!("{error} (and locating it: {other})")),
    }
}

async fn first_overflow(
    engine: &dyn SqlEngine,
    input: RunInput<'_>,
    kept: &[FeatureId],
    options: &SqlOptions,
) -> Result<Option<ComputeError>, String> {
    let spine = &input.dataset.spine;
    let column = spine
        .column_by_name(&input.dataset.spine_time)
        .ok_or("the spine has no time column")?;
    let micros = featc_runtime::row::time::to_micros(column).map_err(|e| e.to_string())?;
    let times = micros
        .as_primitive_opt::<TimestampMicrosecondType>()
        .ok_or("the spine's time is not a timestamp")?;
    let mut by_time: Vec<u32> = (0..spine.num_rows() as u32).collect();
    by_time.sort_by_key(|&r| (times.value(r as usize), r));
    let mut first: Option<(i64, u32, String)> = None;
    for &id in kept {
        let rows = |n: usize| UInt32Array::from(by_time[..n].to_vec());
        if !overflows(engine, input, id, options, &rows(by_time.len())).await? {
            continue;
        }
        // The smallest prefix that overflows: it ends at the first failing row.
        let (mut fine, mut fails) = (0, by_time.len());
        while fails - fine > 1 {
            let mid = fine + (fails - fine) / 2;
            if overflows(engine, input, id, options, &rows(mid)).await? {
                fails = mid;
            } else {
                fine = mid;
            }
        }
        let row = by_time[fails - 1];
        let name = input.project.feature(id).name.clone();
        let place = (times.value(row as usize), row, name);
        if first.as_ref().is_none_or(|f| place < *f) {
            first = Some(place);
        }
    }
    Ok(first.map(|(_, row, feature)| {
        let row = u64::from(row);
        let derived = input
            .project
            .feature_by_name(&feature)
            .is_some_and(|id| input.project.feature(id).derived().is_some());
        if derived {
            ComputeError::Derived { feature, row }
        } else {
            ComputeError::Aggregation { feature, row }
        }
    }))
}

/// Whether the script of `id` alone, on the spine's `rows`, fails with an overflow
/// (another failure is an error: the place cannot be told).
async fn overflows(
    engine: &dyn SqlEngine,
    input: RunInput<'_>,
    id: FeatureId,
    options: &SqlOptions,
    rows: &UInt32Array,
) -> Result<bool, String> {
    let Some(Ok(script)) = emitted(input.project, &[id], options)? else {
        return Ok(false);
    };
    let spine: RecordBatch =
        take_record_batch(&input.dataset.spine, rows).map_err(|e| e.to_string())?;
    let tables = tables(input.project, input.dataset, &spine)?;
    match engine.run(&script, tables).await {
        Ok(_) => Ok(false),
        Err(e) if is_overflow(&e) => Ok(true),
        Err(e) => Err(e),
    }
}
