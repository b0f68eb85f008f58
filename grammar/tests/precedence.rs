//! Operator precedence and associativity, checked through a fully parenthesized rendering.

use featc_grammar::ast::*;
use featc_grammar::parse;

/// Renders an expression with every operation parenthesized.
fn sexpr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Column(id) => id.name.clone(),
        ExprKind::Field { qualifier, name } => format!("{}.{}", qualifier.name, name.name),
        ExprKind::Member { base, name } => format!("{}.{}", sexpr(base), name.name),
        ExprKind::Int(s) | ExprKind::Float(s) => s.clone(),
        ExprKind::String(s) => format!("{s:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Null => "null".into(),
        ExprKind::Unary {
            op: UnaryOp::Not,
            expr,
        } => format!("(not {})", sexpr(expr)),
        ExprKind::Unary {
            op: UnaryOp::Neg,
            expr,
        } => format!("(- {})", sexpr(expr)),
        ExprKind::Binary { op, lhs, rhs } => {
            format!("({} {} {})", sexpr(lhs), op.symbol(), sexpr(rhs))
        }
        ExprKind::IsNull { expr, negated } => {
            format!(
                "({} is {}null)",
                sexpr(expr),
                if *negated { "not " } else { "" }
            )
        }
        ExprKind::InList {
            expr,
            list,
            negated,
        } => {
            let items: Vec<String> = list.iter().map(sexpr).collect();
            format!(
                "({} {}in [{}])",
                sexpr(expr),
                if *negated { "not " } else { "" },
                items.join(", ")
            )
        }
        ExprKind::Call { func, args } => {
            let args: Vec<String> = args.iter().map(sexpr).collect();
            format!("{}({})", func.name, args.join(", "))
        }
        ExprKind::Case {
            branches,
            otherwise,
        } => {
            let mut s = "(case".to_string();
            for (c, v) in branches {
                s += &format!(" when {} then {}", sexpr(c), sexpr(v));
            }
            if let Some(o) = otherwise {
                s += &format!(" else {}", sexpr(o));
            }
            s + " end)"
        }
    }
}

/// Parses `text` as the predicate of a view's `where` clause.
fn where_expr(text: &str) -> Expr {
    let src = format!("view v from s by e {{ where {text} }}");
    let file = parse(0, &src).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
    match &file.items[..] {
        [Item::View(v)] => match &v.clauses[..] {
            [ViewClause::Where(e)] => e.clone(),
            other => panic!("{text:?}: clauses {other:?}"),
        },
        other => panic!("{text:?}: items {other:?}"),
    }
}

fn check(text: &str, expected: &str) {
    assert_eq!(sexpr(&where_expr(text)), expected, "parsing {text:?}");
}

#[test]
fn logical_operators() {
    check("a < 10 and b or c", "(((a < 10) and b) or c)");
    check("a or b and c", "(a or (b and c))");
    check("a or b or c", "((a or b) or c)");
    check("a and b and c", "((a and b) and c)");
    check("not a = b", "(not (a = b))");
    check("not a and b", "((not a) and b)");
    check("not not a", "(not (not a))");
    check("a and not b or c", "((a and (not b)) or c)");
    // Chains of four or more terms are balanced (and/or are associative).
    check("a or b or c or d", "((a or b) or (c or d))");
    check(
        "a and b and c and d and e",
        "(((a and b) and c) and (d and e))",
    );
}

/// A flat chain is not nesting: thousands of `or`ed terms parse (as a balanced tree
/// of logarithmic depth), while thousands of chained `+` are refused as a chain, not
/// as nesting.
#[test]
fn long_flat_chains() {
    let terms: Vec<String> = (0..5000).map(|i| format!("x = {i}")).collect();
    let e = where_expr(&terms.join(" or "));
    fn depth(e: &Expr) -> usize {
        match &e.kind {
            ExprKind::Binary { lhs, rhs, .. } => 1 + depth(lhs).max(depth(rhs)),
            _ => 1,
        }
    }
    assert!(depth(&e) <= 16, "depth {}", depth(&e));
    let sum: Vec<String> = (0..5000).map(|i| format!("x{i}")).collect();
    let src = format!("view v from s by e {{ where {} > 0 }}", sum.join(" + "));
    let errors = parse(0, &src).expect_err("a 5000-term sum is refused");
    let ParseErrorKind::Unexpected { expected, .. } = &errors[0].kind else {
        panic!("{:?}", errors[0]);
    };
    assert!(
        expected
            .iter()
            .any(|e| e.contains("arithmetic or comparison operators")),
        "{expected:?}"
    );
}

#[test]
fn comparisons() {
    check("a == b", "(a = b)");
    check("a <> b", "(a != b)");
    check("a != b", "(a != b)");
    check("a <= b", "(a <= b)");
    check("a >= b", "(a >= b)");
    check("a < b", "(a < b)");
    check("a > b", "(a > b)");
    check("a + 1 > b * 2", "((a + 1) > (b * 2))");
    check("a = b = c", "((a = b) = c)");
}

#[test]
fn arithmetic() {
    check("-x * 2", "((- x) * 2)");
    check("a - b - c", "((a - b) - c)");
    check("a / b * c % d", "(((a / b) * c) % d)");
    check("a + b * c", "(a + (b * c))");
    check("(a + b) * c", "((a + b) * c)");
    check("- - a", "(- (- a))");
    check("a - -b", "(a - (- b))");
    check("a--b", "(a - (- b))");
}

#[test]
fn postfix_operators() {
    check(
        "category not in ('grocery', 'dining')",
        "(category not in [\"grocery\", \"dining\"])",
    );
    check("x in (1, 2,)", "(x in [1, 2])");
    check("x in ()", "(x in [])");
    check("a is null", "(a is null)");
    check("a is not null", "(a is not null)");
    check("a + 1 is null", "((a + 1) is null)");
    check("not a is null or b", "((not (a is null)) or b)");
    check(
        "not is_mobile or is_mobile is null",
        "((not is_mobile) or (is_mobile is null))",
    );
    check("a = b is null", "((a = b) is null)");
    check(
        "x not in (1) and y in (2)",
        "((x not in [1]) and (y in [2]))",
    );
}

#[test]
fn primaries() {
    check("coalesce(a, 0.0) * 0.92", "(coalesce(a, 0.0) * 0.92)");
    check("if(c, a, b)", "if(c, a, b)");
    check("f()", "f()");
    check(
        "case when a < 10 then 'small' when a < 100 then 'medium' else 'large' end",
        "(case when (a < 10) then \"small\" when (a < 100) then \"medium\" else \"large\" end)",
    );
    check("case when a then 1 end", "(case when a then 1 end)");
    check("true and false or null", "((true and false) or null)");
    check(
        "1.5 + 2e3 + 2.5e-3 + 1. + 7E+2",
        "((((1.5 + 2e3) + 2.5e-3) + 1.) + 7E+2)",
    );
    check("`time` > `my col`", "(time > my col)");
    check(
        "'it''s' = \"a\\\"b\\\\c\\n\\t\"",
        "(\"it's\" = \"a\\\"b\\\\c\\n\\t\")",
    );
    check(
        "not (amount is null) or -items < 0",
        "((not (amount is null)) or ((- items) < 0))",
    );
}

#[test]
fn spans_cover_the_text() {
    let src = "view v from s by e { where -x * (a + b) in (1) }";
    let e = where_expr("-x * (a + b) in (1)");
    let offset = src.find("-x").unwrap() as u32;
    assert_eq!((e.span.start - offset, e.span.end - offset), (0, 19));
    let ExprKind::InList { expr, .. } = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!((expr.span.start - offset, expr.span.end - offset), (0, 12));
    let ExprKind::Binary { lhs, rhs, .. } = &expr.kind else {
        panic!("{expr:?}")
    };
    assert_eq!((lhs.span.start - offset, lhs.span.end - offset), (0, 2));
    // Parentheses are part of the parenthesized expression's text.
    assert_eq!((rhs.span.start - offset, rhs.span.end - offset), (5, 12));
}
