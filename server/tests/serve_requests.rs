//! The server refuses every bad request with a 4xx JSON error naming the field (and
//! never half-applies a push), answers large reads, waits for its bootstrap with
//! 503s, recognises a retried push, answers the requests docs/serving.md shows as it
//! shows them, keeps its two copies of the state equal (or one, `single_copy`), and
//! reports freshness contracts on `/metrics`.

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value as Json};

use crate::support::*;

/// The test's own scratch folder under this binary's temporary directory, fresh
/// (`server_requests`: the CLI suite's `serve_requests` shares the directory).
fn scratch(test: &str) -> std::path::PathBuf {
    featc_test_support::scratch::fresh_dir(
        Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("server_requests")
            .join(test),
    )
}

/// `featc serve examples/fraud --bootstrap --clock events`, with `config`'s limits.
fn fraud(config: featc_server::ServeConfig) -> Served {
    let mut config = config;
    config.clock = featc_server::Clock::Events;
    Served::start(Path::new("examples/fraud"), config, true)
}

fn expect_error(
    served: &Served,
    path: &str,
    body: &Json,
    status: u16,
    code: &str,
    field: &str,
) -> String {
    let (s, answer) = post(served, path, body);
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
fn bad_requests_get_a_4xx_naming_the_field() {
    let mut config = Served::config();
    config.body_limit = 100_000;
    let served = fraud(config);
    let a = &served;
    let read = "/get-online-features";
    let (s, raw) = request(a, "POST", read, &[], b"{\"features\":");
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
        &json!({"features": ["txn_count_1h"], "entities": {"user_id": [1]}, "at": "1970-01-01T00:00:00Z"}),
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
        "unsupported",
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
        (s, refusal(&answer)["code"].as_str()),
        (413, Some("body_too_large")),
        "{answer}"
    );
    let (s, body) = get(a, "/nope");
    assert_eq!(s, 404);
    assert!(body.contains("not_found"), "{body}");
    served.stop();
}

#[test]
fn a_read_of_ten_thousand_entities() {
    let served = fraud(Served::config());
    let ids: Vec<i64> = (0..10_000).collect();
    let merchants: Vec<String> = (0..10_000).map(|i| format!("m{}", i % 40)).collect();
    let body = json!({"feature_service": "fraud_v1", "entities": {"user_id": ids, "merchant_id": merchants}});
    let (s, answer) = post(&served, "/get-online-features", &body);
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
    assert_eq!(metric(&served, "featc_entities_read_total"), 10_000.0);
}

#[test]
fn a_retried_push_with_its_idempotency_key_counts_once() {
    let served = fraud(Served::config());
    let a = &served;
    let push = json!({"push_source_name": "transactions", "df": txn(3)});
    let before = metric(a, "featc_events_total");
    let key = [("Idempotency-Key", "batch-0001")];
    let (s, first) = post_with(a, "/push", &key, &push);
    assert_eq!(
        (s, first["accepted"].as_u64(), first["duplicate"].as_bool()),
        (200, Some(3), Some(false)),
        "{first}"
    );
    let (s, again) = post_with(a, "/push", &key, &push);
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
    let client = Client::of(&server);
    let read = json!({"features": ["txn_count_1h"], "entities": {"user_id": [1]}});
    let (health, read) = (
        client.get("/health").await,
        client.post("/get-online-features", &read).await,
    );
    assert_eq!(health.0, 503, "{}", health.1);
    assert!(health.1.contains("bootstrapping"));
    assert_eq!(read.0, 503, "{}", read.1);
    assert_eq!(refusal(&read.1)["code"], "bootstrapping");
    server.ready().expect("ready");
    let (status, _) = client.get("/health").await;
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
    let served = fraud(Served::config());
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
        let (status, answer) = post(&served, path, block);
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
    // The error as sent (Feast's detail, a JSON string), then decoded.
    let sent = blocks
        .iter()
        .find(|b| b.is_string())
        .expect("an error example");
    let decoded = blocks
        .iter()
        .find(|b| b.get("module").is_some())
        .expect("the error example decoded");
    let (status, answer) = post(
        &served,
        "/get-online-features",
        &json!({"features": ["txn_count_1h", "txn_count_7"], "entities": {"user_id": [1]}}),
    );
    assert_eq!(status, 404);
    assert_eq!(
        refusal(&answer),
        refusal(sent),
        "the error shown is the one given"
    );
    assert_eq!(
        &refusal(&answer),
        decoded,
        "the error shown is the one given"
    );
}

/// What a server's state answers: its counters (all but the state's size, which the
/// reads' cursors and the cache change) and every feature of every entity seen in
/// `events`, read at the latest event time.
fn answers(server: &featc_server::Server, project: &featc::ir::Project, events: &Events) -> String {
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
    server.state().read(|rt| {
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

/// Loads `history` as a bootstrap does (per-source runs of up to 97 events).
async fn bootstrap(
    server: &featc_server::Server,
    events: &Events,
    history: &[(usize, usize, i64)],
) {
    for (s, source) in events.sources.iter().enumerate() {
        let mut rows: Vec<usize> = history.iter().filter(|e| e.0 == s).map(|e| e.1).collect();
        rows.sort_by_key(|&r| source.rows[r].0);
        for run in rows.chunks(97) {
            let body = push_body(source, run).to_string();
            let (name, batch) = featc_server::api::push::parse(server.app(), body.as_bytes(), None)
                .expect("a valid push")
                .0
                .into_parts();
            server.bootstrap_batch(&name, &batch).expect("bootstrap");
        }
    }
    server.finish_bootstrap().await.expect("bootstrap ends");
}

/// Pushes `live` over HTTP in runs of random size (seeded), with `reads` reads of the
/// service alongside; returns how many pushes it took.
async fn push_with_reads(
    client: &Client,
    events: &Arc<Events>,
    live: &[(usize, usize, i64)],
    reads: usize,
) -> u64 {
    let live = live.to_vec();
    let pushing = {
        let events = Arc::clone(events);
        let client = client.clone();
        tokio::spawn(async move {
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
                let (status, answer) = client
                    .post("/push", &push_body(&events.sources[s], &take))
                    .await;
                assert_eq!(status, 200, "{answer}");
            }
            n
        })
    };
    let reading = {
        let client = client.clone();
        tokio::spawn(async move {
            let body = json!({
                "feature_service": "marketplace_v1",
                "entities": {"buyer_id": [1, 2, 3], "seller_id": ["s1", "s2", "s3"]},
            });
            for _ in 0..reads {
                let (status, answer) = client.post("/get-online-features", &body).await;
                assert_eq!(status, 200, "{answer}");
            }
        })
    };
    let pushes = pushing.await.expect("pushes");
    reading.await.expect("reads");
    pushes
}

/// Entity states on a disk tier whose cache holds almost nothing (so nearly every
/// push and read loads its entity from the store, and evicts another): after a
/// bootstrap, after pushes with reads alongside, and after a restart (a checkpoint
/// of everything but the entities, and the store), the server answers exactly what
/// a server holding everything in memory answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_tier_with_a_tiny_cache_answers_as_memory_does() {
    let (project, graph) = compile(&repo().join("tests/cases/marketplace"));
    let events = Arc::new(events(&project, &graph).await);
    let order = arrival(&events, 3_600_000_000, 11);
    let (history, live) = order.split_at(order.len() / 2);
    let dir = scratch("tier");
    let mut tiered = featc_server::ServeConfig::new("127.0.0.1:0".parse().expect("addr"));
    tiered.clock = featc_server::Clock::Events;
    let mut memory = tiered.clone();
    tiered.state = Some(dir.clone());
    tiered.memory_limit = Some(4096);
    let disk = featc_server::Server::start(graph.clone(), tiered.clone())
        .await
        .expect("start");
    let held = featc_server::Server::start(graph.clone(), memory.clone())
        .await
        .expect("start");
    bootstrap(&disk, &events, history).await;
    bootstrap(&held, &events, history).await;
    let expected = answers(&held, &project, &events);
    assert_eq!(
        answers(&disk, &project, &events),
        expected,
        "after the bootstrap"
    );
    let pushes = push_with_reads(&Client::of(&disk), &events, live, 300).await;
    push_with_reads(&Client::of(&held), &events, live, 0).await;
    assert!(pushes > 10);
    let tier = disk.state().runtime_view().tier;
    assert!(
        tier.enabled && tier.evictions > 0 && tier.loads > 0,
        "{tier:?}"
    );
    let expected = answers(&held, &project, &events);
    assert_eq!(
        answers(&disk, &project, &events),
        expected,
        "after {pushes} pushes"
    );
    disk.shutdown().await.expect("a clean stop");
    held.shutdown().await.expect("a clean stop");
    let again = featc_server::Server::start(graph, tiered)
        .await
        .expect("restart");
    assert_eq!(
        answers(&again, &project, &events),
        expected,
        "after a restart"
    );
    again.shutdown().await.expect("a clean stop");
    memory.state = None;
    let _ = std::fs::remove_dir_all(&dir);
}

/// `freshness` on a source and a view: `/metrics` shows the tightest contract, and a
/// violation while the latest event is older than it (or there is none). (That `featc
/// build --emit ir` prints both is cli/tests/serve_requests.rs's.)
#[test]
fn freshness_contracts_are_reported_on_metrics() {
    let work = scratch("freshness");
    std::fs::write(
        work.join("clicks.feat"),
        "source clicks {\n    time ts\n    columns { user_id: int64 }\n    freshness 1h\n}\n\
         entity user { key user_id: int64 }\n\
         view recent from clicks by user {\n    freshness 10m\n    feature clicks_1h = count(*) over 1h\n}\n",
    )
    .expect("feat");
    let served = Served::start(&work, Served::config(), false);
    let contract = "featc_source_freshness_contract_seconds{source=\"clicks\"}";
    let violated = "featc_source_freshness_violated{source=\"clicks\"}";
    assert_eq!(metric(&served, contract), 600.0);
    assert_eq!(metric(&served, violated), 1.0, "no event yet");
    let push = |ts: i64| {
        let body = json!({"push_source_name": "clicks", "df": {"ts": [ts], "user_id": [1]}});
        let (status, answer) = post(&served, "/push", &body);
        assert_eq!(status, 200, "{answer}");
    };
    let now = featc_server::wire::time::now_us();
    push(now - 3_600_000_000);
    assert_eq!(metric(&served, violated), 1.0, "an hour old");
    push(now);
    assert_eq!(metric(&served, violated), 0.0, "fresh");
    served.stop();
    let _ = std::fs::remove_dir_all(&work);
}

/// Expiry through the server: users whose every window passed read `NOT_FOUND` and
/// leave the disk tier and the count of entities (`featc_entities_expired_total`),
/// with a cache too small to hold them, across a restart.
#[test]
fn entities_past_their_retention_leave_the_disk_tier() {
    let work = scratch("expiry");
    std::fs::write(
        work.join("clicks.feat"),
        "source clicks {\n    time ts\n    columns { user_id: int64 }\n}\n\
         entity user { key user_id: int64 }\n\
         view recent from clicks by user {\n    feature clicks_1h = count(*) over 1h\n}\n",
    )
    .expect("feat");
    let mut config = Served::config();
    config.clock = featc_server::Clock::Events;
    config.state = Some(work.join("state"));
    config.memory_limit = Some(4096);
    let hour = 3_600_000_000i64;
    let t0 = 1_700_000_000_000_000i64;
    let push = |served: &Served, ts: i64, users: Vec<i64>| {
        let n = users.len();
        let body =
            json!({"push_source_name": "clicks", "df": {"ts": vec![ts; n], "user_id": users}});
        let (status, answer) = post(served, "/push", &body);
        assert_eq!(status, 200, "{answer}");
    };
    let status_of = |served: &Served, user: i64| {
        let body = json!({"features": ["clicks_1h"], "entities": {"user_id": [user]}});
        let (s, answer) = post(served, "/get-online-features", &body);
        assert_eq!(s, 200, "{answer}");
        (
            answer["results"][1]["values"][0].clone(),
            answer["results"][1]["statuses"][0].clone(),
        )
    };
    let served = Served::start(&work, config.clone(), false);
    push(&served, t0, (0..300).collect());
    assert_eq!(status_of(&served, 7), (json!(1), json!("PRESENT")));
    push(&served, t0 + 3 * hour, vec![1_000]);
    // The next push promises the state that watermark, and sweeps.
    push(&served, t0 + 3 * hour + 1, vec![1_000]);
    assert_eq!(status_of(&served, 7), (json!(0), json!("NOT_FOUND")));
    assert_eq!(metric(&served, "featc_entities_expired_total"), 300.0);
    assert_eq!(metric(&served, "featc_entities"), 1.0);
    served.stop();
    let again = Served::start(&work, config, false);
    assert_eq!(metric(&again, "featc_entities_expired_total"), 300.0);
    assert_eq!(metric(&again, "featc_entities"), 1.0);
    assert_eq!(status_of(&again, 7), (json!(0), json!("NOT_FOUND")));
    assert_eq!(status_of(&again, 1_000), (json!(2), json!("PRESENT")));
    again.stop();
    let _ = std::fs::remove_dir_all(&work);
}
