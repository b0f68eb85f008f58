//! DuckDB's differences: `epoch_us`, `length`, and the functions whose DuckDB
//! versions differ from featc's (`lower`/`upper` map simple cases only, `least` and
//! `greatest`, `substr` counts a negative start from the end).

use datafusion::sql::sqlparser::ast::Expr;

use super::ast::{call, cast};
use super::dialect::{Flavor, SqlType};
use crate::ir::{DataType, Function};

pub struct DuckDb;

impl Flavor for DuckDb {
    fn epoch_us(&self, ts: Expr) -> Expr {
        call("epoch_us", vec![ts])
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
