//! The reference interpreter: a deliberately naive evaluator of a project, written
//! from docs/semantics.md alone, that the batch and streaming paths are tested against.
//!
//! For every spine row it takes that entity's events, keeps those in the feature's
//! window (`t - W < ts <= t`), and folds them from scratch with its own exact
//! arithmetic (`exact.rs`, `round.rs`). It shares no code with the batch executor,
//! the streaming executor, the aggregation algebra or the window state on purpose:
//! an oracle that reused them would agree with their bugs. It is slow (quadratic in
//! the events of one entity); it is only meant for tests and small data.

mod aggregate;
mod decimal;
mod derived;
mod error;
mod eval;
mod eval_error;
mod exact;
mod functions;
mod lists;
mod lookup;
mod output;
mod paths;
mod read;
mod round;
mod table;
mod value;
mod view;
mod window;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

pub use error::ReferenceError;
pub use eval_error::EvalError;

use aggregate::aggregate;
use output::{arrow_type, to_array};
use read::{read_column, ColumnSpec};
use table::read_table;
use value::{key_of, RValue};
use view::{prepare_view, PreparedView};
use window::{fresh, in_window_with, latest_events};

use crate::ir::{FeatureId, Project, Source};

/// The spine a training set is computed for: its batches (in order) and the name of
/// its time column. Its entity key columns are named like the entities' keys.
#[derive(Debug, Clone, Copy)]
pub struct SpineInput<'a> {
    pub batches: &'a [RecordBatch],
    pub time_column: &'a str,
}

/// What the interpreter counted besides the values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferenceReport {
    /// Per view name (of the requested features): rows with a null entity key, which
    /// are not aggregated (semantics.md "Row transforms").
    pub null_keys: Vec<(String, usize)>,
}

/// The training set of `features` over `spine`: the spine's columns unchanged and in
/// order, then one column per requested feature (named by the feature, in the order
/// requested), each evaluated at the spine row's time. `sources` holds each source's
/// events by source name; only the sources of requested features are read.
pub fn evaluate(
    project: &Project,
    features: &[FeatureId],
    sources: &HashMap<String, Vec<RecordBatch>>,
    spine: SpineInput<'_>,
) -> Result<RecordBatch, ReferenceError> {
    evaluate_with_report(project, features, sources, spine).map(|(batch, _)| batch)
}

/// `evaluate`, also returning what was counted on the way.
pub fn evaluate_with_report(
    project: &Project,
    features: &[FeatureId],
    sources: &HashMap<String, Vec<RecordBatch>>,
    spine: SpineInput<'_>,
) -> Result<(RecordBatch, ReferenceReport), ReferenceError> {
    for id in features {
        let known = match *id {
            FeatureId::View { view, feature } => project
                .views
                .get(view)
                .is_some_and(|v| feature < v.features.len()),
            FeatureId::Service { service, feature } => project
                .services
                .get(service)
                .is_some_and(|s| feature < s.own.len()),
        };
        if !known {
            return Err(ReferenceError::UnknownFeature(format!("{id:?}")));
        }
    }
    let schema = spine
        .batches
        .first()
        .map(|b| b.schema())
        .ok_or(ReferenceError::EmptySpine)?;
    let spine_batch =
        concat_batches(&schema, spine.batches).map_err(|e| ReferenceError::Arrow(e.to_string()))?;
    let times = read_spine_times(spine.batches, spine.time_column)?;

    // Every aggregation the requested features need (derived ones through what they
    // read), grouped by view; each view is prepared once for all its features.
    let aggregations = project.aggregations_of(features);
    let mut view_order: Vec<usize> = aggregations.iter().filter_map(|id| id.view()).collect();
    view_order.sort_unstable();
    view_order.dedup();
    let mut prepared: HashMap<usize, (PreparedView, Vec<usize>)> = HashMap::new();
    let mut report = ReferenceReport::default();
    // An expression failing on an event of any view's source: the earliest by time,
    // then by source name (semantics.md, "Errors while computing").
    let mut failed_event: Option<ReferenceError> = None;
    for &v in &view_order {
        let wanted: Vec<usize> = {
            let mut f: Vec<usize> = aggregations
                .iter()
                .filter_map(|id| match *id {
                    FeatureId::View { view, feature } if view == v => Some(feature),
                    _ => None,
                })
                .collect();
            f.sort_unstable();
            f.dedup();
            f
        };
        let p = match prepare(project, v, &wanted, sources) {
            Ok(p) => p,
            Err(error @ ReferenceError::Eval { .. }) => {
                if failed_event
                    .as_ref()
                    .is_none_or(|f| event_place(&error) < event_place(f))
                {
                    failed_event = Some(error);
                }
                continue;
            }
            Err(error) => return Err(error),
        };
        report
            .null_keys
            .push((project.views[v].name.clone(), p.null_keys));
        prepared.insert(v, (p, wanted));
    }

    if let Some(error) = failed_event {
        return Err(error);
    }

    // The entity key of every spine row, per view.
    let mut spine_keys: HashMap<usize, Vec<Option<Vec<value::KeyPart>>>> = HashMap::new();
    for &v in &view_order {
        spine_keys.insert(v, read_spine_keys(project, v, spine.batches)?);
    }

    let mut values: HashMap<FeatureId, Vec<RValue>> = HashMap::new();
    // The run's first failing aggregation, by (time, spine row, feature name)
    // (semantics.md, "Errors while computing"): every one is tried.
    let mut failed: Option<((i64, usize, String), ReferenceError)> = None;
    for id in &aggregations {
        let (
            FeatureId::View {
                view: v,
                feature: f,
            },
            Some(agg),
        ) = (*id, project.feature(*id).aggregate())
        else {
            continue;
        };
        let feature = project.feature(*id);
        let view = &project.views[v];
        let (p, wanted) = &prepared[&v];
        let slot = wanted.iter().position(|&w| w == f).unwrap_or(0);
        let keys = &spine_keys[&v];
        let mut column = Vec::with_capacity(times.len());
        // A source's `delay`: a read at `t` sees only the events at or before
        // `t - delay` (semantics.md, "Source delay").
        let delay = project.sources.get(view.source.0).map_or(0, |s| s.delay_us);
        for (spine_row, (&t, key)) in times.iter().zip(keys).enumerate() {
            let rows = key
                .as_ref()
                .and_then(|k| p.by_key.get(k))
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let visible = |ts: i64| i128::from(ts) <= i128::from(t) - i128::from(delay);
            if let Some(ttl) = view.ttl_us {
                if !fresh(rows.iter().map(|r| r.ts).filter(|&ts| visible(ts)), t, ttl) {
                    column.push(RValue::Null);
                    continue;
                }
            }
            let mut window: Vec<(i64, &RValue)> = rows
                .iter()
                .filter(|r| visible(r.ts))
                .filter(|r| {
                    in_window_with(r.ts, t, agg.window_us, agg.offset_us, agg.exclusive_end)
                })
                .filter_map(|r| r.values[slot].as_ref().map(|v| (r.ts, v)))
                .collect();
            if let Some(n) = agg.events {
                window = latest_events(window, n);
            }
            match aggregate(agg.agg, feature.ty, &window) {
                Ok(value) => column.push(value),
                Err(message) => {
                    let place = (t, spine_row, feature.name.clone());
                    if failed.as_ref().is_none_or(|(first, _)| place < *first) {
                        let error = ReferenceError::Aggregate {
                            feature: feature.name.clone(),
                            spine_row,
                            message,
                        };
                        failed = Some((place, error));
                    }
                    column.push(RValue::Null);
                }
            }
        }
        values.insert(*id, column);
    }
    if let Some((_, error)) = failed {
        return Err(error);
    }

    let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
    let mut columns = spine_batch.columns().to_vec();
    for id in features {
        let feature = project.feature(*id);
        let column = match values.get(id) {
            Some(column) => column.clone(),
            None => derived::evaluate(project, *id, spine.batches, times.len(), &mut values)?,
        };
        columns.push(to_array(&feature.name, feature.ty, &column)?);
        fields.push(Arc::new(Field::new(
            &feature.name,
            arrow_type(feature.ty),
            true,
        )));
    }
    let out_schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let batch = RecordBatch::try_new(out_schema, columns)
        .map_err(|e| ReferenceError::Arrow(e.to_string()))?;
    Ok((batch, report))
}

/// Reads the view's source (only the columns the requested features need) and
/// prepares its rows.
fn prepare(
    project: &Project,
    v: usize,
    wanted: &[usize],
    sources: &HashMap<String, Vec<RecordBatch>>,
) -> Result<PreparedView, ReferenceError> {
    let view = &project.views[v];
    // The columns the `where`, the features and the lets they use read; a lookup
    // read reads its key columns (an unread lookup is never computed).
    let mut needed: BTreeSet<String> = view.key_columns.iter().cloned().collect();
    needed.extend(view.names_read(wanted));
    let keys: Vec<String> = (view.lookups.iter())
        .filter(|l| needed.contains(&l.column))
        .flat_map(|l| l.keys.iter().cloned())
        .collect();
    needed.extend(keys);
    // Over several sources, each one's rows prepared alone, then put together; the
    // earliest failing event of any of them (by time, then source name) is the error.
    let members: Vec<&Source> = view.sources().map(|s| &project.sources[s.0]).collect();
    let mut union: Option<PreparedView> = None;
    let mut failed: Option<ReferenceError> = None;
    for source in &members {
        let batches = sources
            .get(&source.name)
            .ok_or_else(|| ReferenceError::MissingSource {
                source: source.name.clone(),
            })?;
        let mut table = read_table(source, batches, &needed)?.with_union_columns(source, &members);
        for lookup in view.lookups.iter().filter(|l| needed.contains(&l.column)) {
            let values = lookup::lookup_values(project, lookup, &table, sources)?;
            table.columns.insert(lookup.column.clone(), values);
        }
        match prepare_view(view, &source.name, &table, wanted) {
            Ok(p) => match &mut union {
                None => union = Some(p),
                Some(u) => u.absorb(p),
            },
            Err(error @ ReferenceError::Eval { .. }) => {
                if failed
                    .as_ref()
                    .is_none_or(|f| event_place(&error) < event_place(f))
                {
                    failed = Some(error);
                }
            }
            Err(error) => return Err(error),
        }
    }
    match (failed, union) {
        (Some(error), _) => Err(error),
        (None, Some(u)) => Ok(u),
        (None, None) => Err(ReferenceError::MissingSource {
            source: view.name.clone(),
        }),
    }
}

/// Where a failing event is, to name the earliest: its time, then its source.
fn event_place(e: &ReferenceError) -> (i64, String) {
    match e {
        ReferenceError::Eval { at, source, .. } => (at.unwrap_or(i64::MAX), source.clone()),
        _ => (i64::MAX, String::new()),
    }
}

fn read_spine_times(
    batches: &[RecordBatch],
    time_column: &str,
) -> Result<Vec<i64>, ReferenceError> {
    let spec = ColumnSpec {
        table: "spine",
        column: time_column,
        ty: crate::ir::DataType::Timestamp,
        nullable: false,
        integer_times: None,
    };
    Ok(read_column(batches, &spec)?
        .into_iter()
        .map(|v| match v {
            RValue::Ts(t) => t,
            // read_column refuses nulls here and only yields Ts for timestamps.
            _ => i64::MIN,
        })
        .collect())
}

/// The key of view `v`'s entity for every spine row (`None` when a part is null:
/// such a row matches no event and gets the empty values).
fn read_spine_keys(
    project: &Project,
    v: usize,
    batches: &[RecordBatch],
) -> Result<Vec<Option<Vec<value::KeyPart>>>, ReferenceError> {
    let entity = &project.entities[project.views[v].entity.0];
    let mut columns = Vec::new();
    for key in &entity.keys {
        let spec = ColumnSpec {
            table: "spine",
            column: &key.name,
            ty: key.ty,
            nullable: true,
            integer_times: None,
        };
        columns.push(read_column(batches, &spec)?);
    }
    let rows = batches.iter().map(|b| b.num_rows()).sum::<usize>();
    Ok((0..rows)
        .map(|r| key_of(&columns.iter().map(|c| c[r].clone()).collect::<Vec<_>>()))
        .collect())
}
