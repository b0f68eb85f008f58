//! SQL predicates of a spec (`where`, `count_if`) to `.feat` expressions, through
//! DataFusion's SQL parser. Only the subset the spec format defines is accepted:
//! columns, literals, comparisons, `IS [NOT] NULL`, `[NOT] IN (...)`, `AND`, `OR`,
//! `NOT`, parentheses, and arithmetic; anything else is an error rather than a guess.

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, UnaryOperator, Value};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;

use super::project::ident;

/// The `.feat` text of the SQL predicate `sql`, and the columns it reads. An error is
/// a message for `ImportError::Predicate`.
pub fn translate(sql: &str) -> Result<(String, Vec<String>), String> {
    let dialect = GenericDialect {};
    let mut parser = Parser::new(&dialect)
        .try_with_sql(sql)
        .map_err(|e| e.to_string())?;
    let expr = parser.parse_expr().map_err(|e| e.to_string())?;
    parser
        .expect_token(&Token::EOF)
        .map_err(|e| e.to_string())?;
    let mut columns = Vec::new();
    let text = write(&expr, &mut columns)?;
    Ok((text, columns))
}

/// Writes `e` with every compound operand parenthesized, so that the `.feat` text
/// means what the SQL meant whatever the two languages' precedences.
#[recursive::recursive]
fn write(e: &Expr, columns: &mut Vec<String>) -> Result<String, String> {
    Ok(match e {
        Expr::Identifier(id) => {
            if !columns.contains(&id.value) {
                columns.push(id.value.clone());
            }
            ident(&id.value).map_err(|e| e.to_string())?
        }
        Expr::Nested(inner) => write(inner, columns)?,
        Expr::Value(v) => literal(&v.value)?,
        Expr::IsNull(inner) => format!("{} is null", operand(inner, columns)?),
        Expr::IsNotNull(inner) => format!("{} is not null", operand(inner, columns)?),
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let items: Result<Vec<String>, String> =
                list.iter().map(|i| write(i, columns)).collect();
            let not = if *negated { "not " } else { "" };
            format!(
                "{} {not}in ({})",
                operand(expr, columns)?,
                items?.join(", ")
            )
        }
        Expr::UnaryOp { op, expr } => match op {
            UnaryOperator::Not => format!("not {}", operand(expr, columns)?),
            UnaryOperator::Minus => format!("-{}", operand(expr, columns)?),
            UnaryOperator::Plus => operand(expr, columns)?,
            other => return Err(format!("the operator `{other}` is not supported")),
        },
        Expr::BinaryOp { left, op, right } => {
            let op = match op {
                BinaryOperator::Eq => "=",
                BinaryOperator::NotEq => "!=",
                BinaryOperator::Lt => "<",
                BinaryOperator::LtEq => "<=",
                BinaryOperator::Gt => ">",
                BinaryOperator::GtEq => ">=",
                BinaryOperator::And => "and",
                BinaryOperator::Or => "or",
                BinaryOperator::Plus => "+",
                BinaryOperator::Minus => "-",
                BinaryOperator::Multiply => "*",
                BinaryOperator::Divide => "/",
                BinaryOperator::Modulo => "%",
                other => return Err(format!("the operator `{other}` is not supported")),
            };
            format!(
                "{} {op} {}",
                operand(left, columns)?,
                operand(right, columns)?
            )
        }
        other => return Err(format!("`{other}` is not in the predicate subset")),
    })
}

/// An operand of an operator: leaves as they are, anything else in parentheses.
fn operand(e: &Expr, columns: &mut Vec<String>) -> Result<String, String> {
    let text = write(e, columns)?;
    Ok(match e {
        Expr::Identifier(_) | Expr::Value(_) => text,
        Expr::Nested(inner) if matches!(**inner, Expr::Identifier(_) | Expr::Value(_)) => text,
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } if matches!(**expr, Expr::Value(_)) => text,
        _ => format!("({text})"),
    })
}

fn literal(v: &Value) -> Result<String, String> {
    Ok(match v {
        Value::Number(n, _) => n.to_string(),
        // A `.feat` string does not span lines: line breaks need the escapes of a
        // double-quoted string.
        Value::SingleQuotedString(s) if s.contains(['\n', '\r']) => format!(
            "\"{}\"",
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
                .replace('\r', "\\r")
        ),
        Value::SingleQuotedString(s) => format!("'{}'", s.replace('\'', "''")),
        Value::Boolean(b) => b.to_string(),
        Value::Null => "null".to_string(),
        other => return Err(format!("the literal `{other}` is not supported")),
    })
}

#[cfg(test)]
mod tests {
    use super::translate;

    fn feat(sql: &str) -> String {
        translate(sql).expect("translates").0
    }

    #[test]
    fn the_subset_translates_with_explicit_grouping() {
        assert_eq!(feat("status != 'cancelled'"), "status != 'cancelled'");
        assert_eq!(
            feat("a <> 1 AND NOT (b IS NULL OR c IN (1, 2))"),
            "(a != 1) and (not ((b is null) or (c in (1, 2))))"
        );
        assert_eq!(feat("x NOT IN ('a', 'it''s')"), "x not in ('a', 'it''s')");
        assert_eq!(
            feat("amount > -2.5e3 and flag = TRUE"),
            "(amount > -2.5e3) and (flag = true)"
        );
        assert_eq!(feat("y IS NOT NULL"), "y is not null");
    }

    #[test]
    fn line_breaks_in_strings_become_escapes_the_grammar_reads_back() {
        let text = feat("s = 'a\nb\r\"c\\'");
        assert_eq!(text, "s = \"a\\nb\\r\\\"c\\\\\"");
        let src = format!(
            "source e {{ time ts columns {{ k: int64 s: string? }} }}\n\
             entity u {{ key k: int64 }}\n\
             view v from e by u {{ feature n = count(*) where {text} }}\n"
        );
        let file = featc_grammar::parse(0, &src).expect("parses");
        let printed = featc_grammar::print_file(&file, &src);
        assert!(
            printed.contains("String \"a\\nb\\r\\\"c\\\\\""),
            "{printed}"
        );
    }

    #[test]
    fn columns_are_collected_once_and_keywords_quoted() {
        let (text, columns) = translate("amount > 2 or amount < 0").expect("translates");
        assert_eq!(text, "(amount > 2) or (amount < 0)");
        assert_eq!(columns, vec!["amount".to_string()]);
        let (text, columns) = translate("\"end\" > amount").expect("quoted identifier");
        assert_eq!(text, "`end` > amount");
        assert_eq!(columns, vec!["end".to_string(), "amount".to_string()]);
    }

    #[test]
    fn anything_else_is_refused() {
        for sql in [
            "f(x) > 1",
            "x LIKE 'a%'",
            "x > 1 extra",
            "x BETWEEN 1 AND 2",
            "",
        ] {
            assert!(translate(sql).is_err(), "{sql} should be refused");
        }
    }
}
