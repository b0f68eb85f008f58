//! The `datafusion` dialect's SQL on generated projects and data (support/src/gen.rs),
//! run by DataFusion's SQL engine and compared with the reference interpreter on the
//! features the emitter accepts (refused ones are left out, never compared wrong):
//! exact but for floats, which agree within 1e-9 relative, and float64 `sum`, `avg`,
//! `var_pop` and `stddev_pop`, which agree within docs/scale-out.md's bound (computed
//! from the window's `Σ|x|`, `Σx²` and count, which the reference folds exactly for the
//! same window). A derived feature reading such a sum is compared where the values it
//! reads came out bit for bit equal. Where the reference fails, the SQL must fail
//! alike: the same class of error at the same feature and spine row (`same_failure`).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Float64Type, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use featc::emit::sql::{Dialect, Script, SqlOptions};
use featc::ir::{FeatureId, Project};
use featc::verify::float_bound::{with_bounds, within, Bound};
use featc::SourceFile;
use featc_runtime::reference::{evaluate, EvalError, ReferenceError, SpineInput};
use featc_test_support::gen::{case_strategy, GenCase};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

use featc_test_support::sql::{accepted, register, run, script, with_order};

fn floats(b: &RecordBatch, name: &str) -> Vec<Option<f64>> {
    let c = b.column_by_name(name).expect("column");
    let c = datafusion::arrow::compute::cast(c, &ArrowType::Float64).expect("float");
    let c = c.as_primitive::<Float64Type>();
    (0..c.len())
        .map(|r| c.is_valid(r).then(|| c.value(r)))
        .collect()
}

pub(crate) fn check(case: &GenCase) -> Result<(), String> {
    let files = [SourceFile {
        name: "gen.feat".into(),
        text: case.feat.clone(),
    }];
    let mut project = featc::compile(&files).map_err(|d| format!("does not compile: {d:?}"))?;
    let requested: Vec<FeatureId> = case
        .features
        .iter()
        .filter_map(|n| project.feature_by_name(n))
        .collect();
    // The aggregations derived features read are compared too.
    let mut ids = requested.clone();
    for id in project.aggregations_of(&requested) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let (ids, _refused) = accepted(&project, &ids, Dialect::DataFusion);
    if ids.is_empty() {
        return Ok(());
    }
    let sql = script(&project, &ids, &SqlOptions::new(Dialect::DataFusion))
        .map_err(|r| format!("refuses what it accepted: {r:?}"))?;
    let (extra, bounds) = with_bounds(&mut project, &ids);
    let all: Vec<FeatureId> = ids.iter().chain(&extra).copied().collect();
    let mut sources: HashMap<String, Vec<RecordBatch>> = HashMap::new();
    for s in featc_runtime::io::sources_of(&project, &ids) {
        sources.insert(s.name.clone(), vec![case_events(case, &s.name).clone()]);
    }
    let spine = [case.spine.clone()];
    let reference = evaluate(
        &project,
        &all,
        &sources,
        SpineInput {
            batches: &spine,
            time_column: "ts",
        },
    );
    let actual = run_sql(&project, &ids, case, &case.spine, &sql);
    let (expected, actual) = match (reference, actual) {
        (Err(e), Err(a)) => {
            return same_failure(&project, case, &e, &a)
                .map_err(|d| format!("{d}\n--- sql ---\n{}", sql.text()))
        }
        (Err(e), Ok(_)) => return Err(format!("the SQL answered where the reference failed: {e}")),
        (Ok(_), Err(e)) => return Err(format!("the SQL failed: {e}\n{}", sql.text())),
        (Ok(r), Ok(a)) => (r, a),
    };
    compare(&project, &ids, &bounds, &expected, &actual, case)
        .map_err(|d| format!("{d}\n--- sql ---\n{}", sql.text()))
}

/// The generated events of source `name`.
fn case_events<'a>(case: &'a GenCase, name: &str) -> &'a RecordBatch {
    match name {
        "clicks" => &case.clicks,
        "taps" => &case.taps,
        _ => &case.events,
    }
}

/// `sql` (the script of `ids`) run by DataFusion on the case's sources and `spine`.
fn run_sql(
    project: &Project,
    ids: &[FeatureId],
    case: &GenCase,
    spine: &RecordBatch,
    sql: &Script,
) -> Result<RecordBatch, String> {
    let ctx = SessionContext::new();
    for s in featc_runtime::io::sources_of(project, ids) {
        let events = featc_test_support::events::events_in_micros(case_events(case, &s.name), s)?;
        register(&ctx, &s.name, events);
    }
    register(&ctx, "spine", with_order(spine));
    featc_test_support::runtime::runtime().block_on(run(&ctx, sql))
}

/// Where the reference and the SQL both fail, they must fail alike (semantics.md,
/// "Errors while computing"): the same class of error at the same place. The only
/// failure the SQL's accepted features can have is an int64 `sum` leaving int64
/// (int64 arithmetic in expressions is refused, E0042), which the reference names by
/// feature and spine row (the entity and time); the SQL's error names neither, so the
/// SQL of that feature alone, answered at that spine row alone, must fail, and with
/// an overflow. Any other failure of the reference, or of the SQL, is a difference.
fn same_failure(
    project: &Project,
    case: &GenCase,
    reference: &ReferenceError,
    sql_error: &str,
) -> Result<(), String> {
    let ReferenceError::Aggregate {
        feature,
        spine_row,
        message: EvalError::SumOverflow(_),
    } = reference
    else {
        return Err(format!(
            "both failed, but the reference not with an int64 sum leaving int64: {reference}\n\
             the SQL: {sql_error}"
        ));
    };
    if !is_overflow(sql_error) {
        return Err(format!(
            "both failed, but the SQL not with an overflow: {sql_error}\nthe reference: {reference}"
        ));
    }
    let id = project
        .feature_by_name(feature)
        .ok_or_else(|| format!("the reference names no feature of the project: {reference}"))?;
    let alone = script(project, &[id], &SqlOptions::new(Dialect::DataFusion))
        .map_err(|r| format!("refuses `{feature}` alone: {r:?}"))?;
    match run_sql(
        project,
        &[id],
        case,
        &case.spine.slice(*spine_row, 1),
        &alone,
    ) {
        Err(e) if is_overflow(&e) => Ok(()),
        Err(e) => Err(format!(
            "the SQL of `{feature}` at spine row {spine_row} fails otherwise: {e}\n\
             the reference: {reference}"
        )),
        Ok(_) => Err(format!(
            "the SQL of `{feature}` answers at spine row {spine_row}, where the reference \
             fails: {reference}\nthe whole SQL failed with: {sql_error}"
        )),
    }
}

/// Whether DataFusion's error is an int64 result out of range: the `DECIMAL(38, 0)`
/// sum cast back to int64 (`Cast error: value of N is out of range Int64`), or an
/// overflow DataFusion's arithmetic reports.
fn is_overflow(error: &str) -> bool {
    let error = error.to_lowercase();
    error.contains("overflow") || error.contains("out of range int64")
}

fn compare(
    project: &Project,
    ids: &[FeatureId],
    bounds: &[Bound],
    expected: &RecordBatch,
    actual: &RecordBatch,
    case: &GenCase,
) -> Result<(), String> {
    let spine_columns = case.spine.num_columns();
    let names: Vec<String> = (0..spine_columns)
        .map(|i| case.spine.schema().field(i).name().clone())
        .chain(ids.iter().map(|id| project.feature(*id).name.clone()))
        .collect();
    let project_to = |b: &RecordBatch| -> RecordBatch {
        let idx: Vec<usize> = names
            .iter()
            .map(|n| b.schema().index_of(n).expect("column"))
            .collect();
        b.project(&idx).expect("projection")
    };
    let (e, a) = (project_to(expected), project_to(actual));
    // Float folds: within the bound; derived features over them: where what they
    // read is bit-equal. Everything else by the acceptance rule.
    let mut loose: Vec<&str> = bounds.iter().map(|b| b.feature.as_str()).collect();
    let mut derived_over_folds = Vec::new();
    for id in ids {
        if project.feature(*id).derived().is_some() {
            let reads: Vec<String> = project
                .aggregations_of(&[*id])
                .iter()
                .map(|r| project.feature(*r).name.clone())
                .collect();
            if reads.iter().any(|r| loose.contains(&r.as_str())) {
                derived_over_folds.push((project.feature(*id).name.clone(), reads));
            }
        }
    }
    loose.extend(derived_over_folds.iter().map(|(n, _)| n.as_str()));
    let strict: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| !loose.contains(&n.as_str()))
        .map(|(i, _)| i)
        .collect();
    featc_test_support::compare::compare_tolerant(
        &a.project(&strict).expect("p"),
        &e.project(&strict).expect("p"),
    )?;
    for b in bounds {
        let (x, y) = (floats(actual, &b.feature), floats(expected, &b.feature));
        let (n, abs, sq) = (
            floats(expected, &b.count),
            floats(expected, &b.abs_sum),
            floats(expected, &b.square_sum),
        );
        for r in 0..y.len() {
            match (x[r], y[r]) {
                (None, None) => {}
                (Some(x), Some(y)) => {
                    let (n, a, q) = (
                        n[r].unwrap_or(0.0),
                        abs[r].unwrap_or(0.0),
                        sq[r].unwrap_or(0.0),
                    );
                    if !within(b.agg, x, y, n, a, q) {
                        return Err(format!(
                            "{} row {r}: {x:?}, reference {y:?} (n {n}, Σ|x| {a:?}, Σx² {q:?})",
                            b.feature
                        ));
                    }
                }
                (x, y) => return Err(format!("{} row {r}: {x:?}, reference {y:?}", b.feature)),
            }
        }
    }
    for (name, reads) in &derived_over_folds {
        let same = |r: usize| {
            reads.iter().all(|c| {
                let (x, y) = (floats(actual, c)[r], floats(expected, c)[r]);
                x.map(f64::to_bits) == y.map(f64::to_bits)
            })
        };
        let (ac, ec) = (
            actual.column_by_name(name).expect("column"),
            expected.column_by_name(name).expect("column"),
        );
        for r in (0..ec.len()).filter(|r| same(*r)) {
            let (a1, e1) = (ac.slice(r, 1), ec.slice(r, 1));
            let fields = |c: &Arc<dyn Array>| {
                RecordBatch::try_new(
                    Arc::new(Schema::new(vec![Field::new(
                        name,
                        c.data_type().clone(),
                        true,
                    )])),
                    vec![c.clone()],
                )
                .expect("row")
            };
            featc_test_support::compare::compare_tolerant(&fields(&a1), &fields(&e1))
                .map_err(|d| format!("row {r}: {d}"))?;
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        // A fresh sequence on every run, printed with the command that replays it;
        // every case that ever failed is kept in the regressions file and runs first.
        rng_seed: featc_test_support::seed::run_seed(
            "cargo test --workspace --test suite sql_equivalence::",
        ),
        ..ProptestConfig::default()
    })]

    #[test]
    fn datafusion_sql_agrees_with_the_reference(case in case_strategy()) {
        if let Err(diff) = check(&case) {
            prop_assert!(false, "{diff}\n--- project ---\n{}", case.feat);
        }
    }
}

/// An int64 sum that leaves int64 at the last spine row: both fail, alike (the SQL of
/// that feature fails at that row and answers at the earlier ones), and a reference
/// failure placed at another row would be a difference.
#[test]
fn an_int64_sum_overflow_fails_both_at_the_same_feature_and_row() {
    let half = i64::MAX / 2;
    let case = crate::equivalence::hand_case(
        "    feature total = sum(i)\n",
        &[
            (0, Some(half), None),
            (1, Some(half), None),
            (2, Some(half), None),
        ],
        &[0, 1, 5],
    );
    let project = featc_test_support::project::compile_text("gen.feat", &case.feat);
    let id = project.feature_by_name("total").expect("total");
    let spine = [case.spine.clone()];
    let sources = HashMap::from([("events".to_string(), vec![case.events.clone()])]);
    let reference = evaluate(
        &project,
        &[id],
        &sources,
        SpineInput {
            batches: &spine,
            time_column: "ts",
        },
    )
    .expect_err("the third row's sum leaves int64");
    let sql = script(&project, &[id], &SqlOptions::new(Dialect::DataFusion)).expect("accepted");
    let sql_error = run_sql(&project, &[id], &case, &case.spine, &sql).expect_err("the SQL fails");
    same_failure(&project, &case, &reference, &sql_error).expect("alike");
    check(&case).expect("check agrees");
    let elsewhere = match reference {
        ReferenceError::Aggregate {
            feature, message, ..
        } => ReferenceError::Aggregate {
            feature,
            spine_row: 1,
            message,
        },
        other => panic!("not an aggregation's failure: {other}"),
    };
    let diff = same_failure(&project, &case, &elsewhere, &sql_error).expect_err("another row");
    assert!(diff.contains("answers at spine row 1"), "{diff}");
}
