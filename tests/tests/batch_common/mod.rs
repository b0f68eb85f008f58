//! Helpers shared by the `batch_*` tests: compiling a case, running the batch
//! pipeline through the libraries (the same steps as `featc training-set`), and
//! comparing results.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::datasource::provider_as_source;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::prelude::SessionConfig;
use featc::ir::{FeatureId, Project};
use featc::SourceFile;
use featc_runtime::batch;
use featc_runtime::io::{read_spine, Spine};

/// Compiles the `.feat` files of a case folder (named by their paths, so that `file`
/// locations resolve into the folder).
pub fn compile_dir(dir: &Path) -> Project {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("case folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "feat"))
        .collect();
    files.sort();
    let sources: Vec<SourceFile> = files
        .iter()
        .map(|p| SourceFile {
            name: p.display().to_string(),
            text: std::fs::read_to_string(p).expect("read .feat"),
        })
        .collect();
    compile(&sources)
}

pub fn compile(sources: &[SourceFile]) -> Project {
    match featc::compile(sources) {
        Ok(p) => p,
        Err(d) => panic!("project does not compile: {d:?}"),
    }
}

/// A session's configuration: `batch_size` rows per batch (DataFusion's default when
/// None); partitions from the batch size, so that the tests that vary one vary both
/// (1 to 4: the merges run one per partition, and the answer must not change).
pub fn config(batch_size: Option<usize>) -> SessionConfig {
    let partitions = batch_size.map_or(2, |n| 1 + n % 4);
    let config = SessionConfig::new().with_target_partitions(partitions);
    match batch_size {
        Some(n) => config.with_batch_size(n),
        None => config,
    }
}

/// The whole pipeline on files: bind sources (declared locations unless overridden),
/// read the spine, lower, execute, collect.
pub async fn training_set(
    project: &Project,
    features: &[FeatureId],
    source_paths: &HashMap<String, PathBuf>,
    spine_path: &Path,
    spine_time: &str,
    batch_size: Option<usize>,
) -> Result<RecordBatch, String> {
    let ctx = batch::session_context(config(batch_size));
    let plan = featc::lower::groups::plan_groups(project, features).map_err(|e| e.to_string())?;
    let tables =
        featc_runtime::io::bind_sources(&ctx, project, &plan, &source_paths.clone().into())
            .await
            .map_err(|e| e.to_string())?;
    let keys = featc_runtime::io::spine_keys(project, features);
    let spine = read_spine(spine_path, &keys, spine_time)
        .await
        .map_err(|e| e.to_string())?;
    run_plan(&ctx, project, features, &tables, &spine, spine_time).await
}

/// The pipeline on in-memory data: each source is a table of `events[source]`
/// (split into batches of `batch_size` rows), the spine a batch.
pub async fn training_set_in_memory(
    project: &Project,
    features: &[FeatureId],
    events: &HashMap<String, RecordBatch>,
    spine: &RecordBatch,
    batch_size: usize,
) -> Result<RecordBatch, String> {
    let ctx = batch::session_context(config(Some(batch_size)));
    let mut tables: HashMap<String, Arc<dyn TableProvider>> = HashMap::new();
    for (name, batch) in events {
        let parts: Vec<RecordBatch> = (0..batch.num_rows())
            .step_by(batch_size)
            .map(|o| batch.slice(o, batch_size.min(batch.num_rows() - o)))
            .collect();
        // Two partitions, so that the events arrive interleaved from two streams.
        let (a, b) = parts.split_at(parts.len() / 2);
        let table = MemTable::try_new(batch.schema(), vec![a.to_vec(), b.to_vec()])
            .map_err(|e| e.to_string())?;
        tables.insert(name.clone(), Arc::new(table));
    }
    let spine = Spine {
        schema: spine.schema(),
        batches: vec![spine.clone()],
    };
    run_plan(&ctx, project, features, &tables, &spine, "ts").await
}

async fn run_plan(
    ctx: &datafusion::prelude::SessionContext,
    project: &Project,
    features: &[FeatureId],
    tables: &HashMap<String, Arc<dyn TableProvider>>,
    spine: &Spine,
    spine_time: &str,
) -> Result<RecordBatch, String> {
    let spine_table = spine.provider().map_err(|e| e.to_string())?;
    let table_of = |s: &featc::ir::Source| provider_as_source(Arc::clone(&tables[&s.name]));
    let plan = featc::lower::batch::lower_batch(
        project,
        features,
        &table_of,
        provider_as_source(spine_table),
        spine_time,
    )
    .map_err(|e| e.to_string())?;
    let (_, stream) = batch::execute(ctx, plan).await.map_err(|e| e.to_string())?;
    let schema = stream.schema();
    let batches = datafusion::physical_plan::common::collect(stream)
        .await
        .map_err(|e| e.to_string())?;
    concat_batches(&schema, &batches).map_err(|e| e.to_string())
}

/// Each source of a case's project, from the file it declares (in `dir`), read as it
/// is stored (no conversion on the way), by source name.
pub fn read_case_sources(project: &Project, dir: &Path) -> HashMap<String, Vec<RecordBatch>> {
    project
        .sources
        .iter()
        .map(|s| {
            let location = s
                .location
                .as_deref()
                .expect("the case's sources declare a file");
            (s.name.clone(), vec![read_parquet(&dir.join(location))])
        })
        .collect()
}

pub fn read_parquet(path: &Path) -> RecordBatch {
    let file = std::fs::File::open(path).expect("open parquet");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet reader")
        .build()
        .expect("parquet reader");
    let batches: Vec<RecordBatch> = reader.map(|b| b.expect("parquet batch")).collect();
    let schema = batches.first().map(|b| b.schema()).expect("a batch");
    concat_batches(&schema, &batches).expect("concat")
}

/// Compares two tables column by column (same names and order): floats with
/// relative tolerance 1e-9 (absolute near zero), everything else exactly. Returns the
/// first difference.
pub fn compare_tolerant(actual: &RecordBatch, expected: &RecordBatch) -> Result<(), String> {
    let names = |b: &RecordBatch| -> Vec<String> {
        b.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    };
    if names(actual) != names(expected) {
        return Err(format!(
            "columns differ:\n  actual   {:?}\n  expected {:?}",
            names(actual),
            names(expected)
        ));
    }
    if actual.num_rows() != expected.num_rows() {
        return Err(format!(
            "{} rows, expected {}",
            actual.num_rows(),
            expected.num_rows()
        ));
    }
    for (i, name) in names(expected).iter().enumerate() {
        let (a, e) = (actual.column(i), expected.column(i));
        compare_column(name, a, e)?;
    }
    Ok(())
}

fn compare_column(name: &str, a: &ArrayRef, e: &ArrayRef) -> Result<(), String> {
    if e.data_type() == &DataType::Float64 && a.data_type() == &DataType::Float64 {
        let (a, e) = (
            a.as_primitive::<Float64Type>(),
            e.as_primitive::<Float64Type>(),
        );
        for r in 0..e.len() {
            match (a.is_valid(r), e.is_valid(r)) {
                (false, false) => {}
                (true, true) => {
                    let (x, y) = (a.value(r), e.value(r));
                    // An infinity is equal only to itself (the relative test would
                    // accept any finite value beside it: inf <= 1e-9 * inf).
                    let ok = x == y
                        || (x.is_nan() && y.is_nan())
                        || (x.is_finite()
                            && y.is_finite()
                            && (x - y).abs() <= 1e-9 * y.abs().max(1.0));
                    if !ok {
                        return Err(format!("{name} row {r}: {x:?}, expected {y:?}"));
                    }
                }
                (va, ve) => {
                    return Err(format!(
                        "{name} row {r}: {}, expected {}",
                        show(a, r, va),
                        show(e, r, ve)
                    ))
                }
            }
        }
        return Ok(());
    }
    let a = datafusion::arrow::compute::cast(a, e.data_type()).map_err(|x| x.to_string())?;
    for r in 0..e.len() {
        let (x, y) = (display(&a, r), display(e, r));
        if x != y {
            return Err(format!("{name} row {r}: {x}, expected {y}"));
        }
    }
    Ok(())
}

fn show(a: &datafusion::arrow::array::Float64Array, r: usize, valid: bool) -> String {
    if valid {
        format!("{:?}", a.value(r))
    } else {
        "null".to_string()
    }
}

fn display(a: &ArrayRef, r: usize) -> String {
    if a.is_null(r) {
        "null".to_string()
    } else {
        datafusion::arrow::util::display::array_value_to_string(a, r).unwrap_or_default()
    }
}

/// Every feature of the project in declaration order.
pub fn all_features(project: &Project) -> Vec<FeatureId> {
    project.all_features()
}
