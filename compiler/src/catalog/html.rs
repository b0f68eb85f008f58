//! The catalog as one self-contained HTML page: every entry rendered here (readable
//! without script), the lineage graph as inline SVG, and a small inline script for
//! the search box. No external URL of any kind, so the file can be published or
//! opened from disk as it is.

use super::{About, Catalog, ColumnEntry, Duration, FeatureEntry};
use std::fmt::Write;

const CSS: &str = include_str!("assets/catalog.css");
const JS: &str = include_str!("assets/catalog.js");

/// Text safe in HTML content and in quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page of `c`.
pub fn render(c: &Catalog) -> String {
    let total = c.sources.len()
        + c.entities.len()
        + c.views.len()
        + c.features.len()
        + c.requests.len()
        + c.services.len();
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>featc catalog</title>\n<style>\n");
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body>\n<header>\n<h1>Feature catalog</h1>\n");
    let files: Vec<String> = c
        .files
        .iter()
        .map(|f| format!("<code>{}</code>", escape(f)))
        .collect();
    let _ = writeln!(out, "<p class=\"files\">{}</p>", files.join(", "));
    out.push_str("<input id=\"search\" type=\"search\" placeholder=\"Search names, docs, owners, tags, definitions\" aria-label=\"Search the catalog\" autocomplete=\"off\">\n");
    let _ = writeln!(
        out,
        "<span class=\"counts\"><span id=\"match-count\">{total}</span> of <span id=\"entry-count\">{total}</span> entries</span>\n</header>"
    );
    out.push_str("<nav>");
    out.push_str("<a href=\"#lineage\">lineage</a>");
    for (id, name, n) in [
        ("sources", "sources", c.sources.len()),
        ("entities", "entities", c.entities.len()),
        ("views", "views", c.views.len()),
        ("features", "features", c.features.len()),
        ("requests", "requests", c.requests.len()),
        ("services", "services", c.services.len()),
    ] {
        if n > 0 {
            let _ = write!(out, "<a href=\"#{id}\">{name} ({n})</a>");
        }
    }
    out.push_str("</nav>\n<main>\n");
    out.push_str("<section id=\"lineage\">\n<h2>Lineage</h2>\n");
    out.push_str("<p class=\"legend\"><span>sources and requests</span><span>→ lets</span><span>→ aggregates</span><span>→ derived features</span><span>→ services</span></p>\n");
    out.push_str("<div class=\"graph\">\n");
    out.push_str(&super::svg::render(&c.graph));
    out.push_str("</div>\n</section>\n");
    section(
        &mut out,
        "sources",
        "Sources",
        c.sources.iter().enumerate().map(|(i, s)| {
            let mut facts = Facts::default();
            facts.code("time column", &s.time_column);
            facts.raw("columns", &columns(&s.columns));
            facts.opt_code("location", s.location.as_deref());
            if let Some(t) = &s.topic {
                facts.raw(
                    "topic",
                    &format!("<code>{}</code> ({})", escape(&t.name), escape(&t.format)),
                );
            }
            facts.duration("lateness", s.lateness.as_ref());
            facts.duration("delay", s.delay.as_ref());
            facts.duration("freshness", s.freshness.as_ref());
            facts.opt_code("epoch", s.epoch.as_deref());
            facts.opt_code("partition", s.partition.as_deref());
            facts.names("views", &s.views);
            entry("source", i, &s.name, &s.about, facts, &[])
        }),
    );
    section(
        &mut out,
        "entities",
        "Entities",
        c.entities.iter().enumerate().map(|(i, e)| {
            let mut facts = Facts::default();
            facts.raw("keys", &columns(&e.keys));
            facts.names("views", &e.views);
            entry("entity", i, &e.name, &e.about, facts, &[])
        }),
    );
    section(
        &mut out,
        "views",
        "Views",
        c.views.iter().enumerate().map(|(i, v)| {
            let mut facts = Facts::default();
            let sources = v.sources();
            facts.names(
                if sources.len() > 1 {
                    "sources"
                } else {
                    "source"
                },
                &sources,
            );
            facts.raw(
                "entity",
                &format!(
                    "<code>{}</code> by <code>{}</code>",
                    escape(&v.entity),
                    escape(&v.key_columns.join(", "))
                ),
            );
            facts.opt_code("where", v.filter.as_deref());
            for l in &v.lets {
                // A lookup: its let, the feature looked up and the key columns.
                if let Some(k) = v.lookup(&l.name) {
                    let keys: Vec<String> = k
                        .key_columns
                        .iter()
                        .map(|c| format!("<code>{}</code>", escape(c)))
                        .collect();
                    let text = format!(
                        "<code>{}: {}</code> = <code>{}.{}</code> at {}",
                        escape(&l.name),
                        escape(&ty(&l.ty, l.nullable)),
                        escape(&k.view),
                        escape(&k.feature),
                        keys.join(", ")
                    );
                    facts.raw("lookup", &text);
                    continue;
                }
                let mut text = format!(
                    "<code>{}: {} = {}</code>",
                    escape(&l.name),
                    escape(&ty(&l.ty, l.nullable)),
                    escape(&l.expr)
                );
                if !l.lineage.columns.is_empty() || !l.lineage.lets.is_empty() {
                    let reads: Vec<String> = l
                        .lineage
                        .lets
                        .iter()
                        .chain(&l.lineage.columns)
                        .map(|n| format!("<code>{}</code>", escape(n)))
                        .collect();
                    let _ = write!(text, " reads {}", reads.join(", "));
                }
                facts.raw("let", &text);
            }
            facts.names("features", &v.features);
            facts.duration("ttl", v.ttl.as_ref());
            facts.duration("freshness", v.freshness.as_ref());
            entry("view", i, &v.name, &v.about, facts, &[])
        }),
    );
    section(
        &mut out,
        "features",
        "Features",
        c.features.iter().enumerate().map(|(i, f)| {
            let facts = feature_facts(f);
            entry("feature", i, &f.name, &f.about, facts, &[&f.definition])
        }),
    );
    section(
        &mut out,
        "requests",
        "Requests",
        c.requests.iter().enumerate().map(|(i, r)| {
            let mut facts = Facts::default();
            facts.raw("fields", &columns(&r.fields));
            facts.names("read by", &r.read_by);
            entry("request", i, &r.name, &r.about, facts, &[])
        }),
    );
    section(
        &mut out,
        "services",
        "Services",
        c.services.iter().enumerate().map(|(i, s)| {
            let mut facts = Facts::default();
            let served: Vec<String> = s
                .features
                .iter()
                .map(|f| match &f.view {
                    Some(v) => format!(
                        "<code>{}.{}: {}</code>",
                        escape(v),
                        escape(&f.name),
                        escape(&ty(&f.ty, f.nullable))
                    ),
                    None => format!(
                        "<code>{}: {}</code> (own)",
                        escape(&f.name),
                        escape(&ty(&f.ty, f.nullable))
                    ),
                })
                .collect();
            facts.raw("features", &served.join("<br>"));
            facts.names("sources", &s.sources);
            facts.names("requests", &s.requests);
            entry("service", i, &s.name, &s.about, facts, &[])
        }),
    );
    out.push_str("</main>\n<script>\n");
    out.push_str(JS);
    out.push_str("</script>\n</body>\n</html>\n");
    out
}

fn feature_facts(f: &FeatureEntry) -> Facts {
    let mut facts = Facts::default();
    match (&f.view, &f.service) {
        (Some(v), _) => facts.code("view", v),
        (None, Some(s)) => facts.code("service", s),
        (None, None) => {}
    }
    facts.raw(
        "type",
        &format!("<code>{}</code>", escape(&ty(&f.ty, f.nullable))),
    );
    facts.raw(
        "definition",
        &format!("<code>{}</code>", escape(&f.definition)),
    );
    if let Some(w) = &f.window {
        facts.raw("window", &escape(&w.text()));
    } else if f.lifetime {
        facts.raw("window", "lifetime");
    }
    facts.duration("ttl", f.ttl.as_ref());
    for (label, names) in f.lineage.named_lists() {
        facts.names(label, &names);
    }
    let uses: Vec<String> = f
        .lineage
        .services
        .iter()
        .map(|u| u.how(|v| format!("<code>{}</code>", escape(v))))
        .collect();
    if !uses.is_empty() {
        facts.raw("served by", &uses.join("<br>"));
    }
    facts
}

/// An entry's `<dt>`/`<dd>` pairs, already HTML.
#[derive(Default)]
struct Facts(Vec<(&'static str, String)>);

impl Facts {
    fn raw(&mut self, key: &'static str, html: &str) {
        self.0.push((key, html.to_string()));
    }

    fn code(&mut self, key: &'static str, text: &str) {
        self.raw(key, &format!("<code>{}</code>", escape(text)));
    }

    fn opt_code(&mut self, key: &'static str, text: Option<&str>) {
        if let Some(t) = text {
            self.code(key, t);
        }
    }

    fn duration(&mut self, key: &'static str, d: Option<&Duration>) {
        if let Some(d) = d {
            self.raw(key, &escape(&d.text));
        }
    }

    /// A list of names as code, omitted when empty.
    fn names(&mut self, key: &'static str, names: &[String]) {
        if !names.is_empty() {
            let items: Vec<String> = names
                .iter()
                .map(|n| format!("<code>{}</code>", escape(n)))
                .collect();
            self.raw(key, &items.join(", "));
        }
    }
}

fn section(out: &mut String, id: &str, title: &str, entries: impl Iterator<Item = String>) {
    let entries: Vec<String> = entries.collect();
    if entries.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section class=\"kind\" id=\"{id}\">\n<h2>{title}</h2>"
    );
    for e in entries {
        out.push_str(&e);
    }
    out.push_str("</section>\n");
}

/// One entry: its heading, doc, owner and tags, then its facts. `data-search` holds
/// what the search box matches (name, doc, owner, tags, and `also`: a feature's
/// definition), lower-cased.
fn entry(
    kind: &str,
    index: usize,
    name: &str,
    about: &About,
    facts: Facts,
    also: &[&str],
) -> String {
    let mut search = vec![name.to_string()];
    search.extend(about.doc.iter().cloned());
    search.extend(about.owner.iter().cloned());
    search.extend(about.tags.iter().cloned());
    search.extend(also.iter().map(|s| s.to_string()));
    let search = search.join(" ").to_lowercase();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<article class=\"entry\" id=\"{kind}-{index}\" data-kind=\"{kind}\" data-search=\"{}\">",
        escape(&search)
    );
    let _ = writeln!(
        out,
        "<h3><span class=\"kind\">{kind}</span><code>{}</code></h3>",
        escape(name)
    );
    // A blank `///` line separates paragraphs, as it does in Markdown.
    for paragraph in about.doc.split(|line| line.trim().is_empty()) {
        if !paragraph.is_empty() {
            let _ = writeln!(
                out,
                "<p class=\"doc\">{}</p>",
                escape(&paragraph.join("\n"))
            );
        }
    }
    out.push_str("<dl>\n");
    if let Some(o) = &about.owner {
        let _ = writeln!(out, "<dt>owner</dt><dd>{}</dd>", escape(o));
    }
    if !about.tags.is_empty() {
        let tags: Vec<String> = about
            .tags
            .iter()
            .map(|t| format!("<span class=\"tag\">{}</span>", escape(t)))
            .collect();
        let _ = writeln!(out, "<dt>tags</dt><dd>{}</dd>", tags.join(""));
    }
    for (key, html) in facts.0 {
        let _ = writeln!(out, "<dt>{key}</dt><dd>{html}</dd>");
    }
    let _ = writeln!(
        out,
        "<dt>file</dt><dd><code>{}</code></dd>",
        escape(&about.file)
    );
    out.push_str("</dl>\n</article>\n");
    out
}

fn columns(cols: &[ColumnEntry]) -> String {
    let items: Vec<String> = cols
        .iter()
        .map(|c| {
            format!(
                "<code>{}: {}</code>",
                escape(&c.name),
                escape(&ty(&c.ty, c.nullable))
            )
        })
        .collect();
    items.join(", ")
}

fn ty(name: &str, nullable: bool) -> String {
    crate::print::ir::ty(name, nullable)
}
