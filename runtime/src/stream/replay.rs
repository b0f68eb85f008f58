//! Replaying an event log through the streaming executor and answering a spine from
//! the online state, the way a live deployment would have served it: the library
//! half of `featc replay`.
//!
//! Events of all sources are put in arrival order: sorted by `ts + jitter`, where the
//! jitter is a seeded uniform draw from `[0, disorder)` per event (0 without
//! disorder), ties by source then row. They are ingested in chunks of `batch_size`;
//! after each chunk every spine row whose `t` is below the smallest time of the events
//! not yet ingested (so every event with `ts <= t` is in) is answered at exactly `t`.
//! The allowed lateness is at least the disorder, so no event of a replay is late.
//! The output is the spine (columns unchanged, in spine order) plus one column per
//! selected feature, like `featc training-set`.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, TimestampMicrosecondArray, UInt32Array};
use datafusion::arrow::compute::{concat_batches, take_record_batch};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use super::core::OutputSlot;
use super::core::TierMetrics;
use super::entities::Tier;
use super::error::{RestoreError, StreamError};
use super::graph::StreamGraph;
use super::metrics::Metrics;
use super::policy::{LatePolicy, Options};
use super::read::Selection;
use super::runtime::StreamRuntime;
use crate::agg::AggError;
use crate::agg::FeatureError;
use crate::expr::derived::derived_columns;
use crate::expr::slots::SlotError;
use crate::ir::DataType;
use crate::plan::FeatureRef;
use crate::row::{conform, Cells, ValuesBuilder};
use crate::value::Value;
use crate::window::KeyState;
use datafusion::arrow::util::display::array_value_to_string;

/// How to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Events are shuffled within this many microseconds (0: in time order).
    pub disorder_us: i64,
    /// Events per `ingest` call (at least 1).
    pub batch_size: usize,
    pub seed: u64,
    pub late_policy: LatePolicy,
    /// `Options::fold_run` of the runtime replayed into.
    pub fold_run: u32,
    /// Restart once this many events are ingested (at the end of that ingest
    /// batch): the runtime is snapshotted and replaced by its restore, as a durable
    /// server does after a crash. The output must not change (the snapshot tests
    /// check it on every case). With a `tier`, the snapshot is a checkpoint (the
    /// entities flushed to the store, the rest snapshotted), the replay goes on for
    /// two more ingest batches (whose evictions put newer states in the store), then
    /// "crashes": the runtime is restored from the checkpoint over the same store and
    /// those batches are ingested again, as a server replays its log.
    pub restart_after: Option<u64>,
    /// Entity states in this disk tier (`None`: in memory).
    pub tier: Option<Tier>,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            disorder_us: 0,
            batch_size: 1024,
            seed: 0,
            late_policy: LatePolicy::Apply,
            fold_run: super::DEFAULT_FOLD_RUN,
            restart_after: None,
            tier: None,
        }
    }
}

/// What a replay did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    pub events: u64,
    pub ingest_calls: u64,
    pub spine_rows: usize,
    /// The runtime's counters at the end (late, null keys, entities, state bytes).
    pub metrics: Metrics,
    /// What the disk tier did (all zero without one).
    pub tier: TierMetrics,
}

/// A tiered replay's checkpoint (`ReplayOptions::restart_after`): its bytes, the
/// batches ingested since (by source), and where the replay crashes back to it.
type Checkpoint = (Vec<u8>, Vec<Step>, usize);

/// What a replay did to its runtime since a checkpoint, replayed in order after the
/// "crash": a chunk of a source's events, or a `settle_through` (which releases rows
/// waiting for lookups, so it changes the state and must come back in its place).
enum Step {
    Ingest(usize, RecordBatch),
    Settle(i64),
}

/// A source's events, all batches concatenated, with their times.
struct Log {
    name: String,
    batch: RecordBatch,
    ts: Vec<i64>,
}

/// SplitMix64: a tiny, well-mixed deterministic hash for the seeded jitter.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Column `name` of `table`'s batch, or the error naming both.
fn column<'a>(
    batch: &'a RecordBatch,
    table: &str,
    name: &str,
) -> Result<&'a ArrayRef, StreamError> {
    batch
        .column_by_name(name)
        .ok_or_else(|| StreamError::MissingColumn {
            table: table.to_string(),
            column: name.to_string(),
        })
}

fn data_error(table: &str, message: impl ToString) -> StreamError {
    StreamError::Data {
        table: table.to_string(),
        column: String::new(),
        row: 0,
        message: message.to_string(),
    }
}

/// Replays `sources` (`(source name, batches)`) through a runtime built from `graph`
/// and answers every row of `spine` (time column `spine_time`) for the selected
/// features. The spine names each entity key column like the entity does.
pub fn replay(
    graph: StreamGraph,
    sources: &[(String, Vec<RecordBatch>)],
    spine: &RecordBatch,
    spine_time: &str,
    selection: &Selection<'_>,
    opts: &ReplayOptions,
) -> Result<(RecordBatch, ReplayReport), StreamError> {
    replay_with_progress(
        graph,
        sources,
        spine,
        spine_time,
        selection,
        opts,
        &mut |_, _| {},
    )
}

/// `replay`, calling `progress(events ingested, events in all)` after each ingested
/// batch (for a progress bar; it may do nothing).
pub fn replay_with_progress(
    graph: StreamGraph,
    sources: &[(String, Vec<RecordBatch>)],
    spine: &RecordBatch,
    spine_time: &str,
    selection: &Selection<'_>,
    opts: &ReplayOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(RecordBatch, ReplayReport), StreamError> {
    let options = Options {
        late_policy: opts.late_policy,
        min_lateness_us: opts.disorder_us.max(0),
        fold_run: opts.fold_run,
        ..Options::default()
    };
    let mut rt = StreamRuntime::with_tier(graph, options, opts.tier.clone())?;
    let picked = rt.select(selection)?;
    // The output is the spine's columns then the features: names must not repeat.
    if let Some(name) = picked
        .iter()
        .map(|&i| &rt.feature_names()[i])
        .find(|n| spine.schema().column_with_name(n).is_some())
    {
        return Err(StreamError::NameClash {
            name: name.to_string(),
        });
    }

    // The event log in arrival order.
    let mut logs = Vec::new();
    for (name, batches) in sources {
        let Some(schema) = batches.first().map(|b| b.schema()) else {
            continue;
        };
        let src = rt
            .sources
            .iter()
            .find(|s| &s.name == name)
            .ok_or_else(|| StreamError::UnknownSource(name.clone()))?;
        let batch = concat_batches(&schema, batches).map_err(|e| data_error(name, e))?;
        let time = &src.op.time_column;
        let ts = times(name, time, column(&batch, name, time)?, src.op.epoch)?;
        logs.push(Log {
            name: name.clone(),
            batch,
            ts,
        });
    }
    let disorder = opts.disorder_us.max(0) as u64;
    let mut order: Vec<(i64, u32, u32)> = Vec::with_capacity(logs.iter().map(|l| l.ts.len()).sum());
    let mut n = 0u64;
    for (s, log) in logs.iter().enumerate() {
        for (row, &ts) in log.ts.iter().enumerate() {
            let jitter = if disorder == 0 {
                0
            } else {
                mix(opts.seed ^ mix(n)) % disorder
            };
            order.push((ts.saturating_add(jitter as i64), s as u32, row as u32));
            n += 1;
        }
    }
    order.sort_unstable();
    // suffix_min[i]: the smallest event time among arrival positions i.. (MAX past the end).
    let mut suffix_min = vec![i64::MAX; order.len() + 1];
    for i in (0..order.len()).rev() {
        let (_, s, row) = order[i];
        suffix_min[i] = suffix_min[i + 1].min(logs[s as usize].ts[row as usize]);
    }

    // The spine in time order, with its key columns per group.
    let spine_t = times(
        "spine",
        spine_time,
        column(spine, "spine", spine_time)?,
        None,
    )?;
    let mut by_time: Vec<usize> = (0..spine.num_rows()).collect();
    by_time.sort_by_key(|&r| (spine_t[r], r));
    // The aggregated features to answer: those picked and those derived ones read.
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for &i in &picked {
        for p in rt.pairs_of(i) {
            if !pairs.contains(p) {
                pairs.push(*p);
            }
        }
    }
    let mut needed: Vec<usize> = pairs.iter().map(|&(g, _)| g).collect();
    needed.sort_unstable();
    needed.dedup();
    let mut spine_keys: Vec<(usize, Vec<ArrayRef>)> = Vec::new();
    for &g in &needed {
        let group = &rt.groups[g];
        let mut cols = Vec::new();
        for key in &group.plan().keys {
            let name = &key.name;
            let col = conform(column(spine, "spine", name)?, key.ty, name).map_err(|e| {
                StreamError::ColumnType {
                    table: "spine".into(),
                    column: e.column,
                    message: e.message,
                }
            })?;
            cols.push(col);
        }
        spine_keys.push((g, cols));
    }

    let mut answers = Answers {
        values: vec![vec![Value::Null; spine.num_rows()]; pairs.len()],
        picked: &pairs,
        scratch: Vec::new(),
        key: Vec::new(),
        failed: None,
    };
    let mut next = 0;
    let batch_size = opts.batch_size.max(1);
    let mut ingest_calls = 0;
    // An aggregation's failure is kept and the rest still ingested: an expression
    // failing on any event of the run is named first (semantics.md, "Errors while
    // computing"), as on every path, and of those the earliest (`SlotError::precedes`).
    // Rows are answered in (time, spine row) order, so the first aggregation failure
    // kept is the run's first.
    let mut slot_failed: Option<SlotError> = None;
    answers.answer_until(
        &mut rt,
        &spine_keys,
        &spine_t,
        &by_time,
        &mut next,
        suffix_min[0],
        None,
    )?;
    // With a tier, the checkpoint taken at `restart_after`, the batches ingested
    // since, and the position at which the replay "crashes" back to it.
    let mut checkpoint: Option<Checkpoint> = None;
    let mut pos = 0;
    while pos < order.len() {
        let end = (pos + batch_size).min(order.len());
        rt.set_read_hold(by_time.get(next).map(|&r| spine_t[r]));
        let mut run = pos;
        while run < end {
            let s = order[run].1;
            let mut stop = run;
            while stop < end && order[stop].1 == s {
                stop += 1;
            }
            let log = &logs[s as usize];
            let rows = UInt32Array::from_iter_values(order[run..stop].iter().map(|e| e.2));
            let chunk =
                take_record_batch(&log.batch, &rows).map_err(|e| data_error(&log.name, e))?;
            // A chunk an expression fails on is refused whole (the runtime is left as
            // it was); the rest is still ingested for an earlier failing event.
            match rt.ingest(&log.name, &chunk) {
                Ok(()) => {}
                Err(StreamError::Slot(e)) => SlotError::keep_first(&mut slot_failed, *e),
                Err(e) => return Err(e),
            }
            if let Some((_, since, _)) = checkpoint.as_mut() {
                since.push(Step::Ingest(s as usize, chunk));
            }
            ingest_calls += 1;
            run = stop;
        }
        if answers.failed.is_none()
            && opts
                .restart_after
                .is_some_and(|k| (pos as u64) < k && k <= end as u64)
        {
            match opts.tier {
                None => rt = restart(rt)?,
                Some(_) => {
                    rt.flush()?;
                    let bytes = rt
                        .snapshot()
                        .map_err(|e| StreamError::Snapshot(Box::new(e)))?;
                    checkpoint = Some((bytes, Vec::new(), end + 2 * batch_size));
                }
            }
        }
        if checkpoint
            .as_ref()
            .is_some_and(|(_, _, at)| end >= *at || end == order.len())
        {
            if let Some((bytes, since, _)) = checkpoint.take() {
                let hold = by_time.get(next).map(|&r| spine_t[r]);
                rt = crash(&rt, &bytes, opts.tier.clone(), &since, &logs, hold)?;
            }
        }
        pos = end;
        progress(pos as u64, order.len() as u64);
        answers.answer_until(
            &mut rt,
            &spine_keys,
            &spine_t,
            &by_time,
            &mut next,
            suffix_min[pos],
            checkpoint.as_mut().map(|c| &mut c.1),
        )?;
    }
    answers.answer_until(
        &mut rt,
        &spine_keys,
        &spine_t,
        &by_time,
        &mut next,
        i64::MAX,
        None,
    )?;
    // Rows at i64::MAX itself (the bound is exclusive).
    while answers.failed.is_none() && next < by_time.len() {
        if let Err(e) = answers.answer(&mut rt, &spine_keys, by_time[next], spine_t[by_time[next]])
        {
            answers.failed = Some(e);
        }
        next += 1;
    }
    if let Some(e) = slot_failed {
        return Err(StreamError::Slot(Box::new(e)));
    }
    if let Some(e) = answers.failed.take() {
        return Err(e);
    }

    // The aggregated features' columns, then the derived features' from them.
    let mut answered: Vec<ArrayRef> = Vec::with_capacity(pairs.len());
    for (k, &(g, f)) in pairs.iter().enumerate() {
        let Some(plan) = rt.groups[g].plan().features.get(f) else {
            return Err(StreamError::UnknownFeature(format!("#{f} of group {g}")));
        };
        let mut b = ValuesBuilder::new(plan.ty, spine.num_rows());
        for v in &answers.values[k] {
            if !b.append(v) {
                return Err(data_error(
                    &plan.name,
                    format!("value {v:?} does not have type {}", plan.ty.name()),
                ));
            }
        }
        answered.push(b.finish().map_err(|e| data_error(&plan.name, e))?);
    }
    let column_of = |r: FeatureRef| {
        let k = pairs.iter().position(|&p| p == (r.group, r.feature))?;
        answered.get(k).cloned()
    };
    let derived = derived_columns(rt.derived(), spine, &column_of).map_err(StreamError::Derived)?;

    // Spine columns unchanged, then the features.
    let mut fields: Vec<Arc<Field>> = spine.schema().fields().iter().cloned().collect();
    let mut columns: Vec<ArrayRef> = spine.columns().to_vec();
    for &i in &picked {
        let name = &rt.feature_names()[i];
        let column = match rt.outputs()[i] {
            OutputSlot::Aggregate(g, f) => column_of(FeatureRef {
                group: g,
                feature: f,
            }),
            OutputSlot::Derived(d) => derived.get(d).cloned(),
        };
        let Some(column) = column else {
            return Err(StreamError::UnknownFeature(name.to_string()));
        };
        fields.push(Arc::new(Field::new(
            &**name,
            column.data_type().clone(),
            true,
        )));
        columns.push(column);
    }
    let out = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| data_error("output", e))?;
    let report = ReplayReport {
        events: order.len() as u64,
        ingest_calls,
        spine_rows: spine.num_rows(),
        metrics: rt.metrics(),
        tier: rt.tier_metrics(),
    };
    Ok((out, report))
}

/// The runtime a snapshot of `rt` restores to.
fn restart(rt: StreamRuntime) -> Result<StreamRuntime, StreamError> {
    let snapshot = |e| StreamError::Snapshot(Box::new(e));
    let bytes = rt.snapshot().map_err(snapshot)?;
    StreamRuntime::restore(rt.graph().clone(), rt.options().clone(), &bytes).map_err(|e| match e {
        RestoreError::Snapshot(e) => snapshot(e),
        RestoreError::Runtime(e) => e,
    })
}

/// The runtime a tiered checkpoint (`bytes`, over the store of `tier`) restores to,
/// with `since` (the batches ingested after it, by source) ingested again: what a
/// server does after a crash, when the store may hold states newer than the
/// checkpoint.
fn crash(
    rt: &StreamRuntime,
    bytes: &[u8],
    tier: Option<Tier>,
    since: &[Step],
    logs: &[Log],
    hold: Option<i64>,
) -> Result<StreamRuntime, StreamError> {
    let snapshot = |e| StreamError::Snapshot(Box::new(e));
    let mut again =
        StreamRuntime::restore_with_tier(rt.graph().clone(), rt.options().clone(), tier, bytes)
            .map_err(|e| match e {
                RestoreError::Snapshot(e) => snapshot(e),
                RestoreError::Runtime(e) => e,
            })?;
    again.set_read_hold(hold);
    for step in since {
        match step {
            Step::Ingest(s, chunk) => match again.ingest(&logs[*s].name, chunk) {
                Ok(()) | Err(StreamError::Slot(_)) => {}
                Err(e) => return Err(e),
            },
            Step::Settle(t) => again.settle_through(*t)?,
        }
    }
    Ok(again)
}

/// A time column as µs (integers in `epoch`, a source's unit); a null time is a data
/// error naming the row.
fn times(
    table: &str,
    column: &str,
    array: &ArrayRef,
    epoch: Option<crate::ir::EpochUnit>,
) -> Result<Vec<i64>, StreamError> {
    let conformed =
        crate::row::conform_in(array, DataType::Timestamp, column, epoch).map_err(|e| {
            StreamError::ColumnType {
                table: table.to_string(),
                column: e.column,
                message: e.message,
            }
        })?;
    let ts = conformed
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .ok_or_else(|| data_error(table, "time column is not a timestamp"))?;
    if let Some(row) = (0..ts.len()).find(|&i| datafusion::arrow::array::Array::is_null(ts, i)) {
        return Err(StreamError::Data {
            table: table.to_string(),
            column: column.to_string(),
            row,
            message: "null event time".into(),
        });
    }
    Ok(ts.values().to_vec())
}

/// The feature values of the spine rows answered so far, by selected feature then row.
struct Answers<'p> {
    values: Vec<Vec<Value>>,
    /// The (group, feature) pairs answered, in `values`' order.
    picked: &'p [(usize, usize)],
    scratch: Vec<Result<Value, AggError>>,
    key: Vec<Value>,
    /// The first aggregation failure (rows are answered in (time, spine row)
    /// order): no row is answered after it.
    failed: Option<StreamError>,
}

impl Answers<'_> {
    /// Answers the pending spine rows (in time order from `*next`) with `t < bound`.
    #[allow(clippy::too_many_arguments)]
    fn answer_until(
        &mut self,
        rt: &mut StreamRuntime,
        keys: &[(usize, Vec<ArrayRef>)],
        spine_t: &[i64],
        by_time: &[usize],
        next: &mut usize,
        bound: i64,
        since: Option<&mut Vec<Step>>,
    ) -> Result<(), StreamError> {
        // Every event before `bound` is in: rows waiting for their lookups up to
        // there get their settled values before any read.
        if *next < by_time.len() && spine_t[by_time[*next]] < bound {
            let t = bound.saturating_sub(1);
            rt.settle_through(t)?;
            if let Some(since) = since {
                since.push(Step::Settle(t));
            }
        }
        while self.failed.is_none() && *next < by_time.len() && spine_t[by_time[*next]] < bound {
            let r = by_time[*next];
            match self.answer(rt, keys, r, spine_t[r]) {
                Ok(()) => {}
                Err(e @ StreamError::Agg(_)) => self.failed = Some(e),
                Err(e) => return Err(e),
            }
            *next += 1;
        }
        Ok(())
    }

    fn answer(
        &mut self,
        rt: &mut StreamRuntime,
        keys: &[(usize, Vec<ArrayRef>)],
        row: usize,
        t: i64,
    ) -> Result<(), StreamError> {
        // Of the row's failing features, the one the run names (`precedes`).
        let mut first: Option<FeatureError> = None;
        for (g, cols) in keys {
            let group = &rt.groups[*g].core;
            self.key.clear();
            for (c, ty) in cols.iter().zip(&group.key_types) {
                if let Some(cells) = Cells::new(c, *ty) {
                    self.key.push(cells.get(row));
                }
            }
            let at = group.plan.state_time(t);
            let scratch = &mut self.scratch;
            let read = |state: &mut KeyState, _: bool| state.read_into(at, scratch);
            if self.key.iter().any(Value::is_null) {
                group.with_empty(read);
            } else {
                group.with_state(&self.key, read)?;
            }
            for (k, &(og, f)) in self.picked.iter().enumerate() {
                if og != *g {
                    continue;
                }
                match self.scratch.get(f).cloned().unwrap_or(Ok(Value::Null)) {
                    Ok(v) => self.values[k][row] = v,
                    Err(error) => {
                        let entity: Vec<String> = group
                            .plan
                            .keys
                            .iter()
                            .zip(cols)
                            .map(|(k, c)| {
                                let v = array_value_to_string(c, row).unwrap_or_default();
                                format!("{} = {v}", k.name)
                            })
                            .collect();
                        let error = FeatureError {
                            feature: group.names[f].to_string(),
                            entity: entity.join(", "),
                            at: t,
                            row: row as u64,
                            error,
                        };
                        FeatureError::keep_first(&mut first, error);
                    }
                }
            }
        }
        first.map_or(Ok(()), |e| Err(StreamError::Agg(e)))
    }
}
