//! `KeyShareExec`: the rows of its input whose key falls in one share of the key space,
//! for a training set computed in passes (`passes_exec`). A row's share is a hash of
//! its key columns (each cast to the key's type and made canonical first, as the
//! merge's inputs are: `canonical_keys`) modulo the number of shares, so the spine
//! rows and the events of one key always meet in the same pass; a null key hashes
//! like any other value, so every row lands in exactly one share. Order and
//! partitioning are the input's.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::hash_utils::{create_hashes, RandomState};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::StreamExt;

use super::canonical_keys::typed_key;

/// The hash the shares are cut by. Its seed differs from the one DataFusion's hash
/// repartition uses (0): with the same hash, the rows of share `s` of `n` would all
/// fall in the partitions congruent to `s`, leaving the others idle when the number
/// of partitions and of shares have a common factor.
const SHARE_HASH: RandomState = RandomState::with_seed(0x7061_7373_6b65_7973);

#[derive(Debug)]
pub struct KeyShareExec {
    input: Arc<dyn ExecutionPlan>,
    /// The key columns, by name, with the type they are hashed as.
    keys: Vec<(String, DataType)>,
    share: usize,
    shares: usize,
    properties: Arc<PlanProperties>,
}

impl KeyShareExec {
    /// The rows of `input` in share `share` of `shares` (`share < shares`).
    pub fn try_new(
        input: Arc<dyn ExecutionPlan>,
        keys: Vec<(String, DataType)>,
        share: usize,
        shares: usize,
    ) -> Result<Self> {
        if share >= shares {
            return Err(DataFusionError::Internal(format!(
                "KeyShareExec: share {share} of {shares}"
            )));
        }
        let schema = input.schema();
        for (name, _) in &keys {
            schema.index_of(name)?;
        }
        // A filter keeps the input's schema, order and partitioning (a hash
        // partitioning stays one: rows only leave).
        let properties = Arc::clone(input.properties());
        Ok(KeyShareExec {
            input,
            keys,
            share,
            shares,
            properties,
        })
    }
}

impl DisplayAs for KeyShareExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let names: Vec<&str> = self.keys.iter().map(|(n, _)| n.as_str()).collect();
        write!(
            f,
            "KeyShareExec: share {} of {} by [{}]",
            self.share,
            self.shares,
            names.join(", ")
        )
    }
}

impl ExecutionPlan for KeyShareExec {
    fn name(&self) -> &str {
        "KeyShareExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match (children.pop(), children.is_empty()) {
            (Some(input), true) => Ok(Arc::new(Self::try_new(
                input,
                self.keys.clone(),
                self.share,
                self.shares,
            )?)),
            _ => Err(DataFusionError::Internal(
                "KeyShareExec has one input".into(),
            )),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let keys = self.keys.clone();
        let (share, shares) = (self.share as u64, self.shares as u64);
        let mut hashes: Vec<u64> = Vec::new();
        let stream = input.map(move |batch| {
            let batch = batch?;
            in_share(&batch, &keys, share, shares, &mut hashes)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.input.schema(),
            stream,
        )))
    }
}

/// The rows of `batch` whose key is in share `share` of `shares`.
fn in_share(
    batch: &RecordBatch,
    keys: &[(String, DataType)],
    share: u64,
    shares: u64,
    hashes: &mut Vec<u64>,
) -> Result<RecordBatch> {
    let columns = keys
        .iter()
        .map(|(name, ty)| {
            let c = batch.column_by_name(name).ok_or_else(|| {
                DataFusionError::Internal(format!("KeyShareExec: no key column `{name}`"))
            })?;
            typed_key(c, ty)
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    hashes.clear();
    hashes.resize(batch.num_rows(), 0);
    create_hashes(&columns, &SHARE_HASH, hashes)?;
    let keep: BooleanArray = hashes.iter().map(|h| Some(h % shares == share)).collect();
    Ok(filter_record_batch(batch, &keep)?)
}
