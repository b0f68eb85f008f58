//! What the streaming runtime's tests share: a `.feat` text compiled into the stream
//! graph of all its features, an event-time column (UTC microseconds), and every
//! feature of one int64-keyed entity read at a time.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
use featc::SourceFile;
use featc_runtime::stream::{FeatureValue, Keys, Read, Selection, StreamGraph, StreamRuntime};
use featc_runtime::value::Value;

/// The stream graph of every feature of the project in `text` (file `name`).
pub fn graph_of(name: &str, text: &str) -> StreamGraph {
    let files = [SourceFile {
        name: name.into(),
        text: text.into(),
    }];
    let project = featc::compile(&files).unwrap_or_else(|d| panic!("{d:?}"));
    featc::lower::stream::lower_stream(&project, &project.all_features()).expect("lower")
}

/// A non-null event-time field `name`.
pub fn time_field(name: &str) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        false,
    )
}

/// Event times (µs), as `time_field`'s column.
pub fn times(ts: impl IntoIterator<Item = i64>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from_iter_values(ts).with_timezone("UTC"))
}

/// Every feature of the entity keyed `key` (one int64), read at `t`.
pub fn features_at(rt: &StreamRuntime, key: i64, t: i64) -> Vec<FeatureValue> {
    rt.read(&Read::new(
        Keys::Entity(&[Value::Int64(key)]),
        Selection::All,
        t,
    ))
    .expect("read")
    .features
}
