//! `ValueRun`: one input's values over a run of events as the event buffer stores
//! them, so an aggregation can fold the whole run in one typed loop.

use crate::ir::DataType;
use crate::value::Value;

/// The events of a run that pass a feature's filter, and their values of one input.
///
/// Invariant: every value a method yields has the run's input type; implementations
/// answer `None` (and the caller folds event by event through `Value`s) whenever the
/// run holds anything else (a value of another variant, an input not stored as
/// words). Each method visits the passing events in the run's (ts, seq) order.
pub trait ValueRun {
    /// Number of passing events (what `count(*)` counts).
    fn events(&self) -> u64;
    /// Number of passing events whose value is not null.
    fn non_null(&self) -> Option<u64>;
    /// Number of passing events whose boolean value is true.
    fn trues(&self) -> Option<u64>;
    /// Calls `f` with each non-null float64 value; `false` when the input is not one.
    fn each_f64(&self, f: impl FnMut(f64)) -> bool;
    /// Calls `f(ts, seq, word)` with each passing non-null value of fixed-width type
    /// `ty` as its stored word (`layout::encode_word`'s bits; a bool is 0 or 1);
    /// `false` (and no call) when the input is not stored as words of type `ty`.
    fn each_word(&self, ty: DataType, f: impl FnMut(i64, u64, u64)) -> bool;
    /// Calls `f(ts, seq, value)` with each passing non-null value of an input kept
    /// as `Value`s (strings), borrowed from the run; `false` (and no call) when the
    /// input is stored otherwise or some value does not have the declared type.
    fn each_value<'s>(&'s self, f: impl FnMut(i64, u64, &'s Value)) -> bool;
    /// The `(ts, seq)` of the run's last event, passing or not (`None` when empty).
    fn last_event(&self) -> Option<(i64, u64)>;
}
