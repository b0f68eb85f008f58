//! The streaming runtime as a path: events replayed in a disorder within the
//! sources' lateness, in chunks, each spine row answered from the online state.
//! Features reading an as-of lookup, which the stream graph refuses, are left out
//! (and said).

use featc_runtime::stream::{replay, ReplayOptions, Selection};

use super::{Answered, Executor, Pending, RunInput, Skipped};
use crate::ir::FeatureId;
use crate::lower::groups::GroupingError;
use crate::verify::compare::Tolerance;
use crate::verify::failure::RunError;

/// `lower_stream` and a replay with the dataset's disorder, chunks and seed.
pub struct StreamExecutor;

impl Executor for StreamExecutor {
    fn name(&self) -> &str {
        "stream"
    }

    fn run<'a>(&'a self, input: RunInput<'a>) -> Pending<'a> {
        Box::pin(async move {
            let (kept, skipped) = online(input)?;
            if kept.is_empty() {
                return Ok(Answered {
                    table: input.dataset.spine.clone(),
                    tolerance: Tolerance::Bits,
                    skipped,
                });
            }
            let graph = crate::lower::stream::lower_stream(input.project, &kept)
                .map_err(|e| e.to_string())?;
            let settings = input.dataset.settings;
            let options = ReplayOptions {
                disorder_us: settings.disorder_us,
                batch_size: settings.ingest_rows.max(1),
                seed: settings.seed,
                ..ReplayOptions::default()
            };
            // The sources the graph reads (leaving out a feature may leave out all a
            // source's readers).
            let sources: Vec<(String, Vec<_>)> = input
                .dataset
                .sources
                .iter()
                .filter(|(name, _)| graph.sources().any(|(_, op)| op.name == *name))
                .cloned()
                .collect();
            let (table, report) = replay(
                graph,
                &sources,
                &input.dataset.spine,
                &input.dataset.spine_time,
                &Selection::All,
                &options,
            )
            .map_err(|e| RunError::of_stream(&e))?;
            // The disorder is within every source's lateness: a late event means the
            // runtime's lateness bookkeeping is wrong, whatever the values say.
            if report.metrics.late != 0 {
                return Err(RunError::Other(format!(
                    "{} events counted late in a replay within the declared lateness",
                    report.metrics.late
                )));
            }
            Ok(Answered {
                table,
                tolerance: Tolerance::Bits,
                skipped,
            })
        })
    }
}

/// The requested features the stream graph computes, and the others, left out: those
/// reading an as-of lookup (directly or through the features they read), which the
/// stream graph refuses (`GroupingError::LookupOnline`).
fn online(input: RunInput<'_>) -> Result<(Vec<FeatureId>, Vec<Skipped>), RunError> {
    let mut kept = Vec::with_capacity(input.features.len());
    let mut skipped: Vec<Skipped> = Vec::new();
    for &id in input.features {
        match crate::lower::stream::lower_stream(input.project, &[id]) {
            Err(e @ GroupingError::LookupOnline { .. }) => {
                let feature = input.project.feature(id).name.clone();
                if !skipped.iter().any(|s| s.feature == feature) {
                    skipped.push(Skipped {
                        feature,
                        reason: e.to_string(),
                    });
                }
            }
            Err(e) => return Err(RunError::Other(e.to_string())),
            Ok(_) => kept.push(id),
        }
    }
    Ok((kept, skipped))
}
