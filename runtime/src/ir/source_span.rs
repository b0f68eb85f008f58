//! `SourceSpan`: where in a `.feat` file an IR node came from, for diagnostics.

use serde::{Deserialize, Serialize};

/// A byte range of a `.feat` file, kept so that later stages can point at the text a
/// node came from. `file` indexes `Project::files`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct SourceSpan {
    pub file: u32,
    pub start: u32,
    pub end: u32,
}
