//! `featc catalog`'s model and renderings: JSON and Markdown snapshots of every
//! example and acceptance case, an HTML snapshot of the fraud example, the escaping
//! of user text in the page, and exact lineage lists on a hand-written project.

use crate::project_files::{project, ROOT};
use featc::catalog::{self, Catalog, FeatureEntry};
use featc::SourceFile;

use featc_test_support::project::compile;

/// Every example and case folder holding `.feat` files, as `(snapshot name, dir)`.
fn projects() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for parent in ["examples", "tests/cases"] {
        let mut dirs: Vec<String> = std::fs::read_dir(format!("{ROOT}/{parent}"))
            .expect("folder")
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|n| {
                std::fs::read_dir(format!("{ROOT}/{parent}/{n}"))
                    .map(|d| {
                        d.flatten()
                            .any(|f| f.file_name().to_string_lossy().ends_with(".feat"))
                    })
                    .unwrap_or(false)
            })
            .collect();
        dirs.sort();
        for d in dirs {
            out.push((d.clone(), format!("{parent}/{d}")));
        }
    }
    out
}

#[test]
fn json_and_markdown_of_every_example_and_case() {
    let all = projects();
    assert!(all.len() >= 4, "expected the examples and cases: {all:?}");
    for (name, dir) in all {
        let c = catalog::catalog(&compile(&project(&dir)));
        let json = catalog::json::render(&c).expect("json");
        let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(value["catalog_version"], 1);
        insta::assert_snapshot!(format!("catalog_json_{name}"), json);
        insta::assert_snapshot!(
            format!("catalog_markdown_{name}"),
            catalog::markdown::render(&c)
        );
    }
}

#[test]
fn html_of_the_fraud_example() {
    let c = catalog::catalog(&compile(&project("examples/fraud")));
    insta::assert_snapshot!("catalog_html_fraud", catalog::html::render(&c));
}

/// Every example's page is self-contained and has a graph node per feature.
#[test]
fn every_page_is_self_contained_with_a_node_per_feature() {
    for (name, dir) in projects() {
        let c = catalog::catalog(&compile(&project(&dir)));
        let html = catalog::html::render(&c);
        for needle in ["http:", "https:", "//cdn", "src=", "@import", "url("] {
            let allowed = needle == "http:"
                && html.matches("http:").count() == 1
                && html.contains("xmlns=\"http://www.w3.org/2000/svg\"");
            assert!(
                !html.contains(needle) || allowed,
                "{name}: the page names `{needle}`"
            );
        }
        let nodes = html.matches("<g class=\"node feature ").count();
        assert_eq!(nodes, c.features.len(), "{name}: a node per feature");
        let entries = html.matches("<article class=\"entry\"").count();
        assert!(html.contains(&format!("<span id=\"match-count\">{entries}</span>")));
    }
}

const HAND_WRITTEN: &str = r#"
/// Payments <script>alert(1)</script> & "quotes" 'too'.
source pay {
    time ts
    columns {
        user_id: int64
        amount:  float64?
        kind:    string
        country: string
        unused:  string
    }
    owner "risk <team> & co"
    tags ["pii", "<b>money</b>"]
}

entity user { key user_id: int64 }

/// Spending.
///
/// Second paragraph.
view spend from pay by user {
    where country != 'XX'
    let cents = amount * 100
    let big   = cents > 10000
    let odd   = kind = 'odd'
    feature n         = count(*) over 1h
    feature big_n     = count_if(big) over 1d
    feature odd_sum   = sum(amount) where odd over 7d offset 1d exclusive
    feature last_ts   = max(ts)
    feature ratio     = big_n / nullif(n, 0)
    feature ratio2    = ratio * 2
    owner "spend-team"
    tags ["core"]
}

request checkout { amount: float64 }

/// Scores a checkout.
service score {
    n
    ratio2
    feature over_avg = checkout.amount - coalesce(ratio2, 0.0)
}
"#;

fn hand_written() -> Catalog {
    let files = vec![SourceFile {
        name: "hand.feat".to_string(),
        text: HAND_WRITTEN.to_string(),
    }];
    catalog::catalog(&compile(&files))
}

fn feature<'c>(c: &'c Catalog, name: &str) -> &'c FeatureEntry {
    c.features
        .iter()
        .find(|f| f.name == name)
        .expect("the feature")
}

fn columns(f: &FeatureEntry) -> Vec<String> {
    f.lineage
        .source_columns
        .iter()
        .map(|c| format!("{}.{}", c.source, c.column))
        .collect()
}

fn lets(f: &FeatureEntry) -> Vec<String> {
    f.lineage
        .lets
        .iter()
        .map(|l| format!("{}.{}", l.view, l.name))
        .collect()
}

fn uses(f: &FeatureEntry) -> Vec<(String, bool, Vec<String>)> {
    f.lineage
        .services
        .iter()
        .map(|u| (u.service.clone(), u.direct, u.via.clone()))
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn lineage_through_lets_wheres_and_derived_features() {
    let c = hand_written();
    // The view's `where` reads `country` for every feature of the view.
    let n = feature(&c, "n");
    assert_eq!(columns(n), strings(&["pay.country"]));
    assert!(lets(n).is_empty());
    // `big` reads `cents`, which reads `amount`: lets reading lets, transitively.
    let big_n = feature(&c, "big_n");
    assert_eq!(columns(big_n), strings(&["pay.amount", "pay.country"]));
    assert_eq!(lets(big_n), strings(&["spend.cents", "spend.big"]));
    // The feature's own `where` reads `odd`, which reads `kind`.
    let odd_sum = feature(&c, "odd_sum");
    assert_eq!(
        columns(odd_sum),
        strings(&["pay.amount", "pay.kind", "pay.country"])
    );
    assert_eq!(lets(odd_sum), strings(&["spend.odd"]));
    let w = odd_sum.window.as_ref().expect("a window");
    assert_eq!(
        (
            w.width.as_ref().map(|d| d.text.as_str()),
            w.offset.as_ref().map(|o| o.text.as_str()),
            w.exclusive_end
        ),
        (Some("7d"), Some("1d"), true)
    );
    // The time column counts when an expression names it.
    let last_ts = feature(&c, "last_ts");
    assert_eq!(columns(last_ts), strings(&["pay.ts", "pay.country"]));
    assert!(last_ts.lifetime && last_ts.window.is_none());
    // A derived feature: what its features read, transitively.
    let ratio = feature(&c, "ratio");
    assert_eq!(ratio.lineage.features, strings(&["big_n", "n"]));
    assert_eq!(ratio.lineage.all_features, strings(&["n", "big_n"]));
    assert_eq!(columns(ratio), strings(&["pay.amount", "pay.country"]));
    assert_eq!(lets(ratio), strings(&["spend.cents", "spend.big"]));
    let ratio2 = feature(&c, "ratio2");
    assert_eq!(ratio2.lineage.features, strings(&["ratio"]));
    assert_eq!(
        ratio2.lineage.all_features,
        strings(&["n", "big_n", "ratio"])
    );
    // The service's own feature reads a request field and, through ratio2, the rest.
    let over_avg = feature(&c, "over_avg");
    assert_eq!(over_avg.service.as_deref(), Some("score"));
    assert_eq!(over_avg.lineage.features, strings(&["ratio2"]));
    let fields: Vec<String> = over_avg
        .lineage
        .request_fields
        .iter()
        .map(|r| format!("{}.{}", r.request, r.field))
        .collect();
    assert_eq!(fields, strings(&["checkout.amount"]));
    assert_eq!(lets(over_avg), strings(&["spend.cents", "spend.big"]));
    assert_eq!(c.requests[0].read_by, strings(&["over_avg"]));
    // Who serves what: directly, or through the derived features the service lists
    // (`ratio` is not one: `ratio2` reads it).
    let score = |direct: bool, via: &[&str]| vec![("score".to_string(), direct, strings(via))];
    assert_eq!(uses(n), score(true, &["ratio2", "over_avg"]));
    assert_eq!(uses(big_n), score(false, &["ratio2", "over_avg"]));
    assert_eq!(uses(ratio), score(false, &["ratio2", "over_avg"]));
    assert_eq!(uses(ratio2), score(true, &["over_avg"]));
    assert_eq!(uses(over_avg), score(true, &[]));
    assert!(uses(odd_sum).is_empty());
    assert!(uses(last_ts).is_empty());
    // Lets, the view and the service.
    let view = &c.views[0];
    assert_eq!(view.filter.as_deref(), Some("country != 'XX'"));
    let let_reads: Vec<(Vec<String>, Vec<String>)> = view
        .lets
        .iter()
        .map(|l| (l.lineage.columns.clone(), l.lineage.lets.clone()))
        .collect();
    assert_eq!(
        let_reads,
        vec![
            (strings(&["amount"]), vec![]),
            (strings(&["amount"]), strings(&["cents"])),
            (strings(&["kind"]), vec![]),
        ]
    );
    assert_eq!(c.services[0].sources, strings(&["pay"]));
    assert_eq!(c.services[0].requests, strings(&["checkout"]));
    // A feature is owned and tagged as its view is.
    assert_eq!(n.about.owner.as_deref(), Some("spend-team"));
    assert_eq!(n.about.tags, strings(&["core"]));
}

#[test]
fn the_graph_layers_go_left_to_right() {
    let c = hand_written();
    let g = &c.graph;
    for &(from, to) in &g.edges {
        assert!(
            g.nodes[from].layer < g.nodes[to].layer,
            "{:?} -> {:?}",
            g.nodes[from],
            g.nodes[to]
        );
    }
    let layer = |name: &str| g.nodes.iter().find(|n| n.name == name).expect("node").layer;
    assert_eq!(layer("pay"), 0);
    assert_eq!(layer("spend.cents"), 1);
    assert_eq!(layer("spend.big"), 2);
    assert_eq!(layer("n"), 3);
    assert_eq!(layer("ratio"), 4);
    assert_eq!(layer("ratio2"), 5);
    assert_eq!(layer("over_avg"), 6);
    assert_eq!(layer("score"), 7);
}

#[test]
fn user_text_is_escaped_in_the_page() {
    let html = catalog::html::render(&hand_written());
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains(
        "Payments &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot; &#39;too&#39;."
    ));
    assert!(html.contains("risk &lt;team&gt; &amp; co"));
    assert!(html.contains("&lt;b&gt;money&lt;/b&gt;"));
    assert!(!html.contains("<b>money"));
    // A blank doc line separates paragraphs.
    assert!(
        html.contains("<p class=\"doc\">Spending.</p>\n<p class=\"doc\">Second paragraph.</p>\n")
    );
    // The page has one script, its own.
    assert_eq!(html.matches("<script").count(), 1);
    // Markdown keeps the doc readable but never as HTML.
    let md = catalog::markdown::render(&hand_written());
    assert!(md.contains("Payments &lt;script&gt;alert(1)&lt;/script&gt; &amp; \"quotes\" 'too'."));
    assert!(!md.contains("<script>"));
}

/// A view over two sources (`from pay, logins`), beside one over `pay` alone.
const TWO_SOURCES: &str = r#"
source pay {
    time ts
    columns {
        user_id: int64
        amount:  float64
        country: string
    }
}

source logins {
    time at
    columns {
        user_id: int64
        country: string
        device:  string
    }
}

entity user { key user_id: int64 }

view activity from pay, logins by user {
    where country != 'XX'
    let big = amount > 100.0
    let phone = device = 'phone'
    feature events_1d = count(*) over 1d
    feature logins_1d = count_if(source() = 'logins') over 1d
    feature big_1d    = count_if(big) over 1d
    feature phones_1d = count_if(phone) over 1d
}

view spend from pay by user {
    feature spent_1d = sum(amount) over 1d
}

service score {
    events_1d
    spent_1d
}
"#;

fn two_sources() -> Catalog {
    let files = vec![SourceFile {
        name: "two.feat".to_string(),
        text: TWO_SOURCES.to_string(),
    }];
    catalog::catalog(&compile(&files))
}

/// A view over several sources lists all of them, each source lists the views that
/// read it (as a later member too), and lineage reaches each source's own columns.
#[test]
fn a_view_over_two_sources() {
    let c = two_sources();
    let json = catalog::json::render(&c).expect("json");
    insta::assert_snapshot!("catalog_json_two_sources", json);
    insta::assert_snapshot!(
        "catalog_markdown_two_sources",
        catalog::markdown::render(&c)
    );
    let view = |name: &str| c.views.iter().find(|v| v.name == name).expect("view");
    assert_eq!(view("activity").sources(), strings(&["pay", "logins"]));
    assert_eq!(view("spend").sources(), strings(&["pay"]));
    // The JSON keeps `source` and adds `more_sources` only where there are some.
    let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(value["views"][0]["source"], "pay");
    assert_eq!(
        value["views"][0]["more_sources"],
        serde_json::json!(["logins"])
    );
    assert!(value["views"][1].get("more_sources").is_none());
    let source = |name: &str| c.sources.iter().find(|s| s.name == name).expect("source");
    assert_eq!(source("pay").views, strings(&["activity", "spend"]));
    assert_eq!(source("logins").views, strings(&["activity"]));
    // A column name reads that column of every source that has it.
    assert_eq!(
        columns(feature(&c, "events_1d")),
        strings(&["pay.country", "logins.country"])
    );
    assert_eq!(
        columns(feature(&c, "big_1d")),
        strings(&["pay.amount", "pay.country", "logins.country"])
    );
    assert_eq!(
        columns(feature(&c, "phones_1d")),
        strings(&["pay.country", "logins.country", "logins.device"])
    );
    assert_eq!(c.services[0].sources, strings(&["pay", "logins"]));
    // The graph: an aggregate has an edge from each source of its view; a let from
    // the sources whose columns it reads.
    let g = &c.graph;
    let node = |name: &str| g.nodes.iter().position(|n| n.name == name).expect("node");
    let from = |name: &str| -> Vec<String> {
        let to = node(name);
        let mut out: Vec<String> = g
            .edges
            .iter()
            .filter(|&&(_, t)| t == to)
            .map(|&(f, _)| g.nodes[f].name.clone())
            .collect();
        out.sort();
        out
    };
    assert_eq!(from("events_1d"), strings(&["logins", "pay"]));
    assert_eq!(from("logins_1d"), strings(&["logins", "pay"]));
    assert_eq!(from("spent_1d"), strings(&["pay"]));
    assert_eq!(from("activity.big"), strings(&["pay"]));
    assert_eq!(from("activity.phone"), strings(&["logins"]));
    // The page names both sources of the view.
    let html = catalog::html::render(&c);
    assert!(html.contains("<code>pay</code>, <code>logins</code>"));
}

/// Views looking up other views' features as of each event (`at merchant`), one of
/// them a feature computed from a lookup, and a service serving a derived feature
/// over lookups.
const LOOKUPS: &str = r#"
source payments {
    time ts
    columns {
        user:     string
        merchant: string
        amount:   float64
    }
}

source reports {
    time at
    columns {
        merchant: string
        fraud:    bool
    }
}

entity user { key user: string }
entity merchant { key merchant: string }

view merchant_risk from reports by merchant {
    feature fraud_rate_30d = avg(if(fraud, 1.0, 0.0)) over 30d
    feature reports_30d = count(*) over 30d
}

view spend from payments by user {
    let risk = merchant_risk.fraud_rate_30d at merchant
    let n_reports = merchant_risk.reports_30d at (merchant)
    let high = risk > 0.5
    feature risky_spend_7d = sum(amount) where high over 7d
    feature reported_payments = count(*) where n_reports > 0
    feature max_risk = max(risk)
    feature risky_share = risky_spend_7d / max_risk
}

view flagged from payments by merchant {
    let user_risk = spend.max_risk at user
    feature risky_users_1d = count(*) where user_risk > 0.9 over 1d
}

service score {
    risky_share
}
"#;

fn lookups() -> Catalog {
    let files = vec![SourceFile {
        name: "lookups.feat".to_string(),
        text: LOOKUPS.to_string(),
    }];
    catalog::catalog(&compile(&files))
}

/// A view lists its lookups; a feature's lineage names the features it looks up and
/// reaches their source columns; the graph has an edge from each looked-up feature
/// to the lookup's let, and every edge still goes left to right.
#[test]
fn views_with_lookups() {
    let c = lookups();
    let json = catalog::json::render(&c).expect("json");
    insta::assert_snapshot!("catalog_json_lookups", json);
    insta::assert_snapshot!("catalog_markdown_lookups", catalog::markdown::render(&c));
    let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    // A view without lookups has no `lookups` field, nor a feature without any a
    // `looks_up` one.
    assert!(value["views"][0].get("lookups").is_none());
    assert!(value["features"][0]["lineage"].get("looks_up").is_none());
    assert_eq!(
        value["views"][1]["lookups"][0],
        serde_json::json!({
            "name": "risk",
            "view": "merchant_risk",
            "feature": "fraud_rate_30d",
            "entity": "merchant",
            "key_columns": ["merchant"],
            "type": "float64",
        })
    );
    // The lookup's let reads its key column.
    let spend = &c.views[1];
    assert_eq!(spend.lets[0].lineage.columns, strings(&["merchant"]));
    assert_eq!(spend.lets[2].lineage.lets, strings(&["risk"]));
    // An aggregate looks up through lets, transitively; its value depends on the
    // looked-up feature's source columns.
    let risky = feature(&c, "risky_spend_7d");
    assert_eq!(risky.lineage.looks_up, strings(&["fraud_rate_30d"]));
    assert_eq!(risky.lineage.all_features, strings(&["fraud_rate_30d"]));
    assert_eq!(
        columns(risky),
        strings(&["payments.merchant", "payments.amount", "reports.fraud"])
    );
    assert_eq!(lets(risky), strings(&["spend.risk", "spend.high"]));
    let reported = feature(&c, "reported_payments");
    assert_eq!(reported.lineage.looks_up, strings(&["reports_30d"]));
    // A lookup of a feature computed from a lookup: both, transitively.
    let flagged = feature(&c, "risky_users_1d");
    assert_eq!(flagged.lineage.looks_up, strings(&["max_risk"]));
    assert_eq!(
        flagged.lineage.all_features,
        strings(&["fraud_rate_30d", "max_risk"])
    );
    assert_eq!(
        columns(flagged),
        strings(&["payments.user", "payments.merchant", "reports.fraud"])
    );
    // A derived feature: what the features it reads look up.
    let share = feature(&c, "risky_share");
    assert!(share.lineage.looks_up.is_empty());
    assert_eq!(
        share.lineage.all_features,
        strings(&["fraud_rate_30d", "risky_spend_7d", "max_risk"])
    );
    // The service depends on the looked-up feature and its source.
    assert_eq!(
        uses(feature(&c, "fraud_rate_30d")),
        vec![("score".to_string(), false, strings(&["risky_share"]))]
    );
    assert!(uses(feature(&c, "reports_30d")).is_empty());
    assert_eq!(c.services[0].sources, strings(&["payments", "reports"]));
    // The graph.
    let g = &c.graph;
    for &(from, to) in &g.edges {
        assert!(
            g.nodes[from].layer < g.nodes[to].layer,
            "{:?} -> {:?}",
            g.nodes[from],
            g.nodes[to]
        );
    }
    let node = |name: &str| g.nodes.iter().position(|n| n.name == name).expect("node");
    let from = |name: &str| -> Vec<String> {
        let to = node(name);
        let mut out: Vec<String> = g
            .edges
            .iter()
            .filter(|&&(_, t)| t == to)
            .map(|&(f, _)| g.nodes[f].name.clone())
            .collect();
        out.sort();
        out
    };
    assert_eq!(from("spend.risk"), strings(&["fraud_rate_30d", "payments"]));
    assert_eq!(
        from("spend.n_reports"),
        strings(&["payments", "reports_30d"])
    );
    assert_eq!(
        from("flagged.user_risk"),
        strings(&["max_risk", "payments"])
    );
    assert_eq!(from("risky_spend_7d"), strings(&["payments", "spend.high"]));
    assert_eq!(
        from("risky_users_1d"),
        strings(&["flagged.user_risk", "payments"])
    );
    // The page names each lookup with its feature and key columns.
    let html = catalog::html::render(&c);
    assert!(
        html.contains(
            "<dt>lookup</dt><dd><code>risk: float64?</code> = \
             <code>merchant_risk.fraud_rate_30d</code> at <code>merchant</code></dd>"
        ),
        "{html}"
    );
    assert!(html.contains("<dt>looks up</dt><dd><code>fraud_rate_30d</code></dd>"));
}
