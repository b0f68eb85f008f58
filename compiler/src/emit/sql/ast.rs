//! Small constructors of sqlparser syntax trees (DataFusion's re-export), so the
//! emitter reads like the SQL it builds and never assembles SQL text itself.
//!
//! Operands of operators are parenthesized whenever they are not atoms (a column,
//! a literal, a call, a cast, a `CASE`), so the printed text parses back to the same
//! tree in every dialect, whatever its precedence rules.

use datafusion::sql::sqlparser::ast::{
    self, helpers::attached_token::AttachedToken, BinaryOperator, CaseWhen, CastKind, Cte,
    DataType, Distinct, DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentList, FunctionArguments, GroupByExpr, Ident, Join, JoinConstraint,
    JoinOperator, ObjectName, OrderBy, OrderByExpr, OrderByKind, OrderByOptions, Query, Select,
    SelectFlavor, SelectItem, SetExpr, TableAlias, TableFactor, TableWithJoins, UnaryOperator,
    Value, WildcardAdditionalOptions, WindowSpec, WindowType, With,
};

/// An identifier quoted with `quote` (`"` or `` ` ``): names keep their case and may
/// be keywords.
pub fn ident(quote: char, name: &str) -> Ident {
    Ident::with_quote(quote, name)
}

/// `alias.column`.
pub fn qcol(quote: char, alias: &str, column: &str) -> Expr {
    Expr::CompoundIdentifier(vec![ident(quote, alias), ident(quote, column)])
}

/// An unqualified column.
pub fn col(quote: char, column: &str) -> Expr {
    Expr::Identifier(ident(quote, column))
}

/// A table name: the parts of a dotted name, each quoted.
pub fn table_name(quote: char, name: &str) -> ObjectName {
    ObjectName::from(
        name.split('.')
            .map(|part| ident(quote, part))
            .collect::<Vec<_>>(),
    )
}

pub fn number(text: impl Into<String>) -> Expr {
    Expr::Value(Value::Number(text.into(), false).with_empty_span())
}

pub fn int(v: i64) -> Expr {
    number(v.to_string())
}

pub fn string(s: &str) -> Expr {
    Expr::Value(Value::SingleQuotedString(s.to_string()).with_empty_span())
}

pub fn boolean(b: bool) -> Expr {
    Expr::Value(Value::Boolean(b).with_empty_span())
}

pub fn null() -> Expr {
    Expr::Value(Value::Null.with_empty_span())
}

/// Parenthesizes `e` unless it is an atom.
pub fn nest(e: Expr) -> Expr {
    match e {
        Expr::Identifier(_)
        | Expr::CompoundIdentifier(_)
        | Expr::Value(_)
        | Expr::Function(_)
        | Expr::Cast { .. }
        | Expr::Case { .. }
        | Expr::Nested(_) => e,
        other => Expr::Nested(Box::new(other)),
    }
}

pub fn binary(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(nest(left)),
        op,
        right: Box::new(nest(right)),
    }
}

/// `x` divided by the positive constant `d`, rounded toward negative infinity:
/// `(x - ((x % d) + d) % d) / d` (SQL's `/` and `%` truncate toward zero).
pub fn floor_div(x: Expr, d: i64) -> Expr {
    let rem = binary(
        binary(
            binary(x.clone(), BinaryOperator::Modulo, int(d)),
            BinaryOperator::Plus,
            int(d),
        ),
        BinaryOperator::Modulo,
        int(d),
    );
    binary(
        binary(x, BinaryOperator::Minus, rem),
        BinaryOperator::Divide,
        int(d),
    )
}

/// `a AND b AND ...` of every condition (`TRUE` for none).
pub fn and_all(conditions: Vec<Expr>) -> Expr {
    let mut it = conditions.into_iter();
    match it.next() {
        None => boolean(true),
        Some(first) => it.fold(first, |acc, c| binary(acc, BinaryOperator::And, c)),
    }
}

pub fn or(a: Expr, b: Expr) -> Expr {
    binary(a, BinaryOperator::Or, b)
}

pub fn eq(a: Expr, b: Expr) -> Expr {
    binary(a, BinaryOperator::Eq, b)
}

pub fn not(e: Expr) -> Expr {
    Expr::UnaryOp {
        op: UnaryOperator::Not,
        expr: Box::new(nest(e)),
    }
}

pub fn neg(e: Expr) -> Expr {
    Expr::UnaryOp {
        op: UnaryOperator::Minus,
        expr: Box::new(nest(e)),
    }
}

pub fn is_null(e: Expr, negated: bool) -> Expr {
    let e = Box::new(nest(e));
    if negated {
        Expr::IsNotNull(e)
    } else {
        Expr::IsNull(e)
    }
}

pub fn in_list(e: Expr, list: Vec<Expr>, negated: bool) -> Expr {
    Expr::InList {
        expr: Box::new(nest(e)),
        list,
        negated,
    }
}

pub fn cast(e: Expr, data_type: DataType) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(e),
        data_type,
        array: false,
        format: None,
    }
}

/// `CASE WHEN c THEN v ... [ELSE e] END`.
pub fn case(branches: Vec<(Expr, Expr)>, otherwise: Option<Expr>) -> Expr {
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: branches
            .into_iter()
            .map(|(condition, result)| CaseWhen { condition, result })
            .collect(),
        else_result: otherwise.map(Box::new),
    }
}

/// `CASE WHEN c THEN v END`.
pub fn when(condition: Expr, value: Expr) -> Expr {
    case(vec![(condition, value)], None)
}

fn function(name: &str, args: Vec<Expr>, distinct: bool) -> Function {
    Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: distinct.then_some(DuplicateTreatment::Distinct),
            args: args
                .into_iter()
                .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
                .collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    }
}

/// `name(args...)`.
pub fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(function(name, args, false))
}

/// `name(DISTINCT arg)`.
pub fn call_distinct(name: &str, arg: Expr) -> Expr {
    Expr::Function(function(name, vec![arg], true))
}

/// `COUNT(*)`.
pub fn count_star() -> Expr {
    let mut f = function("COUNT", Vec::new(), false);
    f.args = FunctionArguments::List(FunctionArgumentList {
        duplicate_treatment: None,
        args: vec![FunctionArg::Unnamed(FunctionArgExpr::Wildcard)],
        clauses: Vec::new(),
    });
    Expr::Function(f)
}

/// `name(args...) OVER (PARTITION BY ... ORDER BY ...)`.
pub fn window(
    name: &str,
    args: Vec<Expr>,
    partition_by: Vec<Expr>,
    order_by: Vec<OrderByExpr>,
) -> Expr {
    let mut f = function(name, args, false);
    f.over = Some(WindowType::WindowSpec(WindowSpec {
        window_name: None,
        partition_by,
        order_by,
        window_frame: None,
    }));
    Expr::Function(f)
}

/// `f OVER (PARTITION BY ... ORDER BY ... RANGE BETWEEN ...)`: `f` (a call) with a
/// `RANGE` frame from `lower` (`None`: unbounded) to `upper` preceding the row's
/// order key (`None`: the current row and its peers).
pub fn over_range(
    f: Expr,
    partition_by: Vec<Expr>,
    order_by: Vec<OrderByExpr>,
    lower: Option<Expr>,
    upper: Option<Expr>,
) -> Expr {
    let frame = ast::WindowFrame {
        units: ast::WindowFrameUnits::Range,
        start_bound: ast::WindowFrameBound::Preceding(lower.map(Box::new)),
        end_bound: Some(match upper {
            Some(u) => ast::WindowFrameBound::Preceding(Some(Box::new(u))),
            None => ast::WindowFrameBound::CurrentRow,
        }),
    };
    over_frame(f, partition_by, order_by, frame)
}

/// `f OVER (PARTITION BY ... ORDER BY ... ROWS BETWEEN preceding PRECEDING AND
/// CURRENT ROW)`: `f` (a call) over the row and the `preceding` rows before it.
pub fn over_rows(
    f: Expr,
    partition_by: Vec<Expr>,
    order_by: Vec<OrderByExpr>,
    preceding: u32,
) -> Expr {
    let frame = ast::WindowFrame {
        units: ast::WindowFrameUnits::Rows,
        start_bound: ast::WindowFrameBound::Preceding(Some(Box::new(int(i64::from(preceding))))),
        end_bound: Some(ast::WindowFrameBound::CurrentRow),
    };
    over_frame(f, partition_by, order_by, frame)
}

/// `f OVER (PARTITION BY ... ORDER BY ... frame)`: the one place a call gets a framed
/// window; anything but a call is returned unchanged.
fn over_frame(
    f: Expr,
    partition_by: Vec<Expr>,
    order_by: Vec<OrderByExpr>,
    frame: ast::WindowFrame,
) -> Expr {
    let Expr::Function(mut f) = f else {
        return f;
    };
    f.over = Some(WindowType::WindowSpec(WindowSpec {
        window_name: None,
        partition_by,
        order_by,
        window_frame: Some(frame),
    }));
    Expr::Function(f)
}

/// `expr ASC NULLS FIRST`: oldest first, where null is the smallest value.
pub fn ascending_nulls_first(expr: Expr) -> OrderByExpr {
    OrderByExpr {
        expr,
        options: OrderByOptions {
            asc: Some(true),
            nulls_first: Some(true),
        },
        with_fill: None,
    }
}

/// One key of an `ORDER BY`, nulls placed explicitly (engines differ in the default).
pub fn order(expr: Expr, ascending: bool) -> OrderByExpr {
    OrderByExpr {
        expr,
        options: OrderByOptions {
            asc: Some(ascending),
            nulls_first: Some(!ascending),
        },
        with_fill: None,
    }
}

/// `expr DESC NULLS LAST`: newest first, where null is the smallest value.
pub fn descending_nulls_last(expr: Expr) -> OrderByExpr {
    OrderByExpr {
        expr,
        options: OrderByOptions {
            asc: Some(false),
            nulls_first: Some(false),
        },
        with_fill: None,
    }
}

/// `expr AS "alias"`.
pub fn item(expr: Expr, alias: Ident) -> SelectItem {
    SelectItem::ExprWithAlias { expr, alias }
}

/// `alias.*`.
pub fn all_of(quote: char, alias: &str) -> SelectItem {
    SelectItem::QualifiedWildcard(
        ast::SelectItemQualifiedWildcardKind::ObjectName(ObjectName::from(vec![ident(
            quote, alias,
        )])),
        WildcardAdditionalOptions::default(),
    )
}

/// A table (or CTE) in a `FROM`, with an alias.
pub fn table(name: ObjectName, alias: Option<Ident>) -> TableFactor {
    TableFactor::Table {
        name,
        alias: alias.map(|name| TableAlias {
            explicit: true,
            name,
            columns: Vec::new(),
            at: None,
        }),
        args: None,
        with_hints: Vec::new(),
        version: None,
        with_ordinality: false,
        partitions: Vec::new(),
        json_path: None,
        sample: None,
        index_hints: Vec::new(),
    }
}

/// How a table joins the ones before it.
pub enum JoinKind {
    Inner,
    Left,
}

pub fn join(kind: JoinKind, relation: TableFactor, on: Expr) -> Join {
    let constraint = JoinConstraint::On(on);
    Join {
        relation,
        global: false,
        join_operator: match kind {
            JoinKind::Inner => JoinOperator::Join(constraint),
            JoinKind::Left => JoinOperator::Left(constraint),
        },
    }
}

/// A `SELECT`: projection, one `FROM` with its joins, optional `WHERE`, `GROUP BY`.
pub struct SelectParts {
    pub projection: Vec<SelectItem>,
    pub from: TableFactor,
    pub joins: Vec<Join>,
    pub selection: Option<Expr>,
    pub group_by: Vec<Expr>,
}

pub fn select(parts: SelectParts) -> Select {
    Select {
        select_token: AttachedToken::empty(),
        optimizer_hints: Vec::new(),
        distinct: None::<Distinct>,
        select_modifiers: None,
        top: None,
        top_before_distinct: false,
        projection: parts.projection,
        exclude: None,
        into: None,
        from: vec![TableWithJoins {
            relation: parts.from,
            joins: parts.joins,
        }],
        lateral_views: Vec::new(),
        prewhere: None,
        selection: parts.selection,
        connect_by: Vec::new(),
        group_by: GroupByExpr::Expressions(parts.group_by, Vec::new()),
        cluster_by: Vec::new(),
        distribute_by: Vec::new(),
        sort_by: Vec::new(),
        having: None,
        named_window: Vec::new(),
        qualify: None,
        window_before_qualify: false,
        value_table_mode: None,
        flavor: SelectFlavor::Standard,
    }
}

/// A query of one `SELECT`, with CTEs and an `ORDER BY`.
pub fn query(ctes: Vec<Cte>, body: Select, order_by: Vec<OrderByExpr>) -> Query {
    Query {
        with: (!ctes.is_empty()).then(|| With {
            with_token: AttachedToken::empty(),
            recursive: false,
            cte_tables: ctes,
        }),
        body: Box::new(SetExpr::Select(Box::new(body))),
        order_by: (!order_by.is_empty()).then_some(OrderBy {
            kind: OrderByKind::Expressions(order_by),
            interpolate: None,
        }),
        limit_clause: None,
        fetch: None,
        locks: Vec::new(),
        for_clause: None,
        settings: None,
        format_clause: None,
        pipe_operators: Vec::new(),
    }
}

/// `name AS (query)`.
pub fn cte(name: Ident, body: Select) -> Cte {
    cte_query(name, query(Vec::new(), body, Vec::new()))
}

/// `name AS (left UNION ALL right)`.
pub fn cte_union(name: Ident, left: Select, right: Select) -> Cte {
    cte_union_all(name, left, vec![right])
}

/// `name AS (first UNION ALL second UNION ALL ...)`, nested to the left as a parser
/// reads it back.
pub fn cte_union_all(name: Ident, first: Select, rest: Vec<Select>) -> Cte {
    let mut q = query(Vec::new(), first, Vec::new());
    for right in rest {
        q.body = Box::new(SetExpr::SetOperation {
            op: ast::SetOperator::Union,
            set_quantifier: ast::SetQuantifier::All,
            left: q.body,
            right: Box::new(SetExpr::Select(Box::new(right))),
        });
    }
    cte_query(name, q)
}

fn cte_query(name: Ident, q: Query) -> Cte {
    Cte {
        alias: TableAlias {
            explicit: false,
            name,
            columns: Vec::new(),
            at: None,
        },
        query: Box::new(q),
        from: None,
        materialized: None,
        closing_paren_token: AttachedToken::empty(),
    }
}
