//! The floor: what a hand-written streaming job computing just `count(*) over 1h` and
//! `sum(amount) over 1d` per user would do: a `HashMap` to a per-user `VecDeque` of
//! events sorted by time, a running f64 sum (not exact: it drifts, which featc may not
//! do), evicting on ingest and at read. No generality, no expressions, no exactness.

use std::collections::{HashMap, VecDeque};

use datafusion::arrow::array::{Array, Float64Array, Int64Array, TimestampMicrosecondArray};
use datafusion::arrow::record_batch::RecordBatch;

const HOUR_US: i64 = 3_600_000_000;
const DAY_US: i64 = 24 * HOUR_US;

#[derive(Default)]
struct Key {
    /// Event times in the last hour, sorted.
    hour: VecDeque<i64>,
    /// (time, amount) of non-null amounts in the last day, sorted.
    day: VecDeque<(i64, f64)>,
    sum: f64,
    newest: i64,
}

/// Inserts keeping the deque sorted (events arrive almost in order: scan from the back).
fn insert_sorted<T>(d: &mut VecDeque<T>, x: T, ts: impl Fn(&T) -> i64) {
    let t = ts(&x);
    let mut i = d.len();
    while i > 0 && ts(&d[i - 1]) > t {
        i -= 1;
    }
    d.insert(i, x);
}

impl Key {
    /// Drops what no read at or after `horizon` can need.
    fn evict(&mut self, horizon: i64) {
        while self.hour.front().is_some_and(|&t| t <= horizon - HOUR_US) {
            self.hour.pop_front();
        }
        while let Some(&(t, a)) = self.day.front() {
            if t > horizon - DAY_US {
                break;
            }
            self.sum -= a;
            self.day.pop_front();
        }
    }
}

pub struct Floor {
    ids: HashMap<i64, usize>,
    keys: Vec<Key>,
    lateness_us: i64,
}

impl Floor {
    pub fn new(lateness_us: i64) -> Floor {
        Floor {
            ids: HashMap::new(),
            keys: Vec::new(),
            lateness_us,
        }
    }

    pub fn ingest(&mut self, batch: &RecordBatch) {
        let col = |name: &str| batch.column_by_name(name).map(|c| c.as_any());
        let (Some(user), Some(ts), Some(amount)) = (
            col("user_id").and_then(|c| c.downcast_ref::<Int64Array>()),
            col("ts").and_then(|c| c.downcast_ref::<TimestampMicrosecondArray>()),
            col("amount").and_then(|c| c.downcast_ref::<Float64Array>()),
        ) else {
            return;
        };
        for row in 0..batch.num_rows() {
            let next = self.keys.len();
            let id = *self.ids.entry(user.value(row)).or_insert(next);
            if id == next {
                self.keys.push(Key::default());
            }
            let k = &mut self.keys[id];
            let t = ts.value(row);
            insert_sorted(&mut k.hour, t, |x| *x);
            if amount.is_valid(row) {
                let a = amount.value(row);
                insert_sorted(&mut k.day, (t, a), |x| x.0);
                k.sum += a;
            }
            k.newest = k.newest.max(t);
            let horizon = k.newest - self.lateness_us;
            k.evict(horizon);
        }
    }

    /// (count over 1h, sum over 1d) of `user` at `t` (reads come at non-decreasing times
    /// after the last event, like the benchmark's).
    pub fn read(&mut self, user: i64, t: i64) -> (i64, f64) {
        let Some(&id) = self.ids.get(&user) else {
            return (0, 0.0);
        };
        let k = &mut self.keys[id];
        k.evict(t);
        (k.hour.len() as i64, k.sum)
    }

    pub fn entities(&self) -> usize {
        self.keys.len()
    }

    /// Bytes held: deque capacities, the key structs and the id map.
    pub fn state_bytes(&self) -> usize {
        let keys: usize = self
            .keys
            .iter()
            .map(|k| std::mem::size_of::<Key>() + k.hour.capacity() * 8 + k.day.capacity() * 16)
            .sum();
        keys + self.ids.capacity() * (16 + 8)
    }
}
