//! Helpers shared by the `stream_*` tests: loading a case's data the way `featc
//! replay` does, replaying it, and comparing tables bit for bit.

#![allow(dead_code)]

use std::path::Path;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionConfig;
use featc::ir::{FeatureId, Project};
use featc_runtime::batch;
use featc_runtime::io::read_spine;
use featc_runtime::stream::{replay, ReplayOptions, Selection};

/// A case's project, requested features and data, loaded once.
pub struct Loaded {
    pub project: Project,
    pub features: Vec<FeatureId>,
    pub sources: Vec<(String, Vec<RecordBatch>)>,
    pub spine: RecordBatch,
}

/// Reads the sources (declared locations) and the spine of a compiled case.
pub async fn load(project: Project, spine_path: &Path) -> Loaded {
    let features = project.all_features();
    let ctx = batch::session_context(SessionConfig::new());
    let plan = featc::lower::groups::plan_groups(&project, &features).expect("plan");
    let tables = featc_runtime::io::bind_sources(&ctx, &project, &plan, &Default::default())
        .await
        .expect("bind sources");
    let mut names: Vec<&String> = tables.keys().collect();
    names.sort();
    let mut sources = Vec::new();
    for name in names {
        let batches = ctx
            .read_table(tables[name].clone())
            .expect("read source")
            .collect()
            .await
            .expect("collect source");
        sources.push((name.clone(), batches));
    }
    let keys = featc_runtime::io::spine_keys(&project, &features);
    let spine = read_spine(spine_path, &keys, "ts")
        .await
        .expect("read spine");
    let spine = concat_batches(&spine.schema, &spine.batches).expect("concat spine");
    Loaded {
        project,
        features,
        sources,
        spine,
    }
}

/// `featc replay` through the libraries.
pub fn replay_loaded(
    l: &Loaded,
    disorder_us: i64,
    batch_size: usize,
    seed: u64,
    fold_run: u32,
) -> RecordBatch {
    let graph = featc::lower::stream::lower_stream(&l.project, &l.features).expect("lower stream");
    let opts = ReplayOptions {
        disorder_us,
        batch_size,
        seed,
        fold_run,
        ..ReplayOptions::default()
    };
    let (out, report) = replay(graph, &l.sources, &l.spine, "ts", &Selection::All, &opts)
        .unwrap_or_else(|e| panic!("replay: {e}"));
    assert_eq!(
        report.metrics.late, 0,
        "a replay within its lateness has no late events"
    );
    out
}

/// Same column names, types, nulls and values; floats compared by their bits.
pub fn bit_equal(actual: &RecordBatch, expected: &RecordBatch) -> Result<(), String> {
    if actual.num_rows() != expected.num_rows() {
        return Err(format!(
            "{} rows, expected {}",
            actual.num_rows(),
            expected.num_rows()
        ));
    }
    let (sa, se) = (actual.schema(), expected.schema());
    let names = |s: &datafusion::arrow::datatypes::Schema| -> Vec<String> {
        s.fields().iter().map(|f| f.name().clone()).collect()
    };
    if names(&sa) != names(&se) {
        return Err(format!(
            "columns {:?}, expected {:?}",
            names(&sa),
            names(&se)
        ));
    }
    for (i, f) in se.fields().iter().enumerate() {
        column_bits(f.name(), actual.column(i), expected.column(i))?;
    }
    Ok(())
}

fn column_bits(name: &str, a: &ArrayRef, e: &ArrayRef) -> Result<(), String> {
    if a.data_type() != e.data_type() {
        return Err(format!(
            "{name}: type {}, expected {}",
            a.data_type(),
            e.data_type()
        ));
    }
    for r in 0..e.len() {
        let same = match (a.is_valid(r), e.is_valid(r)) {
            (false, false) => true,
            (true, true) if e.data_type() == &DataType::Float64 => {
                let (x, y) = (
                    a.as_primitive::<Float64Type>().value(r),
                    e.as_primitive::<Float64Type>().value(r),
                );
                x.to_bits() == y.to_bits()
            }
            (true, true) => a.slice(r, 1) == e.slice(r, 1),
            _ => false,
        };
        if !same {
            return Err(format!(
                "{name} row {r}: {}, expected {}",
                show(a, r),
                show(e, r)
            ));
        }
    }
    Ok(())
}

fn show(a: &ArrayRef, r: usize) -> String {
    if a.is_null(r) {
        "null".into()
    } else {
        datafusion::arrow::util::display::array_value_to_string(a, r).unwrap_or_default()
    }
}
