//! `featc verify --sql-engine DIALECT=COMMAND`: the emitted SQL of a dialect run by
//! an engine outside featc, through a command and a folder of files (docs/verify.md,
//! "Your SQL engines"). featc writes the tables as Parquet and the script, runs the
//! command, and reads the rows it wrote back.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::record_batch::RecordBatch;
use featc::emit::sql::{Dialect, Script};
use featc::verify::{SqlAnswer, SqlEngine, SqlTable};
use featc_runtime::io::{OutputWriter, TableReader};

/// The environment variable naming the folder a command works in.
pub const DIR_VARIABLE: &str = "FEATC_VERIFY_DIR";
/// Lines of a failed command's stderr a report quotes.
const QUOTED_LINES: usize = 20;
/// Runs so far in this process, of every engine: each run's folder has its own name,
/// so a folder kept after a failure is never reused by another run.
static RUNS: AtomicUsize = AtomicUsize::new(0);

/// An engine behind a shell command. Each run gets a fresh folder `$FEATC_VERIFY_DIR`
/// holding `query.sql` (the script, each statement ended by `;`) and
/// `tables/NAME.parquet` (every table it reads, the spine among them); the command
/// writes the last statement's rows to `result.parquet` there and exits with 0.
pub struct CommandEngine {
    name: String,
    dialect: Dialect,
    command: String,
}

impl CommandEngine {
    /// From `DIALECT=COMMAND` (`--sql-engine`), named `sql:DIALECT`, or
    /// `sql:DIALECT#N` for the Nth engine of a dialect named before (`earlier`).
    pub fn parse(spec: &str, earlier: &[CommandEngine]) -> Result<CommandEngine, String> {
        let (dialect, command) = spec
            .split_once('=')
            .ok_or_else(|| format!("--sql-engine `{spec}`: expected DIALECT=COMMAND"))?;
        let dialect = Dialect::by_name(dialect.trim()).ok_or_else(|| {
            let names: Vec<&str> = Dialect::ALL.iter().map(|d| d.name()).collect();
            format!(
                "--sql-engine `{spec}`: no dialect `{}` (one of {})",
                dialect.trim(),
                names.join(", ")
            )
        })?;
        if command.trim().is_empty() {
            return Err(format!("--sql-engine `{spec}`: the command is empty"));
        }
        let same = earlier.iter().filter(|e| e.dialect == dialect).count();
        let name = match same {
            0 => format!("sql:{}", dialect.name()),
            n => format!("sql:{}#{}", dialect.name(), n + 1),
        };
        Ok(CommandEngine {
            name,
            dialect,
            command: command.to_string(),
        })
    }

    fn fresh_dir(&self) -> Result<PathBuf, String> {
        let run = RUNS.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "featc-verify-{}-{}-{run}",
            std::process::id(),
            self.dialect.name()
        ));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::create_dir_all(dir.join("tables"))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(dir)
    }

    fn run_in(
        &self,
        dir: &Path,
        script: &Script,
        tables: Vec<SqlTable>,
    ) -> Result<RecordBatch, String> {
        std::fs::write(dir.join("query.sql"), script.text())
            .map_err(|e| format!("writing the script: {e}"))?;
        for table in tables {
            write_table(
                &dir.join("tables").join(format!("{}.parquet", table.name)),
                &table,
            )?;
        }
        let output = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .env(DIR_VARIABLE, dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run `{}`: {e}", self.command))?;
        if !output.status.success() {
            return Err(format!(
                "`{}` exited with {}:\n{}",
                self.command,
                output.status,
                last_lines(&String::from_utf8_lossy(&output.stderr))
            ));
        }
        read_result(&dir.join("result.parquet"))
    }
}

impl SqlEngine for CommandEngine {
    fn name(&self) -> &str {
        &self.name
    }

    fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn run<'a>(&'a self, script: &'a Script, tables: Vec<SqlTable>) -> SqlAnswer<'a> {
        Box::pin(async move {
            let dir = self.fresh_dir()?;
            match self.run_in(&dir, script, tables) {
                Ok(rows) => {
                    // A folder left behind is only disk: the answer stands.
                    let _ = std::fs::remove_dir_all(&dir);
                    Ok(rows)
                }
                Err(e) => Err(format!("{e}\n(its files are kept in {})", dir.display())),
            }
        })
    }
}

fn write_table(path: &Path, table: &SqlTable) -> Result<(), String> {
    let mut writer = OutputWriter::create(path, table.schema.clone()).map_err(|e| e.to_string())?;
    for batch in &table.batches {
        writer.write(batch).map_err(|e| e.to_string())?;
    }
    writer.finish().map_err(|e| e.to_string())
}

fn read_result(path: &Path) -> Result<RecordBatch, String> {
    if !path.is_file() {
        return Err(format!("the command wrote no result: {}", path.display()));
    }
    let mut reader = TableReader::open("result.parquet", path).map_err(|e| e.to_string())?;
    let mut batches = Vec::new();
    while let Some(batch) = reader.next_batch().map_err(|e| e.to_string())? {
        batches.push(batch);
    }
    concat_batches(&reader.schema(), &batches).map_err(|e| e.to_string())
}

fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(QUOTED_LINES)..].join("\n")
}
