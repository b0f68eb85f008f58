//! Checking: from the syntax trees of a project to the typed IR, collecting every
//! error (a bad declaration never hides the errors of the next one).

pub mod aggs;
mod derived;
pub mod durations;
mod entities;
pub mod error;
pub mod expansion;
pub mod exprs;
mod features;
mod lookups;
pub mod nested;
mod requests;
pub mod resolve;
mod services;
mod sources;
pub mod suggest;
mod topic;
mod topic_avro;
pub mod topic_error;
mod topic_protobuf;
pub mod types;
mod union;
mod views;

pub use error::CheckError;

use featc_grammar::ast;
use featc_runtime::ir;

/// Checks parsed files (`files[i]` parsed with file id `i`, named `file_names[i]`)
/// into a project, or returns every error found.
/// Topics' schema files are read through `reader`.
pub fn check(
    files: &[ast::File],
    file_names: &[String],
    reader: &std::sync::Arc<dyn crate::project::ReadFile>,
) -> Result<ir::Project, Vec<CheckError>> {
    suggest::reset_budget();
    let mut errors = Vec::new();
    let symbols = resolve::resolve(files, &mut errors);
    let sources: Vec<_> = symbols
        .sources
        .iter()
        .map(|s| sources::check(s, file_names, reader, &mut errors))
        .collect();
    let entities: Vec<_> = symbols
        .entities
        .iter()
        .map(|e| entities::check(e, &mut errors))
        .collect();
    let requests: Vec<_> = symbols
        .requests
        .iter()
        .map(|r| requests::check(r, &mut errors))
        .collect();
    requests::check_shared_fields(&requests, &mut errors);
    let mut pending = Vec::new();
    // A view is checked after the views it looks up (their features' types).
    let (order, cyclic) = lookups::order(&symbols, &mut errors);
    let mut checked: Vec<Option<ir::View>> = vec![None; symbols.views.len()];
    for i in order {
        let context = views::Context {
            symbols: &symbols,
            sources: &sources,
            entities: &entities,
            checked: &checked,
            cyclic: &cyclic,
        };
        let view = views::check(symbols.views[i], i, &context, &mut pending, &mut errors);
        checked[i] = Some(view);
    }
    let mut views: Vec<ir::View> = checked.into_iter().flatten().collect();
    let mut services: Vec<_> = symbols
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| services::check(s, i, &symbols, &mut pending, &mut errors))
        .collect();
    derived::check(
        pending,
        &symbols,
        &requests,
        &mut views,
        &mut services,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ir::Project {
        files: file_names.to_vec(),
        sources: sources.into_iter().map(|s| s.into_ir()).collect(),
        entities: entities.into_iter().map(|e| e.ir).collect(),
        views,
        services,
        requests,
    })
}

/// The IR form of a declaration's docs, owner and tags.
fn meta(m: &ast::Meta) -> ir::Meta {
    ir::Meta {
        docs: m.docs.clone(),
        owner: m.owner.as_ref().map(|o| o.value.clone()),
        tags: m.tags.iter().map(|t| t.value.clone()).collect(),
    }
}
