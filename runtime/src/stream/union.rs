//! A group over several sources at run time: each member source's conformed batch
//! turned into the union's rows (`plan::UnionMember`; semantics.md, "Views over
//! several sources"), so the group's expressions, keys and window state see one
//! kind of row whatever the source.

use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{new_null_array, ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;

use super::error::StreamError;
use crate::ir::{DataType, SOURCE_NAME_COLUMN};
use crate::plan::{GroupPlan, UNION_TIME_COLUMN};
use crate::row::types::arrow_type;

/// Where a column of the union comes from, for one member.
enum Part {
    /// The member's conformed column at this index (its time column is 0).
    Column(usize),
    /// A column the member lacks: nulls of the union's type.
    Null(ArrowType),
    /// `source()`: the member's name.
    Name,
}

/// One member's way into the union: a column of the union per `Part`.
pub(crate) struct UnionAdapter {
    name: String,
    parts: Vec<Part>,
    schema: SchemaRef,
    /// The member's name repeated, as long as the longest batch so far: a batch's
    /// `source()` column is a slice of it, not a new array of copies per batch.
    names: Mutex<ArrayRef>,
}

impl UnionAdapter {
    /// The member's rows (`batch`, of its conformed schema) as the union's.
    pub fn adapt(&self, batch: &RecordBatch) -> Result<RecordBatch, StreamError> {
        let n = batch.num_rows();
        let columns: Vec<ArrayRef> = self
            .parts
            .iter()
            .map(|p| match p {
                Part::Column(i) => Arc::clone(batch.column(*i)),
                Part::Null(ty) => new_null_array(ty, n),
                Part::Name => self.names_for(n),
            })
            .collect();
        RecordBatch::try_new(Arc::clone(&self.schema), columns).map_err(|e| StreamError::Data {
            table: self.name.clone(),
            column: String::new(),
            row: 0,
            message: e.to_string(),
        })
    }

    /// `n` copies of the member's name (a slice of the cached column, grown to the
    /// next power of two when a batch is longer).
    fn names_for(&self, n: usize) -> ArrayRef {
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        if names.len() < n {
            *names = Arc::new(StringArray::from(vec![
                self.name.as_str();
                n.next_power_of_two()
            ]));
        }
        names.slice(0, n)
    }
}

/// The union's schema (the columns the group reads but its lookups',
/// `UNION_TIME_COLUMN` the events' times) and an adapter per member, in `plan.union`'s order. `schema_of` gives a
/// member source's conformed schema (its time column first) by name.
pub(crate) fn union_of(
    plan: &GroupPlan,
    schema_of: &dyn Fn(&str) -> Option<SchemaRef>,
) -> Result<(SchemaRef, Vec<UnionAdapter>), StreamError> {
    let missing = |source: &str, column: &str| StreamError::MissingColumn {
        table: source.to_string(),
        column: column.to_string(),
    };
    let mut members = Vec::with_capacity(plan.union.len());
    for m in &plan.union {
        let schema = schema_of(&m.source).ok_or_else(|| missing(&m.source, &m.time_column))?;
        members.push((m, schema));
    }
    // A lookup's column is no source's: the group adds it (`lookup`).
    let read = plan.scanned_columns();
    let mut fields = Vec::with_capacity(read.len());
    for c in &read {
        let field = if c == UNION_TIME_COLUMN {
            Field::new(c, arrow_type(DataType::Timestamp), false)
        } else if c == SOURCE_NAME_COLUMN {
            Field::new(c, arrow_type(DataType::String), false)
        } else {
            let ty = members
                .iter()
                .find_map(|(m, schema)| {
                    let i = column_index(m.time_column.as_str(), &m.columns, schema, c)?;
                    Some(schema.field(i).data_type().clone())
                })
                .ok_or_else(|| missing(&plan.source, c))?;
            Field::new(c, ty, true)
        };
        fields.push(field);
    }
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let mut adapters = Vec::with_capacity(members.len());
    for (m, member_schema) in &members {
        let mut parts = Vec::with_capacity(read.len());
        for (c, field) in read.iter().zip(schema.fields()) {
            parts.push(if c == UNION_TIME_COLUMN {
                Part::Column(0)
            } else if c == SOURCE_NAME_COLUMN {
                Part::Name
            } else {
                match column_index(&m.time_column, &m.columns, member_schema, c) {
                    Some(i) => Part::Column(i),
                    None => Part::Null(field.data_type().clone()),
                }
            });
        }
        adapters.push(UnionAdapter {
            name: m.source.clone(),
            parts,
            schema: Arc::clone(&schema),
            names: Mutex::new(Arc::new(StringArray::from(Vec::<&str>::new()))),
        });
    }
    Ok((schema, adapters))
}

/// The index of the member's column `c` in its conformed schema, if the member
/// has it (its time column is column 0).
fn column_index(time: &str, columns: &[String], schema: &Schema, c: &str) -> Option<usize> {
    if !columns.iter().any(|x| x == c) {
        return None;
    }
    if c == time {
        return Some(0);
    }
    schema.index_of(c).ok()
}
