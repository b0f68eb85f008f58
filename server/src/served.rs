//! What `/get-online-features` served: each feature's fill counts over the answered
//! vectors (for `/metrics`), and the handoff of the vectors to the served log's writer
//! (`durable::served_log`, `--log-served`) over a bounded channel. The request never
//! waits for the log: when the channel is full the vectors are dropped and counted
//! (`featc_served_log_dropped_vectors_total`), never silently.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Mutex;

use datafusion::arrow::array::{Array, ArrayRef};
use featc_runtime::ir::DataType;
use featc_runtime::stream::{FeatureVector, Status};
use featc_runtime::value::Value;

use crate::catalog::Catalog;
use crate::online::KeyRows;

/// Messages (each one read's vectors) the channel to the log writer holds.
pub const CHANNEL_READS: usize = 1024;

/// One answered vector, as the log stores it.
#[derive(Debug, Clone)]
pub struct ServedRow {
    /// The read time (µs since the epoch, UTC).
    pub at: i64,
    /// One per `LogLayout::keys`; null when the read did not need that key.
    pub keys: Vec<Value>,
    /// One per catalog feature: its value and Feast's status name, `None` when the
    /// read did not ask for it.
    pub features: Vec<Option<(Value, &'static str)>>,
}

/// A key column of the log: its name, type, and the (entity, key position) pairs of
/// the catalog that fill it.
pub type KeyColumn = (String, DataType, Vec<(usize, usize)>);

/// The log's columns besides the read time: the catalog's entity key columns (by
/// name, a name shared by two entities once) and its features.
#[derive(Debug, Clone)]
pub struct LogLayout {
    pub keys: Vec<KeyColumn>,
    /// (feature name, type), indexed like the catalog's features.
    pub features: Vec<(String, DataType)>,
}

impl LogLayout {
    pub fn of(catalog: &Catalog) -> LogLayout {
        let mut keys: Vec<KeyColumn> = Vec::new();
        for (e, entity) in catalog.entities.iter().enumerate() {
            for (k, (name, ty)) in entity.keys.iter().enumerate() {
                match keys.iter_mut().find(|(n, _, _)| n == name) {
                    Some((_, _, fills)) => fills.push((e, k)),
                    None => keys.push((name.clone(), *ty, vec![(e, k)])),
                }
            }
        }
        let features = catalog
            .features
            .iter()
            .map(|f| (f.name.clone(), f.ty))
            .collect();
        LogLayout { keys, features }
    }
}

/// The counters and the log's channel (see the module docs).
#[derive(Debug)]
pub struct Served {
    /// Per catalog feature: vectors that asked for it, and those where it had a
    /// (non-null) value.
    pub asked: Vec<AtomicU64>,
    pub filled: Vec<AtomicU64>,
    pub logged: AtomicU64,
    pub dropped: AtomicU64,
    /// Rows the writer could not write (an IO error, reported on stderr).
    pub log_errors: AtomicU64,
    /// Whether `log` holds a sender: reads skip its lock when nothing is logged.
    attached: AtomicBool,
    log: Mutex<Option<(SyncSender<Vec<ServedRow>>, LogLayout)>>,
}

impl Served {
    pub fn new(features: usize) -> Served {
        Served {
            asked: (0..features).map(|_| AtomicU64::new(0)).collect(),
            filled: (0..features).map(|_| AtomicU64::new(0)).collect(),
            logged: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            log_errors: AtomicU64::new(0),
            attached: AtomicBool::new(false),
            log: Mutex::new(None),
        }
    }

    /// Starts handing vectors to the log writer.
    pub fn attach(&self, sender: SyncSender<Vec<ServedRow>>, layout: LogLayout) {
        *self.log.lock().unwrap_or_else(|p| p.into_inner()) = Some((sender, layout));
        self.attached.store(true, Relaxed);
    }

    /// Stops handing vectors over: dropping the sender lets the writer finish.
    pub fn detach(&self) {
        self.attached.store(false, Relaxed);
        self.log.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Whether a log writer is attached.
    pub fn logging(&self) -> bool {
        self.attached.load(Relaxed)
    }

    /// Counts one read's answered vectors (`vectors[r].features[i]` is the value of
    /// catalog feature `features[i]` for entity row `r`) and hands them to the log.
    pub fn record(&self, features: &[usize], keys: &KeyRows, vectors: &[FeatureVector]) {
        for v in vectors {
            for (&f, value) in features.iter().zip(&v.features) {
                if let (Some(asked), Some(filled)) = (self.asked.get(f), self.filled.get(f)) {
                    asked.fetch_add(1, Relaxed);
                    if !value.value.is_null() {
                        filled.fetch_add(1, Relaxed);
                    }
                }
            }
        }
        self.log(features, keys, vectors);
    }

    /// Counts one Arrow read's answer: `columns[i]` holds catalog feature
    /// `features[i]`'s value per entity row (null where it has none).
    pub fn count_columns(&self, features: &[usize], columns: &[ArrayRef]) {
        for (&f, column) in features.iter().zip(columns) {
            if let (Some(asked), Some(filled)) = (self.asked.get(f), self.filled.get(f)) {
                asked.fetch_add(column.len() as u64, Relaxed);
                filled.fetch_add((column.len() - column.null_count()) as u64, Relaxed);
            }
        }
    }

    /// Hands one read's answered vectors to the log (nothing when none is attached;
    /// dropped and counted when its channel is full).
    pub fn log(&self, features: &[usize], keys: &KeyRows, vectors: &[FeatureVector]) {
        if !self.logging() {
            return;
        }
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let Some((sender, layout)) = log.as_ref() else {
            return;
        };
        let rows: Vec<ServedRow> = vectors
            .iter()
            .enumerate()
            .map(|(r, v)| row(layout, features, keys, r, v))
            .collect();
        let n = rows.len() as u64;
        match sender.try_send(rows) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(n, Relaxed);
            }
        }
    }
}

fn row(
    layout: &LogLayout,
    features: &[usize],
    keys: &KeyRows,
    r: usize,
    v: &FeatureVector,
) -> ServedRow {
    let key_values = layout
        .keys
        .iter()
        .map(|(_, _, fills)| {
            fills
                .iter()
                .find_map(|&(e, k)| {
                    let rows = keys.keys.get(e)?.as_ref()?;
                    rows.get(r)?.get(k).cloned()
                })
                .unwrap_or(Value::Null)
        })
        .collect();
    let mut values: Vec<Option<(Value, &'static str)>> = vec![None; layout.features.len()];
    for (&f, fv) in features.iter().zip(&v.features) {
        if let Some(slot) = values.get_mut(f) {
            *slot = Some((fv.value.clone(), status_name(&fv.status)));
        }
    }
    ServedRow {
        at: v.at,
        keys: key_values,
        features: values,
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

    #[test]
    fn a_full_channel_drops_and_counts_and_fill_counts_go_on() {
        let served = Served::new(2);
        let (sender, receiver) = sync_channel(1);
        let layout = LogLayout {
            keys: vec![("k".to_string(), DataType::Int64, vec![(0, 0)])],
            features: vec![
                ("g".to_string(), DataType::Int64),
                ("f".to_string(), DataType::Int64),
            ],
        };
        served.attach(sender, layout);
        let keys = KeyRows {
            rows: 2,
            keys: vec![Some(vec![vec![Value::Int64(1)], vec![Value::Int64(2)]])],
            request: Vec::new(),
        };
        let answer = [vector(Value::Int64(5)), vector(Value::Null)];
        // Catalog feature 1 (`f`) asked for; the channel holds one read.
        served.record(&[1], &keys, &answer);
        served.record(&[1], &keys, &answer);
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
        served.record(&[1], &keys, &answer);
        assert_eq!(
            served.dropped.load(Relaxed),
            2,
            "nothing logged once detached"
        );
    }
}
