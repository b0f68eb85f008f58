//! What featc emits for engines other than its own: SQL for Spark, DuckDB,
//! PostgreSQL and DataFusion (`sql`), and Arroyo pipelines with their UDF crates
//! (`arroyo`), built from the feature plan.

pub mod arroyo;
pub mod sql;
