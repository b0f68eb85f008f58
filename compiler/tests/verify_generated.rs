//! `featc verify`'s own case generator on the equivalence tests' random projects
//! (support/src/gen.rs: every aggregation, lets, filters, offsets, exclusive ends, ttl,
//! delays, derived features, a service reading request fields, time columns in any
//! unit): the cases it builds from each project's schemas are accepted by every path,
//! and every path agrees on them. A false disagreement here would make `verify` cry
//! wolf on a user's project; a crash would make it useless on one.
//!
//! Each run draws a fresh sequence of projects and prints its seed (`FEATC_SEED=N`
//! replays it); the cases that ever failed are kept in the regressions file.

use featc::ir::FeatureId;
use featc::verify::{
    self, BatchExecutor, Executor, Options, ReferenceExecutor, SqlExecutor, StreamExecutor,
};
use featc::SourceFile;
use featc_test_support::gen::{case_strategy, GenCase};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn check(case: &GenCase, seed: u64) -> Result<(), String> {
    let files = [SourceFile {
        name: "gen.feat".into(),
        text: case.feat.clone(),
    }];
    let project = featc::compile(&files).map_err(|d| format!("does not compile: {d:?}"))?;
    let features: Vec<FeatureId> = case
        .features
        .iter()
        .filter_map(|n| project.feature_by_name(n))
        .collect();
    let options = Options {
        user: None,
        cases: 3,
        seed,
        probe_time: "probe_ts".into(),
    };
    let others: [&dyn Executor; 3] = [&BatchExecutor, &StreamExecutor, &SqlExecutor::default()];
    let report = featc_test_support::runtime::runtime().block_on(verify::run(
        &project,
        &features,
        &options,
        &ReferenceExecutor,
        &others,
        &mut |_, _| {},
    ))?;
    if report.agrees() {
        Ok(())
    } else {
        Err(report.text())
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        // A fresh sequence on every run, printed with the command that replays it;
        // every case that ever failed is kept in the regressions file and runs first.
        rng_seed: featc_test_support::seed::run_seed(
            "cargo test --workspace --test suite verify_generated::",
        ),
        ..ProptestConfig::default()
    })]

    #[test]
    fn verify_agrees_on_its_own_cases_of_random_projects(case in case_strategy(), seed in 0u64..1000) {
        if let Err(report) = check(&case, seed) {
            prop_assert!(false, "{report}\n--- project ---\n{}", case.feat);
        }
    }
}
