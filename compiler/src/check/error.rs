//! Every error the compiler reports, as data: one variant per kind, each with its
//! spans, a stable code (documented in docs/errors.md) and its rendering to a
//! `Diagnostic`.

use crate::diagnostics::{Diagnostic, Label};
use featc_grammar::ast::Span;
use featc_runtime::ir::DataType;

/// What kind of thing a name names (for duplicate-name errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Source,
    Entity,
    View,
    Feature,
    Service,
    Column,
    Key,
    Request,
}

impl NameKind {
    pub fn noun(self) -> &'static str {
        match self {
            NameKind::Source => "source",
            NameKind::Entity => "entity",
            NameKind::View => "view",
            NameKind::Feature => "feature",
            NameKind::Service => "service",
            NameKind::Column => "column",
            NameKind::Key => "key column",
            NameKind::Request => "request",
        }
    }
}

/// Why a duration literal is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationProblem {
    Zero,
    UnknownUnit(String),
    /// `mo`, `y`: calendar units have no fixed length.
    Calendar(String),
    Overflow,
    /// Not digits followed by letters (the parser should not produce these).
    Malformed,
}

/// A typed operand: where it is and what type it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operand {
    pub span: Span,
    pub ty: DataType,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CheckError {
    Syntax {
        span: Span,
        expected: Vec<String>,
        found: Option<String>,
    },
    UnknownSource {
        name: String,
        span: Span,
        suggestion: Option<String>,
    },
    UnknownEntity {
        name: String,
        span: Span,
        suggestion: Option<String>,
    },
    /// A name used in an expression that is neither a column of the view's source
    /// nor an earlier `let`.
    UnknownColumn {
        name: String,
        span: Span,
        source: String,
        suggestion: Option<String>,
        /// A `let` of that name exists, but after the use.
        declared_later: bool,
    },
    /// A view's key column (explicit, or named like the entity's key) missing from
    /// the source.
    UnknownKeyColumn {
        name: String,
        span: Span,
        source: String,
        entity: String,
        suggestion: Option<String>,
    },
    UnknownView {
        name: String,
        span: Span,
        suggestion: Option<String>,
    },
    UnknownFeature {
        name: String,
        span: Span,
        /// The view it was looked up in (`view.feature`), if any.
        view: Option<String>,
        suggestion: Option<String>,
        /// The view that does declare a feature of this name, if another one does.
        declared_in: Option<String>,
    },
    UnknownAggregation {
        name: String,
        span: Span,
        suggestion: Option<String>,
    },
    UnknownFunction {
        name: String,
        span: Span,
        suggestion: Option<String>,
        is_aggregation: bool,
    },
    UnknownType {
        name: String,
        span: Span,
        suggestion: Option<String>,
    },
    /// `decimal(p, s)` out of range (`1 <= p <= 38`, `s <= p`), written without its
    /// two numbers, or another type given numbers (`written` as the file has it).
    DecimalType {
        written: String,
        span: Span,
    },
    /// A decimal result that would need more than 38 digits of scale or of
    /// precision: `a * b` with `s1 + s2 > 38`, or values of decimal types whose
    /// common type (`coalesce`, `case`, ...) needs more than 38 digits.
    DecimalDigits {
        what: &'static str,
        digits: u16,
        span: Span,
    },
    /// An entity key of a decimal type.
    DecimalKey {
        entity: String,
        key: String,
        ty: DataType,
        span: Span,
    },
    /// The primary span is the second declaration, `first` the first one.
    Duplicate {
        kind: NameKind,
        name: String,
        span: Span,
        first: Span,
    },
    /// A binary operator applied to operand types it does not take.
    OperandTypes {
        op: &'static str,
        lhs: Operand,
        rhs: Operand,
    },
    /// A unary operator (or arithmetic) applied to an operand it does not take.
    OperandType {
        op: &'static str,
        operand: Operand,
        expected: &'static str,
    },
    /// Values that must share one type (branches of `if`/`case`, `coalesce`
    /// arguments, `in` list items) do not.
    BranchTypes {
        what: &'static str,
        first: Operand,
        other: Operand,
    },
    /// A condition (`where`, `and`/`or`/`not` operand, `if`/`case` condition) that is
    /// not a bool.
    NotBool {
        what: &'static str,
        operand: Operand,
    },
    AggregationType {
        agg: &'static str,
        operand: Operand,
        accepts: &'static str,
    },
    Arity {
        func: String,
        span: Span,
        expected: &'static str,
        found: usize,
    },
    /// `sum(*)`: only `count` takes `*`.
    Star {
        agg: &'static str,
        span: Span,
    },
    InvalidDuration {
        text: String,
        span: Span,
        problem: DurationProblem,
    },
    NumberOutOfRange {
        text: String,
        span: Span,
        float: bool,
    },
    KeyType {
        entity: String,
        key: String,
        key_ty: DataType,
        key_span: Span,
        column: String,
        column_ty: DataType,
        /// Where the view names the column (or the entity, when the names match).
        span: Span,
        /// Where the source declares the column.
        column_span: Span,
    },
    KeyCount {
        entity: String,
        expected: usize,
        found: usize,
        span: Span,
        entity_span: Span,
    },
    MissingTime {
        source: String,
        span: Span,
    },
    /// The time column is also declared in `columns` with a type other than a
    /// non-null `timestamp`.
    TimeColumnType {
        column: String,
        written: String,
        span: Span,
        time_span: Span,
    },
    ServiceDuplicate {
        service: String,
        feature: String,
        span: Span,
        first: Span,
    },
    /// A `let` reusing the name of a source column or of another `let`.
    LetShadows {
        name: String,
        span: Span,
        other: Span,
        other_is_let: bool,
    },
    /// A service without features or an entity without key.
    Empty {
        kind: NameKind,
        name: String,
        span: Span,
    },
    /// A `null` whose type nothing determines.
    UntypedNull {
        span: Span,
    },
    NullableKey {
        entity: String,
        key: String,
        span: Span,
    },
    /// A list type where only a scalar goes: an entity's key, a request's field.
    ListNotScalar {
        /// What the column is: "key `id` of entity `user`".
        what: String,
        span: Span,
    },
    /// A struct or map type that is not allowed: a non-string map key, a list of
    /// structs or maps or decimals, a struct or map where a value type goes.
    NestedType {
        message: String,
        span: Span,
        help: String,
    },
    /// A whole struct or map column used as a value (an operand, an argument, a
    /// feature): only paths to its scalars and lists are values.
    NestedValue {
        /// The column as written: `address`, `address.geo`.
        column: String,
        /// `struct` or `map`.
        kind: &'static str,
        span: Span,
    },
    /// A map looked up by a key that is not a string literal.
    MapKeyNotLiteral {
        map: String,
        span: Span,
    },
    /// A field a struct column does not declare.
    UnknownField {
        field: String,
        /// The struct as written: `address`.
        parent: String,
        span: Span,
        suggestion: Option<String>,
    },
    /// An expression whose lets, once inlined (as the feature plan inlines them),
    /// make it deeper or larger than every later pass may walk.
    ExpansionTooLarge {
        span: Span,
        /// Depth and node count once expanded, and the limits.
        depth: usize,
        size: usize,
        max_depth: usize,
        max_size: usize,
        /// The first lets it uses, in order of first use, and whether it uses more.
        lets: Vec<String>,
        more_lets: bool,
    },
    /// Integer arithmetic on constants that overflows int64 (an error on every row).
    ConstantOverflow {
        span: Span,
        op: &'static str,
    },
    /// A file whose bytes are not UTF-8. `span` covers, in the file decoded lossily,
    /// the replacement character that stands for the first invalid `bytes`; `line` and
    /// `column` (1-based, characters) say where they are. `utf16`: the file starts
    /// with a UTF-16 byte order mark.
    InvalidUtf8 {
        file: String,
        span: Span,
        bytes: Vec<u8>,
        line: usize,
        column: usize,
        utf16: bool,
    },
    /// A string (`'`, `"`) or backquoted name (`` ` ``) whose closing `quote` is
    /// missing before the end of its line; `span` is the opening quote.
    Unterminated {
        span: Span,
        quote: char,
    },
    /// An item ended inside `delimiter`: `span` is the opener, `end` where the parser
    /// needed its closer (at `found`, the next item's keyword, or the end of the file).
    Unclosed {
        span: Span,
        delimiter: char,
        end: Span,
        found: Option<String>,
    },
    /// `topic "..." format F` names a format featc does not decode.
    UnknownTopicFormat {
        format: String,
        span: Span,
    },
    /// A topic's format clause or its schema file is wrong (`topic_error`).
    Topic(super::topic_error::TopicError),
    /// `epoch U` names a unit that is not `s`, `ms`, `us` or `ns`.
    UnknownEpochUnit {
        unit: String,
        span: Span,
    },
    /// `partition K by U` names a unit that is not `hour`, `day` or `month`.
    UnknownPartitionUnit {
        unit: String,
        span: Span,
    },
    /// `partition K by U` where `K` is a declared column (or the time column).
    PartitionKeyColumn {
        key: String,
        span: Span,
        column_span: Span,
    },
    /// `percentile(x, p)` with a `p` that is not a number literal in [0, 1].
    Quantile {
        span: Span,
    },
    /// A request field read where no request exists: in a view (its `let`s, `where`s,
    /// aggregations or derived features). Request fields are for services.
    RequestInView {
        request: String,
        field: String,
        span: Span,
        view: String,
    },
    /// `request.field` where the request has no such field.
    UnknownRequestField {
        request: String,
        field: String,
        span: Span,
        suggestion: Option<String>,
    },
    /// Derived features that read each other in a cycle; `path` is the cycle's
    /// names from `name` back to it.
    DerivedCycle {
        name: String,
        span: Span,
        path: Vec<String>,
    },
    /// A view's derived feature reads a feature of another entity (or a service's
    /// own feature).
    DerivedEntity {
        feature: String,
        span: Span,
        /// The view's entity.
        entity: String,
        other: String,
        other_entity: Option<String>,
    },
    /// An aggregation in a service: services define derived features only.
    ServiceAggregation {
        service: String,
        span: Span,
    },
    /// A window (after its offset) or a view's ttl no longer than its source's
    /// `delay`: it could never see a visible event.
    ShorterThanDelay {
        what: &'static str,
        span: Span,
        source: String,
        delay: String,
        delay_span: Span,
    },
    /// Two requests declare a field of one name with different types: it is one
    /// spine column and one `request_context` key.
    RequestFieldConflict {
        field: String,
        request: String,
        other: String,
        span: Span,
        first: Span,
    },
    /// A derived feature reads a list feature (lists are results only).
    ListRead {
        feature: String,
        ty: String,
        span: Span,
    },
    /// `a.b` where `a` is neither a request nor a view.
    UnknownQualifier {
        name: String,
        span: Span,
        suggestion: Option<String>,
    },
    /// `last_k(x, k)`, `first_k(x, k)` or `top_k(x, k)` with a `k` that is not an
    /// integer literal from 1 to `AggKind::MAX_K`, or without one (`missing`: the span
    /// is the call's).
    ListLength {
        func: String,
        span: Span,
        missing: bool,
    },
    /// A count window's `N` (`over N events`, `max N events`) outside 1 to
    /// `AggKind::MAX_EVENTS`; `capped`: the `max` of a duration window.
    EventCount {
        span: Span,
        capped: bool,
    },
    /// A feature named like a spine column: an entity's key or a request's field
    /// (`what`), declared at `first`.
    SpineColumnName {
        feature: String,
        span: Span,
        what: &'static str,
        first: Span,
    },
    /// Views that look each other up (`path`: the cycle, its first view again last).
    LookupCycle {
        view: String,
        looked_up: String,
        span: Span,
        path: Vec<String>,
    },
    /// A feature that cannot be looked up (`reason`: what it is).
    LookupTarget {
        feature: String,
        span: Span,
        reason: &'static str,
    },
    /// A view over several sources names `source` twice (`first` is the first time).
    SourceTwice {
        view: String,
        source: String,
        span: Span,
        first: Span,
    },
    /// Two sources of a view declare `column` with different types (each side's
    /// detail is its type's name).
    SourcesColumnType {
        view: String,
        column: String,
        sides: Box<[SourceSide; 2]>,
    },
    /// The sources of a view have different delays (each side's detail is its delay
    /// as written, `none` for no delay).
    SourcesDelay {
        view: String,
        sides: Box<[SourceSide; 2]>,
    },
}

/// One side of a disagreement between two sources of a view: the source, what it
/// says (a type, a delay) and where (the later source first).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSide {
    pub source: String,
    pub detail: String,
    pub span: Span,
}

impl CheckError {
    /// The stable code of this kind of error (docs/errors.md).
    pub fn code(&self) -> &'static str {
        use CheckError::*;
        match self {
            Syntax { .. } => "E0001",
            UnknownSource { .. } => "E0002",
            UnknownEntity { .. } => "E0003",
            UnknownColumn { .. } | UnknownKeyColumn { .. } => "E0004",
            UnknownView { .. } => "E0005",
            UnknownFeature { .. } => "E0006",
            UnknownAggregation { .. } => "E0007",
            UnknownFunction { .. } => "E0008",
            UnknownType { .. } => "E0009",
            DecimalType { .. } | DecimalDigits { .. } => "E0056",
            DecimalKey { .. } => "E0057",
            Duplicate { .. } => "E0010",
            OperandTypes { .. } | OperandType { .. } | BranchTypes { .. } => "E0011",
            NotBool { .. } => "E0012",
            AggregationType { .. } => "E0013",
            Arity { .. } => "E0014",
            Star { .. } => "E0015",
            InvalidDuration { .. } => "E0016",
            NumberOutOfRange { .. } => "E0017",
            KeyType { .. } => "E0018",
            KeyCount { .. } => "E0019",
            MissingTime { .. } => "E0020",
            TimeColumnType { .. } => "E0021",
            ServiceDuplicate { .. } => "E0022",
            LetShadows { .. } => "E0023",
            Empty { .. } => "E0024",
            UntypedNull { .. } => "E0025",
            NullableKey { .. } => "E0026",
            ListNotScalar { .. } => "E0058",
            NestedType { .. } => "E0059",
            NestedValue { .. } => "E0060",
            MapKeyNotLiteral { .. } => "E0061",
            UnknownField { .. } => "E0062",
            ExpansionTooLarge { .. } => "E0027",
            ConstantOverflow { .. } => "E0028",
            InvalidUtf8 { .. } => "E0029",
            Unterminated { .. } => "E0030",
            Unclosed { .. } => "E0031",
            UnknownTopicFormat { .. } => "E0032",
            Topic(e) => e.code(),
            UnknownEpochUnit { .. } => "E0048",
            UnknownPartitionUnit { .. } => "E0076",
            PartitionKeyColumn { .. } => "E0077",
            Quantile { .. } => "E0033",
            RequestInView { .. } => "E0035",
            UnknownRequestField { .. } | UnknownQualifier { .. } => "E0004",
            DerivedCycle { .. } => "E0036",
            DerivedEntity { .. } => "E0037",
            ServiceAggregation { .. } => "E0038",
            ShorterThanDelay { .. } => "E0039",
            ListRead { .. } => "E0011",
            RequestFieldConflict { .. } => "E0010",
            ListLength { .. } => "E0034",
            EventCount { .. } => "E0049",
            SpineColumnName { .. } => "E0050",
            SourceTwice { .. } | SourcesColumnType { .. } => "E0051",
            SourcesDelay { .. } => "E0052",
            LookupCycle { .. } => "E0053",
            LookupTarget { .. } => "E0054",
        }
    }

    pub fn to_diagnostic(&self) -> Diagnostic {
        use CheckError::*;
        let d = |message: String| Diagnostic::new(self.code(), message);
        match self {
            Syntax { span, expected, found } => {
                let found_text = match found {
                    Some(tok) => format!("`{tok}`"),
                    None => "end of file".to_string(),
                };
                let label = if expected.is_empty() {
                    "unexpected here".to_string()
                } else {
                    format!("expected {}", one_of(expected))
                };
                d(format!("syntax error: unexpected {found_text}"))
                    .with_label(Label::primary(*span, label))
            }
            UnknownSource { name, span, suggestion } => {
                with_suggestion(d(format!("unknown source `{name}`")), *span, "no such source", suggestion)
            }
            UnknownEntity { name, span, suggestion } => {
                with_suggestion(d(format!("unknown entity `{name}`")), *span, "no such entity", suggestion)
            }
            UnknownColumn { name, span, source, suggestion, declared_later } => {
                let diag = with_suggestion(
                    d(format!("unknown column `{name}`")),
                    *span,
                    &format!("not a column of `{source}` nor an earlier `let`"),
                    suggestion,
                );
                if *declared_later {
                    diag.with_help(format!("`{name}` is a `let` declared later: move it before this use"))
                } else {
                    diag
                }
            }
            UnknownKeyColumn { name, span, source, entity, suggestion } => with_suggestion(
                d(format!("unknown column `{name}`")),
                *span,
                &format!("the key of `{entity}` must be a column of `{source}`"),
                suggestion,
            )
            .with_note(format!(
                "note: name the source's key columns after the entity: `by {entity} (COLUMN, ...)`"
            )),
            UnknownView { name, span, suggestion } => {
                with_suggestion(d(format!("unknown view `{name}`")), *span, "no such view", suggestion)
            }
            UnknownFeature { name, span, view, suggestion, declared_in } => {
                let label = match view {
                    Some(v) => format!("view `{v}` has no such feature"),
                    None => "no such feature".to_string(),
                };
                match declared_in {
                    Some(other) => d(format!("unknown feature `{name}`"))
                        .with_label(Label::primary(*span, label))
                        .with_help(format!("`{name}` is declared in view `{other}`: write `{other}.{name}`")),
                    None => with_suggestion(d(format!("unknown feature `{name}`")), *span, &label, suggestion),
                }
            }
            UnknownAggregation { name, span, suggestion } => with_suggestion(
                d(format!("unknown aggregation `{name}`")),
                *span,
                "not an aggregation",
                suggestion,
            )
            .with_note(format!("note: the aggregations are {}", crate::check::aggs::NAMES.join(", "))),
            UnknownFunction { name, span, suggestion, is_aggregation } => {
                if *is_aggregation {
                    d(format!("aggregation `{name}` used inside an expression"))
                        .with_label(Label::primary(*span, "not allowed here"))
                        .with_help("aggregations are only allowed at the top of a feature: `feature f = sum(x) over 7d`")
                } else {
                    with_suggestion(d(format!("unknown function `{name}`")), *span, "no such function", suggestion)
                        .with_note(format!(
                            "note: the functions are {}",
                            crate::check::exprs::function_names().join(", ")
                        ))
                }
            }
            UnknownType { name, span, suggestion } => {
                with_suggestion(d(format!("unknown type `{name}`")), *span, "no such type", suggestion)
                    .with_note("note: the types are int64, float64, string, bool, timestamp, date, decimal(p, s)")
            }
            DecimalType { written, span } => d(format!("`{written}` is not a type"))
                .with_label(Label::primary(*span, "not a type"))
                .with_help("a decimal is `decimal(p, s)`: p digits in all (1 to 38), s of them after the point (0 to p), e.g. `decimal(12, 2)`; other types take no numbers"),
            DecimalDigits { what, digits, span } => d(format!("{what} needs {digits} decimal digits, more than 38"))
                .with_label(Label::primary(*span, format!("{digits} digits")))
                .with_help("a decimal holds at most 38 digits: use operands of smaller scales, or convert with `float64(x)`"),
            DecimalKey { entity, key, ty, span } => d(format!("the key `{key}` of `{entity}` is `{}`, and decimals are not keys", ty.name()))
                .with_label(Label::primary(*span, "a decimal key"))
                .with_help("one decimal has several spellings (`1.5`, `1.50`) that a key must not tell apart: key by an int64 (e.g. the value in cents) or a string"),
            Duplicate { kind, name, span, first } => d(format!("{} `{name}` is declared twice", kind.noun()))
                .with_label(Label::primary(*span, "declared again here"))
                .with_label(Label::secondary(*first, "first declared here"))
                .with_help(match kind {
                    NameKind::Feature => "feature names are global (they name output columns): rename one",
                    NameKind::Column => "a source's columns need distinct names",
                    NameKind::Key => "an entity's key columns need distinct names",
                    NameKind::Request => "requests and views share names (`a.b` names a request's field or a view's feature): rename one",
                    _ => "names are global across the files of a project: rename one",
                }),
            OperandTypes { op, lhs, rhs } => {
                d(format!("type mismatch: cannot apply `{op}` to `{}` and `{}`", lhs.ty.name(), rhs.ty.name()))
                    .with_label(Label::primary(lhs.span, format!("this is `{}`", lhs.ty.name())))
                    .with_label(Label::primary(rhs.span, format!("this is `{}`", rhs.ty.name())))
                    .with_help(match *op {
                        _ if lhs.ty.is_decimal() || rhs.ty.is_decimal() => {
                            "a decimal mixes with decimals, int64s and numbers written with a point like `0.5` (`%` takes none); to mix it with a float64, convert it with `float64(x)`"
                        }
                        "+" | "-" | "*" | "/" | "%" => "arithmetic takes int64 or float64 operands",
                        _ => "compare values of one type (int64 and float64 mix)",
                    })
            }
            OperandType { op, operand, expected } => {
                d(format!("type mismatch: `{op}` needs {expected}, found `{}`", operand.ty.name()))
                    .with_label(Label::primary(operand.span, format!("this is `{}`", operand.ty.name())))
            }
            BranchTypes { what, first, other } => d(format!(
                "type mismatch: {what} have different types `{}` and `{}`",
                first.ty.name(),
                other.ty.name()
            ))
            .with_label(Label::primary(other.span, format!("this is `{}`", other.ty.name())))
            .with_label(Label::secondary(first.span, format!("this is `{}`", first.ty.name())))
            .with_help("all of them must have one type (int64 and float64 mix as float64)"),
            NotBool { what, operand } => {
                d(format!("{what} must be a bool, found `{}`", operand.ty.name()))
                    .with_label(Label::primary(operand.span, format!("this is `{}`", operand.ty.name())))
                    .with_help(match operand.ty {
                        DataType::Int64 | DataType::Float64 => "compare it: `x > 0`",
                        DataType::String => "compare it: `x = 'text'`",
                        _ => "write a comparison",
                    })
            }
            AggregationType { agg, operand, accepts } => {
                d(format!("`{agg}` does not accept `{}`", operand.ty.name()))
                    .with_label(Label::primary(operand.span, format!("this is `{}`", operand.ty.name())))
                    .with_note(format!("note: `{agg}` accepts {accepts}"))
            }
            Arity { func, span, expected, found } => d(format!(
                "`{func}` takes {expected} argument{}, found {found}",
                if *expected == "1" { "" } else { "s" }
            ))
            .with_label(Label::primary(*span, format!("{found} argument{}", if *found == 1 { "" } else { "s" }))),
            Star { agg, span } => d(format!("`{agg}(*)` is not an aggregation"))
                .with_label(Label::primary(*span, "only `count` takes `*`"))
                .with_help(format!("`{agg}` takes a column or an expression: `{agg}(amount)`")),
            InvalidDuration { text, span, problem } => {
                let (label, help) = match problem {
                    DurationProblem::Zero => ("a window or ttl must be longer than zero".to_string(), None),
                    DurationProblem::UnknownUnit(unit) => (format!("unknown unit `{unit}`"), None),
                    DurationProblem::Calendar(unit) => (
                        format!("`{unit}` is a calendar unit with no fixed length"),
                        Some("durations are exact: write days, e.g. `30d`"),
                    ),
                    DurationProblem::Overflow => ("too long to count in microseconds".to_string(), None),
                    DurationProblem::Malformed => ("expected digits then a unit".to_string(), None),
                };
                let diag = d(format!("invalid duration `{text}`"))
                    .with_label(Label::primary(*span, label))
                    .with_note("note: durations are an integer and a unit: us, ms, s, m, h, d, w");
                match help {
                    Some(h) => diag.with_help(h),
                    None => diag,
                }
            }
            NumberOutOfRange { text, span, float } => {
                if *float && text.parse::<f64>() == Ok(0.0) {
                    d(format!("number `{text}` is out of range"))
                        .with_label(Label::primary(*span, "rounds to zero as a float64"))
                        .with_help("the smallest positive float64 is about 5e-324; write `0.0` if zero is meant")
                } else if *float {
                    d(format!("number `{text}` is out of range"))
                        .with_label(Label::primary(*span, "not a finite float64"))
                } else {
                    d(format!("integer `{text}` is out of range"))
                        .with_label(Label::primary(*span, "does not fit in int64"))
                        .with_help("int64 ranges from -9223372036854775808 to 9223372036854775807")
                }
            }
            KeyType { entity, key, key_ty, key_span, column, column_ty, span, column_span } => d(format!(
                "key column `{column}` is `{}` but the key `{key}` of `{entity}` is `{}`",
                column_ty.name(),
                key_ty.name()
            ))
            .with_label(Label::primary(*span, format!("`{column}` is `{}` here", column_ty.name())))
            .with_label(Label::secondary(*column_span, format!("declared `{}` here", column_ty.name())))
            .with_label(Label::secondary(*key_span, format!("the key is `{}`", key_ty.name()))),
            KeyCount { entity, expected, found, span, entity_span } => d(format!(
                "`{entity}` has {expected} key column{}, but {found} {} given",
                if *expected == 1 { "" } else { "s" },
                if *found == 1 { "is" } else { "are" }
            ))
            .with_label(Label::primary(*span, format!("{found} column{}", if *found == 1 { "" } else { "s" })))
            .with_label(Label::secondary(*entity_span, "the entity is declared here")),
            MissingTime { source, span } => d(format!("source `{source}` has no `time` clause"))
                .with_label(Label::primary(*span, "every source needs an event-time column"))
                .with_help("add `time COLUMN` naming its timestamp column"),
            TimeColumnType { column, written, span, time_span } => {
                d(format!("the time column `{column}` is declared as `{written}`"))
                    .with_label(Label::primary(*span, "must be `timestamp` (not nullable)"))
                    .with_label(Label::secondary(*time_span, "declared the time column here"))
            }
            ServiceDuplicate { service, feature, span, first } => {
                d(format!("service `{service}` names feature `{feature}` twice"))
                    .with_label(Label::primary(*span, "named again here"))
                    .with_label(Label::secondary(*first, "first named here"))
            }
            LetShadows { name, span, other, other_is_let } => {
                let what = if *other_is_let { "another `let`" } else { "a column of the source" };
                d(format!("`let {name}` shadows {what}"))
                    .with_label(Label::primary(*span, "declared here"))
                    .with_label(Label::secondary(*other, format!("`{name}` is already declared here")))
                    .with_help("give the `let` a name of its own")
            }
            Empty { kind, name, span } => {
                let (message, help) = match kind {
                    NameKind::Entity => (format!("entity `{name}` has no key"), "add `key COLUMN: TYPE`"),
                    NameKind::Request => (format!("request `{name}` has no fields"), "add fields as `NAME: TYPE`, e.g. `amount: float64`"),
                    _ => (format!("{} `{name}` lists no features", kind.noun()), "list features as `view.feature` or `feature`"),
                };
                d(message).with_label(Label::primary(*span, "empty")).with_help(help)
            }
            UntypedNull { span } => d("cannot infer the type of `null`".to_string())
                .with_label(Label::primary(*span, "nothing here says what type this null has"))
                .with_help("use it where a type is known, e.g. `coalesce(x, null)` or `if(c, x, null)`"),
            NestedType { message, span, help } => d(message.clone())
                .with_label(Label::primary(*span, "not allowed here"))
                .with_help(help.clone()),
            NestedValue { column, kind, span } => d(format!("`{column}` is a {kind}, not a value"))
                .with_label(Label::primary(*span, format!("a whole {kind}")))
                .with_help(match *kind {
                    "map" => format!("read one of its values (`{column}['key']`), its size (`size({column})`) or whether it holds a key (`contains({column}, 'key')`)"),
                    _ => format!("read one of its fields: `{column}.field`"),
                }),
            MapKeyNotLiteral { map, span } => d(format!("the key looked up in map `{map}` is not a string literal"))
                .with_label(Label::primary(*span, "a string literal goes here"))
                .with_help(format!("each key read is a column of its own, so write it out: `{map}['color']`; to choose between keys, use `case` over several lookups")),
            UnknownField { field, parent, span, suggestion } => with_suggestion(
                d(format!("struct `{parent}` has no field `{field}`")),
                *span,
                &format!("not a field of `{parent}`"),
                suggestion,
            ),
            ListNotScalar { what, span } => d(format!("{what} is a list"))
                .with_label(Label::primary(*span, "a scalar type goes here"))
                .with_note("note: a list is a source column's type only: keys and request fields are scalars (int64, float64, string, bool, timestamp, date)"),
            NullableKey { entity, key, span } => d(format!("key `{key}` of entity `{entity}` is nullable"))
                .with_label(Label::primary(*span, "remove the `?`"))
                .with_note("note: entity keys are never null; rows of a source whose key is null are counted and skipped"),
            ExpansionTooLarge { span, depth, size, max_depth, max_size, lets, more_lets } => {
                let measure = if depth > max_depth {
                    format!("{depth} levels deep (at most {max_depth})")
                } else {
                    format!("{size} operations (at most {max_size})")
                };
                d("expression too large once its lets are expanded".to_string())
                    .with_label(Label::primary(*span, format!("{measure} with its lets inlined")))
                    .with_note(format!(
                        "note: featc inlines each `let` where it is used; this expression uses {}{}",
                        lets.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", "),
                        if *more_lets { " and more" } else { "" }
                    ))
                    .with_help("compute the value in fewer steps, or from fewer copies of the same `let`")
            }
            ConstantOverflow { span, op } => d(format!("integer overflow in a constant `{op}`"))
                .with_label(Label::primary(*span, "overflows int64 on every row"))
                .with_help("int64 arithmetic that overflows is an error; write a float constant (`1.0`) if a float result is meant"),
            InvalidUtf8 { file, span, bytes, line, column, utf16 } => {
                let shown: Vec<String> = bytes.iter().map(|b| format!("0x{b:02X}")).collect();
                let noun = if bytes.len() == 1 { "byte" } else { "bytes" };
                let diag = d(format!(
                    "`{file}` is not valid UTF-8: {noun} {} at byte offset {} (line {line}, column {column})",
                    shown.join(" "),
                    span.start
                ))
                .with_label(Label::primary(*span, "not UTF-8"));
                let diag = if *utf16 {
                    diag.with_note("note: the file starts with a UTF-16 byte order mark: it looks like UTF-16")
                } else {
                    diag
                };
                diag.with_help("featc reads .feat files as UTF-8; re-save the file as UTF-8")
            }
            Unterminated { span, quote } => {
                let (what, closer) = match quote {
                    '`' => ("quoted name", "a backquote".to_string()),
                    _ => ("string", format!("`{quote}`")),
                };
                d(format!("unterminated {what}"))
                    .with_label(Label::primary(*span, format!("this {what} is never closed")))
                    .with_help(format!("close it with {closer} on the same line: {what}s do not span lines"))
            }
            UnknownTopicFormat { format, span } => {
                let known = featc_runtime::ir::TopicFormat::NAMES.join(", ");
                d(format!("unknown topic format `{format}`"))
                    .with_label(Label::primary(*span, "not a format featc decodes"))
                    .with_help(format!(
                        "the formats are: {known}; `json` (the default) is one JSON object per record, keyed by the source's column names; `avro \"x.avsc\"` and `protobuf \"x.proto\" \"Message\"` read records of a schema"
                    ))
            }
            Topic(e) => e.to_diagnostic(),
            UnknownEpochUnit { unit, span } => {
                let known: Vec<String> = featc_runtime::ir::EpochUnit::ALL
                    .iter()
                    .map(|u| format!("`{}`", u.name()))
                    .collect();
                d(format!("unknown epoch unit `{unit}`"))
                    .with_label(Label::primary(*span, "not a unit of integer times"))
                    .with_help(format!(
                        "the units are {}: seconds, milliseconds, microseconds and nanoseconds since 1970-01-01T00:00:00Z (e.g. `epoch s` for 1711842900)",
                        known.join(", ")
                    ))
            }
            UnknownPartitionUnit { unit, span } => {
                let known: Vec<String> = featc_runtime::ir::PartitionUnit::ALL
                    .iter()
                    .map(|u| format!("`{}` ({})", u.name(), u.written()))
                    .collect();
                d(format!("unknown partition unit `{unit}`"))
                    .with_label(Label::primary(*span, "not a unit of time partitions"))
                    .with_help(format!(
                        "the units are {}: each folder `KEY=VALUE/` holds the events of that UTC hour, day or month",
                        known.join(", ")
                    ))
            }
            PartitionKeyColumn { key, span, column_span } => {
                d(format!("partition key `{key}` is a column of the source"))
                    .with_label(Label::primary(*span, "a partition key"))
                    .with_label(Label::secondary(*column_span, "declared as a column here"))
                    .with_help(format!(
                        "featc reads a folder's `{key}=VALUE` only to skip the folders a run cannot need, never as a column (an event's time is its `time` column): remove `{key}` from the columns"
                    ))
            }
            Quantile { span } => d("percentile's p must be a number between 0 and 1".to_string())
                .with_label(Label::primary(*span, "not a number literal between 0 and 1"))
                .with_help(
                    "write p as a literal, e.g. `percentile(amount, 0.95)` for the 95th percentile; `median(x)` is `percentile(x, 0.5)`",
                ),
            RequestInView { request, field, span, view } => {
                d(format!("request field `{request}.{field}` read in view `{view}`"))
                    .with_label(Label::primary(*span, "views compute from their source's events"))
                    .with_help(format!(
                        "a request's fields exist only when a service is read: define the feature in a service, `feature NAME = ... {request}.{field} ...`"
                    ))
            }
            UnknownRequestField { request, field, span, suggestion } => with_suggestion(
                d(format!("request `{request}` has no field `{field}`")),
                *span,
                "no such field",
                suggestion,
            ),
            UnknownQualifier { name, span, suggestion } => with_suggestion(
                d(format!("unknown request or view `{name}`")),
                *span,
                "neither a request nor a view",
                suggestion,
            )
            .with_note("note: `a.b` names field `b` of request `a` or feature `b` of view `a`"),
            DerivedCycle { name, span, path } => d(format!("derived feature `{name}` depends on itself"))
                .with_label(Label::primary(*span, format!("{} → {name}", path.join(" → "))))
                .with_help("a derived feature is computed from others: break the cycle"),
            DerivedEntity { feature, span, entity, other, other_entity } => {
                let whose = match other_entity {
                    Some(e) => format!("a feature of entity `{e}`"),
                    None => "a service's own feature".to_string(),
                };
                d(format!("derived feature `{feature}` of entity `{entity}` reads `{other}`, {whose}"))
                    .with_label(Label::primary(*span, format!("not a feature of `{entity}`")))
                    .with_help("a view's derived features read features of its own entity: define a feature that combines entities in a service")
            }
            ShorterThanDelay { what, span, source, delay, delay_span } => {
                d(format!("{what} is no longer than source `{source}`'s delay"))
                    .with_label(Label::primary(*span, "a read at t sees no event in it"))
                    .with_label(Label::secondary(*delay_span, "events become visible this long after their time"))
                    .with_help(format!(
                        "with `delay {delay}` a read at t sees events up to t - {delay}: make the window (with its offset) or the ttl longer than {delay}"
                    ))
            }
            RequestFieldConflict { field, request, other, span, first } => d(format!(
                "field `{field}` of request `{request}` has another type than in request `{other}`"
            ))
            .with_label(Label::primary(*span, "declared here"))
            .with_label(Label::secondary(*first, "and here"))
            .with_help(format!(
                "both are read from the spine column `{field}` and the read's `request_context.{field}`: give them one type, or rename one"
            )),
            ListRead { feature, ty, span } => d(format!("feature `{feature}` is a list, which no expression reads"))
                .with_label(Label::primary(*span, format!("this is `{ty}`")))
                .with_help("lists (`last_k`, `first_k`, `top_k`) are results only: derive from a scalar feature (e.g. `last`, `count`, `max`)"),
            ServiceAggregation { service, span } => d(format!("an aggregation in service `{service}`"))
                .with_label(Label::primary(*span, "aggregations belong in views"))
                .with_help("services define derived features, row expressions over features: aggregate in a view and list or use the feature here"),
            ListLength { func, span, missing } => d(format!(
                "`{func}`'s k must be a whole number from 1 to {}",
                featc_runtime::ir::AggKind::MAX_K
            ))
            .with_label(Label::primary(
                *span,
                if *missing {
                    "k is missing".to_string()
                } else {
                    format!("not an integer literal from 1 to {}", featc_runtime::ir::AggKind::MAX_K)
                },
            ))
            .with_help(format!(
                "write k as a literal, e.g. `{func}(amount, 5)` for {}",
                match func.as_str() {
                    "first_k" => "the five earliest values",
                    "top_k" => "the five most frequent values",
                    _ => "the five latest values",
                }
            )),
            SpineColumnName { feature, span, what, first } => d(format!(
                "feature `{feature}` has the name of {what}"
            ))
            .with_label(Label::primary(*span, "a feature named like a spine column"))
            .with_label(Label::secondary(*first, "declared here"))
            .with_help(
                "training sets keep the spine's columns (entity keys, request fields) beside the features, and reads answer them: rename the feature",
            ),
            LookupCycle { view, looked_up, span, path } => d(format!(
                "views look each other up: {}",
                path.join(" -> ")
            ))
            .with_label(Label::primary(*span, format!("`{view}` looks up `{looked_up}` here")))
            .with_help("a lookup reads the other view's value at each event's time, which must not depend on this view's own events: break the cycle"),
            LookupTarget { feature, span, reason } => d(format!(
                "feature `{feature}` cannot be looked up: it is {reason}"
            ))
            .with_label(Label::primary(*span, "looked up here"))
            .with_help("look up an aggregated feature of a view (`let risk = merchants.risk_30d at merchant_id`)"),
            SourceTwice { view, source, span, first } => d(format!(
                "view `{view}` reads source `{source}` twice"
            ))
            .with_label(Label::primary(*span, "named again here"))
            .with_label(Label::secondary(*first, "first named here"))
            .with_help("a view over several sources reads each once: its events would count twice; remove the repeated name"),
            SourcesColumnType { view, column, sides } => {
                let [this, other] = sides.as_ref();
                d(format!(
                    "the sources of view `{view}` disagree on column `{column}`: {} in `{}`, {} in `{}`",
                    this.detail, this.source, other.detail, other.source
                ))
                .with_label(Label::primary(this.span, format!("{} here", this.detail)))
                .with_label(Label::secondary(other.span, format!("{} here", other.detail)))
                .with_help("a column name means one column in a view over several sources: give the columns one type, or rename one of them")
            }
            SourcesDelay { view, sides } => {
                let [this, other] = sides.as_ref();
                d(format!(
                    "the sources of view `{view}` have different delays: `{}` {}, `{}` {}",
                    this.source, this.detail, other.source, other.detail
                ))
                .with_label(Label::primary(this.span, format!("delay {}", this.detail)))
                .with_label(Label::secondary(other.span, format!("delay {}", other.detail)))
                .with_help("a read sees a view's events up to one time: declare the same `delay` on every source of the view, or split the view")
            }
            EventCount { span, capped } => d(format!(
                "a count window's number of events must be a whole number from 1 to {}",
                featc_runtime::ir::AggKind::MAX_EVENTS
            ))
            .with_label(Label::primary(
                *span,
                format!("not from 1 to {}", featc_runtime::ir::AggKind::MAX_EVENTS),
            ))
            .with_help(if *capped {
                "`over 30d max 200 events` keeps at most the 200 latest events of the 30 days; write a bound the state can hold per entity"
            } else {
                "`over 10 events` folds the 10 latest events at or before the read time; write a count the state can hold per entity"
            }),
            Unclosed { span, delimiter, end, found } => {
                let closer = match delimiter {
                    '{' => '}',
                    '(' => ')',
                    _ => ']',
                };
                let label = match found {
                    Some(tok) => format!("expected `{closer}` before `{tok}`"),
                    None => format!("expected `{closer}` before the end of the file"),
                };
                d(format!("unclosed `{delimiter}`"))
                    .with_label(Label::primary(*span, format!("this `{delimiter}` is never closed")))
                    .with_label(Label::secondary(*end, label))
                    .with_help(format!("add the missing `{closer}`"))
            }
        }
    }
}

fn with_suggestion(
    diag: Diagnostic,
    span: Span,
    label: &str,
    suggestion: &Option<String>,
) -> Diagnostic {
    let diag = diag.with_label(Label::primary(span, label));
    match suggestion {
        Some(s) => diag.with_help(format!("did you mean `{s}`?")),
        None => diag,
    }
}

/// `a`, `a or b`, `a, b or c`.
fn one_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
