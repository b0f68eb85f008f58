//! Which error a batch run reports when several of its tasks (a group's partitions,
//! the groups) fail: the same one whatever order they ran or finished in, and the
//! one the other paths name (semantics.md, "Errors while computing").

use datafusion::common::DataFusionError;

use crate::agg::FeatureError;
use crate::expr::slots::SlotError;

/// The error of a run whose tasks failed with `errors` (in task order), None when
/// none did: the first error that is neither an expression's nor an aggregation's (a
/// bad input, an internal one); else the expression failure that precedes the others
/// (`SlotError::precedes`: every event of the run is evaluated, so these come before
/// any aggregation's); else the aggregation failure that precedes the others
/// (`FeatureError::precedes`).
pub fn first_failure(errors: Vec<DataFusionError>) -> Option<DataFusionError> {
    let mut slot: Option<(DataFusionError, SlotError)> = None;
    let mut feature: Option<(DataFusionError, FeatureError)> = None;
    for error in errors {
        let external = match error.find_root() {
            DataFusionError::External(e) => Some(e),
            _ => None,
        };
        if let Some(s) = external
            .and_then(|e| e.downcast_ref::<SlotError>())
            .cloned()
        {
            if slot.as_ref().is_none_or(|(_, first)| s.precedes(first)) {
                slot = Some((error, s));
            }
        } else if let Some(f) = external
            .and_then(|e| e.downcast_ref::<FeatureError>())
            .cloned()
        {
            if feature.as_ref().is_none_or(|(_, first)| f.precedes(first)) {
                feature = Some((error, f));
            }
        } else {
            return Some(error);
        }
    }
    slot.map(|(e, _)| e).or(feature.map(|(e, _)| e))
}
