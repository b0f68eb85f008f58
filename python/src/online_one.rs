//! The one-entity read (`OnlineStore.get_one`): one entity's keys and request
//! fields as plain Python scalars in, a `dict` of its features out, never through
//! pyarrow. Its row is a `KeyRows` of one row (the scalars typed by `values`, as a
//! table read's columns are conformed: the same checks, refused with the same
//! errors) read by the loop every read runs (`EmbeddedStore::read_rows`); its
//! answer is what `get(...).to_pylist()[0]` holds for the features (and their
//! statuses), without the key columns.
//!
//! What never changes for an open store is made once: the names, and each
//! feature's (and status column's) name as a Python string.

use std::sync::Arc;

use featc_runtime::stream::{FeatureVector, StreamError};
use featc_runtime::value::Value;
use featc_server::names::Names;
use featc_server::served::status_name;
use featc_server::state::{KeyRows, ReadPlan};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::errors;
use crate::values::{to_python, value_of};

/// The names a one-entity read answers with, made once per store.
pub struct OneRead {
    pub names: Arc<Names>,
    /// Per feature of the names, its project-wide name.
    features: Vec<Py<PyString>>,
    /// Per feature of the names, `FEATURE__status`.
    statuses: Vec<Py<PyString>>,
}

impl OneRead {
    pub fn new(py: Python<'_>, names: Arc<Names>) -> OneRead {
        let features = names
            .features
            .iter()
            .map(|f| PyString::intern(py, &f.name).unbind())
            .collect();
        let statuses = names
            .features
            .iter()
            .map(|f| PyString::new(py, &format!("{}__status", f.name)).unbind())
            .collect();
        OneRead {
            names,
            features,
            statuses,
        }
    }

    /// The row of a read of `plan`: per entity of the plan its key values, per
    /// request field its value, each looked up in `request` first, then in `keys`
    /// (as a table read's `request` columns replace its entities' columns of the
    /// same name) and typed as declared. A missing one, or one of another type, is
    /// the table read's error (`DataError`) naming it; other entries are ignored.
    pub fn row(
        &self,
        plan: &ReadPlan,
        keys: &Bound<'_, PyDict>,
        request: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<KeyRows> {
        let mut row = KeyRows {
            rows: 1,
            keys: Vec::with_capacity(plan.entities().len()),
            request: Vec::with_capacity(plan.fields().len()),
        };
        for &e in plan.entities() {
            let declared = self.names.entities.get(e).map_or(&[][..], |x| &x.keys);
            let mut values = Vec::with_capacity(declared.len());
            for (name, ty) in declared {
                values.push(cell(keys, request, name, *ty, "keys")?);
            }
            row.keys.push(vec![values]);
        }
        for (name, ty) in plan.fields() {
            row.request
                .push(vec![cell(keys, request, name, *ty, "request")?]);
        }
        Ok(row)
    }

    /// `vector` (the read of `plan`) as a dict: each feature's value, then with
    /// `statuses` each `FEATURE__status`, in the table read's column order.
    pub fn answer<'py>(
        &self,
        py: Python<'py>,
        plan: &ReadPlan,
        vector: &FeatureVector,
        statuses: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        let answered = || vector.features.iter().zip(plan.features());
        for (fv, &f) in answered() {
            let (Some(entry), Some(name)) = (self.names.features.get(f), self.features.get(f))
            else {
                continue;
            };
            dict.set_item(name.bind(py), to_python(py, &fv.value, entry.ty)?)?;
        }
        if statuses {
            for (fv, &f) in answered() {
                if let Some(name) = self.statuses.get(f) {
                    let status = PyString::intern(py, status_name(&fv.status));
                    dict.set_item(name.bind(py), status)?;
                }
            }
        }
        Ok(dict)
    }
}

/// The value of `name` (`request`'s, else `keys`') as type `ty`; when neither has
/// it, the error says `missing_from` has no `name`.
fn cell(
    keys: &Bound<'_, PyDict>,
    request: Option<&Bound<'_, PyDict>>,
    name: &str,
    ty: featc_runtime::ir::DataType,
    missing_from: &str,
) -> PyResult<Value> {
    let py = keys.py();
    let in_request = match request {
        Some(r) => r.get_item(name)?,
        None => None,
    };
    let (value, table) = match in_request {
        Some(v) => (v, "request"),
        None => match keys.get_item(name)? {
            Some(v) => (v, "keys"),
            None => {
                let missing = StreamError::MissingColumn {
                    table: missing_from.to_string(),
                    column: name.to_string(),
                };
                return Err(errors::stream_error(py, &missing));
            }
        },
    };
    value_of(&value, ty)?.map_err(|message| {
        let refused = StreamError::ColumnType {
            table: table.to_string(),
            column: name.to_string(),
            message,
        };
        errors::stream_error(py, &refused)
    })
}
