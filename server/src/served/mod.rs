//! What reads served: each feature's fill counts over the answered vectors (for
//! `/metrics`), and the handoff of the vectors to the served log's writer (`log`,
//! `--log-served`) over a bounded channel. Every read of the state (JSON, Arrow,
//! embedded) records here, from `state::read` (below the transport). The read
//! never waits for the log: when the channel is full the vectors are dropped and
//! counted (`featc_served_log_dropped_vectors_total`), never silently.

pub mod log;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Mutex;

use featc_runtime::ir::DataType;
use featc_runtime::stream::{FeatureVector, Status};
use featc_runtime::value::Value;

use crate::names::Names;
use crate::wire::time::now_us;

/// Messages (each one read's vectors) the channel to the log writer holds.
pub const CHANNEL_READS: usize = 1024;

/// One answered vector, as the log stores it.
#[derive(Debug, Clone)]
pub struct ServedRow {
    /// The read time (µs since the epoch, UTC).
    pub at: i64,
    /// When the read was answered by the wall clock (µs since the epoch): under
    /// `--clock events` the read time says nothing of it.
    pub served_at: i64,
    /// One per `LogLayout::keys`; null when the read did not need that key.
    pub keys: Vec<Value>,
    /// One per `LogLayout::fields`; null when the read did not give that field.
    pub request: Vec<Value>,
    /// One per `LogLayout::held`: the time from which that view's events waited
    /// for their as-of lookups when the read was answered (`None`: none waited).
    pub held_from: Vec<Option<i64>>,
    /// How far into its log the state was (`state::LogProgress`), when durable.
    pub applied_seq: Option<u64>,
    pub applying_seq: Option<u64>,
    /// One per `LogLayout::sources`: its watermark at the read.
    pub watermarks: Vec<Option<i64>>,
    /// One per feature of the names: its value and Feast's status name, `None` when
    /// the read did not ask for it.
    pub features: Vec<Option<(Value, &'static str)>>,
}

/// A key column of the log: its name, type, and the (entity, key position) pairs of
/// the names that fill it.
pub type KeyColumn = (String, DataType, Vec<(usize, usize)>);

/// The log's columns besides the read times: the entity key columns (by name, a name
/// shared by two entities once), the request fields derived features read (by field
/// name, each once: what a training set's spine carries for them) and the features.
#[derive(Debug, Clone)]
pub struct LogLayout {
    pub keys: Vec<KeyColumn>,
    pub fields: Vec<(String, DataType)>,
    /// The views whose events can wait for their as-of lookups
    /// (`StreamReader::holding_views`): what a read did not count.
    pub held: Vec<String>,
    /// The sources, whose watermarks each read logs.
    pub sources: Vec<String>,
    /// (feature name, type), indexed like the names' features.
    pub features: Vec<(String, DataType)>,
}

impl LogLayout {
    pub fn of(names: &Names, held: Vec<String>) -> LogLayout {
        let mut keys: Vec<KeyColumn> = Vec::new();
        for (e, entity) in names.entities.iter().enumerate() {
            for (k, (name, ty)) in entity.keys.iter().enumerate() {
                match keys.iter_mut().find(|(n, _, _)| n == name) {
                    Some((_, _, fills)) => fills.push((e, k)),
                    None => keys.push((name.clone(), *ty, vec![(e, k)])),
                }
            }
        }
        let mut fields: Vec<(String, DataType)> = Vec::new();
        for r in names.features.iter().flat_map(|f| &f.request) {
            if !fields.iter().any(|(n, _)| *n == r.field) {
                fields.push((r.field.clone(), r.ty));
            }
        }
        let features = names
            .features
            .iter()
            .map(|f| (f.name.clone(), f.ty))
            .collect();
        LogLayout {
            keys,
            fields,
            held,
            sources: names.sources.iter().map(|s| s.name.clone()).collect(),
            features,
        }
    }

    /// For each request field column, its position among a read's fields (`fields`,
    /// by name), if the read has it. Worked out once per read.
    pub fn field_sources(&self, fields: &[(String, DataType)]) -> Vec<Option<usize>> {
        self.fields
            .iter()
            .map(|(name, _)| fields.iter().position(|(n, _)| n == name))
            .collect()
    }

    /// For each key column, where a read's keys hold it: the (position in
    /// `entities`, key position) of the first entity filling it that the read has.
    /// Worked out once per read.
    pub fn key_sources(&self, entities: &[usize]) -> Vec<Option<(usize, usize)>> {
        self.keys
            .iter()
            .map(|(_, _, fills)| {
                fills.iter().find_map(|&(e, k)| {
                    let slot = entities.iter().position(|&x| x == e)?;
                    Some((slot, k))
                })
            })
            .collect()
    }

    /// The row of one answered vector of the read `read`: `vector.features[i]` is the
    /// value of feature `features[i]`; `keys[slot]` the key of the read's entity in
    /// that position (`read.keys` says which fills which column), and `request[j]`
    /// the read's field `j` (`read.fields`).
    pub fn row(
        &self,
        features: &[usize],
        read: &RowSources,
        keys: &[Vec<Value>],
        request: &[(&str, Value)],
        vector: &FeatureVector,
    ) -> ServedRow {
        let key_sources = &read.keys;
        let key_values = key_sources
            .iter()
            .map(|source| {
                source
                    .and_then(|(slot, k)| keys.get(slot)?.get(k).cloned())
                    .unwrap_or(Value::Null)
            })
            .collect();
        let mut values: Vec<Option<(Value, &'static str)>> = vec![None; self.features.len()];
        for (&f, fv) in features.iter().zip(&vector.features) {
            if let Some(slot) = values.get_mut(f) {
                *slot = Some((fv.value.clone(), status_name(&fv.status)));
            }
        }
        let request = read
            .fields
            .iter()
            .map(|slot| {
                slot.and_then(|j| request.get(j))
                    .map_or(Value::Null, |(_, v)| v.clone())
            })
            .collect();
        ServedRow {
            at: vector.at,
            served_at: read.served_at,
            keys: key_values,
            request,
            held_from: read.held_from.clone(),
            applied_seq: read.applied_seq,
            applying_seq: read.applying_seq,
            watermarks: read.watermarks.clone(),
            features: values,
        }
    }

    /// Where a read's keys and fields fill the log's columns (`key_sources`,
    /// `field_sources`), worked out once per read answered now; `held_from`, the
    /// sequence numbers and the watermarks are the read's to fill, from the state it
    /// reads.
    pub fn sources(&self, entities: &[usize], fields: &[(String, DataType)]) -> RowSources {
        RowSources {
            keys: self.key_sources(entities),
            fields: self.field_sources(fields),
            served_at: now_us(),
            ..RowSources::default()
        }
    }
}

/// What the log's rows of one read share: where its keys and request fields go in
/// the log's columns, when it was answered, and what waited at it.
#[derive(Debug, Clone, Default)]
pub struct RowSources {
    pub keys: Vec<Option<(usize, usize)>>,
    pub fields: Vec<Option<usize>>,
    /// When the read was answered, by the wall clock (µs).
    pub served_at: i64,
    /// One per `LogLayout::held` (`ServedRow::held_from`).
    pub held_from: Vec<Option<i64>>,
    /// `ServedRow::applied_seq`, `applying_seq`, `watermarks`.
    pub applied_seq: Option<u64>,
    pub applying_seq: Option<u64>,
    pub watermarks: Vec<Option<i64>>,
}

/// One read's fill counts, per position of its features: kept by the read itself and
/// added to `Served` once when it ends (no shared counter is touched per cell).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fills {
    pub asked: Vec<u64>,
    pub filled: Vec<u64>,
}

impl Fills {
    pub fn new(features: usize) -> Fills {
        Fills {
            asked: vec![0; features],
            filled: vec![0; features],
        }
    }

    /// Counts one answered vector.
    pub fn count(&mut self, vector: &FeatureVector) {
        for ((asked, filled), value) in self
            .asked
            .iter_mut()
            .zip(self.filled.iter_mut())
            .zip(&vector.features)
        {
            *asked += 1;
            if !value.value.is_null() {
                *filled += 1;
            }
        }
    }
}

/// The counters and the log's channel (see the module docs).
#[derive(Debug)]
pub struct Served {
    /// Per feature of the names: vectors that asked for it, and those where it had a
    /// (non-null) value.
    pub asked: Vec<AtomicU64>,
    pub filled: Vec<AtomicU64>,
    pub logged: AtomicU64,
    pub dropped: AtomicU64,
    /// Rows the writer could not write (an IO error, reported on stderr).
    pub log_errors: AtomicU64,
    /// The columns of the log (fixed by the names, so a read builds its rows
    /// without the channel's lock).
    layout: LogLayout,
    /// Whether `log` holds a sender: reads skip its lock when nothing is logged.
    attached: AtomicBool,
    log: Mutex<Option<SyncSender<Vec<ServedRow>>>>,
}

impl Served {
    /// `held`: the views whose events can wait for their lookups.
    pub fn new(names: &Names, held: Vec<String>) -> Served {
        Served::with_layout(LogLayout::of(names, held))
    }

    fn with_layout(layout: LogLayout) -> Served {
        let features = layout.features.len();
        Served {
            asked: (0..features).map(|_| AtomicU64::new(0)).collect(),
            filled: (0..features).map(|_| AtomicU64::new(0)).collect(),
            logged: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            log_errors: AtomicU64::new(0),
            layout,
            attached: AtomicBool::new(false),
            log: Mutex::new(None),
        }
    }

    /// The log's columns.
    pub fn layout(&self) -> &LogLayout {
        &self.layout
    }

    /// Starts handing vectors to the log writer.
    pub fn attach(&self, sender: SyncSender<Vec<ServedRow>>) {
        *self.log.lock().unwrap_or_else(|p| p.into_inner()) = Some(sender);
        self.attached.store(true, Relaxed);
    }

    /// Stops handing vectors over: dropping the sender lets the writer finish.
    pub fn detach(&self) {
        self.attached.store(false, Relaxed);
        crate::slot::take(&self.log);
    }

    /// Whether a log writer is attached.
    pub fn logging(&self) -> bool {
        self.attached.load(Relaxed)
    }

    /// Adds one read's fill counts (`fills` per position of `features`, the
    /// features' indices in the names).
    pub fn add(&self, features: &[usize], fills: &Fills) {
        for ((&f, &asked), &filled) in features.iter().zip(&fills.asked).zip(&fills.filled) {
            if let (Some(a), Some(b)) = (self.asked.get(f), self.filled.get(f)) {
                a.fetch_add(asked, Relaxed);
                b.fetch_add(filled, Relaxed);
            }
        }
    }

    /// Hands one read's rows to the log (nothing when none is attached; dropped and
    /// counted when its channel is full).
    pub fn log(&self, rows: Vec<ServedRow>) {
        if !self.logging() || rows.is_empty() {
            return;
        }
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let Some(sender) = log.as_ref() else {
            return;
        };
        let n = rows.len() as u64;
        match sender.try_send(rows) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(n, Relaxed);
            }
        }
    }
}

/// Feast's status names (as `/get-online-features` answers them).
pub fn status_name(status: &Status) -> &'static str {
    match status {
        Status::Present => "PRESENT",
        Status::Null => "NULL_VALUE",
        Status::UnknownEntity => "NOT_FOUND",
        Status::Stale => "OUTSIDE_MAX_AGE",
        Status::Error(_) => "ERROR",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use featc_runtime::stream::FeatureValue;
    use std::sync::mpsc::sync_channel;

    fn vector(x: Value) -> FeatureVector {
        FeatureVector {
            at: 7,
            features: vec![FeatureValue {
                name: "f".into(),
                status: if x.is_null() {
                    Status::Null
                } else {
                    Status::Present
                },
                value: x,
                event_time: None,
            }],
        }
    }

    /// One read of feature 1 (`f`) for entity rows 1 and 2, counted and
    /// logged as `state::read` records a read.
    fn record(served: &Served, answer: &[FeatureVector]) {
        let keys = [vec![Value::Int64(1)], vec![Value::Int64(2)]];
        let sources = served.layout().sources(&[0], &[]);
        let mut fills = Fills::new(1);
        let mut rows = Vec::new();
        for (r, v) in answer.iter().enumerate() {
            fills.count(v);
            rows.push(served.layout().row(&[1], &sources, &keys[r..=r], &[], v));
        }
        served.add(&[1], &fills);
        served.log(rows);
    }

    #[test]
    fn a_full_channel_drops_and_counts_and_fill_counts_go_on() {
        let served = Served::with_layout(LogLayout {
            keys: vec![("k".to_string(), DataType::Int64, vec![(0, 0)])],
            fields: Vec::new(),
            held: Vec::new(),
            sources: Vec::new(),
            features: vec![
                ("g".to_string(), DataType::Int64),
                ("f".to_string(), DataType::Int64),
            ],
        });
        let (sender, receiver) = sync_channel(1);
        served.attach(sender);
        let answer = [vector(Value::Int64(5)), vector(Value::Null)];
        // Feature 1 (`f`) asked for; the channel holds one read.
        record(&served, &answer);
        record(&served, &answer);
        assert_eq!(
            served.dropped.load(Relaxed),
            2,
            "the second read's two vectors"
        );
        assert_eq!(served.asked[1].load(Relaxed), 4);
        assert_eq!(served.filled[1].load(Relaxed), 2);
        assert_eq!(served.asked[0].load(Relaxed), 0);
        let rows = receiver.try_recv().unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].keys, vec![Value::Int64(2)]);
        assert!(rows[0].features[0].is_none(), "`g` was not asked for");
        assert_eq!(rows[0].features[1], Some((Value::Int64(5), "PRESENT")));
        assert_eq!(rows[1].features[1], Some((Value::Null, "NULL_VALUE")));
        served.detach();
        record(&served, &answer);
        assert_eq!(
            served.dropped.load(Relaxed),
            2,
            "nothing logged once detached"
        );
    }
}
