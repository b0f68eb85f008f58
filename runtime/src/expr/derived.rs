//! Derived features evaluated on batches of feature values: one evaluator, compiled
//! once from the feature's IR, for every path. The batch operator and the replay over
//! a spine's rows run its DataFusion physical expression; an online read
//! (`stream::derived::read`, one row) runs the scalar program `expr::scalar` compiles
//! from the same IR (`CompiledDerived::scalar`), which computes the same values bit
//! for bit (`runtime/tests/expr_scalar.rs` generates expressions and rows to check
//! it), and falls back to the physical expression on a one-row batch when it has no
//! program for the expression (`NotCompiled`) or the evaluation fails (so an error
//! reads the same on every path).
//!
//! A derived feature's input batch has one column per aggregated feature it reads
//! (named by the feature, of its type) and one per request field it reads (named
//! `request.field`), in the order of `CompiledDerived::inputs`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::physical_expr::PhysicalExpr;

use super::scalar::{self, NotCompiled, ScalarProgram};
use super::{compile, evaluate_compiled, stack, ExprError};
use crate::ir::DataType;
use crate::plan::{DerivedPlan, FeatureRef, RequestField};
use crate::row::conform;
use crate::row::types::arrow_type;

/// What a derived feature's input column holds.
#[derive(Debug, Clone, PartialEq)]
pub enum DerivedInput {
    /// An aggregated feature's value.
    Feature(FeatureRef),
    /// A request field's value.
    Request(RequestField),
}

/// A derived feature compiled once for repeated evaluation.
#[derive(Debug, Clone)]
pub struct CompiledDerived {
    name: String,
    ty: DataType,
    schema: SchemaRef,
    inputs: Vec<DerivedInput>,
    input_types: Vec<DataType>,
    depth: usize,
    physical: Arc<dyn PhysicalExpr>,
    /// The same expression for one row of values (online reads), or why it has none.
    scalar: Result<ScalarProgram, NotCompiled>,
}

/// A derived feature's evaluation failed on one row (an int64 overflow).
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedError {
    /// The derived feature.
    pub feature: String,
    /// The first failing row of the batch evaluated.
    pub row: usize,
    pub message: String,
}

impl std::fmt::Display for DerivedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "derived feature `{}`: {}", self.feature, self.message)
    }
}

/// A derived feature that failed over a training set's spine: the error and the time
/// of its spine row (µs; None when the spine's time could not be read back).
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedFailure {
    pub error: DerivedError,
    pub at: Option<i64>,
}

impl std::fmt::Display for DerivedFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = self.at.map_or_else(String::new, crate::row::time::iso8601);
        write!(
            f,
            "feature `{}` at spine row {} ({at}): {}",
            self.error.feature,
            self.error.row + 1,
            self.error.message
        )
    }
}

impl std::error::Error for DerivedFailure {}

/// Why derived columns over a spine could not be computed.
#[derive(Debug, Clone, PartialEq)]
pub enum DerivedColumnsError {
    /// The spine has no column for a request field.
    MissingField {
        field: String,
        request: String,
    },
    /// The spine's column for a request field has a type the field cannot hold.
    FieldType {
        field: String,
        request: String,
        message: String,
    },
    /// A null in a field its request declares non-nullable (`row` from 0).
    NullField {
        field: String,
        request: String,
        row: usize,
    },
    Eval(DerivedError),
    /// An internal inconsistency (an input the caller could not supply).
    Internal(String),
}

impl std::fmt::Display for DerivedColumnsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DerivedColumnsError::MissingField { field, request } => write!(
                f,
                "the spine has no column `{field}` (field `{field}` of request `{request}`)"
            ),
            DerivedColumnsError::FieldType {
                field,
                request,
                message,
            } => write!(
                f,
                "the spine's column `{field}` (field `{field}` of request `{request}`) {message}"
            ),
            DerivedColumnsError::NullField {
                field,
                request,
                row,
            } => write!(
                f,
                "spine row {} has a null `{field}`, which request `{request}` declares \
                 non-nullable",
                row + 1
            ),
            DerivedColumnsError::Eval(e) => write!(f, "{e}"),
            DerivedColumnsError::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for DerivedColumnsError {}

impl CompiledDerived {
    /// Compiles `d`; `feature` gives the name and type of an aggregated feature.
    pub fn new(
        d: &DerivedPlan,
        feature: &dyn Fn(FeatureRef) -> Option<(String, DataType)>,
    ) -> Result<CompiledDerived, ExprError> {
        let mut fields: Vec<Field> = Vec::new();
        let mut inputs = Vec::new();
        let mut input_types = Vec::new();
        for r in &d.reads {
            let (name, ty) =
                feature(*r).ok_or_else(|| ExprError::Plan(format!("`{}` reads {r:?}", d.name)))?;
            // Nullable whatever the feature: an unknown entity or a stale view reads
            // null where the feature alone could not be.
            fields.push(Field::new(name, arrow_type(ty), true));
            inputs.push(DerivedInput::Feature(*r));
            input_types.push(ty);
        }
        for field in &d.request {
            fields.push(Field::new(field.column(), arrow_type(field.ty), true));
            inputs.push(DerivedInput::Request(field.clone()));
            input_types.push(field.ty);
        }
        let schema = Arc::new(Schema::new(fields));
        let columns: Vec<(&str, DataType)> = schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .zip(input_types.iter().copied())
            .collect();
        let scalar = scalar::compile(&d.expr, &columns, d.ty);
        Ok(CompiledDerived {
            name: d.name.clone(),
            ty: d.ty,
            scalar,
            input_types,
            depth: stack::depth(&d.expr),
            physical: compile(&d.expr, &schema)?,
            schema,
            inputs,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The result type.
    pub fn ty(&self) -> DataType {
        self.ty
    }

    /// The input columns `evaluate` takes, in order.
    pub fn inputs(&self) -> &[DerivedInput] {
        &self.inputs
    }

    /// The inputs' types, in order.
    pub fn input_types(&self) -> &[DataType] {
        &self.input_types
    }

    /// The scalar program for one row of input values (`expr::scalar`), or why the
    /// expression has none (its reads then evaluate a one-row batch).
    pub fn scalar(&self) -> Result<&ScalarProgram, &NotCompiled> {
        self.scalar.as_ref()
    }

    /// The feature's values for the rows of `columns` (one per input, of the input's
    /// type). On a failure, names the first row that fails.
    pub fn evaluate(&self, columns: Vec<ArrayRef>) -> Result<ArrayRef, DerivedError> {
        let fail = |row: usize, message: String| DerivedError {
            feature: self.name.clone(),
            row,
            message,
        };
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns)
            .map_err(|e| fail(0, e.to_string()))?;
        let run = |b: &RecordBatch| {
            stack::with_stack_for(self.depth, || evaluate_compiled(&self.physical, b))
        };
        run(&batch).map_err(|e| {
            // Find the first row that fails alone, so the error names it whatever
            // the batch's size (only on the failure path).
            let row = (0..batch.num_rows())
                .find(|&i| run(&batch.slice(i, 1)).is_err())
                .unwrap_or(0);
            fail(row, e.to_string())
        })
    }
}

/// The values of `derived` for every row of `spine`: features' columns come from
/// `feature_column` (aligned with the spine's rows), request fields from the spine's
/// column named like the field (types a source column could hold are converted, as a
/// source's are; a null in a non-nullable field is an error naming the row).
pub fn derived_columns(
    derived: &[CompiledDerived],
    spine: &RecordBatch,
    feature_column: &dyn Fn(FeatureRef) -> Option<ArrayRef>,
) -> Result<Vec<ArrayRef>, DerivedColumnsError> {
    derived
        .iter()
        .map(|d| {
            let columns = d
                .inputs()
                .iter()
                .map(|input| match input {
                    DerivedInput::Feature(r) => feature_column(*r).ok_or_else(|| {
                        DerivedColumnsError::Internal(format!("no column for {r:?}"))
                    }),
                    DerivedInput::Request(field) => request_column(field, spine),
                })
                .collect::<Result<Vec<_>, _>>()?;
            d.evaluate(columns).map_err(DerivedColumnsError::Eval)
        })
        .collect()
}

/// A request field's column of the spine, as the field's type.
fn request_column(
    field: &RequestField,
    spine: &RecordBatch,
) -> Result<ArrayRef, DerivedColumnsError> {
    let raw =
        spine
            .column_by_name(&field.field)
            .ok_or_else(|| DerivedColumnsError::MissingField {
                field: field.field.clone(),
                request: field.request.clone(),
            })?;
    let column =
        conform(raw, field.ty, &field.field).map_err(|e| DerivedColumnsError::FieldType {
            field: field.field.clone(),
            request: field.request.clone(),
            message: e.message,
        })?;
    if !field.nullable && column.null_count() > 0 {
        let row = (0..column.len()).find(|&i| column.is_null(i)).unwrap_or(0);
        return Err(DerivedColumnsError::NullField {
            field: field.field.clone(),
            request: field.request.clone(),
            row,
        });
    }
    Ok(column)
}
