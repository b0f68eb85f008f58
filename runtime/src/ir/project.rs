//! A checked project's declarations: sources, entities, views, features, services
//! and requests, and how features are addressed (`FeatureId`) and looked up.

use serde::{Deserialize, Serialize};

use super::{AggKind, DataType, Expr, SourceSpan};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceId(pub usize);

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityId(pub usize);

/// A feature's address: a view's feature (an aggregation or a derived feature) or a
/// service's own derived feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureId {
    /// `views[view].features[feature]`
    View { view: usize, feature: usize },
    /// `services[service].own[feature]`
    Service { service: usize, feature: usize },
}

impl FeatureId {
    /// The view that declares the feature (`None` for a service's own feature).
    pub fn view(self) -> Option<usize> {
        match self {
            FeatureId::View { view, .. } => Some(view),
            FeatureId::Service { .. } => None,
        }
    }
}

/// A whole checked project. Every list is in declaration order (files in the order
/// of `files`, which the compiler sorts by path).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// File names (as given to the compiler), indexed by `SourceSpan::file`.
    pub files: Vec<String>,
    pub sources: Vec<Source>,
    pub entities: Vec<Entity>,
    pub views: Vec<View>,
    pub services: Vec<Service>,
    /// `request` declarations: values a read brings with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<Request>,
}

/// `request NAME { field: type ... }`: values that arrive with a read (`featc serve`'s
/// `request_context`) and, in a training set, as spine columns of the same names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub name: String,
    pub fields: Vec<Column>,
    pub meta: Meta,
    pub span: SourceSpan,
}

impl Request {
    /// How a derived feature's expression names field `field` (`Expr::Column`): the
    /// request and the field, `checkout.amount`. Feature names cannot hold a dot, so
    /// the two kinds of column never clash.
    pub fn column_name(&self, field: &str) -> String {
        request_column(&self.name, field)
    }
}

/// The column name of field `field` of request `request` in a derived feature's
/// expression: `request.field`.
pub fn request_column(request: &str, field: &str) -> String {
    format!("{request}.{field}")
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Meta {
    pub docs: Vec<String>,
    pub owner: Option<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub name: String,
    /// The event-time column (type `Timestamp`, never null); not listed in `columns`.
    pub time_column: String,
    pub columns: Vec<Column>,
    /// Its declared struct and map columns: expressions read them only through the
    /// path columns in `columns` (`ColumnPath::physical`), but a push or a record may
    /// carry them whether or not a view reads them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nested: Vec<NestedColumn>,
    /// Default data location as written in the file, resolved against the directory
    /// of the `.feat` file that declared it.
    pub location: Option<String>,
    /// The Kafka topic its live events arrive on, if declared.
    pub topic: Option<Topic>,
    /// Allowed lateness for streaming, in microseconds (0 when not declared).
    pub lateness_us: i64,
    /// `freshness D`: the source's freshness contract, in microseconds (a server
    /// reports a violation when its latest event is older than this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freshness_us: Option<i64>,
    /// `delay D`: an event is visible to reads only `D` µs after its time (0: none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_us: i64,
    /// `epoch U`: the unit of the integer values of its time column and timestamp
    /// columns (`None`: an integer time must be plausible microseconds, see
    /// `row::time::epoch_micros`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<EpochUnit>,
    /// `partition KEY by UNIT`: the hive folders of its data each hold the events of
    /// one unit of time (`io::partition` reads and checks them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<super::TimePartition>,
    pub meta: Meta,
    pub span: SourceSpan,
}

impl Source {
    /// The type of column `name` (the time column's is `Timestamp`), if it has one.
    pub fn column_type(&self, name: &str) -> Option<DataType> {
        if name == self.time_column {
            return Some(DataType::Timestamp);
        }
        self.columns.iter().find(|c| c.name == name).map(|c| c.ty)
    }
}

/// The unit a source's integer times count since 1970-01-01T00:00:00Z (`epoch s`,
/// `epoch ms`, `epoch us`, `epoch ns`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpochUnit {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

impl EpochUnit {
    /// Every unit, for messages.
    pub const ALL: [EpochUnit; 4] = [
        EpochUnit::Seconds,
        EpochUnit::Millis,
        EpochUnit::Micros,
        EpochUnit::Nanos,
    ];

    /// How the clause spells it.
    pub fn name(self) -> &'static str {
        match self {
            EpochUnit::Seconds => "s",
            EpochUnit::Millis => "ms",
            EpochUnit::Micros => "us",
            EpochUnit::Nanos => "ns",
        }
    }

    /// The unit the clause spells `name`.
    pub fn from_name(name: &str) -> Option<EpochUnit> {
        EpochUnit::ALL.into_iter().find(|u| u.name() == name)
    }

    /// How many digits a present-day time has in this unit (10 for seconds, 13 for
    /// milliseconds, 16 for microseconds, 19 for nanoseconds).
    pub fn present_digits(self) -> u32 {
        match self {
            EpochUnit::Seconds => 10,
            EpochUnit::Millis => 13,
            EpochUnit::Micros => 16,
            EpochUnit::Nanos => 19,
        }
    }
}

/// `topic "name" format F` of a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topic {
    pub name: String,
    pub format: TopicFormat,
    pub span: SourceSpan,
}

/// How a topic's records are encoded. The schema files of Avro and Protobuf are read
/// and checked when the project is compiled; the IR holds what was checked (the
/// Avro schema's text, the Protobuf files compiled to descriptors), so the server
/// decodes with exactly that, whatever the files say later.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TopicFormat {
    /// One JSON object per record, its keys the source's columns (and time column).
    Json,
    /// One Avro datum per record, of a record schema whose fields are the columns.
    Avro(AvroFormat),
    /// One Protobuf message per record, whose fields are the columns.
    Protobuf(ProtobufFormat),
}

/// `format avro "schema.avsc" [confluent ID]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AvroFormat {
    /// The schema file, relative to the declaring file's folder as `file` is.
    pub file: String,
    /// Its text (JSON), as checked.
    pub schema: String,
    /// `confluent ID`: each record is framed (magic byte 0, then `ID` as four
    /// big-endian bytes, then the datum) and must carry exactly this id.
    pub confluent: Option<u32>,
}

/// `format protobuf "file.proto" "Message" [confluent ID]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProtobufFormat {
    /// The `.proto` file, relative to the declaring file's folder as `file` is.
    pub file: String,
    /// The message's full name (`package.Message`).
    pub message: String,
    /// The file and its imports compiled: an encoded `FileDescriptorSet`.
    pub descriptors: Vec<u8>,
    /// `confluent ID`: each record is framed (magic byte 0, `ID` as four big-endian
    /// bytes, the message indexes as varints, then the message) and must carry this
    /// id.
    pub confluent: Option<u32>,
}

impl TopicFormat {
    /// Every format's name, for messages.
    pub const NAMES: [&'static str; 3] = ["json", "avro", "protobuf"];

    pub fn name(&self) -> &'static str {
        match self {
            TopicFormat::Json => "json",
            TopicFormat::Avro(_) => "avro",
            TopicFormat::Protobuf(_) => "protobuf",
        }
    }

    /// The clause after `format`, its strings quoted as the IR printer quotes them
    /// and its schema file as resolved (`avro 'dir/x.avsc' confluent 42`).
    pub fn clause(&self) -> String {
        let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let confluent = |id: Option<u32>| id.map_or(String::new(), |id| format!(" confluent {id}"));
        match self {
            TopicFormat::Json => "json".into(),
            TopicFormat::Avro(a) => format!("avro {}{}", quote(&a.file), confluent(a.confluent)),
            TopicFormat::Protobuf(p) => format!(
                "protobuf {} {}{}",
                quote(&p.file),
                quote(&p.message),
                confluent(p.confluent)
            ),
        }
    }
}

/// A declared struct or map column (`Source::nested`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NestedColumn {
    pub name: String,
    /// Its type as written, without the `?`: `struct<city: string?>`.
    pub written: String,
    pub nullable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub ty: DataType,
    pub nullable: bool,
    pub span: SourceSpan,
    /// For a source's column read out of a struct or map column (its name is the
    /// path as written, `address.city`): where its values come from. `None` for a
    /// declared column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<super::ColumnPath>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub name: String,
    /// Key columns, in order; never nullable.
    pub keys: Vec<Column>,
    pub meta: Meta,
    pub span: SourceSpan,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct View {
    pub name: String,
    /// The view's (first) source.
    pub source: SourceId,
    /// The sources after the first of a view over several (`from a, b`): the view
    /// reads the union of their events (semantics.md, "Views over several sources").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_sources: Vec<SourceId>,
    pub entity: EntityId,
    /// The source column bound to each entity key column, in the entity's order.
    pub key_columns: Vec<String>,
    /// All `where` clauses combined with `and`; rows where it is false or null are dropped.
    pub filter: Option<Expr>,
    /// Derived columns in declaration order; each may use the source's columns and
    /// earlier lets (by `Expr::Column` with the let's name). A lookup's let reads its
    /// `Lookup::column`.
    pub lets: Vec<Let>,
    /// As-of lookups (`let risk = merchants.risk at merchant_id`), in declaration order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lookups: Vec<Lookup>,
    pub features: Vec<Feature>,
    pub ttl_us: Option<i64>,
    /// `freshness D`: the view's freshness contract on its source, in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freshness_us: Option<i64>,
    pub meta: Meta,
    pub span: SourceSpan,
}

/// An as-of lookup: another view's aggregated feature evaluated at each event's time
/// for the entity whose key the event's columns `keys` hold (semantics.md, "As-of
/// lookups"). The view's expressions read it as the column `column`, which names the
/// lookup itself (`merchants.risk at merchant_id`), so that two views grouped together
/// share one lookup and no source column can have its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lookup {
    /// The let's name.
    pub name: String,
    pub column: String,
    pub feature: FeatureId,
    /// The view's source columns holding the looked-up entity's key, in its order.
    pub keys: Vec<String>,
    pub ty: DataType,
    pub span: SourceSpan,
}

impl Lookup {
    /// The column a lookup of `view.feature` at `keys` is read as.
    pub fn column_of(view: &str, feature: &str, keys: &[String]) -> String {
        format!("{view}.{feature} at {}", keys.join(", "))
    }

    /// Whether a column name is a lookup's (`column_of`).
    pub fn is_lookup_column(name: &str) -> bool {
        name.contains(" at ")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Let {
    pub name: String,
    pub expr: Expr,
    pub span: SourceSpan,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    pub name: String,
    pub kind: FeatureKind,
    /// The result type: `AggKind::result_type` for an aggregation, the expression's
    /// for a derived feature.
    pub ty: DataType,
    pub meta: Meta,
    pub span: SourceSpan,
}

/// What a feature computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// An aggregation over the view's events.
    Aggregate(Aggregate),
    /// A row expression over other features' values (and, in a service, request
    /// fields), evaluated after the aggregations at the same time `t`.
    Derived(Derived),
}

/// A derived feature's expression. Its `Expr::Column`s name features by their global
/// name and request fields as `Request::column_name` (`checkout.amount`); `reads`
/// lists the features it names, each once, in order of first use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    pub expr: Expr,
    pub reads: Vec<FeatureId>,
    /// The request fields it names, as `(request index, field index)`, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_fields: Vec<(usize, usize)>,
}

/// An aggregation feature's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub agg: AggKind,
    /// The aggregated expression (the predicate for `count_if`); `None` for `count(*)`.
    pub arg: Option<Expr>,
    /// The per-feature `where`, applied after the view's filter.
    pub filter: Option<Expr>,
    /// `None` (and no `events`) is a lifetime feature.
    pub window_us: Option<i64>,
    /// `over N events` (no `window_us`) or `over W max N events`: only the `N` latest
    /// of the window's events count (semantics.md, "Count windows").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<u32>,
    /// `over W offset O`: the window ends `O` before the read time (µs; 0: none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub offset_us: i64,
    /// `over W exclusive`: the window's end is open, `[t - W, t)` (with the offset
    /// applied first).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclusive_end: bool,
}

impl Feature {
    /// The aggregation, `None` for a derived feature.
    pub fn aggregate(&self) -> Option<&Aggregate> {
        match &self.kind {
            FeatureKind::Aggregate(a) => Some(a),
            FeatureKind::Derived(_) => None,
        }
    }

    /// The expression, `None` for an aggregation.
    pub fn derived(&self) -> Option<&Derived> {
        match &self.kind {
            FeatureKind::Derived(d) => Some(d),
            FeatureKind::Aggregate(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    /// The service's features in order: views' features and its own.
    pub features: Vec<FeatureId>,
    /// The derived features the service itself defines (`FeatureId::Service`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub own: Vec<Feature>,
    pub meta: Meta,
    pub span: SourceSpan,
}

impl View {
    /// Every source of the view, the first one first.
    pub fn sources(&self) -> impl Iterator<Item = SourceId> + '_ {
        std::iter::once(self.source).chain(self.more_sources.iter().copied())
    }

    /// The names the view's `where` and its aggregations `features` (indexes) read,
    /// through the lets they use, transitively: source columns, lets and lookup
    /// columns. Only these are computed on any path: an unread let or lookup is
    /// never evaluated, so it can neither fail a run nor make it read a source.
    pub fn names_read(&self, features: &[usize]) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let exprs = self.filter.iter().chain(features.iter().flat_map(|&f| {
            self.features
                .get(f)
                .and_then(Feature::aggregate)
                .into_iter()
                .flat_map(|a| a.filter.iter().chain(a.arg.iter()))
        }));
        for e in exprs {
            e.columns_into(&mut names);
        }
        // A let reads only earlier lets: one pass from the last adds what each needs.
        for l in self.lets.iter().rev() {
            if names.contains(&l.name) {
                l.expr.columns_into(&mut names);
            }
        }
        names
    }

    /// The lookups `names_read(features)` reads, in declaration order.
    pub fn lookups_read(&self, features: &[usize]) -> Vec<&Lookup> {
        let names = self.names_read(features);
        self.lookups
            .iter()
            .filter(|l| names.contains(&l.column))
            .collect()
    }

    /// Whether `feature` (of this view) can read null: an aggregation unless it is
    /// zero when empty and the view has no ttl; a derived feature when its expression
    /// can be.
    pub fn can_be_null(&self, feature: &Feature) -> bool {
        match &feature.kind {
            FeatureKind::Aggregate(a) => a.agg.null_when_empty() || self.ttl_us.is_some(),
            FeatureKind::Derived(d) => d.expr.nullable,
        }
    }
}

impl Project {
    /// The feature at `id` (which must come from this project).
    pub fn feature(&self, id: FeatureId) -> &Feature {
        match id {
            FeatureId::View { view, feature } => &self.views[view].features[feature],
            FeatureId::Service { service, feature } => &self.services[service].own[feature],
        }
    }

    /// The feature at `id`, `None` when `id` is not of this project.
    pub fn get_feature(&self, id: FeatureId) -> Option<&Feature> {
        match id {
            FeatureId::View { view, feature } => self.views.get(view)?.features.get(feature),
            FeatureId::Service { service, feature } => self.services.get(service)?.own.get(feature),
        }
    }

    /// Whether the feature can read null (see `View::can_be_null`).
    pub fn can_be_null(&self, id: FeatureId) -> bool {
        match id {
            FeatureId::View { view, .. } => self.views[view].can_be_null(self.feature(id)),
            FeatureId::Service { .. } => self.feature(id).derived().is_none_or(|d| d.expr.nullable),
        }
    }

    /// The aggregations `features` compute, each once in order of first use: derived
    /// features are replaced by the aggregations they read, transitively (a checked
    /// project's derived features form no cycle; a repeat is skipped regardless).
    pub fn aggregations_of(&self, features: &[FeatureId]) -> Vec<FeatureId> {
        let mut out: Vec<FeatureId> = Vec::new();
        let mut seen: std::collections::HashSet<FeatureId> = std::collections::HashSet::new();
        let mut stack: Vec<FeatureId> = features.iter().rev().copied().collect();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            match &self.feature(id).kind {
                FeatureKind::Aggregate(_) => out.push(id),
                FeatureKind::Derived(d) => stack.extend(d.reads.iter().rev()),
            }
        }
        out
    }

    /// Every feature of the project, in declaration order: the views' features, then
    /// the services' own.
    pub fn all_features(&self) -> Vec<FeatureId> {
        let mut out = Vec::new();
        for (v, view) in self.views.iter().enumerate() {
            for f in 0..view.features.len() {
                out.push(FeatureId::View {
                    view: v,
                    feature: f,
                });
            }
        }
        for (s, service) in self.services.iter().enumerate() {
            for f in 0..service.own.len() {
                out.push(FeatureId::Service {
                    service: s,
                    feature: f,
                });
            }
        }
        out
    }

    /// Looks a feature up by its (global) name.
    pub fn feature_by_name(&self, name: &str) -> Option<FeatureId> {
        self.all_features()
            .into_iter()
            .find(|id| self.feature(*id).name == name)
    }
}

fn is_zero(x: &i64) -> bool {
    *x == 0
}
