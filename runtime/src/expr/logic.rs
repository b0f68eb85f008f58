//! Eager `and`/`or` as DataFusion scalar functions: both operands evaluated on every
//! row, then SQL's three-valued logic (Arrow's Kleene kernels).
//!
//! semantics.md makes an int64 overflow an error, and the reference interpreter always
//! evaluates both operands of a binary operator. DataFusion's `AND`/`OR` skip their
//! right operand when the left one decides the *whole batch*, so whether `true or -n < 0`
//! fails on `n = i64::MIN` would depend on which other rows share the batch: the
//! training set and the replay (different batches) could disagree on whether a run
//! fails. An operand that can fail (`expr::lower` knows which) is joined by these
//! functions instead; operands that cannot fail keep DataFusion's operators, whose
//! values are the same and which print as `and`/`or`.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray};
use datafusion::arrow::compute::kernels::boolean::{and_kleene, or_kleene};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// `and` or `or`, both operands always evaluated.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct EagerLogic {
    is_and: bool,
    signature: Signature,
}

/// The `ScalarUDF` for eager `and` (`is_and`) or eager `or`.
pub fn udf(is_and: bool) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(EagerLogic {
        is_and,
        signature: Signature::exact(vec![DataType::Boolean; 2], Volatility::Immutable),
    }))
}

impl ScalarUDFImpl for EagerLogic {
    fn name(&self) -> &str {
        match self.is_and {
            true => "featc_and",
            false => "featc_or",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // DataFusion evaluated both arguments before calling: that is the point.
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (Some(a), Some(b)) = (bool_arg(&arrays, 0), bool_arg(&arrays, 1)) else {
            return exec_err!("featc {}: arguments are not two booleans", self.name());
        };
        let out = match self.is_and {
            true => and_kleene(a, b)?,
            false => or_kleene(a, b)?,
        };
        Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
    }
}

fn bool_arg(arrays: &[ArrayRef], i: usize) -> Option<&BooleanArray> {
    arrays.get(i)?.as_any().downcast_ref::<BooleanArray>()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;

    use crate::expr::{evaluate, to_datafusion};
    use crate::ir::{BinaryOp, DataType, Expr, ExprKind, Literal};

    fn node(kind: ExprKind, ty: DataType) -> Expr {
        Expr {
            kind,
            ty,
            nullable: true,
            span: Default::default(),
        }
    }

    /// `true or -n < 0`, or `true or n < 0` when `checked_neg` is false.
    fn true_or(negate: bool) -> Expr {
        let n = node(ExprKind::Column("n".into()), DataType::Int64);
        let lhs = match negate {
            true => node(ExprKind::Neg(Box::new(n)), DataType::Int64),
            false => n,
        };
        let zero = node(ExprKind::Literal(Literal::Int64(0)), DataType::Int64);
        let lt = ExprKind::Binary {
            op: BinaryOp::Lt,
            lhs: Box::new(lhs),
            rhs: Box::new(zero),
        };
        let yes = node(ExprKind::Literal(Literal::Bool(true)), DataType::Bool);
        let or = ExprKind::Binary {
            op: BinaryOp::Or,
            lhs: Box::new(yes),
            rhs: Box::new(node(lt, DataType::Bool)),
        };
        node(or, DataType::Bool)
    }

    fn batch(values: Vec<i64>) -> RecordBatch {
        let schema = Schema::new(vec![Field::new("n", ArrowType::Int64, true)]);
        let column = Arc::new(Int64Array::from(values));
        RecordBatch::try_new(Arc::new(schema), vec![column]).expect("a valid batch")
    }

    #[test]
    fn an_overflow_in_a_deciding_or_fails_whatever_else_is_in_the_batch() {
        let e = true_or(true);
        for rows in [vec![i64::MIN], vec![1, i64::MIN], vec![i64::MIN, -3, 7]] {
            let got = evaluate(&e, &batch(rows.clone()));
            assert!(got.is_err(), "{rows:?}: {got:?}");
        }
        assert!(evaluate(&e, &batch(vec![1, -2])).is_ok());
    }

    #[test]
    fn only_operands_that_can_fail_use_the_eager_functions() {
        let eager = to_datafusion(&true_or(true)).expect("lowers").to_string();
        assert!(eager.starts_with("featc_or("), "{eager}");
        let plain = to_datafusion(&true_or(false)).expect("lowers").to_string();
        assert!(plain.contains(" OR "), "{plain}");
    }
}
