//! Kafka sources: `featc serve --kafka BROKERS` consumes the topic each source
//! declares (`topic "NAME" format json|avro|protobuf`) into the online state, exactly
//! once.
//!
//! - `decode`: records into a source's batch, checked as a push is; undecodable or
//!   refused ones are dead-lettered with their topic, partition and offset;
//! - `format`: a record into the JSON object of its columns, one file per format:
//!   JSON there, `avro`, `protobuf`, and Confluent's framing of both (`confluent`);
//! - `consumer`: the consumer thread (manual partition assignment from the positions
//!   the state recorded), handing rounds of records to the writer;
//! - `progress`: how far the state has read the topics, the source's `Position`;
//! - `forwarded`: rounds of a group mode's internal partition (records forwarded
//!   from the sources' topics, with headers saying where each was first read);
//! - `key`: the text a typed entity key is routed by, and its partition;
//! - `partitioner`: the partition of a keyed record, as Kafka's producers compute it.
//!
//! Event time: each partition feeds the runtime as a partition of its source
//! (`StreamRuntime::ingest_partition`), so the source's watermark follows the
//! slowest partition; one silent for `idle_timeout` is declared idle and stops
//! holding it back until its next record.
//!
//! Exactly once, in order: the writer logs a round (its rows, and per partition a
//! `KafkaNote` of where it ends) in the same sequence as pushes, applies it and moves
//! the positions past it in one step; a checkpoint holds state and positions; after
//! any crash a restart loads the checkpoint, re-applies the logged pushes and rounds
//! in their original order (moving the positions with the rounds), and reads on from
//! there. The rows are logged rather than fetched again on a restart, so that the
//! replay needs no broker and survives the topic's retention.
//!
//! The source gets narrow handles only: the writer's (`WriterHandle`), the checker
//! (`PushCheck`) and its own progress and counters.

pub mod avro;
pub mod confluent;
pub mod consumer;
pub mod decode;
pub mod format;
pub mod forwarded;
pub mod json_keys;
pub mod key;
pub mod partitioner;
pub mod progress;
pub mod protobuf;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::state::{PushCheck, PushError};
use crate::writer::WriterHandle;
pub use progress::{KafkaCounters, KafkaNote, KafkaProgress, KafkaState, KIND};

/// A source read from a topic, and how its records are encoded (with the schema the
/// compiler checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicBinding {
    pub source: String,
    pub topic: String,
    pub format: featc_runtime::ir::TopicFormat,
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
    /// Group mode: read only this partition of the one topic in `topics`, an internal
    /// topic of forwarded records (`forwarded`); nothing is committed (the group's
    /// member owns the group's offsets).
    pub forwarded: Option<i32>,
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
            forwarded: None,
        }
    }
}

/// Why consuming could not start or go on (then it starts again, see `Consuming`).
#[derive(Debug, Clone, PartialEq)]
pub enum KafkaError {
    /// The client failed: what it was doing, and librdkafka's reason.
    Client { what: String, message: String },
    /// The writer refused a round or stopped.
    Apply(PushError),
}

impl std::fmt::Display for KafkaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KafkaError::Client { what, message } => write!(f, "kafka: {what}: {message}"),
            KafkaError::Apply(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for KafkaError {}

/// A running consumer.
pub struct Consuming {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Consuming {
    /// Starts consuming `config`'s topics from where `progress` says the state has
    /// read them, into the state through `writer` (see `consumer::run`).
    pub fn start(
        writer: WriterHandle,
        check: Arc<PushCheck>,
        progress: Arc<KafkaProgress>,
        config: KafkaConfig,
    ) -> std::io::Result<Consuming> {
        // A schema that cannot be prepared stops the start (the compiler checked it:
        // not expected), rather than every record being dead-lettered.
        let formats = format::formats(&config.topics, &check)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.0))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("featc-kafka".into())
            .spawn(move || {
                // A failure (the broker unreachable, a topic deleted) is reported and
                // counted, and consuming starts again a second later from where the
                // state is: it never stops silently.
                let source = consumer::Source {
                    writer: &writer,
                    check: &check,
                    progress: &progress,
                    formats: &formats,
                };
                // Each run starts where the state is: the progress moved with every
                // part applied, also in a round that failed part way.
                while let Err(e) = consumer::run(&source, &config, &mut progress.positions(), &flag)
                {
                    progress.counters.errors.fetch_add(1, Ordering::Relaxed);
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
