//! One group's entity states: split into shards, each behind its own lock, so that
//! reads of different entities and a push proceed side by side on one copy of the
//! state; and optionally tiered: a cache of decoded states, bounded in bytes, in front
//! of a `StateStore` (the disk tier).
//!
//! Code map: `shard` (`Shard`, `Slot`: the entities held, and which shard a key is
//! in), `store` (`StateStore`, `Tier`, `MemoryStore`), `record` (what an entity is in
//! the store), `expiry` (forgetting the entities past their retention).
//!
//! Concurrency (docs/serving.md, "Concurrency"): a push holds every shard of a group
//! for one chunk of `CHUNK` rows at a time, and a read holds the one shard of its
//! entity, so a read waits at most for one chunk, never for a whole push. A push
//! applies its rows in order and each entity's rows in a chunk under one hold, so a
//! read of an entity answers from a prefix of the log's events for that entity: all
//! of every answered push, and possibly the first rows of the push being applied.
//!
//! The disk tier (`Tier`): an entity not held is loaded from the store (decoded, held
//! and counted); the cache evicts unpinned entities by a clock (second chance) when
//! the counted bytes pass the budget, writing the changed ones back. A push first
//! loads and pins every entity of its batch (a failing store then fails the push
//! with nothing applied), applies, then unpins. Each entity records the sequence
//! number of the next event it has not seen (`Slot::next_seq`), so after a crash,
//! when the store may hold states newer than the checkpoint the log is replayed from,
//! the replay applies to each entity exactly the events it lacks.

mod expiry;
mod record;
mod shard;
mod store;

pub use store::{MemoryStore, StateStore, StoreError, Tier};

pub(crate) use shard::{shard_of, shard_of_cells, Shard, Slot, SHARDS, UNASSIGNED};

use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};

use super::error::StreamError;
use super::key::key_values;
use crate::ir::DataType;
use crate::row::Cells;
use crate::snapshot::SnapshotError;
use crate::value::Value;
use crate::window::{KeySpec, KeyState};

/// Rows a push applies per hold of a group's shards (a read waits at most this many).
pub(crate) const CHUNK: usize = 512;

/// How many entities one eviction writes back at most per hold of a shard.
const EVICT_BATCH: usize = 64;

/// The disk tier of one runtime, shared by its groups: one budget for all.
pub(crate) struct TierState {
    pub store: Arc<dyn StateStore>,
    pub budget: usize,
    /// Bytes of the states held, over every group (`Slot::bytes` summed).
    pub cached: AtomicUsize,
    /// Bytes the states held may have grown by since they were last counted, over
    /// every group (an estimate: `Entities::finish_push`).
    pub pending: AtomicUsize,
    pub loads: AtomicU64,
    pub evictions: AtomicU64,
    pub written: AtomicU64,
    pub store_errors: AtomicU64,
}

impl TierState {
    pub fn new(tier: &Tier) -> Arc<TierState> {
        Arc::new(TierState {
            store: Arc::clone(&tier.store),
            budget: tier.cache_bytes,
            cached: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            loads: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
            written: AtomicU64::new(0),
            store_errors: AtomicU64::new(0),
        })
    }

    fn over(&self) -> bool {
        self.cached.load(Relaxed) > self.budget
    }
}

/// A shard, locked; a holder that panicked is taken over (a push changes an
/// entity's state one row at a time, each row whole).
fn lock(m: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn store_error(what: &str, e: impl std::fmt::Display) -> StreamError {
    StreamError::Store {
        what: what.to_string(),
        message: e.to_string(),
    }
}

/// An entity's key, with its ordinal.
pub(crate) type Keyed = (u64, Box<[Value]>);

/// One group's entity states (see the module docs).
pub(crate) struct Entities {
    shards: Box<[Mutex<Shard>]>,
    spec: Arc<KeySpec>,
    fold_run: u32,
    /// The group's index: its entities' store keys start with it.
    group: u16,
    arity: usize,
    tier: Option<Arc<TierState>>,
    /// Entities seen so far: the next new entity's ordinal.
    next_ordinal: AtomicU64,
    /// Entities forgotten past their retention (`expiry`).
    expired: AtomicU64,
    /// The horizon of the last expiry sweep (`NEVER`: none yet).
    last_sweep: AtomicI64,
    /// Tier: the entities changed since they were last counted, and the bytes they
    /// may have grown by (`finish_push`); `KeySpec::growth_per_event`.
    uncounted: Mutex<Vec<(usize, u32)>>,
    pending: AtomicUsize,
    growth_per_event: usize,
    /// The shard `evict_all` evicts from next.
    next_evicted: AtomicUsize,
}

/// "No sweep yet" in `Entities::last_sweep`.
const NEVER: i64 = i64::MIN;

/// A store write: a key and its new bytes (`None`: delete it).
pub(crate) type Write = (Vec<u8>, Option<Vec<u8>>);

impl Entities {
    pub fn new(
        spec: Arc<KeySpec>,
        key_types: &[DataType],
        fold_run: u32,
        group: u16,
        tier: Option<Arc<TierState>>,
    ) -> Entities {
        let growth_per_event = spec.growth_per_event();
        Entities {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(Shard::new(key_types)))
                .collect(),
            spec,
            fold_run,
            group,
            arity: key_types.len(),
            tier,
            next_ordinal: AtomicU64::new(0),
            expired: AtomicU64::new(0),
            last_sweep: AtomicI64::new(NEVER),
            uncounted: Mutex::new(Vec::new()),
            pending: AtomicUsize::new(0),
            growth_per_event,
            next_evicted: AtomicUsize::new(0),
        }
    }

    /// The store index of the `index`-th group, if a store can key that many.
    pub fn group_index(index: usize) -> Option<u16> {
        u16::try_from(index)
            .ok()
            .filter(|&g| g < record::EXPIRY_GROUP)
    }

    pub fn tier(&self) -> Option<&Arc<TierState>> {
        self.tier.as_ref()
    }

    /// Entities seen (an entity seen again after it expired counts again).
    pub fn len(&self) -> u64 {
        self.next_ordinal.load(Relaxed)
    }

    /// Entities forgotten past their retention.
    pub fn expired(&self) -> u64 {
        self.expired.load(Relaxed)
    }

    /// Entities seen and not expired (held, in the store, or both).
    pub fn live(&self) -> u64 {
        self.len().saturating_sub(self.expired())
    }

    /// Entities held in memory.
    pub fn held(&self) -> u64 {
        self.shards.iter().map(|s| lock(s).len() as u64).sum()
    }

    /// Restores the counts of `len` and `expired`.
    pub fn set_len(&self, seen: u64, expired: u64) {
        self.next_ordinal.store(seen, Relaxed);
        self.expired.store(expired, Relaxed);
    }

    /// Every shard, locked, for one chunk of a push.
    pub fn lock_all(&self) -> Vec<MutexGuard<'_, Shard>> {
        self.shards.iter().map(|s| lock(s)).collect()
    }

    fn fresh(&self, key: Box<[Value]>, ordinal: u64, next_seq: u64) -> Slot {
        let mut state = KeyState::new(self.spec.clone());
        state.set_fold_run(self.fold_run);
        let stored = record::Stored {
            next_seq,
            ordinal,
            expires: None,
            state,
        };
        let mut slot = Slot::stored(key, stored);
        // Not in the store yet.
        slot.dirty = true;
        slot.in_store = false;
        slot
    }

    /// Holds `slot` in `shard`, counting its bytes (tier).
    fn hold(&self, shard: &mut Shard, mut slot: Slot) -> u32 {
        if let Some(t) = &self.tier {
            slot.bytes = slot.state.approx_bytes();
            t.cached.fetch_add(slot.bytes, Relaxed);
        }
        shard.insert(slot)
    }

    /// Counts slot `id`'s bytes again after it changed (tier).
    fn recount(&self, shard: &mut Shard, id: u32) {
        let (Some(t), Some(slot)) = (&self.tier, shard.slot_mut(id)) else {
            return;
        };
        let now = slot.state.approx_bytes();
        if now >= slot.bytes {
            t.cached.fetch_add(now - slot.bytes, Relaxed);
        } else {
            t.cached.fetch_sub(slot.bytes - now, Relaxed);
        }
        slot.bytes = now;
    }

    /// For a push, in the locked `shard` of the key at `row` (not null): its id,
    /// creating the entity when it is new, and the entity's ordinal settled (see
    /// `Slot::ordinal`: a replay meets, loaded from the store, entities first seen
    /// after its checkpoint, in the order it would create them).
    #[inline]
    pub fn resolve(&self, shard: &mut Shard, cols: &[Cells<'_>], row: usize) -> Option<u32> {
        if let Some(id) = shard.index.get_cells(cols, row) {
            if let Some(slot) = shard.slot_mut(id) {
                let next = self.next_ordinal.load(Relaxed);
                if slot.ordinal == UNASSIGNED {
                    slot.ordinal = next;
                    self.next_ordinal.store(next + 1, Relaxed);
                } else if slot.ordinal >= next {
                    self.next_ordinal.store(slot.ordinal + 1, Relaxed);
                }
            }
            return Some(id);
        }
        let key = key_values(cols, row)?;
        let ordinal = self.next_ordinal.fetch_add(1, Relaxed);
        let slot = self.fresh(key, ordinal, 0);
        Some(self.hold(shard, slot))
    }

    /// Tier only: loads (or makes) and pins the entity of each of the first `rows`
    /// rows not null in the key columns, noting each pinned `(shard, id)` once in
    /// `pinned`.
    /// A failing store unpins them again and fails: nothing was applied.
    pub fn load_for_push(
        &self,
        cols: &[Cells<'_>],
        rows: usize,
        pinned: &mut Vec<(usize, u32)>,
    ) -> Result<(), StreamError> {
        let Some(tier) = &self.tier else {
            return Ok(());
        };
        for row in 0..rows {
            if cols.iter().any(|c| c.is_null(row)) {
                continue;
            }
            let s = shard_of_cells(cols, row);
            let mut shard = lock(&self.shards[s]);
            if let Some(id) = shard.index.get_cells(cols, row) {
                if let Some(slot) = shard.slot_mut(id) {
                    // Used again: the clock passes it over once more (an entity
                    // pushed to often stays, as one read often does).
                    slot.referenced = true;
                    if !slot.pinned {
                        slot.pinned = true;
                        pinned.push((s, id));
                    }
                }
                continue;
            }
            let Some(key) = key_values(cols, row) else {
                continue;
            };
            let loaded = match self.load(tier, &key) {
                Ok(loaded) => loaded,
                Err(e) => {
                    drop(shard);
                    self.unpin(pinned);
                    return Err(e);
                }
            };
            let mut slot = match loaded {
                Some(record) => Slot::stored(key, record),
                None => self.fresh(key, UNASSIGNED, 0),
            };
            slot.pinned = true;
            let id = self.hold(&mut shard, slot);
            pinned.push((s, id));
        }
        Ok(())
    }

    /// An entity's record from the store, decoded.
    fn load(&self, tier: &TierState, key: &[Value]) -> Result<Option<record::Stored>, StreamError> {
        let stored = tier
            .store
            .get(&record::store_key(self.group, key))
            .map_err(|e| store_error("reading an entity", e))?;
        let Some(bytes) = stored else {
            return Ok(None);
        };
        tier.loads.fetch_add(1, Relaxed);
        record::decode(&self.spec, &bytes)
            .map(Some)
            .map_err(|e| store_error("decoding an entity", e))
    }

    fn unpin(&self, pinned: &mut Vec<(usize, u32)>) {
        for &(s, id) in pinned.iter() {
            if let Some(slot) = lock(&self.shards[s]).slot_mut(id) {
                slot.pinned = false;
            }
        }
        pinned.clear();
    }

    /// Tier only, after a push of `rows` rows: unpins its entities and, while the
    /// cache is well within its budget, only estimates their growth (`settle`
    /// counts them later); near the budget, counts every entity changed since the
    /// last count again and evicts what the budget no longer holds.
    ///
    /// Why: counting a state walks every accumulator of it, cold in memory after
    /// the push (a fifth of a bootstrap's time when it was counted at every push).
    /// The estimate is `KeySpec::growth_per_event` per row, so the count is settled
    /// before the states could have grown past three quarters of the budget.
    pub fn finish_push(&self, pinned: &mut Vec<(usize, u32)>, rows: usize) {
        let Some(tier) = &self.tier else {
            return;
        };
        let growth = rows.saturating_mul(self.growth_per_event);
        self.pending.fetch_add(growth, Relaxed);
        let pending = tier.pending.fetch_add(growth, Relaxed) + growth;
        let relaxed = tier.cached.load(Relaxed).saturating_add(pending) <= tier.budget / 4 * 3;
        pinned.sort_unstable();
        let mut uncounted = self.uncounted();
        for run in pinned.chunk_by(|a, b| a.0 == b.0) {
            let mut shard = lock(&self.shards[run[0].0]);
            for &(s, id) in run {
                if let Some(slot) = shard.slot_mut(id) {
                    slot.pinned = false;
                    if !slot.uncounted {
                        slot.uncounted = true;
                        uncounted.push((s, id));
                    }
                }
            }
        }
        pinned.clear();
        drop(uncounted);
        if !relaxed {
            self.settle();
        }
    }

    /// The entities changed since they were last counted (see `finish_push`).
    fn uncounted(&self) -> MutexGuard<'_, Vec<(usize, u32)>> {
        // Each change is one push or one take: a holder that panicked left it whole.
        self.uncounted.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tier only: counts again every entity changed since it was last counted, and
    /// evicts what the budget no longer holds.
    pub fn settle(&self) {
        let Some(tier) = &self.tier else {
            return;
        };
        let mut list = std::mem::take(&mut *self.uncounted());
        list.sort_unstable();
        list.dedup();
        for run in list.chunk_by(|a, b| a.0 == b.0) {
            let mut shard = lock(&self.shards[run[0].0]);
            for &(_, id) in run {
                if let Some(slot) = shard.slot_mut(id) {
                    slot.uncounted = false;
                }
                self.recount(&mut shard, id);
            }
        }
        let settled = self.pending.swap(0, Relaxed);
        tier.pending.fetch_sub(settled, Relaxed);
        self.evict_all();
    }

    /// Tier only: evicts by the clock while the cache is over its budget, one batch
    /// from each shard in turn, going on from the shard the last round stopped at.
    ///
    /// Why in turn: evicting from the first shard until the budget holds again
    /// emptied it while the others kept theirs, and its clock hand then stepped over
    /// thousands of vacant slots for every entity it found (a seventh of a push's
    /// time with most entities on disk).
    fn evict_all(&self) {
        let Some(tier) = &self.tier else { return };
        let n = self.shards.len();
        while tier.over() {
            let mut evicted = 0;
            for _ in 0..n {
                let s = self.next_evicted.fetch_add(1, Relaxed) % n;
                evicted += self.evict_batch(tier, &mut lock(&self.shards[s]));
                if !tier.over() {
                    return;
                }
            }
            if evicted == 0 {
                return;
            }
        }
    }

    /// Tier only: evicts from `shard` while the cache is over its budget.
    fn evict(&self, shard: &mut Shard) {
        let Some(tier) = &self.tier else { return };
        while tier.over() && self.evict_batch(tier, shard) > 0 {}
    }

    /// Evicts up to `EVICT_BATCH` unpinned entities of `shard` by the clock (second
    /// chance), fewer once the cache is within its budget, writing the changed ones
    /// to the store first; how many went. An entity whose write fails stays held,
    /// and the failure is counted.
    fn evict_batch(&self, tier: &TierState, shard: &mut Shard) -> usize {
        let mut victims: Vec<u32> = Vec::with_capacity(EVICT_BATCH);
        let mut freed = 0;
        let n = shard.slots.len();
        let mut steps = 0;
        while victims.len() < EVICT_BATCH && steps < 2 * n {
            let id = (shard.hand % n) as u32;
            shard.hand = (shard.hand + 1) % n;
            steps += 1;
            let Some(slot) = shard.slot_mut(id) else {
                continue;
            };
            if slot.pinned || victims.contains(&id) {
                continue;
            }
            if slot.referenced {
                slot.referenced = false;
                continue;
            }
            victims.push(id);
            freed += slot.bytes;
            if tier.cached.load(Relaxed).saturating_sub(freed) <= tier.budget {
                break;
            }
        }
        if victims.is_empty() {
            return 0;
        }
        let mut writes = Vec::new();
        let mut written = 0;
        for slot in victims.iter().filter_map(|&id| shard.slot(id)) {
            if slot.dirty {
                self.write_slot(slot, &mut writes);
                written += 1;
            }
        }
        if !writes.is_empty() {
            if tier.store.write(writes).is_err() {
                tier.store_errors.fetch_add(1, Relaxed);
                return 0;
            }
            tier.written.fetch_add(written, Relaxed);
        }
        let evicted = victims.len();
        for id in victims {
            if let Some(slot) = shard.remove(id) {
                tier.cached.fetch_sub(slot.bytes, Relaxed);
                tier.evictions.fetch_add(1, Relaxed);
            }
        }
        evicted
    }

    /// Appends the store writes of a held entity's current state to `out` (its record
    /// and, when its expiry moved, its index entry); the expiry written.
    fn write_slot(&self, slot: &Slot, out: &mut Vec<Write>) -> Option<i64> {
        let key = record::store_key(self.group, &slot.key);
        let expires = slot.state.expires_at();
        if slot.stored_expiry != expires {
            if let Some(old) = slot.stored_expiry {
                out.push((record::expiry_key(self.group, old, &key), None));
            }
            if let Some(new) = expires {
                out.push((record::expiry_key(self.group, new, &key), Some(Vec::new())));
            }
        }
        let bytes = record::encode(slot.next_seq, slot.ordinal, expires, &slot.state);
        out.push((key, Some(bytes)));
        expires
    }

    /// Marks a slot as written with expiry `expires`.
    fn written(slot: &mut Slot, expires: Option<i64>) {
        slot.dirty = false;
        slot.in_store = true;
        slot.stored_expiry = expires;
    }

    /// A read: `f` on the entity of `key` (`None`: an entity never seen), loading it
    /// from the store when it is not held (tier), and evicting after.
    pub fn read<R>(
        &self,
        key: &[Value],
        f: impl FnOnce(Option<&mut Slot>) -> R,
    ) -> Result<R, StreamError> {
        let s = shard_of(key);
        let mut shard = lock(&self.shards[s]);
        let id = match shard.index.get(key) {
            Some(id) => Some(id),
            None => match &self.tier {
                None => None,
                Some(tier) => match self.load(tier, key)? {
                    None => None,
                    Some(record) => {
                        let key = key.iter().map(Value::canonical).collect();
                        Some(self.hold(&mut shard, Slot::stored(key, record)))
                    }
                },
            },
        };
        let Some(id) = id else {
            return Ok(f(None));
        };
        let result = match shard.slot_mut(id) {
            Some(slot) => {
                slot.referenced = true;
                f(Some(slot))
            }
            None => f(None),
        };
        if self.tier.is_some() {
            self.recount(&mut shard, id);
            self.evict(&mut shard);
        }
        Ok(result)
    }

    /// Drops from every held state what no read at or after `horizon` needs.
    pub fn compact(&self, horizon: i64) {
        for s in self.shards.iter() {
            let mut shard = lock(s);
            let ids: Vec<u32> = shard.held().map(|(id, _)| id).collect();
            for id in ids {
                if let Some(slot) = shard.slot_mut(id) {
                    slot.state.drop_before(horizon);
                }
                self.recount(&mut shard, id);
            }
        }
    }

    /// Bytes of the states held (counted now without a tier; as last counted with one).
    pub fn state_bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let shard = lock(s);
                match self.tier {
                    None => shard.held().map(|(_, s)| s.state.approx_bytes()).sum(),
                    Some(_) => shard.held().map(|(_, s)| s.bytes).sum::<usize>(),
                }
            })
            .sum()
    }

    /// Tier only: writes every changed held entity to the store (a checkpoint's
    /// part; the caller persists the store). Returns how many were written.
    pub fn flush(&self) -> Result<u64, StreamError> {
        let Some(tier) = &self.tier else {
            return Ok(0);
        };
        let mut total = 0;
        for s in self.shards.iter() {
            let mut shard = lock(s);
            let mut writes = Vec::new();
            let mut expiries = Vec::new();
            for (id, slot) in shard.held().filter(|(_, s)| s.dirty) {
                expiries.push((id, self.write_slot(slot, &mut writes)));
            }
            if expiries.is_empty() {
                continue;
            }
            let n = expiries.len() as u64;
            tier.store
                .write(writes)
                .map_err(|e| store_error("writing entities", e))?;
            for (id, expires) in expiries {
                if let Some(slot) = shard.slot_mut(id) {
                    Self::written(slot, expires);
                }
            }
            tier.written.fetch_add(n, Relaxed);
            total += n;
        }
        Ok(total)
    }

    /// Every entity's key with its ordinal, by ordinal: the held ones and (tier)
    /// those in the store.
    pub fn keys(&self) -> Result<Vec<Keyed>, StreamError> {
        let mut out: Vec<Keyed> = Vec::new();
        let mut held = std::collections::HashSet::new();
        for s in self.shards.iter() {
            let shard = lock(s);
            for (_, slot) in shard.held() {
                if self.tier.is_some() {
                    held.insert(record::store_key(self.group, &slot.key));
                }
                out.push((slot.ordinal, slot.key.clone()));
            }
        }
        if let Some(tier) = &self.tier {
            let mut failed: Option<SnapshotError> = None;
            tier.store
                .scan(&record::group_prefix(self.group), &mut |k, v| {
                    if held.contains(k) {
                        return true;
                    }
                    match (record::ordinal(v), record::key_of(k, self.arity)) {
                        (Ok(o), Ok(key)) => out.push((o, key.into_boxed_slice())),
                        (Err(e), _) | (_, Err(e)) => {
                            failed = Some(e);
                            return false;
                        }
                    }
                    true
                })
                .map_err(|e| store_error("listing entities", e))?;
            if let Some(e) = failed {
                return Err(store_error("decoding an entity", e));
            }
        }
        out.sort_by_key(|(o, _)| *o);
        Ok(out)
    }

    /// Calls `f` on every held entity, shard by shard (each shard locked meanwhile),
    /// each shard's by ordinal: an order that depends on the entities alone, not on
    /// which slots expiry and eviction freed (a snapshot's bytes then do not either).
    pub fn for_each_held(&self, mut f: impl FnMut(&Slot)) {
        for s in self.shards.iter() {
            let shard = lock(s);
            let mut held: Vec<&Slot> = shard.held().map(|(_, slot)| slot).collect();
            held.sort_unstable_by_key(|slot| slot.ordinal);
            held.into_iter().for_each(&mut f);
        }
    }

    /// Holds a restored entity (a snapshot's), changed (tier: it is not in the store
    /// yet), evicting as the budget asks.
    pub fn restore(&self, key: Box<[Value]>, ordinal: u64, next_seq: u64, state: KeyState) {
        let s = shard_of(&key);
        let mut shard = lock(&self.shards[s]);
        let mut slot = self.fresh(key, ordinal, next_seq);
        slot.state = state;
        slot.referenced = false;
        self.hold(&mut shard, slot);
        self.evict(&mut shard);
    }
}
