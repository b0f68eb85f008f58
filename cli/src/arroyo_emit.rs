//! `featc build --emit arroyo --out DIR`: the Arroyo pipeline of a project's features
//! (`featc::emit::arroyo`) written to `DIR/pipeline.sql` with the UDF crates it calls
//! in `DIR/udfs/` (with `--all-udfs`, a crate of every UDF the generator implements),
//! or the diagnostics of the features it refuses. `--service`/`--features` select
//! features as for `--emit sql`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use featc::emit::arroyo::udf::UdfSpec;
use featc::emit::arroyo::{
    duration_label, emit as emit_arroyo, refusal, slide, ArroyoOptions, ArroyoPipeline, Sink,
    SlideRule,
};

use super::build::Args;

/// The options of `--emit arroyo`.
#[derive(clap::Args)]
pub struct ArroyoArgs {
    /// With `--emit arroyo`: Kafka's bootstrap servers, for the sources' topics and
    /// Kafka sinks [default: localhost:9092].
    #[arg(long, value_name = "HOST:PORT,...")]
    pub kafka_brokers: Option<String>,
    /// With `--emit arroyo`: where the queries write: `kafka` (a topic per view and
    /// window) or `redis` (hashes `featc:VIEW:KEY`, a field per window) [default:
    /// kafka].
    #[arg(long, value_name = "SINK")]
    pub sink: Option<String>,
    /// With `--emit arroyo --sink redis`: Redis's address [default:
    /// redis://localhost:6379].
    #[arg(long, value_name = "URL")]
    pub redis_address: Option<String>,
    /// With `--emit arroyo`: hop every window by this duration (it must divide
    /// every window width).
    #[arg(long, value_name = "DURATION", conflicts_with = "staleness")]
    pub slide: Option<String>,
    /// With `--emit arroyo`: hop each window by the largest slide dividing it within
    /// this duration [default: 1m].
    #[arg(long, value_name = "DURATION")]
    pub staleness: Option<String>,
    /// With `--emit arroyo`: write into `DIR/udfs/` a crate of every UDF featc
    /// generates (each kind over each type it is defined on, percentiles at 0, 0.5,
    /// 0.95 and 1), not only those the pipeline calls: to register them on a cluster
    /// once, for every pipeline.
    #[arg(long)]
    pub all_udfs: bool,
}

impl ArroyoArgs {
    /// The first `--emit arroyo` option given, by its flag (for other stages, where
    /// it would be ignored).
    pub fn given(&self) -> Option<&'static str> {
        [
            (self.kafka_brokers.is_some(), "--kafka-brokers"),
            (self.sink.is_some(), "--sink"),
            (self.redis_address.is_some(), "--redis-address"),
            (self.slide.is_some(), "--slide"),
            (self.staleness.is_some(), "--staleness"),
            (self.all_udfs, "--all-udfs"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }
}

/// Runs `--emit arroyo`: checks the options, emits, writes `DIR/pipeline.sql`.
pub fn main(args: &Args) -> ExitCode {
    match run(args) {
        Ok(code) | Err(code) => code,
    }
}

fn run(args: &Args) -> Result<ExitCode, ExitCode> {
    if args.partitions.is_some() {
        return Err(super::fail("--partitions is an option of `--emit batch`"));
    }
    if let Some(flag) = args.sql.given_beyond_selection() {
        return Err(super::fail(format!("{flag} is an option of `--emit sql`")));
    }
    let Some(dir) = &args.out else {
        return Err(super::fail(
            "--emit arroyo needs --out DIR (it writes DIR/pipeline.sql)",
        ));
    };
    let options = options(&args.arroyo)?;
    let (files, project) = super::compile_project(&args.projects)?;
    let features =
        featc::job::select_features(&project, args.sql.service.as_deref(), &args.sql.features)
            .map_err(super::fail)?;
    let plan = featc::lower::groups::plan_groups(&project, &features).map_err(super::fail)?;
    if let SlideRule::Fixed(s) = options.slide {
        let widths = plan
            .groups
            .iter()
            .flat_map(|g| &g.features)
            .filter_map(|f| f.window_us.map(|w| (w, f)));
        for (w, f) in widths {
            if slide::check_fixed(s, [w]).is_some() {
                return Err(super::fail(format!(
                    "--slide {} does not divide the {} window of feature `{}` (view `{}`): use a slide that divides every window, or --staleness",
                    args.arroyo.slide.as_deref().unwrap_or_default(),
                    duration_label(w),
                    f.name,
                    f.view,
                )));
            }
        }
    }
    let pipeline = match emit_arroyo(&project, &plan, &options) {
        Ok(p) => p,
        Err(refusals) => {
            super::report(&refusal::diagnostics(&refusals), &files);
            return Err(ExitCode::from(super::EXIT_ERRORS));
        }
    };
    let mut udfs = pipeline.udfs.clone();
    if args.arroyo.all_udfs {
        udfs.extend(featc::emit::arroyo::udfs::representative_specs());
    }
    let written = write_pipeline(dir, &pipeline, &udfs).map_err(super::fail)?;
    for path in written {
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The emitter's options from the flags (usage errors as exit codes).
fn options(args: &ArroyoArgs) -> Result<ArroyoOptions, ExitCode> {
    let mut options = ArroyoOptions::default();
    if let Some(brokers) = &args.kafka_brokers {
        options.kafka_brokers.clone_from(brokers);
    }
    match args.sink.as_deref() {
        None | Some("kafka") => {
            if args.redis_address.is_some() {
                return Err(super::fail(
                    "--redis-address is an option of `--sink redis`",
                ));
            }
        }
        Some("redis") => {
            options.sink = Sink::Redis {
                address: args
                    .redis_address
                    .clone()
                    .unwrap_or_else(|| "redis://localhost:6379".into()),
            }
        }
        Some(other) => {
            return Err(super::fail(format!(
                "--sink: no sink `{other}` (kafka, redis)"
            )))
        }
    }
    let duration = |flag: &str, text: &str| -> Result<i64, ExitCode> {
        match super::replay::parse_duration(text) {
            Ok(us) if us > 0 => Ok(us),
            Ok(_) => Err(super::fail(format!("{flag} must be positive"))),
            Err(e) => Err(super::fail(format!("{flag}: {e}"))),
        }
    };
    if let Some(text) = &args.slide {
        options.slide = SlideRule::Fixed(duration("--slide", text)?);
    }
    if let Some(text) = &args.staleness {
        options.slide = SlideRule::Staleness(duration("--staleness", text)?);
    }
    Ok(options)
}

/// Writes the pipeline into `dir` (created if needed): `pipeline.sql` and the crates
/// of `udfs` (those it calls, or more) in `udfs/` (a workspace of its own; a previous
/// `udfs/` is replaced, so no crate of an earlier run lingers). Returns the paths
/// written.
pub fn write_pipeline(
    dir: &Path,
    pipeline: &ArroyoPipeline,
    udfs: &BTreeSet<UdfSpec>,
) -> Result<Vec<PathBuf>, String> {
    let write = |path: &Path, text: &str| {
        path.parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(path, text))
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))
    };
    // Every UDF is checked when the features are (`layout` refuses what has none).
    let crates = featc::emit::arroyo::udfs::files(udfs).map_err(|e| e.to_string())?;
    let path = dir.join("pipeline.sql");
    write(&path, &pipeline.text())?;
    let mut written = vec![path];
    let udfs = dir.join("udfs");
    if udfs.exists() {
        std::fs::remove_dir_all(&udfs)
            .map_err(|e| format!("cannot replace `{}`: {e}", udfs.display()))?;
    }
    for (relative, text) in crates {
        let path = udfs.join(relative);
        write(&path, &text)?;
        written.push(path);
    }
    Ok(written)
}
