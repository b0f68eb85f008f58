//! Snapshots of `featc build --emit ir` for the public acceptance cases, the
//! examples and the row functions' project, and checks of the IR facts the other
//! stages rely on.

use crate::project_files::project;

fn ir_of(dir: &str) -> (String, featc::ir::Project) {
    let files = project(dir);
    let input: String = files
        .iter()
        .map(|f| format!("// {}\n{}", f.name, f.text))
        .collect();
    match featc::compile(&files) {
        Ok(p) => (input, p),
        Err(d) => panic!("{dir} does not compile:\n{}", d.render(&files, false)),
    }
}

/// The snapshot shows the input files next to the IR they compile to.
fn with_input(input: &str, p: &featc::ir::Project) -> String {
    format!(
        "{input}\n---- ir ----\n{}",
        featc::print::ir::print_project(p)
    )
}

#[test]
fn synthetic_ir() {
    let (input, p) = ir_of("tests/cases/synthetic");
    assert_eq!(p.all_features().len(), 32);
    insta::assert_snapshot!("ir_synthetic", with_input(&input, &p));
}

#[test]
fn marketplace_ir() {
    let (input, p) = ir_of("tests/cases/marketplace");
    assert_eq!(p.services.len(), 1);
    assert_eq!(p.services[0].features.len(), 22);
    insta::assert_snapshot!("ir_marketplace", with_input(&input, &p));
}

#[test]
fn fraud_example_ir() {
    let (input, p) = ir_of("examples/fraud");
    // features.feat sorts before sources.feat, yet uses its entities and sources.
    assert_eq!(
        p.files,
        vec![
            "examples/fraud/features.feat",
            "examples/fraud/sources.feat"
        ]
    );
    assert_eq!(
        p.sources[0].location.as_deref(),
        Some("examples/fraud/data/transactions.csv")
    );
    assert_eq!(p.sources[0].lateness_us, 5 * 60 * 1_000_000);
    insta::assert_snapshot!("ir_fraud", with_input(&input, &p));
}

#[test]
fn delivery_example_ir() {
    let (input, p) = ir_of("examples/delivery");
    assert_eq!(p.sources[0].freshness_us, Some(3_600_000_000));
    assert_eq!(p.views[0].freshness_us, Some(1_800_000_000));
    insta::assert_snapshot!("ir_delivery", with_input(&input, &p));
}

/// The checkout example: count windows, a view over two sources, chained as-of
/// lookups (with a looked-up source's `delay`), dates, decimals, lists and embeddings.
#[test]
fn checkout_example_ir() {
    let (input, p) = ir_of("examples/checkout");
    let spending = p
        .views
        .iter()
        .find(|v| v.name == "spending")
        .expect("spending");
    assert_eq!(spending.lookups.len(), 2);
    insta::assert_snapshot!("ir_checkout", with_input(&input, &p));
}

#[test]
fn functions_ir() {
    let (input, p) = ir_of("tests/functions");
    insta::assert_snapshot!("ir_functions", with_input(&input, &p));
}

/// A project with `date` columns (semantics.md "Dates"): a date key, date values in
/// min/max/first/last, count_distinct, lists and a comparison, and their result types.
#[test]
fn dates_ir() {
    let path = featc_test_support::paths::fixtures_dir().join("dates.feat");
    let text = std::fs::read_to_string(&path).expect("the dates fixture");
    let p = featc_test_support::project::compile_text("dates.feat", &text);
    let ty = |name: &str| {
        let f = p.feature_by_name(name).expect("feature");
        p.feature(f).ty.name()
    };
    assert_eq!(ty("first_check_in"), "date");
    assert_eq!(ty("recent_bookings"), "list<date>");
    assert_eq!(ty("booked_days"), "list<struct<value: date, count: int64>>");
    assert_eq!(ty("check_in_days_7d"), "int64");
    assert_eq!(ty("last_known_booking"), "date");
    insta::assert_snapshot!("ir_dates", with_input(&text, &p));
}

/// A project with `decimal(p, s)` columns (semantics.md "Decimals"): the result types
/// of sums, products and differences with int64s, selections, lists and `avg`.
#[test]
fn decimals_ir() {
    let path = featc_test_support::paths::fixtures_dir().join("decimals.feat");
    let text = std::fs::read_to_string(&path).expect("the decimals fixture");
    let p = featc_test_support::project::compile_text("decimals.feat", &text);
    let ty = |name: &str| {
        let f = p.feature_by_name(name).expect("feature");
        p.feature(f).ty.name().into_owned()
    };
    assert_eq!(ty("total"), "decimal(38, 2)");
    assert_eq!(ty("tax_7d"), "decimal(38, 6)");
    assert_eq!(ty("avg_amount"), "float64");
    assert_eq!(ty("var_amount"), "float64");
    assert_eq!(ty("max_amount_7d"), "decimal(10, 2)");
    assert_eq!(ty("median_amount"), "decimal(10, 2)");
    assert_eq!(ty("net_max_7d"), "decimal(24, 4)");
    assert_eq!(ty("recent_amounts"), "list<decimal(10, 2)>");
    assert_eq!(
        ty("top_amounts"),
        "list<struct<value: decimal(10, 2), count: int64>>"
    );
    assert_eq!(ty("halves"), "float64");
    assert_eq!(ty("total_both"), "decimal(38, 2)");
    insta::assert_snapshot!("ir_decimals", with_input(&text, &p));
}

#[test]
fn ir_round_trips_through_json() {
    for dir in ["tests/cases/marketplace", "tests/functions"] {
        let (_, p) = ir_of(dir);
        let json = serde_json::to_string(&p).expect("serializable");
        let back: featc::ir::Project = serde_json::from_str(&json).expect("deserializable");
        assert_eq!(back, p, "{dir}");
    }
}

/// Reads a schema file from the repository (the project below is named as if it
/// were in `docs/kafka/`, beside the schemas docs/language.md's example uses).
struct FromRepo;

impl featc::ReadFile for FromRepo {
    fn read(&self, location: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(featc_test_support::paths::repo_root().join(location))
    }
}

/// Each topic format as the IR prints it: the clause with its schema file resolved
/// against the declaring file's folder, and the Confluent id.
#[test]
fn topic_formats_ir() {
    let text = "\
source payments {
    time ts
    columns { user_id: int64  amount: float64?  category: string?  fee: decimal(12, 2)? }
    topic \"payments\" format avro \"payments.avsc\" confluent 42
}
source refunds {
    time ts
    columns { user_id: int64  amount: float64? }
    topic \"refunds\" format protobuf \"payments.proto\" \"payments.Payment\"
}
source clicks {
    time ts
    columns { user_id: int64 }
    topic \"clicks\" format json
}
";
    let files = [featc::SourceFile {
        name: "docs/kafka/topics.feat".into(),
        text: text.into(),
    }];
    let reader: std::sync::Arc<dyn featc::ReadFile> = std::sync::Arc::new(FromRepo);
    let p = featc::compile_with(&files, &reader)
        .unwrap_or_else(|d| panic!("{}", d.render(&files, false)));
    match &p.sources[0].topic.as_ref().expect("a topic").format {
        featc::ir::TopicFormat::Avro(a) => {
            assert_eq!(a.file, "docs/kafka/payments.avsc");
            assert_eq!(a.confluent, Some(42));
            assert!(a.schema.contains("timestamp-micros"));
        }
        other => panic!("{other:?}"),
    }
    match &p.sources[1].topic.as_ref().expect("a topic").format {
        featc::ir::TopicFormat::Protobuf(f) => {
            assert_eq!(f.message, "payments.Payment");
            assert!(!f.descriptors.is_empty());
        }
        other => panic!("{other:?}"),
    }
    insta::assert_snapshot!("ir_topic_formats", with_input(text, &p));
}

/// A source partitioned by time (`partition KEY by UNIT`, docs/sources.md "Time
/// partitions"): the IR keeps the key and the unit, and prints them.
#[test]
fn time_partitions_ir() {
    let text = "source clicks {\n    time ts\n    columns { user_id: int64  amount: float64 }\n    file \"history/clicks/\"\n    partition hour by hour\n}\nentity user { key user_id: int64 }\nview spend from clicks by user {\n    feature spent_1d = sum(amount) over 1d\n}\n";
    let p = featc_test_support::project::compile_text("partitions.feat", text);
    let partition = p.sources[0].partition.as_ref().expect("a partition");
    assert_eq!(partition.key, "hour");
    assert_eq!(partition.unit, featc::ir::PartitionUnit::Hour);
    insta::assert_snapshot!("ir_time_partitions", with_input(text, &p));
}
