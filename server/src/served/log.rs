//! The served log's writer (`featc serve --log-served DIR`, docs/stats.md; the
//! embedded store's `log_served`): a thread that receives answered vectors from
//! `served::Served` and appends them to Parquet
//! files in DIR, one row per vector: `read_time`, `served_at` (the wall clock's
//! time of the answer), the entity key columns, the request fields derived features
//! read, `held_from.<view>` per view whose events can wait for their lookups (from
//! when its events waited at the read), `applied_seq` and `applying_seq` (how far
//! into its write-ahead log a durable state was: `state::progress`),
//! `watermark.<source>` per source, then per feature its value and `<feature>__status`. The schema's metadata
//! names the features (`featc.features`) and records the server's clock (`featc.clock`: `wall` or `events`) and carries what the caller adds (`featc
//! serve`: each feature's meaning, `featc.meanings`, that `featc audit` compares). A file is written as
//! `.served-….parquet.partial` and renamed to `served-<µs since the epoch, 20
//! digits>-<sequence, 6 digits>.parquet` when it reaches the rotation size or the
//! server stops, so the names sort by time and a reader never sees a file without
//! its footer. Rows waiting in memory are written as a row group after a second
//! without reads, or every `ROW_GROUP` rows.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use datafusion::arrow::array::{ArrayRef, StringBuilder, UInt64Array};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use featc_runtime::ir::DataType;
use featc_runtime::row::types::arrow_type;
use featc_runtime::row::ValuesBuilder;
use featc_runtime::stats::{
    APPLIED_SEQ_COLUMN, APPLYING_SEQ_COLUMN, CLOCK_KEY, FEATURES_KEY, HELD_FROM_PREFIX,
    READ_TIME_COLUMN, SERVED_AT_COLUMN, STATUS_SUFFIX, WATERMARK_PREFIX,
};
use featc_runtime::value::Value;

use super::{LogLayout, Served, ServedRow, CHANNEL_READS};
use crate::config::Clock;

/// Rows per row group at most.
const ROW_GROUP: usize = 8192;
/// Rows waiting this long without a new read are written out.
const IDLE: Duration = Duration::from_secs(1);

/// Why the served log could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServedLogError {
    /// The folder could not be created (the folder, the system's reason).
    Folder { dir: PathBuf, message: String },
    /// The writer's thread could not be started (the system's reason).
    Thread(String),
}

impl std::fmt::Display for ServedLogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServedLogError::Folder { dir, message } => write!(
                f,
                "--log-served: cannot create `{}`: {message}",
                dir.display()
            ),
            ServedLogError::Thread(m) => write!(f, "--log-served: cannot start the writer: {m}"),
        }
    }
}

impl std::error::Error for ServedLogError {}

/// The running writer; `finish` (after `Served::detach`) waits for its last file.
#[derive(Debug)]
pub struct ServedLog {
    thread: std::thread::JoinHandle<()>,
}

impl ServedLog {
    /// Creates DIR if needed and starts the writer, attached to `served`.
    /// `metadata` is added to every file's schema metadata.
    pub fn start(
        served: &Arc<Served>,
        clock: Clock,
        dir: &Path,
        rotate: Rotation,
        metadata: &[(String, String)],
    ) -> Result<ServedLog, ServedLogError> {
        let clock = match clock {
            Clock::Wall => "wall",
            Clock::Events => "events",
        };
        let mut metadata = metadata.to_vec();
        metadata.push((CLOCK_KEY.to_string(), clock.to_string()));
        std::fs::create_dir_all(dir).map_err(|e| ServedLogError::Folder {
            dir: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        let layout = served.layout().clone();
        let (sender, receiver) = sync_channel(CHANNEL_READS);
        let mut writer = Writer {
            dir: dir.to_path_buf(),
            rotate: Rotation {
                bytes: rotate.bytes.max(1),
                age: rotate.age,
            },
            schema: schema(&layout, &metadata),
            layout: layout.clone(),
            pending: Vec::new(),
            file: None,
            sequence: 0,
        };
        let shared = Arc::clone(served);
        let thread = std::thread::Builder::new()
            .name("featc-served-log".to_string())
            .spawn(move || writer.run(&receiver, &shared))
            .map_err(|e| ServedLogError::Thread(e.to_string()))?;
        served.attach(sender);
        Ok(ServedLog { thread })
    }

    /// Waits until the writer has written every row it received and closed its file.
    pub fn finish(self) {
        let _ = self.thread.join();
    }
}

fn schema(layout: &LogLayout, extra: &[(String, String)]) -> SchemaRef {
    let mut fields = vec![
        Field::new(READ_TIME_COLUMN, arrow_type(DataType::Timestamp), false),
        Field::new(SERVED_AT_COLUMN, arrow_type(DataType::Timestamp), false),
    ];
    for (name, ty, _) in &layout.keys {
        fields.push(Field::new(name, arrow_type(*ty), true));
    }
    for (name, ty) in &layout.fields {
        fields.push(Field::new(name, arrow_type(*ty), true));
    }
    for view in &layout.held {
        fields.push(Field::new(
            format!("{HELD_FROM_PREFIX}{view}"),
            arrow_type(DataType::Timestamp),
            true,
        ));
    }
    fields.push(Field::new(APPLIED_SEQ_COLUMN, ArrowType::UInt64, true));
    fields.push(Field::new(APPLYING_SEQ_COLUMN, ArrowType::UInt64, true));
    for source in &layout.sources {
        fields.push(Field::new(
            format!("{WATERMARK_PREFIX}{source}"),
            arrow_type(DataType::Timestamp),
            true,
        ));
    }
    for (name, ty) in &layout.features {
        fields.push(Field::new(name, arrow_type(*ty), true));
        fields.push(Field::new(
            format!("{name}{STATUS_SUFFIX}"),
            ArrowType::Utf8,
            true,
        ));
    }
    let names: Vec<&String> = layout.features.iter().map(|(n, _)| n).collect();
    let metadata = [(
        FEATURES_KEY.to_string(),
        serde_json::to_string(&names).unwrap_or_default(),
    )]
    .into_iter()
    .chain(extra.iter().cloned())
    .collect();
    Arc::new(Schema::new_with_metadata(fields, metadata))
}

struct Open {
    partial: PathBuf,
    done: PathBuf,
    writer: ArrowWriter<File>,
    opened: Instant,
}

/// When a file is complete: past this many bytes, or once it is this old.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub bytes: u64,
    pub age: Duration,
}

struct Writer {
    dir: PathBuf,
    rotate: Rotation,
    schema: SchemaRef,
    layout: LogLayout,
    pending: Vec<ServedRow>,
    file: Option<Open>,
    sequence: u64,
}

impl Writer {
    fn run(&mut self, receiver: &Receiver<Vec<ServedRow>>, served: &Served) {
        loop {
            match receiver.recv_timeout(IDLE) {
                Ok(rows) => {
                    self.pending.extend(rows);
                    if self.pending.len() >= ROW_GROUP {
                        self.flush(served);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.flush(served);
                    if self
                        .file
                        .as_ref()
                        .is_some_and(|f| f.opened.elapsed() >= self.rotate.age)
                    {
                        if let Err(e) = self.close() {
                            eprintln!("featc: served log: {e}");
                        }
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        self.flush(served);
        if let Err(e) = self.close() {
            eprintln!("featc: served log: {e}");
        }
    }

    /// Writes the pending rows as a row group, rotating after it when the file is
    /// big enough; a failure is counted and reported, and the rows are lost.
    fn flush(&mut self, served: &Served) {
        if self.pending.is_empty() {
            return;
        }
        let rows = std::mem::take(&mut self.pending);
        let n = rows.len() as u64;
        match self.write(&rows) {
            Ok(()) => {
                served.logged.fetch_add(n, Relaxed);
            }
            Err(e) => {
                served.log_errors.fetch_add(n, Relaxed);
                eprintln!("featc: served log: {e}");
            }
        }
    }

    fn write(&mut self, rows: &[ServedRow]) -> Result<(), String> {
        let batch = self.batch(rows)?;
        if self.file.is_none() {
            self.file = Some(self.open()?);
        }
        let Some(open) = self.file.as_mut() else {
            return Err("no file".to_string());
        };
        open.writer.write(&batch).map_err(|e| e.to_string())?;
        // A row group per flush: rows reach the disk at least every `IDLE`.
        open.writer.flush().map_err(|e| e.to_string())?;
        if open.writer.bytes_written() as u64 >= self.rotate.bytes
            || open.opened.elapsed() >= self.rotate.age
        {
            self.close()?;
        }
        Ok(())
    }

    fn open(&mut self) -> Result<Open, String> {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        let name = format!("served-{micros:020}-{:06}.parquet", self.sequence);
        self.sequence += 1;
        let done = self.dir.join(&name);
        let partial = self.dir.join(format!(".{name}.partial"));
        let file = File::create(&partial)
            .map_err(|e| format!("cannot create `{}`: {e}", partial.display()))?;
        let writer = ArrowWriter::try_new(file, Arc::clone(&self.schema), None)
            .map_err(|e| e.to_string())?;
        Ok(Open {
            partial,
            done,
            writer,
            opened: Instant::now(),
        })
    }

    /// Completes the open file (its footer) and gives it its final name.
    fn close(&mut self) -> Result<(), String> {
        let Some(open) = self.file.take() else {
            return Ok(());
        };
        let file = open.writer.into_inner().map_err(|e| e.to_string())?;
        file.sync_all().map_err(|e| e.to_string())?;
        std::fs::rename(&open.partial, &open.done)
            .map_err(|e| format!("cannot rename `{}`: {e}", open.partial.display()))
    }

    fn batch(&self, rows: &[ServedRow]) -> Result<RecordBatch, String> {
        let n = rows.len();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        let mut time = ValuesBuilder::new(DataType::Timestamp, n);
        for r in rows {
            time.append(&Value::Timestamp(r.at));
        }
        columns.push(time.finish().map_err(|e| e.to_string())?);
        let mut served_at = ValuesBuilder::new(DataType::Timestamp, n);
        for r in rows {
            served_at.append(&Value::Timestamp(r.served_at));
        }
        columns.push(served_at.finish().map_err(|e| e.to_string())?);
        for (k, (_, ty, _)) in self.layout.keys.iter().enumerate() {
            let mut b = ValuesBuilder::new(*ty, n);
            for r in rows {
                b.append(r.keys.get(k).unwrap_or(&Value::Null));
            }
            columns.push(b.finish().map_err(|e| e.to_string())?);
        }
        for (j, (_, ty)) in self.layout.fields.iter().enumerate() {
            let mut b = ValuesBuilder::new(*ty, n);
            for r in rows {
                b.append(r.request.get(j).unwrap_or(&Value::Null));
            }
            columns.push(b.finish().map_err(|e| e.to_string())?);
        }
        for v in 0..self.layout.held.len() {
            let mut b = ValuesBuilder::new(DataType::Timestamp, n);
            for r in rows {
                let from = r.held_from.get(v).copied().flatten();
                b.append(&from.map_or(Value::Null, Value::Timestamp));
            }
            columns.push(b.finish().map_err(|e| e.to_string())?);
        }
        for seq in [
            |r: &ServedRow| r.applied_seq,
            |r: &ServedRow| r.applying_seq,
        ] {
            let values: UInt64Array = rows.iter().map(seq).collect();
            columns.push(Arc::new(values));
        }
        for s in 0..self.layout.sources.len() {
            let mut b = ValuesBuilder::new(DataType::Timestamp, n);
            for r in rows {
                let at = r.watermarks.get(s).copied().flatten();
                b.append(&at.map_or(Value::Null, Value::Timestamp));
            }
            columns.push(b.finish().map_err(|e| e.to_string())?);
        }
        for (f, (_, ty)) in self.layout.features.iter().enumerate() {
            let mut values = ValuesBuilder::new(*ty, n);
            let mut statuses = StringBuilder::new();
            for r in rows {
                match r.features.get(f).and_then(|v| v.as_ref()) {
                    Some((v, status)) => {
                        values.append(v);
                        statuses.append_value(status);
                    }
                    None => {
                        values.append_null();
                        statuses.append_null();
                    }
                }
            }
            columns.push(values.finish().map_err(|e| e.to_string())?);
            columns.push(std::sync::Arc::new(statuses.finish()));
        }
        RecordBatch::try_new(Arc::clone(&self.schema), columns).map_err(|e| e.to_string())
    }
}
