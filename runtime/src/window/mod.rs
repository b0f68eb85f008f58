//! Window structures and the per-key state the batch and streaming executors share:
//! `window_accumulator` (one feature over a sliding or lifetime set of events) and
//! `KeyState` (every feature of one entity key, evaluated at any time), planned by
//! `KeySpec::from_plan` from a group of the feature plan.
//!
//! Code map: `spec` (`KeySpec`: one cursor of accumulators per window length, and
//! which features share a state), `key_state` (`KeyState`), `buffer` (`EventBuffer`,
//! an entity's buffered events), `layout` and `row` (`RowLayout`: a row packed into a
//! few 64-bit words), `encoded` (`EncodedRows`: a batch's rows in that encoding),
//! `encode` (a batch's input and filter columns written into `EncodedRows`, by both
//! executors), `run` (`BufferRun`: a run of buffered rows handed to an accumulator),
//! `accumulator`
//! (`WindowAccumulator` and `window_accumulator`, whose `save`/`load` write one
//! accumulator into a snapshot), `invertible` (counts,
//! count_distinct through a multiset, sum, avg, var, stddev, percentile, windowed
//! last_k and first_k, top_k), `deque` (windowed min, max, first, last: a monotonic
//! deque), `running` (lifetime), `counted` (count windows: a feature's latest
//! events in its own order, outside the buffer), `check` (the type check of fed
//! values), `ttl` (when an event leaves a window, the ttl rule), `snapshot` (a
//! `KeyState` and its buffer into a snapshot and back), `footprint` (`Footprint`: a state's bytes by
//! part, in memory and saved), `expiry` (retention: when a state reads as an entity
//! never seen), `row_codec` (the buffer's rows in a snapshot, compactly).
//!
//! Sharing: features over the same events (window, input, type, filter) share one
//! state: a twin reads its twin's accumulator, and a sum or avg that a var_pop,
//! stddev_pop or avg beside it can finish (`finish_as`) is an alias of it.
//!
//! Performance (figures in BENCHMARKS.md):
//! - Ingest folds an entity's events into its cursors in runs (`promise`,
//!   `Options::fold_run`): on a large key space the state is cold, so it is visited
//!   once per run, not once per event; reads fold what is pending themselves. A
//!   cursor hands each accumulator the rows it moves over as one `BufferRun`: the
//!   stored words, read without building a `Value` per row and column; a deque evicts
//!   a run without reading it (every entry up to the run's last event leaves).
//! - Events reach a `KeyState` already in the buffer's row encoding: both executors
//!   write a batch's input and filter columns into `EncodedRows` column by column,
//!   and `push_row` copies a row.
//! - The lifetime cursor keeps a `base` (the fold of everything up to `base_upto`):
//!   at a drop it is a copy, in place, of the lifetime cursor at the horizon, so
//!   dropped events are not folded twice.
//! - `KeyState` is `repr(C)` with what a push reads first: a push touches its first
//!   three cache lines only. The stream ingest prefetches each entity's state in
//!   stages a few events ahead (`KeyState::prefetch`: those lines, the buffer tail
//!   and, when a run is due, the cursors and accumulators; `crate::prefetch` is the
//!   one place with `unsafe`). A read prefetches the whole state level by level
//!   before walking it.
//! - Each accumulator's finish is cached until the accumulator changes (validity
//!   bits in the cursor, so a fold dirties no cache line for them; the values are
//!   allocated by an entity's first read), so serving reads between events skip the
//!   exact roundings.

mod accumulator;
mod buffer;
mod check;
mod counted;
mod deque;
mod encode;
mod encoded;
pub(crate) mod expiry;
mod footprint;
mod invertible;
mod key_state;
mod layout;
mod row;
mod row_codec;
mod run;
mod running;
mod snapshot;
mod spec;
mod ttl;

pub use accumulator::{window_accumulator, WindowAccumulator};
pub use deque::DequeWindow;
pub(crate) use encode::{encode_filter, encode_input};
pub use encoded::{EncodedRow, EncodedRows};
pub use footprint::Footprint;
pub use invertible::InvertibleWindow;
pub use key_state::{KeyState, PREFETCH_STAGES};
pub use run::BufferRun;
pub use running::RunningWindow;
pub use spec::{KeySpec, SpecError};
pub use ttl::ttl_fresh;
