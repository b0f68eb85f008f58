//! Reads are answered by the connections' `Dispatch` without the router
//! (`api::dispatch`); every other request goes through it. Each request here is sent
//! both ways, in process, and must get the same status, content type and body; and
//! on a real socket a read is still admitted (token, in-flight place) before its
//! body is read and refused past the body limit while it arrives.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use serde_json::json;
use tower::ServiceExt;

use crate::support::*;

fn fraud(config: featc_server::ServeConfig) -> Served {
    Served::start(Path::new("examples/fraud"), config, true)
}

/// One request: method, path, headers, body.
type Sent = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    Vec<u8>,
);

fn build(sent: &Sent) -> Request<Body> {
    let (method, path, headers, body) = sent;
    let mut request = Request::builder().method(*method).uri(*path);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.body(Body::from(body.clone())).expect("a request")
}

/// The status, content type and body of an answer.
async fn parts(response: axum::response::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or("?").to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("the body");
    (status, kind, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn a_read_is_answered_alike_with_and_without_the_router() {
    let mut config = Served::config();
    config.read_token = Some("reader".into());
    config.push_token = Some("pusher".into());
    config.body_limit = 2_000;
    let served = fraud(config);
    let json = ("Content-Type", "application/json");
    let token = ("Authorization", "Bearer reader");
    let body = |v: serde_json::Value| serde_json::to_vec(&v).expect("json");
    let at = "2024-04-02T00:00:00Z";
    let ids: Vec<i64> = (0..400).collect();
    let sent: Vec<Sent> = vec![
        (
            "POST",
            "/get-online-features",
            vec![json, token],
            body(json!({"feature_service": "fraud_v1", "at": at,
                "entities": {"user_id": [1, 2, 999], "merchant_id": ["m1", "m2", "m3"]}})),
        ),
        (
            "POST",
            "/get-online-features",
            vec![json, token],
            body(
                json!({"features": ["user_spend:txn_count_7d", "txn_count_1h"],
                "full_feature_names": true, "at": at, "entities": {"user_id": [1]}}),
            ),
        ),
        // Refusals: an unknown feature, broken JSON, a missing or wrong token, a
        // body past the limit, a read before the first event's time.
        (
            "POST",
            "/get-online-features",
            vec![json, token],
            body(json!({"features": ["user_spend:txn_count_7"], "entities": {"user_id": [1]}})),
        ),
        (
            "POST",
            "/get-online-features",
            vec![json, token],
            b"{\"features\":".to_vec(),
        ),
        (
            "POST",
            "/get-online-features",
            vec![json],
            body(json!({"features": []})),
        ),
        (
            "POST",
            "/get-online-features",
            vec![json, ("Authorization", "Bearer pusher")],
            body(json!({"features": []})),
        ),
        (
            "POST",
            "/get-online-features",
            vec![json, token],
            body(json!({"features": ["txn_count_1h"], "at": at, "entities": {"user_id": ids}})),
        ),
        (
            "POST",
            "/get-online-features",
            vec![json, token],
            body(
                json!({"features": ["txn_count_1h"], "at": "1990-01-01T00:00:00Z",
                "entities": {"user_id": [1]}}),
            ),
        ),
        // An Arrow read (refused: its body is JSON), and other methods and paths,
        // which the router answers either way.
        (
            "POST",
            "/get-online-features?features=txn_count_1h",
            vec![
                ("Content-Type", "application/vnd.apache.arrow.stream"),
                token,
            ],
            b"{}".to_vec(),
        ),
        ("GET", "/get-online-features", vec![token], Vec::new()),
        (
            "POST",
            "/get-online-features/",
            vec![json, token],
            b"{}".to_vec(),
        ),
        ("GET", "/health", vec![], Vec::new()),
        ("POST", "/push", vec![json], b"{}".to_vec()),
    ];
    let router = served.client.clone();
    let dispatch = served.dispatch();
    served.block_on(async {
        for (i, s) in sent.iter().enumerate() {
            let by_router = parts(router.router().oneshot(build(s)).await.expect("answered")).await;
            let direct = parts(dispatch.answer(build(s)).await.expect("answered")).await;
            assert_eq!(direct, by_router, "request {i}: {} {}", s.0, s.1);
            if i < 2 {
                assert_eq!(direct.0, 200, "request {i}: {}", direct.2);
            }
        }
    });
    served.stop();
}

/// Sends `head` on a fresh connection and reads the answer's status line.
fn status_of(served: &Served, head: &str) -> (u16, Duration) {
    let mut s = std::net::TcpStream::connect(served.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let started = Instant::now();
    s.write_all(head.as_bytes()).expect("send");
    let mut answer = [0u8; 12];
    std::io::Read::read_exact(&mut s, &mut answer).expect("an answer");
    let line = String::from_utf8_lossy(&answer).into_owned();
    let status = line[9..12].parse().expect("a status");
    (status, started.elapsed())
}

fn read_head(length: usize, token: &str) -> String {
    format!(
        "POST /get-online-features HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer {token}\r\nContent-Length: {length}\r\n\r\n"
    )
}

#[test]
fn a_read_on_a_socket_is_admitted_before_its_body_is_read() {
    let mut config = Served::config();
    config.read_token = Some("reader".into());
    config.push_token = Some("pusher".into());
    config.max_in_flight = 1;
    config.body_limit = 1_000;
    let served = fraud(config);
    // 64 MiB announced, none sent: refused at once, the body never waited for.
    let (status, took) = status_of(&served, &read_head(64 << 20, "wrong"));
    assert_eq!(status, 401);
    assert!(took < Duration::from_secs(2), "{took:?}");
    // Past the limit: refused as the bytes arrive, not once all 64 MiB came.
    let big = format!("{}{}", read_head(64 << 20, "reader"), " ".repeat(5_000));
    let (status, took) = status_of(&served, &big);
    assert_eq!(status, 413);
    assert!(took < Duration::from_secs(2), "{took:?}");
    // A read whose body never comes holds the one in-flight place.
    let mut holder = std::net::TcpStream::connect(served.addr()).expect("connect");
    holder
        .write_all(read_head(500, "reader").as_bytes())
        .expect("send");
    std::thread::sleep(Duration::from_millis(200));
    let small = format!("{}{{}}", read_head(2, "reader"));
    assert_eq!(status_of(&served, &small).0, 503);
    drop(holder);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(status_of(&served, &small).0, 400, "the place is free again");
    served.stop();
}
