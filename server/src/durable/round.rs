//! One write-ahead log record of a round read outside the log (a Kafka round): its
//! batches with their partitions, the partitions declared idle, and per part the
//! note its source's position is moved by. Logged in the same sequence as pushes, so
//! a restart re-applies pushes and rounds in the order they were applied (lateness
//! and dead letters depend on that order), and moves the positions with them.
//!
//! Each part also carries the dead letters of the records it kept out, so the
//! dead-letter store is rebuilt from the log exactly as it was filled.
//!
//! Layout: `u16 0xFFFF` (a push record's source length is never that: the tag),
//! `u32 header length`, the header as JSON (`RoundHeader`), then one
//! `u64 length, IPC stream` per part that has rows, lengths little-endian.

use datafusion::arrow::record_batch::RecordBatch;

use super::dead_letter::DeadLetter;
use super::record::{ipc_batch, ipc_bytes, RecordError};

/// The tag a round record starts with.
pub const TAG: u16 = u16::MAX;

/// One part of a round: a partition's batch of a source (`None` when every record
/// of it was dead-lettered), the records kept out, and the position's note.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundPart {
    pub partition: i32,
    pub source: String,
    pub batch: Option<RecordBatch>,
    /// Records read but not applied (dead letters).
    pub skipped: u64,
    /// What the source's position moves by once this part is applied (opaque here).
    pub note: serde_json::Value,
    /// The records kept out (`skipped` of them), as dead letters.
    pub dead: Vec<DeadLetter>,
}

/// A round as logged.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundRecord {
    /// The kind of source (`kafka`): whose position the notes move.
    pub kind: String,
    pub parts: Vec<RoundPart>,
    /// (source, partition) of partitions declared idle with the round.
    pub idle: Vec<(String, i32)>,
}

/// The JSON header: everything but the rows.
#[derive(serde::Serialize, serde::Deserialize)]
struct RoundHeader {
    kind: String,
    idle: Vec<(String, i32)>,
    parts: Vec<PartHeader>,
}

/// A part in the header: (partition, source, has rows, skipped, note, dead letters);
/// rounds logged before dead letters were kept have no sixth field.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum PartHeader {
    WithDead(i32, String, bool, u64, serde_json::Value, Vec<DeadLetter>),
    Before(i32, String, bool, u64, serde_json::Value),
}

fn json(e: serde_json::Error) -> RecordError {
    RecordError::Arrow(format!("a round's header: {e}"))
}

impl RoundRecord {
    pub fn encode(&self) -> Result<Vec<u8>, RecordError> {
        let header = RoundHeader {
            kind: self.kind.clone(),
            idle: self.idle.clone(),
            parts: self
                .parts
                .iter()
                .map(|p| {
                    PartHeader::WithDead(
                        p.partition,
                        p.source.clone(),
                        p.batch.is_some(),
                        p.skipped,
                        p.note.clone(),
                        p.dead.clone(),
                    )
                })
                .collect(),
        };
        let head = serde_json::to_vec(&header).map_err(json)?;
        let head_len =
            u32::try_from(head.len()).map_err(|_| RecordError::NameTooLong(head.len()))?;
        let mut out = Vec::with_capacity(
            16 + head.len()
                + self
                    .parts
                    .iter()
                    .filter_map(|p| p.batch.as_ref())
                    .map(RecordBatch::get_array_memory_size)
                    .sum::<usize>(),
        );
        out.extend_from_slice(&TAG.to_le_bytes());
        out.extend_from_slice(&head_len.to_le_bytes());
        out.extend_from_slice(&head);
        for batch in self.parts.iter().filter_map(|p| p.batch.as_ref()) {
            let at = out.len();
            out.extend_from_slice(&0u64.to_le_bytes());
            ipc_bytes(&mut out, batch)?;
            let len = (out.len() - at - 8) as u64;
            out[at..at + 8].copy_from_slice(&len.to_le_bytes());
        }
        Ok(out)
    }

    /// Reads a round record (the tag included).
    pub fn decode(bytes: &[u8]) -> Result<RoundRecord, RecordError> {
        let rest = bytes.get(2..).ok_or(RecordError::Truncated)?;
        let (len, rest) = split::<4>(rest)?;
        let head_len = u32::from_le_bytes(len) as usize;
        let head = rest.get(..head_len).ok_or(RecordError::Truncated)?;
        let header: RoundHeader = serde_json::from_slice(head).map_err(json)?;
        let mut rest = &rest[head_len..];
        let mut parts = Vec::with_capacity(header.parts.len());
        for part in header.parts {
            let (partition, source, has_rows, skipped, note, dead) = match part {
                PartHeader::WithDead(p, s, r, k, n, d) => (p, s, r, k, n, d),
                PartHeader::Before(p, s, r, k, n) => (p, s, r, k, n, Vec::new()),
            };
            let batch = if has_rows {
                let (len, after) = split::<8>(rest)?;
                let len =
                    usize::try_from(u64::from_le_bytes(len)).map_err(|_| RecordError::Truncated)?;
                let ipc = after.get(..len).ok_or(RecordError::Truncated)?;
                rest = &after[len..];
                Some(ipc_batch(ipc)?)
            } else {
                None
            };
            parts.push(RoundPart {
                partition,
                source,
                batch,
                skipped,
                note,
                dead,
            });
        }
        Ok(RoundRecord {
            kind: header.kind,
            parts,
            idle: header.idle,
        })
    }
}

/// The first `N` bytes of `bytes` and the rest.
fn split<const N: usize>(bytes: &[u8]) -> Result<([u8; N], &[u8]), RecordError> {
    let head = bytes.get(..N).ok_or(RecordError::Truncated)?;
    let mut out = [0u8; N];
    out.copy_from_slice(head);
    Ok((out, &bytes[N..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
    use std::sync::Arc;

    fn batch(n: i64) -> RecordBatch {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(n), None]));
        let b: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), None]));
        RecordBatch::try_from_iter([("a", a), ("b", b)]).unwrap()
    }

    fn round() -> RoundRecord {
        RoundRecord {
            kind: "kafka".into(),
            parts: vec![
                RoundPart {
                    partition: 0,
                    source: "s".into(),
                    batch: Some(batch(1)),
                    skipped: 0,
                    note: serde_json::json!({"to": 3}),
                    dead: Vec::new(),
                },
                RoundPart {
                    partition: 2,
                    source: "t".into(),
                    batch: None,
                    skipped: 4,
                    note: serde_json::json!({"to": 9}),
                    dead: vec![DeadLetter {
                        source: "t".into(),
                        reason: super::super::dead_letter::DeadReason::Invalid,
                        detail: "expected a JSON object, found a number".into(),
                        origin: serde_json::json!({"kafka": {"offset": 8}}),
                        event: serde_json::json!("42"),
                    }],
                },
                RoundPart {
                    partition: 1,
                    source: "s".into(),
                    batch: Some(batch(2)),
                    skipped: 1,
                    note: serde_json::Value::Null,
                    dead: Vec::new(),
                },
            ],
            idle: vec![("s".into(), 5)],
        }
    }

    #[test]
    fn a_round_reads_back_the_same() {
        let r = round();
        assert_eq!(RoundRecord::decode(&r.encode().unwrap()).unwrap(), r);
    }

    /// A round logged before parts carried dead letters (five fields a part) reads
    /// back with none.
    #[test]
    fn a_round_logged_before_dead_letters_reads_back() {
        let mut r = round();
        let old = serde_json::json!({
            "kind": "kafka",
            "idle": [["s", 5]],
            "parts": [[0, "s", true, 0, {"to": 3}], [2, "t", false, 4, {"to": 9}],
                      [1, "s", true, 1, null]],
        });
        let fresh = r.encode().unwrap();
        let head_len = u32::from_le_bytes(fresh[2..6].try_into().unwrap()) as usize;
        let head = serde_json::to_vec(&old).unwrap();
        let mut bytes = fresh[..2].to_vec();
        bytes.extend_from_slice(&(head.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&head);
        bytes.extend_from_slice(&fresh[6 + head_len..]);
        for part in &mut r.parts {
            part.dead.clear();
        }
        assert_eq!(RoundRecord::decode(&bytes).unwrap(), r);
    }

    #[test]
    fn a_cut_round_is_an_error_never_a_panic() {
        let bytes = round().encode().unwrap();
        for n in 0..bytes.len() {
            if let Ok(d) = RoundRecord::decode(&bytes[..n]) {
                // Only an IPC stream's end-of-stream marker may be missing.
                assert!(d == round() && n + 8 >= bytes.len(), "cut at {n}");
            }
        }
    }
}
