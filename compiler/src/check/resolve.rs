//! Name resolution across the files of a project: the global tables of sources,
//! entities, views, features, services and requests, and duplicate-name errors.
//!
//! Names are global and order-independent (a view may use an entity declared in a
//! later file). Every declaration keeps its position in its list (its id in the IR);
//! a duplicate is reported and the name keeps pointing at the first declaration.

use super::error::{CheckError, NameKind};
use super::suggest::closest;
use featc_grammar::ast::{self, Ident, Item, ViewClause};
use featc_runtime::ir::FeatureId;
use std::collections::HashMap;

/// The declarations of a project by kind, in file then declaration order, with
/// their name tables.
pub struct Symbols<'a> {
    pub sources: Vec<&'a ast::SourceDecl>,
    pub entities: Vec<&'a ast::EntityDecl>,
    pub views: Vec<&'a ast::ViewDecl>,
    pub services: Vec<&'a ast::ServiceDecl>,
    pub requests: Vec<&'a ast::RequestDecl>,
    source_ids: HashMap<&'a str, usize>,
    request_ids: HashMap<&'a str, usize>,
    entity_ids: HashMap<&'a str, usize>,
    view_ids: HashMap<&'a str, usize>,
    feature_ids: HashMap<&'a str, FeatureId>,
    /// Every feature's name, with its id, in declaration order (views' features,
    /// aggregations and derived alike, then services' own).
    features: Vec<(FeatureId, &'a Ident)>,
}

/// Builds the name tables, reporting every duplicate name.
pub fn resolve<'a>(files: &'a [ast::File], errors: &mut Vec<CheckError>) -> Symbols<'a> {
    let mut symbols = Symbols {
        sources: Vec::new(),
        entities: Vec::new(),
        views: Vec::new(),
        services: Vec::new(),
        requests: Vec::new(),
        source_ids: HashMap::new(),
        request_ids: HashMap::new(),
        entity_ids: HashMap::new(),
        view_ids: HashMap::new(),
        feature_ids: HashMap::new(),
        features: Vec::new(),
    };
    let mut service_names: HashMap<&str, ast::Span> = HashMap::new();
    for item in files.iter().flat_map(|f| &f.items) {
        match item {
            Item::Source(s) => {
                declare(
                    &mut symbols.source_ids,
                    &s.name,
                    symbols.sources.len(),
                    NameKind::Source,
                    errors,
                    |i| symbols.sources[i].name.span,
                );
                symbols.sources.push(s);
            }
            Item::Entity(e) => {
                declare(
                    &mut symbols.entity_ids,
                    &e.name,
                    symbols.entities.len(),
                    NameKind::Entity,
                    errors,
                    |i| symbols.entities[i].name.span,
                );
                symbols.entities.push(e);
            }
            Item::View(v) => {
                let view = symbols.views.len();
                declare(
                    &mut symbols.view_ids,
                    &v.name,
                    view,
                    NameKind::View,
                    errors,
                    |i| symbols.views[i].name.span,
                );
                symbols.views.push(v);
                let features = v.clauses.iter().filter_map(|c| match c {
                    ViewClause::Feature(f) => Some(&f.name),
                    ViewClause::Derived(d) => Some(&d.name),
                    _ => None,
                });
                for (feature, name) in features.enumerate() {
                    symbols.declare_feature(FeatureId::View { view, feature }, name, errors);
                }
            }
            Item::Service(s) => {
                match service_names.get(s.name.name.as_str()) {
                    Some(first) => errors.push(duplicate(NameKind::Service, &s.name, *first)),
                    None => {
                        service_names.insert(&s.name.name, s.name.span);
                    }
                }
                let service = symbols.services.len();
                symbols.services.push(s);
                let own = s.entries.iter().filter_map(|e| match e {
                    ast::ServiceEntry::Derived(d) => Some(&d.name),
                    ast::ServiceEntry::Feature(f) => Some(&f.name),
                    ast::ServiceEntry::Ref(_) => None,
                });
                for (feature, name) in own.enumerate() {
                    symbols.declare_feature(FeatureId::Service { service, feature }, name, errors);
                }
            }
            Item::Request(r) => {
                declare(
                    &mut symbols.request_ids,
                    &r.name,
                    symbols.requests.len(),
                    NameKind::Request,
                    errors,
                    |i| symbols.requests[i].name.span,
                );
                symbols.requests.push(r);
            }
        }
    }
    spine_name_clashes(&symbols, errors);
    // `a.b` in a derived feature names a request's field or a view's feature: the
    // two kinds share the qualifier's namespace.
    for r in &symbols.requests {
        if let Some(&v) = symbols.view_ids.get(r.name.name.as_str()) {
            errors.push(duplicate(
                NameKind::Request,
                &r.name,
                symbols.views[v].name.span,
            ));
        }
    }
    symbols
}

/// A feature named like an entity key or a request field: every training set keeps
/// the spine's columns, which are those, beside the features, so the name would be
/// two columns (`featc build --emit batch` and `training-set` refuse it). The spine's
/// time column is chosen per run (`--spine-time`), so it is not checked here.
fn spine_name_clashes(symbols: &Symbols<'_>, errors: &mut Vec<CheckError>) {
    let mut spine: HashMap<&str, (ast::Span, &'static str)> = HashMap::new();
    for e in &symbols.entities {
        for k in &e.keys {
            spine
                .entry(&k.name.name)
                .or_insert((k.name.span, "an entity's key"));
        }
    }
    for r in &symbols.requests {
        for f in &r.fields {
            spine
                .entry(&f.name.name)
                .or_insert((f.name.span, "a request's field"));
        }
    }
    for (_, name) in &symbols.features {
        if let Some(&(first, what)) = spine.get(name.name.as_str()) {
            errors.push(CheckError::SpineColumnName {
                feature: name.name.clone(),
                span: name.span,
                what,
                first,
            });
        }
    }
}

/// Records `name → id` unless the name is taken, in which case reports a duplicate
/// pointing at both declarations (`span_of` finds the first one's name).
fn declare<'a, Id: Copy>(
    table: &mut HashMap<&'a str, Id>,
    name: &'a Ident,
    id: Id,
    kind: NameKind,
    errors: &mut Vec<CheckError>,
    span_of: impl FnOnce(Id) -> ast::Span,
) {
    match table.get(name.name.as_str()) {
        Some(first) => errors.push(duplicate(kind, name, span_of(*first))),
        None => {
            table.insert(&name.name, id);
        }
    }
}

fn duplicate(kind: NameKind, name: &Ident, first: ast::Span) -> CheckError {
    CheckError::Duplicate {
        kind,
        name: name.name.clone(),
        span: name.span,
        first,
    }
}

impl<'a> Symbols<'a> {
    fn declare_feature(&mut self, id: FeatureId, name: &'a Ident, errors: &mut Vec<CheckError>) {
        let all = &self.features;
        declare(
            &mut self.feature_ids,
            name,
            id,
            NameKind::Feature,
            errors,
            |first| {
                all.iter()
                    .find(|(i, _)| *i == first)
                    .map_or(name.span, |(_, f)| f.span)
            },
        );
        self.features.push((id, name));
    }

    /// A request by name (`None`: no such request).
    pub fn request(&self, name: &str) -> Option<usize> {
        self.request_ids.get(name).copied()
    }

    /// Whether `name` names a view.
    pub fn is_view(&self, name: &str) -> bool {
        self.view_ids.contains_key(name)
    }

    /// Requests and views, for "did you mean" on a qualifier.
    pub fn qualifiers(&self) -> impl Iterator<Item = &str> {
        let requests = self.requests.iter().map(|r| r.name.name.as_str());
        requests.chain(self.views.iter().map(|v| v.name.name.as_str()))
    }

    pub fn source(&self, name: &Ident) -> Result<usize, CheckError> {
        self.source_ids
            .get(name.name.as_str())
            .copied()
            .ok_or_else(|| CheckError::UnknownSource {
                name: name.name.clone(),
                span: name.span,
                suggestion: closest(
                    &name.name,
                    self.sources.iter().map(|s| s.name.name.as_str()),
                ),
            })
    }

    pub fn entity(&self, name: &Ident) -> Result<usize, CheckError> {
        self.entity_ids
            .get(name.name.as_str())
            .copied()
            .ok_or_else(|| CheckError::UnknownEntity {
                name: name.name.clone(),
                span: name.span,
                suggestion: closest(
                    &name.name,
                    self.entities.iter().map(|e| e.name.name.as_str()),
                ),
            })
    }

    pub fn view(&self, name: &Ident) -> Result<usize, CheckError> {
        self.view_ids
            .get(name.name.as_str())
            .copied()
            .ok_or_else(|| CheckError::UnknownView {
                name: name.name.clone(),
                span: name.span,
                suggestion: closest(&name.name, self.views.iter().map(|v| v.name.name.as_str())),
            })
    }

    /// A feature by its global name, or (with `view`) within that view.
    pub fn feature(
        &self,
        view: Option<(usize, &Ident)>,
        name: &Ident,
    ) -> Result<FeatureId, CheckError> {
        let found = self.feature_ids.get(name.name.as_str()).copied();
        let in_scope = |id: &FeatureId| view.is_none_or(|(v, _)| id.view() == Some(v));
        if let Some(id) = found.filter(in_scope) {
            return Ok(id);
        }
        let candidates = self
            .features
            .iter()
            .filter(|(id, _)| in_scope(id))
            .map(|(_, f)| f.name.as_str());
        Err(CheckError::UnknownFeature {
            name: name.name.clone(),
            span: name.span,
            view: view.map(|(_, v)| v.name.clone()),
            suggestion: closest(&name.name, candidates),
            declared_in: found
                .and_then(|id| id.view())
                .map(|v| self.views[v].name.name.clone()),
        })
    }
}
