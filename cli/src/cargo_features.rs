//! What this featc was built without: a command needing an optional Cargo feature of
//! featc-cli (`serve`, `ballista`; Cargo.toml) that the build left out still parses,
//! and says which feature it needs and how to build a featc that has it.

use std::process::ExitCode;

/// Why something cannot be done: `feature` was left out of this build.
pub fn without(feature: &str) -> String {
    format!(
        "this featc was built without `{feature}` (cargo build -p featc-cli, whose default \
         features include it)"
    )
}

/// Fails `command`, which needs `feature`, with the usage/IO exit status.
pub fn missing(feature: &str, command: &str) -> ExitCode {
    super::fail(format!("{command} needs `{feature}`: {}", without(feature)))
}
