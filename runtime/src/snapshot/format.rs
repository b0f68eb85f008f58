//! The snapshot's frame: a fixed header, then the body.
//!
//! ```text
//! offset  size  field
//! 0       8     magic  b"FEATCSNP"
//! 8       4     format version, u32 little-endian (`VERSION`)
//! 12      8     body length in bytes, u64 little-endian
//! 20      8     xxh3-64 of the body, u64 little-endian
//! 28      ...   body (see `stream::snapshot`)
//! ```
//!
//! `open` checks them in that order, so a wrong file, an old format, a cut copy and
//! damaged bytes each get their own error before anything is decoded.

use super::error::SnapshotError;
use xxhash_rust::xxh3::xxh3_64;

pub const MAGIC: [u8; 8] = *b"FEATCSNP";

/// Bumped on any change to the body's encoding; another version is refused (the
/// state is then rebuilt by replaying the event log). 2: each key state records the
/// latest dropped event per filter (a view's latest event time). 3: entities are
/// written shard by shard with their ordinals and next sequence numbers, and a
/// snapshot of a tiered runtime holds no entities (`stream::snapshot`). 4: the event
/// buffer's rows and the deques' entries are written compactly (`window::row_codec`).
/// 5: each group records how many entities expired and its last expiry sweep, and
/// lists its entities by ordinal (`stream::entities`). 6: a large percentile state is
/// written as its sorted chunks (`agg::rank_state`).
pub const VERSION: u32 = 6;

pub const HEADER_BYTES: usize = 28;

/// Fills in the header of a snapshot written in place: `framed` is `HEADER_BYTES`
/// bytes of room, then the body (so the body is never copied to be framed).
pub fn seal(framed: &mut [u8]) {
    if framed.len() >= HEADER_BYTES {
        let (head, body) = framed.split_at_mut(HEADER_BYTES);
        head.copy_from_slice(&header(body));
    }
}

/// The header of a body of these bytes.
pub fn header(body: &[u8]) -> [u8; HEADER_BYTES] {
    let mut h = [0u8; HEADER_BYTES];
    h[0..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h[12..20].copy_from_slice(&(body.len() as u64).to_le_bytes());
    h[20..28].copy_from_slice(&xxh3_64(body).to_le_bytes());
    h
}

fn le_u64(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// The body of a framed snapshot, once its magic, version, length and checksum hold.
pub fn open(bytes: &[u8]) -> Result<&[u8], SnapshotError> {
    let magic = bytes.len().min(MAGIC.len());
    if bytes[..magic] != MAGIC[..magic] {
        return Err(SnapshotError::NotASnapshot);
    }
    if bytes.len() < HEADER_BYTES {
        return Err(SnapshotError::Truncated {
            expected: HEADER_BYTES as u64,
            found: bytes.len() as u64,
        });
    }
    let mut v = [0u8; 4];
    v.copy_from_slice(&bytes[8..12]);
    let version = u32::from_le_bytes(v);
    if version != VERSION {
        return Err(SnapshotError::Version {
            found: version,
            expected: VERSION,
        });
    }
    let body_len = le_u64(&bytes[12..20]);
    let expected = body_len.saturating_add(HEADER_BYTES as u64);
    let found = bytes.len() as u64;
    if found < expected {
        return Err(SnapshotError::Truncated { expected, found });
    }
    if found > expected {
        return Err(SnapshotError::TrailingBytes { expected, found });
    }
    let body = &bytes[HEADER_BYTES..];
    if xxh3_64(body) != le_u64(&bytes[20..28]) {
        return Err(SnapshotError::Checksum);
    }
    Ok(body)
}
