//! The generated Arroyo UDF workspace (`emit::arroyo::udfs`): snapshots of the
//! crates of representative specs (reviewed like code), determinism, one crate per
//! spec, unsupported specs as errors. (`featc build --emit arroyo --all-udfs` writes
//! the workspace of every implemented spec, which scripts/check-arroyo-udfs.sh builds
//! and tests.)

use std::collections::BTreeSet;
use std::path::PathBuf;

use featc::emit::arroyo::udf::{UdfKind, UdfSpec};
use featc::emit::arroyo::udfs::{check, files, representative_specs};
use featc_runtime::ir::{DataType, Quantile};

fn spec(kind: UdfKind, input: DataType) -> UdfSpec {
    UdfSpec { kind, input }
}

/// All of one spec's files, each under a `=== path` line.
fn crate_text(s: UdfSpec) -> String {
    let files = files(&BTreeSet::from([s])).expect("supported");
    files
        .iter()
        .map(|(path, text)| format!("=== {}\n{text}", path.display()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn snapshots_of_representative_crates() {
    let median = Quantile::new(1, 2).expect("a quantile");
    for s in [
        spec(UdfKind::Sum, DataType::Float64),
        spec(UdfKind::Sum, DataType::Int64),
        spec(UdfKind::StddevPop, DataType::Int64),
        spec(UdfKind::Max, DataType::Float64),
        spec(UdfKind::CountDistinct, DataType::Float64),
        spec(UdfKind::Last, DataType::Float64),
        spec(UdfKind::First, DataType::Timestamp),
        spec(UdfKind::Percentile(median), DataType::Int64),
        spec(UdfKind::CheckedMul, DataType::Int64),
        spec(UdfKind::CheckedNeg, DataType::Int64),
    ] {
        insta::assert_snapshot!(s.name(), crate_text(s));
    }
}

#[test]
fn files_are_deterministic_with_one_crate_per_spec() {
    let specs = representative_specs();
    let first = files(&specs).expect("every representative spec is supported");
    assert_eq!(first, files(&specs).expect("again"));
    let workspace = &first[0];
    assert_eq!(workspace.0, PathBuf::from("Cargo.toml"));
    let mut names: Vec<String> = specs.iter().map(UdfSpec::name).collect();
    names.sort();
    let members: Vec<String> = names.iter().map(|n| format!("    \"{n}\",")).collect();
    assert!(workspace.1.contains(&members.join("\n")), "{}", workspace.1);
    for name in &names {
        for file in ["Cargo.toml", "src/lib.rs", "tests/featc_values.rs"] {
            let path = PathBuf::from(name).join(file);
            assert_eq!(
                first.iter().filter(|(p, _)| *p == path).count(),
                1,
                "{path:?}"
            );
        }
        let lib = PathBuf::from(name).join("src/lib.rs");
        let lib = &first.iter().find(|(p, _)| *p == lib).expect("a lib.rs").1;
        assert_eq!(lib.matches("#[udf]").count(), 1, "{name}");
        assert!(lib.contains(&format!("pub fn {name}(")), "{name}");
        assert!(lib.starts_with("//! "), "{name}");
        // Self-contained, as Arroyo takes a UDF: one file, inline modules, extra
        // dependencies in the `/* [dependencies] */` comment Arroyo reads.
        assert!(
            !lib.lines()
                .any(|l| l.starts_with("mod ") && l.ends_with(';')),
            "{name}"
        );
        let manifest = PathBuf::from(name).join("Cargo.toml");
        let manifest = &first
            .iter()
            .find(|(p, _)| *p == manifest)
            .expect("a manifest")
            .1;
        let bigint = "num-bigint = \"0.4\"\n";
        assert_eq!(manifest.contains(bigint), lib.contains(bigint), "{name}");
        assert_eq!(
            lib.contains("/*\n[dependencies]\n"),
            manifest.contains(bigint),
            "{name}"
        );
    }
    // Every kind over each type featc defines it on, but not over strings and bools.
    assert_eq!(specs.len(), 35, "{names:?}");
}

#[test]
fn no_spec_gives_no_file() {
    assert_eq!(files(&BTreeSet::new()), Ok(Vec::new()));
}

#[test]
fn unsupported_specs_are_errors_naming_them() {
    for (s, why) in [
        (spec(UdfKind::Sum, DataType::String), "numeric"),
        (spec(UdfKind::Min, DataType::String), "numeric"),
        (spec(UdfKind::CountDistinct, DataType::Bool), "numeric"),
        (spec(UdfKind::Sum, DataType::Timestamp), "does not define"),
        (
            spec(UdfKind::CheckedAdd, DataType::Float64),
            "does not define",
        ),
        (
            spec(UdfKind::Percentile(Quantile::MEDIAN), DataType::Timestamp),
            "does not define",
        ),
    ] {
        assert_eq!(check(&s).map_err(|e| e.spec), Err(s));
        let mut set = representative_specs();
        set.insert(s);
        let err = files(&set).expect_err("unsupported");
        assert_eq!(err.spec, s);
        let msg = err.to_string();
        assert!(msg.contains(&s.name()) && msg.contains(why), "{msg}");
    }
}
