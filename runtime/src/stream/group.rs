//! One aggregate node at run time: its compiled row expressions (input and filter
//! slots), its entity key index and one `KeyState` per entity.
//!
//! Slots are deduplicated by their lowered DataFusion expression (lets inlined), the
//! same expressions the batch plan projects, evaluated by the same `expr` module, so
//! both paths feed identical values to the shared window state.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray};
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::logical_expr::Expr as DfExpr;
use datafusion::physical_expr::PhysicalExpr;

use super::cells::Cells;
use super::encode::{encode_filter, encode_input};
use super::error::StreamError;
use super::graph::{AggregateOp, NodeId, StreamGraph};
use super::intern::Interner;
use super::key::KeyIndex;
use crate::agg::AggError;
use crate::ir::{AggKind, DataType, Expr, Let};
use crate::value::Value;
use crate::window::{EncodedRows, FeatureSpec, KeySpec, KeyState, Ttl, PREFETCH_STAGES};

/// A filter slot: the row counts when the view filter and the feature filter (each
/// an index into `Group::masks`, `None` = no filter) are both true.
type FilterSlot = (Option<usize>, Option<usize>);

pub(crate) struct Group {
    pub node: NodeId,
    pub entity: String,
    pub key_names: Vec<String>,
    pub key_types: Vec<DataType>,
    /// Column indices of the key columns in the source's conformed batches.
    pub key_cols: Vec<usize>,
    /// Input slot expressions, and their types.
    inputs: Vec<(Arc<dyn PhysicalExpr>, DataType)>,
    /// Distinct boolean expressions (view filters and feature filters).
    masks: Vec<Arc<dyn PhysicalExpr>>,
    filters: Vec<FilterSlot>,
    spec: Arc<KeySpec>,
    /// Graph features (then one hidden ttl count per ttl check).
    pub names: Vec<Arc<str>>,
    /// For each graph feature, the index of its hidden ttl count among the spec's features.
    pub ttl_probe: Vec<Option<usize>>,
    pub keys: KeyIndex,
    pub states: Vec<KeyState>,
    /// A state that never sees an event: the values of an unknown entity.
    pub empty: KeyState,
    /// String cells shared across rows (see `intern`).
    strings: Interner,
    /// `Options::fold_run` for every new entity state.
    fold_run: u32,
    /// Reused per-batch buffer: the batch's rows in the window state's encoding.
    rows: EncodedRows,
    /// Reused per-batch buffer: each pushed row's entity (`None`: null key).
    row_ids: Vec<Option<u32>>,
}

/// A batch's slot values for one group.
pub(crate) struct Evaluated {
    inputs: Vec<ArrayRef>,
    masks: Vec<BooleanArray>,
}

fn lowered(expr: &Expr, lets: &[Let], context: &str) -> Result<DfExpr, StreamError> {
    crate::expr::to_datafusion(expr, lets).map_err(|error| StreamError::Expr {
        context: context.to_string(),
        error,
    })
}

fn slot(list: &mut Vec<DfExpr>, e: DfExpr) -> usize {
    match list.iter().position(|x| *x == e) {
        Some(i) => i,
        None => {
            list.push(e);
            list.len() - 1
        }
    }
}

impl Group {
    /// Plans aggregate node `node` for batches of `schema` (the source's conformed
    /// schema, see `StreamRuntime`).
    pub fn new(
        graph: &StreamGraph,
        node: NodeId,
        op: &AggregateOp,
        schema: &Schema,
        fold_run: u32,
    ) -> Result<Group, StreamError> {
        let key_by = graph.key_by(op.key_by).ok_or(StreamError::Graph(
            super::graph::GraphError::BadRef {
                node,
                expected: "key_by",
                target: op.key_by,
            },
        ))?;
        let source = graph
            .source(key_by.source)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let mut key_cols = Vec::new();
        for c in &key_by.key_columns {
            let i = schema.index_of(c).map_err(|_| StreamError::MissingColumn {
                table: source.clone(),
                column: c.clone(),
            })?;
            key_cols.push(i);
        }
        let derive = |id: NodeId| {
            graph
                .derive(id)
                .ok_or(StreamError::Graph(super::graph::GraphError::BadRef {
                    node,
                    expected: "derive",
                    target: id,
                }))
        };

        let mut input_exprs: Vec<DfExpr> = Vec::new();
        let mut input_types: Vec<DataType> = Vec::new();
        let mut mask_exprs: Vec<DfExpr> = Vec::new();
        let mut filters: Vec<FilterSlot> = Vec::new();
        let mut filter_slot = |fs: FilterSlot| -> Option<usize> {
            if fs == (None, None) {
                return None;
            }
            Some(match filters.iter().position(|x| *x == fs) {
                Some(i) => i,
                None => {
                    filters.push(fs);
                    filters.len() - 1
                }
            })
        };
        let mut specs = Vec::new();
        let mut names = Vec::new();
        for f in &op.features {
            let d = derive(f.derive)?;
            let context = format!("feature `{}`", f.name);
            let view_mask = match &d.filter {
                Some(e) => Some(slot(&mut mask_exprs, lowered(e, &d.lets, &context)?)),
                None => None,
            };
            let feature_mask = match &f.filter {
                Some(e) => Some(slot(&mut mask_exprs, lowered(e, &d.lets, &context)?)),
                None => None,
            };
            let input = match &f.arg {
                Some(e) => {
                    let i = slot(&mut input_exprs, lowered(e, &d.lets, &context)?);
                    if i == input_types.len() {
                        input_types.push(e.ty);
                    }
                    Some(i)
                }
                None => None,
            };
            let ttl = match f.ttl.and_then(|t| op.ttls.get(t)) {
                Some(t) => {
                    let td = derive(t.derive)?;
                    let m = match &td.filter {
                        Some(e) => Some(slot(&mut mask_exprs, lowered(e, &td.lets, &context)?)),
                        None => None,
                    };
                    Some(Ttl {
                        ttl_us: t.ttl_us,
                        filter: filter_slot((m, None)),
                    })
                }
                None => None,
            };
            specs.push(FeatureSpec {
                agg: f.agg,
                input,
                input_type: f.arg.as_ref().map(|e| e.ty),
                filter: filter_slot((view_mask, feature_mask)),
                window_us: f.window_us,
                ttl,
            });
            names.push(Arc::from(f.name.as_str()));
        }
        // Hidden probes telling a stale (ttl) null from a null value.
        let mut probes: Vec<(Ttl, usize)> = Vec::new();
        let mut ttl_probe = Vec::new();
        for i in 0..specs.len() {
            let Some(t) = specs[i].ttl else {
                ttl_probe.push(None);
                continue;
            };
            let p = match probes.iter().find(|(u, _)| *u == t) {
                Some((_, p)) => *p,
                None => {
                    let p = specs.len();
                    specs.push(FeatureSpec {
                        agg: AggKind::CountStar,
                        input: None,
                        input_type: None,
                        filter: t.filter,
                        window_us: Some(t.ttl_us),
                        ttl: None,
                    });
                    probes.push((t, p));
                    p
                }
            };
            ttl_probe.push(Some(p));
        }

        let spec = KeySpec::new(specs, input_exprs.len(), filters.len()).map_err(|error| {
            StreamError::Spec {
                feature: graph
                    .node(node)
                    .map(|_| format!("aggregate n{}", node.0))
                    .unwrap_or_default(),
                error,
            }
        })?;
        let spec = Arc::new(spec);
        let compile = |e: &DfExpr| {
            crate::expr::compile_datafusion(e, schema).map_err(|error| StreamError::Expr {
                context: format!("aggregate n{} of source `{source}`", node.0),
                error,
            })
        };
        let inputs = input_exprs
            .iter()
            .zip(input_types)
            .map(|(e, t)| Ok((compile(e)?, t)))
            .collect::<Result<Vec<_>, StreamError>>()?;
        let masks = mask_exprs
            .iter()
            .map(compile)
            .collect::<Result<Vec<_>, StreamError>>()?;
        Ok(Group {
            node,
            entity: key_by.entity.clone(),
            key_names: key_by.key_names.clone(),
            key_types: key_by.key_types.clone(),
            key_cols,
            inputs,
            masks,
            filters,
            empty: KeyState::new(spec.clone()),
            spec,
            names,
            ttl_probe,
            keys: KeyIndex::new(&key_by.key_types),
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
        let eval = |e: &Arc<dyn PhysicalExpr>| {
            crate::expr::evaluate_compiled(e, batch).map_err(|error| StreamError::Expr {
                context: format!("aggregate n{}", self.node.0),
                error,
            })
        };
        let mut inputs = Vec::with_capacity(self.inputs.len());
        for (e, ty) in &self.inputs {
            let a = eval(e)?;
            if Cells::new(&a, *ty).is_none() {
                return Err(StreamError::Expr {
                    context: format!("aggregate n{}", self.node.0),
                    error: crate::expr::ExprError::Eval(format!(
                        "an input evaluated to {}, expected {}",
                        a.data_type(),
                        ty.name()
                    )),
                });
            }
            inputs.push(a);
        }
        let mut masks = Vec::with_capacity(self.masks.len());
        for e in &self.masks {
            let a = eval(e)?;
            let b = a
                .as_any()
                .downcast_ref::<BooleanArray>()
                .cloned()
                .ok_or_else(|| StreamError::Expr {
                    context: format!("aggregate n{}", self.node.0),
                    error: crate::expr::ExprError::Eval(format!(
                        "a filter evaluated to {}",
                        a.data_type()
                    )),
                })?;
            masks.push(b);
        }
        Ok(Evaluated { inputs, masks })
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
        for (slot, (a, (_, t))) in ev.inputs.iter().zip(&self.inputs).enumerate() {
            if let Some(cells) = Cells::new(a, *t) {
                encode_input(&mut self.rows, slot, &cells, &mut self.strings);
            }
        }
        for (f, (v, m)) in self.filters.iter().enumerate() {
            let view = v.map(|i| &ev.masks[i]);
            let feature = m.map(|i| &ev.masks[i]);
            encode_filter(&mut self.rows, f, view, feature);
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
                state.promise(h);
            }
        }
        null_keys
    }

    /// Every feature (hidden probes included) of entity `id` (`None`: unknown entity)
    /// at `t`, into `out`.
    pub fn read_into(&mut self, id: Option<u32>, t: i64, out: &mut Vec<Result<Value, AggError>>) {
        match id.and_then(|i| self.states.get_mut(i as usize)) {
            Some(s) => s.read_into(t, out),
            None => self.empty.read_into(t, out),
        }
    }

    pub fn state_bytes(&self) -> usize {
        self.states.iter().map(KeyState::approx_bytes).sum()
    }

    /// Promises reads at `>= horizon` to every entity (drops what no window needs).
    pub fn compact(&mut self, horizon: i64) {
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
