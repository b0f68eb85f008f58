//! DataFusion's differences: timestamps of any unit cast to microseconds before they
//! become integers, NaN canonical where values are ordered (DataFusion sorts floats
//! by IEEE total order, which puts a negative NaN below -inf), floats compared (`=`,
//! `<`, ...) with `-0.0` made `+0.0` and NaN canonical (DataFusion's `=` and `NULLIF`
//! compare float bits, its `<` their total order), the nulls of a union's missing columns untyped; `substr` is
//! refused. Float64 entity keys are keyed by their text (`key_operand`).

use datafusion::sql::sqlparser::ast::{Expr, Value};

use datafusion::sql::sqlparser::ast::BinaryOperator;

use super::ast::{binary, call, case, cast, floor_div, int, null};
use super::dialect::{Flavor, SqlType};
use super::expr::float;
use crate::ir::{DataType, Function};

pub struct DataFusion;

impl Flavor for DataFusion {
    /// Untyped: DataFusion's SQL types `VARCHAR` as Utf8View and `TIMESTAMP` in
    /// nanoseconds, and its `UNION ALL` of such a null with a table's Utf8 or
    /// microsecond column fails when run (a batch whose column is not of its schema's
    /// type); a bare `NULL` takes the type of the other sources' column (one source
    /// at least has it: the checker knows every column a view reads).
    fn null_of(&self, _t: SqlType) -> Expr {
        null()
    }

    fn epoch_us(&self, ts: Expr) -> Expr {
        let as_unit = |unit: &str| {
            let cast_to = format!("Timestamp({unit}, Some(\"UTC\"))");
            cast(
                call("arrow_cast", vec![ts.clone(), self.string(&cast_to)]),
                self.sql_type(SqlType::Int64),
            )
        };
        // DataFusion's cast from nanoseconds truncates toward zero; featc floors (a
        // time before 1970 with a fraction of a microsecond belongs to the earlier
        // microsecond). Nanoseconds are floor-divided here, chosen by the column's
        // type at run time; other units cast exactly.
        let ns = as_unit("Nanosecond");
        let floored = floor_div(ns, 1000);
        let type_name = call("arrow_typeof", vec![ts.clone()]);
        let is_ns = binary(
            call(
                "starts_with",
                vec![type_name.clone(), self.string("Timestamp(Nanosecond")],
            ),
            BinaryOperator::Or,
            call("starts_with", vec![type_name, self.string("Timestamp(ns")]),
        );
        case(vec![(is_ns, floored)], Some(as_unit("Microsecond")))
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

    // DataFusion's MIN and MAX of floats do not put NaN above every number (a MIN
    // over 0.0 and NaN gave NaN): NaNs are set aside and put back where featc's
    // order puts them (semantics.md, "Ordering"). Its grouped MAX also starts from
    // the lowest finite float, not -inf, so a group of -inf alone gave
    // -1.7976931348623157e308 (and MIN of +inf alone the highest): the infinity at
    // the far end is set aside too and put back when nothing else is there.
    fn min_max(&self, max: bool, x: Expr, ty: DataType) -> Expr {
        if ty != DataType::Float64 {
            return call(if max { "MAX" } else { "MIN" }, vec![x]);
        }
        let far = if max {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        let is_far = || binary(x.clone(), BinaryOperator::Eq, float(self, far));
        let any = |test: Expr| {
            binary(
                call("MAX", vec![case(vec![(test, int(1))], Some(int(0)))]),
                BinaryOperator::Eq,
                int(1),
            )
        };
        let numbers = case(
            vec![(self.is_nan(x.clone()), null()), (is_far(), null())],
            Some(x.clone()),
        );
        let far_alone = case(vec![(any(is_far()), float(self, far))], None);
        if max {
            case(
                vec![(any(self.is_nan(x.clone())), float(self, f64::NAN))],
                Some(call(
                    "COALESCE",
                    vec![call("MAX", vec![numbers]), far_alone],
                )),
            )
        } else {
            // Only NaNs (or nothing): the MAX of them is NaN (or null).
            call(
                "COALESCE",
                vec![call("MIN", vec![numbers]), far_alone, call("MAX", vec![x])],
            )
        }
    }

    // DataFusion's sliding SUM and AVG retract the values leaving the frame (a
    // running add and subtract), which can lose every bit of a small window after a
    // large one: float sums over sliding windows keep the join.
    fn sliding_sum_folds(&self) -> bool {
        false
    }

    /// Floats order as they compare for equality (`eq_operand`): DataFusion's `<` is
    /// IEEE total order, which puts a negative NaN (x86's `inf - inf`) below -inf.
    fn collate(&self, x: Expr, ty: DataType) -> Expr {
        self.eq_operand(x, ty)
    }

    /// DataFusion's window partitions tell float keys apart by their bits (a negative
    /// NaN from a positive one) and its hash joins match `-0.0` with `+0.0`: neither
    /// keys as the reference does (`tests/tests/float_keys.rs`). A float key is keyed
    /// by its text instead, the shortest that reads back to the same value (`-0.0` and
    /// `0.0` apart, every NaN `NaN`).
    fn key_operand(&self, x: Expr, ty: DataType) -> Expr {
        match ty {
            DataType::Float64 => cast(x, self.sql_type(SqlType::Text)),
            _ => x,
        }
    }

    fn eq_operand(&self, x: Expr, ty: DataType) -> Expr {
        match ty {
            DataType::Float64 if written_number(&x) => x,
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

/// A number literal as the lowering writes one (`100`, `CAST(2.5 AS DOUBLE)`): never a
/// NaN nor `-0.0` (those are written from their text, `CAST('NaN' AS DOUBLE)`), so
/// already as featc compares it.
fn written_number(x: &Expr) -> bool {
    match x {
        Expr::Value(v) => matches!(v.value, Value::Number(..)),
        Expr::Cast { expr, .. } => {
            matches!(&**expr, Expr::Value(v) if matches!(v.value, Value::Number(..)))
        }
        _ => false,
    }
}
