//! `featc verify`'s generated cases catch a path whose *semantics* are wrong, not only
//! one whose answer was corrupted after the fact: each mutant below is the batch path
//! run on a mutated IR or a mutated input, so that it computes one feature by a rule
//! semantics.md does not have (a window that keeps the event exactly at `t - W`, a
//! `last` whose tie on time goes to the later arrival, a `count(x)` that counts nulls,
//! a `count(*)` that drops rows with a null). Verify gets the mutant as just another
//! path (`Executor`, the seam it already has: no switch in the production paths), on
//! generated cases only (no user data), and must name the mutated feature in every
//! disagreement, for every seed tried, at the default number of cases.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, AsArray, BooleanArray};
use datafusion::arrow::compute::{concat_batches, filter_record_batch};
use datafusion::arrow::datatypes::{Float64Type, Int64Type, TimestampMicrosecondType};
use datafusion::arrow::record_batch::RecordBatch;
use featc::ir::{AggKind, FeatureKind, Project};
use featc::verify::{self, BatchExecutor, Dataset, Executor, Options, Pending, Report, RunInput};
use featc_test_support::runtime::runtime;

/// `featc verify`'s default `--cases`.
const DEFAULT_CASES: usize = 20;

const PROJECT: &str = r#"
source tx {
    time ts
    columns {
        user_id: int64
        amount:  float64?
    }
    lateness 10s
}
entity user { key user_id: int64 }
view spend from tx by user {
    feature n_1h      = count(*) over 1h
    feature amounts   = count(amount) over 1h
    feature last_a    = last(amount)
    feature max_30m   = max(amount) over 30m
}
"#;

/// How a mutant's semantics differ from semantics.md's.
#[derive(Clone, Copy, Debug)]
enum Mutation {
    /// `over W` folds `t - W <= ts <= t`: the feature's window is 1 µs longer, which
    /// on whole microseconds is exactly a closed start.
    ClosedWindowStart(&'static str),
    /// `count(x)` counts every row, a null `x` included (the feature becomes
    /// `count(*)`).
    CountsNulls(&'static str),
    /// Rows whose `column` is null are dropped before every aggregation of the view
    /// (semantics.md keeps them: `count(*)` counts them).
    DropsNullRows { column: &'static str },
    /// `last(column)` breaks a tie on time by arrival (the row that comes later in
    /// the source wins) instead of by the greatest value: of the rows of one key tied
    /// on time with a non-null `column`, the path sees only the last to arrive.
    LastTieByArrival { column: &'static str },
}

/// The batch path with `feature` computed under `mutation`: the batch path run on
/// the mutated IR or input answers that column, the unmutated run every other (so
/// the mutant is wrong about that one feature, as a path with that bug would be).
struct Mutant {
    mutation: Mutation,
    feature: &'static str,
}

impl Executor for Mutant {
    fn name(&self) -> &str {
        "mutant"
    }

    fn run<'a>(&'a self, input: RunInput<'a>) -> Pending<'a> {
        Box::pin(async move {
            let project = mutated_project(input.project, self.mutation);
            let dataset = mutated_dataset(input.dataset, self.mutation);
            let wrong = BatchExecutor
                .run(RunInput {
                    project: &project,
                    features: input.features,
                    dataset: &dataset,
                })
                .await?;
            let mut answered = BatchExecutor.run(input).await?;
            let i = answered
                .table
                .schema()
                .index_of(self.feature)
                .expect("feature");
            let mut columns = answered.table.columns().to_vec();
            columns[i] = wrong.table.column(i).clone();
            answered.table =
                RecordBatch::try_new(answered.table.schema(), columns).expect("same schema");
            Ok(answered)
        })
    }
}

fn mutated_project(project: &Project, mutation: Mutation) -> Project {
    let mut project = project.clone();
    let (name, mutate): (&str, fn(&mut featc::ir::Aggregate)) = match mutation {
        Mutation::ClosedWindowStart(name) => (name, |a| {
            a.window_us = a.window_us.map(|w| w + 1);
        }),
        Mutation::CountsNulls(name) => (name, |a| {
            assert_eq!(a.agg, AggKind::Count, "count(x) mutated");
            a.agg = AggKind::CountStar;
            a.arg = None;
        }),
        Mutation::DropsNullRows { .. } | Mutation::LastTieByArrival { .. } => return project,
    };
    let feature = project
        .views
        .iter_mut()
        .flat_map(|v| v.features.iter_mut())
        .find(|f| f.name == name)
        .expect("the mutated feature");
    match &mut feature.kind {
        FeatureKind::Aggregate(a) => mutate(a),
        FeatureKind::Derived(_) => panic!("{name} is not an aggregation"),
    }
    project
}

fn mutated_dataset(dataset: &Dataset, mutation: Mutation) -> Dataset {
    let (keep, column): (fn(&RecordBatch, &str) -> BooleanArray, &str) = match mutation {
        Mutation::ClosedWindowStart(_) | Mutation::CountsNulls(_) => return dataset.clone(),
        Mutation::DropsNullRows { column } => (non_null_rows, column),
        Mutation::LastTieByArrival { column } => (last_arrival_of_ties, column),
    };
    let mut dataset = dataset.clone();
    for (_, batches) in &mut dataset.sources {
        let Some(first) = batches.first() else {
            continue;
        };
        let all = concat_batches(&first.schema(), batches.iter()).expect("one table");
        *batches = vec![filter_record_batch(&all, &keep(&all, column)).expect("filter")];
    }
    dataset
}

fn non_null_rows(events: &RecordBatch, column: &str) -> BooleanArray {
    let c = events.column_by_name(column).expect("column");
    (0..c.len()).map(|r| Some(c.is_valid(r))).collect()
}

/// Rows kept when ties on `(user_id, ts)` among non-null `column` values go to the
/// last to arrive: every row with a null `column` (it is not a `last` candidate), and
/// of each tie, the last row.
fn last_arrival_of_ties(events: &RecordBatch, column: &str) -> BooleanArray {
    let keys = events
        .column_by_name("user_id")
        .expect("key")
        .as_primitive::<Int64Type>();
    let times = events
        .column_by_name("ts")
        .expect("time")
        .as_primitive::<TimestampMicrosecondType>();
    let values = events
        .column_by_name(column)
        .expect("column")
        .as_primitive::<Float64Type>();
    let mut last: HashMap<(Option<i64>, i64), usize> = HashMap::new();
    for r in (0..events.num_rows()).filter(|r| values.is_valid(*r)) {
        last.insert((keys.is_valid(r).then(|| keys.value(r)), times.value(r)), r);
    }
    (0..events.num_rows())
        .map(|r| {
            let key = (keys.is_valid(r).then(|| keys.value(r)), times.value(r));
            Some(!values.is_valid(r) || last.get(&key) == Some(&r))
        })
        .collect()
}

fn verify_generated_only(project: &Project, seed: u64, path: &dyn Executor) -> Report {
    let options = Options {
        user: None,
        cases: DEFAULT_CASES,
        seed,
        probe_time: "ts".into(),
    };
    runtime()
        .block_on(verify::run(
            project,
            &project.all_features(),
            &options,
            &verify::ReferenceExecutor,
            &[path],
            &mut |_, _| {},
        ))
        .expect("verify runs")
}

/// Verify found a disagreement, and named `feature` in each one it shows.
fn caught_on(report: &Report, feature: &str, what: &str) {
    assert!(!report.agrees(), "{what}: not caught:\n{}", report.text());
    let mut cells = 0;
    for d in &report.datasets {
        assert!(d.failures.is_empty(), "{what}: {}", report.text());
        for cell in &d.disagreements {
            assert_eq!(cell.feature, feature, "{what}:\n{}", report.text());
        }
        cells += d.disagreeing_cells;
    }
    assert!(cells > 0, "{what}: {}", report.text());
}

fn mutation_is_caught(mutation: Mutation, feature: &'static str) {
    let project = featc_test_support::project::compile_text("mutants.feat", PROJECT);
    for seed in [0, 1, 2, 3] {
        let report = verify_generated_only(&project, seed, &Mutant { mutation, feature });
        caught_on(&report, feature, &format!("{mutation:?}, seed {seed}"));
    }
}

#[test]
fn the_unmutated_batch_path_agrees() {
    let project = featc_test_support::project::compile_text("mutants.feat", PROJECT);
    for seed in [0, 1, 2, 3] {
        let report = verify_generated_only(&project, seed, &BatchExecutor);
        assert!(report.agrees(), "seed {seed}:\n{}", report.text());
    }
}

#[test]
fn a_window_that_keeps_the_event_at_its_start_is_caught() {
    mutation_is_caught(Mutation::ClosedWindowStart("n_1h"), "n_1h");
    mutation_is_caught(Mutation::ClosedWindowStart("max_30m"), "max_30m");
}

#[test]
fn a_count_that_counts_nulls_is_caught() {
    mutation_is_caught(Mutation::CountsNulls("amounts"), "amounts");
}

#[test]
fn a_path_that_drops_rows_with_a_null_is_caught() {
    mutation_is_caught(Mutation::DropsNullRows { column: "amount" }, "n_1h");
}

#[test]
fn a_last_that_breaks_ties_by_arrival_is_caught() {
    mutation_is_caught(Mutation::LastTieByArrival { column: "amount" }, "last_a");
}
