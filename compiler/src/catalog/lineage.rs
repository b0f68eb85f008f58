//! Lineage: what each feature reads, back to source columns, and who reads it, up to
//! the services that serve it (docs/catalog.md, "Lineage").
//!
//! Computed on the IR, where names are resolved: an `Expr::Column` of a view's
//! expression is an earlier `let` of that view or a column of its source (a let may
//! not shadow a column, E0023); in a view over several sources, that column of each
//! source that has one (an event of another reads null, semantics.md "Views over
//! several sources"), so a name can stand for several source columns, and a derived
//! feature's `reads` and `request_fields` list exactly what its expression names. A
//! let that is an as-of lookup (`let risk = merchant_risk.rate at merchant`,
//! semantics.md "As-of lookups") reads its key columns and the looked-up feature,
//! so a feature depends on what the features it looks up depend on, as it does on
//! what the features it reads do. Everything is kept as declaration indexes and
//! sorted by them, so every list comes out in declaration order.

use featc_runtime::ir::{Expr, FeatureId, FeatureKind, Project, View};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A source's column: `transactions.amount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceColumnRef {
    pub source: String,
    pub column: String,
}

/// A view's `let`: `user_spend.big`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LetRef {
    pub view: String,
    #[serde(rename = "let")]
    pub name: String,
}

/// A request's field: `checkout.amount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestFieldRef {
    pub request: String,
    pub field: String,
}

/// A service that serves a feature: `direct` when the service lists it, and `via`
/// the features of the service's list that depend on it (derived features reading
/// it, features looking it up, transitively).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceUse {
    pub service: String,
    pub direct: bool,
    pub via: Vec<String>,
}

/// What a `let` reads, transitively: its view's source columns (by name, each once,
/// however many of the view's sources have it) and earlier lets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LetLineage {
    pub columns: Vec<String>,
    pub lets: Vec<String>,
}

/// A feature's lineage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureLineage {
    /// The source columns its value depends on, transitively: through its view's
    /// `where`, its lets, its own `where` and argument, and for a derived feature
    /// through every feature it reads. The event-time column counts when an
    /// expression names it; the key columns and the time every window is measured
    /// on are implied (the view's `key_columns`, the source's `time_column`).
    pub source_columns: Vec<SourceColumnRef>,
    /// The lets it reads, transitively (lets reading lets, features reading features).
    pub lets: Vec<LetRef>,
    /// The features a derived feature names, in order of first use.
    pub features: Vec<String>,
    /// The features an aggregate looks up (through its view's `where`, its lets, its
    /// own `where` and argument), in declaration order; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub looks_up: Vec<String>,
    /// Every feature it depends on, transitively (derived features reading derived
    /// ones, features looked up), in declaration order.
    pub all_features: Vec<String>,
    /// The request fields it reads, transitively.
    pub request_fields: Vec<RequestFieldRef>,
    /// The services serving it, directly or through derived features.
    pub services: Vec<ServiceUse>,
}

impl FeatureLineage {
    /// The lineage's lists of names with the labels the pages show them under, in
    /// the pages' order (the services apart: `ServiceUse::how`).
    pub fn named_lists(&self) -> Vec<(&'static str, Vec<String>)> {
        let mut out = vec![
            (
                "source columns",
                self.source_columns
                    .iter()
                    .map(|c| format!("{}.{}", c.source, c.column))
                    .collect(),
            ),
            (
                "lets",
                self.lets
                    .iter()
                    .map(|r| format!("{}.{}", r.view, r.name))
                    .collect(),
            ),
            ("reads features", self.features.clone()),
            ("looks up", self.looks_up.clone()),
        ];
        if self.all_features.len() > self.features.len() + self.looks_up.len() {
            out.push(("all features read", self.all_features.clone()));
        }
        out.push((
            "request fields",
            self.request_fields
                .iter()
                .map(|r| format!("{}.{}", r.request, r.field))
                .collect(),
        ));
        out
    }
}

impl ServiceUse {
    /// How the service serves the feature, names shown by `show`: `S (directly)`,
    /// `S (via A, B)`, or both.
    pub fn how(&self, show: impl Fn(&str) -> String) -> String {
        let mut ways = Vec::new();
        if self.direct {
            ways.push("directly".to_string());
        }
        if !self.via.is_empty() {
            let via: Vec<String> = self.via.iter().map(|v| show(v)).collect();
            ways.push(format!("via {}", via.join(", ")));
        }
        format!("{} ({})", show(&self.service), ways.join("; "))
    }
}

/// A view expression's reads split into source columns (`(source, column)`, where
/// column 0 is the source's time column and `i + 1` is `columns[i]`), lets (their
/// index) and lookups (their index in the view's `lookups`), all transitive.
#[derive(Debug, Clone, Default)]
struct Reads {
    columns: BTreeSet<(usize, usize)>,
    lets: BTreeSet<usize>,
    lookups: BTreeSet<usize>,
}

/// The project's lineage, computed once for every feature.
pub struct Lineage<'a> {
    p: &'a Project,
    /// `lets[view][let]`: what each let reads, transitively.
    lets: Vec<Vec<Reads>>,
    /// Per feature: `(source, column)` and `(view, let)` index pairs it reads.
    columns: BTreeMap<FeatureId, BTreeSet<(usize, usize)>>,
    let_reads: BTreeMap<FeatureId, BTreeSet<(usize, usize)>>,
    /// Per aggregate: the features it looks up.
    looks_up: BTreeMap<FeatureId, BTreeSet<FeatureId>>,
    /// Per feature: every feature it reads or looks up, transitively.
    reach: BTreeMap<FeatureId, BTreeSet<FeatureId>>,
    /// Per feature: `(service, direct, via)` uses.
    uses: BTreeMap<FeatureId, BTreeMap<usize, (bool, BTreeSet<FeatureId>)>>,
}

/// The source columns named `name` of view `v`'s sources, as `Reads::columns`
/// counts them: one per source of the view that has such a column (`source()`, the
/// event's source name, is none of them).
pub(crate) fn column_indexes<'a>(
    p: &'a Project,
    v: &'a View,
    name: &'a str,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    v.sources().filter_map(move |si| {
        let s = p.sources.get(si.0)?;
        if s.time_column == name {
            return Some((si.0, 0));
        }
        let c = s.columns.iter().position(|c| c.name == name)?;
        Some((si.0, c + 1))
    })
}

/// The direct reads of `exprs` in view `v`, where lets `0..lets` are visible:
/// `(columns, lets)` by index (columns as `(source, column)`), each once.
pub(crate) fn direct_reads<'e>(
    p: &Project,
    v: &View,
    lets: usize,
    exprs: impl IntoIterator<Item = &'e Expr>,
) -> (BTreeSet<(usize, usize)>, BTreeSet<usize>) {
    let mut names = Vec::new();
    for e in exprs {
        e.columns_into(&mut names);
    }
    let mut columns = BTreeSet::new();
    let mut let_set = BTreeSet::new();
    for n in &names {
        match v.lets.iter().take(lets).position(|l| &l.name == n) {
            Some(l) => {
                let_set.insert(l);
            }
            None => {
                columns.extend(column_indexes(p, v, n));
            }
        }
    }
    (columns, let_set)
}

/// The lookup (its index in the view's `lookups`) let `l` of view `v` is, if any:
/// its expression reads the lookup's column.
pub(crate) fn lookup_of_let(v: &View, l: usize) -> Option<usize> {
    let name = &v.lets.get(l)?.name;
    v.lookups.iter().position(|k| &k.name == name)
}

/// The expressions a view's aggregate reads: the view's `where`, its argument and
/// its own `where`.
pub(crate) fn aggregate_exprs(v: &View, f: usize) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = v.filter.iter().collect();
    if let Some(a) = v.features.get(f).and_then(|f| f.aggregate()) {
        out.extend(a.arg.iter());
        out.extend(a.filter.iter());
    }
    out
}

impl<'a> Lineage<'a> {
    pub fn of(p: &'a Project) -> Lineage<'a> {
        let lets: Vec<Vec<Reads>> = p.views.iter().map(|v| let_reads(p, v)).collect();
        let mut l = Lineage {
            p,
            lets,
            columns: BTreeMap::new(),
            let_reads: BTreeMap::new(),
            looks_up: BTreeMap::new(),
            reach: BTreeMap::new(),
            uses: BTreeMap::new(),
        };
        let all = p.all_features();
        for &id in &all {
            let looked_up = l.looked_up(id);
            if !looked_up.is_empty() {
                l.looks_up.insert(id, looked_up);
            }
        }
        for &id in &all {
            l.reach.insert(id, reach(p, &l.looks_up, id));
        }
        for &id in &all {
            let (columns, let_reads) = l.aggregate_reads(id);
            l.columns.insert(id, columns);
            l.let_reads.insert(id, let_reads);
        }
        for (si, s) in p.services.iter().enumerate() {
            for &id in &s.features {
                l.uses.entry(id).or_default().entry(si).or_default().0 = true;
                for &read in l.reach.get(&id).into_iter().flatten() {
                    let entry = l.uses.entry(read).or_default().entry(si).or_default();
                    entry.1.insert(id);
                }
            }
        }
        l
    }

    /// The features aggregate `id` looks up through the lets its expressions read.
    fn looked_up(&self, id: FeatureId) -> BTreeSet<FeatureId> {
        let mut out = BTreeSet::new();
        let FeatureId::View { view, feature } = id else {
            return out;
        };
        let Some(v) = self.p.views.get(view) else {
            return out;
        };
        if v.features
            .get(feature)
            .and_then(|f| f.aggregate())
            .is_none()
        {
            return out;
        }
        let (_, direct_lets) = direct_reads(self.p, v, v.lets.len(), aggregate_exprs(v, feature));
        let mut lookups = BTreeSet::new();
        for l in direct_lets {
            lookups.extend(lookup_of_let(v, l));
            if let Some(r) = self.lets.get(view).and_then(|ls| ls.get(l)) {
                lookups.extend(r.lookups.iter().copied());
            }
        }
        out.extend(
            lookups
                .iter()
                .filter_map(|&k| v.lookups.get(k).map(|k| k.feature)),
        );
        out
    }

    /// The `(source, column)` and `(view, let)` pairs of every aggregate `id` is or
    /// reads (or looks up).
    #[allow(clippy::type_complexity)]
    fn aggregate_reads(
        &self,
        id: FeatureId,
    ) -> (BTreeSet<(usize, usize)>, BTreeSet<(usize, usize)>) {
        let mut columns = BTreeSet::new();
        let mut lets = BTreeSet::new();
        let reached = self.reach.get(&id).into_iter().flatten();
        for a in std::iter::once(&id).chain(reached) {
            let FeatureId::View { view, feature } = *a else {
                continue;
            };
            let Some(v) = self.p.views.get(view) else {
                continue;
            };
            if v.features
                .get(feature)
                .and_then(|f| f.aggregate())
                .is_none()
            {
                continue;
            }
            let (cols, direct_lets) =
                direct_reads(self.p, v, v.lets.len(), aggregate_exprs(v, feature));
            let mut reads = Reads {
                columns: cols,
                ..Reads::default()
            };
            for l in direct_lets {
                reads.lets.insert(l);
                if let Some(r) = self.lets.get(view).and_then(|ls| ls.get(l)) {
                    reads.columns.extend(r.columns.iter().copied());
                    reads.lets.extend(r.lets.iter().copied());
                }
            }
            columns.extend(reads.columns.iter().copied());
            lets.extend(reads.lets.iter().map(|&l| (view, l)));
        }
        (columns, lets)
    }

    /// A let's lineage: the source columns and earlier lets it reads, transitively.
    pub fn of_let(&self, view: usize, l: usize) -> LetLineage {
        let (Some(v), Some(r)) = (
            self.p.views.get(view),
            self.lets.get(view).and_then(|ls| ls.get(l)),
        ) else {
            return LetLineage {
                columns: Vec::new(),
                lets: Vec::new(),
            };
        };
        // By name: a column several sources of the view have is one name to read.
        let mut columns: Vec<String> = Vec::new();
        for &(s, c) in &r.columns {
            if let Some(name) = self.column_name(s, c) {
                if !columns.contains(&name) {
                    columns.push(name);
                }
            }
        }
        LetLineage {
            columns,
            lets: r
                .lets
                .iter()
                .filter_map(|&i| v.lets.get(i).map(|l| l.name.clone()))
                .collect(),
        }
    }

    /// A feature's lineage.
    pub fn of_feature(&self, id: FeatureId) -> FeatureLineage {
        let p = self.p;
        let source_columns = self
            .columns
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|&(s, c)| {
                Some(SourceColumnRef {
                    source: p.sources.get(s)?.name.clone(),
                    column: self.column_name(s, c)?,
                })
            })
            .collect();
        let lets = self
            .let_reads
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|&(v, l)| {
                let view = p.views.get(v)?;
                Some(LetRef {
                    view: view.name.clone(),
                    name: view.lets.get(l)?.name.clone(),
                })
            })
            .collect();
        let derived = p.get_feature(id).and_then(|f| f.derived());
        let features = derived
            .map(|d| d.reads.iter().map(|&r| self.name(r)).collect())
            .unwrap_or_default();
        let looks_up = self
            .looks_up
            .get(&id)
            .into_iter()
            .flatten()
            .map(|&f| self.name(f))
            .collect();
        let reached = self.reach.get(&id);
        let all_features = reached
            .into_iter()
            .flatten()
            .map(|&r| self.name(r))
            .collect();
        let mut fields = BTreeSet::new();
        for f in std::iter::once(&id).chain(reached.into_iter().flatten()) {
            if let Some(d) = p.get_feature(*f).and_then(|f| f.derived()) {
                fields.extend(d.request_fields.iter().copied());
            }
        }
        let request_fields = fields
            .iter()
            .filter_map(|&(r, f)| {
                let request = p.requests.get(r)?;
                Some(RequestFieldRef {
                    request: request.name.clone(),
                    field: request.fields.get(f)?.name.clone(),
                })
            })
            .collect();
        let services = self
            .uses
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|(&s, (direct, via))| {
                Some(ServiceUse {
                    service: p.services.get(s)?.name.clone(),
                    direct: *direct,
                    via: via.iter().map(|&v| self.name(v)).collect(),
                })
            })
            .collect();
        FeatureLineage {
            source_columns,
            lets,
            features,
            looks_up,
            all_features,
            request_fields,
            services,
        }
    }

    /// The features whose expression names a field of request `r`, in declaration order.
    pub fn request_readers(&self, r: usize) -> Vec<String> {
        self.p
            .all_features()
            .into_iter()
            .filter(|&id| {
                self.p
                    .get_feature(id)
                    .and_then(|f| f.derived())
                    .is_some_and(|d| d.request_fields.iter().any(|&(ri, _)| ri == r))
            })
            .map(|id| self.name(id))
            .collect()
    }

    /// The sources service `s`'s features read, in declaration order.
    pub fn service_sources(&self, s: usize) -> Vec<String> {
        let mut sources = BTreeSet::new();
        for id in self.served(s) {
            sources.extend(self.columns.get(&id).into_iter().flatten().map(|&(s, _)| s));
            // A `count(*)` reads no column but still its sources' events.
            for a in std::iter::once(&id).chain(self.reach.get(&id).into_iter().flatten()) {
                if let FeatureId::View { view, feature } = *a {
                    let v = self.p.views.get(view);
                    if v.and_then(|v| v.features.get(feature))
                        .is_some_and(|f| f.aggregate().is_some())
                    {
                        sources.extend(v.into_iter().flat_map(|v| v.sources()).map(|s| s.0));
                    }
                }
            }
        }
        sources
            .iter()
            .filter_map(|&i| self.p.sources.get(i).map(|s| s.name.clone()))
            .collect()
    }

    /// The requests whose fields service `s`'s features read, in declaration order.
    pub fn service_requests(&self, s: usize) -> Vec<String> {
        let mut requests = BTreeSet::new();
        for id in self.served(s) {
            for f in std::iter::once(&id).chain(self.reach.get(&id).into_iter().flatten()) {
                if let Some(d) = self.p.get_feature(*f).and_then(|f| f.derived()) {
                    requests.extend(d.request_fields.iter().map(|&(r, _)| r));
                }
            }
        }
        requests
            .iter()
            .filter_map(|&i| self.p.requests.get(i).map(|r| r.name.clone()))
            .collect()
    }

    fn served(&self, s: usize) -> Vec<FeatureId> {
        self.p
            .services
            .get(s)
            .map(|s| s.features.clone())
            .unwrap_or_default()
    }

    fn name(&self, id: FeatureId) -> String {
        self.p
            .get_feature(id)
            .map(|f| f.name.clone())
            .unwrap_or_default()
    }

    fn column_name(&self, source: usize, c: usize) -> Option<String> {
        let s = self.p.sources.get(source)?;
        match c {
            0 => Some(s.time_column.clone()),
            i => s.columns.get(i - 1).map(|c| c.name.clone()),
        }
    }
}

/// Every let's transitive reads, in declaration order (a let reads earlier lets only;
/// a lookup reads its key columns).
fn let_reads(p: &Project, v: &View) -> Vec<Reads> {
    let mut out: Vec<Reads> = Vec::with_capacity(v.lets.len());
    for (i, l) in v.lets.iter().enumerate() {
        let (mut columns, lets) = direct_reads(p, v, i, [&l.expr]);
        let mut lookups = BTreeSet::new();
        if let Some(k) = lookup_of_let(v, i) {
            lookups.insert(k);
            for key in v.lookups.get(k).into_iter().flat_map(|k| &k.keys) {
                columns.extend(column_indexes(p, v, key));
            }
        }
        let mut reads = Reads {
            columns,
            lets: BTreeSet::new(),
            lookups,
        };
        for earlier in lets {
            reads.lets.insert(earlier);
            if let Some(r) = out.get(earlier) {
                let r = r.clone();
                reads.columns.extend(r.columns);
                reads.lets.extend(r.lets);
                reads.lookups.extend(r.lookups);
            }
        }
        out.push(reads);
    }
    out
}

/// Every feature `id` reads or looks up, transitively (a checked project has no
/// cycle; a repeat is skipped regardless).
fn reach(
    p: &Project,
    looks_up: &BTreeMap<FeatureId, BTreeSet<FeatureId>>,
    id: FeatureId,
) -> BTreeSet<FeatureId> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![id];
    while let Some(f) = stack.pop() {
        let reads = match p.get_feature(f).map(|f| &f.kind) {
            Some(FeatureKind::Derived(d)) => d.reads.iter().collect::<Vec<_>>(),
            Some(FeatureKind::Aggregate(_)) => looks_up.get(&f).into_iter().flatten().collect(),
            None => Vec::new(),
        };
        for &r in reads {
            if r != id && seen.insert(r) {
                stack.push(r);
            }
        }
    }
    seen
}
