//! Arroyo pipelines (`featc build PROJECT --emit arroyo --out DIR`): `pipeline.sql`
//! (Kafka source tables, one query per view and window, a sink) and, in `DIR/udfs/`,
//! a generated workspace of UDF crates (arroyo-udf-plugin, arrow 51, built in its own
//! workspace, never featc's) for what Arroyo SQL computes differently from featc.
//! docs/scale-out.md ("Streaming on Arroyo") states what the pipeline computes and how
//! it differs from featc's `(t - W, t]`.
//!
//! The two halves meet in `udf`: the SQL calls UDFs by `UdfSpec::name`, the crate
//! generator writes one crate per `UdfSpec`. `slide` is the hop a window is emitted
//! with, shared with the tests that measure its staleness cost.

pub mod slide;
pub mod udf;
pub mod udfs;
