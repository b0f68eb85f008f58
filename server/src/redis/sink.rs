//! `featc serve --sink redis://`: keeps every hash of the online store equal to what
//! a read of the state at the server's "now" answers. Its thread re-reads an entity
//! when events for it are applied (the writer tells its `Watcher`s which batches it
//! applied; the sink's handle is one) and at
//! the next time its values change without events (`StreamRuntime::next_change`: a
//! window edge, a ttl running out), then writes the hashes to Redis.
//!
//! On start it rewrites every known entity (what the store held may predate a
//! restart). When Redis fails, the entities stay pending and are read again and
//! written once it answers (every entity, when Redis itself restarted: a new run
//! id): the store lags, it never keeps a value the state has moved past once the
//! sink has caught up.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::Array;
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::ir::DataType;
use featc_runtime::row::{conform, Cells};
use featc_runtime::stream::StreamGraph;
use featc_runtime::value::{Value, ValueKey};

use super::layout::{HashPlan, Packed, Scratch};
use super::sender::{HashSender, Outcome};
use super::store::{RedisError, RedisStore, RedisTarget, HASHES_PER_ROUND_TRIP};
use super::vectors::read_vector;
use crate::config::Clock;
use crate::state::OnlineState;
use crate::wire::time::now_us;
use crate::writer::Watcher;

/// The sink's counters for `/metrics`: hashes written, keys deleted (every value
/// null), failed writes (retried), and the latest flush's delay from the first change
/// it carried (an applied push or round, or a window edge) to Redis's answer.
#[derive(Debug, Default)]
pub struct SinkCounters {
    pub written: AtomicU64,
    pub deleted: AtomicU64,
    pub errors: AtomicU64,
    pub lag_us: AtomicU64,
}

/// How the writer tells the sink what it applied (the sink's `Watcher`).
#[derive(Clone)]
pub struct SinkHandle {
    tx: Sender<SinkMessage>,
}

enum SinkMessage {
    /// Batches applied to the state (source, rows), and when.
    Applied(Vec<(String, RecordBatch)>, Instant),
    /// The writer now tells the sink of every step: list the state's entities.
    Begin,
    /// Write what is pending, then stop.
    Stop,
}

impl Watcher for SinkHandle {
    /// Says the state now holds these batches (never blocks).
    fn applied(&self, batches: &[(String, RecordBatch)]) {
        let _ = self
            .tx
            .send(SinkMessage::Applied(batches.to_vec(), Instant::now()));
    }
}

/// The running sink.
pub struct Sinking {
    handle: SinkHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sinking {
    /// Connects to Redis and starts the sink's thread, reading `state` (the read side
    /// only) and counting into `counters`; the returned handle goes to the writer.
    /// Fails when Redis cannot be reached now.
    pub fn start(
        state: Arc<OnlineState>,
        target: RedisTarget,
        counters: Arc<SinkCounters>,
    ) -> Result<Sinking, RedisError> {
        let store = RedisStore::connect(&target)?;
        let (tx, rx) = std::sync::mpsc::channel();
        let sender =
            HashSender::start(store, Arc::clone(&counters)).map_err(|e| RedisError::Thread {
                what: "writer",
                message: e.to_string(),
            })?;
        let graph = state.graph().clone();
        let sink = Sink::new(state, counters, &graph, sender, target.prefix.clone());
        let thread = std::thread::Builder::new()
            .name("featc-redis-sink".into())
            .spawn(move || sink.run(rx))
            .map_err(|e| RedisError::Thread {
                what: "sink",
                message: e.to_string(),
            })?;
        Ok(Sinking {
            handle: SinkHandle { tx },
            thread: Some(thread),
        })
    }

    pub fn handle(&self) -> SinkHandle {
        self.handle.clone()
    }

    /// Starts writing, once `handle()` is registered with the writer (`watch` has
    /// returned): the sink lists every entity the state holds only then, so a step
    /// applied before the registration is in that listing and one after it is told.
    /// (Listing first lost a push applied between the two: its hash was never
    /// written.)
    pub fn begin(&self) {
        let _ = self.handle.tx.send(SinkMessage::Begin);
    }

    /// Writes what is pending and stops (after the writer has stopped, so the store
    /// ends equal to the final state).
    pub fn stop(mut self) {
        let _ = self.handle.tx.send(SinkMessage::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The key columns of one entity in one source's batches.
struct KeyedBy {
    entity: usize,
    columns: Vec<(String, DataType)>,
}

/// One entity key the sink follows.
struct Slot {
    entity: usize,
    key: Vec<Value>,
    /// When its values next change without events (the live entry in the schedule).
    due: Option<i64>,
    pending: bool,
}

struct Sink {
    state: Arc<OnlineState>,
    counters: Arc<SinkCounters>,
    /// Writes the encoded hashes on its own thread.
    sender: HashSender,
    /// The key prefix.
    prefix: String,
    plans: Vec<HashPlan>,
    /// Entity names, and for each the plans (hashes) it has.
    entities: Vec<String>,
    plans_of: Vec<Vec<usize>>,
    /// For each source, the entities its events key.
    keyed_by: HashMap<String, Vec<KeyedBy>>,
    slots: Vec<Slot>,
    slot_of: HashMap<(usize, Vec<ValueKey>), u32>,
    /// (due time, slot); an entry whose time is not its slot's `due` is stale.
    schedule: BinaryHeap<Reverse<(i64, u32)>>,
    pending: Vec<u32>,
    /// When the oldest change among the pending slots happened.
    oldest_change: Option<Instant>,
    /// Room for packing hashes, and for the next changes of a job's slots.
    scratch: Scratch,
    next: Vec<Option<i64>>,
}

impl Sink {
    fn new(
        state: Arc<OnlineState>,
        counters: Arc<SinkCounters>,
        graph: &StreamGraph,
        sender: HashSender,
        prefix: String,
    ) -> Sink {
        let plans = HashPlan::all(graph);
        let mut entities: Vec<String> = Vec::new();
        let mut plans_of: Vec<Vec<usize>> = Vec::new();
        for (p, plan) in plans.iter().enumerate() {
            let e = match entities.iter().position(|e| *e == plan.entity) {
                Some(e) => e,
                None => {
                    entities.push(plan.entity.clone());
                    plans_of.push(Vec::new());
                    entities.len() - 1
                }
            };
            plans_of[e].push(p);
        }
        let mut keyed_by: HashMap<String, Vec<KeyedBy>> = HashMap::new();
        for (_, op) in graph.aggregates() {
            let Some(entity) = entities.iter().position(|e| *e == op.plan.entity) else {
                continue;
            };
            // A group over several sources: an event of each of them changes its
            // key's values, read from the same key columns (every member has them).
            for (source, _) in op.plan.sources() {
                let by = keyed_by.entry(source.to_string()).or_default();
                if !by.iter().any(|k| k.entity == entity) {
                    by.push(KeyedBy {
                        entity,
                        columns: op
                            .plan
                            .keys
                            .iter()
                            .map(|k| (k.column.clone(), k.ty))
                            .collect(),
                    });
                }
            }
        }
        Sink {
            state,
            counters,
            sender,
            prefix,
            plans,
            entities,
            plans_of,
            keyed_by,
            slots: Vec::new(),
            slot_of: HashMap::new(),
            schedule: BinaryHeap::new(),
            pending: Vec::new(),
            oldest_change: None,
            scratch: Scratch::default(),
            next: Vec::new(),
        }
    }

    fn run(mut self, rx: Receiver<SinkMessage>) {
        // Steps told before `Begin` are marked; the listing below holds them too.
        let mut stopping = false;
        loop {
            match rx.recv() {
                Ok(SinkMessage::Begin) => break,
                Ok(m) => stopping |= self.take(m),
                Err(_) => stopping = true,
            }
            if stopping {
                break;
            }
        }
        // Everything the state knows, first (listed again after a failing store).
        let mut backoff = Duration::from_millis(50);
        let known: Vec<(usize, Vec<Vec<Value>>)> = loop {
            let listed = self.state.read(|rt| {
                (0..self.entities.len())
                    .map(|e| Ok((e, rt.entity_keys(&self.entities[e])?)))
                    .collect::<Result<Vec<_>, featc_runtime::stream::StreamError>>()
            });
            match listed {
                Ok(known) => break known,
                Err(e) => {
                    self.counters.errors.fetch_add(1, Relaxed);
                    eprintln!(
                        "featc serve: redis sink: listing entities: {e} (retrying in {backoff:?})"
                    );
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        };
        for (e, keys) in known {
            for key in keys {
                self.touch(e, key);
            }
        }
        self.oldest_change = Some(Instant::now());
        let mut backoff = Duration::from_millis(50);
        loop {
            for outcome in self.sender.outcomes() {
                self.redo(outcome);
            }
            let wait = if !self.pending.is_empty() {
                Duration::ZERO
            } else {
                self.until_next_due()
            };
            match rx.recv_timeout(wait) {
                Ok(m) => stopping |= self.take(m),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => stopping = true,
            }
            // Coalesce whatever else is queued into this flush.
            while let Ok(m) = rx.try_recv() {
                stopping |= self.take(m);
            }
            match self.flush() {
                Ok(()) => backoff = Duration::from_millis(50),
                Err(e) => {
                    self.counters.errors.fetch_add(1, Relaxed);
                    eprintln!("featc serve: redis sink: {e} (retrying in {backoff:?})");
                    if !stopping {
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                }
            }
            if stopping {
                break;
            }
        }
        // What is queued is written; a Redis that stopped answering is not waited for
        // past the first retry (the state is durable, a restart writes everything).
        let unwritten = self.sender.finish(true);
        if !unwritten.is_empty() {
            eprintln!("featc serve: redis sink: stopping with hashes not written");
        }
    }

    /// Makes the entities of a failed write (or every entity, after Redis restarted)
    /// pending again.
    fn redo(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Restarted => self.touch_all(),
            Outcome::Failed(slots) => slots.into_iter().for_each(|slot| self.mark(slot)),
        }
        if self.oldest_change.is_none() {
            self.oldest_change = Some(Instant::now());
        }
    }

    /// How long to sleep before the next scheduled change (under the wall clock; the
    /// event clock only moves when events arrive, which wakes the sink anyway).
    fn until_next_due(&self) -> Duration {
        const MAX_SLEEP: Duration = Duration::from_millis(200);
        if self.state.clock() != Clock::Wall {
            return MAX_SLEEP;
        }
        match self.schedule.peek() {
            Some(Reverse((due, _))) => {
                let us = due.saturating_sub(now_us()).max(0);
                Duration::from_micros(u64::try_from(us).unwrap_or(0)).min(MAX_SLEEP)
            }
            None => MAX_SLEEP,
        }
    }

    /// Marks the entities of a message's batches pending; true on `Stop`.
    fn take(&mut self, message: SinkMessage) -> bool {
        match message {
            SinkMessage::Stop => true,
            SinkMessage::Begin => false,
            SinkMessage::Applied(batches, at) => {
                if self.oldest_change.is_none() {
                    self.oldest_change = Some(at);
                }
                for (source, batch) in &batches {
                    self.touch_batch(source, batch);
                }
                false
            }
        }
    }

    fn touch_batch(&mut self, source: &str, batch: &RecordBatch) {
        let Some(by) = self.keyed_by.get(source) else {
            return;
        };
        let mut found: Vec<(usize, Vec<Value>)> = Vec::new();
        for k in by {
            let columns: Option<Vec<_>> = k
                .columns
                .iter()
                .map(|(name, ty)| {
                    let array = batch.column_by_name(name)?;
                    conform(array, *ty, name).ok()
                })
                .collect();
            let Some(columns) = columns else { continue };
            let cells: Option<Vec<Cells<'_>>> = columns
                .iter()
                .zip(&k.columns)
                .map(|(a, (_, ty))| Cells::new(a, *ty))
                .collect();
            let Some(cells) = cells else { continue };
            for row in 0..batch.num_rows() {
                if columns.iter().any(|a| a.is_null(row)) {
                    continue;
                }
                found.push((k.entity, cells.iter().map(|c| c.get(row)).collect()));
            }
        }
        for (entity, key) in found {
            self.touch(entity, key);
        }
    }

    /// Marks a slot pending (once: `pending` lists each slot at most once).
    fn mark(&mut self, slot: u32) {
        if let Some(s) = self.slots.get_mut(slot as usize) {
            if !s.pending {
                s.pending = true;
                self.pending.push(slot);
            }
        }
    }

    /// Marks every entity the sink follows pending.
    fn touch_all(&mut self) {
        for slot in 0..self.slots.len() as u32 {
            self.mark(slot);
        }
    }

    /// Marks one entity key pending (creating its slot the first time).
    fn touch(&mut self, entity: usize, key: Vec<Value>) {
        let canonical: Vec<ValueKey> = key.iter().map(|v| ValueKey(v.canonical())).collect();
        let slots = &mut self.slots;
        let slot = *self.slot_of.entry((entity, canonical)).or_insert_with(|| {
            slots.push(Slot {
                entity,
                key,
                due: None,
                pending: false,
            });
            (slots.len() - 1) as u32
        });
        self.mark(slot);
    }

    /// Reads every pending entity (and every one whose change is due) at "now" and
    /// writes their hashes, a job of at most `HASHES_PER_ROUND_TRIP` entities at a
    /// time: each read is packed straight into the job's commands. A job is taken
    /// from the writer's fixed set before its entities are read (the bound on what
    /// waits for Redis). On an error the entities stay pending.
    fn flush(&mut self) -> Result<(), String> {
        const SLOTS_PER_JOB: usize = HASHES_PER_ROUND_TRIP;
        // Due changes under the wall clock are known without the state; under the
        // event clock "now" is read with the state below.
        if self.state.clock() == Clock::Wall {
            self.take_due(now_us());
        } else {
            let now = self.state.read(|rt| self.state.now(rt));
            self.take_due(now);
        }
        while !self.pending.is_empty() {
            let n = self.pending.len().min(SLOTS_PER_JOB);
            let Some(mut job) = self.sender.job() else {
                return Err("the Redis writer thread stopped".into());
            };
            job.slots
                .extend_from_slice(&self.pending[self.pending.len() - n..]);
            self.next.clear();
            let read = {
                let (state, slots, plans_of, entities, plans, prefix) = (
                    &self.state,
                    &self.slots,
                    &self.plans_of,
                    &self.entities,
                    &self.plans,
                    &self.prefix,
                );
                let (scratch, next, hashes) = (&mut self.scratch, &mut self.next, &mut job.hashes);
                state.read(|rt| {
                    pack_slots(
                        rt, state, &job.slots, slots, plans_of, entities, plans, prefix, scratch,
                        hashes, next,
                    )
                })
            };
            let now = match read {
                Ok(now) => now,
                Err(e) => {
                    self.sender.unused(job);
                    return Err(format!("reading the state: {e}"));
                }
            };
            job.first_change = self.oldest_change.take();
            if !self.sender.send(job) {
                return Err("the Redis writer thread stopped".into());
            }
            let from = self.pending.len() - n;
            for (i, &due) in (from..self.pending.len()).zip(&self.next) {
                let slot = self.pending[i];
                if let Some(s) = self.slots.get_mut(slot as usize) {
                    s.pending = false;
                    s.due = due;
                    if let Some(d) = due {
                        self.schedule.push(Reverse((d, slot)));
                    }
                }
            }
            self.pending.truncate(from);
            // A long flush: changes that came due meanwhile go in this one.
            if self.state.clock() == Clock::Wall {
                self.take_due(now.max(now_us()));
            }
        }
        Ok(())
    }

    /// Makes every slot whose change is due at `now` pending.
    fn take_due(&mut self, now: i64) {
        while let Some(&Reverse((due, slot))) = self.schedule.peek() {
            if due > now {
                break;
            }
            self.schedule.pop();
            let Some(s) = self.slots.get_mut(slot as usize) else {
                continue;
            };
            if s.due != Some(due) {
                continue;
            }
            s.due = None;
            if !s.pending && self.oldest_change.is_none() {
                self.oldest_change = Some(Instant::now());
            }
            self.mark(slot);
        }
    }
}

/// Reads the vectors of `batch`'s slots at "now" (one time for all) and packs their
/// hashes into `out`, each read packed before the next (no vector is kept); returns
/// "now", with each slot's next change after it in `next`.
#[allow(clippy::too_many_arguments)]
fn pack_slots(
    rt: &featc_runtime::stream::StreamReader,
    state: &OnlineState,
    batch: &[u32],
    slots: &[Slot],
    plans_of: &[Vec<usize>],
    entities: &[String],
    plans: &[HashPlan],
    prefix: &str,
    scratch: &mut Scratch,
    out: &mut Packed,
    next: &mut Vec<Option<i64>>,
) -> Result<i64, featc_runtime::stream::StreamError> {
    let now = state.now(rt);
    for &slot in batch {
        let Some(s) = slots.get(slot as usize) else {
            next.push(None);
            continue;
        };
        for &p in plans_of.get(s.entity).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(plan) = plans.get(p) {
                let vector = read_vector(rt, plan, &s.key, now)?;
                plan.pack(prefix, &s.key, &vector, scratch, out);
            }
        }
        let entity = entities.get(s.entity).map_or("", String::as_str);
        next.push(rt.next_change(entity, &s.key, now)?);
    }
    Ok(now)
}
