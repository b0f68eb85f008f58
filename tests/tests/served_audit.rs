//! What the server's core serves is what training computes, on generated projects and
//! data, checked by `featc audit`: the embedded store (the state `featc serve` runs)
//! gets each case's events pushed in time order, in batches of the case's size, and
//! is read at every spine row's time as soon as every event at or before it was
//! pushed, logging what it served; the audit recomputes every read with the training
//! set's job and must find every cell equal, or explained by a cause it computed (the
//! generated lookups make events wait for their looked-up values: `held_for_lookup`).
//! A durable store read early, before some events at or before the reads' times
//! arrived, must audit the same way once the audit has the store's state directory
//! (`arrived_after_read`, from its archive cut at each read's log position).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::arrow::datatypes::{Field, Schema};
use featc::audit::acknowledged::Acknowledged;
use featc::audit::Audit;
use featc::ir::Project;
use featc_runtime::batch::Resources;
use featc_runtime::io::{Inputs, MemoryTable};
use featc_runtime::row::time::to_micros_in;
use featc_runtime::row::types::arrow_type;
use featc_runtime::stream::Options;
use featc_server::embedded::{EmbeddedStore, ReadAt};
use featc_test_support::gen::{case_strategy, GenCase};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

use crate::equivalence::{compile, reference};

/// The event times of `batch` (source `name` of `project`), in µs.
fn times(project: &Project, name: &str, batch: &RecordBatch) -> Result<Vec<i64>, String> {
    let source = project
        .sources
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("no source {name}"))?;
    let column = batch
        .column_by_name(&source.time_column)
        .ok_or_else(|| format!("{name}: no time column"))?;
    let micros = to_micros_in(column, source.epoch).map_err(|e| format!("{name}: {e:?}"))?;
    let micros = micros
        .as_primitive_opt::<TimestampMicrosecondType>()
        .ok_or_else(|| format!("{name}: times are not µs"))?;
    Ok((0..micros.len()).map(|r| micros.value(r)).collect())
}

/// The spine's columns a read takes (the entity keys and request fields), cast to the
/// types the store reads them as.
fn read_rows(project: &Project, spine: &RecordBatch) -> Result<RecordBatch, String> {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    let declared = project
        .entities
        .iter()
        .flat_map(|e| &e.keys)
        .chain(project.requests.iter().flat_map(|r| &r.fields));
    for c in declared {
        if fields.iter().any(|f: &Field| f.name() == &c.name) {
            continue;
        }
        let Some(column) = spine.column_by_name(&c.name) else {
            continue;
        };
        let ty = arrow_type(c.ty);
        let column = cast(column, &ty).map_err(|e| format!("spine `{}`: {e}", c.name))?;
        fields.push(Field::new(&c.name, ty, true));
        columns.push(column);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| e.to_string())
}

/// How a case is served: in memory, reading each spine row once every event at or
/// before it was pushed; or durable, reading some rows early (before events at or
/// before their time were pushed), which the audit explains from the store's
/// archive and its log positions (`arrived_after_read`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Serving {
    Settled,
    Early,
}

fn served_and_audited(case: &GenCase, serving: Serving) -> Result<(), String> {
    let (project, ids) = compile(case)?;
    // A case whose computation fails (an integer sum overflowing) serves nothing.
    if reference(&project, &ids, case).is_err() {
        return Ok(());
    }
    let (_, graph) =
        featc::lower::stream::serving_graph(&project, &[]).map_err(|e| e.to_string())?;
    // Both properties run at once, on cases of the same seeds: a folder per property
    // (its cases run one after another, each emptying it first).
    let mode = match serving {
        Serving::Settled => "settled",
        Serving::Early => "early",
    };
    let work = featc_test_support::scratch::fresh_dir(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("served_audit")
            .join(mode),
    );
    let (dir, state) = (work.join("served"), work.join("state"));
    let durable = (serving == Serving::Early).then_some(state.as_path());
    let mut store =
        EmbeddedStore::open(graph, Options::default(), durable).map_err(|e| e.to_string())?;
    // Early reads come up to this long before the events at or before them.
    let early = match serving {
        Serving::Settled => 0,
        Serving::Early => (case.replay.seed % 7200) as i64 * 1_000_000,
    };
    let meanings =
        featc::diff::fingerprint::served_log_metadata(&project).map_err(|e| e.to_string())?;
    store
        .log_served(&dir, 1 << 30, &meanings)
        .map_err(|e| e.to_string())?;
    let features: Vec<usize> = case
        .features
        .iter()
        .map(|n| {
            store
                .names()
                .features
                .iter()
                .position(|f| f.name == *n)
                .ok_or_else(|| format!("the store has no feature {n}"))
        })
        .collect::<Result<_, _>>()?;

    // Every source's events in time order (source, row, time): of the sources the
    // store reads (the features' own).
    let batches: Vec<(String, RecordBatch)> = project
        .sources
        .iter()
        .filter(|s| store.names().sources.iter().any(|n| n.name == s.name))
        .map(|s| {
            let b = match s.name.as_str() {
                "clicks" => &case.clicks,
                "taps" => &case.taps,
                _ => &case.events,
            };
            (s.name.clone(), b.clone())
        })
        .collect();
    let mut order: Vec<(i64, usize, usize)> = Vec::new();
    for (s, (name, batch)) in batches.iter().enumerate() {
        for (r, t) in times(&project, name, batch)?.into_iter().enumerate() {
            order.push((t, s, r));
        }
    }
    order.sort_unstable();
    let spine_ts = case.spine.column_by_name("ts").ok_or("no spine time")?;
    let spine_ts = to_micros_in(spine_ts, None).map_err(|e| format!("spine: {e:?}"))?;
    let spine_ts = spine_ts
        .as_primitive_opt::<TimestampMicrosecondType>()
        .ok_or("spine times")?
        .clone();
    let mut spine_order: Vec<usize> = (0..case.spine.num_rows()).collect();
    spine_order.sort_by_key(|&r| (spine_ts.value(r), r));
    let rows = read_rows(&project, &case.spine)?;

    let mut next = 0;
    let mut pos = 0;
    let read_until = |store: &EmbeddedStore, next: &mut usize, before: i64| -> Result<(), String> {
        while let Some(&r) = spine_order.get(*next) {
            let t = spine_ts.value(r);
            if t >= before {
                break;
            }
            store
                .read_table(features.clone(), &rows.slice(r, 1), ReadAt::Micros(t))
                .map_err(|e| format!("read of spine row {r} at {t}: {e}"))?;
            *next += 1;
        }
        Ok(())
    };
    let size = case.replay.batch_size.max(1);
    while pos < order.len() {
        read_until(&store, &mut next, order[pos].0.saturating_add(early))?;
        // A run of one source's events, none after the next spine row's time.
        let limit = spine_order
            .get(next)
            .map_or(i64::MAX, |&r| spine_ts.value(r));
        let source = order[pos].1;
        let mut end = pos;
        while end < order.len()
            && end - pos < size
            && order[end].1 == source
            && (end == pos || order[end].0 <= limit)
        {
            end += 1;
        }
        let (name, batch) = &batches[source];
        let picked = datafusion::arrow::array::UInt32Array::from_iter_values(
            order[pos..end].iter().map(|&(_, _, r)| r as u32),
        );
        let chunk = datafusion::arrow::compute::take_record_batch(batch, &picked)
            .map_err(|e| e.to_string())?;
        store
            .push(name, &chunk, None)
            .map_err(|e| format!("push of {name}: {e}"))?;
        pos = end;
    }
    read_until(&store, &mut next, i64::MAX)?;
    store.close().map_err(|e| e.to_string())?;

    let mut inputs = Inputs::default();
    for (name, batch) in &batches {
        inputs.tables.insert(
            name.clone(),
            MemoryTable::new(batch.schema(), vec![batch.clone()]),
        );
    }
    let audit = Audit {
        project: &project,
        served: dir.clone(),
        inputs,
        resources: Resources {
            partitions: Some(1 + (case.replay.seed % 2) as usize),
            memory_limit: None,
            ..Resources::default()
        },
        sample: None,
        chunk_rows: 1 + case.replay.seed % 50,
        dead_letters: Vec::new(),
        acknowledged: durable.map(acknowledged).transpose()?,
    };
    let report = featc_test_support::runtime::runtime()
        .block_on(audit.run(&|_, _| {}))
        .map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&work);
    if report.cells.unexplained > 0 || report.audited_reads != case.spine.num_rows() as u64 {
        return Err(format!(
            "audit of the served reads: {}\n{}",
            report.text(),
            case.feat
        ));
    }
    Ok(())
}

/// The history as the store in `state` acknowledged it.
fn acknowledged(state: &std::path::Path) -> Result<Acknowledged, String> {
    use featc_server::durable::{archive, checkpoint};
    let header = checkpoint::read_header(state)
        .map_err(|e| e.to_string())?
        .ok_or("no checkpoint")?;
    Ok(Acknowledged {
        archive: archive::folders(state).map_err(|e| e.to_string())?,
        bootstrapped: header.bootstrapped,
        from: archive::from(state).map_err(|e| e.to_string())?,
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn what_the_store_served_audits_equal_or_explained(case in case_strategy()) {
        if let Err(e) = served_and_audited(&case, Serving::Settled) {
            return Err(TestCaseError::fail(e));
        }
    }

    #[test]
    fn reads_before_their_events_arrived_are_explained_from_the_durable_stores_archive(case in case_strategy()) {
        if let Err(e) = served_and_audited(&case, Serving::Early) {
            return Err(TestCaseError::fail(e));
        }
    }
}
