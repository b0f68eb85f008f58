//! The `featc._featc` extension module: featc's compiler and runtimes as Python classes.

use pyo3::prelude::*;

#[pymodule]
fn _featc(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
