//! Fuzzing every stage: valid projects (the examples, the marketplace case and small
//! hand-written ones) are mutated towards limits (long `in` lists, deep nesting, edge
//! numbers, control characters and non-ASCII, duplicated clauses, long names, deep
//! let chains) and by plain token edits; every mutant that checks clean goes through
//! every later stage in process (printers, feature plan and its invariants, both
//! lowerings, the stream graph's JSON round trip) and, on a small generated dataset,
//! through the batch training set and the streaming replay, which must agree. No
//! stage may panic, abort, hang or take more than `fuzz::STAGE_LIMIT` (30 s of CPU); an
//! `Err` is fine where the input or data deserve one (diagnostics, an int64
//! overflow on both paths), not where a checked project must compile and run.
//!
//! Cases run in a forked child (proptest's fork mode), so that a stack overflow fails
//! its case rather than the binary; its seed is persisted in
//! `fuzz_stages.proptest-regressions` like any failure, and the child's output names
//! the stage (each stage runs on a thread named after it: "thread 'stage plan' has
//! overflowed its stack").
//!
//! Also here: the corpus of small interesting mutants (`fuzz_corpus/*.feat`, plus the
//! long ones `fuzz::repro` generates), each in a child process; and the seeds
//! unmutated. The `featc` binary on one input per class of limit is the CLI's test
//! (cli/tests/cli_limits.rs), where the binary is built.
//!
//! A longer run: `PROPTEST_CASES=20000 cargo test -p featc --test fuzz_stages`.
//! Knobs (environment variables):
//! - `FEATC_FUZZ_VERBOSE=1`: print each case's outcome (with `-- --nocapture`);
//! - `FEATC_FUZZ_KNOWN='text|text'`: let failures holding one of these through, to
//!   look past a known failure that is not fixed yet (not aborts);
//! - `FEATC_FUZZ_CORPUS=DIR`: run the `.feat` files of `DIR` instead of the corpus
//!   (`cargo test -p featc --test fuzz_stages corpus`), e.g. while minimizing;
//! - `FEATC_FUZZ_DUMP=1`: print each generated dataset (a corpus file can pin the
//!   data of its case with a `// fuzz-data: SEED, ...` line).

// A test binary: its helpers may unwrap, expect and panic!, which the workspace's lints
// deny in library code (clippy.toml already lets the tests themselves).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fuzz;
mod mutate;

use std::path::{Path, PathBuf};

use featc::SourceFile;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

use fuzz::Outcome;
use mutate::seeds::{Seed, PROJECTS};
use mutate::{apply, limit_mutation, text_mutation, Mutation};

/// `PROPTEST_CASES` overrides the suite's default, for longer runs.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn files(seed: &Seed) -> Vec<SourceFile> {
    seed.files
        .iter()
        .map(|(name, text)| SourceFile {
            name: name.to_string(),
            text: text.to_string(),
        })
        .collect()
}

/// The largest mutant file: limits are about long lists and deep nesting, not about
/// how long a debug build takes to read megabytes of them.
const MAX_MUTANT_BYTES: usize = 1 << 20;

/// A seed's files with each `(file, mutation)` applied in turn, but for a mutation
/// that would make its file larger than `MAX_MUTANT_BYTES`.
fn mutant(seed: &Seed, mutations: &[(usize, Mutation)]) -> Vec<SourceFile> {
    let mut files = files(seed);
    for (file, m) in mutations {
        let n = files.len();
        let f = &mut files[file % n];
        let text = apply(&f.text, m);
        if text.len() <= MAX_MUTANT_BYTES {
            f.text = text;
        }
    }
    files
}

/// The mutant, for a failure message: written out in full, shown cut.
fn describe(files: &[SourceFile]) -> String {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz_stages");
    let _ = std::fs::create_dir_all(&dir);
    let mut out = String::new();
    for (i, f) in files.iter().enumerate() {
        let path = dir.join(format!("failing-{}-{i}.feat", std::process::id()));
        let _ = std::fs::write(&path, &f.text);
        let cut: String = f.text.chars().take(1500).collect();
        let more = if cut.len() < f.text.len() {
            "\n[...]"
        } else {
            ""
        };
        out.push_str(&format!(
            "\n--- {} (in full: {}) ---\n{cut}{more}",
            f.name,
            path.display()
        ));
    }
    out
}

fn verbose(line: impl FnOnce() -> String) {
    if std::env::var_os("FEATC_FUZZ_VERBOSE").is_some() {
        eprintln!("{}", line());
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![1 => text_mutation(), 5 => limit_mutation()]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(800),
        // Each case in a forked child: an abort (stack overflow) fails the case
        // instead of the whole binary, and is shrunk and persisted like a panic.
        fork: true,
        // A backstop only: `fuzz::run` fails a stage long before this.
        timeout: 600_000,
        // Shrinking a crash forks a child per step: bounded, so that a red run
        // stays short (by steps, not time: fork mode replays the child's steps and
        // must stop where it stopped); the persisted seed replays the case anyway.
        max_shrink_iters: 128,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutants_pass_every_stage(
        seed in 0..PROJECTS.len(),
        mutations in prop::collection::vec((any::<usize>(), mutation()), 1..3),
        data in any::<u64>(),
    ) {
        let files = mutant(&PROJECTS[seed], &mutations);
        let outcome = fuzz::run(&files, data);
        verbose(|| format!("{} {outcome:?} {mutations:?}", PROJECTS[seed].name));
        if let Err(failure) = outcome {
            prop_assert!(false, "{failure}{}", describe(&files));
        }
    }
}

#[test]
fn seeds_pass_every_stage_and_agree() {
    for seed in PROJECTS {
        for data in 0..3 {
            let outcome = fuzz::run(&files(seed), data);
            verbose(|| format!("{} {outcome:?}", seed.name));
            match outcome {
                Ok(Outcome::Agreed(n)) if n > 0 => {}
                other => panic!("seed `{}`, data {data}: {other:?}", seed.name),
            }
        }
    }
}

/// Each corpus file (and each generated reproducer, `fuzz::repro`) through every
/// stage, in a child process of its own. In the child (`fuzz::child::FILE_VAR` set),
/// the one file runs in process.
#[test]
fn corpus_passes_every_stage() {
    if let Some(path) = std::env::var_os(fuzz::child::FILE_VAR) {
        let path = PathBuf::from(path);
        let text = std::fs::read_to_string(&path).expect("corpus file");
        let files = vec![SourceFile {
            name: path.display().to_string(),
            text,
        }];
        for data in fuzz::corpus::data_seeds(&files[0].text) {
            let outcome = fuzz::run(&files, data);
            verbose(|| format!("{} {outcome:?}", path.display()));
            if let Err(failure) = outcome {
                panic!("{failure}");
            }
        }
        return;
    }
    let paths = fuzz::corpus::files(&scratch("generated"));
    let failures: Vec<String> = paths
        .iter()
        .filter_map(|p| {
            fuzz::child::run_in_child("corpus_passes_every_stage", p)
                .err()
                .map(|why| format!("{}: {why}", p.display()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A fresh scratch folder.
fn scratch(name: &str) -> PathBuf {
    featc_test_support::scratch::fresh_dir(
        Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("fuzz_stages")
            .join(name),
    )
}
