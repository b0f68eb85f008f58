//! The reference interpreter as a path: the oracle the others are compared with.

use std::collections::HashMap;

use featc_runtime::reference::{evaluate, SpineInput};

use super::{Answered, Executor, Pending, RunInput};
use crate::verify::failure::RunError;

/// `reference::evaluate`, per spine row, from semantics.md alone.
pub struct ReferenceExecutor;

impl Executor for ReferenceExecutor {
    fn name(&self) -> &str {
        "reference"
    }

    fn run<'a>(&'a self, input: RunInput<'a>) -> Pending<'a> {
        Box::pin(async move {
            let sources: HashMap<String, Vec<_>> = input.dataset.sources.iter().cloned().collect();
            let spine = [input.dataset.spine.clone()];
            evaluate(
                input.project,
                input.features,
                &sources,
                SpineInput {
                    batches: &spine,
                    time_column: &input.dataset.spine_time,
                },
            )
            .map(Answered::exact)
            .map_err(|e| RunError::of_reference(input.project, &e))
        })
    }
}
