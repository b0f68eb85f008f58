//! `featc._featc.OnlineStore`: the embedded online store (featc-server's
//! `EmbeddedStore`: the streaming runtime, durable in a state directory when given
//! one), pushed and read with Arrow tables. Calls release the GIL.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use featc::ir;
use featc_runtime::stream::Options;
use featc_server::embedded::EmbeddedStore;
use featc_server::table_read::{read_table, resolve};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors;

struct Open {
    store: EmbeddedStore,
}

#[pyclass(module = "featc._featc", frozen)]
pub struct OnlineStore {
    /// `None` once closed.
    inner: Mutex<Option<Open>>,
    recovered: String,
    durable: bool,
}

impl OnlineStore {
    pub fn open(
        py: Python<'_>,
        project: &Arc<ir::Project>,
        options: Options,
        state: Option<PathBuf>,
    ) -> PyResult<OnlineStore> {
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
            let store = EmbeddedStore::open(graph, options, state.as_deref())
                .map_err(|e| ("StateError", e.to_string()))?;
            Ok::<_, (&str, String)>(Open { store })
        });
        let open = opened.map_err(|(class, m)| errors::error(py, class, m))?;
        Ok(OnlineStore {
            recovered: open.store.recovered().to_string(),
            durable: open.store.is_durable(),
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
            Failure::Store(e) => errors::store_error(py, e),
            Failure::Stream(e) => errors::stream_error(py, &e),
            Failure::Other(class, m) => errors::error(py, class, m),
        })
    }
}

/// What a call on the store failed with, turned into a Python exception once the
/// GIL is held again.
enum Failure {
    Store(featc_server::embedded::StoreError),
    Stream(featc_runtime::stream::StreamError),
    Other(&'static str, String),
}

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
            open.store
                .push(&source, &batch, key)
                .map_err(Failure::Store)
        })?;
        Ok((outcome.accepted, outcome.late, outcome.duplicate))
    }

    /// Reads features for every row of `entities` at `at` (µs): the table every
    /// client of reads gets (`TableRead::into_batch`: key columns, features, then with
    /// `statuses` one `FEATURE__status` column per feature; the read time and the
    /// errors of `ERROR` statuses in its metadata).
    #[pyo3(signature = (entities, service, features, at, statuses))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        entities: &Bound<'py, PyAny>,
        service: Option<String>,
        features: Option<Vec<String>>,
        at: i64,
        statuses: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let rows = crate::arrow::one_batch(entities, "entities")?;
        let batch = self.with(py, |open| {
            let (catalog, rt) = open.store.catalog_and_runtime();
            let picked = resolve(catalog, service.as_deref(), features.as_deref())
                .map_err(|e| Failure::Other("UnknownNameError", e.to_string()))?;
            let read = read_table(rt, catalog, &picked, &rows, at).map_err(Failure::Stream)?;
            read.into_batch(at, statuses)
                .map_err(|e| Failure::Other("Error", e.to_string()))
        })?;
        crate::arrow::batch_to_table(py, batch)
    }

    /// The runtime's counters, and the store's watermarks per source (µs, None
    /// before its first event).
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (m, watermarks) = self.with(py, |open| {
            let (catalog, rt) = open.store.catalog_and_runtime();
            let watermarks: Vec<(String, Option<i64>)> = catalog
                .sources
                .iter()
                .map(|s| (s.name.clone(), rt.watermark(&s.name)))
                .collect();
            Ok((rt.metrics(), watermarks))
        })?;
        let d = PyDict::new(py);
        d.set_item("events", m.events)?;
        d.set_item("late", m.late)?;
        d.set_item("dead_lettered", m.dead_lettered)?;
        d.set_item("null_keys", m.null_keys)?;
        d.set_item("entities", m.entities)?;
        d.set_item("state_bytes", m.state_bytes)?;
        let w = PyDict::new(py);
        for (name, t) in watermarks {
            w.set_item(name, t)?;
        }
        d.set_item("watermarks", w)?;
        Ok(d)
    }

    /// Writes a checkpoint (durable stores; a no-op in memory).
    fn checkpoint(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |open| open.store.checkpoint().map_err(Failure::Store))
    }

    /// Checkpoints and closes the store (releasing its state directory); later calls
    /// raise. Closing twice is a no-op.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let taken = py.detach(|| self.inner.lock().ok().and_then(|mut g| g.take()));
        if let Some(mut open) = taken {
            let result = py.detach(move || open.store.checkpoint());
            result.map_err(|e| errors::store_error(py, e))?;
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
