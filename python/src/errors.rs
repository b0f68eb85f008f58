//! featc's errors as the Python exceptions of `featc.errors`: the one place a Rust
//! error becomes a Python one.

use featc::files::ReadError;
use featc::job::JobError;
use featc::SourceFile;
use featc_runtime::stream::StreamError;
use featc_server::state::{PushError, ReadError as OnlineReadError, StateError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// `featc.errors.Error` (or its subclass `class`) with `message`, as a `PyErr`.
pub fn error(py: Python<'_>, class: &str, message: impl ToString) -> PyErr {
    let made = py
        .import("featc.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|class| class.call1((message.to_string(),)));
    match made {
        Ok(instance) => PyErr::from_value(instance),
        Err(e) => e,
    }
}

/// A project that does not compile: the CLI's rendered text, and each diagnostic as
/// a `featc.Diagnostic`.
pub fn compile_error(
    py: Python<'_>,
    diagnostics: &featc::Diagnostics,
    files: &[SourceFile],
) -> PyErr {
    let text = diagnostics.render(files, false);
    let n = diagnostics.len();
    let message = format!(
        "{text}error: {n} error{} found",
        if n == 1 { "" } else { "s" }
    );
    let located = diagnostics.located(files);
    let made = (|| -> PyResult<PyErr> {
        let module = py.import("featc.errors")?;
        let class = module.getattr("Diagnostic")?;
        let mut items = Vec::with_capacity(located.len());
        for d in located {
            let kwargs = PyDict::new(py);
            kwargs.set_item("code", d.code)?;
            kwargs.set_item("severity", "error")?;
            kwargs.set_item("message", d.message)?;
            kwargs.set_item("file", d.file)?;
            kwargs.set_item("line", d.line)?;
            kwargs.set_item("column", d.column)?;
            kwargs.set_item("hint", d.help)?;
            items.push(class.call((), Some(&kwargs))?);
        }
        let instance = module.getattr("CompileError")?.call1((message, items))?;
        Ok(PyErr::from_value(instance))
    })();
    made.unwrap_or_else(|e| e)
}

pub fn read_error(py: Python<'_>, e: ReadError) -> PyErr {
    match e {
        ReadError::Io(message) => error(py, "Error", message),
        ReadError::Undecodable(u) => compile_error(py, &u.diagnostics, &u.files),
    }
}

pub fn job_error(py: Python<'_>, e: JobError) -> PyErr {
    let class = match &e {
        JobError::UnknownName { .. } => "UnknownNameError",
        JobError::Input(_) | JobError::Data(_) => "DataError",
        JobError::Failed(_) => "Error",
    };
    error(py, class, e)
}

pub fn stream_error(py: Python<'_>, e: &StreamError) -> PyErr {
    let class = match e {
        StreamError::UnknownSource(_) | StreamError::UnknownFeature(_) => "UnknownNameError",
        StreamError::ReadBeforeHorizon { .. } => "Error",
        _ => "DataError",
    };
    error(py, class, e)
}

/// A push the embedded store did not acknowledge.
pub fn push_error(py: Python<'_>, e: PushError) -> PyErr {
    match e {
        e @ PushError::UnknownSource { .. } => error(py, "UnknownNameError", e),
        e @ (PushError::UndeclaredColumn { .. }
        | PushError::FirstRefused
        | PushError::FutureEvent(_)) => error(py, "DataError", e),
        PushError::Refused { error: e, .. } => stream_error(py, &e),
        PushError::Storage(e) => error(py, "StateError", e),
        e @ PushError::Stopped => error(py, "Error", e),
    }
}

/// A read the embedded store refused.
pub fn online_read_error(py: Python<'_>, e: OnlineReadError) -> PyErr {
    match e {
        e @ OnlineReadError::BeforeHorizon { .. } => error(py, "Error", e),
        OnlineReadError::Refused(e) => stream_error(py, &e),
    }
}

/// The embedded store's state directory (or checkpoint) failed.
pub fn state_error(py: Python<'_>, e: StateError) -> PyErr {
    error(py, "StateError", e)
}
