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

use std::sync::Arc;

use datafusion::arrow::array::{
    new_null_array, Array, ArrayRef, TimestampMicrosecondArray, UInt32Array,
};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;

use super::dead_letter::DeadLetters;
use super::derived::{self, Request};
use super::error::{RestoreError, StreamError};
use super::graph::OutputFeature;
use super::graph::{NodeId, SourceOp, StreamGraph};
use super::group::Group;
use super::metrics::Metrics;
use super::partitions::{min_known, Partitions};
use super::policy::{LatePolicy, Options};
use super::read::{FeatureValue, FeatureVector, Keys, Read, Selection, Status};
use crate::agg::AggError;
use crate::expr::derived::CompiledDerived;
use crate::expr::slots::SlotError;
use crate::ir::DataType;
use crate::plan::FeatureRef;
use crate::row::conform_in;
use crate::row::types::arrow_type;
use crate::snapshot::SnapshotError;
use crate::value::Value;

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

    fn watermark(&self) -> Option<i64> {
        self.high().map(|m| m.saturating_sub(self.lateness_us))
    }
}

/// Where an output feature's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputSlot {
    /// (group, feature index in the group).
    Aggregate(usize, usize),
    /// Index into `StreamRuntime::derived`.
    Derived(usize),
}

/// The streaming executor of one `StreamGraph` (see the module docs).
pub struct StreamRuntime {
    graph: StreamGraph,
    options: Options,
    pub(crate) sources: Vec<SourceRt>,
    pub(crate) groups: Vec<Group>,
    /// For each output feature: where its value comes from.
    pub(crate) outputs: Vec<OutputSlot>,
    out_names: Vec<Arc<str>>,
    /// The output node's derived features, compiled.
    pub(crate) derived: Vec<CompiledDerived>,
    /// For each output feature, the (group, feature) pairs a read of it reads:
    /// itself, or a derived feature's inputs in its input order.
    output_pairs: Vec<Vec<(usize, usize)>>,
    /// Reused by reads (reads are hot: the usual one allocates nothing here).
    pairs_scratch: Vec<(usize, usize)>,
    pub(crate) metrics: Metrics,
    pub(crate) dead: DeadLetters,
    /// The sequence number of the next applied event (ties of equal times break by it).
    pub(crate) seq: u64,
    pub(crate) hold: Option<i64>,
    scratch: Vec<Result<Value, AggError>>,
    stale_scratch: Vec<bool>,
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
        for (id, op) in graph.aggregates() {
            let Some(s) = source_nodes.iter().position(|n| *n == op.source) else {
                return Err(StreamError::Graph(super::graph::GraphError::BadRef {
                    node: id,
                    expected: "source",
                    target: op.source,
                }));
            };
            let group = Group::new(id, &op.plan, &sources[s].schema, options.fold_run)?;
            let read = op.plan.columns_read();
            let src = &mut sources[s];
            for (c, column) in src.op.columns.iter().enumerate() {
                src.read[c] |= read.contains(&column.name);
            }
            src.groups.push(groups.len());
            group_of_node.push((id, s));
            groups.push(group);
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
                let f = groups.get(r.group)?.plan.features.get(r.feature)?;
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
                        .position(|(n, _)| *n == aggregate)
                        .unwrap_or(0);
                    outputs.push(OutputSlot::Aggregate(g, index));
                    output_pairs.push(vec![(g, index)]);
                    out_names.push(Arc::clone(&groups[g].names[index]));
                }
                OutputFeature::Derived { derived: d } => {
                    outputs.push(OutputSlot::Derived(d));
                    output_pairs.push(derived_reads.get(d).cloned().unwrap_or_default());
                    let name = output.derived.get(d).map_or("", |p| p.name.as_str());
                    out_names.push(Arc::from(name));
                }
            }
        }
        Ok(StreamRuntime {
            graph,
            options,
            sources,
            groups,
            outputs,
            out_names,
            derived,
            output_pairs,
            pairs_scratch: Vec::new(),
            metrics: Metrics::default(),
            dead: DeadLetters::default(),
            seq: 0,
            hold: None,
            scratch: Vec::new(),
            stale_scratch: Vec::new(),
        })
    }

    pub fn graph(&self) -> &StreamGraph {
        &self.graph
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
        super::snapshot::read(graph, options, bytes)
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

    /// The counters, with `entities` and `state_bytes` computed now (O(entities)).
    pub fn metrics(&self) -> Metrics {
        let mut m = self.metrics;
        m.entities = self.groups.iter().map(|g| g.keys.len() as u64).sum();
        m.state_bytes = self.groups.iter().map(|g| g.state_bytes() as u64).sum();
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
        self.ingest_from(source, None, batch)
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
        self.ingest_from(source, Some(partition), batch)
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
        Ok(())
    }

    fn ingest_from(
        &mut self,
        source: &str,
        partition: Option<i32>,
        batch: &RecordBatch,
    ) -> Result<(), StreamError> {
        let s = self.source_index(source)?;
        let conformed = self.conform(s, batch)?;
        let n = conformed.num_rows();
        let mut evaluated = Vec::with_capacity(self.sources[s].groups.len());
        // Of the groups' failing expressions, the one a run names (`precedes`).
        let mut failed: Option<SlotError> = None;
        for &g in &self.sources[s].groups {
            match self.groups[g].evaluate(&conformed) {
                Ok(e) => evaluated.push(e),
                Err(StreamError::Slot(e)) => SlotError::keep_first(&mut failed, *e),
                Err(e) => return Err(e),
            }
        }
        if let Some(e) = failed {
            return Err(StreamError::Slot(Box::new(e)));
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
            let is_late = watermark.is_some_and(|w| ts < w);
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
        for (&g, ev) in self.sources[s].groups.iter().zip(&evaluated) {
            let skipped = self.groups[g].push(&conformed, ev, &ts_array, &apply, &seqs, horizon);
            self.metrics.null_keys += skipped;
        }
        self.metrics.events += n as u64;
        self.metrics.late += late;
        if !dead.is_empty() {
            self.metrics.dead_lettered += dead.len() as u64;
            // The rows as they were given (every column, its own types), not as
            // conformed (columns no feature reads are nulls there).
            let rows = take_record_batch(batch, &UInt32Array::from(dead)).map_err(|e| {
                StreamError::Data {
                    table: source.to_string(),
                    column: String::new(),
                    row: 0,
                    message: e.to_string(),
                }
            })?;
            self.dead.push(source, rows);
        }
        Ok(())
    }

    /// Whether `ingest` would take the batch: the same checks (columns, types, nulls,
    /// every expression on every event), without changing anything. A batch that
    /// passes is taken whole by `ingest` on any runtime of the same graph, so a server
    /// can check a batch outside its lock, make it durable, then ingest it.
    pub fn check(&self, source: &str, batch: &RecordBatch) -> Result<usize, StreamError> {
        let s = self.source_index(source)?;
        let conformed = self.conform(s, batch)?;
        for &g in &self.sources[s].groups {
            self.groups[g].evaluate(&conformed)?;
        }
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
        let time = std::iter::once((&src.op.time_column, DataType::Timestamp, false, true));
        let declared = src
            .op
            .columns
            .iter()
            .zip(&src.read)
            .map(|(c, &read)| (&c.name, c.ty, c.nullable, read));
        for (name, ty, nullable, read) in time.chain(declared) {
            if !read {
                // No group reads it: not required, not checked (nulls stand for it).
                columns.push(new_null_array(&arrow_type(ty), batch.num_rows()));
                continue;
            }
            let array = batch
                .column_by_name(name)
                .ok_or_else(|| StreamError::MissingColumn {
                    table: src.name.clone(),
                    column: name.clone(),
                })?;
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
    /// find settled state.
    pub fn compact(&mut self) {
        for s in 0..self.sources.len() {
            let Some(h) = self.horizon(s) else { continue };
            self.sources[s].promised = self.sources[s].promised.max(Some(h));
            for &g in &self.sources[s].groups {
                self.groups[g].compact(h);
            }
        }
    }

    /// The output feature indices of a selection.
    pub fn select(&self, sel: &Selection<'_>) -> Result<Vec<usize>, StreamError> {
        match sel {
            Selection::All => Ok((0..self.outputs.len()).collect()),
            Selection::Service(name) => self
                .graph
                .output()
                .and_then(|o| o.services.iter().find(|s| s.name == *name))
                .map(|s| s.features.clone())
                .ok_or_else(|| StreamError::UnknownService(name.to_string())),
            Selection::Indices(indices) => match indices.iter().find(|&&i| i >= self.outputs.len())
            {
                Some(i) => Err(StreamError::UnknownFeature(format!("#{i}"))),
                None => Ok(indices.to_vec()),
            },
            Selection::Features(names) => names
                .iter()
                .map(|n| {
                    self.out_names
                        .iter()
                        .position(|x| &**x == *n)
                        .ok_or_else(|| StreamError::UnknownFeature(n.to_string()))
                })
                .collect(),
        }
    }

    /// The names of the output features, in graph order.
    pub fn feature_names(&self) -> &[Arc<str>] {
        &self.out_names
    }

    /// Answers one read: the selected features of the read's entities, each at
    /// exactly `read.at`. With `Keys::Entity`, every selected feature must belong to
    /// one entity (else `StreamError::MixedEntities`); a selected derived feature that
    /// reads request fields needs them in `read.request`.
    pub fn read(&mut self, read: &Read<'_>) -> Result<FeatureVector, StreamError> {
        let picked = self.select(&read.features)?;
        let key = match read.keys {
            Keys::Entity(key) => key,
            Keys::ByEntity(keys) => {
                return self.read_picked(
                    &picked,
                    read.at,
                    &|entity| keys.iter().find(|(e, _)| *e == entity).map(|(_, k)| *k),
                    &read.request,
                )
            }
        };
        // The common case (one entity) is checked without allocating: reads are
        // hot. An aggregation's group comes straight from `outputs` (contiguous), a
        // derived feature's from its pairs.
        let mut first: Option<&str> = None;
        let mut mixed = false;
        let mut see = |g: usize| {
            let entity = self.groups[g].plan.entity.as_str();
            mixed |= *first.get_or_insert(entity) != entity;
        };
        for &i in &picked {
            match self.outputs.get(i) {
                Some(OutputSlot::Aggregate(g, _)) => see(*g),
                _ => self.pairs_of(i).iter().for_each(|&(g, _)| see(g)),
            }
        }
        if mixed {
            let mut all: Vec<String> = picked
                .iter()
                .flat_map(|&i| self.pairs_of(i))
                .map(|&(g, _)| self.groups[g].plan.entity.clone())
                .collect();
            all.sort();
            all.dedup();
            return Err(StreamError::MixedEntities(all));
        }
        self.read_picked(&picked, read.at, &|_| Some(key), &read.request)
    }

    /// The (group, feature) pairs output `i` reads: itself, or a derived feature's
    /// inputs.
    pub(crate) fn pairs_of(&self, i: usize) -> &[(usize, usize)] {
        self.output_pairs.get(i).map_or(&[], Vec::as_slice)
    }

    fn read_picked<'k>(
        &mut self,
        picked: &[usize],
        t: i64,
        key_of: &dyn Fn(&str) -> Option<&'k [Value]>,
        request: &Request<'_>,
    ) -> Result<FeatureVector, StreamError> {
        // The usual read (aggregations only): one pass collects the pairs.
        let mut pairs = std::mem::take(&mut self.pairs_scratch);
        pairs.clear();
        let aggregates_only = picked.iter().all(|&i| match self.outputs.get(i) {
            Some(OutputSlot::Aggregate(g, f)) => {
                pairs.push((*g, *f));
                true
            }
            _ => false,
        });
        if aggregates_only {
            let features = self.read_pairs(&pairs, t, key_of);
            self.pairs_scratch = pairs;
            return Ok(FeatureVector {
                at: t,
                features: features?,
            });
        }
        self.pairs_scratch = pairs;
        // Derived features: read every aggregate they (and the picked aggregates)
        // need once, then evaluate each from those values.
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for &i in picked {
            for p in self.pairs_of(i) {
                if !pairs.contains(p) {
                    pairs.push(*p);
                }
            }
        }
        let values = self.read_pairs(&pairs, t, key_of)?;
        let mut features = Vec::with_capacity(picked.len());
        for &i in picked {
            let value = match self.outputs.get(i) {
                Some(OutputSlot::Derived(d)) => {
                    let inputs: Vec<&FeatureValue> = self
                        .pairs_of(i)
                        .iter()
                        .filter_map(|p| pairs.iter().position(|q| q == p).map(|k| &values[k]))
                        .collect();
                    derived::read(&self.derived[*d], &self.out_names[i], &inputs, request)?
                }
                _ => {
                    let k = self
                        .pairs_of(i)
                        .first()
                        .and_then(|p| pairs.iter().position(|q| q == p))
                        .unwrap_or(0);
                    values[k].clone()
                }
            };
            features.push(value);
        }
        Ok(FeatureVector { at: t, features })
    }

    /// Reads aggregated features, given as (group, feature) pairs, in that order.
    fn read_pairs<'k>(
        &mut self,
        picked: &[(usize, usize)],
        t: i64,
        key_of: &dyn Fn(&str) -> Option<&'k [Value]>,
    ) -> Result<Vec<FeatureValue>, StreamError> {
        let mut features: Vec<FeatureValue> = Vec::with_capacity(picked.len());
        // Groups in order of first use; each group is read once.
        let mut order: Vec<usize> = Vec::new();
        for &(g, _) in picked {
            if !order.contains(&g) {
                order.push(g);
            }
        }
        // One group (the usual read): values go straight into `features`, in order.
        let mut slots: Vec<Option<FeatureValue>> = if order.len() > 1 {
            vec![None; picked.len()]
        } else {
            Vec::new()
        };
        for g in order.iter().copied() {
            let s = self
                .sources
                .iter()
                .position(|s| s.groups.contains(&g))
                .unwrap_or(0);
            if let Some(h) = self.sources[s].promised {
                if t < h {
                    return Err(StreamError::ReadBeforeHorizon { at: t, horizon: h });
                }
            }
            let group = &self.groups[g];
            let entity = &group.plan.entity;
            let key = key_of(entity).ok_or_else(|| StreamError::KeyArity {
                entity: entity.clone(),
                expected: group.key_types.len(),
                found: 0,
            })?;
            if key.len() != group.key_types.len() {
                return Err(StreamError::KeyArity {
                    entity: entity.clone(),
                    expected: group.key_types.len(),
                    found: key.len(),
                });
            }
            let id = group.keys.get(key);
            // Each feature reports its view's latest event; features of one view share
            // the lookup (the last one is kept: reads list a view's features together).
            let mut last_event_time: Option<(Option<usize>, Option<i64>)> = None;
            let mut out = std::mem::take(&mut self.scratch);
            let mut stale_of = std::mem::take(&mut self.stale_scratch);
            self.groups[g].read_with_staleness_into(id, t, &mut out, &mut stale_of);
            for (p, &(og, f)) in picked.iter().enumerate() {
                if og != g {
                    continue;
                }
                let view_filter = self.groups[g]
                    .plan
                    .features
                    .get(f)
                    .and_then(|p| p.view_filter);
                let event_time = match last_event_time {
                    Some((filter, time)) if filter == view_filter => time,
                    _ => self.groups[g].latest_seen(id, t, view_filter),
                };
                last_event_time = Some((view_filter, event_time));
                let stale = stale_of.get(f).copied().unwrap_or(false);
                let (value, status) = match out.get(f).cloned().unwrap_or(Ok(Value::Null)) {
                    Err(e) => (Value::Null, Status::Error(e)),
                    Ok(v) if id.is_none() => (v, Status::UnknownEntity),
                    Ok(v) if stale => (v, Status::Stale),
                    Ok(Value::Null) => (Value::Null, Status::Null),
                    Ok(v) => (v, Status::Present),
                };
                let fv = FeatureValue {
                    name: Arc::clone(&self.groups[g].names[f]),
                    value,
                    status,
                    event_time,
                };
                match slots.get_mut(p) {
                    Some(slot) => *slot = Some(fv),
                    None => features.push(fv),
                }
            }
            self.scratch = out;
            self.stale_scratch = stale_of;
        }
        features.extend(slots.into_iter().flatten());
        Ok(features)
    }
}
