//! Spark SQL's differences: backquoted names, `unix_micros`, `STRING`, string
//! literals without quotes or backslashes in them (Spark reads `''` as two literals
//! and `\` as an escape: both are spelled with `chr`), `raise_error` where the
//! query must fail (a cast that does not fit is null in Spark), and its function
//! names; `floor`/`ceil` of a float64 give an int64 in Spark and `substr` counts a
//! negative start from the end, so those are refused. Float64 entity keys are keyed
//! by their text (`key_operand`).

use datafusion::sql::sqlparser::ast::{BinaryOperator, DataType as SqlDataType, Expr};

use super::ast::{self, binary, call, case, cast, int};
use super::dialect::{Flavor, SqlType};
use crate::ir::{DataType, Function};

pub struct Spark;

impl Flavor for Spark {
    fn quote(&self) -> char {
        '`'
    }

    fn sql_type(&self, t: SqlType) -> SqlDataType {
        match t {
            SqlType::Text => SqlDataType::String(None),
            SqlType::Int64 => SqlDataType::BigInt(None),
            SqlType::Float64 => SqlDataType::Double(ast_info()),
            SqlType::Wide => SqlDataType::Decimal(
                datafusion::sql::sqlparser::ast::ExactNumberInfo::PrecisionAndScale(38, 0),
            ),
            SqlType::Bool => SqlDataType::Boolean,
            SqlType::Timestamp => {
                SqlDataType::Timestamp(None, datafusion::sql::sqlparser::ast::TimezoneInfo::None)
            }
            SqlType::Date => SqlDataType::Date,
        }
    }

    fn epoch_us(&self, ts: Expr) -> Expr {
        call("unix_micros", vec![ts])
    }

    /// Spark makes `-0.0` and `+0.0` one value in its joins, aggregations and window
    /// partitions (its float keys are normalized; tests/sql-engines/float_keys,
    /// scripts/check-sql-engines.sh). A float key is keyed by its text instead, Java's
    /// `Double.toString`, which reads back to the same value (`-0.0` and `0.0` apart)
    /// and writes every NaN `NaN`, whatever its sign or payload.
    fn key_operand(&self, x: Expr, ty: DataType) -> Expr {
        match ty {
            DataType::Float64 => cast(x, self.sql_type(SqlType::Text)),
            _ => x,
        }
    }

    fn string(&self, s: &str) -> Expr {
        let mut parts: Vec<Expr> = Vec::new();
        let mut plain = String::new();
        for c in s.chars() {
            match c {
                '\'' | '\\' => {
                    if !plain.is_empty() {
                        parts.push(ast::string(&std::mem::take(&mut plain)));
                    }
                    parts.push(call("chr", vec![int(c as i64)]));
                }
                c => plain.push(c),
            }
        }
        if !plain.is_empty() || parts.is_empty() {
            parts.push(ast::string(&plain));
        }
        let mut it = parts.into_iter();
        let first = it.next().unwrap_or_else(|| ast::string(""));
        it.fold(first, |acc, p| binary(acc, BinaryOperator::StringConcat, p))
    }

    fn checked_int64(&self, x: Expr, what: &str) -> Expr {
        // `NOT BETWEEN`: a null sum (no value) is null, not an overflow.
        let overflows = Expr::Between {
            expr: Box::new(x.clone()),
            negated: true,
            low: Box::new(cast(
                self.string(&i64::MIN.to_string()),
                self.sql_type(SqlType::Wide),
            )),
            high: Box::new(int(i64::MAX)),
        };
        let fail = call(
            "raise_error",
            vec![self.string(&format!("featc: {what} overflows int64"))],
        );
        case(
            vec![(overflows, cast(fail, self.sql_type(SqlType::Int64)))],
            Some(cast(x, self.sql_type(SqlType::Int64))),
        )
    }

    fn fail_if(&self, bad: Expr, message: Expr) -> Expr {
        case(
            vec![(bad, ast::is_null(call("raise_error", vec![message]), false))],
            Some(ast::boolean(true)),
        )
    }

    fn function(&self, func: Function, args: Vec<(Expr, DataType)>, ty: DataType) -> Option<Expr> {
        let renamed = |name: &str, args: Vec<(Expr, DataType)>| {
            Some(call(name, args.into_iter().map(|(e, _)| e).collect()))
        };
        match func {
            Function::Floor | Function::Ceil if ty == DataType::Float64 => None,
            Function::Substr => None,
            Function::StartsWith => renamed("startswith", args),
            Function::EndsWith => renamed("endswith", args),
            _ => super::functions::portable(self, func, args, ty),
        }
    }
}

fn ast_info() -> datafusion::sql::sqlparser::ast::ExactNumberInfo {
    datafusion::sql::sqlparser::ast::ExactNumberInfo::None
}
