//! The `featc` binary on one fixed input: `check` and `build` exit 0 (1 when the
//! input has errors), and on a valid input `training-set` and `replay` on the fraud
//! data exit 0 and write the same bytes; no command may take more than a stage.

use std::path::Path;
use std::time::{Duration, Instant};

use super::cli_inputs::CliInput;
use crate::cli_common;

/// The most one command may take in a debug build, like a stage in process.
const COMMAND_LIMIT: Duration = super::STAGE_LIMIT;

/// `featc args`, or why it failed: an exit code other than `code`, or more time
/// than `COMMAND_LIMIT`.
fn featc_exits(args: &[&str], code: i32) -> Result<(), String> {
    let started = Instant::now();
    let out = cli_common::featc(args);
    let took = started.elapsed();
    if out.status.code() != Some(code) {
        return Err(format!(
            "featc {args:?}: {} (expected exit code {code}): {}",
            out.status,
            cli_common::stderr(&out)
        ));
    }
    if took > COMMAND_LIMIT {
        return Err(format!(
            "featc {args:?} took {:.1} s (limit {} s)",
            took.as_secs_f64(),
            COMMAND_LIMIT.as_secs()
        ));
    }
    Ok(())
}

/// `input` (its `features.feat` next to the fraud sources, in `dir`) through the
/// binary.
pub fn run(dir: &Path, input: &CliInput) -> Result<(), String> {
    let project = dir.display().to_string();
    let code = if input.valid { 0 } else { 1 };
    featc_exits(&["check", &project], code)?;
    featc_exits(&["build", &project, "--emit", "batch"], code)?;
    featc_exits(&["build", &project, "--emit", "stream"], code)?;
    if !input.valid {
        return Ok(());
    }
    let mut outputs = Vec::new();
    for command in ["training-set", "replay"] {
        let out = dir.join(format!("{command}.csv"));
        let out_arg = out.display().to_string();
        featc_exits(
            &[
                command,
                &project,
                "--spine",
                "examples/fraud/data/spine.csv",
                "--source",
                "transactions=examples/fraud/data/transactions.csv",
                "--source",
                "logins=examples/fraud/data/logins.csv",
                "--out",
                &out_arg,
            ],
            0,
        )?;
        outputs.push(std::fs::read(&out).map_err(|e| e.to_string())?);
    }
    if outputs[0] != outputs[1] {
        return Err("training-set and replay wrote different tables".into());
    }
    Ok(())
}
