//! The audit's report as one self-contained HTML page: the verdict, the counts per
//! feature and cause, the unexplained cells and the worst keys rendered here (readable
//! without script), and a chart of the differing cells over time drawn by a small
//! inline script from the report's JSON embedded in the page. No external URL.

use std::fmt::Write;

use super::report::Report;
use crate::catalog::html::escape;

const CSS: &str = include_str!("assets/audit.css");
const JS: &str = include_str!("assets/audit.js");

/// The page of `report`.
pub fn render(report: &Report) -> Result<String, serde_json::Error> {
    // Inside <script>, `</` would end the element: JSON allows `<\/` for it.
    let json = serde_json::to_string(report)?.replace("</", "<\\/");
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>featc audit</title>\n<style>\n");
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body data-ready=\"0\">\n<h1>featc audit</h1>\n");
    let (class, verdict) = match report.passed() {
        true => ("passed", "every cell is equal or explained"),
        false => ("failed", "some cells are unexplained"),
    };
    let _ = writeln!(
        out,
        "<p class=\"verdict {class}\" id=\"verdict\">{verdict}</p>"
    );
    let sampled = match report.sample_every {
        0 | 1 => String::new(),
        n => format!(" (one read in {n})"),
    };
    let _ = writeln!(
        out,
        "<p>{} reads audited of {} logged{sampled}, {} files; {} exact. Cells: <span id=\"equal\">{}</span> equal, <span id=\"explained\">{}</span> explained, <span id=\"unexplained\">{}</span> unexplained.</p>",
        report.audited_reads,
        report.logged_reads,
        report.files,
        report.exact_reads,
        report.cells.equal,
        report.cells.explained_total(),
        report.cells.unexplained
    );
    out.push_str("<h2>Differing cells over time</h2>\n<div id=\"legend\"></div>\n");
    out.push_str(
        "<svg id=\"timeline\" role=\"img\" aria-label=\"differing cells by read time\"></svg>\n",
    );
    if !report.cells.explained.is_empty() {
        out.push_str("<h2>Causes</h2>\n<table id=\"causes\"><tr><th>cause</th><th class=\"n\">cells</th><th>what it means</th></tr>\n");
        for (cause, n) in &report.cells.explained {
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td class=\"n\">{n}</td><td>{}</td></tr>",
                cause.name(),
                escape(cause.says())
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("<h2>Features</h2>\n<table id=\"features\"><tr><th>feature</th><th class=\"n\">equal</th><th class=\"n\">explained</th><th class=\"n\">unexplained</th></tr>\n");
    for f in &report.features {
        let _ = writeln!(
            out,
            "<tr data-feature=\"{0}\"><td><code>{0}</code></td><td class=\"n\">{1}</td><td class=\"n\">{2}</td><td class=\"n\">{3}</td></tr>",
            escape(&f.feature),
            f.counts.equal,
            f.counts.explained_total(),
            f.counts.unexplained
        );
    }
    out.push_str("</table>\n");
    if !report.unexplained.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Unexplained cells ({} of {} shown)</h2>\n<table id=\"findings\"><tr><th>feature</th><th>read at</th><th>keys</th><th>served</th><th>training</th></tr>",
            report.unexplained.len(),
            report.cells.unexplained
        );
        for f in &report.unexplained {
            let keys: Vec<String> = f
                .keys
                .iter()
                .map(|(k, v)| escape(&format!("{k}={v}")))
                .collect();
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{} ({})</td><td>{}</td></tr>",
                escape(&f.feature),
                escape(&f.read_time),
                keys.join(", "),
                escape(&f.served),
                escape(&f.status),
                escape(&f.computed)
            );
            if !f.events.is_empty() {
                let events: Vec<String> = f.events.iter().map(|e| escape(e)).collect();
                let _ = writeln!(
                    out,
                    "<tr class=\"events\"><td colspan=\"5\"><details><summary>the latest events of the key at or before the read ({})</summary><pre>{}</pre></details></td></tr>",
                    f.events.len(),
                    events.join("\n")
                );
            }
        }
        out.push_str("</table>\n");
    }
    if !report.worst_keys.is_empty() {
        out.push_str("<h2>Keys with the most differences</h2>\n<table id=\"keys\"><tr><th>key</th><th class=\"n\">unexplained</th><th class=\"n\">explained</th></tr>\n");
        for k in &report.worst_keys {
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                escape(&k.key),
                k.unexplained,
                k.explained
            );
        }
        out.push_str("</table>\n");
    }
    let _ = writeln!(
        out,
        "<script type=\"application/json\" id=\"report\">{json}</script>"
    );
    out.push_str("<script>\n");
    out.push_str(JS);
    out.push_str("</script>\n</body>\n</html>\n");
    Ok(out)
}
