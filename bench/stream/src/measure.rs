//! Measuring helpers: resident memory from /proc and latency percentiles.

/// The process's resident set size in bytes, after handing the allocator's freed pages
/// back to the OS (Linux; `None` elsewhere).
pub fn rss_bytes() -> Option<u64> {
    // mimalloc keeps freed pages resident for reuse: state allocated after the
    // generation freed its scratch memory would not grow the RSS at all. Returning
    // them to the OS first makes the difference of two readings the growth.
    // SAFETY: `mi_collect` only releases memory no live allocation holds.
    unsafe { libmimalloc_sys::mi_collect(true) };
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Latency percentiles of a set of samples in nanoseconds.
pub struct Percentiles {
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
}

pub fn percentiles(samples: &mut [u64]) -> Percentiles {
    samples.sort_unstable();
    let at = |q: f64| {
        if samples.is_empty() {
            return 0;
        }
        let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i]
    };
    let mean = samples.iter().sum::<u64>() as f64 / samples.len().max(1) as f64;
    Percentiles {
        p50: at(0.50),
        p99: at(0.99),
        p999: at(0.999),
        max: at(1.0),
        mean,
    }
}

/// `1e7`, `10000000`, `1_000_000` -> a count.
pub fn parse_count(text: &str) -> Option<usize> {
    let t = text.replace('_', "");
    t.parse::<usize>().ok().or_else(|| {
        t.parse::<f64>()
            .ok()
            .filter(|x| *x >= 0.0)
            .map(|x| x as usize)
    })
}
