//! What the core's tests share: a small graph (source `clicks` with `user_id` and
//! `amount`; per user, `clicks_1h = count(*)` and `amount_avg_1h = avg(amount)` over
//! an hour; `featc build --emit stream-json` of that project) and its events.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, TimestampMicrosecondArray};
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::row::types::UTC;
use featc_runtime::stream::{Options, StreamGraph};

use super::check::{CheckedPush, PushCheck};
use super::ledger::Ledger;
use super::online::OnlineState;
use super::recover::{open, Replay};
use crate::config::StateConfig;
pub use crate::durable::temp::TempDir;

pub fn graph() -> StreamGraph {
    StreamGraph::from_json(include_str!("testdata/clicks.graph.json")).unwrap()
}

/// `clicks` events: (µs since the epoch, user, amount).
pub fn clicks(rows: &[(i64, i64, f64)]) -> RecordBatch {
    let ts: ArrayRef = Arc::new(
        TimestampMicrosecondArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())
            .with_timezone(UTC),
    );
    let user: ArrayRef = Arc::new(Int64Array::from(
        rows.iter().map(|r| r.1).collect::<Vec<_>>(),
    ));
    let amount: ArrayRef = Arc::new(Float64Array::from(
        rows.iter().map(|r| r.2).collect::<Vec<_>>(),
    ));
    RecordBatch::try_from_iter([("ts", ts), ("user_id", user), ("amount", amount)]).unwrap()
}

/// The state of `graph()` (one copy), in `dir` or in memory, with its checker.
pub fn opened(dir: Option<&std::path::Path>) -> (OnlineState, Ledger, PushCheck) {
    opened_with(dir, StateConfig::embedded(Options::default()))
}

/// `opened` under `config`.
pub fn opened_with(
    dir: Option<&std::path::Path>,
    config: StateConfig,
) -> (OnlineState, Ledger, PushCheck) {
    let (state, ledger, _) = open(graph(), config, dir, Replay::SERVER).unwrap();
    let check = PushCheck::new(
        state.graph(),
        Options::default(),
        Arc::clone(state.names()),
        crate::config::DEFAULT_MAX_FUTURE_US,
    )
    .unwrap();
    (state, ledger, check)
}

/// A checked push of `rows` with `key`.
pub fn push(check: &PushCheck, rows: &[(i64, i64, f64)], key: Option<&str>) -> CheckedPush {
    check
        .check("clicks", clicks(rows))
        .unwrap()
        .with_key(key.map(str::to_string))
}
