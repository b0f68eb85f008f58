//! The generated UDF workspace of an Arroyo pipeline (`DIR/udfs/`): one crate per
//! `UdfSpec` (arroyo-udf-plugin allows one `#[udf]` per crate), each with its
//! function in one self-contained `src/lib.rs` (the shared exact-arithmetic or
//! ordering module it needs inline, its dependencies in the comment Arroyo reads:
//! the file is what an Arroyo cluster is given), and `tests/featc_values.rs`, edge
//! cases whose expected results featc's own runtime computes here, so `cargo test`
//! in the workspace proves the UDF agrees with featc.
//!
//! Library code: returns (path relative to `DIR/udfs/`, contents) pairs; the CLI
//! writes them. The crates' code lives in `../templates/*.rs.txt` (Rust with
//! `__NAME__`-style holes), so it is reviewed as Rust.

mod cargo;
mod source;
mod tests_file;
mod vectors;

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

use featc_runtime::ir::{DataType, Quantile};

use super::udf::{UdfKind, UdfSpec};

pub use source::UnsupportedUdf;

/// The version of arroyo-udf-plugin the crates depend on, exactly: the one whose
/// macro expansion (null handling, panics caught into a failed call) the generated
/// code and docs/scale-out.md describe, and that the script builds.
pub const PLUGIN_VERSION: &str = "0.2.0";

/// Every file of the UDF workspace for `udfs`: `Cargo.toml` (the workspace, members
/// sorted by name) and per spec `NAME/Cargo.toml`, `NAME/src/lib.rs` and
/// `NAME/tests/featc_values.rs`. Deterministic: the same set gives
/// the same files in the same order. The first spec no UDF implements is an error.
pub fn files(udfs: &BTreeSet<UdfSpec>) -> Result<Vec<(PathBuf, String)>, UnsupportedUdf> {
    // No UDF, no workspace (cargo refuses a workspace without members).
    if udfs.is_empty() {
        return Ok(Vec::new());
    }
    let mut crates = Vec::with_capacity(udfs.len());
    for spec in udfs {
        crates.push((spec.name(), source::crate_source(spec)?, *spec));
    }
    crates.sort_by(|a, b| a.0.cmp(&b.0));
    let names: Vec<&str> = crates.iter().map(|c| c.0.as_str()).collect();
    let mut out = vec![(PathBuf::from("Cargo.toml"), cargo::workspace(&names))];
    for (name, src, spec) in &crates {
        let dir = PathBuf::from(name);
        out.push((
            dir.join("Cargo.toml"),
            cargo::member(name, src.dependencies),
        ));
        out.push((dir.join("src").join("lib.rs"), src.lib.clone()));
        let tests = tests_file::render(spec, &vectors::cases(spec));
        out.push((dir.join("tests").join("featc_values.rs"), tests));
    }
    Ok(out)
}

/// Whether a UDF computes `spec` (what `files` would refuse it for), for the SQL
/// generator to refuse a feature before writing anything.
pub fn check(spec: &UdfSpec) -> Result<(), UnsupportedUdf> {
    source::crate_source(spec).map(|_| ())
}

/// The quantiles `representative_specs` generates a percentile for.
const QUANTILES: [(u64, u64); 4] = [(0, 1), (1, 2), (19, 20), (1, 1)];

/// One spec of every (kind, input type) the generator implements, percentiles at
/// a few quantiles (0, median, 0.95, 1): the set the build script compiles and tests.
pub fn representative_specs() -> BTreeSet<UdfSpec> {
    let mut kinds = vec![
        UdfKind::Sum,
        UdfKind::Avg,
        UdfKind::VarPop,
        UdfKind::StddevPop,
        UdfKind::Min,
        UdfKind::Max,
        UdfKind::CountDistinct,
        UdfKind::First,
        UdfKind::Last,
        UdfKind::CheckedAdd,
        UdfKind::CheckedSub,
        UdfKind::CheckedMul,
        UdfKind::CheckedNeg,
    ];
    kinds.extend(
        QUANTILES
            .iter()
            .filter_map(|&(n, d)| Quantile::new(n, d).map(UdfKind::Percentile)),
    );
    let types = [
        DataType::Int64,
        DataType::Float64,
        DataType::String,
        DataType::Bool,
        DataType::Timestamp,
    ];
    kinds
        .into_iter()
        .flat_map(|kind| types.map(|input| UdfSpec { kind, input }))
        .filter(|spec| check(spec).is_ok())
        .collect()
}

impl fmt::Display for UnsupportedUdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no Arroyo UDF computes featc's `{}` over {}: {}",
            self.spec.name(),
            self.spec.input.name(),
            self.reason
        )
    }
}

impl std::error::Error for UnsupportedUdf {}
