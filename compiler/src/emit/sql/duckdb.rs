//! DuckDB's differences: `epoch_us`, `length`, `var_pop`/`stddev_pop` of one
//! non-finite value, and the functions whose DuckDB versions differ from featc's
//! (`lower`/`upper` map simple cases only, `least` and `greatest`, `substr` counts a
//! negative start from the end).

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr};

use super::ast::{binary, call, cast};
use super::dialect::{Flavor, SqlType};
use crate::ir::{DataType, Function};

pub struct DuckDb;

impl Flavor for DuckDb {
    fn epoch_us(&self, ts: Expr) -> Expr {
        call("epoch_us", vec![ts])
    }

    /// DuckDB answers 0 for the variance of one value, also of one NaN or infinity
    /// (featc: NaN, found by `featc verify --sql-engine`): `SUM(x - x)` is 0 over
    /// finite values and NaN once one is not, so adding it keeps DuckDB's fold and
    /// brings the NaN back (null over no values, like the fold).
    fn var_pop(&self, stddev: bool, x: Expr) -> Expr {
        let fold = call(
            if stddev { "STDDEV_POP" } else { "VAR_POP" },
            vec![x.clone()],
        );
        let poison = call("SUM", vec![binary(x.clone(), BinaryOperator::Minus, x)]);
        binary(fold, BinaryOperator::Plus, poison)
    }

    fn function(&self, func: Function, args: Vec<(Expr, DataType)>, ty: DataType) -> Option<Expr> {
        match func {
            Function::Lower
            | Function::Upper
            | Function::Least
            | Function::Greatest
            | Function::Substr => None,
            Function::Length => {
                let s = args.into_iter().next()?.0;
                Some(cast(call("length", vec![s]), self.sql_type(SqlType::Int64)))
            }
            _ => super::functions::portable(self, func, args, ty),
        }
    }
}
