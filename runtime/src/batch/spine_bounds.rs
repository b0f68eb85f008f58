//! `SpineBounds`: for each entity key of a group's spine, the latest time a spine row
//! reads that key's state at (`__t`, the spine time less the source's delay). The
//! merge pushes an event into its key's state only up to a spine row of that key at
//! or after the event's time, so an event of a key no spine row names, or later than
//! its key's bound, is never read: `GroupPruneExec` drops it before the repartition,
//! the sort and the merge (an event with a null key is kept: the merge counts it).
//!
//! Invariants: an event is kept exactly when the merge could push it (its key equal
//! to a spine row's key, as the merge compares keys, and its time at or before that
//! row's `__t`); what is held is accounted (`size`) before it grows.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::{
    DataType as ArrowType, Date32Type, Decimal128Type, Int64Type, TimestampMicrosecondType,
};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{HashMap, Result};

use super::merge::{column, internal};
use super::node::{key_column, SPINE_TIME, TIME_COLUMN};
use super::sort_key;
use crate::plan::GroupPlan;
use crate::row::types::arrow_type;

/// Per key of a group's spine, the latest state time a spine row reads it at.
pub enum SpineBounds {
    /// A group with one integer-like key (its events carry the packed sort key):
    /// keyed by the key widened to `i64`, as `sort_key` packs it.
    Packed(HashMap<i64, i64>),
    /// Any other key: keyed by the key columns in the row format, the bytes the
    /// merge compares.
    Rows {
        converter: RowConverter,
        latest: HashMap<Box<[u8]>, i64>,
        /// Bytes of the keys held.
        key_bytes: usize,
    },
}

impl SpineBounds {
    /// Empty bounds for `group`'s keys.
    pub fn new(group: &GroupPlan) -> Result<SpineBounds> {
        if sort_key::packs(group) {
            return Ok(SpineBounds::Packed(HashMap::default()));
        }
        let fields = group
            .keys
            .iter()
            .map(|k| SortField::new(arrow_type(k.ty)))
            .collect();
        Ok(SpineBounds::Rows {
            converter: RowConverter::new(fields)?,
            latest: HashMap::default(),
            key_bytes: 0,
        })
    }

    /// An upper bound of the heap bytes held once `more` rows, each of a new key of
    /// up to `more_key_bytes` bytes in all, are added: what a memory reservation must
    /// cover before `add` (a table grows by doubling).
    pub fn size_after(&self, more: usize, more_key_bytes: usize) -> usize {
        let buckets = |entries: usize| (entries.saturating_mul(8) / 7).next_power_of_two();
        match self {
            SpineBounds::Packed(latest) => {
                let entries = latest.len().saturating_add(more).max(latest.capacity());
                buckets(entries).saturating_mul(std::mem::size_of::<(i64, i64)>() + 1)
            }
            SpineBounds::Rows {
                latest, key_bytes, ..
            } => {
                let entries = latest.len().saturating_add(more).max(latest.capacity());
                buckets(entries)
                    .saturating_mul(std::mem::size_of::<(Box<[u8]>, i64)>() + 1)
                    .saturating_add(key_bytes.saturating_add(more_key_bytes))
            }
        }
    }

    /// Adds a batch of the group's spine as `GroupSpineExec` gives it (its key
    /// columns, `__t`); rows with a null key read no event and add nothing. `reserve`
    /// is given the bytes held once the batch is added (`size_after`), before
    /// anything is: its error stops the add.
    pub fn add(
        &mut self,
        group: &GroupPlan,
        batch: &RecordBatch,
        reserve: impl FnOnce(usize) -> Result<()>,
    ) -> Result<()> {
        let keys = spine_keys(group, batch)?;
        let times = column(batch, SPINE_TIME)?;
        let times = times
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| internal("the spine's time is not int64 microseconds"))?
            .values();
        let null = |r: usize| keys.iter().any(|k| k.is_null(r));
        // Row-format keys are converted once: their size is what is reserved.
        let rows = match self {
            SpineBounds::Packed(_) => None,
            SpineBounds::Rows { converter, .. } => Some(converter.convert_columns(&keys)?),
        };
        let more_key_bytes = rows.as_ref().map_or(0, |rows| rows.size());
        reserve(self.size_after(batch.num_rows(), more_key_bytes))?;
        match (self, rows) {
            (SpineBounds::Packed(latest), _) => {
                let [key] = keys.as_slice() else {
                    return Err(internal("a packed key is one column"));
                };
                for (r, k) in widened(key)?.into_iter().enumerate() {
                    if !null(r) {
                        let t = times[r];
                        latest.entry(k).and_modify(|b| *b = t.max(*b)).or_insert(t);
                    }
                }
            }
            (
                SpineBounds::Rows {
                    latest, key_bytes, ..
                },
                Some(rows),
            ) => {
                for (r, row) in rows.iter().enumerate() {
                    if null(r) {
                        continue;
                    }
                    let t = times[r];
                    match latest.get_mut(row.as_ref()) {
                        Some(b) => *b = t.max(*b),
                        None => {
                            *key_bytes += row.as_ref().len();
                            latest.insert(row.as_ref().into(), t);
                        }
                    }
                }
            }
            (SpineBounds::Rows { .. }, None) => {
                return Err(internal("row-format keys were not converted"))
            }
        }
        Ok(())
    }

    /// Which rows of a batch of the group's evaluated events (`GroupInputExec`'s
    /// columns) the merge may push: None when every row may.
    pub fn readable(&self, group: &GroupPlan, batch: &RecordBatch) -> Result<Option<BooleanArray>> {
        let keep: BooleanBuffer = match self {
            SpineBounds::Packed(latest) => {
                let packed = column(batch, sort_key::SORT_KEY_COLUMN)?;
                let packed = packed
                    .as_primitive_opt::<Decimal128Type>()
                    .ok_or_else(|| internal("the packed sort key is not 128-bit"))?;
                let values = packed.values();
                let read = BooleanBuffer::collect_bool(values.len(), |r| {
                    let p = values[r];
                    latest
                        .get(&sort_key::unpack_key(p))
                        .is_some_and(|&b| sort_key::unpack_time(p) <= b)
                });
                // A null key is kept: the merge counts it.
                match packed.nulls() {
                    Some(valid) => &read | &!valid.inner(),
                    None => read,
                }
            }
            SpineBounds::Rows {
                converter, latest, ..
            } => {
                let keys: Vec<ArrayRef> = (0..group.keys.len())
                    .map(|i| column(batch, &key_column(i)))
                    .collect::<Result<_>>()?;
                let times = column(batch, TIME_COLUMN)?;
                let times = times
                    .as_primitive_opt::<TimestampMicrosecondType>()
                    .ok_or_else(|| internal("the group's time column is not µs"))?;
                let rows = converter.convert_columns(&keys)?;
                // A null key or time is kept: the merge counts the one and refuses
                // the other.
                BooleanBuffer::collect_bool(rows.num_rows(), |r| {
                    keys.iter().any(|k| k.is_null(r))
                        || times.is_null(r)
                        || latest
                            .get(rows.row(r).as_ref())
                            .is_some_and(|&b| times.value(r) <= b)
                })
            }
        };
        let kept = keep.count_set_bits();
        Ok((kept < keep.len()).then(|| BooleanArray::new(keep, None)))
    }
}

/// The key columns of a batch of the group's spine rows.
fn spine_keys(group: &GroupPlan, batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
    group.keys.iter().map(|k| column(batch, &k.name)).collect()
}

/// A packed group's one key column as `i64`s, widened as `sort_key::pack` widens it
/// (a null's value is whatever the array holds there).
fn widened(key: &ArrayRef) -> Result<Vec<i64>> {
    Ok(match key.data_type() {
        ArrowType::Int64 => key.as_primitive::<Int64Type>().values().to_vec(),
        ArrowType::Timestamp(_, _) => key
            .as_primitive_opt::<TimestampMicrosecondType>()
            .ok_or_else(|| internal("a timestamp key is not µs"))?
            .values()
            .to_vec(),
        ArrowType::Date32 => key
            .as_primitive::<Date32Type>()
            .values()
            .iter()
            .map(|&d| i64::from(d))
            .collect(),
        other => return Err(internal(&format!("a key of type {other} is not packed"))),
    })
}
