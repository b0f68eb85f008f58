//! The `featc` binary on one input per class of limit the fuzz test
//! (compiler/tests/fuzz_stages.rs) mutates towards (`limit_inputs`), next to the fraud
//! example's sources: `check` and `build` exit 0 (1 when the input has errors), and on
//! a valid input `training-set` and `replay` on the fraud data exit 0 and write the
//! same bytes; no command may take more than a stage of the fuzz test in process.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cli_common;
use crate::limit_inputs::{self, CliInput};

/// The most one command may take in a debug build, like a stage in process (the fuzz
/// test's `fuzz::STAGE_LIMIT`).
const COMMAND_LIMIT: Duration = Duration::from_secs(30);

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
fn run(dir: &Path, input: &CliInput) -> Result<(), String> {
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

/// A fresh scratch folder.
fn scratch(name: &str) -> PathBuf {
    cli_common::scratch(&format!("cli_limits/{name}"))
}

/// The real binary on one input per class of limit (next to the fraud example's
/// sources); every failing input is reported.
#[test]
fn cli_handles_one_input_per_limit() {
    let root = featc_test_support::paths::repo_root();
    let sources =
        std::fs::read_to_string(root.join("examples/fraud/sources.feat")).expect("fraud sources");
    let mut failures = Vec::new();
    for (i, input) in limit_inputs::inputs().into_iter().enumerate() {
        let dir = scratch(&format!("cli-{i}"));
        std::fs::write(dir.join("sources.feat"), &sources).expect("write sources");
        std::fs::write(dir.join("features.feat"), &input.features).expect("write features");
        if let Err(why) = run(&dir, &input) {
            failures.push(format!("{}: {why}", input.class));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
