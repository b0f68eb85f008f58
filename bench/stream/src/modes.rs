//! The three measured configurations, each run in its own process so that its memory
//! figure is not blurred by the others: featc with the 32-feature synthetic spec, featc
//! with only `count(*) over 1h` and `sum(amount) over 1d`, and the hand-written floor
//! for those two features.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use featc::SourceFile;
use featc_runtime::stream::{Keys, Options, Read, Selection, Status, StreamGraph, StreamRuntime};
use featc_runtime::value::Value;

use crate::floor::Floor;
use crate::gen::{Events, DAY_US};
use crate::measure::{percentiles, rss_bytes, Percentiles};
use crate::rng::Rng;

/// The synthetic acceptance case's spec (32 features over one source).
const SYNTHETIC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/cases/synthetic/features.feat"
);

/// The two features the floor implements, over the same source declaration.
const TWO: &str = "
view two from events by user {
    feature txn_count_1h  = count(*) over 1h
    feature amount_sum_1d = sum(amount) over 1d
}
";

/// What one configuration measured.
pub struct Outcome {
    pub features: usize,
    pub ingest_s: f64,
    pub entities: usize,
    /// Bytes the state says it holds, and the RSS growth during ingest.
    pub state_bytes: u64,
    pub rss_delta: Option<u64>,
    pub read_ns: Percentiles,
    /// Sum over the reads of `count(*) over 1h` (must agree across configurations),
    /// and of `sum(amount) over 1d` (agrees up to the floor's float drift).
    pub count_check: i64,
    pub sum_check: f64,
    /// Reads whose values carried a status other than present/null (should be none).
    pub odd_statuses: usize,
}

fn graph(two_only: bool, view: Option<&str>) -> Result<StreamGraph, String> {
    let text =
        std::fs::read_to_string(Path::new(SYNTHETIC)).map_err(|e| format!("{SYNTHETIC}: {e}"))?;
    let text = if let Some(path) = view {
        // Profiling one family of aggregations: the given view replaces the spec's.
        let cut = text
            .find("/// Spending behaviour")
            .ok_or("synthetic spec changed: no view comment")?;
        let view = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        format!("{}{view}", &text[..cut])
    } else if two_only {
        // Keep the source and entity declarations, replace the view.
        let cut = text
            .find("/// Spending behaviour")
            .ok_or("synthetic spec changed: no view comment")?;
        format!("{}{TWO}", &text[..cut])
    } else {
        text
    };
    let files = [SourceFile {
        name: "features.feat".into(),
        text,
    }];
    let project = featc::compile(&files).map_err(|d| d.render(&files, false))?;
    featc::lower::stream::lower_stream(&project, &project.all_features()).map_err(|e| e.to_string())
}

/// The reads every configuration answers: users drawn with the events' skew, at
/// increasing times from just after the last event to two days later (windows decay).
pub fn reads(events: &Events, n: usize, seed: u64) -> Vec<(i64, i64)> {
    let mut rng = Rng::new(seed ^ 0x5EED);
    let step = (2 * DAY_US / n.max(1) as i64).max(1);
    (0..n)
        .map(|i| {
            (
                events.users[rng.pick(&events.user_weights)],
                events.max_ts + 1 + i as i64 * step,
            )
        })
        .collect()
}

/// How the featc configurations run.
pub struct FeatcSettings<'a> {
    pub fold_run: u32,
    /// Leave the events of unfinished runs pending after ingest (reads fold them).
    pub pending: bool,
    /// A view file replacing the synthetic spec's view.
    pub view: Option<&'a str>,
    /// Snapshot the runtime after ingest and read from its restore instead
    /// (prints a `SNAPSHOT` line with the size and both times).
    pub snapshot: bool,
}

pub fn run_featc(
    events: &Events,
    reads: &[(i64, i64)],
    lateness_us: i64,
    two_only: bool,
    settings: &FeatcSettings<'_>,
) -> Result<Outcome, String> {
    let graph = graph(two_only, settings.view)?;
    let features = graph.output().map_or(0, |o| o.features.len());
    let rss0 = rss_bytes();
    let mut rt = StreamRuntime::with_options(
        graph,
        Options {
            min_lateness_us: lateness_us,
            fold_run: settings.fold_run,
            ..Options::default()
        },
    )
    .map_err(|e| e.to_string())?;
    // A view file may declare a second source `more`: each batch's first half goes
    // to `events`, the rest to `more` (the cost of a view over two sources against
    // one view per source on the same events, bench/union.sh).
    let more = rt.source_schema("more").is_some();
    let start = Instant::now();
    for b in &events.batches {
        if more {
            let half = b.num_rows() / 2;
            rt.ingest("events", &b.slice(0, half))
                .map_err(|e| e.to_string())?;
            rt.ingest("more", &b.slice(half, b.num_rows() - half))
                .map_err(|e| e.to_string())?;
        } else {
            rt.ingest("events", b).map_err(|e| e.to_string())?;
        }
    }
    // Entities fold their events in runs (`Options::fold_run`): fold what is still
    // pending so the time covers all the work (and reads find settled state).
    if !settings.pending {
        rt.compact().map_err(|e| e.to_string())?;
    }
    let ingest_s = start.elapsed().as_secs_f64();
    let rss_delta = rss_bytes().zip(rss0).map(|(a, b)| a.saturating_sub(b));
    let m = rt.metrics();
    if settings.snapshot {
        rt = snapshot_round_trip(rt)?;
    }

    let names = rt.feature_names();
    let count_at = names
        .iter()
        .position(|n| &**n == "txn_count_1h")
        .ok_or("no txn_count_1h")?;
    // The 32-feature spec has no `sum(amount) over 1d`: its sum check is then 0.
    let sum_at = names.iter().position(|n| &**n == "amount_sum_1d");
    let mut samples = Vec::with_capacity(reads.len());
    let (mut count_check, mut sum_check, mut odd_statuses) = (0, 0.0, 0);
    let mut key = [Value::Null];
    for &(user, t) in reads {
        key[0] = Value::Int64(user);
        let start = Instant::now();
        let v = rt.read(&Read::new(Keys::Entity(&key), Selection::All, t));
        let ns = start.elapsed().as_nanos() as u64;
        let v = black_box(v).map_err(|e| e.to_string())?;
        samples.push(ns);
        if let Value::Int64(c) = v.features[count_at].value {
            count_check += c;
        }
        if let Some(Value::Float64(s)) = sum_at.map(|i| &v.features[i].value) {
            sum_check += s;
        }
        odd_statuses += v
            .features
            .iter()
            .filter(|f| !matches!(f.status, Status::Present | Status::Null))
            .count();
    }
    Ok(Outcome {
        features,
        ingest_s,
        entities: m.entities as usize,
        state_bytes: m.state_bytes,
        rss_delta,
        read_ns: percentiles(&mut samples),
        count_check,
        sum_check,
        odd_statuses,
    })
}

/// Snapshots `rt`, restores it, prints the figures and returns the restored runtime
/// (the reads then run on it, and its metrics must be the original's).
fn snapshot_round_trip(rt: StreamRuntime) -> Result<StreamRuntime, String> {
    let start = Instant::now();
    let bytes = rt.snapshot().map_err(|e| e.to_string())?;
    let snapshot_s = start.elapsed().as_secs_f64();
    let (graph, options, metrics) = (rt.graph().clone(), rt.options().clone(), rt.metrics());
    // The original's memory is returned first, as a restarted process would have it.
    drop(rt);
    let rss0 = rss_bytes();
    let start = Instant::now();
    let restored =
        StreamRuntime::restore(graph, options, &bytes).map_err(|e| format!("restore: {e}"))?;
    let restore_s = start.elapsed().as_secs_f64();
    let rss_delta = rss_bytes().zip(rss0).map(|(a, b)| a.saturating_sub(b));
    if restored.metrics() != metrics {
        return Err(format!(
            "restored metrics {:?} differ from {metrics:?}",
            restored.metrics()
        ));
    }
    println!(
        "SNAPSHOT bytes={} snapshot_s={snapshot_s} restore_s={restore_s} restore_rss_delta={}",
        bytes.len(),
        rss_delta.map_or(-1, |x| x as i64)
    );
    Ok(restored)
}

pub fn run_floor(events: &Events, reads: &[(i64, i64)], lateness_us: i64) -> Outcome {
    let rss0 = rss_bytes();
    let mut floor = Floor::new(lateness_us);
    let start = Instant::now();
    for b in &events.batches {
        floor.ingest(b);
    }
    let ingest_s = start.elapsed().as_secs_f64();
    let rss_delta = rss_bytes().zip(rss0).map(|(a, b)| a.saturating_sub(b));
    let mut samples = Vec::with_capacity(reads.len());
    let (mut count_check, mut sum_check) = (0, 0.0);
    for &(user, t) in reads {
        let start = Instant::now();
        let (c, s) = black_box(floor.read(user, t));
        samples.push(start.elapsed().as_nanos() as u64);
        count_check += c;
        sum_check += s;
    }
    Outcome {
        features: 2,
        ingest_s,
        entities: floor.entities(),
        state_bytes: floor.state_bytes() as u64,
        rss_delta,
        read_ns: percentiles(&mut samples),
        count_check,
        sum_check,
        odd_statuses: 0,
    }
}
