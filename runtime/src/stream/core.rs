//! What reads share with the ingest, behind an `Arc`: the groups' entity states (see
//! `entities`), each source's clocks as the ingest last published them, the output
//! features and the counters; and `StreamReader`, a handle that reads while the
//! runtime ingests (one copy of the state: see `entities` for what a read waits for
//! and what it sees).
//!
//! The ingest publishes a source's promised horizon before it changes any entity
//! state under it, and a read checks the horizon while it holds its entity's shard,
//! so a read never sees a state that dropped events its time still needs.

use std::borrow::Cow;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use super::derived;
use super::entities::TierState;
use super::error::StreamError;
use super::graph::StreamGraph;
use super::group::GroupCore;
use super::metrics::Metrics;
use super::read::{FeatureValue, FeatureVector, Keys, Read, Selection, Status};
use super::Request;
use crate::agg::AggError;
use crate::expr::derived::CompiledDerived;
use crate::value::Value;

/// "None" in an atomic time.
const NONE: i64 = i64::MIN;

fn load_time(a: &AtomicI64) -> Option<i64> {
    Some(a.load(Relaxed)).filter(|&t| t != NONE)
}

pub(crate) fn store_time(a: &AtomicI64, t: Option<i64>) {
    a.store(t.unwrap_or(NONE), Relaxed);
}

/// Where an output feature's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputSlot {
    /// (group, feature index in the group).
    Aggregate(usize, usize),
    /// Index into `Core::derived`.
    Derived(usize),
}

/// A source's clocks, as the ingest last published them.
pub(crate) struct SourceClock {
    pub name: String,
    /// The greatest horizon promised to the window state.
    pub promised: AtomicI64,
    /// The greatest event time ingested.
    pub latest: AtomicI64,
    pub watermark: AtomicI64,
}

impl SourceClock {
    pub fn new(name: &str) -> SourceClock {
        SourceClock {
            name: name.to_string(),
            promised: AtomicI64::new(NONE),
            latest: AtomicI64::new(NONE),
            watermark: AtomicI64::new(NONE),
        }
    }
}

/// The runtime's counters, as the ingest last published them.
#[derive(Default)]
pub(crate) struct Counters {
    pub events: AtomicU64,
    pub late: AtomicU64,
    pub dead_lettered: AtomicU64,
    pub null_keys: AtomicU64,
    /// Events waiting for their as-of lookups (`StreamRuntime::held_rows`).
    pub held_rows: AtomicU64,
}

/// What reads share (see the module docs).
pub(crate) struct Core {
    pub graph: StreamGraph,
    pub groups: Vec<Arc<GroupCore>>,
    /// Per group, its sources (one, or the members of its union).
    pub sources_of: Vec<Vec<usize>>,
    /// Per group, the horizon promised to its state (`StreamRuntime::promise`).
    pub group_promised: Vec<AtomicI64>,
    /// Per group, the time of its oldest event waiting for its as-of lookups (none
    /// waits: `NONE`). Every event of the group at or after it that has arrived
    /// waits (`StreamReader::held_from`).
    pub group_held_from: Vec<AtomicI64>,
    pub clocks: Vec<SourceClock>,
    pub outputs: Vec<OutputSlot>,
    /// `0..outputs.len()`: `Selection::All` read without building it per read.
    pub all_outputs: Vec<usize>,
    /// Every group is keyed by the same entity (the usual runtime): no read of one
    /// key can mix entities, so `read` skips that check.
    pub one_entity: bool,
    pub out_names: Vec<Arc<str>>,
    /// The output node's derived features, compiled.
    pub derived: Vec<CompiledDerived>,
    /// For each output feature, the (group, feature) pairs a read of it reads:
    /// itself, or a derived feature's inputs in its input order.
    pub output_pairs: Vec<Vec<(usize, usize)>>,
    pub counters: Counters,
    pub tier: Option<Arc<TierState>>,
}

/// A read handle on a runtime's state, for other threads than the ingest's: reads
/// go on while the runtime ingests (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct StreamReader {
    pub(crate) core: Arc<Core>,
}

/// What the disk tier did so far (all zero without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TierMetrics {
    /// Whether the runtime has a disk tier.
    pub enabled: bool,
    /// Entities held in memory (decoded), over every group.
    pub held: u64,
    /// Bytes the cache counts for them, and its budget.
    pub cached_bytes: u64,
    pub budget_bytes: u64,
    /// Bytes the states held may have grown by since they were last counted (an
    /// estimate; counted again before `cached_bytes` and it pass three quarters of
    /// the budget).
    pub pending_bytes: u64,
    /// Entities read from the store, evicted from the cache, written to the store.
    pub loads: u64,
    pub evictions: u64,
    pub written: u64,
    /// Store writes that failed (the entities stayed in memory).
    pub store_errors: u64,
}

impl StreamReader {
    /// The views whose events can wait for their as-of lookups (a group holding
    /// features of theirs looks up), each once, in group order.
    pub fn holding_views(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for g in self
            .core
            .groups
            .iter()
            .filter(|g| !g.plan.lookups.is_empty())
        {
            for f in &g.plan.features {
                if !out.contains(&f.view) {
                    out.push(f.view.clone());
                }
            }
        }
        out
    }

    /// The time from which `view`'s events wait for their as-of lookups, as the
    /// ingest last published it: every event of the view at or after it that has
    /// arrived waits, counted in no feature, and none before it does (semantics.md,
    /// "As-of lookups online: events wait"); `None` when none waits.
    pub fn held_from(&self, view: &str) -> Option<i64> {
        (self.core.groups.iter().zip(&self.core.group_held_from))
            .filter(|(g, _)| g.plan.features.iter().any(|f| f.view == view))
            .filter_map(|(_, t)| load_time(t))
            .min()
    }
}

impl Core {
    /// The horizon promised to group `g`'s state (`None` before any).
    fn promised(&self, g: usize) -> Option<i64> {
        load_time(self.group_promised.get(g)?)
    }

    /// The value of feature `f` of group `g` for `key` at `t` (a lookup's read: see
    /// `stream::lookup`): the value a read of the feature gives (`read_pairs`; its
    /// status aside, and null for an error), computed alone, without the rest of its
    /// view's features or any allocation, since a lookup reads one per event.
    pub fn read_value(
        &self,
        g: usize,
        f: usize,
        t: i64,
        key: &[Value],
    ) -> Result<Value, StreamError> {
        let group = &self.groups[g];
        let promised = || self.promised(g);
        if let Some(horizon) = promised().filter(|&h| t < h) {
            return Err(StreamError::ReadBeforeHorizon { at: t, horizon });
        }
        group.check_key_arity(key.len())?;
        let read = group.with_state(key, |state, _| {
            // Checked under the entity's shard, as `read_pairs` does.
            match promised().filter(|&h| t < h) {
                Some(horizon) => Err(horizon),
                None => Ok(state.read_one(group.plan.state_time(t), f)),
            }
        })?;
        match read {
            Err(horizon) => Err(StreamError::ReadBeforeHorizon { at: t, horizon }),
            Ok(value) => Ok(value.unwrap_or(Value::Null)),
        }
    }

    fn source(&self, name: &str) -> Option<&SourceClock> {
        self.clocks.iter().find(|c| c.name == name)
    }

    pub fn latest_event_time(&self, source: &str) -> Option<i64> {
        load_time(&self.source(source)?.latest)
    }

    pub fn watermark(&self, source: &str) -> Option<i64> {
        load_time(&self.source(source)?.watermark)
    }

    pub fn metrics(&self) -> Metrics {
        let c = &self.counters;
        Metrics {
            events: c.events.load(Relaxed),
            late: c.late.load(Relaxed),
            dead_lettered: c.dead_lettered.load(Relaxed),
            null_keys: c.null_keys.load(Relaxed),
            held_rows: c.held_rows.load(Relaxed),
            entities: self.groups.iter().map(|g| g.entities.live()).sum(),
            expired_entities: self.groups.iter().map(|g| g.entities.expired()).sum(),
            state_bytes: self
                .groups
                .iter()
                .map(|g| g.entities.state_bytes() as u64)
                .sum(),
        }
    }

    pub fn tier_metrics(&self) -> TierMetrics {
        let Some(t) = &self.tier else {
            return TierMetrics::default();
        };
        TierMetrics {
            enabled: true,
            held: self.groups.iter().map(|g| g.entities.held()).sum(),
            cached_bytes: t.cached.load(Relaxed) as u64,
            budget_bytes: t.budget as u64,
            pending_bytes: t.pending.load(Relaxed) as u64,
            loads: t.loads.load(Relaxed),
            evictions: t.evictions.load(Relaxed),
            written: t.written.load(Relaxed),
            store_errors: t.store_errors.load(Relaxed),
        }
    }

    /// The output feature indices of a selection.
    pub fn select(&self, sel: &Selection<'_>) -> Result<Vec<usize>, StreamError> {
        self.picked(sel).map(Cow::into_owned)
    }

    /// `select`, borrowing where it can (every selection but a list of names): a read
    /// runs it each time.
    fn picked<'s>(&'s self, sel: &Selection<'s>) -> Result<Cow<'s, [usize]>, StreamError> {
        match sel {
            Selection::All => Ok(Cow::Borrowed(&self.all_outputs)),
            Selection::Service(name) => self
                .graph
                .output()
                .and_then(|o| o.services.iter().find(|s| s.name == *name))
                .map(|s| Cow::Borrowed(s.features.as_slice()))
                .ok_or_else(|| StreamError::UnknownService(name.to_string())),
            Selection::Indices(indices) => match indices.iter().find(|&&i| i >= self.outputs.len())
            {
                Some(i) => Err(StreamError::UnknownFeature(format!("#{i}"))),
                None => Ok(Cow::Borrowed(indices)),
            },
            Selection::Features(names) => names
                .iter()
                .map(|n| {
                    self.out_names
                        .iter()
                        .position(|x| &**x == *n)
                        .ok_or_else(|| StreamError::UnknownFeature(n.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Cow::Owned),
        }
    }

    /// The (group, feature) pairs output `i` reads: itself, or a derived feature's
    /// inputs.
    pub fn pairs_of(&self, i: usize) -> &[(usize, usize)] {
        self.output_pairs.get(i).map_or(&[], Vec::as_slice)
    }

    /// `StreamRuntime::read`'s answer.
    pub fn read(&self, read: &Read<'_>) -> Result<FeatureVector, StreamError> {
        let picked = self.picked(&read.features)?;
        let key = match read.keys {
            Keys::Entity(key) => key,
            Keys::ByEntity(keys) => {
                return self.read_picked(
                    &picked,
                    read.at,
                    &|entity| keys.iter().find(|(e, _)| *e == entity).map(|(_, k)| *k),
                    &read.request,
                )
            }
        };
        if self.one_entity {
            return self.read_picked(&picked, read.at, &|_| Some(key), &read.request);
        }
        // Otherwise checked without allocating: reads are hot. An aggregation's group
        // comes straight from `outputs` (contiguous), a derived feature's from its
        // pairs. Features of one group come in runs: only a change of group compares
        // names.
        let mut first: Option<&str> = None;
        let mut last_group = usize::MAX;
        let mut mixed = false;
        let mut see = |g: usize| {
            if g == last_group {
                return;
            }
            last_group = g;
            let entity = self.groups[g].plan.entity.as_str();
            mixed |= *first.get_or_insert(entity) != entity;
        };
        for &i in picked.iter() {
            match self.outputs.get(i) {
                Some(OutputSlot::Aggregate(g, _)) => see(*g),
                _ => self.pairs_of(i).iter().for_each(|&(g, _)| see(g)),
            }
        }
        if mixed {
            let mut all: Vec<String> = picked
                .iter()
                .flat_map(|&i| self.pairs_of(i))
                .map(|&(g, _)| self.groups[g].plan.entity.clone())
                .collect();
            all.sort();
            all.dedup();
            return Err(StreamError::MixedEntities(all));
        }
        self.read_picked(&picked, read.at, &|_| Some(key), &read.request)
    }

    fn read_picked<'k>(
        &self,
        picked: &[usize],
        t: i64,
        key_of: &dyn Fn(&str) -> Option<&'k [Value]>,
        request: &Request<'_>,
    ) -> Result<FeatureVector, StreamError> {
        // The usual read (aggregations only): one pass collects the pairs.
        let mut pairs: Vec<(usize, usize)> = Vec::with_capacity(picked.len());
        let aggregates_only = picked.iter().all(|&i| match self.outputs.get(i) {
            Some(OutputSlot::Aggregate(g, f)) => {
                pairs.push((*g, *f));
                true
            }
            _ => false,
        });
        if aggregates_only {
            let features = self.read_pairs(&pairs, t, key_of)?;
            return Ok(FeatureVector { at: t, features });
        }
        // Derived features: read every aggregate they (and the picked aggregates)
        // need once, then evaluate each from those values.
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for &i in picked {
            for p in self.pairs_of(i) {
                if !pairs.contains(p) {
                    pairs.push(*p);
                }
            }
        }
        let values = self.read_pairs(&pairs, t, key_of)?;
        let mut features = Vec::with_capacity(picked.len());
        for &i in picked {
            let value = match self.outputs.get(i) {
                Some(OutputSlot::Derived(d)) => {
                    let inputs: Vec<&FeatureValue> = self
                        .pairs_of(i)
                        .iter()
                        .filter_map(|p| pairs.iter().position(|q| q == p).map(|k| &values[k]))
                        .collect();
                    derived::read(&self.derived[*d], &self.out_names[i], &inputs, request)?
                }
                _ => {
                    let k = self
                        .pairs_of(i)
                        .first()
                        .and_then(|p| pairs.iter().position(|q| q == p))
                        .unwrap_or(0);
                    values[k].clone()
                }
            };
            features.push(value);
        }
        Ok(FeatureVector { at: t, features })
    }

    /// Reads aggregated features, given as (group, feature) pairs, in that order.
    fn read_pairs<'k>(
        &self,
        picked: &[(usize, usize)],
        t: i64,
        key_of: &dyn Fn(&str) -> Option<&'k [Value]>,
    ) -> Result<Vec<FeatureValue>, StreamError> {
        let mut features: Vec<FeatureValue> = Vec::with_capacity(picked.len());
        // Groups in order of first use; each group is read once.
        let mut order: Vec<usize> = Vec::new();
        for &(g, _) in picked {
            if !order.contains(&g) {
                order.push(g);
            }
        }
        // One group (the usual read): values go straight into `features`, in order.
        let mut slots: Vec<Option<FeatureValue>> = if order.len() > 1 {
            vec![None; picked.len()]
        } else {
            Vec::new()
        };
        let mut out = Vec::new();
        let mut stale_of = Vec::new();
        for g in order.iter().copied() {
            let group = &self.groups[g];
            // Room for every feature of the group at once: the read pushes them one by
            // one, and growing from empty would reallocate several times per read.
            out.reserve(group.plan.features.len());
            stale_of.reserve(group.plan.features.len());
            let promised = || self.promised(g);
            if let Some(h) = promised().filter(|&h| t < h) {
                return Err(StreamError::ReadBeforeHorizon { at: t, horizon: h });
            }
            let key = key_of(&group.plan.entity).unwrap_or_default();
            group.check_key_arity(key.len())?;
            // Each feature reports its view's latest event; features of one view share
            // the lookup.
            let mut latest: Vec<(Option<usize>, Option<i64>)> = Vec::new();
            for &(og, f) in picked {
                let filter = group.plan.features.get(f).and_then(|p| p.view_filter);
                if og == g && !latest.iter().any(|(x, _)| *x == filter) {
                    latest.push((filter, None));
                }
            }
            let mut before_horizon = None;
            let known = group.with_state(key, |state, known| {
                // Checked under the entity's shard: see the module docs.
                if let Some(h) = promised() {
                    if t < h {
                        before_horizon = Some(h);
                        return known;
                    }
                }
                let at = group.plan.state_time(t);
                state.read_with_staleness_into(at, &mut out, &mut stale_of);
                // Past its retention at `at` (or before its first event) an entity
                // reads as one never seen, whether or not expiry has forgotten it yet
                // (semantics.md, "Online values").
                let known = known && state.seen_at(at);
                for (filter, time) in latest.iter_mut() {
                    *time = if known {
                        state.latest_at_or_before_where(at, *filter)
                    } else {
                        None
                    };
                }
                known
            })?;
            if let Some(horizon) = before_horizon {
                return Err(StreamError::ReadBeforeHorizon { at: t, horizon });
            }
            // Each cell is moved out of `out` when no feature of the group is picked
            // twice (the usual read), cloned otherwise.
            let mut seen = 0u64;
            let movable = picked.iter().all(|&(og, f)| {
                if og != g {
                    return true;
                }
                let bit = 1u64.checked_shl(f as u32).unwrap_or(0);
                let fresh = bit != 0 && seen & bit == 0;
                seen |= bit;
                fresh
            });
            let mut answer = |f: usize| {
                let filter = group.plan.features.get(f).and_then(|p| p.view_filter);
                let event_time = latest
                    .iter()
                    .find(|(x, _)| *x == filter)
                    .and_then(|(_, time)| *time);
                let stale = stale_of.get(f).copied().unwrap_or(false);
                // The status is read off the cell in place and only the value moves:
                // moving the whole cell into a (value, status) pair copied it piece
                // by piece several times per feature.
                let status = status_of(out.get(f), known, stale);
                let value = match out.get_mut(f) {
                    Some(Ok(v)) if movable => std::mem::replace(v, Value::Null),
                    Some(Ok(v)) => v.clone(),
                    _ => Value::Null,
                };
                FeatureValue {
                    name: Arc::clone(&group.names[f]),
                    value,
                    status,
                    event_time,
                }
            };
            if slots.is_empty() {
                // One group: every pair is this group's. `extend` over a slice's map
                // writes each answer straight into the vector; a `push` built it on
                // the stack first and copied it (a store-forwarding stall per field).
                features.extend(picked.iter().map(|&(_, f)| answer(f)));
            } else {
                // `slots` has a place per pair.
                for (slot, &(og, f)) in slots.iter_mut().zip(picked) {
                    if og == g {
                        *slot = Some(answer(f));
                    }
                }
            }
        }
        features.extend(slots.into_iter().flatten());
        Ok(features)
    }

    /// Every key of `entity` that some event gave (across the groups keyed by it),
    /// each once: group order, then the order entities were first seen.
    pub fn entity_keys(&self, entity: &str) -> Result<Vec<Vec<Value>>, StreamError> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for group in self.groups.iter().filter(|g| g.plan.entity == entity) {
            for (_, key) in group.entities.keys()? {
                let canonical: Vec<_> = key
                    .iter()
                    .map(|v| crate::value::ValueKey(v.canonical()))
                    .collect();
                if seen.insert(canonical) {
                    out.push(key.into_vec());
                }
            }
        }
        Ok(out)
    }

    /// The earliest time after `t` at which a read of `entity`'s features for `key`
    /// may differ from the read at `t` with no event ingested meanwhile.
    pub fn next_change(
        &self,
        entity: &str,
        key: &[Value],
        t: i64,
    ) -> Result<Option<i64>, StreamError> {
        let mut next: Option<i64> = None;
        for g in self.groups.iter().filter(|g| g.plan.entity == entity) {
            if key.len() != g.key_types.len() {
                continue;
            }
            if let Some(c) = g.next_change(key, t)? {
                next = Some(next.map_or(c, |n| n.min(c)));
            }
        }
        Ok(next)
    }
}

/// The status of one feature of a read, from its group's cell (a missing cell reads
/// as a null): an error is a null with its status, a value of an entity never seen or
/// past its ttl keeps its value with that status. Read by reference, so that only
/// the cell's value is moved (or cloned) into the answer.
#[inline]
fn status_of(cell: Option<&Result<Value, AggError>>, known: bool, stale: bool) -> Status {
    match cell {
        Some(Err(e)) => Status::Error(e.clone()),
        _ if !known => Status::UnknownEntity,
        _ if stale => Status::Stale,
        None | Some(Ok(Value::Null)) => Status::Null,
        Some(Ok(_)) => Status::Present,
    }
}

impl StreamReader {
    /// `StreamRuntime::read`, from any thread: holds only the shard of the entity it
    /// reads (per group), never waits for a whole push.
    pub fn read(&self, read: &Read<'_>) -> Result<FeatureVector, StreamError> {
        self.core.read(read)
    }

    pub fn select(&self, sel: &Selection<'_>) -> Result<Vec<usize>, StreamError> {
        self.core.select(sel)
    }

    pub fn feature_names(&self) -> &[Arc<str>] {
        &self.core.out_names
    }

    pub fn graph(&self) -> &StreamGraph {
        &self.core.graph
    }

    /// The greatest event time the runtime had ingested from `source` when it last
    /// published (after each ingest).
    pub fn latest_event_time(&self, source: &str) -> Option<i64> {
        self.core.latest_event_time(source)
    }

    /// `source`'s watermark as last published.
    pub fn watermark(&self, source: &str) -> Option<i64> {
        self.core.watermark(source)
    }

    /// The counters as last published, with `entities` and `state_bytes` now.
    pub fn metrics(&self) -> Metrics {
        self.core.metrics()
    }

    pub fn tier_metrics(&self) -> TierMetrics {
        self.core.tier_metrics()
    }

    /// The tightest freshness contract on `source` and its views (µs): `Some(None)`
    /// when none is declared, `None` for a source the graph does not read.
    pub fn freshness_contract(&self, source: &str) -> Option<Option<i64>> {
        let (_, op) = self.graph().sources().find(|(_, s)| s.name == source)?;
        Some(op.freshness_us)
    }
}
