//! `count_distinct(x)`: the number of distinct non-null values, exact, under SQL's
//! equality (`-0.0` and `+0.0` are one value, as `=` and `in` say; all NaNs are one).

use datafusion::common::HashMap;

use super::{AggError, Aggregation, Invertible, ValueRun};
use crate::snapshot::{vec_with_capacity, Persist, Reader, SnapshotError, Writer};
use crate::value::{Value, ValueKey};

#[derive(Debug, Clone, Copy, Default)]
pub struct CountDistinct;

/// Value -> multiplicity; a value leaves when its multiplicity reaches zero, so the
/// number of entries is the distinct count and removal is exact. Few distinct values
/// (the usual window) live in a vector searched in place: interned strings compare
/// by pointer first, and nothing is hashed or cloned to find one. Past `SMALL`
/// values the entries move to a hash map (DataFusion's hashbrown with foldhash: every
/// windowed event goes through it twice, and SipHash showed in the stream profile).
#[derive(Debug, Clone, Default)]
pub struct DistinctState {
    small: Vec<(ValueKey, u64)>,
    large: Option<Large>,
}

/// The hash map of many distinct values, and the most entries it ever held: a hash
/// table never shrinks, so its size follows from that peak. Memory is accounted from
/// the peak rather than from the table's own `capacity()`, which also depends on
/// where past removals left tombstones: a table rebuilt from a snapshot holds the
/// same entries without them, and must account the same.
#[derive(Debug, Clone)]
struct Large {
    map: HashMap<ValueKey, u64>,
    peak: usize,
}

/// The capacity hashbrown gives a table sized for `items` entries (its
/// `capacity_to_buckets`, then 7/8 of the buckets).
fn table_capacity(items: usize) -> usize {
    let buckets = match items {
        0..4 => 4,
        4..8 => 8,
        _ => (items.saturating_mul(8) / 7).next_power_of_two(),
    };
    if buckets < 8 {
        buckets - 1
    } else {
        buckets / 8 * 7
    }
}

/// Distinct values kept in the vector before moving to the hash map.
const SMALL: usize = 16;

/// True when `stored` (a `distinct_key`) and `v` count as one value: SQL equality,
/// with every NaN one value.
#[inline]
fn same(stored: &Value, v: &Value) -> bool {
    match (stored, v) {
        (Value::Float64(a), Value::Float64(b)) => a == b || (a.is_nan() && b.is_nan()),
        (a, b) => a.total_eq(b),
    }
}

impl DistinctState {
    /// The index of `v`'s entry in the vector. Interned strings (the stream's) are
    /// found by pointer before any bytes are compared.
    #[inline]
    fn position(&self, v: &Value) -> Option<usize> {
        if let Value::String(a) = v {
            let by_pointer = self
                .small
                .iter()
                .position(|e| matches!(&e.0 .0, Value::String(b) if std::sync::Arc::ptr_eq(a, b)));
            if by_pointer.is_some() {
                return by_pointer;
            }
        }
        self.small.iter().position(|e| same(&e.0 .0, v))
    }

    /// Number of distinct values.
    pub fn len(&self) -> usize {
        match &self.large {
            Some(l) => l.map.len(),
            None => self.small.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `n` occurrences of non-null `v`.
    #[inline]
    fn add(&mut self, v: &Value, n: u64) {
        if let Some(l) = &mut self.large {
            *l.map.entry(distinct_key(v)).or_insert(0) += n;
            l.peak = l.peak.max(l.map.len());
            return;
        }
        if let Some(i) = self.position(v) {
            self.small[i].1 += n;
            return;
        }
        if self.small.len() < SMALL {
            self.small.push((distinct_key(v), n));
            return;
        }
        let mut map: HashMap<ValueKey, u64> = self.small.drain(..).collect();
        map.insert(distinct_key(v), n);
        let peak = map.len();
        self.large = Some(Large { map, peak });
    }

    /// Removes up to `n` occurrences of non-null `v` (the value leaves at zero).
    #[inline]
    fn sub(&mut self, v: &Value, n: u64) {
        if let Some(Large { map: m, .. }) = &mut self.large {
            let key = distinct_key(v);
            if let Some(c) = m.get_mut(&key) {
                *c = c.saturating_sub(n);
                if *c == 0 {
                    m.remove(&key);
                }
            }
            return;
        }
        if let Some(i) = self.position(v) {
            let c = &mut self.small[i].1;
            *c = c.saturating_sub(n);
            if *c == 0 {
                self.small.swap_remove(i);
            }
        }
    }

    /// Every (value, multiplicity).
    fn entries(&self) -> Vec<(ValueKey, u64)> {
        match &self.large {
            Some(l) => l.map.iter().map(|(k, c)| (k.clone(), *c)).collect(),
            None => self.small.clone(),
        }
    }

    /// Entries the state has room for, as memory accounting counts them (the map's
    /// from its peak, see `Large`).
    fn capacity(&self) -> usize {
        match &self.large {
            Some(l) => table_capacity(l.peak),
            None => self.small.capacity(),
        }
    }
}

/// The key `v` is counted under: `Value::canonical` (one NaN), with `-0.0` as `+0.0`.
#[inline]
pub(super) fn distinct_key(v: &Value) -> ValueKey {
    match v {
        Value::Float64(x) if *x == 0.0 => ValueKey(Value::Float64(0.0)),
        v => ValueKey(v.canonical()),
    }
}

impl Aggregation for CountDistinct {
    type State = DistinctState;
    const INVERTIBLE: bool = true;

    fn identity(&self) -> DistinctState {
        DistinctState::default()
    }

    fn combine(&self, into: &mut DistinctState, other: &DistinctState) {
        for (k, c) in other.entries() {
            into.add(&k.0, c);
        }
    }

    fn finish(&self, s: &DistinctState) -> Result<Value, AggError> {
        Ok(Value::Int64(s.len() as i64))
    }

    #[inline]
    fn insert(&self, s: &mut DistinctState, _ts: i64, v: &Value) {
        if !v.is_null() {
            s.add(v, 1);
        }
    }

    fn state_bytes(&self, s: &DistinctState) -> usize {
        48 + s.capacity() * (std::mem::size_of::<(ValueKey, u64)>() + 8)
    }

    /// The vector only: the map is accounted from its peak (see `Large`).
    fn shrink_state(&self, s: &mut DistinctState) {
        if s.large.is_none() {
            s.small.shrink_to_fit();
        }
    }

    /// Values kept whole (strings) are counted in one loop over the borrowed cells.
    #[inline]
    fn fold_run<R: ValueRun>(&self, s: &mut DistinctState, run: &R, insert: bool) -> bool {
        run.each_value(|ts, _seq, v| {
            if insert {
                self.insert(s, ts, v);
            } else {
                self.remove(s, ts, v);
            }
        })
    }
}

impl Invertible for CountDistinct {
    fn remove(&self, s: &mut DistinctState, _ts: i64, v: &Value) {
        if !v.is_null() {
            s.sub(v, 1);
        }
    }

    fn uncombine(&self, from: &mut DistinctState, other: &DistinctState) {
        for (k, c) in other.entries() {
            from.sub(&k.0, c);
        }
    }
}

/// The small vector as it is (order and capacity), then the map's entries in value
/// order (a map's own order is its hasher's, and a snapshot is deterministic) with
/// its peak; the map is rebuilt sized for the peak.
impl Persist for DistinctState {
    fn save(&self, w: &mut Writer) {
        let entries = |w: &mut Writer, list: &[(ValueKey, u64)]| {
            w.usize(list.len());
            for (k, c) in list {
                k.save(w);
                w.u64(*c);
            }
        };
        entries(w, &self.small);
        w.usize(self.small.capacity());
        match &self.large {
            None => w.u8(0),
            Some(l) => {
                w.u8(1);
                let mut sorted: Vec<(ValueKey, u64)> =
                    l.map.iter().map(|(k, c)| (k.clone(), *c)).collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                entries(w, &sorted);
                w.usize(l.peak);
            }
        }
    }

    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let n = r.count(2)?;
        let mut loaded = Vec::with_capacity(n);
        for _ in 0..n {
            loaded.push((ValueKey::load(r)?, r.u64()?));
        }
        let mut small = vec_with_capacity(r.capacity(n)?)?;
        small.extend(loaded);
        let large = match r.u8()? {
            0 => None,
            1 => {
                let n = r.count(2)?;
                let mut entries = Vec::with_capacity(n);
                for _ in 0..n {
                    entries.push((ValueKey::load(r)?, r.u64()?));
                }
                let peak = r.usize()?;
                let malformed = || {
                    SnapshotError::Malformed(format!("count_distinct peak {peak} for {n} values"))
                };
                if peak < n || peak > 1 << 32 {
                    return Err(malformed());
                }
                let mut map = HashMap::default();
                map.try_reserve(table_capacity(peak))
                    .map_err(|_| malformed())?;
                map.extend(entries);
                Some(Large { map, peak })
            }
            b => {
                return Err(SnapshotError::Malformed(format!(
                    "{b} is not a count_distinct tag"
                )))
            }
        };
        Ok(DistinctState { small, large })
    }
}
