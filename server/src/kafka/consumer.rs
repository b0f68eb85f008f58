//! The consumer thread: reads every declared topic from the positions the state
//! recorded (manual assignment, no group rebalancing), decodes and checks records in
//! rounds, and hands each round to the writer, which logs it (rows and a
//! `KafkaNote` per partition), applies it and moves the positions past it in the same
//! step. The log and the checkpoints therefore hold the state and the positions it is
//! exact for; a restart re-applies the logged rounds among the pushes, seeks past
//! them and reads the rest, so every record counts once whatever the broker's
//! committed offsets say (they are committed after each round, for monitoring only).
//! After a failed round the consumer starts again from the progress, which moved
//! exactly with the parts applied.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::decode::{DeadRecord, Decoder};
use super::format::{Formats, JSON};
use super::forwarded::{Hole, Reread, Rereads, REREADS};
use super::progress::KafkaCounters;
use super::progress::KafkaNote;
use super::progress::KafkaProgress;
use super::KIND;
use super::{KafkaConfig, KafkaError};
use crate::state::{Part, PushCheck, Round};
use crate::writer::WriterHandle;

/// What the consumer reaches: the writer, the checker, the source's progress and
/// the formats of the sources' records.
pub struct Source<'a> {
    pub writer: &'a WriterHandle,
    pub check: &'a Arc<PushCheck>,
    pub progress: &'a Arc<KafkaProgress>,
    pub formats: &'a Formats,
}

/// The largest record the consumer fetches (librdkafka's `fetch.max.bytes`, its
/// `receive.message.max.bytes` just above): what bounds a decoder's allocations
/// (`avro`).
pub const MAX_RECORD_BYTES: usize = 32 << 20;

/// The consumer's settings: featc's, and those of the benchmark's floor and
/// consume-only ceiling (bench/kafka), which must read the broker as featc does to
/// stay comparable. Manual assignment and offsets: nothing is committed or stored
/// automatically (see the module doc).
pub fn client_config(brokers: &str, group: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false");
    for (key, value) in FETCH_SETTINGS {
        config.set(*key, *value);
    }
    config
        .set("fetch.max.bytes", MAX_RECORD_BYTES.to_string())
        .set(
            "receive.message.max.bytes",
            (MAX_RECORD_BYTES + (1 << 20)).to_string(),
        );
    config
}

/// How the consumer fetches, each a bound on what it holds: librdkafka prefetches
/// into its queue until `queued.min.messages` or `queued.max.messages.kbytes` is
/// reached, each fetch response at most `fetch.max.bytes` (`MAX_RECORD_BYTES`) and
/// `max.partition.fetch.bytes` per partition.
pub const FETCH_SETTINGS: &[(&str, &str)] = &[
    // A fetch waits this long at most for `fetch.min.bytes` (a caught-up consumer's
    // latency).
    ("fetch.wait.max.ms", "50"),
    // When the queue is full, the next fetch of a partition waits this long
    // (librdkafka's default is 1 000 ms: a consumer slower than the broker then
    // empties its queue and sits idle for most of each second; bench/kafka.sh's
    // floor read 175 000 records/s with it and 970 000 with 10 ms, 2026-11-29).
    ("fetch.queue.backoff.ms", "10"),
    // The queue's bounds (librdkafka's defaults, written out as the limits they
    // are): prefetching stops at 100 000 records or 64 MiB.
    ("queued.min.messages", "100000"),
    ("queued.max.messages.kbytes", "65536"),
    // At most 1 MiB per partition in one fetch response (the default).
    ("max.partition.fetch.bytes", "1048576"),
];

/// Why consuming could not start or go on.
fn failed(what: &str, e: impl std::fmt::Display) -> KafkaError {
    KafkaError::Client {
        what: what.to_string(),
        message: e.to_string(),
    }
}

/// What one round read, before it goes to the writer.
struct Read {
    /// One part per partition read, its note saying where it ends.
    parts: Vec<Part>,
    /// The next offset of each partition read in the round.
    positions: BTreeMap<(String, i32), i64>,
}

/// Runs until `stop` (then `Ok`) or a failure; `applied` holds the next offset of
/// each partition whose records the state holds (others start at the topic's
/// beginning or end, per `config.from_end`), and is kept current round by round, so
/// a new run after a failure goes on where this one stopped.
pub fn run(
    source: &Source<'_>,
    config: &KafkaConfig,
    applied: &mut BTreeMap<(String, i32), i64>,
    stop: &AtomicBool,
) -> Result<(), KafkaError> {
    let consumer: BaseConsumer = client_config(&config.brokers, &config.group)
        .create()
        .map_err(|e| failed("cannot create a consumer", e))?;
    let mut assigned = TopicPartitionList::new();
    // Group mode: the internal partition's first offset, so that a hole is told from
    // a start on a new task too (`forwarded`).
    let mut low = 0;
    for binding in &config.topics {
        let partitions = match config.forwarded {
            Some(p) => vec![p],
            None => partitions_of(&consumer, &binding.topic, stop)?,
        };
        for p in partitions {
            let at = (binding.topic.clone(), p);
            if config.forwarded.is_some() {
                low = consumer
                    .fetch_watermarks(&binding.topic, p, Duration::from_secs(10))
                    .map_err(|e| failed("cannot read an internal partition's first offset", e))?
                    .0;
                applied.entry(at.clone()).or_insert(low);
            }
            let offset = match applied.get(&at) {
                Some(&next) => Offset::Offset(next),
                None if config.from_end => Offset::End,
                None => Offset::Beginning,
            };
            assigned
                .add_partition_offset(&binding.topic, p, offset)
                .map_err(|e| failed("cannot assign", e))?;
        }
    }
    consumer
        .assign(&assigned)
        .map_err(|e| failed("cannot assign the topics' partitions", e))?;
    let source_of: HashMap<&str, &str> = config
        .topics
        .iter()
        // An internal topic (group mode) carries several sources: none is its own.
        .filter(|_| config.forwarded.is_none())
        .map(|b| (b.topic.as_str(), b.source.as_str()))
        .collect();
    // When each partition last delivered a record, and those reported idle since.
    let mut last_seen: HashMap<(String, i32), Instant> = HashMap::new();
    let mut reported_idle: std::collections::HashSet<(String, i32)> = Default::default();
    // Group mode: the source of each source topic whose records were forwarded here.
    let mut forwarded_from: HashMap<String, String> = HashMap::new();
    let mut rereads = Rereads::default();
    while !stop.load(Ordering::Acquire) {
        let read = match (config.forwarded, config.topics.first()) {
            (Some(p), Some(binding)) => {
                let at = (binding.topic.as_str(), p);
                let read =
                    super::forwarded::read_round(source.check, &consumer, config, at, applied);
                match read.hole {
                    Some(hole) => {
                        let counters = &source.progress.counters;
                        reread(&consumer, at, hole, low, &mut rereads, counters, applied)?;
                    }
                    None if !read.positions.is_empty() => rereads.clear(),
                    None => {}
                }
                for part in read
                    .parts
                    .iter()
                    .filter(|p| p.batch.is_some() || !p.dead.is_empty())
                {
                    if let Some(topic) = part.note.get("topic").and_then(|t| t.as_str()) {
                        forwarded_from.insert(topic.to_string(), part.source.clone());
                    }
                }
                Read {
                    parts: read.parts,
                    positions: read.positions,
                }
            }
            _ => read_round(source, &consumer, config, &source_of),
        };
        let now = Instant::now();
        for (topic, partition) in read.positions.keys() {
            last_seen.insert((topic.clone(), *partition), now);
            reported_idle.remove(&(topic.clone(), *partition));
        }
        let mut idle = Vec::new();
        for ((topic, partition), seen) in &last_seen {
            let key = (topic.clone(), *partition);
            if now.duration_since(*seen) >= config.idle_timeout && !reported_idle.contains(&key) {
                let source = source_of
                    .get(topic.as_str())
                    .copied()
                    .or_else(|| forwarded_from.get(topic).map(String::as_str));
                if let Some(s) = source {
                    idle.push((s.to_string(), *partition));
                }
                reported_idle.insert(key);
            }
        }
        if read.positions.is_empty() && idle.is_empty() {
            continue;
        }
        let positions = read.positions;
        let round = Round {
            kind: KIND.to_string(),
            parts: read.parts,
            idle,
        };
        source
            .writer
            .apply_round(round)
            .map_err(KafkaError::Apply)?;
        applied.extend(positions.iter().map(|(k, v)| (k.clone(), *v)));
        if config.forwarded.is_some() {
            continue;
        }
        let mut commit = TopicPartitionList::new();
        for ((topic, partition), next) in &positions {
            let _ = commit.add_partition_offset(topic, *partition, Offset::Offset(*next));
        }
        // Monitoring only: the state's own positions are what a restart uses.
        let _ = consumer.commit(&commit, CommitMode::Async);
    }
    Ok(())
}

/// Answers a hole in internal partition `at` (`forwarded::Rereads`): moves the
/// consumer back to read it again, after a pause longer each time the hole comes
/// back, or past it (its end into `applied`) once it is taken for a real gap.
fn reread(
    consumer: &BaseConsumer,
    at: (&str, i32),
    hole: Hole,
    low: i64,
    rereads: &mut Rereads,
    counters: &KafkaCounters,
    applied: &mut BTreeMap<(String, i32), i64>,
) -> Result<(), KafkaError> {
    match rereads.after(hole, low) {
        Reread::From { offset, first } => {
            if first {
                counters.holes.fetch_add(1, Ordering::Relaxed);
            }
            // Longer each time, so that a batch the broker stores late has the time
            // to appear.
            let pause = 1u64 << rereads.tries().min(10);
            std::thread::sleep(Duration::from_millis(pause));
            seek(consumer, at, offset)
        }
        Reread::Skip => {
            counters.holes_skipped.fetch_add(1, Ordering::Relaxed);
            let (topic, partition) = at;
            eprintln!(
                "featc serve: kafka: `{topic}` [{partition}]: offsets {} to {} are missing \
                 (the broker served {} first after {REREADS} reads); reading on from {}",
                hole.missing,
                hole.next - 1,
                hole.next,
                hole.next
            );
            applied.insert((topic.to_string(), partition), hole.next);
            seek(consumer, at, hole.next)
        }
    }
}

/// Moves the consumer of partition `at` to `offset` (assigning it there, the one
/// partition a task's consumer reads, when it is not being fetched yet, which
/// `seek` refuses).
fn seek(
    consumer: &BaseConsumer,
    (topic, partition): (&str, i32),
    offset: i64,
) -> Result<(), KafkaError> {
    if consumer
        .seek(
            topic,
            partition,
            Offset::Offset(offset),
            Duration::from_secs(5),
        )
        .is_ok()
    {
        return Ok(());
    }
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, partition, Offset::Offset(offset))
        .map_err(|e| failed("cannot read an internal partition again", e))?;
    consumer
        .assign(&list)
        .map_err(|e| failed("cannot read an internal partition again", e))
}

/// The partitions of `topic`, waiting (until `stop`) for the topic to exist.
fn partitions_of(
    consumer: &BaseConsumer,
    topic: &str,
    stop: &AtomicBool,
) -> Result<Vec<i32>, KafkaError> {
    let mut warned = false;
    while !stop.load(Ordering::Acquire) {
        let metadata = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .map_err(|e| failed(&format!("cannot read the metadata of `{topic}`"), e))?;
        let found: Vec<i32> = metadata
            .topics()
            .iter()
            .filter(|t| t.name() == topic && t.error().is_none())
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        if !found.is_empty() {
            return Ok(found);
        }
        if !warned {
            eprintln!("featc serve: kafka: topic `{topic}` does not exist yet; waiting for it");
            warned = true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(Vec::new())
}

/// How many records a round takes between two reads of its clock.
const CLOCK_EVERY: usize = 64;

/// Up to `config.max_records` records or `config.max_wait`, decoded and checked per
/// source.
fn read_round(
    source: &Source<'_>,
    consumer: &BaseConsumer,
    config: &KafkaConfig,
    source_of: &HashMap<&str, &str>,
) -> Read {
    let check = &**source.check;
    let started = Instant::now();
    // One decoder per partition read in the round; a partition's topic name is
    // copied once per round, not per record.
    let mut decoders: Vec<(&str, Decoder<'_>)> = Vec::new();
    let mut errors = Vec::new();
    let mut records = 0;
    while records < config.max_records {
        // A record already queued is taken without waiting (no clock read); the
        // round's time is read every `CLOCK_EVERY` records and before any wait, so
        // a round still ends at `max_wait` give or take those records.
        let queued = match records % CLOCK_EVERY {
            0 => None,
            _ => consumer.poll(Duration::ZERO),
        };
        let polled = match queued {
            Some(m) => Some(m),
            None => {
                let left = config.max_wait.saturating_sub(started.elapsed());
                if left.is_zero() && records > 0 {
                    break;
                }
                consumer.poll(left.max(Duration::from_millis(1)))
            }
        };
        let message = match polled {
            None => {
                if records > 0 || started.elapsed() >= config.max_wait {
                    break;
                }
                continue;
            }
            Some(Err(e)) => {
                errors.push(e.to_string());
                break;
            }
            Some(Ok(m)) => m,
        };
        records += 1;
        let (topic, partition) = (message.topic(), message.partition());
        let index = match decoders
            .iter()
            .position(|(t, d)| *t == topic && d.partition == partition)
        {
            Some(i) => i,
            None => {
                let Some((&topic, entry)) = source_of
                    .get_key_value(topic)
                    .and_then(|(t, s)| check.names().source(s).ok().map(|e| (t, e)))
                else {
                    continue;
                };
                let format = source.formats.get(&entry.name).unwrap_or(&JSON);
                decoders.push((topic, Decoder::new(entry, format, topic, partition)));
                decoders.len() - 1
            }
        };
        decoders[index].1.push(message.offset(), message.payload());
    }
    let mut parts = Vec::new();
    let mut positions = BTreeMap::new();
    for (topic, decoder) in decoders {
        let (partition, next) = (decoder.partition, decoder.next_offset);
        positions.insert((topic.to_string(), partition), next);
        if source_of.contains_key(topic) {
            parts.push(part_of(decoder, check));
        }
    }
    for e in errors {
        eprintln!("featc serve: kafka: {e}");
    }
    Read { parts, positions }
}

/// A partition's share of a round from its decoder: the checked rows, the records
/// kept out (the first few also on stderr), and the note moving the partition's
/// position past them. Shared with `forwarded`, whose decoders are per source
/// partition.
pub(super) fn part_of(decoder: Decoder<'_>, check: &PushCheck) -> Part {
    let source = decoder.source_name().to_string();
    let (partition, next) = (decoder.partition, decoder.next_offset);
    let topic = decoder.topic().to_string();
    let (batch, dead) = decoder.finish(check);
    let accepted = batch.as_ref().map_or(0, |b| b.batch().num_rows() as u64);
    // The first few of a part on stderr; all of them in the dead-letter store.
    for d in dead.iter().take(3) {
        eprintln!(
            "featc serve: kafka: dead-lettered the record at {} (source `{}`): {}",
            d.at, d.source, d.reason
        );
    }
    let note = KafkaNote::new(&topic, partition, next, accepted, dead.len() as u64);
    Part {
        partition,
        source,
        batch,
        note: note.to_json(),
        dead: dead.into_iter().map(DeadRecord::into_letter).collect(),
    }
}
