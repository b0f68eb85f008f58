//! The typed IR of a featc project: sources, entities, views, features and services,
//! with names resolved, every expression typed, and spans kept for diagnostics.
//!
//! `featc::check` produces it; the reference interpreter, the batch lowering and the
//! stream lowering all consume the same value. It lives in the runtime so that an
//! embedding pipeline needs only this crate (it is plain serde data).
//!
//! Invariants a checked `Project` upholds (consumers may rely on them):
//! - names are unique: sources, entities, views and services each in their own
//!   namespace; feature names across the whole project;
//! - every `Expr` is well typed, `ty` is its result type and `nullable` is true when
//!   it can evaluate to null;
//! - a view's `filter`, a feature's `filter` and `count_if`'s argument are `Bool`;
//! - `arg` is `None` exactly for `count(*)`; its type is accepted by the aggregation;
//! - windows, ttl and lateness are positive microsecond counts;
//! - `key_columns` has one source column per entity key column, of the same type;
//! - derived features form no cycle; a view's derived feature reads only features of
//!   its view's entity and no request field; a service's may read any feature and the
//!   fields of declared requests; `Derived::reads`/`request_fields` list exactly the
//!   names its expression uses.

use serde::{Deserialize, Serialize};

/// A byte range of a `.feat` file, kept so that later stages can point at the text a
/// node came from. `file` indexes `Project::files`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Span {
    pub file: u32,
    pub start: u32,
    pub end: u32,
}

/// The value types of the language: the scalar types of columns and expressions,
/// and the list types that only some aggregations produce (`last_k`, `first_k`,
/// `top_k`). A list is never a source column, an entity key or an operand: no
/// expression reads one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    Int64,
    Float64,
    String,
    Bool,
    /// Microseconds since the Unix epoch, UTC.
    Timestamp,
    /// A list-valued aggregation's result.
    List(ListType),
}

/// The scalar types, as the items of a list type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scalar {
    Int64,
    Float64,
    String,
    Bool,
    Timestamp,
}

impl Scalar {
    /// Every scalar type, in `DataType`'s order.
    pub const ALL: [Scalar; 5] = [
        Scalar::Int64,
        Scalar::Float64,
        Scalar::String,
        Scalar::Bool,
        Scalar::Timestamp,
    ];

    /// The same type as a `DataType`.
    pub fn data_type(self) -> DataType {
        match self {
            Scalar::Int64 => DataType::Int64,
            Scalar::Float64 => DataType::Float64,
            Scalar::String => DataType::String,
            Scalar::Bool => DataType::Bool,
            Scalar::Timestamp => DataType::Timestamp,
        }
    }

    pub fn name(self) -> &'static str {
        self.data_type().name()
    }
}

/// A list type: `list<T>` (`last_k`, `first_k`), or with `counted`, a list of
/// `(value, count)` entries, `list<struct<value: T, count: int64>>` (`top_k`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ListType {
    pub item: Scalar,
    pub counted: bool,
}

impl ListType {
    /// The name printers and messages use (`list<int64>`,
    /// `list<struct<value: string, count: int64>>`).
    pub fn name(self) -> &'static str {
        use Scalar::*;
        match (self.item, self.counted) {
            (Int64, false) => "list<int64>",
            (Float64, false) => "list<float64>",
            (String, false) => "list<string>",
            (Bool, false) => "list<bool>",
            (Timestamp, false) => "list<timestamp>",
            (Int64, true) => "list<struct<value: int64, count: int64>>",
            (Float64, true) => "list<struct<value: float64, count: int64>>",
            (String, true) => "list<struct<value: string, count: int64>>",
            (Bool, true) => "list<struct<value: bool, count: int64>>",
            (Timestamp, true) => "list<struct<value: timestamp, count: int64>>",
        }
    }
}

impl DataType {
    /// The name used in `.feat` files and in printers.
    pub fn name(self) -> &'static str {
        match self {
            DataType::Int64 => "int64",
            DataType::Float64 => "float64",
            DataType::String => "string",
            DataType::Bool => "bool",
            DataType::Timestamp => "timestamp",
            DataType::List(l) => l.name(),
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, DataType::Int64 | DataType::Float64)
    }

    /// The type as a scalar; `None` for a list type.
    pub fn scalar(self) -> Option<Scalar> {
        Some(match self {
            DataType::Int64 => Scalar::Int64,
            DataType::Float64 => Scalar::Float64,
            DataType::String => Scalar::String,
            DataType::Bool => Scalar::Bool,
            DataType::Timestamp => Scalar::Timestamp,
            DataType::List(_) => return None,
        })
    }

    /// The list type, for a list type.
    pub fn list(self) -> Option<ListType> {
        match self {
            DataType::List(l) => Some(l),
            _ => None,
        }
    }
}

impl From<Scalar> for DataType {
    fn from(s: Scalar) -> DataType {
        s.data_type()
    }
}

/// A literal value in an expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Literal {
    /// A typed null (its type is the expression's `ty`).
    Null,
    Int64(i64),
    Float64(f64),
    String(String),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
    /// File names (as given to the compiler), indexed by `Span::file`.
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
    pub span: Span,
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
    pub meta: Meta,
    pub span: Span,
}

/// `topic "name" format F` of a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topic {
    pub name: String,
    pub format: TopicFormat,
    pub span: Span,
}

/// How a topic's records are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TopicFormat {
    /// One JSON object per record, its keys the source's columns (and time column).
    Json,
}

impl TopicFormat {
    /// Every format, for messages.
    pub const ALL: [TopicFormat; 1] = [TopicFormat::Json];

    pub fn name(self) -> &'static str {
        match self {
            TopicFormat::Json => "json",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub ty: DataType,
    pub nullable: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub name: String,
    /// Key columns, in order; never nullable.
    pub keys: Vec<Column>,
    pub meta: Meta,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct View {
    pub name: String,
    pub source: SourceId,
    pub entity: EntityId,
    /// The source column bound to each entity key column, in the entity's order.
    pub key_columns: Vec<String>,
    /// All `where` clauses combined with `and`; rows where it is false or null are dropped.
    pub filter: Option<Expr>,
    /// Derived columns in declaration order; each may use the source's columns and
    /// earlier lets (by `Expr::Column` with the let's name).
    pub lets: Vec<Let>,
    pub features: Vec<Feature>,
    pub ttl_us: Option<i64>,
    /// `freshness D`: the view's freshness contract on its source, in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freshness_us: Option<i64>,
    pub meta: Meta,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Let {
    pub name: String,
    pub expr: Expr,
    pub span: Span,
}

/// The `p` of `percentile(x, p)`: a fraction in [0, 1], exact (the decimal literal as
/// a reduced fraction, so `0.95` is 19/20 and `0.50` is `0.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Quantile {
    num: u64,
    den: u64,
}

impl Quantile {
    /// `median(x)`'s quantile.
    pub const MEDIAN: Quantile = Quantile { num: 1, den: 2 };

    /// `num / den` reduced; `None` unless `0 <= num <= den` and `den > 0`.
    pub fn new(num: u64, den: u64) -> Option<Quantile> {
        if den == 0 || num > den {
            return None;
        }
        let (mut a, mut b) = (num, den);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        Some(Quantile {
            num: num / a,
            den: den / a,
        })
    }

    /// The quantile a decimal literal spells (`0.95`, `1`, `0`, `.5` is not one: the
    /// language writes `0.5`); `None` for anything else or a value outside [0, 1].
    pub fn from_decimal(text: &str) -> Option<Quantile> {
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 18 {
            return None;
        }
        let den = 10u64.checked_pow(frac.len() as u32)?;
        let int: u64 = int.parse().ok()?;
        let frac_value: u64 = if frac.is_empty() {
            0
        } else {
            frac.parse().ok()?
        };
        let num = int.checked_mul(den)?.checked_add(frac_value)?;
        Quantile::new(num, den)
    }

    pub fn num(self) -> u64 {
        self.num
    }

    pub fn den(self) -> u64 {
        self.den
    }

    /// The 1-based rank of the value `percentile` picks among `n > 0` sorted values:
    /// the nearest rank `ceil(p * n)`, at least 1 (so `p = 0` is the minimum).
    pub fn rank(self, n: u64) -> u64 {
        let scaled = u128::from(self.num) * u128::from(n);
        let rank = scaled.div_ceil(u128::from(self.den));
        u64::try_from(rank).unwrap_or(n).clamp(1, n.max(1))
    }
}

/// The decimal it was written as (`0.95`, `0.5`, `1`): a reduced fraction of a
/// decimal literal has a denominator `2^a 5^b`, so it has a finite decimal form.
impl std::fmt::Display for Quantile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.num == self.den {
            return write!(f, "1");
        }
        if self.num == 0 {
            return write!(f, "0");
        }
        let mut digits = String::new();
        let mut rest = u128::from(self.num);
        let den = u128::from(self.den);
        // At most 60 digits: a denominator from an 18-digit literal needs 18.
        while rest != 0 && digits.len() < 60 {
            rest *= 10;
            digits.push(char::from(b'0' + (rest / den) as u8));
            rest %= den;
        }
        write!(f, "0.{digits}")
    }
}

/// The aggregations of semantics.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggKind {
    /// `count(*)`
    CountStar,
    /// `count(x)`: non-null values
    Count,
    /// `count_if(p)`: rows where p is true
    CountIf,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    VarPop,
    StddevPop,
    First,
    Last,
    /// `percentile(x, p)` (`median(x)` is `p = 0.5`): the nearest-rank percentile.
    Percentile(Quantile),
    /// `last_k(x, k)`: the `k` latest non-null values, newest first.
    LastK(u32),
    /// `first_k(x, k)`: the `k` earliest non-null values, oldest first.
    FirstK(u32),
    /// `top_k(x, k)`: the `k` most frequent non-null values with their counts.
    TopK(u32),
}

impl AggKind {
    /// The function name as written in `.feat` files.
    pub fn name(self) -> &'static str {
        match self {
            AggKind::CountStar | AggKind::Count => "count",
            AggKind::CountIf => "count_if",
            AggKind::CountDistinct => "count_distinct",
            AggKind::Sum => "sum",
            AggKind::Avg => "avg",
            AggKind::Min => "min",
            AggKind::Max => "max",
            AggKind::VarPop => "var_pop",
            AggKind::StddevPop => "stddev_pop",
            AggKind::First => "first",
            AggKind::Last => "last",
            AggKind::Percentile(_) => "percentile",
            AggKind::LastK(_) => "last_k",
            AggKind::FirstK(_) => "first_k",
            AggKind::TopK(_) => "top_k",
        }
    }

    /// The largest `k` of `last_k`, `first_k` and `top_k` (a list feature's state and
    /// value stay bounded by it).
    pub const MAX_K: u32 = 1000;

    /// The `k` of a list aggregation.
    pub fn list_length(self) -> Option<u32> {
        match self {
            AggKind::LastK(k) | AggKind::FirstK(k) | AggKind::TopK(k) => Some(k),
            _ => None,
        }
    }

    /// The arguments after the aggregated one, as written (`percentile(x, 0.95)`'s
    /// `0.95`); `None` for aggregations with one argument.
    pub fn parameters(self) -> Option<String> {
        match self {
            AggKind::Percentile(q) => Some(q.to_string()),
            AggKind::LastK(k) | AggKind::FirstK(k) | AggKind::TopK(k) => Some(k.to_string()),
            _ => None,
        }
    }

    /// The result type for an argument of type `arg` (`None` for `count(*)`), or
    /// `None` when the aggregation does not accept that type.
    pub fn result_type(self, arg: Option<DataType>) -> Option<DataType> {
        use DataType::*;
        // Lists are results only: no aggregation reads one.
        if arg.is_some_and(|t| t.scalar().is_none()) {
            return None;
        }
        match (self, arg) {
            (AggKind::CountStar, None) => Some(Int64),
            (AggKind::Count | AggKind::CountDistinct, Some(_)) => Some(Int64),
            (AggKind::CountIf, Some(Bool)) => Some(Int64),
            (AggKind::Sum, Some(t @ (Int64 | Float64))) => Some(t),
            (AggKind::Avg | AggKind::VarPop | AggKind::StddevPop, Some(Int64 | Float64)) => {
                Some(Float64)
            }
            (AggKind::Min | AggKind::Max | AggKind::First | AggKind::Last, Some(t)) => Some(t),
            (AggKind::Percentile(_), Some(t @ (Int64 | Float64))) => Some(t),
            (AggKind::LastK(_) | AggKind::FirstK(_), Some(t)) => Some(List(ListType {
                item: t.scalar()?,
                counted: false,
            })),
            (AggKind::TopK(_), Some(t)) => Some(List(ListType {
                item: t.scalar()?,
                counted: true,
            })),
            _ => None,
        }
    }

    /// True when the value over an empty window is null (false: it is 0, or for a
    /// list aggregation the empty list).
    pub fn null_when_empty(self) -> bool {
        !matches!(
            self,
            AggKind::CountStar
                | AggKind::Count
                | AggKind::CountIf
                | AggKind::CountDistinct
                | AggKind::Sum
                | AggKind::LastK(_)
                | AggKind::FirstK(_)
                | AggKind::TopK(_)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    pub name: String,
    pub kind: FeatureKind,
    /// The result type: `AggKind::result_type` for an aggregation, the expression's
    /// for a derived feature.
    pub ty: DataType,
    pub meta: Meta,
    pub span: Span,
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
    /// `None` is a lifetime feature.
    pub window_us: Option<i64>,
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
    pub span: Span,
}

/// A typed per-row expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: DataType,
    pub nullable: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExprKind {
    /// A source column (including the time column, as `Timestamp`) or an earlier `let`.
    Column(String),
    Literal(Literal),
    /// Numeric promotion inserted by `check` (int64 to float64 only).
    Cast(Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// Every item has the type of `expr` (after promotion).
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// First non-null argument; all arguments share the result type.
    Coalesce(Vec<Expr>),
    /// `case when c then v ... else e end` (and `if(c, a, b)`); a null condition is false.
    Case {
        branches: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    /// A row function (`abs(x)`, `substr(s, 1, 3)`, ...): every argument is
    /// evaluated, then the function; argument types as `Function::result_type` takes
    /// them (ints already cast where it wants floats).
    Call {
        func: Function,
        args: Vec<Expr>,
    },
}

impl ExprKind {
    /// This node with every child expression replaced by `f` of it (a leaf is
    /// cloned): the one place that lists a node's children for a rewrite, so a
    /// rewriter matches only the nodes it changes.
    pub fn try_map_children<E>(
        &self,
        f: &mut dyn FnMut(&Expr) -> Result<Expr, E>,
    ) -> Result<ExprKind, E> {
        let mut boxed = |e: &Expr| f(e).map(Box::new);
        Ok(match self {
            ExprKind::Column(_) | ExprKind::Literal(_) => self.clone(),
            ExprKind::Cast(e) => ExprKind::Cast(boxed(e)?),
            ExprKind::Not(e) => ExprKind::Not(boxed(e)?),
            ExprKind::Neg(e) => ExprKind::Neg(boxed(e)?),
            ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
                op: *op,
                lhs: boxed(lhs)?,
                rhs: boxed(rhs)?,
            },
            ExprKind::IsNull { expr, negated } => ExprKind::IsNull {
                expr: boxed(expr)?,
                negated: *negated,
            },
            ExprKind::InList {
                expr,
                list,
                negated,
            } => ExprKind::InList {
                expr: boxed(expr)?,
                list: list.iter().map(&mut *f).collect::<Result<_, E>>()?,
                negated: *negated,
            },
            ExprKind::Coalesce(args) => {
                ExprKind::Coalesce(args.iter().map(&mut *f).collect::<Result<_, E>>()?)
            }
            ExprKind::Call { func, args } => ExprKind::Call {
                func: *func,
                args: args.iter().map(&mut *f).collect::<Result<_, E>>()?,
            },
            ExprKind::Case {
                branches,
                otherwise,
            } => ExprKind::Case {
                branches: branches
                    .iter()
                    .map(|(c, v)| Ok((f(c)?, f(v)?)))
                    .collect::<Result<_, E>>()?,
                otherwise: match otherwise {
                    Some(o) => Some(Box::new(f(o)?)),
                    None => None,
                },
            },
        })
    }
}

/// The row functions (semantics.md, "Functions"). A function is null when any
/// argument is null, except where said. Argument types are the checked ones, after
/// the casts `check` inserts: an int64 where a function computes on float64 is cast
/// (`sqrt(n)` is `sqrt(float64(n))`), and the arguments of `least`, `greatest` and
/// `nullif` are unified like `coalesce`'s (int64 with float64 gives float64).
///
/// | function | arguments | result | null also when |
/// |---|---|---|---|
/// | `abs(x)` | int64 or float64 | type of x (int64 `abs(i64::MIN)` is an overflow error) | |
/// | `sqrt(x)`, `ln(x)`, `exp(x)` | float64 | float64 | `sqrt`: x < 0; `ln`: x <= 0 |
/// | `pow(x, y)` | float64, float64 | float64 | |
/// | `floor(x)`, `ceil(x)`, `round(x)` | int64 or float64 | type of x (ints unchanged) | |
/// | `least(a, b, ...)`, `greatest(a, b, ...)` | two or more of one type | that type | only when every argument is null |
/// | `nullif(a, b)` | two of one type | that type | a = b (a null b gives a) |
/// | `lower(s)`, `upper(s)` | string | string | |
/// | `length(s)` | string | int64 | |
/// | `starts_with(s, p)`, `ends_with(s, p)`, `contains(s, p)` | string, string | bool | |
/// | `concat(a, ...)` | one or more strings | string | |
/// | `substr(s, start[, len])` | string, int64[, int64] | string | len < 0 |
/// | `haversine(lat1, lon1, lat2, lon2)` | four float64 | float64 | |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Function {
    Abs,
    Sqrt,
    Ln,
    Exp,
    Pow,
    Floor,
    Ceil,
    Round,
    Least,
    Greatest,
    Nullif,
    Lower,
    Upper,
    Length,
    StartsWith,
    EndsWith,
    Contains,
    Concat,
    Substr,
    Haversine,
}

/// How many arguments a function takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    Exactly(usize),
    AtLeast(usize),
    /// From the first to the second, inclusive.
    Between(usize, usize),
}

impl Arity {
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k,
            Arity::AtLeast(k) => n >= k,
            Arity::Between(lo, hi) => (lo..=hi).contains(&n),
        }
    }

    /// As a diagnostic says it: `1`, `at least 2`, `2 or 3`.
    pub fn describe(self) -> &'static str {
        match self {
            Arity::Exactly(1) => "1",
            Arity::Exactly(2) => "2",
            Arity::Exactly(3) => "3",
            Arity::Exactly(4) => "4",
            Arity::AtLeast(1) => "at least 1",
            Arity::AtLeast(2) => "at least 2",
            Arity::Between(2, 3) => "2 or 3",
            // No function has another arity (the tests of `Function::ALL` check it).
            _ => "another number of",
        }
    }
}

impl Function {
    /// Every function, in the order the docs list them.
    pub const ALL: [Function; 20] = [
        Function::Abs,
        Function::Sqrt,
        Function::Ln,
        Function::Exp,
        Function::Pow,
        Function::Floor,
        Function::Ceil,
        Function::Round,
        Function::Least,
        Function::Greatest,
        Function::Nullif,
        Function::Lower,
        Function::Upper,
        Function::Length,
        Function::StartsWith,
        Function::EndsWith,
        Function::Contains,
        Function::Concat,
        Function::Substr,
        Function::Haversine,
    ];

    /// The name as written in `.feat` files.
    pub fn name(self) -> &'static str {
        match self {
            Function::Abs => "abs",
            Function::Sqrt => "sqrt",
            Function::Ln => "ln",
            Function::Exp => "exp",
            Function::Pow => "pow",
            Function::Floor => "floor",
            Function::Ceil => "ceil",
            Function::Round => "round",
            Function::Least => "least",
            Function::Greatest => "greatest",
            Function::Nullif => "nullif",
            Function::Lower => "lower",
            Function::Upper => "upper",
            Function::Length => "length",
            Function::StartsWith => "starts_with",
            Function::EndsWith => "ends_with",
            Function::Contains => "contains",
            Function::Concat => "concat",
            Function::Substr => "substr",
            Function::Haversine => "haversine",
        }
    }

    /// The function a `.feat` name calls.
    pub fn by_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn arity(self) -> Arity {
        use Function::*;
        match self {
            Abs | Sqrt | Ln | Exp | Floor | Ceil | Round | Lower | Upper | Length => {
                Arity::Exactly(1)
            }
            Pow | Nullif | StartsWith | EndsWith | Contains => Arity::Exactly(2),
            Least | Greatest => Arity::AtLeast(2),
            Concat => Arity::AtLeast(1),
            Substr => Arity::Between(2, 3),
            Haversine => Arity::Exactly(4),
        }
    }

    /// The result type for checked arguments of types `args` (see the table above),
    /// or `None` when the function does not take them.
    pub fn result_type(self, args: &[DataType]) -> Option<DataType> {
        use DataType::*;
        use Function::*;
        if !self.arity().accepts(args.len()) {
            return None;
        }
        let all = |t: DataType| args.iter().all(|a| *a == t);
        match self {
            Abs | Floor | Ceil | Round => args.first().copied().filter(|t| t.is_numeric()),
            Sqrt | Ln | Exp | Pow | Haversine => all(Float64).then_some(Float64),
            Least | Greatest | Nullif => args.first().copied().filter(|t| all(*t)),
            Lower | Upper | Concat => all(String).then_some(String),
            Length => all(String).then_some(Int64),
            StartsWith | EndsWith | Contains => all(String).then_some(Bool),
            Substr => {
                let ints = args.iter().skip(1).all(|a| *a == Int64);
                (args.first() == Some(&String) && ints).then_some(String)
            }
        }
    }

    /// Whether the function can be null when no argument is: `sqrt`, `ln` and
    /// `nullif` (their domains), and `substr` with a length (a negative one).
    pub fn null_on_values(self, args: usize) -> bool {
        match self {
            Function::Sqrt | Function::Ln | Function::Nullif => true,
            Function::Substr => args == 3,
            _ => false,
        }
    }
}

/// Binary operators with their typing rules (enforced by `check`):
/// - `Add Sub Mul Mod` on two int64 give int64 (overflow is an error; `x % 0` is
///   null); with a float64 operand both sides are float64.
/// - `Div` always gives float64 (ints promoted); division by zero gives null.
/// - comparisons take two operands of one type (int64/float64 promote) and give bool.
/// - `And Or` take bools, with SQL three-valued logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq
        )
    }
}

impl View {
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

impl Expr {
    /// True when both expressions compute the same thing: equal trees, types and
    /// nullability, whatever their spans. Float literals are equal when their bits are
    /// (`-0.0` is not `0.0`: `x + -0.0` and `x + 0.0` differ at `x = -0.0`).
    #[recursive::recursive]
    pub fn same_as(&self, other: &Expr) -> bool {
        if self.ty != other.ty || self.nullable != other.nullable {
            return false;
        }
        let all = |a: &[Expr], b: &[Expr]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_as(y))
        };
        match (&self.kind, &other.kind) {
            (ExprKind::Column(a), ExprKind::Column(b)) => a == b,
            (ExprKind::Literal(a), ExprKind::Literal(b)) => a.same_as(b),
            (ExprKind::Cast(a), ExprKind::Cast(b))
            | (ExprKind::Not(a), ExprKind::Not(b))
            | (ExprKind::Neg(a), ExprKind::Neg(b)) => a.same_as(b),
            (
                ExprKind::Binary { op, lhs, rhs },
                ExprKind::Binary {
                    op: op2,
                    lhs: lhs2,
                    rhs: rhs2,
                },
            ) => op == op2 && lhs.same_as(lhs2) && rhs.same_as(rhs2),
            (
                ExprKind::IsNull { expr, negated },
                ExprKind::IsNull {
                    expr: expr2,
                    negated: negated2,
                },
            ) => negated == negated2 && expr.same_as(expr2),
            (
                ExprKind::InList {
                    expr,
                    list,
                    negated,
                },
                ExprKind::InList {
                    expr: expr2,
                    list: list2,
                    negated: negated2,
                },
            ) => negated == negated2 && expr.same_as(expr2) && all(list, list2),
            (ExprKind::Coalesce(a), ExprKind::Coalesce(b)) => all(a, b),
            (
                ExprKind::Call { func, args },
                ExprKind::Call {
                    func: func2,
                    args: args2,
                },
            ) => func == func2 && all(args, args2),
            (
                ExprKind::Case {
                    branches,
                    otherwise,
                },
                ExprKind::Case {
                    branches: branches2,
                    otherwise: otherwise2,
                },
            ) => {
                branches.len() == branches2.len()
                    && branches
                        .iter()
                        .zip(branches2)
                        .all(|((c, v), (c2, v2))| c.same_as(c2) && v.same_as(v2))
                    && match (otherwise, otherwise2) {
                        (Some(a), Some(b)) => a.same_as(b),
                        (None, None) => true,
                        _ => false,
                    }
            }
            _ => false,
        }
    }
}

impl Expr {
    /// Hashes what `same_as` compares (equal by `same_as` implies equal hashes), so
    /// expressions can be deduplicated in linear time.
    #[recursive::recursive]
    pub fn hash_shape<H: std::hash::Hasher>(&self, h: &mut H) {
        use std::hash::Hash;
        self.ty.hash(h);
        self.nullable.hash(h);
        std::mem::discriminant(&self.kind).hash(h);
        let all = |list: &[Expr], h: &mut H| {
            list.len().hash(h);
            list.iter().for_each(|e| e.hash_shape(h));
        };
        match &self.kind {
            ExprKind::Column(name) => name.hash(h),
            ExprKind::Literal(l) => match l {
                Literal::Null => 0u8.hash(h),
                Literal::Int64(v) => v.hash(h),
                Literal::Float64(v) => v.to_bits().hash(h),
                Literal::String(v) => v.hash(h),
                Literal::Bool(v) => v.hash(h),
            },
            ExprKind::Cast(e) | ExprKind::Not(e) | ExprKind::Neg(e) => e.hash_shape(h),
            ExprKind::Binary { op, lhs, rhs } => {
                op.hash(h);
                lhs.hash_shape(h);
                rhs.hash_shape(h);
            }
            ExprKind::IsNull { expr, negated } => {
                negated.hash(h);
                expr.hash_shape(h);
            }
            ExprKind::InList {
                expr,
                list,
                negated,
            } => {
                negated.hash(h);
                expr.hash_shape(h);
                all(list, h);
            }
            ExprKind::Coalesce(args) => all(args, h),
            ExprKind::Call { func, args } => {
                func.hash(h);
                all(args, h);
            }
            ExprKind::Case {
                branches,
                otherwise,
            } => {
                branches.len().hash(h);
                for (c, v) in branches {
                    c.hash_shape(h);
                    v.hash_shape(h);
                }
                if let Some(o) = otherwise {
                    o.hash_shape(h);
                }
            }
        }
    }

    /// `hash_shape` as one number.
    pub fn shape_key(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.hash_shape(&mut h);
        std::hash::Hasher::finish(&h)
    }
}

impl Expr {
    /// Appends the columns this expression reads to `out`, each once, in order of
    /// first use.
    #[recursive::recursive]
    pub fn columns_into(&self, out: &mut Vec<String>) {
        match &self.kind {
            ExprKind::Column(name) => {
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
            ExprKind::Literal(_) => {}
            ExprKind::Cast(e) | ExprKind::Not(e) | ExprKind::Neg(e) => e.columns_into(out),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.columns_into(out);
                rhs.columns_into(out);
            }
            ExprKind::IsNull { expr, .. } => expr.columns_into(out),
            ExprKind::InList { expr, list, .. } => {
                expr.columns_into(out);
                list.iter().for_each(|e| e.columns_into(out));
            }
            ExprKind::Coalesce(args) | ExprKind::Call { args, .. } => {
                args.iter().for_each(|e| e.columns_into(out))
            }
            ExprKind::Case {
                branches,
                otherwise,
            } => {
                for (c, v) in branches {
                    c.columns_into(out);
                    v.columns_into(out);
                }
                if let Some(o) = otherwise {
                    o.columns_into(out);
                }
            }
        }
    }
}

impl Literal {
    /// Equality by value, floats by their bits (see `Expr::same_as`).
    pub fn same_as(&self, other: &Literal) -> bool {
        match (self, other) {
            (Literal::Float64(a), Literal::Float64(b)) => a.to_bits() == b.to_bits(),
            (a, b) => a == b,
        }
    }
}

fn is_zero(x: &i64) -> bool {
    *x == 0
}
