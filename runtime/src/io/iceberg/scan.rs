//! The table a snapshot's live data files make: a DataFusion `ListingTable` over the
//! list of their URLs, with the table's schema (not one inferred from the files),
//! each file's columns matched to it by field id (`field_ids`), the columns a file
//! lacks read as nulls. Scanned without gathering the files' statistics: DataFusion
//! matches those to the table's columns by name, and reads a column whose statistics
//! say "all null" as nulls without reading it, which a renamed column's older files
//! would wrongly say.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::plan_err;
use datafusion::datasource::empty::EmptyTable;
use datafusion::datasource::listing::{ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{ParquetReadOptions, SessionContext};

use super::error::Problem;
use super::field_ids::FieldIds;
use super::files::{Files, Location};
use datafusion::datasource::file_format::options::ReadOptions;

/// A table over the Parquet `data` files (all in one store) with `schema`, whose
/// columns have the field ids `ids`.
pub fn provider(
    ctx: &SessionContext,
    files: &Files<'_>,
    data: &[Location],
    schema: SchemaRef,
    ids: HashMap<String, i32>,
) -> Result<Arc<dyn TableProvider>, Problem> {
    let Some(first) = data.first() else {
        // Every row deleted (or none written): an empty table of the schema.
        return Ok(Arc::new(EmptyTable::new(schema)));
    };
    // One scan reads one store (the first path's, for all of them).
    if let Some(other) = data.iter().find(|f| f.store() != first.store()) {
        return Err(Problem::ManyStores {
            first: first.url(),
            other: other.url(),
        });
    }
    if let Location::S3 { bucket, .. } = first {
        files.client(bucket)?;
    }
    let df_error = |e: datafusion::error::DataFusionError| Problem::Unreadable(e.strip_backtrace());
    let urls = data
        .iter()
        .map(|f| ListingTableUrl::parse(f.url()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(df_error)?;
    // The session's Parquet settings (plain `Utf8` strings); any file name (Iceberg
    // writers choose them).
    let options = ParquetReadOptions::default()
        .to_listing_options(&ctx.copied_config(), ctx.copied_table_options())
        .with_file_extension("");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema)
        .with_expr_adapter_factory(Arc::new(FieldIds { ids }));
    let table = ListingTable::try_new(config).map_err(df_error)?;
    Ok(Arc::new(WithoutStatistics(table)))
}

/// A `ListingTable` scanned with `collect_statistics` off.
#[derive(Debug)]
struct WithoutStatistics(ListingTable);

#[async_trait]
impl TableProvider for WithoutStatistics {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }

    fn table_type(&self) -> TableType {
        self.0.table_type()
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        self.0.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let Some(state) = state.as_any().downcast_ref::<SessionState>() else {
            return plan_err!("an Iceberg table is read in a DataFusion SessionState only");
        };
        let mut state = state.clone();
        state
            .config_mut()
            .options_mut()
            .execution
            .collect_statistics = false;
        self.0.scan(&state, projection, filters, limit).await
    }
}
