//! The arguments of the list functions (`size`, `element_at` and `xs[i]`, `contains`
//! of a list, `dot`, `cosine`, `l2_distance`): a list where the function reads one,
//! an int64 index, a value of the list's item type (an int64 cast for a float64
//! list, a null typed as the item), two numeric lists.

use super::{to_float, Exprs, Typed};
use crate::check::error::CheckError;
use featc_runtime::ir::{self, numeric_list, DataType, Function};

impl Exprs<'_> {
    /// `f`'s checked arguments brought to its parameter types, or `None` after an
    /// error (each wrong argument reported).
    pub(super) fn list_arguments(
        &mut self,
        f: Function,
        values: Vec<Typed>,
    ) -> Option<Vec<ir::Expr>> {
        let list_item = values
            .first()
            .and_then(|v| v.known.then_some(v.expr.ty))
            .and_then(DataType::list)
            .map(|l| l.item.data_type());
        let mut out = Vec::with_capacity(values.len());
        let mut ok = true;
        for (i, v) in values.into_iter().enumerate() {
            let (want, expected): (Option<DataType>, &'static str) = match (f, i) {
                (Function::ElementAt, 1) => (Some(DataType::Int64), "an int64 position"),
                (Function::Contains, 1) => (list_item, "a value of the list's item type"),
                (Function::Dot | Function::Cosine | Function::L2Distance, _) => {
                    (None, "a list of numbers")
                }
                _ => (None, "a list"),
            };
            let arg = match want {
                // A scalar parameter: a null takes its type; an int64 is cast for
                // a float64 list's `contains`.
                Some(ty) if !v.known => self.settle(v, Some(ty)),
                Some(ty) if v.expr.ty == ty => Some(v.expr),
                Some(DataType::Float64) if v.expr.ty == DataType::Int64 => Some(to_float(v.expr)),
                Some(_) => self.fail(CheckError::OperandType {
                    op: f.name(),
                    operand: v.operand(),
                    expected,
                }),
                None if !v.known => self.fail(CheckError::UntypedNull {
                    span: super::ast_span(v.expr.span),
                }),
                None => {
                    let fits = match f {
                        Function::Dot | Function::Cosine | Function::L2Distance => {
                            numeric_list(v.expr.ty)
                        }
                        _ => v.expr.ty.list().is_some_and(|l| !l.counted),
                    };
                    if fits {
                        Some(v.expr)
                    } else {
                        self.fail(CheckError::OperandType {
                            op: f.name(),
                            operand: v.operand(),
                            expected,
                        })
                    }
                }
            };
            match arg {
                Some(a) => out.push(a),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}
