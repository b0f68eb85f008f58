//! A checkpoint: the runtime's state (its own snapshot format) after every log record
//! before `upto`, with the server's idempotency record, in one file replaced
//! atomically (written to a temporary file, fsynced, renamed over the old one, the
//! directory fsynced): a crash leaves the old checkpoint or the new one, never half.
//!
//! Layout: the magic `FEATCKP1`, a little-endian u64 header length, the header (JSON:
//! `Header`), then the runtime snapshot, which checksums itself.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

use super::DurableError;

const MAGIC: &[u8; 8] = b"FEATCKP1";
const FILE: &str = "checkpoint.bin";
const TEMP: &str = "checkpoint.tmp";

/// What a checkpoint records besides the runtime's state.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Header {
    /// Every log record with a sequence number below this is in the state.
    pub upto: u64,
    /// Recent pushes' idempotency keys with their answers (accepted, late), oldest first.
    pub pushes: Vec<(String, u64, u64)>,
    /// Whether the state includes the sources' history (`--bootstrap`).
    pub bootstrapped: bool,
    /// Where the state has read its Kafka topics up to.
    #[serde(default)]
    pub kafka: crate::kafka::KafkaState,
    pub snapshot_bytes: u64,
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> DurableError {
    move |e| DurableError::Storage(format!("{what}: {e}"))
}

/// Replaces the checkpoint of `dir` with `header` and `snapshot`; durable on return.
pub fn write(dir: &Path, header: &Header, snapshot: &[u8]) -> Result<(), DurableError> {
    let temp = dir.join(TEMP);
    let head = serde_json::to_vec(header).map_err(|e| DurableError::Storage(e.to_string()))?;
    let mut file =
        File::create(&temp).map_err(io(format!("cannot create `{}`", temp.display())))?;
    let mut write = |bytes: &[u8]| {
        file.write_all(bytes)
            .map_err(io(format!("cannot write `{}`", temp.display())))
    };
    write(MAGIC)?;
    write(&(head.len() as u64).to_le_bytes())?;
    write(&head)?;
    write(snapshot)?;
    file.sync_all()
        .map_err(io(format!("cannot sync `{}`", temp.display())))?;
    drop(file);
    let path = dir.join(FILE);
    std::fs::rename(&temp, &path).map_err(io(format!("cannot replace `{}`", path.display())))?;
    sync_dir(dir)
}

/// Makes a rename in `dir` durable.
pub fn sync_dir(dir: &Path) -> Result<(), DurableError> {
    OpenOptions::new()
        .read(true)
        .open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(format!("cannot sync the directory `{}`", dir.display())))
}

/// Removes the temporary file of a checkpoint that a crash interrupted (the previous
/// checkpoint is still the one in force); says whether there was one.
pub fn discard_unfinished(dir: &Path) -> Result<bool, DurableError> {
    let temp = dir.join(TEMP);
    match std::fs::remove_file(&temp) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io(format!("cannot remove `{}`", temp.display()))(e)),
    }
}

/// The checkpoint of `dir`, if there is one.
pub fn read(dir: &Path) -> Result<Option<(Header, Vec<u8>)>, DurableError> {
    let path = dir.join(FILE);
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(format!("cannot open `{}`", path.display()))(e)),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(io(format!("cannot read `{}`", path.display())))?;
    let corrupt = |why: &str| DurableError::Corrupt(format!("`{}`: {why}", path.display()));
    if bytes.get(..8) != Some(MAGIC.as_slice()) {
        return Err(corrupt("not a featc checkpoint"));
    }
    let len = bytes
        .get(8..16)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
        .ok_or_else(|| corrupt("truncated header"))?;
    let end = usize::try_from(len)
        .ok()
        .and_then(|l| l.checked_add(16))
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| corrupt("truncated header"))?;
    let header: Header =
        serde_json::from_slice(&bytes[16..end]).map_err(|e| corrupt(&e.to_string()))?;
    let snapshot = bytes.split_off(end);
    if snapshot.len() as u64 != header.snapshot_bytes {
        return Err(corrupt(&format!(
            "the state is {} bytes where the header says {}",
            snapshot.len(),
            header.snapshot_bytes
        )));
    }
    Ok(Some((header, snapshot)))
}
