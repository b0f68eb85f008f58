//! Kafka sources: `featc serve --kafka BROKERS` consumes the topic each source
//! declares (`topic "NAME" format json`) into the online state, exactly once.
//!
//! - `decode`: records into a source's batch; undecodable ones are dead-lettered
//!   with their topic, partition and offset;
//! - `consumer`: the consumer thread (manual partition assignment from the positions
//!   the state recorded).
//!
//! Event time: each partition feeds the runtime as a partition of its source
//! (`StreamRuntime::ingest_partition`), so the source's watermark follows the
//! slowest partition; one silent for `idle_timeout` is declared idle and stops
//! holding it back until its next record.
//!
//! Exactly once: the writer applies a round of records and records the positions
//! after it in one step; a checkpoint holds both; after any crash a restart loads the
//! checkpoint and reads again from its positions. Records are not written to the
//! server's own log: the topic is the log.

pub mod consumer;
pub mod decode;

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::record_batch::RecordBatch;

use crate::online::Online;
use decode::DeadRecord;

/// A source read from a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicBinding {
    pub source: String,
    pub topic: String,
}

/// How the server consumes.
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaConfig {
    /// `host:port[,host:port...]`.
    pub brokers: String,
    /// The consumer group offsets are committed under (monitoring only).
    pub group: String,
    pub topics: Vec<TopicBinding>,
    /// A partition the state has never read starts at its end (new records only)
    /// rather than its beginning.
    pub from_end: bool,
    /// A round ends after this many records...
    pub max_records: usize,
    /// ... or this long after it started, whichever comes first.
    pub max_wait: Duration,
    /// A partition silent this long stops holding its source's watermark back.
    pub idle_timeout: Duration,
}

impl KafkaConfig {
    pub fn new(brokers: &str, topics: Vec<TopicBinding>) -> KafkaConfig {
        KafkaConfig {
            brokers: brokers.to_string(),
            group: "featc-serve".into(),
            topics,
            from_end: false,
            max_records: 50_000,
            max_wait: Duration::from_millis(20),
            idle_timeout: Duration::from_secs(10),
        }
    }
}

/// One round of consumed records, for the writer.
pub struct Round {
    /// (source, partition, records).
    pub batches: Vec<(String, i32, RecordBatch)>,
    /// (source, partition) of partitions silent for longer than the idle timeout
    /// since their last record: they stop holding their source's watermark back.
    pub idle: Vec<(String, i32)>,
    pub dead: Vec<DeadRecord>,
    /// The next offset of each partition read in the round.
    pub positions: BTreeMap<(String, i32), i64>,
}

/// How many dead records a server keeps to show (all are counted).
pub const DEAD_KEPT: usize = 1_000;

/// Appends `dead` to `kept`, dropping the oldest beyond `DEAD_KEPT`.
pub fn keep_dead(kept: &mut VecDeque<DeadRecord>, dead: &[DeadRecord]) {
    kept.extend(dead.iter().cloned());
    let excess = kept.len().saturating_sub(DEAD_KEPT);
    kept.drain(..excess);
}

/// What a checkpoint records of the topics: where to read next, the counts, and the
/// latest dead records. Assembled when a checkpoint is written from where each piece
/// lives while serving (the writer's positions, the counters in `ServerStats`, the
/// dead records in `Online::kafka_dead`), and handed back to them on a restart.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KafkaState {
    /// (topic, partition, next offset).
    pub positions: Vec<(String, i32, i64)>,
    pub records: u64,
    pub dead_total: u64,
    /// The latest `DEAD_KEPT` dead records, oldest first.
    pub dead: VecDeque<DeadRecord>,
}

impl KafkaState {
    pub fn positions(&self) -> BTreeMap<(String, i32), i64> {
        self.positions
            .iter()
            .map(|(t, p, o)| ((t.clone(), *p), *o))
            .collect()
    }
}

/// A running consumer.
pub struct Consuming {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Consuming {
    /// Starts consuming `config`'s topics from `start` (see `consumer::run`).
    pub fn start(
        online: Arc<Online>,
        config: KafkaConfig,
        start: BTreeMap<(String, i32), i64>,
    ) -> std::io::Result<Consuming> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("featc-kafka".into())
            .spawn(move || {
                // A failure (the broker unreachable, a topic deleted) is reported and
                // counted, and consuming starts again a second later from where the
                // state is: it never stops silently.
                let mut applied = start;
                while let Err(e) = consumer::run(&online, &config, &mut applied, &flag) {
                    online.stats.kafka_errors.fetch_add(1, Ordering::Relaxed);
                    eprintln!("featc serve: {e}; retrying in 1 s");
                    for _ in 0..10 {
                        if flag.load(Ordering::Acquire) {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            })?;
        Ok(Consuming {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops after the round in progress.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
