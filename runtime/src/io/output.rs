//! Writing a training set to Parquet or CSV (by the output file's extension).

use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::arrow::csv::Writer as CsvWriter;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

use super::{Format, IoError};

/// An output file being written, batch by batch. Call `finish` to complete it (a
/// Parquet file without its footer is unreadable).
pub struct OutputWriter {
    path: PathBuf,
    inner: Inner,
}

enum Inner {
    Parquet(Box<ArrowWriter<File>>),
    Csv(Box<CsvWriter<File>>),
}

impl OutputWriter {
    /// Creates `path` (Parquet or CSV by extension) for batches of `schema`.
    pub fn create(path: &Path, schema: SchemaRef) -> Result<OutputWriter, IoError> {
        let err = |message: String| IoError::Write {
            path: path.to_path_buf(),
            message,
        };
        let format = Format::of_file(path)
            .ok_or_else(|| err("the output must end in .parquet or .csv".to_string()))?;
        let file = File::create(path).map_err(|e| err(e.to_string()))?;
        let inner = match format {
            Format::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::default()))
                    .build();
                let w = ArrowWriter::try_new(file, schema, Some(props))
                    .map_err(|e| err(e.to_string()))?;
                Inner::Parquet(Box::new(w))
            }
            Format::Csv => Inner::Csv(Box::new(CsvWriter::new(file))),
        };
        Ok(OutputWriter {
            path: path.to_path_buf(),
            inner,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), IoError> {
        let result = match &mut self.inner {
            Inner::Parquet(w) => w.write(batch).map_err(|e| e.to_string()),
            Inner::Csv(w) => w.write(batch).map_err(|e| e.to_string()),
        };
        result.map_err(|message| IoError::Write {
            path: self.path.clone(),
            message,
        })
    }

    pub fn finish(self) -> Result<(), IoError> {
        let result = match self.inner {
            Inner::Parquet(w) => w.close().map(|_| ()).map_err(|e| e.to_string()),
            Inner::Csv(w) => w.into_inner().sync_all().map_err(|e| e.to_string()),
        };
        result.map_err(|message| IoError::Write {
            path: self.path,
            message,
        })
    }
}
