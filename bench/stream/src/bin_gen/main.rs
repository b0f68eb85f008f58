//! `gen`: bench/peers/gen.py's chunked synthetic data (events + spine for
//! tests/cases/synthetic), with the same distributions, fast enough for 1e9 events:
//!
//!     gen --events 1e9 --users 1e7 --spine 1e6 --seed 7 --out DIR [--chunk-rows 5e6]
//!
//! writes DIR/events.parquet (one row group per chunk, zstd) and DIR/spine.parquet,
//! and prints gen.py's line, then (on stderr) the rows per second and peak RSS. The
//! same arguments give the same bytes, on any number of threads (`--threads N`, the
//! cores by default). The draws are not numpy's, so the rows are not gen.py's rows:
//! bench/peers/check_gen.py compares the two generators' distributions.

// A benchmark binary: it may unwrap, expect and panic! on its own fixed inputs, which the
// workspace's lints deny in library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// mimalloc, as the stream bench, told never to return freed memory to the OS
/// (`keep_freed_memory`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its index in the `mi_option_t` of mimalloc 2 and
/// 3 alike; libmimalloc-sys does not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Every step frees a chunk's columns and its encoder's buffers (hundreds of MB) and
/// allocates as much again. By default mimalloc hands freed pages back to the OS after
/// 10 ms, and the kernel then zeroes each page again on its next touch: at 2e7 events
/// on one thread, 19 563 page faults and 5.6 s against 1 603 and 4.4 s with purging
/// off, for 88 MiB more peak RSS (the freed memory kept, to be reused).
fn keep_freed_memory() {
    // SAFETY: sets an option of the allocator, which it reads on its next purge.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

mod args;
mod arrays;
mod chunk;
mod events;
mod files;
// Only `parse_count` is used here; the rest serves the stream bench.
#[allow(dead_code)]
#[path = "../measure.rs"]
mod measure;
mod params;
mod pool;
// `normal` and the stream bench's helpers are not used here.
#[allow(dead_code)]
#[path = "../rng.rs"]
mod rng;
mod seeds;
mod sources;
mod spine;
mod ties;
mod users;

use std::process::ExitCode;
use std::time::Instant;

use seeds::Stream;
use sources::{Seen, Sources};
use users::Users;

fn run(a: &args::Args) -> Result<(), String> {
    keep_freed_memory();
    let started = Instant::now();
    std::fs::create_dir_all(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
    let users = Users::new(a.users, &mut seeds::rng(a.seed, Stream::Users, 0));
    let mut sources = Sources::new(a.events, a.spine);
    let mut seen = Seen::new(users.count());
    let plan = events::Plan {
        events: a.events,
        chunk_rows: a.chunk_rows,
        seed: a.seed,
        threads: a.threads,
    };
    let events_path = a.out.join("events.parquet");
    let times = events::write(&events_path, &plan, &users, &mut sources, &mut seen)
        .map_err(|e| format!("{}: {e}", events_path.display()))?;
    let events_s = started.elapsed().as_secs_f64();
    drop(users);

    let users_all = seen.ids();
    let spine = spine::draw(
        &sources,
        &users_all,
        a.spine,
        &mut seeds::rng(a.seed, Stream::Spine, 0),
    );
    let spine_rows = spine.user.len();
    let spine_path = a.out.join("spine.parquet");
    files::write_spine(&spine_path, spine.user, spine.ts, spine.label)
        .map_err(|e| format!("{}: {e}", spine_path.display()))?;
    let out = a.out.display();
    println!(
        "wrote {out}/events.parquet ({} rows, {} users of {}, row groups of {}) and \
         {out}/spine.parquet ({spine_rows} rows)",
        a.events,
        users_all.len(),
        a.users,
        a.chunk_rows
    );
    let total_s = started.elapsed().as_secs_f64();
    eprintln!(
        "gen: {} events in {events_s:.2} s ({:.2} M rows/s; parallel steps {:.2} s, appending \
         row groups {:.2} s, ties and samples {:.2} s), {} threads; spine {:.2} s; total {total_s:.2} s, \
         peak RSS {} MiB",
        a.events,
        a.events as f64 / events_s / 1e6,
        times.parallel.as_secs_f64(),
        times.append.as_secs_f64(),
        times.ties_and_samples.as_secs_f64(),
        a.threads,
        total_s - events_s,
        peak_rss_mib().map_or("?".into(), |m| m.to_string()),
    );
    Ok(())
}

/// The process's peak resident set (VmHWM), Linux only.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

fn main() -> ExitCode {
    let a = match args::parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    match run(&a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
