//! Every diagnostic code: one fixture (or more) per code in `tests/diagnostics/`,
//! named `E0xxx_<what>.feat`, each snapshotted with its rendered diagnostics. Fixtures
//! are read as bytes and decoded like the CLI does (E0029's is not UTF-8); the
//! schema files topics name (E0070 to E0075) are read from `tests/diagnostics/`, as
//! if each fixture were there.

use crate::errors_doc;

use featc::SourceFile;
use std::path::PathBuf;

fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/diagnostics"))
}

/// Reads a schema file a fixture names from the fixtures' folder.
struct Beside;

impl featc::ReadFile for Beside {
    fn read(&self, location: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(fixture_dir().join(location))
    }
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = fixture_dir();
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("fixture folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "feat"))
        .map(|p| {
            let stem = p
                .file_stem()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            (stem, std::fs::read(&p).expect("readable"))
        })
        .collect();
    out.sort();
    out
}

/// The diagnostics of a fixture named `file_name`, and the files they render against.
fn diagnose_bytes(file_name: &str, bytes: &[u8]) -> (featc::Diagnostics, Vec<SourceFile>) {
    let files = match featc::decode_files(vec![(file_name.to_string(), bytes.to_vec())]) {
        Ok(files) => files,
        Err(undecodable) => return (undecodable.diagnostics, undecodable.files),
    };
    let reader: std::sync::Arc<dyn featc::ReadFile> = std::sync::Arc::new(Beside);
    match featc::compile_with(&files, &reader) {
        Ok(_) => panic!("{file_name} compiles, but it is a diagnostic fixture"),
        Err(d) => (d, files),
    }
}

fn diagnose(name: &str, text: &str) -> (featc::Diagnostics, Vec<SourceFile>) {
    diagnose_bytes(&format!("{name}.feat"), text.as_bytes())
}

/// Every code `check` reports, each with a fixture and a section in docs/errors.md
/// (E0040 to E0047 are the emitters', checked by sql_refusals.rs and
/// arroyo_refusals.rs).
fn codes() -> impl Iterator<Item = String> {
    (1..=39)
        .chain([48, 49, 50, 51, 52, 56, 57])
        .chain(70..=75)
        .map(|n| format!("E{n:04}"))
}

#[test]
fn each_fixture_reports_exactly_its_code() {
    for (name, bytes) in fixtures() {
        let code = &name[..5];
        let (diags, files) = diagnose_bytes(&format!("{name}.feat"), &bytes);
        assert_eq!(
            diags.codes(),
            vec![code],
            "{name}:\n{}",
            diags.render(&files, false)
        );
    }
}

#[test]
fn every_code_has_a_fixture_and_a_docs_entry() {
    let fixtures = fixtures();
    let docs = errors_doc::read();
    for code in codes() {
        assert!(
            fixtures.iter().any(|(name, _)| name.starts_with(&code)),
            "no fixture for {code}"
        );
        assert!(
            docs.contains(&format!("## {code}")),
            "docs/errors.md has no section for {code}"
        );
    }
}

/// docs/errors.md says its examples are the fixtures and shows what featc prints for
/// them: each example is a fixture of its code (as decoded: E0029's shows `�` for the
/// byte it cannot show), and renders, named `example.feat`, as the docs show.
#[test]
fn docs_examples_are_fixtures_and_render_as_shown() {
    let docs = errors_doc::read();
    let fixtures = fixtures();
    // The SQL emitter's codes (E0040 on) are checked by sql_refusals.rs.
    let check_codes: Vec<String> = codes().collect();
    let examples: Vec<_> = errors_doc::sections(&docs)
        .into_iter()
        .filter(|(code, ..)| check_codes.contains(code))
        .collect();
    assert_eq!(
        examples
            .iter()
            .map(|(code, ..)| code.clone())
            .collect::<Vec<_>>(),
        codes().collect::<Vec<_>>()
    );
    for (code, text, console) in examples {
        let fixture = fixtures.iter().find(|(name, bytes)| {
            name.starts_with(&code) && String::from_utf8_lossy(bytes) == text.as_str()
        });
        let Some((_, bytes)) = fixture else {
            panic!("the example of {code} in docs/errors.md is not a fixture of {code}:\n{text}");
        };
        let (diags, files) = diagnose_bytes("example.feat", bytes);
        let shown = format!(
            "$ featc check example.feat\n{}",
            diags.render(&files, false)
        );
        assert_eq!(
            shown.trim_end(),
            console.trim_end(),
            "docs/errors.md shows another rendering for {code}"
        );
    }
}

#[test]
fn fixture_snapshots() {
    for (name, bytes) in fixtures() {
        let (diags, files) = diagnose_bytes(&format!("{name}.feat"), &bytes);
        let rendered = diags.render(&files, false);
        // The text as decoded (lossily for E0029's fixture).
        let text = &files[0].text;
        insta::assert_snapshot!(
            name.clone(),
            format!("{text}\n---- diagnostics ----\n{rendered}")
        );
    }
}

#[test]
fn unrelated_errors_are_all_reported() {
    let text = "\
source events {
    time ts
    columns { user_id: int64  amount: float64?  category: string? }
}
entity user { key user_id: int64 }

view user_txn from events by user {
    feature a = sum(amout) over 7d
    feature b = count(*) over 7x
    feature c = avg(category) over 1d
}
";
    let (diags, files) = diagnose("three", text);
    assert_eq!(
        diags.codes(),
        vec!["E0004", "E0016", "E0013"],
        "{}",
        diags.render(&files, false)
    );
}

#[test]
fn errors_in_several_files_and_declarations_are_all_reported() {
    let files = vec![
        SourceFile { name: "a.feat".into(), text: "source s { time ts columns { k: int64 } }\nentity e { key k: int64 }\n".into() },
        SourceFile {
            name: "b.feat".into(),
            text: "view v from s by e { where k feature f = count(*) over 0s }\nview w from nope by e { feature g = max(k) }\nservice z { f h }\n".into(),
        },
    ];
    let diags = featc::compile(&files).expect_err("has errors");
    assert_eq!(
        diags.codes(),
        vec!["E0012", "E0016", "E0002", "E0006"],
        "{}",
        diags.render(&files, false)
    );
}

#[test]
fn syntax_errors_of_every_file_are_reported_together() {
    let files = vec![
        SourceFile {
            name: "a.feat".into(),
            text: "source s { time }\n".into(),
        },
        SourceFile {
            name: "b.feat".into(),
            text: "entity e { key k int64 }\n".into(),
        },
    ];
    let diags = featc::compile(&files).expect_err("has errors");
    assert_eq!(diags.codes(), vec!["E0001", "E0001"]);
    let text = diags.render(&files, false);
    assert!(
        text.contains("a.feat:1:") && text.contains("b.feat:1:"),
        "{text}"
    );
}

#[test]
fn duplicates_across_files_point_at_both() {
    let files = vec![
        SourceFile {
            name: "a.feat".into(),
            text: "entity user { key id: int64 }\n".into(),
        },
        SourceFile {
            name: "b.feat".into(),
            text: "entity user { key id: int64 }\n".into(),
        },
    ];
    let diags = featc::compile(&files).expect_err("duplicate");
    let text = diags.render(&files, false);
    assert_eq!(diags.codes(), vec!["E0010"]);
    assert!(
        text.contains("b.feat:1:8") && text.contains("a.feat:1:8"),
        "{text}"
    );
    assert!(text.contains("first declared here"), "{text}");
}
