//! The catalog as Markdown: a table of the features at a glance, then one section
//! per declaration kind with an entry per declaration (docs, owner, tags, facts and
//! lineage as a list), for a wiki or a repository's docs folder.

use super::{About, Catalog, ColumnEntry, Duration, FeatureEntry};
use std::fmt::Write;

/// The Markdown text of `c`.
pub fn render(c: &Catalog) -> String {
    let mut out = String::from("# Feature catalog\n\n");
    let files: Vec<String> = c.files.iter().map(|f| code(f)).collect();
    let _ = writeln!(out, "Files: {}.\n", files.join(", "));
    if !c.features.is_empty() {
        out.push_str("| feature | declared in | type | window | owner | served by |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        for f in &c.features {
            let declared = f.view.as_deref().or(f.service.as_deref()).unwrap_or("");
            let services: Vec<&str> = f
                .lineage
                .services
                .iter()
                .map(|s| s.service.as_str())
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&code(&f.name)),
                cell(&code(declared)),
                cell(&code(&ty(&f.ty, f.nullable))),
                cell(&window(f)),
                cell(&text(f.about.owner.as_deref().unwrap_or(""))),
                cell(
                    &services
                        .iter()
                        .map(|s| code(s))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        out.push('\n');
    }
    section(
        &mut out,
        "Sources",
        c.sources.iter().map(|s| {
            let mut l = Lines::default();
            l.push("time column", code(&s.time_column));
            l.push("columns", columns(&s.columns));
            l.opt("location", s.location.as_deref().map(code));
            l.opt(
                "topic",
                s.topic
                    .as_ref()
                    .map(|t| format!("{} ({})", code(&t.name), text(&t.format))),
            );
            l.duration("lateness", s.lateness.as_ref());
            l.duration("delay", s.delay.as_ref());
            l.duration("freshness", s.freshness.as_ref());
            l.opt("epoch", s.epoch.as_deref().map(code));
            l.opt("partition", s.partition.as_deref().map(code));
            l.names("views", &s.views);
            entry(&s.name, &s.about, l)
        }),
    );
    section(
        &mut out,
        "Entities",
        c.entities.iter().map(|e| {
            let mut l = Lines::default();
            l.push("keys", columns(&e.keys));
            l.names("views", &e.views);
            entry(&e.name, &e.about, l)
        }),
    );
    section(
        &mut out,
        "Views",
        c.views.iter().map(|v| {
            let mut l = Lines::default();
            let sources = v.sources();
            l.names(
                if sources.len() > 1 {
                    "sources"
                } else {
                    "source"
                },
                &sources,
            );
            l.push(
                "entity",
                format!("{} by {}", code(&v.entity), code(&v.key_columns.join(", "))),
            );
            l.opt("where", v.filter.as_deref().map(code));
            for x in &v.lets {
                // A lookup: its let, the feature looked up and the key columns.
                if let Some(k) = v.lookup(&x.name) {
                    let keys: Vec<String> = k.key_columns.iter().map(|c| code(c)).collect();
                    l.push(
                        "lookup",
                        format!(
                            "{} = {} at {}",
                            code(&format!("{}: {}", x.name, ty(&x.ty, x.nullable))),
                            code(&format!("{}.{}", k.view, k.feature)),
                            keys.join(", ")
                        ),
                    );
                    continue;
                }
                let mut line = code(&format!(
                    "{}: {} = {}",
                    x.name,
                    ty(&x.ty, x.nullable),
                    x.expr
                ));
                let reads: Vec<String> = x
                    .lineage
                    .lets
                    .iter()
                    .chain(&x.lineage.columns)
                    .map(|n| code(n))
                    .collect();
                if !reads.is_empty() {
                    let _ = write!(line, " reads {}", reads.join(", "));
                }
                l.push("let", line);
            }
            l.names("features", &v.features);
            l.duration("ttl", v.ttl.as_ref());
            l.duration("freshness", v.freshness.as_ref());
            entry(&v.name, &v.about, l)
        }),
    );
    section(
        &mut out,
        "Features",
        c.features
            .iter()
            .map(|f| entry(&f.name, &f.about, feature_lines(f))),
    );
    section(
        &mut out,
        "Requests",
        c.requests.iter().map(|r| {
            let mut l = Lines::default();
            l.push("fields", columns(&r.fields));
            l.names("read by", &r.read_by);
            entry(&r.name, &r.about, l)
        }),
    );
    section(
        &mut out,
        "Services",
        c.services.iter().map(|s| {
            let mut l = Lines::default();
            let served: Vec<String> = s
                .features
                .iter()
                .map(|f| match &f.view {
                    Some(v) => code(&format!("{v}.{}: {}", f.name, ty(&f.ty, f.nullable))),
                    None => format!(
                        "{} (own)",
                        code(&format!("{}: {}", f.name, ty(&f.ty, f.nullable)))
                    ),
                })
                .collect();
            l.push("features", served.join(", "));
            l.names("sources", &s.sources);
            l.names("requests", &s.requests);
            entry(&s.name, &s.about, l)
        }),
    );
    out
}

fn feature_lines(f: &FeatureEntry) -> Lines {
    let mut l = Lines::default();
    l.opt("view", f.view.as_deref().map(code));
    l.opt("service", f.service.as_deref().map(code));
    l.push("type", code(&ty(&f.ty, f.nullable)));
    l.push("definition", code(&f.definition));
    if f.window.is_some() || f.lifetime {
        l.push("window", window(f));
    }
    l.duration("ttl", f.ttl.as_ref());
    for (label, names) in f.lineage.named_lists() {
        l.names(label, &names);
    }
    let uses: Vec<String> = f.lineage.services.iter().map(|u| u.how(code)).collect();
    if !uses.is_empty() {
        l.push("served by", uses.join(", "));
    }
    l
}

/// `1h`, `7d, offset 1d, exclusive end`, `lifetime`, or empty for a derived feature.
fn window(f: &FeatureEntry) -> String {
    match &f.window {
        Some(w) => w.text(),
        None if f.lifetime => "lifetime".to_string(),
        None => String::new(),
    }
}

/// An entry's list items, already Markdown.
#[derive(Default)]
struct Lines(Vec<(&'static str, String)>);

impl Lines {
    fn push(&mut self, key: &'static str, markdown: String) {
        self.0.push((key, markdown));
    }

    fn opt(&mut self, key: &'static str, markdown: Option<String>) {
        if let Some(m) = markdown {
            self.push(key, m);
        }
    }

    fn duration(&mut self, key: &'static str, d: Option<&Duration>) {
        if let Some(d) = d {
            self.push(key, d.text.clone());
        }
    }

    fn names(&mut self, key: &'static str, names: &[String]) {
        if !names.is_empty() {
            self.push(
                key,
                names.iter().map(|n| code(n)).collect::<Vec<_>>().join(", "),
            );
        }
    }
}

fn section(out: &mut String, title: &str, entries: impl Iterator<Item = String>) {
    let entries: Vec<String> = entries.collect();
    if entries.is_empty() {
        return;
    }
    let _ = writeln!(out, "## {title}\n");
    for e in entries {
        out.push_str(&e);
    }
}

fn entry(name: &str, about: &About, lines: Lines) -> String {
    let mut out = format!("### {}\n\n", code(name));
    if !about.doc.is_empty() {
        let doc: Vec<String> = about.doc.iter().map(|d| text(d)).collect();
        let _ = writeln!(out, "{}\n", doc.join("\n"));
    }
    if let Some(o) = &about.owner {
        let _ = writeln!(out, "- owner: {}", text(o));
    }
    if !about.tags.is_empty() {
        let _ = writeln!(
            out,
            "- tags: {}",
            about
                .tags
                .iter()
                .map(|t| code(t))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for (key, value) in lines.0 {
        let _ = writeln!(out, "- {key}: {value}");
    }
    let _ = writeln!(out, "- file: {}\n", code(&about.file));
    out
}

fn columns(cols: &[ColumnEntry]) -> String {
    cols.iter()
        .map(|c| code(&format!("{}: {}", c.name, ty(&c.ty, c.nullable))))
        .collect::<Vec<_>>()
        .join(", ")
}

fn ty(name: &str, nullable: bool) -> String {
    crate::print::ir::ty(name, nullable)
}

/// A code span holding `s` whatever backticks it contains (a fence longer than its
/// longest run, padded when `s` starts or ends with one). Line breaks become spaces.
fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// Free text (docs, owners) with `&`, `<` and `>` as entities, so a renderer never
/// takes a doc comment for HTML.
fn text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A table cell: `|` escaped (also inside code spans, as GFM tables need).
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}
