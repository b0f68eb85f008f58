//! `featc fmt`: rewriting in place, `--check` and its exit codes, syntax errors (no
//! file written), folders; and every `.feat` file of the repository stays formatted.

use std::path::{Path, PathBuf};

use crate::cli_common;

use cli_common::{featc, stderr};

/// A scratch folder of the test's own under the target directory.
fn scratch(name: &str) -> PathBuf {
    cli_common::scratch(&format!("cli_fmt_{name}"))
}

const MESSY: &str = "// header\nentity user{ key user_id:int64 }\nsource tx{time ts\n  columns { user_id: int64  amount: float64? }}\nview v from tx by user{\n  feature n=count(*)over 7d // seven days\n}\n";

const FORMATTED: &str = "// header\nentity user { key user_id: int64 }\nsource tx {\n    time ts\n    columns { user_id: int64  amount: float64? }\n}\nview v from tx by user {\n    feature n = count(*) over 7d // seven days\n}\n";

#[test]
fn fmt_rewrites_files_in_place_and_check_then_passes() {
    let dir = scratch("rewrite");
    let file = dir.join("a.feat");
    std::fs::write(&file, MESSY).expect("write");
    let path = file.to_str().expect("utf-8 path");

    let o = featc(&["fmt", "--check", path]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let diff = String::from_utf8_lossy(&o.stdout);
    assert!(
        diff.contains("-  feature n=count(*)over 7d // seven days"),
        "{diff}"
    );
    assert!(
        diff.contains("+    feature n = count(*) over 7d // seven days"),
        "{diff}"
    );
    assert!(
        stderr(&o).contains("1 of 1 files not formatted"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        MESSY,
        "--check writes nothing"
    );

    let o = featc(&["fmt", path]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), FORMATTED);

    let o = featc(&["fmt", "--check", path]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn a_syntax_error_is_a_coded_diagnostic_and_no_file_is_written() {
    let dir = scratch("syntax");
    std::fs::write(dir.join("a.feat"), MESSY).expect("write");
    std::fs::write(
        dir.join("b.feat"),
        "entity e { key k: int64 }\nview v from s by e {\n  feature = count(*)\n}\n",
    )
    .expect("write");
    let o = featc(&["fmt", dir.to_str().expect("utf-8 path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error[E0001]"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("a.feat")).expect("read"),
        MESSY,
        "a project with a broken file is not rewritten at all"
    );
}

#[test]
fn a_folder_is_every_feat_file_below_it() {
    let dir = scratch("folder");
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    std::fs::write(dir.join("a.feat"), FORMATTED).expect("write");
    std::fs::write(dir.join("sub/b.feat"), MESSY).expect("write");
    std::fs::write(dir.join("notes.txt"), MESSY).expect("write");
    let o = featc(&["fmt", "--check", dir.to_str().expect("utf-8 path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("sub/b.feat"));
    let o = featc(&["fmt", dir.to_str().expect("utf-8 path")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/b.feat")).expect("read"),
        FORMATTED
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).expect("read"),
        MESSY
    );
}

#[test]
fn a_missing_path_is_an_io_error() {
    let o = featc(&["fmt", "--check", "no/such/dir"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_examples_and_cases_are_formatted() {
    let o = featc(&[
        "fmt",
        "--check",
        "examples",
        "tests/cases",
        "tests/functions",
        "bench/stream",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
}

/// Every `.feat` file of the repository is formatted, but the few whose point is a
/// syntax error (they cannot be formatted).
#[test]
fn every_feat_file_of_the_repository_is_formatted() {
    let root = featc_test_support::paths::repo_root();
    let mut files = Vec::new();
    for dir in [
        "examples",
        "tests",
        "compiler/tests",
        "bench",
        "docs",
        "python",
    ] {
        collect(&root.join(dir), &mut files);
    }
    files.sort();
    assert!(files.len() > 50, "{}", files.len());
    let mut unparsable = Vec::new();
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            unparsable.push(name(&path));
            continue;
        };
        match featc_grammar::format(&text) {
            Ok(formatted) => assert!(
                formatted == text,
                "{} is not formatted: run `featc fmt` on it",
                path.display()
            ),
            Err(featc_grammar::LayoutError::Syntax(_)) => unparsable.push(name(&path)),
            Err(e) => panic!("{}: {e:?}", path.display()),
        }
    }
    assert_eq!(
        unparsable,
        [
            "E0001_syntax.feat",
            "E0029_invalid_utf8.feat",
            "E0030_unterminated_string.feat",
            "E0031_unclosed_brace.feat"
        ]
    );
}

fn name(path: &Path) -> String {
    path.file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned())
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if !path.ends_with("target") && !path.ends_with("node_modules") {
                collect(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "feat") {
            out.push(path);
        }
    }
}
