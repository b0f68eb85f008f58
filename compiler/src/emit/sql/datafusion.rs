//! DataFusion's differences: timestamps of any unit cast to microseconds before they
//! become integers, NaN canonical where values are ordered (DataFusion sorts floats
//! by IEEE total order, which puts a negative NaN below -inf), floats compared for
//! equality with `-0.0` made `+0.0` and NaN canonical (DataFusion's `=` and `NULLIF`
//! compare float bits); `substr` is refused.

use datafusion::sql::sqlparser::ast::Expr;

use datafusion::sql::sqlparser::ast::BinaryOperator;

use super::ast::{binary, call, case, cast, null};
use super::dialect::{Dialect, Flavor, SqlType};
use super::expr::float;
use crate::ir::{DataType, Function};

pub struct DataFusion;

impl Flavor for DataFusion {
    fn dialect(&self) -> Dialect {
        Dialect::DataFusion
    }

    fn epoch_us(&self, ts: Expr) -> Expr {
        let micros = call(
            "arrow_cast",
            vec![ts, self.string("Timestamp(Microsecond, Some(\"UTC\"))")],
        );
        cast(micros, self.sql_type(SqlType::Int64))
    }

    fn order_key(&self, x: Expr, ty: DataType) -> Expr {
        match ty {
            DataType::Float64 => case(
                vec![(self.is_nan(x.clone()), float(self, f64::NAN))],
                Some(x),
            ),
            _ => x,
        }
    }

    fn eq_operand(&self, x: Expr, ty: DataType) -> Expr {
        match ty {
            // Adding +0.0 turns -0.0 into +0.0 and leaves every other float as it is.
            DataType::Float64 => case(
                vec![(self.is_nan(x.clone()), float(self, f64::NAN))],
                Some(binary(x, BinaryOperator::Plus, float(self, 0.0))),
            ),
            _ => x,
        }
    }

    fn function(&self, func: Function, args: Vec<(Expr, DataType)>, ty: DataType) -> Option<Expr> {
        match func {
            Function::Nullif if ty == DataType::Float64 => {
                let mut args = args.into_iter();
                let (a, a_ty) = args.next()?;
                let (b, b_ty) = args.next()?;
                let equal = binary(
                    self.eq_operand(a.clone(), a_ty),
                    BinaryOperator::Eq,
                    self.eq_operand(b, b_ty),
                );
                Some(case(vec![(equal, null())], Some(a)))
            }
            // sqlparser reads `substr(...)` as SQL's `SUBSTRING`, which DataFusion plans
            // only with its `unicode_expressions` feature (featc builds without it).
            Function::Substr => None,
            _ => super::functions::portable(self, func, args, ty),
        }
    }
}
