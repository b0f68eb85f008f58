//! Layers between crates: every member's Cargo.toml against ARCHITECTURE.md's crate
//! table, whose rows run bottom up and say which featc crates each may depend on (its
//! code) and which its tests add.

use std::collections::{BTreeMap, BTreeSet};

use featc_tidy::repo::read;

/// One row of the crate table.
struct Row {
    package: String,
    depends: BTreeSet<String>,
    tests_add: BTreeSet<String>,
}

/// The featc packages a cell names (`none` names none).
fn packages(cell: &str) -> BTreeSet<String> {
    cell.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|w| *w == "featc" || w.starts_with("featc-"))
        .map(str::to_string)
        .collect()
}

/// The rows of the table headed `| Folder | Package | What it is | Depends on | Its
/// tests also use |`, in order.
fn crate_table(architecture: &str) -> Vec<Row> {
    let mut lines = architecture
        .lines()
        .skip_while(|l| !l.starts_with("| Folder | Package |"))
        .skip(2);
    let mut rows = Vec::new();
    while let Some(line) = lines.next().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if let [_, _, package, _, depends, tests, ..] = cells.as_slice() {
            rows.push(Row {
                package: package.trim_matches('`').to_string(),
                depends: packages(depends),
                tests_add: packages(tests),
            });
        }
    }
    rows
}

/// The featc packages a manifest depends on, by table: `code` ([dependencies],
/// [build-dependencies], target-specific ones) and `tests` ([dev-dependencies]).
fn manifest_deps(toml: &str) -> BTreeMap<&'static str, BTreeSet<String>> {
    let mut out: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    let mut kind = None;
    for line in toml.lines().map(str::trim) {
        if let Some(header) = line.strip_prefix('[') {
            kind = match header.trim_end_matches(']') {
                h if h.ends_with("dev-dependencies") => Some("tests"),
                h if h.ends_with("dependencies") => Some("code"),
                _ => None,
            };
            continue;
        }
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        if let Some(kind) = kind.filter(|_| name == "featc" || name.starts_with("featc-")) {
            out.entry(kind).or_default().insert(name);
        }
    }
    out
}

/// The workspace's members (folders), from the root manifest.
fn members(root_toml: &str) -> Vec<String> {
    let list = root_toml
        .lines()
        .find_map(|l| l.trim().strip_prefix("members = ["))
        .unwrap_or("");
    list.trim_end_matches(']')
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_string())
        .filter(|m| !m.is_empty())
        .collect()
}

fn package_name(toml: &str) -> String {
    toml.lines()
        .find_map(|l| l.trim().strip_prefix("name = "))
        .map(|n| n.trim_matches('"').to_string())
        .unwrap_or_default()
}

/// Every way `manifests` (member folder, Cargo.toml text) break the crate table.
fn violations(architecture: &str, manifests: &[(String, String)]) -> Vec<String> {
    let table = crate_table(architecture);
    if table.is_empty() {
        return vec!["ARCHITECTURE.md has no `| Folder | Package |` crate table".into()];
    }
    let mut out = Vec::new();
    for (i, row) in table.iter().enumerate() {
        for dep in &row.depends {
            if !table[..i].iter().any(|r| &r.package == dep) {
                out.push(format!(
                    "ARCHITECTURE.md: `{}` lists `{dep}`, which is not a row above it",
                    row.package
                ));
            }
        }
    }
    let rows: BTreeMap<&str, &Row> = table.iter().map(|r| (r.package.as_str(), r)).collect();
    let mut seen = BTreeSet::new();
    for (member, toml) in manifests {
        let package = package_name(toml);
        let Some(row) = rows.get(package.as_str()) else {
            out.push(format!(
                "{member}/Cargo.toml: `{package}` has no row in the crate table"
            ));
            continue;
        };
        seen.insert(package.clone());
        for (kind, deps) in manifest_deps(toml) {
            for dep in deps {
                let allowed =
                    row.depends.contains(&dep) || (kind == "tests" && row.tests_add.contains(&dep));
                if !allowed {
                    out.push(format!(
                        "{member}/Cargo.toml: `{package}` depends on `{dep}` ({kind}), which \
                         its row in ARCHITECTURE.md's crate table does not allow"
                    ));
                }
            }
        }
    }
    for row in table.iter().filter(|r| !seen.contains(&r.package)) {
        out.push(format!(
            "ARCHITECTURE.md: `{}` is not a workspace member",
            row.package
        ));
    }
    out
}

fn manifests() -> Vec<(String, String)> {
    members(&read("Cargo.toml"))
        .into_iter()
        .map(|m| {
            let toml = read(&format!("{m}/Cargo.toml"));
            (m, toml)
        })
        .collect()
}

#[test]
fn every_manifest_depends_only_on_what_the_crate_table_allows() {
    let found = violations(&read("ARCHITECTURE.md"), &manifests());
    assert!(
        found.is_empty(),
        "crate dependencies:\n{}",
        found.join("\n")
    );
}

#[test]
fn a_dependency_pointing_up_is_refused() {
    let mut manifests = manifests();
    let (_, runtime) = manifests
        .iter_mut()
        .find(|(m, _)| m == "runtime")
        .unwrap_or_else(|| panic!("no runtime member"));
    *runtime = runtime.replace(
        "[dependencies]\n",
        "[dependencies]\nfeatc-grammar.workspace = true\n",
    );
    let found = violations(&read("ARCHITECTURE.md"), &manifests);
    assert!(
        found
            .iter()
            .any(|v| v.contains("`featc-runtime` depends on `featc-grammar`")),
        "{found:#?}"
    );
}
