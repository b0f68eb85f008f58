//! The dead-letter store: every event the state kept out, of every kind (late under
//! `--late dead-letter`, past `--max-future`, a Kafka record that did not decode or
//! that the check refused), in one place, bounded, counted and listed.
//!
//! - **Bounded**: the letters kept take at most `DeadLetterLimits::max_bytes` (each
//!   counted as its JSON size plus `OVERHEAD`); past it the oldest are dropped
//!   (`evicted`), and a letter larger than the whole bound is counted, never kept.
//! - **Counted**: by (source, reason), all of them over the state's life with their
//!   bytes, kept or not, and how many of each are kept now.
//! - **Durable**: a checkpoint saves the store; the letters of the log records after
//!   it come back when a restart re-applies them (late rows are late again, a round's
//!   letters are logged with it), so the counts are exact across restarts. A letter
//!   re-made by a restart counts its retention from the restart.
//! - **Retention**: the checkpoint after a letter's retention ends drops it
//!   (`expired`) before saving the store.
//!
//! Filled by the ledger (and recovery) in the writer's step that keeps the events
//! out; read by any thread (`list`), under one short lock: a listing copies at most
//! `MAX_LISTED` letters and looks at most at `MAX_SCANNED`.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{json, Value as Json};

use crate::config::DeadLetterLimits;
use crate::durable::{DeadLetter, DeadReason, Kept, SavedDeadLetters, Tally};
use crate::wire::time::format_time;

/// Bytes counted for a letter besides its JSON (its place in the store, its counts).
pub const OVERHEAD: u64 = 64;

/// The most letters one listing returns.
pub const MAX_LISTED: usize = 1_000;

/// The most letters one listing looks at (a filter that matches few letters answers
/// with a cursor to go on from, rather than scanning the whole store).
pub const MAX_SCANNED: usize = 100_000;

/// The counts of one (source, reason).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Count {
    /// Over the state's life, kept or not.
    pub total: u64,
    pub bytes: u64,
    /// Kept now (listable).
    pub kept: u64,
    pub kept_bytes: u64,
}

/// Which letters a listing asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub source: Option<String>,
    pub reason: Option<DeadReason>,
    /// Only letters from this transport (the key of their origin: `push`, `kafka`).
    pub origin: Option<String>,
    /// Only letters with a greater `seq` (a cursor from an earlier listing).
    pub after: Option<u64>,
    /// At most this many (capped at `MAX_LISTED`).
    pub limit: usize,
}

/// A listing: the letters asked for, oldest first, and where to go on from.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub letters: Vec<Kept>,
    /// The `after` of the next listing when this one stopped early (the limit, or
    /// `MAX_SCANNED`); `None` when nothing kept now is left to list.
    pub next: Option<u64>,
}

/// The store's counts at one moment (for `/metrics`, taken under the lock, shown
/// after it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub counts: Vec<(String, DeadReason, Count)>,
    /// Letters kept now, and their bytes.
    pub kept: (u64, u64),
    /// Letters dropped past the bound, and after their retention.
    pub dropped: (u64, u64),
}

/// The store (see the module docs).
#[derive(Debug, Default)]
pub struct DeadLetterStore {
    limits: DeadLetterLimits,
    kept: VecDeque<Kept>,
    kept_bytes: u64,
    counts: BTreeMap<(String, DeadReason), Count>,
    next_seq: u64,
    evicted: u64,
    expired: u64,
}

impl DeadLetterStore {
    pub fn new(limits: DeadLetterLimits) -> DeadLetterStore {
        DeadLetterStore {
            limits,
            ..DeadLetterStore::default()
        }
    }

    /// The store a checkpoint saved, under today's limits (a smaller bound drops the
    /// oldest at once).
    pub fn restore(saved: SavedDeadLetters, limits: DeadLetterLimits) -> DeadLetterStore {
        let mut store = DeadLetterStore::new(limits);
        store.next_seq = saved.next_seq;
        store.evicted = saved.evicted;
        store.expired = saved.expired;
        for (source, reason, tally) in saved.tallies {
            let count = store.counts.entry((source, reason)).or_default();
            count.total = tally.total;
            count.bytes = tally.bytes;
        }
        for kept in saved.kept {
            store.keep(kept);
        }
        store.evict();
        store
    }

    /// What a checkpoint saves.
    pub fn save(&self) -> SavedDeadLetters {
        SavedDeadLetters {
            next_seq: self.next_seq,
            kept: self.kept.iter().cloned().collect(),
            tallies: self
                .counts
                .iter()
                .map(|((source, reason), c)| {
                    let tally = Tally {
                        total: c.total,
                        bytes: c.bytes,
                    };
                    (source.clone(), *reason, tally)
                })
                .collect(),
            evicted: self.evicted,
            expired: self.expired,
        }
    }

    /// Counts and keeps `letters`, kept at `now_us`, dropping the oldest past the
    /// bound.
    pub fn add(&mut self, letters: impl IntoIterator<Item = DeadLetter>, now_us: i64) {
        for letter in letters {
            let bytes = serde_json::to_vec(&letter).map_or(0, |j| j.len() as u64) + OVERHEAD;
            let count = self
                .counts
                .entry((letter.source.clone(), letter.reason))
                .or_default();
            count.total += 1;
            count.bytes += bytes;
            let seq = self.next_seq;
            self.next_seq += 1;
            if bytes > self.limits.max_bytes {
                self.evicted += 1;
                continue;
            }
            self.keep(Kept {
                seq,
                kept_at_us: now_us,
                bytes,
                letter,
            });
        }
        self.evict();
    }

    /// Drops the letters kept before `now_us` minus the retention; returns how many.
    pub fn expire(&mut self, now_us: i64) -> u64 {
        let retention = i64::try_from(self.limits.retention.as_micros()).unwrap_or(i64::MAX);
        let before = now_us.saturating_sub(retention);
        let mut dropped = 0;
        while self.kept.front().is_some_and(|k| k.kept_at_us < before) {
            self.drop_oldest();
            dropped += 1;
        }
        self.expired += dropped;
        dropped
    }

    /// The letters `filter` asks for (see `Listing`).
    pub fn list(&self, filter: &Filter) -> Listing {
        let limit = filter.limit.min(MAX_LISTED);
        let start = match filter.after {
            Some(after) => self.kept.partition_point(|k| k.seq <= after),
            None => 0,
        };
        let mut letters = Vec::new();
        let mut last = None;
        for (scanned, kept) in self.kept.range(start..).enumerate() {
            if letters.len() == limit || scanned == MAX_SCANNED {
                return Listing {
                    letters,
                    next: last,
                };
            }
            last = Some(kept.seq);
            let wanted = filter
                .source
                .as_ref()
                .is_none_or(|s| *s == kept.letter.source)
                && filter.reason.is_none_or(|r| r == kept.letter.reason)
                && filter
                    .origin
                    .as_ref()
                    .is_none_or(|o| kept.letter.origin.get(o).is_some());
            if wanted {
                letters.push(kept.clone());
            }
        }
        Listing {
            letters,
            next: None,
        }
    }

    /// The counts, now.
    pub fn totals(&self) -> Totals {
        Totals {
            counts: self
                .counts
                .iter()
                .map(|((source, reason), c)| (source.clone(), *reason, *c))
                .collect(),
            kept: self.kept(),
            dropped: self.dropped(),
        }
    }

    /// The letters `filter` asks for and the store's counts and bounds, as JSON (the
    /// answer of `GET /dead-letters`, and of the embedded store's listing):
    /// `{"letters": [{"seq", "kept_at", "source", "reason", "detail", "origin",
    /// "event"}], "next", "kept", "kept_bytes", "max_bytes", "retention_seconds",
    /// "evicted", "expired", "counts": [{"source", "reason", "total", "bytes", "kept",
    /// "kept_bytes"}]}`.
    pub fn listing_json(&self, filter: &Filter) -> Json {
        let listing = self.list(filter);
        let counts: Vec<Json> = self
            .counts
            .iter()
            .map(|((source, reason), c)| {
                json!({
                    "source": source,
                    "reason": reason.name(),
                    "total": c.total,
                    "bytes": c.bytes,
                    "kept": c.kept,
                    "kept_bytes": c.kept_bytes,
                })
            })
            .collect();
        let letters: Vec<Json> = listing
            .letters
            .iter()
            .map(|k| {
                json!({
                    "seq": k.seq,
                    "kept_at": format_time(k.kept_at_us),
                    "source": k.letter.source,
                    "reason": k.letter.reason.name(),
                    "detail": k.letter.detail,
                    "origin": k.letter.origin,
                    "event": k.letter.event,
                })
            })
            .collect();
        json!({
            "letters": letters,
            "next": listing.next,
            "kept": self.kept.len(),
            "kept_bytes": self.kept_bytes,
            "max_bytes": self.limits.max_bytes,
            "retention_seconds": self.limits.retention.as_secs(),
            "evicted": self.evicted,
            "expired": self.expired,
            "counts": counts,
        })
    }

    /// The counts by (source, reason).
    pub fn counts(&self) -> &BTreeMap<(String, DeadReason), Count> {
        &self.counts
    }

    /// Letters kept now, and their bytes.
    pub fn kept(&self) -> (u64, u64) {
        (self.kept.len() as u64, self.kept_bytes)
    }

    /// Letters dropped to stay within the bound, and after their retention.
    pub fn dropped(&self) -> (u64, u64) {
        (self.evicted, self.expired)
    }

    fn keep(&mut self, kept: Kept) {
        let count = self
            .counts
            .entry((kept.letter.source.clone(), kept.letter.reason))
            .or_default();
        count.kept += 1;
        count.kept_bytes += kept.bytes;
        self.kept_bytes += kept.bytes;
        self.kept.push_back(kept);
    }

    fn evict(&mut self) {
        while self.kept_bytes > self.limits.max_bytes {
            self.drop_oldest();
            self.evicted += 1;
        }
    }

    fn drop_oldest(&mut self) {
        let Some(old) = self.kept.pop_front() else {
            return;
        };
        self.kept_bytes -= old.bytes;
        if let Some(c) = self.counts.get_mut(&(old.letter.source, old.letter.reason)) {
            c.kept -= 1;
            c.kept_bytes -= old.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn letter(source: &str, reason: DeadReason, n: i64) -> DeadLetter {
        DeadLetter {
            source: source.into(),
            reason,
            detail: format!("letter {n}"),
            origin: serde_json::json!({"push": {}}),
            event: serde_json::json!({"n": n}),
        }
    }

    fn sizes(store: &DeadLetterStore) -> u64 {
        store.kept.front().map_or(0, |k| k.bytes)
    }

    #[test]
    fn past_the_bound_the_oldest_go_and_every_letter_is_counted() {
        let mut one = DeadLetterStore::new(DeadLetterLimits::default());
        one.add([letter("a", DeadReason::Late, 0)], 0);
        let size = sizes(&one);
        let limits = DeadLetterLimits {
            max_bytes: size * 3,
            ..DeadLetterLimits::default()
        };
        let mut store = DeadLetterStore::new(limits);
        store.add((0..5).map(|n| letter("a", DeadReason::Late, n)), 10);
        store.add([letter("b", DeadReason::Late, 5)], 11);
        assert_eq!(store.kept(), (3, size * 3));
        assert_eq!(store.dropped(), (3, 0));
        let a = store.counts()[&("a".to_string(), DeadReason::Late)];
        assert_eq!((a.total, a.kept, a.bytes), (5, 2, size * 5));
        let listed = store.list(&Filter {
            limit: 10,
            ..Filter::default()
        });
        let seqs: Vec<u64> = listed.letters.iter().map(|k| k.seq).collect();
        assert_eq!(seqs, vec![3, 4, 5], "the newest, oldest first");
        assert_eq!(listed.next, None);
        // A letter larger than the whole bound is counted, never kept.
        let mut big = letter("a", DeadReason::Invalid, 9);
        big.detail = "x".repeat(size as usize * 4);
        store.add([big], 12);
        assert_eq!(store.kept().0, 3);
        assert_eq!(store.dropped().0, 4);
        assert_eq!(
            store.counts()[&("a".to_string(), DeadReason::Invalid)].total,
            1
        );
    }

    #[test]
    fn listings_filter_and_go_on_from_a_cursor() {
        let mut store = DeadLetterStore::new(DeadLetterLimits::default());
        for n in 0..10 {
            let reason = if n % 2 == 0 {
                DeadReason::Late
            } else {
                DeadReason::Invalid
            };
            store.add([letter(if n < 5 { "a" } else { "b" }, reason, n)], n);
        }
        let first = store.list(&Filter {
            reason: Some(DeadReason::Late),
            limit: 2,
            ..Filter::default()
        });
        let seqs = |l: &Listing| l.letters.iter().map(|k| k.seq).collect::<Vec<_>>();
        assert_eq!(seqs(&first), vec![0, 2]);
        let rest = store.list(&Filter {
            reason: Some(DeadReason::Late),
            after: first.next,
            limit: 10,
            ..Filter::default()
        });
        assert_eq!(seqs(&rest), vec![4, 6, 8]);
        assert_eq!(rest.next, None);
        let b = store.list(&Filter {
            source: Some("b".into()),
            limit: MAX_LISTED * 10,
            ..Filter::default()
        });
        assert_eq!(seqs(&b), vec![5, 6, 7, 8, 9]);
    }

    #[test]
    fn retention_drops_the_letters_kept_before_it() {
        let limits = DeadLetterLimits {
            retention: Duration::from_secs(10),
            ..DeadLetterLimits::default()
        };
        let mut store = DeadLetterStore::new(limits);
        store.add([letter("a", DeadReason::Late, 0)], 0);
        store.add([letter("a", DeadReason::Late, 1)], 5_000_000);
        assert_eq!(
            store.expire(10_000_000),
            0,
            "exactly at the retention: kept"
        );
        assert_eq!(store.expire(10_000_001), 1);
        assert_eq!(store.kept().0, 1);
        assert_eq!(store.dropped(), (0, 1));
        let count = store.counts()[&("a".to_string(), DeadReason::Late)];
        assert_eq!((count.total, count.kept), (2, 1), "counted still");
    }

    #[test]
    fn a_saved_store_comes_back_the_same() {
        let mut store = DeadLetterStore::new(DeadLetterLimits::default());
        store.add((0..4).map(|n| letter("a", DeadReason::Future, n)), 7);
        store.expire(i64::MAX);
        store.add([letter("b", DeadReason::Late, 9)], 8);
        let saved = store.save();
        let back = DeadLetterStore::restore(saved.clone(), DeadLetterLimits::default());
        assert_eq!(back.save(), saved);
        assert_eq!(back.counts(), store.counts());
        assert_eq!(back.kept(), store.kept());
        // Under a smaller bound, the oldest go at once.
        let limits = DeadLetterLimits {
            max_bytes: 1,
            ..DeadLetterLimits::default()
        };
        let small = DeadLetterStore::restore(saved, limits);
        assert_eq!(small.kept(), (0, 0));
        assert_eq!(small.dropped(), (1, 4));
    }
}
