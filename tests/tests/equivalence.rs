//! The equivalence the project exists for: on generated projects and data, the
//! reference interpreter, the batch plan (at DataFusion batch sizes 2, 7 and the
//! default) and a streaming replay (events disordered within the declared lateness,
//! ingested in random chunks; once in memory and once with entity states in a disk
//! tier with a cache of almost nothing, crashing back to a checkpoint for half the
//! cases) give the same training set, bit for bit.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::provider_as_source;
use datafusion::physical_plan::ExecutionPlan;
use featc::ir::{FeatureId, Project};
use featc::verify::RunError;
use featc::SourceFile;
use featc_runtime::reference::{evaluate, SpineInput};
use featc_runtime::stream::{replay, MemoryStore, ReplayOptions, ReplayReport, Selection, Tier};
use featc_test_support::gen::{case_strategy, GenCase};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

use featc_test_support::compare::bit_equal;

/// DataFusion's default batch size, spelled out because the in-memory helper splits
/// the events into tables of that many rows.
pub(crate) const DEFAULT_BATCH_SIZE: usize = 8192;

pub(crate) fn compile(case: &GenCase) -> Result<(Project, Vec<FeatureId>), String> {
    let files = [SourceFile {
        name: "gen.feat".into(),
        text: case.feat.clone(),
    }];
    let project =
        featc::compile(&files).map_err(|d| format!("generated project does not compile: {d:?}"))?;
    let ids = case
        .features
        .iter()
        .map(|name| {
            project
                .feature_by_name(name)
                .ok_or_else(|| format!("no feature {name}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((project, ids))
}

/// The generated sources that the requested features read, by name (a replay refuses
/// data for a source its graph does not have).
fn used_sources(
    project: &Project,
    ids: &[FeatureId],
    case: &GenCase,
) -> Vec<(String, RecordBatch)> {
    featc_runtime::io::sources_of(project, ids)
        .into_iter()
        .map(|s| {
            let batch = match s.name.as_str() {
                "clicks" => &case.clicks,
                "taps" => &case.taps,
                _ => &case.events,
            };
            (s.name.clone(), batch.clone())
        })
        .collect()
}

pub(crate) fn reference(
    project: &Project,
    ids: &[FeatureId],
    case: &GenCase,
) -> Result<RecordBatch, RunError> {
    let sources: HashMap<String, Vec<RecordBatch>> = used_sources(project, ids, case)
        .into_iter()
        .map(|(n, b)| (n, vec![b]))
        .collect();
    let spine = [case.spine.clone()];
    evaluate(
        project,
        ids,
        &sources,
        SpineInput {
            batches: &spine,
            time_column: "ts",
        },
    )
    .map_err(|e| RunError::of_reference(project, &e))
}

pub(crate) fn batch(
    project: &Project,
    ids: &[FeatureId],
    case: &GenCase,
    size: usize,
) -> Result<RecordBatch, RunError> {
    batch_with_plan(project, ids, case, size).map(|(_, batch)| batch)
}

/// `batch`, with the physical plan it ran (its metrics read after the run).
pub(crate) fn batch_with_plan(
    project: &Project,
    ids: &[FeatureId],
    case: &GenCase,
    size: usize,
) -> Result<(Arc<dyn ExecutionPlan>, RecordBatch), RunError> {
    let events = used_sources(project, ids, case)
        .into_iter()
        .map(|(n, b)| {
            let source = project
                .sources
                .iter()
                .find(|s| s.name == n)
                .ok_or_else(|| format!("no source {n}"))?;
            let b = featc_test_support::events::events_in_micros(&b, source)?;
            Ok((n, b))
        })
        .collect::<Result<HashMap<_, _>, String>>()?;
    featc_test_support::runtime::runtime().block_on(training_set_in_memory(
        project,
        ids,
        &events,
        &case.spine,
        size,
    ))
}

/// `featc_test_support::batch::training_set_in_memory`, its failure kept as data, and
/// the physical plan it ran.
async fn training_set_in_memory(
    project: &Project,
    ids: &[FeatureId],
    events: &HashMap<String, RecordBatch>,
    spine: &RecordBatch,
    size: usize,
) -> Result<(Arc<dyn ExecutionPlan>, RecordBatch), RunError> {
    let ctx = featc_runtime::batch::session_context(featc_test_support::batch::config(Some(size)));
    let mut tables = HashMap::new();
    for (name, batch) in events {
        tables.insert(
            name.clone(),
            featc_test_support::batch::memory_table(batch, size)?,
        );
    }
    let spine = featc_runtime::io::Spine {
        schema: spine.schema(),
        batches: vec![spine.clone()],
    };
    let spine_table = spine.provider().map_err(|e| e.to_string())?;
    let table_of = |s: &featc::ir::Source| provider_as_source(Arc::clone(&tables[&s.name]));
    let plan = featc::lower::batch::lower_batch(
        project,
        ids,
        &table_of,
        provider_as_source(spine_table),
        "ts",
    )
    .map_err(|e| e.to_string())?;
    let (physical, stream) = featc_runtime::batch::execute(&ctx, plan)
        .await
        .map_err(|e| RunError::of_plan(&e))?;
    let schema = stream.schema();
    let batches = datafusion::physical_plan::common::collect(stream)
        .await
        .map_err(|e| RunError::of_plan(&e))?;
    let batch = concat_batches(&schema, &batches).map_err(|e| RunError::Other(e.to_string()))?;
    Ok((physical, batch))
}

pub fn stream(
    project: &Project,
    ids: &[FeatureId],
    case: &GenCase,
) -> Result<RecordBatch, RunError> {
    stream_with(project, ids, case, ReplayOptions::default()).map(|(out, _)| out)
}

/// The stream path with entity states in a disk tier (over an in-memory store) whose
/// cache holds nothing, about one entity or a few (drawn from the case's seed), and
/// for half the seeds a "crash" half way: a checkpoint, two more ingest batches whose
/// evictions put newer states in the store, then a restore from the checkpoint over
/// that store and those batches again (`ReplayOptions::restart_after`).
pub fn stream_tiered(
    project: &Project,
    ids: &[FeatureId],
    case: &GenCase,
) -> Result<RecordBatch, RunError> {
    let seed = case.replay.seed;
    let tier = Tier {
        store: Arc::new(MemoryStore::default()),
        cache_bytes: [0, 1 << 12, 1 << 15][(seed % 3) as usize],
    };
    let events = (case.events.num_rows() + case.clicks.num_rows() + case.taps.num_rows()) as u64;
    let restart_after = seed.is_multiple_of(2).then_some(events / 2);
    // The tier's counters start again with a restored runtime, which may have
    // nothing left to ingest: only a run without the crash must show its evictions.
    let evicting = tier.cache_bytes == 0 && restart_after.is_none();
    let opts = ReplayOptions {
        tier: Some(tier),
        restart_after,
        ..ReplayOptions::default()
    };
    let (out, report) = stream_with(project, ids, case, opts)?;
    // With no room at all, every entity pushed goes to the store and comes back.
    if evicting && report.metrics.entities > 0 {
        let tier = report.tier;
        if tier.evictions == 0 || tier.held != 0 {
            return Err(RunError::Other(format!(
                "a cache of 0 bytes evicted or loaded nothing: {tier:?}"
            )));
        }
    }
    Ok(out)
}

fn stream_with(
    project: &Project,
    ids: &[FeatureId],
    case: &GenCase,
    opts: ReplayOptions,
) -> Result<(RecordBatch, ReplayReport), RunError> {
    let graph = featc::lower::stream::lower_stream(project, ids).map_err(|e| e.to_string())?;
    let opts = ReplayOptions {
        disorder_us: case.replay.disorder_us,
        batch_size: case.replay.batch_size,
        seed: case.replay.seed,
        fold_run: case.replay.fold_run,
        ..opts
    };
    let sources: Vec<(String, Vec<RecordBatch>)> = used_sources(project, ids, case)
        .into_iter()
        .map(|(n, b)| (n, vec![b]))
        .collect();
    let (out, report) = replay(graph, &sources, &case.spine, "ts", &Selection::All, &opts)
        .map_err(|e| RunError::of_stream(&e))?;
    if report.metrics.late != 0 {
        return Err(RunError::Other(format!(
            "{} late events in a replay within the lateness",
            report.metrics.late
        )));
    }
    Ok((out, report))
}

/// Runs every path on `case` and returns the first difference from the reference.
/// When the reference fails (an integer sum that overflows int64 at some spine row),
/// every other path must fail too, with the same computation failure at the same
/// place (`RunError::agrees_with`).
pub(crate) fn check(case: &GenCase) -> Result<(), String> {
    let (project, ids) = compile(case)?;
    let expected = match reference(&project, &ids, case) {
        Ok(batch) => batch,
        Err(error) => return check_all_fail(&project, &ids, case, &error),
    };
    for size in [2, 7, DEFAULT_BATCH_SIZE] {
        let actual =
            batch(&project, &ids, case, size).map_err(|e| format!("batch (size {size}): {e}"))?;
        bit_equal(&actual, &expected)
            .map_err(|d| format!("batch (size {size}) vs reference: {d}"))?;
    }
    let actual = stream(&project, &ids, case).map_err(|e| format!("stream: {e}"))?;
    bit_equal(&actual, &expected)
        .map_err(|d| format!("stream ({:?}) vs reference: {d}", case.replay))?;
    let actual =
        stream_tiered(&project, &ids, case).map_err(|e| format!("stream (disk tier): {e}"))?;
    bit_equal(&actual, &expected).map_err(|d| {
        format!(
            "stream on a disk tier ({:?}) vs reference: {d}",
            case.replay
        )
    })
}

fn check_all_fail(
    project: &Project,
    ids: &[FeatureId],
    case: &GenCase,
    error: &RunError,
) -> Result<(), String> {
    let alike = |path: &str, run: Result<RecordBatch, RunError>| match run {
        Ok(_) => Err(format!(
            "{path} returned a table where the reference failed: {error}"
        )),
        Err(failed) if failed.agrees_with(error) => Ok(()),
        Err(failed) => Err(format!(
            "{path} failed otherwise than the reference: {failed:?}\nthe reference: {error:?}"
        )),
    };
    for size in [2, 7, DEFAULT_BATCH_SIZE] {
        alike(
            &format!("batch (size {size})"),
            batch(project, ids, case, size),
        )?;
    }
    alike("stream", stream(project, ids, case))?;
    alike("stream (disk tier)", stream_tiered(project, ids, case))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn reference_batch_and_stream_agree_bit_for_bit(case in case_strategy()) {
        if let Err(diff) = check(&case) {
            prop_assert!(false, "{diff}\n--- project ---\n{}", case.feat);
        }
    }
}

/// A hand-made case through `check`: events of one user at `ts` (µs) with `i` and `f`
/// (also `sql_equivalence`'s).
/// The events of a hand-made case: source `events` of `hand_case`'s project.
pub(crate) fn hand_events_schema() -> Arc<Schema> {
    use datafusion::arrow::datatypes::{DataType, TimeUnit};
    let ts_type = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("ts", ts_type, false),
        Field::new("k", DataType::Int64, true),
        Field::new("sk", DataType::Utf8, true),
        Field::new("i", DataType::Int64, true),
        Field::new("f", DataType::Float64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("b", DataType::Boolean, true),
    ]))
}

pub(crate) fn hand_case(
    feat_features: &str,
    events: &[(i64, Option<i64>, Option<f64>)],
    spine_times: &[i64],
) -> GenCase {
    use datafusion::arrow::array::{
        ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
    };
    use datafusion::arrow::datatypes::{DataType, TimeUnit};
    let feat = format!(
        "source events {{ time ts columns {{ k: int64? sk: string? i: int64? f: float64? s: string? b: bool? }} }}\n\
         entity user {{ key k: int64 }}\nview v from events by user {{\n    let ratio = f / i\n{feat_features}}}\n"
    );
    let ts_type = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let n = events.len();
    let schema = hand_events_schema();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMicrosecondArray::from(events.iter().map(|e| e.0).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
        Arc::new(Int64Array::from(vec![Some(1); n])),
        Arc::new(StringArray::from(vec![None::<&str>; n])),
        Arc::new(Int64Array::from(
            events.iter().map(|e| e.1).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            events.iter().map(|e| e.2).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(vec![None::<&str>; n])),
        Arc::new(BooleanArray::from(vec![None; n])),
    ];
    let events = RecordBatch::try_new(schema, columns).expect("events");
    let spine_schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, false),
        Field::new("ts", ts_type, false),
    ]));
    let spine = RecordBatch::try_new(
        spine_schema,
        vec![
            Arc::new(Int64Array::from(vec![1; spine_times.len()])),
            Arc::new(TimestampMicrosecondArray::from(spine_times.to_vec()).with_timezone("UTC")),
        ],
    )
    .expect("spine");
    let features = feat_features
        .lines()
        .filter_map(|l| l.trim().strip_prefix("feature "))
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
        .collect();
    GenCase {
        feat,
        clicks: events.slice(0, 0),
        taps: featc_test_support::gen::taps_batch(&events.slice(0, 0)),
        events,
        spine,
        features,
        lateness_us: 0,
        replay: featc_test_support::gen::ReplaySettings {
            disorder_us: 0,
            batch_size: 1,
            seed: 0,
            fold_run: 1,
        },
    }
}

/// Expiry (semantics.md, "Online values"): users whose every window and ttl passed
/// are read on the boundary and past it, forgotten mid-replay (in memory and from a
/// disk tier that holds nothing in memory), and come back with new events; every path
/// agrees. Retention: max(2s, 1s + 500ms, 1500ms + 1µs, ttl 3s) = 3s.
#[test]
fn entities_past_their_retention_agree_and_are_forgotten() {
    use datafusion::arrow::array::{ArrayRef, Int64Array};
    const S: i64 = 1_000_000;
    let events: [(i64, i64); 7] = [
        (0, 1),
        (S, 1),
        (2 * S, 2),
        (5 * S, 2),
        (9 * S, 2),
        (12 * S, 1),
        (20 * S, 3),
    ];
    let reads: [(i64, i64); 10] = [
        (1, 4 * S - 1),
        (1, 4 * S),
        (1, 6 * S),
        (2, 8 * S),
        (2, 12 * S - 1),
        (2, 12 * S),
        (1, 12 * S),
        (1, 15 * S),
        (2, 20 * S),
        (3, 20 * S),
    ];
    let rows: Vec<_> = events
        .iter()
        .map(|&(t, _)| (t, Some(t / S), Some(t as f64 / S as f64)))
        .collect();
    let times: Vec<i64> = reads.iter().map(|r| r.1).collect();
    let mut case = hand_case(
        "    feature n = count(*) over 2s\n    feature s = sum(f) over 1s offset 500ms\n    feature m = max(i) over 1500ms exclusive\n    ttl 3s\n",
        &rows,
        &times,
    );
    let keyed = |batch: &RecordBatch, col: usize, keys: Vec<i64>| {
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        columns[col] = Arc::new(Int64Array::from(keys));
        RecordBatch::try_new(batch.schema(), columns).expect("keyed")
    };
    case.events = keyed(&case.events, 1, events.iter().map(|e| e.1).collect());
    case.spine = keyed(&case.spine, 0, reads.iter().map(|r| r.0).collect());
    if let Err(diff) = check(&case) {
        panic!("{diff}");
    }
    let (project, ids) = compile(&case).expect("compile");
    for cache_bytes in [None, Some(0)] {
        let tier = cache_bytes.map(|cache_bytes| Tier {
            store: Arc::new(MemoryStore::default()),
            cache_bytes,
        });
        let opts = ReplayOptions {
            tier,
            ..ReplayOptions::default()
        };
        let (_, report) = stream_with(&project, &ids, &case, opts).expect("stream");
        assert!(
            report.metrics.expired_entities > 0,
            "{cache_bytes:?}: {:?}",
            report.metrics
        );
    }
}

/// Asserts that an online read of `key` at `at` from `rt` gives, for each of `names`,
/// row `row` of `expected` (the reference's training set), bit for bit; `what` names
/// the read in a failure.
#[allow(clippy::too_many_arguments)]
pub(crate) fn assert_online_read(
    rt: &featc_runtime::stream::StreamRuntime,
    project: &Project,
    expected: &RecordBatch,
    row: usize,
    key: &[featc_runtime::value::Value],
    at: i64,
    names: &[&str],
    what: &str,
) {
    use featc_runtime::stream::{Keys, Read};
    use featc_runtime::value::Value;
    let got = rt
        .read(&Read::new(
            Keys::Entity(key),
            Selection::Features(names),
            at,
        ))
        .expect("a read");
    for name in names {
        let column = expected.column_by_name(name).expect("a column");
        let ty = project
            .feature_by_name(name)
            .map(|id| project.feature(id).ty)
            .expect("a feature");
        let want = featc_runtime::row::Cells::new(column, ty)
            .expect("cells")
            .get(row);
        let have = &got.get(name).expect("read").value;
        let same = match (have, &want) {
            (Value::Float64(h), Value::Float64(w)) => h.to_bits() == w.to_bits(),
            (h, w) => h == w,
        };
        assert!(
            same,
            "{name} of {what} at {at}: {have:?}, expected {want:?}"
        );
    }
}

/// `batch` written to a Parquet file (`name`) and read back: what every path then
/// reads is the file's, NaN bits and all.
pub(crate) fn through_parquet(batch: &RecordBatch, name: &str) -> RecordBatch {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("parquet_round_trips");
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    // A file of its own per call: tests of one binary run at once.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("{name}-{}-{call}.parquet", std::process::id()));
    let file = std::fs::File::create(&path).expect("a Parquet file");
    let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)
        .expect("a writer");
    writer.write(batch).expect("written");
    writer.close().expect("closed");
    let read = featc_test_support::parquet::read_parquet(&path);
    let _ = std::fs::remove_file(&path);
    read
}

/// Checks that reference, batch and stream agree on `case`, then returns a lookup of
/// the reference's int64 feature columns by name.
pub(crate) fn agreed_int_columns(case: &GenCase) -> impl Fn(&str) -> Vec<i64> {
    if let Err(diff) = check(case) {
        panic!("{diff}");
    }
    let (project, ids) = compile(case).expect("compiles");
    let out = reference(&project, &ids, case).expect("reference");
    move |name: &str| {
        let c = out.column_by_name(name).expect("column");
        c.as_any()
            .downcast_ref::<datafusion::arrow::array::Int64Array>()
            .expect("int64")
            .values()
            .to_vec()
    }
}

/// Regression: float comparisons in row expressions. The reference compared by
/// IEEE's partial order while the batch and streaming paths (DataFusion) treat
/// `-0.0 = +0.0` and NaN as equal to itself and above +inf; all three now agree.
/// DataFusion's float `in` list tested identity (`-0.0 in (0.0)` was false) until
/// `in` was lowered to its SQL definition.
#[test]
fn float_comparisons_agree_on_signed_zero_and_nan() {
    let case = hand_case(
        "    feature neg_zero_below = count_if(ratio < 0)\n\
         \x20   feature neg_zero_equal = count_if(ratio = 0)\n\
         \x20   feature nan_above = count_if(f > 1.0)\n\
         \x20   feature nan_in = count(*) where f in (1.0, 2.0)\n\
         \x20   feature zero_in = count(*) where f in (0.0, 5.0)\n\
         \x20   feature zero_not_in = count(*) where f not in (-0.0)\n",
        &[
            (0, Some(-1), Some(0.0)),
            (1, Some(1), Some(f64::NAN)),
            (2, Some(2), Some(-0.0)),
        ],
        &[0, 1, 2, 5],
    );
    let col = agreed_int_columns(&case);
    assert_eq!(col("neg_zero_below"), vec![0, 0, 0, 0]);
    assert_eq!(col("neg_zero_equal"), vec![1, 1, 2, 2]);
    assert_eq!(col("nan_above"), vec![0, 1, 1, 1]);
    assert_eq!(col("nan_in"), vec![0, 0, 0, 0]);
    // `in` is `=` on each item (SQL's definition), so signed zeros are in.
    assert_eq!(col("zero_in"), vec![1, 1, 2, 2]);
    assert_eq!(col("zero_not_in"), vec![0, 1, 1, 1]);
}

/// Times at the ends of int64: `t - W` must not overflow on any path (an event at
/// `i64::MIN + 1` is in a lifetime window read at `i64::MAX`, out of a 1s one).
#[test]
fn windows_at_the_ends_of_time_agree() {
    let case = hand_case(
        "    feature n = count(*) over 1s\n    feature l = last(f)\n    feature s = sum(f) over 2s\n",
        &[(i64::MIN + 1, Some(1), Some(1.0)), (i64::MAX - 1, Some(1), Some(2.0)), (0, Some(1), Some(3.0))],
        &[i64::MIN, i64::MIN + 2, -1, i64::MAX - 1, i64::MAX],
    );
    if let Err(diff) = check(&case) {
        panic!("{diff}");
    }
}

/// Regression: a comparison or null test whose operands are all `null` has a value
/// whatever their type (`null is null` is true, `null = null` and `null in (null)`
/// are null); the checker used to reject them as untyped (E0025).
#[test]
fn predicates_on_bare_nulls_compile_and_agree() {
    let case = hand_case(
        "    feature null_is_null = count(*) where null is null\n\
         \x20   feature null_eq_null = count_if(null = null)\n\
         \x20   feature null_in_null = count(*) where not (null in (null))\n\
         \x20   feature null_not_null = count(*) where null is not null\n",
        &[(0, Some(1), Some(1.0)), (1, None, None)],
        &[0, 1, 5],
    );
    let col = agreed_int_columns(&case);
    assert_eq!(col("null_is_null"), vec![1, 2, 2]);
    assert_eq!(col("null_eq_null"), vec![0, 0, 0]);
    assert_eq!(col("null_in_null"), vec![0, 0, 0]);
    assert_eq!(col("null_not_null"), vec![0, 0, 0]);
}

/// Row functions at their edges, through every path (`check` compares them bit for
/// bit): the domains of `sqrt` and `ln` with both zeros and NaN, `nullif` under SQL
/// equality, `least`/`greatest` skipping nulls in featc's order, int64 `abs`.
#[test]
fn function_edges_agree() {
    let case = hand_case(
        "    feature sqrt_nulls = count(*) where sqrt(f) is null\n\
         \x20   feature ln_nulls = count(*) where ln(f) is null\n\
         \x20   feature nullif_zero = count(nullif(f, 0.0))\n\
         \x20   feature nullif_self = count(nullif(f, f))\n\
         \x20   feature abs_max = max(abs(i))\n\
         \x20   feature least_max = max(least(f, i))\n\
         \x20   feature greatest_last = last(greatest(f, -0.0))\n\
         \x20   feature sqrt_last = last(sqrt(f))\n",
        &[
            (0, Some(-1), Some(-0.0)),
            (1, Some(i64::MAX), Some(f64::NAN)),
            (2, None, Some(-4.0)),
            (3, Some(0), Some(0.0)),
        ],
        &[0, 1, 2, 3],
    );
    let col = agreed_int_columns(&case);
    assert_eq!(col("sqrt_nulls"), vec![0, 0, 1, 1]);
    assert_eq!(
        col("ln_nulls"),
        vec![1, 1, 2, 3],
        "ln is null at both zeros"
    );
    assert_eq!(
        col("nullif_zero"),
        vec![0, 1, 2, 2],
        "-0.0 = 0.0, NaN is a value"
    );
    assert_eq!(col("nullif_self"), vec![0, 0, 0, 0], "NaN = NaN");
    assert_eq!(col("abs_max"), vec![1, i64::MAX, i64::MAX, i64::MAX]);
    let (project, ids) = compile(&case).expect("compiles");
    let out = reference(&project, &ids, &case).expect("reference");
    let floats = |name: &str| -> Vec<Option<u64>> {
        let c = out.column_by_name(name).expect("column");
        let c = c
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Float64Array>()
            .expect("float64");
        c.iter().map(|v| v.map(f64::to_bits)).collect()
    };
    let bits = |x: f64| Some(x.to_bits());
    let max = i64::MAX as f64;
    assert_eq!(
        floats("least_max"),
        vec![bits(-1.0), bits(max), bits(max), bits(max)],
        "least skips the null i and NaN is above every number"
    );
    assert_eq!(
        floats("greatest_last"),
        vec![bits(-0.0), bits(f64::NAN), bits(-0.0), bits(0.0)]
    );
    assert_eq!(
        floats("sqrt_last"),
        vec![bits(-0.0), bits(f64::NAN), bits(f64::NAN), bits(0.0)],
        "sqrt(-0.0) is -0.0; sqrt(-4) is null, which `last` skips"
    );
}

/// `abs(i64::MIN)` is an int64 overflow on every path, and the executors name the
/// source, the expression and the failing event like `+`'s overflow.
#[test]
fn abs_of_the_int_minimum_fails_on_every_path() {
    let case = hand_case(
        "    feature m = max(abs(i)) over 5s\n",
        &[(0, Some(3), None), (1_000_000, Some(i64::MIN), None)],
        &[2_000_000],
    );
    if let Err(diff) = check(&case) {
        panic!("{diff}");
    }
    let (project, ids) = compile(&case).expect("compiles");
    let error = reference(&project, &ids, &case)
        .expect_err("the reference fails")
        .to_string();
    assert!(error.contains("abs(-9223372036854775808)"), "{error}");
    let error = batch(&project, &ids, &case, 2)
        .expect_err("the batch path fails")
        .to_string();
    assert!(
        error.contains(
            "source `events`, event at 1970-01-01T00:00:01Z (k = 1): the argument of feature `m` (view `v`): int64 overflow: abs(-9223372036854775808) does not fit in int64"
        ),
        "{error}"
    );
    let streamed = stream(&project, &ids, &case)
        .expect_err("the stream fails")
        .to_string();
    assert!(streamed.contains("abs(-9223372036854775808)"), "{streamed}");
}

/// A source's `delay`: a read at `t` sees the events at or before `t - D` (one
/// exactly at `t - D` is in), windows keep their start (`over 3s` at `t` still
/// begins after `t - 3s`), and every path agrees.
#[test]
fn a_delayed_source_is_seen_late_on_every_path() {
    const S: i64 = 1_000_000;
    let mut case = hand_case(
        "    feature n_3s = count(*) over 3s\n\
         \x20   feature n_life = count(*)\n\
         \x20   feature n_prev = count(*) over 2s offset 1s\n",
        &[
            (0, Some(1), None),
            (S, Some(1), None),
            (2 * S, Some(1), None),
        ],
        &[0, S, 2 * S, 3 * S, 4 * S, 5 * S],
    );
    case.feat = case
        .feat
        .replace("source events {", "source events { delay 2s");
    let col = agreed_int_columns(&case);
    // At t the visible events are those at <= t - 2s; `over 3s` keeps > t - 3s.
    assert_eq!(col("n_life"), vec![0, 0, 1, 2, 3, 3]);
    assert_eq!(col("n_3s"), vec![0, 0, 1, 1, 1, 0]);
    // `over 2s offset 1s`: (t - 3s, t - 1s] of the visible, so (t - 3s, t - 2s].
    assert_eq!(col("n_prev"), vec![0, 0, 1, 1, 1, 0]);
}

/// An overflow is an error on whichever event it happens, even one a feature's
/// `where` then drops: every path evaluates a requested feature's argument on every
/// event (semantics.md, "Errors while computing"), the reference included.
#[test]
fn an_overflow_on_a_filtered_out_event_fails_every_path() {
    let case = hand_case(
        "    feature big_neg_max = max(i * 4) where i < 0\n",
        &[(0, Some(-1), None), (1, Some(i64::MAX / 2), None)],
        &[0, 5],
    );
    let (project, ids) = compile(&case).expect("compiles");
    let error = reference(&project, &ids, &case)
        .expect_err("the reference fails")
        .to_string();
    assert!(error.contains("overflow"), "{error}");
    if let Err(diff) = check(&case) {
        panic!("{diff}");
    }
}

/// Two users' int64 sums leave int64 at different times (user 1's at 10s, user 2's
/// at 5s), their events arriving user 1's first, and the spine reading user 1 at
/// 20s before user 2 at 6s and 30s: spine order, key order and arrival order name
/// user 1, time order user 2. Every path names the earliest by time (semantics.md,
/// "Errors while computing"): `total` at spine row 1, user 2 at 6s.
#[test]
fn two_users_overflowing_at_different_times_fail_alike_on_every_path() {
    use datafusion::arrow::array::Int64Array;
    const S: i64 = 1_000_000;
    let big = i64::MAX / 2 + 1;
    let mut case = hand_case(
        "    feature total = sum(i)\n    feature n = count(*)\n",
        &[
            (S, Some(big), None),
            (10 * S, Some(big), None),
            (S, Some(big), None),
            (5 * S, Some(big), None),
        ],
        &[20 * S, 6 * S, 30 * S],
    );
    let with = |batch: &RecordBatch, column: &str, values: Vec<i64>| {
        let i = batch.schema().index_of(column).expect("column");
        let mut columns = batch.columns().to_vec();
        columns[i] = Arc::new(Int64Array::from(values));
        RecordBatch::try_new(batch.schema(), columns).expect("same schema")
    };
    case.events = with(&case.events, "k", vec![1, 1, 2, 2]);
    case.spine = with(&case.spine, "k", vec![1, 2, 2]);
    for batch_size in [1, 2, 4] {
        case.replay.batch_size = batch_size;
        if let Err(diff) = check(&case) {
            panic!("{diff}");
        }
    }
    let (project, ids) = compile(&case).expect("compiles");
    match reference(&project, &ids, &case).expect_err("the sums overflow") {
        RunError::Compute {
            place: featc::verify::ComputeError::Aggregation { feature, row },
            message,
        } => {
            assert_eq!((feature.as_str(), row), ("total", 1), "{message}");
        }
        other => panic!("not an aggregation's failure: {other:?}"),
    }
    let streamed = stream(&project, &ids, &case)
        .expect_err("the stream fails")
        .to_string();
    assert!(
        streamed.contains("feature `total` for k = 2 at 1970-01-01T00:00:06Z"),
        "{streamed}"
    );
}

/// Two events an expression overflows on, the later one first in the source (and so
/// first to arrive, and in the first batch): every path names the earliest by time
/// (semantics.md, "Errors while computing"), the event at 1s.
#[test]
fn an_expression_overflowing_on_two_events_names_the_earliest_on_every_path() {
    const S: i64 = 1_000_000;
    let mut case = hand_case(
        "    feature m = max(abs(i))\n    feature n = count(*)\n",
        &[
            (5 * S, Some(i64::MIN), None),
            (2 * S, Some(7), None),
            (4 * S, Some(8), None),
            (S, Some(i64::MIN), None),
        ],
        &[10 * S],
    );
    for batch_size in [1, 2, 4] {
        case.replay.batch_size = batch_size;
        if let Err(diff) = check(&case) {
            panic!("{diff}");
        }
    }
    let (project, ids) = compile(&case).expect("compiles");
    for size in [1, 2, DEFAULT_BATCH_SIZE] {
        let error = batch(&project, &ids, &case, size)
            .expect_err("the batch path fails")
            .to_string();
        assert!(
            error.contains("event at 1970-01-01T00:00:01Z (k = 1)"),
            "{error}"
        );
    }
    match reference(&project, &ids, &case).expect_err("the reference fails") {
        RunError::Compute {
            place: featc::verify::ComputeError::Expression { source, at },
            ..
        } => assert_eq!((source.as_str(), at), ("events", Some(S))),
        other => panic!("not an expression's failure: {other:?}"),
    }
}

/// Count windows (semantics.md, "Count windows"): ties on time at the cut are decided
/// by the argument's value (null first), never by arrival, on every path; a capped
/// window drops what its duration has passed; offset and exclusive move the read.
/// Events at 1s: i = 5, null, 9, 1 (in that arrival order), then 4 at 3s.
#[test]
fn count_windows_cut_ties_by_value_on_every_path() {
    const S: i64 = 1_000_000;
    let case = hand_case(
        "    feature sum2 = sum(i) over 2 events\n\
         \x20   feature n3 = count(i) over 3 events\n\
         \x20   feature sum_capped = sum(i) over 1500ms max 2 events\n\
         \x20   feature sum_before = sum(i) over 2 events exclusive\n\
         \x20   feature last_big = last(i) where i > 1 over 1 events offset 1s\n\
         \x20   feature rows = count(*) over 2 events\n",
        &[
            (S, Some(5), None),
            (S, None, None),
            (S, Some(9), None),
            (S, Some(1), None),
            (3 * S, Some(4), None),
        ],
        &[0, S, 2 * S, 3 * S, 4 * S, 5 * S],
    );
    let col = agreed_int_columns(&case);
    // At 1s the two latest are 9 then 5 (1 and null are cut).
    assert_eq!(col("sum2"), vec![0, 14, 14, 13, 13, 13]);
    // The three latest at 1s are 1, 5 and 9 (null sorts first, so it is cut).
    assert_eq!(col("n3"), vec![0, 3, 3, 3, 3, 3]);
    // 1500ms: at 3s only 4 (the 1s events left at 2.5s); at 5s nothing.
    assert_eq!(col("sum_capped"), vec![0, 14, 14, 4, 4, 0]);
    // Exclusive: the events before t.
    assert_eq!(col("sum_before"), vec![0, 0, 14, 14, 13, 13]);
    assert_eq!(col("rows"), vec![0, 2, 2, 2, 2, 2]);
}
