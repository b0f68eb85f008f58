//! `featc._featc.OnlineStore`: the embedded online store (featc-server's
//! `EmbeddedStore`: the server's state core on the caller's thread, durable in a
//! state directory when given one, its reads logged when given a folder), pushed and
//! read with Arrow tables, or one entity with plain Python values (`get_one`,
//! `online_one`). Calls release the GIL.
//!
//! Its pushes are bounded ahead of the wall clock as `featc serve --max-future`
//! bounds the server's (`max_future_us`, or none), and a read's integer time is
//! microseconds only when plausible, as the server reads an integer `at`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use featc::ir;
use featc_runtime::stream::Options;
use featc_server::durable::DeadReason;
use featc_server::embedded::{EmbeddedReadError, EmbeddedStore, ReadAt};
use featc_server::state::dead_letters::Filter;
use featc_server::state::{resolve, PushError, ReadPlan, StateError};
use featc_server::StateConfig;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors;
use crate::online_one::OneRead;

struct Open {
    store: EmbeddedStore,
}

/// What an embedded store may hold and take.
pub struct Limits {
    /// How far ahead of the wall clock a pushed event's time may be (`None`: no
    /// bound; negative is refused).
    pub max_future_us: Option<i64>,
    /// With a state directory: the bytes decoded entity states in memory may count
    /// (`None`: `featc serve`'s default).
    pub memory_limit: Option<u64>,
}

#[pyclass(module = "featc._featc", frozen)]
pub struct OnlineStore {
    /// `None` once closed.
    inner: Mutex<Option<Open>>,
    recovered: String,
    durable: bool,
    /// The names, held outside the lock: they never change for an open store, so a
    /// one-entity read types its keys while the GIL is held and takes the lock once.
    one: OneRead,
}

impl OnlineStore {
    /// The store of `project`'s features, within `limits`.
    pub fn open(
        py: Python<'_>,
        project: &Arc<ir::Project>,
        options: Options,
        limits: Limits,
        state: Option<PathBuf>,
        log_served: Option<PathBuf>,
    ) -> PyResult<OnlineStore> {
        let mut config = StateConfig::embedded(options);
        // With a state directory, entity states live on disk there, as `featc serve
        // --state` keeps them (so either opens the other's directory).
        if state.is_some() {
            config.memory_limit = Some(
                limits
                    .memory_limit
                    .unwrap_or_else(featc_server::config::default_memory_limit),
            );
        }
        config.max_future_us = match limits.max_future_us {
            // No bound: the check adds the bound to now saturating, so nothing is past it.
            None => i64::MAX,
            Some(us) if us < 0 => {
                return Err(errors::error(
                    py,
                    "Error",
                    format!("max_future must not be negative, not {us} µs"),
                ))
            }
            Some(us) => us,
        };
        let project = Arc::clone(project);
        let opened = py.detach(move || {
            // Planned in the layout the state's checkpoint records (see `featc serve`).
            let layout = match state.as_deref() {
                Some(dir) => featc_server::durable::checkpoint::read_layout(dir)
                    .map_err(|e| ("StateError", e.to_string()))?,
                None => Vec::new(),
            };
            let (_, graph) = featc::lower::stream::serving_graph(&project, &layout)
                .map_err(|e| ("Error", e.to_string()))?;
            let mut store = EmbeddedStore::open_with(graph, config, state.as_deref())
                .map_err(|e| ("StateError", e.to_string()))?;
            if let Some(dir) = log_served {
                let meanings = featc::diff::fingerprint::served_log_metadata(&project)
                    .map_err(|e| ("Error", e.to_string()))?;
                store
                    .log_served(&dir, LOG_SERVED_ROTATE, &meanings)
                    .map_err(|e| ("Error", e.to_string()))?;
            }
            Ok::<_, (&str, String)>(Open { store })
        });
        let open = opened.map_err(|(class, m)| errors::error(py, class, m))?;
        Ok(OnlineStore {
            recovered: open.store.recovered().to_string(),
            durable: open.store.is_durable(),
            one: OneRead::new(py, Arc::clone(open.store.state().names())),
            inner: Mutex::new(Some(open)),
        })
    }

    /// Runs `f` on the open store with the GIL released.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Open) -> Result<T, Failure> + Send,
    ) -> PyResult<T> {
        let result = py.detach(|| {
            let mut guard = self.inner.lock().map_err(|_| {
                Failure::Other(
                    "Error",
                    "the store is poisoned by an earlier failure".into(),
                )
            })?;
            match guard.as_mut() {
                Some(open) => f(open),
                None => Err(Failure::Other("Error", "the online store is closed".into())),
            }
        });
        result.map_err(|f| match f {
            Failure::Push(e) => errors::push_error(py, e),
            Failure::Read(e) => errors::online_read_error(py, e),
            Failure::State(e) => errors::state_error(py, e),
            Failure::Other(class, m) => errors::error(py, class, m),
        })
    }
}

/// What a call on the store failed with, turned into a Python exception once the
/// GIL is held again.
enum Failure {
    Push(PushError),
    Read(EmbeddedReadError),
    State(StateError),
    Other(&'static str, String),
}

/// A read's time as the caller gave it: a bare integer is judged by its digits
/// (`ReadAt::Integer`), any other time was converted to microseconds by Python.
fn read_at(at: i64, at_is_integer: bool) -> ReadAt {
    match at_is_integer {
        true => ReadAt::Integer(at),
        false => ReadAt::Micros(at),
    }
}

/// A served-log file is completed and a new one started past this many bytes (`featc
/// serve --log-served-rotate`'s default).
const LOG_SERVED_ROTATE: u64 = 64 << 20;

#[pymethods]
impl OnlineStore {
    /// Pushes a table of `source` events (checked whole, logged when durable, then
    /// applied); returns (accepted, late, duplicate).
    #[pyo3(signature = (source, data, key=None))]
    fn push(
        &self,
        py: Python<'_>,
        source: String,
        data: &Bound<'_, PyAny>,
        key: Option<String>,
    ) -> PyResult<(u64, u64, bool)> {
        let batch = crate::arrow::one_batch(data, &format!("push to `{source}`"))?;
        let outcome = self.with(py, |open| {
            open.store.push(&source, &batch, key).map_err(Failure::Push)
        })?;
        Ok((outcome.accepted, outcome.late, outcome.duplicate))
    }

    /// Reads features for every row of `entities` at `at` (µs; when `at_is_integer`,
    /// the caller's bare integer, read only as plausible microseconds): the table
    /// every client of reads gets (`TableRead::into_batch`: key columns, features,
    /// then with `statuses` one `FEATURE__status` column per feature; the read time
    /// and the errors of `ERROR` statuses in its metadata).
    #[pyo3(signature = (entities, service, features, at, at_is_integer, statuses))]
    #[allow(clippy::too_many_arguments)]
    fn get<'py>(
        &self,
        py: Python<'py>,
        entities: &Bound<'py, PyAny>,
        service: Option<String>,
        features: Option<Vec<String>>,
        at: i64,
        at_is_integer: bool,
        statuses: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let rows = crate::arrow::one_batch(entities, "entities")?;
        let at = read_at(at, at_is_integer);
        let batch = self.with(py, |open| {
            let picked = resolve(open.store.names(), service.as_deref(), features.as_deref())
                .map_err(|e| Failure::Other("UnknownNameError", e.to_string()))?;
            let (at, read) = open
                .store
                .read_table(picked, &rows, at)
                .map_err(Failure::Read)?;
            read.into_batch(at, statuses)
                .map_err(|e| Failure::Other("Error", e.to_string()))
        })?;
        crate::arrow::batch_to_table(py, batch)
    }

    /// Reads features for one entity at `at` (as `get` reads it): `keys` a dict of
    /// key column -> scalar, `request` (or `keys`) the request fields' scalars.
    /// Answers a dict of feature -> value, then with `statuses` `FEATURE__status`
    /// -> status: what `get`'s table holds for the features, as `to_pylist()` gives
    /// it, with the same errors, but never through Arrow (`online_one`).
    #[pyo3(signature = (keys, request, service, features, at, at_is_integer, statuses))]
    #[allow(clippy::too_many_arguments)]
    fn get_one<'py>(
        &self,
        py: Python<'py>,
        keys: &Bound<'py, PyDict>,
        request: Option<&Bound<'py, PyDict>>,
        service: Option<String>,
        features: Option<Vec<String>>,
        at: i64,
        at_is_integer: bool,
        statuses: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        // In `get`'s order: the names, the time, then the row.
        let names = &self.one.names;
        let picked = resolve(names, service.as_deref(), features.as_deref())
            .map_err(|e| errors::error(py, "UnknownNameError", e))?;
        let at = read_at(at, at_is_integer)
            .micros()
            .map_err(|e| errors::online_read_error(py, EmbeddedReadError::At(e)))?;
        let plan = ReadPlan::new(names, picked)
            .map_err(|e| errors::online_read_error(py, EmbeddedReadError::Read(e)))?;
        let row = self.one.row(&plan, keys, request)?;
        let vector = self.with(py, |open| {
            let mut vectors = Vec::with_capacity(1);
            open.store
                .read_rows(&plan, &row, ReadAt::Micros(at), &mut vectors)
                .map_err(Failure::Read)?;
            vectors
                .pop()
                .ok_or_else(|| Failure::Other("Error", "a read of one row answered none".into()))
        })?;
        self.one.answer(py, &plan, &vector, statuses)
    }

    /// The runtime's counters, the store's watermarks per source (µs, None before
    /// its first event), and why the last checkpoint a push took failed (None once
    /// one succeeds: a push is never failed by the checkpoint after it).
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (m, watermarks, checkpoint_error) = self.with(py, |open| {
            let sources = &open.store.names().sources;
            let (m, watermarks) = open.store.state().read(|rt| {
                let watermarks: Vec<(String, Option<i64>)> = sources
                    .iter()
                    .map(|s| (s.name.clone(), rt.watermark(&s.name)))
                    .collect();
                (rt.metrics(), watermarks)
            });
            let failed = open.store.checkpoint_error().map(|e| e.to_string());
            Ok((m, watermarks, failed))
        })?;
        let d = PyDict::new(py);
        d.set_item("events", m.events)?;
        d.set_item("late", m.late)?;
        d.set_item("dead_lettered", m.dead_lettered)?;
        d.set_item("null_keys", m.null_keys)?;
        d.set_item("entities", m.entities)?;
        d.set_item("expired_entities", m.expired_entities)?;
        d.set_item("state_bytes", m.state_bytes)?;
        let w = PyDict::new(py);
        for (name, t) in watermarks {
            w.set_item(name, t)?;
        }
        d.set_item("watermarks", w)?;
        d.set_item("checkpoint_error", checkpoint_error)?;
        Ok(d)
    }

    /// The dead-letter store's listing (`GET /dead-letters`'s answer, as JSON text):
    /// the letters of `source`/`reason`/`origin` after `after`, at most `limit`.
    #[pyo3(signature = (source, reason, origin, after, limit))]
    fn dead_letters(
        &self,
        py: Python<'_>,
        source: Option<String>,
        reason: Option<String>,
        origin: Option<String>,
        after: Option<u64>,
        limit: usize,
    ) -> PyResult<String> {
        self.with(py, |open| {
            let source = match source {
                Some(name) => Some(
                    open.store
                        .names()
                        .source(&name)
                        .map(|s| s.name.clone())
                        .map_err(|_| {
                            Failure::Other("UnknownNameError", format!("unknown source `{name}`"))
                        })?,
                ),
                None => None,
            };
            let reason = match reason {
                Some(r) => Some(DeadReason::from_name(&r).ok_or_else(|| {
                    Failure::Other(
                        "Error",
                        format!("unknown reason `{r}`: expected late, future or invalid"),
                    )
                })?),
                None => None,
            };
            let filter = Filter {
                source,
                reason,
                origin,
                after,
                limit,
            };
            Ok(open
                .store
                .state()
                .dead_letters(|d| d.listing_json(&filter))
                .to_string())
        })
    }

    /// Writes a checkpoint (durable stores; a no-op in memory).
    fn checkpoint(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |open| open.store.checkpoint().map_err(Failure::State))
    }

    /// Checkpoints and closes the store (releasing its state directory, completing
    /// its served log's last file); later calls raise. Closing twice is a no-op.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let taken = py.detach(|| self.inner.lock().ok().and_then(|mut g| g.take()));
        if let Some(mut open) = taken {
            let result = py.detach(move || open.store.close());
            result.map_err(|e| errors::state_error(py, e))?;
        }
        Ok(())
    }

    /// What opening the store found (a sentence).
    #[getter]
    fn recovered(&self) -> &str {
        &self.recovered
    }

    #[getter]
    fn durable(&self) -> bool {
        self.durable
    }
}
