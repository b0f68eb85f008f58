//! PostgreSQL's differences: `DOUBLE PRECISION`, epoch microseconds by `EXTRACT`,
//! strings ordered by bytes (`COLLATE "C"`: a database's default collation orders
//! by language), `bool_and`/`bool_or` for the min and max of booleans, NaN found by
//! equality (there is no `isnan`), `round` through `numeric` (PostgreSQL rounds a
//! float64 half to even), `ends_with`/`contains` by `right`/`strpos`; no float64 `%`,
//! and `lower`/`upper` (locale-dependent) and `substr` (int4 positions) are refused.
//! Float64 entity keys are keyed by their bytes, every NaN one (`key_operand`).

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, DataType as SqlDataType, DateTimeField, Expr, ExtractSyntax, Ident, ObjectName,
};

use super::ast::{binary, call, case, cast, eq, int};
use super::dialect::{Flavor, SqlType};
use super::expr::float;
use crate::ir::{DataType, Function};

pub struct Postgres;

impl Flavor for Postgres {
    fn sql_type(&self, t: SqlType) -> SqlDataType {
        match t {
            SqlType::Float64 => SqlDataType::DoublePrecision,
            SqlType::Text => SqlDataType::Text,
            SqlType::Int64 => SqlDataType::BigInt(None),
            SqlType::Wide => SqlDataType::Numeric(
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
        let seconds = Expr::Extract {
            field: DateTimeField::Epoch,
            syntax: ExtractSyntax::From,
            expr: Box::new(ts),
        };
        cast(
            binary(seconds, BinaryOperator::Multiply, int(1_000_000)),
            self.sql_type(SqlType::Int64),
        )
    }

    fn is_nan(&self, x: Expr) -> Expr {
        eq(x, float(self, f64::NAN))
    }

    /// PostgreSQL's float8 `=` and hash make `-0.0` and `+0.0` one key
    /// (tests/sql-engines/float_keys, scripts/check-sql-engines.sh). A float key is
    /// keyed by its eight bytes instead (`float8send`), every NaN made the one NaN
    /// first (PostgreSQL's `=` finds every NaN equal). Not by its text: how many
    /// digits float8's text has depends on the session's `extra_float_digits`.
    fn key_operand(&self, x: Expr, ty: DataType) -> Expr {
        match ty {
            DataType::Float64 => {
                let nan = float(self, f64::NAN);
                let canonical = case(vec![(self.is_nan(x.clone()), nan)], Some(x));
                call("float8send", vec![canonical])
            }
            _ => x,
        }
    }

    fn collate(&self, x: Expr, ty: DataType) -> Expr {
        match ty {
            DataType::String => Expr::Collate {
                expr: Box::new(super::ast::nest(x)),
                collation: ObjectName::from(vec![Ident::with_quote('"', "C")]),
            },
            _ => x,
        }
    }

    fn min_max(&self, max: bool, x: Expr, ty: DataType) -> Expr {
        let name = match (ty, max) {
            (DataType::Bool, true) => "bool_or",
            (DataType::Bool, false) => "bool_and",
            (_, true) => "MAX",
            (_, false) => "MIN",
        };
        call(name, vec![x])
    }

    fn function(&self, func: Function, args: Vec<(Expr, DataType)>, ty: DataType) -> Option<Expr> {
        let mut it = args.iter().map(|(e, _)| e.clone());
        match func {
            Function::Lower | Function::Upper | Function::Substr => None,
            Function::Round if ty == DataType::Float64 => {
                let numeric = cast(
                    it.next()?,
                    SqlDataType::Numeric(datafusion::sql::sqlparser::ast::ExactNumberInfo::None),
                );
                Some(cast(
                    call("round", vec![numeric]),
                    self.sql_type(SqlType::Float64),
                ))
            }
            Function::EndsWith => {
                let (s, p) = (it.next()?, it.next()?);
                let tail = call("right", vec![s, call("char_length", vec![p.clone()])]);
                Some(eq(tail, p))
            }
            Function::Contains => {
                let (s, p) = (it.next()?, it.next()?);
                Some(binary(
                    call("strpos", vec![s, p]),
                    BinaryOperator::Gt,
                    int(0),
                ))
            }
            _ => super::functions::portable(self, func, args, ty),
        }
    }

    fn has_float_mod(&self) -> bool {
        false
    }
}
