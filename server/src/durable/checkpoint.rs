//! A checkpoint: the runtime's state (its own snapshot format) after every log record
//! before `upto`, with the idempotency record and the positions of the sources read
//! outside the log (opaque here: each source kind saves and reads its own), in one
//! file replaced
//! atomically (written to a temporary file, fsynced, renamed over the old one, the
//! directory fsynced): a crash leaves the old checkpoint or the new one, never half.
//!
//! Layout: the magic `FEATCKP1`, a little-endian u64 header length, the header (JSON:
//! `Header`), then the runtime snapshot, which checksums itself.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

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
    /// Where the state has read each source outside the log up to, by the source's
    /// kind (`kafka`): what each saved, read back unchanged. The format here does not
    /// know what a kind's position means.
    #[serde(default)]
    pub positions: BTreeMap<String, serde_json::Value>,
    /// By kind, the notes of logged rounds applied to the state that the kind's
    /// position has not taken yet (no source of that kind ran since): handed to it
    /// when one registers (`state::positions`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending_notes: BTreeMap<String, Vec<serde_json::Value>>,
    /// Checkpoints written before `positions` carried the Kafka topics' position in
    /// their own field: read into `positions["kafka"]` (`parse_header`), never
    /// written.
    #[serde(default, rename = "kafka", skip_serializing)]
    pub legacy_kafka: Option<serde_json::Value>,
    pub snapshot_bytes: u64,
    /// The features of each of the graph's aggregate nodes, in its order
    /// (`StreamGraph::group_features`): how the snapshot lays out its state. Read
    /// before the graph is built (`read_layout`), so that features only reordered in
    /// the project are planned in this layout. Empty in checkpoints written before it
    /// was recorded.
    #[serde(default)]
    pub layout: Vec<Vec<String>>,
    /// The dead-letter store (`state::dead_letters`); empty in checkpoints written
    /// before the server kept one.
    #[serde(default)]
    pub dead_letters: super::SavedDeadLetters,
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

/// The checkpoint file of `dir` as bytes, with its length and modification time
/// (which change with every checkpoint); `None` when there is none. The file is
/// replaced by rename, so one read sees one whole checkpoint.
pub fn file_bytes(dir: &Path) -> Result<Option<(Vec<u8>, CheckpointStamp)>, DurableError> {
    let path = dir.join(FILE);
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(format!("cannot read `{}`", path.display()))(e)),
    };
    let stamp = (meta.len(), meta.modified().unwrap_or(std::time::UNIX_EPOCH));
    let bytes = std::fs::read(&path).map_err(io(format!("cannot read `{}`", path.display())))?;
    Ok(Some((bytes, stamp)))
}

/// The length and modification time of a checkpoint file.
pub type CheckpointStamp = (u64, std::time::SystemTime);

/// The stamp of `dir`'s checkpoint file, without reading it.
pub fn stamp(dir: &Path) -> Option<CheckpointStamp> {
    let meta = std::fs::metadata(dir.join(FILE)).ok()?;
    Some((meta.len(), meta.modified().unwrap_or(std::time::UNIX_EPOCH)))
}

/// Makes `dir` a new state directory holding only `checkpoint` (the bytes of another
/// directory's checkpoint file, or nothing): what a partition moved from another
/// instance opens from. Whatever `dir` held is removed first.
pub fn fresh_dir_with(dir: &Path, checkpoint: Option<&[u8]>) -> Result<(), DurableError> {
    remove_dir(dir)?;
    std::fs::create_dir_all(dir).map_err(io(format!("cannot create `{}`", dir.display())))?;
    if let Some(bytes) = checkpoint {
        let temp = dir.join(TEMP);
        std::fs::write(&temp, bytes)
            .and_then(|_| File::open(&temp)?.sync_all())
            .map_err(io(format!("cannot write `{}`", temp.display())))?;
        std::fs::rename(&temp, dir.join(FILE))
            .map_err(io(format!("cannot install `{}`", dir.display())))?;
        sync_dir(dir)?;
    }
    Ok(())
}

/// Removes a state directory and everything in it (a missing one is fine).
pub fn remove_dir(dir: &Path) -> Result<(), DurableError> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(io(format!("cannot remove `{}`", dir.display()))(e))
        }
        _ => Ok(()),
    }
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

/// The checkpoint file of `dir` opened, or None when there is none.
fn open(dir: &Path) -> Result<Option<(File, PathBuf)>, DurableError> {
    let path = dir.join(FILE);
    match File::open(&path) {
        Ok(f) => Ok(Some((f, path))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(format!("cannot open `{}`", path.display()))(e)),
    }
}

/// The end of the header (16 bytes of magic and length, then its JSON) the first
/// bytes of a checkpoint file announce, checked against the file's `size`.
fn header_end(path: &Path, start: &[u8], size: usize) -> Result<usize, DurableError> {
    let corrupt = |why: &str| DurableError::Corrupt(format!("`{}`: {why}", path.display()));
    if start.get(..8) != Some(MAGIC.as_slice()) {
        return Err(corrupt("not a featc checkpoint"));
    }
    let len = start
        .get(8..16)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
        .ok_or_else(|| corrupt("truncated header"))?;
    usize::try_from(len)
        .ok()
        .and_then(|l| l.checked_add(16))
        .filter(|&e| e <= size)
        .ok_or_else(|| corrupt("truncated header"))
}

fn parse_header(path: &Path, json: &[u8]) -> Result<Header, DurableError> {
    let mut header: Header = serde_json::from_slice(json)
        .map_err(|e| DurableError::Corrupt(format!("`{}`: {e}", path.display())))?;
    if let Some(kafka) = header.legacy_kafka.take() {
        header.positions.entry("kafka".to_string()).or_insert(kafka);
    }
    Ok(header)
}

/// The state layout of the checkpoint of `dir` (`Header::layout`), reading only its
/// header; empty when there is no checkpoint or it records none.
pub fn read_layout(dir: &Path) -> Result<Vec<Vec<String>>, DurableError> {
    Ok(read_header(dir)?.map(|h| h.layout).unwrap_or_default())
}

/// The header of the checkpoint of `dir`, reading nothing of the state after it
/// (`None`: no checkpoint).
pub fn read_header(dir: &Path) -> Result<Option<Header>, DurableError> {
    let Some((mut file, path)) = open(dir)? else {
        return Ok(None);
    };
    let failed = || io(format!("cannot read `{}`", path.display()));
    let size = file.metadata().map_err(failed())?.len();
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let mut start = [0u8; 16];
    file.read_exact(&mut start)
        .map_err(|_| DurableError::Corrupt(format!("`{}`: truncated header", path.display())))?;
    let end = header_end(&path, &start, size)?;
    let mut json = vec![0u8; end - 16];
    file.read_exact(&mut json).map_err(failed())?;
    parse_header(&path, &json).map(Some)
}

/// The checkpoint of `dir`, if there is one.
pub fn read(dir: &Path) -> Result<Option<(Header, Vec<u8>)>, DurableError> {
    let Some((mut file, path)) = open(dir)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(io(format!("cannot read `{}`", path.display())))?;
    let corrupt = |why: &str| DurableError::Corrupt(format!("`{}`: {why}", path.display()));
    let end = header_end(&path, &bytes, bytes.len())?;
    let header = parse_header(&path, &bytes[16..end])?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("featc-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A header written before `positions` existed carries the Kafka topics' position
    /// in `kafka`: it is read into `positions["kafka"]`, and written back there.
    #[test]
    fn a_legacy_kafka_header_is_read_into_positions() {
        let dir = temp_dir("legacy-header");
        let kafka = serde_json::json!({
            "positions": [["events", 0, 42]],
            "records": 42,
            "dead_total": 1,
            "dead": [],
        });
        let legacy = serde_json::json!({
            "upto": 7,
            "pushes": [["k", 3, 0]],
            "bootstrapped": true,
            "kafka": kafka,
            "snapshot_bytes": 4,
            "layout": [["f"]],
        });
        let head = serde_json::to_vec(&legacy).unwrap();
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&(head.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&head);
        bytes.extend_from_slice(b"snap");
        std::fs::write(dir.join(FILE), &bytes).unwrap();
        let (header, snapshot) = read(&dir).unwrap().unwrap();
        assert_eq!(snapshot, b"snap");
        assert_eq!(header.upto, 7);
        assert_eq!(header.positions.get("kafka"), Some(&kafka));
        assert_eq!(header.legacy_kafka, None);
        write(&dir, &header, &snapshot).unwrap();
        let written: serde_json::Value = {
            let bytes = std::fs::read(dir.join(FILE)).unwrap();
            serde_json::from_slice(&bytes[16..bytes.len() - 4]).unwrap()
        };
        assert_eq!(written["positions"]["kafka"], kafka);
        assert!(written.get("kafka").is_none(), "{written}");
        assert_eq!(read(&dir).unwrap().unwrap().0, header);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
