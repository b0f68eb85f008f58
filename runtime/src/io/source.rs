//! Binding a declared source to a Parquet/CSV file or folder, to a table in a table
//! format (`delta:`, `iceberg:`: `lakehouse`), or to Arrow batches held in memory (a
//! table handed over by an embedder, e.g. from Python), as a DataFusion table with
//! exactly the declared schema (see the module docs of `io`). All go through the same
//! checks and conversions.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::common::Column;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{cast, lit, Expr};
use datafusion::prelude::{CsvReadOptions, DataFrame, ParquetReadOptions, SessionContext};

use super::bind::SEQ_COLUMN;
use super::lakehouse::{self, TableLocation};
use super::locate::first_bad_cell;
use super::object::{self, ObjectLocation};
use super::partition::{PartitionRead, PartitionsRead};
use super::partition_check::in_partition;
use super::path::read_path;
use super::{csv_header, detect, parse, partition, udf, Format, IoError, MemoryTable};
use crate::ir::{DataType, Source, TimePartition};
use crate::row::nested_column::{is_text, path_type};
use crate::row::time::is_integer_time;
use crate::row::types::{arrow_type, compatible, timestamp_type};

/// The schema of a bound source: the time column (`Timestamp(µs, "UTC")`, not null)
/// first, then the declared columns in order with their featc Arrow types.
pub fn declared_schema(source: &Source) -> SchemaRef {
    let mut fields = vec![Field::new(&source.time_column, timestamp_type(), false)];
    for c in &source.columns {
        fields.push(Field::new(&c.name, arrow_type(c.ty), c.nullable));
    }
    Arc::new(Schema::new(fields))
}

/// Binds `source` to the data at `path` (a `.parquet` or `.csv` file, or a folder of
/// them; the format is taken from the extension) for a run that reads the columns
/// `read` (the time column is always read). Checks now that each of them exists with
/// a compatible type; the returned table converts their types and checks their nulls
/// as it is read; the declared columns not read are nulls. Its schema is
/// `declared_schema(source)`.
pub async fn bind_source(
    ctx: &SessionContext,
    source: &Source,
    path: &Path,
    read: &[String],
) -> Result<Arc<dyn TableProvider>, IoError> {
    bind_source_below(ctx, source, path, read, None).await
}

/// `bind_source`, where the data's rows numbered (`SEQ_COLUMN`, a server's archive)
/// at or above `seq_below` are left out; data without that column is read whole.
pub async fn bind_source_below(
    ctx: &SessionContext,
    source: &Source,
    path: &Path,
    read: &[String],
    seq_below: Option<u64>,
) -> Result<Arc<dyn TableProvider>, IoError> {
    bind_below(ctx, source, path, read, seq_below, None, None).await
}

/// `bind_source_below`, where a table (`delta:`, `iceberg:`: `lakehouse`) is read at
/// `version` (its latest when None); files have no versions.
pub(super) async fn bind_below(
    ctx: &SessionContext,
    source: &Source,
    path: &Path,
    read: &[String],
    seq_below: Option<u64>,
    version: Option<i64>,
    partition: Option<PartitionRead<'_>>,
) -> Result<Arc<dyn TableProvider>, IoError> {
    let table = format!("source `{}`", source.name);
    let read_err = |e: datafusion::error::DataFusionError| IoError::Read {
        table: table.clone(),
        message: e.strip_backtrace(),
    };
    if let Some(location) = TableLocation::of(path) {
        // A table is read at a version through its format's reader, and conformed
        // like the Parquet files it holds.
        let (provider, _) = lakehouse::open(ctx, &table, &location, version).await?;
        let df = ctx.read_table(provider).map_err(read_err)?;
        return conform(df, source, Some(Format::Parquet), path, read, None);
    }
    // Where DataFusion reads, the format, and a CSV source's header.
    let (format, location, header) = match ObjectLocation::of(path) {
        Some(object) => {
            let (format, url, first) = object::locate(ctx, &table, path, &object).await?;
            let header = match (format, first) {
                (Format::Csv, Some(key)) => {
                    Some(object::csv_header(ctx, &table, &object, &key).await?)
                }
                _ => None,
            };
            (format, url, header)
        }
        None => {
            let (format, first_file) = detect(&table, path)?;
            let header = match format {
                Format::Csv => Some(csv_header(&table, &first_file)?),
                Format::Parquet => None,
            };
            (format, path.to_string_lossy().to_string(), header)
        }
    };
    // A partitioned folder: its files checked and listed once, the partitions the run
    // needs kept (`partition::prune`), each row with its partition's value.
    let folder = location.ends_with('/') || path.is_dir();
    let pruned = match partition {
        Some(p) if folder => {
            let pruned = partition::prune(ctx, &table, &location, format, p.declared, p.range);
            let pruned = pruned.await?;
            p.counted.push(PartitionsRead {
                source: source.name.clone(),
                location: location.clone(),
                read: pruned.kept.len(),
                partitions: pruned.partitions,
            });
            Some((p.declared, pruned))
        }
        _ => None,
    };
    let partition_cols = || match &pruned {
        Some((declared, _)) => vec![(declared.key.clone(), partition::value_type())],
        None => Vec::new(),
    };
    let df: DataFrame = match format {
        // A file that is not Parquet fails here, without saying which: find it.
        Format::Parquet => ctx
            .read_parquet(
                &location,
                ParquetReadOptions {
                    table_partition_cols: partition_cols(),
                    schema: pruned.as_ref().and_then(|(_, p)| p.schema.as_deref()),
                    ..ParquetReadOptions::default()
                },
            )
            .await
            .map_err(|e| first_bad_cell(&table, path, &[]).unwrap_or_else(|| read_err(e)))?,
        Format::Csv => {
            let schema = csv_schema(source, &header.unwrap_or_default());
            let options = CsvReadOptions::new()
                .has_header(true)
                .schema(&schema)
                .file_extension(format.extension())
                .table_partition_cols(partition_cols());
            ctx.read_csv(&location, options).await.map_err(read_err)?
        }
    };
    let df = match seq_below {
        Some(below) if df.schema().has_column_with_unqualified_name(SEQ_COLUMN) => df
            .filter(datafusion::prelude::col(SEQ_COLUMN).lt(lit(below)))
            .map_err(read_err)?,
        _ => df,
    };
    let Some((declared, pruned)) = pruned else {
        return conform(df, source, Some(format), path, read, None);
    };
    let df = match pruned.kept.len() < pruned.partitions {
        true => partition::kept_only(ctx, df, declared, &pruned.kept).map_err(read_err)?,
        false => df,
    };
    conform(df, source, Some(format), path, read, Some(declared))
}

/// `bind_source` for batches held in memory: the same checks and conversions (any
/// integer width, string layout, timestamp unit or zone the declared type accepts).
/// The batches are split over the session's partitions so that a large table is
/// converted in parallel, as a folder of files is.
pub fn bind_memory(
    ctx: &SessionContext,
    source: &Source,
    data: &MemoryTable,
    read: &[String],
) -> Result<Arc<dyn TableProvider>, IoError> {
    let table = format!("source `{}`", source.name);
    let df = ctx
        .read_table(data.provider(&table, ctx.state().config().target_partitions())?)
        .map_err(|e| IoError::Read {
            table: table.clone(),
            message: e.strip_backtrace(),
        })?;
    conform(df, source, None, Path::new(""), read, None)
}

/// The select that gives `df` (read from `path` as `format`, or from memory when
/// `format` is None) exactly the declared schema of `source` for a run reading `read`;
/// with `partition`, `df` has the partition's value as a column, and each event's
/// time is checked against it (`partition_check`).
fn conform(
    df: DataFrame,
    source: &Source,
    format: Option<Format>,
    path: &Path,
    read: &[String],
    partition: Option<&TimePartition>,
) -> Result<Arc<dyn TableProvider>, IoError> {
    let table = format!("source `{}`", source.name);
    let format_is_csv = format == Some(Format::Csv);
    let found: Vec<(String, ArrowType)> = df
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    let find = |name: &str| -> Result<ArrowType, IoError> {
        match found.iter().find(|(n, _)| n == name) {
            Some((_, ty)) => Ok(ty.clone()),
            None => Err(IoError::MissingColumn {
                table: table.clone(),
                column: name.to_string(),
                path: path.to_path_buf(),
                found: found.iter().map(|(n, _)| n.clone()).collect(),
            }),
        }
    };
    // A CSV column parsed from text (see `csv_schema`) is read as Utf8 on purpose, and
    // so is a path's leaf in a struct or map column given as JSON text (in any format).
    let accept = |name: &str, declared: DataType, ty: ArrowType, text: bool| {
        let as_text = text
            && (parse::parsed_from_text(declared) || declared == DataType::Timestamp)
            && ty == ArrowType::Utf8;
        // Integer times count the source's epoch unit (`row::time::epoch_micros`).
        let integer_time = declared == DataType::Timestamp && is_integer_time(&ty);
        if !as_text && !integer_time && !compatible(declared, &ty) {
            return Err(IoError::WrongType {
                table: table.clone(),
                column: name.to_string(),
                expected: declared.name().to_string(),
                found: ty.to_string(),
            });
        }
        Ok::<ArrowType, IoError>(ty)
    };
    let lookup =
        |name: &str, declared: DataType| accept(name, declared, find(name)?, format_is_csv);

    let time = &source.time_column;
    lookup(time, DataType::Timestamp)?;
    let time_expr = udf::utc_micros(column(time), &source.name, time, source.epoch);
    let mut checked_time = udf::require(time_expr.clone(), &source.name, time, None);
    if let Some(p) = partition {
        checked_time = in_partition(checked_time, column(&p.key), &source.name, p);
    }
    let mut select = vec![checked_time.alias(time)];
    for c in &source.columns {
        if !read.contains(&c.name) {
            // No feature of this run reads it: not required, not checked.
            let null = ScalarValue::try_from(&arrow_type(c.ty)).map_err(|e| IoError::Read {
                table: table.clone(),
                message: e.strip_backtrace(),
            })?;
            select.push(lit(null).alias(&c.name));
            continue;
        }
        // A path column is read out of its struct or map column, unless the data holds
        // it already, flat (as a sample of your data that `featc verify` bound, and a
        // server's JSON pushes are turned into): the stream path takes such a column
        // the same way.
        let flat = found.iter().any(|(n, _)| n == &c.name);
        let (ty, mut e, text) = match &c.path {
            // A path column: read out of its struct or map column (`io::path`).
            Some(p) if !flat => {
                let physical = find(&p.physical)?;
                let text = is_text(&physical);
                let leaf = path_type(&physical, &p.steps).map_err(|e| IoError::WrongType {
                    table: table.clone(),
                    column: c.name.clone(),
                    expected: c.ty.name().to_string(),
                    found: e.message,
                })?;
                let e = read_path(
                    column(&p.physical),
                    &source.name,
                    &c.name,
                    &p.steps,
                    (time_expr.clone(), time),
                );
                (accept(&c.name, c.ty, leaf, text)?, e, text)
            }
            _ => (lookup(&c.name, c.ty)?, column(&c.name), format_is_csv),
        };
        let target = arrow_type(c.ty);
        // Dates, decimals and lists are parsed and checked (`row::date::to_days`,
        // `row::decimal::to_decimal`, `row::list_column::to_lists`) whatever the
        // format: a cast would round, or miss a list's cap.
        if (text && parse::parsed_from_text(c.ty))
            || c.ty == DataType::Date
            || c.ty.is_decimal()
            || matches!(c.ty, DataType::List(_))
        {
            e = parse::parse_cell(e, c.ty, &source.name, &c.name, (time_expr.clone(), time));
        } else if ty == ArrowType::Null {
            e = cast(e, target);
        } else if c.ty == DataType::Timestamp {
            e = udf::utc_micros(e, &source.name, &c.name, source.epoch);
        } else if ty != target {
            e = cast(e, target);
        }
        if !c.nullable {
            e = udf::require(e, &source.name, &c.name, Some((time_expr.clone(), time)));
        }
        select.push(e.alias(&c.name));
    }
    let df = df.select(select).map_err(|e| IoError::Read {
        table: table.clone(),
        message: e.strip_backtrace(),
    })?;
    Ok(df.into_view())
}

/// A CSV reading schema: the header's columns in file order, declared strings with
/// their featc type, everything else as text (declared numbers and booleans are parsed
/// by `parse::parse_cell`, whose errors name the cell; times by `udf::utc_micros`,
/// which reads an integer cell in the source's epoch unit as Parquet's integer columns
/// are read). Everything nullable: nulls are checked after reading.
fn csv_schema(source: &Source, header: &[String]) -> Schema {
    let fields: Vec<Field> = header
        .iter()
        .map(|name| {
            let ty = match source.columns.iter().find(|c| &c.name == name) {
                Some(c) if c.ty == DataType::String => arrow_type(c.ty),
                _ => ArrowType::Utf8,
            };
            Field::new(name, ty, true)
        })
        .collect();
    Schema::new(fields)
}

fn column(name: &str) -> Expr {
    Expr::Column(Column::new_unqualified(name))
}
