//! What the runtime puts in a `StateStore`: one record per entity, keyed by its group
//! and its key, and an expiry index entry per record of a group with a retention.
//!
//! Key: the group's index (u16, big-endian, so a group's entities are one range),
//! then the key's values, canonical, in the snapshot encoding. Record: an xxh3-64 of
//! the rest, then the entity's `next_seq` (events with a smaller sequence number are
//! in the state: a replay after a crash skips them), its ordinal (the order entities
//! were first seen), the state time it expires at (`KeyState::expires_at`, `i64::MAX`:
//! never) and its `KeyState` as snapshots write it.
//!
//! Expiry index: `EXPIRY` (two bytes no group starts with), the group, the expiry time
//! (sign bit flipped, big-endian, so keys sort by time), then the record's key; no
//! value. An entity's record and its index entry are written in one store batch, so
//! a sweep finds the expired entities in time order without reading the others.

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

/// The first two bytes of every expiry index key (a group's index is below it).
pub(crate) const EXPIRY: [u8; 2] = [0xFF, 0xFF];

/// `EXPIRY` read as a group index: every group's index is below it.
pub(crate) const EXPIRY_GROUP: u16 = u16::from_be_bytes(EXPIRY);

/// Every expiry index key of group `group` starts with this.
pub(crate) fn expiry_prefix(group: u16) -> [u8; 4] {
    let [a, b] = group.to_be_bytes();
    [EXPIRY[0], EXPIRY[1], a, b]
}

/// The expiry index key of the record under `store_key`, expiring at `at`.
pub(crate) fn expiry_key(group: u16, at: i64, store_key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(12 + store_key.len());
    k.extend_from_slice(&expiry_prefix(group));
    k.extend_from_slice(&((at as u64) ^ (1 << 63)).to_be_bytes());
    k.extend_from_slice(store_key);
    k
}

/// An expiry index key read back: the time and the record's key.
pub(crate) fn parse_expiry_key(k: &[u8]) -> Option<(i64, &[u8])> {
    let time: [u8; 8] = k.get(4..12)?.try_into().ok()?;
    Some(((u64::from_be_bytes(time) ^ (1 << 63)) as i64, k.get(12..)?))
}

/// An entity as the store holds it.
pub(crate) struct Stored {
    pub next_seq: u64,
    pub ordinal: u64,
    /// `KeyState::expires_at` when written.
    pub expires: Option<i64>,
    pub state: KeyState,
}

/// An entity's record.
pub(crate) fn encode(
    next_seq: u64,
    ordinal: u64,
    expires: Option<i64>,
    state: &KeyState,
) -> Vec<u8> {
    let mut w = Writer::with_capacity(32 + state.snapshot_size_hint());
    (0..8).for_each(|_| w.u8(0));
    w.u64(next_seq);
    w.u64(ordinal);
    w.i64(expires.unwrap_or(i64::MAX));
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

fn expires(r: &mut Reader<'_>) -> Result<Option<i64>, SnapshotError> {
    Ok(Some(r.i64()?).filter(|&t| t != i64::MAX))
}

/// An entity's record, read back.
pub(crate) fn decode(spec: &Arc<KeySpec>, bytes: &[u8]) -> Result<Stored, SnapshotError> {
    let mut r = Reader::new(checked(bytes)?);
    let next_seq = r.u64()?;
    let ordinal = r.u64()?;
    let expires = expires(&mut r)?;
    let mut state = KeyState::load(spec.clone(), &mut r)?;
    r.finish()?;
    // The cache counts what it holds: no room kept for growth a saved state had.
    state.shrink_to_fit();
    Ok(Stored {
        next_seq,
        ordinal,
        expires,
        state,
    })
}

/// An entity's expiry time, without decoding its state.
pub(crate) fn expiry(bytes: &[u8]) -> Result<Option<i64>, SnapshotError> {
    let mut r = Reader::new(checked(bytes)?);
    r.u64()?;
    r.u64()?;
    expires(&mut r)
}

/// An entity's ordinal, without decoding its state.
pub(crate) fn ordinal(bytes: &[u8]) -> Result<u64, SnapshotError> {
    let mut r = Reader::new(checked(bytes)?);
    r.u64()?;
    r.u64()
}
