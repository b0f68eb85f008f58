//! Getting a `StreamGraph`: load the JSON that `featc build --emit stream-json` wrote
//! (what a production service does), or compile the `.feat` files in-process.

use std::error::Error;
use std::path::{Path, PathBuf};

use featc::SourceFile;
use featc_runtime::stream::StreamGraph;

/// The fraud example project shipped next to this one.
pub fn fraud_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fraud")
}

/// Loads a graph written by `featc build PROJECT --emit stream-json > graph.json`.
pub fn load_json(path: &Path) -> Result<StreamGraph, Box<dyn Error>> {
    let text = std::fs::read_to_string(path)?;
    Ok(StreamGraph::from_json(&text)?)
}

/// Compiles every `.feat` file of `dir` (not recursive) into the stream graph of all
/// its features, like `featc build DIR --emit stream-json` does.
pub fn compile_dir(dir: &Path) -> Result<StreamGraph, Box<dyn Error>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.retain(|p| p.extension().is_some_and(|x| x == "feat"));
    // Sorted like the CLI does, so diagnostics and node ids are stable.
    paths.sort();
    let files = paths
        .iter()
        .map(|p| {
            Ok(SourceFile {
                name: p.display().to_string(),
                text: std::fs::read_to_string(p)?,
            })
        })
        .collect::<Result<Vec<_>, std::io::Error>>()?;
    // A project with errors comes back as rendered diagnostics (file, line, column).
    let project = featc::compile(&files).map_err(|d| d.render(&files, false))?;
    let graph = featc::lower::stream::lower_stream(&project, &project.all_features())?;
    Ok(graph)
}
