//! `GET /dead-letters`: the state's dead-letter store (`state::dead_letters`), every
//! event kept out of the state with its source, reason, origin and the event itself,
//! filtered by `source`, `reason` and `origin`, paged by `after` (a cursor the answer
//! gives as `next`) and `limit`, with the counts by source and reason. And
//! `GET /kafka/dead-letters`, the Kafka records kept out in the shape it always had.
//! Both are guarded like reads (the `guard` checks the read token).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value as Json};

use super::error::ApiError;
use super::App;
use crate::durable::DeadReason;
use crate::state::dead_letters::{Filter, MAX_LISTED};

/// How many letters a listing gives when it names no `limit`.
const DEFAULT_LIMIT: usize = 100;

pub async fn list(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let filter = match filter(&app, query.as_deref().unwrap_or("")) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let body = app.state.dead_letters(|store| store.listing_json(&filter));
    axum::Json(body).into_response()
}

/// The Kafka records kept out (not decoded, refused, or past the future bound), the
/// first `MAX_LISTED` the store keeps, as `{"total", "records": [{"at", "source",
/// "reason", "payload"}]}`.
pub async fn kafka(State(app): State<Arc<App>>) -> Response {
    let filter = Filter {
        origin: Some("kafka".into()),
        limit: MAX_LISTED,
        ..Filter::default()
    };
    let records: Vec<Json> = app.state.dead_letters(|store| {
        store
            .list(&filter)
            .letters
            .iter()
            .filter(|k| k.letter.reason != DeadReason::Late)
            .map(|k| {
                json!({
                    "at": k.letter.origin["kafka"],
                    "source": k.letter.source,
                    "reason": k.letter.detail,
                    "payload": k.letter.event,
                })
            })
            .collect()
    });
    let body = json!({
        "total": app.kafka.counters.dead.load(Relaxed),
        "records": records,
    });
    axum::Json(body).into_response()
}

fn filter(app: &App, query: &str) -> Result<Filter, ApiError> {
    let mut filter = Filter {
        limit: DEFAULT_LIMIT,
        ..Filter::default()
    };
    let bad = |field: &str, message: String| ApiError::BadField {
        field: field.to_string(),
        message,
    };
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match &*key {
            "source" => match app.state.names().source(&value) {
                Ok(entry) => filter.source = Some(entry.name.clone()),
                Err(suggestion) => {
                    return Err(ApiError::UnknownSource {
                        name: cut(&value),
                        suggestion,
                    })
                }
            },
            "reason" => {
                let reason = DeadReason::from_name(&value).ok_or_else(|| {
                    bad(
                        "reason",
                        "expected one of `late`, `future`, `invalid`".into(),
                    )
                })?;
                filter.reason = Some(reason);
            }
            "origin" => filter.origin = Some(cut(&value)),
            "after" => {
                let after = value.parse().map_err(|_| {
                    bad("after", "expected a letter's `seq` (a whole number)".into())
                })?;
                filter.after = Some(after);
            }
            "limit" => {
                let limit: usize = value.parse().map_err(|_| {
                    bad(
                        "limit",
                        format!("expected a whole number up to {MAX_LISTED}"),
                    )
                })?;
                filter.limit = limit.min(MAX_LISTED);
            }
            other => {
                return Err(ApiError::UnknownField {
                    field: cut(other),
                    suggestion: None,
                })
            }
        }
    }
    Ok(filter)
}

/// A name from the query as an answer shows it: at most `SHOWN` characters (a query
/// can be as long as the request's headers).
fn cut(name: &str) -> String {
    name.chars().take(SHOWN).collect()
}

const SHOWN: usize = 200;
