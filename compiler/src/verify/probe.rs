//! A spine of probe times around the events: for each event (or a sample of them)
//! of a view the features read (of each of its sources, for a view over several), its entity asked at the event's time plus every
//! duration a feature's answer turns on (each window, offset, window plus offset,
//! ttl and source delay), each exactly and one microsecond either side. A window's
//! both ends (`t - W` and `t`) therefore land on events. A few rows ask for a key no
//! event has, and for a time before every event (empty windows).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{Field, Schema, TimestampMicrosecondType};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::scalar::ScalarValue;
use featc_runtime::row::types::{arrow_type, timestamp_type};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

use super::values;
use crate::ir::{FeatureId, FeatureKind, Project, Source, View};

/// A view's entity asked about: its key values and an event time.
struct Anchor {
    entity: usize,
    keys: Vec<ScalarValue>,
    time: i64,
}

/// `features` and, after them, the aggregations their views look up (as-of lookups,
/// semantics.md "As-of lookups"), transitively: what a case's events exercise (the
/// looked-up views' sources, keys and windows). `features` alone for a project
/// without lookups.
pub fn with_lookups(project: &Project, features: &[FeatureId]) -> Vec<FeatureId> {
    let mut out = features.to_vec();
    let mut aggregations = project.aggregations_of(features);
    let mut views_seen = HashSet::new();
    let mut next = 0;
    // The views seen stop a cycle of a hand-made project (check refuses them).
    while let Some(&id) = aggregations.get(next) {
        next += 1;
        let Some(v) = id.view() else { continue };
        if !views_seen.insert(v) {
            continue;
        }
        for lookup in project.views.get(v).into_iter().flat_map(|v| &v.lookups) {
            for a in project.aggregations_of(&[lookup.feature]) {
                if !out.contains(&a) {
                    out.push(a);
                    aggregations.push(a);
                }
            }
        }
    }
    out
}

/// Every duration a requested feature's value turns on at a probe time.
pub fn durations(project: &Project, features: &[FeatureId]) -> Vec<i64> {
    let mut out: HashSet<i64> = HashSet::from([0]);
    for id in project.aggregations_of(features) {
        let (Some(view), FeatureKind::Aggregate(a)) = (
            id.view().and_then(|v| project.views.get(v)),
            &project.feature(id).kind,
        ) else {
            continue;
        };
        out.insert(a.offset_us);
        if let Some(w) = a.window_us {
            out.insert(w);
            out.insert(w.saturating_add(a.offset_us));
        }
        if let Some(ttl) = view.ttl_us {
            out.insert(ttl);
        }
        // One delay for all of a view's sources (E0052), each taken regardless.
        for s in view.sources() {
            if let Some(source) = project.sources.get(s.0) {
                out.insert(source.delay_us);
            }
        }
    }
    let mut out: Vec<i64> = out.into_iter().collect();
    out.sort_unstable();
    out
}

/// A spine of at most about `max_rows` probe rows over `sources` (each source's
/// events with its declared columns), its time in column `time_column`.
pub fn probe_spine(
    project: &Project,
    features: &[FeatureId],
    sources: &[(String, Vec<RecordBatch>)],
    time_column: &str,
    max_rows: usize,
    rng: &mut StdRng,
) -> Result<RecordBatch, String> {
    let anchors = anchors(project, features, sources)?;
    let offsets: Vec<i64> = durations(project, features)
        .into_iter()
        .flat_map(|d| [d - 1, d, d + 1])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Which anchors to probe: all of them when they fit, else a uniform sample.
    let per_anchor = offsets.len().max(1);
    let mut chosen: Vec<usize> = (0..anchors.len()).collect();
    if anchors.len() * per_anchor > max_rows {
        chosen.shuffle(rng);
        chosen.truncate((max_rows / per_anchor).max(1));
    }
    let mut rows: Vec<(usize, i64)> = chosen
        .iter()
        .flat_map(|&a| offsets.iter().map(move |d| (a, d)))
        .map(|(a, d)| (a, anchors[a].time.saturating_add(*d)))
        .collect();
    let entities = spine_entities(project, features);
    // Each entity slot's anchors, found once.
    let by_slot: Vec<Vec<usize>> = entities
        .iter()
        .map(|&e| {
            (0..anchors.len())
                .filter(|&a| anchors[a].entity == e)
                .collect()
        })
        .collect();
    let earliest = anchors.iter().map(|a| a.time).min().unwrap_or(0);
    let latest = anchors.iter().map(|a| a.time).max().unwrap_or(0);
    rows.shuffle(rng);
    let mut columns = SpineColumns::new(project, features, &entities, by_slot);
    for (a, time) in rows {
        columns.push_anchor(&anchors, a, time, rng, earliest, latest)?;
    }
    // Per entity, a key no event has, and its first anchor's key before any event:
    // empty windows.
    for slot in 0..entities.len() {
        if let Some(first) = columns.by_slot[slot].first().copied() {
            columns.push_unseen(slot, &anchors[first].keys, latest, rng, earliest)?;
            columns.push_anchor(&anchors, first, earliest - 1, rng, earliest, latest)?;
        }
    }
    columns.finish(time_column)
}

/// The spine columns naming the entities the features read (`spine_keys` without
/// the request fields).
pub fn entity_key_columns(project: &Project, features: &[FeatureId]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in spine_entities(project, features) {
        for k in &project.entities[e].keys {
            if !out.contains(&k.name) {
                out.push(k.name.clone());
            }
        }
    }
    out
}

/// The entities whose keys the spine holds, in `spine_keys` order.
fn spine_entities(project: &Project, features: &[FeatureId]) -> Vec<usize> {
    let mut out = Vec::new();
    for id in project.aggregations_of(features) {
        if let Some(view) = id.view().and_then(|v| project.views.get(v)) {
            if !out.contains(&view.entity.0) {
                out.push(view.entity.0);
            }
        }
    }
    out
}

/// Each event of each view's sources, with the view's key values.
fn anchors(
    project: &Project,
    features: &[FeatureId],
    sources: &[(String, Vec<RecordBatch>)],
) -> Result<Vec<Anchor>, String> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for id in project.aggregations_of(features) {
        let Some(view) = id.view().and_then(|v| project.views.get(v)) else {
            continue;
        };
        for s in view.sources() {
            if !seen.insert((s.0, view.key_columns.clone())) {
                continue;
            }
            let Some(source) = project.sources.get(s.0) else {
                continue;
            };
            let Some((_, batches)) = sources.iter().find(|(n, _)| *n == source.name) else {
                continue;
            };
            source_anchors(view, source, batches, &mut out)?;
        }
    }
    Ok(out)
}

/// Each event of `source` (one of `view`'s), with the view's key values.
fn source_anchors(
    view: &View,
    source: &Source,
    batches: &[RecordBatch],
    out: &mut Vec<Anchor>,
) -> Result<(), String> {
    for batch in batches {
        let time = column(batch, &source.time_column)?;
        let time = cast(&time, &timestamp_type()).map_err(|e| e.to_string())?;
        let time = time.as_primitive::<TimestampMicrosecondType>();
        let keys = view
            .key_columns
            .iter()
            .map(|k| column(batch, k))
            .collect::<Result<Vec<_>, _>>()?;
        for r in 0..batch.num_rows() {
            if time.is_null(r) {
                continue;
            }
            let keys = keys
                .iter()
                .map(|k| ScalarValue::try_from_array(k, r).map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(Anchor {
                entity: view.entity.0,
                keys,
                time: time.value(r),
            });
        }
    }
    Ok(())
}

fn column(batch: &RecordBatch, name: &str) -> Result<ArrayRef, String> {
    batch
        .column_by_name(name)
        .cloned()
        .ok_or_else(|| format!("the events have no column `{name}`"))
}

/// The spine's columns as they are filled: each entity's keys, the request fields,
/// the time.
struct SpineColumns {
    /// Per entity slot, per key column: name, Arrow type and values.
    keys: Vec<
        Vec<(
            String,
            datafusion::arrow::datatypes::DataType,
            Vec<ScalarValue>,
        )>,
    >,
    entities: Vec<usize>,
    /// Per entity slot, the indices of its anchors.
    by_slot: Vec<Vec<usize>>,
    /// Request fields: name, type, nullability, values.
    fields: Vec<(String, crate::ir::DataType, bool, Vec<values::CaseValue>)>,
    times: Vec<i64>,
}

impl SpineColumns {
    fn new(
        project: &Project,
        features: &[FeatureId],
        entities: &[usize],
        by_slot: Vec<Vec<usize>>,
    ) -> SpineColumns {
        let keys: Vec<_> = entities
            .iter()
            .map(|&e| {
                project.entities[e]
                    .keys
                    .iter()
                    .map(|k| (k.name.clone(), arrow_type(k.ty), Vec::new()))
                    .collect()
            })
            .collect();
        let key_names: HashSet<String> =
            entity_key_columns(project, features).into_iter().collect();
        // A request field is nullable when any request declaring a field of that
        // name says so (the spine has one column per name).
        let nullable = |name: &str| {
            project
                .requests
                .iter()
                .flat_map(|r| &r.fields)
                .any(|f| f.name == name && f.nullable)
        };
        let fields = featc_runtime::io::spine_keys(project, features)
            .into_iter()
            .filter(|(name, _)| !key_names.contains(name))
            .map(|(name, ty)| {
                let nullable = nullable(&name);
                (name, ty, nullable, Vec::new())
            })
            .collect();
        SpineColumns {
            keys,
            entities: entities.to_vec(),
            by_slot,
            fields,
            times: Vec::new(),
        }
    }

    /// A row for anchor `a` at `time`; the other entities' keys from random anchors
    /// of theirs, the request fields random.
    fn push_anchor(
        &mut self,
        anchors: &[Anchor],
        a: usize,
        time: i64,
        rng: &mut StdRng,
        earliest: i64,
        latest: i64,
    ) -> Result<(), String> {
        for slot in 0..self.entities.len() {
            let keys = if anchors[a].entity == self.entities[slot] {
                Some(anchors[a].keys.clone())
            } else {
                let of = &self.by_slot[slot];
                (!of.is_empty()).then(|| anchors[of[rng.random_range(0..of.len())]].keys.clone())
            };
            self.push_keys(slot, keys)?;
        }
        self.push_fields(rng, earliest, latest);
        self.times.push(time);
        Ok(())
    }

    /// A row asking entity `slot` for a key none of its events has.
    fn push_unseen(
        &mut self,
        slot: usize,
        like: &[ScalarValue],
        time: i64,
        rng: &mut StdRng,
        earliest: i64,
    ) -> Result<(), String> {
        let unseen: Vec<ScalarValue> = like
            .iter()
            .map(|k| match k {
                ScalarValue::Int64(_) => ScalarValue::Int64(Some(-987_654_321)),
                ScalarValue::Utf8(_) => ScalarValue::Utf8(Some("featc-verify: no such key".into())),
                ScalarValue::LargeUtf8(_) => {
                    ScalarValue::LargeUtf8(Some("featc-verify: no such key".into()))
                }
                ScalarValue::Utf8View(_) => {
                    ScalarValue::Utf8View(Some("featc-verify: no such key".into()))
                }
                other => other.clone(),
            })
            .collect();
        for s in 0..self.entities.len() {
            let keys = if s == slot {
                Some(unseen.clone())
            } else {
                None
            };
            self.push_keys(s, keys)?;
        }
        self.push_fields(rng, earliest, time);
        self.times.push(time);
        Ok(())
    }

    fn push_keys(&mut self, slot: usize, keys: Option<Vec<ScalarValue>>) -> Result<(), String> {
        for (i, (_, ty, values)) in self.keys[slot].iter_mut().enumerate() {
            let value = match keys.as_ref().and_then(|k| k.get(i)) {
                Some(v) => v.cast_to(ty).map_err(|e| e.to_string())?,
                None => ScalarValue::try_from(&*ty).map_err(|e| e.to_string())?,
            };
            values.push(value);
        }
        Ok(())
    }

    fn push_fields(&mut self, rng: &mut StdRng, earliest: i64, latest: i64) {
        let span = (latest - earliest).max(1);
        for (_, ty, nullable, values) in &mut self.fields {
            values.push(values::value(*ty, *nullable, rng, earliest, span));
        }
    }

    fn finish(self, time_column: &str) -> Result<RecordBatch, String> {
        let mut fields = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        let mut seen = HashSet::new();
        for (name, ty, values) in self.keys.into_iter().flatten() {
            // Two entities may share a key column name; the first one's values stay.
            if !seen.insert(name.clone()) {
                continue;
            }
            let array = if values.is_empty() {
                datafusion::arrow::array::new_empty_array(&ty)
            } else {
                ScalarValue::iter_to_array(values).map_err(|e| e.to_string())?
            };
            fields.push(Field::new(&name, ty, true));
            columns.push(array);
        }
        for (name, ty, nullable, values) in self.fields {
            let arrow = arrow_type(ty);
            columns.push(values::column(ty, &values, &arrow).map_err(|e| e.to_string())?);
            fields.push(Field::new(&name, arrow, nullable));
        }
        let times: Vec<values::CaseValue> = self
            .times
            .into_iter()
            .map(values::CaseValue::Time)
            .collect();
        columns.push(
            values::column(crate::ir::DataType::Timestamp, &times, &timestamp_type())
                .map_err(|e| e.to_string())?,
        );
        fields.push(Field::new(time_column, timestamp_type(), false));
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| e.to_string())
    }
}
