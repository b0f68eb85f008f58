//! A feature's meaning: its definition with everything it depends on resolved, and
//! nothing else, as a canonical structure keyed by names (never by indexes or spans),
//! so that two projects' features compare with `==`.
//!
//! An aggregation's meaning holds its aggregation, argument, `where`, window, its
//! view's `where` and ttl (lets inlined, transitively), its entity and key columns,
//! and its source's name, event-time column, lateness, delay and the type of every
//! column it reads (for a view over several sources, each source's, as a set: the
//! order of `from a, b` changes no value, semantics.md "Views over several sources"),
//! and the features its lets look up (a lookup's target and key columns are in the
//! inlined text; the looked-up features' own meanings `diff` compares by name,
//! transitively, semantics.md "As-of lookups"); a derived feature's holds its
//! expression, the names of the features it reads (whose own meanings `diff`
//! compares, transitively) and the types of the request fields it reads. Both hold
//! the result type. Docs, owner, tags, locations, topics and freshness contracts are
//! not part of it: they do not change a value. Beside the meaning, `Context` keeps
//! what the reasons of a change are told from (what the user wrote, before inlining)
//! and where the feature is declared.

use std::collections::BTreeMap;

use featc_runtime::ir::{
    Aggregate, Derived, Expr, Feature, FeatureId, FeatureKind, Lookup, Meta, Project, Source, View,
};
use serde::Serialize;

use super::canon;
use crate::lower::groups::GroupingError;
use crate::print::ir::ty;

/// Where a feature is declared: a view, or a service (its own derived features).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Owner {
    pub kind: OwnerKind,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerKind {
    View,
    Service,
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            OwnerKind::View => write!(f, "view {}", self.name),
            OwnerKind::Service => write!(f, "service {}", self.name),
        }
    }
}

/// What a feature computes (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Meaning {
    /// The result type, `?` when it can be null.
    pub result: String,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// Boxed: it is several times the size of a derived feature's.
    Aggregate(Box<AggregateMeaning>),
    Derived(DerivedMeaning),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AggregateMeaning {
    /// The aggregation with its parameters: `sum`, `percentile(0.95)`, `last_k(5)`.
    pub agg: String,
    /// The argument, lets inlined (`None` for `count(*)`).
    pub arg: Option<String>,
    /// The feature's `where`, lets inlined.
    pub filter: Option<String>,
    pub window: Window,
    /// The view's `where`, lets inlined.
    pub view_filter: Option<String>,
    pub ttl_us: Option<i64>,
    pub entity: EntityMeaning,
    /// The view's source; of a view over several, the first by name.
    pub source: SourceMeaning,
    /// The other sources of a view over several, by name; none for one source.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub more_sources: Vec<SourceMeaning>,
    /// The features the argument and `where`s look up (through lets), sorted: their
    /// meanings are compared by name, as a derived feature's reads are.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lookups: Vec<LookedUp>,
}

/// A feature an aggregation looks up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LookedUp {
    /// The looked-up feature's name (features are named project-wide).
    pub feature: String,
    /// Its view, for messages.
    pub view: String,
}

impl AggregateMeaning {
    /// Every source of the feature's view, by name.
    pub fn sources(&self) -> impl Iterator<Item = &SourceMeaning> {
        std::iter::once(&self.source).chain(&self.more_sources)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// `None`: lifetime.
    pub window_us: Option<i64>,
    /// A count window's number of events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<u32>,
    pub offset_us: i64,
    pub exclusive_end: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntityMeaning {
    pub name: String,
    /// Each key column of the entity with its type and the source column bound to it.
    pub keys: Vec<KeyMeaning>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyMeaning {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub column: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceMeaning {
    pub name: String,
    pub time_column: String,
    pub lateness_us: i64,
    pub delay_us: i64,
    /// The source columns the feature reads (its expressions' and its key columns)
    /// with their types (`?`: nullable).
    pub columns: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DerivedMeaning {
    pub expr: String,
    /// The features it reads, sorted: their meanings are compared by name.
    pub reads: Vec<String>,
    /// `request.field` to its type.
    pub request_fields: BTreeMap<String, String>,
}

/// A feature's meaning and what its changes are explained from.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub meaning: Meaning,
    pub context: Context,
}

/// Not part of the meaning: where the feature is and what the user wrote.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Context {
    pub owner: Option<Owner>,
    /// The argument, `where`, view `where` and derived expression as written (lets
    /// by name, without the casts `check` inserted).
    pub arg: Option<String>,
    pub filter: Option<String>,
    pub view_filter: Option<String>,
    pub expr: Option<String>,
    /// The same with lets inlined: equal on both sides when only types changed.
    pub inlined: Vec<Option<String>>,
    /// Every let the feature reads, transitively, to its own expression as written.
    pub lets: BTreeMap<String, String>,
    /// The lets among `lets` that are lookups, to the lookup's column
    /// (`merchants.risk at merchant_id`).
    pub lookups: BTreeMap<String, String>,
    pub meta: Meta,
}

/// The definition of every feature of the project by name, with the names in
/// declaration order (views' features, then services' own).
pub fn definitions(
    p: &Project,
) -> Result<(Vec<String>, BTreeMap<String, Definition>), GroupingError> {
    let mut order = Vec::new();
    let mut out = BTreeMap::new();
    for id in p.all_features() {
        let feature = p.get_feature(id).ok_or(GroupingError::UnknownFeature(id))?;
        let definition = match (&feature.kind, id) {
            (FeatureKind::Aggregate(a), FeatureId::View { view, .. }) => {
                let view = p.views.get(view).ok_or(GroupingError::UnknownFeature(id))?;
                aggregate(p, view, feature, a)?
            }
            (FeatureKind::Derived(d), _) => derived(p, id, feature, d)?,
            (FeatureKind::Aggregate(_), FeatureId::Service { .. }) => {
                return Err(GroupingError::UnknownFeature(id))
            }
        };
        order.push(feature.name.clone());
        out.insert(feature.name.clone(), definition);
    }
    Ok((order, out))
}

fn aggregate(
    p: &Project,
    view: &View,
    feature: &Feature,
    a: &Aggregate,
) -> Result<Definition, GroupingError> {
    let missing = || GroupingError::UnknownReference {
        view: view.name.clone(),
    };
    let mut sources = view
        .sources()
        .map(|s| p.sources.get(s.0).ok_or_else(missing))
        .collect::<Result<Vec<&Source>, _>>()?;
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    let (first, more) = sources.split_first().ok_or_else(missing)?;
    let entity = p.entities.get(view.entity.0).ok_or_else(missing)?;
    let parts = [a.arg.as_ref(), a.filter.as_ref(), view.filter.as_ref()];
    let inlined = parts
        .iter()
        .map(|e| e.map(|e| canon::inlined(e, view)).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    let mut read = Vec::new();
    inlined
        .iter()
        .flatten()
        .for_each(|e| e.columns_into(&mut read));
    // The lookups read (each is a column of the inlined expressions); their key
    // columns are source columns the feature reads.
    let looked_up: Vec<&Lookup> = view
        .lookups
        .iter()
        .filter(|l| read.contains(&l.column))
        .collect();
    let mut lookups = Vec::new();
    for l in &looked_up {
        read.extend(l.keys.iter().cloned());
        let (FeatureId::View { view: v, .. }, Some(f)) = (l.feature, p.get_feature(l.feature))
        else {
            return Err(GroupingError::UnknownFeature(l.feature));
        };
        let target = p
            .views
            .get(v)
            .ok_or(GroupingError::UnknownFeature(l.feature))?;
        lookups.push(LookedUp {
            feature: f.name.clone(),
            view: target.name.clone(),
        });
    }
    lookups.sort();
    lookups.dedup();
    read.extend(view.key_columns.iter().cloned());
    let written: Vec<&Expr> = parts.iter().flatten().copied().collect();
    let lets_read = canon::lets_read(&written, &view.lets);
    let lets = lets_read
        .iter()
        .map(|l| (l.name.clone(), canon::untyped(&l.expr)))
        .collect();
    let lookup_lets = lets_read
        .iter()
        .filter_map(|l| {
            let lookup = view.lookups.iter().find(|k| k.name == l.name)?;
            Some((l.name.clone(), lookup.column.clone()))
        })
        .collect();
    let text = |e: &Option<Expr>| e.as_ref().map(canon::text);
    let agg = match a.agg.parameters() {
        Some(p) => format!("{}({p})", a.agg.name()),
        None => a.agg.name().to_string(),
    };
    let meaning = Meaning {
        result: ty(&feature.ty.name(), view.can_be_null(feature)),
        body: Body::Aggregate(Box::new(AggregateMeaning {
            agg,
            arg: text(&inlined[0]),
            filter: text(&inlined[1]),
            window: Window {
                window_us: a.window_us,
                events: a.events,
                offset_us: a.offset_us,
                exclusive_end: a.exclusive_end,
            },
            view_filter: text(&inlined[2]),
            ttl_us: view.ttl_us,
            entity: EntityMeaning {
                name: entity.name.clone(),
                keys: entity
                    .keys
                    .iter()
                    .zip(&view.key_columns)
                    .map(|(k, column)| KeyMeaning {
                        name: k.name.clone(),
                        ty: k.ty.name().to_string(),
                        column: column.clone(),
                    })
                    .collect(),
            },
            source: source_meaning(first, &read),
            more_sources: more.iter().map(|s| source_meaning(s, &read)).collect(),
            lookups,
        })),
    };
    let untyped = |e: Option<&Expr>| e.map(canon::untyped);
    Ok(Definition {
        meaning,
        context: Context {
            owner: Some(Owner {
                kind: OwnerKind::View,
                name: view.name.clone(),
            }),
            arg: untyped(parts[0]),
            filter: untyped(parts[1]),
            view_filter: untyped(parts[2]),
            expr: None,
            inlined: inlined.iter().map(|e| untyped(e.as_ref())).collect(),
            lets,
            lookups: lookup_lets,
            meta: feature.meta.clone(),
        },
    })
}

/// The source's part of a meaning: the columns of `read` it declares, typed.
fn source_meaning(source: &Source, read: &[String]) -> SourceMeaning {
    SourceMeaning {
        name: source.name.clone(),
        time_column: source.time_column.clone(),
        lateness_us: source.lateness_us,
        delay_us: source.delay_us,
        columns: source
            .columns
            .iter()
            .filter(|c| read.contains(&c.name))
            .map(|c| (c.name.clone(), ty(&c.ty.name(), c.nullable)))
            .collect(),
    }
}

fn derived(
    p: &Project,
    id: FeatureId,
    feature: &Feature,
    d: &Derived,
) -> Result<Definition, GroupingError> {
    let mut reads = d
        .reads
        .iter()
        .map(|r| {
            p.get_feature(*r)
                .map(|f| f.name.clone())
                .ok_or(GroupingError::UnknownFeature(*r))
        })
        .collect::<Result<Vec<_>, _>>()?;
    reads.sort();
    reads.dedup();
    let request_fields = d
        .request_fields
        .iter()
        .filter_map(|&(r, f)| {
            let request = p.requests.get(r)?;
            let field = request.fields.get(f)?;
            Some((
                request.column_name(&field.name),
                ty(&field.ty.name(), field.nullable),
            ))
        })
        .collect();
    let owner = match id {
        FeatureId::View { view, .. } => p.views.get(view).map(|v| Owner {
            kind: OwnerKind::View,
            name: v.name.clone(),
        }),
        FeatureId::Service { service, .. } => p.services.get(service).map(|s| Owner {
            kind: OwnerKind::Service,
            name: s.name.clone(),
        }),
    };
    Ok(Definition {
        meaning: Meaning {
            result: ty(&feature.ty.name(), d.expr.nullable),
            body: Body::Derived(DerivedMeaning {
                expr: canon::text(&d.expr),
                reads,
                request_fields,
            }),
        },
        context: Context {
            owner,
            expr: Some(canon::untyped(&d.expr)),
            meta: feature.meta.clone(),
            ..Context::default()
        },
    })
}
