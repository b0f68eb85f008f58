//! As-of lookups at run time (semantics.md, "As-of lookups"): a group whose rows read
//! another view's feature at their own time holds each row until that value can no
//! longer change, then computes it from the looked-up feature's own group (a group
//! of the runtime, built from the lookup's plan) and applies the row.
//!
//! A looked-up value at `ts` is settled once every source its group reads has a
//! watermark past `ts` (a later event at or before `ts` would be late) and that group
//! holds no row of its own at or before `ts` (a chain: its rows wait for their own
//! lookups first). Until then the row waits in `Held`, and the runtime keeps the
//! looked-up group's state for reads at the held rows' times (and at any time a row
//! still to come may have: see `StreamRuntime::group_horizon`).

use std::sync::Arc;

use datafusion::arrow::array::{new_null_array, ArrayRef, BooleanArray};
use datafusion::arrow::compute::{concat_batches, filter_record_batch};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;

use crate::ir::DataType;
use crate::row::types::arrow_type;

/// One lookup of a group, resolved to the runtime's groups.
#[derive(Debug, Clone)]
pub(crate) struct LookupRead {
    /// The column the group's expressions read the value as.
    pub column: String,
    /// The group computing the looked-up feature, and the feature's index in it.
    pub group: usize,
    pub feature: usize,
    /// The key columns' indices in the group's rows (the looked-up entity's key
    /// order), and their types.
    pub key_cols: Vec<usize>,
    pub key_types: Vec<DataType>,
    /// The looked-up feature's type: the column's.
    pub ty: DataType,
}

/// `rows` (a group's rows before its lookups) with one field per lookup: a column of
/// that name is replaced (a union gives nulls for it), else appended.
pub(crate) fn with_lookup_fields(rows: &Schema, lookups: &[LookupRead]) -> SchemaRef {
    let mut fields: Vec<Field> = rows.fields().iter().map(|f| f.as_ref().clone()).collect();
    for l in lookups {
        let field = Field::new(&l.column, arrow_type(l.ty), true);
        match fields.iter().position(|f| f.name() == &l.column) {
            Some(i) => fields[i] = field,
            None => fields.push(field),
        }
    }
    Arc::new(Schema::new(fields))
}

/// `rows` under `schema` (`with_lookup_fields`), the lookups' columns from `values`
/// (one per lookup, in order; `None`: nulls, as `check` evaluates an event on arrival).
pub(crate) fn with_lookup_columns(
    rows: &RecordBatch,
    schema: &SchemaRef,
    lookups: &[LookupRead],
    values: Option<Vec<ArrayRef>>,
) -> Result<RecordBatch, ArrowError> {
    let n = rows.num_rows();
    let mut columns: Vec<ArrayRef> = rows.columns().to_vec();
    let values = match values {
        Some(v) => v,
        None => (lookups.iter())
            .map(|l| new_null_array(&arrow_type(l.ty), n))
            .collect(),
    };
    for (l, v) in lookups.iter().zip(values) {
        match rows.schema().index_of(&l.column) {
            Ok(i) => columns[i] = v,
            Err(_) => columns.push(v),
        }
    }
    RecordBatch::try_new(Arc::clone(schema), columns)
}

/// Rows of a group waiting for their lookups, with their times, in arrival order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Held {
    batches: Vec<(RecordBatch, Vec<i64>)>,
    /// Each batch's earliest time.
    mins: Vec<i64>,
    rows: usize,
}

impl Held {
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The earliest time of a held row (asked on every ingest: one value per batch,
    /// kept in `mins`, not a pass over every held row).
    pub fn oldest(&self) -> Option<i64> {
        self.mins.iter().min().copied()
    }

    pub fn batches(&self) -> &[(RecordBatch, Vec<i64>)] {
        &self.batches
    }

    pub fn push(&mut self, rows: RecordBatch, ts: Vec<i64>) {
        if let Some(&min) = ts.iter().min() {
            self.rows += rows.num_rows();
            self.mins.push(min);
            self.batches.push((rows, ts));
        }
    }

    /// Takes the rows at times before `bound`, in arrival order (`None`: none is).
    pub fn take_before(
        &mut self,
        bound: i64,
    ) -> Result<Option<(RecordBatch, Vec<i64>)>, ArrowError> {
        if self.oldest().is_none_or(|o| o >= bound) {
            return Ok(None);
        }
        let Some(schema) = self.batches.first().map(|(b, _)| b.schema()) else {
            return Ok(None);
        };
        let mut taken = Vec::new();
        let mut taken_ts = Vec::new();
        let mut kept = Vec::with_capacity(self.batches.len());
        for (rows, ts) in std::mem::take(&mut self.batches) {
            if ts.iter().all(|&t| t >= bound) {
                kept.push((rows, ts));
                continue;
            }
            let due: BooleanArray = ts.iter().map(|&t| Some(t < bound)).collect();
            let wait: BooleanArray = ts.iter().map(|&t| Some(t >= bound)).collect();
            taken.push(filter_record_batch(&rows, &due)?);
            taken_ts.extend(ts.iter().filter(|&&t| t < bound));
            let left = filter_record_batch(&rows, &wait)?;
            if left.num_rows() > 0 {
                kept.push((left, ts.into_iter().filter(|&t| t >= bound).collect()));
            }
        }
        self.rows = kept.iter().map(|(b, _)| b.num_rows()).sum();
        self.mins = (kept.iter())
            .filter_map(|(_, ts)| ts.iter().min().copied())
            .collect();
        self.batches = kept;
        Ok(Some((concat_batches(&schema, &taken)?, taken_ts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;

    fn batch(values: &[i64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "x",
            datafusion::arrow::datatypes::DataType::Int64,
            false,
        )]));
        let column: ArrayRef = Arc::new(Int64Array::from(values.to_vec()));
        RecordBatch::try_new(schema, vec![column]).unwrap()
    }

    #[test]
    fn takes_the_rows_before_the_bound_and_keeps_the_rest_in_order() {
        let mut held = Held::default();
        held.push(batch(&[1, 2, 3]), vec![30, 10, 20]);
        held.push(batch(&[4, 5]), vec![40, 15]);
        assert_eq!(held.rows(), 5);
        assert_eq!(held.oldest(), Some(10));
        let (rows, ts) = held.take_before(20).unwrap().unwrap();
        assert_eq!(ts, vec![10, 15]);
        assert_eq!(rows.num_rows(), 2);
        assert_eq!(held.rows(), 3);
        assert_eq!(held.oldest(), Some(20));
        assert!(held.take_before(20).unwrap().is_none());
        let (_, ts) = held.take_before(i64::MAX).unwrap().unwrap();
        assert_eq!(ts, vec![30, 20, 40]);
        assert_eq!(held.rows(), 0);
        assert_eq!(held.oldest(), None);
    }
}
