//! Shared helpers for featc integration tests.

// Test-support code: its helpers may unwrap, expect and panic!, which the workspace's
// lints deny in library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod gen;

/// The folder holding the acceptance cases (`tests/cases/<name>`).
pub fn cases_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}

/// The `.feat` files of the project folder `dir`, sorted, each named by its path from
/// the repository root, so that what prints file names (snapshots, diagnostics)
/// does not depend on the checkout.
pub fn feat_files_named_from_root(dir: &std::path::Path) -> Vec<featc::SourceFile> {
    let root = cases_dir()
        .join("../..")
        .canonicalize()
        .expect("repository root");
    let dir = dir.canonicalize().expect("project folder");
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .expect("project folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "feat"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| featc::SourceFile {
            name: p
                .strip_prefix(&root)
                .expect("inside the repository")
                .display()
                .to_string(),
            text: std::fs::read_to_string(p).expect("read .feat"),
        })
        .collect()
}

/// `events` as the batch plan's contract wants a source table: every timestamp column
/// in UTC microseconds. `bind_source` does this when it reads a file; tables built
/// in memory by the tests get the same conversion (`row::time::to_micros`) here.
pub fn events_in_micros(
    events: &datafusion::arrow::record_batch::RecordBatch,
) -> Result<datafusion::arrow::record_batch::RecordBatch, String> {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let mut columns = events.columns().to_vec();
    let mut fields: Vec<Field> = events
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    for (column, field) in columns.iter_mut().zip(fields.iter_mut()) {
        if matches!(field.data_type(), DataType::Timestamp(_, _)) {
            *column = featc_runtime::row::time::to_micros(column).map_err(|e| format!("{e:?}"))?;
            *field = Field::new(
                field.name(),
                column.data_type().clone(),
                field.is_nullable(),
            );
        }
    }
    datafusion::arrow::record_batch::RecordBatch::try_new(
        std::sync::Arc::new(Schema::new(fields)),
        columns,
    )
    .map_err(|e| e.to_string())
}

/// One multi-threaded tokio runtime (2 workers) per test binary, shared by the
/// property tests that run the batch path or `verify` inside a proptest body.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

/// The project that uses every row function (`tests/functions`), for snapshots.
pub fn functions_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("functions")
}

/// The folder holding the example projects (`examples/<name>`).
pub fn examples_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// `features` without those named in `refused` (what an emitter refused), in order.
pub fn features_except(
    project: &featc::ir::Project,
    features: &[featc::ir::FeatureId],
    refused: &[&str],
) -> Vec<featc::ir::FeatureId> {
    features
        .iter()
        .copied()
        .filter(|id| !refused.contains(&project.feature(*id).name.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_public_cases_are_in_the_repo() {
        for case in ["synthetic", "marketplace"] {
            let dir = super::cases_dir().join(case);
            for file in [
                "features.feat",
                "spine.parquet",
                "expected.parquet",
                "spec.json",
            ] {
                assert!(dir.join(file).is_file(), "missing {case}/{file}");
            }
        }
    }
}
