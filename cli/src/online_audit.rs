//! `featc serve --audit-sample F`: the audit running inside the server, on a
//! background thread, over a fraction of the reads it logs (docs/audit.md, "Inside
//! `featc serve`"). Every `--audit-interval` it takes the served log's files that
//! completed since the server started and whose reads the state's archive covers
//! (every read's `applying_seq` at or below the last checkpoint's), audits about F
//! of their reads against the state directory (`featc audit --state`), and adds the
//! cells to `/metrics` (`featc_audit_cells_total{result,cause}`), so that a
//! mismatch raises an alert within minutes of the checkpoint after it, not after a
//! daily job. It recomputes with one partition and a bounded sort memory, beside
//! the server's own work.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::UInt64Type;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::arrow::ProjectionMask;
use featc::audit::{Audit, Cause, Report};
use featc::ir::Project;
use featc_runtime::batch::Resources;
use featc_runtime::io::Inputs;
use featc_runtime::stats::APPLYING_SEQ_COLUMN;
use featc_server::metrics::MetricsSource;

/// Memory the recomputation's sorts hold before they spill, inside the server.
const SORT_MEMORY: usize = 256 << 20;

/// What the background audit needs.
pub struct Settings {
    pub project: Project,
    /// The served log's folder (`--log-served`).
    pub served: PathBuf,
    /// The server's state directory (`--state`).
    pub state: PathBuf,
    /// The sources' history, as `featc audit --source` binds it.
    pub inputs: Inputs,
    /// The fraction of reads audited.
    pub fraction: f64,
    pub every: Duration,
}

/// The running audit; `stop` ends it.
pub struct OnlineAudit {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl OnlineAudit {
    /// Starts the thread; its counts are `counters`' (shown on `/metrics`).
    pub fn start(settings: Settings, counters: Arc<AuditCounters>) -> Result<OnlineAudit, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("featc-audit".to_string())
            .spawn(move || run(&settings, &counters, &stopping))
            .map_err(|e| format!("--audit-sample: cannot start the audit: {e}"))?;
        Ok(OnlineAudit {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the audit (after the file it is auditing, if any).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(settings: &Settings, counters: &AuditCounters, stop: &AtomicBool) {
    let started_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("featc serve: the audit cannot start its runtime: {e}");
            return;
        }
    };
    let mut done: HashSet<PathBuf> = HashSet::new();
    loop {
        let until = Instant::now() + settings.every;
        while Instant::now() < until {
            if stop.load(Ordering::Acquire) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50).min(settings.every));
        }
        if let Err(e) = round(settings, counters, stop, started_us, &mut done, &runtime) {
            counters.tally(|t| t.failures += 1);
            eprintln!("featc serve: audit: {e}");
        }
    }
}

/// One round: every new complete file the archive covers, audited.
fn round(
    settings: &Settings,
    counters: &AuditCounters,
    stop: &AtomicBool,
    started_us: u128,
    done: &mut HashSet<PathBuf>,
    runtime: &tokio::runtime::Runtime,
) -> Result<(), String> {
    let files = match featc::audit::log::list(&settings.served) {
        Ok(files) => files,
        // Nothing served yet.
        Err(featc::audit::AuditError::NoLog(_)) => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    let (header, acknowledged) = super::audit::acknowledged(&settings.state)?;
    let dead_letters = super::audit::dead_letters(&header, &settings.project);
    for file in files {
        if stop.load(Ordering::Acquire) || done.contains(&file.path) {
            continue;
        }
        // Files of an earlier run were that run's to audit.
        if written_at(&file.path).is_none_or(|at| at < started_us) {
            done.insert(file.path);
            continue;
        }
        if !covered(&file.path, header.upto)? {
            continue; // the next checkpoint archives what its reads saw
        }
        let audit = Audit {
            project: &settings.project,
            served: file.path.clone(),
            inputs: {
                let mut inputs = settings.inputs.clone();
                acknowledged.fill(&settings.project, &mut inputs);
                inputs
            },
            resources: Resources {
                partitions: Some(1),
                memory_limit: Some(SORT_MEMORY),
                ..Resources::default()
            },
            sample: Some(((file.rows as f64 * settings.fraction).ceil() as u64).max(1)),
            chunk_rows: featc::audit::CHUNK_ROWS,
            dead_letters: dead_letters.clone(),
            acknowledged: Some(acknowledged.clone()),
        };
        let report = runtime
            .block_on(audit.run(&|_, _| {}))
            .map_err(|e| format!("`{}`: {e}", file.path.display()))?;
        done.insert(file.path.clone());
        counters.add(&report);
        if !report.passed() {
            let first = report.unexplained.first().map_or(String::new(), |f| {
                format!(
                    "; first: {} at {} served {}, training computes {}",
                    f.feature, f.read_time, f.served, f.computed
                )
            });
            eprintln!(
                "featc serve: audit: {} unexplained cells in `{}`{first} (run `featc audit` on it for every value)",
                report.cells.unexplained,
                file.path.display()
            );
        }
    }
    Ok(())
}

/// When a served-log file was started, by its name (`served-<µs>-<seq>.parquet`).
fn written_at(path: &Path) -> Option<u128> {
    let name = path.file_name()?.to_str()?;
    name.strip_prefix("served-")?
        .split('-')
        .next()?
        .parse()
        .ok()
}

/// Whether every read of the file saw only records below `upto` (the last
/// checkpoint's: all archived). A file of a server without `--state` never is.
fn covered(path: &Path, upto: u64) -> Result<bool, String> {
    let failed = |e: &dyn std::fmt::Display| format!("`{}`: {e}", path.display());
    let file = std::fs::File::open(path).map_err(|e| failed(&e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| failed(&e))?;
    let Ok(at) = builder.schema().index_of(APPLYING_SEQ_COLUMN) else {
        return Ok(false);
    };
    let mask = ProjectionMask::roots(builder.parquet_schema(), [at]);
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(|e| failed(&e))?;
    for batch in reader {
        let batch = batch.map_err(|e| failed(&e))?;
        let Some(seqs) = batch.column(0).as_primitive_opt::<UInt64Type>() else {
            return Ok(false);
        };
        if seqs.null_count() > 0 || seqs.iter().flatten().any(|s| s > upto) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// What the background audit counted, for `/metrics`.
#[derive(Default)]
pub struct AuditCounters {
    tally: Mutex<Tally>,
}

#[derive(Default)]
struct Tally {
    equal: u64,
    explained: BTreeMap<Cause, u64>,
    unexplained: u64,
    reads: u64,
    stale_reads: u64,
    files: u64,
    failures: u64,
    /// The latest file's staleness p99 (µs).
    p99_us: i64,
}

impl AuditCounters {
    fn tally(&self, f: impl FnOnce(&mut Tally)) {
        f(&mut self.tally.lock().unwrap_or_else(|p| p.into_inner()));
    }

    fn add(&self, report: &Report) {
        self.tally(|t| {
            t.equal += report.cells.equal;
            for (cause, n) in &report.cells.explained {
                *t.explained.entry(*cause).or_default() += n;
            }
            t.unexplained += report.cells.unexplained;
            t.reads += report.audited_reads;
            t.files += 1;
            if let Some(s) = &report.staleness {
                t.stale_reads += s.stale_reads;
                t.p99_us = s.p99_us;
            }
        });
    }
}

impl MetricsSource for AuditCounters {
    fn render(&self) -> String {
        let t = self.tally.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP featc_audit_cells_total Cells of sampled served reads recomputed by the background audit (--audit-sample), by result and cause.\n# TYPE featc_audit_cells_total counter"
        );
        let _ = writeln!(
            out,
            "featc_audit_cells_total{{result=\"equal\"}} {}",
            t.equal
        );
        for cause in Cause::ALL {
            let n = t.explained.get(&cause).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "featc_audit_cells_total{{result=\"explained\",cause=\"{}\"}} {n}",
                cause.name()
            );
        }
        let _ = writeln!(
            out,
            "featc_audit_cells_total{{result=\"unexplained\"}} {}",
            t.unexplained
        );
        for (name, help, kind, value) in [
            (
                "featc_audit_reads_total",
                "Served reads audited.",
                "counter",
                t.reads.to_string(),
            ),
            (
                "featc_audit_stale_reads_total",
                "Audited reads that missed an event existing at their read time.",
                "counter",
                t.stale_reads.to_string(),
            ),
            (
                "featc_audit_files_total",
                "Served-log files audited.",
                "counter",
                t.files.to_string(),
            ),
            (
                "featc_audit_failures_total",
                "Audit rounds that failed (the server's stderr says why).",
                "counter",
                t.failures.to_string(),
            ),
            (
                "featc_audit_staleness_p99_seconds",
                "The 99th percentile of the audited reads' staleness, in the latest file audited.",
                "gauge",
                (t.p99_us as f64 / 1e6).to_string(),
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        out
    }
}
