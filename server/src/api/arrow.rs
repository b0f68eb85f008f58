//! Arrow bodies: the reads and pushes of `featc.Client` (the Python package) send and
//! receive Arrow IPC streams instead of JSON, so a remote read answers the very table
//! the embedded store answers (same columns, types and bits) and a push carries its
//! columns without a text round trip. Which form a request has is its
//! `Content-Type`; its parameters are in the query string.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::record_batch::RecordBatch;

use super::arrow_bounds::Bounds;
use super::bad;
use super::error::ApiError;

/// The media type of an Arrow IPC stream (the Apache Arrow project's).
pub const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";

/// Whether the request's body is an Arrow IPC stream.
pub fn is_arrow(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(ARROW_STREAM))
}

/// The body's rows as one batch (a stream of several batches is concatenated; an
/// empty stream is a batch of no rows), once its declared lengths are checked
/// against the bytes present and `bounds` (`arrow_bounds`).
pub fn decode(body: &Bytes, bounds: Bounds) -> Result<RecordBatch, ApiError> {
    super::arrow_bounds::check(body, bounds)?;
    let unreadable = |e: &dyn std::fmt::Display| {
        bad(
            "body",
            format!("cannot read the body as an Arrow IPC stream: {e}"),
        )
    };
    let reader = StreamReader::try_new(std::io::Cursor::new(body.as_ref()), None)
        .map_err(|e| unreadable(&e))?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(&e))?;
    concat_batches(&schema, &batches).map_err(|e| unreadable(&e))
}

/// `batch` as an Arrow IPC stream answer.
pub fn answer(batch: &RecordBatch) -> Result<Response, ApiError> {
    let mut out = Vec::with_capacity(batch.get_array_memory_size() + 1024);
    let written = (|| {
        let mut writer = StreamWriter::try_new(&mut out, &batch.schema())?;
        writer.write(batch)?;
        writer.finish()
    })();
    written.map_err(|e| ApiError::Storage(format!("cannot write the answer: {e}")))?;
    Ok(([(header::CONTENT_TYPE, ARROW_STREAM)], out).into_response())
}

/// The query string's parameters, each allowed once and only those in `allowed`
/// (an unknown one is refused with the closest known name).
pub fn query<'a>(uri: &Uri, allowed: &[&'a str]) -> Result<Vec<(&'a str, String)>, ApiError> {
    let pairs = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes());
    let mut out: Vec<(&'a str, String)> = Vec::new();
    for (name, value) in pairs {
        let Some(&known) = allowed.iter().find(|a| **a == name) else {
            return Err(ApiError::UnknownField {
                suggestion: crate::names::closest(&name, allowed.iter().copied()),
                field: name.into_owned(),
            });
        };
        if out.iter().any(|(n, _)| *n == known) {
            return Err(bad(known, "given more than once"));
        }
        out.push((known, value.into_owned()));
    }
    Ok(out)
}

/// The value of parameter `name` among `params`.
pub fn param<'p>(params: &'p [(&str, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}
