//! House rules, checked rather than remembered: every `.rs` file says what it is in a
//! `//!` first line; ARCHITECTURE.md names every module folder and every top-level
//! module of the library crates; every integration test file is compiled into a test
//! binary; pest stays in the grammar crate, codespan-reporting
//! in `compiler/src/diagnostics.rs`, `std::fs` in the CLI and IO modules; the featc
//! library depends on neither the command line's crates nor the server, and on
//! Ballista only behind a feature that is off by default.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

/// Folders never walked: build output, VCS data, generated benchmark data.
const SKIPPED: &[&str] = &["target", ".git", "bench-data", "node_modules"];

/// Every file under `dir` (relative to the repository, `/`-separated), sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if path.is_dir() {
                if !SKIPPED.contains(&name.as_str()) && !name.starts_with('.') {
                    stack.push(path);
                }
            } else if let Ok(rel) = path.strip_prefix(repo()) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

fn rust_files() -> Vec<String> {
    files_under(&repo())
        .into_iter()
        .filter(|f| f.ends_with(".rs"))
        .collect()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_default()
}

/// The library crates' source folders (what "library code" means below).
const LIBRARY_SOURCES: &[&str] = &[
    "grammar/src/",
    "compiler/src/",
    "runtime/src/",
    "server/src/",
    "python/src/",
];

#[test]
fn every_rust_file_starts_with_a_doc_line() {
    let missing: Vec<String> = rust_files()
        .into_iter()
        .filter(|f| !read(f).starts_with("//!"))
        .collect();
    assert!(
        missing.is_empty(),
        "these files do not start with a `//!` line saying what they are: {missing:#?}"
    );
}

/// A test file that no binary compiles would pass silently. In a crate whose
/// integration tests are one binary (`autotests = false` in its manifest, modules of
/// `tests/suite.rs`), every file directly in `tests/` is a module of the suite or a
/// `[[test]]` of its own.
#[test]
fn every_integration_test_file_is_compiled_into_a_test_binary() {
    let mut orphans = Vec::new();
    let manifests = files_under(&repo())
        .into_iter()
        .filter(|f| f.ends_with("Cargo.toml"));
    for manifest in manifests {
        let text = read(&manifest);
        if !text.lines().any(|l| l.trim() == "autotests = false") {
            continue;
        }
        let tests = format!("{}tests/", manifest.trim_end_matches("Cargo.toml"));
        let suite = read(&format!("{tests}suite.rs"));
        for file in files_under(&repo().join(&tests)) {
            let Some(name) = file
                .strip_prefix(&tests)
                .and_then(|f| f.strip_suffix(".rs"))
            else {
                continue;
            };
            if name.contains('/') || name == "suite" {
                continue;
            }
            let in_suite = suite.lines().any(|l| l.trim() == format!("mod {name};"));
            let own_binary = text.contains(&format!("path = \"tests/{name}.rs\""));
            if !in_suite && !own_binary {
                orphans.push(file);
            }
        }
    }
    assert!(
        orphans.is_empty(),
        "no test binary compiles these files: add `mod NAME;` to the crate's tests/suite.rs \
         (or a [[test]] to its Cargo.toml): {orphans:#?}"
    );
}

#[test]
fn architecture_names_every_module_folder_and_top_level_module() {
    let architecture = read("ARCHITECTURE.md");
    let mut modules: Vec<String> = Vec::new();
    for f in rust_files() {
        // Module folders: any folder holding Rust files under a crate's `src/`.
        if let Some((dir, _)) = f.rsplit_once('/') {
            if dir.contains("/src/") && !modules.contains(&format!("{dir}/")) {
                modules.push(format!("{dir}/"));
            }
        }
        // Top-level modules of the library crates.
        let top = LIBRARY_SOURCES
            .iter()
            .any(|src| f.strip_prefix(src).is_some_and(|rest| !rest.contains('/')));
        let root = f.ends_with("/lib.rs") || f.ends_with("/main.rs");
        if top && !root {
            modules.push(f);
        }
    }
    let unnamed: Vec<&String> = modules
        .iter()
        .filter(|m| !architecture.contains(m.as_str()))
        .collect();
    assert!(
        unnamed.is_empty(),
        "ARCHITECTURE.md's code map does not name these modules: {unnamed:#?}"
    );
}

/// This file, which names what it looks for.
const THIS_FILE: &str = "tests/tests/tidy.rs";

/// `file:line` of every line of a Rust file (and, with `in_manifests`, of a
/// `Cargo.toml`) of the repository that mentions `needle`.
fn mentions(needle: &str, in_manifests: bool) -> Vec<String> {
    let mut hits = Vec::new();
    for f in files_under(&repo()) {
        let manifest = f.ends_with("Cargo.toml");
        if !(f.ends_with(".rs") || (in_manifests && manifest)) || f == THIS_FILE {
            continue;
        }
        for (i, line) in read(&f).lines().enumerate() {
            if line.contains(needle) {
                hits.push(format!("{f}:{}", i + 1));
            }
        }
    }
    hits
}

#[test]
fn only_the_grammar_crate_names_pest() {
    let outside: Vec<String> = ["pest::", "pest_derive", "use pest", "pest ="]
        .iter()
        .flat_map(|n| mentions(n, true))
        .filter(|hit| !hit.starts_with("grammar/") && !hit.starts_with("Cargo.toml"))
        .collect();
    assert!(outside.is_empty(), "pest outside grammar/: {outside:#?}");
}

#[test]
fn only_the_diagnostics_module_names_codespan_reporting() {
    let outside: Vec<String> = mentions("codespan_reporting", false)
        .into_iter()
        .filter(|hit| !hit.starts_with("compiler/src/diagnostics.rs:"))
        .collect();
    assert!(
        outside.is_empty(),
        "codespan-reporting outside compiler/src/diagnostics.rs: {outside:#?}"
    );
}

#[test]
fn library_code_reads_and_writes_files_only_in_the_cli_and_io_modules() {
    // The CLI (its own crate, `cli/`, not library code) reads and writes data files.
    // The server keeps its state directory (log, checkpoints, identity) in `durable/`
    // and writes its served log's Parquet files in `served/log.rs`;
    // `compiler/src/files.rs` reads a project's `.feat` files for the CLI and
    // embedders.
    const ALLOWED: &[&str] = &[
        "compiler/src/files.rs",
        "runtime/src/io/",
        "server/src/durable/",
        "server/src/served/log.rs",
    ];
    let mut offenders = Vec::new();
    for f in rust_files() {
        let library = LIBRARY_SOURCES.iter().any(|s| f.starts_with(s));
        if !library || ALLOWED.iter().any(|a| f.starts_with(a)) {
            continue;
        }
        for (i, line) in read(&f).lines().enumerate() {
            let grouped = line.contains("use std::{") && line.contains("fs");
            if line.contains("std::fs") || grouped {
                offenders.push(format!("{f}:{}", i + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "std::fs outside the CLI and IO modules: {offenders:#?}"
    );
}

/// The `[dependencies]` of a manifest, one line per dependency (`name = ...` or
/// `name.workspace = true`), comments left out.
fn dependencies(manifest: &str) -> Vec<&str> {
    let mut section = "";
    let mut lines = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if section == "[dependencies]" && !line.is_empty() && !line.starts_with('#') {
            lines.push(line);
        }
    }
    lines
}

/// The featc library (compiler/) is what embedders build: the command line's
/// dependencies and the server belong to the CLI crate (cli/), and Ballista is
/// behind a feature off by default.
#[test]
fn the_library_depends_on_neither_the_cli_nor_the_server() {
    let manifest = read("compiler/Cargo.toml");
    let deps = dependencies(&manifest);
    assert!(
        deps.iter().any(|d| d.starts_with("featc-runtime")),
        "compiler/Cargo.toml's [dependencies] not found: {deps:#?}"
    );
    // `futures` is not among them: DataFusion depends on it, so a library user builds
    // it anyway, and the library reads record batch streams with it (`verify::sample`).
    let cli_only = [
        "clap",
        "indicatif",
        "tokio",
        "mimalloc",
        "similar",
        "featc-server",
    ];
    for dep in cli_only {
        let named =
            |d: &&str| d.starts_with(&format!("{dep} ")) || d.starts_with(&format!("{dep}."));
        assert!(
            !deps.iter().any(named),
            "the featc library must not depend on `{dep}` (the CLI's, cli/Cargo.toml)"
        );
    }
    let ballista = deps
        .iter()
        .find(|d| d.starts_with("featc-ballista"))
        .unwrap_or_else(|| panic!("compiler/Cargo.toml has no `featc-ballista` dependency"));
    assert!(
        ballista.contains("optional = true"),
        "`featc-ballista` must be optional (behind the `ballista` feature): {ballista}"
    );
    let default = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("default"))
        .unwrap_or("");
    assert!(
        !default.contains("ballista"),
        "the `ballista` feature must be off by default: {default}"
    );
}
