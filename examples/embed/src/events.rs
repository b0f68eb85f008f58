//! Building Arrow `RecordBatch`es of events, the unit `StreamRuntime::ingest` takes.
//! A real pipeline gets them from Kafka/Arrow Flight/Parquet; here they are built in
//! code so that the example's expectations follow from the rows themselves.

use std::error::Error;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::record_batch::RecordBatch;

/// One second, in the runtime's time unit (microseconds since the Unix epoch, UTC).
pub const SECOND: i64 = 1_000_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// A row of the `transactions` source (see examples/fraud/sources.feat).
#[derive(Debug, Clone)]
pub struct Txn {
    pub ts: i64,
    pub user_id: i64,
    pub merchant_id: &'static str,
    pub amount: Option<f64>,
    pub category: &'static str,
    pub is_mobile: Option<bool>,
}

/// A row of the `logins` source.
#[derive(Debug, Clone)]
pub struct Login {
    pub ts: i64,
    pub user_id: i64,
    pub success: bool,
    pub country: &'static str,
}

/// Microsecond UTC timestamps. Batches are matched to the source by column name; other
/// units and time zones would be converted by `ingest`.
fn timestamps(ts: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(ts.collect::<Vec<_>>()).with_timezone("UTC"))
}

pub fn transactions(rows: &[Txn]) -> Result<RecordBatch, Box<dyn Error>> {
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("ts", timestamps(rows.iter().map(|r| r.ts))),
        (
            "user_id",
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.user_id))),
        ),
        (
            "merchant_id",
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.merchant_id),
            )),
        ),
        (
            "amount",
            Arc::new(rows.iter().map(|r| r.amount).collect::<Float64Array>()),
        ),
        (
            "category",
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.category),
            )),
        ),
        (
            "is_mobile",
            Arc::new(rows.iter().map(|r| r.is_mobile).collect::<BooleanArray>()),
        ),
    ];
    Ok(RecordBatch::try_from_iter(columns)?)
}

pub fn logins(rows: &[Login]) -> Result<RecordBatch, Box<dyn Error>> {
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("ts", timestamps(rows.iter().map(|r| r.ts))),
        (
            "user_id",
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.user_id))),
        ),
        (
            "success",
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.success))
                    .collect::<BooleanArray>(),
            ),
        ),
        (
            "country",
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.country),
            )),
        ),
    ];
    Ok(RecordBatch::try_from_iter(columns)?)
}
