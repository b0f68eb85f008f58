//! Reads for a table of rows, Arrow in and Arrow out: entity keys and request fields
//! taken from the table's columns by name, one read per row at one time, each
//! feature's values as an Arrow column of the type the training set gives it, with
//! Feast's status per value. The embedded store (and through it the Python package)
//! reads this way.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::row::{conform, Cells, ValuesBuilder};
use featc_runtime::stream::{
    FeatureVector, Keys, Read, Request, Selection, Status, StreamError, StreamRuntime,
};
use featc_runtime::value::Value;

use crate::api::read::status_name;
use crate::catalog::Catalog;
use crate::online::KeyRows;

/// What `read_table` answers: per feature (in the order asked), its column and its
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
        metadata.insert(AT_KEY.to_string(), crate::time::format_time(at));
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

/// Reads `features` (catalog indices) for every row of `rows` at `at`. `rows` has a
/// column per key of every entity the features need and per request field their
/// derived features read (other columns are ignored). A missing column or a column
/// of another type is an error naming it; a null key reads an unknown entity.
pub fn read_table(
    rt: &mut StreamRuntime,
    catalog: &Catalog,
    features: &[usize],
    rows: &RecordBatch,
    at: i64,
) -> Result<TableRead, StreamError> {
    read_table_keeping(rt, catalog, features, rows, at, false).map(|(read, _)| read)
}

/// A read's answered vectors and the keys and request fields they answer, in the
/// layout of a JSON read (`Served::record` logs either).
pub struct Answered {
    pub keys: KeyRows,
    pub vectors: Vec<FeatureVector>,
}

/// `read_table`, also keeping the answered vectors when `keep` (for the served log).
pub fn read_table_keeping(
    rt: &mut StreamRuntime,
    catalog: &Catalog,
    features: &[usize],
    rows: &RecordBatch,
    at: i64,
    keep: bool,
) -> Result<(TableRead, Option<Answered>), StreamError> {
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
    // The entities the features need, and the request fields, each once.
    let mut entities: Vec<usize> = Vec::new();
    let mut fields: Vec<(String, featc_runtime::ir::DataType)> = Vec::new();
    for &f in features {
        let Some(entry) = catalog.features.get(f) else {
            return Err(StreamError::UnknownFeature(format!("#{f}")));
        };
        for &e in &entry.entities {
            if !entities.contains(&e) {
                entities.push(e);
            }
        }
        for r in &entry.request {
            if !fields.iter().any(|(n, _)| *n == r.field) {
                fields.push((r.field.clone(), r.ty));
            }
        }
    }
    let mut key_columns: Vec<(usize, String, ArrayRef)> = Vec::new();
    let mut keys: Vec<(&str, Vec<ArrayRef>)> = Vec::new();
    for &e in &entities {
        let Some(entity) = catalog.entities.get(e) else {
            continue;
        };
        let mut arrays = Vec::new();
        for (name, ty) in &entity.keys {
            let (i, array) = column(name, *ty)?;
            if !key_columns.iter().any(|(k, _, _)| *k == i) {
                key_columns.push((i, name.clone(), Arc::clone(&array)));
            }
            arrays.push(array);
        }
        keys.push((entity.name.as_str(), arrays));
    }
    key_columns.sort_unstable_by_key(|(i, _, _)| *i);
    let request: Vec<(&str, ArrayRef, featc_runtime::ir::DataType)> = fields
        .iter()
        .map(|(name, ty)| column(name, *ty).map(|(_, a)| (name.as_str(), a, *ty)))
        .collect::<Result<_, _>>()?;
    fn cells(array: &ArrayRef, ty: featc_runtime::ir::DataType) -> Result<Cells<'_>, StreamError> {
        Cells::new(array, ty).ok_or_else(|| StreamError::ColumnType {
            table: TABLE.to_string(),
            column: String::new(),
            message: format!("cannot read {} cells", array.data_type()),
        })
    }
    let key_cells: Vec<(&str, Vec<Cells<'_>>)> = keys
        .iter()
        .zip(&entities)
        .map(|((name, arrays), &e)| {
            let types = catalog.entities.get(e).map(|x| &x.keys);
            let cells = arrays
                .iter()
                .zip(types.into_iter().flatten())
                .map(|(a, (_, ty))| cells(a, *ty))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((*name, cells))
        })
        .collect::<Result<_, StreamError>>()?;
    let request_cells: Vec<(&str, Cells<'_>)> = request
        .iter()
        .map(|(name, a, ty)| Ok((*name, cells(a, *ty)?)))
        .collect::<Result<_, StreamError>>()?;

    let n = rows.num_rows();
    let mut builders: Vec<ValuesBuilder> = features
        .iter()
        .filter_map(|&f| catalog.features.get(f))
        .map(|e| ValuesBuilder::new(e.ty, n))
        .collect();
    let mut statuses: Vec<Vec<&'static str>> = vec![Vec::with_capacity(n); features.len()];
    let mut errors: Vec<String> = Vec::new();
    let mut key_values: Vec<Vec<Value>> = vec![Vec::new(); key_cells.len()];
    let mut field_values: Vec<(&str, Value)> = Vec::with_capacity(request_cells.len());
    let mut kept = keep.then(|| Answered {
        keys: KeyRows {
            rows: n,
            keys: vec![None; catalog.entities.len()],
            request: request_cells
                .iter()
                .map(|(name, _)| (name.to_string(), Vec::with_capacity(n)))
                .collect(),
        },
        vectors: Vec::with_capacity(n),
    });
    for row in 0..n {
        for (k, (_, cells)) in key_cells.iter().enumerate() {
            key_values[k].clear();
            key_values[k].extend(cells.iter().map(|c| c.get(row)));
        }
        let by_entity: Vec<(&str, &[Value])> = key_cells
            .iter()
            .zip(&key_values)
            .map(|((name, _), values)| (*name, values.as_slice()))
            .collect();
        field_values.clear();
        field_values.extend(request_cells.iter().map(|(name, c)| (*name, c.get(row))));
        let read = Read::new(Keys::ByEntity(&by_entity), Selection::Indices(features), at)
            .with_request(Request::new(&field_values));
        let vector = rt.read(&read)?;
        if let Some(kept) = kept.as_mut() {
            for (&e, values) in entities.iter().zip(&key_values) {
                if let Some(slot) = kept.keys.keys.get_mut(e) {
                    slot.get_or_insert_with(|| Vec::with_capacity(n))
                        .push(values.clone());
                }
            }
            for ((_, column), (_, value)) in kept.keys.request.iter_mut().zip(&field_values) {
                column.push(value.clone());
            }
        }
        for (i, fv) in vector.features.iter().enumerate() {
            if let Some(b) = builders.get_mut(i) {
                if !b.append(&fv.value) {
                    b.append_null();
                }
            }
            if let Some(s) = statuses.get_mut(i) {
                s.push(status_name(&fv.status));
            }
            if let Status::Error(e) = &fv.status {
                let text = e.to_string();
                if !errors.contains(&text) {
                    errors.push(text);
                }
            }
        }
        if let Some(kept) = kept.as_mut() {
            kept.vectors.push(vector);
        }
    }
    let columns = builders
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
        names: features
            .iter()
            .filter_map(|&f| catalog.features.get(f))
            .map(|e| e.name.clone())
            .collect(),
        columns,
        statuses,
        errors,
        keys: key_columns.into_iter().map(|(_, n, a)| (n, a)).collect(),
    };
    Ok((read, kept))
}

/// A name a read used that the catalog does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    pub kind: &'static str,
    pub name: String,
    pub closest: Option<String>,
}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown {} `{}`", self.kind, self.name)?;
        if let Some(c) = &self.closest {
            write!(f, " (did you mean `{c}`?)")?;
        }
        Ok(())
    }
}

/// The catalog indices of a read's features: a service's, or features by any name
/// the server accepts (`view:feature`, `view.feature`, the project-wide name), or
/// every feature.
pub fn resolve(
    catalog: &Catalog,
    service: Option<&str>,
    features: Option<&[String]>,
) -> Result<Vec<usize>, UnknownName> {
    let unknown = |kind, name: &str, closest| UnknownName {
        kind,
        name: name.to_string(),
        closest,
    };
    match (service, features) {
        (Some(s), _) => catalog
            .service(s)
            .map(<[usize]>::to_vec)
            .map_err(|closest| unknown("service", s, closest)),
        (None, Some(names)) => names
            .iter()
            .map(|n| {
                catalog
                    .feature(n)
                    .map_err(|closest| unknown("feature", n, closest))
            })
            .collect(),
        (None, None) => Ok((0..catalog.features.len()).collect()),
    }
}
