//! Data IO for the batch and streaming paths: binding a declared source to a Parquet or
//! CSV file or folder, or to a table (`delta:`, `iceberg:`: `lakehouse`) at a version
//! (schema checked against the declaration, types normalised to featc's Arrow types),
//! reading a spine, writing a training set (a file, or a Delta table's new version).
//!
//! After binding, a source's table has exactly `declared_schema(source)`: the time
//! column as `Timestamp(µs, "UTC")`, then the declared columns in declaration order as
//! `row::types::arrow_type(ty)`. Nulls in the time column or a non-nullable column are
//! data errors raised while the table is read (naming the source, the column and the
//! row's time), never silently dropped. Time conversion and the Arrow types themselves
//! are `row`'s (`row::time`, `row::types`).

pub mod bind;
pub mod delta;
pub mod failure;
pub mod iceberg;
pub mod lakehouse;
pub mod locate;
pub mod needed;
pub mod object;
pub mod output;
pub mod parse;
pub mod partition;
pub mod partition_check;
pub mod path;
pub mod source;
pub mod spine;
pub mod spine_file;
pub mod table;
pub mod udf;

mod memory;

use std::fmt;
use std::path::{Path, PathBuf};

use datafusion::prelude::SessionConfig;

pub use bind::{
    bind_sources, bind_sources_counting, expected_columns, explain_failure, sources_of, spine_keys,
    Inputs, SEQ_COLUMN,
};
pub use failure::ComputeFailure;
pub use lakehouse::{versions_read, SourceVersion, TableLocation};
pub use memory::MemoryTable;
pub use needed::{events_needed, EventRange};
pub use output::OutputWriter;
pub use partition::PartitionsRead;
pub use source::{bind_memory, bind_source, bind_source_below, declared_schema};
pub use spine::{read_spine, spine_from_table, Spine};
pub use spine_file::SpineFile;
pub use table::TableReader;

/// An IO or schema error, naming the table (source name or `spine`) and column.
#[derive(Debug, Clone, PartialEq)]
pub enum IoError {
    /// The path is neither a `.parquet`/`.csv` file nor a folder holding some.
    UnknownFormat { table: String, path: PathBuf },
    /// The path does not exist or cannot be read.
    Unreadable {
        table: String,
        path: PathBuf,
        message: String,
    },
    /// A declared (or key/time) column is not in the data (`path` is empty for data
    /// held in memory).
    MissingColumn {
        table: String,
        column: String,
        path: PathBuf,
        found: Vec<String>,
    },
    /// A column's type in the data cannot hold the declared type.
    WrongType {
        table: String,
        column: String,
        expected: String,
        found: String,
    },
    /// A data file that cannot be read as its format (a corrupt Parquet footer, a
    /// CSV header naming a column twice, a missing column).
    BadFile {
        table: String,
        file: PathBuf,
        message: String,
    },
    /// A cell (or a CSV record) that breaks the declared schema, where it is.
    BadCell {
        table: String,
        file: PathBuf,
        at: Position,
        /// Empty for a record-level problem (a CSV line with too many fields).
        column: String,
        message: String,
    },
    /// Writing the output failed.
    Write { path: PathBuf, message: String },
    /// An error from DataFusion while reading.
    Read { table: String, message: String },
}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IoError::UnknownFormat { table, path } => write!(
                f,
                "{table}: `{}` is not a .parquet or .csv file, nor a folder of them",
                path.display()
            ),
            IoError::Unreadable {
                table,
                path,
                message,
            } => {
                write!(f, "{table}: cannot read `{}`: {message}", path.display())
            }
            IoError::MissingColumn {
                table,
                column,
                path,
                found,
            } if path.as_os_str().is_empty() => write!(
                f,
                "{table}: column `{column}` is missing (it has: {})",
                found.join(", ")
            ),
            IoError::MissingColumn {
                table,
                column,
                path,
                found,
            } => write!(
                f,
                "{table}: column `{column}` is missing from `{}` (it has: {})",
                path.display(),
                found.join(", ")
            ),
            IoError::WrongType {
                table,
                column,
                expected,
                found,
            } => {
                write!(
                    f,
                    "{table}: column `{column}` should be {expected}, but the data has {found}"
                )
            }
            IoError::BadFile {
                table,
                file,
                message,
            } => write!(f, "{table}: `{}`: {message}", file.display()),
            IoError::BadCell {
                table,
                file,
                at,
                column,
                message,
            } => {
                match at {
                    Position::Line(line) => write!(f, "{table}: {}:{line}", file.display())?,
                    Position::Row(row) => write!(f, "{table}: `{}`, row {row}", file.display())?,
                }
                if !column.is_empty() {
                    write!(f, ", column `{column}`")?;
                }
                write!(f, ": {message}")
            }
            IoError::Write { path, message } => {
                write!(f, "cannot write `{}`: {message}", path.display())
            }
            IoError::Read { table, message } => write!(f, "{table}: {message}"),
        }
    }
}

impl std::error::Error for IoError {}

/// Where in a data file: a CSV line (the header is line 1) or a Parquet row (the
/// first row is row 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Line(usize),
    Row(usize),
}

/// The session settings featc's readers rely on: plain `Utf8` strings rather than
/// `Utf8View` from Parquet (the declared schemas use `Utf8`); and each partition of
/// a scan reading exactly its own files. By default a partition's stream steals
/// files from its siblings' queue, so which rows a partition gives depends on how
/// its streams are polled; a lookup's spine is a group's events, read twice (to
/// number its rows, and to put the answers back in their order: `batch::planner`),
/// and two reads that deal the files otherwise give the answers to the wrong events
/// (`cli/tests/cli_time_partitions.rs` found it: the checkout example's payments
/// split into 1 094 files). And sorts spill compressed (`SPILL_COMPRESSION`).
pub fn configure(config: SessionConfig) -> SessionConfig {
    config
        .set_bool(
            "datafusion.execution.parquet.schema_force_view_types",
            false,
        )
        .set_bool(
            "datafusion.execution.enable_file_stream_work_stealing",
            false,
        )
        .set_str("datafusion.execution.spill_compression", SPILL_COMPRESSION)
}

/// How sorts compress what they spill. Uncompressed (DataFusion's default), a
/// training set over 1e9 events spilled about 23 GB in its first 3.5 minutes and ran
/// out of this machine's disk; the runs of (key, time, values) a sort writes compress
/// well (sorted keys and times, few distinct strings). BENCHMARKS.md, "A billion
/// events", measures the choice.
const SPILL_COMPRESSION: &str = "lz4_frame";

/// The machine's physical memory in bytes (`MemTotal` of /proc/meminfo; `None`
/// elsewhere than Linux): what a training set's default memory limit is a share of.
pub fn machine_memory() -> Option<usize> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The file formats featc reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Csv,
}

impl Format {
    /// The format of a file by its extension (case-insensitive).
    pub fn of_file(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "parquet" => Some(Format::Parquet),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Parquet => ".parquet",
            Format::Csv => ".csv",
        }
    }
}

/// The format of a file, or of the first data file (by name) in a folder, plus that
/// file (CSV schemas are read from its header).
fn detect(table: &str, path: &Path) -> Result<(Format, PathBuf), IoError> {
    let (format, files) = data_files(table, path)?;
    match files.into_iter().next() {
        Some(first) => Ok((format, first)),
        None => Err(IoError::UnknownFormat {
            table: table.to_string(),
            path: path.to_path_buf(),
        }),
    }
}

/// The data files at `path` (the file itself, or the `.parquet`/`.csv` files in a
/// folder and its sub-folders, of the format of the first one, by path) and their
/// format.
fn data_files(table: &str, path: &Path) -> Result<(Format, Vec<PathBuf>), IoError> {
    let unreadable = |e: std::io::Error| IoError::Unreadable {
        table: table.to_string(),
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let unknown = || IoError::UnknownFormat {
        table: table.to_string(),
        path: path.to_path_buf(),
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_dir() {
        let format = Format::of_file(path).ok_or_else(unknown)?;
        return Ok((format, vec![path.to_path_buf()]));
    }
    // Sub-folders too: a hive-partitioned table (`date=2024-03-01/part-0.parquet`) is
    // read whole, as DataFusion lists a folder.
    let mut files: Vec<PathBuf> = Vec::new();
    let mut folders = vec![path.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).map_err(unreadable)?.flatten() {
            let p = entry.path();
            if p.is_dir() {
                folders.push(p);
            } else if p.is_file() && Format::of_file(&p).is_some() {
                files.push(p);
            }
        }
    }
    files.sort();
    let format = files
        .first()
        .and_then(|f| Format::of_file(f))
        .ok_or_else(unknown)?;
    files.retain(|f| Format::of_file(f) == Some(format));
    Ok((format, files))
}

/// The column names of a CSV file's header line.
fn csv_header(table: &str, file: &Path) -> Result<Vec<String>, IoError> {
    use std::io::BufRead;
    let unreadable = |message: String| IoError::Unreadable {
        table: table.to_string(),
        path: file.to_path_buf(),
        message,
    };
    let f = std::fs::File::open(file).map_err(|e| unreadable(e.to_string()))?;
    let mut line = String::new();
    std::io::BufReader::new(f)
        .read_line(&mut line)
        .map_err(|e| unreadable(e.to_string()))?;
    header_names(table, file, &line)
}

/// The column names of a CSV header `line` of `file`.
fn header_names(table: &str, file: &Path, line: &str) -> Result<Vec<String>, IoError> {
    let unreadable = |message: String| IoError::Unreadable {
        table: table.to_string(),
        path: file.to_path_buf(),
        message,
    };
    let mut reader = datafusion::arrow::csv::reader::Format::default().with_header(true);
    reader = reader.with_delimiter(b',');
    let (schema, _) = reader
        .infer_schema(std::io::Cursor::new(line.as_bytes()), Some(0))
        .map_err(|e| unreadable(e.to_string()))?;
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = names.iter().find(|n| !seen.insert(n.as_str())) {
        return Err(IoError::BadFile {
            table: table.to_string(),
            file: file.to_path_buf(),
            message: format!("the header names column `{twice}` twice"),
        });
    }
    Ok(names)
}
