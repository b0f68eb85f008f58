//! The point-in-time computation of one group: events and spine rows are bucketed by
//! dense key id and sorted by time within each key, then every key is one linear merge
//! of its events with its spine rows through a shared `KeyState`. Keys are split
//! between threads; each key is handled by exactly one thread, so results do not
//! depend on the split.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::common::{DataFusionError, Result};

use super::keys::{KeyIds, SpineKeyIndex, NO_KEY};
use super::node::{input_column, key_column, predicate_column, TIME_COLUMN};
use super::timing::Phases;
use super::values::{returns_input, to_array, InputColumn};
use crate::agg::{AggError, FeatureError};
use crate::expr::mask::{conjunction, trues};
use crate::ir::DataType;
use crate::plan::GroupPlan;
use crate::value::Value;
use crate::window::{EncodedRows, KeySpec, KeyState};

/// What the spine looks like to a group: its rows' key columns and times (µs).
pub struct SpineView<'a> {
    pub keys: Vec<ArrayRef>,
    pub times: &'a [i64],
}

/// The result of one group: one array per feature (in group order), spine-row aligned.
pub struct GroupOutput {
    pub columns: Vec<ArrayRef>,
    /// Event rows skipped because a key column was null.
    pub null_keys: usize,
}

/// Computes every feature of `group` for every spine row. `events` holds the group's
/// input (see `node`), already concatenated.
pub fn compute_group(
    group: &GroupPlan,
    events: &RecordBatch,
    spine: &SpineView<'_>,
    threads: usize,
) -> Result<GroupOutput> {
    let column = |name: &str| -> Result<&ArrayRef> {
        events
            .column_by_name(name)
            .ok_or_else(|| DataFusionError::Internal(format!("group input has no column {name}")))
    };
    let mut phases = Phases::start();
    let key_types: Vec<DataType> = group.keys.iter().map(|k| k.ty).collect();
    let (index, spine_ids) = SpineKeyIndex::from_spine(&spine.keys, &key_types)?;
    let event_keys: Vec<ArrayRef> = (0..key_types.len())
        .map(|i| column(&key_column(i)).cloned())
        .collect::<Result<_>>()?;
    let KeyIds { ids, null_keys } = index.lookup(&event_keys, &key_types)?;
    let ts_array = column(TIME_COLUMN)?;
    let ts_array = ts_array
        .as_primitive_opt::<TimestampMicrosecondType>()
        .ok_or_else(|| DataFusionError::Internal("group time column is not µs".into()))?;
    if ts_array.null_count() > 0 {
        return Err(DataFusionError::Execution(format!(
            "source `{}`: null event time",
            group.source
        )));
    }
    let ts: &[i64] = ts_array.values();

    let inputs: Vec<InputColumn> = group
        .inputs
        .iter()
        .enumerate()
        .map(|(i, input)| InputColumn::new(column(&input_column(i))?, input.ty))
        .collect::<Result<_>>()?;
    let predicates: Vec<BooleanBuffer> = (0..group.predicates.len())
        .map(|i| {
            trues(column(&predicate_column(i))?)
                .map_err(|e| DataFusionError::Execution(format!("{}: {e}", group.describe())))
        })
        .collect::<Result<_>>()?;
    let filters: Vec<BooleanBuffer> = group
        .filters
        .iter()
        .map(|f| conjunction(f, &predicates, events.num_rows()))
        .collect();
    let fed: Vec<DataType> = inputs
        .iter()
        .zip(&group.inputs)
        .map(|(c, e)| c.fed_type(e.ty))
        .collect();
    let spec = KeySpec::from_plan(group, &fed)
        .map_err(|e| DataFusionError::Internal(format!("{}: {e}", group.describe())))?;
    let spec = Arc::new(spec);
    phases.mark("key ids, input columns");

    let n_keys = index.len();
    let events_by_key = bucket(&ids, n_keys, ts);
    let spine_by_key = bucket(&spine_ids.ids, n_keys, spine.times);
    phases.mark("sort by key and time");

    let job = Job {
        group,
        spine_view: spine,
        spec: &spec,
        ts,
        inputs: &inputs,
        filters: &filters,
        times: spine.times,
        events: &events_by_key,
        spine: &spine_by_key,
    };
    let n_features = group.features.len();
    let n_rows = spine.times.len();
    let mut results: Vec<Vec<Value>> = vec![vec![Value::Null; n_rows]; n_features];
    let ranges = split(&events_by_key.starts, &spine_by_key.starts, threads.max(1));
    let parts: Vec<Result<KeyRows>> = if ranges.len() <= 1 {
        vec![job.merge_keys(0, n_keys)]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = ranges
                .iter()
                .map(|&(a, b)| {
                    let job = &job;
                    s.spawn(move || job.merge_keys(a, b))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(DataFusionError::Internal(
                            "a point-in-time worker panicked".into(),
                        ))
                    })
                })
                .collect()
        })
    };
    for part in parts {
        for (row, values) in part? {
            for (f, v) in values.into_iter().enumerate() {
                results[f][row as usize] = v;
            }
        }
    }
    phases.mark("merge events and spine");
    // Spine rows with a null key: the entity was never seen.
    let unseen: Vec<usize> = (0..n_rows)
        .filter(|&r| spine_ids.ids[r] == NO_KEY)
        .collect();
    if !unseen.is_empty() {
        let mut state = KeyState::new(Arc::clone(&spec));
        let mut out = Vec::new();
        for r in unseen {
            state.read_into(spine.times[r], &mut out);
            for (f, v) in out.drain(..).enumerate() {
                results[f][r] = v.map_err(|e| agg_error(group, spine, r, f, e))?;
            }
        }
    }
    let columns = group
        .features
        .iter()
        .zip(results)
        .map(|(f, values)| {
            let strings = match f.input {
                Some(i) if returns_input(f.agg) => inputs[i].strings().map(|s| s.as_slice()),
                _ => None,
            };
            to_array(f.ty, &values, strings)
        })
        .collect::<Result<_>>()?;
    phases.mark("feature columns");
    Ok(GroupOutput { columns, null_keys })
}

/// Feature `f` of `group` failed for the spine row `row` (its key and time).
fn agg_error(
    group: &GroupPlan,
    spine: &SpineView<'_>,
    row: usize,
    f: usize,
    error: AggError,
) -> DataFusionError {
    let entity: Vec<String> = group
        .keys
        .iter()
        .zip(&spine.keys)
        .map(|(k, column)| {
            let value = array_value_to_string(column, row).unwrap_or_default();
            let value = if column.is_null(row) {
                "null".to_string()
            } else {
                value
            };
            format!("{} = {value}", k.name)
        })
        .collect();
    let located = FeatureError {
        feature: group
            .features
            .get(f)
            .map_or("?", |f| f.name.as_str())
            .to_string(),
        entity: entity.join(", "),
        at: spine.times.get(row).copied().unwrap_or_default(),
        error,
    };
    DataFusionError::External(Box::new(located))
}

/// Rows grouped by key id: `rows[starts[k]..starts[k + 1]]` are key `k`'s rows in
/// increasing sort key order.
struct Buckets {
    rows: Vec<u32>,
    starts: Vec<usize>,
}

/// A counting sort by key id, then a sort of each key's rows by `(time, row)`.
fn bucket(ids: &[u32], n_keys: usize, times: &[i64]) -> Buckets {
    let mut starts = vec![0usize; n_keys + 1];
    for &id in ids {
        if id != NO_KEY {
            starts[id as usize + 1] += 1;
        }
    }
    for k in 0..n_keys {
        starts[k + 1] += starts[k];
    }
    let mut next = starts.clone();
    let mut rows = vec![0u32; starts[n_keys]];
    for (r, &id) in ids.iter().enumerate() {
        if id != NO_KEY {
            rows[next[id as usize]] = r as u32;
            next[id as usize] += 1;
        }
    }
    for k in 0..n_keys {
        let run = &mut rows[starts[k]..starts[k + 1]];
        // Rows are already in increasing row order, so a stable sort by time alone
        // gives (time, row) order.
        run.sort_by_key(|&r| times[r as usize]);
    }
    Buckets { rows, starts }
}

/// Splits `0..n_keys` into at most `threads` contiguous ranges of similar work.
fn split(events: &[usize], spine: &[usize], threads: usize) -> Vec<(usize, usize)> {
    let n_keys = events.len().saturating_sub(1);
    let total = events[n_keys] + spine[n_keys];
    if threads <= 1 || n_keys < 2 || total < 4096 {
        return vec![(0, n_keys)];
    }
    let mut ranges = Vec::new();
    let mut start = 0;
    for i in 1..threads {
        let goal = total * i / threads;
        let mut end = start;
        while end < n_keys && events[end] + spine[end] < goal {
            end += 1;
        }
        ranges.push((start, end));
        start = end;
    }
    ranges.push((start, n_keys));
    ranges.retain(|(a, b)| a < b);
    ranges
}

/// Spine rows with their feature values (in group feature order), as a worker
/// returns them.
type KeyRows = Vec<(u32, Vec<Value>)>;

/// Everything a worker needs, shared read-only between threads.
struct Job<'a> {
    group: &'a GroupPlan,
    spine_view: &'a SpineView<'a>,
    spec: &'a Arc<KeySpec>,
    ts: &'a [i64],
    inputs: &'a [InputColumn],
    filters: &'a [BooleanBuffer],
    times: &'a [i64],
    events: &'a Buckets,
    spine: &'a Buckets,
}

impl Job<'_> {
    /// Keys `a..b`: every spine row of theirs with its feature values.
    fn merge_keys(&self, a: usize, b: usize) -> Result<KeyRows> {
        let mut out = Vec::with_capacity(self.spine.starts[b] - self.spine.starts[a]);
        let mut encoded = EncodedRows::default();
        let mut read = Vec::with_capacity(self.group.features.len());
        for k in a..b {
            let events = &self.events.rows[self.events.starts[k]..self.events.starts[k + 1]];
            let rows = &self.spine.rows[self.spine.starts[k]..self.spine.starts[k + 1]];
            let mut state = KeyState::new(Arc::clone(self.spec));
            let mut e = 0;
            for &row in rows {
                let t = self.times[row as usize];
                while e < events.len() && self.ts[events[e] as usize] <= t {
                    let r = events[e] as usize;
                    encoded.reset(&self.spec.layout, 1);
                    for (slot, c) in self.inputs.iter().enumerate() {
                        c.encode(r, &mut encoded, slot);
                    }
                    for (f, _) in self.filters.iter().enumerate().filter(|(_, f)| f.value(r)) {
                        encoded.set_filter(0, f);
                    }
                    encoded.seal();
                    state.push_row(self.ts[r], r as u64, encoded.row(0));
                    e += 1;
                }
                state.read_into(t, &mut read);
                state.drop_before(t);
                let feature_values = read
                    .drain(..)
                    .enumerate()
                    .map(|(f, v)| {
                        v.map_err(|e| agg_error(self.group, self.spine_view, row as usize, f, e))
                    })
                    .collect::<Result<Vec<Value>>>()?;
                out.push((row, feature_values));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_sort_rows_by_key_then_time_then_row() {
        let ids = [1, 0, NO_KEY, 1, 0, 1];
        let ts = [5i64, 3, 0, 5, 1, 2];
        let b = bucket(&ids, 2, &ts);
        assert_eq!(b.starts, vec![0, 2, 5]);
        assert_eq!(b.rows, vec![4, 1, 5, 0, 3]);
    }

    #[test]
    fn split_covers_every_key_once() {
        let events: Vec<usize> = (0..=100).map(|k| k * 100).collect();
        let spine: Vec<usize> = (0..=100).collect();
        let ranges = split(&events, &spine, 2);
        assert_eq!(ranges.len(), 2);
        assert_eq!(ranges[0].0, 0);
        assert_eq!(ranges[0].1, ranges[1].0);
        assert_eq!(ranges[1].1, 100);
    }
}
