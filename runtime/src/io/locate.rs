//! Where bad data is. DataFusion reads a source's files in parallel and in byte ranges,
//! and its readers' errors name a column by index and a line counted from wherever the
//! range began (`Error parsing column 2 at line 5`), or no place at all (`Corrupt
//! footer`). When reading fails, the files are read again here, one by one from their
//! start, checking what the run checks, to name the first bad cell by its file, its
//! line (CSV: the header is line 1) or row (Parquet: the first row is row 1), its
//! column and its text. Objects in object storage are downloaded one at a time and
//! read the same way, named by their URL. Only the failure path pays for it.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::csv::ReaderBuilder;
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::arrow::ProjectionMask;

use super::object::{self, ObjectLocation};
use super::parse::parse_text;
use super::{csv_header, data_files, Format, IoError, Position};
use crate::ir::{DataType, EpochUnit};
use crate::row::time::{to_micros_in, TimeError};

/// A column the run reads, and what it must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub name: String,
    pub ty: DataType,
    pub nullable: bool,
    /// The unit of its integer times (its source's `epoch` clause), for a time.
    pub epoch: Option<EpochUnit>,
}

/// Reads the files at `path` again and returns the first bad cell (or bad file)
/// among the `columns` a run reads, `None` when every file reads clean (the failure
/// was not in the data).
pub fn first_bad_cell(table: &str, path: &Path, columns: &[Expected]) -> Option<IoError> {
    first_bad_cell_read(table, path, columns, &|_| false)
}

/// `first_bad_cell` among the files a run read: those `skip` names (by path or URL)
/// were not read (`io::partition`'s skipped partitions), so their cells are not
/// what failed it.
pub fn first_bad_cell_read(
    table: &str,
    path: &Path,
    columns: &[Expected],
    skip: &(dyn Fn(&str) -> bool + Sync),
) -> Option<IoError> {
    // A table's files are read through its format's reader: the engine's error stands.
    if super::lakehouse::is_table(path) {
        return None;
    }
    if let Some(location) = ObjectLocation::of(path) {
        return first_bad_object(table, path, &location, columns, skip);
    }
    let (format, files) = match data_files(table, path) {
        Ok(found) => found,
        Err(e) => return Some(e),
    };
    let read = files.iter().filter(|f| !skip(&f.to_string_lossy()));
    read.into_iter().find_map(|file| match format {
        Format::Csv => csv_file(table, file, columns),
        Format::Parquet => parquet_file(table, file, columns),
    })
}

/// `first_bad_cell` for objects: each is downloaded in turn and read like a file
/// (`object::first_in_objects`), and the cell is named by the object's URL. An object
/// that cannot be downloaded is that error.
fn first_bad_object(
    table: &str,
    path: &Path,
    location: &ObjectLocation,
    columns: &[Expected],
    skip: &(dyn Fn(&str) -> bool + Sync),
) -> Option<IoError> {
    let found = object::first_in_objects(location, skip, &mut |temp, url, format| {
        let bad = match format {
            Format::Csv => csv_file(table, temp, columns),
            Format::Parquet => parquet_file(table, temp, columns),
        };
        bad.map(|e| in_file(e, Path::new(url)))
    });
    found.unwrap_or_else(|message| {
        Some(IoError::Unreadable {
            table: table.to_string(),
            path: path.to_path_buf(),
            message,
        })
    })
}

/// `error`, found in a copy of a file, as of the file at `name`.
fn in_file(error: IoError, name: &Path) -> IoError {
    match error {
        IoError::BadFile { table, message, .. } => IoError::BadFile {
            table,
            file: name.to_path_buf(),
            message,
        },
        IoError::BadCell {
            table,
            at,
            column,
            message,
            ..
        } => IoError::BadCell {
            table,
            file: name.to_path_buf(),
            at,
            column,
            message,
        },
        IoError::Unreadable { table, message, .. } => IoError::Unreadable {
            table,
            path: name.to_path_buf(),
            message,
        },
        other => other,
    }
}

fn bad_file(table: &str, file: &Path, message: impl ToString) -> IoError {
    IoError::BadFile {
        table: table.to_string(),
        file: file.to_path_buf(),
        message: message.to_string(),
    }
}

fn csv_file(table: &str, file: &Path, columns: &[Expected]) -> Option<IoError> {
    let header = match csv_header(table, file) {
        Ok(h) => h,
        Err(e) => return Some(e),
    };
    // Every column as text: the reader itself never fails on a value, the checks
    // below do, knowing the row.
    let schema = Arc::new(Schema::new(
        header
            .iter()
            .map(|n| Field::new(n, ArrowType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let reader = match File::open(file) {
        Ok(f) => ReaderBuilder::new(schema)
            .with_header(true)
            .with_batch_size(8192)
            .build(f),
        Err(e) => return Some(bad_file(table, file, e)),
    };
    let reader = match reader {
        Ok(r) => r,
        Err(e) => return Some(bad_file(table, file, e)),
    };
    let mut rows_before = 0usize;
    for batch in reader {
        let batch = match batch {
            Ok(b) => b,
            // Field counts: the reader counts records from the file's start, header
            // included, which is the line when no value spans lines.
            Err(e) => return Some(record_error(table, file, &e.to_string())),
        };
        for c in columns {
            let Some(text) = batch.column_by_name(&c.name) else {
                return Some(bad_file(
                    table,
                    file,
                    format!("has no column `{}` in its header", c.name),
                ));
            };
            if let Some((row, message)) = bad_text(text, c) {
                return Some(IoError::BadCell {
                    table: table.to_string(),
                    file: file.to_path_buf(),
                    at: Position::Line(rows_before + row + 2),
                    column: c.name.clone(),
                    message,
                });
            }
        }
        rows_before += batch.num_rows();
    }
    None
}

/// An error of the CSV reader itself, at the line it names when it names one.
pub(super) fn record_error(table: &str, file: &Path, message: &str) -> IoError {
    let line = message
        .split("for line ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse::<usize>().ok());
    // "incorrect number of fields for line 6, expected 6 got 2": the line is said
    // apart, the rest stays.
    let message = message.trim_start_matches("Csv error: ");
    let message = match (message.split_once(" for line "), line) {
        (Some((head, tail)), Some(n)) => {
            let rest = tail
                .trim_start_matches(&n.to_string())
                .trim_start_matches(',');
            format!("{head}:{rest}")
        }
        _ => message.to_string(),
    };
    match line {
        Some(line) => IoError::BadCell {
            table: table.to_string(),
            file: file.to_path_buf(),
            at: Position::Line(line),
            column: String::new(),
            message,
        },
        None => bad_file(table, file, message),
    }
}

/// The first row of a text column that does not hold a value of `c`, and why.
fn bad_text(text: &ArrayRef, c: &Expected) -> Option<(usize, String)> {
    if !c.nullable {
        if let Some(row) = (0..text.len()).find(|&r| text.is_null(r)) {
            return Some((row, "empty, in a column that may not be null".to_string()));
        }
    }
    let typed: ArrayRef = match c.ty {
        DataType::String => return None,
        DataType::Timestamp => match to_micros_in(text, c.epoch) {
            Ok(typed) => typed,
            Err(TimeError::Integer { row, error }) => return Some((row, error.to_string())),
            Err(_) => return None,
        },
        ty => parse_text(text, ty).ok()?,
    };
    let row = (0..text.len()).find(|&r| text.is_valid(r) && typed.is_null(r))?;
    let cell = text.as_string::<i32>().value(row);
    Some((row, format!("cannot read '{cell}' as {}", c.ty.name())))
}

fn parquet_file(table: &str, file: &Path, columns: &[Expected]) -> Option<IoError> {
    let opened = File::open(file)
        .map_err(|e| e.to_string())
        .and_then(|f| ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| e.to_string()));
    let builder = match opened {
        Ok(b) => b,
        Err(e) => {
            let why = e.trim_start_matches("Parquet error: ");
            return Some(bad_file(
                table,
                file,
                format!("not a readable Parquet file: {why}"),
            ));
        }
    };
    let arrow_schema = Arc::clone(builder.schema());
    let mut indices = Vec::new();
    for c in columns {
        match arrow_schema.index_of(&c.name) {
            Ok(i) => indices.push(i),
            Err(_) => return Some(bad_file(table, file, format!("has no column `{}`", c.name))),
        }
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), indices.iter().copied());
    let reader = match builder.with_projection(mask).build() {
        Ok(r) => r,
        Err(e) => return Some(bad_file(table, file, e)),
    };
    let mut rows_before = 0usize;
    for batch in reader {
        let batch: RecordBatch = match batch {
            Ok(b) => b,
            Err(e) => return Some(bad_file(table, file, e)),
        };
        for c in columns {
            let Some(values) = batch.column_by_name(&c.name) else {
                continue;
            };
            if let Some((row, message)) = bad_value(values, c) {
                return Some(IoError::BadCell {
                    table: table.to_string(),
                    file: file.to_path_buf(),
                    at: Position::Row(rows_before + row + 1),
                    column: c.name.clone(),
                    message,
                });
            }
        }
        rows_before += batch.num_rows();
    }
    None
}

/// The first row of a typed column that breaks `c`: a null where none is allowed, or
/// a time that does not fit in microseconds.
fn bad_value(values: &ArrayRef, c: &Expected) -> Option<(usize, String)> {
    if !c.nullable {
        if let Some(row) = (0..values.len()).find(|&r| values.is_null(r)) {
            return Some((row, "null, in a column that may not be null".to_string()));
        }
    }
    if c.ty == DataType::Date {
        if let Err(e) = crate::row::date::to_days(values) {
            return Some((e.row, e.error.to_string()));
        }
    }
    if let DataType::Decimal { precision, scale } = c.ty {
        if let Err(e) = crate::row::decimal::to_decimal(values, precision, scale) {
            return Some((e.row, e.error.to_string()));
        }
    }
    if c.ty == DataType::Timestamp {
        match to_micros_in(values, c.epoch) {
            Err(TimeError::Overflow { row }) => {
                return Some((row, "a time that does not fit in microseconds".to_string()))
            }
            Err(TimeError::Integer { row, error }) => return Some((row, error.to_string())),
            _ => {}
        }
    }
    None
}
