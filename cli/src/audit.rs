//! `featc audit`: every vector a server served, recomputed at its read time by the
//! training set's own job and compared cell by cell (docs/audit.md).

use std::path::PathBuf;
use std::process::ExitCode;

use featc::audit::acknowledged::Acknowledged;
use featc::audit::{Audit, DeadEvent, Report, CHUNK_ROWS};
use featc_runtime::batch::Resources;

use super::progress::Progress;
use super::spine_job::source_bindings;

/// Recompute what a server served (its `--log-served` folder) with the training
/// set's job, at each read's time, keys and request fields, and compare every cell
/// bit for bit: equal, explained (a cause the audit computes: the feature's
/// definition changed since it was served, or events that waited for their as-of
/// lookups at the read, recomputed without them), or unexplained (listed with every
/// value and the events of its key).
///
/// Sources are read from their declared `file` unless bound with `--source`. Exits
/// with 0 when every cell is equal or explained, 1 when any is unexplained, 2 on
/// usage, IO or data errors (and when the project has errors).
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  featc audit examples/fraud --served served/\n  featc audit project/ --served served/ --source transactions=history/tx/ --sample 100000 --format json --out audit.json\n  featc audit examples/checkout --served served/ --format html --out audit.html"
)]
pub struct Args {
    /// `.feat` files, or folders searched recursively for `*.feat` files.
    #[arg(value_name = "PROJECT", required = true)]
    pub projects: Vec<PathBuf>,
    /// The served log: a folder written by `featc serve --log-served` (its complete
    /// files; one still being written is left for the next run), or one of its files.
    #[arg(long, value_name = "DIR")]
    pub served: PathBuf,
    /// Read source NAME from PATH (a `.parquet`/`.csv` file or a folder of them)
    /// instead of its declared file (repeatable).
    #[arg(long = "source", value_name = "NAME=PATH")]
    pub sources: Vec<String>,
    /// The state directory of the server that served the log (`featc serve --state`):
    /// the events it kept out of its state (its dead letters, as its last checkpoint
    /// holds them) explain the cells they change (`dead_lettered`), and the events it
    /// acknowledged (its archive) explain cells by when they arrived
    /// (`arrived_after_read`, `read_ahead_of_watermark`, `not_acknowledged`) and give
    /// each read's staleness. Sources with no file read what it acknowledged.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Audit about N reads, spread evenly over the log (every k-th read).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub sample: Option<u64>,
    /// The report: text, JSON, or one self-contained HTML page with a chart of the
    /// differing cells over time.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Reads recomputed at once: the memory an audit holds is this many reads' keys
    /// and times, whatever the log's size.
    #[arg(long, value_name = "N", default_value_t = CHUNK_ROWS, value_parser = clap::value_parser!(u64).range(1..), hide = true)]
    pub chunk_rows: u64,
    /// Merges run at once [default: the machine's cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=featc_runtime::batch::resources::MAX_PARTITIONS as i64))]
    pub partitions: Option<u32>,
    /// Memory the recomputation's sorts may hold before they spill, e.g. 4GiB.
    #[arg(long, value_name = "SIZE", value_parser = featc_runtime::batch::resources::parse_size)]
    pub memory_limit: Option<usize>,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Html,
}

/// Exit status when a cell is unexplained.
const EXIT_UNEXPLAINED: u8 = 1;

pub fn main(args: Args) -> ExitCode {
    // 1 is the audit's verdict: a project with errors is a usage failure here.
    let Ok((_, project)) = super::compile_project(&args.projects) else {
        return ExitCode::from(super::EXIT_USAGE);
    };
    let paths = match source_bindings(&args.sources, &project) {
        Ok(p) => p,
        Err(message) => return super::fail(message),
    };
    let mut inputs: featc_runtime::io::Inputs = paths.into();
    let (dead_letters, acknowledged) = match &args.state {
        None => (Vec::new(), None),
        Some(dir) => match state(dir, &project) {
            Ok((dead, acknowledged)) => {
                acknowledged.fill(&project, &mut inputs);
                (dead, Some(acknowledged))
            }
            Err(code) => return code,
        },
    };
    let progress = Progress::new(args.quiet);
    progress.phase("auditing the served reads");
    let audit = Audit {
        project: &project,
        served: args.served.clone(),
        inputs,
        resources: Resources {
            partitions: args.partitions.map(|n| n as usize),
            memory_limit: args.memory_limit,
            ..Resources::default()
        },
        sample: args.sample,
        chunk_rows: args.chunk_rows,
        dead_letters,
        acknowledged,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return super::fail(format!("cannot start the IO runtime: {e}")),
    };
    let advance = |done: u64, total: u64| progress.advance(done, total, "reads");
    let report = match runtime.block_on(audit.run(&advance)) {
        Ok(report) => report,
        Err(e) => return super::fail(e),
    };
    progress.finish();
    if let Err(message) = write(&report, &args) {
        return super::fail(message);
    }
    match report.passed() {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(EXIT_UNEXPLAINED),
    }
}

/// What the state directory `dir` of the server says of its events: those it kept
/// out of its state (`dead_letters`), and the history as it acknowledged it (its
/// archive, and whether it was loaded from the sources' files first).
#[cfg(feature = "serve")]
fn state(
    dir: &std::path::Path,
    project: &featc::ir::Project,
) -> Result<(Vec<DeadEvent>, Acknowledged), ExitCode> {
    let (header, acknowledged) =
        acknowledged(dir).map_err(|m| super::fail(format!("--state `{}`: {m}", dir.display())))?;
    Ok((dead_letters(&header, project), acknowledged))
}

/// The last checkpoint's header of the state directory `dir`, and the history as its
/// server acknowledged it.
#[cfg(feature = "serve")]
pub(crate) fn acknowledged(
    dir: &std::path::Path,
) -> Result<(featc_server::durable::Header, Acknowledged), String> {
    use featc_server::durable::archive;
    let Some(header) =
        featc_server::durable::checkpoint::read_header(dir).map_err(|e| e.to_string())?
    else {
        return Err("no checkpoint (a server writes one as it stops gracefully)".to_string());
    };
    let acknowledged = Acknowledged {
        archive: archive::folders(dir).map_err(|e| e.to_string())?,
        bootstrapped: header.bootstrapped,
        from: archive::from(dir).map_err(|e| e.to_string())?,
    };
    Ok((header, acknowledged))
}

/// The events the server kept out of its state, as its last checkpoint (`header`)
/// holds them: each letter's event decoded into the source's column types (a record
/// that never decoded, held as text, has no columns to match).
#[cfg(feature = "serve")]
pub(crate) fn dead_letters(
    header: &featc_server::durable::Header,
    project: &featc::ir::Project,
) -> Vec<DeadEvent> {
    use datafusion::common::ScalarValue;
    use featc_runtime::ir::DataType;
    use featc_runtime::row::ValuesBuilder;
    let mut out = Vec::new();
    for kept in &header.dead_letters.kept {
        let letter = &kept.letter;
        let Some(source) = project.sources.iter().find(|s| s.name == letter.source) else {
            continue;
        };
        let Some(object) = letter.event.as_object() else {
            continue;
        };
        let mut columns = Vec::new();
        for (name, json) in object {
            let ty = match source.columns.iter().find(|c| c.name == *name) {
                _ if *name == source.time_column => DataType::Timestamp,
                Some(c) if c.path.is_none() => c.ty,
                _ => continue,
            };
            let Ok(value) = featc_server::wire::json::to_value_in(json, ty, source.epoch) else {
                continue;
            };
            let mut cell = ValuesBuilder::new(ty, 1);
            cell.append(&value);
            let Ok(array) = cell.finish() else {
                continue;
            };
            if let Ok(scalar) = ScalarValue::try_from_array(&array, 0) {
                columns.push((name.clone(), scalar));
            }
        }
        out.push(DeadEvent {
            source: source.name.clone(),
            columns,
        });
    }
    out
}

#[cfg(not(feature = "serve"))]
fn state(
    _: &std::path::Path,
    _: &featc::ir::Project,
) -> Result<(Vec<DeadEvent>, Acknowledged), ExitCode> {
    Err(super::cargo_features::missing(
        "serve",
        "featc audit --state",
    ))
}

fn write(report: &Report, args: &Args) -> Result<(), String> {
    let text = match args.format {
        Format::Text => report.text(),
        Format::Json => report.json().map_err(|e| e.to_string())? + "\n",
        Format::Html => featc::audit::html::render(report).map_err(|e| e.to_string())?,
    };
    match &args.out {
        None => {
            print!("{text}");
            Ok(())
        }
        Some(path) => std::fs::write(path, text)
            .map_err(|e| format!("cannot write `{}`: {e}", path.display())),
    }
}
