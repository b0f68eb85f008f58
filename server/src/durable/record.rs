//! One write-ahead log record: an acknowledged push, as it will be re-applied after a
//! crash (or a round read outside the log: `round`, told apart by `Entry::decode`). The rows are an Arrow IPC stream (Arrow's own format, exact for every
//! type); a short header names the source and the push's idempotency key.
//!
//! Layout: `u16 source length, source, u16 key length (0xFFFF: none), key, IPC stream`,
//! lengths little-endian. fjall checksums and frames the value as a whole.

use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::record_batch::RecordBatch;

use super::round::{self, RoundRecord};

/// A push as logged.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub source: String,
    /// The client's idempotency key, if it sent one.
    pub key: Option<String>,
    pub batch: RecordBatch,
}

/// Why a record could not be written or read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordError {
    /// A source name or key longer than the layout's length field holds (its bytes).
    NameTooLong(usize),
    /// Arrow's IPC writer or reader failed (its message).
    Arrow(String),
    NoSource,
    Truncated,
    NotUtf8,
    /// An IPC stream of this many batches (a record holds one).
    Batches(usize),
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordError::NameTooLong(n) => write!(f, "a name of {n} bytes is too long to log"),
            RecordError::Arrow(m) => write!(f, "{m}"),
            RecordError::NoSource => write!(f, "a record without a source"),
            RecordError::Truncated => write!(f, "a truncated record"),
            RecordError::NotUtf8 => write!(f, "a record name that is not UTF-8"),
            RecordError::Batches(n) => write!(f, "a record with {n} batches (expected 1)"),
        }
    }
}

impl std::error::Error for RecordError {}

fn arrow(e: datafusion::arrow::error::ArrowError) -> RecordError {
    RecordError::Arrow(e.to_string())
}

const NO_KEY: u16 = u16::MAX;

/// The bytes of the record of a push of `batch` to `source` with `key` (without
/// copying the push into a `Record` first).
pub fn encode(
    source: &str,
    key: Option<&str>,
    batch: &RecordBatch,
) -> Result<Vec<u8>, RecordError> {
    let mut out = Vec::with_capacity(64 + batch.get_array_memory_size());
    put_str(&mut out, source)?;
    match key {
        Some(k) => put_str(&mut out, k)?,
        None => out.extend_from_slice(&NO_KEY.to_le_bytes()),
    }
    ipc_bytes(&mut out, batch)?;
    Ok(out)
}

/// Appends `batch` to `out` as an Arrow IPC stream of one batch.
pub(super) fn ipc_bytes(out: &mut Vec<u8>, batch: &RecordBatch) -> Result<(), RecordError> {
    let mut writer = StreamWriter::try_new(out, &batch.schema()).map_err(arrow)?;
    writer.write(batch).map_err(arrow)?;
    writer.finish().map_err(arrow)?;
    Ok(())
}

/// The one batch of an Arrow IPC stream.
pub(super) fn ipc_batch(bytes: &[u8]) -> Result<RecordBatch, RecordError> {
    let reader = StreamReader::try_new(bytes, None).map_err(arrow)?;
    let mut batches = Vec::new();
    for b in reader {
        batches.push(b.map_err(arrow)?);
    }
    match batches.len() {
        1 => Ok(batches.remove(0)),
        n => Err(RecordError::Batches(n)),
    }
}

/// A log record: a push, or a round of a source read outside the log.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Push(Record),
    Round(RoundRecord),
}

impl Entry {
    /// Reads either kind of record (a round's starts with its tag).
    pub fn decode(bytes: &[u8]) -> Result<Entry, RecordError> {
        if bytes.get(..2) == Some(&round::TAG.to_le_bytes()[..]) {
            return RoundRecord::decode(bytes).map(Entry::Round);
        }
        Record::decode(bytes).map(Entry::Push)
    }
}

impl Record {
    pub fn encode(&self) -> Result<Vec<u8>, RecordError> {
        encode(&self.source, self.key.as_deref(), &self.batch)
    }

    pub fn decode(bytes: &[u8]) -> Result<Record, RecordError> {
        let (source, rest) = take_str(bytes)?.ok_or(RecordError::NoSource)?;
        let (key, rest) = match take_str(rest)? {
            Some((k, rest)) => (Some(k), rest),
            None => (None, rest.get(2..).ok_or(RecordError::Truncated)?),
        };
        let batch = ipc_batch(rest)?;
        Ok(Record { source, key, batch })
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) -> Result<(), RecordError> {
    let n = u16::try_from(s.len())
        .ok()
        .filter(|&n| n != NO_KEY)
        .ok_or(RecordError::NameTooLong(s.len()))?;
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// The string at the start of `bytes` and what follows; `None` for the no-key mark.
fn take_str(bytes: &[u8]) -> Result<Option<(String, &[u8])>, RecordError> {
    let len = bytes.get(..2).ok_or(RecordError::Truncated)?;
    let n = u16::from_le_bytes([len[0], len[1]]);
    if n == NO_KEY {
        return Ok(None);
    }
    let end = 2 + n as usize;
    let text = bytes.get(2..end).ok_or(RecordError::Truncated)?;
    let text = std::str::from_utf8(text).map_err(|_| RecordError::NotUtf8)?;
    Ok(Some((text.to_string(), &bytes[end..])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
    use std::sync::Arc;

    fn batch() -> RecordBatch {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(i64::MIN)]));
        let b: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), Some(""), None]));
        RecordBatch::try_from_iter([("a", a), ("b", b)]).unwrap()
    }

    #[test]
    fn records_round_trip_with_and_without_a_key() {
        for key in [None, Some("push-17".to_string()), Some(String::new())] {
            let r = Record {
                source: "transactions".into(),
                key,
                batch: batch(),
            };
            assert_eq!(Record::decode(&r.encode().unwrap()).unwrap(), r);
        }
    }

    #[test]
    fn a_cut_record_is_an_error_never_a_panic_or_other_rows() {
        let r = Record {
            source: "s".into(),
            key: Some("k".into()),
            batch: batch(),
        };
        let bytes = r.encode().unwrap();
        for n in 0..bytes.len() {
            // Only the end-of-stream marker may be missing: the rows are whole.
            if let Ok(d) = Record::decode(&bytes[..n]) {
                assert!(d == r && n + 8 >= bytes.len(), "cut at {n}");
            }
        }
    }
}
