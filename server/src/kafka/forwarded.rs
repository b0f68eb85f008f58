//! Rounds of an internal topic's partition (group mode, `group::forward`): each
//! record is a source's record forwarded with headers naming the source and where it
//! was read (topic, partition, offset). A part is made per source partition, so the
//! runtime keeps a watermark per source partition as the single-process server does,
//! and the part's note moves that source partition's position: a record at or
//! before the position is a copy a forwarder produced again after a crash or a
//! rebalance, and is skipped. Within one internal partition, the records of one
//! source partition arrive in offset order runs (one producer, idempotent and
//! ordered, produces a source partition's records in order, and a new owner starts
//! from an offset committed only after everything before it was acknowledged), so
//! the position alone tells a copy from a record not yet applied: exactly once.
//! The round ends with a part without rows whose note moves the internal
//! partition's own position, so a round failing part way is read again.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use rdkafka::consumer::BaseConsumer;
use rdkafka::message::{BorrowedMessage, Headers, Message};

use super::decode::Decoder;
use super::progress::KafkaNote;
use super::KafkaConfig;
use crate::state::{Part, PushCheck};

/// The headers a forwarded record carries.
pub const SOURCE: &str = "featc-source";
pub const TOPIC: &str = "featc-topic";
pub const PARTITION: &str = "featc-partition";
pub const OFFSET: &str = "featc-offset";

/// A forwarded record: where it was first read (from its headers), its offset in
/// the internal partition, and its value.
#[derive(Debug, Clone, Copy)]
pub struct Forwarded<'m> {
    pub source: &'m str,
    pub topic: &'m str,
    pub partition: i32,
    pub offset: i64,
    /// Its offset in the internal partition.
    pub internal: i64,
    pub payload: Option<&'m [u8]>,
}

fn header<'m>(message: &'m BorrowedMessage<'_>, name: &str) -> Option<&'m str> {
    let headers = message.headers()?;
    headers
        .iter()
        .find(|h| h.key == name)
        .and_then(|h| h.value)
        .and_then(|v| std::str::from_utf8(v).ok())
}

/// A message's forwarded record; `None` when its headers do not say where it was
/// first read (not written by featc).
fn forwarded<'m>(message: &'m BorrowedMessage<'_>) -> Option<Forwarded<'m>> {
    Some(Forwarded {
        source: header(message, SOURCE)?,
        topic: header(message, TOPIC)?,
        partition: header(message, PARTITION)?.parse().ok()?,
        offset: header(message, OFFSET)?.parse().ok()?,
        internal: message.offset(),
        payload: message.payload(),
    })
}

/// What one round read: parts, and the positions they move to.
pub struct ForwardedRead {
    pub parts: Vec<Part>,
    pub positions: BTreeMap<(String, i32), i64>,
}

/// Reads a round of the internal partition `partition` of `topic` (see the module
/// docs); `applied` holds the positions the state is at.
pub fn read_round(
    check: &PushCheck,
    consumer: &BaseConsumer,
    config: &KafkaConfig,
    (topic, partition): (&str, i32),
    applied: &BTreeMap<(String, i32), i64>,
) -> ForwardedRead {
    let started = Instant::now();
    let mut messages: Vec<BorrowedMessage<'_>> = Vec::new();
    while messages.len() < config.max_records {
        let left = config.max_wait.saturating_sub(started.elapsed());
        if left.is_zero() && !messages.is_empty() {
            break;
        }
        match consumer.poll(left.max(Duration::from_millis(1))) {
            None => {
                if !messages.is_empty() || started.elapsed() >= config.max_wait {
                    break;
                }
            }
            Some(Err(e)) => {
                eprintln!("featc serve: kafka: {e}");
                break;
            }
            Some(Ok(m)) => messages.push(m),
        }
    }
    let records: Vec<Option<Forwarded<'_>>> = messages.iter().map(forwarded).collect();
    let last = messages.iter().map(|m| m.offset()).max();
    make_round(check, (topic, partition), &records, last, applied)
}

/// The round of `records` (`None`: a record without featc's headers), the last of
/// which is at internal offset `last`: the pure part of `read_round`, apart so that
/// it can be tested without a broker.
pub fn make_round(
    check: &PushCheck,
    (topic, partition): (&str, i32),
    records: &[Option<Forwarded<'_>>],
    last: Option<i64>,
    applied: &BTreeMap<(String, i32), i64>,
) -> ForwardedRead {
    let mut positions = BTreeMap::new();
    let Some(last) = last else {
        return ForwardedRead {
            parts: Vec::new(),
            positions,
        };
    };
    // One decoder per source partition, in order of first appearance.
    let mut decoders: Vec<Decoder<'_>> = Vec::new();
    let mut index: HashMap<(&str, i32), usize> = HashMap::new();
    let mut unreadable = 0u64;
    // Each source partition's next offset so far, this round's records included: a
    // copy may arrive in the same round as its original.
    let mut next: HashMap<(&str, i32), i64> = HashMap::new();
    for record in records {
        let Some(at) = record else {
            // Not written by a forwarder: nothing says which source it is.
            unreadable += 1;
            continue;
        };
        let from = next.entry((at.topic, at.partition)).or_insert_with(|| {
            applied
                .get(&(at.topic.to_string(), at.partition))
                .copied()
                .unwrap_or(0)
        });
        if at.offset < *from {
            continue;
        }
        *from = at.offset + 1;
        let i = match index.get(&(at.topic, at.partition)) {
            Some(&i) => i,
            None => {
                let Ok(entry) = check.names().source(at.source) else {
                    unreadable += 1;
                    continue;
                };
                decoders.push(Decoder::new(entry, at.topic, at.partition));
                index.insert((at.topic, at.partition), decoders.len() - 1);
                decoders.len() - 1
            }
        };
        decoders[i].push(at.offset, at.payload);
    }
    if unreadable > 0 {
        eprintln!(
            "featc serve: kafka: {unreadable} records of `{topic}` [{partition}] carry no \
             featc-source headers (not written by featc) and were skipped"
        );
    }
    let mut parts = Vec::new();
    let mut last_source = None;
    for decoder in decoders {
        positions.insert(
            (decoder.topic().to_string(), decoder.partition),
            decoder.next_offset,
        );
        let part = super::consumer::part_of(decoder, check);
        last_source = Some(part.source.clone());
        parts.push(part);
    }
    positions.insert((topic.to_string(), partition), last + 1);
    // The internal partition's own position moves last (a part without rows; any of
    // the graph's sources names it).
    let source = last_source.or_else(|| check.names().sources.first().map(|s| s.name.clone()));
    if let Some(source) = source {
        parts.push(Part {
            partition,
            source,
            batch: None,
            note: KafkaNote::new(topic, partition, last + 1, 0, 0).to_json(),
            dead: Vec::new(),
        });
    }
    ForwardedRead { parts, positions }
}
