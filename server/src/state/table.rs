//! Reads for a table of rows, Arrow in and Arrow out: entity keys and request fields
//! taken from the table's columns by name (a `RowSource` for `read`'s loop), one read
//! per row at one time, each feature's values as an Arrow column of the type the
//! training set gives it, with Feast's status per value (`TableRead`, built as the
//! loop hands over each row's vector). The embedded store (and through it the Python
//! package) and `featc serve`'s Arrow reads read this way; `resolve` turns the names
//! such a read gives into features.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::ir::DataType;
use featc_runtime::row::{conform, Cells, ValuesBuilder};
use featc_runtime::stream::{FeatureVector, Status, StreamError};
use featc_runtime::value::Value;

use super::error::ReadError;
use super::online::OnlineState;
use super::read::{ReadPlan, RowSource, VectorSink};
use crate::names::Names;
use crate::served::status_name;
use crate::wire::time::format_time;

/// What a table read answers: per feature (in the order asked), its column and its
/// statuses.
#[derive(Debug)]
pub struct TableRead {
    /// The features' project-wide names (a training set's column names).
    pub names: Vec<String>,
    pub columns: Vec<ArrayRef>,
    /// Per feature, per row: `PRESENT`, `NULL_VALUE`, `NOT_FOUND`, `OUTSIDE_MAX_AGE`
    /// or `ERROR`.
    pub statuses: Vec<Vec<&'static str>>,
    /// Why values are `ERROR`, without repeats.
    pub errors: Vec<String>,
    /// The key columns of `rows` the read used, in `rows`' order: (name, the column
    /// with the key's type, as a training set's spine key reads).
    pub keys: Vec<(String, ArrayRef)>,
}

/// The schema metadata key of a read's time (RFC 3339, UTC).
pub const AT_KEY: &str = "featc.at";
/// The schema metadata key of why values are `ERROR` (a JSON list of strings).
pub const ERRORS_KEY: &str = "featc.errors";

impl TableRead {
    /// The read as one table, the shape every client of reads gets (the embedded
    /// store and `featc serve`'s Arrow answers alike): the key columns, one column
    /// per feature, then (with `statuses`) `FEATURE__status` per feature; the read
    /// time `at` and the errors, if any, in the schema's metadata.
    pub fn into_batch(self, at: i64, statuses: bool) -> Result<RecordBatch, ArrowError> {
        let mut fields: Vec<Field> = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (name, column) in self.keys {
            fields.push(Field::new(name, column.data_type().clone(), true));
            columns.push(column);
        }
        for (name, column) in self.names.iter().zip(self.columns) {
            fields.push(Field::new(name, column.data_type().clone(), true));
            columns.push(column);
        }
        if statuses {
            for (name, s) in self.names.iter().zip(self.statuses) {
                fields.push(Field::new(
                    format!("{name}__status"),
                    ArrowType::Utf8,
                    false,
                ));
                columns.push(Arc::new(StringArray::from(s)));
            }
        }
        let mut metadata = std::collections::HashMap::new();
        metadata.insert(AT_KEY.to_string(), format_time(at));
        if !self.errors.is_empty() {
            let errors = serde_json::to_string(&self.errors)
                .map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
            metadata.insert(ERRORS_KEY.to_string(), errors);
        }
        let schema = Schema::new_with_metadata(fields, metadata);
        RecordBatch::try_new(Arc::new(schema), columns)
    }
}

/// The table a read's rows are named in, for errors.
const TABLE: &str = "entities";

/// A table's columns a plan reads: per entity of the plan its key columns, per
/// request field its column, each conformed to its declared type.
struct TableColumns {
    keys: Vec<Vec<(ArrayRef, DataType)>>,
    fields: Vec<(ArrayRef, DataType)>,
    /// The key columns used, once each, in the table's order: (index, name, column).
    used: Vec<(usize, String, ArrayRef)>,
    rows: usize,
}

impl TableColumns {
    /// The columns of `rows` that `plan` reads (other columns are ignored). A missing
    /// column or a column of another type is an error naming it.
    fn of(names: &Names, plan: &ReadPlan, rows: &RecordBatch) -> Result<TableColumns, StreamError> {
        let column = |name: &str, ty| -> Result<(usize, ArrayRef), StreamError> {
            let i = rows
                .schema()
                .index_of(name)
                .map_err(|_| StreamError::MissingColumn {
                    table: TABLE.to_string(),
                    column: name.to_string(),
                })?;
            let array = conform(rows.column(i), ty, name).map_err(|e| StreamError::ColumnType {
                table: TABLE.to_string(),
                column: e.column,
                message: e.message,
            })?;
            Ok((i, array))
        };
        let mut used: Vec<(usize, String, ArrayRef)> = Vec::new();
        let mut keys = Vec::with_capacity(plan.entities().len());
        for &e in plan.entities() {
            let mut arrays = Vec::new();
            for (name, ty) in names
                .entities
                .get(e)
                .map(|x| x.keys.as_slice())
                .unwrap_or(&[])
            {
                let (i, array) = column(name, *ty)?;
                if !used.iter().any(|(k, _, _)| *k == i) {
                    used.push((i, name.clone(), Arc::clone(&array)));
                }
                arrays.push((array, *ty));
            }
            keys.push(arrays);
        }
        used.sort_unstable_by_key(|(i, _, _)| *i);
        let fields = plan
            .fields()
            .iter()
            .map(|(name, ty)| column(name, *ty).map(|(_, a)| (a, *ty)))
            .collect::<Result<_, _>>()?;
        Ok(TableColumns {
            keys,
            fields,
            used,
            rows: rows.num_rows(),
        })
    }

    /// The columns' cells, read row by row by the loop.
    fn cells(&self) -> Result<TableRows<'_>, StreamError> {
        fn cells(array: &ArrayRef, ty: DataType) -> Result<Cells<'_>, StreamError> {
            Cells::new(array, ty).ok_or_else(|| StreamError::ColumnType {
                table: TABLE.to_string(),
                column: String::new(),
                message: format!("cannot read {} cells", array.data_type()),
            })
        }
        Ok(TableRows {
            keys: self
                .keys
                .iter()
                .map(|arrays| arrays.iter().map(|(a, ty)| cells(a, *ty)).collect())
                .collect::<Result<_, _>>()?,
            fields: self
                .fields
                .iter()
                .map(|(a, ty)| cells(a, *ty))
                .collect::<Result<_, _>>()?,
            rows: self.rows,
        })
    }
}

/// A table's rows for the loop (see `TableColumns`).
struct TableRows<'a> {
    keys: Vec<Vec<Cells<'a>>>,
    fields: Vec<Cells<'a>>,
    rows: usize,
}

impl RowSource for TableRows<'_> {
    fn rows(&self) -> usize {
        self.rows
    }

    fn key(&self, row: usize, entity: usize, out: &mut Vec<Value>) {
        if let Some(cells) = self.keys.get(entity) {
            out.extend(cells.iter().map(|c| c.get(row)));
        }
    }

    fn field(&self, row: usize, field: usize) -> Value {
        self.fields.get(field).map_or(Value::Null, |c| c.get(row))
    }
}

/// The vectors of a read as typed columns, statuses and errors.
struct TableAnswer {
    builders: Vec<ValuesBuilder>,
    statuses: Vec<Vec<&'static str>>,
    errors: Vec<String>,
}

impl TableAnswer {
    fn new(names: &Names, plan: &ReadPlan, rows: usize) -> TableAnswer {
        TableAnswer {
            builders: plan
                .features()
                .iter()
                .filter_map(|&f| names.features.get(f))
                .map(|e| ValuesBuilder::new(e.ty, rows))
                .collect(),
            statuses: vec![Vec::with_capacity(rows); plan.features().len()],
            errors: Vec::new(),
        }
    }
}

impl VectorSink for TableAnswer {
    fn take(&mut self, vector: FeatureVector) {
        for (i, fv) in vector.features.iter().enumerate() {
            if let Some(b) = self.builders.get_mut(i) {
                if !b.append(&fv.value) {
                    b.append_null();
                }
            }
            if let Some(s) = self.statuses.get_mut(i) {
                s.push(status_name(&fv.status));
            }
            if let Status::Error(e) = &fv.status {
                let text = e.to_string();
                if !self.errors.contains(&text) {
                    self.errors.push(text);
                }
            }
        }
    }
}

impl OnlineState {
    /// Reads `features` (indices of the names' features) for every row of `rows` at
    /// `at` (default: now under the state's clock); returns the read time and the
    /// answer. `rows` has a column per key of every entity the features need and per
    /// request field their derived features read (other columns are ignored). A
    /// missing column or a column of another type is an error naming it; a null key
    /// reads an unknown entity.
    pub fn read_table(
        &self,
        features: Vec<usize>,
        rows: &RecordBatch,
        at: Option<i64>,
    ) -> Result<(i64, TableRead), ReadError> {
        let names = self.names();
        let plan = ReadPlan::new(names, features)?;
        let columns = TableColumns::of(names, &plan, rows)?;
        let source = columns.cells()?;
        let mut answer = TableAnswer::new(names, &plan, source.rows);
        let t = self.read_rows(&plan, &source, at, &mut answer)?;
        let columns_out = answer
            .builders
            .iter_mut()
            .map(|b| {
                b.finish().map_err(|message| StreamError::ColumnType {
                    table: TABLE.to_string(),
                    column: String::new(),
                    message: message.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let read = TableRead {
            names: plan
                .features()
                .iter()
                .filter_map(|&f| names.features.get(f))
                .map(|e| e.name.clone())
                .collect(),
            columns: columns_out,
            statuses: answer.statuses,
            errors: answer.errors,
            keys: columns.used.into_iter().map(|(_, n, a)| (n, a)).collect(),
        };
        Ok((t, read))
    }
}

/// A name a read used that the names do not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    pub kind: &'static str,
    pub name: String,
    pub closest: Option<String>,
}

impl std::error::Error for UnknownName {}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown {} `{}`", self.kind, self.name)?;
        if let Some(c) = &self.closest {
            write!(f, " (did you mean `{c}`?)")?;
        }
        Ok(())
    }
}

/// The indices of a read's features: a service's, or features by any name the
/// server accepts (`view:feature`, `view.feature`, the project-wide name), or every
/// feature.
pub fn resolve(
    names: &Names,
    service: Option<&str>,
    features: Option<&[String]>,
) -> Result<Vec<usize>, UnknownName> {
    let unknown = |kind, name: &str, closest| UnknownName {
        kind,
        name: name.to_string(),
        closest,
    };
    match (service, features) {
        (Some(s), _) => names
            .service(s)
            .map(<[usize]>::to_vec)
            .map_err(|closest| unknown("service", s, closest)),
        (None, Some(given)) => given
            .iter()
            .map(|n| {
                names
                    .feature(n)
                    .map_err(|closest| unknown("feature", n, closest))
            })
            .collect(),
        (None, None) => Ok((0..names.features.len()).collect()),
    }
}
