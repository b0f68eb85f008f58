//! A JSON list of names borrowed from a request's body (a read's `features`), read
//! into a vector with room for a usual list made at once: serde's own `Vec` starts
//! empty (JSON gives no length) and grows four times for Feast's 32 names, which
//! was a fifth of a single-entity read's allocations.

use std::fmt;

use serde::de::{Deserializer, SeqAccess, Visitor};

/// The room made before the first name (past it the vector grows as usual).
const ROOM: usize = 64;

/// `null` as `None`, a list of strings borrowed from the input as `Some`; anything
/// else (a name with escapes, which cannot be borrowed, included) is an error.
pub fn borrowed<'de, D>(d: D) -> Result<Option<Vec<&'de str>>, D::Error>
where
    D: Deserializer<'de>,
{
    d.deserialize_option(MaybeList)
}

struct MaybeList;

impl<'de> Visitor<'de> for MaybeList {
    type Value = Option<Vec<&'de str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of names or null")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(List).map(Some)
    }
}

struct List;

impl<'de> Visitor<'de> for List {
    type Value = Vec<&'de str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of names")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut names = Vec::with_capacity(seq.size_hint().unwrap_or(ROOM).min(ROOM));
        while let Some(name) = seq.next_element::<&'de str>()? {
            names.push(name);
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Body<'a> {
        #[serde(borrow, default, deserialize_with = "borrowed")]
        features: Option<Vec<&'a str>>,
    }

    fn read(text: &str) -> Result<Option<Vec<&str>>, String> {
        serde_json::from_str::<Body<'_>>(text)
            .map(|b| b.features)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn lists_null_and_absence_read_as_serde_would() {
        assert_eq!(
            read(r#"{"features": ["a", "b:c"]}"#),
            Ok(Some(vec!["a", "b:c"]))
        );
        assert_eq!(read(r#"{"features": []}"#), Ok(Some(vec![])));
        assert_eq!(read(r#"{"features": null}"#), Ok(None));
        assert_eq!(read(r#"{}"#), Ok(None));
        let many: Vec<String> = (0..200).map(|i| format!("\"f{i}\"")).collect();
        let text = format!("{{\"features\": [{}]}}", many.join(","));
        let long = read(&text);
        assert_eq!(
            long.map(|l| l.map(|l| (l.len(), l[199]))),
            Ok(Some((200, "f199")))
        );
    }

    #[test]
    fn what_cannot_be_borrowed_names_is_refused() {
        for bad in [
            r#"{"features": "a"}"#,
            r#"{"features": [1]}"#,
            r#"{"features": ["a\nb"]}"#,
            r#"{"features": {"a": 1}}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
