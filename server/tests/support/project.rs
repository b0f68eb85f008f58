//! A project's `.feat` files compiled with the featc library, and the stream graph a
//! server runs for it.

use std::path::Path;

use featc::ir::Project;
use featc_runtime::plan::Plan;
use featc_runtime::stream::StreamGraph;

/// The `.feat` files of folder `dir`, compiled (a failure panics with the
/// diagnostics).
fn project(dir: &Path) -> Project {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("project dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "feat") {
            files.push(featc::SourceFile {
                name: path.display().to_string(),
                text: std::fs::read_to_string(&path).expect("read .feat"),
            });
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    featc::compile(&files).unwrap_or_else(|d| panic!("{}", d.render(&files, false)))
}

/// A compiled project and the stream graph of all its features.
pub fn compile(dir: &Path) -> (Project, StreamGraph) {
    let project = project(dir);
    let graph =
        featc::lower::stream::lower_stream(&project, &project.all_features()).expect("lower");
    (project, graph)
}

/// A compiled project with the plan and graph `featc serve` runs for it (a new
/// state directory: no checkpointed layout).
pub fn serving(dir: &Path) -> (Project, Plan, StreamGraph) {
    let project = project(dir);
    let (plan, graph) = featc::lower::stream::serving_graph(&project, &[]).expect("lower");
    (project, plan, graph)
}
