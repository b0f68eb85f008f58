//! Online reads: what `StreamRuntime::read` is asked (`Read`: keys, features, time,
//! request fields) and what it returns, and how a reader names features.

use std::sync::Arc;

use super::derived::Request;
use crate::agg::AggError;
use crate::value::Value;

/// One online read: whose features (keys), which (features), when (at), and the
/// request fields its derived features read.
#[derive(Debug, Clone, Copy)]
pub struct Read<'a> {
    pub keys: Keys<'a>,
    pub features: Selection<'a>,
    /// The read time, µs: every feature is evaluated at exactly this time.
    pub at: i64,
    pub request: Request<'a>,
}

impl<'a> Read<'a> {
    /// A read that brings no request fields (`Request::NONE`).
    pub fn new(keys: Keys<'a>, features: Selection<'a>, at: i64) -> Read<'a> {
        Read {
            keys,
            features,
            at,
            request: Request::NONE,
        }
    }

    /// This read with the values of the request fields its derived features read.
    pub fn with_request(self, request: Request<'a>) -> Read<'a> {
        Read { request, ..self }
    }
}

/// The entity keys of a read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Keys<'a> {
    /// The key of the one entity every selected feature is keyed by (features of
    /// several entities are refused: `StreamError::MixedEntities`).
    Entity(&'a [Value]),
    /// A key per entity, by entity name.
    ByEntity(&'a [(&'a str, &'a [Value])]),
}

/// Which features a read returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection<'a> {
    /// Every feature of the graph, in graph order.
    All,
    /// A service's features, in service order.
    Service(&'a str),
    /// Features by name, in the given order.
    Features(&'a [&'a str]),
    /// Features by index into `StreamRuntime::feature_names`, in the given order (a
    /// server resolves names once, then reads without looking them up again).
    Indices(&'a [usize]),
}

/// Why a feature's value is what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// A non-null value computed from the entity's events.
    Present,
    /// The entity is known but the value is null (e.g. `avg` of an empty window).
    Null,
    /// The entity never had an event (after null-key rows were skipped); the value is
    /// the aggregation's empty value (0 for counts and sums, null otherwise), or null
    /// when the view has a ttl.
    UnknownEntity,
    /// The view has a ttl and the entity has no event of the view in `(t - ttl, t]`;
    /// the value is null.
    Stale,
    /// The aggregation failed (e.g. an integer sum overflowing int64); the value is null.
    Error(AggError),
}

/// One feature of a read.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureValue {
    pub name: Arc<str>,
    pub value: Value,
    pub status: Status,
    /// The time of the entity's latest event of the feature's view (one of the view's
    /// source, for this entity, passing the view's `where`) at or before the read
    /// time; `None` when it has none.
    pub event_time: Option<i64>,
}

/// The answer to one read: the selected features evaluated at exactly `at`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureVector {
    pub at: i64,
    pub features: Vec<FeatureValue>,
}

impl FeatureVector {
    /// The value of a feature by name.
    pub fn get(&self, name: &str) -> Option<&FeatureValue> {
        self.features.iter().find(|f| &*f.name == name)
    }
}
