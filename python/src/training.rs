//! Running a training set from Python: featc's job on a tokio runtime with the GIL
//! released, progress reported to a Python callable, Ctrl-C honoured between
//! batches.

use std::sync::OnceLock;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use featc::job::training_set::TrainingSet;
use featc::job::JobError;
use futures::StreamExt;
use pyo3::prelude::*;

use crate::errors;

/// The IO runtime jobs run on, started once per process.
fn runtime() -> Result<&'static tokio::runtime::Runtime, String> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the IO runtime: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Why a run stopped.
enum Stop {
    Job(JobError),
    /// Python raised (Ctrl-C, or the progress callable failed).
    Python(PyErr),
}

/// Tells `progress` (a Python callable taking phase, done, total), and runs pending
/// signal handlers: a KeyboardInterrupt stops the run.
fn report(progress: Option<&Py<PyAny>>, phase: &str, done: u64, total: u64) -> Result<(), Stop> {
    Python::attach(|py| {
        py.check_signals().map_err(Stop::Python)?;
        if let Some(p) = progress {
            p.call1(py, (phase, done, total)).map_err(Stop::Python)?;
        }
        Ok(())
    })
}

/// Spine rows with a null key, per group.
pub type NullKeyRows = Vec<(String, usize)>;

/// A finished training set.
pub struct Computed {
    pub schema: SchemaRef,
    /// In spine order.
    pub batches: Vec<RecordBatch>,
    pub null_keys: NullKeyRows,
}

/// Runs `job` to the end.
pub fn run(
    py: Python<'_>,
    job: &TrainingSet<'_>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Computed> {
    let rt = runtime().map_err(|m| errors::error(py, "Error", m))?;
    let progress = progress.as_ref();
    let result = py.detach(|| {
        rt.block_on(async {
            // A phase's callback cannot fail the phase (`start` takes a plain
            // closure): its error is kept and raised after.
            let failed: std::sync::Mutex<Option<Stop>> = std::sync::Mutex::new(None);
            let phase = |name: &str| {
                if let Err(stop) = report(progress, name, 0, 0) {
                    if let Ok(mut f) = failed.lock() {
                        f.get_or_insert(stop);
                    }
                }
            };
            let started = job.start(&phase).await;
            if let Some(stop) = failed.lock().ok().and_then(|mut f| f.take()) {
                return Err(stop);
            }
            let mut running = started.map_err(Stop::Job)?;
            let schema = running.stream.schema();
            let total = running.spine_rows as u64;
            let mut batches = Vec::new();
            let mut rows = 0u64;
            while let Some(b) = running.stream.next().await {
                let b = b.map_err(|e| Stop::Job(job.failure(&running, e)))?;
                rows += b.num_rows() as u64;
                batches.push(b);
                report(progress, "computing features", rows, total)?;
            }
            Ok(Computed {
                schema,
                batches,
                null_keys: running.null_key_rows(),
            })
        })
    });
    result.map_err(|stop| match stop {
        Stop::Job(e) => errors::job_error(py, e),
        Stop::Python(e) => e,
    })
}
