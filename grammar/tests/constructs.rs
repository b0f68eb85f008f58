//! Every item and clause of the language builds the expected syntax tree, spans included.

use featc_grammar::ast::*;
use featc_grammar::parse;

fn parse_ok(text: &str) -> File {
    parse(7, text).unwrap_or_else(|e| panic!("{text:?}: {e:#?}"))
}

/// The text a span covers.
fn text_of(text: &str, span: Span) -> &str {
    &text[span.start as usize..span.end as usize]
}

const SOURCE: &str = r#"
// a line comment
/* a block
   comment */
/// First doc line.
///Second, without a space.
source transactions {
    time ts
    columns {
        user_id: int64,
        amount:  float64?
        `time`:  timestamp? , category: string
    }
    file "data/tx.parquet"
    lateness 10m
    owner 'payments-team'
    tags ["pci", "raw",]
    time ignored_second_time
}
"#;

#[test]
fn source_with_every_clause() {
    let file = parse_ok(SOURCE);
    assert_eq!(file.span, Span::new(7, 0, SOURCE.len()));
    let [Item::Source(s)] = &file.items[..] else {
        panic!("{file:?}")
    };
    assert_eq!(s.name.name, "transactions");
    assert_eq!(s.meta.docs, ["First doc line.", "Second, without a space."]);
    assert!(text_of(SOURCE, s.span).starts_with("source transactions {"));
    assert!(text_of(SOURCE, s.span).ends_with('}'));
    // The first `time` clause wins.
    assert_eq!(s.time.as_ref().map(|t| t.name.as_str()), Some("ts"));
    let cols: Vec<(&str, &str, bool)> = s
        .columns
        .iter()
        .map(|c| (c.name.name.as_str(), c.ty.name.name.as_str(), c.ty.nullable))
        .collect();
    assert_eq!(
        cols,
        [
            ("user_id", "int64", false),
            ("amount", "float64", true),
            ("time", "timestamp", true),
            ("category", "string", false)
        ]
    );
    assert_eq!(text_of(SOURCE, s.columns[1].span), "amount:  float64?");
    assert_eq!(text_of(SOURCE, s.columns[1].ty.span), "float64?");
    assert_eq!(text_of(SOURCE, s.columns[2].name.span), "`time`");
    assert_eq!(
        s.file.as_ref().map(|f| f.value.as_str()),
        Some("data/tx.parquet")
    );
    assert_eq!(
        text_of(SOURCE, s.file.as_ref().unwrap().span),
        "\"data/tx.parquet\""
    );
    let lateness = s.lateness.as_ref().unwrap();
    assert_eq!(
        (lateness.text.as_str(), text_of(SOURCE, lateness.span)),
        ("10m", "10m")
    );
    assert_eq!(
        s.meta.owner.as_ref().map(|o| o.value.as_str()),
        Some("payments-team")
    );
    let tags: Vec<&str> = s.meta.tags.iter().map(|t| t.value.as_str()).collect();
    assert_eq!(tags, ["pci", "raw"]);
}

#[test]
fn entities_single_and_composite_keys() {
    let text = "entity user { key user_id: int64 }\n/// A pair.\nentity pair { key (a: int64, b: string?) owner \"x\" tags [] }";
    let file = parse_ok(text);
    let [Item::Entity(user), Item::Entity(pair)] = &file.items[..] else {
        panic!("{file:?}")
    };
    assert_eq!(user.keys.len(), 1);
    assert_eq!(user.keys[0].name.name, "user_id");
    assert!(user.meta.docs.is_empty());
    assert_eq!(
        text_of(text, user.span),
        "entity user { key user_id: int64 }"
    );
    assert_eq!(pair.meta.docs, ["A pair."]);
    let keys: Vec<(&str, bool)> = pair
        .keys
        .iter()
        .map(|k| (k.name.name.as_str(), k.ty.nullable))
        .collect();
    assert_eq!(keys, [("a", false), ("b", true)]);
    assert_eq!(
        pair.meta.owner.as_ref().map(|o| o.value.as_str()),
        Some("x")
    );
    assert!(pair.meta.tags.is_empty());
}

const VIEW: &str = r#"
view departures from flights by airport (origin, day) {
    where amount >= 0
    let big = amount > 100
    where big
    /// not a feature doc: a `let` follows
    let x = 1
    /// Counts departures.
    /// Per hour.
    feature departures_1h = count(*) over 1h
    feature big_sum = sum(amount, 2) where big
    feature none = f()
    // A plain comment between a doc and its feature is not allowed to hide it:
    feature life = last(dest)
    ttl 90d
    ttl 1d
    owner "risk"
    tags ["fraud"]
}
"#;

#[test]
fn view_with_every_clause() {
    let file = parse_ok(VIEW);
    let [Item::View(v)] = &file.items[..] else {
        panic!("{file:?}")
    };
    assert_eq!(
        (
            v.name.name.as_str(),
            v.source.name.as_str(),
            v.entity.name.as_str()
        ),
        ("departures", "flights", "airport")
    );
    let keys: Vec<&str> = v
        .key_columns
        .as_ref()
        .unwrap()
        .iter()
        .map(|k| k.name.as_str())
        .collect();
    assert_eq!(keys, ["origin", "day"]);
    assert_eq!(v.meta.owner.as_ref().unwrap().value, "risk");
    assert_eq!(v.meta.tags[0].value, "fraud");
    let kinds: Vec<&str> = v
        .clauses
        .iter()
        .map(|c| match c {
            ViewClause::Where(_) => "where",
            ViewClause::Let(_) => "let",
            ViewClause::Feature(_) => "feature",
            ViewClause::Ttl(_) => "ttl",
            ViewClause::Derived(_) => "derived",
            ViewClause::Freshness(_) => "freshness",
            ViewClause::Lookup(_) => "lookup",
        })
        .collect();
    // Only the first `ttl` is kept.
    assert_eq!(
        kinds,
        ["where", "let", "where", "let", "feature", "feature", "feature", "feature", "ttl"]
    );
    let ViewClause::Let(big) = &v.clauses[1] else {
        panic!()
    };
    assert_eq!(big.name.name, "big");
    assert_eq!(text_of(VIEW, big.span), "let big = amount > 100");
    assert_eq!(text_of(VIEW, big.expr.span), "amount > 100");

    let ViewClause::Feature(f) = &v.clauses[4] else {
        panic!()
    };
    assert_eq!(f.name.name, "departures_1h");
    assert_eq!(f.docs, ["Counts departures.", "Per hour."]);
    assert_eq!(
        text_of(VIEW, f.span),
        "feature departures_1h = count(*) over 1h"
    );
    assert_eq!(f.agg.func.name, "count");
    let AggArgs::Star(star) = f.agg.args else {
        panic!("{:?}", f.agg.args)
    };
    assert_eq!(text_of(VIEW, star), "*");
    assert_eq!(text_of(VIEW, f.agg.span), "count(*)");
    assert_eq!(f.window.as_ref().map(|w| w.text.as_str()), Some("1h"));
    assert!(f.filter.is_none());

    let ViewClause::Feature(f) = &v.clauses[5] else {
        panic!()
    };
    assert!(f.docs.is_empty());
    let AggArgs::Exprs(args) = &f.agg.args else {
        panic!()
    };
    assert_eq!(args.len(), 2);
    assert_eq!(text_of(VIEW, f.filter.as_ref().unwrap().span), "big");
    assert!(f.window.is_none());
    assert_eq!(
        text_of(VIEW, f.span),
        "feature big_sum = sum(amount, 2) where big"
    );

    let ViewClause::Feature(f) = &v.clauses[6] else {
        panic!()
    };
    assert_eq!(f.agg.args, AggArgs::Exprs(vec![]));
    let ViewClause::Feature(f) = &v.clauses[7] else {
        panic!()
    };
    assert!(
        f.docs.is_empty(),
        "a `//` line breaks the doc block: {:?}",
        f.docs
    );
    let ViewClause::Ttl(ttl) = &v.clauses[8] else {
        panic!()
    };
    assert_eq!(ttl.text, "90d");
}

#[test]
fn service_entries() {
    let text = "/// Model inputs.\nservice fraud_v1 {\n  user_spend.amount_sum_7d, txn_count_1h\n  v . f\n  owner \"risk\" tags [\"a\", \"b\"]\n}";
    let file = parse_ok(text);
    let [Item::Service(s)] = &file.items[..] else {
        panic!("{file:?}")
    };
    assert_eq!(s.meta.docs, ["Model inputs."]);
    let refs: Vec<(Option<&str>, &str, &str)> = s
        .entries
        .iter()
        .filter_map(|e| match e {
            ServiceEntry::Ref(f) => Some(f),
            _ => None,
        })
        .map(|f| {
            (
                f.view.as_ref().map(|v| v.name.as_str()),
                f.feature.name.as_str(),
                text_of(text, f.span),
            )
        })
        .collect();
    assert_eq!(
        refs,
        [
            (
                Some("user_spend"),
                "amount_sum_7d",
                "user_spend.amount_sum_7d"
            ),
            (None, "txn_count_1h", "txn_count_1h"),
            (Some("v"), "f", "v . f")
        ]
    );
    assert_eq!(s.meta.tags.len(), 2);
    assert!(text_of(text, s.span).starts_with("service fraud_v1"));
}

#[test]
fn requests_and_derived_features() {
    let text = "/// At checkout.\nrequest checkout { amount: float64, lat: float64?  owner \"risk\" }\n\
        view v from s by e {\n  feature a = sum(x) over 7d\n  feature b = count(*)\n  \
        feature r = a / nullif(b, 0)\n  feature n = nullif(a, 0)\n  feature q = v.a + 1\n}\n\
        service svc {\n  r\n  feature over_avg = checkout.amount - a\n  feature c = coalesce(a, 0.0)\n}";
    let file = parse_ok(text);
    let [Item::Request(req), Item::View(v), Item::Service(svc)] = &file.items[..] else {
        panic!("{file:?}")
    };
    assert_eq!(req.meta.docs, ["At checkout."]);
    let fields: Vec<(&str, &str, bool)> = req
        .fields
        .iter()
        .map(|f| (f.name.name.as_str(), f.ty.name.name.as_str(), f.ty.nullable))
        .collect();
    assert_eq!(
        fields,
        [("amount", "float64", false), ("lat", "float64", true)]
    );
    assert_eq!(
        req.meta.owner.as_ref().map(|o| o.value.as_str()),
        Some("risk")
    );

    // An operator after a call makes the right side an expression; a lone call stays
    // an aggregation-shaped clause (check tells `nullif` from `sum`).
    let kinds: Vec<(&str, &str)> = v
        .clauses
        .iter()
        .map(|c| match c {
            ViewClause::Feature(f) => (f.name.name.as_str(), "agg"),
            ViewClause::Derived(d) => (d.name.name.as_str(), text_of(text, d.expr.span)),
            _ => ("", ""),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("a", "agg"),
            ("b", "agg"),
            ("r", "a / nullif(b, 0)"),
            ("n", "agg"),
            ("q", "v.a + 1")
        ]
    );
    let ViewClause::Derived(q) = &v.clauses[4] else {
        panic!()
    };
    let ExprKind::Binary { lhs, .. } = &q.expr.kind else {
        panic!("{q:?}")
    };
    assert!(
        matches!(&lhs.kind, ExprKind::Field { qualifier, name } if qualifier.name == "v" && name.name == "a")
    );

    let entries: Vec<&str> = svc
        .entries
        .iter()
        .map(|e| match e {
            ServiceEntry::Ref(f) => f.feature.name.as_str(),
            ServiceEntry::Derived(d) => d.name.name.as_str(),
            ServiceEntry::Feature(f) => f.name.name.as_str(),
        })
        .collect();
    assert_eq!(entries, ["r", "over_avg", "c"]);
    assert!(matches!(&svc.entries[1], ServiceEntry::Derived(_)));
    assert!(matches!(&svc.entries[2], ServiceEntry::Feature(_)));
}

#[test]
fn empty_and_comment_only_files() {
    assert!(parse_ok("").items.is_empty());
    assert!(parse_ok("  // nothing\n/* here */\n/// dangling doc\n")
        .items
        .is_empty());
}

#[test]
fn durations_and_numbers_keep_their_text() {
    let text = "view v from s by e { where x = 99999999999999999999999 feature f = count(*) over 500ms ttl 0s }";
    let file = parse_ok(text);
    let [Item::View(v)] = &file.items[..] else {
        panic!()
    };
    let ViewClause::Where(e) = &v.clauses[0] else {
        panic!()
    };
    let ExprKind::Binary { rhs, .. } = &e.kind else {
        panic!()
    };
    assert_eq!(rhs.kind, ExprKind::Int("99999999999999999999999".into()));
    let ViewClause::Feature(f) = &v.clauses[1] else {
        panic!()
    };
    assert_eq!(f.window.as_ref().unwrap().text, "500ms");
    assert_eq!(
        v.clauses[2],
        ViewClause::Ttl(DurationLit {
            text: "0s".into(),
            span: Span::new(7, 91, 93)
        })
    );
}

#[test]
fn keywords_need_a_word_boundary() {
    // `sources`, `overall` and `ends` are identifiers, not keywords.
    let text = "view sources from s by e { feature f = sum(overall) where ends over 1d }";
    let file = parse_ok(text);
    let [Item::View(v)] = &file.items[..] else {
        panic!()
    };
    assert_eq!(v.name.name, "sources");
}

/// Count windows: `over N events`, `over W max N events`, with the window options;
/// `events` and `max` stay usable as names.
#[test]
fn count_windows_keep_their_count_and_span() {
    const TEXT: &str = "source events { time ts columns { k: int64 max: int64 } }\n\
        view v from events by user {\n\
        feature a = avg(max) over 10 events\n\
        feature b = sum(max) over 30d max 200 events offset 1d exclusive\n\
        feature c = max(max) over 007 events\n\
        }\n";
    let file = parse_ok(TEXT);
    let Item::View(v) = &file.items[1] else {
        panic!("{file:?}")
    };
    let features: Vec<&FeatureDecl> = v
        .clauses
        .iter()
        .filter_map(|c| match c {
            ViewClause::Feature(f) => Some(f),
            _ => None,
        })
        .collect();
    let a = features[0];
    assert!(a.window.is_none());
    let n = a.events.as_ref().expect("a count");
    assert_eq!(
        (n.text.as_str(), text_of(TEXT, n.span)),
        ("10", "10 events")
    );
    let b = features[1];
    assert_eq!(b.window.as_ref().map(|w| w.text.as_str()), Some("30d"));
    let n = b.events.as_ref().expect("a cap");
    assert_eq!(
        (n.text.as_str(), text_of(TEXT, n.span)),
        ("200", "200 events")
    );
    assert_eq!(b.offset.as_ref().map(|o| o.text.as_str()), Some("1d"));
    assert!(b.exclusive.is_some());
    assert_eq!(
        features[2].events.as_ref().map(|n| n.text.as_str()),
        Some("007")
    );
    // A count needs its word, and a cap its count.
    for broken in [
        "view v from s by u { feature a = sum(x) over 10 }",
        "view v from s by u { feature a = sum(x) over 30d max 5 }",
        "view v from s by u { feature a = sum(x) over 30d max events }",
        "view v from s by u { feature a = sum(x) over 1.5 events }",
    ] {
        assert!(parse(7, broken).is_err(), "{broken}");
    }
}

#[test]
fn a_view_over_several_sources_and_source_calls() {
    let text = "view activity from payments, logins ,taps by user (uid) {\n  where source() = 'logins'\n  feature f = count(*)\n}";
    let file = parse_ok(text);
    let [Item::View(v)] = &file.items[..] else {
        panic!("{file:?}")
    };
    assert_eq!(v.source.name, "payments");
    let more: Vec<&str> = v.more_sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(more, ["logins", "taps"]);
    assert_eq!(text_of(text, v.more_sources[1].span), "taps");
    // `source` is reserved, yet `source()` is a call (its name checked by `check`).
    let [ViewClause::Where(w), _] = &v.clauses[..] else {
        panic!("{v:?}")
    };
    let featc_grammar::ast::ExprKind::Binary { lhs, .. } = &w.kind else {
        panic!("{w:?}")
    };
    let featc_grammar::ast::ExprKind::Call { func, args } = &lhs.kind else {
        panic!("{lhs:?}")
    };
    assert_eq!((func.name.as_str(), args.len()), ("source", 0));
    // A trailing comma, or a source name missing after one, is a syntax error.
    assert!(parse(7, "view v from a, by e { }").is_err());
}

#[test]
fn lookups_and_at_as_a_name() {
    let text = "view v from s by e {\n  let risk = merchants.risk_30d at merchant_id\n  let pair = p.f at (a, b,)\n  let at = 1\n  feature f = sum(at)\n}";
    let file = parse_ok(text);
    let [Item::View(v)] = &file.items[..] else {
        panic!("{file:?}")
    };
    let [ViewClause::Lookup(risk), ViewClause::Lookup(pair), ViewClause::Let(at), _] =
        &v.clauses[..]
    else {
        panic!("{v:?}")
    };
    assert_eq!(
        (
            risk.name.name.as_str(),
            risk.view.name.as_str(),
            risk.feature.name.as_str()
        ),
        ("risk", "merchants", "risk_30d")
    );
    let keys: Vec<&str> = pair.keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(keys, ["a", "b"]);
    assert_eq!(
        text_of(text, risk.span),
        "let risk = merchants.risk_30d at merchant_id"
    );
    // `at` is not reserved: a let may be named so.
    assert_eq!(at.name.name, "at");
    // A lookup without its key is a syntax error.
    assert!(parse(7, "view v from s by e { let r = m.f at }").is_err());
}
