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

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::io::MemoryTable;
use featc_runtime::ir::FeatureId;
use futures::StreamExt;

use super::error::AuditError;
use super::layout::{Layout, Logged};
use super::report::{Cause, Report};
use super::{cells, finding, key_text, Audit};

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
        let recomputed = recompute(audit, layout, &cut, false, &group).await?;
        rest.extend(settle(
            layout,
            group,
            &recomputed,
            Cause::HeldForLookup,
            report,
        ));
    }
    if !audit.dead_letters.is_empty() && !rest.is_empty() {
        let recomputed = recompute(audit, layout, &[], true, &rest).await?;
        rest = settle(layout, rest, &recomputed, Cause::DeadLettered, report);
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
    let mut left = Vec::new();
    for (i, c) in group.into_iter().enumerate() {
        let ours = recomputed.get(i).and_then(|r| r.as_ref());
        if ours.is_some_and(|ours| cells::same(c.served.as_ref(), 0, ours.as_ref(), 0)) {
            let feature = &layout.features[c.feature];
            report.explained(&feature.name, c.at, cause, || key_text(layout, &c.spine, 0));
        } else {
            left.push(c);
        }
    }
    left
}

/// Each candidate's value (a one-row array) recomputed at its read without the
/// events of `cut`, and without the dead letters when `without_dead`.
async fn recompute(
    audit: &Audit<'_>,
    layout: &Layout,
    cut: &[(String, i64)],
    without_dead: bool,
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
    let mut inputs = audit.inputs.clone();
    inputs.before.extend(cut.iter().cloned());
    if without_dead {
        for dead in &audit.dead_letters {
            inputs
                .without
                .entry(dead.source.clone())
                .or_default()
                .push(dead.columns.clone());
        }
    }
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
