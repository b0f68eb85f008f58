//! Count windows (`over N events`, `over W max N events`): one feature's latest
//! events, kept apart from the event buffer because they are ordered by time and then
//! by the feature's own input (semantics.md, "Count windows"), and because an event
//! stays in a count window for as long as fewer than `N` later ones exist, however old.

use std::cmp::Ordering;
use std::collections::VecDeque;

use super::accumulator::WindowAccumulator;
use crate::agg::AggError;
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::value::Value;

/// One count-window column of a `KeySpec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CountedPlan {
    /// The column (`KeySpec::columns`) it computes: its input, filter and prototype.
    pub column: usize,
    /// At most this many events count.
    pub events: u32,
    /// `Some(W)`: only events in `(t' - W, t']` (a capped duration window).
    pub window_us: Option<i64>,
    /// Read at `t - shift_us` (`FeaturePlan::shift_us`).
    pub shift_us: i64,
}

impl CountedPlan {
    /// The state time a read at `t` reads this window at.
    pub fn read_time(&self, t: i64) -> i64 {
        t.saturating_sub(self.shift_us)
    }
}

/// The order of a count window's events: time, then the input's value under
/// `Value::total_cmp` (null first). Events equal under it are interchangeable for the
/// aggregation, so which of them a cut keeps never changes a result.
fn order(a: (i64, &Value), b: (i64, &Value)) -> Ordering {
    a.0.cmp(&b.0).then_with(|| a.1.total_cmp(b.1))
}

/// The events of one count-window column that passed its filter, in `order`: every
/// one after the latest promised horizon (a later read may still see it), and the
/// `N` latest at or before it (what any later read can need of them).
///
/// Invariant: `events` is sorted by `order`; `cached` is the finish of a read at its
/// time of the current `events`.
#[derive(Debug, Clone, Default)]
pub(crate) struct CountedEvents {
    events: VecDeque<(i64, Value)>,
    cached: Option<(i64, Value)>,
}

/// A state's count windows, one per `KeySpec::counted`, behind one thin pointer
/// (`KeyState` keeps a state in four cache lines; most specs have none).
#[derive(Debug, Clone, Default)]
pub(crate) struct CountedWindows(pub Vec<CountedEvents>);

impl CountedWindows {
    /// `n` empty windows, or none (`None`) when `n` is 0.
    pub fn new(n: usize) -> Option<Box<CountedWindows>> {
        (n > 0).then(|| Box::new(CountedWindows(vec![CountedEvents::default(); n])))
    }
}

/// The windows of `c` (empty when there are none).
pub(crate) fn windows(c: &Option<Box<CountedWindows>>) -> &[CountedEvents] {
    c.as_deref().map_or(&[], |c| &c.0[..])
}

/// The windows of `c`, to change (empty when there are none).
pub(crate) fn windows_mut(c: &mut Option<Box<CountedWindows>>) -> &mut [CountedEvents] {
    match c.as_deref_mut() {
        Some(c) => &mut c.0[..],
        None => &mut [],
    }
}

/// True when an event at `ts` is outside a window of `w` read at `t`.
fn expired(ts: i64, t: i64, w: i64) -> bool {
    (ts as i128) + (w as i128) <= t as i128
}

impl CountedEvents {
    /// The number of events held.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Adds an event (any order).
    pub fn insert(&mut self, ts: i64, v: &Value) {
        let v = v.canonical();
        let at = self
            .events
            .partition_point(|(t, x)| order((*t, x), (ts, &v)) != Ordering::Greater);
        self.events.insert(at, (ts, v));
        self.cached = None;
    }

    /// The end of the events at or before `t`.
    fn upto(&self, t: i64) -> usize {
        self.events.partition_point(|(ts, _)| *ts <= t)
    }

    /// The events a read at state time `t` folds.
    fn range(&self, plan: &CountedPlan, t: i64) -> std::ops::Range<usize> {
        let t = plan.read_time(t);
        let end = self.upto(t);
        let mut start = end.saturating_sub(plan.events as usize);
        if let Some(w) = plan.window_us {
            start = start.max(self.events.partition_point(|(ts, _)| expired(*ts, t, w)));
        }
        start..end.max(start)
    }

    /// The feature at state time `t`: `scratch` (an empty lifetime accumulator of the
    /// feature) folded over the window's events, then emptied again.
    pub fn read(
        &mut self,
        plan: &CountedPlan,
        t: i64,
        scratch: &mut dyn WindowAccumulator,
    ) -> Result<Value, AggError> {
        let at = plan.read_time(t);
        if let Some((ct, v)) = &self.cached {
            if *ct == at {
                return Ok(v.clone());
            }
        }
        scratch.reset();
        for (i, (ts, v)) in self.events.range(self.range(plan, t)).enumerate() {
            scratch.insert(*ts, i as u64, v);
        }
        let r = scratch.finish();
        scratch.reset();
        if let Ok(v) = &r {
            self.cached = Some((at, v.clone()));
        }
        r
    }

    /// Forgets what no read at state time `horizon` or later can fold: all but the `N`
    /// latest events at or before the read's time, and those a capped window has
    /// passed.
    pub fn drop_before(&mut self, plan: &CountedPlan, horizon: i64) {
        let t = plan.read_time(horizon);
        let mut gone = self.upto(t).saturating_sub(plan.events as usize);
        if let Some(w) = plan.window_us {
            gone = gone.max(self.events.partition_point(|(ts, _)| expired(*ts, t, w)));
        }
        if gone > 0 {
            self.events.drain(..gone);
        }
    }

    /// The earliest time after `t` at which a read may differ from the read at `t`: an
    /// event after the read time comes in, or (capped) the oldest event read leaves.
    pub fn next_change_after(&self, plan: &CountedPlan, t: i64) -> Option<i64> {
        let s = plan.shift_us;
        let read = plan.read_time(t);
        let upto = self.upto(read);
        let incoming = self.events.get(upto).map(|(ts, _)| ts.saturating_add(s));
        let leaving = plan.window_us.and_then(|w| {
            let r = self.range(plan, t);
            (!r.is_empty()).then(|| self.events[r.start].0.saturating_add(w).saturating_add(s))
        });
        match (incoming, leaving) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Bytes held in memory.
    pub fn approx_bytes(&self) -> usize {
        self.events.capacity() * std::mem::size_of::<(i64, Value)>()
    }

    pub fn shrink_to_fit(&mut self) {
        self.events.shrink_to_fit();
        self.cached = None;
    }

    /// The events and the room they have (`approx_bytes` counts it, so a restored
    /// state accounts its memory like the original).
    pub fn save(&self, w: &mut Writer) {
        w.usize(self.events.len());
        w.usize(self.events.capacity());
        for (ts, v) in &self.events {
            w.i64(*ts);
            v.save(w);
        }
    }

    pub fn load(r: &mut Reader<'_>) -> Result<CountedEvents, SnapshotError> {
        let n = r.count(2)?;
        let mut events = VecDeque::with_capacity(r.capacity(n)?);
        for _ in 0..n {
            let ts = r.i64()?;
            let v = Value::load(r)?;
            if let Some((last, lv)) = events.back() {
                if order((*last, lv), (ts, &v)) == Ordering::Greater {
                    return Err(SnapshotError::Malformed(
                        "a count window's events out of order".into(),
                    ));
                }
            }
            events.push_back((ts, v));
        }
        Ok(CountedEvents {
            events,
            cached: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{AggKind, DataType};
    use crate::window::window_accumulator;

    fn plan(events: u32, window_us: Option<i64>) -> CountedPlan {
        CountedPlan {
            column: 0,
            events,
            window_us,
            shift_us: 0,
        }
    }

    fn sum(c: &mut CountedEvents, p: &CountedPlan, t: i64) -> Value {
        let mut acc = window_accumulator(AggKind::Sum, Some(DataType::Int64), false).unwrap();
        c.read(p, t, &mut *acc).unwrap()
    }

    #[test]
    fn ties_at_the_cut_keep_the_greater_values_whatever_the_arrival() {
        let p = plan(2, None);
        let mut a = CountedEvents::default();
        let mut b = CountedEvents::default();
        for v in [5, 1, 9] {
            a.insert(10, &Value::Int64(v));
        }
        for v in [9, 5, 1] {
            b.insert(10, &Value::Int64(v));
        }
        assert_eq!(sum(&mut a, &p, 10), Value::Int64(14));
        assert_eq!(sum(&mut b, &p, 10), Value::Int64(14));
        assert_eq!(sum(&mut a, &p, 9), Value::Int64(0));
    }

    #[test]
    fn a_drop_keeps_what_later_reads_fold() {
        let p = plan(2, Some(100));
        let mut c = CountedEvents::default();
        for t in [1, 2, 3, 50, 60] {
            c.insert(t, &Value::Int64(t));
        }
        c.drop_before(&p, 55);
        assert_eq!(c.len(), 3, "3 and 50 at or before 55, 60 after");
        assert_eq!(sum(&mut c, &p, 60), Value::Int64(110));
        assert_eq!(
            sum(&mut c, &p, 152),
            Value::Int64(60),
            "50 has left the 100 µs"
        );
        assert_eq!(c.next_change_after(&p, 60), Some(150));
    }
}
