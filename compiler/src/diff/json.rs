//! The diff report as JSON for tools (`featc diff --format json`): the report's serde
//! form inside a versioned envelope. `diff_version` changes only when a member is
//! removed or changes meaning; new members may appear within a version.

use serde::Serialize;

use super::report::ProjectDiff;

/// The JSON's version.
pub const DIFF_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    diff_version: u32,
    old: &'a str,
    new: &'a str,
    /// The exit status `featc diff` gives this report (0 or 1).
    exit_code: u8,
    #[serde(flatten)]
    diff: &'a ProjectDiff,
}

/// The report as pretty JSON (with a final newline); `old` and `new` name the sides.
pub fn render(d: &ProjectDiff, old: &str, new: &str) -> Result<String, serde_json::Error> {
    let doc = Document {
        diff_version: DIFF_VERSION,
        old,
        new,
        exit_code: u8::from(d.gate.fails),
        diff: d,
    };
    serde_json::to_string_pretty(&doc).map(|s| s + "\n")
}
