//! Layers inside a crate: each layered crate's root has a `//! Layers (bottom first):`
//! line, its top-level modules by floor with `|` between floors, and a module may name
//! (`crate::x`, `crate::{x, ..}`, or `super::` climbing to the root) only modules on
//! floors below its own. So `batch` never names `stream`, and the server's `state`
//! never names `api`, `kafka` or `redis`.

use std::collections::{BTreeMap, BTreeSet};

use featc_tidy::repo::{files_under, read, root};

/// The crates whose modules are layered, by source folder.
const LAYERED: &[&str] = &[
    "grammar/src",
    "runtime/src",
    "compiler/src",
    "server/src",
    "python/src",
];

/// The floor of each module a crate root's Layers line names.
fn floors(root_text: &str) -> Result<BTreeMap<String, usize>, String> {
    let line = root_text
        .lines()
        .take_while(|l| l.starts_with("//!") || l.trim().is_empty())
        .find_map(|l| l.strip_prefix("//! Layers (bottom first):"))
        .ok_or("no `//! Layers (bottom first): ...` line in the crate root's docs")?;
    let mut out = BTreeMap::new();
    for (floor, names) in line.split('|').enumerate() {
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if out.insert(name.to_string(), floor).is_some() {
                return Err(format!("`{name}` is on two floors"));
            }
        }
    }
    Ok(out)
}

/// The module path of a file below the source folder: `a/b.rs` and `a/b/mod.rs` are
/// `[a, b]`, the crate root `[]`, a binary (`bin/`) `None`.
fn module_path(relative: &str) -> Option<Vec<String>> {
    if relative.starts_with("bin/") || !relative.ends_with(".rs") {
        return None;
    }
    let trimmed = relative.trim_end_matches(".rs");
    let trimmed = trimmed.strip_suffix("/mod").unwrap_or(trimmed);
    Some(match trimmed {
        "lib" | "main" => Vec::new(),
        _ => trimmed.split('/').map(str::to_string).collect(),
    })
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first segment of each item of a `{a, b::c, d::{e, f}}` group (text after `{`).
fn group_heads(after_brace: &str) -> Vec<&str> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut expecting = true;
    for (i, c) in after_brace.char_indices() {
        if expecting && !c.is_whitespace() {
            heads.push(ident(&after_brace[i..]));
            expecting = false;
        }
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => expecting = true,
            _ => {}
        }
    }
    heads
}

/// The segments after each `marker` in `code` that starts a path (not a longer name).
fn heads_after<'a>(
    code: &'a str,
    marker: &str,
    mut keep: impl FnMut(usize) -> bool,
) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = code[at..].find(marker) {
        let start = at + i;
        let before = code[..start].chars().last();
        let mut tail = &code[start..];
        let mut count = 0;
        while let Some(t) = tail.strip_prefix(marker) {
            count += 1;
            tail = t;
        }
        at = code.len() - tail.len();
        let part_of_a_name =
            before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
        if part_of_a_name || !keep(count) {
            continue;
        }
        match tail.strip_prefix('{') {
            Some(group) => out.extend(group_heads(group)),
            None => out.push(ident(tail)),
        }
    }
    out
}

/// The top-level modules a file at module path `path` names: `crate::` paths, and
/// `super::` chains that climb to the crate root (inline modules aside).
fn named(path: &[String], code: &str) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = heads_after(code, "crate::", |_| true)
        .into_iter()
        .map(str::to_string)
        .collect();
    let depth = path.len();
    out.extend(
        heads_after(code, "super::", |ups| ups == depth)
            .into_iter()
            .map(str::to_string),
    );
    out
}

/// A file's code without `//` comments (docs name paths in prose).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|l| l.find("//").map_or(l, |i| &l[..i]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every way `files` (path below `src`, text) break the floors their crate root gives.
fn violations(src: &str, files: &[(String, String)]) -> Vec<String> {
    let Some((_, root_text)) = files.iter().find(|(f, _)| f == "lib.rs" || f == "main.rs") else {
        return vec![format!("{src}: no lib.rs or main.rs")];
    };
    let floors = match floors(root_text) {
        Ok(f) => f,
        Err(e) => return vec![format!("{src}: {e}")],
    };
    let mut out = Vec::new();
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|(f, _)| module_path(f)?.into_iter().next())
        .collect();
    for m in modules.iter().filter(|m| !floors.contains_key(*m)) {
        out.push(format!(
            "{src}: module `{m}` is on no floor of the Layers line"
        ));
    }
    for m in floors.keys().filter(|m| !modules.contains(*m)) {
        out.push(format!(
            "{src}: the Layers line names `{m}`, which is no module"
        ));
    }
    for (file, text) in files {
        let Some(path) = module_path(file) else {
            continue;
        };
        let Some(own) = path.first() else { continue };
        let Some(&own_floor) = floors.get(own) else {
            continue;
        };
        for name in named(&path, &code_of(text)) {
            let Some(&floor) = floors.get(&name) else {
                continue;
            };
            if &name != own && floor >= own_floor {
                out.push(format!(
                    "{src}/{file}: `{own}` (floor {own_floor}) names `{name}` (floor {floor}); \
                     a module names only modules on floors below its own"
                ));
            }
        }
    }
    out
}

/// A crate's Rust files, by path below its source folder, with their text.
fn crate_files(src: &str) -> Vec<(String, String)> {
    files_under(&root().join(src))
        .into_iter()
        .filter(|f| f.ends_with(".rs"))
        .map(|f| (f[src.len() + 1..].to_string(), read(&f)))
        .collect()
}

#[test]
fn modules_name_only_modules_on_lower_floors() {
    let all: Vec<String> = LAYERED
        .iter()
        .flat_map(|src| violations(src, &crate_files(src)))
        .collect();
    assert!(all.is_empty(), "layering violations:\n{}", all.join("\n"));
}

/// `files` of `src` with `line` added to `file`.
fn with_line(src: &str, file: &str, line: &str) -> Vec<(String, String)> {
    let mut files = crate_files(src);
    let (_, text) = files
        .iter_mut()
        .find(|(f, _)| f == file)
        .unwrap_or_else(|| panic!("{src}/{file} not found"));
    text.push_str(line);
    files
}

#[test]
fn a_module_naming_a_higher_floor_is_refused() {
    // The executors never name each other; the server's core knows no transport.
    for (src, file, line, names) in [
        (
            "runtime/src",
            "batch/mod.rs",
            "\nuse crate::stream::StreamRuntime;\n",
            "names `stream`",
        ),
        (
            "runtime/src",
            "snapshot/mod.rs",
            "\nuse crate::{ir, stream::Options};\n",
            "names `stream`",
        ),
        (
            "server/src",
            "state/read.rs",
            "\nuse crate::api::App;\n",
            "names `api`",
        ),
        (
            "server/src",
            "state/online.rs",
            "\nfn f() { super::super::kafka::x() }\n",
            "names `kafka`",
        ),
        (
            "server/src",
            "state/check.rs",
            "\nuse crate::{durable, redis::RedisStore};\n",
            "names `redis`",
        ),
    ] {
        let found = violations(src, &with_line(src, file, line));
        assert!(
            found.iter().any(|v| v.contains(file) && v.contains(names)),
            "{src}/{file} + {line:?} was not refused: {found:#?}"
        );
    }
}

#[test]
fn a_module_off_the_layers_line_is_refused() {
    let mut files = crate_files("server/src");
    files.push(("cluster/mod.rs".into(), "//! A new module.\n".into()));
    let found = violations("server/src", &files);
    assert!(
        found.iter().any(|v| v.contains("`cluster` is on no floor")),
        "{found:#?}"
    );
}

/// ARCHITECTURE.md shows each crate's floors; they must be the ones its root declares.
#[test]
fn the_map_shows_each_crates_floors_as_declared() {
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let map = squash(&read("ARCHITECTURE.md"));
    for src in LAYERED {
        let root_text = read(&format!("{src}/lib.rs"));
        let line = root_text
            .lines()
            .find_map(|l| l.strip_prefix("//! Layers (bottom first):"))
            .unwrap_or_else(|| panic!("{src}/lib.rs has no Layers line"));
        let shown = format!("`{}`", squash(line));
        assert!(
            map.contains(&shown),
            "ARCHITECTURE.md does not show {src}'s floors {shown}"
        );
    }
}
