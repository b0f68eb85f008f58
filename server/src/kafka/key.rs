//! Where a key lives: the text an entity's key is routed by (the record key of the
//! internal topics, and what a read hashes) and its partition, as Kafka's own
//! producers place a record of that key (`kafka::partitioner`). The writer of a
//! record and every reader of its key compute the same text from the typed key, so
//! `"42"` and `42` for an `int64` key meet in one partition.

use featc_runtime::value::Value;

use super::partitioner::partition_of;

/// Separates the parts of a composite key (a byte no key text holds in practice).
const SEPARATOR: char = '\u{1f}';

/// The routing text of a typed key; `None` when a part is null (such events are
/// counted as null keys by the partition-0 task, the only one they reach).
pub fn key_text(values: &[Value]) -> Option<String> {
    let mut out = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        match v {
            Value::Null | Value::List(_) => return None,
            Value::Int64(n) | Value::Timestamp(n) => out.push_str(&n.to_string()),
            Value::Float64(f) => out.push_str(&f.to_bits().to_string()),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::String(s) => out.push_str(s),
            Value::Date(d) => out.push_str(&featc_runtime::row::date::format_date(*d)),
            // No key is a decimal (E0057); spelled exactly all the same.
            Value::Decimal {
                unscaled, scale, ..
            } => out.push_str(&featc_runtime::row::decimal::format_decimal(
                unscaled.get(),
                *scale,
            )),
        }
    }
    Some(out)
}

/// The partition of a key (its routing text; `None`: a null key) among `partitions`.
pub fn partition_of_key(text: Option<&str>, partitions: i32) -> i32 {
    text.and_then(|t| partition_of(t.as_bytes(), partitions))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_and_its_text_route_alike_and_nulls_go_to_partition_zero() {
        let a = key_text(&[Value::Int64(42)]);
        assert_eq!(a.as_deref(), Some("42"));
        assert_eq!(key_text(&[Value::Null]), None);
        assert_eq!(partition_of_key(None, 7), 0);
        let two = key_text(&[Value::Int64(1), Value::String("m".into())]);
        assert_eq!(two.as_deref(), Some("1\u{1f}m"));
        let p = partition_of_key(a.as_deref(), 7);
        assert!((0..7).contains(&p));
    }
}
