//! Which error a batch run reports when several of its tasks (a group's partitions,
//! the groups) fail: the same one whatever order they ran or finished in, and the
//! one the other paths name (semantics.md, "Errors while computing").

use datafusion::common::DataFusionError;

use crate::agg::FeatureError;

/// The error of a run whose tasks failed with `errors` (in task order), None when
/// none did: the first error that is not an aggregation's (an expression's on an
/// event, a bad input, an internal one: every event of the run is evaluated, so these
/// come before any aggregation), else the aggregation failure that precedes the
/// others (`FeatureError::precedes`).
pub fn first_failure(errors: Vec<DataFusionError>) -> Option<DataFusionError> {
    let mut first: Option<(DataFusionError, FeatureError)> = None;
    for error in errors {
        let Some(feature) = feature_error(&error).cloned() else {
            return Some(error);
        };
        if first.as_ref().is_none_or(|(_, f)| feature.precedes(f)) {
            first = Some((error, feature));
        }
    }
    first.map(|(error, _)| error)
}

/// The aggregation failure `error` carries, if it is one.
fn feature_error(error: &DataFusionError) -> Option<&FeatureError> {
    match error.find_root() {
        DataFusionError::External(e) => e.downcast_ref::<FeatureError>(),
        _ => None,
    }
}
