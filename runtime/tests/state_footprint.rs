//! Where an entity's state goes on the synthetic spec: every entity of an events file
//! (the `bench/peers/gen.py` data) ingested as the streaming runtime does, then each
//! `KeyState`'s `footprint` (memory and snapshot bytes by part), averaged per entity,
//! beside what a state loaded back from its bytes counts, as loaded and after
//! `shrink_to_fit`. A measuring tool, not a
//! check: it needs the bench data, so it is ignored unless asked for:
//!
//!     FEATC_FOOTPRINT_EVENTS=/path/to/events.parquet \
//!         cargo test --workspace --test suite -- state_footprint --ignored --nocapture
//!
//! The entity states are built here with `KeyState`'s public API (the runtime keeps
//! its own private); the test checks they count exactly the runtime's `state_bytes`
//! on the same events, so they are the runtime's states.

use std::collections::HashMap;
use std::fs::File;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::{concat_batches, sort_to_indices, take_record_batch};
use datafusion::arrow::datatypes::{Int64Type, TimestampMicrosecondType};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use featc::SourceFile;
use featc_runtime::expr::mask::{conjunction, trues};
use featc_runtime::expr::slots::SlotEvaluator;
use featc_runtime::row::{conform, Cells};
use featc_runtime::snapshot::{Reader, Writer};
use featc_runtime::stream::{Options, StreamGraph, StreamRuntime, DEFAULT_FOLD_RUN};
use featc_runtime::value::Value;
use featc_runtime::window::{Footprint, KeySpec, KeyState};

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/cases/synthetic/features.feat"
);

/// Rows per ingested batch.
const BATCH: usize = 8192;

fn graph() -> StreamGraph {
    let text = std::fs::read_to_string(SPEC).unwrap();
    let files = [SourceFile {
        name: "features.feat".into(),
        text,
    }];
    let project = featc::compile(&files).unwrap();
    featc::lower::stream::lower_stream(&project, &project.all_features()).unwrap()
}

/// The file's rows in event-time order (as `featc serve --bootstrap` loads them).
fn events(path: &str) -> RecordBatch {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    let all = concat_batches(&batches[0].schema(), &batches).unwrap();
    let ts = conform(
        all.column_by_name("ts").unwrap(),
        featc_runtime::ir::DataType::Timestamp,
        "ts",
    )
    .unwrap();
    let order = sort_to_indices(&ts, None, None).unwrap();
    take_record_batch(&all, &order).unwrap()
}

/// Every entity state of the graph's one group after ingesting `all` in batches
/// with the runtime's horizons, and the runtime's own state bytes for them.
fn states(graph: &StreamGraph, all: &RecordBatch) -> (Vec<KeyState>, u64, i64) {
    let mut rt = StreamRuntime::with_options(graph.clone(), Options::default()).unwrap();
    let schema = rt.source_schema("events").unwrap();
    let (_, aggregate) = graph.aggregates().next().unwrap();
    let plan = &aggregate.plan;
    let lateness = graph.source(aggregate.source).unwrap().lateness_us.max(0);
    let spec = Arc::new(KeySpec::from_plan(plan, &plan.input_types()).unwrap());
    let slots = SlotEvaluator::new(Arc::new(plan.clone()), &schema).unwrap();
    let mut index: HashMap<i64, usize> = HashMap::new();
    let mut states: Vec<KeyState> = Vec::new();
    let (mut seq, mut max_ts) = (0u64, None::<i64>);
    for start in (0..all.num_rows()).step_by(BATCH) {
        let batch = all.slice(start, BATCH.min(all.num_rows() - start));
        rt.ingest("events", &batch).unwrap();
        // The batch as the runtime conforms it: the source's columns, in its order.
        let columns: Vec<ArrayRef> = schema
            .fields()
            .iter()
            .zip(
                std::iter::once(featc_runtime::ir::DataType::Timestamp).chain(
                    graph
                        .source(aggregate.source)
                        .unwrap()
                        .columns
                        .iter()
                        .map(|c| c.ty),
                ),
            )
            .map(|(f, ty)| conform(batch.column_by_name(f.name()).unwrap(), ty, f.name()).unwrap())
            .collect();
        let conformed = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let evaluated = slots.evaluate(&conformed).unwrap();
        let inputs: Vec<Cells<'_>> = evaluated
            .inputs
            .iter()
            .zip(&plan.inputs)
            .map(|(a, e)| Cells::new(a, e.ty).unwrap())
            .collect();
        let predicates: Vec<_> = evaluated
            .predicates
            .iter()
            .map(|p| trues(p).unwrap())
            .collect();
        let n = conformed.num_rows();
        let filters: Vec<_> = plan
            .filters
            .iter()
            .map(|f| conjunction(f, &predicates, n))
            .collect();
        let ts = conformed
            .column(0)
            .as_primitive::<TimestampMicrosecondType>();
        let key = conformed
            .column_by_name(&plan.keys[0].column)
            .unwrap()
            .as_primitive::<Int64Type>();
        let horizon = max_ts.map(|m| plan.state_time(m.saturating_sub(lateness)));
        for row in 0..n {
            let t = ts.value(row);
            max_ts = max_ts.max(Some(t));
            if key.is_null(row) {
                continue;
            }
            let next = states.len();
            let i = *index.entry(key.value(row)).or_insert(next);
            if i == next {
                let mut s = KeyState::new(spec.clone());
                s.set_fold_run(DEFAULT_FOLD_RUN);
                states.push(s);
            }
            let values: Vec<Value> = inputs.iter().map(|c| c.get(row)).collect();
            let passes: Vec<bool> = filters.iter().map(|f| f.value(row)).collect();
            states[i].push_event(t, seq, &values, &passes);
            seq += 1;
            if let Some(h) = horizon {
                states[i].promise(h);
            }
        }
    }
    rt.compact().unwrap();
    let h = plan.state_time(max_ts.unwrap_or(0).saturating_sub(lateness));
    states.iter_mut().for_each(|s| s.drop_before(h));
    (states, rt.metrics().state_bytes, h)
}

/// A read's results with floats as their bits.
fn shown(s: &mut KeyState, t: i64) -> String {
    s.read(t)
        .iter()
        .map(|r| match r {
            Ok(Value::Float64(x)) => format!("f{:x} ", x.to_bits()),
            r => format!("{r:?} "),
        })
        .collect()
}

#[test]
#[ignore = "needs the bench data: set FEATC_FOOTPRINT_EVENTS to an events.parquet of gen.py"]
fn footprint_of_the_synthetic_spec() {
    let path = std::env::var("FEATC_FOOTPRINT_EVENTS")
        .expect("FEATC_FOOTPRINT_EVENTS: the events.parquet to measure");
    let graph = graph();
    let all = events(&path);
    let (states, runtime_bytes, horizon) = states(&graph, &all);
    let counted: usize = states.iter().map(KeyState::approx_bytes).sum();
    assert_eq!(
        counted as u64, runtime_bytes,
        "the states are not the runtime's"
    );
    let mut total = Footprint::default();
    let (mut loaded, mut shrunk, mut hinted) = (0usize, 0usize, 0usize);
    let mut saved_sizes = Vec::with_capacity(states.len());
    for s in &states {
        let f = s.footprint();
        let mut w = Writer::new();
        s.save(&mut w);
        let bytes = w.into_bytes();
        assert_eq!(bytes.len(), f.saved(), "the saved parts miss bytes");
        assert_eq!(s.approx_bytes(), f.memory(), "the memory parts miss bytes");
        let mut r = Reader::new(&bytes);
        let back = KeyState::load(s.spec().clone(), &mut r).unwrap();
        r.finish().unwrap();
        loaded += back.approx_bytes();
        let mut small = back;
        small.shrink_to_fit();
        shrunk += small.approx_bytes();
        // The loaded and shrunk state reads what the original reads, a day on.
        let t = horizon.saturating_add(86_400_000_000);
        assert_eq!(shown(&mut small, t), shown(&mut s.clone(), t));
        saved_sizes.push(bytes.len());
        hinted += s.snapshot_size_hint();
        total.merge(&f);
    }
    let n = states.len().max(1);
    let mean = |b: usize| b as f64 / n as f64;
    println!(
        "{} entities, {} events; mean bytes per entity:",
        states.len(),
        all.num_rows()
    );
    println!("{:<58} {:>10} {:>10}", "part", "memory", "saved");
    for (part, memory, saved) in &total.parts {
        println!("{part:<58} {:>10.1} {:>10.1}", mean(*memory), mean(*saved));
    }
    println!(
        "{:<58} {:>10.1} {:>10.1}",
        "total",
        mean(total.memory()),
        mean(total.saved())
    );
    println!(
        "{:<58} {:>10.1}",
        "loaded back (approx_bytes)",
        mean(loaded)
    );
    println!(
        "{:<58} {:>10.1}",
        "loaded back, then shrink_to_fit (approx_bytes)",
        mean(shrunk)
    );
    println!(
        "{:<58} {:>21.1}",
        "saved, as snapshot_size_hint guesses",
        mean(hinted)
    );
    saved_sizes.sort_unstable();
    let at = |q: f64| saved_sizes[((saved_sizes.len() - 1) as f64 * q) as usize];
    println!(
        "saved bytes per entity: p50 {} p90 {} p99 {} max {}",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
}
