//! What a job over data (a training set, a replay) binds before it starts: the
//! sources the requested features read, bound to files or to tables held in memory,
//! and the spine key columns they need.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::{binary_expr, JoinType, Operator};
use datafusion::prelude::{ident, lit, SessionContext};

use datafusion::error::DataFusionError;

use super::failure::ComputeFailure;
use super::lakehouse::{is_table, not_a_table};
use super::locate::{first_bad_cell_read, Expected};
use super::needed::EventRange;
use super::partition::{self, PartitionRead, PartitionsRead};
use super::source::bind_below;
use super::{bind_memory, bind_source_below, IoError, MemoryTable};
use crate::agg::FeatureError;
use crate::expr::derived::DerivedFailure;
use crate::expr::slots::SlotError;
use crate::ir::{DataType, FeatureId, Project, Source};
use crate::plan::Plan;
use crate::row::types::UTC;

/// Where a job's sources are read from when not from their declared files: a path
/// (`--source NAME=PATH`) or a table held in memory, by source name. A table wins
/// over a path of the same name. A source may also be cut at a time: its events at or
/// after it are left out (`featc audit` recomputes a served value without the events
/// the server had not counted).
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub files: HashMap<String, PathBuf>,
    pub tables: HashMap<String, MemoryTable>,
    /// Per source, the event time (µs) from which its events are left out.
    pub before: HashMap<String, i64>,
    /// Per source, events left out: each as its columns' values (a null matches a
    /// null); only the columns a run reads are compared, so an event that matches on
    /// them is left out (`featc audit`: the events a server dead-lettered).
    pub without: HashMap<String, Vec<Vec<(String, ScalarValue)>>>,
    /// Per source, more locations whose events are read with its own (a union): a
    /// server's archive of the events it acknowledged (`featc audit --state`).
    pub also: HashMap<String, Vec<PathBuf>>,
    /// Rows of a location with a `SEQ_COLUMN` (a server's archive) at or above this
    /// sequence number are left out: what a server had not applied at a read.
    pub seq_below: Option<u64>,
    /// Per source whose location is a table (`delta:`, `iceberg:`), the version read
    /// (`--as-of-version`; the latest when absent). A pin for a source that is not a
    /// table is an error naming it.
    pub versions: HashMap<String, i64>,
    /// Per source, the events the run can read (`needed::events_needed`): the
    /// partitions of a source declared `partition KEY by UNIT` outside them are not
    /// read. A partitioned source without an entry is read whole.
    pub needed: HashMap<String, EventRange>,
}

/// The column of a server's archive that numbers its events in the order the server
/// acknowledged them (their write-ahead log records' sequence numbers).
pub const SEQ_COLUMN: &str = "__seq";

impl From<HashMap<String, PathBuf>> for Inputs {
    fn from(files: HashMap<String, PathBuf>) -> Inputs {
        Inputs {
            files,
            ..Inputs::default()
        }
    }
}

/// The sources the `features` read (through the lookups their views' expressions
/// read, `View::lookups_read`, as the plans compute them), in first-use order,
/// without repeats.
pub fn sources_of<'p>(project: &'p Project, features: &[FeatureId]) -> Vec<&'p Source> {
    let mut out: Vec<&Source> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut aggregations = project.aggregations_of(features);
    // Each aggregation once (check refuses lookup cycles; this stops a hand-made one).
    let mut done = std::collections::HashSet::new();
    let mut next = 0;
    while let Some(&id) = aggregations.get(next) {
        next += 1;
        let FeatureId::View { view: v, feature } = id else {
            continue;
        };
        let Some(view) = project.views.get(v) else {
            continue;
        };
        if !done.insert(id) {
            continue;
        }
        for lookup in view.lookups_read(&[feature]) {
            aggregations.extend(project.aggregations_of(&[lookup.feature]));
        }
        for id in view.sources() {
            let Some(source) = project.sources.get(id.0) else {
                continue;
            };
            if seen.insert(id.0) {
                out.push(source);
            }
        }
    }
    out
}

/// The spine columns the `features` need, with their types, in first-use order
/// without repeats: the entity key columns of the aggregations they compute, then
/// the request fields their derived features read (a training set reads a request's
/// field from the spine column of its name).
pub fn spine_keys(project: &Project, features: &[FeatureId]) -> Vec<(String, DataType)> {
    let mut out: Vec<(String, DataType)> = Vec::new();
    let mut fields: Vec<(String, DataType)> = Vec::new();
    let mut stack: Vec<FeatureId> = features.to_vec();
    let mut seen = std::collections::HashSet::new();
    while let Some(id) = stack.pop() {
        let Some(derived) = project.get_feature(id).and_then(|f| f.derived()) else {
            continue;
        };
        if !seen.insert(id) {
            continue;
        }
        stack.extend(&derived.reads);
        for &(r, f) in &derived.request_fields {
            if let Some(c) = project.requests.get(r).and_then(|r| r.fields.get(f)) {
                if !fields.iter().any(|(n, _)| *n == c.name) {
                    fields.push((c.name.clone(), c.ty));
                }
            }
        }
    }
    for id in project.aggregations_of(features) {
        let Some(view) = id.view().and_then(|v| project.views.get(v)) else {
            continue;
        };
        let Some(entity) = project.entities.get(view.entity.0) else {
            continue;
        };
        for k in &entity.keys {
            if !out.iter().any(|(n, _)| n == &k.name) {
                out.push((k.name.clone(), k.ty));
            }
        }
    }
    for field in fields {
        if !out.iter().any(|(n, _)| *n == field.0) {
            out.push(field);
        }
    }
    out
}

/// Binds every source `plan` reads: to its table in `inputs`, else to its path there,
/// else to the source's declared location (a source with none is an error naming
/// it). Each is
/// bound for the columns the plan reads of it (`Plan::columns_read`): those must be
/// in the data and are checked as they are read; the other declared columns read as
/// nulls (no run reads them).
pub async fn bind_sources(
    ctx: &SessionContext,
    project: &Project,
    plan: &Plan,
    inputs: &Inputs,
) -> Result<HashMap<String, Arc<dyn TableProvider>>, IoError> {
    let mut partitions = Vec::new();
    bind_sources_counting(ctx, project, plan, inputs, &mut partitions).await
}

/// `bind_sources`, telling `partitions` how many partitions of each source declared
/// `partition KEY by UNIT` are read (`Inputs::needed`).
pub async fn bind_sources_counting(
    ctx: &SessionContext,
    project: &Project,
    plan: &Plan,
    inputs: &Inputs,
    partitions: &mut Vec<PartitionsRead>,
) -> Result<HashMap<String, Arc<dyn TableProvider>>, IoError> {
    let mut out = HashMap::new();
    for (name, read) in plan.columns_read() {
        let Some(source) = project.sources.iter().find(|s| s.name == name) else {
            return Err(IoError::Unreadable {
                table: format!("source `{name}`"),
                path: PathBuf::new(),
                message: "not a source of the project".to_string(),
            });
        };
        let also = inputs.also.get(&source.name).map_or(&[][..], Vec::as_slice);
        let mut table = match inputs.tables.get(&source.name) {
            Some(data) => Some(bind_memory(ctx, source, data, &read)?),
            None => match source_path(source, &inputs.files) {
                Some(path) => {
                    let version = inputs.versions.get(&source.name).copied();
                    if version.is_some() && !is_table(&path) {
                        return Err(not_a_table(&source.name, &path));
                    }
                    let partition = source.partition.as_ref().map(|declared| PartitionRead {
                        declared,
                        range: inputs.needed.get(&source.name).copied(),
                        counted: &mut *partitions,
                    });
                    let below = inputs.seq_below;
                    Some(bind_below(ctx, source, &path, &read, below, version, partition).await?)
                }
                None if !also.is_empty() => None,
                None => {
                    return Err(IoError::Unreadable {
                        table: format!("source `{}`", source.name),
                        path: PathBuf::new(),
                        message: "no file declared; bind it with --source NAME=PATH".to_string(),
                    })
                }
            },
        };
        for path in also {
            let more = bind_source_below(ctx, source, path, &read, inputs.seq_below).await?;
            table = Some(match table {
                None => more,
                Some(first) => union(ctx, source, first, more)?,
            });
        }
        let Some(table) = table else {
            continue;
        };
        let table = match inputs.before.get(&source.name) {
            Some(&t) => filtered(ctx, source, table, before(source, t))?,
            None => table,
        };
        let table = match inputs.without.get(&source.name) {
            Some(events) if !events.is_empty() => without(ctx, source, table, events, &read)?,
            _ => table,
        };
        out.insert(source.name.clone(), table);
    }
    Ok(out)
}

/// The columns a run reads of `source` and what each must hold: its time column, then
/// the declared columns in `read`.
pub fn expected_columns(source: &Source, read: &[String]) -> Vec<Expected> {
    let time = Expected {
        name: source.time_column.clone(),
        ty: DataType::Timestamp,
        nullable: false,
        epoch: source.epoch,
    };
    // A path column (`address.city`) is no column of the file: it is read out of its
    // struct or map column, whose extraction checks its own cells.
    let declared = source
        .columns
        .iter()
        .filter(|c| c.path.is_none() && read.contains(&c.name))
        .map(|c| Expected {
            name: c.name.clone(),
            ty: c.ty,
            nullable: c.nullable,
            epoch: source.epoch,
        });
    std::iter::once(time).chain(declared).collect()
}

/// What to tell the user about a run over the sources of `plan` that failed with
/// `error`: an error of the plan's own evaluation (an expression or an aggregation,
/// which name their event) as it is; otherwise, when a source's files hold a bad cell
/// (found by reading them again, `locate`), that cell; otherwise the error itself.
pub fn explain_failure(
    project: &Project,
    plan: &Plan,
    inputs: &Inputs,
    error: DataFusionError,
) -> ComputeFailure {
    if let DataFusionError::External(e) = error.find_root() {
        if let Some(e) = e.downcast_ref::<SlotError>() {
            return ComputeFailure::Slot(e.clone());
        }
        if let Some(e) = e.downcast_ref::<FeatureError>() {
            return ComputeFailure::Feature(e.clone());
        }
        if let Some(e) = e.downcast_ref::<DerivedFailure>() {
            return ComputeFailure::Derived(e.clone());
        }
        if let Some(e) = e.downcast_ref::<IoError>() {
            return ComputeFailure::Input(e.clone());
        }
    }
    for (name, read) in plan.columns_read() {
        let Some(source) = project.sources.iter().find(|s| s.name == name) else {
            continue;
        };
        // A table held in memory has no file to read again: its conversions name
        // the source, the column and the row's time themselves.
        if inputs.tables.contains_key(&source.name) {
            continue;
        }
        let Some(path) = source_path(source, &inputs.files) else {
            continue;
        };
        let table = format!("source `{name}`");
        // A file of a partition the run skipped is not what failed it.
        let skip = |file: &str| match (&source.partition, inputs.needed.get(&source.name)) {
            (Some(declared), Some(&range)) => partition::skipped(declared, range, file),
            _ => false,
        };
        let expected = expected_columns(source, &read);
        if let Some(bad) = first_bad_cell_read(&table, &path, &expected, &skip) {
            return ComputeFailure::Input(bad);
        }
    }
    ComputeFailure::Engine(error)
}

/// The rows of bound source `source` before `t` (µs): its events at or after it are
/// left out (`Inputs::before`).
fn before(source: &Source, t: i64) -> Expr {
    ident(&source.time_column).lt(lit(ScalarValue::TimestampMicrosecond(
        Some(t),
        Some(UTC.into()),
    )))
}

/// `table` (bound source `source`, read for `read`) without its rows equal to one of
/// `events` on the columns of `read` each names (a null matches a null:
/// `Inputs::without`): one hash anti-join per set of columns the events name, so
/// that it costs the table's rows plus the events', not their product.
fn without(
    ctx: &SessionContext,
    source: &Source,
    table: Arc<dyn TableProvider>,
    events: &[Vec<(String, ScalarValue)>],
    read: &[String],
) -> Result<Arc<dyn TableProvider>, IoError> {
    let failed = |e: DataFusionError| IoError::Read {
        table: format!("source `{}`", source.name),
        message: e.strip_backtrace(),
    };
    let mut by_columns: BTreeMap<Vec<String>, Vec<Vec<ScalarValue>>> = BTreeMap::new();
    for event in events {
        let mut compared: Vec<&(String, ScalarValue)> =
            event.iter().filter(|(c, _)| read.contains(c)).collect();
        if compared.is_empty() {
            continue;
        }
        compared.sort_by(|a, b| a.0.cmp(&b.0));
        let names = compared.iter().map(|(c, _)| c.clone()).collect();
        let values = compared.into_iter().map(|(_, v)| v.clone()).collect();
        by_columns.entry(names).or_default().push(values);
    }
    let mut df = ctx.read_table(table).map_err(failed)?;
    for (names, rows) in by_columns {
        let mut fields = Vec::with_capacity(names.len());
        let mut columns = Vec::with_capacity(names.len());
        for i in 0..names.len() {
            let column =
                ScalarValue::iter_to_array(rows.iter().map(|r| r[i].clone())).map_err(failed)?;
            fields.push(Field::new(
                format!("__left_out_{i}"),
                column.data_type().clone(),
                true,
            ));
            columns.push(column);
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| failed(e.into()))?;
        let on: Vec<Expr> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                binary_expr(
                    ident(name),
                    Operator::IsNotDistinctFrom,
                    ident(format!("__left_out_{i}")),
                )
            })
            .collect();
        let events = ctx.read_batch(batch).map_err(failed)?;
        df = df.join_on(events, JoinType::LeftAnti, on).map_err(failed)?;
    }
    Ok(df.into_view())
}

/// The events of two bindings of `source` together.
fn union(
    ctx: &SessionContext,
    source: &Source,
    a: Arc<dyn TableProvider>,
    b: Arc<dyn TableProvider>,
) -> Result<Arc<dyn TableProvider>, IoError> {
    let df = ctx
        .read_table(a)
        .and_then(|a| a.union(ctx.read_table(b)?))
        .map_err(|e| IoError::Read {
            table: format!("source `{}`", source.name),
            message: e.strip_backtrace(),
        })?;
    Ok(df.into_view())
}

/// `table` (a bound source) with only its rows where `rows` holds.
fn filtered(
    ctx: &SessionContext,
    source: &Source,
    table: Arc<dyn TableProvider>,
    rows: Expr,
) -> Result<Arc<dyn TableProvider>, IoError> {
    let df = ctx
        .read_table(table)
        .and_then(|df| df.filter(rows))
        .map_err(|e| IoError::Read {
            table: format!("source `{}`", source.name),
            message: e.strip_backtrace(),
        })?;
    Ok(df.into_view())
}

/// Where a source is read from: its `--source` path, else its declared file.
pub(super) fn source_path(source: &Source, paths: &HashMap<String, PathBuf>) -> Option<PathBuf> {
    paths
        .get(&source.name)
        .cloned()
        .or_else(|| source.location.as_ref().map(PathBuf::from))
}
