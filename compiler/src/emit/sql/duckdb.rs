//! DuckDB's differences: `epoch_us`, `length`, `var_pop`/`stddev_pop` of one
//! non-finite value, and the functions whose DuckDB versions differ from featc's
//! (`lower`/`upper` map simple cases only, `least` and `greatest`, `substr` counts a
//! negative start from the end). Float64 entity keys are keyed by their text, every
//! NaN one (`key_operand`).

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr};

use super::ast::{binary, call, case, cast};
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

    /// DuckDB's `=`, `GROUP BY` and `PARTITION BY` make `-0.0` and `+0.0` one key
    /// (tests/sql-engines/float_keys, scripts/check-sql-engines.sh). A float key is
    /// keyed by its text instead, the shortest that reads back to the same value
    /// (`-0.0` and `0.0` apart), every NaN `nan` (DuckDB writes a negative NaN `-nan`).
    fn key_operand(&self, x: Expr, ty: DataType) -> Expr {
        let text = self.sql_type(SqlType::Text);
        match ty {
            DataType::Float64 => case(
                vec![(self.is_nan(x.clone()), self.string("nan"))],
                Some(cast(x, text)),
            ),
            _ => x,
        }
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
