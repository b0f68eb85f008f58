//! `featc stats`: per-feature statistics of a table of feature values (docs/stats.md),
//! as a text table or the JSON a team stores as a drift baseline.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use featc_runtime::io::TableReader;
use featc_runtime::stats::{render_stats, ColumnSelection, Profile, Profiler};

use super::progress::Progress;

/// Statistics of every feature of a table: fill rate; for numbers min, max, mean,
/// standard deviation, nearest-rank quantiles and NaN/inf counts; for strings and
/// booleans the top values.
///
/// TABLE is a Parquet or CSV file or a folder of them (a training set, a log written
/// by `featc serve --log-served`). The features are every column, or those the file
/// names as features (training sets and served logs do), minus `--exclude`, or
/// exactly `--features`. A column of a type without statistics is skipped with a
/// note. Exits with 0, or 2 on usage, IO or data errors.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  featc stats train.parquet\n  featc stats served/ --format json --out baseline.json\n  featc stats data.csv --exclude user_id,ts"
)]
pub struct Args {
    /// A Parquet or CSV file, or a folder of them.
    #[arg(value_name = "TABLE")]
    pub table: PathBuf,
    #[command(flatten)]
    pub select: Select,
    /// Write the statistics to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Which columns are features (shared with `featc drift`).
#[derive(clap::Args, Debug, Clone)]
pub struct Select {
    /// Exactly these columns, comma-separated.
    #[arg(
        long,
        value_name = "A,B",
        value_delimiter = ',',
        conflicts_with = "exclude"
    )]
    pub features: Option<Vec<String>>,
    /// Every feature column but these, comma-separated (e.g. the spine's key and time).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub exclude: Vec<String>,
}

impl Select {
    pub fn selection(&self) -> ColumnSelection {
        ColumnSelection {
            features: self.features.clone(),
            exclude: self.exclude.clone(),
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
}

pub fn main(args: Args) -> ExitCode {
    let progress = Progress::new(args.quiet);
    let profile = match profile_table("table", &args.table, &args.select.selection(), &progress) {
        Ok(p) => p,
        Err(message) => return super::fail(message),
    };
    progress.finish();
    let text = match args.format {
        OutputFormat::Text => render_stats(&profile.stats),
        OutputFormat::Json => match serde_json::to_string_pretty(&profile.stats) {
            Ok(json) => json + "\n",
            Err(e) => return super::fail(e),
        },
    };
    match &args.out {
        Some(out) => match std::fs::write(out, text) {
            Ok(()) => {
                eprintln!(
                    "wrote {} ({} features, {} rows)",
                    out.display(),
                    profile.stats.features.len(),
                    profile.stats.rows
                );
                ExitCode::SUCCESS
            }
            Err(e) => super::fail(format!("cannot write `{}`: {e}", out.display())),
        },
        None => {
            print!("{text}");
            ExitCode::SUCCESS
        }
    }
}

/// Reads the table at `path` batch by batch into its profile (statistics and the
/// samples drift compares); `label` names it in IO errors (with the file).
pub fn profile_table(
    label: &str,
    path: &Path,
    selection: &ColumnSelection,
    progress: &Progress,
) -> Result<Profile, String> {
    let name = path.display().to_string();
    progress.phase(&format!("reading {name}"));
    let mut reader = TableReader::open(label, path).map_err(|e| e.to_string())?;
    let mut profiler =
        Profiler::new(&name, &reader.schema(), selection).map_err(|e| e.to_string())?;
    while let Some(batch) = reader.next_batch().map_err(|e| e.to_string())? {
        profiler.add(&batch).map_err(|e| e.to_string())?;
    }
    Ok(profiler.finish())
}
