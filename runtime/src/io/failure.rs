//! `ComputeFailure`: why a run over the sources failed, as `explain_failure` found
//! it (the plan's own error, a bad cell of a source, or DataFusion's error), kept as
//! data and rendered to the user's text in one place.

use std::fmt;

use datafusion::error::DataFusionError;

use super::IoError;
use crate::agg::FeatureError;
use crate::expr::derived::DerivedFailure;
use crate::expr::slots::SlotError;

/// Why a run over the sources of a plan failed.
#[derive(Debug)]
pub enum ComputeFailure {
    /// An expression of a group plan failed on an event.
    Slot(SlotError),
    /// An aggregation failed on an event.
    Feature(FeatureError),
    /// A derived feature failed at a spine row.
    Derived(DerivedFailure),
    /// A source could not be read as declared: raised while reading, or the bad cell
    /// found by reading its files again.
    Input(IoError),
    /// DataFusion's own error (none of the above explains it).
    Engine(DataFusionError),
}

impl fmt::Display for ComputeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComputeFailure::Slot(e) => write!(f, "{e}"),
            ComputeFailure::Feature(e) => write!(f, "{e}"),
            ComputeFailure::Derived(e) => write!(f, "{e}"),
            ComputeFailure::Input(e) => write!(f, "{e}"),
            // An operator's `Execution` error is its message; any other kind keeps
            // DataFusion's prefix, without a backtrace.
            ComputeFailure::Engine(e) => match e.find_root() {
                DataFusionError::Execution(message) => f.write_str(message),
                other => f.write_str(&other.strip_backtrace()),
            },
        }
    }
}

impl std::error::Error for ComputeFailure {}
