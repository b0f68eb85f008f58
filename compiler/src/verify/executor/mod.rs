//! The paths `featc verify` compares, behind one trait: the reference interpreter
//! (the oracle), the batch plan, the streaming runtime, and the emitted SQL.

mod batch;
mod flat;
mod overflow;
mod reference;
pub mod sql;
mod stream;

use std::future::Future;
use std::pin::Pin;

use datafusion::arrow::record_batch::RecordBatch;

use super::compare::Tolerance;
use super::dataset::Dataset;
use super::failure::RunError;
use crate::ir::{FeatureId, Project};

pub use batch::BatchExecutor;
pub use reference::ReferenceExecutor;
pub use sql::{DataFusionEngine, SqlAnswer, SqlEngine, SqlExecutor, SqlTable};
pub use stream::StreamExecutor;

/// What a path computes: `features` of `project` over `dataset`.
#[derive(Clone, Copy)]
pub struct RunInput<'a> {
    pub project: &'a Project,
    pub features: &'a [FeatureId],
    pub dataset: &'a Dataset,
}

/// A path's answer or the error it stopped with.
pub type Pending<'a> = Pin<Box<dyn Future<Output = Result<Answered, RunError>> + 'a>>;

/// What a path answered.
#[derive(Debug, Clone)]
pub struct Answered {
    pub table: RecordBatch,
    /// How its cells must match the reference's.
    pub tolerance: Tolerance,
    /// Requested features the path does not compute (their columns are absent).
    pub skipped: Vec<Skipped>,
}

impl Answered {
    /// Every feature, bit for bit.
    pub fn exact(table: RecordBatch) -> Answered {
        Answered {
            table,
            tolerance: Tolerance::Bits,
            skipped: Vec::new(),
        }
    }
}

/// A feature a path leaves out, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Skipped {
    pub feature: String,
    pub reason: String,
}

/// One way of computing a training set.
///
/// Invariant: `run` answers with the spine's columns, in the spine's order, followed
/// by one column per requested feature it computes, in the requested order, exactly
/// as `featc training-set` writes them (the others listed in `skipped`); or fails,
/// with the place a computation failed (`RunError::Compute`, compared with the
/// reference's) or a message naming what failed. It never panics on data, and is deterministic for a
/// dataset (its `RunSettings` included).
pub trait Executor: Sync {
    /// The name a report gives this path.
    fn name(&self) -> &str;
    fn run<'a>(&'a self, input: RunInput<'a>) -> Pending<'a>;
}
