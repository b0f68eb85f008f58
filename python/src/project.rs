//! `featc._featc.Project`: a compiled project, what it declares, and the jobs over it
//! (a training set; an embedded online store).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use featc::ir;
use featc::job::training_set::{SpineInput, TrainingSet};
use featc::SourceFile;
use featc_runtime::io::Inputs;
use featc_runtime::stream::{LatePolicy, Options};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::errors;
use crate::online::{Limits, OnlineStore};

#[pyclass(module = "featc._featc", frozen)]
pub struct Project {
    pub(crate) files: Vec<SourceFile>,
    pub(crate) project: Arc<ir::Project>,
}

/// A pass of `entity_passes`: entity, key (name, type), sources (name, time column,
/// key columns), aggregated features.
type PassTuple = (
    String,
    Vec<(String, String)>,
    Vec<(String, String, Vec<String>)>,
    Vec<String>,
);

impl Project {
    /// The features a job computes (`featc::job::select_features`), as Python errors.
    fn selected(
        &self,
        py: Python<'_>,
        service: Option<String>,
        features: Option<Vec<String>>,
    ) -> PyResult<Vec<ir::FeatureId>> {
        featc::job::select_features(
            &self.project,
            service.as_deref(),
            &features.unwrap_or_default(),
        )
        .map_err(|e| errors::job_error(py, e))
    }
}

/// A path, or an Arrow stream object.
enum Input {
    Path(PathBuf),
    Table(featc_runtime::io::MemoryTable),
}

fn input(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Input> {
    if let Ok(path) = obj.cast::<PyString>() {
        return Ok(Input::Path(PathBuf::from(path.extract::<String>()?)));
    }
    Ok(Input::Table(crate::arrow::memory_table(obj, what)?))
}

#[pymethods]
impl Project {
    /// Reads and compiles the `.feat` files of `paths` (files, or folders searched
    /// recursively), exactly as the CLI does.
    #[new]
    fn new(py: Python<'_>, paths: Vec<PathBuf>) -> PyResult<Project> {
        let files = featc::files::read_project(&paths).map_err(|e| errors::read_error(py, e))?;
        match featc::compile(&files) {
            Ok(project) => Ok(Project {
                files,
                project: Arc::new(project),
            }),
            Err(diagnostics) => Err(errors::compile_error(py, &diagnostics, &files)),
        }
    }

    /// Every feature's name, in declaration order (views' features, then services'
    /// own).
    #[getter]
    fn features(&self) -> Vec<String> {
        let p = &self.project;
        p.all_features()
            .into_iter()
            .map(|id| p.feature(id).name.clone())
            .collect()
    }

    /// Services by name, each with its features in order.
    #[getter]
    fn services(&self) -> Vec<(String, Vec<String>)> {
        let p = &self.project;
        p.services
            .iter()
            .map(|s| {
                let names = s.features.iter().map(|&id| p.feature(id).name.clone());
                (s.name.clone(), names.collect())
            })
            .collect()
    }

    /// What the project declares, as plain data (see `catalog.rs`).
    fn catalog<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::catalog::catalog(py, &self.project)
    }

    /// The `.feat` files compiled, by name.
    #[getter]
    fn files(&self) -> Vec<String> {
        self.files.iter().map(|f| f.name.clone()).collect()
    }

    /// Computes a training set (see the Python `Project.training_set`): `spine` and
    /// each source a path (read as the CLI reads it) or an Arrow stream object.
    /// Returns (the `pyarrow.Table`, spine rows with a null key per group).
    #[pyo3(signature = (spine, service, features, sources, spine_time, progress, batch_size, partitions, memory_limit, passes, spill_limit))]
    #[allow(clippy::too_many_arguments)]
    fn training_set<'py>(
        &self,
        py: Python<'py>,
        spine: &Bound<'py, PyAny>,
        service: Option<String>,
        features: Option<Vec<String>>,
        sources: HashMap<String, Bound<'py, PyAny>>,
        spine_time: String,
        progress: Option<Py<PyAny>>,
        batch_size: Option<usize>,
        partitions: Option<usize>,
        memory_limit: Option<String>,
        passes: Option<usize>,
        spill_limit: Option<String>,
    ) -> PyResult<(Bound<'py, PyAny>, crate::training::NullKeyRows)> {
        if partitions == Some(0) {
            return Err(PyValueError::new_err(
                "training_set: partitions must be at least 1",
            ));
        }
        if passes == Some(0) {
            return Err(PyValueError::new_err(
                "training_set: passes must be at least 1",
            ));
        }
        let resources = featc_runtime::batch::Resources {
            partitions,
            memory_limit: None,
            passes,
            spill_limit: None,
        };
        resources
            .check()
            .map_err(|e| PyValueError::new_err(format!("training_set: {e}")))?;
        let memory_limit = memory_limit
            .map(|m| featc_runtime::batch::resources::parse_size(&m))
            .transpose()
            .map_err(|e| PyValueError::new_err(format!("training_set: memory_limit: {e}")))?;
        let spill_limit = spill_limit
            .map(|m| featc_runtime::batch::resources::parse_size(&m))
            .transpose()
            .map_err(|e| PyValueError::new_err(format!("training_set: spill_limit: {e}")))?;
        let project = &self.project;
        let names = features.unwrap_or_default();
        let features = featc::job::select_features(project, service.as_deref(), &names)
            .map_err(|e| errors::job_error(py, e))?;
        let mut inputs = Inputs::default();
        for (name, obj) in sources {
            if !project.sources.iter().any(|s| s.name == name) {
                let known: Vec<&str> = project.sources.iter().map(|s| s.name.as_str()).collect();
                return Err(errors::job_error(
                    py,
                    featc::job::JobError::UnknownName {
                        kind: "source",
                        known: featc::job::known_names("sources", &known, &name),
                        name,
                    },
                ));
            }
            match input(&obj, &format!("source `{name}`"))? {
                Input::Path(p) => inputs.files.insert(name, p),
                Input::Table(t) => inputs.tables.insert(name, t).map(|_| PathBuf::new()),
            };
        }
        let spine = match input(spine, "spine")? {
            Input::Path(p) => SpineInput::File(p),
            Input::Table(t) => SpineInput::Table(t),
        };
        let job = TrainingSet {
            project,
            features,
            spine,
            spine_time,
            inputs,
            batch_size,
            resources: featc_runtime::batch::Resources {
                partitions,
                memory_limit,
                passes,
                spill_limit,
            },
            ballista: None,
        };
        let done = crate::training::run(py, &job, progress)?;
        let table = crate::arrow::to_table(py, done.schema, done.batches)?;
        Ok((table, done.null_keys))
    }

    /// The passes of a training set computed by key (`featc.spark`): per pass, its
    /// entity, key (name and type), sources (name, time column, key columns) and
    /// aggregated features (`featc::job::by_entity`).
    #[pyo3(signature = (service, features))]
    fn entity_passes(
        &self,
        py: Python<'_>,
        service: Option<String>,
        features: Option<Vec<String>>,
    ) -> PyResult<Vec<PassTuple>> {
        let project = &self.project;
        let ids = self.selected(py, service, features)?;
        let passes = featc::job::by_entity::entity_passes(project, &ids)
            .map_err(|e| errors::job_error(py, e))?;
        Ok(passes
            .into_iter()
            .map(|p| {
                (
                    p.entity,
                    p.keys
                        .into_iter()
                        .map(|(n, t)| (n, t.name().to_string()))
                        .collect(),
                    p.sources
                        .into_iter()
                        .map(|s| (s.source, s.time_column, s.key_columns))
                        .collect(),
                    p.features,
                )
            })
            .collect())
    }

    /// The requested features' columns (a `pyarrow.Table`, in request order) for the
    /// rows of `rows`: spine columns beside one column per aggregated feature the
    /// passes computed, named like it; derived features computed from them.
    #[pyo3(signature = (rows, service, features, spine_time))]
    fn assemble_outputs<'py>(
        &self,
        py: Python<'py>,
        rows: &Bound<'py, PyAny>,
        service: Option<String>,
        features: Option<Vec<String>>,
        spine_time: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let project = &self.project;
        let ids = self.selected(py, service, features)?;
        let batch = crate::arrow::one_batch(rows, "rows")?;
        let out = py
            .detach(|| featc::job::by_entity::assemble_outputs(project, &ids, &batch, &spine_time))
            .map_err(|e| errors::job_error(py, e))?;
        crate::arrow::to_table(py, out.schema(), vec![out])
    }

    /// An online store over the streaming runtime of every feature of the project:
    /// in memory, or durable in the state directory `state` (the format of `featc
    /// serve --state`); with `log_served`, every answered vector is appended to
    /// Parquet files in that folder (as `featc serve --log-served` does). A pushed
    /// event more than `max_future_us` ahead of the wall clock is refused (`None`: no
    /// bound). With `state`, entity states live on disk there, the decoded ones in
    /// memory counting at most `memory_limit` bytes (`None`: `featc serve`'s default).
    // One argument per keyword of `Project.online` in Python.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (state, late, min_lateness_us, max_future_us, log_served=None, memory_limit=None))]
    fn online(
        &self,
        py: Python<'_>,
        state: Option<PathBuf>,
        late: &str,
        min_lateness_us: i64,
        max_future_us: Option<i64>,
        log_served: Option<PathBuf>,
        memory_limit: Option<u64>,
    ) -> PyResult<OnlineStore> {
        let late_policy = match late {
            "apply" => LatePolicy::Apply,
            "dead-letter" | "dead_letter" => LatePolicy::DeadLetter,
            other => {
                return Err(errors::error(
                    py,
                    "Error",
                    format!("late must be \"apply\" or \"dead-letter\", not {other:?}"),
                ))
            }
        };
        let options = Options {
            late_policy,
            min_lateness_us: min_lateness_us.max(0),
            ..Options::default()
        };
        let limits = Limits {
            max_future_us,
            memory_limit,
        };
        OnlineStore::open(py, &self.project, options, limits, state, log_served)
    }
}
