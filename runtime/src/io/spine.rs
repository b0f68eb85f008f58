//! Reading a spine: the rows a training set is computed for, kept in file order with
//! their columns unchanged.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::Array;
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionConfig, SessionContext};

use super::locate::{first_bad_cell, Expected};
use super::{compatible, configure, csv_header, detect, Format, IoError};
use crate::expr::{arrow_type, timestamp_type};
use crate::ir::DataType;

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

    /// The spine as a one-partition table (so that its scan keeps the file order).
    pub fn provider(&self) -> Result<Arc<dyn TableProvider>, IoError> {
        let table = MemTable::try_new(Arc::clone(&self.schema), vec![self.batches.clone()])
            .map_err(|e| IoError::Read {
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
    let (format, first_file) = detect(TABLE, path)?;
    // One partition: the rows must come back in file order.
    let ctx =
        SessionContext::new_with_config(configure(SessionConfig::new().with_target_partitions(1)));
    let location = path.to_string_lossy().to_string();
    let read_err = |e: datafusion::error::DataFusionError| IoError::Read {
        table: TABLE.to_string(),
        message: e.strip_backtrace(),
    };
    let df = match format {
        Format::Parquet => ctx
            .read_parquet(&location, ParquetReadOptions::default())
            .await
            .map_err(read_err)?,
        Format::Csv => {
            let options = CsvReadOptions::new()
                .has_header(true)
                .file_extension(".csv");
            let header = csv_header(TABLE, &first_file)?;
            let fields: Vec<Field> = header
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
                .map_err(read_err)?
        }
    };
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
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
    let time_index = check(time_column, DataType::Timestamp)?;
    // A failure is located by reading the files again (`locate`): keys may be null
    // (an entity never seen), times may not.
    let expected: Vec<Expected> = keys
        .iter()
        .map(|(name, ty)| Expected {
            name: name.clone(),
            ty: *ty,
            nullable: true,
        })
        .chain(std::iter::once(Expected {
            name: time_column.to_string(),
            ty: DataType::Timestamp,
            nullable: false,
        }))
        .collect();
    let located = |fallback: IoError| first_bad_cell(TABLE, path, &expected).unwrap_or(fallback);
    let batches = df.collect().await.map_err(|e| located(read_err(e)))?;
    for b in &batches {
        if b.column(time_index).null_count() > 0 {
            return Err(located(IoError::Read {
                table: TABLE.to_string(),
                message: format!("a null in the time column `{time_column}`"),
            }));
        }
    }
    // Batches keep the schema the reader gave them; align the declared one to it.
    let schema = batches.first().map(|b| b.schema()).unwrap_or(schema);
    Ok(Spine { schema, batches })
}
