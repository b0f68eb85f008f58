//! Arrow data across the boundary, through the C data interface (no copies): any
//! object with `__arrow_c_stream__` (a pyarrow Table or RecordBatchReader) in, a
//! `pyarrow.Table` out.

use std::sync::Arc;

use arrow_pyarrow::{FromPyArrow, IntoPyArrow, Table};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::io::MemoryTable;
use pyo3::prelude::*;

/// The batches of an Arrow stream object, read whole.
pub fn memory_table(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<MemoryTable> {
    let table = Table::from_pyarrow_bound(obj).map_err(|e| {
        crate::errors::error(
            obj.py(),
            "DataError",
            format!("{what}: cannot read it as Arrow: {e}"),
        )
    })?;
    let (batches, schema) = table.into_inner();
    Ok(MemoryTable::new(schema, batches))
}

/// One batch holding every row of `obj` (reads answer one row per input row).
pub fn one_batch(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<RecordBatch> {
    let table = memory_table(obj, what)?;
    datafusion::arrow::compute::concat_batches(&table.schema, &table.batches)
        .map_err(|e| crate::errors::error(obj.py(), "DataError", format!("{what}: {e}")))
}

/// One batch as a `pyarrow.Table`. A read answers one batch: exporting it alone
/// hands pyarrow its schema once (`to_table` exports the schema beside the batches,
/// which doubles the cost of a wide one-row answer).
pub fn batch_to_table<'py>(py: Python<'py>, batch: RecordBatch) -> PyResult<Bound<'py, PyAny>> {
    let batch = batch.into_pyarrow(py)?;
    py.import("pyarrow")?
        .getattr("Table")?
        .call_method1("from_batches", (vec![batch],))
}

/// `batches` as a `pyarrow.Table` of `schema`.
pub fn to_table<'py>(
    py: Python<'py>,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> PyResult<Bound<'py, PyAny>> {
    let table = Table::try_new(batches, Arc::clone(&schema))
        .map_err(|e| crate::errors::error(py, "Error", e))?;
    table.into_pyarrow(py)
}
