//! Writing a training set to Parquet or CSV (by the output file's extension; a list
//! feature is an Arrow list in Parquet and its JSON text in CSV, `crate::row::list`), safely:
//! the file is written under a temporary name in the same folder and renamed into
//! place only by `finish`, so a run that fails (bad data, a full disk, a kill) leaves
//! whatever was at the output path before untouched, and never a truncated file. An
//! output in object storage (`s3://bucket/key`) is written to the system's temporary
//! folder, then uploaded whole by `finish` (`object::upload`). A Delta table
//! (`delta:PATH_OR_URL`) is written likewise, then committed by `finish` as the table's
//! new version (`delta::write`): a failed run commits nothing.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::csv::Writer as CsvWriter;
use datafusion::arrow::datatypes::{DataType as ArrowType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;

use datafusion::parquet::file::metadata::KeyValue;

use super::delta;
use super::lakehouse::{TableFormat, TableLocation};
use super::object::{self, ObjectLocation};
use super::{Format, IoError};

/// An output file being written, batch by batch. `finish` completes it (a Parquet
/// file without its footer is unreadable) and moves it to its path; dropping an
/// unfinished writer removes the temporary file.
pub struct OutputWriter {
    path: PathBuf,
    temp: PathBuf,
    /// Where the file goes once complete, when `path` is not a local file (`temp` is
    /// then in the system's temporary folder).
    destination: Destination,
    /// Key-value metadata of the file (and of a Delta table's commit).
    metadata: Vec<(String, String)>,
    inner: Option<Inner>,
}

/// Where a complete output file goes.
enum Destination {
    /// Renamed to its path.
    File,
    /// Uploaded to an object.
    Object(ObjectLocation),
    /// Committed as a Delta table's new version (the table's root).
    Delta(String),
}

enum Inner {
    Parquet(Box<ArrowWriter<File>>),
    Csv(Box<CsvWriter<File>>),
}

/// How a Parquet output is written: compressed with zstd; float columns without a
/// dictionary. A float feature's values rarely repeat (sums, averages, variances), so
/// its dictionary grows with the rows and makes no smaller file: building it was half
/// the writer's time, and without it a 1e7-event run writes its output in 0.14 s
/// instead of 0.19 s, 10% smaller (`BENCHMARKS.md`). Counts, strings and keys keep
/// theirs.
fn properties(schema: &SchemaRef) -> WriterProperties {
    schema
        .fields()
        .iter()
        .filter(|f| matches!(f.data_type(), ArrowType::Float64 | ArrowType::Float32))
        .fold(
            WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::default())),
            |props, f| {
                props.set_column_dictionary_enabled(ColumnPath::from(f.name().as_str()), false)
            },
        )
        .build()
}

/// `.NAME.featc-PID.tmp` beside `path`: same folder, so the rename is atomic.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.featc-{}.tmp", std::process::id()))
}

impl OutputWriter {
    /// Starts writing `path` (Parquet or CSV by extension) for batches of `schema`.
    pub fn create(path: &Path, schema: SchemaRef) -> Result<OutputWriter, IoError> {
        let err = |message: String| IoError::Write {
            path: path.to_path_buf(),
            message,
        };
        let (format, destination) = match TableLocation::of(path) {
            Some(table) if table.format == TableFormat::Delta => {
                (Format::Parquet, Destination::Delta(table.target))
            }
            Some(_) => {
                return Err(err(
                    "an Iceberg table is read, not written: write a Delta table \
                     (delta:PATH_OR_URL) or a file"
                        .to_string(),
                ))
            }
            None => {
                let format = Format::of_file(path).ok_or_else(|| {
                    err(
                        "the output must end in .parquet or .csv, or be delta:PATH_OR_URL"
                            .to_string(),
                    )
                })?;
                let destination = match ObjectLocation::of(path) {
                    Some(object) => Destination::Object(object),
                    None => Destination::File,
                };
                (format, destination)
            }
        };
        if matches!(destination, Destination::File) && path.is_dir() {
            return Err(err("is a folder".to_string()));
        }
        let temp = match &destination {
            Destination::File => temp_path(path),
            Destination::Object(_) => {
                std::env::temp_dir().join(temp_path(path).file_name().unwrap_or_default())
            }
            // A name of its own (the table's root names a folder), ending in
            // `.parquet`, which the commit's reader wants.
            Destination::Delta(_) => std::env::temp_dir()
                .join(format!(".featc-delta-{}.tmp.parquet", std::process::id())),
        };
        let file = File::create(&temp).map_err(|e| err(e.to_string()))?;
        let mut writer = OutputWriter {
            path: path.to_path_buf(),
            temp,
            destination,
            metadata: Vec::new(),
            inner: None,
        };
        writer.inner = Some(match format {
            Format::Parquet => {
                let w = ArrowWriter::try_new(file, Arc::clone(&schema), Some(properties(&schema)))
                    .map_err(|e| err(e.to_string()))?;
                Inner::Parquet(Box::new(w))
            }
            Format::Csv => Inner::Csv(Box::new(CsvWriter::new(file))),
        });
        Ok(writer)
    }

    fn error(&self, message: impl ToString) -> IoError {
        IoError::Write {
            path: self.path.clone(),
            message: message.to_string(),
        }
    }

    /// Records `value` under `key` in the output's metadata: the Parquet file's
    /// key-value metadata, a Delta table's commit information (where its JSON text is
    /// a JSON value). A CSV file has no place for it.
    pub fn annotate(&mut self, key: &str, value: &str) {
        if let Some(Inner::Parquet(w)) = &mut self.inner {
            w.append_key_value_metadata(KeyValue::new(key.to_string(), value.to_string()));
        }
        self.metadata.push((key.to_string(), value.to_string()));
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), IoError> {
        let result = match &mut self.inner {
            Some(Inner::Parquet(w)) => w.write(batch).map_err(|e| e.to_string()),
            // Arrow's CSV writer has no list form: a list cell is its JSON text.
            Some(Inner::Csv(w)) => crate::row::list::lists_as_text(batch)
                .map_err(|e| e.to_string())
                .and_then(|b| w.write(&b).map_err(|e| e.to_string())),
            None => Err("the output is already finished".to_string()),
        };
        result.map_err(|m| self.error(m))
    }

    /// Completes the file, flushes it to disk and renames it to its path.
    pub fn finish(mut self) -> Result<(), IoError> {
        let file = match self.inner.take() {
            Some(Inner::Parquet(w)) => w.into_inner().map_err(|e| self.error(e))?,
            Some(Inner::Csv(w)) => w.into_inner(),
            None => return Err(self.error("the output is already finished")),
        };
        file.sync_all().map_err(|e| self.error(e))?;
        drop(file);
        match &self.destination {
            // The object is replaced only when the upload completes, the table changes
            // only when its commit does; the temporary file goes either way (`Drop`).
            Destination::Object(location) => {
                object::upload(&self.temp, location).map_err(|e| self.error(e))
            }
            Destination::Delta(target) => delta::write(&self.temp, target, &self.metadata)
                .map(|_| ())
                .map_err(|e| self.error(e)),
            Destination::File => std::fs::rename(&self.temp, &self.path).map_err(|e| self.error(e)),
        }
    }
}

impl Drop for OutputWriter {
    fn drop(&mut self) {
        if self.inner.is_some() || self.temp.exists() {
            // Unfinished: the run failed. The previous output stays as it was.
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::properties;

    #[test]
    fn float_columns_are_written_without_a_dictionary() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("user", DataType::Int64, true),
            Field::new("amount_sum_7d", DataType::Float64, true),
            Field::new("category_last", DataType::Utf8, true),
            Field::new("ratio", DataType::Float32, true),
        ]));
        let props = properties(&schema);
        let dictionary = |name: &str| props.dictionary_enabled(&name.into());
        assert!(dictionary("user"));
        assert!(dictionary("category_last"));
        assert!(!dictionary("amount_sum_7d"));
        assert!(!dictionary("ratio"));
    }
}
