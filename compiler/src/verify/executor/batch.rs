//! The batch plan as a path: `featc training-set`'s own job over the dataset held in
//! memory, at the dataset's batch size and partitions.

use datafusion::arrow::compute::concat_batches;
use datafusion::physical_plan::common::collect;
use datafusion::physical_plan::EmptyRecordBatchStream;
use featc_runtime::batch::Resources;
use featc_runtime::io::{Inputs, MemoryTable};

use super::{Answered, Executor, Pending, RunInput};
use crate::job::training_set::{SpineInput, TrainingSet};
use crate::verify::failure::RunError;

/// `job::training_set::TrainingSet`, the same job the CLI and Python run.
pub struct BatchExecutor;

impl Executor for BatchExecutor {
    fn name(&self) -> &str {
        "batch"
    }

    fn run<'a>(&'a self, input: RunInput<'a>) -> Pending<'a> {
        Box::pin(async move {
            let dataset = input.dataset;
            let tables = dataset
                .sources
                .iter()
                .map(|(name, batches)| {
                    let declared = featc_runtime::io::declared_schema(
                        input
                            .project
                            .sources
                            .iter()
                            .find(|s| &s.name == name)
                            .ok_or_else(|| format!("the project has no source `{name}`"))?,
                    );
                    // The batches' own schema: nullability as the reader made it.
                    let schema = batches.first().map_or(declared, |b| b.schema());
                    Ok((name.clone(), MemoryTable::new(schema, batches.clone())))
                })
                .collect::<Result<_, String>>()?;
            let spine = MemoryTable::new(dataset.spine.schema(), vec![dataset.spine.clone()]);
            let job = TrainingSet {
                project: input.project,
                features: input.features.to_vec(),
                spine: SpineInput::Table(spine),
                spine_time: dataset.spine_time.clone(),
                inputs: Inputs {
                    tables,
                    ..Inputs::default()
                },
                batch_size: Some(dataset.settings.batch_rows.max(1)),
                resources: Resources {
                    partitions: Some(dataset.settings.partitions.max(1)),
                    memory_limit: None,
                    ..Resources::default()
                },
                ballista: None,
            };
            let mut running = job.start(&|_| {}).await.map_err(|e| RunError::of_job(&e))?;
            let schema = running.stream.schema();
            let stream = std::mem::replace(
                &mut running.stream,
                Box::pin(EmptyRecordBatchStream::new(schema.clone())),
            );
            let batches = collect(stream)
                .await
                .map_err(|e| RunError::of_job(&job.failure(&running, e)))?;
            concat_batches(&schema, &batches)
                .map(Answered::exact)
                .map_err(|e| RunError::Other(e.to_string()))
        })
    }
}
