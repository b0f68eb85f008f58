//! What the SQL emitter refuses (`featc build --emit sql`, codes E0040 to E0043 and
//! E0055): one fixture per code in `tests/sql_refusals/`, named
//! `E0xxx_<what>_<dialect>.feat`, each refused with exactly its code in its dialect,
//! its rendering snapshotted, and docs/errors.md's example of the code being that
//! fixture, rendered as shown.

use crate::errors_doc;

use std::path::PathBuf;

use featc::emit::sql::{emit, refusal, Dialect, SqlOptions};
use featc::SourceFile;

fn fixtures() -> Vec<(String, String)> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sql_refusals"));
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("fixture folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "feat"))
        .map(|p| {
            let stem = p.file_stem().expect("name").to_string_lossy().into_owned();
            (stem, std::fs::read_to_string(&p).expect("readable"))
        })
        .collect();
    out.sort();
    out
}

/// The fixture's dialect: the last part of its name.
fn dialect(name: &str) -> Dialect {
    let last = name.rsplit('_').next().unwrap_or_default();
    Dialect::by_name(last).unwrap_or_else(|| panic!("{name}: no dialect `{last}`"))
}

/// The rendered refusals of a fixture's every view feature, as `featc build
/// FILE --emit sql --dialect D` prints them.
fn refusals(file_name: &str, text: &str, dialect: Dialect) -> (Vec<&'static str>, String) {
    let files = vec![SourceFile {
        name: file_name.to_string(),
        text: text.to_string(),
    }];
    let project = featc::compile(&files).unwrap_or_else(|d| panic!("{file_name}: {d:?}"));
    let features = featc::job::select_features(&project, None, &[]).expect("features");
    let plan = featc::lower::groups::plan_groups(&project, &features).expect("plan");
    match emit(&plan, &SqlOptions::new(dialect)) {
        Ok(_) => panic!("{file_name}: the {} SQL is emitted", dialect.name()),
        Err(r) => {
            let diagnostics = refusal::diagnostics(&r);
            (diagnostics.codes(), diagnostics.render(&files, false))
        }
    }
}

/// The codes of the emitter's refusals, each with a fixture and a docs section.
fn codes() -> impl Iterator<Item = String> {
    (40..=43).chain([55]).map(|n| format!("E{n:04}"))
}

#[test]
fn each_fixture_is_refused_with_exactly_its_code() {
    for (name, text) in fixtures() {
        let (codes, rendered) = refusals(&format!("{name}.feat"), &text, dialect(&name));
        assert_eq!(codes, vec![&name[..5]], "{name}:\n{rendered}");
    }
}

#[test]
fn refusal_snapshots() {
    for (name, text) in fixtures() {
        let d = dialect(&name);
        let (_, rendered) = refusals(&format!("{name}.feat"), &text, d);
        insta::assert_snapshot!(
            name.clone(),
            format!(
                "{text}\n---- featc build --emit sql --dialect {} ----\n{rendered}",
                d.name()
            )
        );
    }
}

/// docs/errors.md's section of each code shows a fixture of it and what
/// `featc build example.feat --emit sql --dialect D` prints for it.
#[test]
fn docs_examples_are_fixtures_and_render_as_shown() {
    let fixtures = fixtures();
    for code in codes() {
        let (text, console) = errors_doc::example(&code);
        let Some((name, _)) = fixtures
            .iter()
            .find(|(name, fixture)| name.starts_with(&code) && *fixture == text)
        else {
            panic!("the example of {code} in docs/errors.md is not a fixture of {code}");
        };
        let d = dialect(name);
        let (_, rendered) = refusals("example.feat", &text, d);
        let shown = format!(
            "$ featc build example.feat --emit sql --dialect {}\n{rendered}",
            d.name()
        );
        assert_eq!(
            shown.trim_end(),
            console.trim_end(),
            "docs/errors.md shows another rendering for {code}"
        );
    }
}
