//! The one per-row read loop. A read is resolved once into a `ReadPlan` (the
//! features, the entities whose keys they need, the request fields their derived
//! features read); its rows come from a `RowSource` (a JSON request's `KeyRows`, an
//! Arrow table's columns in `table`); each row's vector goes to a `VectorSink` (a
//! `Vec` for JSON, typed column builders for Arrow). Each row's lookups hold only
//! their entity's shard (`online`); what was served is recorded here, below every
//! transport, so JSON, Arrow and embedded reads are counted and logged alike: the
//! fill counts are kept by the read and added to the shared counters once when it
//! ends, and the rows go to the served log (when one is attached) after the read.

use featc_runtime::ir::DataType;
use featc_runtime::stream::{FeatureVector, Keys, Read, Request, Selection, StreamError};
use featc_runtime::value::Value;

use super::error::ReadError;
use super::online::OnlineState;
use crate::names::Names;
use crate::served::{Fills, RowSources, ServedRow};

/// How many times a read at the default time is tried when the horizon passes it
/// (`OnlineState::read_rows`): each retry takes a new now, so only pushes that keep
/// moving the horizon faster than one read can exhaust it.
const NOW_READ_ATTEMPTS: u32 = 8;

/// A read resolved against the names, once.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadPlan {
    /// The features read (indices of the names' features), in answer order.
    features: Vec<usize>,
    /// The entities whose keys they need (indices of the names' entities), each once,
    /// in the order the features first need them.
    entities: Vec<usize>,
    /// The request fields their derived features read (name, type), each once.
    fields: Vec<(String, DataType)>,
}

impl ReadPlan {
    /// The plan of a read of `features` (indices of `names`' features).
    pub fn new(names: &Names, features: Vec<usize>) -> Result<ReadPlan, ReadError> {
        let mut entities: Vec<usize> = Vec::new();
        let mut fields: Vec<(String, DataType)> = Vec::new();
        for &f in &features {
            let Some(entry) = names.features.get(f) else {
                return Err(ReadError::Refused(StreamError::UnknownFeature(format!(
                    "#{f}"
                ))));
            };
            for &e in &entry.entities {
                if !entities.contains(&e) {
                    entities.push(e);
                }
            }
            for r in &entry.request {
                if !fields.iter().any(|(n, _)| *n == r.field) {
                    fields.push((r.field.clone(), r.ty));
                }
            }
        }
        Ok(ReadPlan {
            features,
            entities,
            fields,
        })
    }

    /// A plan reading nothing (for tests of what holds plans).
    #[cfg(test)]
    pub fn empty() -> ReadPlan {
        ReadPlan {
            features: Vec::new(),
            entities: Vec::new(),
            fields: Vec::new(),
        }
    }

    pub fn features(&self) -> &[usize] {
        &self.features
    }

    pub fn entities(&self) -> &[usize] {
        &self.entities
    }

    pub fn fields(&self) -> &[(String, DataType)] {
        &self.fields
    }
}

/// The rows of a read, for a `ReadPlan`: per row, the key of each of the plan's
/// entities (in `ReadPlan::entities` order) and the value of each of its request
/// fields (in `ReadPlan::fields` order).
pub trait RowSource {
    fn rows(&self) -> usize;
    /// Appends row `row`'s key of the plan's entity `entity` (a position in
    /// `ReadPlan::entities`) to `out` (which is empty).
    fn key(&self, row: usize, entity: usize, out: &mut Vec<Value>);
    /// Row `row`'s value of the plan's request field `field` (a position in
    /// `ReadPlan::fields`).
    fn field(&self, row: usize, field: usize) -> Value;
}

/// Where a read's vectors go, one per row in row order.
pub trait VectorSink {
    fn take(&mut self, vector: FeatureVector);
}

impl VectorSink for Vec<FeatureVector> {
    fn take(&mut self, vector: FeatureVector) {
        self.push(vector);
    }
}

/// A JSON read's rows: key values and request fields already typed, for a plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyRows {
    pub rows: usize,
    /// Per entity of the plan, per row, its key values.
    pub keys: Vec<Vec<Vec<Value>>>,
    /// Per request field of the plan, one value per row.
    pub request: Vec<Vec<Value>>,
}

impl RowSource for KeyRows {
    fn rows(&self) -> usize {
        self.rows
    }

    fn key(&self, row: usize, entity: usize, out: &mut Vec<Value>) {
        if let Some(key) = self.keys.get(entity).and_then(|rows| rows.get(row)) {
            out.extend_from_slice(key);
        }
    }

    fn field(&self, row: usize, field: usize) -> Value {
        self.request
            .get(field)
            .and_then(|values| values.get(row))
            .cloned()
            .unwrap_or(Value::Null)
    }
}

/// An empty vector of pairs with the allocation of `used` (whose borrows have
/// ended): the loop reuses one allocation for every row's keys by entity.
fn recycle<'new>(mut used: Vec<(&str, &[Value])>) -> Vec<(&'new str, &'new [Value])> {
    used.clear();
    // Never called (the vector is empty): only the pairs' lifetimes change.
    used.into_iter().map(|_| ("", &[][..])).collect()
}

impl OnlineState {
    /// Reads `plan`'s features for every row of `rows` at `at` (default: now under
    /// the state's clock) into `out`; returns the read time. See the module docs.
    ///
    /// A read at the default time races the pushes, which never wait for it: the
    /// horizon may pass the time the read took before its last row is read (seen
    /// under load on a disk tier). Such a read is read again, whole, at a new now, up
    /// to `NOW_READ_ATTEMPTS` times; `out` only ever gets the rows of the attempt that
    /// succeeded, all at one time. A read at a given time is refused at once.
    pub fn read_rows(
        &self,
        plan: &ReadPlan,
        rows: &impl RowSource,
        at: Option<i64>,
        out: &mut impl VectorSink,
    ) -> Result<i64, ReadError> {
        let served = self.served();
        let mut attempt = 1;
        loop {
            let mut vectors: Vec<FeatureVector> = Vec::with_capacity(rows.rows());
            match self.read_attempt(plan, rows, at, &mut vectors) {
                Ok((t, fills, logged)) => {
                    for vector in vectors {
                        out.take(vector);
                    }
                    served.add(&plan.features, &fills);
                    if let Some(logged) = logged {
                        served.log(logged);
                    }
                    return Ok(t);
                }
                Err(ReadError::BeforeHorizon { .. })
                    if at.is_none() && attempt < NOW_READ_ATTEMPTS =>
                {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One attempt of `read_rows`: the read time, the fill counts and the served
    /// log's rows (when one is attached), the vectors in `out`.
    fn read_attempt(
        &self,
        plan: &ReadPlan,
        rows: &impl RowSource,
        at: Option<i64>,
        out: &mut Vec<FeatureVector>,
    ) -> Result<(i64, Fills, Option<Vec<ServedRow>>), ReadError> {
        let names = self.names();
        let served = self.served();
        let n = rows.rows();
        let entities: Vec<&str> = plan
            .entities
            .iter()
            .map(|&e| names.entities.get(e).map_or("", |x| x.name.as_str()))
            .collect();
        let mut fills = Fills::new(plan.features.len());
        // The served log's rows, when one is attached (built from the row's keys
        // while they are at hand).
        let logging = served.logging();
        let mut sources = match logging {
            true => served.layout().sources(&plan.entities, &plan.fields),
            false => RowSources::default(),
        };
        let mut logged: Vec<ServedRow> = Vec::with_capacity(if logging { n } else { 0 });
        let mut keys: Vec<Vec<Value>> = vec![Vec::new(); entities.len()];
        let mut fields: Vec<(&str, Value)> = plan
            .fields
            .iter()
            .map(|(name, _)| (name.as_str(), Value::Null))
            .collect();
        let mut spare: Vec<(&str, &[Value])> = Vec::with_capacity(entities.len());
        // Loaded before the read: every record below it is in what the read sees.
        sources.applied_seq = self.progress().applied();
        let t = self.read(|rt| {
            let t = at.unwrap_or_else(|| self.now(rt));
            if logging {
                sources.held_from = (served.layout().held.iter())
                    .map(|view| rt.held_from(view))
                    .collect();
                sources.watermarks = (served.layout().sources.iter())
                    .map(|source| rt.watermark(source))
                    .collect();
            }
            for row in 0..n {
                for (e, key) in keys.iter_mut().enumerate() {
                    key.clear();
                    rows.key(row, e, key);
                }
                for (f, (_, value)) in fields.iter_mut().enumerate() {
                    *value = rows.field(row, f);
                }
                let mut by_entity = recycle(std::mem::take(&mut spare));
                by_entity.extend(
                    entities
                        .iter()
                        .zip(&keys)
                        .map(|(e, key)| (*e, key.as_slice())),
                );
                let read = Read::new(
                    Keys::ByEntity(&by_entity),
                    Selection::Indices(&plan.features),
                    window_edge_fault(t),
                )
                .with_request(Request::new(&fields));
                let mut vector = rt.read(&read)?;
                vector.at = t;
                spare = recycle(by_entity);
                fills.count(&vector);
                if logging {
                    logged.push(served.layout().row(
                        &plan.features,
                        &sources,
                        &keys,
                        &fields,
                        &vector,
                    ));
                }
                out.push(vector);
            }
            Ok::<_, StreamError>(t)
        })?;
        // Loaded after it: no record at or above it was in what the read saw.
        let applying = self.progress().applying();
        for row in &mut logged {
            row.applying_seq = applying;
        }
        Ok((t, fills, logging.then_some(logged)))
    }
}

/// A fault tests inject into a debug build to prove that `featc audit` catches an
/// off-by-one window edge (`FEATC_TEST_FAULT=window-edge`): every read is answered
/// as of one microsecond before its time, so an event exactly at the read's time
/// is not counted, though the read says its own time. A release build never reads
/// the variable.
#[cfg(debug_assertions)]
fn window_edge_fault(t: i64) -> i64 {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let on =
        *ON.get_or_init(|| std::env::var("FEATC_TEST_FAULT").is_ok_and(|f| f == "window-edge"));
    if on {
        t.saturating_sub(1)
    } else {
        t
    }
}

#[cfg(not(debug_assertions))]
fn window_edge_fault(t: i64) -> i64 {
    t
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering::Relaxed;
    use std::sync::mpsc::sync_channel;

    use super::super::testing::{clicks, opened, push};
    use super::*;

    const T: i64 = 1_709_294_400_000_000;

    /// Users 1 (two clicks), 2 (unknown) and 1 again, read at once.
    fn keys() -> KeyRows {
        KeyRows {
            rows: 3,
            keys: vec![vec![
                vec![Value::Int64(1)],
                vec![Value::Int64(2)],
                vec![Value::Int64(1)],
            ]],
            request: Vec::new(),
        }
    }

    #[test]
    fn a_read_counts_what_it_served_once_and_logs_its_rows() {
        let (state, mut ledger, check) = opened(None);
        ledger.commit(
            &state,
            vec![push(&check, &[(T, 1, 2.0), (T, 1, 3.0)], None)],
        );
        let served = state.served();
        let (sender, receiver) = sync_channel(4);
        served.attach(sender);
        // Both features: a count (0 for an unknown user) and an average (null for one).
        let plan = ReadPlan::new(state.names(), vec![0, 1]).unwrap();
        let mut vectors: Vec<FeatureVector> = Vec::new();
        let at = state
            .read_rows(&plan, &keys(), Some(T + 1), &mut vectors)
            .unwrap();
        assert_eq!(at, T + 1);
        assert_eq!(vectors.len(), 3);
        let counts = |f: usize| {
            (
                served.asked[f].load(Relaxed),
                served.filled[f].load(Relaxed),
            )
        };
        assert_eq!(counts(0), (3, 3));
        assert_eq!(counts(1), (3, 2));
        // One message per read, every row in it, keys and values as answered.
        let rows = receiver.try_recv().unwrap();
        assert!(receiver.try_recv().is_err());
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].keys, vec![Value::Int64(2)]);
        assert_eq!(rows[0].features[0], Some((Value::Int64(2), "PRESENT")));
        assert_eq!(rows[0].features[1], Some((Value::Float64(2.5), "PRESENT")));
        assert_eq!(rows[1].features[1], Some((Value::Null, "NOT_FOUND")));
        // The same read as a table (the embedded store's and Arrow's) is counted and
        // logged by the same loop.
        let table = clicks(&[(T, 1, 0.0), (T, 2, 0.0), (T, 1, 0.0)]);
        let (_, read) = state.read_table(vec![1], &table, Some(T + 1)).unwrap();
        assert_eq!(read.statuses[0], vec!["PRESENT", "NOT_FOUND", "PRESENT"]);
        assert_eq!(counts(0), (3, 3));
        assert_eq!(counts(1), (6, 4));
        assert_eq!(receiver.try_recv().map(|r| r.len()), Ok(3));
        // A refused read counts nothing.
        let missing = ReadPlan::new(state.names(), vec![7]);
        assert!(missing.is_err());
        served.detach();
    }
}
