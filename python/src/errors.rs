//! featc's errors as the Python exceptions of `featc.errors`: the one place a Rust
//! error becomes a Python one.

use featc::files::ReadError;
use featc::job::JobError;
use featc::SourceFile;
use featc_runtime::row::duration;
use featc_runtime::row::time::EpochError;
use featc_runtime::stream::StreamError;
use featc_server::embedded::EmbeddedReadError;
use featc_server::state::{FutureEvent, PushError, ReadError as OnlineReadError, StateError};
use featc_server::wire::time::format_time;
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
        e @ (PushError::UndeclaredColumn { .. } | PushError::FirstRefused) => {
            error(py, "DataError", e)
        }
        PushError::FutureEvent(e) => error(py, "DataError", future_event(&e)),
        PushError::Refused { error: e, .. } => stream_error(py, &e),
        PushError::Storage(e) => error(py, "StateError", e),
        e @ PushError::Stopped => error(py, "Error", e),
    }
}

/// An event past the store's `max_future`, in the words of the runtime's data errors
/// (source, row, column) and naming the store's option, not the server's flag.
fn future_event(e: &FutureEvent) -> String {
    let (row, time) = e.first();
    let others = match e.rows.len() {
        1 => String::new(),
        n => format!(" ({n} rows are)"),
    };
    format!(
        "`{}` row {row}, column `{}`: event time {} is more than {} ahead of the wall clock (max_future){others}",
        e.source,
        e.column,
        format_time(time),
        duration::display(e.max_future_us)
    )
}

/// A read the embedded store refused.
pub fn online_read_error(py: Python<'_>, e: EmbeddedReadError) -> PyErr {
    match e {
        EmbeddedReadError::At(e) => error(py, "Error", read_time(&e)),
        EmbeddedReadError::Read(e @ OnlineReadError::BeforeHorizon { .. }) => error(py, "Error", e),
        EmbeddedReadError::Read(OnlineReadError::Refused(e)) => stream_error(py, &e),
    }
}

/// A read's integer `at` that is not microseconds: the runtime's advice is a
/// source's, which a read has not.
fn read_time(e: &EpochError) -> String {
    match e {
        EpochError::Implausible { value, looks_like } => format!(
            "at: the integer {value} is not 16-digit microseconds since 1970 (2001-09-09 to 2286-11-20){}; give integer microseconds, a datetime or an ISO 8601 string",
            match looks_like {
                Some(unit) => format!(
                    "; {} digits look like `epoch {}`",
                    unit.present_digits(),
                    unit.name()
                ),
                None => String::new(),
            }
        ),
        other => format!("at: {other}"),
    }
}

/// The embedded store's state directory (or checkpoint) failed.
pub fn state_error(py: Python<'_>, e: StateError) -> PyErr {
    error(py, "StateError", e)
}
