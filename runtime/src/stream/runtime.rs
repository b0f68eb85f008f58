//! `StreamRuntime`: the streaming executor. Ingests events of any source in any order,
//! keeps one `KeyState` per entity of each aggregate node, tracks a watermark per
//! source, applies the late-event policy and answers online reads at any time.
//!
//! Watermark of a source: the greatest event time ingested minus its allowed lateness
//! (the declared lateness, at least `Options::min_lateness_us`). An event older than
//! the watermark when it arrives is late (`LatePolicy`). Before each batch the runtime
//! promises the window state that reads will be at or after the horizon
//! `min(watermark, read hold)`; each state then drops the events no window can need
//! at the horizon, folding them into lifetime features. Reads before the horizon are
//! refused (`StreamError::ReadBeforeHorizon`) rather than answered wrongly.

use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::Arc;

use datafusion::arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, TimestampMicrosecondArray, UInt32Array,
};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;

use super::build::plan_group;
use super::core::{store_time, Core, OutputSlot, SourceClock, StreamReader, TierMetrics};
use super::dead_letter::DeadLetters;
use super::entities::{Tier, TierState};
use super::error::{RestoreError, StreamError};
use super::graph::OutputFeature;
use super::graph::{NodeId, SourceOp, StreamGraph};
use super::group::Evaluated;
use super::group::Group;
use super::lookup::with_lookup_columns;
use super::metrics::Metrics;
use super::partitions::{min_known, Partitions};
use super::policy::{LatePolicy, Options};
use super::read::{FeatureVector, Read, Selection};
use crate::expr::derived::CompiledDerived;
use crate::expr::slots::SlotError;
use crate::io::parse::parse_text;
use crate::ir::DataType;
use crate::plan::FeatureRef;
use crate::row::conform_in;
use crate::row::nested_column::{extract, is_text};
use crate::row::time::to_micros_in;
use crate::row::types::arrow_type;
use crate::snapshot::SnapshotError;

pub(crate) struct SourceRt {
    pub name: String,
    pub op: SourceOp,
    /// Time column first, then the declared columns (like `io::declared_schema`).
    pub schema: SchemaRef,
    pub lateness_us: i64,
    pub max_ts: Option<i64>,
    /// The clocks of the partitions that fed it (`ingest_partition`), if any.
    pub partitions: Partitions,
    /// The greatest horizon promised to the window state so far.
    pub promised: Option<i64>,
    pub groups: Vec<usize>,
    /// For each declared column, whether a group reads it (only those are required
    /// and checked; docs/semantics.md, "Bad input").
    pub read: Vec<bool>,
}

impl SourceRt {
    /// The greatest event time the watermark follows: the slowest live partition's
    /// when partitions feed the source, else the greatest event time.
    fn high(&self) -> Option<i64> {
        self.partitions.low(None).or(self.max_ts)
    }

    pub(crate) fn watermark(&self) -> Option<i64> {
        self.high().map(|m| m.saturating_sub(self.lateness_us))
    }
}

/// The streaming executor of one `StreamGraph` (see the module docs).
///
/// The runtime is the ingest's side (`&mut self`); reads take `&self` and hold only
/// the shard of the entity they read (see `entities`), and `reader` hands them to
/// other threads.
pub struct StreamRuntime {
    /// What reads share with the ingest.
    pub(crate) core: Arc<Core>,
    options: Options,
    pub(crate) sources: Vec<SourceRt>,
    pub(crate) groups: Vec<Group>,
    pub(crate) metrics: Metrics,
    pub(crate) dead: DeadLetters,
    /// The sequence number of the next applied event (ties of equal times break by it).
    pub(crate) seq: u64,
    pub(crate) hold: Option<i64>,
    /// Per group, the groups that look it up (see `lookup`); all empty without
    /// lookups (`lookups` false), which keeps the usual ingest free of their work.
    pub(crate) dependents: Vec<Vec<usize>>,
    pub(crate) lookups: bool,
    /// Whether the last ingest was of history (`ingest_history`): its order says
    /// nothing of what is settled, so no held row is released until `compact`.
    pub(crate) history: bool,
    /// The embedder's word that every source is complete through this time
    /// (`settle_through`).
    pub(crate) complete_through: Option<i64>,
}

impl StreamRuntime {
    /// A runtime with the default options (`LatePolicy::Apply`, declared lateness).
    pub fn new(graph: StreamGraph) -> Result<StreamRuntime, StreamError> {
        StreamRuntime::with_options(graph, Options::default())
    }

    pub fn with_options(
        graph: StreamGraph,
        options: Options,
    ) -> Result<StreamRuntime, StreamError> {
        StreamRuntime::with_tier(graph, options, None)
    }

    /// A runtime whose entity states live in `tier` (a store, with a cache of decoded
    /// states bounded in bytes in front of it; see `stream::Tier`), or in memory
    /// (`None`). Values never depend on it.
    pub fn with_tier(
        graph: StreamGraph,
        options: Options,
        tier: Option<Tier>,
    ) -> Result<StreamRuntime, StreamError> {
        let tier = tier.as_ref().map(TierState::new);
        graph.validate().map_err(StreamError::Graph)?;
        let mut sources: Vec<SourceRt> = graph
            .sources()
            .map(|(_, op)| {
                let mut fields = vec![Field::new(
                    &op.time_column,
                    arrow_type(DataType::Timestamp),
                    false,
                )];
                fields.extend(
                    op.columns
                        .iter()
                        .map(|c| Field::new(&c.name, arrow_type(c.ty), c.nullable)),
                );
                SourceRt {
                    name: op.name.clone(),
                    op: op.clone(),
                    schema: Arc::new(Schema::new(fields)),
                    lateness_us: op.lateness_us.max(options.min_lateness_us),
                    max_ts: None,
                    partitions: Partitions::default(),
                    promised: None,
                    groups: Vec::new(),
                    read: vec![false; op.columns.len()],
                }
            })
            .collect();
        let source_nodes: Vec<NodeId> = graph.sources().map(|(id, _)| id).collect();
        let mut groups = Vec::new();
        let mut group_of_node = Vec::new();
        let mut sources_of = Vec::new();
        for (id, op) in graph.aggregates() {
            let Some(s) = source_nodes.iter().position(|n| *n == op.source) else {
                return Err(StreamError::Graph(super::graph::GraphError::BadRef {
                    node: id,
                    expected: "source",
                    target: op.source,
                }));
            };
            group_of_node.push(id);
            plan_group(
                id,
                &op.plan,
                &mut sources,
                &mut groups,
                &mut sources_of,
                &options,
                &tier,
                Some(s),
            )?;
        }
        // Each lookup's plan runs as groups of the runtime's own, after the graph's
        // (so an output's group is its aggregate node's rank), down every chain.
        let mut next = 0;
        while next < groups.len() {
            let node = groups[next].core.node;
            let lookups = groups[next].plan().lookups.clone();
            for (k, lookup) in lookups.iter().enumerate() {
                let base = groups.len();
                for g in &lookup.plan.groups {
                    plan_group(
                        node,
                        g,
                        &mut sources,
                        &mut groups,
                        &mut sources_of,
                        &options,
                        &tier,
                        None,
                    )?;
                }
                let target = match lookup.plan.outputs.first() {
                    Some(crate::plan::Output::Aggregate(r)) => *r,
                    _ => {
                        return Err(StreamError::Expr {
                            context: format!("lookup `{}`", lookup.column),
                            error: crate::expr::ExprError::Eval(
                                "it reads no aggregated feature".into(),
                            ),
                        })
                    }
                };
                let read = &mut groups[next].lookups[k];
                read.group = base + target.group;
                read.feature = target.feature;
            }
            next += 1;
        }
        // A column no group reads arrives as nulls (see `conform`), whatever its
        // declared nullability.
        for src in &mut sources {
            let fields: Vec<Field> = src
                .schema
                .fields()
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let unread = i > 0 && !src.read[i - 1];
                    f.as_ref().clone().with_nullable(f.is_nullable() || unread)
                })
                .collect();
            src.schema = Arc::new(Schema::new(fields));
        }
        // A group of one source reads its conformed rows: their schema is the one
        // above (a lookup's rows are rebuilt under it, unread columns null).
        for (group, members) in groups.iter_mut().zip(&sources_of) {
            if let ([s], true) = (members.as_slice(), group.union.is_empty()) {
                group.rows_schema = Arc::clone(&sources[*s].schema);
                group.schema =
                    super::lookup::with_lookup_fields(&group.rows_schema, &group.lookups);
            }
        }
        let output = graph.output().cloned().unwrap_or(super::graph::OutputOp {
            features: Vec::new(),
            services: Vec::new(),
            derived: Vec::new(),
        });
        // Groups are built in aggregate-node order, so a derived feature's read
        // (aggregate rank, feature) is (group, feature).
        let mut derived = Vec::with_capacity(output.derived.len());
        let mut derived_reads = Vec::with_capacity(output.derived.len());
        for d in &output.derived {
            let feature = |r: FeatureRef| {
                let f = groups.get(r.group)?.plan().features.get(r.feature)?;
                Some((f.name.clone(), f.ty))
            };
            let compiled =
                CompiledDerived::new(d, &feature).map_err(|error| StreamError::Expr {
                    context: format!("derived feature `{}`", d.name),
                    error,
                })?;
            derived.push(compiled);
            derived_reads.push(d.reads.iter().map(|r| (r.group, r.feature)).collect());
        }
        let mut outputs = Vec::new();
        let mut out_names = Vec::new();
        let mut output_pairs = Vec::new();
        for f in &output.features {
            match *f {
                OutputFeature::Aggregate { aggregate, index } => {
                    let g = group_of_node
                        .iter()
                        .position(|n| *n == aggregate)
                        .unwrap_or(0);
                    outputs.push(OutputSlot::Aggregate(g, index));
                    output_pairs.push(vec![(g, index)]);
                    out_names.push(Arc::clone(&groups[g].core.names[index]));
                }
                OutputFeature::Derived { derived: d } => {
                    outputs.push(OutputSlot::Derived(d));
                    output_pairs.push(derived_reads.get(d).cloned().unwrap_or_default());
                    let name = output.derived.get(d).map_or("", |p| p.name.as_str());
                    out_names.push(Arc::from(name));
                }
            }
        }
        let core = Core {
            sources_of,
            group_promised: groups.iter().map(|_| AtomicI64::new(i64::MIN)).collect(),
            group_held_from: groups.iter().map(|_| AtomicI64::new(i64::MIN)).collect(),
            clocks: sources.iter().map(|s| SourceClock::new(&s.name)).collect(),
            groups: groups.iter().map(|g| Arc::clone(&g.core)).collect(),
            graph,
            all_outputs: (0..outputs.len()).collect(),
            one_entity: groups
                .windows(2)
                .all(|w| w[0].core.plan.entity == w[1].core.plan.entity),
            outputs,
            out_names,
            derived,
            output_pairs,
            counters: Default::default(),
            tier,
        };
        let mut dependents = vec![Vec::new(); groups.len()];
        for (g, group) in groups.iter().enumerate() {
            for l in &group.lookups {
                if let Some(d) = dependents.get_mut(l.group) {
                    d.push(g);
                }
            }
        }
        Ok(StreamRuntime {
            core: Arc::new(core),
            options,
            sources,
            lookups: groups.iter().any(|g| !g.lookups.is_empty()),
            groups,
            metrics: Metrics::default(),
            dead: DeadLetters::default(),
            seq: 0,
            hold: None,
            dependents,
            history: false,
            complete_through: None,
        })
    }

    pub fn graph(&self) -> &StreamGraph {
        &self.core.graph
    }

    /// The output node's derived features, compiled.
    pub(crate) fn derived(&self) -> &[CompiledDerived] {
        &self.core.derived
    }

    /// Where each output feature's value comes from.
    pub(crate) fn outputs(&self) -> &[OutputSlot] {
        &self.core.outputs
    }

    /// Writes the runtime's whole state to `out`: everything later ingests, reads
    /// and metrics depend on (see `StreamRuntime::restore` and
    /// `stream::snapshot`). The snapshot is built in memory, then written; a
    /// failure leaves the runtime unchanged. Take it between ingests (`&self`), e.g.
    /// right after the write-ahead log position it stands for.
    pub fn snapshot_to(&self, out: &mut impl std::io::Write) -> Result<(), SnapshotError> {
        super::snapshot::write_to(self, out)
    }

    /// `snapshot_to` into a vector.
    pub fn snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        super::snapshot::write(self)
    }

    /// A runtime for `graph` (with `options`) in exactly the state a snapshot
    /// recorded: every later ingest, read and metric is bit for bit what the saved
    /// runtime would have given. Refused, never panicking, when the bytes are not a
    /// snapshot, of another format version, truncated or damaged (checksum), taken
    /// by a different graph (`SnapshotError::OtherGraph` names the features whose
    /// group differs; spans and the output node do not count) or under other
    /// options (late policy, minimum lateness, fold run): `RestoreError::Snapshot`.
    /// A graph that cannot make a runtime at all is `RestoreError::Runtime`.
    pub fn restore(
        graph: StreamGraph,
        options: Options,
        bytes: &[u8],
    ) -> Result<StreamRuntime, RestoreError> {
        super::snapshot::read(graph, options, None, bytes)
    }

    /// `restore` into a runtime with a disk tier (`with_tier`): a snapshot of a
    /// tiered runtime (which holds no entity) needs the store it was taken with,
    /// after the `flush` that preceded it; a full snapshot's entities go to the cache.
    pub fn restore_with_tier(
        graph: StreamGraph,
        options: Options,
        tier: Option<Tier>,
        bytes: &[u8],
    ) -> Result<StreamRuntime, RestoreError> {
        super::snapshot::read(graph, options, tier, bytes)
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The conformed schema `ingest` reads a source's batches as: the time column,
    /// then the declared columns (extra columns of an ingested batch are ignored).
    pub fn source_schema(&self, source: &str) -> Option<SchemaRef> {
        self.sources
            .iter()
            .find(|s| s.name == source)
            .map(|s| s.schema.clone())
    }

    /// The source's watermark (greatest event time seen minus allowed lateness).
    pub fn watermark(&self, source: &str) -> Option<i64> {
        self.sources
            .iter()
            .find(|s| s.name == source)
            .and_then(SourceRt::watermark)
    }

    /// The name of `source`'s time column.
    pub fn time_column(&self, source: &str) -> Option<&str> {
        self.sources
            .iter()
            .find(|s| s.name == source)
            .map(|s| s.op.time_column.as_str())
    }

    /// How far behind its latest event time `source`'s watermark runs (its declared
    /// lateness, at least `Options::min_lateness_us`), µs.
    pub fn allowed_lateness_us(&self, source: &str) -> Option<i64> {
        self.sources
            .iter()
            .find(|s| s.name == source)
            .map(|s| s.lateness_us)
    }

    /// Events later than their source's watermark so far (`metrics().late` without
    /// the O(entities) work of `metrics`).
    pub fn late_events(&self) -> u64 {
        self.metrics.late
    }

    /// The greatest event time ingested from the source (`None` before its first event).
    pub fn latest_event_time(&self, source: &str) -> Option<i64> {
        self.sources
            .iter()
            .find(|s| s.name == source)
            .and_then(|s| s.max_ts)
    }

    /// Keeps state for reads at times `>= t` (`None`: only the watermark limits the
    /// horizon). Replays set it to the earliest unanswered read. Lowering the hold
    /// does not bring back state already dropped.
    pub fn set_read_hold(&mut self, t: Option<i64>) {
        self.hold = t;
    }

    /// Rows late under `LatePolicy::DeadLetter`, kept out of the state, as they were
    /// given to `ingest` (every column, in its own type): an outbox
    /// the embedder empties (`dead_letters_mut().take()`), held until then. The
    /// server takes them in the step that ingested them, so its snapshots hold none.
    pub fn dead_letters(&self) -> &DeadLetters {
        &self.dead
    }

    pub fn dead_letters_mut(&mut self) -> &mut DeadLetters {
        &mut self.dead
    }

    /// The counters, with `entities` and `state_bytes` computed now (O(entities);
    /// with a disk tier, the entities seen and the bytes the cache counts).
    pub fn metrics(&self) -> Metrics {
        let mut m = self.core.metrics();
        m.events = self.metrics.events;
        m.late = self.metrics.late;
        m.dead_lettered = self.metrics.dead_lettered;
        m.null_keys = self.metrics.null_keys;
        m.held_rows = self.held_rows();
        m
    }

    fn horizon(&self, s: usize) -> Option<i64> {
        let w = self.sources[s].watermark()?;
        Some(match self.hold {
            Some(h) => w.min(h),
            None => w,
        })
    }

    /// Ingests a batch of events of `source` (columns by name; time column and
    /// declared columns required, other columns ignored; strings of any Arrow layout
    /// and timestamps of any unit are converted). Either the whole batch is taken or
    /// nothing is (an error leaves the runtime unchanged).
    pub fn ingest(&mut self, source: &str, batch: &RecordBatch) -> Result<(), StreamError> {
        self.ingest_from(source, None, batch, false)
    }

    /// `ingest` for a batch of one partition of the source (e.g. a Kafka topic's):
    /// the source's watermark then follows its slowest live partition, so a lagging
    /// partition's events are not late because another one is ahead (see
    /// `set_partition_idle`).
    pub fn ingest_partition(
        &mut self,
        source: &str,
        partition: i32,
        batch: &RecordBatch,
    ) -> Result<(), StreamError> {
        self.ingest_from(source, Some(partition), batch, false)
    }

    /// Declares a partition of `source` idle (it stops holding the watermark back
    /// until its next event) or live again. A partition not seen yet is ignored.
    pub fn set_partition_idle(
        &mut self,
        source: &str,
        partition: i32,
        idle: bool,
    ) -> Result<(), StreamError> {
        let s = self.source_index(source)?;
        self.sources[s].partitions.set_idle(partition, idle);
        self.publish();
        Ok(())
    }

    /// Ingests a batch of `source`'s history: what `ingest` does, except that no
    /// event of it is late. A history is complete (every event it will ever have is
    /// in it), so its order is the loader's choice: in event-time order none of its
    /// events would be late, and values never depend on the order of arrival
    /// (semantics.md), so loading it in another order, say grouped by entity (each
    /// entity's state then visited once per run of its events rather than once per
    /// event), gives every read at or after the watermark the same values, with
    /// nothing counted late or dead-lettered. Call it only before any live event.
    pub fn ingest_history(&mut self, source: &str, batch: &RecordBatch) -> Result<(), StreamError> {
        self.ingest_from(source, None, batch, true)
    }

    fn ingest_from(
        &mut self,
        source: &str,
        partition: Option<i32>,
        batch: &RecordBatch,
        history: bool,
    ) -> Result<(), StreamError> {
        let s = self.source_index(source)?;
        let conformed = self.conform(s, batch)?;
        let n = conformed.num_rows();
        self.history = history;
        let mut evaluated = Vec::with_capacity(self.sources[s].groups.len());
        // Each group's rows: the conformed batch, or its union's rows (`None`: as is).
        let mut adapted = Vec::with_capacity(self.sources[s].groups.len());
        // Of the groups' failing expressions, the one a run names (`precedes`).
        let mut failed: Option<SlotError> = None;
        for &g in &self.sources[s].groups {
            let rows = self.groups[g].adapt(s, &conformed)?;
            match self.evaluate(g, rows.as_ref().unwrap_or(&conformed)) {
                Ok(e) => evaluated.push(e),
                Err(StreamError::Slot(e)) => SlotError::keep_first(&mut failed, *e),
                Err(e) => return Err(e),
            }
            adapted.push(rows);
        }
        if let Some(e) = failed {
            return Err(StreamError::Slot(Box::new(e)));
        }
        let groups = self.sources[s].groups.clone();
        self.check_held(s, source, n)?;
        // With a disk tier, every entity of the batch is in memory before anything
        // changes, so a failing store fails the batch with nothing applied. (A group
        // with lookups loads its entities when its rows are released.)
        for (k, &g) in groups.iter().enumerate() {
            if !self.groups[g].lookups.is_empty() {
                continue;
            }
            if let Err(e) = self.groups[g].load(adapted[k].as_ref().unwrap_or(&conformed)) {
                for &g in &groups[..k] {
                    if self.groups[g].lookups.is_empty() {
                        self.groups[g].unload();
                    }
                }
                return Err(e);
            }
        }
        let ts_array = conformed
            .column(0)
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .map(|a| a.values().to_vec())
            .unwrap_or_default();

        let horizon = self.horizon(s);
        let src = &mut self.sources[s];
        let mut max_ts = src.max_ts;
        // A partition's rows: the watermark follows the least of its own running
        // greatest time and the other live partitions'. Other rows: the source's.
        let others = partition.map(|p| src.partitions.low(Some(p)));
        let partitions_low = src.partitions.low(None);
        let mut own = partition.and_then(|p| src.partitions.get(p).map(|c| c.max_ts));
        let mut apply = Vec::with_capacity(n);
        let mut dead = Vec::new();
        let mut late = 0;
        for (row, &ts) in ts_array.iter().enumerate() {
            let high = match others {
                // A partition's first event sets its clock: it joins where it is.
                Some(others) => min_known(own.or(Some(ts)), others),
                None => partitions_low.or(max_ts),
            };
            let watermark = high.map(|m: i64| m.saturating_sub(src.lateness_us));
            let is_late = !history && watermark.is_some_and(|w| ts < w);
            if is_late {
                late += 1;
            }
            if is_late && self.options.late_policy == LatePolicy::DeadLetter {
                dead.push(row as u32);
            } else {
                apply.push(row);
            }
            max_ts = max_ts.max(Some(ts));
            own = own.max(Some(ts));
        }
        src.max_ts = max_ts;
        if let (Some(p), Some(own)) = (partition, own) {
            src.partitions.advance(p, own);
        }
        if let Some(h) = horizon {
            src.promised = src.promised.max(Some(h));
        }
        let seqs: Vec<u64> = (0..apply.len() as u64).map(|i| self.seq + i).collect();
        self.seq += apply.len() as u64;
        self.publish_promised(s);
        for (k, (&g, ev)) in groups.iter().zip(&evaluated).enumerate() {
            let rows = adapted[k].as_ref().unwrap_or(&conformed);
            if !self.groups[g].lookups.is_empty() {
                // Held until the values it looks up are settled (`release`).
                let take = UInt32Array::from_iter_values(apply.iter().map(|&r| r as u32));
                let held = take_record_batch(rows, &take).map_err(|e| data_error(source, e))?;
                let ts = apply.iter().map(|&r| ts_array[r]).collect();
                self.groups[g].held.push(held, ts);
                continue;
            }
            let horizon = self.promise(g);
            let skipped = self.groups[g].push(rows, ev, &ts_array, &apply, &seqs, horizon);
            self.metrics.null_keys += skipped;
        }
        self.metrics.events += n as u64;
        self.metrics.late += late;
        if !dead.is_empty() {
            self.metrics.dead_lettered += dead.len() as u64;
            // The rows as they were given (every column, its own types), not as
            // conformed (columns no feature reads are nulls there).
            let rows = take_record_batch(batch, &UInt32Array::from(dead))
                .map_err(|e| data_error(source, e))?;
            self.dead.push(source, rows);
        }
        if self.lookups {
            self.release()?;
        }
        self.publish();
        Ok(())
    }

    /// Rows waiting for lookups are bounded (`Options::max_held_rows`): a batch of
    /// `n` events of source `s` that would pass the bound is refused before anything
    /// changes.
    fn check_held(&self, s: usize, source: &str, n: usize) -> Result<(), StreamError> {
        for &g in &self.sources[s].groups {
            let held = self.groups[g].held.rows();
            let waiting = !self.groups[g].lookups.is_empty();
            if waiting && (held + n) as u64 > self.options.max_held_rows {
                return Err(StreamError::HeldFull {
                    source: source.to_string(),
                    held,
                    incoming: n,
                    limit: self.options.max_held_rows,
                });
            }
        }
        Ok(())
    }

    /// Group `g`'s slots on its rows (with its lookups' columns null: a row's
    /// expressions are checked on arrival, then evaluated again when it is released).
    fn evaluate(&self, g: usize, rows: &RecordBatch) -> Result<Evaluated, StreamError> {
        let group = &self.groups[g];
        if group.lookups.is_empty() {
            return group.evaluate(rows);
        }
        let full = with_lookup_columns(rows, &group.schema, &group.lookups, None)
            .map_err(|e| data_error(&group.plan().source, e))?;
        group.evaluate(&full)
    }

    /// Whether `ingest` would take the batch: the same checks (columns, types, nulls,
    /// every expression on every event), without changing anything. A batch that
    /// passes is taken whole by `ingest` on any runtime of the same graph, so a server
    /// can check a batch outside its lock, make it durable, then ingest it.
    pub fn check(&self, source: &str, batch: &RecordBatch) -> Result<usize, StreamError> {
        let s = self.source_index(source)?;
        let conformed = self.conform(s, batch)?;
        for &g in &self.sources[s].groups {
            let rows = self.groups[g].adapt(s, &conformed)?;
            self.evaluate(g, rows.as_ref().unwrap_or(&conformed))?;
        }
        self.check_held(s, source, conformed.num_rows())?;
        Ok(conformed.num_rows())
    }

    fn source_index(&self, source: &str) -> Result<usize, StreamError> {
        self.sources
            .iter()
            .position(|x| x.name == source)
            .ok_or_else(|| StreamError::UnknownSource(source.to_string()))
    }

    /// The batch with exactly the source's conformed schema, or the first problem.
    fn conform(&self, s: usize, batch: &RecordBatch) -> Result<RecordBatch, StreamError> {
        let src = &self.sources[s];
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(src.schema.fields().len());
        let time = std::iter::once((&src.op.time_column, DataType::Timestamp, false, true, None));
        let declared = src
            .op
            .columns
            .iter()
            .zip(&src.read)
            .map(|(c, &read)| (&c.name, c.ty, c.nullable, read, c.path.as_ref()));
        for (name, ty, nullable, read, path) in time.chain(declared) {
            if !read {
                // No group reads it: not required, not checked (nulls stand for it).
                columns.push(new_null_array(&arrow_type(ty), batch.num_rows()));
                continue;
            }
            let input = match path {
                // A batch that already holds the flat column (a server's pushes).
                Some(_) if batch.column_by_name(name).is_some() => name,
                Some(p) => &p.physical,
                None => name,
            };
            let array = batch
                .column_by_name(input)
                .ok_or_else(|| StreamError::MissingColumn {
                    table: src.name.clone(),
                    column: input.clone(),
                })?;
            // A path column: read out of its struct or map column by the one
            // extraction the batch path uses (`row::nested_column`).
            let extracted: ArrayRef;
            let array = match path {
                Some(p) if input != name => {
                    let data = |row: usize, message: String| StreamError::Data {
                        table: src.name.clone(),
                        column: name.clone(),
                        row,
                        message,
                    };
                    let mut leaves =
                        extract(array, &p.steps).map_err(|e| data(e.row, e.message))?;
                    if is_text(array.data_type())
                        && matches!(
                            ty,
                            DataType::Int64
                                | DataType::Float64
                                | DataType::Bool
                                | DataType::Timestamp
                        )
                    {
                        // JSON text (a CSV cell's) gives each leaf as text: parsed by
                        // the rules the batch path reads a CSV cell with.
                        leaves = parse_leaves(&leaves, ty, src.op.epoch)
                            .map_err(|(row, m)| data(row, m))?;
                    }
                    extracted = leaves;
                    &extracted
                }
                _ => array,
            };
            let array =
                conform_in(array, ty, name, src.op.epoch).map_err(|e| StreamError::ColumnType {
                    table: src.name.clone(),
                    column: e.column,
                    message: e.message,
                })?;
            if !nullable && array.null_count() > 0 {
                let row = (0..array.len()).find(|&i| array.is_null(i)).unwrap_or(0);
                return Err(StreamError::Data {
                    table: src.name.clone(),
                    column: name.clone(),
                    row,
                    message: "null in a column that is not nullable".into(),
                });
            }
            columns.push(array);
        }
        RecordBatch::try_new(src.schema.clone(), columns).map_err(|e| StreamError::Data {
            table: src.name.clone(),
            column: String::new(),
            row: 0,
            message: e.to_string(),
        })
    }

    /// Folds every entity's pending events (see `Options::fold_run`) and drops what
    /// no read at or after the current horizons needs (ingest does this for an entity
    /// at the end of each of its runs). Call it when ingest goes idle so that reads
    /// find settled state. It also ends a history (`ingest_history`): the rows it left
    /// waiting for their lookups are released as far as the watermarks settle them.
    pub fn compact(&mut self) -> Result<(), StreamError> {
        self.history = false;
        for s in 0..self.sources.len() {
            if let Some(h) = self.horizon(s) {
                self.sources[s].promised = self.sources[s].promised.max(Some(h));
                self.publish_promised(s);
            }
        }
        if self.lookups {
            self.release()?;
        }
        for g in 0..self.groups.len() {
            if let Some(h) = self.promise(g) {
                self.groups[g].core.compact(h);
            }
        }
        self.publish();
        Ok(())
    }

    /// Declares every source complete through `t`: no event at or before `t` will
    /// come any more (a replay knows it of its history). Rows waiting for lookups
    /// whose values are then settled are released now, whatever the watermarks.
    pub fn settle_through(&mut self, t: i64) -> Result<(), StreamError> {
        self.complete_through = self.complete_through.max(Some(t));
        if self.lookups {
            self.release()?;
            self.publish();
        }
        Ok(())
    }

    /// Events waiting for their as-of lookups' values, over every group.
    pub fn held_rows(&self) -> u64 {
        self.groups.iter().map(|g| g.held.rows() as u64).sum()
    }

    /// Updates and publishes the horizon promised to group `g` (`group_horizon`),
    /// before its state changes under it; the horizon to promise to its states.
    pub(crate) fn promise(&mut self, g: usize) -> Option<i64> {
        let h = self.group_horizon(g)?;
        let group = &mut self.groups[g];
        group.promised = group.promised.max(Some(h));
        if let Some(clock) = self.core.group_promised.get(g) {
            store_time(clock, group.promised);
        }
        Some(h)
    }

    /// The horizon promised to group `g`'s state: the least of its sources'
    /// promised horizons (`None` until each has one), so that no source's event
    /// that is not late falls below it; with lookups, no later than a row it holds
    /// (released rows go into its state) nor than a time at which a group looking it
    /// up may still read it: a row that group holds, or one still to come (at or
    /// after its sources' promised horizons). During a history, a looked-up group
    /// promises nothing: the history's order says nothing of the times to come.
    fn group_horizon(&self, g: usize) -> Option<i64> {
        let mut h = i64::MAX;
        for &s in self.core.sources_of.get(g)? {
            h = h.min(self.sources[s].promised?);
        }
        if !self.lookups {
            return Some(h);
        }
        if let Some(o) = self.groups[g].held.oldest() {
            h = h.min(o);
        }
        for &d in &self.dependents[g] {
            if self.history {
                return None;
            }
            if let Some(o) = self.groups[d].held.oldest() {
                h = h.min(o);
            }
            for &s in self.core.sources_of.get(d)? {
                h = h.min(self.sources[s].promised?);
            }
        }
        Some(h)
    }

    /// The output feature indices of a selection.
    pub fn select(&self, sel: &Selection<'_>) -> Result<Vec<usize>, StreamError> {
        self.core.select(sel)
    }

    /// The names of the output features, in graph order.
    pub fn feature_names(&self) -> &[Arc<str>] {
        &self.core.out_names
    }

    /// Answers one read: the selected features of the read's entities, each at
    /// exactly `read.at`. With `Keys::Entity`, every selected feature must belong to
    /// one entity (else `StreamError::MixedEntities`); a selected derived feature that
    /// reads request fields needs them in `read.request`. (`reader` gives a handle
    /// that reads from other threads while this one ingests.)
    pub fn read(&self, read: &Read<'_>) -> Result<FeatureVector, StreamError> {
        self.core.read(read)
    }

    /// The (group, feature) pairs output `i` reads: itself, or a derived feature's
    /// inputs.
    pub(crate) fn pairs_of(&self, i: usize) -> &[(usize, usize)] {
        self.core.pairs_of(i)
    }

    /// A handle that reads this runtime's state from other threads while it ingests
    /// (see `StreamReader`).
    pub fn reader(&self) -> StreamReader {
        StreamReader {
            core: Arc::clone(&self.core),
        }
    }

    /// What the disk tier did so far (all zero without one).
    pub fn tier_metrics(&self) -> TierMetrics {
        self.core.tier_metrics()
    }

    /// With a disk tier: writes every entity changed since the last flush to the
    /// store and persists it, so the store and `snapshot_tiered` together stand for
    /// the state (a checkpoint). Returns how many entities were written; without a
    /// tier, nothing to do.
    pub fn flush(&self) -> Result<u64, StreamError> {
        let Some(tier) = &self.core.tier else {
            return Ok(0);
        };
        let mut written = 0;
        for g in &self.core.groups {
            written += g.entities.flush()?;
        }
        tier.store.persist().map_err(|e| StreamError::Store {
            what: "persisting entities".into(),
            message: e.to_string(),
        })?;
        Ok(written)
    }

    /// Whether entity states live in a disk tier.
    pub fn is_tiered(&self) -> bool {
        self.core.tier.is_some()
    }

    /// Publishes what reads see of the sources and counters (after each change, and
    /// after a restore).
    pub(crate) fn publish(&self) {
        for (src, clock) in self.sources.iter().zip(&self.core.clocks) {
            store_time(&clock.promised, src.promised);
            store_time(&clock.latest, src.max_ts);
            store_time(&clock.watermark, src.watermark());
        }
        let (m, c) = (&self.metrics, &self.core.counters);
        c.events.store(m.events, Relaxed);
        c.late.store(m.late, Relaxed);
        c.dead_lettered.store(m.dead_lettered, Relaxed);
        c.null_keys.store(m.null_keys, Relaxed);
        c.held_rows.store(self.held_rows(), Relaxed);
        for (g, from) in self.groups.iter().zip(&self.core.group_held_from) {
            store_time(from, g.held.oldest());
        }
    }

    /// Publishes what reads see of the groups' promised horizons (after a restore).
    pub(crate) fn publish_groups(&self) {
        for (g, clock) in self.groups.iter().zip(&self.core.group_promised) {
            store_time(clock, g.promised);
        }
    }

    /// Publishes a source's promised horizon (before any state changes under it).
    fn publish_promised(&self, s: usize) {
        if let (Some(src), Some(clock)) = (self.sources.get(s), self.core.clocks.get(s)) {
            store_time(&clock.promised, src.promised);
        }
    }
}

/// A batch Arrow could not cut or glue, named by its source.
pub(crate) fn data_error(table: &str, e: impl std::fmt::Display) -> StreamError {
    StreamError::Data {
        table: table.to_string(),
        column: String::new(),
        row: 0,
        message: e.to_string(),
    }
}

/// Leaves read from JSON text as `ty` (int64, float64, bool or timestamp) by the
/// batch path's CSV rules (`io::parse::parse_text`, `row::time::to_micros_in`); a leaf that does not parse is an error
/// naming its row, as the batch path's `parse_cell` names it.
fn parse_leaves(
    text: &ArrayRef,
    ty: DataType,
    epoch: Option<crate::ir::EpochUnit>,
) -> Result<ArrayRef, (usize, String)> {
    let parsed = match ty {
        DataType::Timestamp => to_micros_in(text, epoch).map_err(|e| (0, e.to_string()))?,
        _ => parse_text(text, ty).map_err(|e| (0, e.to_string()))?,
    };
    match (0..text.len()).find(|&row| text.is_valid(row) && parsed.is_null(row)) {
        None => Ok(parsed),
        Some(row) => {
            let cell = text.as_string::<i32>().value(row);
            Err((row, format!("{cell:?} is not a {}", ty.name())))
        }
    }
}
