//! The write-ahead log: pushes in order, keyed by a sequence number, in a fjall
//! keyspace. `append` returns once the records are on disk (fsync of fjall's journal,
//! `PersistMode::SyncAll`); one call carries every push that arrived while the
//! previous sync ran (group commit, see `writer`).
//!
//! fjall checksums each journal batch and, on recovery, drops a torn last batch
//! (`RecoveryMode::TolerateCorruptTail`): a record that was being written when the
//! process died was never acknowledged, so nothing acknowledged is lost.

use std::path::Path;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use super::DurableError;

/// The sizes of fjall's journal files (`*.jnl`) in `dir`, by name.
fn journal_sizes(dir: &Path) -> Vec<(std::ffi::OsString, u64)> {
    journals(dir, |e| e.metadata().ok().map(|m| m.len()))
}

/// Where the written bytes of each journal end (past them, only zeros): fjall
/// pre-allocates a journal with zeros, and recovery cuts that padding as it cuts a
/// torn batch; only written bytes cut are a torn write.
fn journal_data_ends(dir: &Path) -> Vec<(std::ffi::OsString, u64)> {
    journals(dir, |e| data_end(&e.path()).ok())
}

fn journals(
    dir: &Path,
    measure: impl Fn(&std::fs::DirEntry) -> Option<u64>,
) -> Vec<(std::ffi::OsString, u64)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "jnl"))
        .filter_map(|e| Some((e.file_name(), measure(&e)?)))
        .collect()
}

/// The offset just past the last non-zero byte of `path` (0 for a file of zeros).
fn data_end(path: &Path) -> std::io::Result<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    let mut end = file.metadata()?.len();
    let mut chunk = vec![0u8; 1 << 20];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let len = (end - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk[..len])?;
        if let Some(i) = chunk[..len].iter().rposition(|&b| b != 0) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// The log of one state directory.
pub struct Log {
    db: Database,
    records: Keyspace,
    /// The sequence number the next record gets.
    next: u64,
}

fn key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

fn storage(what: &str, e: impl std::fmt::Display) -> DurableError {
    DurableError::Storage(format!("{what}: {e}"))
}

impl Log {
    /// Opens (or creates) the log in `dir`; the next sequence number follows the last
    /// record kept, or `after` (the last checkpoint's) if that is greater. Also
    /// returns how many bytes of a torn last write recovery dropped (fjall truncates
    /// its journal to the last whole batch; where its written bytes ended before and
    /// its size after tell how much, the zeros it had pre-allocated aside).
    pub fn open(dir: &Path, after: u64) -> Result<(Log, u64), DurableError> {
        let before = journal_data_ends(dir);
        let db = Database::builder(dir)
            .open()
            .map_err(|e| storage(&format!("cannot open the log in `{}`", dir.display()), e))?;
        let records = db
            .keyspace("records", KeyspaceCreateOptions::default)
            .map_err(|e| storage("cannot open the log's records", e))?;
        let last = match records.last_key_value() {
            Some(guard) => {
                let k = guard.key().map_err(|e| storage("cannot read the log", e))?;
                let bytes: [u8; 8] = k
                    .as_ref()
                    .try_into()
                    .map_err(|_| DurableError::Corrupt("a log key that is not 8 bytes".into()))?;
                Some(u64::from_be_bytes(bytes))
            }
            None => None,
        };
        let next = last.map_or(0, |l| l + 1).max(after);
        let after_open = journal_sizes(dir);
        let dropped = before
            .iter()
            .map(|(name, old)| {
                let now = after_open
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(*old, |(_, s)| *s);
                old.saturating_sub(now)
            })
            .sum();
        Ok((Log { db, records, next }, dropped))
    }

    /// The sequence number the next record gets.
    pub fn next_seq(&self) -> u64 {
        self.next
    }

    /// Appends the records in order and syncs them to disk; returns the first one's
    /// sequence number. When it returns `Ok`, every record survives any crash.
    pub fn append(&mut self, records: &[Vec<u8>]) -> Result<u64, DurableError> {
        let first = self.next;
        let mut batch = self.db.batch();
        for (i, r) in records.iter().enumerate() {
            batch.insert(&self.records, key(first + i as u64), r.as_slice());
        }
        batch
            .commit()
            .map_err(|e| storage("cannot write the log", e))?;
        self.db
            .persist(PersistMode::SyncAll)
            .map_err(|e| storage("cannot sync the log to disk", e))?;
        self.next = first + records.len() as u64;
        Ok(first)
    }

    /// Every record with a sequence number `>= from`, in order.
    pub fn read_from(&self, from: u64) -> Result<Vec<(u64, Vec<u8>)>, DurableError> {
        let mut out = Vec::new();
        for guard in self.records.range(key(from)..) {
            let (k, v) = guard
                .into_inner()
                .map_err(|e| storage("cannot read the log", e))?;
            let bytes: [u8; 8] = k
                .as_ref()
                .try_into()
                .map_err(|_| DurableError::Corrupt("a log key that is not 8 bytes".into()))?;
            out.push((u64::from_be_bytes(bytes), v.to_vec()));
        }
        Ok(out)
    }

    /// Every record with a sequence number `>= from`, decoded, in order.
    pub fn read_entries(&self, from: u64) -> Result<Vec<(u64, super::Entry)>, DurableError> {
        self.read_from(from)?
            .into_iter()
            .map(|(seq, bytes)| {
                super::Entry::decode(&bytes)
                    .map(|r| (seq, r))
                    .map_err(|e| DurableError::Corrupt(format!("log record {seq}: {e}")))
            })
            .collect()
    }

    /// Forgets the records with sequence numbers `< upto` (a checkpoint covers them).
    pub fn truncate_before(&mut self, upto: u64) -> Result<(), DurableError> {
        let mut keys = Vec::new();
        for guard in self.records.range(..key(upto)) {
            keys.push(guard.key().map_err(|e| storage("cannot read the log", e))?);
        }
        let mut batch = self.db.batch();
        for k in keys {
            batch.remove(&self.records, k);
        }
        batch
            .commit()
            .map_err(|e| storage("cannot truncate the log", e))?;
        self.db
            .persist(PersistMode::SyncAll)
            .map_err(|e| storage("cannot sync the log to disk", e))
    }
}
