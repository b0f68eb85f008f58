//! What the runtime puts in a `StateStore`: one record per entity, keyed by its group
//! and its key.
//!
//! Key: the group's index (u16, big-endian, so a group's entities are one range),
//! then the key's values, canonical, in the snapshot encoding. Record: an xxh3-64 of
//! the rest, then the entity's `next_seq` (events with a smaller sequence number are
//! in the state: a replay after a crash skips them), its ordinal (the order entities
//! were first seen) and its `KeyState` as snapshots write it.

use std::sync::Arc;

use xxhash_rust::xxh3::xxh3_64;

use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::value::Value;
use crate::window::{KeySpec, KeyState};

/// The store key of `key` in group `group`.
pub(crate) fn store_key(group: u16, key: &[Value]) -> Vec<u8> {
    let mut w = Writer::with_capacity(2 + key.len() * 10);
    w.u8((group >> 8) as u8);
    w.u8(group as u8);
    for v in key {
        v.canonical().save(&mut w);
    }
    w.into_bytes()
}

/// Every store key of group `group` starts with this.
pub(crate) fn group_prefix(group: u16) -> [u8; 2] {
    group.to_be_bytes()
}

/// The key values of a store key of any group (its prefix skipped).
pub(crate) fn key_of(stored: &[u8], arity: usize) -> Result<Vec<Value>, SnapshotError> {
    let mut r = Reader::new(stored.get(2..).unwrap_or_default());
    let key = (0..arity)
        .map(|_| Value::load(&mut r))
        .collect::<Result<Vec<_>, _>>()?;
    r.finish()?;
    Ok(key)
}

/// An entity's record.
pub(crate) fn encode(next_seq: u64, ordinal: u64, state: &KeyState) -> Vec<u8> {
    let mut w = Writer::with_capacity(24 + state.snapshot_size_hint());
    (0..8).for_each(|_| w.u8(0));
    w.u64(next_seq);
    w.u64(ordinal);
    state.save(&mut w);
    let mut bytes = w.into_bytes();
    let sum = xxh3_64(&bytes[8..]).to_le_bytes();
    bytes[..8].copy_from_slice(&sum);
    bytes
}

fn checked(bytes: &[u8]) -> Result<&[u8], SnapshotError> {
    let (sum, body) = bytes.split_at_checked(8).ok_or(SnapshotError::Truncated {
        expected: 8,
        found: bytes.len() as u64,
    })?;
    let mut s = [0u8; 8];
    s.copy_from_slice(sum);
    if xxh3_64(body) != u64::from_le_bytes(s) {
        return Err(SnapshotError::Checksum);
    }
    Ok(body)
}

/// An entity's record, read back: `(next_seq, ordinal, state)`.
pub(crate) fn decode(
    spec: &Arc<KeySpec>,
    bytes: &[u8],
) -> Result<(u64, u64, KeyState), SnapshotError> {
    let mut r = Reader::new(checked(bytes)?);
    let next_seq = r.u64()?;
    let ordinal = r.u64()?;
    let mut state = KeyState::load(spec.clone(), &mut r)?;
    r.finish()?;
    // The cache counts what it holds: no room kept for growth a saved state had.
    state.shrink_to_fit();
    Ok((next_seq, ordinal, state))
}

/// An entity's ordinal, without decoding its state.
pub(crate) fn ordinal(bytes: &[u8]) -> Result<u64, SnapshotError> {
    let mut r = Reader::new(checked(bytes)?);
    r.u64()?;
    r.u64()
}
