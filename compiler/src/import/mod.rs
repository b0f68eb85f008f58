//! `import`: a feature spec in the JSON format of the acceptance cases (`spec.json`,
//! see tests/cases/README.md) to a `.feat` project, so that any such case runs through
//! featc without writing the `.feat` file by hand.
//!
//! The conversion is pure: the caller reads the spec and the schemas of the sources'
//! data (the CLI does it from `<source>.parquet` next to the spec). The project it
//! writes has one source per spec source (every column of its data, `ts` as time),
//! one entity per key column set, one view per (source, key), one feature per spec
//! entry and a service `spec` listing the features in spec order, which is the column
//! order of the case's expected output.

mod error;
mod predicate;
mod project;
mod spec;

pub use error::ImportError;
pub use project::{import_spec, SourceSchema};
pub use spec::{parse_spec, SpecFeature};

/// The name of the service an imported project declares.
pub const SERVICE: &str = "spec";
