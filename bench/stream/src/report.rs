//! The human-readable summary of a benchmark run (also pasted into BENCHMARKS.md).

use std::collections::HashMap;

use featc_runtime::stream::DEFAULT_FOLD_RUN;

use crate::Args;

type Result = HashMap<String, String>;

fn num(r: &Result, k: &str) -> f64 {
    r.get(k).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}

fn cpu() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_string(), |(_, m)| m.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{model}, {cores} cores available (the runtime uses one thread)")
}

pub fn print(a: &Args, results: &[Result]) {
    let [featc, run1, two, floor] = results else {
        return;
    };
    println!(
        "streaming benchmark: {} events, batches of {}, disorder/lateness {}s, {} reads, seed {}",
        a.events, a.batch, a.disorder_s, a.reads, a.seed
    );
    println!("machine: {}", cpu());
    println!(
        "generation (not timed in ingest): {:.1}s; entities: {}",
        num(featc, "gen_s"),
        num(featc, "entities")
    );
    println!();
    println!("| configuration | features | ingest events/s | state bytes/entity (counted) | RSS delta/entity | read p50 | read p99 | read p999 | read max |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let default = if a.fold_run == DEFAULT_FOLD_RUN {
        ", the default"
    } else {
        ""
    };
    let names = [
        format!("featc, synthetic spec (fold_run {}{default})", a.fold_run),
        "featc, synthetic spec, fold_run 1".to_string(),
        "featc, 2 features".to_string(),
        "hand-written VecDeque floor, 2 features".to_string(),
    ];
    for (name, r) in names.iter().zip(results) {
        let rows = num(r, "rows");
        let e = num(r, "entities").max(1.0);
        let rss = num(r, "rss_delta");
        println!(
            "| {name} | {} | {:.0} | {:.0} | {} | {:.2} µs | {:.2} µs | {:.2} µs | {:.1} µs |",
            num(r, "features"),
            rows / num(r, "ingest_s"),
            num(r, "state_bytes") / e,
            if rss >= 0.0 {
                format!("{:.0}", rss / e)
            } else {
                "n/a".into()
            },
            num(r, "p50") / 1e3,
            num(r, "p99") / 1e3,
            num(r, "p999") / 1e3,
            num(r, "max") / 1e3,
        );
    }
    let rate = |r: &Result| num(r, "rows") / num(r, "ingest_s");
    println!();
    println!(
        "ingest ratio floor/featc: {:.2}x with the same 2 features, {:.2}x against the full 32-feature spec",
        rate(floor) / rate(two),
        rate(floor) / rate(featc)
    );
    println!(
        "read p50 ratio featc(2 features)/floor: {:.1}x",
        num(two, "p50") / num(floor, "p50")
    );
    let counts =
        [featc, run1, two, floor].map(|r| r.get("count_check").cloned().unwrap_or_default());
    let sums = [two, floor].map(|r| num(r, "sum_check"));
    let drift = ((sums[1] - sums[0]) / sums[0]).abs();
    println!(
        "checks: count_1h summed over the reads {} ({}); sum_1d summed: featc {}, floor {} (relative drift {:.1e}); non-present statuses: {}",
        counts.join(" / "),
        if counts.iter().all(|c| *c == counts[0]) { "equal" } else { "DIFFERENT" },
        sums[0],
        sums[1],
        drift,
        num(featc, "odd") + num(run1, "odd") + num(two, "odd"),
    );
    let met = |ok: bool| if ok { "met" } else { "MISSED" };
    let featc_name = format!("fold_run {}", a.fold_run);
    for (name, r) in [(featc_name.as_str(), featc), ("fold_run 1", run1)] {
        println!(
            "targets, {name}: >= 1e6 events/s: {} ({:.0}); p99 read < 20 µs: {} ({:.2} µs)",
            met(rate(r) >= 1e6),
            rate(r),
            met(num(r, "p99") < 20_000.0),
            num(r, "p99") / 1e3
        );
    }
}
