//! The push pipeline: one thread takes checked pushes in arrival order, logs every
//! push that arrived while the previous fsync ran with one fsync (group commit),
//! applies them to the runtime in log order, then answers them. It also takes the
//! checkpoints, so the log order, the apply order and the checkpoint's coverage are
//! one sequence and a restart re-applies exactly the records after the checkpoint.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::record_batch::RecordBatch;
use tokio::sync::oneshot;

use crate::api::error::ApiError;
use crate::durable::{checkpoint, Header, Record, StateDir};
use std::collections::BTreeMap;

use crate::kafka::{keep_dead, KafkaState, Round};
use crate::online::{Idempotency, Online, PushOutcome};

/// A checked push waiting to be logged and applied.
pub struct Pending {
    source: String,
    key: Option<String>,
    batch: RecordBatch,
}

impl Pending {
    pub fn new(source: String, key: Option<String>, batch: RecordBatch) -> Pending {
        Pending { source, key, batch }
    }

    /// The source it pushes to and its checked rows.
    pub fn into_parts(self) -> (String, RecordBatch) {
        (self.source, self.batch)
    }
}

enum Message {
    Push(Pending, oneshot::Sender<Result<PushOutcome, ApiError>>),
    /// The state now holds the sources' history: checkpoint it, from this snapshot
    /// (taken while pushes were refused, so it is the state's).
    Bootstrapped {
        snapshot: Vec<u8>,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Checkpoint and stop.
    Stop(oneshot::Sender<Result<(), String>>),
    /// Apply a round of consumed Kafka records and record their positions.
    Consume(Round, std::sync::mpsc::SyncSender<Result<(), String>>),
}

/// How routes reach the writer thread.
#[derive(Clone)]
pub struct WriterHandle {
    tx: Sender<Message>,
}

/// The receiving end, handed to `spawn` once `Online` exists.
pub struct WriterInbox {
    rx: Receiver<Message>,
}

pub fn channel() -> (WriterHandle, WriterInbox) {
    let (tx, rx) = std::sync::mpsc::channel();
    (WriterHandle { tx }, WriterInbox { rx })
}

fn stopped() -> ApiError {
    ApiError::ShuttingDown
}

impl WriterHandle {
    /// Logs and applies a push; answers once it is durable and visible to reads.
    pub async fn push(&self, pending: Pending) -> Result<PushOutcome, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Message::Push(pending, reply))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Checkpoints the bootstrapped state from `snapshot` (see `Message::Bootstrapped`).
    pub async fn bootstrapped(&self, snapshot: Vec<u8>) -> Result<(), String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Message::Bootstrapped { snapshot, reply })
            .map_err(|_| "the writer stopped".to_string())?;
        answer.await.map_err(|_| "the writer stopped".to_string())?
    }

    /// Applies a round of consumed records (from the consumer's thread, blocking
    /// until it is applied: at most one round waits while the next is read).
    pub fn consume_blocking(&self, round: Round) -> Result<(), String> {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.tx
            .send(Message::Consume(round, reply))
            .map_err(|_| "the writer stopped".to_string())?;
        answer
            .recv()
            .map_err(|_| "the writer stopped".to_string())?
    }

    pub async fn stop(&self) -> Result<(), String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Message::Stop(reply))
            .map_err(|_| "the writer stopped".to_string())?;
        answer.await.map_err(|_| "the writer stopped".to_string())?
    }
}

/// The writer thread's state.
pub struct Writer {
    online: Arc<Online>,
    state: Option<StateDir>,
    pushes: Idempotency,
    bootstrapped: bool,
    /// The next offset of each Kafka partition whose records the state holds.
    kafka_positions: BTreeMap<(String, i32), i64>,
    events_since_checkpoint: u64,
    last_checkpoint: Instant,
}

/// At most this many bytes of pushes go into one group commit.
const GROUP_BYTES: usize = 64 << 20;

impl Writer {
    pub fn new(
        online: Arc<Online>,
        state: Option<StateDir>,
        pushes: Idempotency,
        bootstrapped: bool,
        kafka: KafkaState,
    ) -> Writer {
        // The counters of the state's whole life, so they stay exact across restarts.
        online.stats.kafka_records.store(kafka.records, Relaxed);
        online.stats.kafka_dead.store(kafka.dead_total, Relaxed);
        let kafka_positions = kafka.positions();
        *online.kafka_dead.lock().unwrap_or_else(|p| p.into_inner()) = kafka.dead;
        Writer {
            online,
            state,
            pushes,
            bootstrapped,
            kafka_positions,
            events_since_checkpoint: 0,
            last_checkpoint: Instant::now(),
        }
    }

    /// Runs the writer on its own thread until `stop`.
    pub fn spawn(self, inbox: WriterInbox) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name("featc-writer".into())
            .spawn(move || self.run(inbox.rx))
    }

    fn run(mut self, rx: Receiver<Message>) {
        let interval = self.online.config.checkpoint_interval;
        loop {
            let first = match rx.recv_timeout(interval.min(Duration::from_secs(1))) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    self.checkpoint_if_due();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let mut group = Vec::new();
            let mut control = Vec::new();
            let mut bytes = 0;
            let mut next = Some(first);
            while let Some(m) = next.take() {
                match m {
                    Message::Push(p, reply) => {
                        bytes += p.batch.get_array_memory_size();
                        group.push((p, reply));
                    }
                    other => control.push(other),
                }
                if bytes < GROUP_BYTES && control.is_empty() {
                    next = rx.try_recv().ok();
                }
            }
            if !group.is_empty() {
                self.commit(group);
            }
            self.checkpoint_if_due();
            for m in control {
                match m {
                    Message::Bootstrapped { snapshot, reply } => {
                        self.bootstrapped = true;
                        let _ = reply.send(self.checkpoint(Some(snapshot)));
                    }
                    Message::Stop(reply) => {
                        let _ = reply.send(self.checkpoint(None));
                        return;
                    }
                    Message::Consume(round, reply) => {
                        let _ = reply.send(self.consume(round));
                        self.checkpoint_if_due();
                    }
                    Message::Push(..) => {}
                }
            }
        }
    }

    /// Logs, applies and answers one group of pushes.
    fn commit(&mut self, group: Vec<(Pending, oneshot::Sender<Result<PushOutcome, ApiError>>)>) {
        let stats = &self.online.stats;
        // Pushes whose key was seen (before, or earlier in this group) are answered
        // with the first answer and neither logged nor applied.
        let mut fresh = Vec::with_capacity(group.len());
        let mut repeats = Vec::new();
        for (p, reply) in group {
            let seen = p.key.as_ref().is_some_and(|k| {
                self.pushes.get(k).is_some()
                    || fresh
                        .iter()
                        .any(|(q, _): &(Pending, _)| q.key.as_ref() == Some(k))
            });
            if seen {
                repeats.push((p, reply));
            } else {
                fresh.push((p, reply));
            }
        }
        if let Some(state) = self.state.as_mut() {
            let encoded: Result<Vec<Vec<u8>>, String> = fresh
                .iter()
                .map(|(p, _)| {
                    Record {
                        source: p.source.clone(),
                        key: p.key.clone(),
                        batch: p.batch.clone(),
                    }
                    .encode()
                })
                .collect();
            let logged = encoded.map_err(ApiError::Storage).and_then(|records| {
                let n: usize = records.iter().map(Vec::len).sum();
                state
                    .log
                    .append(&records)
                    .map_err(|e| ApiError::Storage(e.to_string()))?;
                stats.wal_records.fetch_add(records.len() as u64, Relaxed);
                stats.wal_bytes.fetch_add(n as u64, Relaxed);
                stats.wal_syncs.fetch_add(1, Relaxed);
                Ok(())
            });
            if let Err(e) = logged {
                for (_, reply) in fresh.into_iter().chain(repeats) {
                    let _ = reply.send(Err(e.clone()));
                }
                return;
            }
        }
        // Both copies of the state take the group (reads go on from the other one).
        let outcomes = self.online.state.write(|rt| {
            fresh
                .iter()
                .map(|(p, _)| {
                    PushOutcome::apply(rt, &p.source, &p.batch)
                        // Checked before it was logged, so this does not happen; if it
                        // did, a restart skips the record the same way.
                        .map_err(|e| ApiError::Refused(e.to_string()))
                })
                .collect::<Vec<_>>()
        });
        if let Some(sink) = self.online.sink.get() {
            let applied = fresh
                .iter()
                .zip(&outcomes)
                .filter(|(_, o)| o.is_ok())
                .map(|((p, _), _)| (p.source.clone(), p.batch.clone()))
                .collect();
            sink.applied(applied);
        }
        for ((p, reply), outcome) in fresh.into_iter().zip(outcomes) {
            let key = p.key;
            if let Ok(o) = &outcome {
                stats.rows_accepted.fetch_add(o.accepted, Relaxed);
                stats.rows_late.fetch_add(o.late, Relaxed);
                self.events_since_checkpoint += o.accepted;
                if let Some(k) = key {
                    self.pushes.insert(k, o.accepted, o.late);
                }
            }
            let _ = reply.send(outcome);
        }
        for (p, reply) in repeats {
            stats.pushes_duplicate.fetch_add(1, Relaxed);
            let answer = p
                .key
                .as_ref()
                .and_then(|k| self.pushes.get(k))
                .map(|(accepted, late)| PushOutcome {
                    accepted,
                    late,
                    duplicate: true,
                })
                .ok_or_else(|| {
                    ApiError::Refused("the first push with this Idempotency-Key was refused".into())
                });
            let _ = reply.send(answer);
        }
    }

    /// Applies a round of consumed records to both copies of the state and records
    /// its positions: one step, so a checkpoint never holds one without the other.
    fn consume(&mut self, round: Round) -> Result<(), String> {
        let applied = self.online.state.write(|rt| {
            let mut accepted = 0;
            for (source, partition, batch) in &round.batches {
                // Checked when decoded, so this does not fail; if it did, no later
                // batch of the round is applied and the positions stay put.
                rt.ingest_partition(source, *partition, batch)
                    .map_err(|e| e.to_string())?;
                accepted += batch.num_rows() as u64;
            }
            for (source, partition) in &round.idle {
                rt.set_partition_idle(source, *partition, true)
                    .map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(accepted)
        });
        let accepted = applied?;
        if let Some(sink) = self.online.sink.get() {
            sink.applied(
                round
                    .batches
                    .iter()
                    .map(|(source, _, batch)| (source.clone(), batch.clone()))
                    .collect(),
            );
        }
        let stats = &self.online.stats;
        stats.kafka_records.fetch_add(accepted, Relaxed);
        stats.kafka_dead.fetch_add(round.dead.len() as u64, Relaxed);
        for d in round.dead.iter().take(3) {
            eprintln!(
                "featc serve: kafka: dead-lettered the record at {} (source `{}`): {}",
                d.at, d.source, d.reason
            );
        }
        self.kafka_positions.extend(round.positions);
        if !round.dead.is_empty() {
            let mut kept = self
                .online
                .kafka_dead
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            keep_dead(&mut kept, &round.dead);
        }
        self.events_since_checkpoint += accepted + round.dead.len() as u64;
        Ok(())
    }

    /// What a checkpoint records of the Kafka topics (see `KafkaState`).
    fn kafka_state(&self) -> KafkaState {
        let stats = &self.online.stats;
        KafkaState {
            positions: self
                .kafka_positions
                .iter()
                .map(|((t, p), o)| (t.clone(), *p, *o))
                .collect(),
            records: stats.kafka_records.load(Relaxed),
            dead_total: stats.kafka_dead.load(Relaxed),
            dead: self
                .online
                .kafka_dead
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }

    fn checkpoint_if_due(&mut self) {
        let config = &self.online.config;
        let due = self.events_since_checkpoint > 0
            && (self.events_since_checkpoint >= config.checkpoint_events
                || self.last_checkpoint.elapsed() >= config.checkpoint_interval);
        if due {
            if let Err(e) = self.checkpoint(None) {
                eprintln!("featc serve: checkpoint failed (the log is kept): {e}");
            }
        }
    }

    /// Writes a checkpoint of everything applied so far (from `taken`, a snapshot of
    /// the current state, or a new one) and forgets the log before it.
    fn checkpoint(&mut self, taken: Option<Vec<u8>>) -> Result<(), String> {
        if self.state.is_none() {
            return Ok(());
        }
        let kafka = self.kafka_state();
        let Some(state) = self.state.as_mut() else {
            return Ok(());
        };
        let started = Instant::now();
        let stats = &self.online.stats;
        let layout = self.online.state.read(|rt| rt.graph().group_features());
        let result = (|| {
            let upto = state.log.next_seq();
            let snapshot = match taken {
                Some(bytes) => bytes,
                None => self.online.state.spare(crate::durable::snapshot::take)?,
            };
            let header = Header {
                upto,
                pushes: self.pushes.entries(),
                bootstrapped: self.bootstrapped,
                kafka,
                snapshot_bytes: snapshot.len() as u64,
                layout: layout.clone(),
            };
            checkpoint::write(&state.dir, &header, &snapshot).map_err(|e| e.to_string())?;
            state.log.truncate_before(upto).map_err(|e| e.to_string())
        })();
        match &result {
            Ok(()) => {
                stats.checkpoints.fetch_add(1, Relaxed);
                stats
                    .last_checkpoint_seconds
                    .store(started.elapsed().as_micros() as u64, Relaxed);
                self.events_since_checkpoint = 0;
                self.last_checkpoint = Instant::now();
            }
            Err(_) => {
                stats.checkpoint_failures.fetch_add(1, Relaxed);
            }
        }
        result
    }
}
