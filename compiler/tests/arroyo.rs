//! The Arroyo pipeline emitter (`featc build --emit arroyo`): snapshots of
//! pipeline.sql for every public case and example (with what it refuses, the rest
//! emitted), each statement parsed back by sqlparser's PostgreSQL dialect (Arroyo's
//! is based on it) to the same text, and the UDFs the SQL calls listed exactly.

use std::collections::BTreeSet;
use std::path::PathBuf;

use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use featc::emit::arroyo::udf::UdfKind;
use featc::emit::arroyo::{emit, refusal, ArroyoOptions, ArroyoPipeline, Refusal, Sink};
use featc::ir::{FeatureId, Project};

/// A project and the features of one run: a service's, or every view feature.
struct Selection {
    name: &'static str,
    dir: PathBuf,
    service: Option<&'static str>,
}

fn selections() -> Vec<Selection> {
    let case = |name: &'static str| Selection {
        name,
        dir: featc_test_support::paths::cases_dir().join(name),
        service: None,
    };
    let example = |name: &'static str, dir: &str, service: Option<&'static str>| Selection {
        name,
        dir: featc_test_support::paths::examples_dir().join(dir),
        service,
    };
    vec![
        case("synthetic"),
        case("marketplace"),
        example("fraud_all", "fraud", None),
        example("fraud_v1", "fraud", Some("fraud_v1")),
        example("delivery_all", "delivery", None),
        example("delivery_eta_v1", "delivery", Some("eta_v1")),
        example("delivery_eta_v2", "delivery", Some("eta_v2")),
        Selection {
            name: "functions",
            dir: featc_test_support::paths::functions_dir(),
            service: None,
        },
    ]
}

fn pipeline(
    project: &Project,
    features: &[FeatureId],
    options: &ArroyoOptions,
) -> Result<ArroyoPipeline, Vec<Refusal>> {
    let plan = featc::lower::groups::plan_groups(project, features).expect("plan");
    emit(project, &plan, options)
}

/// The pipeline of the features it accepts, and its refusals of the others.
fn accepted(
    project: &Project,
    features: &[FeatureId],
    options: &ArroyoOptions,
) -> (ArroyoPipeline, Vec<Refusal>) {
    match pipeline(project, features, options) {
        Ok(p) => (p, Vec::new()),
        Err(refusals) => {
            let refused: Vec<&str> = refusals.iter().map(|r| r.feature.as_str()).collect();
            let kept = featc_test_support::project::features_except(project, features, &refused);
            let p = pipeline(project, &kept, options)
                .unwrap_or_else(|r| panic!("refuses what it accepted: {r:?}"));
            (p, refusals)
        }
    }
}

/// Every statement parses back with the PostgreSQL dialect and prints the same; the
/// comments are skipped by the parser.
fn parses_back(p: &ArroyoPipeline, name: &str) {
    let text = p.text();
    let parsed = Parser::parse_sql(&PostgreSqlDialect {}, &text)
        .unwrap_or_else(|e| panic!("{name}: does not parse back: {e}\n{text}"));
    let printed: Vec<String> = parsed.iter().map(|s| format!("{s:#}")).collect();
    let emitted: Vec<String> = p.statements().map(|s| format!("{s:#}")).collect();
    assert_eq!(printed, emitted, "{name}: prints back differently");
}

/// The UDFs listed are exactly the functions named `featc_*` the SQL calls.
fn udfs_are_the_ones_called(p: &ArroyoPipeline, name: &str) {
    let text: String = p.statements().map(|s| format!("{s} ")).collect();
    let called: BTreeSet<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("featc_") && text.contains(&format!("{w}(")))
        .map(str::to_string)
        .collect();
    let listed: BTreeSet<String> = p.udfs.iter().map(|u| u.name()).collect();
    assert_eq!(called, listed, "{name}: the UDFs called and listed differ");
}

/// Every UDF the pipeline calls can be generated, and is one of the kinds and types
/// `scripts/check-arroyo-udfs.sh` builds and tests against featc's values
/// (`udfs::representative_specs`; a percentile's code is the same at every quantile).
fn built_and_tested_by_the_script(p: &ArroyoPipeline, name: &str) {
    let tested = featc::emit::arroyo::udfs::representative_specs();
    for spec in &p.udfs {
        featc::emit::arroyo::udfs::check(spec)
            .unwrap_or_else(|e| panic!("{name}: {} cannot be generated: {e}", spec.name()));
        let covered = tested.iter().any(|t| {
            t.input == spec.input
                && (t.kind == spec.kind
                    || matches!(
                        (t.kind, spec.kind),
                        (UdfKind::Percentile(_), UdfKind::Percentile(_))
                    ))
        });
        assert!(
            covered,
            "{name}: {} is not built by the script",
            spec.name()
        );
    }
}

#[test]
fn pipelines_for_every_case_and_example() {
    for s in selections() {
        let files = featc_test_support::project::feat_files_named_from_root(&s.dir);
        let project = featc::compile(&files).expect("compiles");
        let all = featc::job::select_features(&project, s.service, &[]).expect("features");
        let (p, refusals) = accepted(&project, &all, &ArroyoOptions::default());
        parses_back(&p, s.name);
        udfs_are_the_ones_called(&p, s.name);
        built_and_tested_by_the_script(&p, s.name);
        let refused = refusal::diagnostics(&refusals).render(&files, false);
        let udfs: Vec<String> = p.udfs.iter().map(|u| u.name()).collect();
        insta::assert_snapshot!(
            format!("arroyo_{}", s.name),
            format!(
                "-- refused --\n{refused}-- udfs --\n{}\n-- pipeline.sql --\n{}",
                udfs.join("\n"),
                p.text()
            )
        );
    }
}

/// The Redis sink: one hash per view and entity key, one field per window.
#[test]
fn redis_sink_pipeline() {
    let dir = featc_test_support::paths::examples_dir().join("fraud");
    let files = featc_test_support::project::feat_files_named_from_root(&dir);
    let project = featc::compile(&files).expect("compiles");
    let options = ArroyoOptions {
        sink: Sink::Redis {
            address: "redis://localhost:6379".into(),
        },
        ..ArroyoOptions::default()
    };
    let all = featc::job::select_features(&project, Some("fraud_v1"), &[]).expect("features");
    let (p, _) = accepted(&project, &all, &options);
    parses_back(&p, "fraud_v1 redis");
    insta::assert_snapshot!("arroyo_fraud_v1_redis", p.text());
}

/// int64 `+ - *` and negation, which featc fails on overflow, call the checked UDFs
/// (the SQL dialects refuse them: E0042); integer sums call the checked sum; a
/// derived feature of one view and window is computed with its reads.
#[test]
fn int64_arithmetic_and_derived_features() {
    let text = "source orders {
    time ts
    columns { buyer_id: int64  items: int64  free_items: int64 }
}
entity buyer { key buyer_id: int64 }
view baskets from orders by buyer {
    feature paid_items_7d = sum(items - free_items) over 7d
    feature most_returned_1d = max(-(items * 2)) over 1d
    feature items_7d = sum(items) over 7d
    feature paid_share_7d = paid_items_7d / items_7d
}
";
    let files = vec![featc::SourceFile {
        name: "baskets.feat".into(),
        text: text.into(),
    }];
    let project = featc::compile(&files).expect("compiles");
    let asked = ["paid_items_7d", "most_returned_1d", "paid_share_7d"].map(String::from);
    let all = featc::job::select_features(&project, None, &asked).expect("features");
    let p = pipeline(&project, &all, &ArroyoOptions::default()).expect("emitted");
    parses_back(&p, "baskets");
    udfs_are_the_ones_called(&p, "baskets");
    let sql = p.text();
    assert!(sql.contains(
        r#"COALESCE(featc_sum_int64(featc_checked_sub_int64("items", "free_items")) FILTER (WHERE featc_checked_sub_int64("items", "free_items") IS NOT NULL), 0)"#
    ), "{sql}");
    assert!(
        sql.contains(r#"MAX(featc_checked_neg_int64(featc_checked_mul_int64("items", 2)))"#),
        "{sql}"
    );
    // A derived feature is computed in the query of the features it reads; a read
    // that was not asked for is computed there but not sent.
    assert!(
        sql.contains(r#"CAST("paid_items_7d" AS DOUBLE) / CASE WHEN"#),
        "{sql}"
    );
    assert!(sql.contains(r#""paid_share_7d" DOUBLE"#), "{sql}");
    assert!(sql.contains(r#"AS "items_7d""#), "{sql}");
    assert!(!sql.contains(r#""items_7d" BIGINT"#), "{sql}");
}

/// A ttl shorter than the window nulls a value whose window's latest event of the
/// view is older than the ttl at the window's last microsecond, for the feature and
/// for a derived feature reading it; a ttl on a lifetime feature is refused (E0047).
#[test]
fn a_ttl_shorter_than_the_window() {
    let text = "source orders {
    time ts
    columns { buyer_id: int64  amount: float64 }
}
entity buyer { key buyer_id: int64 }
view baskets from orders by buyer {
    feature orders_1d = count(*) over 1d
    feature double_1d = orders_1d * 2
    feature orders_ever = count(*)
    ttl 1h
}
";
    let files = vec![featc::SourceFile {
        name: "baskets.feat".into(),
        text: text.into(),
    }];
    let project = featc::compile(&files).expect("compiles");
    let all = featc::job::select_features(&project, None, &[]).expect("features");
    let (p, refusals) = accepted(&project, &all, &ArroyoOptions::default());
    let names: Vec<(&str, &str)> = refusals
        .iter()
        .map(|r| (r.feature.as_str(), r.code()))
        .collect();
    assert_eq!(names, vec![("orders_ever", "E0047")]);
    parses_back(&p, "ttl");
    // On one line each (the pretty printer breaks a CASE that is a whole column).
    let sql: String = p.statements().map(|s| format!("{s};\n")).collect();
    let fresh = r#"CASE WHEN "featc_latest" >= ("window"."end" - (INTERVAL '3600 seconds')) THEN "orders_1d" END"#;
    assert!(sql.contains(&format!("{fresh} AS \"orders_1d\"")), "{sql}");
    assert!(sql.contains(r#"MAX("ts") AS "featc_latest""#), "{sql}");
    assert!(
        sql.contains(&format!("featc_checked_mul_int64({fresh}, 2)")),
        "{sql}"
    );
}

/// `first`/`last` of a timestamp: the UDF takes and gives int64 µs
/// (arroyo-udf-plugin has no timestamp type), converted on the way in and out; of a
/// string or a bool, Arroyo's own MIN/MAX over time-prefixed values (no UDF).
#[test]
fn first_and_last_of_timestamps_strings_and_bools() {
    let text = "source visits {
    time ts
    columns { user_id: int64  seen: timestamp?  page: string?  ok: bool? }
}
entity user { key user_id: int64 }
view v from visits by user {
    feature last_seen_7d = last(seen) over 7d
    feature first_page_7d = first(page) over 7d
    feature last_ok_7d = last(ok) over 7d
}
";
    let files = vec![featc::SourceFile {
        name: "visits.feat".into(),
        text: text.into(),
    }];
    let project = featc::compile(&files).expect("compiles");
    let all = featc::job::select_features(&project, None, &[]).expect("features");
    let p = pipeline(&project, &all, &ArroyoOptions::default()).expect("emitted");
    parses_back(&p, "visits");
    udfs_are_the_ones_called(&p, "visits");
    built_and_tested_by_the_script(&p, "visits");
    let sql = p.text();
    assert!(
        sql.contains("to_timestamp_micros(featc_last_timestamp("),
        "{sql}"
    );
    assert!(
        sql.contains(r#"CAST("seen" AS BIGINT)"#),
        "the value in µs: {sql}"
    );
    let names: Vec<String> = p.udfs.iter().map(|u| u.name()).collect();
    assert_eq!(names, ["featc_last_timestamp"]);
}

/// The MIN/MAX formulation of `first`/`last` over strings and booleans, run on
/// DataFusion (the engine Arroyo plans and runs its SQL with): featc's values,
/// ties on time broken by value, times before 1970, nulls set aside, a key with only
/// nulls null.
#[tokio::test]
async fn first_and_last_of_strings_and_bools_on_datafusion() {
    use datafusion::arrow::array::{
        Array, AsArray, BooleanArray, Int64Array, RecordBatch, StringArray,
    };
    use datafusion::arrow::datatypes::{DataType as Arrow, Field, Schema};
    use datafusion::catalog::MemTable;
    use datafusion::prelude::SessionContext;
    use featc::emit::arroyo::aggregate::{aggregate, Input};
    use featc::emit::arroyo::flavor::Arroyo;
    use featc::emit::sql::ast::col;
    use featc::ir::{AggKind, DataType};
    use std::sync::Arc;

    // (key, time µs, page, ok)
    let rows: [(i64, i64, Option<&str>, Option<bool>); 9] = [
        (1, 5, Some("b"), Some(false)),
        (1, 5, Some("é"), Some(true)), // a tie on time: "é" > "b" by bytes; true > false
        (1, 3, Some("a"), Some(true)),
        (1, 9, None, None),                       // the latest, but null
        (2, -7_000_000, Some("old"), Some(true)), // before 1970
        (2, -8_000_000, Some("older"), Some(false)),
        (2, 100, Some("new"), Some(false)),
        (3, 1, None, None),
        (3, 2, None, None),
    ];
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("k", Arrow::Int64, false),
            Field::new("t_us", Arrow::Int64, false),
            Field::new("page", Arrow::Utf8, true),
            Field::new("ok", Arrow::Boolean, true),
        ])),
        vec![
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(StringArray::from_iter(rows.iter().map(|r| r.2))),
            Arc::new(BooleanArray::from_iter(rows.iter().map(|r| r.3))),
        ],
    )
    .expect("batch");
    let ctx = SessionContext::new();
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).expect("table");
    ctx.register_table("t", Arc::new(table)).expect("register");
    let flavor = Arroyo::default();
    let agg = |kind: AggKind, column: &str, ty: DataType| {
        aggregate(
            &flavor,
            kind,
            Input {
                value: Some((col('"', column), ty)),
                condition: None,
                time_us: col('"', "t_us"),
            },
        )
    };
    let query = format!(
        "SELECT k, {} AS first_page, {} AS last_page, {} AS first_ok, {} AS last_ok FROM t GROUP BY k ORDER BY k",
        agg(AggKind::First, "page", DataType::String),
        agg(AggKind::Last, "page", DataType::String),
        agg(AggKind::First, "ok", DataType::Bool),
        agg(AggKind::Last, "ok", DataType::Bool),
    );
    assert!(flavor.into_used().is_empty(), "no UDF: {query}");
    let frame = ctx.sql(&query).await.expect("plans");
    let batches = frame.collect().await.expect("runs");
    let out = datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches)
        .expect("one batch");
    let strings = |i: usize| -> Vec<Option<String>> {
        let c = datafusion::arrow::compute::cast(out.column(i), &Arrow::Utf8).expect("text");
        let c = c.as_string::<i32>();
        (0..c.len())
            .map(|r| c.is_valid(r).then(|| c.value(r).to_string()))
            .collect()
    };
    let s = |v: &str| Some(v.to_string());
    assert_eq!(strings(1), [s("a"), s("older"), None], "first(page)");
    assert_eq!(strings(2), [s("é"), s("new"), None], "last(page)");
    assert_eq!(strings(3), [s("true"), s("false"), None], "first(ok)");
    assert_eq!(strings(4), [s("true"), s("false"), None], "last(ok)");
}
