//! The SQL emitter (`featc build --emit sql`): snapshots of the script for every
//! public case, example and dialect (with what each dialect refuses), each script
//! parsed back by sqlparser's dialect for it, and the `datafusion` dialect run by
//! DataFusion's SQL engine on the cases (equal to `expected.parquet`) and the
//! examples and a view over two sources (equal to the reference interpreter). The
//! generated projects are in `sql_equivalence.rs`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
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

/// A view over two sources whose columns differ (semantics.md, "Views over several
/// sources"): two time column names, columns only one source has (a timestamp among
/// them), `source()` in the view's `where` and in `count_if`, features of both
/// strategies (`count_distinct` is a join).
const UNION: &str = r#"source payments {
    time paid_at
    columns { user_id: int64  amount: float64  method: string? }
}
source logins {
    time logged_at
    columns { user_id: int64  ok: bool? }
}
entity user { key user_id: int64 }
view activity from payments, logins by user {
    where source() = "logins" or amount > 10
    feature events_1d = count(*) over 1d
    feature logins_1d = count_if(source() = "logins") over 1d
    feature spend_7d = sum(amount) over 7d
    feature failed_logins = count_if(not ok) over 7d
    feature last_method = last(method) over 30d
    feature latest_payment = max(paid_at) over 30d
    feature sources_seen = count_distinct(source()) over 30d
}
"#;

fn union_project() -> (Vec<SourceFile>, Project, Vec<FeatureId>) {
    let files = vec![SourceFile {
        name: "union.feat".into(),
        text: UNION.into(),
    }];
    let project = featc_test_support::project::compile(&files);
    let all = features(&project, None);
    (files, project, all)
}

/// Every dialect computes the union: nothing refused, the script parsed back, and
/// snapshotted (the `featc_union_0` CTE: each source under the union's columns).
#[test]
fn scripts_for_a_view_over_several_sources() {
    let (files, project, all) = union_project();
    for dialect in Dialect::ALL {
        let (_, refusals) = accepted(&project, &all, dialect);
        let refused = refusal::diagnostics(&refusals).render(&files, false);
        assert!(refusals.is_empty(), "{}: {refused}", dialect.name());
        let text = script(&project, &all, &SqlOptions::new(dialect))
            .unwrap_or_else(|r| panic!("union: refused {r:?}"))
            .text();
        parses_back(dialect, &text, "union");
        insta::assert_snapshot!(format!("sql_union_{}", dialect.name()), text);
    }
}

/// The union project's events and spine: a few users over three weeks, both sources
/// at one time for one user (a tie across sources), nulls in the nullable columns.
fn union_data() -> (RecordBatch, RecordBatch, RecordBatch) {
    use datafusion::arrow::array::{ArrayRef, TimestampMicrosecondArray};
    use datafusion::arrow::array::{BooleanArray, Float64Array, Int64Array, StringArray};
    use featc_test_support::rng::SplitMix64;

    const DAY_US: u64 = 86_400_000_000;
    let start: i64 = 1_704_067_200_000_000; // 2024-01-01
    let mut rng = SplitMix64::new(7);
    let mut pick = |n: u64| rng.below(n) as i64;
    let batch =
        |columns: Vec<(&str, ArrayRef)>| RecordBatch::try_from_iter(columns).expect("batch");
    let time = |us: Vec<i64>| -> ArrayRef {
        Arc::new(TimestampMicrosecondArray::from(us).with_timezone("UTC"))
    };
    let tie = start + 3 * DAY_US as i64;
    let (mut users, mut at, mut amount, mut method) =
        (vec![1], vec![tie], vec![50.0], vec![Some("card")]);
    for _ in 0..200 {
        users.push(1 + pick(5));
        at.push(start + pick(20 * DAY_US));
        amount.push([5.0, 12.5, 30.0, 100.25, 7.0][pick(5) as usize]);
        method.push([Some("card"), Some("cash"), None, Some("wallet")][pick(4) as usize]);
    }
    let payments = batch(vec![
        ("user_id", Arc::new(Int64Array::from(users)) as ArrayRef),
        ("paid_at", time(at)),
        ("amount", Arc::new(Float64Array::from(amount))),
        ("method", Arc::new(StringArray::from(method))),
    ]);
    let (mut users, mut at, mut ok) = (vec![1], vec![tie], vec![Some(false)]);
    for _ in 0..200 {
        users.push(1 + pick(5));
        at.push(start + pick(20 * DAY_US));
        ok.push([Some(true), Some(false), None][pick(3) as usize]);
    }
    let logins = batch(vec![
        ("user_id", Arc::new(Int64Array::from(users)) as ArrayRef),
        ("logged_at", time(at)),
        ("ok", Arc::new(BooleanArray::from(ok))),
    ]);
    let (mut users, mut at) = (vec![1, 1], vec![tie, start]);
    for _ in 0..80 {
        users.push(1 + pick(6));
        at.push(start + pick(22 * DAY_US));
    }
    let spine = batch(vec![
        ("user_id", Arc::new(Int64Array::from(users)) as ArrayRef),
        ("ts", time(at)),
    ]);
    (payments, logins, spine)
}

/// The `datafusion` dialect's union, run by DataFusion, equals the reference
/// interpreter (the other dialects are run by scripts/check-sql-engines.sh's engines).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datafusion_sql_over_several_sources_equals_the_reference() {
    let (_, project, all) = union_project();
    let (payments, logins, spine) = union_data();
    let sources: HashMap<String, Vec<RecordBatch>> = [
        ("payments".to_string(), vec![payments.clone()]),
        ("logins".to_string(), vec![logins.clone()]),
    ]
    .into();
    let expected = featc_runtime::reference::evaluate(
        &project,
        &all,
        &sources,
        featc_runtime::reference::SpineInput {
            batches: std::slice::from_ref(&spine),
            time_column: "ts",
        },
    )
    .expect("reference");
    let ctx = SessionContext::new();
    register(&ctx, "payments", payments);
    register(&ctx, "logins", logins);
    register(&ctx, "spine", with_order(&spine));
    let script = script(&project, &all, &SqlOptions::new(Dialect::DataFusion))
        .unwrap_or_else(|r| panic!("union: refused {r:?}"));
    let actual = run(&ctx, &script)
        .await
        .unwrap_or_else(|e| panic!("union: {e}\n{}", script.text()));
    if let Err(diff) = compare_tolerant(&actual, &expected) {
        panic!("union: DataFusion's SQL vs the reference: {diff}");
    }
}
