//! The session settings a featc plan needs on Ballista, shared by the client (they
//! travel with each job) and the scheduler (its default for a session), and the
//! scheduler's session itself.
//!
//! - The static distributed planner, not the adaptive one (Ballista's default): it
//!   plans with DataFusion's own physical optimizer, which gives `GroupMergeExec` its
//!   co-partitioned, sorted inputs (hash shuffles of the same partition count) and
//!   `AssembleExec` its merges whole, and cuts stages at exactly those shuffles. The
//!   adaptive planner swaps in its own rules and re-coalesces partitions, which
//!   `GroupMergeExec`'s co-partitioning does not survive.
//! - No byte-range splitting of file scans: a task reads whole files. The spine must
//!   be one partition, read in file order (its rows are numbered by that order), and
//!   Ballista gives each task only its own slice of a split scan. Sources still spread
//!   over the executors by file: give a large source as a folder of files.
//! - featc's session settings (`batch::session_state`): Parquet strings as `Utf8`,
//!   the sort threshold, and only `OptimizeProjections` as optimizer rule — the
//!   expression simplifier stays off on the scheduler too.

use ballista_core::extension::SessionConfigExt;
use datafusion::common::Result;
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::SessionConfig;

/// `config` upgraded for Ballista with featc's settings (see the module docs).
pub fn session_config(config: SessionConfig) -> SessionConfig {
    let mut config = config
        .upgrade_for_ballista()
        .with_ballista_adaptive_query_planner(false);
    config.options_mut().optimizer.repartition_file_scans = false;
    config
}

/// The scheduler's session for a job's `config`: featc's query planner and
/// optimizer rules (`featc_runtime::batch::session_state`) over featc's settings.
pub fn scheduler_session(config: SessionConfig) -> Result<SessionState> {
    Ok(featc_runtime::batch::session_state(session_config(config)))
}
