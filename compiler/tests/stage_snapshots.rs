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
        let plan = featc::print::batch::explain_batch(&project, 2)
            .unwrap_or_else(|e| panic!("{name} does not lower to a batch plan: {e}"));
        insta::assert_snapshot!(format!("batch_{name}"), plan);
    }
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
