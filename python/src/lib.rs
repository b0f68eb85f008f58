//! The `featc._featc` extension module: featc's compiler, training-set job and
//! embedded online store as Python classes. The Python package (`python/featc/`)
//! wraps it: it turns pandas, polars and dicts into Arrow and shows progress; this
//! crate moves Arrow data through the C data interface without copies and runs
//! featc's own engine with the GIL released.
//!
//! Layers (bottom first): errors, catalog | arrow, values, training | online_one | online | project

mod arrow;
mod catalog;
mod errors;
mod online;
mod online_one;
mod project;
mod training;
mod values;

use pyo3::prelude::*;

#[pymodule]
fn _featc(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // `Project.online(max_future=...)`'s default, `featc serve --max-future`'s.
    m.add(
        "DEFAULT_MAX_FUTURE_US",
        featc_server::config::DEFAULT_MAX_FUTURE_US,
    )?;
    m.add_class::<project::Project>()?;
    m.add_class::<online::OnlineStore>()?;
    m.add_function(wrap_pyfunction!(parse_size, m)?)?;
    Ok(())
}

/// A size as the CLI's `--memory-limit` reads it (`4GiB`, `512M`, bytes), in bytes.
#[pyfunction]
fn parse_size(text: &str) -> PyResult<usize> {
    featc_runtime::batch::resources::parse_size(text)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}
