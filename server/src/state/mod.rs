//! The core: the durable online state, what every driver and transport of the server
//! stands on. It owns the runtime (`online`, one copy), the one write
//! protocol (`check` -> `ledger`: log, apply, idempotency, checkpoint, source
//! positions), the one opening of a state directory (`recover`), the one per-row
//! read loop (`read`, with `table` for Arrow) and the loading of history (`history`).
//! Its errors are domain errors (`error`); it names no transport (no HTTP, Kafka or
//! Redis): what a source's position means is the source's (`positions`).
//!
//! - `online`: `OnlineState`, the shared read side (behind an `Arc`);
//! - `ledger`: `Ledger`, the write side, owned by one driver at a time (the server's
//!   writer thread, the embedded store);
//! - `check`: `PushCheck`, a push checked before anything of it is logged (with
//!   `future`, the bound on event times ahead of the wall clock);
//! - `recover`: `open`, the state from a directory (or in memory);
//! - `read`, `table`: reads, JSON-shaped and Arrow-shaped;
//! - `dead_letters`: every event kept out (late, future, invalid), bounded, counted,
//!   saved by checkpoints; `late` turns the runtime's late rows into its letters;
//! - `progress`: how far into the log the state is, as each read saw it;
//! - `idempotency`, `positions`, `counters`, `history`, `error`.

pub mod check;
pub mod counters;
pub mod dead_letters;
pub mod error;
pub mod future;
pub mod history;
pub mod idempotency;
pub mod late;
pub mod ledger;
pub mod online;
pub mod positions;
pub mod progress;
pub mod read;
pub mod recover;
pub mod table;
#[cfg(test)]
pub(crate) mod testing;

pub use check::{CheckedPush, PushCheck};
pub use counters::StateCounters;
pub use dead_letters::DeadLetterStore;
pub use error::{PushError, ReadError, StateError};
pub use future::{FutureCounts, FutureEvent};
pub use idempotency::PushOutcome;
pub use ledger::{Applied, Committed, Ledger};
pub use online::{OnlineState, RuntimeView};
pub use positions::{Part, Position, Round};
pub use progress::LogProgress;
pub use read::{KeyRows, ReadPlan, RowSource, VectorSink};
pub use recover::{open, Recovered, Replay};
pub use table::{resolve, TableRead, UnknownName};
