//! One copy of the state, read while it is written: several threads read through
//! `StreamReader`s while one `ingest` applies a batch of a million events. Reads must
//! go on during the ingest (never wait for all of it), and each read of an entity
//! must answer from a prefix of that entity's events: a count between the one
//! before the batch and the one after, never going back for a reader.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::stream::{Keys, MemoryStore, Read, Selection, StreamRuntime, Tier};
use featc_runtime::value::Value;

use crate::stream_support::{graph_of, time_field, times};

const PROJECT: &str = "
source clicks {
    time ts
    columns { user: int64 }
}
entity user { key user: int64 }
view activity from clicks by user {
    feature total = count(*)
}
";

const T0: i64 = 1_709_294_400_000_000;
const USERS: i64 = 1_000;
const EVENTS: i64 = 1_000_000;

fn runtime(tier: Option<Tier>) -> StreamRuntime {
    StreamRuntime::with_tier(
        graph_of("concurrent.feat", PROJECT),
        Default::default(),
        tier,
    )
    .expect("runtime")
}

/// Events `from..to`, event `i` of user `i % USERS` at `T0 + i` µs.
fn clicks(from: i64, to: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        time_field("ts"),
        Field::new("user", DataType::Int64, false),
    ]));
    let ts = times((from..to).map(|i| T0 + i));
    let user: ArrayRef = Arc::new(Int64Array::from_iter_values((from..to).map(|i| i % USERS)));
    RecordBatch::try_new(schema, vec![ts, user]).expect("batch")
}

fn total(reader: &featc_runtime::stream::StreamReader, user: i64) -> i64 {
    let key = [Value::Int64(user)];
    let read = Read::new(Keys::Entity(&key), Selection::All, T0 + 2 * EVENTS);
    match reader.read(&read).expect("a read").features[0].value {
        Value::Int64(n) => n,
        ref v => panic!("a count of {v:?}"),
    }
}

/// Runs the check on `rt`: returns, per reader, the reads it finished during the
/// ingest and whether it saw a count strictly between before and after.
fn read_while_ingesting(mut rt: StreamRuntime) {
    rt.ingest("clicks", &clicks(0, USERS))
        .expect("first events");
    let big = clicks(USERS, USERS + EVENTS);
    let per_user = 1 + EVENTS / USERS;
    let pushing = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..4)
        .map(|r| {
            let (reader, pushing, started) =
                (rt.reader(), Arc::clone(&pushing), Arc::clone(&started));
            std::thread::spawn(move || {
                let mut last = vec![1i64; USERS as usize];
                started.fetch_add(1, SeqCst);
                while !pushing.load(SeqCst) {
                    std::hint::spin_loop();
                }
                let (mut during, mut between) = (0u64, false);
                let mut u = r as i64;
                while pushing.load(SeqCst) {
                    let n = total(&reader, u);
                    let seen = &mut last[u as usize];
                    assert!(
                        (*seen..=per_user).contains(&n),
                        "user {u}: {n} after {seen} (at most {per_user})"
                    );
                    between |= 1 < n && n < per_user;
                    *seen = n;
                    if pushing.load(SeqCst) {
                        during += 1;
                    }
                    u = (u + 7) % USERS;
                }
                (during, between)
            })
        })
        .collect();
    while started.load(SeqCst) < 4 {
        std::hint::spin_loop();
    }
    pushing.store(true, SeqCst);
    rt.ingest("clicks", &big).expect("a million events");
    pushing.store(false, SeqCst);
    for (r, t) in readers.into_iter().enumerate() {
        let (during, between) = t.join().expect("reader");
        // A reader that waited for the whole ingest would finish at most one read
        // during it.
        assert!(
            during >= 20,
            "reader {r} finished {during} reads during the ingest"
        );
        assert!(between, "reader {r} never saw the ingest part way");
    }
    let reader = rt.reader();
    for u in 0..USERS {
        assert_eq!(total(&reader, u), per_user, "user {u} after the ingest");
    }
}

#[test]
fn reads_go_on_and_see_prefixes_while_a_million_events_are_ingested() {
    read_while_ingesting(runtime(None));
}

/// The same with the entity states in a disk tier whose cache holds about half of
/// them: reads load and evict while the ingest does.
#[test]
fn on_a_disk_tier_reads_go_on_while_a_million_events_are_ingested() {
    let tier = Tier {
        store: Arc::new(MemoryStore::default()),
        cache_bytes: 64 << 10,
    };
    read_while_ingesting(runtime(Some(tier)));
}
