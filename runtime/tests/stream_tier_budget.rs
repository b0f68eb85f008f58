//! The disk tier's cache keeps to its budget: while a state many times the budget is
//! ingested, the bytes the cache counts plus its estimate of what the states pushed
//! since grew by stay within the budget (the estimate lets pushes skip counting while
//! there is room, and is settled before it runs out), entities go to the store and
//! come back, and the values equal a runtime that holds everything in memory.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::stream::{MemoryStore, StreamRuntime, Tier};
use featc_runtime::value::Value;

use crate::stream_support::{features_at, graph_of, time_field, times};

const PROJECT: &str = "
source payments {
    time ts
    columns {
        user:   int64
        amount: float64?
    }
}
entity user { key user: int64 }
view spend from payments by user {
    feature n_1d       = count(*) over 1d
    feature max_1d     = max(amount) over 1d
    feature distinct_1d = count_distinct(amount) over 1d
    feature last_1h    = last(amount) over 1h
}
";

const USERS: i64 = 2_000;
const BATCH: i64 = 200;
const BATCHES: i64 = 600;
const BUDGET: usize = 1 << 20;

fn runtime(tier: Option<Tier>) -> StreamRuntime {
    StreamRuntime::with_tier(graph_of("budget.feat", PROJECT), Default::default(), tier)
        .expect("runtime")
}

/// Batch `b`: event `i` of user `i * 7 % USERS`, a second apart, amounts cycling.
fn payments(b: i64) -> RecordBatch {
    payments_of(b, |i| i * 7 % USERS)
}

/// The user of event `i` drawn at random (not in a cycle, where no cache but one
/// that never changes what it holds would keep anything).
fn random_user(i: i64) -> i64 {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    (x % USERS as u64) as i64
}

/// Batch `b`, each event `i` of user `user(i)`.
fn payments_of(b: i64, user: impl Fn(i64) -> i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        time_field("ts"),
        Field::new("user", DataType::Int64, false),
        Field::new("amount", DataType::Float64, true),
    ]));
    let rows = b * BATCH..(b + 1) * BATCH;
    let ts = times(rows.clone().map(|i| i * 1_000_000));
    let user: ArrayRef = Arc::new(Int64Array::from_iter_values(rows.clone().map(user)));
    let amount: ArrayRef = Arc::new(Float64Array::from_iter_values(
        rows.map(|i| (i % 997) as f64),
    ));
    RecordBatch::try_new(schema, vec![ts, user, amount]).expect("batch")
}

fn values(rt: &StreamRuntime, user: i64, t: i64) -> Vec<Value> {
    features_at(rt, user, t)
        .into_iter()
        .map(|f| f.value)
        .collect()
}

#[test]
fn the_cache_keeps_to_its_budget_and_answers_as_memory_does() {
    let tier = Tier {
        store: Arc::new(MemoryStore::default()),
        cache_bytes: BUDGET,
    };
    let mut tiered = runtime(Some(tier));
    let mut held = runtime(None);
    let mut deferred = false;
    for b in 0..BATCHES {
        let batch = payments(b);
        tiered.ingest("payments", &batch).expect("ingest");
        held.ingest("payments", &batch).expect("ingest");
        let m = tiered.tier_metrics();
        assert!(
            m.cached_bytes + m.pending_bytes <= m.budget_bytes,
            "batch {b}: {m:?}"
        );
        deferred |= m.pending_bytes > 0;
    }
    assert!(deferred, "with room to spare a push does not count");
    let in_memory = held.metrics().state_bytes as usize;
    assert!(
        in_memory > 4 * BUDGET,
        "the state ({in_memory} B) must dwarf the budget"
    );
    tiered.compact().unwrap();
    let m = tiered.tier_metrics();
    assert_eq!(m.pending_bytes, 0, "{m:?}");
    assert!(m.cached_bytes <= m.budget_bytes, "{m:?}");
    assert!(m.evictions > 0 && m.loads > 0, "{m:?}");
    let end = BATCHES * BATCH * 1_000_000;
    for user in (0..USERS).step_by(37) {
        assert_eq!(
            values(&tiered, user, end),
            values(&held, user, end),
            "user {user}"
        );
    }
}

/// The clock evicts over every shard in turn: most entities the last push touched are
/// still held, whichever shard they hash to, when the cache holds a few pushes'
/// entities (a clock keeps them all only with a hand slower than a push). (Evicting one shard until the budget held again emptied it first, the
/// entities just pushed included, while other shards kept entities untouched for
/// hundreds of pushes.)
#[test]
fn the_cache_keeps_the_entities_pushed_last() {
    let tier = Tier {
        store: Arc::new(MemoryStore::default()),
        cache_bytes: 4 * BUDGET,
    };
    let mut tiered = runtime(Some(tier));
    for b in 0..BATCHES {
        tiered
            .ingest("payments", &payments_of(b, random_user))
            .expect("ingest");
    }
    tiered.compact().unwrap();
    let before = tiered.tier_metrics();
    assert!(before.evictions > 0, "{before:?}");
    assert!(before.held as i64 > 2 * BATCH, "{before:?}");
    let end = BATCHES * BATCH * 1_000_000;
    for i in (BATCHES - 1) * BATCH..BATCHES * BATCH {
        values(&tiered, random_user(i), end);
    }
    let loaded = tiered.tier_metrics().loads - before.loads;
    assert!(
        loaded * 3 <= BATCH as u64,
        "{loaded} of the {BATCH} entities pushed last had left the cache ({before:?})"
    );
}
