//! A JSON object with its members in the order they were sent. serde_json's `Map`
//! sorts keys (its `preserve_order` feature would change every map of the workspace),
//! but a read answers its entity columns in the order the request gave them (Feast's
//! client and docs/serving.md rely on it): so a request body is read with this visitor,
//! which keeps the order of the top-level members and of the members of any object
//! inside them (`entities`), and builds ordinary `serde_json::Value`s below that.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json};

/// A JSON value whose objects keep their members in the order sent (values deeper
/// than an array are plain JSON).
#[derive(Debug, Clone, PartialEq)]
pub enum Ordered {
    /// An object, its members in the order sent.
    Object(Vec<(String, Ordered)>),
    /// Any other value.
    Value(Json),
}

impl Ordered {
    /// The value as plain JSON (an object's keys then sorted, a later duplicate key
    /// winning, as serde_json reads one).
    pub fn into_json(self) -> Json {
        match self {
            Ordered::Value(v) => v,
            Ordered::Object(members) => Json::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k, v.into_json()))
                    .collect::<Map<String, Json>>(),
            ),
        }
    }

    /// What kind of JSON value this is, as `kind_of` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Ordered::Object(_) => "an object",
            Ordered::Value(v) => super::time::kind_of(v),
        }
    }
}

/// `body` read as JSON with its objects' member order kept.
pub fn parse_ordered(body: &[u8]) -> Result<Ordered, serde_json::Error> {
    serde_json::from_slice(body)
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OrderedVisitor)
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = Ordered;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
        Ok(Ordered::Value(Json::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
        Ok(Ordered::Value(Json::from(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
        Ok(Ordered::Value(Json::from(v)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Ordered, E> {
        // JSON text has no non-finite numbers, so `from_f64` always succeeds here.
        Ok(Ordered::Value(
            serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number),
        ))
    }

    fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
        Ok(Ordered::Value(Json::String(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Ordered, E> {
        Ok(Ordered::Value(Json::String(v)))
    }

    fn visit_unit<E>(self) -> Result<Ordered, E> {
        Ok(Ordered::Value(Json::Null))
    }

    fn visit_none<E>(self) -> Result<Ordered, E> {
        Ok(Ordered::Value(Json::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Ordered, D::Error> {
        Ordered::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element::<Json>()? {
            items.push(item);
        }
        Ok(Ordered::Value(Json::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
        let mut members: Vec<(String, Ordered)> = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Ordered>()? {
            // A repeated key replaces the earlier value in its place, as a `Map` would.
            match members.iter_mut().find(|(k, _)| *k == key) {
                Some(member) => member.1 = value,
                None => members.push((key, value)),
            }
        }
        Ok(Ordered::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_keep_their_order_at_every_level_above_arrays() {
        let text = br#"{"z": 1, "entities": {"user_id": [1], "merchant_id": ["m"]}, "a": [{"y": 1, "b": 2}]}"#;
        let Ordered::Object(top) = parse_ordered(text).unwrap() else {
            panic!("an object")
        };
        let keys: Vec<&str> = top.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["z", "entities", "a"]);
        let Ordered::Object(entities) = &top[1].1 else {
            panic!("an object")
        };
        let keys: Vec<&str> = entities.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["user_id", "merchant_id"]);
        assert_eq!(top[2].1, Ordered::Value(json!([{"b": 2, "y": 1}])));
    }

    #[test]
    fn plain_json_is_what_serde_json_reads() {
        let text = br#"{"b": [1, -2, 1.5, "x", null, true], "a": {"d": {"e": 18446744073709551615}}, "b": 3}"#;
        let ordered = parse_ordered(text).unwrap();
        let plain: Json = serde_json::from_slice(text).unwrap();
        assert_eq!(ordered.clone().into_json(), plain);
        assert_eq!(ordered.kind(), "an object");
        assert!(parse_ordered(b"{\"a\": ").is_err());
    }
}
