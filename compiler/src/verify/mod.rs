//! `featc verify` as a library: run every path that computes features (the reference
//! interpreter, the batch plan, the streaming runtime, and the emitted SQL on
//! DataFusion) over the same datasets, and report every cell where a path differs
//! from the reference, with its entity, time, feature and each path's value
//! (docs/verify.md).
//!
//! A dataset is either a sample of the user's own data (`sample`) or a case generated
//! from the project's own schemas to sit on the boundaries semantics.md defines
//! (`generate`); both are answered at a spine of probe times around every event
//! (`probe`) unless the user gives one. Each path is an `Executor`; the reference is
//! the oracle. A path that fails where the reference answers, or answers where the
//! reference fails, is a disagreement too: the paths must fail on the same data, and
//! two failures agree only when both are the same computation failure at the same
//! place (`failure::RunError::agrees_with`).

pub mod compare;
pub mod dataset;
pub mod executor;
pub mod failure;
pub mod float_bound;
pub mod generate;
pub mod nested;
pub mod nested_array;
pub mod probe;
pub mod report;
pub mod sample;
pub mod values;

use crate::ir::{FeatureId, Project};

pub use compare::{Answer, Disagreement, PathValue, Tolerance};
pub use dataset::{Dataset, RunSettings};
pub use executor::{
    Answered, BatchExecutor, DataFusionEngine, Executor, Pending, ReferenceExecutor, RunInput,
    Skipped, SqlAnswer, SqlEngine, SqlExecutor, SqlTable, StreamExecutor,
};
pub use failure::{ComputeError, RunError};
pub use report::{DatasetReport, PathFailure, Report};
pub use sample::UserData;

/// The disagreeing cells a dataset's report lists (the rest are counted).
pub const SHOWN_PER_DATASET: usize = 20;

/// What one run of `featc verify` covers.
pub struct Options<'a> {
    /// The user's data, or None to verify on generated cases only.
    pub user: Option<UserData<'a>>,
    /// Generated cases.
    pub cases: usize,
    /// The seed of every draw: the cases, their run settings, the samples.
    pub seed: u64,
    /// The time column of the generated cases' spines.
    pub probe_time: String,
}

/// The datasets `options` asks for, every path run on each (`verify_dataset`);
/// `progress` is told after each dataset. An error is one that stops the run: the
/// user's data cannot be read, or a case cannot be built.
pub async fn run(
    project: &Project,
    features: &[FeatureId],
    options: &Options<'_>,
    reference: &dyn Executor,
    others: &[&dyn Executor],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report, String> {
    let mut report = Report {
        verify_version: report::REPORT_VERSION,
        paths: others.iter().map(|e| e.name().to_string()).collect(),
        ..Report::default()
    };
    let total = options.cases + usize::from(options.user.is_some());
    if let Some(user) = &options.user {
        let (dataset, sampled) = sample::user_dataset(project, features, user).await?;
        report.notes.push(format!("your data: {sampled}"));
        let outcome = verify_dataset(project, features, &dataset, reference, others).await;
        report.datasets.push(outcome);
        progress(report.datasets.len(), total);
    }
    for index in 1..=options.cases {
        let dataset =
            generate::generated_case(project, features, index, options.seed, &options.probe_time)?;
        let outcome = verify_dataset(project, features, &dataset, reference, others).await;
        report.datasets.push(outcome);
        progress(report.datasets.len(), total);
    }
    Ok(report)
}

/// Runs `reference` and every one of `others` on `dataset` and compares each of the
/// others' tables with the reference's, cell by cell.
pub async fn verify_dataset(
    project: &Project,
    features: &[FeatureId],
    dataset: &Dataset,
    reference: &dyn Executor,
    others: &[&dyn Executor],
) -> DatasetReport {
    let input = RunInput {
        project,
        features,
        dataset,
    };
    let mut report = DatasetReport::new(dataset, features.len());
    let expected = reference.run(input).await;
    let mut answers: Vec<(&dyn Executor, Answered)> = Vec::new();
    for &other in others {
        let failure = |message: String| PathFailure {
            path: other.name().to_string(),
            message,
        };
        match (&expected, other.run(input).await) {
            (Err(error), Err(failed)) if error.agrees_with(&failed) => {}
            (Err(error), Err(failed)) => report.failures.push(failure(format!(
                "failed otherwise than the reference: {failed}\nthe reference: {error}"
            ))),
            // The reference fails at a feature the path leaves out (said in
            // `left_out`): there is nothing of the path's to compare.
            (Err(error), Ok(answered))
                if error
                    .feature()
                    .is_some_and(|f| answered.skipped.iter().any(|s| s.feature == f)) =>
            {
                for s in &answered.skipped {
                    report.left_out.push(PathFailure {
                        path: other.name().to_string(),
                        message: format!("leaves out `{}`: {}", s.feature, s.reason),
                    });
                }
            }
            (Err(error), Ok(_)) => report.failures.push(failure(format!(
                "answered where the reference failed: {error}"
            ))),
            (Ok(_), Err(error)) => report.failures.push(failure(format!(
                "failed where the reference answered: {error}"
            ))),
            (Ok(expected), Ok(answered)) => {
                for s in &answered.skipped {
                    report.left_out.push(PathFailure {
                        path: other.name().to_string(),
                        message: format!("leaves out `{}`: {}", s.feature, s.reason),
                    });
                }
                if answered.tolerance != Tolerance::Bits
                    && !report.bounded.iter().any(|p| p == other.name())
                {
                    report.bounded.push(other.name().to_string());
                }
                let skipped: Vec<&str> = answered
                    .skipped
                    .iter()
                    .map(|s| s.feature.as_str())
                    .collect();
                match compare::same_shape(&expected.table, &answered.table, &skipped) {
                    Ok(()) => answers.push((other, answered)),
                    Err(mismatch) => report.failures.push(failure(mismatch)),
                }
            }
        }
    }
    match expected {
        Err(error) => report.reference_error = Some(error.to_string()),
        Ok(expected) => {
            let names: Vec<&str> = features
                .iter()
                .map(|id| project.feature(*id).name.as_str())
                .collect();
            let answers: Vec<Answer<'_>> = answers
                .iter()
                .map(|(executor, answered)| Answer {
                    path: executor.name(),
                    table: &answered.table,
                    tolerance: &answered.tolerance,
                    skipped: answered
                        .skipped
                        .iter()
                        .map(|s| s.feature.as_str())
                        .collect(),
                })
                .collect();
            match compare::disagreements(
                &names,
                &probe::entity_key_columns(project, features),
                &dataset.spine_time,
                &expected.table,
                &answers,
                SHOWN_PER_DATASET,
            ) {
                Ok((shown, total)) => {
                    report.disagreements = shown;
                    report.disagreeing_cells = total;
                }
                Err(message) => report.failures.push(PathFailure {
                    path: "reference".into(),
                    message,
                }),
            }
        }
    }
    report
}
