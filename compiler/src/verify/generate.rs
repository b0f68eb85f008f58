//! Cases generated from the project's own schemas: for each source the features
//! read (each source of a view over several: the case exercises their union), a few
//! dozen events with its declared columns, on a time grid fine enough
//! that events fall exactly a window (offset, ttl, delay) apart and tie with each
//! other (at a count window's cut too: a key can hold more events than its `N`);
//! a few keys that repeat and one seen once; nulls in every nullable column;
//! the float and string values semantics.md has rules for (`values`). A struct or map
//! column is drawn whole, as an Arrow `Struct` or `Map` named as declared, with the
//! nulls, lists, missing and repeated keys semantics.md has rules for (`nested`): the
//! case holds none of its flat path columns (`address.city`), so every path reads
//! them out itself (the SQL, which reads no path, gets them flat: `executor::flat`).
//! The spine is a probe spine around them (`probe`), so windows are asked at both
//! ends.
//!
//! A view's as-of lookups (semantics.md "As-of lookups") bring in the looked-up
//! views' sources, keys and windows (`probe::with_lookups`); a lookup's key columns
//! draw from the same key pools as the looked-up entity's, so lookups find entities
//! (and, when the other source's pool is smaller, miss some).

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::io::{declared_schema, sources_of};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::dataset::{Dataset, RunSettings};
use super::nested::{nested_columns, Nested};
use super::probe::{durations, probe_spine, with_lookups};
use super::values::{self, CaseValue};
use crate::ir::{Column, FeatureId, Project, Source, View};

/// 2024-01-01T00:00:00Z: where generated times start.
const BASE_US: i64 = 1_704_067_200_000_000;
/// Probe rows per generated case, at most (about).
const SPINE_ROWS: usize = 600;
/// The most keys a source's pool has (each source draws how many it has).
const MAX_KEYS_IN_POOL: u32 = 4;

/// Generated case `index` of a run seeded with `seed`.
pub fn generated_case(
    project: &Project,
    features: &[FeatureId],
    index: usize,
    seed: u64,
    spine_time: &str,
) -> Result<Dataset, String> {
    let mut rng = StdRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    // The events exercise the looked-up features too: their windows, keys, sources.
    let exercised = with_lookups(project, features);
    let grid = Grid::of(&durations(project, &exercised));
    let used = sources_of(project, features);
    let mut sources = Vec::new();
    for source in &used {
        let events = events(project, &exercised, source, &grid, &mut rng)?;
        sources.push((source.name.clone(), vec![events]));
    }
    let lateness = used.iter().map(|s| s.lateness_us).min().unwrap_or(0);
    let settings = RunSettings::draw(&mut rng, lateness);
    let spine = probe_spine(
        project, features, &sources, spine_time, SPINE_ROWS, &mut rng,
    )?;
    Ok(Dataset {
        label: format!("generated case {index}"),
        sources,
        spine,
        spine_time: spine_time.to_string(),
        settings,
    })
}

/// The times events are drawn on: multiples of `step` from `BASE_US`, over `span`.
struct Grid {
    step: i64,
    span: i64,
    durations: Vec<i64>,
}

impl Grid {
    /// A step dividing every duration (their greatest common divisor), so that two
    /// events can be exactly a duration apart; a span of twice the longest.
    fn of(durations: &[i64]) -> Grid {
        let positive: Vec<i64> = durations.iter().copied().filter(|d| *d > 0).collect();
        let step = positive.iter().copied().reduce(gcd).unwrap_or(1_000_000);
        let longest = positive.iter().copied().max().unwrap_or(60_000_000);
        Grid {
            step,
            span: longest.saturating_mul(2).max(step.saturating_mul(8)),
            durations: positive,
        }
    }

    /// A time: on the grid, or a previous time again (a tie), or a previous time
    /// plus a duration (the other end of a window).
    fn time(&self, previous: &[i64], rng: &mut StdRng) -> i64 {
        if !previous.is_empty() && rng.random_bool(0.25) {
            return previous[rng.random_range(0..previous.len())];
        }
        if !previous.is_empty() && !self.durations.is_empty() && rng.random_bool(0.25) {
            let at = previous[rng.random_range(0..previous.len())];
            let d = self.durations[rng.random_range(0..self.durations.len())];
            return at.saturating_add(d);
        }
        let slots = (self.span / self.step).max(1);
        BASE_US + rng.random_range(0..=slots) * self.step
    }
}

/// The largest count window's `N` among the requested features, when at most 100 (a
/// case of many times more events than that would be slow to compare); 0 otherwise.
fn counted_events(project: &Project, features: &[FeatureId]) -> usize {
    project
        .aggregations_of(features)
        .iter()
        .filter_map(|id| project.feature(*id).aggregate().and_then(|a| a.events))
        .filter(|n| *n <= 100)
        .max()
        .unwrap_or(0) as usize
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// A source's events: its declared columns (its struct and map columns whole, not
/// their path columns), its views' key columns from small pools
/// (the key columns of every view reading it, as a later member of several too: the
/// keys of a union's sources are drawn from the same pools, so they meet in a key's
/// state). The key columns of each lookup of those views draw from the same pools,
/// independently of the view's keys (a user pays several merchants), so that they
/// meet the looked-up entity's keys.
fn events(
    project: &Project,
    features: &[FeatureId],
    source: &Source,
    grid: &Grid,
    rng: &mut StdRng,
) -> Result<RecordBatch, String> {
    let views: Vec<&View> = project
        .aggregations_of(features)
        .iter()
        .filter_map(|id| id.view().and_then(|v| project.views.get(v)))
        .filter(|v| {
            v.sources()
                .any(|s| project.sources.get(s.0).map(|s| &s.name) == Some(&source.name))
        })
        .collect();
    let key_columns: Vec<&str> = views
        .iter()
        .flat_map(|v| v.key_columns.iter().map(String::as_str))
        .collect();
    let lookup_keys = lookup_key_groups(&views, source, &key_columns);
    // Enough events that a key can fill its count windows and tie at their cut.
    let rows = rng.random_range(1..=40.max(2 * counted_events(project, features) + 4));
    let keys_in_pool = rng.random_range(1..=MAX_KEYS_IN_POOL);
    // The declared columns are drawn; a path column (`address.city`) is not: its
    // struct or map column is drawn whole (`nested`), and every path reads it out.
    let plain: Vec<&Column> = source.columns.iter().filter(|c| c.path.is_none()).collect();
    let nested = nested_columns(source).map_err(|e| e.to_string())?;
    let mut times = Vec::with_capacity(rows);
    let mut columns: Vec<Vec<CaseValue>> = vec![Vec::with_capacity(rows); plain.len()];
    let mut nested_values: Vec<Vec<CaseValue>> = vec![Vec::with_capacity(rows); nested.len()];
    for row in 0..rows {
        times.push(grid.time(&times, rng));
        // The last event's keys are seen once (unless the pool has one key).
        let once = row + 1 == rows && rows > 1;
        let key = if once {
            1000
        } else {
            rng.random_range(0..keys_in_pool)
        };
        // Each lookup's key from the whole pool: the looked-up source's own pool
        // may be smaller, and a lookup then finds no entity.
        let lookup_key: Vec<u32> = lookup_keys
            .iter()
            .map(|_| {
                if once {
                    1000
                } else {
                    rng.random_range(0..MAX_KEYS_IN_POOL)
                }
            })
            .collect();
        for (c, column) in plain.iter().enumerate() {
            let name = column.name.as_str();
            let key = if key_columns.contains(&name) {
                Some(key)
            } else {
                let group = lookup_keys.iter().position(|g| g.contains(&name));
                group.and_then(|g| lookup_key.get(g).copied())
            };
            let value = if let Some(key) = key {
                if column.nullable && rng.random_bool(0.05) {
                    CaseValue::Null
                } else {
                    values::key(column.ty, key, BASE_US)
                }
            } else {
                values::value(column.ty, column.nullable, rng, BASE_US, grid.span)
            };
            columns[c].push(value);
        }
        for (n, column) in nested.iter().enumerate() {
            nested_values[n].push(column.draw(rng, BASE_US, grid.span));
        }
    }
    // The declared schema's time and declared columns, then the struct and map columns.
    let declared: SchemaRef = declared_schema(source);
    let mut fields: Vec<Field> = declared
        .fields()
        .iter()
        .filter(|f| {
            !source
                .columns
                .iter()
                .any(|c| c.path.is_some() && c.name == *f.name())
        })
        .map(|f| f.as_ref().clone())
        .collect();
    fields.extend(nested.iter().map(Nested::field));
    let schema = Arc::new(Schema::new(fields));
    let mut arrays = Vec::with_capacity(schema.fields().len());
    let times: Vec<CaseValue> = times.into_iter().map(CaseValue::Time).collect();
    arrays.push(
        values::column(
            crate::ir::DataType::Timestamp,
            &times,
            schema.field(0).data_type(),
        )
        .map_err(|e| e.to_string())?,
    );
    for (c, column) in plain.iter().enumerate() {
        arrays.push(
            values::column(column.ty, &columns[c], schema.field(c + 1).data_type())
                .map_err(|e| e.to_string())?,
        );
    }
    for (n, column) in nested.iter().enumerate() {
        arrays.push(
            column
                .column(&nested_values[n])
                .map_err(|e| e.to_string())?,
        );
    }
    RecordBatch::try_new(schema, arrays).map_err(|e| e.to_string())
}

/// The key columns of `source` of each lookup of `views` (each a group of columns
/// drawn from one key of the pool, as a composite key is), those that are a view's
/// key column (`key_columns`) left out: they draw the view's key. Groups sharing a
/// column are one group. None for views without lookups.
fn lookup_key_groups<'v>(
    views: &[&'v View],
    source: &Source,
    key_columns: &[&str],
) -> Vec<Vec<&'v str>> {
    let mut groups: Vec<Vec<&str>> = Vec::new();
    for lookup in views.iter().flat_map(|v| &v.lookups) {
        let mut group: Vec<&str> = lookup
            .keys
            .iter()
            .map(String::as_str)
            .filter(|k| !key_columns.contains(k) && source.columns.iter().any(|c| c.name == *k))
            .collect();
        if group.is_empty() {
            continue;
        }
        // Merge every group sharing a column with this one.
        let mut i = 0;
        while i < groups.len() {
            if groups[i].iter().any(|c| group.contains(c)) {
                for c in groups.remove(i) {
                    if !group.contains(&c) {
                        group.push(c);
                    }
                }
            } else {
                i += 1;
            }
        }
        groups.push(group);
    }
    groups
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use datafusion::arrow::array::AsArray;

    use super::*;
    use crate::SourceFile;

    const LOOKUPS: &str = r#"
source payments { time ts columns { user: string, merchant: string, amount: float64 } }
source reports { time at columns { merchant: string, fraud: bool } }
entity user { key user: string }
entity merchant { key merchant: string }
view merchant_risk from reports by merchant {
  feature fraud_rate_30d = avg(if(fraud, 1.0, 0.0)) over 30d
}
view spend from payments by user {
  let risk = merchant_risk.fraud_rate_30d at merchant
  feature max_risk = max(risk) over 7d
}
"#;

    /// The strings of column `name` of `source`'s events in `dataset`.
    fn strings(dataset: &Dataset, source: &str, name: &str) -> Vec<Option<String>> {
        let (_, batches) = dataset
            .sources
            .iter()
            .find(|(n, _)| n == source)
            .expect("the source");
        let mut out = Vec::new();
        for b in batches {
            let column = b.column_by_name(name).expect("the column");
            let column = column.as_string::<i32>();
            out.extend(column.iter().map(|v| v.map(str::to_string)));
        }
        out
    }

    /// A lookup's key column draws from the looked-up entity's pool: most events find
    /// an entity, some do not; and it is drawn apart from the view's own key.
    #[test]
    fn a_lookups_keys_meet_the_looked_up_entitys() {
        let files = [SourceFile {
            name: "p.feat".into(),
            text: LOOKUPS.into(),
        }];
        let project = crate::compile(&files).expect("compiles");
        let features: Vec<FeatureId> = project.views[1]
            .features
            .iter()
            .enumerate()
            .map(|(feature, _)| FeatureId::View { view: 1, feature })
            .collect();
        let (mut found, mut missed, mut pairs) = (0, 0, HashSet::new());
        for index in 1..=20 {
            let d = generated_case(&project, &features, index, 7, "t").expect("a case");
            let entities: HashSet<Option<String>> =
                strings(&d, "reports", "merchant").into_iter().collect();
            let users = strings(&d, "payments", "user");
            for (user, merchant) in users.into_iter().zip(strings(&d, "payments", "merchant")) {
                if merchant.is_some() && entities.contains(&merchant) {
                    found += 1;
                } else {
                    missed += 1;
                }
                pairs.insert((user, merchant));
            }
        }
        assert!(found > missed, "found {found}, missed {missed}");
        assert!(missed > 0);
        // Not one merchant per user: the keys are drawn apart.
        let users: HashSet<_> = pairs.iter().map(|(u, _)| u.clone()).collect();
        assert!(pairs.len() > users.len() + 2, "{pairs:?}");
    }
}
