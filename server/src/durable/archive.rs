//! The archive of acknowledged events: before a checkpoint lets the log forget its
//! records, their rows are kept in `archive/<source>/<first>-<last>.parquet` (the
//! records' sequence numbers, zero-padded), with the record's sequence number in
//! `SEQ_COLUMN`. So the events a server acknowledged, in the order it applied them,
//! outlive the log: `featc audit --state` recomputes a served value from exactly the
//! events the server had applied at the read (docs/audit.md).
//!
//! Each file is written to a temporary name, fsynced and renamed, and the folder
//! fsynced, before the log is truncated. A crash between archiving and truncating
//! archives the same records again at the next checkpoint, in a file whose range
//! holds the old one's: the older file is then removed, so the ranges of a source's
//! files never overlap (`files` refuses a folder where they do).
//!
//! `archive/from` says from which sequence number on every record is archived: the
//! log's first record when the archive began (0 for a state archived from its
//! start), moved past the files retention removes (files last written longer ago
//! than the configured retention go at a checkpoint). The audit recomputes reads
//! from the archive only when it holds every record from 0.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use datafusion::arrow::array::{ArrayRef, UInt64Array};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use featc_runtime::io::SEQ_COLUMN;

use super::checkpoint::sync_dir;
use super::{DurableError, Entry};

/// The archive's folder in a state directory.
pub const DIR: &str = "archive";

/// One archive file: the sequence numbers of its first and last records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFile {
    pub path: PathBuf,
    pub first: u64,
    pub last: u64,
}

fn storage(what: String) -> impl FnOnce(std::io::Error) -> DurableError {
    move |e| DurableError::Storage(format!("{what}: {e}"))
}

fn arrow(e: impl std::fmt::Display) -> DurableError {
    DurableError::Storage(format!("cannot write the archive: {e}"))
}

/// The file that says from which sequence number on the archive holds every record
/// (`from`).
const FROM: &str = "from";

/// From which sequence number on the archive of `state` holds every record: 0 unless
/// retention removed files, or the state logged records before it was archived;
/// `None` without an archive.
pub fn from(state: &Path) -> Result<Option<u64>, DurableError> {
    let path = state.join(DIR).join(FROM);
    match std::fs::read_to_string(&path) {
        Ok(text) => text.trim().parse().map(Some).map_err(|_| {
            DurableError::Corrupt(format!("`{}` holds no sequence number", path.display()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(storage(format!("cannot read `{}`", path.display()))(e)),
    }
}

fn set_from(state: &Path, seq: u64) -> Result<(), DurableError> {
    let root = state.join(DIR);
    let temp = root.join("from.tmp");
    std::fs::write(&temp, seq.to_string())
        .and_then(|_| File::open(&temp)?.sync_all())
        .and_then(|_| std::fs::rename(&temp, root.join(FROM)))
        .map_err(storage(format!("cannot write `{}`", temp.display())))?;
    sync_dir(&root)
}

/// Archives the rows of `records` (pushes and rounds, in sequence order) under
/// `state`, the log's records from `first` on: one file per source and run of
/// records of one schema. Durable on return; returns the rows archived.
pub fn write(state: &Path, first: u64, records: &[(u64, Entry)]) -> Result<u64, DurableError> {
    if from(state)?.is_none() {
        std::fs::create_dir_all(state.join(DIR)).map_err(storage(format!(
            "cannot create `{}`",
            state.join(DIR).display()
        )))?;
        set_from(state, first)?;
    }
    // Per source, runs of (seq, batch) of one schema.
    let mut runs: BTreeMap<&str, Vec<Vec<(u64, &RecordBatch)>>> = BTreeMap::new();
    for (seq, entry) in records {
        let batches: Vec<(&str, &RecordBatch)> = match entry {
            Entry::Push(p) => vec![(p.source.as_str(), &p.batch)],
            Entry::Round(r) => (r.parts.iter())
                .filter_map(|p| Some((p.source.as_str(), p.batch.as_ref()?)))
                .collect(),
        };
        for (source, batch) in batches.into_iter().filter(|(_, b)| b.num_rows() > 0) {
            let source_runs = runs.entry(source).or_default();
            match source_runs.last_mut() {
                Some(run) if run[0].1.schema() == batch.schema() => run.push((*seq, batch)),
                _ => source_runs.push(vec![(*seq, batch)]),
            }
        }
    }
    let mut rows = 0;
    for (source, source_runs) in runs {
        let folder = state.join(DIR).join(source);
        std::fs::create_dir_all(&folder)
            .map_err(storage(format!("cannot create `{}`", folder.display())))?;
        for run in source_runs {
            rows += write_run(&folder, &run)?;
        }
        remove_contained(&folder)?;
        sync_dir(&folder)?;
    }
    Ok(rows)
}

/// Writes one run of batches of one schema, with their sequence numbers.
fn write_run(folder: &Path, run: &[(u64, &RecordBatch)]) -> Result<u64, DurableError> {
    let (first, last) = (run[0].0, run[run.len() - 1].0);
    let name = format!("{first:020}-{last:020}");
    let temp = folder.join(format!("{name}.tmp"));
    let done = folder.join(format!("{name}.parquet"));
    let mut fields: Vec<Field> = run[0]
        .1
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(SEQ_COLUMN, ArrowType::UInt64, false));
    let schema = Arc::new(Schema::new(fields));
    let file =
        File::create(&temp).map_err(storage(format!("cannot create `{}`", temp.display())))?;
    let mut writer = ArrowWriter::try_new(file, Arc::clone(&schema), None).map_err(arrow)?;
    let mut rows = 0;
    for (seq, batch) in run {
        let n = batch.num_rows();
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        columns.push(Arc::new(UInt64Array::from(vec![*seq; n])));
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns).map_err(arrow)?;
        writer.write(&batch).map_err(arrow)?;
        rows += n as u64;
    }
    let file = writer.into_inner().map_err(arrow)?;
    file.sync_all()
        .map_err(storage(format!("cannot sync `{}`", temp.display())))?;
    drop(file);
    std::fs::rename(&temp, &done)
        .map_err(storage(format!("cannot rename `{}`", temp.display())))?;
    Ok(rows)
}

/// The range a file's name gives (`<first>-<last>.parquet`).
fn range_of(path: &Path) -> Option<(u64, u64)> {
    if path.extension()? != "parquet" {
        return None;
    }
    let (first, last) = path.file_stem()?.to_str()?.split_once('-')?;
    Some((first.parse().ok()?, last.parse().ok()?))
}

/// The archive files of one source's folder, by first sequence number.
fn folder_files(folder: &Path) -> Result<Vec<ArchiveFile>, DurableError> {
    let entries = match std::fs::read_dir(folder) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(storage(format!("cannot list `{}`", folder.display()))(e)),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if let Some((first, last)) = range_of(&path) {
            out.push(ArchiveFile { path, first, last });
        }
    }
    out.sort_by_key(|f| (f.first, std::cmp::Reverse(f.last)));
    Ok(out)
}

/// Removes the files whose range another file's holds (archived again after a crash
/// between archiving and truncating the log).
fn remove_contained(folder: &Path) -> Result<(), DurableError> {
    // By first sequence number, the longest range first: a file is held by another
    // exactly when an earlier one reaches as far (one pass, not every pair).
    let mut reach: Option<u64> = None;
    for f in folder_files(folder)? {
        if reach.is_some_and(|r| r >= f.last) {
            std::fs::remove_file(&f.path)
                .map_err(storage(format!("cannot remove `{}`", f.path.display())))?;
        } else {
            reach = Some(f.last);
        }
    }
    Ok(())
}

/// The archive of the state directory `state`, by source: each source's folder and
/// its files in sequence order. A folder whose files overlap is refused (a crash
/// left a file archived twice; the server removes it at its next checkpoint).
pub fn files(state: &Path) -> Result<BTreeMap<String, (PathBuf, Vec<ArchiveFile>)>, DurableError> {
    let root = state.join(DIR);
    let entries = match std::fs::read_dir(&root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(storage(format!("cannot list `{}`", root.display()))(e)),
    };
    let mut out = BTreeMap::new();
    for entry in entries.flatten() {
        let folder = entry.path();
        let Some(source) = folder
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        if !folder.is_dir() {
            continue;
        }
        let files = folder_files(&folder)?;
        for pair in files.windows(2) {
            if pair[1].first <= pair[0].last {
                return Err(DurableError::Corrupt(format!(
                    "the archive files `{}` and `{}` overlap (a checkpoint was interrupted; \
                     the server's next checkpoint removes the older one)",
                    pair[0].path.display(),
                    pair[1].path.display()
                )));
            }
        }
        out.insert(source, (folder, files));
    }
    Ok(out)
}

/// The archive folders of `state` that hold events, by source.
pub fn folders(state: &Path) -> Result<BTreeMap<String, PathBuf>, DurableError> {
    Ok(files(state)?
        .into_iter()
        .filter(|(_, (_, files))| !files.is_empty())
        .map(|(source, (folder, _))| (source, folder))
        .collect())
}

/// Removes the archive files last written more than `keep` ago (and moves `from`
/// past them).
pub fn prune(state: &Path, keep: Duration) -> Result<(), DurableError> {
    let now = SystemTime::now();
    let mut past = None;
    for (_, (folder, files)) in files(state)? {
        let mut removed = false;
        for f in files {
            let written = std::fs::metadata(&f.path).and_then(|m| m.modified());
            let old = written.is_ok_and(|w| now.duration_since(w).is_ok_and(|age| age > keep));
            if old {
                past = past.max(Some(f.last + 1));
                std::fs::remove_file(&f.path)
                    .map_err(storage(format!("cannot remove `{}`", f.path.display())))?;
                removed = true;
            }
        }
        if removed {
            sync_dir(&folder)?;
        }
    }
    match past {
        Some(seq) if from(state)?.is_none_or(|f| f < seq) => set_from(state, seq),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::record::Record;
    use super::super::temp::TempDir;
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn push(source: &str, values: &[i64]) -> Entry {
        let a: ArrayRef = Arc::new(Int64Array::from(values.to_vec()));
        let b: ArrayRef = Arc::new(StringArray::from(vec![Some("x"); values.len()]));
        Entry::Push(Record {
            source: source.into(),
            key: None,
            batch: RecordBatch::try_from_iter([("a", a), ("b", b)]).unwrap(),
        })
    }

    fn read(path: &Path) -> Vec<(i64, u64)> {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let mut out = Vec::new();
        for batch in reader {
            let batch = batch.unwrap();
            let a = batch
                .column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap();
            let seq = batch
                .column(2)
                .as_any()
                .downcast_ref::<UInt64Array>()
                .unwrap();
            out.extend((0..batch.num_rows()).map(|i| (a.value(i), seq.value(i))));
        }
        out
    }

    #[test]
    fn records_are_archived_per_source_with_their_sequence_numbers() {
        let temp = TempDir::new("archive-write");
        let records = vec![
            (0, push("s", &[1, 2])),
            (1, push("t", &[3])),
            (2, push("s", &[4])),
        ];
        assert_eq!(write(temp.path(), 0, &records).unwrap(), 4);
        assert_eq!(from(temp.path()).unwrap(), Some(0));
        let all = files(temp.path()).unwrap();
        let (_, s) = &all["s"];
        assert_eq!((s.len(), s[0].first, s[0].last), (1, 0, 2));
        assert_eq!(read(&s[0].path), vec![(1, 0), (2, 0), (4, 2)]);
        assert_eq!(read(&all["t"].1[0].path), vec![(3, 1)]);
    }

    #[test]
    fn records_archived_again_after_a_crash_replace_their_older_file() {
        let temp = TempDir::new("archive-again");
        write(
            temp.path(),
            0,
            &[(0, push("s", &[1])), (1, push("s", &[2]))],
        )
        .unwrap();
        // The log was not truncated: the next checkpoint archives 0..=3.
        let again: Vec<(u64, Entry)> = (0..4).map(|i| (i, push("s", &[i as i64 + 1]))).collect();
        write(temp.path(), 0, &again).unwrap();
        let all = files(temp.path()).unwrap();
        let s = &all["s"].1;
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!((s[0].first, s[0].last), (0, 3));
    }

    #[test]
    fn overlapping_files_are_refused_by_name() {
        let temp = TempDir::new("archive-overlap");
        write(
            temp.path(),
            0,
            &[(0, push("s", &[1])), (2, push("s", &[2]))],
        )
        .unwrap();
        let folder = temp.path().join(DIR).join("s");
        let original = folder.join(format!("{:020}-{:020}.parquet", 0, 2));
        std::fs::copy(
            &original,
            folder.join(format!("{:020}-{:020}.parquet", 1, 5)),
        )
        .unwrap();
        let error = files(temp.path()).unwrap_err().to_string();
        assert!(error.contains("overlap"), "{error}");
    }

    #[test]
    fn prune_removes_only_files_older_than_the_retention() {
        let temp = TempDir::new("archive-prune");
        write(temp.path(), 0, &[(0, push("s", &[1]))]).unwrap();
        prune(temp.path(), Duration::from_secs(3600)).unwrap();
        assert_eq!(files(temp.path()).unwrap()["s"].1.len(), 1);
        assert_eq!(from(temp.path()).unwrap(), Some(0));
        std::thread::sleep(Duration::from_millis(20));
        prune(temp.path(), Duration::from_millis(1)).unwrap();
        assert!(files(temp.path()).unwrap()["s"].1.is_empty());
        assert_eq!(
            from(temp.path()).unwrap(),
            Some(1),
            "records before 1 are gone"
        );
    }
}
