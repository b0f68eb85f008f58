//! `featc training-set --partitions N --memory-limit SIZE --passes N` change how the
//! work runs, never its result: the same file for every partition and pass count,
//! and a memory limit too small for the events makes the sorts spill (reported) and
//! still gives it.

use std::path::{Path, PathBuf};

use crate::cli_common;

use cli_common::{featc, stderr};

fn scratch(test: &str) -> PathBuf {
    cli_common::scratch(&format!("cli_partitions/{test}"))
}

const CASE: &str = "tests/cases/synthetic";

/// Runs the synthetic case's training set with `extra` options into `out`.
fn run_training_set(out: &Path, extra: &[&str]) -> std::process::Output {
    let out_arg = out.to_string_lossy().to_string();
    let mut args = vec![
        "training-set",
        CASE,
        "--spine",
        "tests/cases/synthetic/spine.parquet",
        "--out",
        &out_arg,
        "--quiet",
    ];
    args.extend_from_slice(extra);
    featc(&args)
}

/// `run_training_set`, which must succeed; what it said on stderr.
fn training_set(out: &Path, extra: &[&str]) -> String {
    let run = run_training_set(out, extra);
    assert!(run.status.success(), "{extra:?}: {}", stderr(&run));
    stderr(&run)
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("output")
}

#[test]
fn every_partition_count_writes_the_same_file() {
    let dir = scratch("counts");
    let one = dir.join("p1.parquet");
    training_set(&one, &["--partitions", "1"]);
    for n in ["2", "3", "8"] {
        let out = dir.join(format!("p{n}.parquet"));
        // Small batches: many batches per partition interleave in the repartitioning.
        training_set(&out, &["--partitions", n, "--batch-size", "97"]);
        assert!(
            bytes(&out) == bytes(&one),
            "--partitions {n} differs from 1"
        );
    }
}

#[test]
fn every_pass_count_writes_the_same_file() {
    let dir = scratch("passes");
    let one = dir.join("one.parquet");
    training_set(&one, &["--partitions", "2"]);
    for (passes, partitions) in [("2", "1"), ("3", "2"), ("7", "3")] {
        let out = dir.join(format!("passes{passes}.parquet"));
        training_set(
            &out,
            &[
                "--passes",
                passes,
                "--partitions",
                partitions,
                "--batch-size",
                "97",
            ],
        );
        assert!(
            bytes(&out) == bytes(&one),
            "--passes {passes} --partitions {partitions} differs from one pass"
        );
    }
    // Spilling in passes: each pass's sorts spill their share.
    let bounded = dir.join("bounded.parquet");
    let said = training_set(
        &bounded,
        &[
            "--passes",
            "3",
            "--memory-limit",
            "4MiB",
            "--batch-size",
            "512",
        ],
    );
    assert!(said.contains("spilled to disk"), "{said}");
    assert!(
        bytes(&bounded) == bytes(&one),
        "a spilled run in passes differs"
    );
}

/// The disk the spill holds at once is bounded (`--spill-limit`), and passes divide it:
/// a limit the single pass's spill passes stops the run, naming it with the way out;
/// four passes, each spilling about a quarter, fit under it and give the same file.
#[test]
fn passes_fit_a_spill_under_a_limit_one_pass_exceeds() {
    let dir = scratch("spill_limit");
    let one = dir.join("one.parquet");
    let spill = [
        "--memory-limit",
        "4MiB",
        "--batch-size",
        "512",
        "--partitions",
        "2",
    ];
    let said = training_set(&one, &spill);
    // About 1.1 MiB in all, in one pass.
    assert!(said.contains("MiB spilled to disk"), "{said}");
    let limit = [&spill[..], &["--spill-limit", "700KiB"]].concat();
    let out = dir.join("limited.parquet");
    let run = run_training_set(&out, &limit);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    let said = stderr(&run);
    assert!(
        said.contains("spill needs more disk at once than its limit (700 KiB, in 1 pass)"),
        "{said}"
    );
    assert!(
        said.contains("hint: run in more passes (`--passes N`"),
        "{said}"
    );
    assert!(!out.exists(), "a stopped run leaves no output");
    training_set(&out, &[&limit[..], &["--passes", "4"]].concat());
    assert!(
        bytes(&out) == bytes(&one),
        "a run in passes under the limit differs"
    );
}

#[test]
fn a_small_memory_limit_spills_and_gives_the_same_file() {
    let dir = scratch("spill");
    let free = dir.join("free.parquet");
    let said = training_set(&free, &["--partitions", "2"]);
    assert!(!said.contains("spilled"), "{said}");
    let bounded = dir.join("bounded.parquet");
    let said = training_set(
        &bounded,
        &[
            "--partitions",
            "2",
            "--memory-limit",
            "4MiB",
            "--batch-size",
            "512",
        ],
    );
    assert!(said.contains("spilled to disk"), "{said}");
    assert!(bytes(&bounded) == bytes(&free), "a spilled run differs");
}

#[test]
fn bad_resource_options_are_usage_errors() {
    let dir = scratch("usage");
    let out = dir.join("o.parquet");
    let out = out.to_string_lossy();
    for (flag, value, says) in [
        ("--partitions", "0", "0 is not in 1.."),
        ("--passes", "0", "0 is not in 1.."),
        // Bounded before any plan: each pass and partition is a merge planned up front.
        ("--passes", "1000000", "1000000 is not in 1..=1024"),
        ("--partitions", "5000", "5000 is not in 1..=1024"),
        ("--spill-limit", "lots", "`lots` is not a size"),
        ("--memory-limit", "lots", "`lots` is not a size"),
        ("--memory-limit", "3 parsecs", "unknown size unit `parsecs`"),
        // A limit that cannot hold even one batch of a sort: said, with the way out.
        (
            "--memory-limit",
            "100K",
            "more memory than its limit (100 KiB)",
        ),
        (
            "--memory-limit",
            "100K",
            "hint: raise the limit (`--memory-limit`",
        ),
    ] {
        let run = featc(&[
            "training-set",
            CASE,
            "--spine",
            "tests/cases/synthetic/spine.parquet",
            "--out",
            &out,
            flag,
            value,
        ]);
        assert_eq!(run.status.code(), Some(2), "{flag} {value}");
        assert!(
            stderr(&run).contains(says),
            "{flag} {value}: {}",
            stderr(&run)
        );
    }
    let run = featc(&[
        "build",
        "examples/fraud",
        "--emit",
        "ir",
        "--partitions",
        "2",
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("--partitions is an option of `--emit batch`"));
    let run = featc(&["build", "examples/fraud", "--emit", "ir", "--passes", "2"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("--passes is an option of `--emit batch`"));
}
