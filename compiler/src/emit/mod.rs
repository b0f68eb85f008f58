//! What featc emits for engines other than its own: SQL for Spark, DuckDB,
//! PostgreSQL and DataFusion (`sql`), built from the feature plan.

pub mod sql;
