//! `featc build --emit stream|stream-json`: the streaming graph of every feature of
//! the project, as text or as the JSON the runtime loads.

use std::process::ExitCode;

use super::build::{Args, Stage};

/// The text to print for the stream stages. With `--emit stream --out DIR` the JSON
/// form is written to `DIR/stream.json` as well (the text goes to `DIR/stream.txt`).
pub fn emit(args: &Args) -> Result<String, ExitCode> {
    let (_, project) = super::compile_project(&args.projects)?;
    let graph = featc::lower::stream::lower_stream(&project, &project.all_features())
        .map_err(super::fail)?;
    if args.emit == Stage::StreamJson {
        return Ok(format!("{}\n", graph.to_json()));
    }
    if let Some(dir) = &args.out {
        let path = dir.join("stream.json");
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&path, format!("{}\n", graph.to_json())))
            .map_err(|e| super::fail(format!("cannot write `{}`: {e}", path.display())))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(featc::print::stream::print_stream(&graph))
}
