//! Arroyo's SQL flavor for the shared row-expression lowering (`emit::sql::expr`):
//! Arroyo plans its SQL with DataFusion, so float equality, ordering and functions are
//! DataFusion's differences (`emit::sql::datafusion`); what differs is the event
//! time (Arroyo's `TIMESTAMP` is nanoseconds) and int64 `+ - *` and negation, which
//! call the generated checked UDFs instead of being refused. Every UDF a lowered
//! expression calls is recorded, so the pipeline lists exactly what its SQL calls.

use std::collections::BTreeSet;
use std::sync::Mutex;

use datafusion::sql::sqlparser::ast::{DataType as SqlDataType, Expr};

use super::udf::{UdfKind, UdfSpec};
use crate::emit::sql::ast::{call, cast, floor_div};
use crate::emit::sql::datafusion::DataFusion;
use crate::emit::sql::dialect::{CheckedOp, Flavor};
use crate::ir::{DataType, Function};

/// The flavor, with the UDFs called so far.
#[derive(Default)]
pub struct Arroyo {
    // A Mutex because `Flavor` is `Sync`; one emission uses it from one thread.
    used: Mutex<BTreeSet<UdfSpec>>,
}

impl Arroyo {
    /// A call of `spec` (recorded as used).
    pub fn udf(&self, spec: UdfSpec, args: Vec<Expr>) -> Expr {
        let name = spec.name();
        self.used
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(spec);
        call(&name, args)
    }

    /// Every UDF called.
    pub fn into_used(self) -> BTreeSet<UdfSpec> {
        self.used
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Flavor for Arroyo {
    /// `floor(ns / 1000)` of the timestamp's nanoseconds (featc floors to whole
    /// microseconds; a plain division truncates times before 1970 toward zero).
    fn epoch_us(&self, ts: Expr) -> Expr {
        floor_div(cast(ts, SqlDataType::BigInt(None)), 1000)
    }

    fn is_nan(&self, x: Expr) -> Expr {
        DataFusion.is_nan(x)
    }

    fn order_key(&self, x: Expr, ty: DataType) -> Expr {
        DataFusion.order_key(x, ty)
    }

    fn eq_operand(&self, x: Expr, ty: DataType) -> Expr {
        DataFusion.eq_operand(x, ty)
    }

    fn collate(&self, x: Expr, ty: DataType) -> Expr {
        DataFusion.collate(x, ty)
    }

    fn min_max(&self, max: bool, x: Expr, ty: DataType) -> Expr {
        DataFusion.min_max(max, x, ty)
    }

    fn function(&self, func: Function, args: Vec<(Expr, DataType)>, ty: DataType) -> Option<Expr> {
        DataFusion.function(func, args, ty)
    }

    fn checked_int(&self, op: CheckedOp, args: Vec<Expr>) -> Option<Expr> {
        let kind = match op {
            CheckedOp::Add => UdfKind::CheckedAdd,
            CheckedOp::Sub => UdfKind::CheckedSub,
            CheckedOp::Mul => UdfKind::CheckedMul,
            CheckedOp::Neg => UdfKind::CheckedNeg,
        };
        let spec = UdfSpec {
            kind,
            input: DataType::Int64,
        };
        Some(self.udf(spec, args))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::sql::ast::col;

    #[test]
    fn checked_arithmetic_calls_a_recorded_udf() {
        let f = Arroyo::default();
        let sum = f.checked_int(CheckedOp::Add, vec![col('"', "a"), col('"', "b")]);
        assert_eq!(
            sum.map(|e| e.to_string()),
            Some(r#"featc_checked_add_int64("a", "b")"#.to_string())
        );
        let used: Vec<String> = f.into_used().iter().map(UdfSpec::name).collect();
        assert_eq!(used, vec!["featc_checked_add_int64"]);
    }

    #[test]
    fn event_time_is_floored_to_microseconds() {
        let text = Arroyo::default().epoch_us(col('"', "ts")).to_string();
        assert_eq!(
            text,
            r#"(CAST("ts" AS BIGINT) - (((CAST("ts" AS BIGINT) % 1000) + 1000) % 1000)) / 1000"#
        );
    }
}
