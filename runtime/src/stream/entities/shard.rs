//! One shard of a group's entity states: the entities whose keys hash to it, each in
//! a `Slot`, found through an `EntityIndex`, with the clock hand the disk tier
//! evicts by. Everything here runs under the shard's lock (see `Entities`).

use xxhash_rust::xxh3::xxh3_64;

use super::super::key::EntityIndex;
use super::record::Stored;
use crate::ir::DataType;
use crate::row::Cells;
use crate::snapshot::{Persist, Writer};
use crate::value::Value;
use crate::window::KeyState;

/// How many shards a group's states are split into: reads of entities in different
/// shards never wait for each other, and a push holds all of them only for a chunk
/// of rows at a time.
pub(crate) const SHARDS: usize = 1 << SHARD_BITS;
const SHARD_BITS: u32 = 4;

/// An ordinal not assigned yet (an entity loaded for a push that creates it).
pub(crate) const UNASSIGNED: u64 = u64::MAX;

/// One entity held in memory.
pub(crate) struct Slot {
    pub state: KeyState,
    pub key: Box<[Value]>,
    /// Events with a smaller sequence number are in `state` (a push skips them: after
    /// a crash, the store may hold a state newer than the checkpoint the log replays
    /// from).
    pub next_seq: u64,
    /// The order in which entities were first seen (`UNASSIGNED` until the push that
    /// creates it assigns it).
    pub ordinal: u64,
    /// `state.approx_bytes()` when last counted (tier only).
    pub bytes: usize,
    /// Changed since it was last written to the store (tier only).
    pub dirty: bool,
    /// Used since the clock hand last passed (tier only).
    pub referenced: bool,
    /// Held for a push in progress: never evicted nor expired (tier only).
    pub pinned: bool,
    /// Changed since `bytes` was counted, and listed for counting (tier only).
    pub uncounted: bool,
    /// A record of it is in the store (tier only).
    pub in_store: bool,
    /// The expiry time of its record's index entry, if it has one (tier only).
    pub stored_expiry: Option<i64>,
}

impl Slot {
    /// An entity read back from the store: as stored, so not changed.
    pub fn stored(key: Box<[Value]>, stored: Stored) -> Slot {
        Slot {
            state: stored.state,
            key,
            next_seq: stored.next_seq,
            ordinal: stored.ordinal,
            bytes: 0,
            dirty: false,
            referenced: true,
            pinned: false,
            uncounted: false,
            in_store: true,
            stored_expiry: stored.expires,
        }
    }
}

/// The entities of one shard.
pub(crate) struct Shard {
    pub index: EntityIndex,
    pub slots: Vec<Option<Slot>>,
    free: Vec<u32>,
    /// The clock hand: the slot eviction looks at next.
    pub hand: usize,
}

impl Shard {
    pub fn new(key_types: &[DataType]) -> Shard {
        Shard {
            index: EntityIndex::new(key_types),
            slots: Vec::new(),
            free: Vec::new(),
            hand: 0,
        }
    }

    pub fn slot(&self, id: u32) -> Option<&Slot> {
        self.slots.get(id as usize)?.as_ref()
    }

    pub fn slot_mut(&mut self, id: u32) -> Option<&mut Slot> {
        self.slots.get_mut(id as usize)?.as_mut()
    }

    /// Holds `slot` (its key not held yet); its id.
    pub fn insert(&mut self, slot: Slot) -> u32 {
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        self.index.insert(&slot.key, id);
        self.slots[id as usize] = Some(slot);
        id
    }

    /// Lets slot `id` go.
    pub fn remove(&mut self, id: u32) -> Option<Slot> {
        let slot = self.slots.get_mut(id as usize)?.take()?;
        self.index.remove(&slot.key);
        self.free.push(id);
        Some(slot)
    }

    /// The slots held, with their ids.
    pub fn held(&self) -> impl Iterator<Item = (u32, &Slot)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((i as u32, s.as_ref()?)))
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }
}

/// Mixes an int64 key into a shard (the index hashes it again: this one only spreads
/// keys over shards).
#[inline]
fn spread(h: u64) -> usize {
    (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SHARD_BITS)) as usize
}

/// The shard of a key given as values (of the group's key types).
pub(crate) fn shard_of(key: &[Value]) -> usize {
    match key {
        [Value::Int64(k)] => spread(*k as u64),
        [Value::String(s)] => spread(xxh3_64(s.as_bytes())),
        key => {
            let mut w = Writer::new();
            key.iter().for_each(|v| v.canonical().save(&mut w));
            spread(xxh3_64(&w.into_bytes()))
        }
    }
}

/// The shard of the key at `row` of the key columns (not null there): `shard_of` of
/// its values, without building them for the usual single int64 or string key.
#[inline]
pub(crate) fn shard_of_cells(cols: &[Cells<'_>], row: usize) -> usize {
    match cols {
        [Cells::Int64(a)] => spread(a.value(row) as u64),
        [Cells::String(a)] => spread(xxh3_64(a.value(row).as_bytes())),
        cols => {
            let key: Vec<Value> = cols.iter().map(|c| c.get(row)).collect();
            shard_of(&key)
        }
    }
}
