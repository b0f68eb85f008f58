//! The feature plan: what every backend computes, decided once. For each (source,
//! entity key) group of the requested features, a `GroupPlan` holds the key columns,
//! the deduplicated input and filter expressions (typed IR, `let`s inlined) and one
//! `FeaturePlan` per feature (aggregation, slots, window, ttl rule).
//!
//! `featc::lower::groups::plan_groups` builds a `Plan` from a checked project; the
//! batch node (`batch::PointInTime`) and the stream graph's aggregate nodes carry
//! `GroupPlan`s, and both executors build their window state from one through
//! `window::KeySpec::from_plan`. A backend that needs a fact about a feature the plan
//! does not carry grows the plan (and its printer); it never keeps its own copy.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ir::{AggKind, DataType, Expr, SourceSpan};

/// The plan of a set of requested features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The groups, in order of their first requested feature (a derived feature's
    /// aggregated inputs count from where it is requested).
    pub groups: Vec<GroupPlan>,
    /// The requested features in request order. A feature requested twice is computed
    /// once and appears twice here.
    pub outputs: Vec<Output>,
    /// The requested derived features (`Output::Derived` indexes this list), each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derived: Vec<DerivedPlan>,
}

/// A requested feature: an aggregation of a group, or a derived feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    Aggregate(FeatureRef),
    /// Index into `Plan::derived`.
    Derived(usize),
}

/// A derived feature as every backend evaluates it: one row expression over the
/// values of aggregated features at `t` and the request's fields, after the groups.
///
/// Invariants (`Plan::validate`): `expr`'s columns are exactly the names of `reads`'
/// features and the `column`s of `request`; derived features it used are inlined (it
/// reads aggregations only), so evaluation order does not matter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DerivedPlan {
    /// The feature's (project-wide) name.
    pub name: String,
    /// The view or service that declares it (Feast's "view" of the feature).
    pub owner: String,
    pub expr: Expr,
    /// The aggregated features the expression reads (`Expr::Column` by their names),
    /// each once, in order of first use.
    pub reads: Vec<FeatureRef>,
    /// The request fields it reads, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request: Vec<RequestField>,
    pub ty: DataType,
    pub nullable: bool,
    pub span: SourceSpan,
}

/// A request field a derived feature reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RequestField {
    /// The request's name.
    pub request: String,
    /// The field's name: the spine column (training sets) or request-context key
    /// (reads) that carries it.
    pub field: String,
    pub ty: DataType,
    pub nullable: bool,
}

impl DerivedPlan {
    /// What breaks the invariants in the type's docs, if anything; `feature_name`
    /// names an aggregated feature (`None`: it does not exist).
    pub fn problem<'a>(
        &self,
        feature_name: &dyn Fn(FeatureRef) -> Option<&'a str>,
    ) -> Option<String> {
        let mut names: Vec<String> = Vec::new();
        for r in &self.reads {
            match feature_name(*r) {
                Some(name) => names.push(name.to_string()),
                None => return Some(format!("reads {r:?}, which does not exist")),
            }
        }
        names.extend(self.request.iter().map(|f| f.column()));
        let mut used = Vec::new();
        self.expr.columns_into(&mut used);
        used.sort();
        names.sort();
        names.dedup();
        if used != names {
            return Some(format!(
                "its expression reads {used:?}, its plan lists {names:?}"
            ));
        }
        (self.expr.ty != self.ty).then(|| format!("its expression is {}", self.expr.ty.name()))
    }
}

impl RequestField {
    /// How expressions name it: `request.field` (`ir::request_column`).
    pub fn column(&self) -> String {
        crate::ir::request_column(&self.request, &self.field)
    }
}

/// A feature's place in a `Plan`: `groups[group].features[feature]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FeatureRef {
    pub group: usize,
    pub feature: usize,
}

/// The features of one (source, entity key columns) group: one sort (batch) or one
/// state per entity (stream) serves them all.
///
/// Invariants (`validate` checks them; `plan_groups` upholds them):
/// - `inputs` are pairwise different expressions (spans aside), and so are
///   `predicates`; every predicate is `Bool`; expressions name only the source's
///   columns and its time column (lets are inlined);
/// - every filter is a non-empty, strictly increasing list of predicate indices, and
///   filters are pairwise different; an event passes a filter when every one of its
///   predicates is true (null is false);
/// - every input and every filter is used by some feature;
/// - `FeaturePlan` invariants hold for every feature, and feature names are unique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupPlan {
    /// The source's name.
    pub source: String,
    /// The source's event-time column.
    pub time_column: String,
    /// The entity's name.
    pub entity: String,
    /// The entity key, in the entity's key order.
    pub keys: Vec<KeyColumn>,
    /// The aggregated expressions (the predicate of `count_if`).
    pub inputs: Vec<Expr>,
    /// The boolean expressions of the views' and features' `where`s.
    pub predicates: Vec<Expr>,
    /// Conjunctions of predicates (see the invariants).
    pub filters: Vec<Vec<usize>>,
    pub features: Vec<FeaturePlan>,
    /// The source's `delay` (µs, 0: none): a read at `t` reads the group's state at
    /// `t - delay_us`, so only events at or before it count. The features' windows
    /// and ttls are already the ones that read sees (see `lower::groups`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_us: i64,
    /// The span of the group's first view.
    pub span: SourceSpan,
    /// A group over several sources (a view `from a, b`): each of them, the first
    /// being `source`; empty for a group over `source` alone. The group then reads
    /// the union of their events: `time_column` is `UNION_TIME_COLUMN` (each
    /// member's own time), a column a member lacks is null for its events, and
    /// `ir::SOURCE_NAME_COLUMN` is the member's name (see `UnionMember`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub union: Vec<UnionMember>,
    /// The as-of lookups the group's expressions read (columns named
    /// `ir::Lookup::column_of`), each computed for every event before the group sees
    /// it (semantics.md, "As-of lookups").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lookups: Vec<LookupPlan>,
}

/// One as-of lookup of a group: the plan of the looked-up feature (its one output),
/// read for every event at its time, keyed by the event's columns `keys` (in the
/// looked-up entity's key order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LookupPlan {
    /// The column the group's expressions read it as.
    pub column: String,
    pub keys: Vec<String>,
    pub plan: Plan,
}

/// The time column of a group over several sources: each member's time column under
/// one name that no source column can have (it is not an identifier).
pub const UNION_TIME_COLUMN: &str = "time()";

/// One source of a group over several (`GroupPlan::union`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnionMember {
    pub source: String,
    /// The source's time column: the group's `UNION_TIME_COLUMN` for its events.
    pub time_column: String,
    /// The columns the group reads (`GroupPlan::columns_read`, its time column and
    /// `ir::SOURCE_NAME_COLUMN` aside) that the source has; the others are null for
    /// its events. Its own time column is one of them when the group reads it by name.
    pub columns: Vec<String>,
}

impl UnionMember {
    /// The source columns a scan of this member reads: its time column first, then
    /// `columns` (the key columns among them), each once.
    pub fn columns_read(&self) -> Vec<String> {
        let mut out = vec![self.time_column.clone()];
        for c in &self.columns {
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
        out
    }
}

impl GroupPlan {
    /// `columns_read` without the lookups' columns: what a scan of the group's
    /// source (or union) gives before the lookups are computed.
    pub fn scanned_columns(&self) -> Vec<String> {
        let lookup = |c: &String| self.lookups.iter().any(|l| l.column == *c);
        self.columns_read()
            .into_iter()
            .filter(|c| !lookup(c))
            .collect()
    }

    /// The sources the group reads, with their time columns: `source` alone, or
    /// each member of its union.
    pub fn sources(&self) -> Vec<(&str, &str)> {
        if self.union.is_empty() {
            vec![(self.source.as_str(), self.time_column.as_str())]
        } else {
            self.union
                .iter()
                .map(|m| (m.source.as_str(), m.time_column.as_str()))
                .collect()
        }
    }

    /// Whether the group reads `source`'s events.
    pub fn reads_source(&self, source: &str) -> bool {
        self.sources().iter().any(|(s, _)| *s == source)
    }

    /// What breaks the union's invariants, if anything: two members or more, the
    /// first being `source`, each named once; the union's time column; every key
    /// column in every member; a member's columns among those the group reads.
    fn union_problem(&self) -> Option<String> {
        let read = self.columns_read();
        let mut seen: HashSet<&str> = HashSet::new();
        if self.union.len() == 1 {
            return Some("a union of one source".to_string());
        }
        for (i, m) in self.union.iter().enumerate() {
            if i == 0 && (m.source != self.source || self.time_column != UNION_TIME_COLUMN) {
                return Some(format!(
                    "a union whose first member is `{}` and time column `{}`",
                    m.source, self.time_column
                ));
            }
            if !seen.insert(&m.source) {
                return Some(format!("source `{}` twice in a union", m.source));
            }
            if let Some(k) = self.keys.iter().find(|k| !m.columns.contains(&k.column)) {
                return Some(format!(
                    "key column `{}` is not in `{}`",
                    k.column, m.source
                ));
            }
            if let Some(c) = m.columns.iter().find(|c| !read.contains(c)) {
                return Some(format!("`{}`'s column `{c}` is not read", m.source));
            }
        }
        None
    }

    /// The time the group's state is read at for a read at `t`.
    pub fn state_time(&self, t: i64) -> i64 {
        t.saturating_sub(self.delay_us)
    }
}

/// One column of an entity key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KeyColumn {
    /// The entity's key name: how spines and readers name the key.
    pub name: String,
    /// The source column holding it.
    pub column: String,
    pub ty: DataType,
}

/// One feature of a group.
///
/// Invariants: `input` is `None` exactly for `count(*)`, and the input's type is one
/// `agg` accepts, giving `ty`; slots are in range; `window_us` and the ttl are
/// positive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeaturePlan {
    /// The feature's (project-wide) name.
    pub name: String,
    /// The view that declares it.
    pub view: String,
    pub agg: AggKind,
    /// Index into `GroupPlan::inputs`.
    pub input: Option<usize>,
    /// Index into `GroupPlan::filters`: the view's `where` and the feature's own;
    /// `None` when neither exists (every event of the group counts).
    pub filter: Option<usize>,
    /// `None` (and no `events`) is a lifetime feature.
    pub window_us: Option<i64>,
    /// A count window: only the `events` latest events of the window (of all events
    /// at or before the read, without `window_us`) count, in the order of
    /// semantics.md's "Count windows" (time, then the input's value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<u32>,
    /// The window is read at `t - shift_us` instead of `t`: the offset, plus 1 µs for
    /// an exclusive end (times are whole microseconds, so `[t - W, t)` is `(t' - W,
    /// t']` at `t' = t - 1`). 0 unless windowed or counted.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shift_us: i64,
    pub ttl: Option<TtlRule>,
    /// Index into `GroupPlan::filters`: the view's `where` alone (`None`: the view has
    /// none). The view's events are those passing it; a read reports the time of the
    /// latest one (the ttl, if any, counts them with the same slot).
    pub view_filter: Option<usize>,
    /// The result type.
    pub ty: DataType,
    pub span: SourceSpan,
}

impl FeaturePlan {
    /// Whether a read can give null: unless the aggregation is zero when empty and
    /// there is no ttl.
    pub fn nullable(&self) -> bool {
        self.agg.null_when_empty() || self.ttl.is_some()
    }
}

/// A view's ttl as one feature sees it: the feature is null at `t` when the entity
/// has no event passing `filter` (the view's `where`; `None`: every event) in
/// `(t - ttl_us, t]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TtlRule {
    pub ttl_us: i64,
    /// Index into `GroupPlan::filters`.
    pub filter: Option<usize>,
}

impl GroupPlan {
    /// The features' names, in order.
    pub fn feature_names(&self) -> impl Iterator<Item = &str> {
        self.features.iter().map(|f| f.name.as_str())
    }

    /// The source columns the group reads, each once: its key columns, its time
    /// column, over several sources `ir::SOURCE_NAME_COLUMN`, then the columns of its
    /// inputs and predicates in order of first use.
    pub fn columns_read(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for k in &self.keys {
            if !out.contains(&k.column) {
                out.push(k.column.clone());
            }
        }
        if !out.contains(&self.time_column) {
            out.push(self.time_column.clone());
        }
        // A union's rows say their source, so an error names the event's own.
        if !self.union.is_empty() {
            out.push(crate::ir::SOURCE_NAME_COLUMN.to_string());
        }
        for k in self.lookups.iter().flat_map(|l| &l.keys) {
            if !out.contains(k) {
                out.push(k.clone());
            }
        }
        for e in self.inputs.iter().chain(&self.predicates) {
            e.columns_into(&mut out);
        }
        out
    }

    /// What input slot `i` is, for messages: `the argument of feature `f` (view `v`)`.
    pub fn describe_input(&self, i: usize) -> String {
        match self.features.iter().find(|f| f.input == Some(i)) {
            Some(f) => format!("the argument of feature `{}` (view `{}`)", f.name, f.view),
            None => format!("input {i}"),
        }
    }

    /// The predicates (indices into `predicates`) of filter slot `filter`: none for
    /// `None` (every event passes), or for a slot out of range.
    pub fn predicates_of(&self, filter: Option<usize>) -> &[usize] {
        filter
            .and_then(|s| self.filters.get(s))
            .map_or(&[], Vec::as_slice)
    }

    /// What predicate `p` is, for messages: the `where` of a feature or of a view.
    pub fn describe_predicate(&self, p: usize) -> String {
        let in_filter = |slot: Option<usize>| self.predicates_of(slot).contains(&p);
        // A predicate in a ttl filter is a view's `where`; otherwise name a feature.
        if let Some(f) = self
            .features
            .iter()
            .find(|f| in_filter(f.ttl.and_then(|t| t.filter)))
        {
            return format!("the `where` of view `{}`", f.view);
        }
        match self.features.iter().find(|f| in_filter(f.filter)) {
            Some(f) => format!("a `where` of feature `{}` (view `{}`)", f.name, f.view),
            None => format!("predicate {p}"),
        }
    }

    /// The input slots' types, in slot order.
    pub fn input_types(&self) -> Vec<DataType> {
        self.inputs.iter().map(|e| e.ty).collect()
    }

    /// `source by key` or `source by (key, key)` (for messages and printers).
    pub fn describe(&self) -> String {
        let sources: Vec<&str> = self.sources().iter().map(|(s, _)| *s).collect();
        let sources = sources.join(" + ");
        match self.keys.as_slice() {
            [one] => format!("{sources} by {}", one.name),
            keys => {
                let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
                format!("{sources} by ({})", names.join(", "))
            }
        }
    }

    /// Checks the invariants in the type's docs (but the column names, which the
    /// executors check against the source's schema).
    pub fn validate(&self) -> Result<(), PlanInvariantError> {
        let err = |what: String| Err(PlanInvariantError::new(self, what));
        if let Some(i) = first_repeat(&self.inputs) {
            return err(format!("input {i} repeats an earlier input"));
        }
        if let Some(i) = first_repeat(&self.predicates) {
            return err(format!("predicate {i} repeats an earlier predicate"));
        }
        if let Some((i, e)) = self
            .predicates
            .iter()
            .enumerate()
            .find(|(_, e)| e.ty != DataType::Bool)
        {
            return err(format!("predicate {i} has type {}", e.ty.name()));
        }
        let mut seen_filters: HashSet<&[usize]> = HashSet::new();
        for (i, f) in self.filters.iter().enumerate() {
            let increasing = f.windows(2).all(|w| w[0] < w[1]);
            if f.is_empty() || !increasing || f.iter().any(|&p| p >= self.predicates.len()) {
                return err(format!("filter {i} is not a list of predicates {f:?}"));
            }
            if !seen_filters.insert(f) {
                return err(format!("filter {i} repeats an earlier filter"));
            }
        }
        if self.delay_us < 0 {
            return err(format!("a negative delay {}", self.delay_us));
        }
        if let Some(problem) = self.union_problem() {
            return err(problem);
        }
        let mut inputs_used = vec![false; self.inputs.len()];
        let mut filters_used = vec![false; self.filters.len()];
        let mut names: HashSet<&str> = HashSet::new();
        for f in &self.features {
            if !names.insert(&f.name) {
                return err(format!("feature `{}` appears twice", f.name));
            }
            let problem = self.feature_problem(f, &mut inputs_used, &mut filters_used);
            if let Some(what) = problem {
                return err(format!("feature `{}`: {what}", f.name));
            }
        }
        if let Some(i) = inputs_used.iter().position(|u| !u) {
            return err(format!("input {i} is not used"));
        }
        if let Some(i) = filters_used.iter().position(|u| !u) {
            return err(format!("filter {i} is not used"));
        }
        Ok(())
    }

    fn feature_problem(
        &self,
        f: &FeaturePlan,
        inputs_used: &mut [bool],
        filters_used: &mut [bool],
    ) -> Option<String> {
        let input_ty = match f.input {
            Some(i) => match self.inputs.get(i) {
                Some(e) => Some(e.ty),
                None => return Some(format!("input {i} out of range")),
            },
            None => None,
        };
        if let Some(i) = f.input {
            inputs_used[i] = true;
        }
        if (f.input.is_none()) != (f.agg == AggKind::CountStar) {
            return Some("an input is needed exactly when the aggregation is not count(*)".into());
        }
        if f.agg.result_type(input_ty) != Some(f.ty) {
            return Some(format!("{} does not give {}", f.agg.name(), f.ty.name()));
        }
        if f.ttl.is_some_and(|t| t.filter != f.view_filter) {
            return Some("the ttl's filter is not the view's `where`".into());
        }
        for slot in f
            .filter
            .iter()
            .chain(f.ttl.iter().flat_map(|t| t.filter.iter()))
            .chain(f.view_filter.iter())
        {
            match filters_used.get_mut(*slot) {
                Some(used) => *used = true,
                None => return Some(format!("filter {slot} out of range")),
            }
        }
        if f.window_us.is_some_and(|w| w <= 0) || f.ttl.is_some_and(|t| t.ttl_us <= 0) {
            return Some("a window or ttl is not positive".into());
        }
        let lifetime = f.window_us.is_none() && f.events.is_none();
        if f.shift_us < 0 || (f.shift_us > 0 && lifetime) {
            return Some("a window shift is negative or on a lifetime feature".into());
        }
        if f.events
            .is_some_and(|n| !(1..=AggKind::MAX_EVENTS).contains(&n))
        {
            return Some("a count window's number of events is out of range".into());
        }
        None
    }
}

impl Plan {
    /// The feature an output names (`None` when out of range).
    pub fn feature(&self, r: FeatureRef) -> Option<&FeaturePlan> {
        self.groups.get(r.group)?.features.get(r.feature)
    }

    /// The outputs' names and types, in output order.
    pub fn output_columns(&self) -> impl Iterator<Item = (&str, DataType)> {
        self.outputs.iter().filter_map(|o| self.output(*o))
    }

    /// An output's name and type (`None` when out of range).
    pub fn output(&self, o: Output) -> Option<(&str, DataType)> {
        match o {
            Output::Aggregate(r) => self.feature(r).map(|f| (f.name.as_str(), f.ty)),
            Output::Derived(d) => self.derived.get(d).map(|d| (d.name.as_str(), d.ty)),
        }
    }

    /// The request fields the outputs read, each once, in order of first use.
    pub fn request_fields(&self) -> Vec<&RequestField> {
        let mut out: Vec<&RequestField> = Vec::new();
        for d in &self.derived {
            for f in &d.request {
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
        out
    }

    /// The sources the plan reads, in first-use order, each with the columns its
    /// groups read (`GroupPlan::columns_read`, united): what a run needs of its data,
    /// and all it checks (docs/semantics.md, "Bad input").
    pub fn columns_read(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        let mut add = |source: &str, columns: Vec<String>| {
            let at = match out.iter().position(|(s, _)| *s == source) {
                Some(i) => i,
                None => {
                    out.push((source.to_string(), Vec::new()));
                    out.len() - 1
                }
            };
            for c in columns {
                if !out[at].1.contains(&c) {
                    out[at].1.push(c);
                }
            }
        };
        // The groups, then the groups of their lookups' plans (breadth first).
        let mut groups: Vec<&GroupPlan> = self.groups.iter().collect();
        let mut next = 0;
        while let Some(&g) = groups.get(next) {
            next += 1;
            if g.union.is_empty() {
                add(&g.source, g.scanned_columns());
            }
            for m in &g.union {
                add(&m.source, m.columns_read());
            }
            groups.extend(g.lookups.iter().flat_map(|l| &l.plan.groups));
        }
        out
    }

    /// Checks every group, every output reference and every derived feature.
    pub fn validate(&self) -> Result<(), PlanInvariantError> {
        for g in &self.groups {
            g.validate()?;
        }
        if let Some(o) = self.outputs.iter().find(|o| self.output(**o).is_none()) {
            return Err(PlanInvariantError {
                group: "outputs".into(),
                message: format!("output {o:?} does not exist"),
            });
        }
        for d in &self.derived {
            if let Some(message) = d.problem(&|r| self.feature(r).map(|f| f.name.as_str())) {
                return Err(PlanInvariantError {
                    group: d.owner.clone(),
                    message: format!("derived feature `{}`: {message}", d.name),
                });
            }
        }
        Ok(())
    }
}

/// A plan that breaks an invariant (an internal error, or a hand-edited graph).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanInvariantError {
    /// The group, as `source by key`.
    pub group: String,
    pub message: String,
}

impl PlanInvariantError {
    fn new(group: &GroupPlan, message: String) -> PlanInvariantError {
        PlanInvariantError {
            group: group.describe(),
            message,
        }
    }
}

impl fmt::Display for PlanInvariantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid plan of group `{}`: {}",
            self.group, self.message
        )
    }
}

impl std::error::Error for PlanInvariantError {}

/// The index of the first expression that repeats an earlier one (by `same_as`).
fn first_repeat(exprs: &[Expr]) -> Option<usize> {
    let mut set = DistinctExprs::default();
    exprs
        .iter()
        .enumerate()
        .find_map(|(i, e)| (!set.insert(e.clone()).1).then_some(i))
}

/// Expressions in insertion order, each once (by `Expr::same_as`), found in constant
/// expected time by their shape's hash (a plan of thousands of distinct predicates is
/// built in linear time).
#[derive(Debug, Clone, Default)]
pub struct DistinctExprs {
    exprs: Vec<Expr>,
    by_shape: HashMap<u64, Vec<usize>>,
}

impl DistinctExprs {
    /// The index of `e`, inserting it when new; and whether it was new.
    pub fn insert(&mut self, e: Expr) -> (usize, bool) {
        let bucket = self.by_shape.entry(e.shape_key()).or_default();
        if let Some(&i) = bucket.iter().find(|&&i| self.exprs[i].same_as(&e)) {
            return (i, false);
        }
        bucket.push(self.exprs.len());
        self.exprs.push(e);
        (self.exprs.len() - 1, true)
    }

    pub fn into_vec(self) -> Vec<Expr> {
        self.exprs
    }
}

/// Serde: an unshifted window is written as before window options existed.
fn is_zero(x: &i64) -> bool {
    *x == 0
}
