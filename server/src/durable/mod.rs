//! Durable online state, the storage formats only: a state directory holds the
//! project's identity, a write-ahead log of acknowledged pushes and applied Kafka
//! rounds (`log`, on fjall, records in `record` and `round`), the last checkpoint of
//! the runtime's state (`checkpoint`, the state itself in `snapshot`) and, with a
//! disk tier, the entities' states (`entities`, on fjall; the checkpoint then holds
//! the rest), and the archive of the events the log forgot (`archive`). A restart loads the checkpoint and re-applies the
//! log records after it, in order (`state::recover` does that; this module only reads
//! and writes the files).
//!
//! Guarantees (docs/serving.md, "Durability"): a push is acknowledged only after its
//! record is fsynced; records are re-applied exactly once (a checkpoint says which
//! records it covers, and the log forgets them only after the checkpoint is durable);
//! a directory written for other features is refused.

pub mod archive;
pub mod checkpoint;
pub mod dead_letter;
pub mod entities;
pub mod identity;
pub mod log;
pub mod record;
pub mod round;
pub mod snapshot;
#[cfg(test)]
pub(crate) mod temp;

use std::path::{Path, PathBuf};

pub use checkpoint::Header;
pub use dead_letter::{DeadLetter, DeadReason, Kept, SavedDeadLetters, Tally};
pub use entities::EntityStore;
pub use identity::{Difference, Identity};
pub use log::Log;
pub use record::{Entry, Record, RecordError};
pub use round::{RoundPart, RoundRecord};

use featc_runtime::snapshot::SnapshotError;
use featc_runtime::stream::RestoreError;

/// Why a state directory cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub enum DurableError {
    /// Reading or writing the directory failed.
    Storage(String),
    /// Something in it is not what featc wrote.
    Corrupt(String),
    /// It was written for other features.
    Identity {
        dir: PathBuf,
        difference: Difference,
    },
    /// The runtime's state could not be taken as a snapshot (for a checkpoint).
    Snapshot(SnapshotError),
    /// A checkpoint's runtime state could not be restored (e.g. to mirror a copy).
    Restore(RestoreError),
    /// A push could not be written as a log record.
    Record(RecordError),
}

impl std::fmt::Display for DurableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DurableError::Storage(m) => write!(f, "{m}"),
            DurableError::Corrupt(m) => write!(f, "corrupt state: {m}"),
            DurableError::Identity { dir, difference } => write!(
                f,
                "the state in `{}` was built for other features ({difference}); \
                 it is not reused: give another --state (with --bootstrap to load history) \
                 or delete it",
                dir.display()
            ),
            DurableError::Snapshot(e) => write!(f, "{e}"),
            DurableError::Restore(e) => write!(f, "{e}"),
            DurableError::Record(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for DurableError {}

/// What `StateDir::open` found.
pub struct Recovered {
    /// The last checkpoint (its header and the runtime snapshot), if any.
    pub checkpoint: Option<(Header, Vec<u8>)>,
    /// The log records after it (pushes and rounds), in order.
    pub records: Vec<(u64, Entry)>,
    /// Bytes of a torn last write (a push that was never acknowledged) that
    /// recovery dropped from the log's end.
    pub dropped_tail_bytes: u64,
    /// Whether a checkpoint was being written when the process stopped (its
    /// temporary file was removed; the checkpoint before it is the one loaded).
    pub unfinished_checkpoint: bool,
}

/// An open state directory.
pub struct StateDir {
    pub dir: PathBuf,
    pub log: Log,
}

const IDENTITY: &str = "identity.json";

impl StateDir {
    /// Opens `dir` (creating it) for a project with `identity`; refuses a directory
    /// of other features.
    pub fn open(dir: &Path, identity: &Identity) -> Result<(StateDir, Recovered), DurableError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            DurableError::Storage(format!("cannot create `{}`: {e}", dir.display()))
        })?;
        let id_path = dir.join(IDENTITY);
        match std::fs::read(&id_path) {
            Ok(bytes) => {
                let stored: Identity = serde_json::from_slice(&bytes)
                    .map_err(|e| DurableError::Corrupt(format!("`{}`: {e}", id_path.display())))?;
                let difference = stored.difference(identity);
                if !difference.is_empty() {
                    return Err(DurableError::Identity {
                        dir: dir.to_path_buf(),
                        difference,
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if dir.join("log").exists() {
                    return Err(DurableError::Corrupt(format!(
                        "`{}` has a log but no {IDENTITY}",
                        dir.display()
                    )));
                }
                let text = serde_json::to_vec_pretty(identity)
                    .map_err(|e| DurableError::Storage(e.to_string()))?;
                let temp = dir.join("identity.tmp");
                std::fs::write(&temp, text)
                    .and_then(|_| std::fs::File::open(&temp)?.sync_all())
                    .and_then(|_| std::fs::rename(&temp, &id_path))
                    .map_err(|e| {
                        DurableError::Storage(format!("cannot write `{}`: {e}", id_path.display()))
                    })?;
                checkpoint::sync_dir(dir)?;
            }
            Err(e) => {
                return Err(DurableError::Storage(format!(
                    "cannot read `{}`: {e}",
                    id_path.display()
                )))
            }
        }
        let unfinished_checkpoint = checkpoint::discard_unfinished(dir)?;
        let checkpoint = checkpoint::read(dir)?;
        let upto = checkpoint.as_ref().map_or(0, |(h, _)| h.upto);
        let (log, dropped_tail_bytes) = Log::open(&dir.join("log"), upto)?;
        let records = log.read_entries(upto)?;
        Ok((
            StateDir {
                dir: dir.to_path_buf(),
                log,
            },
            Recovered {
                checkpoint,
                records,
                dropped_tail_bytes,
                unfinished_checkpoint,
            },
        ))
    }
}
