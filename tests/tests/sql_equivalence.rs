//! The `datafusion` dialect's SQL on generated projects and data (support/src/gen.rs),
//! run by DataFusion's SQL engine and compared with the reference interpreter on the
//! features the emitter accepts (refused ones are left out, never compared wrong):
//! exact but for floats, which agree within 1e-9 relative, and float64 `sum`, `avg`,
//! `var_pop` and `stddev_pop`, which agree within docs/scale-out.md's bound (computed
//! from the window's `Σ|x|`, `Σx²` and count, which the reference folds exactly for the
//! same window). A derived feature reading such a sum is compared where the values it
//! reads came out bit for bit equal. Where the reference fails, the SQL must fail.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Float64Type, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use featc::emit::sql::{Dialect, SqlOptions};
use featc::ir::{FeatureId, Project};
use featc::verify::float_bound::{with_bounds, within, Bound};
use featc::SourceFile;
use featc_runtime::reference::{evaluate, SpineInput};
use featc_test_support::gen::{case_strategy, GenCase};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, RngSeed};

use featc_test_support::sql::{accepted, register, run, script, with_order};

fn floats(b: &RecordBatch, name: &str) -> Vec<Option<f64>> {
    let c = b.column_by_name(name).expect("column");
    let c = datafusion::arrow::compute::cast(c, &ArrowType::Float64).expect("float");
    let c = c.as_primitive::<Float64Type>();
    (0..c.len())
        .map(|r| c.is_valid(r).then(|| c.value(r)))
        .collect()
}

fn check(case: &GenCase) -> Result<(), String> {
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
    let ctx = SessionContext::new();
    for s in featc_runtime::io::sources_of(&project, &ids) {
        let events = if s.name == "clicks" {
            &case.clicks
        } else {
            &case.events
        };
        register(
            &ctx,
            &s.name,
            featc_test_support::events::events_in_micros(events, s).expect("events"),
        );
        sources.insert(s.name.clone(), vec![events.clone()]);
    }
    register(&ctx, "spine", with_order(&case.spine));
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
    let actual = featc_test_support::runtime::runtime().block_on(run(&ctx, &sql));
    let (expected, actual) = match (reference, actual) {
        (Err(_), Err(_)) => return Ok(()),
        (Err(e), Ok(_)) => return Err(format!("the SQL answered where the reference failed: {e}")),
        (Ok(_), Err(e)) => return Err(format!("the SQL failed: {e}\n{}", sql.text())),
        (Ok(r), Ok(a)) => (r, a),
    };
    compare(&project, &ids, &bounds, &expected, &actual, case)
        .map_err(|d| format!("{d}\n--- sql ---\n{}", sql.text()))
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
        // A fixed sequence in CI, so that a float edge case of DataFusion's engine
        // (NaN, infinities, -0.0: docs/scale-out.md) found by a random one never
        // turns CI red by chance; `SQL_EQUIVALENCE_RANDOM=1` explores, and what it
        // finds is kept in the regressions file.
        rng_seed: if std::env::var_os("SQL_EQUIVALENCE_RANDOM").is_some() {
            RngSeed::Random
        } else {
            RngSeed::Fixed(25)
        },
        ..ProptestConfig::default()
    })]

    #[test]
    fn datafusion_sql_agrees_with_the_reference(case in case_strategy()) {
        if let Err(diff) = check(&case) {
            prop_assert!(false, "{diff}\n--- project ---\n{}", case.feat);
        }
    }
}
