//! The Redis layout of an online store (docs/online-store.md): one hash per service
//! and entity key, one field per feature, plus each view's event time, each
//! feature's status when it is not `PRESENT`, and the time the values are as of. The
//! layout is plain text so that a reader needs no featc code.

use std::sync::Arc;

use featc_runtime::stream::graph::{AggregateOp, OutputFeature};
use featc_runtime::stream::{FeatureVector, Status, StreamGraph};
use featc_runtime::value::Value;

use crate::wire::time::format_time;

/// The field holding the time a hash's values are as of.
pub const AS_OF_FIELD: &str = "_as_of";

static AS_OF: std::sync::LazyLock<Arc<str>> = std::sync::LazyLock::new(|| Arc::from(AS_OF_FIELD));
/// The prefix of a view's event-time field (`_ts:VIEW`).
pub const EVENT_TIME_PREFIX: &str = "_ts:";
/// The prefix of a feature's status field (`_status:FEATURE`).
pub const STATUS_PREFIX: &str = "_status:";
/// The key prefix when none is given.
pub const DEFAULT_PREFIX: &str = "featc:";

/// The hash of one service for one entity: which features it holds and how its key
/// is spelled.
#[derive(Debug, Clone, PartialEq)]
pub struct HashPlan {
    pub service: String,
    pub entity: String,
    /// The entity's key names, in key order.
    pub key_names: Vec<String>,
    /// The service's features of this entity, as output feature indices, in service
    /// order (what a read of the hash's vector selects).
    pub features: Vec<usize>,
    /// For each of `features`, how the hash spells it.
    fields: Vec<HashField>,
}

/// One feature of a hash: its field names, made once (a sink encodes many hashes),
/// its view and its view's ttl.
#[derive(Debug, Clone, PartialEq)]
struct HashField {
    value: Arc<str>,
    status: Arc<str>,
    view: String,
    event_time: Arc<str>,
    ttl_us: Option<i64>,
}

/// The aggregate node whose entity keys an output feature's hash, and the feature's
/// field. A derived feature is written when it reads features of one aggregate node
/// and no request field; one that needs a request (computed at read time) or spans
/// entities is not, and the layout's printout leaves it out.
fn hash_field(graph: &StreamGraph, feature: OutputFeature) -> Option<(&AggregateOp, HashField)> {
    let field = |name: &str, view: &str, ttl_us: Option<i64>| HashField {
        value: Arc::from(name),
        status: Arc::from(format!("{STATUS_PREFIX}{name}")),
        view: view.to_string(),
        event_time: Arc::from(format!("{EVENT_TIME_PREFIX}{view}")),
        ttl_us,
    };
    match feature {
        OutputFeature::Aggregate { aggregate, index } => {
            let op = graph.aggregate(aggregate)?;
            let f = op.plan.features.get(index)?;
            Some((op, field(&f.name, &f.view, f.ttl.map(|t| t.ttl_us))))
        }
        OutputFeature::Derived { .. } => {
            let d = graph.output_derived(feature)?;
            let first = d.reads.first()?;
            let one_group = d.reads.iter().all(|r| r.group == first.group);
            if !d.request.is_empty() || !one_group {
                return None;
            }
            let (_, op) = graph.aggregates().nth(first.group)?;
            let read = op.plan.features.get(first.feature)?;
            Some((op, field(&d.name, &read.view, None)))
        }
    }
}

impl HashPlan {
    /// One plan per (service, entity) of `graph`, services in graph order, a
    /// service's entities in the order its features first name them.
    pub fn all(graph: &StreamGraph) -> Vec<HashPlan> {
        let Some(output) = graph.output() else {
            return Vec::new();
        };
        let mut plans: Vec<HashPlan> = Vec::new();
        for service in &output.services {
            let first = plans.len();
            for &i in &service.features {
                let Some(feature) = output.features.get(i) else {
                    continue;
                };
                let Some((op, field)) = hash_field(graph, *feature) else {
                    continue;
                };
                let at = match plans[first..]
                    .iter()
                    .position(|p| p.entity == op.plan.entity)
                {
                    Some(p) => first + p,
                    None => {
                        plans.push(HashPlan {
                            service: service.name.clone(),
                            entity: op.plan.entity.clone(),
                            key_names: op.plan.keys.iter().map(|k| k.name.clone()).collect(),
                            features: Vec::new(),
                            fields: Vec::new(),
                        });
                        plans.len() - 1
                    }
                };
                let plan = &mut plans[at];
                plan.features.push(i);
                plan.fields.push(field);
            }
        }
        plans
    }

    /// The hash's key: `PREFIX SERVICE : NAME=VALUE [& NAME=VALUE]...`, key columns
    /// in key order, each value as text (`value_text`) percent-encoded except for
    /// RFC 3986's unreserved characters (Python: `urllib.parse.quote(text, safe="")`).
    pub fn key(&self, prefix: &str, key: &[Value]) -> String {
        let mut out = String::with_capacity(prefix.len() + self.service.len() + 24);
        out.push_str(prefix);
        out.push_str(&self.service);
        out.push(':');
        for (i, (name, value)) in self.key_names.iter().zip(key).enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(name);
            out.push('=');
            percent_encode(&value_text(value).unwrap_or_default(), &mut out);
        }
        out
    }

    /// What to write for `vector` (a read of `features` for one key, in their
    /// order): the fields, and when the key expires.
    pub fn encode(&self, vector: &FeatureVector) -> HashWrite {
        let mut fields: Vec<(Arc<str>, String)> = Vec::with_capacity(self.fields.len() + 4);
        fields.push((Arc::clone(&AS_OF), format_time(vector.at)));
        // The latest time each view's values stay non-null until (ttl views only).
        let mut lives_until: Option<i64> = None;
        let mut every_feature_has_ttl = true;
        let mut views_done: Vec<&str> = Vec::new();
        // Event times and statuses after the values, so that the fields read in the
        // service's order first.
        let mut after = Vec::new();
        for (fv, field) in vector.features.iter().zip(&self.fields) {
            if let Some(text) = value_text(&fv.value) {
                fields.push((Arc::clone(&field.value), text));
            }
            if let Some(status) = status_text(&fv.status) {
                after.push((Arc::clone(&field.status), status.to_string()));
            }
            if !views_done.contains(&field.view.as_str()) {
                views_done.push(&field.view);
                if let Some(ts) = fv.event_time {
                    after.push((Arc::clone(&field.event_time), format_time(ts)));
                }
            }
            match field.ttl_us {
                Some(ttl) => {
                    if let Some(ts) = fv.event_time {
                        let until = ts.saturating_add(ttl);
                        lives_until = Some(lives_until.map_or(until, |u| u.max(until)));
                    }
                }
                None => every_feature_has_ttl = false,
            }
        }
        fields.append(&mut after);
        let expiry = if !every_feature_has_ttl {
            Expiry::Never
        } else {
            match lives_until {
                Some(until) if until > vector.at => {
                    // Redis expires in milliseconds: round up, so the key never
                    // goes before its last value is null.
                    let us = until - vector.at;
                    Expiry::AfterMs(u64::try_from((us + 999) / 1000).unwrap_or(u64::MAX))
                }
                // Every feature is null (each view's ttl has run out): no key.
                _ => Expiry::Now,
            }
        };
        HashWrite { fields, expiry }
    }
}

/// The fields of one hash and its expiry.
#[derive(Debug, Clone, PartialEq)]
pub struct HashWrite {
    pub fields: Vec<(Arc<str>, String)>,
    pub expiry: Expiry,
}

/// When a hash's key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Some feature has no ttl: the key stays until rewritten.
    Never,
    /// Every feature is null then (each view's ttl has run out).
    AfterMs(u64),
    /// Every feature is null already: the key is deleted, not written.
    Now,
}

/// A value as the hash spells it; `None` for null (the field is left out). Integers
/// in decimal, floats in their shortest form that reads back to the same bits
/// (`NaN`, `Infinity`, `-Infinity`), booleans `true`/`false`, strings as they are,
/// timestamps in RFC 3339 (UTC, microseconds when there are some), lists as the
/// JSON text of a CSV training set (`[3,1]`, `[{"value":"a","count":2}]`).
pub fn value_text(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::Int64(i) => i.to_string(),
        Value::Float64(f) if f.is_nan() => "NaN".to_string(),
        Value::Float64(f) if f.is_infinite() => {
            if *f > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
        }
        Value::Float64(f) => serde_json::Number::from_f64(*f)
            .map(|n| n.to_string())
            .unwrap_or_else(|| f.to_string()),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => s.to_string(),
        Value::Timestamp(t) => format_time(*t),
        Value::Date(d) => featc_runtime::row::date::format_date(*d),
        Value::Decimal {
            unscaled, scale, ..
        } => featc_runtime::row::decimal::format_decimal(unscaled.get(), *scale),
        // The JSON text a CSV training set holds (`featc_runtime::row::list`).
        Value::List(l) => featc_runtime::row::list::json_text(l),
    })
}

/// A status other than `PRESENT`, as the HTTP API names it.
pub fn status_text(status: &Status) -> Option<&'static str> {
    match status {
        Status::Present => None,
        Status::Null => Some("NULL_VALUE"),
        Status::UnknownEntity => Some("NOT_FOUND"),
        Status::Stale => Some("OUTSIDE_MAX_AGE"),
        Status::Error(_) => Some("ERROR"),
    }
}

/// Appends `text` percent-encoded: every byte but `A-Z a-z 0-9 - . _ ~` as `%XX`.
fn percent_encode(text: &str, out: &mut String) {
    use std::fmt::Write;
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn keys_percent_encode_everything_but_unreserved_characters() {
        let plan = HashPlan {
            service: "svc".into(),
            entity: "pair".into(),
            key_names: vec!["a".into(), "b".into()],
            features: vec![],
            fields: vec![],
        };
        let key = plan.key(
            "featc:",
            &[Value::String(Arc::from("x&y=z é/%")), Value::Int64(-7)],
        );
        assert_eq!(key, "featc:svc:a=x%26y%3Dz%20%C3%A9%2F%25&b=-7");
    }

    #[test]
    fn values_read_back_to_the_same_bits() {
        for f in [0.1, -0.0, 1e300, 5e-324, 34.47833333333333] {
            let text = value_text(&Value::Float64(f)).unwrap_or_default();
            assert_eq!(
                text.parse::<f64>().map(f64::to_bits),
                Ok(f.to_bits()),
                "{text}"
            );
        }
        assert_eq!(
            value_text(&Value::Float64(f64::NEG_INFINITY)).as_deref(),
            Some("-Infinity")
        );
        assert_eq!(value_text(&Value::Null), None);
        assert_eq!(
            value_text(&Value::Timestamp(1_500_000)).as_deref(),
            Some("1970-01-01T00:00:01.500Z")
        );
        assert_eq!(
            value_text(&Value::Date(19_782)).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(
            value_text(&Value::decimal(-1_230, 10, 2)).as_deref(),
            Some("-12.30")
        );
    }

    #[test]
    fn lists_are_their_json_text_with_items_spelled_as_fields_are() {
        use featc_runtime::ir::Scalar;
        use featc_runtime::value::List;
        let times = [1_500_000, 1_709_294_400_000_250, -1];
        let list = Value::List(Arc::new(List {
            item: Scalar::Timestamp,
            items: times.iter().map(|t| Value::Timestamp(*t)).collect(),
            counts: None,
        }));
        let quoted: Vec<String> = times
            .iter()
            .map(|t| {
                format!(
                    "{:?}",
                    value_text(&Value::Timestamp(*t)).unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(value_text(&list), Some(format!("[{}]", quoted.join(","))));
        let counted = Value::List(Arc::new(List {
            item: Scalar::String,
            items: vec![Value::String(Arc::from("a,\"b\""))],
            counts: Some(vec![2]),
        }));
        assert_eq!(
            value_text(&counted).as_deref(),
            Some(r#"[{"value":"a,\"b\"","count":2}]"#)
        );
        // An empty list is a field like any value (only null leaves the field out).
        let empty = Value::List(Arc::new(List {
            item: Scalar::Int64,
            items: vec![],
            counts: None,
        }));
        assert_eq!(value_text(&empty).as_deref(), Some("[]"));
    }
}
