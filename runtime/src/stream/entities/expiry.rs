//! Expiry: forgetting the entities past their retention. Past it an entity reads as
//! one never seen (semantics.md, "Online values"), so forgetting it changes no read;
//! and only at the horizon (state time), since reads before it are refused: no read
//! can need what is forgotten.
//!
//! A sweep forgets every entity expired at its horizon: it looks at each held entity,
//! and (tier) reads the store's expiry index from its oldest time up to the horizon,
//! so it reads only stored entities that expired. What a sweep forgets is a function
//! of the events and the horizon alone, so a restored runtime forgets what an
//! uninterrupted one does. A push sweeps once its horizon is a quarter of the
//! retention (at least `MIN_SWEEP_US`) past the last sweep's: every entity held then
//! had an event within the retention and that quarter, so a sweep looks at no more
//! entities than about five such quarters' events, a bounded cost per event.
//!
//! Each forgotten entity leaves memory and the store (its record and index entry, in
//! one store batch written under its shard's lock, so a read never loads what the
//! sweep is deleting). A failing store is counted (`TierState::store_errors`) and the
//! entity kept, for a later sweep.

use std::sync::atomic::Ordering::Relaxed;

use super::{lock, record, shard_of, Entities, Shard, TierState, Write, NEVER};
use crate::value::Value;

/// What a sweep found for one index entry (tier), before it locks the entity's shard.
struct Found {
    shard: usize,
    index_key: Vec<u8>,
    time: i64,
    /// The record's key (the index key's tail), and the entity key in it.
    store_key: Vec<u8>,
    key: Vec<Value>,
}

/// The least event time between two sweeps of a push (µs).
const MIN_SWEEP_US: i64 = 1_000_000;

/// Index entries a sweep reads from the store per round.
const ROUND: usize = 4096;

impl Entities {
    /// Whether a push at `horizon` (state time) sweeps: the group has a retention and
    /// the last sweep's horizon is a quarter of it behind (see the module docs).
    pub fn sweep_due(&self, horizon: i64) -> bool {
        let Some(retention) = self.spec.retention_us else {
            return false;
        };
        let last = self.last_sweep.load(Relaxed);
        last == NEVER || horizon.saturating_sub(last) >= (retention / 4).max(MIN_SWEEP_US)
    }

    /// The horizon of the last sweep, if any (snapshots keep it).
    pub fn last_sweep(&self) -> Option<i64> {
        Some(self.last_sweep.load(Relaxed)).filter(|&t| t != NEVER)
    }

    pub fn set_last_sweep(&self, t: Option<i64>) {
        self.last_sweep.store(t.unwrap_or(NEVER), Relaxed);
    }

    /// Forgets every entity expired at `horizon` (state time): held ones, then
    /// (tier) stored ones in expiry order. Returns how many it forgot.
    pub fn expire(&self, horizon: i64) -> u64 {
        if self.spec.retention_us.is_none() {
            return 0;
        }
        self.last_sweep.fetch_max(horizon, Relaxed);
        let mut forgotten = 0;
        for s in self.shards.iter() {
            let mut shard = lock(s);
            let victims = expired_held(&shard, horizon);
            forgotten += self.forget(&mut shard, &victims, Vec::new(), &[], 0);
        }
        if let Some(tier) = &self.tier {
            loop {
                let (n, more) = self.expire_stored(tier, horizon, ROUND);
                forgotten += n;
                if !more || n == 0 {
                    break;
                }
            }
        }
        forgotten
    }

    /// Stored entities expired at `horizon`, from the expiry index: up to `budget`
    /// index entries. Returns how many it forgot, and whether the index may hold more.
    fn expire_stored(&self, tier: &TierState, horizon: i64, budget: usize) -> (u64, bool) {
        let mut found: Vec<Found> = Vec::new();
        let mut broken = 0;
        let scanned = tier
            .store
            .scan(&record::expiry_prefix(self.group), &mut |k, _| {
                let Some((time, store_key)) = record::parse_expiry_key(k) else {
                    broken += 1;
                    return true;
                };
                if time > horizon {
                    return false;
                }
                match record::key_of(store_key, self.arity) {
                    Ok(key) => found.push(Found {
                        shard: shard_of(&key),
                        index_key: k.to_vec(),
                        time,
                        store_key: store_key.to_vec(),
                        key,
                    }),
                    Err(_) => broken += 1,
                }
                found.len() < budget
            });
        if scanned.is_err() || broken > 0 {
            tier.store_errors.fetch_add(1, Relaxed);
        }
        let more = found.len() == budget;
        found.sort_by_key(|f| f.shard);
        let mut forgotten = 0;
        for run in found.chunk_by(|a, b| a.shard == b.shard) {
            let mut shard = lock(&self.shards[run[0].shard]);
            let mut writes = Vec::new();
            let mut victims = Vec::new();
            let mut rewritten = Vec::new();
            let mut deleted = 0;
            for f in run {
                if let Some(id) = shard.index.get(&f.key) {
                    let Some(slot) = shard.slot(id) else { continue };
                    if slot.pinned {
                        continue;
                    }
                    if slot.state.expired_at(horizon) {
                        victims.push(id);
                        if slot.stored_expiry != Some(f.time) {
                            writes.push((f.index_key.clone(), None));
                        }
                    } else if slot.stored_expiry == Some(f.time) {
                        // Its record expired, its state since did not: written now,
                        // the entry moves to the new time instead of coming up again.
                        rewritten.push((id, self.write_slot(slot, &mut writes)));
                    } else {
                        writes.push((f.index_key.clone(), None));
                    }
                    continue;
                }
                let expiry = match tier.store.get(&f.store_key) {
                    Ok(None) => None,
                    Ok(Some(bytes)) => match record::expiry(&bytes) {
                        Ok(expiry) => expiry,
                        Err(_) => {
                            tier.store_errors.fetch_add(1, Relaxed);
                            continue;
                        }
                    },
                    Err(_) => {
                        tier.store_errors.fetch_add(1, Relaxed);
                        continue;
                    }
                };
                // The entry goes either way: with its record, or as one its record
                // no longer has (the record moved on, or is gone).
                writes.push((f.index_key.clone(), None));
                if let Some(e) = expiry.filter(|&e| e <= horizon) {
                    if e != f.time {
                        writes.push((record::expiry_key(self.group, e, &f.store_key), None));
                    }
                    writes.push((f.store_key.clone(), None));
                    deleted += 1;
                }
            }
            forgotten += self.forget(&mut shard, &victims, writes, &rewritten, deleted);
        }
        (forgotten, more)
    }

    /// Removes the held `victims` of `shard` (with their records, tier), writing
    /// `writes` with them in one store batch, marking the `rewritten` slots written and
    /// counting `deleted` more entities forgotten from the store alone. A failing
    /// store keeps everything. Returns how many were forgotten.
    fn forget(
        &self,
        shard: &mut Shard,
        victims: &[u32],
        mut writes: Vec<Write>,
        rewritten: &[(u32, Option<i64>)],
        deleted: u64,
    ) -> u64 {
        if let Some(tier) = &self.tier {
            for slot in victims.iter().filter_map(|&id| shard.slot(id)) {
                if !slot.in_store {
                    continue;
                }
                let key = record::store_key(self.group, &slot.key);
                if let Some(e) = slot.stored_expiry {
                    writes.push((record::expiry_key(self.group, e, &key), None));
                }
                writes.push((key, None));
            }
            if !writes.is_empty() && tier.store.write(writes).is_err() {
                tier.store_errors.fetch_add(1, Relaxed);
                return 0;
            }
            for &(id, expires) in rewritten {
                if let Some(slot) = shard.slot_mut(id) {
                    Self::written(slot, expires);
                    tier.written.fetch_add(1, Relaxed);
                }
            }
        }
        let mut forgotten = deleted;
        for &id in victims {
            if let Some(slot) = shard.remove(id) {
                if let Some(tier) = &self.tier {
                    tier.cached.fetch_sub(slot.bytes, Relaxed);
                }
                forgotten += 1;
            }
        }
        self.expired.fetch_add(forgotten, Relaxed);
        forgotten
    }
}

/// The slots of `shard` expired at `horizon` and not pinned.
fn expired_held(shard: &Shard, horizon: i64) -> Vec<u32> {
    shard
        .held()
        .filter(|(_, slot)| !slot.pinned && slot.state.expired_at(horizon))
        .map(|(id, _)| id)
        .collect()
}
