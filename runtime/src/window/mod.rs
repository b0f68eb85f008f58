//! Window structures and the per-key state the batch and streaming executors share:
//! `window_accumulator` (one feature over a sliding or lifetime set of events) and
//! `KeyState` (every feature of one entity key, evaluated at any time).

mod accumulator;
mod buffer;
mod check;
mod deque;
mod encoded;
mod invertible;
mod key_state;
mod layout;
mod row;
mod run;
mod running;
mod spec;
mod ttl;

pub use accumulator::{window_accumulator, WindowAccumulator};
pub use deque::DequeWindow;
pub use encoded::{EncodedRow, EncodedRows};
pub use invertible::InvertibleWindow;
pub use key_state::{KeyState, PREFETCH_STAGES};
pub(crate) use layout::SlotStore;
pub use run::BufferRun;
pub use running::RunningWindow;
pub use spec::{KeySpec, SpecError};
pub use ttl::ttl_fresh;
