//! The dead-letter store over HTTP (docs/serving.md, "Dead letters"): late events
//! under `--late dead-letter` are kept out of the state and listed by `GET
//! /dead-letters` with their source, reason, origin and the event as pushed;
//! filtered, paged, counted on `/metrics`, bounded by `--dead-letter-bytes`, guarded
//! by the read token, and the same after a restart from the state directory.

use serde_json::{json, Value as Json};

use crate::support::*;

const HOUR: i64 = 3_600_000_000;
/// 2024-03-01T12:00:00Z.
const T: i64 = 1_709_294_400_000_000;

fn project(test: &str) -> std::path::PathBuf {
    project_dir(
        &format!("dead-letters-{test}"),
        "source clicks {\n    time ts\n    columns { user_id: int64, page: string }\n}\n\
         entity user { key user_id: int64 }\n\
         view c from clicks by user {\n    feature clicks_all = count(*)\n}\n",
    )
}

fn config(state: Option<&std::path::Path>) -> featc_server::ServeConfig {
    let mut config = Served::config();
    config.late_policy = featc_runtime::stream::LatePolicy::DeadLetter;
    // Events of 2024 are far behind the wall clock, never ahead of it.
    config.state = state.map(|p| p.to_path_buf());
    config
}

fn push(served: &Served, rows: &[(i64, i64, &str)], key: Option<&str>) -> Json {
    let times: Vec<String> = rows
        .iter()
        .map(|r| featc_server::wire::time::format_time(r.0))
        .collect();
    let body = json!({
        "push_source_name": "clicks",
        "df": {
            "ts": times,
            "user_id": rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "page": rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        },
    });
    let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
    let (status, answer) = post_with(served, "/push", &headers, &body);
    assert_eq!(status, 200, "{answer}");
    answer
}

fn list(served: &Served, query: &str) -> Json {
    let (status, text) = get(served, &format!("/dead-letters{query}"));
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).expect("json")
}

fn users(listing: &Json) -> Vec<i64> {
    listing["letters"]
        .as_array()
        .expect("letters")
        .iter()
        .map(|l| l["event"]["user_id"].as_i64().expect("user_id"))
        .collect()
}

/// Pushes one event far ahead, then `n` late ones (users 1..=n).
fn fill(served: &Served, n: i64) {
    push(served, &[(T + 3 * HOUR, 100, "/ahead")], None);
    let late: Vec<(i64, i64, &str)> = (1..=n).map(|u| (T + u, u, "/late")).collect();
    let answer = push(served, &late, Some("late-ones"));
    assert_eq!(answer["late"], n, "{answer}");
}

#[test]
fn late_events_are_listed_with_where_they_came_from_and_what_they_were() {
    let work = project("late_events");
    let served = Served::start(&work, config(None), false);
    fill(&served, 5);
    let all = list(&served, "");
    assert_eq!(users(&all), vec![1, 2, 3, 4, 5], "{all}");
    let first = &all["letters"][0];
    assert_eq!(first["source"], "clicks");
    assert_eq!(first["reason"], "late");
    assert_eq!(first["origin"], json!({"push": {"key": "late-ones"}}));
    // The event as a push spells it: it can be pushed again as is.
    assert_eq!(
        first["event"],
        json!({"ts": "2024-03-01T12:00:00.000001Z", "user_id": 1, "page": "/late"})
    );
    let detail = first["detail"].as_str().expect("detail");
    assert!(detail.contains("watermark"), "{detail}");
    assert_eq!(all["next"], Json::Null);
    assert_eq!(all["kept"], 5);
    assert_eq!(
        all["counts"],
        json!([{"source": "clicks", "reason": "late", "total": 5,
                "bytes": all["kept_bytes"], "kept": 5, "kept_bytes": all["kept_bytes"]}])
    );
    // Paged: two at a time, from the cursor each page gives.
    let page = list(&served, "?limit=2");
    assert_eq!(users(&page), vec![1, 2]);
    let next = page["next"].as_u64().expect("a cursor");
    let rest = list(&served, &format!("?limit=2&after={next}"));
    assert_eq!(users(&rest), vec![3, 4]);
    // Filters.
    assert_eq!(users(&list(&served, "?reason=late&source=clicks")).len(), 5);
    assert!(users(&list(&served, "?reason=future")).is_empty());
    assert!(users(&list(&served, "?origin=kafka")).is_empty());
    // Counted on /metrics, by source and reason.
    let late = "featc_dead_letters_total{source=\"clicks\",reason=\"late\"}";
    assert_eq!(metric(&served, late), 5.0);
    assert_eq!(metric(&served, "featc_dead_lettered_total"), 5.0);
    // The state holds none of them.
    let (status, answer) = post(
        &served,
        "/get-online-features",
        &json!({"features": ["clicks_all"], "entities": {"user_id": [1]}}),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["results"][1]["values"][0], 0, "{answer}");
    assert_eq!(answer["results"][1]["statuses"][0], "NOT_FOUND", "{answer}");
}

#[test]
fn a_bad_listing_is_refused_with_the_field_named() {
    let work = project("bad_listing");
    let served = Served::start(&work, config(None), false);
    for (query, status, code) in [
        ("?reason=tardy", 400, "bad_field"),
        ("?limit=many", 400, "bad_field"),
        ("?after=-1", 400, "bad_field"),
        ("?sauce=clicks", 400, "unknown_field"),
        ("?source=clikcs", 404, "unknown_source"),
    ] {
        let (got, text) = get(&served, &format!("/dead-letters{query}"));
        assert_eq!(got, status, "{query}: {text}");
        assert!(text.contains(code), "{query}: {text}");
    }
}

#[test]
fn the_store_keeps_its_bound_and_counts_what_it_dropped() {
    let work = project("bound");
    let mut config = config(None);
    // About three letters' worth.
    config.dead_letters.max_bytes = 600;
    let served = Served::start(&work, config, false);
    fill(&served, 10);
    let listing = list(&served, "");
    let kept = users(&listing);
    assert!(!kept.is_empty() && kept.len() < 10, "{listing}");
    // The newest are kept.
    assert_eq!(kept.last(), Some(&10), "{listing}");
    assert!(listing["kept_bytes"].as_u64().expect("bytes") <= 600);
    assert_eq!(listing["evicted"], 10 - kept.len(), "{listing}");
    assert_eq!(listing["counts"][0]["total"], 10, "every letter counted");
    let evicted = "featc_dead_letters_dropped_total{why=\"evicted\"}";
    assert_eq!(metric(&served, evicted), (10 - kept.len()) as f64);
}

#[test]
fn dead_letters_need_the_read_token() {
    let work = project("token");
    let mut config = config(None);
    config.read_token = Some("reader".into());
    let served = Served::start(&work, config, false);
    let (status, _) = get(&served, "/dead-letters");
    assert_eq!(status, 401);
    let (status, body) = request(
        &served,
        "GET",
        "/dead-letters",
        &[("Authorization", "Bearer reader")],
        b"",
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
}

#[test]
fn a_restart_lists_the_same_letters_and_counts() {
    let work = project("restart");
    let state = work.join("state");
    let served = Served::start(&work, config(Some(&state)), false);
    fill(&served, 4);
    let before = list(&served, "");
    served.stop();
    let served = Served::start(&work, config(Some(&state)), false);
    let after = list(&served, "");
    let strip = |l: &Json| {
        let mut l = l.clone();
        // Letters re-made by replaying the log count their retention from the restart.
        for letter in l["letters"].as_array_mut().expect("letters") {
            letter["kept_at"] = Json::Null;
        }
        l
    };
    assert_eq!(strip(&after), strip(&before));
    // A later late push is counted once more, not re-counted from the log.
    push(&served, &[(T, 9, "/again")], None);
    assert_eq!(list(&served, "")["counts"][0]["total"], 5);
}
