//! Deterministic synthetic events for tests/cases/synthetic/features.feat, with the
//! distribution of bench/peers/gen.py (Zipf-Mandelbrot users, 60 days, ~2% (user, ts)
//! ties, lognormal amounts with ~2% nulls, 8 skewed categories with ~1% nulls, ~1%
//! null `is_mobile`), but delivered like a live stream: in event-time order with a
//! bounded disorder (each event arrives at `ts + U[0, disorder)`), in Arrow batches.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;

use crate::rng::{cumulative, Rng};

pub const START_US: i64 = 1_704_067_200_000_000; // 2024-01-01T00:00:00Z
pub const DAY_US: i64 = 86_400_000_000;
pub const SPAN_US: i64 = 60 * DAY_US;
const CATEGORIES: [&str; 8] = [
    "grocery", "fuel", "travel", "dining", "online", "pharmacy", "cash", "gaming",
];
const CATEGORY_P: [f64; 8] = [0.30, 0.15, 0.05, 0.20, 0.15, 0.07, 0.05, 0.03];

/// One generated event.
#[derive(Clone, Copy)]
struct Event {
    user: i64,
    ts: i64,
    amount: Option<f64>,
    category: Option<u8>,
    mobile: Option<bool>,
}

/// The generated stream.
pub struct Events {
    /// In arrival order.
    pub batches: Vec<RecordBatch>,
    pub rows: usize,
    /// User ids by popularity rank, and the cumulative weights of the ranks (readers
    /// pick users with the same skew as the events).
    pub users: Vec<i64>,
    pub user_weights: Vec<f64>,
    pub max_ts: i64,
}

/// `n` events of `k` users (at least one), in batches of `batch_rows`.
pub fn generate(n: usize, k: usize, batch_rows: usize, disorder_us: i64, seed: u64) -> Events {
    let mut rng = Rng::new(seed);
    let k = k.max(1);
    let user_weights = cumulative((1..=k).map(|r| 1.0 / (r as f64 + 20.0)));
    let mut users: Vec<i64> = (0..k as i64).map(|i| 1000 + i).collect();
    rng.shuffle(&mut users); // id order != popularity

    let mut ts: Vec<i64> = (0..n)
        .map(|_| START_US + rng.below(SPAN_US as u64) as i64)
        .collect();
    ts.sort_unstable();
    let category_w = cumulative(CATEGORY_P.iter().copied());
    let mut last_ts = vec![i64::MIN; k];
    let mut events: Vec<(i64, Event)> = ts
        .into_iter()
        .map(|t| {
            let rank = rng.pick(&user_weights);
            // ~2% copy the previous event time of the same user: (user, ts) ties.
            let t = if rng.f64() < 0.02 && last_ts[rank] != i64::MIN {
                last_ts[rank]
            } else {
                t
            };
            last_ts[rank] = t;
            let amount = (rng.f64() >= 0.02)
                .then(|| ((3.0 + 1.2 * rng.normal()).exp() * 100.0).round() / 100.0);
            let category = (rng.f64() >= 0.01).then(|| rng.pick(&category_w) as u8);
            let mobile = (rng.f64() >= 0.01).then(|| rng.f64() < 0.4);
            let arrival = t + if disorder_us > 0 {
                rng.below(disorder_us as u64) as i64
            } else {
                0
            };
            (
                arrival,
                Event {
                    user: users[rank],
                    ts: t,
                    amount,
                    category,
                    mobile,
                },
            )
        })
        .collect();
    // Stable: equal arrival times keep generation order.
    events.sort_by_key(|e| e.0);
    let max_ts = events.iter().map(|e| e.1.ts).max().unwrap_or(START_US);
    let batches = events.chunks(batch_rows.max(1)).map(batch).collect();
    Events {
        batches,
        rows: n,
        users,
        user_weights,
        max_ts,
    }
}

pub fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Int64, false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("amount", DataType::Float64, true),
        Field::new("category", DataType::Utf8, true),
        Field::new("is_mobile", DataType::Boolean, true),
    ]))
}

fn batch(rows: &[(i64, Event)]) -> RecordBatch {
    let e = || rows.iter().map(|r| r.1);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(e().map(|x| x.user))),
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(e().map(|x| x.ts)).with_timezone("UTC"),
        ),
        Arc::new(e().map(|x| x.amount).collect::<Float64Array>()),
        Arc::new(
            e().map(|x| x.category.map(|c| CATEGORIES[c as usize]))
                .collect::<StringArray>(),
        ),
        Arc::new(e().map(|x| x.mobile).collect::<BooleanArray>()),
    ];
    // The columns match `schema()` by construction.
    RecordBatch::try_new(schema(), columns).expect("generated batch matches its schema")
}
