//! Snapshots of the streaming runtime: a runtime restored from a snapshot answers
//! every later ingest, read, metric and dead letter bit for bit like one that never
//! stopped (generated projects and data, then the public cases through `replay`),
//! and `restore` refuses, without panicking, bytes that are cut, damaged or from
//! another graph.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::{DataType as ArrowType, Int64Type};
use datafusion::arrow::record_batch::RecordBatch;
use featc::SourceFile;
use featc_runtime::stream::{
    FeatureVector, Keys, LatePolicy, Options, Read, RestoreError, Selection, SnapshotError,
    StreamError, StreamGraph, StreamRuntime,
};
use featc_runtime::value::Value;
use featc_test_support::gen::{case_strategy, GenCase};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

// SplitMix64, to draw the test's choices from one seed.
use featc_test_support::rng::SplitMix64 as Rng;

fn compile(feat: &str, features: &[String]) -> Result<StreamGraph, String> {
    let files = [SourceFile {
        name: "gen.feat".into(),
        text: feat.to_string(),
    }];
    let project = featc::compile(&files).map_err(|d| format!("does not compile: {d:?}"))?;
    let ids = features
        .iter()
        .map(|n| project.feature_by_name(n).ok_or(format!("no feature {n}")))
        .collect::<Result<Vec<_>, _>>()?;
    featc::lower::stream::lower_stream(&project, &ids).map_err(|e| e.to_string())
}

/// The cell of column `name` at `row` as the reader's key value (int64 or string).
fn cell(batch: &RecordBatch, name: &str, row: usize) -> Value {
    let Some(a) = batch.column_by_name(name) else {
        return Value::Null;
    };
    if row >= a.len() || a.is_null(row) {
        return Value::Null;
    }
    match a.data_type() {
        ArrowType::Int64 => Value::Int64(a.as_primitive::<Int64Type>().value(row)),
        ArrowType::Utf8 => Value::String(Arc::from(a.as_string::<i32>().value(row))),
        _ => Value::Null,
    }
}

/// A read's result with floats as their bits, so that comparing two is bit for bit.
fn shown(r: &Result<FeatureVector, StreamError>) -> String {
    match r {
        Err(e) => format!("error: {e}"),
        Ok(v) => v
            .features
            .iter()
            .map(|f| {
                let bits = |v: &Value| match v {
                    Value::Float64(x) => format!("f64 bits {:#x}", x.to_bits()),
                    v => format!("{v:?}"),
                };
                let value = match &f.value {
                    Value::List(l) => format!(
                        "list [{}] counts {:?}",
                        l.items.iter().map(bits).collect::<Vec<_>>().join(", "),
                        l.counts
                    ),
                    v => bits(v),
                };
                format!("{} = {value} ({:?})\n", f.name, f.status)
            })
            .collect(),
    }
}

/// One step both runtimes take.
#[derive(Debug, Clone)]
enum Step {
    Ingest {
        source: usize,
        rows: Vec<u32>,
    },
    Read {
        row: usize,
        from_clicks: bool,
        t: i64,
    },
    Compact,
    Hold(Option<i64>),
}

/// The steps of a session over `case`: every event once, in a seeded order (so late
/// events arise), in chunks of random size, with reads, compactions and read holds
/// in between.
fn steps(case: &GenCase, sources: &[(String, RecordBatch)], seed: u64) -> Vec<Step> {
    let mut rng = Rng::new(seed);
    let mut order: Vec<(usize, u32)> = sources
        .iter()
        .enumerate()
        .flat_map(|(s, (_, b))| (0..b.num_rows() as u32).map(move |r| (s, r)))
        .collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let second = 1_000_000i64;
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < order.len() {
        let source = order[pos].0;
        let len = 1 + rng.below(12) as usize;
        let mut rows = Vec::new();
        while pos < order.len() && order[pos].0 == source && rows.len() < len {
            rows.push(order[pos].1);
            pos += 1;
        }
        out.push(Step::Ingest { source, rows });
        for _ in 0..rng.below(3) {
            out.push(match rng.below(8) {
                0 => Step::Compact,
                1 => Step::Hold(match rng.below(3) {
                    0 => None,
                    _ => Some((rng.below(50) as i64 - 5) * second),
                }),
                _ => Step::Read {
                    row: rng.below(case.events.num_rows().max(case.clicks.num_rows()) as u64 + 1)
                        as usize,
                    from_clicks: rng.below(4) == 0,
                    t: (rng.below(50) as i64 - 5) * second + rng.below(3) as i64 - 1,
                },
            });
        }
    }
    out
}

/// Runs `step` on `rt`, returning what it shows (reads, or the ingest's error).
fn run(
    rt: &mut StreamRuntime,
    step: &Step,
    case: &GenCase,
    sources: &[(String, RecordBatch)],
) -> String {
    match step {
        Step::Ingest { source, rows } => {
            let (name, batch) = &sources[*source];
            let chunk = take_record_batch(batch, &UInt32Array::from(rows.clone())).expect("take");
            format!("{:?}", rt.ingest(name, &chunk))
        }
        Step::Compact => {
            rt.compact().unwrap();
            String::new()
        }
        Step::Hold(h) => {
            rt.set_read_hold(*h);
            String::new()
        }
        Step::Read {
            row,
            from_clicks,
            t,
        } => {
            let batch = if *from_clicks {
                &case.clicks
            } else {
                &case.events
            };
            let graph = rt.graph().clone();
            let mut keys: Vec<(String, Vec<Value>)> = Vec::new();
            for (_, op) in graph.aggregates() {
                if keys.iter().any(|(e, _)| *e == op.plan.entity) {
                    continue;
                }
                let key = op
                    .plan
                    .keys
                    .iter()
                    .map(|k| cell(batch, &k.column, *row))
                    .collect();
                keys.push((op.plan.entity.clone(), key));
            }
            let keys: Vec<(&str, &[Value])> = keys
                .iter()
                .map(|(e, k)| (e.as_str(), k.as_slice()))
                .collect();
            shown(&rt.read(&Read::new(Keys::ByEntity(&keys), Selection::All, *t)))
        }
    }
}

/// Everything else a runtime shows: its metrics and its dead letters.
fn observed(rt: &StreamRuntime) -> String {
    let dead: Vec<String> = rt
        .dead_letters()
        .batches()
        .iter()
        .map(|(s, b)| format!("{s}: {b:?}"))
        .collect();
    format!("{:?}\n{}", rt.metrics(), dead.join("\n"))
}

fn check_restore(case: &GenCase, policy: LatePolicy, split: u64, seed: u64) -> Result<(), String> {
    let graph = compile(&case.feat, &case.features)?;
    let options = Options {
        late_policy: policy,
        fold_run: case.replay.fold_run,
        ..Options::default()
    };
    let sources: Vec<(String, RecordBatch)> = graph
        .sources()
        .map(|(_, s)| {
            let b = if s.name == "clicks" {
                &case.clicks
            } else {
                &case.events
            };
            (s.name.clone(), b.clone())
        })
        .collect();
    let steps = steps(case, &sources, seed);
    let split = (split % (steps.len() as u64 + 1)) as usize;
    let mut a =
        StreamRuntime::with_options(graph.clone(), options.clone()).map_err(|e| e.to_string())?;
    let mut b =
        StreamRuntime::with_options(graph.clone(), options.clone()).map_err(|e| e.to_string())?;
    for (i, step) in steps.iter().enumerate() {
        if i == split {
            let bytes = b.snapshot().map_err(|e| e.to_string())?;
            b = StreamRuntime::restore(graph.clone(), options.clone(), &bytes)
                .map_err(|e| format!("restore: {e}"))?;
            if observed(&a) != observed(&b) {
                return Err(format!(
                    "right after restore:\n{}\nvs\n{}",
                    observed(&a),
                    observed(&b)
                ));
            }
            // A restored runtime snapshots to the same bytes: nothing was lost.
            if b.snapshot().map_err(|e| e.to_string())? != bytes {
                return Err("the restored runtime's snapshot differs".into());
            }
        }
        let (x, y) = (
            run(&mut a, step, case, &sources),
            run(&mut b, step, case, &sources),
        );
        if x != y {
            return Err(format!("step {i} ({step:?}):\n{x}\nvs restored\n{y}"));
        }
        if observed(&a) != observed(&b) {
            return Err(format!(
                "after step {i} ({step:?}):\n{}\nvs restored\n{}",
                observed(&a),
                observed(&b)
            ));
        }
    }
    let (sa, sb) = (
        a.snapshot().map_err(|e| e.to_string())?,
        b.snapshot().map_err(|e| e.to_string())?,
    );
    if sa != sb {
        return Err("the final states differ (their snapshots do)".into());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_restored_runtime_goes_on_like_an_uninterrupted_one(
        case in case_strategy(),
        dead_letter in any::<bool>(),
        split in any::<u64>(),
        seed in any::<u64>(),
    ) {
        let policy = if dead_letter { LatePolicy::DeadLetter } else { LatePolicy::Apply };
        if let Err(diff) = check_restore(&case, policy, split, seed) {
            prop_assert!(false, "{diff}\n--- project ---\n{}", case.feat);
        }
    }
}

// ---------------------------------------------------------------------------------
// The public cases: a replay restarted from a snapshot gives the same training set.

const HOUR: i64 = 3_600_000_000;

async fn check_case_restarts(case: &str) {
    let dir = featc_test_support::paths::cases_dir().join(case);
    let project = featc_test_support::project::compile_dir(&dir);
    let loaded = featc_test_support::stream::load(project, &dir.join("spine.parquet")).await;
    let graph = featc::lower::stream::lower_stream(&loaded.project, &loaded.features)
        .expect("lower stream");
    let events: u64 = loaded
        .sources
        .iter()
        .flat_map(|(_, b)| b.iter().map(|b| b.num_rows() as u64))
        .sum();
    for (disorder, batch_size, fold_run) in [(0, 1000, 16), (HOUR, 97, 3)] {
        let opts = featc_runtime::stream::ReplayOptions {
            disorder_us: disorder,
            batch_size,
            seed: 7,
            fold_run,
            ..Default::default()
        };
        let (plain, _) = featc_runtime::stream::replay(
            graph.clone(),
            &loaded.sources,
            &loaded.spine,
            "ts",
            &Selection::All,
            &opts,
        )
        .expect("replay");
        for restart in [1, events / 3, events / 2 + 1, events] {
            let opts = featc_runtime::stream::ReplayOptions {
                restart_after: Some(restart),
                ..opts.clone()
            };
            let (restarted, report) = featc_runtime::stream::replay(
                graph.clone(),
                &loaded.sources,
                &loaded.spine,
                "ts",
                &Selection::All,
                &opts,
            )
            .expect("replay with a restart");
            assert_eq!(report.events, events);
            if let Err(diff) = featc_test_support::compare::bit_equal(&restarted, &plain) {
                panic!("{case}, {opts:?}: restarted vs uninterrupted: {diff}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_replay_restarted_from_a_snapshot_is_unchanged() {
    check_case_restarts("synthetic").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marketplace_replay_restarted_from_a_snapshot_is_unchanged() {
    check_case_restarts("marketplace").await;
}

// ---------------------------------------------------------------------------------
// Refusals: cut, damaged and foreign snapshots.

const SMALL: &str = "source events {\n    time ts\n    columns {\n        k: int64?\n        s: string?\n        f: float64?\n    }\n    lateness 5s\n}\n\
entity user { key k: int64 }\n\
view v from events by user {\n    feature n = count(*) over 10s\n    feature total = sum(f)\n    feature last_s = last(s) over 1h\n    feature kinds = count_distinct(s) over 1h\n}\n";

fn small_graph(feat: &str) -> StreamGraph {
    let names = ["n", "total", "last_s", "kinds"].map(String::from);
    compile(feat, &names).expect("compiles")
}

/// The columns of `SMALL`'s source.
fn small_schema() -> Arc<datafusion::arrow::datatypes::Schema> {
    use datafusion::arrow::datatypes::{Field, Schema, TimeUnit};
    Arc::new(Schema::new(vec![
        Field::new(
            "ts",
            ArrowType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("k", ArrowType::Int64, true),
        Field::new("s", ArrowType::Utf8, true),
        Field::new("f", ArrowType::Float64, true),
    ]))
}

/// A runtime of `SMALL` after a few events (with a late one and a null key).
fn small_runtime(options: Options) -> StreamRuntime {
    use datafusion::arrow::array::{
        Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
    };
    let mut rt = StreamRuntime::with_options(small_graph(SMALL), options).expect("runtime");
    let schema = small_schema();
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(TimestampMicrosecondArray::from(vec![
                1_000_000, 20_000_000, 3_000_000, 21_000_000,
            ])),
            Arc::new(Int64Array::from(vec![Some(1), Some(2), Some(1), None])),
            Arc::new(StringArray::from(vec![
                Some("a"),
                Some("b"),
                None,
                Some("a"),
            ])),
            Arc::new(Float64Array::from(vec![
                Some(0.1),
                Some(-0.0),
                Some(2.5),
                None,
            ])),
        ],
    )
    .expect("batch");
    rt.ingest("events", &batch).expect("ingest");
    rt
}

#[test]
fn every_truncation_and_byte_flip_is_refused_without_panicking() {
    let options = Options {
        late_policy: LatePolicy::DeadLetter,
        ..Options::default()
    };
    let rt = small_runtime(options.clone());
    assert_eq!(rt.metrics().dead_lettered, 1);
    let bytes = rt.snapshot().expect("snapshot");
    let graph = small_graph(SMALL);
    let restored = StreamRuntime::restore(graph.clone(), options.clone(), &bytes).expect("restore");
    assert_eq!(restored.metrics(), rt.metrics());
    for len in 0..bytes.len() {
        match StreamRuntime::restore(graph.clone(), options.clone(), &bytes[..len]) {
            Err(RestoreError::Snapshot(SnapshotError::Truncated { .. })) => {}
            Err(RestoreError::Snapshot(SnapshotError::NotASnapshot)) if len == 0 => {}
            other => panic!("cut to {len} of {} bytes: {:?}", bytes.len(), other.err()),
        }
    }
    let mut rng = Rng::new(1);
    for _ in 0..3000 {
        let mut damaged = bytes.clone();
        let at = rng.below(bytes.len() as u64) as usize;
        damaged[at] ^= 1 << rng.below(8);
        let r = StreamRuntime::restore(graph.clone(), options.clone(), &damaged);
        assert!(r.is_err(), "a flip at byte {at} was taken");
    }
}

/// A body that passes its checksum but was damaged before it was framed (a faulty
/// writer) is refused or taken, never a panic.
#[test]
fn a_damaged_body_with_a_valid_checksum_never_panics() {
    let options = Options::default();
    let bytes = small_runtime(options.clone()).snapshot().expect("snapshot");
    let graph = small_graph(SMALL);
    let mut rng = Rng::new(2);
    let mut refused = 0;
    for _ in 0..3000 {
        let mut damaged = bytes.clone();
        for _ in 0..1 + rng.below(3) {
            let at = 28 + rng.below(bytes.len() as u64 - 28) as usize;
            damaged[at] ^= 1 << rng.below(8);
        }
        let sum = xxhash_rust::xxh3::xxh3_64(&damaged[28..]);
        damaged[20..28].copy_from_slice(&sum.to_le_bytes());
        if StreamRuntime::restore(graph.clone(), options.clone(), &damaged).is_err() {
            refused += 1;
        }
    }
    assert!(refused > 0);
}

#[test]
fn the_header_is_checked_field_by_field() {
    let options = Options::default();
    let bytes = small_runtime(options.clone()).snapshot().expect("snapshot");
    let graph = small_graph(SMALL);
    let restore = |b: &[u8]| StreamRuntime::restore(graph.clone(), options.clone(), b).err();
    let mut other = bytes.clone();
    other[0] = b'X';
    assert_eq!(
        restore(&other),
        Some(RestoreError::Snapshot(SnapshotError::NotASnapshot))
    );
    let mut other = bytes.clone();
    other[8] = 9;
    assert_eq!(
        restore(&other),
        Some(RestoreError::Snapshot(SnapshotError::Version {
            found: 9,
            expected: featc_runtime::snapshot::VERSION
        }))
    );
    let mut other = bytes.clone();
    other.push(0);
    assert!(matches!(
        restore(&other),
        Some(RestoreError::Snapshot(SnapshotError::TrailingBytes { .. }))
    ));
    let mut other = bytes.clone();
    let last = other.len() - 1;
    other[last] ^= 0x40;
    assert_eq!(
        restore(&other),
        Some(RestoreError::Snapshot(SnapshotError::Checksum))
    );
    assert!(restore(&bytes).is_none());
}

#[test]
fn a_snapshot_of_one_graph_is_refused_by_another() {
    let options = Options::default();
    let bytes = small_runtime(options.clone()).snapshot().expect("snapshot");
    // Another window for `n`: only `n`'s group differs (all four share it).
    let other = SMALL.replace("count(*) over 10s", "count(*) over 20s");
    let err = StreamRuntime::restore(small_graph(&other), options.clone(), &bytes).err();
    assert_eq!(
        err,
        Some(RestoreError::Snapshot(SnapshotError::OtherGraph {
            features: ["kinds", "last_s", "n", "total"].map(String::from).to_vec()
        }))
    );
    assert!(err
        .map(|e| e.to_string())
        .unwrap_or_default()
        .contains("the snapshot was taken by a different graph"));
    // Another lateness: the source differs, so every feature reading it does.
    let other = SMALL.replace("lateness 5s", "lateness 6s");
    assert!(matches!(
        StreamRuntime::restore(small_graph(&other), options.clone(), &bytes),
        Err(RestoreError::Snapshot(SnapshotError::OtherGraph { .. }))
    ));
    // Only spans move (a comment above everything): the same graph for state.
    let moved = format!("// a comment\n\n{SMALL}");
    let restored = StreamRuntime::restore(small_graph(&moved), options.clone(), &bytes);
    assert!(restored.is_ok(), "{:?}", restored.err());
    // Options that change the state are refused.
    let other_options = Options {
        fold_run: 3,
        ..Options::default()
    };
    assert!(matches!(
        StreamRuntime::restore(small_graph(SMALL), other_options, &bytes),
        Err(RestoreError::Snapshot(SnapshotError::OtherOptions { .. }))
    ));
}

/// count_distinct past its small vector (a hash table with removals behind it) and a
/// buffer that grew then shrank: the restored runtime accounts the same memory and
/// goes on to the same state.
#[test]
fn a_large_distinct_set_and_a_shrunk_buffer_come_back_the_same() {
    use datafusion::arrow::array::{
        Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
    };
    let schema = small_schema();
    let batch = |from: i64, n: i64, step_s: i64| {
        let ts: Vec<i64> = (0..n).map(|i| (from + i * step_s) * 1_000_000).collect();
        let s: Vec<String> = (0..n)
            .map(|i| format!("value number {}", from + i))
            .collect();
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(TimestampMicrosecondArray::from(ts)),
                Arc::new(Int64Array::from(vec![1; n as usize])),
                Arc::new(StringArray::from(s)),
                Arc::new(Float64Array::from(vec![0.5; n as usize])),
            ],
        )
        .expect("batch")
    };
    let options = Options {
        fold_run: 4,
        ..Options::default()
    };
    let mut a = StreamRuntime::with_options(small_graph(SMALL), options.clone()).expect("runtime");
    a.ingest("events", &batch(0, 300, 10)).expect("ingest");
    // An hour later most of those leave the window: the table has removals behind it.
    a.ingest("events", &batch(5000, 30, 60)).expect("ingest");
    let bytes = a.snapshot().expect("snapshot");
    let mut b = StreamRuntime::restore(small_graph(SMALL), options, &bytes).expect("restore");
    assert_eq!(a.metrics(), b.metrics());
    for (from, n) in [(7000, 50), (9000, 400), (20000, 5)] {
        a.ingest("events", &batch(from, n, 7)).expect("ingest");
        b.ingest("events", &batch(from, n, 7)).expect("ingest");
        assert_eq!(a.metrics(), b.metrics());
        let t = (from + 7 * n) * 1_000_000;
        let key = [Value::Int64(1)];
        assert_eq!(
            shown(&a.read(&Read::new(Keys::Entity(&key), Selection::All, t))),
            shown(&b.read(&Read::new(Keys::Entity(&key), Selection::All, t)))
        );
    }
    assert!(a.snapshot().expect("snapshot") == b.snapshot().expect("snapshot"));
}

/// List features (`last_k`, `first_k`, `top_k`, windowed and lifetime) persist their
/// states: a restored runtime answers the same lists, and goes on to the same state
/// as events arrive and leave the window.
#[test]
fn list_states_come_back_the_same() {
    use datafusion::arrow::array::{
        Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
    };
    const LISTS: &str = "source events {\n    time ts\n    columns {\n        k: int64?\n        s: string?\n        f: float64?\n    }\n    lateness 5s\n}\n\
entity user { key k: int64 }\n\
view v from events by user {\n    feature recent = last_k(s, 3) over 1m\n    feature firsts = first_k(f, 2)\n    feature common = top_k(s, 2) over 1m\n    feature floats = top_k(f, 3)\n}\n";
    let names = ["recent", "firsts", "common", "floats"].map(String::from);
    let graph = compile(LISTS, &names).expect("compiles");
    let schema = small_schema();
    let batch = |from: i64, n: i64| {
        let ts: Vec<i64> = (0..n).map(|i| (from + i) * 1_000_000).collect();
        let s: Vec<Option<String>> = (0..n)
            .map(|i| (i % 5 != 4).then(|| format!("v{}", (from + i) % 3)))
            .collect();
        let f: Vec<Option<f64>> = (0..n)
            .map(|i| match (from + i) % 4 {
                0 => Some(-0.0),
                1 => Some(0.0),
                2 => Some(f64::NAN),
                _ => None,
            })
            .collect();
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(TimestampMicrosecondArray::from(ts)),
                Arc::new(Int64Array::from(vec![1; n as usize])),
                Arc::new(StringArray::from(s)),
                Arc::new(Float64Array::from(f)),
            ],
        )
        .expect("batch")
    };
    let mut a = StreamRuntime::new(graph.clone()).expect("runtime");
    a.ingest("events", &batch(0, 100)).expect("ingest");
    let bytes = a.snapshot().expect("snapshot");
    let mut b = StreamRuntime::restore(graph, Options::default(), &bytes).expect("restore");
    let key = [Value::Int64(1)];
    let read = |rt: &mut StreamRuntime, t: i64| {
        shown(&rt.read(&Read::new(
            Keys::Entity(&key),
            Selection::All,
            t * 1_000_000,
        )))
    };
    assert_eq!(read(&mut a, 99), read(&mut b, 99));
    // At 99s: the minute (39s, 99s] holds 60 events, 48 with a string (16 of each);
    // the latest, at 99s, has none.
    let text = read(&mut b, 99);
    assert!(
        text.contains(r#"recent = list [String("v2"), String("v1"), String("v0")]"#),
        "{text}"
    );
    assert!(
        text.contains(r#"common = list [String("v0"), String("v1")] counts Some([16, 16])"#),
        "{text}"
    );
    // -0.0 and +0.0 are one value, listed as +0.0; NaN is above every number.
    assert!(
        text.contains(
            "floats = list [f64 bits 0x0, f64 bits 0x7ff8000000000000] counts Some([50, 25])"
        ),
        "{text}"
    );
    assert!(
        text.contains("firsts = list [f64 bits 0x8000000000000000, f64 bits 0x0]"),
        "{text}"
    );
    assert_eq!(a.metrics(), b.metrics());
    for (from, n) in [(100, 30), (400, 10)] {
        a.ingest("events", &batch(from, n)).expect("ingest");
        b.ingest("events", &batch(from, n)).expect("ingest");
        assert_eq!(a.metrics(), b.metrics());
        for t in [from + n, from + n + 30, from + n + 120] {
            assert_eq!(read(&mut a, t), read(&mut b, t));
        }
    }
    assert!(a.snapshot().expect("snapshot") == b.snapshot().expect("snapshot"));
}
