//! Reading any table of values (a training set, a log of served vectors, a Parquet or
//! CSV file or a folder of them) batch by batch, for `featc stats` and `featc drift`:
//! no declared schema, so Parquet brings its own and a CSV's types are inferred from
//! every line of its files. Files are read one after another, in name order, so a
//! folder of time-named files is read in time order.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::csv::reader::{Format as CsvFormat, Reader as CsvReader};
use datafusion::arrow::csv::ReaderBuilder;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::arrow_reader::{
    ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder,
};

use super::locate::record_error;
use super::{data_files, Format, IoError};

const BATCH_ROWS: usize = 8192;

/// A table being read (see the module docs).
pub struct TableReader {
    table: String,
    format: Format,
    files: Vec<PathBuf>,
    next_file: usize,
    schema: SchemaRef,
    current: Option<(PathBuf, Batches)>,
}

enum Batches {
    Parquet(ParquetRecordBatchReader),
    // Boxed: the CSV reader's state is much larger than the Parquet reader's.
    Csv(Box<CsvReader<File>>),
}

impl std::fmt::Debug for TableReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableReader")
            .field("table", &self.table)
            .field("files", &self.files)
            .finish()
    }
}

fn bad_file(table: &str, file: &Path, message: impl ToString) -> IoError {
    IoError::BadFile {
        table: table.to_string(),
        file: file.to_path_buf(),
        message: message.to_string(),
    }
}

impl TableReader {
    /// Opens the table at `path`; `table` names it in errors. The schema is the first
    /// Parquet file's (with its metadata), or the CSV columns' types inferred over
    /// every file.
    pub fn open(table: &str, path: &Path) -> Result<TableReader, IoError> {
        let (format, files) = data_files(table, path)?;
        let schema = match format {
            Format::Parquet => {
                let first = files.first().ok_or_else(|| IoError::UnknownFormat {
                    table: table.to_string(),
                    path: path.to_path_buf(),
                })?;
                parquet_builder(table, first)?.schema().clone()
            }
            Format::Csv => {
                let mut schemas = Vec::new();
                for file in &files {
                    schemas.push(csv_schema(table, file)?);
                }
                let merged = Schema::try_merge(schemas).map_err(|e| {
                    bad_file(table, path, format!("the files' columns differ: {e}"))
                })?;
                Arc::new(merged)
            }
        };
        Ok(TableReader {
            table: table.to_string(),
            format,
            files,
            next_file: 0,
            schema,
            current: None,
        })
    }

    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    /// The data files, in the order they are read.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The next batch, `None` after the last file.
    pub fn next_batch(&mut self) -> Result<Option<RecordBatch>, IoError> {
        loop {
            if let Some((file, batches)) = &mut self.current {
                let next = match batches {
                    Batches::Parquet(r) => r
                        .next()
                        .map(|b| b.map_err(|e| bad_file(&self.table, file, e))),
                    Batches::Csv(r) => r
                        .next()
                        .map(|b| b.map_err(|e| csv_error(&self.table, file, &e.to_string()))),
                };
                match next {
                    Some(batch) => return batch.map(Some),
                    None => self.current = None,
                }
            }
            let Some(file) = self.files.get(self.next_file).cloned() else {
                return Ok(None);
            };
            self.next_file += 1;
            let batches = match self.format {
                Format::Parquet => {
                    let builder = parquet_builder(&self.table, &file)?;
                    if !same_columns(builder.schema(), &self.schema) {
                        return Err(bad_file(
                            &self.table,
                            &file,
                            format!(
                                "its columns differ from those of `{}`",
                                self.files[0].display()
                            ),
                        ));
                    }
                    let reader = builder
                        .with_batch_size(BATCH_ROWS)
                        .build()
                        .map_err(|e| bad_file(&self.table, &file, e))?;
                    Batches::Parquet(reader)
                }
                Format::Csv => {
                    let f = File::open(&file).map_err(|e| bad_file(&self.table, &file, e))?;
                    let reader = ReaderBuilder::new(Arc::clone(&self.schema))
                        .with_header(true)
                        .with_batch_size(BATCH_ROWS)
                        .build(f)
                        .map_err(|e| bad_file(&self.table, &file, e))?;
                    Batches::Csv(Box::new(reader))
                }
            };
            self.current = Some((file, batches));
        }
    }
}

/// Same names and types in the same order (metadata aside).
fn same_columns(a: &Schema, b: &Schema) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(x, y)| x.name() == y.name() && x.data_type() == y.data_type())
}

fn parquet_builder(
    table: &str,
    file: &Path,
) -> Result<ParquetRecordBatchReaderBuilder<File>, IoError> {
    let f = File::open(file).map_err(|e| IoError::Unreadable {
        table: table.to_string(),
        path: file.to_path_buf(),
        message: e.to_string(),
    })?;
    ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| bad_file(table, file, e))
}

/// A CSV file's column types, inferred from every line (empty cells are nulls).
fn csv_schema(table: &str, file: &Path) -> Result<Schema, IoError> {
    // Names checked as the spine reader checks them (a column named twice).
    super::csv_header(table, file)?;
    let f = File::open(file).map_err(|e| IoError::Unreadable {
        table: table.to_string(),
        path: file.to_path_buf(),
        message: e.to_string(),
    })?;
    let (schema, _) = CsvFormat::default()
        .with_header(true)
        .infer_schema(f, None)
        .map_err(|e| csv_error(table, file, &e.to_string()))?;
    Ok(schema)
}

/// A CSV reader's error at the line it names: the typed reader says "for line N",
/// schema inference "at line N".
fn csv_error(table: &str, file: &Path, message: &str) -> IoError {
    let Some((head, tail)) = message.split_once(" at line ") else {
        return record_error(table, file, message);
    };
    match tail.trim().parse::<usize>() {
        Ok(line) => IoError::BadCell {
            table: table.to_string(),
            file: file.to_path_buf(),
            at: super::Position::Line(line),
            column: String::new(),
            message: head.trim_start_matches("Csv error: ").to_string(),
        },
        Err(_) => record_error(table, file, message),
    }
}
