//! featc's row vocabulary: cells, Arrow types, time, lists and interning, below every
//! executor.
//!
//! What the batch and streaming executors, IO, expressions and snapshots all speak
//! about one row's values: `types` (the Arrow type of each featc type, and which
//! Arrow types a declared column may be read from), `time` (any Arrow timestamp to
//! µs UTC; times printed as ISO 8601), `date` (dates read and printed as
//! `YYYY-MM-DD`), `decimal` (decimal text, columns and arithmetic), `duration` (durations printed as written),
//! `cells` (Arrow columns conformed to featc's types and read cell by cell as
//! `Value`s; builders writing values back), `list` (list values' Arrow types, columns
//! and JSON text), `list_column` (list source columns read from every form), `nested_column` (struct and map paths read from every form), `vector` (dot, cosine, l2) and `intern` (one shared allocation per distinct string cell).
//!
//! Layering: `row` names only `ir` and `value` of this crate, so every layer above
//! may use it and it never reaches up into an executor.

mod cells;
pub mod date;
pub mod decimal;
pub mod duration;
mod intern;
pub mod list;
pub mod list_column;
mod list_error;
pub mod nested_column;
pub mod time;
pub mod types;
pub mod vector;

pub use cells::{conform, conform_in, CellError, Cells, ValuesBuilder};
pub(crate) use intern::Interner;
pub use list_error::ListError;
