//! What the data commands do to their output and how they report progress: a failed
//! run leaves the previous output untouched (and no temporary file), an `--out` that
//! is one of the run's inputs is refused before anything is written, and long runs
//! say their phases on a non-terminal stderr unless `--quiet`.

use std::path::{Path, PathBuf};

use crate::cli_common;

use cli_common::{featc, stderr};

fn scratch(test: &str) -> PathBuf {
    cli_common::scratch(&format!("cli_output/{test}"))
}

const SPINE: &str = "examples/fraud/data/spine.csv";

fn repo(rel: &str) -> PathBuf {
    featc_test_support::paths::repo_root().join(rel)
}

/// The files of `dir`, by name.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("listing")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn a_failed_run_leaves_the_previous_output_as_it_was() {
    for command in ["training-set", "replay"] {
        for out in ["o.csv", "o.parquet"] {
            let dir = scratch(&format!("failed_{command}_{out}"));
            let out = dir.join(out);
            let previous = b"the previous good output".to_vec();
            std::fs::write(&out, &previous).expect("previous output");
            // A transactions file with a cell that is not a float.
            let tx = std::fs::read_to_string(repo("examples/fraud/data/transactions.csv"))
                .expect("transactions");
            let broken: Vec<String> = tx
                .lines()
                .enumerate()
                .map(|(i, l)| {
                    if i == 3 {
                        let mut cells: Vec<&str> = l.split(',').collect();
                        cells[3] = "twelve";
                        cells.join(",")
                    } else {
                        l.to_string()
                    }
                })
                .collect();
            let tx_path = dir.join("transactions.csv");
            std::fs::write(&tx_path, broken.join("\n") + "\n").expect("write");
            let o = featc(&[
                command,
                "examples/fraud",
                "--spine",
                SPINE,
                "--source",
                &format!("transactions={}", tx_path.display()),
                "--out",
                &out.display().to_string(),
            ]);
            assert_eq!(o.status.code(), Some(2), "{command}: {}", stderr(&o));
            assert_eq!(
                std::fs::read(&out).expect("still there"),
                previous,
                "{command} {}",
                out.display()
            );
            let names = listing(&dir);
            assert_eq!(names.len(), 2, "no temporary file is left: {names:?}");
        }
    }
}

#[test]
fn a_successful_run_replaces_the_output_whole() {
    let dir = scratch("replaced");
    let out = dir.join("o.csv");
    std::fs::write(&out, "x".repeat(100_000)).expect("a long previous output");
    let o = featc(&[
        "training-set",
        "examples/fraud",
        "--spine",
        SPINE,
        "--out",
        &out.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).expect("output");
    assert!(
        text.starts_with("user_id,merchant_id,ts,"),
        "{}",
        &text[..40]
    );
    assert!(!text.contains("xxx"));
    assert_eq!(listing(&dir), vec!["o.csv"]);
}

#[test]
fn an_output_that_is_an_input_is_refused_and_the_input_kept() {
    let dir = scratch("input");
    let spine = dir.join("spine.csv");
    std::fs::copy(repo(SPINE), &spine).expect("spine copy");
    let events = dir.join("events");
    std::fs::create_dir_all(&events).expect("source folder");
    std::fs::copy(
        repo("examples/fraud/data/transactions.csv"),
        events.join("part-0.csv"),
    )
    .expect("source copy");
    let source = format!("transactions={}", events.display());
    let spine_text = std::fs::read(&spine).expect("spine");
    let cases = [
        (spine.clone(), "the spine"),
        (events.join("part-0.csv"), "source `transactions`"),
        (events.join("features.csv"), "source `transactions`"),
        // The declared file of a source the features read.
        (repo("examples/fraud/data/logins.csv"), "source `logins`"),
    ];
    for command in ["training-set", "replay"] {
        for (out, what) in &cases {
            let o = featc(&[
                command,
                "examples/fraud",
                "--spine",
                &spine.display().to_string(),
                "--source",
                &source,
                "--out",
                &out.display().to_string(),
            ]);
            let err = stderr(&o);
            assert_eq!(
                o.status.code(),
                Some(2),
                "{command} {}: {err}",
                out.display()
            );
            assert!(err.contains(what), "{command}: {err}");
            assert!(err.contains("write the output elsewhere"), "{err}");
        }
    }
    assert_eq!(std::fs::read(&spine).expect("spine"), spine_text);
    assert_eq!(listing(&events), vec!["part-0.csv"]);
}

#[test]
fn long_runs_say_their_phases_unless_quiet() {
    let dir = scratch("progress");
    for command in ["training-set", "replay"] {
        let out = dir.join(format!("{command}.csv")).display().to_string();
        let o = featc(&[command, "examples/fraud", "--spine", SPINE, "--out", &out]);
        assert!(o.status.success(), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("featc: reading the spine"), "{command}: {err}");
        assert!(
            err.contains("featc: writing the output"),
            "{command}: {err}"
        );
        let o = featc(&[
            command,
            "examples/fraud",
            "--spine",
            SPINE,
            "--out",
            &out,
            "--quiet",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(!err.contains("featc: "), "{command} --quiet: {err}");
        assert!(err.contains("wrote") || err.contains("replayed"), "{err}");
    }
}
