//! Iceberg matches a data file's columns to the table's by field id, not by name: a
//! renamed column keeps its id (its older files still have the old name), and a
//! column dropped then added again under the same name has a new id (its older
//! files' column of that name is not it). DataFusion matches by name. This adapter,
//! given to the scan of each data file, makes the table's columns read the file's
//! columns of the same field id (the `PARQUET:field_id` of each Parquet column, which
//! Iceberg writers set), then lets DataFusion's default adapter do the rest: casts
//! to the table's types, nulls for a column the file does not have (one added after
//! it was written). A file with no field ids at all (written outside Iceberg and
//! added to the table as it was) is matched by name, as Iceberg's default name
//! mapping does.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::Result;
use datafusion::parquet::arrow::PARQUET_FIELD_ID_META_KEY;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr_adapter::{
    DefaultPhysicalExprAdapterFactory, PhysicalExprAdapter, PhysicalExprAdapterFactory,
};

/// The table's field id of each of its columns, by name.
#[derive(Debug, Clone)]
pub struct FieldIds {
    pub ids: HashMap<String, i32>,
}

impl PhysicalExprAdapterFactory for FieldIds {
    fn create(
        &self,
        logical: SchemaRef,
        physical: SchemaRef,
    ) -> Result<Arc<dyn PhysicalExprAdapter>> {
        let by_id: HashMap<i32, &str> = physical
            .fields()
            .iter()
            .filter_map(|f| {
                let id = f.metadata().get(PARQUET_FIELD_ID_META_KEY)?.parse().ok()?;
                Some((id, f.name().as_str()))
            })
            .collect();
        if by_id.is_empty() {
            return DefaultPhysicalExprAdapterFactory.create(logical, physical);
        }
        // The table's schema with each column named as the file names its field id,
        // or by a name the file does not have when the file lacks it. (The file's
        // columns are looked up by name, in the file's schema, when it is read.)
        let mut renames = HashMap::new();
        let fields: Vec<_> = logical
            .fields()
            .iter()
            .map(|f| {
                let in_file = self.ids.get(f.name()).and_then(|id| by_id.get(id));
                let name = match in_file {
                    Some(name) => name.to_string(),
                    None => absent_name(f.name(), &physical),
                };
                renames.insert(f.name().clone(), name.clone());
                f.as_ref().clone().with_name(name)
            })
            .collect();
        let renamed = Arc::new(Schema::new_with_metadata(
            fields,
            logical.metadata().clone(),
        ));
        let inner = DefaultPhysicalExprAdapterFactory.create(renamed, physical)?;
        Ok(Arc::new(ById { renames, inner }))
    }
}

/// A name for a table's column that `physical` (a file's schema) has no column of.
fn absent_name(name: &str, physical: &Schema) -> String {
    let mut absent = format!("{name} (not in this file)");
    while physical.index_of(&absent).is_ok() {
        absent.push('_');
    }
    absent
}

#[derive(Debug)]
struct ById {
    /// The table's column names, and the names they are read by in this file.
    renames: HashMap<String, String>,
    inner: Arc<dyn PhysicalExprAdapter>,
}

impl PhysicalExprAdapter for ById {
    fn rewrite(&self, expr: Arc<dyn PhysicalExpr>) -> Result<Arc<dyn PhysicalExpr>> {
        let renamed = expr
            .transform(|e| {
                if let Some(column) = e.downcast_ref::<Column>() {
                    if let Some(name) = self.renames.get(column.name()) {
                        let renamed: Arc<dyn PhysicalExpr> =
                            Arc::new(Column::new(name, column.index()));
                        return Ok(Transformed::yes(renamed));
                    }
                }
                Ok(Transformed::no(e))
            })
            .data()?;
        self.inner.rewrite(renamed)
    }
}
