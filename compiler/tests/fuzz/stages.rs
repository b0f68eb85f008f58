//! Every stage after `check`, in process, on one project: the printers and the
//! catalog, the feature plan and its invariants, both lowerings, the stream graph's
//! JSON round trip, and on a small dataset the batch training set and the streaming
//! replay, which must agree. Each stage runs on the `Clock`, which the watchdog listens to.

use featc::lower::batch::LowerError;
use featc::SourceFile;
use featc_runtime::stream::graph::StreamGraph;
use featc_runtime::stream::{replay, ReplayOptions, Selection};

use super::clock::Clock;
use super::data::{dataset, Dataset};
use super::{batch, compare};

/// Set, every generated dataset is printed to stderr (to minimize a failure by hand).
pub const DUMP_VAR: &str = "FEATC_FUZZ_DUMP";

/// How far a project went; every variant is a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `check` refused it (its diagnostics rendered).
    Refused,
    /// Every compile-time stage passed; the data stages did not run (why).
    NoData(String),
    /// Batch and replay both returned the same table, with this many non-null
    /// feature cells.
    Agreed(usize),
    /// Both executors refused the data (e.g. an int64 overflow), with these errors.
    BothFailed(String, String),
    /// Every failure was a known one (`fuzz::KNOWN_VAR`).
    Known(String),
}

/// A failure of the contract "a project that checks clean compiles and runs".
fn internal(stage: &str, error: impl std::fmt::Display) -> String {
    format!("internal error: `{stage}` failed on a checked project: {error}")
}

/// Runs every stage on `files`, the data drawn from `seed`. A stage whose product
/// later stages need stops the run when it fails; the other failures are collected
/// and the run goes on, so that one input shows every stage it breaks.
pub fn run(files: &[SourceFile], seed: u64, clock: &Clock) -> Result<Outcome, Vec<String>> {
    let mut failures = Vec::new();
    let outcome = stages(files, seed, clock, &mut failures);
    match outcome {
        Ok(outcome) if failures.is_empty() => Ok(outcome),
        Ok(_) => Err(failures),
        Err(fatal) => {
            failures.push(fatal);
            Err(failures)
        }
    }
}

fn stages(
    files: &[SourceFile],
    seed: u64,
    clock: &Clock,
    failures: &mut Vec<String>,
) -> Result<Outcome, String> {
    let project = match clock.stage("check", || featc::compile(files)) {
        Ok(project) => project,
        Err(diagnostics) => {
            clock.stage("render diagnostics", || diagnostics.render(files, false));
            return Ok(Outcome::Refused);
        }
    };
    clock.stage("print ir", || featc::print::ir::print_project(&project));
    let json = clock.stage("catalog", || {
        let c = featc::catalog::catalog(&project);
        featc::catalog::markdown::render(&c);
        featc::catalog::html::render(&c);
        featc::catalog::json::render(&c)
    });
    if let Err(e) = json {
        return Err(format!("the catalog's JSON failed: {e}"));
    }
    let features = project.all_features();
    let plan = clock
        .stage("plan", || {
            featc::lower::groups::plan_groups(&project, &features)
        })
        .map_err(|e| internal("plan_groups", e))?;
    clock.stage("print plan", || featc::print::plan::print_plan(&plan));
    if let Err(e) = clock.stage("validate plan", || plan.validate()) {
        failures.push(internal("Plan::validate", e));
    }
    match clock.stage("explain batch", || {
        featc::print::batch::explain_batch(&project, 2, 1)
    }) {
        // A feature named like a spine column is the user's to rename.
        Ok(_) | Err(LowerError::NameClash { .. }) => {}
        Err(e) => failures.push(internal("explain_batch", e)),
    }
    let graph = clock
        .stage("lower stream", || {
            featc::lower::stream::lower_stream(&project, &features)
        })
        .map_err(|e| internal("lower_stream", e))?;
    clock.stage("print stream", || {
        featc::print::stream::print_stream(&graph)
    });
    let json = clock.stage("to json", || graph.to_json());
    match clock.stage("from json", || StreamGraph::from_json(&json)) {
        Ok(loaded) if loaded == graph => {}
        Ok(_) => failures.push(internal(
            "StreamGraph::from_json(to_json(g))",
            "a different graph",
        )),
        Err(e) => failures.push(internal("StreamGraph::from_json(to_json(g))", e)),
    }
    let data = match clock.stage("generate data", || dataset(&project, &features, seed)) {
        Ok(data) => data,
        Err(why) => return Ok(Outcome::NoData(why)),
    };
    if std::env::var_os(DUMP_VAR).is_some() {
        eprintln!("{}", data.describe());
    }
    let batch = clock.stage("training set", || {
        batch::training_set(&project, &features, &data)
    });
    let online = clock.stage("replay", || replayed(graph, &data));
    match (batch, online) {
        (Ok(b), Ok(r)) => match clock.stage("compare", || compare::difference(&b, &r)) {
            None => Ok(Outcome::Agreed(values(&b, data.spine.num_columns()))),
            Some(d) => Err(format!("disagreement: batch and replay differ: {d}")),
        },
        (Err(b), Err(r)) => Ok(Outcome::BothFailed(b, r)),
        (Ok(_), Err(r)) => Err(format!("disagreement: batch succeeded, replay failed: {r}")),
        (Err(b), Ok(_)) => Err(format!("disagreement: replay succeeded, batch failed: {b}")),
    }
}

/// The non-null cells of the feature columns (after the spine's `spine_columns`).
fn values(out: &datafusion::arrow::record_batch::RecordBatch, spine_columns: usize) -> usize {
    use datafusion::arrow::array::Array;
    out.columns()
        .iter()
        .skip(spine_columns)
        .map(|c| c.len() - c.null_count())
        .sum()
}

fn replayed(
    graph: StreamGraph,
    data: &Dataset,
) -> Result<datafusion::arrow::record_batch::RecordBatch, String> {
    let sources: Vec<(String, Vec<_>)> = data
        .sources
        .iter()
        .map(|(name, events)| (name.clone(), vec![events.clone()]))
        .collect();
    let opts = ReplayOptions {
        batch_size: data.ingest_rows,
        fold_run: data.fold_run,
        ..ReplayOptions::default()
    };
    replay(graph, &sources, &data.spine, "ts", &Selection::All, &opts)
        .map(|(out, _)| out)
        .map_err(|e| e.to_string())
}
