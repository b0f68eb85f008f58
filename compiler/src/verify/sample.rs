//! The user's own data as a dataset: each source the features read, bound and
//! checked as `featc training-set` binds it, sampled to about `--sample` rows (each
//! row kept with the same seeded probability, read batch by batch so a large source
//! is never held whole), and a spine: the user's (a seeded sample of its rows, in
//! order) or a probe spine around the sampled events.

use std::path::PathBuf;

use datafusion::arrow::array::{BooleanArray, UInt32Array};
use datafusion::arrow::compute::{concat_batches, filter_record_batch, take_record_batch};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionConfig;
use featc_runtime::batch;
use featc_runtime::io::{self, Inputs};
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::dataset::{Dataset, RunSettings};
use super::probe::probe_spine;
use crate::ir::{FeatureId, Project};

/// What to read and how much of it.
pub struct UserData<'a> {
    pub inputs: &'a Inputs,
    /// The user's spine and its time column, or None for a probe spine.
    pub spine: Option<(PathBuf, String)>,
    /// Events kept per source, about.
    pub sample_rows: usize,
    /// Spine rows, at most.
    pub spine_rows: usize,
    pub seed: u64,
    /// The probe spine's time column.
    pub probe_time: String,
}

/// The sources the features read that have no data: neither a `--source` path nor a
/// declared file.
pub fn sources_without_data(
    project: &Project,
    features: &[FeatureId],
    inputs: &Inputs,
) -> Vec<String> {
    io::sources_of(project, features)
        .into_iter()
        .filter(|s| {
            !inputs.files.contains_key(&s.name)
                && !inputs.tables.contains_key(&s.name)
                && s.location.is_none()
        })
        .map(|s| s.name.clone())
        .collect()
}

/// The user's data as a dataset, and a line saying how it was sampled.
pub async fn user_dataset(
    project: &Project,
    features: &[FeatureId],
    data: &UserData<'_>,
) -> Result<(Dataset, String), String> {
    let mut rng = StdRng::seed_from_u64(data.seed);
    let ctx = batch::session_context(SessionConfig::new());
    let plan = crate::lower::groups::plan_groups(project, features).map_err(|e| e.to_string())?;
    let mut sources = Vec::new();
    let mut said = Vec::new();
    let used = io::sources_of(project, features);
    for source in &used {
        let table = &bind_whole(&ctx, source, data.inputs).await?;
        let failed = |e: datafusion::error::DataFusionError| {
            io::explain_failure(project, &plan, data.inputs, e).to_string()
        };
        let total = ctx
            .read_table(table.clone())
            .map_err(failed)?
            .count()
            .await
            .map_err(failed)?;
        let keep = if total == 0 {
            1.0
        } else {
            (data.sample_rows as f64 / total as f64).min(1.0)
        };
        let mut stream = ctx
            .read_table(table.clone())
            .map_err(failed)?
            .execute_stream()
            .await
            .map_err(failed)?;
        let mut kept = Vec::new();
        let mut rows = 0;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(failed)?;
            let batch = if keep < 1.0 {
                let mask: BooleanArray = (0..batch.num_rows())
                    .map(|_| Some(rng.random_bool(keep)))
                    .collect();
                filter_record_batch(&batch, &mask).map_err(|e| e.to_string())?
            } else {
                batch
            };
            rows += batch.num_rows();
            kept.push(batch);
        }
        said.push(format!("{rows} of {total} events of `{}`", source.name));
        sources.push((source.name.clone(), kept));
    }
    let lateness = used.iter().map(|s| s.lateness_us).min().unwrap_or(0);
    let settings = RunSettings::draw(&mut rng, lateness);
    let (spine, spine_time) = match &data.spine {
        Some((path, time)) => {
            let spine = io::read_spine(path, &io::spine_keys(project, features), time)
                .await
                .map_err(|e| e.to_string())?;
            let all = concat_batches(&spine.schema, &spine.batches).map_err(|e| e.to_string())?;
            said.push(format!(
                "{} of {} rows of the spine",
                all.num_rows().min(data.spine_rows),
                all.num_rows()
            ));
            (sample_rows(&all, data.spine_rows, &mut rng)?, time.clone())
        }
        None => {
            let spine = probe_spine(
                project,
                features,
                &sources,
                &data.probe_time,
                data.spine_rows,
                &mut rng,
            )?;
            said.push(format!("a probe spine of {} rows", spine.num_rows()));
            (spine, data.probe_time.clone())
        }
    };
    let dataset = Dataset {
        label: "your data".into(),
        sources,
        spine,
        spine_time,
        settings,
    };
    Ok((dataset, said.join(", ")))
}

/// `source` bound with every declared column read (`io::bind_sources` reads only
/// those a plan reads and makes the others null, which the reference would take for
/// nulls in the data): the same events for every path, whatever each one reads.
async fn bind_whole(
    ctx: &datafusion::prelude::SessionContext,
    source: &crate::ir::Source,
    inputs: &Inputs,
) -> Result<std::sync::Arc<dyn datafusion::catalog::TableProvider>, String> {
    let read: Vec<String> = source.columns.iter().map(|c| c.name.clone()).collect();
    if let Some(table) = inputs.tables.get(&source.name) {
        return io::bind_memory(ctx, source, table, &read).map_err(|e| e.to_string());
    }
    let path = inputs
        .files
        .get(&source.name)
        .cloned()
        .or_else(|| source.location.as_ref().map(PathBuf::from))
        .ok_or_else(|| {
            format!(
                "source `{}`: no file declared; bind it with --source NAME=PATH",
                source.name
            )
        })?;
    io::bind_source(ctx, source, &path, &read)
        .await
        .map_err(|e| e.to_string())
}

/// At most `n` rows of `table`, a seeded uniform sample kept in table order.
fn sample_rows(table: &RecordBatch, n: usize, rng: &mut StdRng) -> Result<RecordBatch, String> {
    if table.num_rows() <= n {
        return Ok(table.clone());
    }
    let mut picked = rand::seq::index::sample(rng, table.num_rows(), n).into_vec();
    picked.sort_unstable();
    let indices = UInt32Array::from_iter_values(picked.into_iter().map(|i| i as u32));
    take_record_batch(table, &indices).map_err(|e| e.to_string())
}
