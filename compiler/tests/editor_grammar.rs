//! The VS Code extension's TextMate grammar (`editors/vscode/`): valid JSON with the
//! fields VS Code needs, patterns that compile, every keyword of the pest grammar and
//! every aggregation and function of the checker highlighted, and no keyword of a
//! repository `.feat` file left unclassified by a line-by-line tokenizer.

use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::Value;

fn root() -> PathBuf {
    featc_test_support::paths::repo_root()
}

fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path)).expect("read");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

fn grammar() -> Value {
    load("editors/vscode/syntaxes/feat.tmLanguage.json")
}

/// One pattern with everything the test tokenizer needs.
struct Pattern {
    name: Option<String>,
    re: Regex,
    /// For `begin`/`end` patterns: the end.
    end: Option<Regex>,
    captures: Vec<(usize, String)>,
}

/// The grammar's top-level patterns in order, `include`s followed.
fn patterns(g: &Value) -> Vec<Pattern> {
    fn walk(g: &Value, list: &Value, out: &mut Vec<Pattern>) {
        for p in list.as_array().expect("patterns is an array") {
            if let Some(include) = p["include"].as_str() {
                let key = include.strip_prefix('#').expect("repository include");
                walk(g, &g["repository"][key]["patterns"], out);
                continue;
            }
            let (re, end) = match (p["match"].as_str(), p["begin"].as_str()) {
                (Some(m), None) => (m, None),
                (None, Some(b)) => (b, Some(p["end"].as_str().expect("begin without end"))),
                _ => panic!("pattern with neither match nor begin: {p}"),
            };
            let compile = |s: &str| Regex::new(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            let captures = p["captures"]
                .as_object()
                .map(|c| {
                    c.iter()
                        .map(|(k, v)| {
                            (
                                k.parse().expect("capture index"),
                                v["name"].as_str().expect("capture name").to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            if let Some(inner) = p.get("patterns") {
                walk(g, inner, &mut Vec::new());
            }
            out.push(Pattern {
                name: p["name"].as_str().map(str::to_string),
                re: compile(re),
                end: end.map(compile),
                captures,
            });
        }
    }
    let mut out = Vec::new();
    walk(g, &g["patterns"], &mut out);
    out
}

/// Scoped ranges of one line, TextMate's way: at each position the leftmost match of
/// any pattern wins, the first pattern on a tie; a `begin` runs to its `end` (or the
/// end of the line: the test has no multi-line state but the block comments).
fn tokenize(line: &str, patterns: &[Pattern]) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < line.len() {
        let best = patterns
            .iter()
            .filter_map(|p| p.re.captures_at(line, pos).map(|c| (c, p)))
            .min_by_key(|(c, _)| c.get(0).map_or(usize::MAX, |m| m.start()));
        let Some((caps, p)) = best else { break };
        let m = caps.get(0).expect("match");
        let mut end = m.end();
        if let Some(end_re) = &p.end {
            end = end_re
                .find_at(line, m.end())
                .map_or(line.len(), |e| e.end());
        }
        if let Some(name) = &p.name {
            out.push((m.start(), end, name.clone()));
        }
        for (i, name) in &p.captures {
            if let Some(c) = caps.get(*i) {
                out.push((c.start(), c.end(), name.clone()));
            }
        }
        pos = end.max(m.start() + 1);
    }
    out
}

/// The keywords the pest grammar defines: its `kw_*` rules.
fn pest_keywords() -> Vec<String> {
    let rules = std::fs::read_to_string(root().join("grammar/src/feat.pest")).expect("read");
    let re = Regex::new(r#"(?m)^kw_[a-z]+\s*=\s*@\{\s*"([a-z]+)""#).expect("regex");
    re.captures_iter(&rules).map(|c| c[1].to_string()).collect()
}

fn feat_files() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in ["examples", "tests/cases", "tests/functions"] {
        collect(&root().join(dir), &mut found);
    }
    found.sort();
    found
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "feat") {
            out.push(path);
        }
    }
}

#[test]
fn the_extension_contributes_the_language_and_its_grammar() {
    let pkg = load("editors/vscode/package.json");
    let lang = &pkg["contributes"]["languages"][0];
    assert_eq!(lang["id"], "feat");
    assert_eq!(lang["extensions"][0], ".feat");
    let grammar = &pkg["contributes"]["grammars"][0];
    assert_eq!(grammar["scopeName"], "source.feat");
    assert!(root()
        .join("editors/vscode")
        .join(grammar["path"].as_str().expect("path"))
        .exists());
    let config = load("editors/vscode/language-configuration.json");
    assert_eq!(config["comments"]["lineComment"], "//");
    assert_eq!(config["brackets"].as_array().map(Vec::len), Some(3));
    let g = grammar_fields();
    assert_eq!(g["scopeName"], "source.feat");
}

fn grammar_fields() -> Value {
    let g = grammar();
    for field in ["name", "scopeName", "patterns", "repository"] {
        assert!(!g[field].is_null(), "the grammar has no `{field}`");
    }
    g
}

#[test]
fn every_pattern_compiles() {
    assert!(patterns(&grammar()).len() > 20);
}

#[test]
fn every_keyword_aggregation_and_function_is_in_the_grammar() {
    let text = std::fs::read_to_string(root().join("editors/vscode/syntaxes/feat.tmLanguage.json"))
        .expect("read");
    let keywords = pest_keywords();
    assert!(keywords.len() > 30, "{keywords:?}");
    let names = keywords
        .iter()
        .map(String::as_str)
        .chain(featc::check::aggs::NAMES.iter().copied())
        .chain(featc::check::exprs::function_names());
    for name in names {
        let word = Regex::new(&format!(r"[|(]{name}[|)]")).expect("regex");
        assert!(
            word.is_match(&text),
            "`{name}` is not in the editor grammar"
        );
    }
}

#[test]
fn every_keyword_of_the_repository_files_is_highlighted() {
    let patterns = patterns(&grammar());
    let keywords = pest_keywords();
    let word = Regex::new(r"[A-Za-z_][A-Za-z0-9_]*").expect("regex");
    let files = feat_files();
    assert!(files.len() >= 5);
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read");
        for (n, line) in text.lines().enumerate() {
            let tokens = tokenize(line, &patterns);
            for w in word.find_iter(line) {
                let scope = tokens
                    .iter()
                    .filter(|(s, e, _)| *s <= w.start() && w.end() <= *e)
                    .map(|(_, _, name)| name.as_str())
                    .next_back();
                // A contextual keyword may also name a declaration (`source events`).
                let in_text = scope.is_some_and(|s| {
                    s.starts_with("comment")
                        || s.starts_with("string")
                        || s.starts_with("entity.name")
                });
                // Contextual keywords (`format`, `offset`, ...) may be names elsewhere,
                // and `max` of `max 200 events` is also an aggregation, `max(x)`.
                let reserved_context = line[..w.start()].trim_end().ends_with('.')
                    || line[w.end()..].trim_start().starts_with(':')
                    || line[w.end()..].trim_start().starts_with('(');
                if keywords.iter().any(|k| k == w.as_str()) && !in_text && !reserved_context {
                    assert!(
                        scope.is_some_and(
                            |s| s.starts_with("keyword") || s.starts_with("constant.language")
                        ),
                        "{}:{}: keyword `{}` is {:?}",
                        path.display(),
                        n + 1,
                        w.as_str(),
                        scope
                    );
                }
            }
        }
    }
}
