//! `KeySpec`: what a `KeyState` computes (the features of one (source, key) group)
//! and the cursor plan derived from it, validated once and shared by every key.

use std::fmt;

use super::accumulator::{window_accumulator, WindowAccumulator};
use super::layout::RowLayout;
use crate::agg::AggError;
use crate::ir::{AggKind, DataType};

/// A view's ttl as seen by one feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ttl {
    /// Positive duration in microseconds.
    pub ttl_us: i64,
    /// The filter slot holding the view's filter (`None`: every pushed event counts).
    pub filter: Option<usize>,
}

/// One feature of a `KeyState`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSpec {
    pub agg: AggKind,
    /// The slot of `push_event`'s `inputs` holding the aggregated value (the predicate
    /// for `count_if`); `None` exactly for `count(*)`.
    pub input: Option<usize>,
    /// The input's type (`None` for `count(*)`).
    pub input_type: Option<DataType>,
    /// The slot of `push_event`'s `filters` that must be true for the event to count
    /// for this feature (the feature's `where` and, when views with different filters
    /// share the state, the view's filter); `None`: every pushed event counts.
    pub filter: Option<usize>,
    /// Positive window in microseconds; `None` is a lifetime feature.
    pub window_us: Option<i64>,
    /// The view's ttl, applied by `KeyState::read`.
    pub ttl: Option<Ttl>,
}

/// Why a set of `FeatureSpec`s was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
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
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
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

/// The accumulators sharing one window length (`None`: lifetime).
#[derive(Debug, Clone)]
pub(crate) struct CursorPlan {
    pub window_us: Option<i64>,
    /// Column indices, in the order of the cursor's accumulators.
    pub columns: Vec<usize>,
}

/// The validated features of one (source, key) group, shared (via `Arc`) by all the
/// `KeyState`s of that group.
///
/// Invariants: every slot is in range, every (agg, input type) is accepted, windows
/// and ttls are positive; columns `0..features.len()` are the features in order,
/// followed by one hidden column per distinct ttl.
#[derive(Debug, Clone)]
pub struct KeySpec {
    pub(crate) features: Vec<FeatureSpec>,
    pub(crate) n_inputs: usize,
    pub(crate) n_filters: usize,
    pub(crate) columns: Vec<Column>,
    /// For each feature, the hidden column of its ttl check.
    pub(crate) ttl_column: Vec<Option<usize>>,
    pub(crate) cursors: Vec<CursorPlan>,
    /// For each column, `(cursor index, accumulator index within the cursor)`.
    pub(crate) place: Vec<(usize, usize)>,
    /// Largest window (ttls included); `None` when every column is lifetime.
    pub(crate) max_window_us: Option<i64>,
    /// Index of the lifetime cursor, if any.
    pub(crate) lifetime_cursor: Option<usize>,
    /// How each key's event buffer encodes a row.
    pub(crate) layout: RowLayout,
}

impl KeySpec {
    /// Validates `features` for events carrying `n_inputs` values and `n_filters`
    /// booleans, and plans one cursor per distinct window length.
    pub fn new(
        features: Vec<FeatureSpec>,
        n_inputs: usize,
        n_filters: usize,
    ) -> Result<KeySpec, SpecError> {
        let mut columns = Vec::new();
        let mut windows: Vec<Option<i64>> = Vec::new();
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
            let input_type = if f.agg == AggKind::CountStar {
                None
            } else {
                f.input_type
            };
            let proto = window_accumulator(f.agg, input_type, f.window_us.is_some())
                .map_err(|error| SpecError::Agg { feature: i, error })?;
            columns.push(Column {
                input: f.input,
                input_type: f.input_type,
                filter: f.filter,
                proto,
            });
            windows.push(f.window_us);
        }
        let mut ttl_column = Vec::with_capacity(features.len());
        let mut ttls: Vec<(Ttl, usize)> = Vec::new();
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
                    windows.push(Some(t.ttl_us));
                    ttls.push((t, c));
                    c
                }
            };
            ttl_column.push(Some(col));
        }
        let mut cursors: Vec<CursorPlan> = Vec::new();
        let mut place = Vec::with_capacity(columns.len());
        for (c, w) in windows.iter().enumerate() {
            let k = match cursors.iter().position(|p| p.window_us == *w) {
                Some(k) => k,
                None => {
                    cursors.push(CursorPlan {
                        window_us: *w,
                        columns: Vec::new(),
                    });
                    cursors.len() - 1
                }
            };
            place.push((k, cursors[k].columns.len()));
            cursors[k].columns.push(c);
        }
        let max_window_us = windows.iter().flatten().copied().max();
        let lifetime_cursor = cursors.iter().position(|p| p.window_us.is_none());
        // A slot is stored by the type its readers declare; readers disagreeing (or
        // not declaring one) get a `Value` cell.
        let mut slot_types: Vec<Option<Option<DataType>>> = vec![None; n_inputs];
        for f in &features {
            if let Some(slot) = f.input {
                let t = &mut slot_types[slot];
                *t = match *t {
                    None => Some(f.input_type),
                    Some(old) if old == f.input_type => Some(old),
                    Some(_) => Some(None),
                };
            }
        }
        let layout = RowLayout::new(&slot_types, n_filters);
        Ok(KeySpec {
            features,
            n_inputs,
            n_filters,
            columns,
            ttl_column,
            cursors,
            place,
            max_window_us,
            lifetime_cursor,
            layout,
        })
    }

    pub fn features(&self) -> &[FeatureSpec] {
        &self.features
    }

    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    pub fn n_filters(&self) -> usize {
        self.n_filters
    }
}
