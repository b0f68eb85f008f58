//! A path's failure as data: a failure of the computation, named by where it
//! happened, which every path must name alike (semantics.md, "Errors while
//! computing"), or any other failure, which agrees with nothing (docs/verify.md).

use std::fmt;

use datafusion::error::DataFusionError;

use featc_runtime::agg::FeatureError;
use featc_runtime::expr::derived::{DerivedColumnsError, DerivedError, DerivedFailure};
use featc_runtime::expr::slots::SlotError;
use featc_runtime::io::ComputeFailure;
use featc_runtime::reference::ReferenceError;
use featc_runtime::stream::StreamError;

use crate::ir::Project;
use crate::job::JobError;

/// Where a computation failed: what two paths failing must have in common. The
/// message (each path's own words for the same overflow) is not part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComputeError {
    /// An expression failed on an event of `source`, at time `at` (µs; None when the
    /// path could not read the event's time).
    Expression { source: String, at: Option<i64> },
    /// Aggregated feature `feature` failed at spine row `row` (from 0): its entity
    /// and time.
    Aggregation { feature: String, row: u64 },
    /// Derived feature `feature` failed at spine row `row` (from 0).
    Derived { feature: String, row: u64 },
}

/// Why a path gave no table.
#[derive(Debug, Clone, PartialEq)]
pub enum RunError {
    /// The computation failed at `place`; `message` is the path's own account.
    Compute {
        place: ComputeError,
        message: String,
    },
    /// Anything else (bad input, a refusal, an engine's error).
    Other(String),
}

impl RunError {
    /// Whether two paths failing like this agree: the same computation failure at
    /// the same place. Any other pair of failures is a disagreement.
    pub fn agrees_with(&self, other: &RunError) -> bool {
        match (self, other) {
            (RunError::Compute { place: a, .. }, RunError::Compute { place: b, .. }) => a == b,
            _ => false,
        }
    }

    /// The feature an aggregation's or a derived feature's failure names.
    pub fn feature(&self) -> Option<&str> {
        match self {
            RunError::Compute {
                place:
                    ComputeError::Aggregation { feature, .. } | ComputeError::Derived { feature, .. },
                ..
            } => Some(feature),
            _ => None,
        }
    }

    /// The reference interpreter's failure; `project` tells a derived feature's from
    /// an aggregation's.
    pub fn of_reference(project: &Project, error: &ReferenceError) -> RunError {
        let place = match error {
            ReferenceError::Eval { source, at, .. } => Some(ComputeError::Expression {
                source: source.clone(),
                at: *at,
            }),
            ReferenceError::Aggregate {
                feature, spine_row, ..
            } => {
                let derived = project
                    .feature_by_name(feature)
                    .is_some_and(|id| project.feature(id).derived().is_some());
                let (feature, row) = (feature.clone(), *spine_row as u64);
                Some(if derived {
                    ComputeError::Derived { feature, row }
                } else {
                    ComputeError::Aggregation { feature, row }
                })
            }
            _ => None,
        };
        RunError::new(place, error)
    }

    /// A batch job's failure.
    pub fn of_job(error: &JobError) -> RunError {
        let place = match error {
            JobError::Data(failure) => compute_place(failure),
            _ => None,
        };
        RunError::new(place, error)
    }

    /// A batch plan's failure as DataFusion raised it (a plan run without a job to
    /// explain its error).
    pub fn of_plan(error: &DataFusionError) -> RunError {
        let place = match error.find_root() {
            DataFusionError::External(e) => {
                if let Some(e) = e.downcast_ref::<SlotError>() {
                    Some(expression(e))
                } else if let Some(e) = e.downcast_ref::<FeatureError>() {
                    Some(aggregation(e))
                } else {
                    e.downcast_ref::<DerivedFailure>()
                        .map(|e| derived(&e.error))
                }
            }
            _ => None,
        };
        RunError::new(place, error)
    }

    /// A streaming replay's failure.
    pub fn of_stream(error: &StreamError) -> RunError {
        let place = match error {
            StreamError::Slot(e) => Some(expression(e)),
            StreamError::Agg(e) => Some(aggregation(e)),
            StreamError::Derived(DerivedColumnsError::Eval(e)) => Some(derived(e)),
            _ => None,
        };
        RunError::new(place, error)
    }

    fn new(place: Option<ComputeError>, error: &dyn fmt::Display) -> RunError {
        let message = error.to_string();
        match place {
            Some(place) => RunError::Compute { place, message },
            None => RunError::Other(message),
        }
    }
}

fn compute_place(failure: &ComputeFailure) -> Option<ComputeError> {
    match failure {
        ComputeFailure::Slot(e) => Some(expression(e)),
        ComputeFailure::Feature(e) => Some(aggregation(e)),
        ComputeFailure::Derived(e) => Some(derived(&e.error)),
        ComputeFailure::Input(_) | ComputeFailure::Engine(_) => None,
    }
}

fn expression(e: &SlotError) -> ComputeError {
    ComputeError::Expression {
        source: e.source.clone(),
        at: e.at,
    }
}

fn aggregation(e: &FeatureError) -> ComputeError {
    ComputeError::Aggregation {
        feature: e.feature.clone(),
        row: e.row,
    }
}

fn derived(e: &DerivedError) -> ComputeError {
    ComputeError::Derived {
        feature: e.feature.clone(),
        row: e.row as u64,
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Compute { message, .. } | RunError::Other(message) => f.write_str(message),
        }
    }
}

impl From<String> for RunError {
    fn from(message: String) -> RunError {
        RunError::Other(message)
    }
}
