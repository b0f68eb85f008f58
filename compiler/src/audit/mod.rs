//! `featc audit` (docs/audit.md): every served vector of a served log recomputed at
//! its read time by `training-set`'s own job, cell by cell, and each difference
//! explained by a cause the audit computes, or reported unexplained.
//!
//! The log is read twice per chunk of reads, so that memory holds one chunk's spine
//! (read times, keys, request fields), never the log's features: the first pass
//! makes the spine, the training set is computed over it (in spine order), and the
//! second pass reads the served values of the same rows beside the computed ones
//! (`log::Rows`, sampled alike on both passes). A chunk is at most `chunk_rows`
//! reads; files with another schema (another deploy) start another chunk.

pub mod acknowledged;
pub mod cells;
pub mod error;
pub mod html;
pub mod layout;
pub mod log;
mod recheck;
pub mod report;
pub mod staleness;
pub mod timeline;
pub mod window;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::kernels::zip::zip;
use datafusion::arrow::compute::{concat_batches, is_not_null};
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::datatypes::{TimestampMicrosecondType, UInt64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use featc_runtime::batch::Resources;
use featc_runtime::io::{Inputs, MemoryTable};
use featc_runtime::ir::{FeatureId, Project};
use futures::StreamExt;

use crate::diff::fingerprint::fingerprints;
use crate::job::training_set::{SpineInput, TrainingSet};
use acknowledged::{Acknowledged, Arrivals};
pub use error::AuditError;
use featc_runtime::stats::{APPLIED_SEQ_COLUMN, READ_TIME_COLUMN, SERVED_AT_COLUMN};
use layout::{Layout, Logged};
use log::{LogFile, Range, Rows, Sampling};
use recheck::Candidate;
pub use report::{Cause, Counts, Finding, Report};

/// Reads recomputed at once by default.
pub const CHUNK_ROWS: u64 = 1 << 21;
/// Differing cells held for a recomputation at most: past it they are rechecked
/// before the chunk goes on, so that a log where every cell differs holds this many
/// (each a one-row slice of its read), not a chunk's worth of cells.
const RECHECK_BATCH: usize = 1 << 16;

/// An audit of a served log against a project and its sources.
pub struct Audit<'p> {
    pub project: &'p Project,
    /// The served log: a folder written by `--log-served`, or one of its files.
    pub served: PathBuf,
    /// Sources read from elsewhere than their declared file.
    pub inputs: Inputs,
    pub resources: Resources,
    /// Audit about this many reads, spread evenly over the log (all when `None`).
    pub sample: Option<u64>,
    /// Reads recomputed at once (the spine held in memory).
    pub chunk_rows: u64,
    /// The events the server kept out of its state (its dead letters): a differing
    /// cell recomputed without them is explained (`Cause::DeadLettered`).
    pub dead_letters: Vec<DeadEvent>,
    /// The history as the server acknowledged it (its archive), which explains cells
    /// by when their events arrived, and gives each read's staleness.
    pub acknowledged: Option<Acknowledged>,
}

/// An event a server kept out of its state, as its dead letter holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadEvent {
    pub source: String,
    /// Its columns' values, by column (those its letter holds).
    pub columns: Vec<(String, ScalarValue)>,
}

impl DeadEvent {
    /// Leaves `events` out of what `inputs` read (`Inputs::without`).
    pub fn leave_out(events: &[DeadEvent], inputs: &mut Inputs) {
        for event in events {
            inputs
                .without
                .entry(event.source.clone())
                .or_default()
                .push(event.columns.clone());
        }
    }
}

/// How far an audit is: reads audited, of how many it will audit.
pub type Progress<'a> = &'a dyn Fn(u64, u64);

impl Audit<'_> {
    pub async fn run(&self, progress: Progress<'_>) -> Result<Report, AuditError> {
        let files = log::list(&self.served)?;
        let total: u64 = files.iter().map(|f| f.rows).sum();
        let sampling = Sampling::of(total, self.sample);
        let audited: u64 = files.iter().map(|f| sampling.count(f.first, f.rows)).sum();
        let today = fingerprints(self.project).map_err(AuditError::Grouping)?;
        let mut report = Report::new(files.len(), total, sampling.every);
        let arrivals = match &self.acknowledged {
            Some(a) if a.complete() => Some(a.arrivals(self.project).await?),
            Some(a) => {
                report.notes.push(match a.from {
                    None => "the state directory has no archive of the events its server \
                             acknowledged (a server before featc audit's archive, or \
                             --archive-retention off): cells are not explained by when \
                             their events arrived, and staleness is not measured"
                        .to_string(),
                    Some(from) => format!(
                        "the state's archive holds the events its server acknowledged from \
                         record {from} on only (retention removed the older ones): cells are \
                         not explained by when their events arrived, and staleness is not \
                         measured"
                    ),
                });
                None
            }
            None => None,
        };
        let mut start = 0;
        while let Some(first) = files.get(start) {
            let end = files[start..]
                .iter()
                .position(|f| f.schema != first.schema)
                .map_or(files.len(), |n| start + n);
            let layout = Layout::of(first, self.project, &today)?;
            for chunk in chunks(&files[start..end], start, sampling, self.chunk_rows) {
                self.audit_chunk(
                    &files,
                    chunk,
                    &layout,
                    sampling,
                    arrivals.as_ref(),
                    &mut report,
                )
                .await?;
                progress(report.audited_reads, audited);
            }
            start = end;
        }
        window::attach(self, &mut report).await?;
        report.finish();
        Ok(report)
    }

    async fn audit_chunk(
        &self,
        files: &[LogFile],
        ranges: Vec<Range>,
        layout: &Layout,
        sampling: Sampling,
        arrivals: Option<&Arrivals>,
        report: &mut Report,
    ) -> Result<(), AuditError> {
        let mut spine_columns = layout.spine.clone();
        if layout.served_at {
            spine_columns.push(SERVED_AT_COLUMN.to_string());
        }
        let spine: Vec<RecordBatch> = Rows::new(files, ranges.clone(), spine_columns, sampling)
            .map(|b| fill_unasked(b?, &layout.required_fields))
            .collect::<Result<_, _>>()?;
        let Some(schema) = spine.first().map(|b| b.schema()) else {
            return Ok(());
        };
        let ids: Vec<FeatureId> = layout.features.iter().filter_map(|f| f.id).collect();
        let mut served = Aligned::new(Rows::new(files, ranges, layout.feature_columns(), sampling));
        if ids.is_empty() {
            // Nothing left to recompute: every asked cell is explained.
            for batch in &spine {
                let logged = served.take(batch.num_rows())?;
                compare(layout, batch, &[], &logged, false, arrivals, report);
            }
            return Ok(());
        }
        let job = self.job(ids, MemoryTable::new(schema, spine), self.inputs.clone());
        let mut running = job.start(&|_| {}).await?;
        let spine_width = layout.spine.len() + usize::from(layout.served_at);
        // Differing cells another history may explain are recomputed.
        let recheck = !self.dead_letters.is_empty() || self.acknowledged.is_some();
        let mut pending = Vec::new();
        while let Some(batch) = running.stream.next().await {
            let batch = batch.map_err(|e| AuditError::Job(job.failure(&running, e)))?;
            let logged = served.take(batch.num_rows())?;
            let width = spine_width.min(batch.num_columns());
            let computed: Vec<ArrayRef> = batch.columns()[width..].to_vec();
            let spine = batch
                .project(&(0..width).collect::<Vec<_>>())
                .map_err(AuditError::rows)?;
            pending.extend(compare(
                layout, &spine, &computed, &logged, recheck, arrivals, report,
            ));
            if pending.len() >= RECHECK_BATCH {
                recheck::verify(self, layout, std::mem::take(&mut pending), report).await?;
            }
        }
        // The training set answers every spine row once, in order: a served row left
        // over would be a read never compared.
        if served.take(1)?.num_rows() > 0 {
            return Err(AuditError::rows(
                "the recomputation answered fewer rows than the log holds",
            ));
        }
        recheck::verify(self, layout, pending, report).await
    }

    /// The training set of `features` over `spine` (read times in
    /// `READ_TIME_COLUMN`), from `inputs`: every recomputation of the audit.
    fn job(&self, features: Vec<FeatureId>, spine: MemoryTable, inputs: Inputs) -> TrainingSet<'_> {
        TrainingSet {
            project: self.project,
            features,
            spine: SpineInput::Table(spine),
            spine_time: READ_TIME_COLUMN.to_string(),
            inputs,
            batch_size: None,
            resources: self.resources,
            ballista: None,
        }
    }
}

/// Classifies every asked cell of one batch of reads: `spine` holds the reads' spine
/// columns, `computed` the training set's feature columns (one per logged feature
/// still defined, in the log's order), `logged` each logged feature's served value
/// and status. A differing cell that events waiting for their lookups may explain
/// (or, when `recheck`, any other history) is returned, to be checked by
/// recomputing it (`recheck::verify`). With `arrivals`, each read's staleness is
/// counted.
fn compare(
    layout: &Layout,
    spine: &RecordBatch,
    computed: &[ArrayRef],
    logged: &RecordBatch,
    recheck: bool,
    arrivals: Option<&Arrivals>,
    report: &mut Report,
) -> Vec<Candidate> {
    let mut candidates = Vec::new();
    let keys = |row: usize| key_text(layout, spine, row);
    let read_times = spine
        .column_by_name(READ_TIME_COLUMN)
        .and_then(|c| c.as_primitive_opt::<TimestampMicrosecondType>().cloned());
    let applied = spine
        .column_by_name(APPLIED_SEQ_COLUMN)
        .and_then(|c| c.as_primitive_opt::<UInt64Type>().cloned());
    for row in 0..spine.num_rows() {
        let at = read_times.as_ref().map_or(0, |t| t.value(row));
        if let (Some(arrivals), Some(applied)) = (arrivals, &applied) {
            if !applied.is_null(row) {
                report.lags.add(arrivals.staleness(at, applied.value(row)));
            }
        }
        let mut exact = true;
        let mut next_computed = 0;
        for (k, feature) in layout.features.iter().enumerate() {
            let ours = match feature.id {
                Some(_) => {
                    next_computed += 1;
                    computed.get(next_computed - 1)
                }
                None => None,
            };
            let (Some(value), Some(status)) =
                (logged.columns().get(2 * k), logged.columns().get(2 * k + 1))
            else {
                continue;
            };
            if status.is_null(row) {
                continue; // not asked for by this read
            }
            if let Some(ours) = ours {
                if cells::same(value.as_ref(), row, ours.as_ref(), row) {
                    report.equal(&feature.name, at);
                    continue;
                }
            }
            exact = false;
            if feature.changed {
                report.explained(&feature.name, at, Cause::DefinitionChanged, || keys(row));
                continue;
            }
            let computed_text =
                || ours.map_or_else(|| "-".to_string(), |c| cells::text(c.as_ref(), row));
            let cut = recheck::cut(layout, feature, spine, row, at);
            if !cut.is_empty() || (recheck && ours.is_some()) {
                candidates.push(Candidate {
                    feature: k,
                    at,
                    spine: spine.slice(row, 1),
                    served: value.slice(row, 1),
                    status: cells::text(status.as_ref(), row),
                    computed: computed_text(),
                    cut,
                });
                continue;
            }
            report.unexplained(&feature.name, at, keys(row), || {
                let served = cells::text(value.as_ref(), row);
                let status = cells::text(status.as_ref(), row);
                finding(
                    layout,
                    feature,
                    spine,
                    row,
                    at,
                    [served, status, computed_text()],
                )
            });
        }
        report.audited_reads += 1;
        if exact {
            report.exact_reads += 1;
        }
    }
    candidates
}

/// An unexplained cell of the read in row `row` of `spine` (read at `at`) in full:
/// `[served, status, computed]` as text.
fn finding(
    layout: &Layout,
    feature: &Logged,
    spine: &RecordBatch,
    row: usize,
    at: i64,
    [served, status, computed]: [String; 3],
) -> Finding {
    Finding {
        feature: feature.name.clone(),
        read_time: column_text(spine, READ_TIME_COLUMN, row),
        read_time_us: at,
        served_at: layout
            .served_at
            .then(|| column_text(spine, SERVED_AT_COLUMN, row)),
        keys: spine_values(layout, spine, row),
        served,
        status,
        computed,
        events: Vec::new(),
        typed_keys: typed_keys(layout, spine, row),
    }
}

/// The read's non-null entity keys, typed.
fn typed_keys(layout: &Layout, spine: &RecordBatch, row: usize) -> Vec<(String, ScalarValue)> {
    layout
        .keys
        .iter()
        .filter_map(|name| {
            let column = spine.column_by_name(name)?;
            let value = ScalarValue::try_from_array(column.as_ref(), row).ok()?;
            (!value.is_null()).then(|| (name.clone(), value))
        })
        .collect()
}

/// `batch` with the nulls of `columns` (request fields declared non-nullable) made
/// their type's default: a read gives such a field exactly when it asks for a feature
/// reading it (the server refuses a null), so a null one belongs to a read whose
/// features reading it are neither asked nor compared, and the training set, which
/// refuses a null, computes them over the stand-in.
fn fill_unasked(batch: RecordBatch, columns: &[String]) -> Result<RecordBatch, AuditError> {
    let mut arrays = batch.columns().to_vec();
    for name in columns {
        let Ok(at) = batch.schema().index_of(name) else {
            continue;
        };
        let column = &arrays[at];
        if column.null_count() == 0 {
            continue;
        }
        let default = ScalarValue::new_default(column.data_type())
            .and_then(|v| v.to_scalar())
            .map_err(AuditError::rows)?;
        let given = is_not_null(column).map_err(AuditError::rows)?;
        arrays[at] = zip(&given, column, &default).map_err(AuditError::rows)?;
    }
    let fields: Vec<_> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), arrays).map_err(AuditError::rows)
}

/// The read's entity keys as `name=value, ...` (null keys left out).
fn key_text(layout: &Layout, spine: &RecordBatch, row: usize) -> String {
    let mut parts = Vec::new();
    for name in &layout.keys {
        if let Some(column) = spine.column_by_name(name) {
            if !column.is_null(row) {
                parts.push(format!("{name}={}", cells::text(column.as_ref(), row)));
            }
        }
    }
    parts.join(", ")
}

/// Every key and request field column of the read, by name.
fn spine_values(layout: &Layout, spine: &RecordBatch, row: usize) -> BTreeMap<String, String> {
    layout
        .spine
        .iter()
        .filter(|name| layout.is_read_column(name))
        .filter_map(|name| {
            let column = spine.column_by_name(name)?;
            Some((name.clone(), cells::text(column.as_ref(), row)))
        })
        .collect()
}

fn column_text(batch: &RecordBatch, name: &str, row: usize) -> String {
    batch
        .column_by_name(name)
        .map_or_else(String::new, |c| cells::text(c.as_ref(), row))
}

/// The ranges of `files` (the first being file `offset` of the log), cut into chunks
/// of at most `chunk_rows` sampled reads.
fn chunks(
    files: &[LogFile],
    offset: usize,
    sampling: Sampling,
    chunk_rows: u64,
) -> Vec<Vec<Range>> {
    let chunk_rows = chunk_rows.max(1);
    let mut out = Vec::new();
    let mut chunk: Vec<Range> = Vec::new();
    let mut room = chunk_rows;
    for (i, file) in files.iter().enumerate() {
        let mut skip = 0;
        while skip < file.rows {
            // `room * every` consecutive rows hold exactly `room` sampled ones.
            let take = (file.rows - skip).min(room.saturating_mul(sampling.every));
            let taken = sampling.count(file.first + skip, take);
            chunk.push(Range {
                file: offset + i,
                skip,
                take,
            });
            skip += take;
            room -= taken.min(room);
            if room == 0 {
                out.push(std::mem::take(&mut chunk));
                room = chunk_rows;
            }
        }
    }
    if !chunk.is_empty() {
        out.push(chunk);
    }
    out
}

/// The served rows, handed out in runs of any length (the training set's batches do
/// not match the log's).
struct Aligned<'a> {
    rows: Rows<'a>,
    pending: VecDeque<RecordBatch>,
    pending_rows: usize,
}

impl<'a> Aligned<'a> {
    fn new(rows: Rows<'a>) -> Aligned<'a> {
        Aligned {
            rows,
            pending: VecDeque::new(),
            pending_rows: 0,
        }
    }

    /// The next `n` rows as one batch (fewer when the log ends first).
    fn take(&mut self, n: usize) -> Result<RecordBatch, AuditError> {
        while self.pending_rows < n {
            let Some(batch) = self.rows.next().transpose()? else {
                break;
            };
            self.pending_rows += batch.num_rows();
            self.pending.push_back(batch);
        }
        let Some(schema) = self.pending.front().map(|b| b.schema()) else {
            return Ok(RecordBatch::new_empty(std::sync::Arc::new(Schema::empty())));
        };
        let mut taken = Vec::new();
        let mut need = n;
        while need > 0 {
            let Some(first) = self.pending.pop_front() else {
                break;
            };
            if first.num_rows() <= need {
                need -= first.num_rows();
                taken.push(first);
            } else {
                taken.push(first.slice(0, need));
                self.pending
                    .push_front(first.slice(need, first.num_rows() - need));
                need = 0;
            }
        }
        self.pending_rows -= n - need;
        concat_batches(&schema, &taken).map_err(AuditError::rows)
    }
}
