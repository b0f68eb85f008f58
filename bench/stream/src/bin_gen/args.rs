//! The command line, gen.py's: counts accept `1e9` as well as `1000000000`.

use std::path::PathBuf;

use crate::measure::parse_count;

pub const USAGE: &str = "usage: gen [--events 1e5] [--users EVENTS/100 (at least 10)] \
[--spine 5000] [--seed 42] [--out data/synth_<events>] [--chunk-rows 5e6] [--threads CORES]";

pub struct Args {
    pub events: usize,
    pub users: usize,
    pub spine: usize,
    pub seed: u64,
    pub out: PathBuf,
    pub chunk_rows: usize,
    /// Threads drawing and encoding (the files do not depend on it).
    pub threads: usize,
}

/// Largest chunk: a chunk's category strings (at most 8 bytes a row) must stay within
/// the i32 offsets of an Arrow string array.
const MAX_CHUNK_ROWS: usize = 1 << 28;

pub fn parse() -> Result<Args, String> {
    let mut events_text = "1e5".to_string();
    let mut users = None;
    let mut spine = 5000;
    let mut seed = 42;
    let mut out = None;
    let mut chunk_rows = 5_000_000;
    let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let count = |v: String| parse_count(&v).ok_or(format!("not a count: {v}"));
        match arg.as_str() {
            "--events" => events_text = value("--events")?,
            "--users" => users = Some(count(value("--users")?)?),
            "--spine" => spine = count(value("--spine")?)?,
            "--seed" => seed = count(value("--seed")?)? as u64,
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--chunk-rows" => chunk_rows = count(value("--chunk-rows")?)?,
            "--threads" => threads = count(value("--threads")?)?.max(1),
            "--help" | "-h" => return Err(String::new()),
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    let events = parse_count(&events_text).ok_or(format!("not a count: {events_text}"))?;
    let users = users.unwrap_or((events / 100).max(10));
    if events == 0 || spine == 0 {
        return Err("--events and --spine must be at least 1".into());
    }
    if users == 0 || users > u32::MAX as usize {
        return Err("--users must be between 1 and 2^32 - 1".into());
    }
    if chunk_rows == 0 || chunk_rows > MAX_CHUNK_ROWS {
        return Err(format!(
            "--chunk-rows must be between 1 and {MAX_CHUNK_ROWS}"
        ));
    }
    Ok(Args {
        events,
        users,
        spine,
        seed,
        out: out.unwrap_or_else(|| PathBuf::from(format!("data/synth_{events_text}"))),
        chunk_rows,
        threads,
    })
}
