//! Cases written by hand for the equivalence checks (dates, decimals, list columns):
//! a fixture's project over events and a spine the test lays out, replayed in order.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;

use crate::gen::{GenCase, ReplaySettings};

/// `feat`'s project over `events` (the source `events`; `clicks` and `taps` empty),
/// read at `spine`'s rows for `features`. The stream replays the events in order, two
/// a batch and one a fold, so that every window edge the test placed is met between
/// two batches; `seed` only names the replay.
pub fn hand_case(
    feat: String,
    events: RecordBatch,
    spine: RecordBatch,
    features: &[&str],
    seed: u64,
) -> GenCase {
    GenCase {
        feat,
        clicks: events.slice(0, 0),
        taps: events.slice(0, 0),
        events,
        spine,
        features: features.iter().map(|f| f.to_string()).collect(),
        lateness_us: 0,
        replay: ReplaySettings {
            disorder_us: 0,
            batch_size: 2,
            seed,
            fold_run: 1,
        },
    }
}

/// A spine of one int64 key column named `key` and the time `ts`: `(key, time in
/// microseconds)` per row.
pub fn key_spine(key: &str, rows: &[(i64, i64)]) -> RecordBatch {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let schema = Arc::new(Schema::new(vec![
        Field::new(key, DataType::Int64, true),
        Field::new("ts", ts, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        )),
        Arc::new(
            TimestampMicrosecondArray::from(rows.iter().map(|r| r.1).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
    ];
    RecordBatch::try_new(schema, columns).expect("a spine of a key and a time")
}
