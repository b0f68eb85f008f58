//! `featc drift`: how far a current table's feature distributions moved from a
//! baseline's (PSI and KS, docs/stats.md), with an exit code for CI gates.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use featc_runtime::stats::{compare, render_drift, Profile, TableStats, Thresholds};

use super::progress::Progress;
use super::stats::{profile_table, OutputFormat, Select};

/// Compare the feature distributions of CURRENT with BASELINE: per feature in both,
/// the population stability index over the baseline's bins and the two-sample
/// Kolmogorov–Smirnov statistic of numeric features, most severe first.
///
/// Both are Parquet or CSV files or folders of them (a training set, a folder written
/// by `featc serve --log-served`); BASELINE may also be the JSON of `featc stats
/// --format json` (PSI only: KS needs the baseline's values). Exits with 1 when a
/// feature's PSI or KS is above its threshold, 0 when none is, 2 on usage, IO or
/// data errors.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  featc drift train.parquet served/\n  featc drift baseline.json served/ --psi-threshold 0.1 --format json"
)]
pub struct Args {
    /// The reference table, or its statistics (`.json`).
    #[arg(value_name = "BASELINE")]
    pub baseline: PathBuf,
    /// The table compared with it.
    #[arg(value_name = "CURRENT")]
    pub current: PathBuf,
    #[command(flatten)]
    pub select: Select,
    /// A feature drifts when its PSI is above this.
    #[arg(long, value_name = "X", default_value_t = 0.2, value_parser = threshold)]
    pub psi_threshold: f64,
    /// A numeric feature drifts when its KS statistic is above this.
    #[arg(long, value_name = "Y", default_value_t = 0.1, value_parser = threshold)]
    pub ks_threshold: f64,
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

fn threshold(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("`{s}` is not a number >= 0")),
    }
}

pub fn main(args: Args) -> ExitCode {
    let progress = Progress::new(args.quiet);
    let selection = args.select.selection();
    let baseline = match read_baseline(&args.baseline, &args, &progress) {
        Ok(p) => p,
        Err(message) => return super::fail(message),
    };
    let current = match profile_table("current", &args.current, &selection, &progress) {
        Ok(p) => p,
        Err(message) => return super::fail(message),
    };
    progress.finish();
    let thresholds = Thresholds {
        psi: args.psi_threshold,
        ks: args.ks_threshold,
    };
    let report = compare(&baseline, &current, thresholds);
    match args.format {
        OutputFormat::Text => print!("{}", render_drift(&report)),
        OutputFormat::Json => match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(e) => return super::fail(e),
        },
    }
    if report.drifted() > 0 {
        ExitCode::from(super::EXIT_ERRORS)
    } else {
        ExitCode::SUCCESS
    }
}

/// The baseline's profile: a table's, or statistics read back from JSON.
fn read_baseline(path: &Path, args: &Args, progress: &Progress) -> Result<Profile, String> {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if !is_json {
        return profile_table("baseline", path, &args.select.selection(), progress);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let mut stats: TableStats = serde_json::from_str(&text).map_err(|e| {
        format!(
            "`{}` is not the JSON of `featc stats --format json`: {e}",
            path.display()
        )
    })?;
    // The selection applies to the stored statistics as to a table.
    if let Some(only) = &args.select.features {
        stats.features.retain(|f| only.contains(&f.name));
    }
    stats
        .features
        .retain(|f| !args.select.exclude.contains(&f.name));
    Ok(Profile::from_stats(stats))
}
