//! Streaming benchmark of featc's `StreamRuntime` on the synthetic spec (32 features):
//! ingest throughput on one thread, state memory per entity, and the latency of reading
//! a full feature vector after the last event; compared with a hand-written per-key
//! `VecDeque` job computing two of the features (the floor).
//!
//!     cargo run --release -p featc-bench --bin stream -- 1e7
//!     cargo run --release -p featc-bench --bin stream -- 1e5 --reads 10000   # quick
//!
//! Options: `--batch N` rows per ingest call (1024), `--reads N` (100000), `--disorder-s
//! S` arrival disorder and allowed lateness in seconds (300), `--seed N` (42),
//! `--fold-run N` the runtime's `Options::fold_run` (its default), `--pending` to leave
//! unfinished runs for the reads to fold (by default ingest ends with `compact`, timed),
//! `--view FILE` to replace the spec's view (profiling one family of aggregations),
//! `--users N` the number of entities (events / 100 by default; few users keep every
//! state in cache, which separates compute from memory stalls), `--snapshot` (with
//! `--mode featc`: snapshot the runtime after ingest, restore it, print the size and
//! both times on a `SNAPSHOT` line, and read from the restored runtime).
//! Each configuration runs in a child process (`--mode featc|featc-run1|featc2|floor`)
//! so that its RSS growth is its own.

// A benchmark binary: it may unwrap, expect and panic! on its own fixed inputs, which the
// workspace's lints deny in library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// mimalloc, the allocator docs/streaming.md suggests to embedders: at 1e7 events its
/// ingest measured about 10% faster than glibc's allocator, with a quarter less memory.
/// The hand-written floor runs in the same binary, so it gets the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod floor;
mod gen;
mod measure;
mod modes;
mod report;
mod rng;

use std::collections::HashMap;
use std::process::{Command, ExitCode};
use std::time::Instant;

use featc_runtime::stream::DEFAULT_FOLD_RUN;
use measure::parse_count;
use modes::FeatcSettings;

pub struct Args {
    pub events: usize,
    pub batch: usize,
    pub reads: usize,
    pub disorder_s: i64,
    pub seed: u64,
    pub mode: Option<String>,
    pub fold_run: u32,
    pub pending: bool,
    pub view: Option<String>,
    pub users: Option<usize>,
    pub snapshot: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        events: 10_000_000,
        batch: 1024,
        reads: 100_000,
        disorder_s: 300,
        seed: 42,
        mode: None,
        fold_run: DEFAULT_FOLD_RUN,
        pending: false,
        view: None,
        users: None,
        snapshot: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let count = |v: String| parse_count(&v).ok_or(format!("not a count: {v}"));
        match arg.as_str() {
            "--batch" => a.batch = count(value("--batch")?)?.max(1),
            "--reads" => a.reads = count(value("--reads")?)?,
            "--disorder-s" => a.disorder_s = count(value("--disorder-s")?)? as i64,
            "--seed" => a.seed = count(value("--seed")?)? as u64,
            "--mode" => a.mode = Some(value("--mode")?),
            "--fold-run" => a.fold_run = count(value("--fold-run")?)?.max(1) as u32,
            "--pending" => a.pending = true,
            "--view" => a.view = Some(value("--view")?),
            "--users" => a.users = Some(count(value("--users")?)?.max(1)),
            "--snapshot" => a.snapshot = true,
            "--help" | "-h" => return Err(String::new()),
            _ if !arg.starts_with('-') => a.events = count(arg)?,
            _ => return Err(format!("unknown option {arg}")),
        }
    }
    Ok(a)
}

/// Runs one configuration in this process and prints its `RESULT` line.
fn child(a: &Args, mode: &str) -> Result<(), String> {
    let start = Instant::now();
    let users = a.users.unwrap_or((a.events / 100).max(10));
    let events = gen::generate(a.events, users, a.batch, a.disorder_s * 1_000_000, a.seed);
    let gen_s = start.elapsed().as_secs_f64();
    let reads = modes::reads(&events, a.reads, a.seed);
    let lateness = a.disorder_s * 1_000_000;
    let settings = FeatcSettings {
        fold_run: a.fold_run,
        pending: a.pending,
        view: a.view.as_deref(),
        snapshot: a.snapshot,
    };
    let o = match mode {
        "featc" => modes::run_featc(&events, &reads, lateness, false, &settings)?,
        "featc-run1" => {
            let one = FeatcSettings {
                fold_run: 1,
                ..settings
            };
            modes::run_featc(&events, &reads, lateness, false, &one)?
        }
        "featc2" => modes::run_featc(&events, &reads, lateness, true, &settings)?,
        "floor" => modes::run_floor(&events, &reads, lateness),
        _ => return Err(format!("unknown mode {mode}")),
    };
    println!(
        "RESULT mode={mode} gen_s={gen_s} rows={} features={} ingest_s={} entities={} state_bytes={} rss_delta={} \
         p50={} p99={} p999={} max={} mean={} count_check={} sum_check={} odd={}",
        events.rows,
        o.features,
        o.ingest_s,
        o.entities,
        o.state_bytes,
        o.rss_delta.map_or(-1, |x| x as i64),
        o.read_ns.p50,
        o.read_ns.p99,
        o.read_ns.p999,
        o.read_ns.max,
        o.read_ns.mean,
        o.count_check,
        o.sum_check,
        o.odd_statuses,
    );
    Ok(())
}

/// Runs every configuration in a child process and collects their `RESULT` lines.
fn parent(a: &Args) -> Result<Vec<HashMap<String, String>>, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut results = Vec::new();
    for mode in ["featc", "featc-run1", "featc2", "floor"] {
        eprintln!("running {mode} ...");
        let out = Command::new(&exe)
            .arg(a.events.to_string())
            .args([
                "--batch",
                &a.batch.to_string(),
                "--reads",
                &a.reads.to_string(),
            ])
            .args([
                "--disorder-s",
                &a.disorder_s.to_string(),
                "--seed",
                &a.seed.to_string(),
            ])
            .args(["--mode", mode])
            .args(["--fold-run", &a.fold_run.to_string()])
            .args(a.pending.then_some("--pending"))
            .args(a.view.iter().flat_map(|v| ["--view", v.as_str()]))
            .args(
                a.users
                    .iter()
                    .flat_map(|u| ["--users".to_string(), u.to_string()]),
            )
            .output()
            .map_err(|e| e.to_string())?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .find(|l| l.starts_with("RESULT "))
            .ok_or_else(|| {
                format!(
                    "{mode} failed: {}{}",
                    stdout,
                    String::from_utf8_lossy(&out.stderr)
                )
            })?;
        let fields = line
            .split_whitespace()
            .skip(1)
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        results.push(fields);
    }
    Ok(results)
}

fn main() -> ExitCode {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\nusage: stream [EVENTS=1e7] [--batch 1024] [--reads 1e5] [--disorder-s 300] [--seed 42] [--fold-run N (the runtime default)] [--pending] [--view FILE] [--users N] [--snapshot]");
            return ExitCode::from(2);
        }
    };
    let result = match &a.mode {
        Some(mode) => child(&a, mode),
        None => parent(&a).map(|r| report::print(&a, &r)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
