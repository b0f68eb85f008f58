//! `featc serve` as a process: its token files guard reads and pushes and never leak
//! (not in answers, not on stderr), a public address without tokens is refused before
//! it listens, its list features and request-context reads answer what `featc
//! training-set` computes, `featc build --emit ir` prints freshness contracts, and
//! `--health-listen` answers on an address of its own.
//! (What the server answers in process is featc-server's tests:
//! server/tests/serve_requests.rs.)

use crate::serve_common;

use serde_json::{json, Value as Json};
use serve_common::*;
use std::path::{Path, PathBuf};

/// The test's own scratch folder, fresh.
fn scratch(test: &str) -> PathBuf {
    crate::cli_common::scratch(&format!("serve_requests/{test}"))
}

/// The fraud example served, its stderr in `work`.
fn fraud(extra: &[&str], work: &Path) -> Served {
    let mut args = vec!["examples/fraud", "--bootstrap", "--clock", "events"];
    args.extend_from_slice(extra);
    let served = Served::start(&args, &work.join("stderr.txt"));
    served.wait_ready();
    served
}

fn expect_error(
    addr: &str,
    path: &str,
    body: &Json,
    status: u16,
    code: &str,
    field: &str,
) -> String {
    let (s, answer) = post(addr, path, body);
    assert_eq!(s, status, "{body} -> {answer}");
    let error = refusal(&answer);
    assert_eq!(error["code"], code, "{body} -> {answer}");
    assert_eq!(
        error["field"].as_str().unwrap_or(""),
        field,
        "{body} -> {answer}"
    );
    error["message"].as_str().expect("message").to_string()
}

fn txn(rows: usize) -> serde_json::Map<String, Json> {
    let mut df = serde_json::Map::new();
    df.insert("ts".into(), json!(vec!["2024-04-01T00:00:00Z"; rows]));
    df.insert("user_id".into(), json!(vec![7; rows]));
    df.insert("merchant_id".into(), json!(vec!["m1"; rows]));
    df.insert("amount".into(), json!(vec![10.5; rows]));
    df.insert("category".into(), json!(vec!["dining"; rows]));
    df.insert("is_mobile".into(), json!(vec![true; rows]));
    df
}

#[test]
fn tokens_guard_reads_and_pushes_and_never_leak() {
    let dir = scratch("tokens");
    let (read_token, push_token) = ("r3ad-s3cret-1", "pu5h-s3cret-2");
    std::fs::write(dir.join("read"), format!("{read_token}\n")).expect("write");
    std::fs::write(dir.join("push"), push_token).expect("write");
    let read_file = dir.join("read").display().to_string();
    let push_file = dir.join("push").display().to_string();
    let served = fraud(
        &[
            "--read-token-file",
            &read_file,
            "--push-token-file",
            &push_file,
        ],
        &dir,
    );
    let a = served.addr.as_str();
    let read = json!({"features": ["txn_count_1h"], "entities": {"user_id": [1]}});
    let push = json!({"push_source_name": "transactions", "df": txn(1)});
    let bearer = |t: &str| format!("Bearer {t}");
    for (path, body, headers) in [
        ("/get-online-features", &read, vec![]),
        ("/get-online-features", &read, vec![bearer("wrong")]),
        ("/get-online-features", &read, vec![bearer(push_token)]),
        ("/push", &push, vec![bearer(read_token)]),
        ("/push", &push, vec![]),
    ] {
        let h: Vec<(&str, &str)> = headers
            .iter()
            .map(|v| ("Authorization", v.as_str()))
            .collect();
        let (s, answer) = post_with(a, path, &h, body).expect("answer");
        assert_eq!(s, 401, "{path} {headers:?}: {answer}");
        assert_eq!(refusal(&answer)["code"], "unauthorized");
        let text = answer.to_string();
        assert!(
            !text.contains(read_token) && !text.contains(push_token),
            "{text}"
        );
    }
    let ok_read = bearer(read_token);
    let (s, answer) = post_with(
        a,
        "/get-online-features",
        &[("Authorization", &ok_read)],
        &read,
    )
    .expect("answer");
    assert_eq!(s, 200, "{answer}");
    let ok_push = bearer(push_token);
    let (s, answer) = post_with(a, "/push", &[("Authorization", &ok_push)], &push).expect("answer");
    assert_eq!(s, 200, "{answer}");
    // `/metrics` is guarded like reads (docs/serving.md, "Operations").
    assert_eq!(get(a, "/metrics").0, 401);
    let read_auth = [("Authorization", ok_read.as_str())];
    assert_eq!(metric_as(a, "featc_unauthorized_total", &read_auth), 6.0);
    let stderr = served.stderr_text();
    assert!(!stderr.contains(read_token) && !stderr.contains(push_token));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_public_address_without_tokens_is_refused() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_featc"))
        .args(["serve", "examples/fraud", "--listen", "0.0.0.0:0"])
        .current_dir(repo())
        .output()
        .expect("featc serve");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "it never listened");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--insecure") && stderr.contains("token"),
        "{stderr}"
    );
}

#[test]
fn freshness_contracts_are_printed_in_the_ir() {
    let work = scratch("freshness");
    std::fs::write(
        work.join("clicks.feat"),
        "source clicks {\n    time ts\n    columns { user_id: int64 }\n    freshness 1h\n}\n\
         entity user { key user_id: int64 }\n\
         view recent from clicks by user {\n    freshness 10m\n    feature clicks_1h = count(*) over 1h\n}\n",
    )
    .expect("feat");
    let ir = std::process::Command::new(env!("CARGO_BIN_EXE_featc"))
        .args(["build", work.to_str().expect("path"), "--emit", "ir"])
        .output()
        .expect("featc build");
    let text = String::from_utf8_lossy(&ir.stdout);
    assert!(
        text.contains("  freshness 1h") && text.contains("  freshness 10m"),
        "{text}"
    );
}

/// The delivery example's list features (`last_k`, `first_k`, `top_k`, one over a count
/// window) are served as JSON arrays, a `top_k` entry as `{"value": .., "count": ..}`, equal to the
/// training set's lists at the same times; an unknown restaurant gets `[]`.

#[test]
fn list_features_are_served_as_json_arrays() {
    use featc_runtime::row::list::{json_text, list_at, list_type_of};
    use featc_runtime::value::Value;
    let work = scratch("lists");
    let served = Served::start(
        &["examples/delivery", "--bootstrap", "--clock", "events"],
        &work.join("stderr.txt"),
    );
    served.wait_ready();
    // `items_last5_before` is a list over a count window (`over 5 events exclusive`).
    let features: Vec<String> = [
        "minutes_last3_1d",
        "items_first2_life",
        "items_top3_7d",
        "items_last5_before",
    ]
    .map(String::from)
    .to_vec();
    let delivery = repo().join("examples/delivery");
    let training = training_set(
        &delivery,
        &delivery.join("data/spine.csv"),
        &features,
        &work.join("training.parquet"),
    );
    // The last 13 spine rows: restaurants 1 to 13 on 2024-03-29 (13 never ordered).
    let first = training.num_rows() - 13;
    let body = json!({
        "features": features,
        "entities": {"restaurant_id": (1..=13).collect::<Vec<i64>>()},
        "at": "2024-03-29T00:00:00Z",
    });
    let (status, answer) = post(&served.addr, "/get-online-features", &body);
    assert_eq!(status, 200, "{answer}");
    for (f, name) in features.iter().enumerate() {
        let result = &answer["results"][f + 1];
        let column = training.column_by_name(name).expect("column");
        let ty = list_type_of(column.data_type()).expect("a list column");
        for r in 0..13 {
            let want: Json = match list_at(column.as_ref(), ty, first + r) {
                Some(Value::List(l)) => serde_json::from_str(&json_text(&l)).expect("json"),
                other => panic!("{name} row {r}: {other:?}"),
            };
            assert_eq!(result["values"][r], want, "{name} restaurant {}", r + 1);
        }
        assert_eq!(result["values"][12], json!([]), "{name}");
        assert_eq!(result["statuses"][12], "NOT_FOUND", "{name}");
        assert_eq!(result["statuses"][0], "PRESENT", "{name}");
    }
    // The shapes: floats, int64s, and entries of a value and a count.
    let last3 = &answer["results"][1]["values"][0];
    assert!(
        last3
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(Json::is_f64)),
        "{last3}"
    );
    let first2 = &answer["results"][2]["values"][0];
    assert!(
        first2
            .as_array()
            .is_some_and(|a| a.len() == 2 && a.iter().all(Json::is_i64)),
        "{first2}"
    );
    let top3 = answer["results"][3]["values"][0]
        .as_array()
        .expect("an array")
        .clone();
    assert_eq!(top3.len(), 3);
    for entry in &top3 {
        let keys: Vec<&String> = entry.as_object().expect("an object").keys().collect();
        assert_eq!(keys.len(), 2, "{entry}");
        assert!(
            entry["value"].is_i64() && entry["count"].is_i64(),
            "{entry}"
        );
    }
    let counts: Vec<i64> = top3
        .iter()
        .map(|e| e["count"].as_i64().unwrap_or(0))
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    served.stop_gracefully();
    let _ = std::fs::remove_dir_all(&work);
}

/// Derived features with request fields, read online: `featc serve` answers the
/// delivery example's `eta_v2` with `request_context` exactly as `featc training-set
/// --service eta_v2` computes the same rows (the spine's coordinates and `items`
/// are the request's fields), and refuses a read without them, naming the field.
#[test]
fn request_context_feeds_derived_features_as_the_spine_does() {
    let work = scratch("request");
    let served = Served::start(
        &["examples/delivery", "--bootstrap", "--clock", "events"],
        &work.join("stderr.txt"),
    );
    served.wait_ready();
    let out = work.join("training.csv");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_featc"))
        .args(["training-set", "examples/delivery", "--service", "eta_v2"])
        .args([
            "--spine",
            "examples/delivery/data/spine.csv",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .current_dir(repo())
        .status()
        .expect("featc training-set");
    assert!(status.success());
    let table = std::fs::read_to_string(&out).expect("training set");
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    // The last day's rows: reads at that time see every event before it.
    let rows: Vec<Vec<&str>> = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|r| r[col("ts")] == "2024-03-29T00:00:00Z")
        .collect();
    assert_eq!(rows.len(), 13);
    let cell = |r: &Vec<&str>, name: &str| -> Json {
        match r[col(name)] {
            "" => Json::Null,
            text => serde_json::from_str(text).unwrap_or_else(|_| json!(text)),
        }
    };
    let context: serde_json::Map<String, Json> =
        ["pickup_lat", "pickup_lon", "drop_lat", "drop_lon", "items"]
            .iter()
            .map(|f| {
                (
                    f.to_string(),
                    json!(rows.iter().map(|r| cell(r, f)).collect::<Vec<_>>()),
                )
            })
            .collect();
    let body = json!({
        "feature_service": "eta_v2",
        "entities": {"restaurant_id": rows.iter().map(|r| cell(r, "restaurant_id")).collect::<Vec<_>>()},
        "request_context": context,
        "at": "2024-03-29T00:00:00Z",
    });
    let (status, answer) = post(&served.addr, "/get-online-features", &body);
    assert_eq!(status, 200, "{answer}");
    let names = answer["metadata"]["feature_names"]
        .as_array()
        .expect("names");
    for (i, name) in names.iter().enumerate().skip(1) {
        let name = name.as_str().expect("a name");
        let values = answer["results"][i]["values"].as_array().expect("values");
        for (r, row) in rows.iter().enumerate() {
            let want = cell(row, name);
            let got = &values[r];
            let same = match (want.as_f64(), got.as_f64()) {
                (Some(a), Some(b)) => a.to_bits() == b.to_bits(),
                _ => want == *got,
            };
            assert!(same, "{name} row {r}: training set {want}, served {got}");
        }
    }

    // Without the request's non-nullable field, the read is refused by name.
    let mut missing = body.clone();
    missing["request_context"]
        .as_object_mut()
        .expect("object")
        .remove("drop_lat");
    expect_error(
        &served.addr,
        "/get-online-features",
        &missing,
        400,
        "missing_field",
        "request_context.drop_lat",
    );
    // A feature without request fields needs no context.
    let plain = json!({"features": ["minutes_p90_trend"], "entities": {"restaurant_id": [1]}});
    assert_eq!(post(&served.addr, "/get-online-features", &plain).0, 200);
}

/// `--health-listen` (with `--listen-backlog`) as a deployment starts it: the address
/// it took is on stderr, `/health` answers there while it loads history and once
/// ready, `/metrics` there needs the read token, and other paths are a 404; off
/// loopback without a read token it is refused before anything listens.
#[test]
fn the_health_listener_answers_on_its_own_address() {
    let work = scratch("health");
    let token = work.join("read.token");
    std::fs::write(&token, "reader\n").expect("token");
    let token = token.to_str().expect("path");
    let served = fraud(
        &[
            "--health-listen",
            "127.0.0.1:0",
            "--listen-backlog",
            "128",
            "--read-token-file",
            token,
        ],
        &work,
    );
    let stderr = served.stderr_text();
    let health = stderr
        .lines()
        .find_map(|l| l.strip_prefix("featc serve: health checks on http://"))
        .and_then(|l| l.strip_suffix("/health"))
        .unwrap_or_else(|| panic!("no health address on stderr:\n{stderr}"))
        .to_string();
    assert_ne!(health, served.addr, "an address of its own");
    let (status, body) = get(&health, "/health");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"ready\""), "{body}");
    let (status, _) = get(&health, "/metrics");
    assert_eq!(status, 401, "the read token guards /metrics there too");
    let events = metric_as(
        &health,
        "featc_events_total",
        &[("Authorization", "Bearer reader")],
    );
    assert!(events > 0.0, "the bootstrapped history: {events}");
    let (status, _) = get(&health, "/get-online-features");
    assert_eq!(status, 404, "only /health and /metrics");
    served.stop_gracefully();

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_featc"))
        .args(["serve", "examples/fraud", "--health-listen", "0.0.0.0:0"])
        .current_dir(repo())
        .output()
        .expect("featc serve");
    assert_ne!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "it never listened");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--health-listen"), "{stderr}");
    let _ = std::fs::remove_dir_all(&work);
}
