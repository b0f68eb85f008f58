//! The cause `held_for_lookup`: a read answered while some of its view's events
//! waited for their as-of lookups to settle (semantics.md, "As-of lookups online:
//! events wait") does not count them, where the training set does. The served log
//! says, per read, from when each such view's events waited (`held_from.<view>`:
//! every event of the view at or after it that had arrived waited, none before it
//! did); a differing cell is explained only when the training set, recomputed for
//! the same read without the views' sources' events from then on, gives the served
//! value bit for bit.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::io::MemoryTable;
use featc_runtime::ir::FeatureId;
use featc_runtime::stats::READ_TIME_COLUMN;
use futures::StreamExt;

use super::error::AuditError;
use super::layout::{Layout, Logged};
use super::report::{Cause, Finding, Report};
use super::{cells, key_text, spine_values, Audit};
use crate::job::training_set::{SpineInput, TrainingSet};

/// A differing cell that waiting events may explain.
pub(super) struct Candidate {
    /// Its feature's position in the layout.
    pub feature: usize,
    /// Its read's time.
    pub at: i64,
    /// Its read's spine row.
    pub spine: RecordBatch,
    /// The served value (one row) and its status.
    pub served: ArrayRef,
    pub status: String,
    /// What the training set computed with every event, for a finding.
    pub computed: String,
    /// Per source, the time from which its events waited at the read.
    pub cut: BTreeMap<String, i64>,
}

/// For a differing cell of `feature` read at `t` (row `row` of `spine`): per source of
/// its views, the time from which their events waited at the read, where that is at
/// or before `t` (events after `t` count in no value at `t`). Empty when none waited.
pub(super) fn cut(
    layout: &Layout,
    feature: &Logged,
    spine: &RecordBatch,
    row: usize,
    t: i64,
) -> BTreeMap<String, i64> {
    let mut out: BTreeMap<String, i64> = BTreeMap::new();
    for view in layout
        .held
        .iter()
        .filter(|h| feature.views.contains(&h.view))
    {
        let Some(from) = spine
            .column_by_name(&view.column)
            .and_then(|c| c.as_primitive_opt::<TimestampMicrosecondType>())
            .filter(|c| !c.is_null(row))
            .map(|c| c.value(row))
            .filter(|&from| from <= t)
        else {
            continue;
        };
        for source in &view.sources {
            let at = out.entry(source.clone()).or_insert(from);
            *at = (*at).min(from);
        }
    }
    out
}

/// Recomputes each candidate without the events that waited and classifies it:
/// explained when that gives the served value, unexplained otherwise. Candidates with
/// the same cut are recomputed together.
pub(super) async fn verify(
    audit: &Audit<'_>,
    layout: &Layout,
    candidates: Vec<Candidate>,
    report: &mut Report,
) -> Result<(), AuditError> {
    let mut by_cut: BTreeMap<Vec<(String, i64)>, Vec<Candidate>> = BTreeMap::new();
    for c in candidates {
        let key: Vec<(String, i64)> = c.cut.iter().map(|(s, t)| (s.clone(), *t)).collect();
        by_cut.entry(key).or_default().push(c);
    }
    for (cut, group) in by_cut {
        let recomputed = recompute(audit, layout, &cut, &group).await?;
        for (i, c) in group.iter().enumerate() {
            let feature = &layout.features[c.feature];
            let keys = key_text(layout, &c.spine, 0);
            let ours = recomputed.get(i).and_then(|r| r.as_ref());
            if ours.is_some_and(|ours| cells::same(c.served.as_ref(), 0, ours.as_ref(), 0)) {
                report.explained(&feature.name, c.at, Cause::HeldForLookup, || keys);
                continue;
            }
            report.unexplained(&feature.name, c.at, keys, || Finding {
                feature: feature.name.clone(),
                read_time: super::column_text(&c.spine, READ_TIME_COLUMN, 0),
                read_time_us: c.at,
                served_at: layout.served_at.then(|| {
                    super::column_text(&c.spine, featc_runtime::stats::SERVED_AT_COLUMN, 0)
                }),
                keys: spine_values(layout, &c.spine, 0),
                served: cells::text(c.served.as_ref(), 0),
                status: c.status.clone(),
                computed: c.computed.clone(),
                events: Vec::new(),
                typed_keys: super::typed_keys(layout, &c.spine, 0),
            });
        }
    }
    Ok(())
}

/// Each candidate's value (a one-row array) recomputed at its read without the
/// events of `cut`.
async fn recompute(
    audit: &Audit<'_>,
    layout: &Layout,
    cut: &[(String, i64)],
    group: &[Candidate],
) -> Result<Vec<Option<ArrayRef>>, AuditError> {
    let Some(schema) = group.first().map(|c| c.spine.schema()) else {
        return Ok(Vec::new());
    };
    let mut features: Vec<FeatureId> = Vec::new();
    for c in group {
        if let Some(id) = layout.features[c.feature].id {
            if !features.contains(&id) {
                features.push(id);
            }
        }
    }
    let rows: Vec<RecordBatch> = group.iter().map(|c| c.spine.clone()).collect();
    let spine = concat_batches(&schema, &rows).map_err(|e| AuditError::Log {
        path: "(served rows)".into(),
        message: e.to_string(),
    })?;
    let mut inputs = audit.inputs.clone();
    inputs.before.extend(cut.iter().cloned());
    let job = TrainingSet {
        project: audit.project,
        features: features.clone(),
        spine: SpineInput::Table(MemoryTable::new(schema, vec![spine])),
        spine_time: READ_TIME_COLUMN.to_string(),
        inputs,
        batch_size: None,
        resources: audit.resources,
        ballista: None,
    };
    let mut running = job.start(&|_| {}).await?;
    let mut out: Vec<RecordBatch> = Vec::new();
    while let Some(batch) = running.stream.next().await {
        out.push(batch.map_err(|e| AuditError::Job(job.failure(&running, e)))?);
    }
    let width = group.first().map_or(0, |c| c.spine.num_columns());
    let mut values = Vec::with_capacity(group.len());
    let mut batches = out
        .iter()
        .flat_map(|b| (0..b.num_rows()).map(move |r| (b, r)));
    for c in group {
        let value = batches.next().and_then(|(batch, row)| {
            let id = layout.features[c.feature].id?;
            let at = features.iter().position(|f| *f == id)?;
            Some(batch.columns().get(width + at)?.slice(row, 1))
        });
        values.push(value);
    }
    Ok(values)
}
