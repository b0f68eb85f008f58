//! `WindowAccumulator`, the dyn-friendly accumulator the executors drive, and
//! `window_accumulator`, which builds the right structure for an aggregation.

use super::check::InputCheck;
use super::deque::DequeWindow;
use super::invertible::InvertibleWindow;
use super::run::BufferRun;
use super::running::RunningWindow;
use crate::agg::{
    AggError, AsFloat, Avg, AvgDecimal, AvgItems, BoolWord, Count, CountDistinct, CountIf,
    CountStar, DateWord, F64Word, FirstK, FirstSel, I64Word, LastK, LastSel, MaxSel, MinSel,
    Percentile, PercentileDecimal, SelectAgg, StddevPop, SumDecimal, SumFloat, SumInt,
    TimestampWord, TopK, VarPop, WordSel,
};
use crate::ir::{AggKind, DataType};
use crate::snapshot::{Reader, SnapshotError, Writer};
use crate::value::Value;

/// The state of one feature over a sliding (or lifetime) set of events.
///
/// Invariants the caller upholds: every event has a unique `(ts, seq)`; `evict` is
/// called in increasing `(ts, seq)` order and only for events that were inserted
/// (with the same value); a lifetime accumulator (`windowed == false`) is never
/// evicted from (the call is ignored for non-invertible aggregations). Inserts
/// normally come in increasing `(ts, seq)` order (O(1) amortized); a late insert
/// (older than the newest inserted, not yet evicted in order) is also correct, possibly
/// O(window).
///
/// Guarantee: `finish()` equals the aggregation's finish of the fold of the current
/// multiset (inserted minus evicted), bit for bit, whatever the order of calls.
/// Values whose variant does not match the declared input type are ignored and make
/// `finish` return `AggError::TypeMismatch` until `reset`.
pub trait WindowAccumulator: AccumulatorObject + Send + Sync + std::fmt::Debug {
    fn insert(&mut self, ts: i64, seq: u64, v: &Value);
    fn evict(&mut self, ts: i64, seq: u64, v: &Value);
    fn finish(&self) -> Result<Value, AggError>;
    /// Approximate memory held, in bytes.
    fn approx_bytes(&self) -> usize;
    /// Back to the empty state (as freshly built).
    fn reset(&mut self);
    /// Releases the room the state holds beyond what it needs now (changes no
    /// value; `approx_bytes` then counts less).
    fn shrink_to_fit(&mut self) {}
    /// Makes this accumulator equal to `other` in place, reusing its allocations,
    /// when `other` is an accumulator of the same type (built for the same
    /// aggregation and input); returns false, changing nothing, otherwise.
    fn assign_from(&mut self, other: &dyn WindowAccumulator) -> bool;
    /// Inserts (or evicts) every passing event of `run` in one typed loop when the
    /// aggregation has one for the run's input (`Aggregation::fold_run`), exactly as
    /// `insert`/`evict` event by event would; `false` (nothing changed) otherwise.
    fn fold_run(&mut self, _run: &BufferRun<'_>, _insert: bool) -> bool {
        false
    }
    /// Starts loading the heap blocks the next insert or evict reads (see
    /// `crate::prefetch`); changes nothing.
    #[inline]
    fn prefetch_heap(&self) {}
    /// What `window_accumulator(agg, <this input type>, ..)` fed the same events would
    /// finish with, when this accumulator's state holds it (`Aggregation::finish_as`;
    /// a type mismatch is reported under `agg`); `None` when it does not.
    fn finish_as(&self, _agg: AggKind) -> Option<Result<Value, AggError>> {
        None
    }
    /// Writes the state (the fold and the input check, with the capacities memory
    /// figures count) into a snapshot; what it aggregates is the `KeySpec`'s to say.
    fn save(&self, w: &mut Writer);
    /// Reads what `save` wrote into this accumulator, a fresh clone of the spec's
    /// prototype (which fixes the aggregation and input type).
    fn load(&mut self, r: &mut Reader<'_>) -> Result<(), SnapshotError>;
}

/// Boxed cloning and downcasting of a `WindowAccumulator`, implemented once for every
/// accumulator that is `Clone`.
pub trait AccumulatorObject {
    fn clone_box(&self) -> Box<dyn WindowAccumulator>;
    /// For `assign_from`'s downcast.
    fn as_any(&self) -> &dyn std::any::Any;
    /// The accumulator's Rust type (`KeyState::footprint` names its parts by it).
    fn type_name(&self) -> &'static str;
}

impl<T: WindowAccumulator + Clone + 'static> AccumulatorObject for T {
    fn clone_box(&self) -> Box<dyn WindowAccumulator> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
}

/// `WindowAccumulator::assign_from` for an accumulator of type `T`: runs `assign`
/// when `other` is a `T` too, else changes nothing and returns false.
pub(crate) fn assign_same<T: 'static>(
    to: &mut T,
    other: &dyn WindowAccumulator,
    assign: impl FnOnce(&mut T, &T),
) -> bool {
    match other.as_any().downcast_ref::<T>() {
        Some(o) => {
            assign(to, o);
            true
        }
        None => false,
    }
}

impl Clone for Box<dyn WindowAccumulator> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// The accumulators whose arithmetic differs for decimals (semantics.md "Decimals");
/// `None` for the others, which take decimals as `Value`s like strings.
fn decimal_accumulator(
    agg: AggKind,
    precision: u8,
    scale: u8,
    check: InputCheck,
) -> Option<Box<dyn WindowAccumulator>> {
    Some(match agg {
        AggKind::Sum => Box::new(InvertibleWindow::new(SumDecimal { scale }, check)),
        AggKind::Avg => Box::new(InvertibleWindow::new(AvgDecimal { scale }, check)),
        AggKind::VarPop => Box::new(InvertibleWindow::new(AsFloat(VarPop::default()), check)),
        AggKind::StddevPop => Box::new(InvertibleWindow::new(AsFloat(StddevPop::default()), check)),
        AggKind::Percentile(q) => Box::new(InvertibleWindow::new(
            PercentileDecimal {
                q,
                precision,
                scale,
            },
            check,
        )),
        _ => return None,
    })
}

/// Builds the accumulator of `agg` over values of type `input` (`None` for
/// `count(*)`). `windowed` selects a structure that supports `evict` (sliding
/// window) or a running state (lifetime). Errors when the aggregation does not accept
/// the input type (`AggKind::result_type`).
pub fn window_accumulator(
    agg: AggKind,
    input: Option<DataType>,
    windowed: bool,
) -> Result<Box<dyn WindowAccumulator>, AggError> {
    if agg.result_type(input).is_none() {
        return Err(AggError::UnsupportedInput { agg, input });
    }
    let check = InputCheck::new(agg, input);
    if let Some(DataType::Decimal { precision, scale }) = input {
        if let Some(acc) = decimal_accumulator(agg, precision, scale, check.clone()) {
            return Ok(acc);
        }
    }
    // A list's item type (the list aggregations accept scalar inputs only).
    let item = input
        .and_then(|t| t.scalar())
        .ok_or(AggError::UnsupportedInput { agg, input });
    fn sel<S: crate::agg::Select>(windowed: bool, check: InputCheck) -> Box<dyn WindowAccumulator> {
        if windowed {
            Box::new(DequeWindow::<S>::new(check))
        } else {
            Box::new(RunningWindow::new(SelectAgg(S::default()), check))
        }
    }
    /// Fixed-width inputs select by machine words (`WordSel`), the rest by `Value`.
    fn sel_typed<S: crate::agg::Select>(
        windowed: bool,
        check: InputCheck,
        input: Option<DataType>,
    ) -> Box<dyn WindowAccumulator> {
        match input {
            Some(DataType::Float64) => sel::<WordSel<S, F64Word>>(windowed, check),
            Some(DataType::Int64) => sel::<WordSel<S, I64Word>>(windowed, check),
            Some(DataType::Timestamp) => sel::<WordSel<S, TimestampWord>>(windowed, check),
            Some(DataType::Date) => sel::<WordSel<S, DateWord>>(windowed, check),
            Some(DataType::Bool) => sel::<WordSel<S, BoolWord>>(windowed, check),
            _ => sel::<S>(windowed, check),
        }
    }
    Ok(match agg {
        AggKind::CountStar => Box::new(InvertibleWindow::new(CountStar::default(), check)),
        AggKind::Count => Box::new(InvertibleWindow::new(Count::default(), check)),
        AggKind::CountIf => Box::new(InvertibleWindow::new(CountIf::default(), check)),
        AggKind::CountDistinct => Box::new(InvertibleWindow::new(CountDistinct, check)),
        AggKind::Sum if input == Some(DataType::Int64) => {
            Box::new(InvertibleWindow::new(SumInt, check))
        }
        AggKind::Sum => Box::new(InvertibleWindow::new(SumFloat, check)),
        // `avg` of a list column is element-wise (`AvgItems`).
        AggKind::Avg if matches!(input, Some(DataType::List(_))) => {
            Box::new(InvertibleWindow::new(AvgItems, check))
        }
        AggKind::Avg => Box::new(InvertibleWindow::new(Avg, check)),
        AggKind::VarPop => Box::new(InvertibleWindow::new(VarPop::default(), check)),
        AggKind::StddevPop => Box::new(InvertibleWindow::new(StddevPop::default(), check)),
        AggKind::Min => sel_typed::<MinSel>(windowed, check, input),
        AggKind::Max => sel_typed::<MaxSel>(windowed, check, input),
        AggKind::First => sel_typed::<FirstSel>(windowed, check, input),
        AggKind::Last => sel_typed::<LastSel>(windowed, check, input),
        AggKind::Percentile(q) if input == Some(DataType::Float64) => {
            Box::new(InvertibleWindow::new(Percentile::<F64Word>::new(q), check))
        }
        AggKind::Percentile(q) => {
            Box::new(InvertibleWindow::new(Percentile::<I64Word>::new(q), check))
        }
        // A window keeps every event it folds (removal is exact); a lifetime only the
        // k best (`ByTime::bounded`).
        AggKind::LastK(k) if windowed => {
            Box::new(InvertibleWindow::new(LastK::new(k, item?), check))
        }
        AggKind::LastK(k) => Box::new(RunningWindow::new(LastK::bounded(k, item?), check)),
        AggKind::FirstK(k) if windowed => {
            Box::new(InvertibleWindow::new(FirstK::new(k, item?), check))
        }
        AggKind::FirstK(k) => Box::new(RunningWindow::new(FirstK::bounded(k, item?), check)),
        // Exact counts need every value, windowed or not.
        AggKind::TopK(k) => Box::new(InvertibleWindow::new(TopK::new(k, item?), check)),
    })
}
