//! Count windows (`over N events`, `over W max N events`): one feature's latest
//! events, kept apart from the event buffer because they are ordered by time and then
//! by the feature's own input (semantics.md, "Count windows"), and because an event
//! stays in a count window for as long as fewer than `N` later ones exist, however old.

use std::cmp::Ordering;
use std::collections::VecDeque;

use super::accumulator::WindowAccumulator;
use super::ttl::expired;
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
/// Invariants: `events` is sorted by `order`; `cached` is the finish of a read at its
/// time of the current `events`; the cursor's accumulator holds the fold of
/// `events[lo..hi]`, each folded with seq `drained + index` (its place in the order,
/// so evictions come in the accumulator's `(ts, seq)` order).
#[derive(Debug, Clone, Default)]
pub(crate) struct CountedEvents {
    events: VecDeque<(i64, Value)>,
    /// How many events `drop_before` has removed from the front, ever.
    drained: u64,
    /// The window of the latest read, kept so that reads at later times fold only
    /// what entered and evict what left (O(1) amortized per event, as duration
    /// windows); `None` until a read, and after a change it cannot follow.
    cursor: Option<Box<Cursor>>,
    cached: Option<(i64, Value)>,
}

/// A count window's fold of `events[lo..hi]`.
#[derive(Debug, Clone)]
struct Cursor {
    lo: usize,
    hi: usize,
    acc: Box<dyn WindowAccumulator>,
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

impl CountedEvents {
    /// The number of events held.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Adds an event (any order).
    pub fn insert(&mut self, ts: i64, v: &Value) {
        let v = v.canonical();
        let in_order = self
            .events
            .back()
            .is_none_or(|(t, x)| order((*t, x), (ts, &v)) != Ordering::Greater);
        let at = if in_order {
            self.events.len()
        } else {
            self.events
                .partition_point(|(t, x)| order((*t, x), (ts, &v)) != Ordering::Greater)
        };
        self.events.insert(at, (ts, v));
        // An event before the cursor's end shifts the places (seqs) it folded with.
        if self.cursor.as_ref().is_some_and(|c| at < c.hi) {
            self.cursor = None;
        }
        self.cached = None;
    }

    /// Starts loading the last event, beside which an in-order insert goes (see
    /// `KeyState::prefetch`); changes nothing.
    pub fn prefetch_back(&self) {
        if let Some(last) = self.events.back() {
            crate::prefetch::prefetch(last);
        }
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

    /// The feature at state time `t`. The cursor moves forward (the events that
    /// entered folded in, those that left evicted, both in order); a read before it,
    /// or past its whole range, folds the window afresh into `proto`'s clone (an
    /// empty windowed accumulator of the feature).
    pub fn read(
        &mut self,
        plan: &CountedPlan,
        t: i64,
        proto: &dyn WindowAccumulator,
    ) -> Result<Value, AggError> {
        let at = plan.read_time(t);
        if let Some((ct, v)) = &self.cached {
            if *ct == at {
                return Ok(v.clone());
            }
        }
        let want = self.range(plan, t);
        let seq = |drained: u64, i: usize| drained + i as u64;
        let (events, drained) = (&self.events, self.drained);
        let follows = |c: &Cursor| want.start >= c.lo && want.end >= c.hi && want.start < c.hi;
        let cursor = match &mut self.cursor {
            Some(c) if follows(c) => {
                for (i, (ts, v)) in events.range(c.hi..want.end).enumerate() {
                    c.acc.insert(*ts, seq(drained, c.hi + i), v);
                }
                for (i, (ts, v)) in events.range(c.lo..want.start).enumerate() {
                    c.acc.evict(*ts, seq(drained, c.lo + i), v);
                }
                (c.lo, c.hi) = (want.start, want.end);
                c
            }
            slot => {
                let mut acc = match slot.take() {
                    Some(c) => c.acc,
                    None => proto.clone_box(),
                };
                acc.reset();
                for (i, (ts, v)) in events.range(want.clone()).enumerate() {
                    acc.insert(*ts, seq(drained, want.start + i), v);
                }
                slot.insert(Box::new(Cursor {
                    lo: want.start,
                    hi: want.end,
                    acc,
                }))
            }
        };
        let r = cursor.acc.finish();
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
            self.drained += gone as u64;
            match &mut self.cursor {
                Some(c) if c.lo >= gone => (c.lo, c.hi) = (c.lo - gone, c.hi - gone),
                _ => self.cursor = None,
            }
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
        let cursor = self
            .cursor
            .as_ref()
            .map_or(0, |c| std::mem::size_of::<Cursor>() + c.acc.approx_bytes());
        self.events.capacity() * std::mem::size_of::<(i64, Value)>() + cursor
    }

    pub fn shrink_to_fit(&mut self) {
        self.events.shrink_to_fit();
        if let Some(c) = &mut self.cursor {
            c.acc.shrink_to_fit();
        }
        self.cached = None;
    }

    /// The events and the room they have, and the cursor (`approx_bytes` counts
    /// both, so a restored state accounts its memory, and reads, like the original).
    pub fn save(&self, w: &mut Writer) {
        w.usize(self.events.len());
        w.usize(self.events.capacity());
        for (ts, v) in &self.events {
            w.i64(*ts);
            v.save(w);
        }
        w.u64(self.drained);
        match &self.cursor {
            Some(c) => {
                w.u8(1);
                w.usize(c.lo);
                w.usize(c.hi);
                c.acc.save(w);
            }
            None => w.u8(0),
        }
    }

    /// What `save` wrote; `proto` is the feature's empty windowed accumulator.
    pub fn load(
        r: &mut Reader<'_>,
        proto: &dyn WindowAccumulator,
    ) -> Result<CountedEvents, SnapshotError> {
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
        let drained = r.u64()?;
        let cursor = match r.u8()? {
            0 => None,
            1 => {
                let (lo, hi) = (r.usize()?, r.usize()?);
                if lo > hi || hi > events.len() {
                    return Err(SnapshotError::Malformed(format!(
                        "a count window's cursor {lo}..{hi} over {} events",
                        events.len()
                    )));
                }
                let mut acc = proto.clone_box();
                acc.load(r)?;
                Some(Box::new(Cursor { lo, hi, acc }))
            }
            b => {
                return Err(SnapshotError::Malformed(format!(
                    "a count window's cursor tag {b}"
                )))
            }
        };
        Ok(CountedEvents {
            events,
            drained,
            cursor,
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
        let acc = window_accumulator(AggKind::Sum, Some(DataType::Int64), true).unwrap();
        c.read(p, t, &*acc).unwrap()
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
    fn a_late_event_inside_the_read_window_is_folded_once() {
        let p = plan(2, None);
        let mut c = CountedEvents::default();
        for t in [1, 2, 3] {
            c.insert(t, &Value::Int64(t));
        }
        assert_eq!(sum(&mut c, &p, 10), Value::Int64(5));
        // Between 2 and 3 in the order: inside the cursor's range, which shifts.
        c.insert(2, &Value::Int64(100));
        assert_eq!(sum(&mut c, &p, 10), Value::Int64(103));
        // After the cursor: folded by the next read as it moves on.
        c.insert(4, &Value::Int64(1000));
        assert_eq!(sum(&mut c, &p, 10), Value::Int64(1003));
    }

    #[test]
    fn a_read_after_a_drop_goes_on_from_the_same_events() {
        let p = plan(3, None);
        let mut c = CountedEvents::default();
        for t in 1..=6 {
            c.insert(t, &Value::Int64(t));
        }
        assert_eq!(sum(&mut c, &p, 4), Value::Int64(2 + 3 + 4));
        c.drop_before(&p, 4);
        assert_eq!(c.len(), 5, "1 is gone: 2, 3, 4 and what is after 4 stay");
        assert_eq!(sum(&mut c, &p, 5), Value::Int64(3 + 4 + 5));
        assert_eq!(sum(&mut c, &p, 6), Value::Int64(4 + 5 + 6));
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
