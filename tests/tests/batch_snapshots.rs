//! Snapshots of `featc build --emit batch` (the logical plan) for both public cases;
//! each snapshot shows the `.feat` input above the plan.

mod batch_common;

fn snapshot(case: &str) {
    let dir = featc_tests::cases_dir().join(case);
    let project = batch_common::compile_dir(&dir);
    let plan = featc::lower::batch::explain_batch(&project).expect("the case lowers");
    let input = std::fs::read_to_string(dir.join("features.feat")).expect("read features.feat");
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(
            format!("batch_{case}"),
            format!("{input}\n----- featc build --emit batch -----\n{plan}")
        );
    });
}

#[test]
fn synthetic_batch_plan() {
    snapshot("synthetic");
}

#[test]
fn marketplace_batch_plan() {
    snapshot("marketplace");
}
