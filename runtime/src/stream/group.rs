//! One aggregate node at run time: what reads share (`GroupCore`: the group plan, its
//! key spec and the entities' states, see `entities`) and what only the ingest uses
//! (`Group`: the slot evaluator, the string interner, reused buffers).
//!
//! The plan's expressions are evaluated by `expr::slots::SlotEvaluator` and filters
//! turned into bits by `expr::mask`, as the batch operator does, so both paths feed
//! identical rows to the shared window state.

use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;

use super::entities::{shard_of_cells, Entities, Slot, TierState, CHUNK};
use super::error::StreamError;
use super::graph::NodeId;
use super::lookup::{Held, LookupRead};
use super::union::UnionAdapter;
use crate::expr::mask::{conjunction, trues};
use crate::expr::slots::SlotEvaluator;
use crate::ir::DataType;
use crate::plan::GroupPlan;
use crate::prefetch::prefetch;
use crate::row::{Cells, Interner};
use crate::value::Value;
use crate::window::{encode_filter, encode_input, EncodedRows, KeySpec, KeyState, PREFETCH_STAGES};

/// What reads of a group share with its ingest.
pub(crate) struct GroupCore {
    pub node: NodeId,
    pub plan: GroupPlan,
    pub key_types: Vec<DataType>,
    pub(crate) spec: Arc<KeySpec>,
    pub names: Vec<Arc<str>>,
    pub entities: Entities,
    /// A state that never sees an event: the values of an unknown entity (locked
    /// by a read for its cursors).
    pub empty: Mutex<KeyState>,
}

/// The ingest's side of a group.
pub(crate) struct Group {
    pub core: Arc<GroupCore>,
    /// Column indices of the key columns in the source's conformed batches.
    pub key_cols: Vec<usize>,
    slots: SlotEvaluator,
    /// String cells shared across rows (see `intern`).
    pub(crate) strings: Interner,
    /// Reused per-batch buffer: the batch's rows in the window state's encoding.
    rows: EncodedRows,
    /// Reused per-chunk buffer: each pushed row's (shard, entity) (`None`: null key).
    row_ids: Vec<Option<(usize, u32)>>,
    /// Reused per-batch buffer (tier): the entities pinned for the batch.
    pinned: Vec<(usize, u32)>,
    /// Over several sources: each member's source index and its way into the union
    /// (empty: the group reads one source's conformed batches as they are).
    pub union: Vec<(usize, UnionAdapter)>,
    /// The group's rows as its source (or union) gives them, and as its expressions
    /// read them: with its lookups' columns (`lookup::with_lookup_fields`).
    pub rows_schema: SchemaRef,
    pub schema: SchemaRef,
    /// Its as-of lookups, and the rows waiting for them (see `lookup`).
    pub lookups: Vec<LookupRead>,
    pub held: Held,
    /// The greatest horizon promised to its state.
    pub promised: Option<i64>,
}

/// A batch's slot values for one group: its inputs, and the rows passing each filter.
pub(crate) struct Evaluated {
    inputs: Vec<ArrayRef>,
    filters: Vec<BooleanBuffer>,
}

impl Group {
    /// Plans aggregate node `node` (its group plan `plan`, the `index`-th group) for
    /// batches of `schema` (the source's conformed schema, see `StreamRuntime`).
    pub fn new(
        node: NodeId,
        index: usize,
        plan: &GroupPlan,
        schema: &Schema,
        fold_run: u32,
        tier: Option<Arc<TierState>>,
    ) -> Result<Group, StreamError> {
        let mut key_cols = Vec::new();
        for k in &plan.keys {
            let i = schema
                .index_of(&k.column)
                .map_err(|_| StreamError::MissingColumn {
                    table: plan.source.clone(),
                    column: k.column.clone(),
                })?;
            key_cols.push(i);
        }
        let spec =
            KeySpec::from_plan(plan, &plan.input_types()).map_err(|error| StreamError::Spec {
                feature: format!("aggregate n{} ({})", node.0, plan.describe()),
                error,
            })?;
        let spec = Arc::new(spec);
        let slots = SlotEvaluator::new(Arc::new(plan.clone()), schema)
            .map_err(|error| StreamError::Slot(Box::new(error)))?;
        let key_types: Vec<DataType> = plan.keys.iter().map(|k| k.ty).collect();
        // A graph has far fewer aggregate nodes than this; the store keys need it.
        let group = Entities::group_index(index).ok_or_else(|| StreamError::Store {
            what: format!("aggregate n{}", node.0),
            message: "more aggregate nodes in one graph than a store can key".to_string(),
        })?;
        let core = GroupCore {
            node,
            plan: plan.clone(),
            entities: Entities::new(spec.clone(), &key_types, fold_run, group, tier),
            key_types,
            empty: Mutex::new(KeyState::new(spec.clone())),
            spec,
            names: plan.feature_names().map(Arc::from).collect(),
        };
        Ok(Group {
            core: Arc::new(core),
            key_cols,
            slots,
            strings: Interner::default(),
            rows: EncodedRows::default(),
            row_ids: Vec::new(),
            pinned: Vec::new(),
            union: Vec::new(),
            rows_schema: Arc::new(schema.clone()),
            schema: Arc::new(schema.clone()),
            lookups: Vec::new(),
            held: Held::default(),
            promised: None,
        })
    }

    /// A conformed batch of source `s` as the group's rows: `None` when the group
    /// reads it as it is (one source), the union's rows otherwise.
    pub fn adapt(&self, s: usize, batch: &RecordBatch) -> Result<Option<RecordBatch>, StreamError> {
        if self.union.is_empty() {
            return Ok(None);
        }
        match self.union.iter().find(|(m, _)| *m == s) {
            Some((_, adapter)) => adapter.adapt(batch).map(Some),
            None => Err(StreamError::UnknownSource(format!("source {s} of a union"))),
        }
    }

    pub fn plan(&self) -> &GroupPlan {
        &self.core.plan
    }

    /// Evaluates the slots on a conformed batch (no state is touched, so a failing
    /// batch leaves the runtime as it was).
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<Evaluated, StreamError> {
        let plan = self.plan();
        let slots = self
            .slots
            .evaluate(batch)
            .map_err(|e| StreamError::Slot(Box::new(e)))?;
        let internal = |message: String| StreamError::Expr {
            context: format!("aggregate n{} ({})", self.core.node.0, plan.describe()),
            error: crate::expr::ExprError::Eval(message),
        };
        for (a, e) in slots.inputs.iter().zip(&plan.inputs) {
            if Cells::new(a, e.ty).is_none() {
                return Err(internal(format!(
                    "an input evaluated to {}, expected {}",
                    a.data_type(),
                    e.ty.name()
                )));
            }
        }
        let predicates = slots
            .predicates
            .iter()
            .map(trues)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| internal(e.to_string()))?;
        let filters = plan
            .filters
            .iter()
            .map(|f| conjunction(f, &predicates, batch.num_rows()))
            .collect();
        Ok(Evaluated {
            inputs: slots.inputs,
            filters,
        })
    }

    fn key_cells<'b>(&self, batch: &'b RecordBatch) -> Vec<Cells<'b>> {
        self.key_cols
            .iter()
            .zip(&self.core.key_types)
            .filter_map(|(&i, t)| Cells::new(batch.column(i), *t))
            .collect()
    }

    /// Tier only: loads and pins the entities of every row of the conformed batch
    /// before anything of it is applied (see `Entities::load_for_push`); `push` unpins.
    pub fn load(&mut self, batch: &RecordBatch) -> Result<(), StreamError> {
        if self.core.entities.tier().is_none() {
            return Ok(());
        }
        let cols = self.key_cells(batch);
        let mut pinned = std::mem::take(&mut self.pinned);
        let loaded = self
            .core
            .entities
            .load_for_push(&cols, batch.num_rows(), &mut pinned);
        self.pinned = pinned;
        loaded
    }

    /// Lets the entities `load` pinned go, when the batch is not applied after all.
    pub fn unload(&mut self) {
        let mut pinned = std::mem::take(&mut self.pinned);
        self.core.entities.finish_push(&mut pinned, 0);
        self.pinned = pinned;
    }

    /// Pushes the rows `rows` of a conformed batch (times `ts`, sequence numbers from
    /// `seqs`) into their entities' states, then promises reads at `>= horizon` to
    /// each touched state. An entity that already holds a row's sequence number
    /// skips it (see `entities`). Returns the number of rows skipped for a null key.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        batch: &RecordBatch,
        ev: &Evaluated,
        ts: &[i64],
        rows: &[usize],
        seqs: &[u64],
        horizon: Option<i64>,
    ) -> u64 {
        let core = Arc::clone(&self.core);
        let key_cells = self.key_cells(batch);
        // Every row's inputs and filters in the buffer's encoding, column by column.
        self.rows.reset(&core.spec.layout, batch.num_rows());
        for (slot, (a, e)) in ev.inputs.iter().zip(&core.plan.inputs).enumerate() {
            if let Some(cells) = Cells::new(a, e.ty) {
                encode_input(&mut self.rows, slot, &cells, &mut self.strings);
            }
        }
        for (f, pass) in ev.filters.iter().enumerate() {
            encode_filter(&mut self.rows, f, pass);
        }
        self.rows.seal();
        let horizon = horizon.map(|h| core.plan.state_time(h));
        let mut null_keys = 0;
        for (chunk, chunk_seqs) in rows.chunks(CHUNK).zip(seqs.chunks(CHUNK)) {
            let mut shards = core.entities.lock_all();
            // First every row's entity, so the loop below can load the states of the
            // rows a few places ahead while it works on this one (on a large key
            // space each state is a cache miss, and misses issued together overlap).
            self.row_ids.clear();
            for &row in chunk {
                if key_cells.iter().any(|c| c.is_null(row)) {
                    null_keys += 1;
                    self.row_ids.push(None);
                    continue;
                }
                let s = shard_of_cells(&key_cells, row);
                let id = core.entities.resolve(&mut shards[s], &key_cells, row);
                self.row_ids.push(id.map(|id| (s, id)));
            }
            for (i, ((&row, &seq), &id)) in
                chunk.iter().zip(chunk_seqs).zip(&self.row_ids).enumerate()
            {
                for (stage, &distance) in PREFETCH_STAGES.iter().enumerate() {
                    if let Some(&Some((s, k))) = self.row_ids.get(i + distance) {
                        if let Some(slot) = shards[s].slot(k) {
                            if stage == 0 {
                                // The slot's own fields sit on a line of their own.
                                prefetch(&slot.next_seq as *const u64);
                            }
                            slot.state
                                .prefetch(stage, stage > 0 && slot.state.drop_due());
                        }
                    }
                }
                let Some((s, id)) = id else { continue };
                let Some(slot) = shards[s].slot_mut(id) else {
                    continue;
                };
                if seq < slot.next_seq {
                    continue;
                }
                slot.state.push_row(ts[row], seq, self.rows.row(row));
                slot.next_seq = seq + 1;
                slot.dirty = true;
                if let Some(h) = horizon {
                    slot.state.promise(h);
                }
            }
        }
        let mut pinned = std::mem::take(&mut self.pinned);
        core.entities.finish_push(&mut pinned, rows.len());
        self.pinned = pinned;
        if let Some(h) = horizon.filter(|&h| core.entities.sweep_due(h)) {
            core.entities.expire(h);
        }
        null_keys
    }
}

impl GroupCore {
    /// `KeyArity` unless a key of `found` values is one of this group's entity.
    pub fn check_key_arity(&self, found: usize) -> Result<(), StreamError> {
        if found == self.key_types.len() {
            return Ok(());
        }
        Err(StreamError::KeyArity {
            entity: self.plan.entity.clone(),
            expected: self.key_types.len(),
            found,
        })
    }

    /// `f` on entity `key`'s state (`None`: an entity never seen reads the empty
    /// state), at state time: `f` gets the time a read at `t` reads the state at
    /// (`GroupPlan::state_time`) and whether the entity is known.
    pub fn with_state<R>(
        &self,
        key: &[Value],
        f: impl FnOnce(&mut KeyState, bool) -> R,
    ) -> Result<R, StreamError> {
        self.entities
            .read(key, |slot: Option<&mut Slot>| match slot {
                Some(slot) => f(&mut slot.state, true),
                None => self.with_empty(f),
            })
    }

    /// `f` on the state of an entity never seen (and `false`).
    pub fn with_empty<R>(&self, f: impl FnOnce(&mut KeyState, bool) -> R) -> R {
        let mut empty = self.empty.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut empty, false)
    }

    /// The first read time after `t` at which entity `key`'s values may change
    /// without a new event (`KeyState::next_change_after`, in read time).
    pub fn next_change(&self, key: &[Value], t: i64) -> Result<Option<i64>, StreamError> {
        let at = self.plan.state_time(t);
        let delay = self.plan.delay_us;
        self.with_state(key, |state, known| {
            if !known {
                return None;
            }
            let change = state.next_change_after(at)?;
            Some(change.saturating_add(delay))
        })
    }

    /// Promises reads at `>= horizon` to every held entity (drops what no window
    /// needs) and forgets every entity past its retention at the horizon.
    pub fn compact(&self, horizon: i64) {
        let at = self.plan.state_time(horizon);
        self.entities.compact(at);
        self.entities.settle();
        self.entities.expire(at);
    }
}
