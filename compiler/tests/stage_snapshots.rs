//! Snapshots of the lowered stages, `featc build --emit plan` (the feature plan),
//! `--emit batch` (the DataFusion plan) and `--emit stream` (the operator graph), for
//! every public case, every example project and the row functions' project. The ast and ir stages are snapshotted next to their printers
//! (grammar/tests/snapshots.rs, compiler/tests/ir_snapshots.rs).

use std::path::{Path, PathBuf};

use featc::ir::Project;

/// The projects every stage is snapshotted for, by snapshot name.
fn projects() -> Vec<(&'static str, PathBuf)> {
    vec![
        (
            "synthetic",
            featc_test_support::paths::cases_dir().join("synthetic"),
        ),
        (
            "marketplace",
            featc_test_support::paths::cases_dir().join("marketplace"),
        ),
        (
            "fraud",
            featc_test_support::paths::examples_dir().join("fraud"),
        ),
        (
            "delivery",
            featc_test_support::paths::examples_dir().join("delivery"),
        ),
        (
            "checkout",
            featc_test_support::paths::examples_dir().join("checkout"),
        ),
        ("functions", featc_test_support::paths::functions_dir()),
    ]
}

/// Compiles a project folder naming each file by its path from the repository root,
/// so that the snapshots (which print file names) do not depend on the checkout.
fn compile(dir: &Path) -> Project {
    featc_test_support::project::compile(&featc_test_support::project::feat_files_named_from_root(
        dir,
    ))
}

#[test]
fn feature_plans() {
    for (name, dir) in projects() {
        let project = compile(&dir);
        let plan = featc::lower::groups::plan_groups(&project, &project.all_features())
            .unwrap_or_else(|e| panic!("{name} does not plan: {e}"));
        plan.validate()
            .unwrap_or_else(|e| panic!("{name}'s plan breaks an invariant: {e}"));
        insta::assert_snapshot!(
            format!("plan_{name}"),
            featc::print::plan::print_plan(&plan)
        );
    }
}

#[test]
fn batch_plans() {
    for (name, dir) in projects() {
        let project = compile(&dir);
        let plan = featc::print::batch::explain_batch(&project, 2, 1)
            .unwrap_or_else(|e| panic!("{name} does not lower to a batch plan: {e}"));
        insta::assert_snapshot!(format!("batch_{name}"), plan);
    }
}

/// A training set in passes by key share (`--passes`): each group's merge once per
/// share under a `PassesExec`, the events cut before they are evaluated and the
/// spine rows after they are numbered. The delivery example has two groups.
#[test]
fn batch_plan_in_passes() {
    let project = compile(&featc_test_support::paths::examples_dir().join("delivery"));
    let plan = featc::print::batch::explain_batch(&project, 2, 3).expect("a batch plan");
    insta::assert_snapshot!("batch_delivery_in_3_passes", plan);
}

#[test]
fn stream_graphs() {
    for (name, dir) in projects() {
        let project = compile(&dir);
        let graph = featc::lower::stream::lower_stream(&project, &project.all_features())
            .unwrap_or_else(|e| panic!("{name} does not lower to a stream graph: {e}"));
        // `--emit stream-json` reads back as the same graph (list types and k included).
        let json = graph.to_json();
        let back = featc_runtime::stream::StreamGraph::from_json(&json)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            back == graph,
            "{name}: the graph's JSON reads back differently"
        );
        insta::assert_snapshot!(
            format!("stream_{name}"),
            featc::print::stream::print_stream(&graph)
        );
    }
}

/// featc on Spark's split of every feature of the project's views into passes by
/// entity (`featc::job::by_entity`).
#[test]
fn entity_passes() {
    for (name, dir) in projects() {
        let project = compile(&dir);
        let features = featc::job::select_features(&project, None, &[]).expect("features");
        let text = match featc::job::by_entity::entity_passes(&project, &features) {
            Ok(passes) => featc::job::by_entity::print_passes(&passes),
            Err(e) => format!("refused: {e}\n"),
        };
        insta::assert_snapshot!(format!("entity_passes_{name}"), text);
    }
}

/// Group mode's split (`featc serve --kafka-group`): each entity's graph with the
/// source columns its records are routed by, or why the project cannot be split.
#[test]
fn entity_graphs() {
    for (name, dir) in projects() {
        let project = compile(&dir);
        let text = match featc::lower::entity_graphs::entity_graphs(&project, &|_| Vec::new()) {
            Ok(graphs) => graphs
                .iter()
                .map(|g| {
                    let routes: Vec<String> = g
                        .routes
                        .iter()
                        .map(|(source, columns)| format!("{source}({})", columns.join(", ")))
                        .collect();
                    format!(
                        "== entity {} (routed by {})\n{}",
                        g.entity,
                        routes.join(", "),
                        featc::print::stream::print_stream(&g.graph)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => format!("refused: {e}\n"),
        };
        insta::assert_snapshot!(format!("entity_graphs_{name}"), text);
    }
}

/// A view over two sources (`from pay, logins`) beside views over one of them.
const UNION: &str = r#"
source pay {
    time ts
    columns {
        user_id: int64
        shop_id: int64
        amount:  float64
    }
}
source logins {
    time at
    columns {
        user_id:  int64
        other_id: int64
    }
}
entity user { key user_id: int64 }
entity shop { key shop_id: int64 }
view activity from pay, logins by user {
    feature events_1d = count(*) over 1d
    feature logins_1d = count_if(source() = 'logins') over 1d
}
view sales from pay by shop {
    feature sold_1d = sum(amount) over 1d
}
"#;

/// Group mode routes each source of a view over several by the view's key columns,
/// and featc on Spark reads each of them in the entity's pass, so a key's events of
/// every source meet in one partition (one share); a source keyed two ways for one
/// entity is refused, naming it, as for a view over one source.
#[test]
fn a_view_over_two_sources_is_split_by_entity() {
    let project = featc_test_support::project::compile_text("union.feat", UNION);
    let graphs =
        featc::lower::entity_graphs::entity_graphs(&project, &|_| Vec::new()).expect("splits");
    // Each entity's routes, as `source(columns)`.
    let routes: Vec<(String, Vec<String>)> = graphs
        .iter()
        .map(|g| {
            let routes = g.routes.iter();
            let routes = routes.map(|(s, columns)| format!("{s}({})", columns.join(", ")));
            (g.entity.clone(), routes.collect())
        })
        .collect();
    let entity = |name: &str, routes: &[&str]| {
        let routes = routes.iter().map(|r| r.to_string()).collect();
        (name.to_string(), routes)
    };
    assert_eq!(
        routes,
        vec![
            entity("user", &["pay(user_id)", "logins(user_id)"]),
            entity("shop", &["pay(shop_id)"]),
        ]
    );
    // The user's graph reads both sources into the view's one group.
    let user = featc::print::stream::print_stream(&graphs[0].graph);
    assert!(user.contains("pay") && user.contains("logins"), "{user}");
    let features = featc::job::select_features(&project, None, &[]).expect("features");
    let passes = featc::job::by_entity::entity_passes(&project, &features).expect("passes");
    assert_eq!(
        featc::job::by_entity::print_passes(&passes),
        "pass 0: entity user by (user_id: int64)\n\
         \x20 reads pay (time ts, key user_id)\n\
         \x20 reads logins (time at, key user_id)\n\
         \x20 computes events_1d, logins_1d\n\
         pass 1: entity shop by (shop_id: int64)\n\
         \x20 reads pay (time ts, key shop_id)\n\
         \x20 computes sold_1d\n"
    );
    // `logins` keyed by `user_id` through the union and by `other_id` here.
    let two_keyings = format!(
        "{UNION}\nview others from logins by user (other_id) {{\n    feature n = count(*)\n}}\n"
    );
    let project = featc_test_support::project::compile_text("union.feat", &two_keyings);
    let error =
        featc::lower::entity_graphs::entity_graphs(&project, &|_| Vec::new()).expect_err("refused");
    assert_eq!(
        error.to_string(),
        "the views of entity `user` over source `logins` take its keys from different \
         columns (user_id and other_id): in group mode a record of `logins` must belong \
         to one partition of `user`"
    );
}

/// The stream graph computes as-of lookups: `lower_stream` and `serving_graph`
/// (`featc serve`, the Python online store) keep the lookup in the group's plan and
/// add the looked-up view's source as a source node. Group mode's `entity_graphs`
/// and featc.spark's passes (each holds one entity's events) refuse features that
/// read one, naming the view and the lookup.
#[test]
fn stream_graphs_compute_lookups_and_group_mode_refuses_them() {
    use featc::lower::groups::GroupingError;

    let text =
        std::fs::read_to_string(featc_test_support::paths::fixtures_dir().join("lookup.feat"))
            .expect("the lookup fixture");
    let project = featc_test_support::project::compile_text("lookup.feat", &text);
    let all = project.all_features();
    let message = "view `spend` looks up `merchants.reports_30d at merchant_id`: a pass \
                   of featc.spark (or any group mode run) sees one entity's events only, \
                   and a lookup reads another entity's; compute it with `featc \
                   training-set` or a stream runtime";

    let graph = featc::lower::stream::lower_stream(&project, &all).expect("lowers");
    graph.validate().expect("a valid graph");
    let with_lookup = graph.nodes.iter().any(|n| match &n.op {
        featc_runtime::stream::graph::Op::Aggregate(a) => a
            .plan
            .lookups
            .iter()
            .any(|l| l.column == "merchants.reports_30d at merchant_id"),
        _ => false,
    });
    assert!(with_lookup, "{graph:?}");
    featc::lower::stream::serving_graph(&project, &[]).expect("serves");
    let split =
        featc::lower::entity_graphs::entity_graphs(&project, &|_| Vec::new()).expect_err("refused");
    assert_eq!(split.to_string(), message);
    assert_eq!(
        split,
        featc::lower::entity_graphs::SplitError::Grouping(GroupingError::LookupOnline {
            view: "spend".into(),
            lookup: "merchants.reports_30d at merchant_id".into(),
        })
    );
    // featc.spark's passes hold one entity's events each: they refuse it too.
    let passes = featc::job::by_entity::entity_passes(&project, &all).expect_err("refused");
    assert!(passes.to_string().contains(message), "{passes}");

    // Training sets compute it: the plan holds the lookup.
    let plan = featc::lower::groups::plan_groups(&project, &all).expect("plans");
    let lookups: Vec<&str> = plan
        .groups
        .iter()
        .flat_map(|g| &g.lookups)
        .map(|l| l.column.as_str())
        .collect();
    assert_eq!(lookups, vec!["merchants.reports_30d at merchant_id"]);

    // Without the feature that reads it, the group has no lookup and lowers.
    let without: Vec<_> = all
        .iter()
        .copied()
        .filter(|id| project.feature(*id).name != "reported_spend_7d")
        .collect();
    let graph = featc::lower::stream::lower_stream(&project, &without).expect("lowers");
    let printed = featc::print::stream::print_stream(&graph);
    assert!(
        printed.contains("payments_7d") && printed.contains("reports_30d"),
        "{printed}"
    );
    let aggregates = graph.nodes.iter().filter_map(|n| match &n.op {
        featc_runtime::stream::graph::Op::Aggregate(a) => Some(a),
        _ => None,
    });
    assert!(
        aggregates.clone().count() == 2
            && aggregates.into_iter().all(|a| a.plan.lookups.is_empty()),
        "{printed}"
    );
}
