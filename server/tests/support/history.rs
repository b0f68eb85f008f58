//! Loading a project's history into a server before it answers, as `featc serve
//! --bootstrap` does (cli/src/history.rs): every source the graph reads, from its
//! declared file through the runtime's own binding, in event-time order, batch by
//! batch; then the bootstrap ends.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::{ident, SessionConfig};
use featc::ir::Project;
use featc_runtime::plan::Plan;
use featc_runtime::stream::StreamGraph;
use featc_server::Server;

/// Every source's batches, each source sorted by its time column.
pub async fn sorted_sources(
    project: &Project,
    plan: &Plan,
    graph: &StreamGraph,
) -> Vec<(String, Vec<RecordBatch>)> {
    let ctx = featc_runtime::batch::session_context(SessionConfig::new());
    let tables = featc_runtime::io::bind_sources(&ctx, project, plan, &Default::default())
        .await
        .expect("bind the sources");
    let mut sources = Vec::new();
    for (_, op) in graph.sources() {
        let Some(table) = tables.get(&op.name) else {
            continue;
        };
        let batches = ctx
            .read_table(table.clone())
            .expect("read")
            .sort(vec![ident(&op.time_column).sort(true, false)])
            .expect("sort")
            .collect()
            .await
            .expect("history");
        sources.push((op.name.clone(), batches));
    }
    sources
}

/// Loads the history of every source into `server`, then ends its bootstrap.
pub async fn bootstrap(server: &Server, project: &Project, plan: &Plan, graph: &StreamGraph) {
    let sources = sorted_sources(project, plan, graph).await;
    let total = sources
        .iter()
        .flat_map(|(_, batches)| batches)
        .map(|b| b.num_rows() as u64)
        .sum();
    server.bootstrap_total(total);
    for (name, batches) in &sources {
        for batch in batches.iter().filter(|b| b.num_rows() > 0) {
            server.bootstrap_batch(name, batch).expect("bootstrap");
        }
    }
    server.finish_bootstrap().await.expect("bootstrap ends");
}
