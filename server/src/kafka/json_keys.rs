//! `JsonKeys`: a JSON record read straight into the values of the keys a source's
//! columns read, the other keys parsed and dropped, with the reasons and values of
//! the whole object's parse (`RecordFormat::object`), which it falls back to.

use serde_json::{Map, Value as Json};

use super::format::{FormatError, RecordFormat};

/// The values a record's reader keeps: those of the keys it names (`JsonKeys`), the
/// others parsed (so that a record is refused exactly when `RecordFormat::object`
/// refuses it) and dropped. A JSON record is read straight into them, with no
/// object of every key built and no key copied; a record of another format is
/// moved into them out of its object.
#[derive(Debug, Clone)]
pub struct JsonKeys {
    names: Vec<String>,
}

impl JsonKeys {
    /// The keys `names` (each once, in first-seen order).
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> JsonKeys {
        let mut out: Vec<String> = Vec::new();
        for n in names {
            if !out.iter().any(|o| o == n) {
                out.push(n.to_string());
            }
        }
        JsonKeys { names: out }
    }

    /// The slot of key `name`, if it is one of the keys.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Reads JSON record `record` into `slots` (one per key, `None` where the record
    /// has no such key; the last value of a repeated key, as its object keeps), or
    /// says why it does not decode, in the words `RecordFormat::object` uses.
    pub fn read(&self, record: &[u8], slots: &mut Vec<Option<Json>>) -> Result<(), FormatError> {
        slots.clear();
        slots.resize(self.names.len(), None);
        let mut de = serde_json::Deserializer::from_slice(record);
        let read =
            serde::de::DeserializeSeed::deserialize(ObjectSeed { keys: self, slots }, &mut de)
                .and_then(|()| de.end());
        match read {
            Ok(()) => Ok(()),
            // Not an object, or not JSON: the reason as the whole parse gives it.
            Err(_) => {
                let object = RecordFormat::Json.object(record)?;
                self.take(object, slots);
                Ok(())
            }
        }
    }

    /// Moves the values of the keys out of `object` into `slots`.
    pub fn take(&self, mut object: Map<String, Json>, slots: &mut Vec<Option<Json>>) {
        slots.clear();
        slots.extend(self.names.iter().map(|n| object.remove(n)));
    }
}

/// A JSON object's values into `JsonKeys`' slots; anything but an object is an error
/// (then `JsonKeys::read` parses the record again for its reason).
struct ObjectSeed<'k, 's> {
    keys: &'k JsonKeys,
    slots: &'s mut Vec<Option<Json>>,
}

impl<'de> serde::de::DeserializeSeed<'de> for ObjectSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ObjectSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            // Every value parsed as the object's would be, kept or not, so that a
            // record this refuses is one `object` refuses too, and the reverse.
            let value: Json = map.next_value()?;
            if let Some(i) = self.keys.index(key.as_str()) {
                self.slots[i] = Some(value);
            }
        }
        Ok(())
    }
}

/// A key as the record holds it: borrowed unless it has escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
        struct KeyVisitor;
        impl<'de> serde::de::Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reader straight into the keys' values takes and refuses exactly the
    /// records the whole object's parse does, with the same reasons and values.
    #[test]
    fn json_keys_read_what_the_object_holds_and_refuse_what_it_refuses() {
        let keys = JsonKeys::new(["ts", "user_id", "ts", "attrs"]);
        assert_eq!(keys.len(), 3);
        let records: [&[u8]; 14] = [
            br#"{"ts": 1, "user_id": 2, "other": [1, {"x": null}], "attrs": {"a": 1}}"#,
            br#"{"user_id": 1, "user_id": 4.5}"#,
            br#"{"\u0074s": "2024-01-01T00:00:00Z", "u\"": 1}"#,
            br#"{}"#,
            br#"[1, 2]"#,
            b"3",
            br#""text""#,
            b"null",
            br#"{"ts": 1"#,
            br#"{"ts": 1} x"#,
            br#"{"other": 1e999, "ts": 1}"#,
            b"{\"other\": \"\xff\", \"ts\": 1}",
            b"",
            br#"{"ts": 1, "other": 18446744073709551616}"#,
        ];
        let mut slots = Vec::new();
        for record in records {
            let read = keys.read(record, &mut slots);
            let object = RecordFormat::Json.object(record);
            match (&read, object) {
                (Ok(()), Ok(o)) => {
                    for (name, slot) in ["ts", "user_id", "attrs"].iter().zip(&slots) {
                        assert_eq!(slot.as_ref(), o.get(*name), "{record:?} {name}");
                    }
                }
                (Err(e), Err(f)) => assert_eq!(*e, f),
                (r, o) => panic!("{record:?}: read {r:?}, object {o:?}"),
            }
        }
    }
}
