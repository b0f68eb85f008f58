//! DataFusion's differences: timestamps of any unit cast to microseconds before they
//! become integers, NaN canonical where values are ordered (DataFusion sorts floats
//! by IEEE total order, which puts a negative NaN below -inf); `substr` is refused.

use datafusion::sql::sqlparser::ast::Expr;

use super::ast::{call, case, cast};
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

    fn function(&self, func: Function, args: Vec<(Expr, DataType)>, ty: DataType) -> Option<Expr> {
        match func {
            // sqlparser reads `substr(...)` as SQL's `SUBSTRING`, which DataFusion plans
            // only with its `unicode_expressions` feature (featc builds without it).
            Function::Substr => None,
            _ => super::functions::portable(self, func, args, ty),
        }
    }
}
