//! `featc serve` refuses every bad request with a 4xx JSON error naming the field (and
//! never half-applies a push), answers large reads, guards routes with tokens, waits
//! for its bootstrap with 503s, and recognises a retried push.

use crate::serve_common;

use serde_json::{json, Value as Json};
use serve_common::*;

fn fraud(extra: &[&str], name: &str) -> Served {
    let mut args = vec!["examples/fraud", "--bootstrap", "--clock", "events"];
    args.extend_from_slice(extra);
    let stderr = std::env::temp_dir().join(format!("featc-{name}-{}.txt", std::process::id()));
    let served = Served::start(&args, &stderr);
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
    assert_eq!(answer["error"]["code"], code, "{body} -> {answer}");
    assert_eq!(
        answer["error"]["field"].as_str().unwrap_or(""),
        field,
        "{body} -> {answer}"
    );
    answer["error"]["message"]
        .as_str()
        .expect("message")
        .to_string()
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
fn bad_requests_get_a_4xx_naming_the_field() {
    let served = fraud(&["--max-body", "100000"], "bad-requests");
    let a = served.addr.as_str();
    let read = "/get-online-features";
    let (s, raw) = request(a, "POST", read, &[], b"{\"features\":").expect("answer");
    assert_eq!(s, 400, "{}", String::from_utf8_lossy(&raw));
    assert!(String::from_utf8_lossy(&raw).contains("bad_json"));

    let m = expect_error(
        a,
        read,
        &json!({"features": ["user_spend:txn_count_7"], "entities": {"user_id": [1]}}),
        404,
        "unknown_feature",
        "features[0]",
    );
    assert!(m.contains("did you mean `user_spend:txn_count_7d`"), "{m}");
    let m = expect_error(
        a,
        read,
        &json!({"feature_service": "fraud_v2", "entities": {"user_id": [1]}}),
        404,
        "unknown_service",
        "feature_service",
    );
    assert!(m.contains("`fraud_v1`"), "{m}");
    expect_error(
        a,
        read,
        &json!({"features": ["txn_count_1h"], "entities": {"merchant_id": ["m"]}}),
        400,
        "missing_key_column",
        "entities.user_id",
    );
    let m = expect_error(
        a,
        read,
        &json!({"features": ["txn_count_1h"], "entities": {"user_id": [1, "abc"]}}),
        422,
        "bad_value",
        "entities.user_id[1]",
    );
    assert!(m.contains("expected int64, found a string"), "{m}");
    expect_error(
        a,
        read,
        &json!({"features": ["txn_count_1h"], "entities": {"user_id": [1, 2], "merchant_id": ["a"]}}),
        400,
        "length_mismatch",
        "entities.user_id",
    );
    let m = expect_error(
        a,
        read,
        &json!({"features": ["txn_count_1h"], "entitie": {"user_id": [1]}}),
        400,
        "unknown_field",
        "entitie",
    );
    assert!(m.contains("did you mean `entities`"), "{m}");
    expect_error(
        a,
        read,
        &json!({"features": ["txn_count_1h"], "entities": {"user_id": [1]}, "at": "yesterday"}),
        400,
        "bad_field",
        "at",
    );
    expect_error(
        a,
        read,
        &json!({"features": "txn_count_1h", "entities": {"user_id": [1]}}),
        400,
        "bad_field",
        "features",
    );
    expect_error(
        a,
        read,
        &json!({"features": ["txn_count_1h"], "entities": {"user_id": [1]}, "at": 0}),
        409,
        "read_before_horizon",
        "at",
    );

    let push = "/push";
    let events_before = metric(a, "featc_events_total");
    let mut df = txn(4);
    df["amount"][2] = json!("ten");
    let m = expect_error(
        a,
        push,
        &json!({"push_source_name": "transactions", "df": df}),
        422,
        "bad_value",
        "df.amount[2]",
    );
    assert!(
        m.contains("expected float64, found the string \"ten\""),
        "{m}"
    );
    let mut df = txn(3);
    df.remove("ts");
    expect_error(
        a,
        push,
        &json!({"push_source_name": "transactions", "df": df}),
        400,
        "missing_column",
        "df.ts",
    );
    let mut df = txn(3);
    df.remove("merchant_id");
    expect_error(
        a,
        push,
        &json!({"push_source_name": "transactions", "df": df}),
        400,
        "missing_column",
        "df.merchant_id",
    );
    let mut df = txn(3);
    let amount = df.remove("amount").expect("amount");
    df.insert("amout".into(), amount);
    let m = expect_error(
        a,
        push,
        &json!({"push_source_name": "transactions", "df": df}),
        400,
        "unknown_column",
        "df.amout",
    );
    assert!(m.contains("did you mean `amount`"), "{m}");
    let mut df = txn(3);
    df["user_id"][1] = Json::Null;
    expect_error(
        a,
        push,
        &json!({"push_source_name": "transactions", "df": df}),
        422,
        "bad_value",
        "df.user_id[1]",
    );
    expect_error(
        a,
        push,
        &json!({"push_source_name": "transaction", "df": txn(1)}),
        404,
        "unknown_source",
        "push_source_name",
    );
    expect_error(
        a,
        push,
        &json!({"push_source_name": "transactions", "df": txn(1), "to": "offline"}),
        400,
        "bad_field",
        "to",
    );
    let mut df = txn(3);
    df["ts"] = json!(["2024-04-01T00:00:00Z", "2024-04-01T00:00:01Z"]);
    let m = expect_error(
        a,
        push,
        &json!({"push_source_name": "transactions", "df": df}),
        400,
        "length_mismatch",
        "df.user_id",
    );
    assert!(m.contains("where `df.ts` has 2"), "{m}");
    assert_eq!(
        metric(a, "featc_events_total"),
        events_before,
        "refused pushes apply nothing"
    );
    assert!(metric(a, "featc_pushes_refused_total") >= 8.0);

    let big = json!({"push_source_name": "transactions", "df": txn(5000)});
    let (s, answer) = post(a, push, &big);
    assert_eq!(
        (s, answer["error"]["code"].as_str()),
        (413, Some("body_too_large")),
        "{answer}"
    );
    let (s, body) = get(a, "/nope");
    assert_eq!(s, 404);
    assert!(body.contains("not_found"), "{body}");
    assert_eq!(served.terminate().code(), Some(0));
}

#[test]
fn a_read_of_ten_thousand_entities() {
    let served = fraud(&[], "ten-thousand");
    let ids: Vec<i64> = (0..10_000).collect();
    let merchants: Vec<String> = (0..10_000).map(|i| format!("m{}", i % 40)).collect();
    let body = json!({"feature_service": "fraud_v1", "entities": {"user_id": ids, "merchant_id": merchants}});
    let (s, answer) = post(&served.addr, "/get-online-features", &body);
    assert_eq!(s, 200, "{answer}");
    let results = answer["results"].as_array().expect("results");
    assert_eq!(results.len(), 2 + 12);
    for r in results {
        assert_eq!(r["values"].as_array().expect("values").len(), 10_000);
        assert_eq!(r["statuses"].as_array().expect("statuses").len(), 10_000);
    }
    let statuses = results[2]["statuses"].as_array().expect("statuses");
    assert!(statuses.iter().any(|s| s == "PRESENT"));
    assert!(statuses.iter().any(|s| s == "NOT_FOUND"));
    assert_eq!(metric(&served.addr, "featc_entities_read_total"), 10_000.0);
}

#[test]
fn tokens_guard_reads_and_pushes_and_never_leak() {
    let dir = std::env::temp_dir().join(format!("featc-tokens-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
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
        "tokens",
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
        assert_eq!(answer["error"]["code"], "unauthorized");
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
    assert_eq!(metric(a, "featc_unauthorized_total"), 5.0);
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
fn a_retried_push_with_its_idempotency_key_counts_once() {
    let served = fraud(&[], "idempotency");
    let a = served.addr.as_str();
    let push = json!({"push_source_name": "transactions", "df": txn(3)});
    let before = metric(a, "featc_events_total");
    let key = [("Idempotency-Key", "batch-0001")];
    let (s, first) = post_with(a, "/push", &key, &push).expect("answer");
    assert_eq!(
        (s, first["accepted"].as_u64(), first["duplicate"].as_bool()),
        (200, Some(3), Some(false)),
        "{first}"
    );
    let (s, again) = post_with(a, "/push", &key, &push).expect("answer");
    assert_eq!(
        (s, again["accepted"].as_u64(), again["duplicate"].as_bool()),
        (200, Some(3), Some(true)),
        "{again}"
    );
    assert_eq!(metric(a, "featc_events_total"), before + 3.0);
    assert_eq!(metric(a, "featc_pushes_duplicate_total"), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_wait_for_the_bootstrap_with_503() {
    let (_, graph) = compile(&repo().join("examples/fraud"));
    let config = featc_server::ServeConfig::new("127.0.0.1:0".parse().expect("addr"));
    let server = featc_server::Server::start(graph, config)
        .await
        .expect("start");
    let addr = server.addr.to_string();
    let a = addr.clone();
    let (health, read) = tokio::task::spawn_blocking(move || {
        let read = json!({"features": ["txn_count_1h"], "entities": {"user_id": [1]}});
        (get(&a, "/health"), post(&a, "/get-online-features", &read))
    })
    .await
    .expect("client");
    assert_eq!(health.0, 503, "{}", health.1);
    assert!(health.1.contains("bootstrapping"));
    assert_eq!(read.0, 503, "{}", read.1);
    assert_eq!(read.1["error"]["code"], "bootstrapping");
    server.ready().expect("ready");
    let a = addr.clone();
    let (status, _) = tokio::task::spawn_blocking(move || get(&a, "/health"))
        .await
        .expect("client");
    assert_eq!(status, 200);
    server.shutdown().await.expect("a clean stop");
}

/// The ```json blocks of docs/serving.md, in order.
fn doc_blocks() -> Vec<Json> {
    let text = std::fs::read_to_string(repo().join("docs/serving.md")).expect("docs/serving.md");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```json") => current = Some(String::new()),
            (Some(_), "```") => {
                let block = current.take().unwrap_or_default();
                blocks
                    .push(serde_json::from_str(&block).unwrap_or_else(|e| panic!("{e}: {block}")));
            }
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// The keys of every object in `v`, as paths (arrays by their first element).
fn shape(v: &Json, path: &str, out: &mut Vec<String>) {
    match v {
        Json::Object(m) => {
            for (k, x) in m {
                let p = format!("{path}.{k}");
                out.push(p.clone());
                shape(x, &p, out);
            }
        }
        Json::Array(items) => {
            if let Some(x) = items.first() {
                shape(x, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_requests_of_docs_serving_md_are_answered_as_shown() {
    let served = fraud(&[], "docs");
    let blocks = doc_blocks();
    let mut requests = 0;
    for (i, block) in blocks.iter().enumerate() {
        let path = if block.get("entities").is_some() {
            "/get-online-features"
        } else if block.get("push_source_name").is_some() {
            "/push"
        } else {
            continue;
        };
        requests += 1;
        let (status, answer) = post(&served.addr, path, block);
        assert_eq!(status, 200, "docs/serving.md block {i}: {answer}");
        // The answer shown next (if any) has the same shape as the real one.
        if let Some(shown) = blocks.get(i + 1).filter(|b| b.get("metadata").is_some()) {
            let (mut want, mut got) = (Vec::new(), Vec::new());
            shape(shown, "", &mut want);
            shape(&answer, "", &mut got);
            assert_eq!(got, want, "docs/serving.md block {}: {answer}", i + 1);
            assert_eq!(
                answer["metadata"]["feature_names"],
                shown["metadata"]["feature_names"]
            );
        }
    }
    assert!(requests >= 2, "docs/serving.md shows a read and a push");
    let error = blocks
        .iter()
        .find(|b| b.get("error").is_some())
        .expect("an error example");
    let (status, answer) = post(
        &served.addr,
        "/get-online-features",
        &json!({"features": ["txn_count_1h", "txn_count_7"], "entities": {"user_id": [1]}}),
    );
    assert_eq!(status, 404);
    assert_eq!(&answer, error, "the error shown is the one given");
}

/// What each copy of a server's state answers: its counters (all but the state's
/// size, which the reads' cursors change) and every feature of every entity seen in
/// `events`, read at the latest event time. A read moves the copy's cursors, so the
/// copies' bytes differ once reads ran on one of them; their answers must not.
fn answers(
    server: &featc_server::Server,
    project: &featc::ir::Project,
    events: &Events,
) -> [String; 2] {
    use featc_runtime::stream::{Keys, Read, Selection};
    let mut keys: Vec<(String, Vec<featc_runtime::value::Value>)> = Vec::new();
    for entity in &project.entities {
        let key = &entity.keys[0];
        let mut values: Vec<featc_runtime::value::Value> = Vec::new();
        for source in &events.sources {
            if let Some(c) = source.columns.iter().position(|(n, _)| *n == key.name) {
                for (_, row) in &source.rows {
                    let v = featc_server::wire::json::to_value(&row[c], key.ty).expect("a key");
                    if !v.is_null() && !values.contains(&v) {
                        values.push(v);
                    }
                }
            }
        }
        keys.push((entity.name.clone(), values));
    }
    let rows = keys.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    server.state().each_copy(|rt| {
        let t = events
            .sources
            .iter()
            .filter_map(|s| rt.latest_event_time(&s.name))
            .max()
            .expect("events");
        let mut m = rt.metrics();
        m.state_bytes = 0;
        let mut out = format!("{m:?}\n");
        for row in 0..rows {
            let by_entity: Vec<(&str, &[featc_runtime::value::Value])> = keys
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(e, v)| (e.as_str(), std::slice::from_ref(&v[row % v.len()])))
                .collect();
            let read = rt
                .read(&Read::new(Keys::ByEntity(&by_entity), Selection::All, t))
                .expect("a read");
            out.push_str(&format!("{read:?}\n"));
        }
        out
    })
}

/// The server keeps two copies of its state so reads never wait for a push: the copy
/// made after a bootstrap, the copies fed every push (while reads run), and the
/// copies restored on a restart all answer the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_two_copies_of_the_state_stay_equal() {
    let (project, graph) = compile(&repo().join("tests/cases/marketplace"));
    let events = std::sync::Arc::new(events(&project, &graph));
    let order = arrival(&events, 3_600_000_000, 11);
    let (history, live) = order.split_at(order.len() / 2);
    let dir = std::env::temp_dir().join(format!("featc-copies-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = featc_server::ServeConfig::new("127.0.0.1:0".parse().expect("addr"));
    config.state = Some(dir.clone());
    config.clock = featc_server::Clock::Events;
    let server = featc_server::Server::start(graph.clone(), config.clone())
        .await
        .expect("start");
    // History in per-source runs of up to 97 events, as a bootstrap loads it.
    for (s, source) in events.sources.iter().enumerate() {
        let mut rows: Vec<usize> = history.iter().filter(|e| e.0 == s).map(|e| e.1).collect();
        rows.sort_by_key(|&r| source.rows[r].0);
        for run in rows.chunks(97) {
            let body = push_body(source, run).to_string();
            let (name, batch) = featc_server::api::push::parse(server.app(), body.as_bytes(), None)
                .expect("a valid push")
                .into_parts();
            server.bootstrap_batch(&name, &batch).expect("bootstrap");
        }
    }
    server.finish_bootstrap().await.expect("bootstrap ends");
    let [a, b] = answers(&server, &project, &events);
    assert!(
        a == b,
        "the copy made after the bootstrap answers otherwise"
    );
    // The rest pushed over HTTP in batches of random size, with reads alongside.
    let addr = server.addr.to_string();
    let live = live.to_vec();
    let pushing = {
        let events = std::sync::Arc::clone(&events);
        let addr = addr.clone();
        tokio::task::spawn_blocking(move || {
            let mut at = 0;
            let mut n = 0u64;
            while at < live.len() {
                let size = 1 + (mix(n) % 40) as usize;
                let end = (at + size).min(live.len());
                let s = live[at].0;
                let take: Vec<usize> = live[at..end]
                    .iter()
                    .take_while(|e| e.0 == s)
                    .map(|e| e.1)
                    .collect();
                at += take.len();
                n += 1;
                let (status, answer) = post(&addr, "/push", &push_body(&events.sources[s], &take));
                assert_eq!(status, 200, "{answer}");
            }
            n
        })
    };
    let reading = {
        let addr = addr.clone();
        tokio::task::spawn_blocking(move || {
            let body = json!({
                "feature_service": "marketplace_v1",
                "entities": {"buyer_id": [1, 2, 3], "seller_id": ["s1", "s2", "s3"]},
            });
            for _ in 0..300 {
                let (status, answer) = post(&addr, "/get-online-features", &body);
                assert_eq!(status, 200, "{answer}");
            }
        })
    };
    let pushes = pushing.await.expect("pushes");
    reading.await.expect("reads");
    assert!(pushes > 10);
    let [a, b] = answers(&server, &project, &events);
    assert!(a == b, "the copies answer otherwise after {pushes} pushes");
    server.shutdown().await.expect("a clean stop");
    let again = featc_server::Server::start(graph, config)
        .await
        .expect("restart");
    let [c, d] = answers(&again, &project, &events);
    assert!(c == d && c == a, "the restored copies answer otherwise");
    again.shutdown().await.expect("a clean stop");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--single-copy` keeps one copy of the state (half the memory) and still serves
/// what was pushed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_copy_server_serves_its_pushes() {
    let (_, graph) = compile(&repo().join("examples/fraud"));
    let mut config = featc_server::ServeConfig::new("127.0.0.1:0".parse().expect("addr"));
    config.single_copy = true;
    config.clock = featc_server::Clock::Events;
    let server = featc_server::Server::start(graph, config)
        .await
        .expect("start");
    server.ready().expect("ready");
    assert!(!server.state().is_mirrored());
    let addr = server.addr.to_string();
    let read = tokio::task::spawn_blocking(move || {
        let push = json!({"push_source_name": "transactions", "df": txn(3), "to": "online"});
        let (status, answer) = post(&addr, "/push", &push);
        assert_eq!(status, 200, "{answer}");
        let body = json!({"features": ["txn_count_1h"], "entities": {"user_id": [7]}});
        post(&addr, "/get-online-features", &body)
    })
    .await
    .expect("client");
    assert_eq!(read.0, 200, "{}", read.1);
    assert_eq!(read.1["results"][1]["values"][0], 3, "{}", read.1);
    server.shutdown().await.expect("a clean stop");
}

/// `freshness` on a source and a view: `/metrics` shows the tightest contract, and a
/// violation while the latest event is older than it (or there is none).
#[test]
fn freshness_contracts_are_reported_on_metrics() {
    let work = std::env::temp_dir().join(format!("featc-freshness-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work");
    std::fs::write(
        work.join("clicks.feat"),
        "source clicks {\n    time ts\n    columns { user_id: int64 }\n    freshness 1h\n}\n\
         entity user { key user_id: int64 }\n\
         view recent from clicks by user {\n    freshness 10m\n    feature clicks_1h = count(*) over 1h\n}\n",
    )
    .expect("feat");
    let served = Served::start(&[work.to_str().expect("path")], &work.join("serve.txt"));
    served.wait_ready();
    let contract = "featc_source_freshness_contract_seconds{source=\"clicks\"}";
    let violated = "featc_source_freshness_violated{source=\"clicks\"}";
    assert_eq!(metric(&served.addr, contract), 600.0);
    assert_eq!(metric(&served.addr, violated), 1.0, "no event yet");
    let push = |ts: i64| {
        let body = json!({"push_source_name": "clicks", "df": {"ts": [ts], "user_id": [1]}});
        let (status, answer) = post(&served.addr, "/push", &body);
        assert_eq!(status, 200, "{answer}");
    };
    let now = featc_server::wire::time::now_us();
    push(now - 3_600_000_000);
    assert_eq!(metric(&served.addr, violated), 1.0, "an hour old");
    push(now);
    assert_eq!(metric(&served.addr, violated), 0.0, "fresh");
    served.stop_gracefully();
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

/// The delivery example's list features (`last_k`, `first_k`, `top_k`) are served as
/// JSON arrays, a `top_k` entry as `{"value": .., "count": ..}`, equal to the
/// training set's lists at the same times; an unknown restaurant gets `[]`.
#[test]
fn list_features_are_served_as_json_arrays() {
    use featc_runtime::row::list::{json_text, list_at, list_type_of};
    use featc_runtime::value::Value;
    let stderr = std::env::temp_dir().join(format!("featc-lists-{}.txt", std::process::id()));
    let served = Served::start(
        &["examples/delivery", "--bootstrap", "--clock", "events"],
        &stderr,
    );
    served.wait_ready();
    let features: Vec<String> = ["minutes_last3_1d", "items_first2_life", "items_top3_7d"]
        .map(String::from)
        .to_vec();
    let work = std::env::temp_dir().join(format!("featc-lists-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("work folder");
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
    let stderr = std::env::temp_dir().join(format!("featc-request-{}.txt", std::process::id()));
    let served = Served::start(
        &["examples/delivery", "--bootstrap", "--clock", "events"],
        &stderr,
    );
    served.wait_ready();
    let out = std::env::temp_dir().join(format!("featc-request-{}.csv", std::process::id()));
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
