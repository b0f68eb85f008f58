//! `SnapshotError`: why a snapshot could not be written, or why `restore` refused one.

use std::fmt;

/// Every way a snapshot can fail; `restore` never panics on bad bytes, it says which
/// of these they are.
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotError {
    /// Writing the snapshot out failed.
    Io(String),
    /// The bytes do not start with the snapshot magic: not a featc snapshot.
    NotASnapshot,
    /// A snapshot of another format version.
    Version { found: u32, expected: u32 },
    /// Fewer bytes than the header announces (a partial write or copy).
    Truncated { expected: u64, found: u64 },
    /// More bytes than the header announces.
    TrailingBytes { expected: u64, found: u64 },
    /// The body's checksum does not match: the bytes were damaged.
    Checksum,
    /// The snapshot was taken by a different graph. `features` names the features
    /// whose group (plan or source) differs, or that only one side has; it is empty
    /// when only a source that no feature reads differs.
    OtherGraph { features: Vec<String> },
    /// The snapshot was taken under options that change the state (late policy,
    /// minimum lateness, fold run); both sides are described.
    OtherOptions { snapshot: String, runtime: String },
    /// The body passed its checksum but does not decode for this graph (a snapshot
    /// written by a faulty or foreign writer).
    Malformed(String),
    /// A snapshot of a runtime whose entity states are in a disk tier (it holds
    /// none of them), given to a runtime without that tier.
    NeedsTier,
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::Io(e) => write!(f, "writing the snapshot failed: {e}"),
            SnapshotError::NotASnapshot => write!(f, "not a featc runtime snapshot"),
            SnapshotError::Version { found, expected } => write!(
                f,
                "snapshot format version {found}, this featc reads version {expected}; \
                 replay the event log instead"
            ),
            SnapshotError::Truncated { expected, found } => {
                write!(f, "the snapshot is truncated: {found} bytes of {expected}")
            }
            SnapshotError::TrailingBytes { expected, found } => write!(
                f,
                "the snapshot has {found} bytes, its header says {expected}"
            ),
            SnapshotError::Checksum => {
                write!(f, "the snapshot is corrupt: its checksum does not match")
            }
            SnapshotError::OtherGraph { features } if features.is_empty() => write!(
                f,
                "the snapshot was taken by a different graph (its sources differ)"
            ),
            SnapshotError::OtherGraph { features } => write!(
                f,
                "the snapshot was taken by a different graph; these features differ: {}",
                features.join(", ")
            ),
            SnapshotError::OtherOptions { snapshot, runtime } => write!(
                f,
                "the snapshot was taken with options {snapshot}, the runtime has {runtime}"
            ),
            SnapshotError::Malformed(what) => write!(f, "malformed snapshot: {what}"),
            SnapshotError::NeedsTier => write!(
                f,
                "the snapshot's entity states are in a disk tier: restore it with that tier"
            ),
        }
    }
}

impl std::error::Error for SnapshotError {}
