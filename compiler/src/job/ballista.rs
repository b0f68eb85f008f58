//! A training set computed on a Ballista cluster (`TrainingSet::ballista`, `featc
//! training-set --ballista df://HOST:PORT`): the same plan as a local run, sent to a
//! featc scheduler (`featc-ballista-scheduler`) whose executors
//! (`featc-ballista-executor`) run its stages. The answer is the local run's, bit for
//! bit and row for row: the same operators, the same plan, the spine read in the
//! same order.
//!
//! What changes is where data is read. The executors read the sources' files at the
//! paths given here, and the spine (read and checked here, as locally) from an Arrow
//! IPC copy written under the system's temporary folder (`TMPDIR`) and removed when
//! the run's stream is dropped: both must be visible to the executors at the same
//! paths (one machine, or shared storage). Tables held in memory cannot be sent.
//! Rows skipped for a null key are not counted (the operators' metrics stay on the
//! executors).

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::file_format::options::ArrowReadOptions;
use datafusion::datasource::provider_as_source;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream};
use datafusion::logical_expr::TableSource;
use datafusion::prelude::SessionConfig;
use featc_runtime::batch;
use featc_runtime::io::{self, Spine, SpineFile};
use futures::Stream;

use super::training_set::{Running, SpineInput, TrainingSet};
use super::{JobError, RunFailure};
use crate::ir;

/// Starts `job` on the cluster whose scheduler is at `url` (see the module docs).
pub(super) async fn start(
    job: &TrainingSet<'_>,
    url: &str,
    phase: &dyn Fn(&str),
) -> Result<Running, JobError> {
    if let Some(name) = job.inputs.tables.keys().next() {
        return Err(RunFailure::TableOnCluster {
            source: name.clone(),
        }
        .into());
    }
    let project = job.project;
    let mut config = SessionConfig::new();
    if let Some(n) = job.batch_size {
        config = config.with_batch_size(n.max(1));
    }
    // On a cluster, the merge tasks per group; the memory limit is each executor's
    // own (its pool), not this process's.
    if let Some(n) = job.resources.partitions {
        config = config.with_target_partitions(n.max(1));
    }
    phase("connecting to the Ballista scheduler");
    let cluster = featc_ballista::connect(url, config)
        .await
        .map_err(RunFailure::Cluster)?;
    let address = cluster.address.to_string();
    let ctx = cluster.ctx;
    phase("reading the spine");
    let keys = io::spine_keys(project, &job.features);
    let spine: Spine = match &job.spine {
        SpineInput::File(path) => io::read_spine(path, &keys, &job.spine_time).await?,
        SpineInput::Table(table) => io::spine_from_table(table.clone(), &keys, &job.spine_time)?,
    };
    let spine_rows = spine.num_rows();
    let spine_schema = Arc::clone(&spine.schema);
    let spine_file = SpineFile::write(&spine, &std::env::temp_dir())?;
    drop(spine);
    phase("binding sources");
    let plan =
        crate::lower::groups::plan_groups(project, &job.features).map_err(RunFailure::Grouping)?;
    let tables = io::bind_sources(&ctx, project, &plan, &job.inputs).await?;
    let table_of = |s: &ir::Source| -> Arc<dyn TableSource> {
        match tables.get(&s.name) {
            Some(t) => provider_as_source(Arc::clone(t)),
            // Not reached: bind_sources binds every source a requested feature reads.
            None => Arc::new(datafusion::logical_expr::builder::LogicalTableSource::new(
                io::declared_schema(s),
            )),
        }
    };
    let spine_table = spine_view(&ctx, spine_file.path(), &spine_schema)
        .await
        .map_err(|error| RunFailure::SpineCopy {
            address: address.clone(),
            error,
        })?;
    let logical = crate::lower::batch::lower_plan(
        project,
        plan.clone(),
        &table_of,
        provider_as_source(spine_table),
        &job.spine_time,
    )
    .map_err(RunFailure::Lowering)?;
    phase("computing features on the cluster");
    let (physical, stream) = batch::execute(&ctx, logical)
        .await
        .map_err(|e| RunFailure::OnCluster(on_cluster(&address, e)))?;
    let stream = Box::pin(OnCluster {
        inner: stream,
        address,
        _spine: spine_file,
    });
    Ok(Running {
        stream,
        physical,
        spine_rows,
        // The cluster reads each folder whole.
        partitions_read: Vec::new(),
        plan,
        inputs: job.inputs.clone(),
    })
}

/// The spine's copy as a table the executors read (one file, so one partition in
/// file order: `featc_ballista::settings`), with exactly the spine's schema.
async fn spine_view(
    ctx: &datafusion::prelude::SessionContext,
    path: &Path,
    schema: &SchemaRef,
) -> DfResult<Arc<dyn datafusion::catalog::TableProvider>> {
    let options = ArrowReadOptions {
        schema: Some(schema.as_ref()),
        ..ArrowReadOptions::default()
    };
    let df = ctx
        .read_arrow(path.to_string_lossy().to_string(), options)
        .await?;
    Ok(df.into_view())
}

/// An error raised on the cluster, with its address and job, as one `Execution`
/// error (`io::explain_failure` still finds a bad cell by reading the files again,
/// and otherwise says this).
fn on_cluster(address: &str, e: DataFusionError) -> DataFusionError {
    let text = e.strip_backtrace();
    let job = text
        .split("Job ")
        .nth(1)
        .and_then(|rest| rest.split_once(" failed"))
        .map(|(id, _)| format!(" (job {id})"))
        .unwrap_or_default();
    let message = innermost(&text).unwrap_or(text);
    DataFusionError::Execution(format!(
        "on the Ballista cluster at {address}{job}: {message}"
    ))
}

/// Ballista reports a failed task as the `Debug` text of the errors it went through
/// (`...Shared(External(DataFusionError(Execution("...")))))`): the innermost
/// message is what featc's operators said, the rest is noise to a user.
fn innermost(text: &str) -> Option<String> {
    // The kinds of DataFusion error an operator raises with a message.
    const KINDS: [&str; 5] = [
        "Execution(\"",
        "Internal(\"",
        "Plan(\"",
        "ResourcesExhausted(\"",
        "NotImplemented(\"",
    ];
    let start = KINDS
        .iter()
        .filter_map(|open| text.rfind(open).map(|at| at + open.len()))
        .max()?;
    let mut out = String::new();
    let mut chars = text.get(start..)?.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                'u' => {
                    let hex: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// The cluster's batches; errors name the cluster; the spine's copy lives as long
/// as the stream (the executors read it while the job runs).
struct OnCluster {
    inner: SendableRecordBatchStream,
    address: String,
    _spine: SpineFile,
}

impl Stream for OnCluster {
    type Item = DfResult<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let address = self.address.clone();
        self.inner
            .as_mut()
            .poll_next(cx)
            .map(|item| item.map(|r| r.map_err(|e| on_cluster(&address, e))))
    }
}

impl RecordBatchStream for OnCluster {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_failure_says_what_failed() {
        let text = "Execution error: Job 038GMVHD42000 failed: Job failed due to stage 4 \
                    failed: Task failed due to runtime execution error: DataFusionError(\
                    Shared(External(DataFusionError(Execution(\"feature `f` at spine row 1: \
                    a \\\"quoted\\\" \\u{1b} thing\")))))";
        let e = on_cluster("df://h:1", DataFusionError::Execution(text.into()));
        assert_eq!(
            e.strip_backtrace(),
            "Execution error: on the Ballista cluster at df://h:1 (job 038GMVHD42000): \
             feature `f` at spine row 1: a \"quoted\" \u{1b} thing"
        );
        let text = "Job J failed: ... DataFusionError(Internal(\"group 0 answered spine \
                    row 3 twice or out of range\"))";
        let e = on_cluster("df://h:1", DataFusionError::Execution(text.into()));
        assert_eq!(
            e.strip_backtrace(),
            "Execution error: on the Ballista cluster at df://h:1 (job J): group 0 answered \
             spine row 3 twice or out of range"
        );
        // Anything else is kept whole.
        let e = on_cluster("df://h:1", DataFusionError::Execution("no route".into()));
        assert_eq!(
            e.strip_backtrace(),
            "Execution error: on the Ballista cluster at df://h:1: Execution error: no route"
        );
    }
}
