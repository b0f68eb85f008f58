//! What the Arroyo pipeline refuses (`featc build --emit arroyo`, codes E0044 to
//! E0047): one fixture per code in `tests/arroyo_refusals/`, named
//! `E0xxx_<what>.feat`, each refused with exactly its code, its rendering
//! snapshotted, and docs/errors.md's example of the code being that fixture,
//! rendered as shown.

use crate::errors_doc;

use std::path::PathBuf;

use featc::emit::arroyo::{emit, refusal, ArroyoOptions};
use featc::SourceFile;

fn fixtures() -> Vec<(String, String)> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/arroyo_refusals"
    ));
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

/// The rendered refusals of a fixture's every view feature, as `featc build FILE
/// --emit arroyo --out DIR` prints them.
fn refusals(file_name: &str, text: &str) -> (Vec<&'static str>, String) {
    let files = vec![SourceFile {
        name: file_name.to_string(),
        text: text.to_string(),
    }];
    let project = featc::compile(&files).unwrap_or_else(|d| panic!("{file_name}: {d:?}"));
    let features = featc::job::select_features(&project, None, &[]).expect("features");
    let plan = featc::lower::groups::plan_groups(&project, &features).expect("plan");
    match emit(&project, &plan, &ArroyoOptions::default()) {
        Ok(_) => panic!("{file_name}: the pipeline is emitted"),
        Err(r) => {
            let diagnostics = refusal::diagnostics(&r);
            (diagnostics.codes(), diagnostics.render(&files, false))
        }
    }
}

/// The codes of the pipeline's refusals, each with a fixture and a docs section.
fn codes() -> impl Iterator<Item = String> {
    (44..=47).map(|n| format!("E{n:04}"))
}

#[test]
fn each_fixture_is_refused_with_exactly_its_code() {
    for (name, text) in fixtures() {
        let (codes, rendered) = refusals(&format!("{name}.feat"), &text);
        assert_eq!(codes, vec![&name[..5]], "{name}:\n{rendered}");
    }
}

#[test]
fn refusal_snapshots() {
    for (name, text) in fixtures() {
        let (_, rendered) = refusals(&format!("{name}.feat"), &text);
        insta::assert_snapshot!(
            name.clone(),
            format!("{text}\n---- featc build --emit arroyo --out DIR ----\n{rendered}")
        );
    }
}

/// docs/errors.md's section of each code shows a fixture of it and what `featc
/// build example.feat --emit arroyo --out pipeline` prints for it.
#[test]
fn docs_examples_are_fixtures_and_render_as_shown() {
    let fixtures = fixtures();
    for code in codes() {
        let (text, console) = errors_doc::example(&code);
        assert!(
            fixtures
                .iter()
                .any(|(name, fixture)| name.starts_with(&code) && *fixture == text),
            "the example of {code} in docs/errors.md is not a fixture of {code}"
        );
        let (_, rendered) = refusals("example.feat", &text);
        let shown = format!("$ featc build example.feat --emit arroyo --out pipeline\n{rendered}");
        assert_eq!(
            shown.trim_end(),
            console.trim_end(),
            "docs/errors.md shows another rendering for {code}"
        );
    }
}

/// The pipeline's tables read JSON records: a feature of a source whose topic is
/// Avro (or Protobuf) is refused (E0045), not read as JSON.
#[test]
fn a_feature_of_a_topic_of_avro_records_is_refused() {
    struct FromRepo;
    impl featc::ReadFile for FromRepo {
        fn read(&self, location: &str) -> std::io::Result<Vec<u8>> {
            std::fs::read(featc_test_support::paths::repo_root().join(location))
        }
    }
    let text = "\
source payments {
    time ts
    columns { user_id: int64  amount: float64? }
    topic \"payments\" format avro \"payments.avsc\"
}
entity user { key user_id: int64 }
view spend from payments by user {
    feature total_7d = sum(amount) over 7d
}
";
    let files = vec![SourceFile {
        name: "docs/kafka/spend.feat".into(),
        text: text.into(),
    }];
    let reader: std::sync::Arc<dyn featc::ReadFile> = std::sync::Arc::new(FromRepo);
    let project = featc::compile_with(&files, &reader)
        .unwrap_or_else(|d| panic!("{}", d.render(&files, false)));
    let features = featc::job::select_features(&project, None, &[]).expect("features");
    let plan = featc::lower::groups::plan_groups(&project, &features).expect("plan");
    let Err(refused) = emit(&project, &plan, &ArroyoOptions::default()) else {
        panic!("the pipeline is emitted for a topic of Avro records");
    };
    let diagnostics = refusal::diagnostics(&refused);
    let rendered = diagnostics.render(&files, false);
    assert_eq!(diagnostics.codes(), vec!["E0045"], "{rendered}");
    assert!(
        rendered.contains("source `payments`'s are avro"),
        "{rendered}"
    );
}
