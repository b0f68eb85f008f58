//! The catalog of a project (`featc catalog`, docs/catalog.md): every declaration
//! with its docs, owner, tags, types, windows and lineage, as plain data that the
//! JSON, Markdown and HTML renderers share.
//!
//! Built from a checked `ir::Project` only, so it says what the compiler understood,
//! not how the text was laid out. Every list is in declaration order (the IR's), so
//! the renderings are deterministic and diff well between revisions.

pub mod graph;
pub mod html;
pub mod json;
pub mod lineage;
pub mod markdown;
pub mod svg;

use crate::check::durations::display;
use crate::print::ir::{aggregate, top};
use featc_runtime::ir::{self, FeatureId, FeatureKind, Project};
use serde::Serialize;

pub use lineage::{
    FeatureLineage, LetLineage, LetRef, RequestFieldRef, ServiceUse, SourceColumnRef,
};

/// A whole project's catalog.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Catalog {
    /// The project's `.feat` files, as the compiler was given them.
    pub files: Vec<String>,
    pub sources: Vec<SourceEntry>,
    pub entities: Vec<EntityEntry>,
    pub views: Vec<ViewEntry>,
    /// Every feature: the views' (view by view), then the services' own.
    pub features: Vec<FeatureEntry>,
    pub requests: Vec<RequestEntry>,
    pub services: Vec<ServiceEntry>,
    /// The lineage graph the HTML page draws (not part of the JSON: the entries'
    /// lineage says the same).
    #[serde(skip)]
    pub graph: graph::Graph,
}

/// What every entry carries: where it is declared and what its author said of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct About {
    /// The `.feat` file that declares it.
    pub file: String,
    /// The doc comment's lines (`///`), without the slashes.
    pub doc: Vec<String>,
    pub owner: Option<String>,
    pub tags: Vec<String>,
}

/// A duration, in microseconds and as a `.feat` file writes it (`5m`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Duration {
    pub us: i64,
    pub text: String,
}

impl Duration {
    fn of(us: i64) -> Duration {
        Duration {
            us,
            text: display(us),
        }
    }

    /// `Some` for a declared (non-zero) duration.
    fn nonzero(us: i64) -> Option<Duration> {
        (us != 0).then(|| Duration::of(us))
    }
}

/// A column (of a source, an entity's key, a request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnEntry {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub nullable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicEntry {
    pub name: String,
    pub format: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceEntry {
    pub name: String,
    #[serde(flatten)]
    pub about: About,
    pub time_column: String,
    pub columns: Vec<ColumnEntry>,
    /// The data location, resolved against the declaring file's folder.
    pub location: Option<String>,
    pub topic: Option<TopicEntry>,
    pub lateness: Option<Duration>,
    pub delay: Option<Duration>,
    pub freshness: Option<Duration>,
    /// The unit of its integer times (`epoch s`), when declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
    /// How its folder is partitioned by time (`day by day`), when declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// The views over it, alone or as one of several sources.
    pub views: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntityEntry {
    pub name: String,
    #[serde(flatten)]
    pub about: About,
    pub keys: Vec<ColumnEntry>,
    /// The views keyed by it.
    pub views: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LetEntry {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub nullable: bool,
    pub expr: String,
    #[serde(flatten)]
    pub lineage: LetLineage,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewEntry {
    pub name: String,
    #[serde(flatten)]
    pub about: About,
    /// The view's (first) source.
    pub source: String,
    /// The sources after the first of a view over several (`from a, b`), which
    /// reads the union of their events; absent for a view over one source, so the
    /// JSON of such a view is what it was before views could have several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub more_sources: Vec<String>,
    pub entity: String,
    /// The source column bound to each of the entity's key columns, in its order.
    pub key_columns: Vec<String>,
    /// The view's `where` clauses, combined with `and`.
    #[serde(rename = "where")]
    pub filter: Option<String>,
    /// Every let, lookups among them.
    pub lets: Vec<LetEntry>,
    /// The view's as-of lookups (each also a let); absent when it has none, so the
    /// JSON of such a view is what it was before views could look up features.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lookups: Vec<LookupEntry>,
    pub features: Vec<String>,
    pub ttl: Option<Duration>,
    pub freshness: Option<Duration>,
}

impl ViewEntry {
    /// The lookup that let `name` is, if it is one.
    pub fn lookup(&self, name: &str) -> Option<&LookupEntry> {
        self.lookups.iter().find(|l| l.name == name)
    }
}

/// An as-of lookup (`let risk = merchant_risk.fraud_rate_30d at merchant`): another
/// view's feature as of each event's time, for the entity whose key the event's
/// `key_columns` hold (semantics.md, "As-of lookups"). Null when that entity has no
/// value yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LookupEntry {
    /// The let's name.
    pub name: String,
    /// The looked-up view and feature.
    pub view: String,
    pub feature: String,
    /// The looked-up view's entity.
    pub entity: String,
    /// The columns of this view's sources holding that entity's key, in its order.
    pub key_columns: Vec<String>,
    #[serde(rename = "type")]
    pub ty: String,
}

impl ViewEntry {
    /// Every source of the view, the first one first.
    pub fn sources(&self) -> Vec<String> {
        let mut out = vec![self.source.clone()];
        out.extend(self.more_sources.iter().cloned());
        out
    }
}

/// `over W [offset O] [exclusive]`: the window `(t - O - W, t - O]`, or
/// `[t - O - W, t - O)` with an exclusive end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowEntry {
    /// `None`: a count window without a duration (`over 10 events`).
    pub width: Option<Duration>,
    pub offset: Option<Duration>,
    pub exclusive_end: bool,
    /// A count window's number of events (`over 10 events`, `max 10 events`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<u32>,
}

impl WindowEntry {
    /// `7d`, `10 events`, `30d, at most 200 events`, then `, offset 1d` and
    /// `, exclusive end` where they apply.
    pub fn text(&self) -> String {
        let mut s = match (&self.width, self.events) {
            (Some(w), Some(n)) => format!("{}, at most {n} events", w.text),
            (Some(w), None) => w.text.clone(),
            (None, n) => format!("{} events", n.unwrap_or_default()),
        };
        if let Some(o) = &self.offset {
            s.push_str(", offset ");
            s.push_str(&o.text);
        }
        if self.exclusive_end {
            s.push_str(", exclusive end");
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureEntry {
    pub name: String,
    #[serde(flatten)]
    pub about: About,
    /// The view that declares it, or `None` for a service's own feature.
    pub view: Option<String>,
    /// The service that declares it (a service's own derived feature).
    pub service: Option<String>,
    /// `aggregate` or `derived`.
    pub kind: &'static str,
    #[serde(rename = "type")]
    pub ty: String,
    pub nullable: bool,
    /// The definition as the IR printer writes it (`sum(amount) where not food`).
    pub definition: String,
    /// The aggregation (`count`, `percentile`), for an aggregate.
    pub aggregation: Option<String>,
    /// The feature's own `where`, for an aggregate.
    #[serde(rename = "where")]
    pub filter: Option<String>,
    /// `None` for a derived feature or a lifetime aggregate (see `lifetime`).
    pub window: Option<WindowEntry>,
    /// An aggregate with no window: it folds every event up to the read time.
    pub lifetime: bool,
    /// The view's ttl (aggregates and derived features of a view with one).
    pub ttl: Option<Duration>,
    pub lineage: FeatureLineage,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestEntry {
    pub name: String,
    #[serde(flatten)]
    pub about: About,
    pub fields: Vec<ColumnEntry>,
    /// The features whose expression names one of its fields.
    pub read_by: Vec<String>,
}

/// A feature as a service serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServedFeature {
    pub name: String,
    /// The declaring view, `None` for the service's own feature.
    pub view: Option<String>,
    #[serde(rename = "type")]
    pub ty: String,
    pub nullable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceEntry {
    pub name: String,
    #[serde(flatten)]
    pub about: About,
    /// What a read answers, in its order.
    pub features: Vec<ServedFeature>,
    /// The sources its features read, transitively.
    pub sources: Vec<String>,
    /// The requests whose fields its features read.
    pub requests: Vec<String>,
}

/// The catalog of a checked project.
pub fn catalog(p: &Project) -> Catalog {
    let lineage = lineage::Lineage::of(p);
    let about = |meta: &ir::Meta, span: ir::SourceSpan| About {
        file: p.files.get(span.file as usize).cloned().unwrap_or_default(),
        doc: meta.docs.clone(),
        owner: meta.owner.clone(),
        tags: meta.tags.clone(),
    };
    let sources = p
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| SourceEntry {
            name: s.name.clone(),
            about: about(&s.meta, s.span),
            time_column: s.time_column.clone(),
            // Declared columns: the struct and map columns whole, never the paths
            // read out of them.
            columns: columns(&s.columns)
                .into_iter()
                .filter(|c| {
                    s.columns
                        .iter()
                        .any(|d| d.name == c.name && d.path.is_none())
                })
                .chain(s.nested.iter().map(|n| ColumnEntry {
                    name: n.name.clone(),
                    ty: n.written.clone(),
                    nullable: n.nullable,
                }))
                .collect(),
            location: s.location.clone(),
            topic: s.topic.as_ref().map(|t| TopicEntry {
                name: t.name.clone(),
                format: t.format.name().to_string(),
            }),
            lateness: Duration::nonzero(s.lateness_us),
            delay: Duration::nonzero(s.delay_us),
            freshness: s.freshness_us.map(Duration::of),
            epoch: s.epoch.map(|u| u.name().to_string()),
            partition: (s.partition.as_ref()).map(|p| format!("{} by {}", p.key, p.unit.name())),
            views: views_where(p, |v| v.sources().any(|s| s.0 == i)),
        })
        .collect();
    let entities = p
        .entities
        .iter()
        .enumerate()
        .map(|(i, e)| EntityEntry {
            name: e.name.clone(),
            about: about(&e.meta, e.span),
            keys: columns(&e.keys),
            views: views_where(p, |v| v.entity.0 == i),
        })
        .collect();
    let views = p
        .views
        .iter()
        .enumerate()
        .map(|(vi, v)| ViewEntry {
            name: v.name.clone(),
            about: about(&v.meta, v.span),
            source: source_name(p, v.source),
            more_sources: v.more_sources.iter().map(|&s| source_name(p, s)).collect(),
            entity: p
                .entities
                .get(v.entity.0)
                .map(|e| e.name.clone())
                .unwrap_or_default(),
            key_columns: v.key_columns.clone(),
            filter: v.filter.as_ref().map(top),
            lets: v
                .lets
                .iter()
                .enumerate()
                .map(|(li, l)| LetEntry {
                    name: l.name.clone(),
                    ty: l.expr.ty.name().to_string(),
                    nullable: l.expr.nullable,
                    expr: top(&l.expr),
                    lineage: lineage.of_let(vi, li),
                })
                .collect(),
            lookups: v.lookups.iter().map(|l| lookup(p, l)).collect(),
            features: v.features.iter().map(|f| f.name.clone()).collect(),
            ttl: v.ttl_us.map(Duration::of),
            freshness: v.freshness_us.map(Duration::of),
        })
        .collect();
    let features = p
        .all_features()
        .into_iter()
        .map(|id| {
            let f = p.feature(id);
            let mut a = about(&f.meta, f.span);
            inherit(&mut a, declaring_meta(p, id));
            feature(p, id, a, &lineage)
        })
        .collect();
    let requests = p
        .requests
        .iter()
        .enumerate()
        .map(|(ri, r)| RequestEntry {
            name: r.name.clone(),
            about: about(&r.meta, r.span),
            fields: columns(&r.fields),
            read_by: lineage.request_readers(ri),
        })
        .collect();
    let services = p
        .services
        .iter()
        .enumerate()
        .map(|(si, s)| ServiceEntry {
            name: s.name.clone(),
            about: about(&s.meta, s.span),
            features: s
                .features
                .iter()
                .map(|&id| ServedFeature {
                    name: p.feature(id).name.clone(),
                    view: id
                        .view()
                        .and_then(|v| p.views.get(v))
                        .map(|v| v.name.clone()),
                    ty: p.feature(id).ty.name().to_string(),
                    nullable: p.can_be_null(id),
                })
                .collect(),
            sources: lineage.service_sources(si),
            requests: lineage.service_requests(si),
        })
        .collect();
    Catalog {
        files: p.files.clone(),
        sources,
        entities,
        views,
        features,
        requests,
        services,
        graph: graph::graph(p),
    }
}

/// The meta of the view or service that declares feature `id`.
fn declaring_meta(p: &Project, id: FeatureId) -> Option<&ir::Meta> {
    match id {
        FeatureId::View { view, .. } => p.views.get(view).map(|v| &v.meta),
        FeatureId::Service { service, .. } => p.services.get(service).map(|s| &s.meta),
    }
}

/// A feature has no `owner` or `tags` clause of its own: it is owned as its view (or
/// service) is and carries its tags, which is what a reader of the catalog looks for.
fn inherit(about: &mut About, parent: Option<&ir::Meta>) {
    let Some(parent) = parent else { return };
    if about.owner.is_none() {
        about.owner.clone_from(&parent.owner);
    }
    for t in &parent.tags {
        if !about.tags.contains(t) {
            about.tags.push(t.clone());
        }
    }
}

fn columns(cols: &[ir::Column]) -> Vec<ColumnEntry> {
    cols.iter()
        .map(|c| ColumnEntry {
            name: c.name.clone(),
            ty: c.ty.name().to_string(),
            nullable: c.nullable,
        })
        .collect()
}

fn lookup(p: &Project, l: &ir::Lookup) -> LookupEntry {
    let view = l.feature.view().and_then(|v| p.views.get(v));
    LookupEntry {
        name: l.name.clone(),
        view: view.map(|v| v.name.clone()).unwrap_or_default(),
        feature: p
            .get_feature(l.feature)
            .map(|f| f.name.clone())
            .unwrap_or_default(),
        entity: view
            .and_then(|v| p.entities.get(v.entity.0))
            .map(|e| e.name.clone())
            .unwrap_or_default(),
        key_columns: l.keys.clone(),
        ty: l.ty.name().to_string(),
    }
}

fn source_name(p: &Project, s: ir::SourceId) -> String {
    p.sources
        .get(s.0)
        .map(|s| s.name.clone())
        .unwrap_or_default()
}

fn views_where(p: &Project, keep: impl Fn(&ir::View) -> bool) -> Vec<String> {
    p.views
        .iter()
        .filter(|v| keep(v))
        .map(|v| v.name.clone())
        .collect()
}

fn feature(p: &Project, id: FeatureId, about: About, lineage: &lineage::Lineage) -> FeatureEntry {
    let f = p.feature(id);
    let (view, service) = match id {
        FeatureId::View { view, .. } => (p.views.get(view), None),
        FeatureId::Service { service, .. } => (None, p.services.get(service)),
    };
    let ttl = view.and_then(|v| v.ttl_us).map(Duration::of);
    let mut entry = FeatureEntry {
        name: f.name.clone(),
        about,
        view: view.map(|v| v.name.clone()),
        service: service.map(|s| s.name.clone()),
        kind: "derived",
        ty: f.ty.name().to_string(),
        nullable: p.can_be_null(id),
        definition: String::new(),
        aggregation: None,
        filter: None,
        window: None,
        lifetime: false,
        ttl,
        lineage: lineage.of_feature(id),
    };
    match &f.kind {
        FeatureKind::Derived(d) => entry.definition = top(&d.expr),
        FeatureKind::Aggregate(a) => {
            entry.kind = "aggregate";
            entry.aggregation = Some(a.agg.name().to_string());
            entry.filter = a.filter.as_ref().map(top);
            let windowed = a.window_us.is_some() || a.events.is_some();
            entry.window = windowed.then(|| WindowEntry {
                width: a.window_us.map(Duration::of),
                offset: Duration::nonzero(a.offset_us),
                exclusive_end: a.exclusive_end,
                events: a.events,
            });
            entry.lifetime = !windowed;
            entry.definition = aggregate(a);
        }
    }
    entry
}
