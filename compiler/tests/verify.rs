//! `featc verify` as a library: the examples and the public cases agree on their own
//! data and on generated cases; a path with one wrong cell, or one that fails, is
//! caught and reported with the entity, time, feature and every path's value; the
//! generated cases reach the boundaries they promise (events exactly a window before
//! a probe time, ties, nulls, keys seen once, keys never seen); an engine plugged in
//! (`SqlEngine`) is held to the same cells whatever its column types and row order.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, UInt32Array};
use datafusion::arrow::compute::{cast, take_record_batch};
use datafusion::arrow::datatypes::{
    DataType as ArrowType, Field, Int64Type, Schema, TimestampMicrosecondType,
};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::prelude::SessionContext;
use featc::emit::sql::{Dialect, Script};
use featc::ir::{FeatureId, Project};
use featc::verify::executor::sql::run_statements;
use featc::verify::{
    self, generate::generated_case, BatchExecutor, Executor, Options, Pending, ReferenceExecutor,
    Report, RunError, RunInput, SqlAnswer, SqlEngine, SqlExecutor, SqlTable, StreamExecutor,
    UserData,
};
use featc_runtime::io::Inputs;
use featc_test_support::paths::repo_root as repo;
use featc_test_support::runtime::runtime;

fn compile_dir(dir: &Path) -> Project {
    let files = featc::files::read_project(&[dir.to_path_buf()]).expect("read project");
    featc::compile(&files).unwrap_or_else(|d| panic!("{}: {d:?}", dir.display()))
}

fn compile_text(text: &str) -> Project {
    featc_test_support::project::compile_text("test.feat", text)
}

/// `verify::run` with the reference against `others`; the user's data when `user`.
fn run(
    project: &Project,
    features: &[FeatureId],
    user: Option<UserData<'_>>,
    cases: usize,
    seed: u64,
    others: &[&dyn Executor],
) -> Report {
    let options = Options {
        user,
        cases,
        seed,
        probe_time: "ts".into(),
    };
    runtime()
        .block_on(verify::run(
            project,
            features,
            &options,
            &ReferenceExecutor,
            others,
            &mut |_, _| {},
        ))
        .expect("verify runs")
}

fn user_data(inputs: &Inputs) -> UserData<'_> {
    UserData {
        inputs,
        spine: None,
        sample_rows: 100_000,
        spine_rows: 3_000,
        seed: 1,
        probe_time: "ts".into(),
    }
}

fn assert_agrees(what: &str, report: &Report) {
    assert!(report.agrees(), "{what}:\n{}", report.text());
    for d in &report.datasets {
        assert!(
            d.spine_rows > 0 && d.events > 0,
            "{what}: {} is empty",
            d.label
        );
    }
}

#[test]
fn the_examples_agree_on_their_data_and_generated_cases() {
    for example in ["fraud", "delivery"] {
        let project = compile_dir(&repo().join("examples").join(example));
        let features = project.all_features();
        let inputs = Inputs::default();
        let report = run(
            &project,
            &features,
            Some(user_data(&inputs)),
            8,
            3,
            &[&BatchExecutor, &StreamExecutor, &SqlExecutor::default()],
        );
        assert_agrees(example, &report);
        assert_eq!(report.datasets.len(), 9, "{example}: your data and 8 cases");
        assert_eq!(report.datasets[0].label, "your data");
        // Each example's services too (their own features read request fields).
        for service in &project.services {
            let features = service.features.clone();
            let report = run(
                &project,
                &features,
                None,
                4,
                5,
                &[&BatchExecutor, &StreamExecutor, &SqlExecutor::default()],
            );
            assert_agrees(&format!("{example} service {}", service.name), &report);
        }
    }
}

#[test]
fn the_public_cases_agree_on_their_data_and_spine() {
    for case in ["synthetic", "marketplace"] {
        let dir = repo().join("tests/cases").join(case);
        let project = compile_dir(&dir);
        let features = project.all_features();
        let inputs = Inputs::default();
        let mut user = user_data(&inputs);
        user.spine = Some((dir.join("spine.parquet"), "ts".into()));
        // The reference is naive (each spine row over the events): a debug build
        // answers 500 rows over 5,000 events in seconds.
        user.spine_rows = 500;
        user.sample_rows = 5_000;
        let report = run(
            &project,
            &features,
            Some(user),
            4,
            11,
            &[&BatchExecutor, &StreamExecutor],
        );
        assert_agrees(case, &report);
    }
}

/// A path whose answer has one wrong cell: `delta` added to the first non-null value
/// of int64 feature `feature`.
struct Corrupt<'a> {
    inner: &'a dyn Executor,
    feature: &'a str,
}

impl Executor for Corrupt<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn run<'a>(&'a self, input: RunInput<'a>) -> Pending<'a> {
        Box::pin(async move {
            let mut answered = self.inner.run(input).await?;
            answered.table = corrupt(&answered.table, self.feature);
            Ok(answered)
        })
    }
}

fn corrupt(table: &RecordBatch, feature: &str) -> RecordBatch {
    let i = table.schema().index_of(feature).expect("feature column");
    let column = table.column(i).as_primitive::<Int64Type>();
    let first = (0..column.len())
        .find(|r| column.is_valid(*r))
        .expect("a value");
    let changed: Int64Array = (0..column.len())
        .map(|r| {
            column
                .is_valid(r)
                .then(|| column.value(r) + i64::from(r == first))
        })
        .collect();
    let mut columns: Vec<ArrayRef> = table.columns().to_vec();
    columns[i] = Arc::new(changed);
    RecordBatch::try_new(table.schema(), columns).expect("same schema")
}

const ONE_VIEW: &str = r#"
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
    feature n_1h   = count(*) over 1h
    feature sum_1h = sum(amount) over 1h
    feature last_a = last(amount)
}
"#;

#[test]
fn a_wrong_cell_in_one_path_is_caught_and_located() {
    let project = compile_text(ONE_VIEW);
    let features = project.all_features();
    let corrupt_stream = Corrupt {
        inner: &StreamExecutor,
        feature: "n_1h",
    };
    let report = run(
        &project,
        &features,
        None,
        3,
        42,
        &[&BatchExecutor, &corrupt_stream],
    );
    assert!(!report.agrees());
    for d in &report.datasets {
        // Every generated case has events, so every case has one wrong cell.
        assert_eq!(d.disagreeing_cells, 1, "{}:\n{}", d.label, report.text());
        let cell = &d.disagreements[0];
        assert_eq!(cell.feature, "n_1h");
        assert_eq!(cell.entity[0].0, "user_id");
        let paths: Vec<(&str, bool)> = cell
            .values
            .iter()
            .map(|v| (v.path.as_str(), v.differs))
            .collect();
        assert_eq!(
            paths,
            [("reference", false), ("batch", false), ("stream", true)]
        );
        let reference: i64 = cell.values[0].value.parse().expect("a count");
        let stream: i64 = cell.values[2].value.parse().expect("a count");
        assert_eq!(stream, reference + 1);
        assert_eq!(cell.values[1].value, cell.values[0].value);
    }
    insta::assert_snapshot!("verify_wrong_cell", report.text());
}

/// A path that fails on every dataset.
struct Failing;

impl Executor for Failing {
    fn name(&self) -> &str {
        "failing"
    }

    fn run<'a>(&'a self, _input: RunInput<'a>) -> Pending<'a> {
        Box::pin(async { Err(RunError::Other("out of cheese".to_string())) })
    }
}

#[test]
fn a_path_that_fails_where_the_reference_answers_is_a_disagreement() {
    let project = compile_text(ONE_VIEW);
    let report = run(&project, &project.all_features(), None, 2, 1, &[&Failing]);
    assert!(!report.agrees());
    for d in &report.datasets {
        assert_eq!(d.failures.len(), 1);
        assert_eq!(d.failures[0].path, "failing");
        assert_eq!(
            d.failures[0].message,
            "failed where the reference answered: out of cheese"
        );
    }
}

/// An engine outside featc, as `--sql-engine` plugs one in: DataFusion on the
/// script, answering in its own types (int32, large strings, naive times), the
/// spine's order column kept and the rows reversed; or, `drop`, without a column.
struct Foreign {
    drop: Option<&'static str>,
}

impl SqlEngine for Foreign {
    fn name(&self) -> &str {
        "sql:foreign"
    }

    fn dialect(&self) -> Dialect {
        Dialect::DataFusion
    }

    fn run<'a>(&'a self, script: &'a Script, tables: Vec<SqlTable>) -> SqlAnswer<'a> {
        Box::pin(async move {
            let ctx = SessionContext::new();
            for t in tables {
                let table = MemTable::try_new(t.schema, vec![t.batches]).expect("table");
                ctx.register_table(t.name.as_str(), Arc::new(table))
                    .expect("register");
            }
            let rows = run_statements(&ctx, script).await?;
            let reversed: Vec<u32> = (0..rows.num_rows() as u32).rev().collect();
            let rows = take_record_batch(&rows, &UInt32Array::from(reversed)).expect("take");
            let mut fields = Vec::new();
            let mut columns = Vec::new();
            for (field, column) in rows.schema().fields().iter().zip(rows.columns()) {
                if Some(field.name().as_str()) == self.drop {
                    continue;
                }
                let own = match field.data_type() {
                    ArrowType::Int64 => ArrowType::Int32,
                    ArrowType::Utf8 => ArrowType::LargeUtf8,
                    ArrowType::Timestamp(unit, Some(_)) => ArrowType::Timestamp(*unit, None),
                    other => other.clone(),
                };
                columns.push(cast(column, &own).expect("cast"));
                fields.push(Field::new(field.name(), own, true));
            }
            Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("batch"))
        })
    }
}

#[test]
fn an_engine_answering_in_its_own_types_and_order_is_conformed() {
    let project = compile_text(TWO_SOURCES);
    let features = project.all_features();
    let foreign = SqlExecutor(Foreign { drop: None });
    let report = run(&project, &features, None, 3, 5, &[&foreign]);
    assert_agrees("a foreign engine", &report);
    assert_eq!(report.paths, ["sql:foreign"]);
}

#[test]
fn an_engine_missing_a_column_fails_its_run() {
    let project = compile_text(ONE_VIEW);
    let foreign = SqlExecutor(Foreign { drop: Some("n_1h") });
    let report = run(&project, &project.all_features(), None, 1, 1, &[&foreign]);
    assert!(!report.agrees());
    let d = &report.datasets[0];
    assert_eq!(d.failures.len(), 1, "{}", report.text());
    assert_eq!(
        d.failures[0].message,
        "failed where the reference answered: the engine answered no column `n_1h`"
    );
}

const TWO_SOURCES: &str = r#"
source tx {
    time ts
    columns {
        user_id: int64
        shop:    string?
        amount:  float64?
        ok:      bool?
        at:      timestamp?
    }
    lateness 1m
}
source clicks {
    time ts
    columns {
        user_id: int64?
        page:    string
    }
    delay 5s
}
entity user { key user_id: int64 }
view spend from tx by user {
    let big = amount > 100
    feature n_1h     = count(*) over 1h
    feature big_30m  = count_if(big) over 30m offset 10m
    feature shops_1d = count_distinct(shop) over 1d
    feature avg_1h   = avg(amount) over 1h
    feature last_at  = last(at)
    ttl 2h
}
view browsing from clicks by user {
    feature pages_1h = count(*) over 1h
    feature top_page = last(page) over 1h
}
"#;

/// Times of a column of a batch, in µs.
fn times(batch: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    let c = batch.column_by_name(name).expect("column");
    let c = c.as_primitive::<TimestampMicrosecondType>();
    (0..c.len())
        .map(|r| c.is_valid(r).then(|| c.value(r)))
        .collect()
}

fn ints(batch: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    let c = batch.column_by_name(name).expect("column");
    let c = c.as_primitive::<Int64Type>();
    (0..c.len())
        .map(|r| c.is_valid(r).then(|| c.value(r)))
        .collect()
}

#[test]
fn generated_cases_reach_the_boundaries() {
    let project = compile_text(TWO_SOURCES);
    let features = project.all_features();
    let (mut at_window_start, mut at_event, mut ties, mut nulls, mut once, mut unseen) =
        (0, 0, 0, 0, 0, 0);
    let hour = 3_600_000_000;
    for index in 1..=12 {
        let d = generated_case(&project, &features, index, 9, "ts").expect("case");
        let (_, tx) = d.sources.iter().find(|(n, _)| n == "tx").expect("tx");
        let tx = &tx[0];
        let events: Vec<(Option<i64>, i64)> = ints(tx, "user_id")
            .into_iter()
            .zip(times(tx, "ts").into_iter().map(|t| t.expect("event time")))
            .collect();
        let spine: Vec<(Option<i64>, i64)> = ints(&d.spine, "user_id")
            .into_iter()
            .zip(
                times(&d.spine, "ts")
                    .into_iter()
                    .map(|t| t.expect("spine time")),
            )
            .collect();
        let event_set: HashSet<(Option<i64>, i64)> = events.iter().copied().collect();
        at_window_start += spine
            .iter()
            .filter(|(k, t)| event_set.contains(&(*k, t - hour)))
            .count();
        at_event += spine.iter().filter(|s| event_set.contains(s)).count();
        let distinct_times: HashSet<i64> = events.iter().map(|(_, t)| *t).collect();
        ties += events.len() - distinct_times.len();
        for column in ["shop", "amount", "ok", "at"] {
            nulls += tx.column_by_name(column).expect("column").null_count();
        }
        let mut per_key = std::collections::HashMap::new();
        for (k, _) in &events {
            *per_key.entry(*k).or_insert(0) += 1;
        }
        once += per_key.values().filter(|n| **n == 1).count();
        let keys: HashSet<Option<i64>> = events.iter().map(|(k, _)| *k).collect();
        unseen += spine.iter().filter(|(k, _)| !keys.contains(k)).count();
        // Both sources are generated, with their own columns.
        let (_, clicks) = d
            .sources
            .iter()
            .find(|(n, _)| n == "clicks")
            .expect("clicks");
        assert!(clicks[0].schema().index_of("page").is_ok());
        assert!(d.settings.disorder_us <= 5_000_000 + 60_000_000);
    }
    for (what, n) in [
        (
            "spine rows exactly 1h after an event of their key",
            at_window_start,
        ),
        ("spine rows at an event of their key", at_event),
        ("events tying with another's time", ties),
        ("nulls in nullable columns", nulls),
        ("keys seen once", once),
        ("spine rows for a key no event has", unseen),
    ] {
        assert!(n > 0, "no {what} in 12 generated cases");
    }
}

#[test]
fn generated_cases_agree_across_sources_offsets_ttl_and_delay() {
    let project = compile_text(TWO_SOURCES);
    let report = run(
        &project,
        &project.all_features(),
        None,
        24,
        17,
        &[&BatchExecutor, &StreamExecutor, &SqlExecutor::default()],
    );
    assert_agrees("two sources", &report);
}

#[test]
fn the_same_seed_gives_the_same_cases() {
    let project = compile_text(TWO_SOURCES);
    let features = project.all_features();
    for index in 1..=3 {
        let a = generated_case(&project, &features, index, 5, "ts").expect("case");
        let b = generated_case(&project, &features, index, 5, "ts").expect("case");
        assert_eq!(a.spine, b.spine);
        assert_eq!(a.sources[0].1, b.sources[0].1);
        assert_eq!(a.settings, b.settings);
    }
    let other = generated_case(&project, &features, 1, 6, "ts").expect("case");
    let first = generated_case(&project, &features, 1, 5, "ts").expect("case");
    assert_ne!(
        other.sources[0].1, first.sources[0].1,
        "another seed, other events"
    );
}

/// A view over two sources (`from pay, logins`), each with its own time column.
const UNION: &str = r#"
source pay {
    time ts
    columns {
        user_id: int64
        amount:  float64?
    }
    lateness 1m
    delay 5s
}
source logins {
    time at
    columns {
        user_id: int64
        device:  string?
    }
    delay 5s
}
entity user { key user_id: int64 }
view activity from pay, logins by user {
    let phone = device = 'phone'
    feature events_1h   = count(*) over 1h
    feature logins_1h   = count_if(source() = 'logins') over 1h
    feature phones_1d   = count_if(phone) over 1d
    feature amount_1d   = sum(amount) over 1d
    feature last_device = last(device) over 1d
    feature n_3         = count(*) over 3 events
}
"#;

/// Each source of a view over several gets events with keys from the same pools, so
/// the union meets in a key's state, and the spine probes around each source's events.
#[test]
fn generated_cases_exercise_a_view_over_two_sources() {
    let project = compile_text(UNION);
    let features = project.all_features();
    let (mut shared_keys, mut at_login) = (0, 0);
    for index in 1..=12 {
        let d = generated_case(&project, &features, index, 9, "ts").expect("case");
        let names: Vec<&str> = d.sources.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["pay", "logins"]);
        let events = |name: &str, time: &str| -> Vec<(Option<i64>, i64)> {
            let (_, batches) = d.sources.iter().find(|(n, _)| n == name).expect(name);
            ints(&batches[0], "user_id")
                .into_iter()
                .zip(
                    times(&batches[0], time)
                        .into_iter()
                        .map(|t| t.expect("time")),
                )
                .collect()
        };
        // The key pools' values (`values::key`), and null.
        let pooled = |k: &Option<i64>| k.is_none_or(|k| (1..=4).contains(&k) || k == 1001);
        let logins = events("logins", "at");
        assert!(logins.iter().all(|(k, _)| pooled(k)), "{logins:?}");
        let pay: HashSet<Option<i64>> = events("pay", "ts").iter().map(|(k, _)| *k).collect();
        shared_keys += logins.iter().filter(|(k, _)| pay.contains(k)).count();
        let spine: HashSet<(Option<i64>, i64)> = ints(&d.spine, "user_id")
            .into_iter()
            .zip(times(&d.spine, "ts").into_iter().map(|t| t.expect("time")))
            .collect();
        at_login += logins.iter().filter(|e| spine.contains(e)).count();
    }
    assert!(shared_keys > 0, "no login of a key that also paid");
    assert!(at_login > 0, "no spine row at a login");
}

#[test]
fn generated_cases_agree_on_a_view_over_two_sources() {
    let project = compile_text(UNION);
    let report = run(
        &project,
        &project.all_features(),
        None,
        24,
        23,
        &[&BatchExecutor, &StreamExecutor],
    );
    assert_agrees("a view over two sources", &report);
}

/// The fixtures of the column types (dates, decimals, lists and embeddings): every
/// generated case agrees on every path, and the list columns' generated values hold
/// what semantics.md tells apart: null lists, empty lists, null items, and lists of
/// equal length for `dot` and the element-wise `avg`.
#[test]
fn generated_cases_agree_on_dates_decimals_and_lists() {
    for fixture in ["dates", "decimals", "embeddings"] {
        let path = repo()
            .join("tests/fixtures")
            .join(format!("{fixture}.feat"));
        let text = std::fs::read_to_string(&path).expect("the fixture");
        let project = compile_text(&text);
        let report = run(
            &project,
            &project.all_features(),
            None,
            12,
            31,
            &[&BatchExecutor, &StreamExecutor],
        );
        assert_agrees(fixture, &report);
    }
    let text = std::fs::read_to_string(repo().join("tests/fixtures/embeddings.feat"))
        .expect("the fixture");
    let project = compile_text(&text);
    let features = project.all_features();
    let (mut null_lists, mut empty, mut null_items, mut pairs) = (0, 0, 0, 0);
    for index in 1..=12 {
        let case = generated_case(&project, &features, index, 31, "ts").expect("a case");
        for (_, batches) in &case.sources {
            for batch in batches {
                let emb = batch.column_by_name("emb").expect("emb").as_list::<i32>();
                let anchor = batch
                    .column_by_name("anchor")
                    .expect("anchor")
                    .as_list::<i32>();
                for row in 0..emb.len() {
                    if emb.is_null(row) {
                        null_lists += 1;
                        continue;
                    }
                    let items = emb.value(row);
                    empty += usize::from(items.is_empty());
                    null_items += items.null_count();
                    pairs +=
                        usize::from(anchor.is_valid(row) && anchor.value(row).len() == items.len());
                }
            }
        }
    }
    assert!(
        null_lists > 0 && empty > 0 && null_items > 0 && pairs > 0,
        "null lists {null_lists}, empty {empty}, null items {null_items}, equal pairs {pairs}"
    );
}

/// The checkout example (count windows, a view over two sources, chained lookups
/// with a delayed source, dates, decimals, lists and embeddings) agrees on its own
/// data and on generated cases, for every feature and for its service. The SQL
/// dialects refuse decimals, lists and lookups (E0040, E0041): they are not compared.
#[test]
fn the_checkout_example_agrees_on_its_data_and_generated_cases() {
    let project = compile_dir(&repo().join("examples/checkout"));
    let inputs = Inputs::default();
    let report = run(
        &project,
        &project.all_features(),
        Some(user_data(&inputs)),
        8,
        11,
        &[&BatchExecutor, &StreamExecutor],
    );
    assert_agrees("checkout", &report);
    assert_eq!(report.datasets.len(), 9, "your data and 8 cases");
    for service in &project.services {
        let report = run(
            &project,
            &service.features,
            None,
            4,
            13,
            &[&BatchExecutor, &StreamExecutor],
        );
        assert_agrees(&format!("checkout service {}", service.name), &report);
    }
}
