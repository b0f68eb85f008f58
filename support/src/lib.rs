//! featc-test-support: what featc's tests share, each helper once, one concept per
//! module: `paths` (the repository, cases, examples), `project` (compiling a test's
//! project), `parquet` (reading a Parquet file whole), `compare` (tables with float
//! tolerance, or bit for bit), `batch` and `stream` (the two executors through the
//! libraries, as the CLI runs them), `sql` (the SQL emitter's scripts on DataFusion),
//! `events` (in-memory events as a source table wants them), `runtime` (the shared
//! tokio runtime), `scratch` (a test's fresh folder), `rng` (SplitMix64), `seed` (a
//! property test run's fresh, printed seed), `pushes` (source events as a
//! client pushes them to `featc serve`), `served_cells` (its answers against a
//! training set's cells), `refusal` (the error inside its refusals), `gen` (random
//! projects and data for the property tests).
//! A dev-dependency only; it depends on neither the server nor the CLI.

// Test-support code: its helpers may unwrap, expect and panic!, which the workspace's lints
// deny in library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod batch;
pub mod compare;
pub mod events;
pub mod gen;
pub mod hand_case;
pub mod parquet;
pub mod paths;
pub mod project;
pub mod pushes;
pub mod refusal;
pub mod rng;
pub mod runtime;
pub mod scratch;
pub mod seed;
pub mod served_cells;
pub mod sql;
pub mod stream;
