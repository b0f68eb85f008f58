//! A point-in-time training set as a job: the spine and the sources bound (from files
//! or from tables held in memory), the plan lowered and started, its batches streamed
//! to the caller. `featc training-set` writes them to a file; the Python package hands
//! them to Python. Both run this, so both give the same columns, types and bits.

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::datasource::provider_as_source;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::TableSource;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionConfig;
use featc_runtime::batch;
use featc_runtime::io::{self, Inputs, MemoryTable, Spine};
use featc_runtime::plan::Plan;

use super::{JobError, RunFailure};
use crate::ir::{self, FeatureId};

/// What DataFusion's disk manager says when a spill would pass its limit.
const SPILL_LIMIT_TEXT: &str = "exceeded the allowable limit";

/// DataFusion's limit on the spill when none is given.
const DEFAULT_SPILL_LIMIT: usize =
    datafusion::execution::disk_manager::DEFAULT_MAX_TEMP_DIRECTORY_SIZE as usize;

/// Where a spine comes from.
#[derive(Debug, Clone)]
pub enum SpineInput {
    /// A Parquet or CSV file (or a folder of them), read as `featc training-set` does.
    File(PathBuf),
    /// Rows held in memory, in their order.
    Table(MemoryTable),
}

/// What a training set is computed from.
pub struct TrainingSet<'p> {
    pub project: &'p ir::Project,
    pub features: Vec<FeatureId>,
    pub spine: SpineInput,
    /// The spine's time column.
    pub spine_time: String,
    /// Sources read from elsewhere than their declared file.
    pub inputs: Inputs,
    /// Rows per batch while reading (DataFusion's default when None).
    pub batch_size: Option<usize>,
    /// Partitions and memory the computation may use.
    pub resources: batch::Resources,
    /// Compute on the Ballista cluster whose scheduler is at this address
    /// (`df://HOST:PORT`, `job::ballista`) instead of in this process.
    pub ballista: Option<String>,
}

/// A started training set: its batches, in spine order, on `stream`.
pub struct Running {
    pub stream: SendableRecordBatchStream,
    /// The physical plan (after the stream is drained, `null_key_rows` reads its
    /// statistics).
    pub physical: Arc<dyn ExecutionPlan>,
    pub spine_rows: usize,
    /// Of each source declared `partition KEY by UNIT`, the partitions read (those
    /// the spine's times can see) and those its folder has.
    pub partitions_read: Vec<io::PartitionsRead>,
    pub(super) plan: Plan,
    /// What the run read (the events it needed included), to explain its failure.
    pub(super) inputs: Inputs,
}

impl Running {
    /// Spine rows whose key was null, per group (they get the features' empty
    /// values), once the stream is drained.
    pub fn null_key_rows(&self) -> Vec<(String, usize)> {
        batch::null_key_counts(&self.physical)
    }

    /// Bytes sorts spilled to disk to stay within the memory limit, once the stream
    /// is drained.
    pub fn spilled_bytes(&self) -> usize {
        batch::spilled_bytes(&self.physical)
    }
}

impl TrainingSet<'_> {
    /// Reads the spine, binds the sources, lowers the plan and starts it; `phase` is
    /// told each step as it begins. An error of a step names its input.
    pub async fn start(&self, phase: &dyn Fn(&str)) -> Result<Running, JobError> {
        if let Some(url) = &self.ballista {
            return super::ballista::start(self, url, phase).await;
        }
        let project = self.project;
        let mut config = SessionConfig::new();
        if let Some(n) = self.batch_size {
            config = config.with_batch_size(n.max(1));
        }
        let ctx =
            batch::bounded_session_context(config, &self.resources).map_err(RunFailure::Session)?;
        phase("reading the spine");
        let keys = io::spine_keys(project, &self.features);
        let spine: Spine = match &self.spine {
            SpineInput::File(path) => io::read_spine(path, &keys, &self.spine_time).await?,
            SpineInput::Table(table) => {
                io::spine_from_table(table.clone(), &keys, &self.spine_time)?
            }
        };
        phase("binding sources");
        let plan = crate::lower::groups::plan_groups(project, &self.features)
            .map_err(RunFailure::Grouping)?;
        // No spine row reads an event outside these ranges: a source declared
        // `partition KEY by UNIT` is read only from the partitions overlapping its own.
        let mut inputs = self.inputs.clone();
        inputs.needed = match spine.time_range(&self.spine_time) {
            Some((first, last)) => io::events_needed(&plan, first, last),
            // An empty spine reads no event.
            None => io::events_needed(&plan, i64::MIN, i64::MIN),
        };
        let mut partitions_read = Vec::new();
        let tables =
            io::bind_sources_counting(&ctx, project, &plan, &inputs, &mut partitions_read).await?;
        let table_of = |s: &ir::Source| -> Arc<dyn TableSource> {
            match tables.get(&s.name) {
                Some(t) => provider_as_source(Arc::clone(t)),
                // Not reached: bind_sources binds every source a requested feature reads.
                None => Arc::new(datafusion::logical_expr::builder::LogicalTableSource::new(
                    io::declared_schema(s),
                )),
            }
        };
        let spine_rows = spine.num_rows();
        let spine_table = spine.provider()?;
        let logical = crate::lower::batch::lower_plan(
            project,
            plan.clone(),
            &table_of,
            provider_as_source(spine_table),
            &self.spine_time,
        )
        .map_err(RunFailure::Lowering)?;
        phase("computing features");
        let (physical, stream) = batch::execute(&ctx, logical)
            .await
            .map_err(|e| self.explain(&plan, &inputs, e))?;
        Ok(Running {
            stream,
            physical,
            spine_rows,
            partitions_read,
            plan,
            inputs,
        })
    }

    /// What to tell the user about an error raised while `running` computed: the bad
    /// cell or event it met, found by reading the files again where needed.
    pub fn failure(&self, running: &Running, error: DataFusionError) -> JobError {
        self.explain(&running.plan, &running.inputs, error)
    }

    /// The failure of a run over `inputs` (with the events it needed: a bad cell of a
    /// partition it skipped is not what failed it).
    fn explain(&self, plan: &Plan, inputs: &Inputs, error: DataFusionError) -> JobError {
        // DataFusion's disk manager refuses a spill write past its limit with an IO
        // error of this text (datafusion-execution's `disk_manager.rs`), wrapped in
        // whatever wrote the spill.
        if error.to_string().contains(SPILL_LIMIT_TEXT) {
            return RunFailure::SpillLimit {
                limit: self.resources.spill_limit.unwrap_or(DEFAULT_SPILL_LIMIT),
                passes: self.resources.passes(),
            }
            .into();
        }
        if let DataFusionError::ResourcesExhausted(what) = error.find_root() {
            return RunFailure::OutOfMemory {
                limit: self.resources.memory_limit(),
                detail: what.clone(),
            }
            .into();
        }
        JobError::Data(io::explain_failure(self.project, plan, inputs, error))
    }
}
