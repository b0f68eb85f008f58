//! `KeyState`: the per-entity-key state of one (source, key) group: the event buffer
//! and one cursor per distinct window length, evaluating every feature at any time.

use std::ops::Range;
use std::sync::Arc;

use super::accumulator::WindowAccumulator;
use super::buffer::EventBuffer;
use super::counted::{windows, windows_mut, CountedEvents, CountedWindows};
use super::encoded::{EncodedRow, EncodedRows, RowAt};
use super::row::{Buffered, Row};
use super::run::BufferRun;
use super::spec::{cache_bit as bit, Alias, Column, CursorPlan, KeySpec};
use super::ttl::expired;
use crate::agg::AggError;
use crate::prefetch::{prefetch, prefetch_lines, prefetch_slice};
use crate::value::Value;

/// How many events ahead of its use `KeyState::prefetch` runs each stage.
pub const PREFETCH_STAGES: [usize; 5] = [8, 5, 3, 2, 1];

const NULL: Value = Value::Null;

/// The events `(t - w, t]` (or `(-inf, t]` for lifetime) folded into accumulators.
/// Invariant when `t` is `Some`: rows `head..tail` of the buffer are exactly the live
/// rows inside the cursor's range, and `accs` hold their fold (plus, for the lifetime
/// cursor, the fold of every dropped event). When bit `i` of `cached` is set,
/// `finished[i]` is output `i`'s finish (successful; see `CursorPlan`) of the current
/// state: every change to an accumulator clears its outputs' bits
/// (`CursorPlan::clear`), so serving reads between events skip the finishes (the
/// exact avg, var_pop and stddev_pop roundings are the costly part of a read). The
/// bits live in the cursor itself, so a fold clears them without touching (and
/// dirtying) the values, which are allocated at the first read; outputs past the
/// 64th are never cached.
#[derive(Debug, Clone)]
pub(super) struct Cursor {
    pub(super) t: Option<i64>,
    pub(super) head: usize,
    pub(super) tail: usize,
    pub(super) accs: Vec<Box<dyn WindowAccumulator>>,
    pub(super) cached: u64,
    pub(super) finished: Vec<Value>,
}

impl Cursor {
    /// Forgets every cached finish (after a wholesale change of `accs`).
    fn invalidate(&mut self) {
        self.cached = 0;
    }

    /// Folds rows `rows` of `buf` into (or out of) this cursor's accumulators.
    fn fold(
        &mut self,
        spec: &KeySpec,
        plan: &CursorPlan,
        buf: &EventBuffer,
        rows: Range<usize>,
        insert: bool,
    ) {
        fold_rows(
            spec,
            plan,
            &mut self.accs,
            &mut self.cached,
            buf,
            rows,
            insert,
        );
    }

    /// Output `i` of the cursor planned by `plan`, through the cache.
    fn finish(&mut self, plan: &CursorPlan, i: usize) -> Result<Value, AggError> {
        if self.cached & bit(i) != 0 {
            return Ok(self.finished[i].clone());
        }
        let r = match i.checked_sub(self.accs.len()) {
            None => self.accs[i].finish(),
            // `KeySpec` only plans aliases its host's accumulator can finish.
            Some(a) => {
                let Alias { host, agg } = plan.aliases[a];
                self.accs[host]
                    .finish_as(agg)
                    .unwrap_or(Err(AggError::UnsupportedInput { agg, input: None }))
            }
        };
        if let (Ok(v), true) = (&r, bit(i) != 0) {
            if self.finished.is_empty() {
                self.finished = vec![Value::Null; plan.outputs().min(64)];
            }
            self.finished[i] = v.clone();
            self.cached |= bit(i);
        }
        r
    }
}

/// Feeds event `row` to (or, with `insert == false`, evicts it from) the
/// accumulators of one cursor, honouring each column's filter slot, and clears the
/// cached finishes (`plan.clear[j]` in `cached`) of each one touched.
/// Accumulator `j < 64` is skipped unless bit `j` of `only` is set.
#[inline]
fn apply<R: Row>(
    plan: &CursorPlan,
    columns: &[Column],
    accs: &mut [Box<dyn WindowAccumulator>],
    cached: &mut u64,
    row: &R,
    insert: bool,
    only: u64,
) {
    let (ts, seq) = (row.ts(), row.seq());
    for (j, (acc, &c)) in accs.iter_mut().zip(&plan.columns).enumerate() {
        if j < 64 && only & bit(j) == 0 {
            continue;
        }
        let col = &columns[c];
        if col.filter.is_some_and(|f| !row.filter(f)) {
            continue;
        }
        let cell = col.input.map(|i| row.cell(i));
        let v = cell.as_ref().map_or(&NULL, |c| c.get());
        if insert {
            acc.insert(ts, seq, v);
        } else {
            acc.evict(ts, seq, v);
        }
        *cached &= !plan.clear[j];
    }
}

/// Empty accumulators for the columns of one cursor.
pub(super) fn fresh_accs(spec: &KeySpec, plan: &CursorPlan) -> Vec<Box<dyn WindowAccumulator>> {
    plan.columns
        .iter()
        .map(|&c| spec.columns[c].proto.clone_box())
        .collect()
}

/// Makes `to` equal to `from`, accumulator by accumulator, in place where it can.
fn assign_accs(to: &mut [Box<dyn WindowAccumulator>], from: &[Box<dyn WindowAccumulator>]) {
    for (t, f) in to.iter_mut().zip(from) {
        if !t.assign_from(&**f) {
            *t = f.clone_box();
        }
    }
}

/// Every accumulator, for `apply`'s `only`.
const ALL: u64 = u64::MAX;

/// Folds rows `rows` of `buf` (in order) into, or out of, one cursor's accumulators:
/// each accumulator takes the whole run in one typed loop when it can
/// (`WindowAccumulator::fold_run`), the others go through `apply` row by row.
fn fold_rows(
    spec: &KeySpec,
    plan: &CursorPlan,
    accs: &mut [Box<dyn WindowAccumulator>],
    cached: &mut u64,
    buf: &EventBuffer,
    rows: Range<usize>,
    insert: bool,
) {
    if rows.is_empty() {
        return;
    }
    let layout = &spec.layout;
    // One bit per accumulator still to fold row by row (all of them past the 64th).
    let mut rest = match accs.len() {
        n if n >= 64 => ALL,
        n => (1u64 << n) - 1,
    };
    for (j, (acc, &c)) in accs.iter_mut().zip(&plan.columns).enumerate().take(64) {
        let col = &spec.columns[c];
        let run = BufferRun {
            buf,
            layout,
            rows: rows.clone(),
            filter: col.filter,
            input: col.input,
            input_type: col.input_type,
        };
        if acc.fold_run(&run, insert) {
            rest &= !bit(j);
            *cached &= !plan.clear[j];
        }
    }
    if rest == 0 && accs.len() <= 64 {
        return;
    }
    for row in rows {
        let row = Buffered { buf, layout, row };
        apply(plan, &spec.columns, accs, cached, &row, insert, rest);
    }
}

/// The state of one entity key: evaluates every feature of its `KeySpec` at any time
/// `t` under `t - W < ts <= t` (lifetime: `ts <= t`), with the view ttl applied.
///
/// Usage contract:
/// - every pushed event has a unique `(ts, seq)` (seq breaks ties, e.g. arrival or
///   file order); `inputs` has `spec.n_inputs()` values and `filters` `spec.n_filters()`
///   booleans (missing ones read as null / false);
/// - events may be pushed in any order; in-order pushes and non-decreasing reads are
///   O(1) amortized per event and feature; a late event is inserted into every cursor
///   whose range contains it (O(buffer) shifting); a read earlier than the previous
///   read recomputes the affected cursors from the buffer (O(window));
/// - `drop_before(h)` promises that every later read has `t >= h`; events no window
///   can need are then removed (lifetime features keep their fold). An event pushed
///   later with `ts` at or below the dropped frontier only reaches lifetime features.
///   `promise(h)` makes the same promise but drops only once per run of
///   `set_fold_run` events (the stream ingest's path).
///
/// Guarantee: `read(t)` equals the aggregation of exactly the pushed events in each
/// feature's range at `t`, bit for bit, whatever the push/read order.
///
/// Layout (`repr(C)`, aligned to a cache line): everything a push reads (the
/// scalars, then the buffer's vectors) fills the first `HOT_BYTES`; the cursors,
/// the lifetime base and `dropped_latest`, read only by drops and reads, come last.
/// On a large key space each state is a cache miss per event, so a push loads three
/// lines instead of all four.
#[derive(Debug, Clone)]
#[repr(C, align(64))]
pub struct KeyState {
    pub(super) spec: Arc<KeySpec>,
    /// Events buffered since the last `drop_before`.
    pub(super) since_drop: u32,
    /// `promise` drops once this many events were buffered since the last drop
    /// (1 unless `set_fold_run` said otherwise). Advancing the cursors over a run
    /// of events touches each accumulator once per run instead of once per event: on
    /// a large key space a key's state is cold when its next event arrives, and those
    /// cache misses, not the arithmetic, bound ingest.
    pub(super) fold_run: u32,
    /// Events with `ts <= frontier` have been dropped from the buffer.
    pub(super) frontier: Option<i64>,
    /// See `base`.
    pub(super) base_upto: Option<i64>,
    /// At least the greatest cursor time: an event after it reaches no cursor, so
    /// `push_event` skips the cursors without touching them (they are cold on a large
    /// key space).
    pub(super) cursor_t_max: Option<i64>,
    /// The greatest horizon promised through `promise` and not yet acted on.
    pub(super) promised: Option<i64>,
    pub(super) buf: EventBuffer,
    pub(super) cursors: Vec<Cursor>,
    /// For the lifetime cursor: the fold of every pushed event with
    /// `ts <= base_upto` (`None` before any drop). Invariant: `base_upto >=
    /// frontier`, so every dropped event is in it; a lifetime cursor rebuilt at `t`
    /// is `base` plus the buffered rows in `(base_upto, t]`.
    pub(super) base: Option<Box<[Box<dyn WindowAccumulator>]>>,
    /// The greatest ts of a dropped event: `[0]` of any, `[1 + f]` of one passing
    /// filter slot `f` (`NO_TIME`: none); empty until an event is dropped. (One boxed
    /// slice, not an `Option` and a slice, keeps the state in four cache lines.)
    pub(super) dropped_latest: Box<[i64]>,
    /// One per count window (`KeySpec::counted`), in its order; `None` when the
    /// spec has none (a thin pointer keeps the state in four cache lines).
    pub(super) counted: Option<Box<CountedWindows>>,
}

/// "No event" in `dropped_latest`.
pub(super) const NO_TIME: i64 = i64::MIN;

/// The bytes of a `KeyState` a push reads (see its layout).
const HOT_BYTES: usize = 192;

impl KeyState {
    pub fn new(spec: Arc<KeySpec>) -> KeyState {
        let spec_counted = spec.counted.len();
        let cursors = spec
            .cursors
            .iter()
            .map(|p| Cursor {
                t: None,
                head: 0,
                tail: 0,
                accs: fresh_accs(&spec, p),
                cached: 0,
                finished: Vec::new(),
            })
            .collect();
        KeyState {
            buf: EventBuffer::new(&spec.layout),
            spec,
            cursors,
            base: None,
            base_upto: None,
            frontier: None,
            dropped_latest: Box::new([]),
            promised: None,
            since_drop: 0,
            fold_run: 1,
            cursor_t_max: None,
            counted: CountedWindows::new(spec_counted),
        }
    }

    pub fn spec(&self) -> &Arc<KeySpec> {
        &self.spec
    }

    /// Number of buffered (not yet dropped) events.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.buf.start
    }

    /// True when the next pushed event will make `promise` drop, which advances
    /// every cursor (and so touches every accumulator).
    #[inline]
    pub fn drop_due(&self) -> bool {
        self.since_drop + 1 >= self.fold_run
    }

    /// Starts loading, ahead of use, the memory a `push_event` (and, with `dropping`,
    /// the drop it triggers) will read; on a large key space all of it is cold, and
    /// misses issued together overlap. Stage `s` reads only what stage `s - 1`
    /// loaded, so call stage 0 a few events ahead, then the next stages closer in
    /// (`PREFETCH_STAGES`); `dropping` (from `drop_due`) may only be true from stage
    /// 1 on. Changes nothing.
    #[inline]
    pub fn prefetch(&self, stage: usize, dropping: bool) {
        let at = (self as *const KeyState).cast::<u8>();
        // `counted` lies in the cold line: touched only when the spec has some.
        let counted = !self.spec.counted.is_empty();
        match stage {
            0 => (0..HOT_BYTES)
                .step_by(64)
                .for_each(|o| prefetch(at.wrapping_add(o))),
            1 => {
                self.buf.prefetch_tail();
                // A count window takes every event: its pointer, then its windows,
                // then each deque's back (stages 2 to 4) are loaded like the buffer.
                if counted {
                    prefetch(&self.counted);
                }
                if dropping {
                    let size = std::mem::size_of::<KeyState>();
                    (HOT_BYTES..size)
                        .step_by(64)
                        .for_each(|o| prefetch(at.wrapping_add(o)));
                }
            }
            2 => {
                if counted {
                    if let Some(c) = self.counted.as_deref() {
                        prefetch_lines(c);
                    }
                }
                if dropping {
                    prefetch_slice(&self.cursors);
                    if let Some(base) = &self.base {
                        prefetch_slice(base);
                    }
                }
            }
            3 => {
                if counted {
                    prefetch_slice(windows(&self.counted));
                }
                if dropping {
                    for c in &self.cursors {
                        prefetch_slice(&c.accs);
                    }
                    if let Some(base) = &self.base {
                        base.iter().for_each(|a| prefetch_lines(&**a));
                    }
                }
            }
            4 => {
                if counted {
                    windows(&self.counted)
                        .iter()
                        .for_each(CountedEvents::prefetch_back);
                }
                if dropping {
                    for c in &self.cursors {
                        c.accs.iter().for_each(|a| prefetch_lines(&**a));
                    }
                }
            }
            _ => {}
        }
    }

    /// Starts loading every accumulator's heap blocks, the level `prefetch` does not
    /// reach (the accumulators themselves must have arrived: a drop calls it first).
    fn prefetch_accs(&self) {
        for c in &self.cursors {
            c.accs.iter().for_each(|a| a.prefetch_heap());
        }
        if let Some(base) = &self.base {
            base.iter().for_each(|a| a.prefetch_heap());
        }
    }

    /// Adds one event (see the usage contract on the type).
    pub fn push_event(&mut self, ts: i64, seq: u64, inputs: &[Value], filters: &[bool]) {
        let mut rows = EncodedRows::new(&self.spec.layout, 1);
        for (slot, v) in inputs.iter().enumerate().take(self.spec.n_inputs) {
            rows.put_value(0, slot, v);
        }
        for (f, _) in filters.iter().enumerate().filter(|(_, &on)| on) {
            rows.set_filter(0, f);
        }
        rows.seal();
        self.push_row(ts, seq, rows.row(0));
    }

    /// Adds one event given in the buffer's encoding (`EncodedRows` made for this
    /// state's `KeySpec`): what `push_event` does, without encoding `Value`s.
    pub fn push_row(&mut self, ts: i64, seq: u64, row: EncodedRow<'_>) {
        let spec = &*self.spec;
        if !spec.counted.is_empty() {
            // Count windows keep every event they may need, however late.
            let raw = RowAt { ts, seq, row };
            for (c, plan) in windows_mut(&mut self.counted).iter_mut().zip(&spec.counted) {
                let col = &spec.columns[plan.column];
                if col.filter.is_some_and(|f| !raw.filter(f)) {
                    continue;
                }
                let cell = col.input.map(|i| raw.cell(i));
                c.insert(ts, cell.as_ref().map_or(&NULL, |c| c.get()));
            }
        }
        if self.frontier.is_some_and(|f| ts <= f) {
            // Every later read is past this event's windows: only lifetime folds see it.
            let latest = dropped_times(&mut self.dropped_latest, spec.n_filters);
            let passing = RowAt { ts, seq, row };
            for (slot, at) in latest.iter_mut().enumerate() {
                if slot == 0 || passing.filter(slot - 1) {
                    *at = (*at).max(ts);
                }
            }
            if let Some(k) = spec.lifetime_cursor {
                let plan = &spec.cursors[k];
                let base = self
                    .base
                    .get_or_insert_with(|| fresh_accs(spec, plan).into_boxed_slice());
                let raw = RowAt { ts, seq, row };
                apply(plan, &spec.columns, base, &mut 0, &raw, true, ALL);
                let c = &mut self.cursors[k];
                if c.t.is_some() {
                    apply(
                        plan,
                        &spec.columns,
                        &mut c.accs,
                        &mut c.cached,
                        &raw,
                        true,
                        ALL,
                    );
                }
            }
            return;
        }
        if self.base_upto.is_some_and(|b| ts <= b) {
            // Buffered, and part of the lifetime base too (see `base`).
            if let (Some(k), Some(base)) = (spec.lifetime_cursor, &mut self.base) {
                let raw = RowAt { ts, seq, row };
                apply(
                    &spec.cursors[k],
                    &spec.columns,
                    base,
                    &mut 0,
                    &raw,
                    true,
                    ALL,
                );
            }
        }
        let at = self.buf.position(ts, seq);
        self.buf.insert(at, ts, seq, &row);
        self.since_drop += 1;
        if self.cursor_t_max.is_none_or(|m| ts > m) {
            return;
        }
        for (c, plan) in self.cursors.iter_mut().zip(&spec.cursors) {
            let Some(ct) = c.t else { continue };
            if ts > ct {
                continue;
            }
            match plan.window_us {
                Some(w) if expired(ts, ct, w) => {
                    c.head += 1;
                    c.tail += 1;
                }
                _ => {
                    c.tail += 1;
                    let row = Buffered {
                        buf: &self.buf,
                        layout: &spec.layout,
                        row: at,
                    };
                    apply(
                        plan,
                        &spec.columns,
                        &mut c.accs,
                        &mut c.cached,
                        &row,
                        true,
                        ALL,
                    );
                }
            }
        }
    }

    /// Starts loading the buffer rows the cursors will fold on their way forward to
    /// `t`: the rows after each cursor (about to be inserted) and the oldest rows of
    /// each window (about to be evicted, long cold on a large key space). Without
    /// searching the buffer, whose times are cold too, the hints are sized from what
    /// is pending: at most `2 * fold_run` rows to insert, and about as many to evict
    /// (a window in a steady stream loses about what it gains), at least 8. A read
    /// right after a drop has little to fold and hints little. Changes nothing.
    fn warm(&self, t: i64) {
        let span = 2 * self.fold_run as usize;
        let len = self.buf.len();
        for (c, plan) in self.cursors.iter().zip(&self.spec.cursors) {
            let t = t.saturating_sub(plan.shift_us);
            if c.t.is_none_or(|ct| ct > t) {
                continue;
            }
            let insert = (len - c.tail).min(span);
            if plan.window_us.is_some() {
                self.buf
                    .prefetch_rows(c.head..(c.head + insert.max(8)).min(c.tail));
            }
            self.buf.prefetch_rows(c.tail..c.tail + insert);
        }
    }

    /// Moves cursor `k` to time `t`.
    fn advance(&mut self, k: usize, t: i64) {
        let spec = &*self.spec;
        let plan = &spec.cursors[k];
        let buf = &self.buf;
        let c = &mut self.cursors[k];
        let len = buf.len();
        // The end of the rows from `from` on with `ts <= t` (the buffer is sorted).
        let upto = |from: usize| from + buf.ts[from..len].partition_point(|&ts| ts <= t);
        match (plan.window_us, c.t) {
            (Some(w), Some(ct)) if t >= ct => {
                let gone = c.head + buf.ts[c.head..c.tail].partition_point(|&ts| expired(ts, t, w));
                c.fold(spec, plan, buf, c.head..gone, false);
                c.head = gone;
                if c.head == c.tail {
                    c.tail += buf.ts[c.tail..len].partition_point(|&ts| expired(ts, t, w));
                    c.head = c.tail;
                }
                let end = upto(c.tail);
                c.fold(spec, plan, buf, c.tail..end, true);
                c.tail = end;
            }
            (Some(w), _) => {
                for a in c.accs.iter_mut() {
                    a.reset();
                }
                c.invalidate();
                c.head = buf.start + buf.ts[buf.start..].partition_point(|&ts| expired(ts, t, w));
                let end = upto(c.head);
                c.fold(spec, plan, buf, c.head..end, true);
                c.tail = end;
            }
            (None, Some(ct)) if t >= ct => {
                let end = upto(c.tail);
                c.fold(spec, plan, buf, c.tail..end, true);
                c.tail = end;
            }
            (None, _) => {
                match &self.base {
                    Some(base) => assign_accs(&mut c.accs, base),
                    None => c.accs.iter_mut().for_each(|a| a.reset()),
                }
                c.invalidate();
                c.head = match self.base_upto {
                    Some(b) => buf.first_after(b),
                    None => buf.start,
                };
                let end = upto(c.head);
                c.fold(spec, plan, buf, c.head..end, true);
                c.tail = end;
            }
        }
        c.t = Some(t);
        self.cursor_t_max = self.cursor_t_max.max(Some(t));
    }

    /// Starts loading all of the state a read walks, level by level: the state's
    /// lines, the cursors, their accumulator tables, the accumulators, their heap
    /// blocks and cached finishes. A read of a cold key otherwise misses on one
    /// pointer after another (about a hundred misses in a row for the synthetic
    /// spec); here each level's loads wait only for the level above, so the misses
    /// of a level overlap. Changes nothing.
    fn prefetch_for_read(&self) {
        for stage in 0..PREFETCH_STAGES.len() {
            self.prefetch(stage, stage > 0);
        }
        for c in &self.cursors {
            prefetch_slice(&c.finished);
        }
        self.prefetch_accs();
    }

    /// Every feature evaluated at exactly `t`, in `KeySpec` feature order, written
    /// into `out` (cleared first; reuse it to avoid allocating per read).
    pub fn read_into(&mut self, t: i64, out: &mut Vec<Result<Value, AggError>>) {
        self.read_checked_into(t, out, None);
    }

    /// `read_into`, also saying for each feature whether its ttl has passed (`stale`
    /// is cleared first; a stale feature reads null; a feature without ttl is never
    /// stale), so a reader can tell a stale null from a null value.
    pub fn read_with_staleness_into(
        &mut self,
        t: i64,
        out: &mut Vec<Result<Value, AggError>>,
        stale: &mut Vec<bool>,
    ) {
        self.read_checked_into(t, out, Some(stale));
    }

    fn read_checked_into(
        &mut self,
        t: i64,
        out: &mut Vec<Result<Value, AggError>>,
        mut stale: Option<&mut Vec<bool>>,
    ) {
        self.prefetch_for_read();
        self.warm(t);
        for k in 0..self.cursors.len() {
            self.bring(k, t);
        }
        out.clear();
        if let Some(s) = stale.as_deref_mut() {
            s.clear();
        }
        for f in 0..self.spec.features.len() {
            let (value, fresh) = self.finish(t, f);
            out.push(value);
            if let Some(s) = stale.as_deref_mut() {
                s.push(!fresh);
            }
        }
    }

    /// Feature `f` alone at exactly `t`: what `read_into` gives at `f`, moving only
    /// the cursors `f` reads (its window's and its ttl's). A lookup reads one feature
    /// of another view per event; the other cursors stay where they are, which is
    /// safe since each cursor moves on its own (`advance`, `push`).
    pub fn read_one(&mut self, t: i64, f: usize) -> Result<Value, AggError> {
        let spec = &*self.spec;
        let window = spec.counted_of[f].is_none().then(|| spec.place[f].0);
        let ttl = spec.ttl_column[f].map(|tc| spec.place[tc].0);
        for k in window.into_iter().chain(ttl) {
            self.bring(k, t);
        }
        self.finish(t, f).0
    }

    /// Moves cursor `k` to read at `t` (a shifted window, with an offset or an
    /// exclusive end, is the plain window read earlier), unless it is there.
    fn bring(&mut self, k: usize, t: i64) {
        let at = t.saturating_sub(self.spec.cursors[k].shift_us);
        if self.cursors[k].t != Some(at) {
            self.advance(k, at);
        }
    }

    /// Feature `f` at `t`, the cursors it reads already at `t` (`bring`), and
    /// whether it is within its ttl (past it, it reads null).
    fn finish(&mut self, t: i64, f: usize) -> (Result<Value, AggError>, bool) {
        let spec = &*self.spec;
        let cursors = &mut self.cursors;
        let fresh = spec.ttl_column[f].is_none_or(|tc| {
            let (k, i) = spec.place[tc];
            !matches!(cursors[k].finish(&spec.cursors[k], i), Ok(Value::Int64(0)))
        });
        if !fresh {
            return (Ok(Value::Null), false);
        }
        let value = match spec.counted_of[f] {
            Some(n) => {
                let plan = &spec.counted[n];
                let proto = &*spec.columns[plan.column].proto;
                match windows_mut(&mut self.counted).get_mut(n) {
                    Some(c) => c.read(plan, t, proto),
                    None => proto.finish(),
                }
            }
            None => {
                let (k, i) = spec.place[f];
                cursors[k].finish(&spec.cursors[k], i)
            }
        };
        (value, true)
    }

    /// Every feature evaluated at exactly `t`, in `KeySpec` feature order.
    pub fn read(&mut self, t: i64) -> Vec<Result<Value, AggError>> {
        let mut out = Vec::with_capacity(self.spec.features.len());
        self.read_into(t, &mut out);
        out
    }

    /// The earliest time after `t` at which a read may differ from the read at `t`
    /// with no new event pushed: a buffered event after `t` comes in at its ts, and an
    /// event in a window of width `W` (ttls included: each is a hidden window) goes
    /// out at `ts + W` (windows are `(t - W, t]`). `None`: no read after `t` changes
    /// (only lifetime features, or no event in any window).
    ///
    /// Never later than the first change; it may be earlier than one (an event a
    /// feature's `where` refuses still counts as a change), so a caller that
    /// re-reads at the time it gets sees every change, sometimes with nothing new.
    pub fn next_change_after(&self, t: i64) -> Option<i64> {
        let buf = &self.buf;
        let mut next: Option<i64> = None;
        let mut at = |time: i64| next = Some(next.map_or(time, |n: i64| n.min(time)));
        for cursor in &self.spec.cursors {
            // A cursor shifted by `s` reads at `t - s`: its events come in at `ts + s`
            // and go out at `ts + W + s`.
            let s = cursor.shift_us;
            let read = t.saturating_sub(s);
            let upto = buf.first_after(read);
            if let Some(&ts) = buf.ts.get(upto) {
                at(ts.saturating_add(s));
            }
            let Some(w) = cursor.window_us else { continue };
            // The oldest event still in the window at `t` leaves first.
            let oldest = buf.first_after(read.saturating_sub(w));
            if oldest < upto {
                at(buf.ts[oldest].saturating_add(w).saturating_add(s));
            }
        }
        for (c, plan) in windows(&self.counted).iter().zip(&self.spec.counted) {
            if let Some(time) = c.next_change_after(plan, t) {
                at(time);
            }
        }
        next
    }

    /// The greatest ts of a pushed event with `ts <= t` that passes filter slot
    /// `filter` (`None`: any event), if any: the time of a view's latest event. Scans
    /// the buffer back from `t`, so a filter few events pass costs a longer read.
    pub fn latest_at_or_before_where(&self, t: i64, filter: Option<usize>) -> Option<i64> {
        let Some(f) = filter else {
            return self.latest_at_or_before(t);
        };
        let layout = &self.spec.layout;
        let end = self.buf.first_after(t);
        if let Some(i) = (self.buf.start..end)
            .rev()
            .find(|&i| self.buf.filter(layout, i, f))
        {
            return Some(self.buf.ts[i]);
        }
        self.dropped(1 + f, t)
    }

    /// `dropped_latest[slot]` if there is one at or before `t`.
    fn dropped(&self, slot: usize, t: i64) -> Option<i64> {
        self.dropped_latest
            .get(slot)
            .copied()
            .filter(|&d| d != NO_TIME && d <= t)
    }

    /// The greatest ts of a pushed event with `ts <= t` (any filter), if any.
    pub fn latest_at_or_before(&self, t: i64) -> Option<i64> {
        let i = self.buf.first_after(t);
        if i > self.buf.start {
            Some(self.buf.ts[i - 1])
        } else {
            self.dropped(0, t)
        }
    }

    /// Sets how many events `promise` lets a key buffer between two drops (at least 1;
    /// 1 makes `promise` a `drop_before` on every event). Results never depend on it.
    pub fn set_fold_run(&mut self, events: u32) {
        self.fold_run = events.max(1);
    }

    /// Promises that every later read has `t >= horizon`, like `drop_before`, but
    /// defers the drop until `set_fold_run`'s count of events have been
    /// buffered since the last one (reads are unaffected: they move the cursors
    /// themselves). The buffer then holds at most that many events more than after
    /// `drop_before`.
    pub fn promise(&mut self, horizon: i64) {
        self.promised = self.promised.max(Some(horizon));
        if self.since_drop >= self.fold_run {
            if let Some(h) = self.promised {
                self.drop_before(h);
            }
        }
    }

    /// Promises that every later read has `t >= horizon` and drops the events no
    /// feature can need any more (those with `ts <= horizon - max window`, or
    /// `ts <= horizon` when every feature is lifetime), folding them into the
    /// lifetime features first. Amortized O(1) per dropped event.
    pub fn drop_before(&mut self, horizon: i64) {
        for (c, plan) in windows_mut(&mut self.counted)
            .iter_mut()
            .zip(&self.spec.counted)
        {
            c.drop_before(plan, horizon);
        }
        let f = match self.spec.max_window_us {
            Some(w) => (horizon as i128 - w as i128).max(i64::MIN as i128) as i64,
            None => horizon,
        };
        self.since_drop = 0;
        if self.frontier.is_some_and(|old| f <= old) {
            return;
        }
        self.prefetch_accs();
        self.warm(horizon);
        for k in 0..self.cursors.len() {
            let at = horizon.saturating_sub(self.spec.cursors[k].shift_us);
            if self.cursors[k].t.is_none_or(|ct| ct < at) {
                self.advance(k, at);
            }
        }
        let end = self.buf.first_after(f);
        let spec = &*self.spec;
        if let Some(k) = spec.lifetime_cursor {
            let plan = &spec.cursors[k];
            let base = self
                .base
                .get_or_insert_with(|| fresh_accs(spec, plan).into_boxed_slice());
            let c = &self.cursors[k];
            if c.t == Some(horizon) {
                // The cursor holds exactly the events up to the horizon: copying it
                // is cheaper than folding the dropped events a second time.
                assign_accs(base, &c.accs);
                self.base_upto = Some(horizon);
            } else {
                let from = match self.base_upto {
                    Some(b) => self.buf.first_after(b),
                    None => self.buf.start,
                };
                fold_rows(
                    spec,
                    plan,
                    base,
                    &mut 0,
                    &self.buf,
                    from..end.max(from),
                    true,
                );
                self.base_upto = self.base_upto.max(Some(f));
            }
        }
        if end > self.buf.start {
            // Each filter's latest dropped event: the first passing it, from the end.
            let (buf, layout, start) = (&self.buf, &spec.layout, self.buf.start);
            let latest = dropped_times(&mut self.dropped_latest, spec.n_filters);
            for (slot, at) in latest.iter_mut().enumerate() {
                let passing = (start..end)
                    .rev()
                    .find(|&i| slot == 0 || buf.filter(layout, i, slot - 1));
                if let Some(i) = passing {
                    *at = (*at).max(buf.ts[i]);
                }
            }
            self.buf.start = end;
        }
        self.frontier = Some(f);
        let removed = self.buf.compact();
        self.rows_removed(removed);
    }

    /// Moves the cursors' rows down after the buffer's first `removed` (dead) rows
    /// went.
    fn rows_removed(&mut self, removed: usize) {
        if removed > 0 {
            for c in self.cursors.iter_mut() {
                c.head = c.head.saturating_sub(removed);
                c.tail = c.tail.saturating_sub(removed);
            }
        }
    }

    /// Releases every allocation's room beyond what the state needs now: the
    /// buffer's dropped rows and spare room, the accumulators' spare room and the
    /// cached finishes (recomputed by the next read). Changes no value, no later
    /// result and nothing `save` writes but capacities and row positions; a state
    /// loaded from its snapshot and shrunk counts about what its contents need (see
    /// `footprint`). One reallocation per vector with room to give back.
    pub fn shrink_to_fit(&mut self) {
        let removed = self.buf.shrink_to_fit();
        self.rows_removed(removed);
        for c in &mut self.cursors {
            c.accs.iter_mut().for_each(|a| a.shrink_to_fit());
            c.finished = Vec::new();
            c.cached = 0;
        }
        for a in self.base.iter_mut().flatten() {
            a.shrink_to_fit();
        }
        windows_mut(&mut self.counted)
            .iter_mut()
            .for_each(CountedEvents::shrink_to_fit);
    }

    /// Approximate memory held by this key, in bytes: the sum of the parts
    /// `footprint` shows.
    pub fn approx_bytes(&self) -> usize {
        let mut total = 0;
        self.memory_parts(|_, bytes| total += bytes);
        total
    }
}

/// `KeyState::dropped_latest`, sized for `n` filters on first use.
fn dropped_times(latest: &mut Box<[i64]>, n: usize) -> &mut [i64] {
    if latest.len() != 1 + n {
        *latest = vec![NO_TIME; 1 + n].into_boxed_slice();
    }
    latest
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn what_a_push_reads_fits_the_hot_lines() {
        let hot_end = offset_of!(KeyState, buf) + offset_of!(EventBuffer, odd);
        assert!(hot_end <= HOT_BYTES, "hot fields end at {hot_end}");
        assert_eq!(size_of::<KeyState>(), 256);
    }
}
