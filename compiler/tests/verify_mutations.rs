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
use featc::verify::{
    self, BatchExecutor, ComputeError, Dataset, Executor, Options, Pending, Report, RunError,
    RunInput,
};
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

/// Two users' int64 sums leave int64 at different times: user 1's at 10s, user 2's
/// at 5s. The spine reads user 1 at 20s (row 0) and user 2 at 6s and 30s (rows 1, 2),
/// so the first failure in spine order (row 0), in key order (user 1) and in time
/// order (row 1) differ; semantics.md names the earliest by time: `total` at row 1.
const OVERFLOWS: &str = r#"
source tx {
    time ts
    columns {
        user_id: int64
        amount:  int64
    }
    lateness 10s
}
entity user { key user_id: int64 }
view spend from tx by user {
    feature total = sum(amount)
    feature n     = count(*)
}
"#;

const S: i64 = 1_000_000;

fn overflow_dataset(project: &Project, settings: verify::RunSettings) -> Dataset {
    use datafusion::arrow::array::{ArrayRef, Int64Array, TimestampMicrosecondArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use std::sync::Arc;
    let big = i64::MAX / 2 + 1;
    // Arrival order: user 1's events first, so a path that names the first failure
    // it meets in arrival order names user 1.
    let events = [(1, S, big), (1, 10 * S, big), (2, S, big), (2, 5 * S, big)];
    let schema = featc_runtime::io::declared_schema(&project.sources[0]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(events.iter().map(|e| e.1))
                .with_timezone("UTC"),
        ),
        Arc::new(Int64Array::from_iter_values(events.iter().map(|e| e.0))),
        Arc::new(Int64Array::from_iter_values(events.iter().map(|e| e.2))),
    ];
    let events = RecordBatch::try_new(schema, columns).expect("events");
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let spine = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("user_id", DataType::Int64, false),
            Field::new("ts", ts, false),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 2])),
            Arc::new(
                TimestampMicrosecondArray::from(vec![20 * S, 6 * S, 30 * S]).with_timezone("UTC"),
            ),
        ],
    )
    .expect("spine");
    Dataset {
        label: "two users overflowing".into(),
        sources: vec![("tx".into(), vec![events])],
        spine,
        spine_time: "ts".into(),
        settings,
    }
}

/// Settings under which a path meeting failures in its own order would name
/// another: one to three partitions, batches of one row to all, ingest chunks of one
/// event to all, with and without disorder.
fn overflow_settings() -> Vec<verify::RunSettings> {
    let mut all = Vec::new();
    for (partitions, batch_rows) in [(1, 8192), (2, 1), (3, 2)] {
        for (ingest_rows, disorder_us) in [(1, 0), (4096, 0), (1, 10 * S), (3, 4 * S)] {
            all.push(verify::RunSettings {
                batch_rows,
                partitions,
                disorder_us,
                ingest_rows,
                seed: (partitions * 31 + ingest_rows) as u64,
            });
        }
    }
    all
}

fn verify_overflows(path: &dyn Executor, settings: verify::RunSettings) -> verify::DatasetReport {
    let project = featc_test_support::project::compile_text("overflows.feat", OVERFLOWS);
    let dataset = overflow_dataset(&project, settings);
    runtime().block_on(verify::verify_dataset(
        &project,
        &project.all_features(),
        &dataset,
        &verify::ReferenceExecutor,
        &[path],
    ))
}

#[test]
fn every_path_names_the_earliest_overflow_by_time() {
    let project = featc_test_support::project::compile_text("overflows.feat", OVERFLOWS);
    let expected = ComputeError::Aggregation {
        feature: "total".into(),
        row: 1,
    };
    let paths: [&dyn Executor; 4] = [
        &verify::ReferenceExecutor,
        &BatchExecutor,
        &verify::StreamExecutor,
        &verify::SqlExecutor::default(),
    ];
    for settings in overflow_settings() {
        let dataset = overflow_dataset(&project, settings);
        for path in paths {
            let error = runtime()
                .block_on(path.run(RunInput {
                    project: &project,
                    features: &project.all_features(),
                    dataset: &dataset,
                }))
                .expect_err("the sums overflow");
            match &error {
                RunError::Compute { place, .. } if *place == expected => {}
                other => panic!("{} under {settings:?}: {other:?}", path.name()),
            }
            if path.name() != "reference" {
                let report = verify_overflows(path, settings);
                assert!(report.agrees(), "{settings:?}: {:?}", report.failures);
                assert!(report.reference_error.is_some());
            }
        }
    }
}

/// A path that fails where the reference fails, but names the first failure in
/// spine order (as the reference once did): each spine row's batch run alone, the
/// first that fails named.
struct FirstInSpineOrder;

impl Executor for FirstInSpineOrder {
    fn name(&self) -> &str {
        "spine-order"
    }

    fn run<'a>(&'a self, input: RunInput<'a>) -> Pending<'a> {
        Box::pin(async move {
            for r in 0..input.dataset.spine.num_rows() {
                let mut alone = input.dataset.clone();
                alone.spine = alone.spine.slice(r, 1);
                let run = RunInput {
                    dataset: &alone,
                    ..input
                };
                if let Err(RunError::Compute { place, message }) = BatchExecutor.run(run).await {
                    let place = match place {
                        ComputeError::Aggregation { feature, .. } => ComputeError::Aggregation {
                            feature,
                            row: r as u64,
                        },
                        other => other,
                    };
                    return Err(RunError::Compute { place, message });
                }
            }
            BatchExecutor.run(input).await
        })
    }
}

/// A path that fails where the reference fails, with another error.
struct FailsOtherwise;

impl Executor for FailsOtherwise {
    fn name(&self) -> &str {
        "otherwise"
    }

    fn run<'a>(&'a self, input: RunInput<'a>) -> Pending<'a> {
        Box::pin(async move {
            match BatchExecutor.run(input).await {
                Err(_) => Err(RunError::Other("the disk is full".into())),
                answered => answered,
            }
        })
    }
}

#[test]
fn a_path_failing_otherwise_or_elsewhere_than_the_reference_is_caught() {
    for settings in overflow_settings() {
        let report = verify_overflows(&FirstInSpineOrder, settings);
        assert!(!report.agrees(), "spine order, {settings:?}");
        assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
        let message = &report.failures[0].message;
        assert!(
            message.starts_with("failed otherwise than the reference: ")
                && message.contains("for user_id = 1 at 1970-01-01T00:00:20Z")
                && message.contains("the reference: feature `total`, spine row 1"),
            "{message}"
        );
        let report = verify_overflows(&FailsOtherwise, settings);
        assert!(!report.agrees(), "otherwise, {settings:?}");
        assert_eq!(
            report.failures[0].message,
            "failed otherwise than the reference: the disk is full\nthe reference: \
             feature `total`, spine row 1: integer sum 9223372036854775808 overflows int64"
        );
    }
}
