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

#[cfg(test)]
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
    /// Whether it is the first of the plan's features of its view: that one's event
    /// time is the view's `_ts:` field (known once per plan, not looked up per hash).
    first_of_view: bool,
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
        first_of_view: false,
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
                let first_of_view = !plan.fields.iter().any(|f| f.view == field.view);
                plan.features.push(i);
                plan.fields.push(HashField {
                    first_of_view,
                    ..field
                });
            }
        }
        plans
    }

    /// The hash's key: `PREFIX SERVICE : NAME=VALUE [& NAME=VALUE]...`, key columns
    /// in key order, each value as text (`value_text`) percent-encoded except for
    /// RFC 3986's unreserved characters (Python: `urllib.parse.quote(text, safe="")`).
    pub fn key(&self, prefix: &str, key: &[Value]) -> String {
        let mut out = String::with_capacity(prefix.len() + self.service.len() + 24);
        self.key_into(prefix, key, &mut out, &mut String::new());
        out
    }

    /// `key`, appended to `out` (`text`: room for one value's text).
    fn key_into(&self, prefix: &str, key: &[Value], out: &mut String, text: &mut String) {
        out.push_str(prefix);
        out.push_str(&self.service);
        out.push(':');
        for (i, (name, value)) in self.key_names.iter().zip(key).enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(name);
            out.push('=');
            text.clear();
            write_value(value, text);
            percent_encode(text, out);
        }
    }

    /// Appends to `out` the commands that replace the hash of `key` with `vector` (a
    /// read of `features` for that key, in their order), spelled as `encode` spells
    /// them: `DEL`, then unless every feature is null `HSET` of the fields and
    /// `PEXPIRE` when the key expires (`store::replace_commands` is the same for a
    /// `HashWrite`). The bytes go straight into one buffer: no text per field is
    /// kept (a sink writes tens of thousands of hashes a second, each some 35
    /// fields).
    pub fn pack(
        &self,
        prefix: &str,
        key: &[Value],
        vector: &FeatureVector,
        scratch: &mut Scratch,
        out: &mut Packed,
    ) {
        let Scratch {
            key: key_text,
            text,
            fields,
            after,
            as_of,
        } = scratch;
        key_text.clear();
        self.key_into(prefix, key, key_text, text);
        fields.clear();
        after.clear();
        // `_as_of` is the same for every hash a flush reads at one time: its text
        // is made once.
        if as_of.0 != Some(vector.at) {
            *as_of = (Some(vector.at), format_time(vector.at));
        }
        bulk(fields, AS_OF_FIELD.as_bytes());
        bulk(fields, as_of.1.as_bytes());
        let mut count = 1;
        let mut lives_until: Option<i64> = None;
        let mut every_feature_has_ttl = true;
        for (fv, field) in vector.features.iter().zip(&self.fields) {
            text.clear();
            if write_value(&fv.value, text) {
                bulk(fields, field.value.as_bytes());
                bulk(fields, text.as_bytes());
                count += 1;
            }
            if let Some(status) = status_text(&fv.status) {
                bulk(after, field.status.as_bytes());
                bulk(after, status.as_bytes());
                count += 1;
            }
            if field.first_of_view {
                if let Some(ts) = fv.event_time {
                    bulk(after, field.event_time.as_bytes());
                    bulk(after, format_time(ts).as_bytes());
                    count += 1;
                }
            }
            extend_life(
                &mut lives_until,
                &mut every_feature_has_ttl,
                field.ttl_us,
                fv.event_time,
            );
        }
        let expiry = expiry(every_feature_has_ttl, lives_until, vector.at);
        let start = out.bytes.len();
        let bytes = &mut out.bytes;
        array(bytes, 2);
        bulk(bytes, b"DEL");
        let key_at = bytes.len();
        bulk(bytes, key_text.as_bytes());
        let mut commands = 1;
        if expiry != Expiry::Now {
            array(bytes, 2 + 2 * count);
            bulk(bytes, b"HSET");
            bulk(bytes, key_text.as_bytes());
            bytes.extend_from_slice(fields);
            bytes.extend_from_slice(after);
            commands += 1;
            if let Expiry::AfterMs(ms) = expiry {
                array(bytes, 3);
                bulk(bytes, b"PEXPIRE");
                bulk(bytes, key_text.as_bytes());
                text.clear();
                let _ = std::fmt::Write::write_fmt(text, format_args!("{}", ms.max(1)));
                bulk(bytes, text.as_bytes());
                commands += 1;
            }
        }
        // The key's bytes inside its `DEL` (past `$LEN\r\n`).
        let key_start = key_at + decimal_len(key_text.len()) + 3;
        out.hashes.push(PackedHash {
            start,
            end: bytes.len(),
            key: key_start..key_start + key_text.len(),
            commands,
            deleted: expiry == Expiry::Now,
        });
    }

    /// What to write for `vector` (a read of `features` for one key, in their
    /// order): the fields, and when the key expires. The reference spelling `pack`
    /// is checked against (field by field, through the `redis` crate's encoding).
    #[cfg(test)]
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
            extend_life(
                &mut lives_until,
                &mut every_feature_has_ttl,
                field.ttl_us,
                fv.event_time,
            );
        }
        fields.append(&mut after);
        let expiry = expiry(every_feature_has_ttl, lives_until, vector.at);
        HashWrite { fields, expiry }
    }
}

/// Folds one feature into its hash's life: a ttl feature whose value came at
/// `event_time` keeps the hash until `event_time + ttl` (the latest over its
/// features); a feature without a ttl keeps it for ever.
fn extend_life(
    lives_until: &mut Option<i64>,
    every_feature_has_ttl: &mut bool,
    ttl_us: Option<i64>,
    event_time: Option<i64>,
) {
    match ttl_us {
        Some(ttl) => {
            if let Some(ts) = event_time {
                let until = ts.saturating_add(ttl);
                *lives_until = Some(lives_until.map_or(until, |u| u.max(until)));
            }
        }
        None => *every_feature_has_ttl = false,
    }
}

/// When a hash read at `at` goes: never when some feature has no ttl, else when its
/// last view's values turn null (`lives_until`), or now when they all are.
fn expiry(every_feature_has_ttl: bool, lives_until: Option<i64>, at: i64) -> Expiry {
    if !every_feature_has_ttl {
        return Expiry::Never;
    }
    match lives_until {
        Some(until) if until > at => {
            // Redis expires in milliseconds: round up, so the key never goes
            // before its last value is null.
            let us = until - at;
            Expiry::AfterMs(u64::try_from((us + 999) / 1000).unwrap_or(u64::MAX))
        }
        // Every feature is null (each view's ttl has run out): no key.
        _ => Expiry::Now,
    }
}

/// Hashes spelled as the Redis commands that replace them (`HashPlan::pack`), one
/// buffer for all: what a write sends as it is, with no command built per hash.
#[derive(Debug, Default)]
pub struct Packed {
    bytes: Vec<u8>,
    hashes: Vec<PackedHash>,
}

/// One hash of a `Packed`: its commands' bytes, its key's bytes, how many commands
/// (`DEL`, `HSET`, `PEXPIRE`), and whether the key is only deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedHash {
    start: usize,
    end: usize,
    key: std::ops::Range<usize>,
    pub commands: usize,
    pub deleted: bool,
}

impl Packed {
    /// Empties it, keeping its memory (a sink reuses a few).
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.hashes.clear();
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    pub fn hashes(&self) -> &[PackedHash] {
        &self.hashes
    }

    /// The commands of hashes `range` (contiguous in the buffer).
    pub fn commands(&self, range: std::ops::Range<usize>) -> &[u8] {
        match (self.hashes.get(range.start), range.end.checked_sub(1)) {
            (Some(first), Some(last)) if range.start < range.end => {
                let end = self.hashes.get(last).map_or(first.end, |h| h.end);
                self.bytes.get(first.start..end).unwrap_or(&[])
            }
            _ => &[],
        }
    }

    /// The key of hash `i` (as bytes, valid UTF-8 text).
    pub fn key(&self, i: usize) -> &[u8] {
        self.hashes
            .get(i)
            .and_then(|h| self.bytes.get(h.key.clone()))
            .unwrap_or(&[])
    }

    /// Bytes held (for a bound on what is queued).
    pub fn bytes(&self) -> usize {
        self.bytes.len()
    }
}

/// Room `HashPlan::pack` reuses from one hash to the next.
#[derive(Debug, Default)]
pub struct Scratch {
    key: String,
    text: String,
    fields: Vec<u8>,
    after: Vec<u8>,
    /// The latest `_as_of` time and its text.
    as_of: (Option<i64>, String),
}

/// Appends a RESP array header of `n` items.
pub(super) fn array(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    decimal(out, n);
    out.extend_from_slice(b"\r\n");
}

/// Appends a RESP bulk string.
pub(super) fn bulk(out: &mut Vec<u8>, item: &[u8]) {
    out.push(b'$');
    decimal(out, item.len());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(item);
    out.extend_from_slice(b"\r\n");
}

fn decimal(out: &mut Vec<u8>, n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

fn decimal_len(n: usize) -> usize {
    let mut len = 1;
    let mut n = n / 10;
    while n > 0 {
        len += 1;
        n /= 10;
    }
    len
}

/// The fields of one hash and its expiry (the reference spelling, `encode`).
#[cfg(test)]
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
    let mut text = String::new();
    write_value(value, &mut text).then_some(text)
}

/// `value_text`, appended to `out`; false (nothing appended) for null.
pub fn write_value(value: &Value, out: &mut String) -> bool {
    use std::fmt::Write;
    let _ = match value {
        Value::Null => return false,
        Value::Int64(i) => write!(out, "{i}"),
        Value::Float64(f) if f.is_nan() => out.write_str("NaN"),
        Value::Float64(f) if f.is_infinite() => {
            out.write_str(if *f > 0.0 { "Infinity" } else { "-Infinity" })
        }
        Value::Float64(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => write!(out, "{n}"),
            None => write!(out, "{f}"),
        },
        Value::Bool(b) => write!(out, "{b}"),
        Value::String(s) => out.write_str(s),
        Value::Timestamp(t) => out.write_str(&format_time(*t)),
        Value::Date(d) => out.write_str(&featc_runtime::row::date::format_date(*d)),
        Value::Decimal {
            unscaled, scale, ..
        } => out.write_str(&featc_runtime::row::decimal::format_decimal(
            unscaled.get(),
            *scale,
        )),
        // The JSON text a CSV training set holds (`featc_runtime::row::list`).
        Value::List(l) => out.write_str(&featc_runtime::row::list::json_text(l)),
    };
    true
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
    use featc_runtime::stream::FeatureValue;
    use std::sync::Arc;

    /// A plan of `features` (name, view, ttl µs), first-of-view marked as `all` does.
    fn plan_of(features: &[(&str, &str, Option<i64>)]) -> HashPlan {
        let mut fields: Vec<HashField> = Vec::new();
        for &(name, view, ttl_us) in features {
            let first_of_view = !fields.iter().any(|f| f.view == view);
            fields.push(HashField {
                value: Arc::from(name),
                status: Arc::from(format!("{STATUS_PREFIX}{name}")),
                view: view.to_string(),
                event_time: Arc::from(format!("{EVENT_TIME_PREFIX}{view}")),
                ttl_us,
                first_of_view,
            });
        }
        HashPlan {
            service: "svc".into(),
            entity: "user".into(),
            key_names: vec!["user_id".into()],
            features: (0..features.len()).collect(),
            fields,
        }
    }

    fn feature(value: Value, status: Status, event_time: Option<i64>) -> FeatureValue {
        FeatureValue {
            name: Arc::from("f"),
            value,
            status,
            event_time,
        }
    }

    /// The reference: `encode`'s fields sent as the `redis` crate spells DEL, HSET
    /// and PEXPIRE (what the sink sent before it packed its own commands).
    fn reference(key: &str, hash: &HashWrite) -> (Vec<u8>, usize) {
        let mut pipe = redis::pipe();
        pipe.cmd("DEL").arg(key);
        let mut commands = 1;
        if hash.expiry != Expiry::Now {
            let hset = pipe.cmd("HSET").arg(key);
            for (field, value) in &hash.fields {
                hset.arg(&**field).arg(value);
            }
            commands += 1;
            if let Expiry::AfterMs(ms) = hash.expiry {
                pipe.cmd("PEXPIRE").arg(key).arg(ms.max(1));
                commands += 1;
            }
        }
        (pipe.get_packed_pipeline(), commands)
    }

    #[test]
    fn packed_commands_are_the_reference_spelling_byte_for_byte() {
        use featc_runtime::agg::AggError;
        let at = 1_709_294_400_000_250;
        let mixed = plan_of(&[
            ("n", "a", None),
            ("x", "a", None),
            ("s", "b", Some(60_000_000)),
            ("t", "b", Some(60_000_000)),
        ]);
        let ttl = plan_of(&[("s", "b", Some(60_000_000)), ("u", "c", Some(1))]);
        let vectors = [
            (
                &mixed,
                vec![
                    feature(Value::Int64(-7), Status::Present, Some(at - 5)),
                    feature(Value::Null, Status::Null, Some(at - 5)),
                    feature(
                        Value::String(Arc::from("é\r\n$3")),
                        Status::Present,
                        Some(at - 1),
                    ),
                    feature(
                        Value::Null,
                        Status::Error(AggError::Expression("e".into())),
                        None,
                    ),
                ],
            ),
            (
                &mixed,
                vec![
                    feature(Value::Float64(0.1), Status::Present, None),
                    feature(Value::Float64(f64::NAN), Status::Present, None),
                    feature(Value::Null, Status::Stale, None),
                    feature(Value::Bool(true), Status::Present, None),
                ],
            ),
            // Every ttl running: the key expires (rounded up to a millisecond).
            (
                &ttl,
                vec![
                    feature(Value::Timestamp(at), Status::Present, Some(at - 1_000)),
                    feature(Value::Int64(1), Status::Present, Some(at)),
                ],
            ),
            // Every ttl run out: the key is only deleted.
            (
                &ttl,
                vec![
                    feature(Value::Null, Status::Stale, Some(at - 61_000_000)),
                    feature(Value::Null, Status::UnknownEntity, None),
                ],
            ),
        ];
        let mut packed = Packed::default();
        let mut scratch = Scratch::default();
        let mut expected = Vec::new();
        let mut keys = Vec::new();
        for (i, (plan, features)) in vectors.iter().enumerate() {
            let key = [Value::String(Arc::from(format!("u&{i}")))];
            let vector = FeatureVector {
                at: at + i as i64,
                features: features.clone(),
            };
            plan.pack("featc:", &key, &vector, &mut scratch, &mut packed);
            let text = plan.key("featc:", &key);
            let (bytes, commands) = reference(&text, &plan.encode(&vector));
            let hash = &packed.hashes()[i];
            assert_eq!(packed.commands(i..i + 1), &bytes[..], "hash {i}");
            assert_eq!(hash.commands, commands);
            assert_eq!(hash.deleted, commands == 1);
            assert_eq!(packed.key(i), text.as_bytes());
            expected.extend_from_slice(&bytes);
            keys.push(text);
        }
        assert_eq!(packed.commands(0..vectors.len()), &expected[..]);
        assert_eq!(packed.hashes()[3].commands, 1);
        assert_eq!(packed.hashes()[2].commands, 3);
        packed.clear();
        assert!(packed.is_empty() && packed.commands(0..1).is_empty());
    }

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
