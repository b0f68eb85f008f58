//! A refused request's error as `featc serve` answers it: Feast's error detail (a JSON
//! string holding an object with `module`, `class` and `message`, which Feast's client
//! raises as that exception), with featc's `code` and `field` in the object
//! (docs/serving.md, "Errors"). Tests read the object.

use serde_json::Value as Json;

/// The error object inside a refusal's body (`body` as JSON), or `Json::Null` when the
/// body is not a refusal (so an assertion on its fields fails and shows the body).
pub fn refusal(body: &Json) -> Json {
    match body {
        Json::String(detail) => serde_json::from_str(detail).unwrap_or(Json::Null),
        _ => Json::Null,
    }
}

/// The error object of a refusal's raw bytes.
pub fn refusal_of(bytes: &[u8]) -> Json {
    serde_json::from_slice(bytes).map_or(Json::Null, |body: Json| refusal(&body))
}
