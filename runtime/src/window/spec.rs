//! `KeySpec`: what a `KeyState` computes (the features of one (source, key) group)
//! and the cursor plan derived from it, validated once and shared by every key.

use std::fmt;

use super::accumulator::{window_accumulator, WindowAccumulator};
use super::counted::CountedPlan;
use super::layout::RowLayout;
use crate::agg::AggError;
use crate::ir::{AggKind, DataType};
use crate::plan::{FeaturePlan, GroupPlan, TtlRule};

/// Why a set of features was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    /// The executor feeds a different number of input slots than the plan has.
    Slots {
        planned: usize,
        fed: usize,
    },
    InputSlot {
        feature: usize,
        slot: usize,
        n_inputs: usize,
    },
    FilterSlot {
        feature: usize,
        slot: usize,
        n_filters: usize,
    },
    /// `input` is `None` but the aggregation needs an argument, or the reverse.
    Input {
        feature: usize,
    },
    NonPositiveWindow {
        feature: usize,
        window_us: i64,
    },
    NonPositiveTtl {
        feature: usize,
        ttl_us: i64,
    },
    Agg {
        feature: usize,
        error: AggError,
    },
    /// A count window of no events.
    NoEvents {
        feature: usize,
    },
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::Slots { planned, fed } => {
                write!(f, "{fed} input slots fed for a plan of {planned}")
            }
            SpecError::InputSlot {
                feature,
                slot,
                n_inputs,
            } => {
                write!(
                    f,
                    "feature #{feature}: input slot {slot} out of range ({n_inputs} inputs)"
                )
            }
            SpecError::FilterSlot {
                feature,
                slot,
                n_filters,
            } => write!(
                f,
                "feature #{feature}: filter slot {slot} out of range ({n_filters} filters)"
            ),
            SpecError::Input { feature } => {
                write!(
                    f,
                    "feature #{feature}: input must be absent exactly for count(*)"
                )
            }
            SpecError::NonPositiveWindow { feature, window_us } => {
                write!(
                    f,
                    "feature #{feature}: window {window_us}us is not positive"
                )
            }
            SpecError::NonPositiveTtl { feature, ttl_us } => {
                write!(f, "feature #{feature}: ttl {ttl_us}us is not positive")
            }
            SpecError::Agg { feature, error } => write!(f, "feature #{feature}: {error}"),
            SpecError::NoEvents { feature } => {
                write!(f, "feature #{feature}: a count window of 0 events")
            }
        }
    }
}

impl std::error::Error for SpecError {}

/// One accumulated column: a user feature, or a hidden ttl check (a windowed
/// `count(*)` under the view filter; fresh iff non-zero).
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub input: Option<usize>,
    /// The type the feature declares for its input (`None`: `count(*)`).
    pub input_type: Option<DataType>,
    pub filter: Option<usize>,
    pub proto: Box<dyn WindowAccumulator>,
}

/// A column finished from another column's accumulator in the same cursor (see
/// `WindowAccumulator::finish_as`) instead of holding its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Alias {
    /// The serving accumulator's index within the cursor.
    pub host: usize,
    /// The aggregation the column finishes as.
    pub agg: AggKind,
}

/// The accumulators sharing one window length (`None`: lifetime).
///
/// A cursor's outputs are its accumulators (`0..columns.len()`) then its aliases;
/// `KeySpec::place` points every column at one output.
#[derive(Debug, Clone)]
pub(crate) struct CursorPlan {
    pub window_us: Option<i64>,
    /// The cursor is read at `t - shift_us` for a read at `t` (`FeaturePlan::shift_us`).
    pub shift_us: i64,
    /// Column indices, in the order of the cursor's accumulators.
    pub columns: Vec<usize>,
    /// The outputs after the accumulators, each read from one of them.
    pub aliases: Vec<Alias>,
    /// For each accumulator, the cached-finish bits (`cache_bit`) a change to it
    /// invalidates: its own and its aliases'.
    pub clear: Vec<u64>,
}

impl CursorPlan {
    /// Number of outputs (accumulators and aliases).
    pub fn outputs(&self) -> usize {
        self.columns.len() + self.aliases.len()
    }
}

/// Output `j`'s bit in a cursor's 64-bit masks; none past the 64th output.
#[inline]
pub(crate) fn cache_bit(j: usize) -> u64 {
    if j < 64 {
        1 << j
    } else {
        0
    }
}

/// The validated features of one (source, key) group, shared (via `Arc`) by all the
/// `KeyState`s of that group.
///
/// Invariants: every slot is in range, every (agg, input type) is accepted, windows
/// and ttls are positive; columns `0..features.len()` are the features in order,
/// followed by one hidden column per distinct ttl.
#[derive(Debug, Clone)]
pub struct KeySpec {
    pub(crate) features: Vec<FeaturePlan>,
    pub(crate) n_inputs: usize,
    pub(crate) n_filters: usize,
    pub(crate) columns: Vec<Column>,
    /// For each feature, the hidden column of its ttl check.
    pub(crate) ttl_column: Vec<Option<usize>>,
    pub(crate) cursors: Vec<CursorPlan>,
    /// For each column, `(cursor index, output index within the cursor)`; meaningless
    /// for a count window's column (see `counted_of`).
    pub(crate) place: Vec<(usize, usize)>,
    /// The count windows: each a column of its own, outside the cursors.
    pub(crate) counted: Vec<CountedPlan>,
    /// For each feature, its count window's index in `counted`, if it has one.
    pub(crate) counted_of: Vec<Option<usize>>,
    /// Largest window of a cursor (ttls included); `None` when every cursor is
    /// lifetime. Count windows keep their own events and do not count.
    pub(crate) max_window_us: Option<i64>,
    /// Index of the lifetime cursor, if any.
    pub(crate) lifetime_cursor: Option<usize>,
    /// How long the features still depend on an event (`expiry::retention_us`).
    pub(crate) retention_us: Option<i64>,
    /// How each key's event buffer encodes a row.
    pub(crate) layout: RowLayout,
}

/// One cursor per distinct window, and where each column is read. Columns that see
/// the same events (window, input slot, input type, filter) share state: a column
/// identical to an earlier one reads that one's output, and a column another one can
/// finish (`finish_as`: avg serves sum, var_pop and stddev_pop serve both) becomes an
/// alias of it instead of an accumulator. Serving is acyclic and transitive, so the
/// host chosen (one nothing serves) always exists.
/// A count window's column (`counted[c]`) has no cursor: it is no twin, host or alias.
fn plan_cursors(
    columns: &[Column],
    aggs: &[AggKind],
    windows: &[(Option<i64>, i64)],
    counted: &[bool],
) -> (Vec<CursorPlan>, Vec<(usize, usize)>) {
    let n = columns.len();
    let events = |c: usize| {
        let col = &columns[c];
        (windows[c], col.input, col.input_type, col.filter)
    };
    let twin: Vec<Option<usize>> = (0..n)
        .map(|c| {
            (0..c).find(|&h| {
                !counted[h] && !counted[c] && aggs[h] == aggs[c] && events(h) == events(c)
            })
        })
        .collect();
    let serves = |h: usize, c: usize| {
        !counted[h]
            && !counted[c]
            && twin[h].is_none()
            && aggs[h] != aggs[c]
            && events(h) == events(c)
            && columns[h].proto.finish_as(aggs[c]).is_some()
    };
    let host: Vec<Option<usize>> = (0..n)
        .map(|c| match twin[c] {
            Some(_) => None,
            None => (0..n).find(|&h| serves(h, c) && !(0..n).any(|g| serves(g, h))),
        })
        .collect();
    let mut cursors: Vec<CursorPlan> = Vec::new();
    let mut place = vec![(0, 0); n];
    for c in (0..n).filter(|&c| !counted[c] && twin[c].is_none() && host[c].is_none()) {
        let (window_us, shift_us) = windows[c];
        let k = match cursors
            .iter()
            .position(|p| p.window_us == window_us && p.shift_us == shift_us)
        {
            Some(k) => k,
            None => {
                cursors.push(CursorPlan {
                    window_us,
                    shift_us,
                    columns: Vec::new(),
                    aliases: Vec::new(),
                    clear: Vec::new(),
                });
                cursors.len() - 1
            }
        };
        place[c] = (k, cursors[k].columns.len());
        cursors[k].columns.push(c);
    }
    for c in 0..n {
        if let Some(h) = host[c] {
            let (k, j) = place[h];
            let p = &mut cursors[k];
            place[c] = (k, p.outputs());
            p.aliases.push(Alias {
                host: j,
                agg: aggs[c],
            });
        }
    }
    for c in 0..n {
        if let Some(t) = twin[c] {
            place[c] = place[t];
        }
    }
    for p in &mut cursors {
        p.clear = (0..p.columns.len()).map(cache_bit).collect();
        for (a, alias) in p.aliases.iter().enumerate() {
            p.clear[alias.host] |= cache_bit(p.columns.len() + a);
        }
    }
    (cursors, place)
}

impl KeySpec {
    /// The window state of `plan`'s features, for an executor feeding input slot `i`
    /// with values of type `fed[i]`: the plan's type, or `int64` where the executor
    /// feeds strings as order-preserving ids (the batch path does).
    pub fn from_plan(plan: &GroupPlan, fed: &[DataType]) -> Result<KeySpec, SpecError> {
        if fed.len() != plan.inputs.len() {
            return Err(SpecError::Slots {
                planned: plan.inputs.len(),
                fed: fed.len(),
            });
        }
        KeySpec::new(plan.features.clone(), fed.to_vec(), plan.filters.len())
    }

    /// Validates `features` for events carrying one value per slot of `slot_types`
    /// (each of that type, or null) and `n_filters` booleans, and plans one cursor
    /// per distinct window length. Only the features' aggregation, slots, window and
    /// ttl are read.
    pub fn new(
        features: Vec<FeaturePlan>,
        slot_types: Vec<DataType>,
        n_filters: usize,
    ) -> Result<KeySpec, SpecError> {
        let n_inputs = slot_types.len();
        let mut columns = Vec::new();
        let mut windows: Vec<(Option<i64>, i64)> = Vec::new();
        for (i, f) in features.iter().enumerate() {
            if f.input.is_none() != (f.agg == AggKind::CountStar) {
                return Err(SpecError::Input { feature: i });
            }
            if let Some(slot) = f.input {
                if slot >= n_inputs {
                    return Err(SpecError::InputSlot {
                        feature: i,
                        slot,
                        n_inputs,
                    });
                }
            }
            if let Some(slot) = f.filter {
                if slot >= n_filters {
                    return Err(SpecError::FilterSlot {
                        feature: i,
                        slot,
                        n_filters,
                    });
                }
            }
            if let Some(w) = f.window_us {
                if w <= 0 {
                    return Err(SpecError::NonPositiveWindow {
                        feature: i,
                        window_us: w,
                    });
                }
            }
            if let Some(t) = f.ttl {
                if t.ttl_us <= 0 {
                    return Err(SpecError::NonPositiveTtl {
                        feature: i,
                        ttl_us: t.ttl_us,
                    });
                }
                if let Some(slot) = t.filter {
                    if slot >= n_filters {
                        return Err(SpecError::FilterSlot {
                            feature: i,
                            slot,
                            n_filters,
                        });
                    }
                }
            }
            if f.events.is_some_and(|n| n == 0) {
                return Err(SpecError::NoEvents { feature: i });
            }
            let input_type = f.input.map(|slot| slot_types[slot]);
            // A count window evicts too (its cursor slides over its events).
            let windowed = f.window_us.is_some() || f.events.is_some();
            let proto = window_accumulator(f.agg, input_type, windowed)
                .map_err(|error| SpecError::Agg { feature: i, error })?;
            columns.push(Column {
                input: f.input,
                input_type,
                filter: f.filter,
                proto,
            });
            windows.push((f.window_us, f.shift_us));
        }
        let mut ttl_column = Vec::with_capacity(features.len());
        let mut ttls: Vec<(TtlRule, usize)> = Vec::new();
        for (i, f) in features.iter().enumerate() {
            let Some(t) = f.ttl else {
                ttl_column.push(None);
                continue;
            };
            let col = match ttls.iter().find(|(u, _)| *u == t) {
                Some((_, c)) => *c,
                None => {
                    let c = columns.len();
                    let proto = window_accumulator(AggKind::CountStar, None, true)
                        .map_err(|error| SpecError::Agg { feature: i, error })?;
                    columns.push(Column {
                        input: None,
                        input_type: None,
                        filter: t.filter,
                        proto,
                    });
                    windows.push((Some(t.ttl_us), 0));
                    ttls.push((t, c));
                    c
                }
            };
            ttl_column.push(Some(col));
        }
        let aggs: Vec<AggKind> = (0..columns.len())
            .map(|c| features.get(c).map_or(AggKind::CountStar, |f| f.agg))
            .collect();
        let is_counted: Vec<bool> = (0..columns.len())
            .map(|c| features.get(c).is_some_and(|f| f.events.is_some()))
            .collect();
        let (cursors, place) = plan_cursors(&columns, &aggs, &windows, &is_counted);
        let mut counted = Vec::new();
        let counted_of = features
            .iter()
            .enumerate()
            .map(|(c, f)| {
                let n = f.events?;
                counted.push(CountedPlan {
                    column: c,
                    events: n,
                    window_us: f.window_us,
                    shift_us: f.shift_us,
                });
                Some(counted.len() - 1)
            })
            .collect();
        // How far back of a read time any cursor reaches (its shift included).
        let max_window_us = windows
            .iter()
            .zip(&is_counted)
            .filter(|(_, &c)| !c)
            .filter_map(|((w, shift), _)| w.map(|w| w.saturating_add(*shift)))
            .max();
        let lifetime_cursor = cursors.iter().position(|p| p.window_us.is_none());
        // A slot no feature reads is not stored.
        let mut stored: Vec<Option<Option<DataType>>> = vec![None; n_inputs];
        for f in &features {
            if let Some(slot) = f.input {
                stored[slot] = Some(Some(slot_types[slot]));
            }
        }
        let layout = RowLayout::new(&stored, n_filters);
        let retention_us = super::expiry::retention_us(&features);
        Ok(KeySpec {
            features,
            n_inputs,
            n_filters,
            columns,
            ttl_column,
            cursors,
            place,
            counted,
            counted_of,
            max_window_us,
            lifetime_cursor,
            retention_us,
            layout,
        })
    }

    pub fn features(&self) -> &[FeaturePlan] {
        &self.features
    }

    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    pub fn n_filters(&self) -> usize {
        self.n_filters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slot 0 holds float64 values, slot 1 int64 (only what `KeySpec` reads is set).
    fn feature(agg: AggKind, input: usize, window_us: Option<i64>) -> FeaturePlan {
        FeaturePlan {
            name: String::new(),
            view: String::new(),
            agg,
            input: Some(input),
            filter: None,
            window_us,
            events: None,
            shift_us: 0,
            ttl: None,
            view_filter: None,
            ty: DataType::Float64,
            span: crate::ir::SourceSpan::default(),
        }
    }

    #[test]
    fn features_over_the_same_events_share_one_state() {
        use AggKind::*;
        let week = Some(7);
        let spec = KeySpec::new(
            vec![
                feature(Sum, 0, week),       // 0: served by 2 (var_pop)
                feature(Avg, 0, week),       // 1: served by 2
                feature(VarPop, 0, week),    // 2: host
                feature(Sum, 0, week),       // 3: twin of 0
                feature(StddevPop, 0, week), // 4: an accumulator of its own
                feature(Avg, 0, None),       // 5: another window, alone
                feature(Sum, 1, week),       // 6: int64 sum, not served
                feature(Avg, 1, week),       // 7: host of nothing, alone
                FeaturePlan {
                    filter: Some(0),
                    ..feature(Sum, 0, week) // 8: another filter, alone
                },
            ],
            vec![DataType::Float64, DataType::Int64],
            1,
        )
        .unwrap();
        let week_cursor = &spec.cursors[spec.place[2].0];
        let accs: Vec<usize> = week_cursor.columns.clone();
        assert_eq!(accs, vec![2, 4, 6, 7, 8]);
        assert_eq!(
            week_cursor.aliases,
            vec![Alias { host: 0, agg: Sum }, Alias { host: 0, agg: Avg }]
        );
        assert_eq!(spec.place[0], (spec.place[2].0, 5));
        assert_eq!(spec.place[1], (spec.place[2].0, 6));
        assert_eq!(spec.place[3], spec.place[0]);
        assert_eq!(week_cursor.clear[0], 1 | 1 << 5 | 1 << 6);
        assert_eq!(week_cursor.clear[1], 1 << 1);
    }
}
