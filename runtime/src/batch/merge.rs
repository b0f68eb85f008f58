//! The point-in-time merge of one group in one partition, streaming: the group's
//! events sorted by (key, time) and the spine rows sorted by (key, time, row) are read
//! batch by batch, side by side; each key's events go through one `KeyState` (the
//! streaming runtime's state) up to each of its spine rows' time, which is read
//! there. Memory holds one batch of each side and the state of one key, whatever the
//! size of the input: the sorts before it spill to disk, this never needs to.
//!
//! Invariants: the output has one row per spine row of the partition (its `__row` and
//! the group's feature values); events of keys no spine row reads, and events after
//! a key's last spine row, are passed over; an event with a null key is counted, never
//! read; a spine row with a null key reads a state that never saw an event.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt64Array};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::{Int64Type, SchemaRef, TimestampMicrosecondType, UInt64Type};
use datafusion::arrow::row::{OwnedRow, RowConverter, Rows, SortField};
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;
use tokio::sync::mpsc::Sender;

use super::bool_pack::{self, BoolLayout};
use super::node::{bools_column, input_column, key_column, ROW_COLUMN, SPINE_TIME, TIME_COLUMN};
use super::sort_key;
use crate::agg::{AggError, FeatureError};
use crate::expr::mask::{conjunction, trues};
use crate::plan::GroupPlan;
use crate::row::types::arrow_type;
use crate::row::{Cells, Interner, ValuesBuilder};
use crate::value::Value;
use crate::window::{encode_filter, encode_input, EncodedRows, KeySpec, KeyState};

/// The key columns of a batch in the row format (byte order is the sort order the
/// inputs were sorted in), and which rows have a null in some key column.
struct KeyRows {
    rows: Rows,
    null: Vec<bool>,
}

fn key_rows(converter: &RowConverter, columns: &[ArrayRef]) -> Result<KeyRows> {
    let rows = converter.convert_columns(columns)?;
    let n = columns.first().map_or(0, |c| c.len());
    let null = (0..n)
        .map(|r| columns.iter().any(|c| c.is_null(r)))
        .collect();
    Ok(KeyRows { rows, null })
}

/// One batch of events, encoded for the window state.
struct EventBatch {
    keys: KeyRows,
    ts: Vec<i64>,
    encoded: EncodedRows,
    pos: usize,
}

/// One batch of spine rows.
struct SpineBatch {
    keys: KeyRows,
    key_columns: Vec<ArrayRef>,
    times: Vec<i64>,
    rows: UInt64Array,
}

/// Everything one partition's merge needs.
pub struct Merge {
    pub group: Arc<GroupPlan>,
    pub spec: Arc<KeySpec>,
    /// The output: `__row`, then the group's features.
    pub schema: SchemaRef,
    pub events: SendableRecordBatchStream,
    pub spine: SendableRecordBatchStream,
}

/// What a partition's merge counted.
#[derive(Debug, Default, Clone, Copy)]
pub struct MergeCounts {
    /// Events skipped for a null key.
    pub null_keys: usize,
}

impl Merge {
    /// Runs the merge, sending each output batch (one per spine batch) to `out`;
    /// returns the counts once both inputs are drained (or early, with what was
    /// counted, when the receiver is gone).
    pub async fn run(mut self, out: &Sender<Result<RecordBatch>>) -> Result<MergeCounts> {
        let key_fields: Vec<SortField> = self
            .group
            .keys
            .iter()
            .map(|k| SortField::new(arrow_type(k.ty)))
            .collect();
        let converter = RowConverter::new(key_fields)?;
        let bools = BoolLayout::of(&self.group);
        let mut strings = Interner::default();
        let mut counts = MergeCounts::default();
        let mut events: Option<EventBatch> = None;
        let mut events_done = false;
        let mut seq: u64 = 0;
        let mut current: Option<(OwnedRow, KeyState)> = None;
        let mut read = Vec::with_capacity(self.group.features.len());
        // The partition's first failure (`FeatureError::precedes`): once one is met
        // the rest of the partition is still read, not answered, for an earlier one.
        let mut failed: Option<FeatureError> = None;
        while let Some(batch) = self.spine.next().await {
            let spine = self.spine_batch(&converter, &batch?)?;
            let n = spine.times.len();
            let mut values: Vec<ValuesBuilder> = self
                .group
                .features
                .iter()
                .map(|f| ValuesBuilder::new(f.ty, n))
                .collect();
            for r in 0..n {
                let t = spine.times[r];
                if spine.keys.null[r] {
                    // A null key names no entity: the state of one never seen.
                    let mut state = KeyState::new(Arc::clone(&self.spec));
                    state.read_into(t, &mut read);
                    self.take_values(&spine, r, &mut read, &mut values, &mut failed)?;
                    continue;
                }
                let key = spine.keys.rows.row(r);
                let same = matches!(&current, Some((k, _)) if k.row() == key);
                if !same {
                    current = Some((key.owned(), KeyState::new(Arc::clone(&self.spec))));
                }
                let Some((_, state)) = current.as_mut() else {
                    continue;
                };
                // Every event of this key up to `t`; events of smaller keys are passed.
                loop {
                    if events.as_ref().is_none_or(|e| e.pos >= e.ts.len()) {
                        events = None;
                        if events_done {
                            break;
                        }
                        match self.events.next().await {
                            Some(b) => {
                                events =
                                    Some(self.event_batch(&converter, &bools, &b?, &mut strings)?)
                            }
                            None => {
                                events_done = true;
                                break;
                            }
                        }
                        continue;
                    }
                    let Some(e) = events.as_mut() else { break };
                    let i = e.pos;
                    if e.keys.null[i] {
                        counts.null_keys += 1;
                        e.pos += 1;
                        continue;
                    }
                    match e.keys.rows.row(i).cmp(&key) {
                        std::cmp::Ordering::Less => e.pos += 1,
                        std::cmp::Ordering::Equal if e.ts[i] <= t => {
                            state.push_row(e.ts[i], seq, e.encoded.row(i));
                            seq += 1;
                            e.pos += 1;
                        }
                        _ => break,
                    }
                }
                state.read_into(t, &mut read);
                state.drop_before(t);
                self.take_values(&spine, r, &mut read, &mut values, &mut failed)?;
            }
            if failed.is_some() {
                continue;
            }
            let batch = self.output(&spine, values)?;
            if out.send(Ok(batch)).await.is_err() {
                return Ok(counts);
            }
        }
        // The rest of the events: nothing reads them, but null keys are counted.
        loop {
            if let Some(e) = events.take() {
                counts.null_keys += e.keys.null[e.pos.min(e.keys.null.len())..]
                    .iter()
                    .filter(|n| **n)
                    .count();
            }
            match self.events.next().await {
                Some(b) => {
                    let b = b?;
                    let keys = self.event_keys(&b)?;
                    counts.null_keys += (0..b.num_rows())
                        .filter(|&r| keys.iter().any(|c| c.is_null(r)))
                        .count();
                }
                None => break,
            }
        }
        match failed {
            Some(e) => Err(DataFusionError::External(Box::new(e))),
            None => Ok(counts),
        }
    }

    fn spine_batch(&self, converter: &RowConverter, batch: &RecordBatch) -> Result<SpineBatch> {
        let key_columns: Vec<ArrayRef> = self
            .group
            .keys
            .iter()
            .map(|k| column(batch, &k.name))
            .collect::<Result<_>>()?;
        let keys = key_rows(converter, &key_columns)?;
        let times = column(batch, SPINE_TIME)?;
        let times = times
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| internal("the spine's time is not int64 microseconds"))?
            .values()
            .to_vec();
        let rows = column(batch, ROW_COLUMN)?
            .as_primitive_opt::<UInt64Type>()
            .ok_or_else(|| internal("the spine's row numbers are not uint64"))?
            .clone();
        Ok(SpineBatch {
            keys,
            key_columns,
            times,
            rows,
        })
    }

    /// The key columns of a batch of events, read out of the packed sort key where
    /// the group has one (`sort_key`).
    fn event_keys(&self, batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
        match self.group.keys.as_slice() {
            [k] if sort_key::packs(&self.group) => Ok(vec![sort_key::keys(
                &column(batch, sort_key::SORT_KEY_COLUMN)?,
                &arrow_type(k.ty),
            )?]),
            keys => (0..keys.len())
                .map(|i| column(batch, &key_column(i)))
                .collect(),
        }
    }

    /// The times of a batch of events, read out of the packed sort key where the
    /// group has one.
    fn event_times(&self, batch: &RecordBatch) -> Result<Vec<i64>> {
        if sort_key::packs(&self.group) {
            return sort_key::times(&column(batch, sort_key::SORT_KEY_COLUMN)?);
        }
        let ts = column(batch, TIME_COLUMN)?;
        let ts = ts
            .as_primitive_opt::<TimestampMicrosecondType>()
            .ok_or_else(|| internal("the group's time column is not µs"))?;
        if ts.null_count() > 0 {
            return Err(DataFusionError::Execution(format!(
                "source `{}`: null event time",
                self.group.source
            )));
        }
        Ok(ts.values().to_vec())
    }

    fn event_batch(
        &self,
        converter: &RowConverter,
        layout: &BoolLayout,
        batch: &RecordBatch,
        strings: &mut Interner,
    ) -> Result<EventBatch> {
        let group = &*self.group;
        let keys = key_rows(converter, &self.event_keys(batch)?)?;
        let ts = self.event_times(batch)?;
        let n = batch.num_rows();
        let words: Vec<ArrayRef> = (0..layout.words())
            .map(|j| column(batch, &bools_column(j)))
            .collect::<Result<_>>()?;
        let bools = bool_pack::unpack(&words, layout.count())?;
        let mut encoded = EncodedRows::default();
        encoded.reset(&self.spec.layout, n);
        for (slot, input) in group.inputs.iter().enumerate() {
            let array = match layout.inputs[slot] {
                Some(b) => Arc::clone(&bools[b]),
                None => column(batch, &input_column(slot))?,
            };
            let cells = Cells::new(&array, input.ty).ok_or_else(|| {
                internal(&format!(
                    "input {slot} of {} is {}, not {}",
                    group.describe(),
                    array.data_type(),
                    input.ty.name()
                ))
            })?;
            encode_input(&mut encoded, slot, &cells, strings);
        }
        let predicates: Vec<BooleanBuffer> = layout
            .predicates
            .iter()
            .map(|&b| {
                trues(&bools[b])
                    .map_err(|e| DataFusionError::Execution(format!("{}: {e}", group.describe())))
            })
            .collect::<Result<_>>()?;
        for (f, filter) in group.filters.iter().enumerate() {
            encode_filter(&mut encoded, f, &conjunction(filter, &predicates, n));
        }
        encoded.seal();
        Ok(EventBatch {
            keys,
            ts,
            encoded,
            pos: 0,
        })
    }

    /// Moves one spine row's read into the per-feature value lists; a failing
    /// feature is kept in `failed` when it precedes what is there.
    fn take_values(
        &self,
        spine: &SpineBatch,
        r: usize,
        read: &mut Vec<std::result::Result<Value, AggError>>,
        values: &mut [ValuesBuilder],
        failed: &mut Option<FeatureError>,
    ) -> Result<()> {
        for (f, v) in read.drain(..).enumerate() {
            let v = match v {
                Ok(v) => v,
                Err(e) => {
                    FeatureError::keep_first(failed, self.agg_error(spine, r, f, e));
                    continue;
                }
            };
            if failed.is_some() {
                continue;
            }
            if let Some(column) = values.get_mut(f) {
                if !column.append(&v) {
                    return Err(internal(&format!(
                        "feature `{}` produced a {} value",
                        self.group.features[f].name,
                        v.variant_name()
                    )));
                }
            }
        }
        Ok(())
    }

    fn output(&self, spine: &SpineBatch, mut values: Vec<ValuesBuilder>) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = vec![Arc::new(spine.rows.clone())];
        for v in &mut values {
            columns.push(v.finish().map_err(|e| internal(&e.to_string()))?);
        }
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }

    /// Feature `f` failed for spine row `r` of `spine` (named by its key and time).
    fn agg_error(&self, spine: &SpineBatch, r: usize, f: usize, error: AggError) -> FeatureError {
        let entity: Vec<String> = self
            .group
            .keys
            .iter()
            .zip(&spine.key_columns)
            .map(|(k, c)| {
                let value = if c.is_null(r) {
                    "null".to_string()
                } else {
                    array_value_to_string(c, r).unwrap_or_default()
                };
                format!("{} = {value}", k.name)
            })
            .collect();
        FeatureError {
            feature: self
                .group
                .features
                .get(f)
                .map_or("?", |f| f.name.as_str())
                .to_string(),
            entity: entity.join(", "),
            // The time the user gave (a delayed group reads its state earlier).
            at: spine.times.get(r).copied().unwrap_or_default() + self.group.delay_us,
            row: spine.rows.value(r),
            error,
        }
    }
}

/// Column `name` of a batch a featc operator made, or an internal error.
pub(super) fn column(batch: &RecordBatch, name: &str) -> Result<ArrayRef> {
    batch
        .column_by_name(name)
        .cloned()
        .ok_or_else(|| internal(&format!("no column `{name}` in a point-in-time input")))
}

pub(super) fn internal(message: &str) -> DataFusionError {
    DataFusionError::Internal(message.to_string())
}
