//! What an audit found: every audited cell counted as equal, explained (by a cause
//! the audit computed) or unexplained, per feature and in all; the share of reads
//! that were exact; the keys with the most differences; and the unexplained cells
//! themselves, with every value. Printed as text or JSON.

use std::collections::{BTreeMap, HashMap};

use datafusion::common::ScalarValue;
use serde::Serialize;

use super::staleness::{Lags, Staleness};
use super::timeline::{Bucket, Timeline, Verdict};

/// Why a served value differs from the training value, when the audit can show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The feature's meaning when it was served (the served log's `featc.meanings`)
    /// is not today's, or the project no longer defines it.
    DefinitionChanged,
    /// The read was answered while events of the feature's view waited for their
    /// as-of lookups to settle: recomputed without them, the value is the served one.
    HeldForLookup,
    /// The server kept an event of the history out of its state (late, ahead of
    /// the wall clock, or invalid: its dead letters): recomputed without those, the
    /// value is the served one.
    DeadLettered,
    /// Events the server acknowledged only after the read, though they happened at or
    /// before its time: recomputed from what it had applied at the read (its
    /// archive, cut at the read's `applied_seq`), the value is the served one.
    ArrivedAfterRead,
    /// As `ArrivedAfterRead`, for a read under `--clock wall` past its sources'
    /// watermark: events within their allowed lateness were still to come.
    ReadAheadOfWatermark,
    /// The training history is not what the server acknowledged: recomputed from
    /// every event the server acknowledged, the value is the served one (an event it
    /// refused or never received, a push whose client got an error).
    NotAcknowledged,
}

impl Cause {
    /// Every cause, in the order reports list them.
    pub const ALL: [Cause; 6] = [
        Cause::DefinitionChanged,
        Cause::HeldForLookup,
        Cause::DeadLettered,
        Cause::ArrivedAfterRead,
        Cause::ReadAheadOfWatermark,
        Cause::NotAcknowledged,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Cause::DefinitionChanged => "definition_changed",
            Cause::HeldForLookup => "held_for_lookup",
            Cause::DeadLettered => "dead_lettered",
            Cause::ArrivedAfterRead => "arrived_after_read",
            Cause::ReadAheadOfWatermark => "read_ahead_of_watermark",
            Cause::NotAcknowledged => "not_acknowledged",
        }
    }

    /// What the cause means, for the text report.
    pub fn says(self) -> &'static str {
        match self {
            Cause::DefinitionChanged => {
                "the feature's definition changed since it was served (`featc diff` says how)"
            }
            Cause::HeldForLookup => {
                "the read came while events of the feature's view waited for their as-of lookups to settle, and did not count them (semantics.md, \"As-of lookups online: events wait\")"
            }
            Cause::DeadLettered => {
                "the server kept events of the history out of its state (late, too far ahead of the wall clock, or invalid: its dead letters), and training counts them"
            }
            Cause::ArrivedAfterRead => {
                "events at or before the read time reached the server only after the read; from what it had applied at the read, the value is the served one"
            }
            Cause::ReadAheadOfWatermark => {
                "a read under `--clock wall` past its sources' watermark: events within their allowed lateness came after it; from what the server had applied at the read, the value is the served one"
            }
            Cause::NotAcknowledged => {
                "the training history holds events the server never acknowledged (a push refused or not retried, a record never consumed), or lacks ones it did; from every event it acknowledged, the value is the served one"
            }
        }
    }
}

/// Cells by verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub equal: u64,
    pub explained: BTreeMap<Cause, u64>,
    pub unexplained: u64,
}

impl Counts {
    pub fn explained_total(&self) -> u64 {
        self.explained.values().sum()
    }

    pub fn total(&self) -> u64 {
        self.equal + self.explained_total() + self.unexplained
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureCounts {
    pub feature: String,
    #[serde(flatten)]
    pub counts: Counts,
}

/// An unexplained cell, with every value the audit knows of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub feature: String,
    pub read_time: String,
    #[serde(skip)]
    pub read_time_us: i64,
    /// When it was answered, by the wall clock (logs that record it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served_at: Option<String>,
    /// The read's keys and request fields (the spine's columns), by column.
    pub keys: BTreeMap<String, String>,
    pub served: String,
    pub status: String,
    /// What `training-set` computes for the same key at the same time.
    pub computed: String,
    /// The latest events of the key at or before the read time, per source of the
    /// views the feature reads (`window::EVENTS_PER_VIEW` each), as `source {column=value, ...}`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// The read's entity keys, typed (to find its events).
    #[serde(skip)]
    pub typed_keys: Vec<(String, ScalarValue)>,
}

/// A key with differences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyCounts {
    pub key: String,
    pub unexplained: u64,
    pub explained: u64,
}

/// Unexplained cells listed in full at most.
pub const MAX_FINDINGS: usize = 50;
/// Keys with differences counted apart at most (the rest are counted together).
const MAX_KEYS: usize = 100_000;
/// Keys the report lists.
const WORST_KEYS: usize = 10;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Complete files of the served log read.
    pub files: usize,
    /// Reads the log holds (one row per answered vector).
    pub logged_reads: u64,
    /// Every `sample_every`-th logged read was audited (1: all).
    pub sample_every: u64,
    pub audited_reads: u64,
    /// Audited reads whose every asked cell was equal.
    pub exact_reads: u64,
    pub cells: Counts,
    pub features: Vec<FeatureCounts>,
    pub worst_keys: Vec<KeyCounts>,
    /// Keys with differences beyond those counted apart (`MAX_KEYS`).
    #[serde(skip_serializing_if = "is_zero")]
    pub other_keys: u64,
    /// The first unexplained cells (`MAX_FINDINGS`; `cells.unexplained` counts all).
    pub unexplained: Vec<Finding>,
    /// The cells by the reads' times.
    pub timeline: Vec<Bucket>,
    /// How far the served values lagged the events that existed at their reads
    /// (with `--state`, where the server archived what it acknowledged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staleness: Option<Staleness>,
    /// What the audit could not check, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip)]
    pub(super) lags: Lags,
    #[serde(skip)]
    keys: HashMap<String, (u64, u64)>,
    #[serde(skip)]
    by_time: Timeline,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Report {
    pub fn new(files: usize, logged_reads: u64, sample_every: u64) -> Report {
        Report {
            files,
            logged_reads,
            sample_every,
            ..Report::default()
        }
    }

    /// No cell is unexplained (the audit's exit status).
    pub fn passed(&self) -> bool {
        self.cells.unexplained == 0
    }

    fn counts(&mut self, feature: &str) -> &mut Counts {
        let at = match self.features.iter().position(|f| f.feature == feature) {
            Some(at) => at,
            None => {
                self.features.push(FeatureCounts {
                    feature: feature.to_string(),
                    counts: Counts::default(),
                });
                self.features.len() - 1
            }
        };
        &mut self.features[at].counts
    }

    /// Counts an equal cell of `feature`, read at `at`.
    pub fn equal(&mut self, feature: &str, at: i64) {
        self.cells.equal += 1;
        self.counts(feature).equal += 1;
        self.by_time.count(at, Verdict::Equal);
    }

    pub fn explained(
        &mut self,
        feature: &str,
        at: i64,
        cause: Cause,
        key: impl FnOnce() -> String,
    ) {
        *self.cells.explained.entry(cause).or_default() += 1;
        *self.counts(feature).explained.entry(cause).or_default() += 1;
        self.by_time.count(at, Verdict::Explained(cause));
        self.key(key(), false);
    }

    /// Counts an unexplained cell; `finding` is made only while the report still
    /// lists cells in full.
    pub fn unexplained(
        &mut self,
        feature: &str,
        at: i64,
        key: String,
        finding: impl FnOnce() -> Finding,
    ) {
        self.cells.unexplained += 1;
        self.counts(feature).unexplained += 1;
        self.by_time.count(at, Verdict::Unexplained);
        self.key(key, true);
        if self.unexplained.len() < MAX_FINDINGS {
            self.unexplained.push(finding());
        }
    }

    fn key(&mut self, key: String, unexplained: bool) {
        let known = self.keys.len() < MAX_KEYS || self.keys.contains_key(&key);
        if !known {
            self.other_keys += 1;
            return;
        }
        let counts = self.keys.entry(key).or_default();
        match unexplained {
            true => counts.0 += 1,
            false => counts.1 += 1,
        }
    }

    /// Lists the worst keys: most unexplained cells, then most explained, then by key.
    pub fn finish(&mut self) {
        let mut keys: Vec<KeyCounts> = self
            .keys
            .drain()
            .map(|(key, (unexplained, explained))| KeyCounts {
                key,
                unexplained,
                explained,
            })
            .collect();
        keys.sort_by(|a, b| {
            (b.unexplained, b.explained)
                .cmp(&(a.unexplained, a.explained))
                .then_with(|| a.key.cmp(&b.key))
        });
        keys.truncate(WORST_KEYS);
        self.worst_keys = keys;
        self.timeline = self.by_time.buckets();
        self.staleness = self.lags.summary();
    }

    pub fn json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let sampled = match self.sample_every {
            0 | 1 => format!("every read of {}", self.logged_reads),
            n => format!("one read in {n} of {}", self.logged_reads),
        };
        out.push_str(&format!(
            "featc audit: {} reads audited ({sampled} logged, {} files)\n",
            self.audited_reads, self.files
        ));
        out.push_str(&format!(
            "  exact reads: {} of {} ({})\n",
            self.exact_reads,
            self.audited_reads,
            percent(self.exact_reads, self.audited_reads)
        ));
        out.push_str(&format!(
            "  cells: {} equal, {} explained, {} unexplained\n",
            self.cells.equal,
            self.cells.explained_total(),
            self.cells.unexplained
        ));
        if !self.features.is_empty() {
            let width = self
                .features
                .iter()
                .map(|f| f.feature.len())
                .max()
                .unwrap_or(0)
                .max("feature".len());
            out.push_str(&format!(
                "\n  {:<width$}  {:>10}  {:>10}  {:>11}\n",
                "feature", "equal", "explained", "unexplained"
            ));
            for f in &self.features {
                out.push_str(&format!(
                    "  {:<width$}  {:>10}  {:>10}  {:>11}\n",
                    f.feature,
                    f.counts.equal,
                    f.counts.explained_total(),
                    f.counts.unexplained
                ));
            }
        }
        if let Some(s) = &self.staleness {
            out.push_str(&format!(
                "  staleness: {} of {} reads missed events that existed at their read time; p50 {}, p99 {}, max {}\n",
                s.stale_reads,
                s.reads,
                duration(s.p50_us),
                duration(s.p99_us),
                duration(s.max_us)
            ));
        }
        if !self.cells.explained.is_empty() {
            out.push_str("\nexplained:\n");
            for (cause, n) in &self.cells.explained {
                out.push_str(&format!("  {} {n}: {}\n", cause.name(), cause.says()));
            }
        }
        if !self.unexplained.is_empty() {
            out.push_str(&format!(
                "\nunexplained cells ({} of {} shown):\n",
                self.unexplained.len(),
                self.cells.unexplained
            ));
            for f in &self.unexplained {
                let keys: Vec<String> = f.keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
                out.push_str(&format!(
                    "  {} at {} ({}): served {} ({}), training computes {}\n",
                    f.feature,
                    f.read_time,
                    keys.join(", "),
                    f.served,
                    f.status,
                    f.computed
                ));
                if !f.events.is_empty() {
                    out.push_str("    latest events of the key at or before the read:\n");
                    for e in &f.events {
                        out.push_str(&format!("      {e}\n"));
                    }
                }
            }
        }
        for note in &self.notes {
            out.push_str(&format!("\nnote: {note}\n"));
        }
        if !self.worst_keys.is_empty() {
            out.push_str("\nkeys with the most differences:\n");
            for k in &self.worst_keys {
                out.push_str(&format!(
                    "  {}: {} unexplained, {} explained\n",
                    k.key, k.unexplained, k.explained
                ));
            }
        }
        out
    }
}

/// Microseconds as `1.25s`, `340ms`, `12µs`.
fn duration(us: i64) -> String {
    match us {
        0 => "0".to_string(),
        us if us >= 1_000_000 => format!("{:.2}s", us as f64 / 1e6),
        us if us >= 1_000 => format!("{:.1}ms", us as f64 / 1e3),
        us => format!("{us}µs"),
    }
}

fn percent(part: u64, whole: u64) -> String {
    match whole {
        0 => "-".to_string(),
        _ => format!("{:.2}%", part as f64 * 100.0 / whole as f64),
    }
}
