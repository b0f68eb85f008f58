//! The stream path through the libraries: loading a case's data the way `featc
//! replay` does, and replaying it.

use std::path::Path;

use datafusion::arrow::compute::concat_batches;
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
