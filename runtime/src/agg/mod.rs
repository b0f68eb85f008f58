//! The aggregation algebra: one commutative monoid per `AggKind`, one file each.
//! This is the only implementation of each aggregation's arithmetic; the batch and
//! streaming executors both go through it (via `crate::window`), which is what makes
//! their results bit-identical.
//!
//! Adding an aggregation touches these files, and no other (the feature plan, both
//! executors and every printer carry `AggKind` without knowing its members):
//! 1. `runtime/src/ir/aggs.rs`: the `AggKind` variant, its `name`, `result_type` and
//!    `null_when_empty`;
//! 2. `compiler/src/check/aggs.rs`: its spelling and argument rules (and the list
//!    "did you mean" suggests from);
//! 3. `runtime/src/agg/<name>.rs`: its monoid (`Aggregation`, and `Invertible` when it
//!    has an inverse), declared and exported here; `finish_as` where another
//!    aggregation's state can serve it;
//! 4. `runtime/src/window/accumulator.rs`: `window_accumulator` picks its window
//!    structure (invertible, monotonic deque, running);
//! 5. `runtime/src/reference/aggregate.rs`: the oracle's own naive definition,
//!    written from the semantics and sharing no code with 3;
//! 6. `docs/semantics.md` (its row of the aggregation table) and `docs/language.md`;
//! 7. the tests that draw it: `runtime/tests/algebra_support/{cases,naive}.rs` (the
//!    algebra proptests against a naive fold) and `support/src/gen.rs` (reference ==
//!    batch == stream on generated projects);
//! 8. `compiler/src/import/project.rs` when the JSON spec format names it.
//!
//! A list-valued aggregation's (`last_k`, `first_k`, `top_k`) values reach every
//! output through `crate::row::list`.

mod as_float;
mod avg;
mod avg_items;
mod by_time;
mod count;
mod count_distinct;
mod count_if;
mod count_star;
mod counter;
mod error;
mod first;
mod first_k;
mod last;
mod last_k;
mod max;
mod min;
mod moments;
mod percentile;
mod percentile_decimal;
mod rank_state;
mod select;
mod stddev_pop;
mod sum_decimal;
mod sum_float;
mod sum_int;
mod top_k;
mod value_run;
mod var_pop;
mod word_select;

pub use as_float::AsFloat;
pub use avg::{Avg, AvgState};
pub use avg_items::{AvgItems, AvgItemsState};
pub use by_time::{ByTime, ByTimeState, End};
pub use count::{Count, NonNull};
pub use count_distinct::CountDistinct;
pub use count_if::{CountIf, IsTrue};
pub use count_star::{CountStar, EveryEvent};
pub use counter::{CountAgg, Counts};
pub use error::{AggError, FeatureError};
pub use first::{First, FirstSel};
pub use first_k::{FirstK, Oldest};
pub use last::{Last, LastSel};
pub use last_k::{LastK, Newest};
pub use max::{Max, MaxSel};
pub use min::{Min, MinSel};
pub use moments::{MomentFinish, Moments, MomentsAgg};
pub use percentile::Percentile;
pub use percentile_decimal::{DecimalRanks, PercentileDecimal};
pub use rank_state::RankState;
pub use select::{Select, SelectAgg};
pub use stddev_pop::{StandardDeviation, StddevPop};
pub use sum_decimal::{AvgDecimal, DecimalTotal, SumDecimal};
pub use sum_float::SumFloat;
pub use sum_int::SumInt;
pub use top_k::{TopK, TopState};
pub use value_run::ValueRun;
pub use var_pop::{VarPop, Variance};
pub use word_select::{BoolWord, DateWord, F64Word, I64Word, TimestampWord, Word, WordSel};

use crate::ir::{AggKind, DataType};
use crate::snapshot::Persist;
use crate::value::Value;

/// A commutative monoid over lifted events.
///
/// Invariants: `combine` is associative and commutative with `identity()` as neutral
/// element; `finish(fold(lift(e) for e in E))` depends only on the multiset `E`
/// (never on order, never on how it was split); `insert(s, e)` leaves `s` equal (as a
/// value) to `combine(s, lift(e))`. Nulls are ignored by every aggregation except
/// `count(*)`, which counts every event it is given (the value is irrelevant).
/// Values of a variant the aggregation does not accept are ignored (the window layer
/// reports them as `AggError::TypeMismatch`).
pub trait Aggregation: Clone + Send + Sync + std::fmt::Debug + 'static {
    /// `Persist`: snapshots save and restore the state as it is.
    type State: Clone + std::fmt::Debug + Send + Sync + Persist + 'static;
    /// True when the type also implements `Invertible`.
    const INVERTIBLE: bool;

    fn identity(&self) -> Self::State;

    fn lift(&self, ts: i64, v: &Value) -> Self::State {
        let mut s = self.identity();
        self.insert(&mut s, ts, v);
        s
    }

    fn combine(&self, into: &mut Self::State, other: &Self::State);

    /// The result for the folded multiset (the "empty" row of semantics.md for
    /// `identity()`).
    fn finish(&self, s: &Self::State) -> Result<Value, AggError>;

    /// Fast path equal to `combine(s, lift(ts, v))`; allocation-free for numbers.
    fn insert(&self, s: &mut Self::State, ts: i64, v: &Value);

    /// Approximate memory held by a state, in bytes.
    fn state_bytes(&self, s: &Self::State) -> usize;

    /// Releases the room `s` holds beyond what it needs now (changes no value;
    /// `state_bytes` then counts less).
    fn shrink_state(&self, _s: &mut Self::State) {}

    /// Starts loading the heap blocks of `s` (see `crate::prefetch`); changes nothing.
    #[inline]
    fn prefetch_state(&self, _s: &Self::State) {}

    /// Inserts (or, with `insert == false`, removes, for an `Invertible`) every
    /// passing event of `run` in one typed loop, leaving `s` as the event-by-event
    /// path would; returns `false` without touching `s` when this aggregation has no
    /// typed fold for the run (the caller then folds event by event).
    fn fold_run<R: ValueRun>(&self, _s: &mut Self::State, _run: &R, _insert: bool) -> bool {
        false
    }

    /// The result aggregation `agg` over inputs of type `input` would give for the
    /// same multiset, read from this aggregation's state when it holds everything
    /// `agg` needs (avg's state holds a float sum; var_pop's and stddev_pop's hold
    /// avg's); `None` otherwise. Lets features over the same events, input and filter
    /// share one state (`window::KeySpec`). Invariant: when `Some`, bit for bit equal
    /// to `agg`'s own `finish` of its own fold of the multiset.
    fn finish_as(
        &self,
        _s: &Self::State,
        _agg: AggKind,
        _input: Option<DataType>,
    ) -> Option<Result<Value, AggError>> {
        None
    }
}

/// An aggregation with an inverse: for states `a`, `b`, `combine(a, b)` followed by
/// `uncombine(.., b)` gives a state equal (as a value) to `a`, and `remove(s, e)`
/// undoes `insert(s, e)`. Callers only remove what they inserted.
pub trait Invertible: Aggregation {
    fn remove(&self, s: &mut Self::State, ts: i64, v: &Value);
    fn uncombine(&self, from: &mut Self::State, other: &Self::State);
}
