//! DataFusion's differences: timestamps of any unit cast to microseconds before they
//! become integers, NaN canonical where values are ordered (DataFusion sorts floats
//! by IEEE total order, which puts a negative NaN below -inf), and `substr` (which
//! follows PostgreSQL's positions, as featc does).

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr};

use super::ast::{binary, call, case, cast, int, null};
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
            Function::Substr => {
                let mut it = args.into_iter().map(|(e, _)| e);
                let (s, start) = (it.next()?, it.next()?);
                Some(match it.next() {
                    // A negative length is null in featc, an error in DataFusion.
                    Some(len) => case(
                        vec![(binary(len.clone(), BinaryOperator::Lt, int(0)), null())],
                        Some(call("SUBSTR", vec![s, start, len])),
                    ),
                    None => call("SUBSTR", vec![s, start]),
                })
            }
            _ => super::functions::portable(self, func, args, ty),
        }
    }
}
