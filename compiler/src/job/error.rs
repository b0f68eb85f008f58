//! `JobError`: why a job over data could not run or failed, with the underlying error
//! kept as a value (the IO error, the explained computation failure, DataFusion's or
//! the cluster's error), rendered to the user's text here and only here.

use std::fmt;

use datafusion::error::DataFusionError;
use featc_runtime::batch::resources::format_size;
use featc_runtime::io::{ComputeFailure, IoError};

use crate::lower::batch::LowerError;
use crate::lower::groups::GroupingError;

/// Why a job could not run or failed.
#[derive(Debug)]
pub enum JobError {
    /// A feature, service or source the project does not declare.
    UnknownName {
        kind: &'static str,
        name: String,
        /// What the project has, or the closest name.
        known: String,
    },
    /// An input that cannot be read as declared (a missing column, a wrong type, a
    /// bad cell), named by table, column and row where known.
    Input(IoError),
    /// The data made the computation fail (a bad cell found while computing, an
    /// expression or an aggregation failing on an event).
    Data(ComputeFailure),
    /// Anything else: the job could not be set up or run (see `RunFailure`).
    Failed(RunFailure),
}

/// Why a job could not be set up or run, its data aside.
#[derive(Debug)]
pub enum RunFailure {
    /// The session (its memory pool, its spill folder) could not be made.
    Session(DataFusionError),
    /// The features cannot be grouped into a plan.
    Grouping(GroupingError),
    /// The plan cannot be lowered over this spine.
    Lowering(LowerError),
    /// The computation needed more memory than its limit (`limit` bytes); `detail` is
    /// DataFusion's account of it.
    OutOfMemory { limit: usize, detail: String },
    /// The sorts' spill files needed more disk at once than the limit (`limit` bytes,
    /// `--spill-limit`) while the run went in `passes` passes.
    SpillLimit { limit: usize, passes: usize },
    /// A cluster run was asked of a featc built without Ballista.
    WithoutBallista { url: String },
    /// A source bound to a table held in memory, which a cluster cannot read.
    TableOnCluster { source: String },
    /// The cluster could not be reached or its session set up.
    #[cfg(feature = "ballista")]
    Cluster(featc_ballista::RemoteError),
    /// The spine's copy could not be read back as a table for the cluster at
    /// `address`.
    SpineCopy {
        address: String,
        error: DataFusionError,
    },
    /// The cluster failed to start the computation (the error names the cluster).
    OnCluster(DataFusionError),
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobError::UnknownName { kind, name, known } => {
                write!(f, "no {kind} `{name}` in the project ({known})")
            }
            JobError::Input(e) => write!(f, "{e}"),
            JobError::Data(e) => write!(f, "{e}"),
            JobError::Failed(e) => write!(f, "{e}"),
        }
    }
}

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunFailure::Session(e) => write!(f, "{e}"),
            RunFailure::Grouping(e) => write!(f, "{e}"),
            RunFailure::Lowering(e) => write!(f, "{e}"),
            RunFailure::OutOfMemory { limit, detail } => write!(
                f,
                "the training set needs more memory than its limit ({}): {detail}\n\
                 hint: raise the limit (`--memory-limit`, `memory_limit=` in Python) or use \
                 fewer partitions, each of which sets memory aside for its sorts",
                format_size(*limit)
            ),
            RunFailure::SpillLimit { limit, passes } => write!(
                f,
                "the training set's spill needs more disk at once than its limit ({}, in {passes} \
                 pass{})\n\
                 hint: run in more passes (`--passes N`, `passes=` in Python: each pass spills \
                 about its share of the events), raise the limit (`--spill-limit`) or give the \
                 sorts more memory (`--memory-limit`)",
                format_size(*limit),
                if *passes == 1 { "" } else { "es" }
            ),
            RunFailure::WithoutBallista { url } => write!(
                f,
                "cannot run on {url}: this featc was built without Ballista (the `ballista` \
                 feature of the featc crate)"
            ),
            RunFailure::TableOnCluster { source } => write!(
                f,
                "source `{source}` is a table held in memory, which a Ballista cluster cannot \
                 read: write it to a file its executors can read and bind it by path"
            ),
            #[cfg(feature = "ballista")]
            RunFailure::Cluster(e) => write!(f, "{e}"),
            RunFailure::SpineCopy { address, error } => {
                write!(f, "the spine's copy for {address}: {error}")
            }
            RunFailure::OnCluster(e) => f.write_str(&e.strip_backtrace()),
        }
    }
}

impl std::error::Error for JobError {}

impl std::error::Error for RunFailure {}

impl From<IoError> for JobError {
    fn from(e: IoError) -> JobError {
        JobError::Input(e)
    }
}

impl From<RunFailure> for JobError {
    fn from(e: RunFailure) -> JobError {
        JobError::Failed(e)
    }
}
