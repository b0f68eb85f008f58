//! One aggregate node at run time: its group plan's slot evaluator, its entity key
//! index and one `KeyState` per entity.
//!
//! The plan's expressions are evaluated by `expr::slots::SlotEvaluator` and filters
//! turned into bits by `expr::mask`, as the batch operator does, so both paths feed
//! identical rows to the shared window state.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::record_batch::RecordBatch;

use super::error::StreamError;
use super::graph::NodeId;
use super::key::EntityIndex;
use crate::agg::AggError;
use crate::expr::mask::{conjunction, trues};
use crate::expr::slots::SlotEvaluator;
use crate::ir::DataType;
use crate::plan::GroupPlan;
use crate::row::{Cells, Interner};
use crate::value::Value;
use crate::window::{encode_filter, encode_input, EncodedRows, KeySpec, KeyState, PREFETCH_STAGES};

pub(crate) struct Group {
    pub node: NodeId,
    pub plan: GroupPlan,
    pub key_types: Vec<DataType>,
    /// Column indices of the key columns in the source's conformed batches.
    pub key_cols: Vec<usize>,
    slots: SlotEvaluator,
    pub(crate) spec: Arc<KeySpec>,
    pub names: Vec<Arc<str>>,
    pub keys: EntityIndex,
    pub states: Vec<KeyState>,
    /// A state that never sees an event: the values of an unknown entity.
    pub empty: KeyState,
    /// String cells shared across rows (see `intern`).
    pub(crate) strings: Interner,
    /// `Options::fold_run` for every new entity state.
    fold_run: u32,
    /// Reused per-batch buffer: the batch's rows in the window state's encoding.
    rows: EncodedRows,
    /// Reused per-batch buffer: each pushed row's entity (`None`: null key).
    row_ids: Vec<Option<u32>>,
}

/// A batch's slot values for one group: its inputs, and the rows passing each filter.
pub(crate) struct Evaluated {
    inputs: Vec<ArrayRef>,
    filters: Vec<BooleanBuffer>,
}

impl Group {
    /// Plans aggregate node `node` (its group plan `plan`) for batches of `schema`
    /// (the source's conformed schema, see `StreamRuntime`).
    pub fn new(
        node: NodeId,
        plan: &GroupPlan,
        schema: &Schema,
        fold_run: u32,
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
        Ok(Group {
            node,
            plan: plan.clone(),
            keys: EntityIndex::new(&key_types),
            key_types,
            key_cols,
            slots,
            empty: KeyState::new(spec.clone()),
            spec,
            names: plan.feature_names().map(Arc::from).collect(),
            states: Vec::new(),
            strings: Interner::default(),
            fold_run,
            rows: EncodedRows::default(),
            row_ids: Vec::new(),
        })
    }

    /// Evaluates the slots on a conformed batch (no state is touched, so a failing
    /// batch leaves the runtime as it was).
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<Evaluated, StreamError> {
        let slots = self
            .slots
            .evaluate(batch)
            .map_err(|e| StreamError::Slot(Box::new(e)))?;
        let internal = |message: String| StreamError::Expr {
            context: format!("aggregate n{} ({})", self.node.0, self.plan.describe()),
            error: crate::expr::ExprError::Eval(message),
        };
        for (a, e) in slots.inputs.iter().zip(&self.plan.inputs) {
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
        let filters = self
            .plan
            .filters
            .iter()
            .map(|f| conjunction(f, &predicates, batch.num_rows()))
            .collect();
        Ok(Evaluated {
            inputs: slots.inputs,
            filters,
        })
    }

    /// Pushes the rows `rows` of a conformed batch (times `ts`, sequence numbers from
    /// `seq`) into their entities' states, then promises reads at `>= horizon` to
    /// each touched state. Returns the number of rows skipped for a null key.
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
        let key_arrays: Vec<&ArrayRef> = self.key_cols.iter().map(|&i| batch.column(i)).collect();
        let key_cells: Vec<Cells<'_>> = key_arrays
            .iter()
            .zip(&self.key_types)
            .filter_map(|(a, t)| Cells::new(a, *t))
            .collect();
        // Every row's inputs and filters in the buffer's encoding, column by column.
        self.rows.reset(&self.spec.layout, batch.num_rows());
        for (slot, (a, e)) in ev.inputs.iter().zip(&self.plan.inputs).enumerate() {
            if let Some(cells) = Cells::new(a, e.ty) {
                encode_input(&mut self.rows, slot, &cells, &mut self.strings);
            }
        }
        for (f, pass) in ev.filters.iter().enumerate() {
            encode_filter(&mut self.rows, f, pass);
        }
        self.rows.seal();
        // First every row's entity, so the loop below can load the states of the rows
        // a few places ahead while it works on this one (on a large key space each
        // state is a cache miss, and misses issued together overlap).
        let mut null_keys = 0;
        self.row_ids.clear();
        for &row in rows {
            let id = self.keys.get_or_insert(&key_cells, row);
            match id {
                None => null_keys += 1,
                Some(id) if id as usize == self.states.len() => {
                    let mut state = KeyState::new(self.spec.clone());
                    state.set_fold_run(self.fold_run);
                    self.states.push(state);
                }
                Some(_) => {}
            }
            self.row_ids.push(id);
        }
        for (i, ((&row, &seq), &id)) in rows.iter().zip(seqs).zip(&self.row_ids).enumerate() {
            for (stage, &distance) in PREFETCH_STAGES.iter().enumerate() {
                if let Some(&Some(k)) = self.row_ids.get(i + distance) {
                    let s = &self.states[k as usize];
                    s.prefetch(stage, stage > 0 && s.drop_due());
                }
            }
            let Some(id) = id else { continue };
            let state = &mut self.states[id as usize];
            state.push_row(ts[row], seq, self.rows.row(row));
            if let Some(h) = horizon {
                state.promise(self.plan.state_time(h));
            }
        }
        null_keys
    }

    /// Every feature of entity `id` (`None`: unknown entity) read at `t`, into `out`.
    /// Times here are read times; a delayed source's state is read at
    /// `GroupPlan::state_time(t)`.
    pub fn read_into(&mut self, id: Option<u32>, t: i64, out: &mut Vec<Result<Value, AggError>>) {
        let t = self.plan.state_time(t);
        match id.and_then(|i| self.states.get_mut(i as usize)) {
            Some(s) => s.read_into(t, out),
            None => self.empty.read_into(t, out),
        }
    }

    /// `read_into`, and whether each feature is stale (its ttl has passed) into `stale`.
    pub fn read_with_staleness_into(
        &mut self,
        id: Option<u32>,
        t: i64,
        out: &mut Vec<Result<Value, AggError>>,
        stale: &mut Vec<bool>,
    ) {
        let t = self.plan.state_time(t);
        match id.and_then(|i| self.states.get_mut(i as usize)) {
            Some(s) => s.read_with_staleness_into(t, out, stale),
            None => self.empty.read_with_staleness_into(t, out, stale),
        }
    }

    /// The time of entity `id`'s latest event passing `filter` that a read at `t`
    /// sees (at or before `state_time(t)`).
    pub fn latest_seen(&self, id: Option<u32>, t: i64, filter: Option<usize>) -> Option<i64> {
        let state = self.states.get(id? as usize)?;
        state.latest_at_or_before_where(self.plan.state_time(t), filter)
    }

    /// The first read time after `t` at which entity `id`'s values may change
    /// without a new event (`KeyState::next_change_after`, in read time).
    pub fn next_change(&self, id: u32, t: i64) -> Option<i64> {
        let state = self.states.get(id as usize)?;
        let change = state.next_change_after(self.plan.state_time(t))?;
        Some(change.saturating_add(self.plan.delay_us))
    }

    pub fn state_bytes(&self) -> usize {
        self.states.iter().map(KeyState::approx_bytes).sum()
    }

    /// Promises reads at `>= horizon` to every entity (drops what no window needs).
    pub fn compact(&mut self, horizon: i64) {
        let horizon = self.plan.state_time(horizon);
        for i in 0..self.states.len() {
            for (stage, &distance) in PREFETCH_STAGES.iter().enumerate() {
                if let Some(s) = self.states.get(i + distance) {
                    s.prefetch(stage, true);
                }
            }
            self.states[i].drop_before(horizon);
        }
    }
}
