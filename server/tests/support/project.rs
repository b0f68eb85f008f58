//! A project's `.feat` files compiled with the featc library, and the stream graph a
//! server runs for it.

use std::path::Path;

use featc::ir::Project;
use featc_runtime::plan::Plan;
use featc_runtime::stream::StreamGraph;
use featc_test_support::project::compile_dir;

/// A compiled project and the stream graph of all its features.
pub fn compile(dir: &Path) -> (Project, StreamGraph) {
    let project = compile_dir(dir);
    let graph =
        featc::lower::stream::lower_stream(&project, &project.all_features()).expect("lower");
    (project, graph)
}

/// A compiled project with the plan and graph `featc serve` runs for it (a new
/// state directory: no checkpointed layout).
pub fn serving(dir: &Path) -> (Project, Plan, StreamGraph) {
    let project = compile_dir(dir);
    let (plan, graph) = featc::lower::stream::serving_graph(&project, &[]).expect("lower");
    (project, plan, graph)
}

/// A fresh folder `projects/NAME` under the test binary's scratch folder holding one
/// `.feat` file with `features` (a small project a test writes inline). Emptied at
/// the next run, not left behind in the system's temp folder once per run.
pub fn project_dir(name: &str, features: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("projects")
        .join(name);
    let dir = featc_test_support::scratch::fresh_dir(dir);
    std::fs::write(dir.join("project.feat"), features).expect("feat");
    dir
}
