//! Reading a spine: the rows a training set is computed for, kept in file order with
//! their columns unchanged; from a file, or from a table held in memory (checked
//! alike).

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::Array;
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::prelude::{
    CsvReadOptions, DataFrame, ParquetReadOptions, SessionConfig, SessionContext,
};

use super::lakehouse::{self, TableLocation};
use super::locate::{first_bad_cell, Expected};
use super::object::{self, ObjectLocation};
use super::{configure, csv_header, detect, Format, IoError, MemoryTable};
use crate::ir::DataType;
use crate::row::types::{arrow_type, compatible, timestamp_type};

const TABLE: &str = "spine";

/// A spine held in memory, in file order.
#[derive(Debug, Clone)]
pub struct Spine {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl Spine {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }

    /// The first and last of the times in column `time_column` (µs, widened by 1 µs
    /// each way, so that a finer unit's rounding stays inside), or `None` when the
    /// spine has no row (or no such timestamp column).
    pub fn time_range(&self, time_column: &str) -> Option<(i64, i64)> {
        use datafusion::arrow::array::TimestampMicrosecondArray;
        use datafusion::arrow::compute::{cast, max, min};
        // In UTC: a cast to a zone-less type would move a zoned time to its local time.
        let micros = timestamp_type();
        let mut range: Option<(i64, i64)> = None;
        for batch in &self.batches {
            let times = cast(batch.column_by_name(time_column)?, &micros).ok()?;
            let times = times.as_any().downcast_ref::<TimestampMicrosecondArray>()?;
            if let (Some(lo), Some(hi)) = (min(times), max(times)) {
                range = Some(match range {
                    Some((a, b)) => (a.min(lo), b.max(hi)),
                    None => (lo, hi),
                });
            }
        }
        range.map(|(lo, hi)| (lo.saturating_sub(1), hi.saturating_add(1)))
    }

    /// The spine as a table whose partitions, read in order, are the file's rows in
    /// order (`GroupSpineExec` and `AssembleExec` read them so): one partition per
    /// batch. DataFusion never re-deals such a table (it does re-deal fewer
    /// partitions holding more batches than its target partition count, largest batch
    /// first, which would put the rows out of order).
    pub fn provider(&self) -> Result<Arc<dyn TableProvider>, IoError> {
        let mut partitions: Vec<Vec<RecordBatch>> =
            self.batches.iter().map(|b| vec![b.clone()]).collect();
        if partitions.is_empty() {
            partitions.push(Vec::new());
        }
        let table =
            MemTable::try_new(Arc::clone(&self.schema), partitions).map_err(|e| IoError::Read {
                table: TABLE.to_string(),
                message: e.strip_backtrace(),
            })?;
        Ok(Arc::new(table))
    }
}

/// Reads the spine at `path` (Parquet or CSV by extension). `keys` are the entity key
/// columns the requested features need (name and type); each must exist with a
/// compatible type. `time_column` must be a timestamp (CSV: parsed as one) without
/// nulls. Other columns are kept as they are (CSV: as text, exactly as written).
pub async fn read_spine(
    path: &Path,
    keys: &[(String, DataType)],
    time_column: &str,
) -> Result<Spine, IoError> {
    // One partition: the rows must come back in file order.
    let ctx =
        SessionContext::new_with_config(configure(SessionConfig::new().with_target_partitions(1)));
    let read_err = |e: datafusion::error::DataFusionError| IoError::Read {
        table: TABLE.to_string(),
        message: e.strip_backtrace(),
    };
    let df = match TableLocation::of(path) {
        // A table's rows, at its latest version, in the order of its files.
        Some(table) => {
            let (provider, _) = lakehouse::open(&ctx, TABLE, &table, None).await?;
            ctx.read_table(provider).map_err(read_err)?
        }
        None => file_frame(&ctx, path, keys, time_column).await?,
    };
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let time_index = check_columns(&schema, keys, time_column, path)?;
    // A failure is located by reading the files again (`locate`): keys may be null
    // (an entity never seen), times may not.
    let expected: Vec<Expected> = keys
        .iter()
        .map(|(name, ty)| Expected {
            name: name.clone(),
            ty: *ty,
            nullable: true,
            epoch: None,
        })
        .chain(std::iter::once(Expected {
            name: time_column.to_string(),
            ty: DataType::Timestamp,
            nullable: false,
            epoch: None,
        }))
        .collect();
    let located = |fallback: IoError| first_bad_cell(TABLE, path, &expected).unwrap_or(fallback);
    let batches = df.collect().await.map_err(|e| located(read_err(e)))?;
    check_times(&batches, time_index, time_column).map_err(located)?;
    // Batches keep the schema the reader gave them; align the declared one to it.
    let schema = batches.first().map(|b| b.schema()).unwrap_or(schema);
    Ok(Spine { schema, batches })
}

/// The spine file or folder at `path` (Parquet or CSV; in object storage too) as a
/// frame: a CSV spine's key and time columns read with their types, the others as text.
async fn file_frame(
    ctx: &SessionContext,
    path: &Path,
    keys: &[(String, DataType)],
    time_column: &str,
) -> Result<DataFrame, IoError> {
    // Where DataFusion reads, the format, and a CSV spine's header.
    let (format, location, header) = match ObjectLocation::of(path) {
        Some(object) => {
            let (format, url, first) = object::locate(ctx, TABLE, path, &object).await?;
            let header = match (format, first) {
                (Format::Csv, Some(key)) => {
                    Some(object::csv_header(ctx, TABLE, &object, &key).await?)
                }
                _ => None,
            };
            (format, url, header)
        }
        None => {
            let (format, first_file) = detect(TABLE, path)?;
            let header = match format {
                Format::Csv => Some(csv_header(TABLE, &first_file)?),
                Format::Parquet => None,
            };
            (format, path.to_string_lossy().to_string(), header)
        }
    };
    let read_err = |e: datafusion::error::DataFusionError| IoError::Read {
        table: TABLE.to_string(),
        message: e.strip_backtrace(),
    };
    match format {
        Format::Parquet => ctx
            .read_parquet(&location, ParquetReadOptions::default())
            .await
            .map_err(read_err),
        Format::Csv => {
            let options = CsvReadOptions::new()
                .has_header(true)
                .file_extension(".csv");
            let fields: Vec<Field> = header
                .unwrap_or_default()
                .iter()
                .map(|name| {
                    let ty = if name == time_column {
                        timestamp_type()
                    } else if let Some((_, t)) = keys.iter().find(|(n, _)| n == name) {
                        arrow_type(*t)
                    } else {
                        // Carried to the output unchanged: the text as written (type
                        // inference would turn `02134` into 2134 and guess from a
                        // sample of rows).
                        ArrowType::Utf8
                    };
                    Field::new(name, ty, true)
                })
                .collect();
            let schema = Schema::new(fields);
            ctx.read_csv(&location, options.schema(&schema))
                .await
                .map_err(read_err)
        }
    }
}

/// A spine held in memory (e.g. a table handed over from Python), checked as
/// `read_spine` checks a file: the key columns and the time column exist with
/// compatible types, and no time is null. Its rows keep their order.
pub fn spine_from_table(
    table: MemoryTable,
    keys: &[(String, DataType)],
    time_column: &str,
) -> Result<Spine, IoError> {
    let time_index = check_columns(&table.schema, keys, time_column, Path::new(""))?;
    check_times(&table.batches, time_index, time_column)?;
    Ok(Spine {
        schema: table.schema,
        batches: table.batches,
    })
}

/// Checks that `schema` has the key columns and the time column with compatible
/// types; the time column's index.
fn check_columns(
    schema: &SchemaRef,
    keys: &[(String, DataType)],
    time_column: &str,
    path: &Path,
) -> Result<usize, IoError> {
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let check = |name: &str, ty: DataType| -> Result<usize, IoError> {
        let Ok(i) = schema.index_of(name) else {
            return Err(IoError::MissingColumn {
                table: TABLE.to_string(),
                column: name.to_string(),
                path: path.to_path_buf(),
                found: names.clone(),
            });
        };
        let found = schema.field(i).data_type();
        if !compatible(ty, found) {
            return Err(IoError::WrongType {
                table: TABLE.to_string(),
                column: name.to_string(),
                expected: ty.name().to_string(),
                found: found.to_string(),
            });
        }
        Ok(i)
    };
    for (name, ty) in keys {
        check(name, *ty)?;
    }
    check(time_column, DataType::Timestamp)
}

/// Refuses a null time, naming its row (the first row is row 1).
fn check_times(
    batches: &[RecordBatch],
    time_index: usize,
    time_column: &str,
) -> Result<(), IoError> {
    let mut offset = 0;
    for b in batches {
        let times = b.column(time_index);
        if times.null_count() > 0 {
            let row = (0..times.len()).find(|&r| times.is_null(r)).unwrap_or(0);
            return Err(IoError::Read {
                table: TABLE.to_string(),
                message: format!(
                    "a null in the time column `{time_column}` (row {})",
                    offset + row + 1
                ),
            });
        }
        offset += b.num_rows();
    }
    Ok(())
}
