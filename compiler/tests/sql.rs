//! The SQL emitter (`featc build --emit sql`): snapshots of the script for every
//! public case, example and dialect (with what each dialect refuses), each script
//! parsed back by sqlparser's dialect for it, and the `datafusion` dialect run by
//! DataFusion's SQL engine on the cases (equal to `expected.parquet`) and the
//! examples (equal to the reference interpreter). The generated projects are in
//! `sql_equivalence.rs`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::parser::Parser;
use featc::emit::sql::{refusal, Dialect, SqlOptions};
use featc::ir::{FeatureId, Project};
use featc::SourceFile;

use featc_test_support::compare::compare_tolerant;
use featc_test_support::parquet::read_parquet;
use featc_test_support::project::compile_dir;
use featc_test_support::sql::{accepted, plan, register, run, script, with_order};

/// A project and the features of one run: a service's, or every view feature.
struct Selection {
    name: String,
    dir: PathBuf,
    service: Option<&'static str>,
}

fn selections() -> Vec<Selection> {
    let case = |name: &str| Selection {
        name: name.to_string(),
        dir: featc_test_support::paths::cases_dir().join(name),
        service: None,
    };
    let example = |name: &str, service: &'static str| Selection {
        name: format!("{name}_{service}"),
        dir: featc_test_support::paths::examples_dir().join(name),
        service: Some(service),
    };
    vec![
        case("synthetic"),
        case("marketplace"),
        example("fraud", "fraud_v1"),
        example("delivery", "eta_v1"),
        example("delivery", "eta_v2"),
        Selection {
            name: "delivery_all".into(),
            dir: featc_test_support::paths::examples_dir().join("delivery"),
            service: None,
        },
        Selection {
            name: "functions".into(),
            dir: featc_test_support::paths::functions_dir(),
            service: None,
        },
    ]
}

/// The project's files named by their paths from the repository root (snapshots
/// print them), and the compiled project.
fn compile_named(dir: &Path) -> (Vec<SourceFile>, Project) {
    let files = featc_test_support::project::feat_files_named_from_root(dir);
    let project = featc_test_support::project::compile(&files);
    (files, project)
}

fn features(project: &Project, service: Option<&str>) -> Vec<FeatureId> {
    featc::job::select_features(project, service, &[]).expect("features")
}

/// For every selection and dialect: the refusals (rendered) and the script of the
/// features it accepts, parsed back by the dialect's parser to the same text.
#[test]
fn scripts_for_every_case_example_and_dialect() {
    for s in selections() {
        let (files, project) = compile_named(&s.dir);
        let all = features(&project, s.service);
        for dialect in Dialect::ALL {
            let (kept, refusals) = accepted(&project, &all, dialect);
            let options = SqlOptions::new(dialect);
            let text = script(&project, &kept, &options)
                .unwrap_or_else(|r| panic!("{}: refuses what it accepted: {r:?}", s.name))
                .text();
            parses_back(dialect, &text, &s.name);
            let refused = refusal::diagnostics(&refusals).render(&files, false);
            insta::assert_snapshot!(
                format!("sql_{}_{}", s.name, dialect.name()),
                format!("-- refused --\n{refused}-- script --\n{text}")
            );
        }
    }
}

/// The script parses with sqlparser's dialect for it, and prints back the same (its
/// leading `--` comments aside: the parser drops them).
fn parses_back(dialect: Dialect, text: &str, name: &str) {
    let text: String = text
        .lines()
        .skip_while(|l| l.starts_with("-- "))
        .map(|l| format!("{l}\n"))
        .collect();
    let text = text.as_str();
    assert!(
        text.starts_with("WITH"),
        "{name}: no query after the comments"
    );
    let parser = dialect.parser();
    let statements = Parser::parse_sql(parser.as_ref(), text).unwrap_or_else(|e| {
        panic!(
            "{name} ({}): does not parse back: {e}\n{text}",
            dialect.name()
        )
    });
    let printed: String = statements.iter().map(|s| format!("{s:#};\n")).collect();
    assert_eq!(
        printed,
        text,
        "{name} ({}): prints back differently",
        dialect.name()
    );
}

/// The tables of a project folder (its sources as featc reads them, the spine with
/// an order column) in a fresh DataFusion session.
async fn session(project: &Project, features: &[FeatureId], spine_path: &Path) -> SessionContext {
    let ctx = SessionContext::new();
    let plan = plan(project, features);
    let tables = featc_runtime::io::bind_sources(&ctx, project, &plan, &HashMap::new().into())
        .await
        .expect("sources");
    for (name, table) in tables {
        ctx.register_table(name.as_str(), table).expect("register");
    }
    let keys = featc_runtime::io::spine_keys(project, features);
    let spine = featc_runtime::io::read_spine(spine_path, &keys, "ts")
        .await
        .expect("spine");
    let spine = datafusion::arrow::compute::concat_batches(&spine.schema, &spine.batches)
        .expect("spine batch");
    register(&ctx, "spine", with_order(&spine));
    ctx
}

async fn datafusion_case(case: &str) {
    let dir = featc_test_support::paths::cases_dir().join(case);
    let project = compile_dir(&dir);
    let all = features(&project, None);
    let script = script(&project, &all, &SqlOptions::new(Dialect::DataFusion))
        .unwrap_or_else(|r| panic!("{case}: refused {r:?}"));
    let ctx = session(&project, &all, &dir.join("spine.parquet")).await;
    let actual = run(&ctx, &script)
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let expected = read_parquet(&dir.join("expected.parquet"));
    if let Err(diff) = compare_tolerant(&actual, &expected) {
        panic!("{case}: DataFusion's SQL vs expected.parquet: {diff}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datafusion_sql_reproduces_synthetic() {
    datafusion_case("synthetic").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datafusion_sql_reproduces_marketplace() {
    datafusion_case("marketplace").await;
}

/// The examples have no expected file: `featc training-set`'s pipeline is the oracle
/// (each example's services are accepted whole).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datafusion_sql_equals_the_training_set_on_the_examples() {
    for s in selections().into_iter().filter(|s| s.service.is_some()) {
        let project = compile_dir(&s.dir);
        let all = features(&project, s.service);
        let (kept, refusals) = accepted(&project, &all, Dialect::DataFusion);
        assert!(refusals.is_empty(), "{}: refused {refusals:?}", s.name);
        let spine_path = s.dir.join("data/spine.csv");
        let ctx = session(&project, &kept, &spine_path).await;
        let script = script(&project, &kept, &SqlOptions::new(Dialect::DataFusion))
            .unwrap_or_else(|r| panic!("{}: refused {r:?}", s.name));
        let actual = run(&ctx, &script)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", s.name));
        let expected = featc_test_support::batch::training_set(
            &project,
            &kept,
            &HashMap::new(),
            &spine_path,
            "ts",
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{}: training set: {e}", s.name));
        if let Err(diff) = compare_tolerant(&actual, &expected) {
            panic!(
                "{}: DataFusion's SQL vs featc's training set: {diff}",
                s.name
            );
        }
    }
}
