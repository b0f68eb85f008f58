//! Would `featc serve --state DIR` reuse a directory the old project's server wrote?
//! Answered with the server's own checks, not a copy of them: both projects are
//! lowered to the stream graph `featc serve` builds (every feature), then
//! - the directory's identity (`featc_server::durable::Identity::of` and
//!   `difference`, what `StateDir::open` compares) must match, and
//! - a checkpoint the old graph took must load into the new one
//!   (`featc_server::durable::snapshot::restore`, which checks the runtime's snapshot
//!   fingerprint: every group's plan and its features' order, the sources read), the
//!   new project planned in the layout the checkpoint records, as `featc serve`
//!   plans it.
//!
//! Both sides are taken under the same (default) serve options; a checkpoint taken
//! under other `--late`/`--min-lateness` options is refused by `featc serve` alone.
//! `featc diff` fills the library's report with the verdict (`report::StateDirectory`);
//! only in a featc built with `serve`, the server being what answers.

use featc::diff::report::StateDirectory;
use featc::lower::stream::serving_graph;
use featc_runtime::ir::Project;
use featc_runtime::stream::{Options, StreamGraph, StreamRuntime};
use featc_server::durable::{snapshot, Identity};

/// The verdict for a state directory of `old`'s server, opened by `new`'s.
pub fn check(old: &Project, new: &Project) -> StateDirectory {
    match verdict(old, new) {
        Ok(v) => v,
        Err(message) => StateDirectory::Unknown { message },
    }
}

fn verdict(old: &Project, new: &Project) -> Result<StateDirectory, String> {
    let before = graph(old, &[])?;
    // `featc serve` plans the new project in the layout the checkpoint records.
    let now = graph(new, &before.group_features())?;
    let identity = |g: &StreamGraph| Identity::of(g).map_err(|e| e.to_string());
    let difference = identity(&before)?.difference(&identity(&now)?);
    if !difference.is_empty() {
        return Ok(StateDirectory::Refused {
            changed: difference.changed,
            added: difference.added,
            removed: difference.removed,
        });
    }
    let options = Options::default();
    let taken = StreamRuntime::with_options(before, options.clone())
        .map_err(|e| e.to_string())?
        .snapshot()
        .map_err(|e| e.to_string())?;
    Ok(match snapshot::restore(now, options, None, &taken) {
        Ok(_) => StateDirectory::Reused,
        Err(e) => StateDirectory::CheckpointRefused {
            message: e.to_string(),
        },
    })
}

/// The graph `featc serve` runs for a project (every feature) with a checkpoint of
/// state `layout` in its directory.
fn graph(p: &Project, layout: &[Vec<String>]) -> Result<StreamGraph, String> {
    serving_graph(p, layout)
        .map(|(_, graph)| graph)
        .map_err(|e| e.to_string())
}
