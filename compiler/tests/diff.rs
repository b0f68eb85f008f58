//! `featc::diff` on hand-written before/after projects: each kind of change alone gives
//! exactly the reasons expected, and what is not a change in meaning (layout,
//! comments, docs, owners, tags, order, unrelated features) gives none.

use featc::diff::report::{Change, OwnerKind, ProjectDiff};
use featc::diff::{diff, text};
use featc::{ir, SourceFile};
use featc_test_support::project::{compile_text, edited};

/// The project most tests edit (also the CLI's state-directory tests',
/// cli/tests/state_dir.rs).
const BASE: &str = include_str!("diff/base.feat");

fn compile(text: &str) -> ir::Project {
    compile_text("p.feat", text)
}

/// `BASE` with each `(from, to)` replaced once (each `from` must be there).
fn edit(edits: &[(&str, &str)]) -> String {
    edited(BASE, edits)
}

fn diff_of(old: &str, new: &str) -> ProjectDiff {
    diff(&compile(old), &compile(new)).expect("diffs")
}

/// The report in short: one line per feature change (with its reasons), service
/// change, online owner and gate.
fn summary(d: &ProjectDiff) -> Vec<String> {
    let mut out = Vec::new();
    for o in &d.features {
        let owner = &o.owner.name;
        for c in &o.changed {
            out.push(format!(
                "changed {owner}.{}: {}",
                c.name,
                c.reasons.join("; ")
            ));
        }
        for n in &o.added {
            out.push(format!("added {owner}.{n}"));
        }
        for n in &o.removed {
            out.push(format!("removed {owner}.{n}"));
        }
        for r in &o.renamed {
            out.push(format!("renamed {owner}.{} -> {}", r.from, r.to));
        }
    }
    for n in &d.services.added {
        out.push(format!("service added {n}"));
    }
    for n in &d.services.removed {
        out.push(format!("service removed {n}"));
    }
    for s in &d.services.changed {
        out.push(format!(
            "service {}: changed [{}] lost [{}] gained [{}]{}",
            s.name,
            s.changed.join(", "),
            s.lost.join(", "),
            s.gained.join(", "),
            if s.reordered { " reordered" } else { "" }
        ));
    }
    for s in &d.online.owners {
        let items = |items: &[featc::diff::report::Item]| {
            items
                .iter()
                .map(|i| format!("{} {}", i.feature, i.change.word()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push(format!(
            "online {}: rebuild [{}] no rebuild [{}]",
            s.owner.name,
            items(&s.rebuild_for),
            items(&s.no_rebuild)
        ));
    }
    out.push(format!(
        "gate {}",
        if d.gate.fails { "fails" } else { "passes" }
    ));
    out
}

fn lines(expected: &[&str]) -> Vec<String> {
    expected.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_same_project_has_no_change() {
    let d = diff_of(BASE, BASE);
    assert!(d.no_meaning_change());
    assert_eq!(d, ProjectDiff::default());
    assert_eq!(
        text::render(&d, "a", "b"),
        "featc diff a -> b\n\nno feature or service changed meaning\n\n\
         gate: passes (no served feature changed meaning or was removed)\n"
    );
}

#[test]
fn a_window_change_changes_the_feature_and_what_reads_it() {
    let d = diff_of(BASE, &edit(&[("count(*) over 1h", "count(*) over 2h")]));
    assert_eq!(
        summary(&d),
        lines(&[
            "changed spend.count_1h: window 1h -> 2h",
            "changed spend.avg_1d: reads feature count_1h, which changed",
            "changed s1.vs_avg: reads feature avg_1d, which changed",
            "service s1: changed [count_1h, avg_1d, vs_avg] lost [] gained []",
            "online spend: rebuild [count_1h changed] no rebuild [avg_1d changed]",
            "online s1: rebuild [] no rebuild [vs_avg changed]",
            "gate fails",
        ])
    );
    assert_eq!(
        d.gate.reasons,
        lines(&[
            "service s1 serves count_1h, whose meaning changed",
            "service s1 serves avg_1d, whose meaning changed",
            "service s1 serves vs_avg, whose meaning changed",
        ])
    );
    assert_eq!(d.features[0].changed[0].served_by, lines(&["s1"]));
}

#[test]
fn a_let_read_through_another_let_changes_every_feature_reading_it() {
    let d = diff_of(BASE, &edit(&[("amount > 100", "amount > 200")]));
    assert_eq!(
        summary(&d),
        lines(&[
            "changed spend.huge_7d: let big changed: `amount > 100` -> `amount > 200`",
            "changed spend.cat_last: let big changed: `amount > 100` -> `amount > 200`",
            "service s2: changed [cat_last] lost [] gained []",
            "online spend: rebuild [huge_7d changed, cat_last changed] no rebuild []",
            "gate fails",
        ])
    );
}

#[test]
fn a_let_nobody_reads_changes_nothing() {
    let d = diff_of(
        BASE,
        &edit(&[(
            "let huge = big and n > 3",
            "let huge = big and n > 3\n    let unused = n * 2",
        )]),
    );
    assert_eq!(summary(&d), lines(&["gate passes"]));
}

#[test]
fn a_view_where_changes_every_aggregation_of_the_view() {
    let d = diff_of(BASE, &edit(&[("amount >= 0\n", "amount > 0\n")]));
    let view_where =
        "view where changed: `(amount is null) or (amount >= 0)` -> `(amount is null) or (amount > 0)`";
    assert_eq!(
        summary(&d),
        lines(&[
            &format!("changed spend.count_1h: {view_where}"),
            &format!("changed spend.sum_1d: {view_where}"),
            &format!("changed spend.huge_7d: {view_where}"),
            &format!("changed spend.cat_last: {view_where}"),
            "changed spend.avg_1d: reads feature count_1h, which changed; reads feature sum_1d, which changed",
            "changed s1.vs_avg: reads feature avg_1d, which changed",
            "service s1: changed [count_1h, sum_1d, avg_1d, vs_avg] lost [] gained []",
            "service s2: changed [cat_last] lost [] gained []",
            "online spend: rebuild [count_1h changed, sum_1d changed, huge_7d changed, cat_last changed] no rebuild [avg_1d changed]",
            "online s1: rebuild [] no rebuild [vs_avg changed]",
            "gate fails",
        ])
    );
}

#[test]
fn a_feature_where_changes_that_feature() {
    let d = diff_of(BASE, &edit(&[("where not big", "where category != 'x'")]));
    assert_eq!(
        summary(&d),
        lines(&[
            "changed spend.cat_last: where changed: `not big` -> `category != 'x'`",
            "service s2: changed [cat_last] lost [] gained []",
            "online spend: rebuild [cat_last changed] no rebuild []",
            "gate fails",
        ])
    );
}

#[test]
fn a_source_column_type_is_reported_once_as_a_column() {
    let d = diff_of(BASE, &edit(&[("amount:   float64?", "amount:   int64?")]));
    let column = "source tx: column amount float64? -> int64?";
    assert_eq!(
        summary(&d),
        lines(&[
            &format!("changed spend.count_1h: {column}"),
            &format!("changed spend.sum_1d: {column}; result type float64 -> int64"),
            &format!("changed spend.huge_7d: {column}"),
            &format!("changed spend.cat_last: {column}"),
            "changed spend.avg_1d: reads feature count_1h, which changed; reads feature sum_1d, which changed",
            "changed s1.vs_avg: reads feature avg_1d, which changed",
            "service s1: changed [count_1h, sum_1d, avg_1d, vs_avg] lost [] gained []",
            "service s2: changed [cat_last] lost [] gained []",
            "online spend: rebuild [count_1h changed, sum_1d changed, huge_7d changed, cat_last changed] no rebuild [avg_1d changed]",
            "online s1: rebuild [] no rebuild [vs_avg changed]",
            "gate fails",
        ])
    );
    assert_eq!(
        d.sources
            .iter()
            .map(|n| format!("{}: {}", n.subject, n.change))
            .collect::<Vec<_>>(),
        lines(&["source tx: column amount float64? -> int64?"])
    );
}

#[test]
fn a_column_no_feature_reads_is_only_a_note() {
    let d = diff_of(
        BASE,
        &edit(&[(
            "n:        int64\n",
            "n:        int64\n        extra: string\n",
        )]),
    );
    assert_eq!(summary(&d), lines(&["gate passes"]));
    assert_eq!(d.sources[0].change, "column extra added (string)");
}

#[test]
fn lateness_and_delay_change_every_aggregation_of_the_source() {
    for (edits, reason) in [
        (
            &[("lateness 5m", "lateness 10m")][..],
            "source tx: lateness 5m -> 10m",
        ),
        (
            &[("lateness 5m", "lateness 5m\n    delay 1m")][..],
            "source tx: delay none -> 1m",
        ),
    ] {
        let d = diff_of(BASE, &edit(edits));
        let changed: Vec<(String, Vec<String>)> = d.features[0]
            .changed
            .iter()
            .map(|c| (c.name.clone(), c.reasons.clone()))
            .collect();
        let r = vec![reason.to_string()];
        assert_eq!(
            changed,
            vec![
                ("count_1h".to_string(), r.clone()),
                ("sum_1d".to_string(), r.clone()),
                ("huge_7d".to_string(), r.clone()),
                ("cat_last".to_string(), r.clone()),
                (
                    "avg_1d".to_string(),
                    lines(&[
                        "reads feature count_1h, which changed",
                        "reads feature sum_1d, which changed"
                    ])
                ),
            ]
        );
        assert!(d.gate.fails);
    }
}

#[test]
fn the_entity_key_column_is_part_of_the_meaning() {
    let d = diff_of(
        BASE,
        &edit(&[("from tx by user {", "from tx by user (payer_id) {")]),
    );
    let key = "entity user: key user_id read from column user_id -> payer_id";
    let reasons: Vec<Vec<String>> = d.features[0]
        .changed
        .iter()
        .map(|c| c.reasons.clone())
        .collect();
    assert_eq!(reasons[0], lines(&[key]));
    assert_eq!(reasons.len(), 5);
    assert!(d.online.owners[0].rebuild);
}

#[test]
fn a_request_field_type_changes_the_service_feature_reading_it() {
    let d = diff_of(BASE, &edit(&[("amount: float64\n}", "amount: int64\n}")]));
    assert_eq!(
        summary(&d),
        lines(&[
            "changed s1.vs_avg: request field checkout.amount float64 -> int64",
            "service s1: changed [vs_avg] lost [] gained []",
            "online s1: rebuild [] no rebuild [vs_avg changed]",
            "gate fails",
        ])
    );
}

#[test]
fn services_gaining_and_losing_features() {
    let gains = diff_of(
        BASE,
        &edit(&[("    cat_last\n}", "    cat_last\n    huge_7d\n}")]),
    );
    assert_eq!(
        summary(&gains),
        lines(&[
            "service s2: changed [] lost [] gained [huge_7d]",
            "gate passes"
        ])
    );
    let loses = diff_of(BASE, &edit(&[("    sum_1d\n    avg_1d\n", "    avg_1d\n")]));
    assert_eq!(
        summary(&loses),
        lines(&[
            "service s1: changed [] lost [sum_1d] gained []",
            "gate fails"
        ])
    );
    assert_eq!(
        loses.gate.reasons,
        lines(&["service s1 no longer serves sum_1d"])
    );
    let removed = diff_of(BASE, &edit(&[("service s2 {\n    cat_last\n}", "")]));
    assert_eq!(
        summary(&removed),
        lines(&["service removed s2", "gate fails"])
    );
    let added = diff_of(BASE, &format!("{BASE}\nservice s3 {{ cat_last }}\n"));
    assert_eq!(summary(&added), lines(&["service added s3", "gate passes"]));
    let reordered = diff_of(
        BASE,
        &edit(&[("    count_1h\n    sum_1d\n", "    sum_1d\n    count_1h\n")]),
    );
    assert_eq!(
        summary(&reordered),
        lines(&[
            "service s1: changed [] lost [] gained [] reordered",
            "gate passes"
        ])
    );
    // Features reordered within a view: no change (whether the state directory is
    // reused: cli/tests/state_dir.rs).
    let swapped = BASE.replace(
        "    feature count_1h = count(*) over 1h\n    feature sum_1d   = sum(amount) over 1d\n",
        "    feature sum_1d   = sum(amount) over 1d\n    feature count_1h = count(*) over 1h\n",
    );
    assert_eq!(diff_of(BASE, &swapped), ProjectDiff::default());
}

#[test]
fn added_and_removed_features() {
    let d = diff_of(
        BASE,
        &edit(&[
            ("    feature huge_7d  = count_if(huge) over 7d\n", ""),
            (
                "    feature avg_1d",
                "    feature n_max = max(n) over 1d\n    feature half = n_max / 2\n    feature avg_1d",
            ),
        ]),
    );
    assert_eq!(
        summary(&d),
        lines(&[
            "added spend.n_max",
            "added spend.half",
            "removed spend.huge_7d",
            "online spend: rebuild [n_max added] no rebuild [half added, huge_7d removed]",
            "gate passes",
        ])
    );
    assert_eq!(d.online.owners[0].owner.kind, OwnerKind::View);
    assert_eq!(d.online.owners[0].rebuild_for[0].change, Change::Added);
}

#[test]
fn a_removed_derived_feature_needs_no_rebuild() {
    let d = diff_of(
        BASE,
        &edit(&[("    feature vs_avg = checkout.amount / avg_1d\n", "")]),
    );
    assert_eq!(
        summary(&d),
        lines(&[
            "removed s1.vs_avg",
            "service s1: changed [] lost [vs_avg] gained []",
            "online s1: rebuild [] no rebuild [vs_avg removed]",
            "gate fails",
        ])
    );
}

#[test]
fn reformatting_is_no_change() {
    let messy = BASE
        .replace("    ", "\t  ")
        .replace(" = ", "=")
        .replace("\n\n", "\n\n\n");
    assert_eq!(summary(&diff_of(BASE, &messy)), lines(&["gate passes"]));
    let formatted = featc::fmt::format_files(&[SourceFile {
        name: "p.feat".to_string(),
        text: messy,
    }])
    .expect("formats");
    let d = diff_of(BASE, &formatted[0]);
    assert_eq!(d, ProjectDiff::default());
}

#[test]
fn comments_docs_owners_and_tags_are_metadata_only() {
    let d = diff_of(
        BASE,
        &edit(&[
            ("source tx {", "// a comment\n/// Payments.\nsource tx {"),
            (
                "    lateness 5m",
                "    lateness 5m // late\n    owner \"team\"",
            ),
            (
                "    feature count_1h",
                "    /// How many.\n    feature count_1h",
            ),
            ("service s2 {\n", "service s2 {\n    tags [\"x\"]\n"),
        ]),
    );
    assert!(d.no_meaning_change());
    assert!(!d.gate.fails);
    let notes: Vec<String> = d
        .metadata
        .iter()
        .map(|n| format!("{}: {}", n.subject, n.change))
        .collect();
    assert_eq!(
        notes,
        lines(&[
            "source tx: doc comment changed",
            "source tx: owner none -> 'team'",
            "service s2: tags [] -> ['x']",
            "feature count_1h: doc comment changed",
        ])
    );
}

#[test]
fn a_location_change_is_a_source_note() {
    let d = diff_of(
        BASE,
        &edit(&[("file \"tx.csv\"", "file \"tx2.csv\"\n    topic \"tx\"")]),
    );
    assert!(d.no_meaning_change());
    let notes: Vec<String> = d.sources.iter().map(|n| n.change.clone()).collect();
    assert_eq!(
        notes,
        lines(&[
            "location 'tx.csv' -> 'tx2.csv'",
            "topic none -> 'tx' format json"
        ])
    );
}

/// The reasons of `name`'s change from `BASE` to `BASE` edited.
fn reasons_of(edits: &[(&str, &str)], name: &str) -> Vec<String> {
    let d = diff_of(BASE, &edit(edits));
    d.features
        .iter()
        .flat_map(|o| &o.changed)
        .find(|c| c.name == name)
        .map(|c| c.reasons.clone())
        .unwrap_or_else(|| panic!("{name} did not change: {:?}", summary(&d)))
}

#[test]
fn each_part_of_an_aggregation_has_its_reason() {
    let sum = "feature sum_1d   = sum(amount) over 1d";
    for (to, expected) in [
        (
            "feature sum_1d   = avg(amount) over 1d",
            &["aggregation sum -> avg", "result type float64 -> float64?"][..],
        ),
        (
            "feature sum_1d   = sum(amount * 2) over 1d",
            &["argument changed: `amount` -> `amount * 2`"],
        ),
        (
            "feature sum_1d   = sum(amount) where n > 1 over 1d",
            &["where added: `n > 1`"],
        ),
        (
            "feature sum_1d   = sum(amount) over 1d offset 1h",
            &["offset none -> 1h"],
        ),
        (
            "feature sum_1d   = sum(amount) over 1d exclusive",
            &["exclusive end added"],
        ),
        ("feature sum_1d   = sum(amount)", &["window 1d -> lifetime"]),
        // A count window's N is part of the meaning, alone or as a cap.
        (
            "feature sum_1d   = sum(amount) over 1d max 10 events",
            &["count of events none -> 10 events"],
        ),
        (
            "feature sum_1d   = sum(amount) over 10 events",
            &["window 1d -> none", "count of events none -> 10 events"],
        ),
        (
            "feature sum_1d   = percentile(amount, 0.9) over 1d",
            &[
                "aggregation sum -> percentile(0.9)",
                "result type float64 -> float64?",
            ],
        ),
    ] {
        assert_eq!(reasons_of(&[(sum, to)], "sum_1d"), lines(expected), "{to}");
    }
    assert_eq!(
        reasons_of(
            &[(
                "feature avg_1d   = sum_1d / count_1h",
                "feature avg_1d   = sum_1d / (count_1h + 1)"
            )],
            "avg_1d"
        ),
        lines(&["expression changed: `sum_1d / count_1h` -> `sum_1d / (count_1h + 1)`"])
    );
    assert_eq!(
        reasons_of(
            &[("    feature avg_1d", "    ttl 30d\n    feature avg_1d")],
            "count_1h"
        ),
        lines(&["view ttl none -> 30d", "result type int64 -> int64?"])
    );
    assert_eq!(
        reasons_of(
            &[(
                "feature avg_1d   = sum_1d / count_1h",
                "feature avg_1d   = avg(amount) over 1d"
            )],
            "avg_1d"
        ),
        lines(&["was a derived feature, now an aggregation"])
    );
}

#[test]
fn reordering_and_an_unrelated_feature_change_no_other_feature() {
    // The view first, the source last, features in another order, a new feature.
    let source_end = BASE.find("entity user").expect("entity");
    let (source, rest) = BASE.split_at(source_end);
    let reordered = rest
        .replace(
            "    feature count_1h = count(*) over 1h\n    feature sum_1d   = sum(amount) over 1d\n",
            "    feature sum_1d   = sum(amount) over 1d\n    feature other = min(n)\n    feature count_1h = count(*) over 1h\n",
        )
        + source;
    let d = diff_of(BASE, &reordered);
    assert_eq!(
        summary(&d),
        lines(&[
            "added spend.other",
            "online spend: rebuild [other added] no rebuild []",
            "gate passes"
        ])
    );
}

#[test]
fn a_feature_moved_to_another_view_of_the_same_rows_keeps_its_meaning() {
    let moved = edit(&[
        ("    feature cat_last = last(category) where not big\n", ""),
        (
            "request checkout",
            "view spend2 from tx by user {\n    where amount is null or amount >= 0\n    feature cat_last = last(category) where not (amount > 100)\n}\n\nrequest checkout",
        ),
    ]);
    let d = diff_of(BASE, &moved);
    assert!(d.no_meaning_change(), "{:?}", summary(&d));
    assert_eq!(
        d.metadata[0].change,
        "declared in view spend -> view spend2"
    );
}

#[test]
fn the_text_report_of_a_window_change() {
    let d = diff_of(
        BASE,
        &edit(&[("sum(amount) over 1d", "sum(amount) over 2d")]),
    );
    insta::assert_snapshot!(text::render(&d, "old", "new"));
}

/// The repository's projects: examples, acceptance cases, the functions project.
fn repository_projects() -> Vec<Vec<SourceFile>> {
    let root = featc_test_support::paths::repo_root();
    let mut dirs = vec![
        root.join("examples/fraud"),
        root.join("examples/delivery"),
        root.join("tests/functions"),
    ];
    for entry in std::fs::read_dir(root.join("tests/cases")).expect("cases") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    dirs.iter()
        .map(|d| featc::files::read_project(std::slice::from_ref(d)).expect("reads"))
        .collect()
}

#[test]
fn every_repository_project_against_itself_reformatted_and_reordered_is_no_change() {
    for files in repository_projects() {
        let name = files[0].name.clone();
        let project = featc::compile(&files).expect("compiles");
        assert_eq!(
            diff(&project, &project).expect("diffs"),
            ProjectDiff::default(),
            "{name}"
        );
        // Reformatted, and the files in the other order.
        let formatted = featc::fmt::format_files(&files).expect("formats");
        let mut again: Vec<SourceFile> = files
            .iter()
            .zip(formatted)
            .map(|(f, text)| SourceFile {
                name: f.name.clone(),
                text,
            })
            .collect();
        again.reverse();
        let other = featc::compile(&again).expect("compiles");
        assert_eq!(
            diff(&project, &other).expect("diffs"),
            ProjectDiff::default(),
            "{name}"
        );
    }
}

#[test]
fn a_feature_renamed_with_the_same_meaning_is_said_to_be_renamed() {
    let new = edit(&[(
        "feature huge_7d  = count_if(huge) over 7d",
        "feature very_big_7d = count_if(huge) over 7d",
    )]);
    let d = diff_of(BASE, &new);
    // Still an addition and a removal to the online state: a new name is another feature.
    assert_eq!(
        summary(&d),
        lines(&[
            "added spend.very_big_7d",
            "removed spend.huge_7d",
            "renamed spend.huge_7d -> very_big_7d",
            "online spend: rebuild [very_big_7d added] no rebuild [huge_7d removed]",
            "gate passes",
        ])
    );
    let printed = text::render(&d, "old", "new");
    assert!(
        printed.contains("    renamed  huge_7d -> very_big_7d (same meaning)\n"),
        "{printed}"
    );
    assert!(!printed.contains("added    very_big_7d"), "{printed}");
    assert!(!printed.contains("removed  huge_7d"), "{printed}");
}

#[test]
fn a_renamed_feature_whose_meaning_changed_is_removed_and_added() {
    let new = edit(&[(
        "feature huge_7d  = count_if(huge) over 7d",
        "feature very_big_7d = count_if(huge) over 1d",
    )]);
    let d = diff_of(BASE, &new);
    assert!(d.features.iter().all(|o| o.renamed.is_empty()), "{d:#?}");
    let printed = text::render(&d, "old", "new");
    assert!(printed.contains("    added    very_big_7d\n"), "{printed}");
    assert!(printed.contains("    removed  huge_7d\n"), "{printed}");
}

#[test]
fn a_served_feature_renamed_fails_the_gate_as_a_removal() {
    let new = edit(&[
        (
            "feature count_1h = count(*) over 1h",
            "feature n_1h = count(*) over 1h",
        ),
        (
            "feature avg_1d   = sum_1d / count_1h",
            "feature avg_1d   = sum_1d / n_1h",
        ),
        (
            "    count_1h\n    sum_1d\n    avg_1d",
            "    n_1h\n    sum_1d\n    avg_1d",
        ),
    ]);
    let d = diff_of(BASE, &new);
    let renamed: Vec<(String, String)> = d
        .features
        .iter()
        .flat_map(|o| &o.renamed)
        .map(|r| (r.from.clone(), r.to.clone()))
        .collect();
    assert_eq!(renamed, [("count_1h".to_string(), "n_1h".to_string())]);
    assert!(d.gate.fails);
    assert!(
        d.gate
            .reasons
            .iter()
            .any(|r| r == "service s1 no longer serves count_1h"),
        "{:?}",
        d.gate.reasons
    );
}

/// A project whose view `activity` reads `tx` (and, once edited, more sources).
const SOURCES: &str = r#"
source tx {
    time ts
    columns {
        user_id: int64
        amount:  float64
    }
}

source logins {
    time at
    columns {
        user_id: int64
        device:  string
    }
}

source refunds {
    time at
    columns {
        user_id: int64
        amount:  float64
    }
}

entity user { key user_id: int64 }

view activity from tx by user {
    feature events_1d = count(*) over 1d
    feature amount_1d = sum(amount) over 1d
}

service s {
    events_1d
}
"#;

/// The reasons of each changed feature from `old` to `new`, as `name: reason; ...`.
fn changed(old: &str, new: &str) -> Vec<String> {
    diff_of(old, new)
        .features
        .iter()
        .flat_map(|o| &o.changed)
        .map(|c| format!("{}: {}", c.name, c.reasons.join("; ")))
        .collect()
}

#[test]
fn the_sources_of_a_view_are_part_of_its_meaning() {
    let two = edited(SOURCES, &[("from tx by", "from tx, logins by")]);
    let both = lines(&[
        "events_1d: source logins added",
        "amount_1d: source logins added",
    ]);
    assert_eq!(changed(SOURCES, &two), both);
    let d = diff_of(SOURCES, &two);
    assert!(d.gate.fails, "s serves events_1d, which counts logins now");
    assert!(d.online.owners[0].rebuild);
    // Removing a source is a change too, told as one.
    assert_eq!(
        changed(&two, SOURCES),
        lines(&[
            "events_1d: source logins removed",
            "amount_1d: source logins removed",
        ])
    );
    // One source for another, in a view over several.
    let other = edited(SOURCES, &[("from tx by", "from tx, refunds by")]);
    assert_eq!(
        changed(&two, &other),
        lines(&[
            "events_1d: source refunds added; source logins removed",
            "amount_1d: source refunds added; source logins removed",
        ])
    );
    // The order of `from` changes no value: the union is the same events.
    let swapped = edited(SOURCES, &[("from tx by", "from logins, tx by")]);
    assert!(diff_of(&two, &swapped).no_meaning_change());
    // What changes of a source on both sides is said per source, as for one.
    let late = edited(&two, &[("time at\n", "time at\n    lateness 5m\n")]);
    assert_eq!(
        changed(&two, &late),
        lines(&[
            "events_1d: source logins: lateness none -> 5m",
            "amount_1d: source logins: lateness none -> 5m",
        ])
    );
    // A source gaining a column the feature reads: its events read a value, no
    // longer null.
    let with_amount = edited(
        &two,
        &[(
            "device:  string\n",
            "device:  string\n        amount:  float64\n",
        )],
    );
    assert_eq!(
        changed(&two, &with_amount),
        lines(&["amount_1d: source logins: column amount added (float64)"])
    );
    assert_eq!(
        changed(&with_amount, &two),
        lines(&["amount_1d: source logins: column amount removed (float64)"])
    );
}

/// A project whose view `spend` looks up `merchant_risk`'s features as of each
/// payment, and whose view `flagged` looks up a feature of `spend` (computed from a
/// lookup).
const LOOKUPS: &str = r#"
source payments {
    time ts
    columns {
        user:     string
        merchant: string
        shop:     string
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
    let n_reports = merchant_risk.reports_30d at merchant
    feature risky_spend_7d = sum(amount) where risk > 0.5 over 7d
    feature reported_payments = count(*) where n_reports > 0
    feature max_risk = max(risk)
    feature risky_share = risky_spend_7d / max_risk
}

view flagged from payments by merchant {
    let user_risk = spend.max_risk at user
    feature risky_users_1d = count(*) where user_risk > 0.9 over 1d
}

service s {
    risky_share
}
"#;

#[test]
fn a_feature_looked_up_is_part_of_the_meaning_of_the_features_that_read_it() {
    assert!(diff_of(LOOKUPS, LOOKUPS).no_meaning_change());
    // The looked-up feature's window: every feature reading it changed, transitively
    // (through a derived feature and another view's lookup), and not those reading
    // only the other looked-up feature.
    let window = edited(
        LOOKUPS,
        &[(
            "avg(if(fraud, 1.0, 0.0)) over 30d",
            "avg(if(fraud, 1.0, 0.0)) over 14d",
        )],
    );
    assert_eq!(
        changed(LOOKUPS, &window),
        lines(&[
            "fraud_rate_30d: window 30d -> 14d",
            "risky_spend_7d: looks up merchant_risk.fraud_rate_30d, which changed",
            "max_risk: looks up merchant_risk.fraud_rate_30d, which changed",
            "risky_share: reads feature max_risk, which changed; \
             reads feature risky_spend_7d, which changed",
            "risky_users_1d: looks up spend.max_risk, which changed",
        ])
    );
    let d = diff_of(LOOKUPS, &window);
    assert!(d.gate.fails, "s serves risky_share, which reads a lookup");
    let rebuilt: Vec<&str> = d
        .online
        .owners
        .iter()
        .filter(|o| o.rebuild)
        .map(|o| o.owner.name.as_str())
        .collect();
    assert_eq!(rebuilt, ["merchant_risk", "spend", "flagged"]);
    // The looked-up view's `where`: both its features, and so both lookups.
    let filtered = edited(
        LOOKUPS,
        &[(
            "view merchant_risk from reports by merchant {\n",
            "view merchant_risk from reports by merchant {\n    where fraud\n",
        )],
    );
    let reasons = changed(LOOKUPS, &filtered);
    assert!(
        reasons.contains(
            &"reported_payments: looks up merchant_risk.reports_30d, which changed".into()
        ),
        "{reasons:?}"
    );
    assert_eq!(reasons.len(), 7, "{reasons:?}");
}

#[test]
fn a_lookups_target_and_keys_are_part_of_its_meaning() {
    let target = edited(
        LOOKUPS,
        &[(
            "let risk = merchant_risk.fraud_rate_30d at merchant",
            "let risk = merchant_risk.reports_30d at merchant",
        )],
    );
    let reasons = changed(LOOKUPS, &target);
    let lookup = "lookup risk: merchant_risk.fraud_rate_30d at merchant -> \
                  merchant_risk.reports_30d at merchant";
    assert_eq!(reasons[0], format!("risky_spend_7d: {lookup}"));
    assert_eq!(
        reasons[1],
        format!("max_risk: {lookup}; result type float64? -> int64?")
    );
    let keys = edited(
        LOOKUPS,
        &[(
            "let risk = merchant_risk.fraud_rate_30d at merchant",
            "let risk = merchant_risk.fraud_rate_30d at shop",
        )],
    );
    let lookup = "lookup risk: merchant_risk.fraud_rate_30d at merchant -> \
                  merchant_risk.fraud_rate_30d at shop";
    assert_eq!(
        changed(LOOKUPS, &keys),
        lines(&[
            &format!("risky_spend_7d: {lookup}"),
            &format!("max_risk: {lookup}"),
            "risky_share: reads feature max_risk, which changed; \
             reads feature risky_spend_7d, which changed",
            "risky_users_1d: looks up spend.max_risk, which changed",
        ])
    );
    // A let that becomes a lookup is a let that changed.
    let constant = edited(
        LOOKUPS,
        &[(
            "let n_reports = merchant_risk.reports_30d at merchant",
            "let n_reports = 1",
        )],
    );
    assert_eq!(
        changed(&constant, LOOKUPS),
        lines(&["reported_payments: let n_reports changed: `1` -> \
                 `merchant_risk.reports_30d at merchant`"])
    );
}
