//! The syntax tree of a `.feat` file: every node carries the span it was parsed from.
//!
//! The tree is purely syntactic: names are not resolved, literals keep their text
//! where checking them needs a diagnostic (numbers, durations), and nothing is typed.
//! `featc::check` turns a set of these files into the typed IR.

/// Identifies one source file of a project; the compiler owns the file table.
pub type FileId = u32;

/// A byte range `[start, end)` in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both (same file assumed).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A name as written, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A string literal, unescaped.
#[derive(Debug, Clone, PartialEq)]
pub struct StringLit {
    pub value: String,
    pub span: Span,
}

/// A duration literal such as `7d`, kept as text so that `check` can report `0s`,
/// `7x` or `1mo` with a coded diagnostic rather than a syntax error.
#[derive(Debug, Clone, PartialEq)]
pub struct DurationLit {
    pub text: String,
    pub span: Span,
}

/// The `N` of `over N events` or `max N events`, as written (digits); the span covers
/// `N events`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventsLit {
    pub text: String,
    pub span: Span,
}

/// One parsed `.feat` file.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Source(SourceDecl),
    Entity(EntityDecl),
    View(ViewDecl),
    Service(ServiceDecl),
    Request(RequestDecl),
}

/// Documentation and ownership shared by every declaration: `///` doc lines before
/// it, and `owner "..."` / `tags ["..", ..]` clauses inside it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Meta {
    /// The text of each `///` line, without the slashes and one leading space.
    pub docs: Vec<String>,
    pub owner: Option<StringLit>,
    pub tags: Vec<StringLit>,
}

/// `source NAME { time COL  columns { .. }  file "..."  lateness DUR }`
#[derive(Debug, Clone, PartialEq)]
pub struct SourceDecl {
    pub name: Ident,
    pub meta: Meta,
    /// The event-time column; `None` when the clause is missing (a check error).
    pub time: Option<Ident>,
    pub columns: Vec<ColumnDecl>,
    pub file: Option<StringLit>,
    /// Boxed: a rare clause should not make every `Item` larger.
    pub topic: Option<Box<TopicDecl>>,
    pub lateness: Option<DurationLit>,
    /// `freshness DUR`: the source's freshness contract.
    pub freshness: Option<DurationLit>,
    /// `delay DUR`: an event becomes visible to reads that long after its time.
    pub delay: Option<DurationLit>,
    /// `epoch UNIT`: the unit its integer times count (checked by `check`). Boxed:
    /// a rare clause should not make every `Item` larger.
    pub epoch: Option<Box<Ident>>,
    /// `partition KEY by UNIT`: the hive partition key that carries each event's
    /// time, and its unit (checked by `check`). Boxed, as `epoch`.
    pub partition: Option<Box<(Ident, Ident)>>,
    pub span: Span,
}

/// `topic "name"` or `topic "name" format json`: the Kafka topic a source's live
/// events arrive on, and how its records are encoded (checked by `check`):
/// `format avro "x.avsc"`, `format protobuf "x.proto" "Message"`, each optionally
/// `confluent ID` (records framed as Confluent's schema registry frames them).
#[derive(Debug, Clone, PartialEq)]
pub struct TopicDecl {
    pub name: StringLit,
    pub format: Option<Ident>,
    /// The strings after the format's name (its schema file, its message).
    pub args: Vec<StringLit>,
    /// `confluent ID`: the schema id as written, and its span.
    pub confluent: Option<(String, Span)>,
    pub span: Span,
}

/// `name: type` or `name: type?` (nullable).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDecl {
    pub name: Ident,
    pub ty: TypeRef,
    pub span: Span,
}

/// A type as written: `int64`, `float64`, `string`, `bool`, `timestamp`, a list
/// `list<float32>`, a struct `struct<city: string?>` or a map `map<string, int64>`,
/// with `?` for nullable. The names are checked by `check`, not by the parser.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeRef {
    pub name: Ident,
    /// The types in angle brackets: `list<T>`'s `T`, `map<K, V>`'s `K` and `V`,
    /// `struct<a: T>`'s named fields (empty when there are no brackets).
    pub params: Vec<TypeParam>,
    /// The numbers in parentheses after the name (`decimal(12, 2)`), as written.
    pub args: Vec<TypeArg>,
    pub nullable: bool,
    pub span: Span,
}

/// One type in a type's angle brackets: `T`, or `name: T` (a struct's field).
#[derive(Debug, Clone, PartialEq)]
pub struct TypeParam {
    pub name: Option<Ident>,
    pub ty: TypeRef,
}

/// A number of a type (`12` in `decimal(12, 2)`): its digits as written (the checker
/// reads them, so a huge one is its error, not the parser's).
#[derive(Debug, Clone, PartialEq)]
pub struct TypeArg {
    pub digits: String,
    pub span: Span,
}

/// `entity NAME { key COL: TYPE }` or `entity NAME { key (COL: TYPE, COL: TYPE) }`
#[derive(Debug, Clone, PartialEq)]
pub struct EntityDecl {
    pub name: Ident,
    pub meta: Meta,
    pub keys: Vec<ColumnDecl>,
    pub span: Span,
}

/// `view NAME from SOURCE by ENTITY [ (COL, ..) ] { clauses }`
///
/// The optional column list maps the entity's key columns, in order, to columns of the
/// source; without it the source columns are named like the entity's keys.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewDecl {
    pub name: Ident,
    pub meta: Meta,
    /// The view's first source.
    pub source: Ident,
    /// The sources after the first (`from payments, logins`): the view reads the
    /// union of their events.
    pub more_sources: Vec<Ident>,
    pub entity: Ident,
    pub key_columns: Option<Vec<Ident>>,
    pub clauses: Vec<ViewClause>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ViewClause {
    /// `where EXPR`: several are combined with `and`.
    Where(Expr),
    /// `let NAME = EXPR`
    Let(LetDecl),
    /// `let NAME = VIEW.FEATURE at KEY`
    Lookup(LookupDecl),
    Feature(FeatureDecl),
    /// `feature NAME = EXPR`: a feature derived from other features.
    Derived(DerivedDecl),
    /// `ttl DUR`
    Ttl(DurationLit),
    /// `freshness DUR`: the view's freshness contract.
    Freshness(DurationLit),
}

/// `let NAME = VIEW.FEATURE at KEY` (or `at (K1, K2)`): an as-of lookup.
#[derive(Debug, Clone, PartialEq)]
pub struct LookupDecl {
    pub name: Ident,
    pub view: Ident,
    pub feature: Ident,
    /// The view's source columns holding the looked-up entity's key, in its order.
    pub keys: Vec<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LetDecl {
    pub name: Ident,
    pub expr: Expr,
    pub span: Span,
}

/// `/// doc`  `feature NAME = AGG(ARGS) [where EXPR] [over DUR]`
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureDecl {
    pub name: Ident,
    pub docs: Vec<String>,
    pub agg: AggCall,
    pub filter: Option<Expr>,
    /// `None` (and no `events`) is a lifetime feature.
    pub window: Option<DurationLit>,
    /// `over N events` (no `window`) or `over W max N events`: at most the N latest
    /// events.
    pub events: Option<Box<EventsLit>>,
    /// `over W offset O`: the window ends `O` before the read time.
    pub offset: Option<DurationLit>,
    /// `over W exclusive`: the window's end is open; the span of the word.
    pub exclusive: Option<Span>,
    pub span: Span,
}

/// `/// doc`  `feature NAME = EXPR`: a row expression over other features (and, in a
/// service, request fields), evaluated after the aggregations.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedDecl {
    pub name: Ident,
    pub docs: Vec<String>,
    pub expr: Expr,
    pub span: Span,
}

/// `request NAME { FIELD: TYPE ... }`: values a read brings with it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestDecl {
    pub name: Ident,
    pub meta: Meta,
    pub fields: Vec<ColumnDecl>,
    pub span: Span,
}

/// `count(*)`, `sum(amount)`, `count_if(amount > 100)`: the function name is checked by
/// `check` (unknown aggregations get a "did you mean").
#[derive(Debug, Clone, PartialEq)]
pub struct AggCall {
    pub func: Ident,
    pub args: AggArgs,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AggArgs {
    /// `(*)`
    Star(Span),
    /// `(e, ...)`, possibly empty.
    Exprs(Vec<Expr>),
}

/// `service NAME { [VIEW.]FEATURE ... feature NAME = EXPR ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDecl {
    pub name: Ident,
    pub meta: Meta,
    /// The service's features in order: references and its own derived features.
    pub entries: Vec<ServiceEntry>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ServiceEntry {
    /// A feature of a view (or another service's derived feature), by name.
    Ref(FeatureRef),
    /// A feature the service defines: a row expression over features and request
    /// fields.
    Derived(DerivedDecl),
    /// `feature NAME = f(...)`, parsed like an aggregation: a derived feature when `f`
    /// is a row function (`check` decides; a service aggregates nothing).
    Feature(FeatureDecl),
}

/// `view.feature` or `feature` (feature names are global).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRef {
    pub view: Option<Ident>,
    pub feature: Ident,
    pub span: Span,
}

/// A per-row expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A column of the source or a `let` name (in a derived feature: a feature).
    Column(Ident),
    /// `qualifier.name`: a request's field or a view's feature (derived features).
    Field {
        qualifier: Ident,
        name: Ident,
    },
    /// `base.name` where `base` is itself `a.b` (or deeper): a field of a struct
    /// column's field, `address.geo.lat`.
    Member {
        base: Box<Expr>,
        name: Ident,
    },
    /// An integer literal as written (`check` reports one that does not fit int64).
    Int(String),
    /// A float literal as written (`1.5`, `2e3`).
    Float(String),
    /// `'text'` or `"text"`, unescaped.
    String(String),
    Bool(bool),
    Null,
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `e is null` / `e is not null`
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `e in (a, b)` / `e not in (a, b)`
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// `name(args)`: `coalesce`, `if`, ...; the name is checked by `check`.
    Call {
        func: Ident,
        args: Vec<Expr>,
    },
    /// `case when c then v ... [else v] end`
    Case {
        branches: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// The operator as the printers write it.
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
}

/// A syntax error: where it is reported and what kind it is.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// The offending token; for an unterminated string the opening quote, for an
    /// unclosed delimiter the opening delimiter.
    pub span: Span,
    pub kind: ParseErrorKind,
}

/// What went wrong at a syntax error's span.
#[derive(Debug, Clone, PartialEq)]
pub enum ParseErrorKind {
    /// A token the grammar does not allow where it stands.
    Unexpected {
        /// Human names of what the parser expected here (`"identifier"`, `"}"`, ...).
        expected: Vec<String>,
        /// The offending token as text, `None` at end of input.
        found: Option<String>,
    },
    /// A string (`'` or `"`) or a backquoted name whose closing `quote` is missing
    /// before the end of its line: strings never span lines.
    Unterminated { quote: char },
    /// An opening `delimiter` (`{`, `(` or `[`) that the item ends without closing:
    /// the parser reached `end` (the next item's keyword, or the end of the file,
    /// then an empty span) where the closing delimiter was one of the tokens it
    /// expected.
    Unclosed {
        delimiter: char,
        end: Span,
        /// The token at `end`, `None` at end of input.
        found: Option<String>,
    },
}

impl ParseError {
    /// An `Unexpected` error.
    pub fn unexpected(span: Span, expected: Vec<String>, found: Option<String>) -> ParseError {
        ParseError {
            span,
            kind: ParseErrorKind::Unexpected { expected, found },
        }
    }
}
