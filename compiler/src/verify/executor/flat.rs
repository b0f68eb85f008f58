//! The sources as the emitted SQL reads them: flat. A generated case carries its
//! struct and map columns whole (`verify::nested`), but the SQL emitters refuse every
//! feature that reads a path (E0040; semantics.md, "Struct and map columns"), and an
//! engine outside featc need not take an Arrow `Struct` or `Map` (its tables are
//! written as Parquet and loaded as it can). So the SQL path gets each source in its
//! declared schema (`io::declared_schema`): each struct or map column replaced by its
//! path columns, read out by the runtime's own extraction
//! (`row::nested_column::extract`). No feature the SQL computes reads them, so no
//! comparison rests on that extraction; the reference, batch and stream paths read
//! the struct and map columns themselves.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::cast;
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::io::declared_schema;
use featc_runtime::row::nested_column::extract;

use crate::ir::Source;

/// `batch` of `source` with exactly its declared columns: as it is when it holds
/// each of them (your data, bound flat), else with its path columns extracted.
pub(super) fn flat(source: &Source, batch: &RecordBatch) -> Result<RecordBatch, String> {
    let schema = declared_schema(source);
    let holds = |name: &str| batch.column_by_name(name).is_some();
    if schema.fields().iter().all(|f| holds(f.name())) {
        return Ok(batch.clone());
    }
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let path = source
            .columns
            .iter()
            .find(|c| c.name == *field.name())
            .and_then(|c| c.path.as_ref());
        let column = match (batch.column_by_name(field.name()), path) {
            (Some(column), _) => column.clone(),
            (None, Some(p)) => {
                let physical = batch.column_by_name(&p.physical).ok_or_else(|| {
                    format!(
                        "source `{}` has no column `{}` to read `{}` from",
                        source.name,
                        p.physical,
                        field.name()
                    )
                })?;
                extract(physical, &p.steps)
                    .map_err(|e| format!("source `{}`, `{}`: {e}", source.name, field.name()))?
            }
            (None, None) => {
                return Err(format!(
                    "source `{}` has no column `{}`",
                    source.name,
                    field.name()
                ))
            }
        };
        let column = if column.data_type() == field.data_type() {
            column
        } else {
            cast(&column, field.data_type())
                .map_err(|e| format!("source `{}`, `{}`: {e}", source.name, field.name()))?
        };
        columns.push(column);
    }
    RecordBatch::try_new(schema, columns).map_err(|e| e.to_string())
}
