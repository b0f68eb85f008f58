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
//!
//! An internal partition's offsets are dense (featc's own producer, idempotent and
//! not transactional, writes every record; nothing compacts them), so a record
//! after a hole means the broker served a later batch before an earlier one: tansu
//! 0.6.0 does, when two forwarders write one partition (it moves the partition's end
//! before it stores the batch), and when a fetch starts inside a batch (it skips the
//! rest of that batch). The round then stops at the hole and the partition is read
//! again from there (`Rereads`), never past it: a record is never skipped for good.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use rdkafka::consumer::BaseConsumer;
use rdkafka::message::{BorrowedMessage, Headers, Message};

use super::decode::Decoder;
use super::format::JSON;
use super::progress::KafkaNote;
use super::KafkaConfig;
use crate::state::{Part, PushCheck};

/// The headers a forwarded record carries.
pub const SOURCE: &str = "featc-source";
pub const TOPIC: &str = "featc-topic";
pub const PARTITION: &str = "featc-partition";
pub const OFFSET: &str = "featc-offset";

/// A forwarded record: where it was first read (from its headers) and its value.
#[derive(Debug, Clone, Copy)]
pub struct Forwarded<'m> {
    pub source: &'m str,
    pub topic: &'m str,
    pub partition: i32,
    pub offset: i64,
    pub payload: Option<&'m [u8]>,
}

/// A message of the internal partition: its offset there, and the forwarded record
/// it holds (`None`: one without featc's headers).
#[derive(Debug, Clone, Copy)]
pub struct Received<'m> {
    pub offset: i64,
    pub record: Option<Forwarded<'m>>,
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
        payload: message.payload(),
    })
}

/// What one round read: parts, and the positions they move to.
pub struct ForwardedRead {
    pub parts: Vec<Part>,
    pub positions: BTreeMap<(String, i32), i64>,
    /// Offsets of the internal partition the round found missing (a record after
    /// them came first): the round stops before them, and they are read again.
    pub hole: Option<Hole>,
}

/// A hole in an internal partition as read: `missing` was due, `next` came first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hole {
    pub missing: i64,
    pub next: i64,
}

/// What to do about a hole (`Rereads::after`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reread {
    /// Read the partition again from this offset; `first` when the hole is new.
    From { offset: i64, first: bool },
    /// The hole came back `REREADS` times: the broker holds no records there (a
    /// partition someone compacted, say); read on from its end, `Hole::next`.
    Skip,
}

/// How many times one hole is read again before it is taken for a real one.
pub const REREADS: u32 = 16;

/// Where to read an internal partition again after a hole (see the module docs):
/// at the hole itself first (the batch was not stored yet), then further back each
/// time the same hole comes again (a broker that serves a batch only from its first
/// offset: 1, 3, 7... records back, so a batch of `n` takes about log2(n) reads). The
/// records read again before the hole are dropped by position. A hole that comes
/// back `REREADS` times is skipped, loudly (the consumer waits longer before each
/// read, so that is seconds, not a burst of fetches).
#[derive(Debug, Default)]
pub struct Rereads {
    /// The hole last met, and how many times in a row before this one.
    last: Option<(i64, u32)>,
}

impl Rereads {
    /// What to do about `hole`, never reading below `low`, the partition's first
    /// offset.
    pub fn after(&mut self, hole: Hole, low: i64) -> Reread {
        let tries = match self.last {
            Some((at, tries)) if at == hole.missing => tries + 1,
            _ => 0,
        };
        if tries >= REREADS {
            self.last = None;
            return Reread::Skip;
        }
        self.last = Some((hole.missing, tries));
        let back = (1i64 << tries) - 1;
        Reread::From {
            offset: hole.missing.saturating_sub(back).max(low),
            first: tries == 0,
        }
    }

    /// How many times the hole being read again came back (0 for none).
    pub fn tries(&self) -> u32 {
        self.last.map_or(0, |(_, tries)| tries)
    }

    /// The partition was read past the last hole.
    pub fn clear(&mut self) {
        self.last = None;
    }
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
    let received: Vec<Received<'_>> = messages
        .iter()
        .map(|m| Received {
            offset: m.offset(),
            record: forwarded(m),
        })
        .collect();
    make_round(check, (topic, partition), &received, applied)
}

/// The round of the messages `received`, in the order the partition gave them: the
/// pure part of `read_round`, apart so that it can be tested without a broker.
/// Messages before the internal partition's position in `applied` were read
/// before and are passed over; the round stops at a hole after it (`hole`).
pub fn make_round(
    check: &PushCheck,
    (topic, partition): (&str, i32),
    received: &[Received<'_>],
    applied: &BTreeMap<(String, i32), i64>,
) -> ForwardedRead {
    let mut positions = BTreeMap::new();
    // The next offset due (unknown before the first read of a partition whose start
    // was not found: its first message is then the start).
    let mut due = applied.get(&(topic.to_string(), partition)).copied();
    let mut hole = None;
    let mut taken = Vec::new();
    for message in received {
        match due {
            Some(next) if message.offset < next => continue,
            Some(missing) if message.offset > missing => {
                hole = Some(Hole {
                    missing,
                    next: message.offset,
                });
                break;
            }
            _ => {}
        }
        due = Some(message.offset + 1);
        taken.push(message.record);
    }
    let Some(last) = due.filter(|_| !taken.is_empty()).map(|next| next - 1) else {
        return ForwardedRead {
            parts: Vec::new(),
            positions,
            hole,
        };
    };
    // One decoder per source partition, in order of first appearance.
    let mut decoders: Vec<Decoder<'_>> = Vec::new();
    let mut index: HashMap<(&str, i32), usize> = HashMap::new();
    let mut unreadable = 0u64;
    // Each source partition's next offset so far, this round's records included: a
    // copy may arrive in the same round as its original.
    let mut next: HashMap<(&str, i32), i64> = HashMap::new();
    for record in &taken {
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
                // Group mode reads JSON records only (`serve::join_group`).
                decoders.push(Decoder::new(entry, &JSON, at.topic, at.partition));
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
    ForwardedRead {
        parts,
        positions,
        hole,
    }
}

#[cfg(test)]
mod tests {
    use super::{Hole, Reread, Rereads, REREADS};

    fn from(offset: i64, first: bool) -> Reread {
        Reread::From { offset, first }
    }

    /// A hole is read again from itself first, then further back each time it comes
    /// again (never below the partition's first offset), and is skipped after
    /// `REREADS` reads; a new hole starts over.
    #[test]
    fn a_hole_that_comes_again_is_read_from_further_back_then_skipped() {
        let hole = Hole {
            missing: 100,
            next: 104,
        };
        let mut rereads = Rereads::default();
        assert_eq!(rereads.after(hole, 90), from(100, true));
        assert_eq!(rereads.after(hole, 90), from(99, false));
        assert_eq!(rereads.after(hole, 90), from(97, false));
        assert_eq!(rereads.after(hole, 90), from(93, false));
        assert_eq!(rereads.after(hole, 90), from(90, false));
        for _ in 5..REREADS {
            assert_eq!(rereads.after(hole, 90), from(90, false));
        }
        assert_eq!(rereads.after(hole, 90), Reread::Skip);
        assert_eq!(rereads.after(hole, 90), from(100, true));
        let other = Hole {
            missing: 140,
            next: 141,
        };
        assert_eq!(rereads.after(other, 90), from(140, true));
        rereads.clear();
        assert_eq!(rereads.after(other, 90), from(140, true));
        assert_eq!(rereads.tries(), 0);
        assert_eq!(rereads.after(other, 90), from(139, false));
        assert_eq!(rereads.tries(), 1);
    }
}
