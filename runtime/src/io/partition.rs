//! Reading a source declared `partition KEY by UNIT` (docs/sources.md, "Time
//! partitions"): its folder is listed once, every data file must sit in a
//! `KEY=VALUE/` folder whose value is a time of the unit, and only the partitions
//! whose time overlaps the events a run can read (`needed::EventRange`) are kept, so
//! the others are never opened, not even for their schema. Each kept event is checked
//! against its partition as it is read (`partition_check`).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{Column, DataFusionError, ScalarValue};
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::{lit, Expr, LogicalPlan, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::DataFrame;

use datafusion::arrow::datatypes::{DataType as ArrowType, SchemaRef};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use object_store::ObjectMeta;
use percent_encoding::percent_decode_str;

use super::needed::EventRange;
use super::object::ObjectLocation;
use super::{Format, IoError};
use crate::ir::{PartitionUnit, TimePartition};
use crate::row::date::parse_date;

const HOUR_US: i64 = 3_600_000_000;
const DAY_US: i64 = 24 * HOUR_US;

/// The type a partition's value is read as: one dictionary entry per partition, as
/// DataFusion's own hive reading recommends (`wrap_partition_type_in_dict`).
pub fn value_type() -> ArrowType {
    ArrowType::Dictionary(Box::new(ArrowType::UInt16), Box::new(ArrowType::Utf8))
}

/// How a source declared `partition KEY by UNIT` is read from its own location
/// (`source::bind_below`): only the partitions overlapping `range` (all when `None`),
/// counted in `counted`.
pub struct PartitionRead<'a> {
    pub declared: &'a TimePartition,
    pub range: Option<EventRange>,
    pub counted: &'a mut Vec<PartitionsRead>,
}

/// How many partitions of a source's folder a run read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionsRead {
    pub source: String,
    /// The folder, as read.
    pub location: String,
    pub read: usize,
    pub partitions: usize,
}

/// What a partitioned folder holds, and which of its partitions a run reads.
#[derive(Debug)]
pub struct Pruned {
    /// The values of the partitions to read, each once.
    pub kept: Vec<String>,
    /// How many partitions the folder has.
    pub partitions: usize,
    /// Parquet: the schema of the data files of the kept partitions (of the first
    /// file when none is kept), so that a skipped file is never opened. (A CSV
    /// source is read with the schema its header and declaration give.)
    pub schema: Option<SchemaRef>,
}

/// `df`, a scan of a folder partitioned by `declared`, reading only the partitions
/// whose values are `kept`: the scan is handed the partition filter itself
/// (`KeptPartitions`), since featc's optimizer pushes no filter down (see
/// `batch::session_state`), so the files of the other partitions are never opened.
pub fn kept_only(
    ctx: &SessionContext,
    df: DataFrame,
    declared: &TimePartition,
    kept: &[String],
) -> Result<DataFrame, DataFusionError> {
    let LogicalPlan::TableScan(scan) = df.logical_plan() else {
        return Err(DataFusionError::Internal(
            "a partitioned folder is read by a scan".into(),
        ));
    };
    let key = Expr::Column(Column::new_unqualified(&declared.key));
    let value = |v: &String| {
        let text = ScalarValue::Utf8(Some(v.clone()));
        lit(ScalarValue::Dictionary(
            Box::new(ArrowType::UInt16),
            Box::new(text),
        ))
    };
    let filter = key.in_list(kept.iter().map(value).collect(), false);
    ctx.read_table(Arc::new(KeptPartitions {
        inner: source_as_provider(&scan.source)?,
        filter,
    }))
}

/// A partitioned folder's table that scans only the partitions `filter` keeps.
#[derive(Debug)]
struct KeptPartitions {
    inner: Arc<dyn TableProvider>,
    filter: Expr,
}

#[async_trait]
impl TableProvider for KeptPartitions {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        // None: `supports_filters_pushdown` is left `Unsupported`.
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>, DataFusionError> {
        // A filter on partition columns only: the listing table keeps the files of
        // the partitions it accepts, and every row of those passes it.
        let filters = [self.filter.clone()];
        self.inner.scan(state, projection, &filters, limit).await
    }
}

/// The events (µs, `[start, end)`) partition `value` of `unit` holds; `None` when
/// `value` is not written as the unit's values are (`PartitionUnit::written`).
pub fn time_range(unit: PartitionUnit, value: &str) -> Option<(i64, i64)> {
    let day_start = |text: &str| parse_date(text).ok().map(|d| i64::from(d) * DAY_US);
    match unit {
        PartitionUnit::Day => {
            let start = day_start(value)?;
            Some((start, start + DAY_US))
        }
        PartitionUnit::Hour => {
            let (day, hour) = (value.get(..10)?, value.get(10..)?);
            let hour = hour.strip_prefix(['T', '-', ' '])?;
            if hour.len() != 2 || !hour.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let hour: i64 = hour.parse().ok().filter(|h| *h < 24)?;
            let start = day_start(day)? + hour * HOUR_US;
            Some((start, start + HOUR_US))
        }
        PartitionUnit::Month => {
            let start = day_start(&format!("{value}-01")).filter(|_| value.len() == 7)?;
            let (year, month): (i64, i64) = (value[..4].parse().ok()?, value[5..].parse().ok()?);
            let (next_year, next_month) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            let end = day_start(&format!("{next_year:04}-{next_month:02}-01"))
                // December 9999: the last month a date can have.
                .unwrap_or(start + 31 * DAY_US);
            Some((start, end))
        }
    }
}

/// Lists the folder at `location` (read as `format`) of a source (`table` names it)
/// declared `partition`, checks that every data file is in a partition, and keeps
/// the partitions that may hold events of `range` (all of them when `None`).
pub async fn prune(
    ctx: &SessionContext,
    table: &str,
    location: &str,
    format: Format,
    partition: &TimePartition,
    range: Option<EventRange>,
) -> Result<Pruned, IoError> {
    let read = |message: String| IoError::Read {
        table: table.to_string(),
        message,
    };
    let url = ListingTableUrl::parse(location).map_err(|e| read(e.strip_backtrace()))?;
    let store = ctx
        .runtime_env()
        .object_store(&url)
        .map_err(|e| read(e.strip_backtrace()))?;
    let state = ctx.state();
    let mut files: Vec<ObjectMeta> = url
        .list_all_files(&state, store.as_ref(), format.extension())
        .await
        .map_err(|e| read(e.strip_backtrace()))?
        .try_collect()
        .await
        .map_err(|e| read(e.strip_backtrace()))?;
    files.sort_by(|a, b| a.location.cmp(&b.location));
    // Each partition once, in value order, and whether the run reads it.
    let mut partitions: BTreeMap<String, bool> = BTreeMap::new();
    let mut kept_files: Vec<ObjectMeta> = Vec::new();
    for file in &files {
        let value = value_of(table, &url, file, partition)?;
        let (start, end) = time_range(partition.unit, &value).ok_or_else(|| {
            bad_file(
                table,
                &url,
                file,
                format!(
                    "`{}={value}` is not a partition by {}: its value must be written {}",
                    partition.key,
                    partition.unit.name(),
                    partition.unit.written()
                ),
            )
        })?;
        let wanted = range.is_none_or(|r| r.overlaps(start, end));
        if wanted {
            kept_files.push(file.clone());
        }
        partitions.insert(value, wanted);
    }
    let kept: Vec<String> = (partitions.iter())
        .filter(|(_, wanted)| **wanted)
        .map(|(value, _)| value.clone())
        .collect();
    if format == Format::Csv {
        return Ok(Pruned {
            kept,
            partitions: partitions.len(),
            schema: None,
        });
    }
    let schema_of: Vec<ObjectMeta> = match (kept_files.is_empty(), files.first()) {
        (false, _) => kept_files,
        (true, Some(first)) => vec![first.clone()],
        (true, None) => {
            return Err(IoError::UnknownFormat {
                table: table.to_string(),
                path: location.into(),
            })
        }
    };
    let file_format = ParquetFormat::default();
    let schema = match file_format.infer_schema(&state, &store, &schema_of).await {
        Ok(schema) => schema,
        Err(e) => {
            // Name the file that is not of its format.
            for file in &schema_of {
                let one = std::slice::from_ref(file);
                if let Err(bad) = file_format.infer_schema(&state, &store, one).await {
                    return Err(bad_file(table, &url, file, bad.strip_backtrace()));
                }
            }
            return Err(read(e.strip_backtrace()));
        }
    };
    Ok(Pruned {
        kept,
        partitions: partitions.len(),
        schema: Some(schema),
    })
}

/// Whether the file at `file` (a path or URL) is in a partition of `declared` that
/// holds no event of `range` (it has a folder `KEY=VALUE` of the unit outside it):
/// a file `prune` skips.
pub fn skipped(declared: &TimePartition, range: EventRange, file: &str) -> bool {
    file.split('/')
        .filter_map(|part| part.split_once('='))
        .filter(|(key, _)| *key == declared.key)
        .filter_map(|(_, value)| time_range(declared.unit, &decoded(value)))
        .any(|(start, end)| !range.overlaps(start, end))
}

/// The value of `file`'s partition: the first folder below the table's, `KEY=VALUE`
/// (its value `decoded`).
fn value_of(
    table: &str,
    url: &ListingTableUrl,
    file: &ObjectMeta,
    partition: &TimePartition,
) -> Result<String, IoError> {
    let mut parts = url.strip_prefix(&file.location).into_iter().flatten();
    let folder = parts.next().filter(|_| parts.next().is_some());
    let value = folder.and_then(|f| {
        let (key, value) = f.split_once('=')?;
        (key == partition.key).then_some(value)
    });
    match value {
        Some(value) => Ok(decoded(value)),
        None => Err(bad_file(
            table,
            url,
            file,
            format!(
                "is not in a partition folder `{}=VALUE/` (the source is declared `partition {} by {}`)",
                partition.key,
                partition.key,
                partition.unit.name()
            ),
        )),
    }
}

/// A folder's value percent-decoded, as DataFusion reads it (kept as written when
/// the bytes it decodes to are not UTF-8).
fn decoded(value: &str) -> String {
    percent_decode_str(value)
        .decode_utf8()
        .map_or_else(|_| value.to_string(), |v| v.into_owned())
}

fn bad_file(table: &str, url: &ListingTableUrl, file: &ObjectMeta, message: String) -> IoError {
    IoError::BadFile {
        table: table.to_string(),
        file: file_name(url, file).into(),
        message,
    }
}

/// How a message names `file` of the table at `url`: its path for a local file, its
/// URL in object storage.
fn file_name(url: &ListingTableUrl, file: &ObjectMeta) -> String {
    match ObjectLocation::of(std::path::Path::new(url.as_str())) {
        Some(bucket) => bucket.url(file.location.as_ref()),
        None => format!("/{}", file.location),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_unit_reads_its_values_and_nothing_else() {
        let day = time_range(PartitionUnit::Day, "2024-03-01").unwrap();
        assert_eq!(day, (1_709_251_200_000_000, 1_709_251_200_000_000 + DAY_US));
        let hour = time_range(PartitionUnit::Hour, "2024-03-01T05").unwrap();
        assert_eq!(hour.0, day.0 + 5 * HOUR_US);
        assert_eq!(time_range(PartitionUnit::Hour, "2024-03-01-05"), Some(hour));
        assert_eq!(time_range(PartitionUnit::Hour, "2024-03-01 05"), Some(hour));
        let month = time_range(PartitionUnit::Month, "2024-02").unwrap();
        assert_eq!(month.1 - month.0, 29 * DAY_US);
        let december = time_range(PartitionUnit::Month, "2023-12").unwrap();
        assert_eq!(
            december.1,
            time_range(PartitionUnit::Day, "2024-01-01").unwrap().0
        );
        for (unit, bad) in [
            (PartitionUnit::Day, "2024-3-1"),
            (PartitionUnit::Day, "2024-02-30"),
            (PartitionUnit::Day, "2024-03-01T00"),
            (PartitionUnit::Hour, "2024-03-01T24"),
            (PartitionUnit::Hour, "2024-03-01T5"),
            (PartitionUnit::Hour, "2024-03-01"),
            (PartitionUnit::Month, "2024-13"),
            (PartitionUnit::Month, "2024-03-01"),
            (PartitionUnit::Month, "2024-1"),
            (PartitionUnit::Day, "__HIVE_DEFAULT_PARTITION__"),
        ] {
            assert_eq!(time_range(unit, bad), None, "{bad}");
        }
    }
}
