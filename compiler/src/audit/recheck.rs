//! Differing cells checked by recomputing them under another history, each cause
//! explained only when that gives the served value bit for bit:
//! - `held_for_lookup`: a read answered while some of its view's events waited for
//!   their as-of lookups to settle (semantics.md, "As-of lookups online: events
//!   wait") does not count them, where the training set does. The served log says,
//!   per read, from when each such view's events waited (`held_from.<view>`: every
//!   event of the view at or after it that had arrived waited, none before it did);
//!   the cell is recomputed for the same read without the views' sources' events
//!   from then on.
//! - `dead_lettered`: given the events the server kept out of its state (its dead
//!   letters, `featc audit --state`), the cell is recomputed without them.
//! - `arrived_after_read`, `read_ahead_of_watermark`, `not_acknowledged`: given the
//!   history as the server acknowledged it (`featc audit --state`, `acknowledged`),
//!   the cell is recomputed from what the server had applied at the read (`arrival`).

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{TimestampMicrosecondType, UInt64Type};
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::io::{Inputs, MemoryTable};
use featc_runtime::ir::FeatureId;
use featc_runtime::stats::{APPLIED_SEQ_COLUMN, APPLYING_SEQ_COLUMN};
use futures::StreamExt;

use super::acknowledged::Acknowledged;
use super::error::AuditError;
use super::layout::{Layout, Logged};
use super::report::{Cause, Report};
use super::{cells, finding, key_text, Audit, DeadEvent};

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

/// Classifies the candidates by recomputing them: first without the events that
/// waited at their read (`held_for_lookup`), then, where the audit was given the
/// server's dead letters, without those (`dead_lettered`); a cell neither
/// recomputation gives the served value of is unexplained. Candidates with the same
/// cut are recomputed together.
pub(super) async fn verify(
    audit: &Audit<'_>,
    layout: &Layout,
    candidates: Vec<Candidate>,
    report: &mut Report,
) -> Result<(), AuditError> {
    let (held, mut rest): (Vec<Candidate>, Vec<Candidate>) =
        candidates.into_iter().partition(|c| !c.cut.is_empty());
    let mut by_cut: BTreeMap<Vec<(String, i64)>, Vec<Candidate>> = BTreeMap::new();
    for c in held {
        let key: Vec<(String, i64)> = c.cut.iter().map(|(s, t)| (s.clone(), *t)).collect();
        by_cut.entry(key).or_default().push(c);
    }
    for (cut, group) in by_cut {
        let mut inputs = audit.inputs.clone();
        inputs.before.extend(cut.iter().cloned());
        let recomputed = recompute(audit, layout, inputs, &group).await?;
        rest.extend(settle(
            layout,
            group,
            &recomputed,
            Cause::HeldForLookup,
            report,
        ));
    }
    if !audit.dead_letters.is_empty() && !rest.is_empty() {
        let mut inputs = audit.inputs.clone();
        DeadEvent::leave_out(&audit.dead_letters, &mut inputs);
        let recomputed = recompute(audit, layout, inputs, &rest).await?;
        rest = settle(layout, rest, &recomputed, Cause::DeadLettered, report);
    }
    if let Some(acknowledged) = audit.acknowledged.as_ref().filter(|a| a.complete()) {
        rest = arrival(audit, acknowledged, layout, rest, report).await?;
    }
    for c in rest {
        let feature = &layout.features[c.feature];
        let keys = key_text(layout, &c.spine, 0);
        report.unexplained(&feature.name, c.at, keys, || {
            let served = cells::text(c.served.as_ref(), 0);
            finding(
                layout,
                feature,
                &c.spine,
                0,
                c.at,
                [served, c.status, c.computed],
            )
        });
    }
    Ok(())
}

/// Counts the candidates whose recomputed value is the served one as explained by
/// `cause`; returns the others.
fn settle(
    layout: &Layout,
    group: Vec<Candidate>,
    recomputed: &[Option<ArrayRef>],
    cause: Cause,
    report: &mut Report,
) -> Vec<Candidate> {
    let (same, differ) = split(group, recomputed);
    for c in same {
        let feature = &layout.features[c.feature];
        report.explained(&feature.name, c.at, cause, || key_text(layout, &c.spine, 0));
    }
    differ
}

/// Classifies the candidates by what the server had acknowledged (`acknowledged`):
/// each is recomputed from the events it had applied at its read (its archive below
/// the read's `applied_seq`, then below `applying_seq`, for a read that came while
/// a step was being applied). Where that gives the served value, the cell is
/// recomputed once more from every event the server acknowledged: if that still
/// gives the served value, the training history is what differs
/// (`not_acknowledged`); if not, events came after the read (`arrived_after_read`,
/// or `read_ahead_of_watermark` for a read under the wall clock past a watermark of
/// the feature's sources). Reads with the same sequence number are recomputed
/// together. Returns the candidates left unexplained.
async fn arrival(
    audit: &Audit<'_>,
    acknowledged: &Acknowledged,
    layout: &Layout,
    candidates: Vec<Candidate>,
    report: &mut Report,
) -> Result<Vec<Candidate>, AuditError> {
    let history = |below: Option<u64>, cut: &[(String, i64)]| {
        let mut inputs =
            acknowledged.history(audit.project, &audit.inputs, below, &audit.dead_letters);
        inputs.before.extend(cut.iter().cloned());
        inputs
    };
    let mut left = Vec::new();
    let mut settled: Vec<Candidate> = Vec::new();
    // Events that waited for their lookups at the read were not counted either.
    type Cut = Vec<(String, i64)>;
    let cut_of = |c: &Candidate| -> Cut { c.cut.iter().map(|(s, t)| (s.clone(), *t)).collect() };
    let mut by_seq: BTreeMap<(u64, Cut), Vec<Candidate>> = BTreeMap::new();
    for c in candidates {
        match seq(&c.spine, APPLIED_SEQ_COLUMN) {
            Some(applied) => by_seq.entry((applied, cut_of(&c))).or_default().push(c),
            None => left.push(c),
        }
    }
    for ((applied, cut), group) in by_seq {
        let recomputed = recompute(audit, layout, history(Some(applied), &cut), &group).await?;
        let (same, differ) = split(group, &recomputed);
        settled.extend(same);
        // A step being applied during the read may have counted in it.
        let mut by_applying: BTreeMap<u64, Vec<Candidate>> = BTreeMap::new();
        for c in differ {
            match seq(&c.spine, APPLYING_SEQ_COLUMN).filter(|&s| s > applied) {
                Some(applying) => by_applying.entry(applying).or_default().push(c),
                None => left.push(c),
            }
        }
        for (applying, group) in by_applying {
            let inputs = history(Some(applying), &cut);
            let recomputed = recompute(audit, layout, inputs, &group).await?;
            let (same, differ) = split(group, &recomputed);
            settled.extend(same);
            left.extend(differ);
        }
    }
    if settled.is_empty() {
        return Ok(left);
    }
    let recomputed = recompute(audit, layout, history(None, &[]), &settled).await?;
    let (unacknowledged, arrived) = split(settled, &recomputed);
    for c in unacknowledged {
        let feature = &layout.features[c.feature];
        report.explained(&feature.name, c.at, Cause::NotAcknowledged, || {
            key_text(layout, &c.spine, 0)
        });
    }
    for c in arrived {
        let feature = &layout.features[c.feature];
        let cause = match ahead_of_watermark(layout, feature, &c) {
            true => Cause::ReadAheadOfWatermark,
            false => Cause::ArrivedAfterRead,
        };
        report.explained(&feature.name, c.at, cause, || key_text(layout, &c.spine, 0));
    }
    Ok(left)
}

/// A read's sequence number column (`applied_seq`, `applying_seq`), when logged.
fn seq(spine: &RecordBatch, column: &str) -> Option<u64> {
    spine
        .column_by_name(column)
        .and_then(|c| c.as_primitive_opt::<UInt64Type>())
        .filter(|c| !c.is_null(0))
        .map(|c| c.value(0))
}

/// Whether the read of `c` was under the wall clock and past the watermark, at the
/// read, of a source of the feature's views.
fn ahead_of_watermark(layout: &Layout, feature: &Logged, c: &Candidate) -> bool {
    if layout.clock.as_deref() != Some("wall") {
        return false;
    }
    layout
        .watermarks
        .iter()
        .filter(|(source, _)| feature.sources.contains(source))
        .any(|(_, column)| {
            let watermark = c
                .spine
                .column_by_name(column)
                .and_then(|w| w.as_primitive_opt::<TimestampMicrosecondType>())
                .filter(|w| !w.is_null(0))
                .map(|w| w.value(0));
            watermark.is_none_or(|w| c.at > w)
        })
}

/// The candidates whose recomputed value is the served one, and the others.
fn split(
    group: Vec<Candidate>,
    recomputed: &[Option<ArrayRef>],
) -> (Vec<Candidate>, Vec<Candidate>) {
    let mut same = Vec::new();
    let mut differ = Vec::new();
    for (i, c) in group.into_iter().enumerate() {
        let ours = recomputed.get(i).and_then(|r| r.as_ref());
        match ours.is_some_and(|ours| cells::same(c.served.as_ref(), 0, ours.as_ref(), 0)) {
            true => same.push(c),
            false => differ.push(c),
        }
    }
    (same, differ)
}

/// Each candidate's value (a one-row array) recomputed at its read from `inputs`.
async fn recompute(
    audit: &Audit<'_>,
    layout: &Layout,
    inputs: Inputs,
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
    let spine = concat_batches(&schema, &rows).map_err(AuditError::rows)?;
    let job = audit.job(
        features.clone(),
        MemoryTable::new(schema, vec![spine]),
        inputs,
    );
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
