//! The paths `featc verify` compares, behind one trait: the reference interpreter
//! (the oracle), the batch plan, the streaming runtime, and the emitted SQL.

mod batch;
mod reference;
mod stream;

use std::future::Future;
use std::pin::Pin;

use datafusion::arrow::record_batch::RecordBatch;

use super::compare::Tolerance;
use super::dataset::Dataset;
use crate::ir::{FeatureId, Project};

pub use batch::BatchExecutor;
pub use reference::ReferenceExecutor;
pub use stream::StreamExecutor;

/// What a path computes: `features` of `project` over `dataset`.
#[derive(Clone, Copy)]
pub struct RunInput<'a> {
    pub project: &'a Project,
    pub features: &'a [FeatureId],
    pub dataset: &'a Dataset,
}

/// A table or the error a path stopped with.
pub type Pending<'a> = Pin<Box<dyn Future<Output = Result<RecordBatch, String>> + 'a>>;

/// One way of computing a training set.
///
/// Invariant: `run` answers with the spine's columns, in the spine's order, followed
/// by one column per requested feature, in the requested order, exactly as `featc
/// training-set` writes them; or fails with a message naming what failed. It never
/// panics on data, and is deterministic for a dataset (its `RunSettings` included).
pub trait Executor: Sync {
    /// The name a report gives this path.
    fn name(&self) -> &str;
    /// How its cells must match the reference's.
    fn tolerance(&self) -> Tolerance {
        Tolerance::Bits
    }
    fn run<'a>(&'a self, input: RunInput<'a>) -> Pending<'a>;
}
