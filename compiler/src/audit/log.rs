//! Reading a served log (docs/stats.md, "The served log"): its complete files in name
//! order (which is time order), their schemas, and ranges of their rows, sampled the
//! same way on every pass so that two passes over a range meet the same rows.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::BooleanArray;
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::arrow_reader::{
    ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder,
};
use datafusion::parquet::arrow::ProjectionMask;

use super::error::AuditError;
use crate::files;

/// Rows decoded at once from a log file.
const READ_BATCH: usize = 8192;

/// A complete file of the log.
#[derive(Debug, Clone)]
pub struct LogFile {
    pub path: PathBuf,
    pub schema: SchemaRef,
    pub rows: u64,
    /// The global index of its first row (files counted in order).
    pub first: u64,
}

/// The complete files at `path` (a folder written by `--log-served`, or one file),
/// in order. A file still being written (`.served-….partial`) is not one of them.
pub fn list(path: &Path) -> Result<Vec<LogFile>, AuditError> {
    let paths = files::files_named(path, "served-", ".parquet").map_err(|e| AuditError::Log {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut out = Vec::with_capacity(paths.len());
    let mut first = 0;
    for path in paths {
        let builder = builder(&path)?;
        let rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        out.push(LogFile {
            schema: Arc::clone(builder.schema()),
            path,
            rows,
            first,
        });
        first += rows;
    }
    if out.is_empty() {
        return Err(AuditError::NoLog(path.to_path_buf()));
    }
    Ok(out)
}

fn builder(path: &Path) -> Result<ParquetRecordBatchReaderBuilder<files::OpenFile>, AuditError> {
    let failed = |message: String| AuditError::Log {
        path: path.to_path_buf(),
        message,
    };
    let file = files::open(path).map_err(|e| failed(e.to_string()))?;
    ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| failed(e.to_string()))
}

/// Which rows an audit reads: every `every`-th row of the log by global index (1:
/// all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampling {
    pub every: u64,
}

impl Sampling {
    /// At most about `n` rows of `total`, spread evenly; all when `n` is `None`.
    pub fn of(total: u64, n: Option<u64>) -> Sampling {
        let every = match n {
            Some(n) if n > 0 && total > n => total.div_ceil(n),
            _ => 1,
        };
        Sampling { every }
    }

    /// How many of the global rows `first..first + rows` are taken.
    pub fn count(&self, first: u64, rows: u64) -> u64 {
        let end = first + rows;
        end.div_ceil(self.every) - first.div_ceil(self.every)
    }
}

/// Rows `skip..skip + take` of one file (taken before sampling).
#[derive(Debug, Clone)]
pub struct Range {
    pub file: usize,
    pub skip: u64,
    pub take: u64,
}

/// The sampled rows of `ranges` of `files`, the columns `columns` only (by name,
/// in that order; each file of the ranges has them), batch by batch.
pub struct Rows<'a> {
    files: &'a [LogFile],
    ranges: std::vec::IntoIter<Range>,
    columns: Vec<String>,
    sampling: Sampling,
    /// The open range: its reader, the global index of its next row, its file.
    open: Option<(ParquetRecordBatchReader, u64, &'a LogFile)>,
}

impl<'a> Rows<'a> {
    pub fn new(
        files: &'a [LogFile],
        ranges: Vec<Range>,
        columns: Vec<String>,
        sampling: Sampling,
    ) -> Rows<'a> {
        Rows {
            files,
            ranges: ranges.into_iter(),
            columns,
            sampling,
            open: None,
        }
    }

    fn open(&mut self, range: &Range) -> Result<(), AuditError> {
        let Some(file) = self.files.get(range.file) else {
            return Ok(());
        };
        let builder = builder(&file.path)?;
        let indices: Vec<usize> = self
            .columns
            .iter()
            .filter_map(|c| builder.schema().index_of(c).ok())
            .collect();
        let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(READ_BATCH)
            .with_offset(usize::try_from(range.skip).unwrap_or(usize::MAX))
            .with_limit(usize::try_from(range.take).unwrap_or(usize::MAX))
            .build()
            .map_err(|e| AuditError::Log {
                path: file.path.clone(),
                message: e.to_string(),
            })?;
        self.open = Some((reader, file.first + range.skip, file));
        Ok(())
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>, AuditError> {
        loop {
            let Some((reader, at, file)) = self.open.as_mut() else {
                let Some(range) = self.ranges.next() else {
                    return Ok(None);
                };
                self.open(&range)?;
                continue;
            };
            let failed = |message: String| AuditError::Log {
                path: file.path.clone(),
                message,
            };
            let Some(batch) = reader.next() else {
                self.open = None;
                continue;
            };
            let batch = batch.map_err(|e| failed(e.to_string()))?;
            let first = *at;
            *at += batch.num_rows() as u64;
            let batch = sampled(batch, first, self.sampling).map_err(failed)?;
            // In the caller's column order, whatever the file's.
            let order: Vec<usize> = self
                .columns
                .iter()
                .filter_map(|c| batch.schema().index_of(c).ok())
                .collect();
            let batch = batch.project(&order).map_err(|e| failed(e.to_string()))?;
            if batch.num_rows() > 0 {
                return Ok(Some(batch));
            }
        }
    }
}

impl Iterator for Rows<'_> {
    type Item = Result<RecordBatch, AuditError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}

/// The rows of `batch` (whose first row has global index `first`) that `sampling`
/// takes.
fn sampled(batch: RecordBatch, first: u64, sampling: Sampling) -> Result<RecordBatch, String> {
    if sampling.every <= 1 {
        return Ok(batch);
    }
    let keep: BooleanArray = (0..batch.num_rows() as u64)
        .map(|r| Some((first + r).is_multiple_of(sampling.every)))
        .collect();
    filter_record_batch(&batch, &keep).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_counts_what_filtering_takes() {
        let s = Sampling::of(1000, Some(7));
        assert_eq!(s.every, 143);
        for (first, rows) in [(0, 1000), (5, 300), (143, 1), (142, 1), (286, 143)] {
            let taken = (first..first + rows)
                .filter(|g: &u64| g.is_multiple_of(s.every))
                .count() as u64;
            assert_eq!(s.count(first, rows), taken, "{first} {rows}");
        }
        assert_eq!(Sampling::of(5, Some(10)).every, 1);
        assert_eq!(Sampling::of(5, None).every, 1);
    }
}
