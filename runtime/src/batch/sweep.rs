//! `Sweep`: the point-in-time merge of one key's events with its spine rows, both
//! sorted by time, through the shared accumulators (`window::window_accumulator`,
//! planned by `window::KeySpec`), one cursor per window length.
//!
//! This is the batch twin of `window::KeyState` for the one access pattern a training
//! set has (every event known up front, reads in increasing time), so it needs no
//! event buffer: a cursor is a `head..tail` range of the key's sorted events. A cursor
//! whose next window does not overlap its previous one restarts empty at the new
//! window's start (found by binary search) instead of feeding and then evicting every
//! event in between: a short window costs only the events some spine row reads.
//! Results do not depend on that choice: an accumulator's result depends only on the
//! multiset it holds (`WindowAccumulator`'s guarantee).

use crate::agg::AggError;
use crate::value::Value;
use crate::window::{KeySpec, WindowAccumulator};

/// One key's events in `(ts, seq)` order, row-major: event `e` has
/// `values[e * n_inputs..][..n_inputs]` and `filters[e * n_filters..][..n_filters]`.
#[derive(Debug, Default)]
pub struct KeyEvents {
    pub ts: Vec<i64>,
    pub seq: Vec<u64>,
    pub values: Vec<Value>,
    pub filters: Vec<bool>,
}

impl KeyEvents {
    pub fn clear(&mut self) {
        self.ts.clear();
        self.seq.clear();
        self.values.clear();
        self.filters.clear();
    }
}

/// True when an event at `ts` is outside a window of `w` read at `t`
/// (`ts <= t - w`), computed without overflow.
#[inline]
fn expired(ts: i64, t: i64, w: i64) -> bool {
    (ts as i128) + (w as i128) <= t as i128
}

/// The accumulators of one window length over `events[head..tail]`.
struct Cursor {
    window_us: Option<i64>,
    /// Column indices of the spec, in accumulator order.
    columns: Vec<usize>,
    accs: Vec<Box<dyn WindowAccumulator>>,
    head: usize,
    tail: usize,
    /// The time of the last read (`None`: nothing read for this key yet).
    t: Option<i64>,
    /// True when some accumulator may be non-empty (so a restart must reset).
    dirty: bool,
}

/// Reusable per-thread state for sweeping keys of one `KeySpec`.
pub struct Sweep<'s> {
    spec: &'s KeySpec,
    cursors: Vec<Cursor>,
}

impl<'s> Sweep<'s> {
    pub fn new(spec: &'s KeySpec) -> Sweep<'s> {
        let cursors = spec
            .cursors
            .iter()
            .map(|p| Cursor {
                window_us: p.window_us,
                columns: p.columns.clone(),
                accs: p.columns.iter().map(|&c| spec.columns[c].proto.clone_box()).collect(),
                head: 0,
                tail: 0,
                t: None,
                dirty: false,
            })
            .collect();
        Sweep { spec, cursors }
    }

    /// Starts a new key: every cursor empty, before the first event.
    pub fn start_key(&mut self) {
        for c in &mut self.cursors {
            if c.dirty {
                c.accs.iter_mut().for_each(|a| a.reset());
                c.dirty = false;
            }
            c.head = 0;
            c.tail = 0;
            c.t = None;
        }
    }

    /// Every feature of the spec at time `t` (not earlier than the previous read of
    /// this key), in feature order, appended to `out`.
    pub fn read(&mut self, events: &KeyEvents, t: i64, out: &mut Vec<Result<Value, AggError>>) {
        let n_inputs = self.spec.n_inputs;
        let n_filters = self.spec.n_filters;
        for c in &mut self.cursors {
            advance(self.spec, c, events, n_inputs, n_filters, t);
        }
        let spec = self.spec;
        for f in 0..spec.features.len() {
            let fresh = spec.ttl_column[f].is_none_or(|tc| {
                let (k, i) = spec.place[tc];
                !matches!(self.cursors[k].accs[i].finish(), Ok(Value::Int64(0)))
            });
            if fresh {
                let (k, i) = spec.place[f];
                out.push(self.cursors[k].accs[i].finish());
            } else {
                out.push(Ok(Value::Null));
            }
        }
    }
}

/// Moves cursor `c` to read time `t`.
fn advance(spec: &KeySpec, c: &mut Cursor, ev: &KeyEvents, n_inputs: usize, n_filters: usize, t: i64) {
    let len = ev.ts.len();
    if let Some(w) = c.window_us {
        let overlaps = c.t.is_some_and(|prev| !expired(prev, t, w));
        if overlaps {
            while c.head < c.tail && expired(ev.ts[c.head], t, w) {
                feed(spec, c, ev, n_inputs, n_filters, c.head, false);
                c.head += 1;
            }
        } else {
            // Every held event is at or before the previous read, so out of this
            // window: start over at the window's first event.
            if c.dirty {
                c.accs.iter_mut().for_each(|a| a.reset());
                c.dirty = false;
            }
            c.tail += ev.ts[c.tail..].partition_point(|&ts| expired(ts, t, w));
            c.head = c.tail;
        }
    }
    while c.tail < len && ev.ts[c.tail] <= t {
        feed(spec, c, ev, n_inputs, n_filters, c.tail, true);
        c.tail += 1;
    }
    c.t = Some(t);
}

/// Inserts event `e` into (or evicts it from) the accumulators of cursor `c`,
/// honouring each column's filter.
#[inline]
fn feed(spec: &KeySpec, c: &mut Cursor, ev: &KeyEvents, n_inputs: usize, n_filters: usize, e: usize, insert: bool) {
    let values = &ev.values[e * n_inputs..(e + 1) * n_inputs];
    let filters = &ev.filters[e * n_filters..(e + 1) * n_filters];
    let (ts, seq) = (ev.ts[e], ev.seq[e]);
    for (acc, &col) in c.accs.iter_mut().zip(&c.columns) {
        let col = &spec.columns[col];
        if let Some(f) = col.filter {
            if !filters[f] {
                continue;
            }
        }
        let v = match col.input {
            Some(i) => &values[i],
            None => &Value::Null,
        };
        if insert {
            acc.insert(ts, seq, v);
        } else {
            acc.evict(ts, seq, v);
        }
    }
    c.dirty = true;
}
