//! The bounds of the server's resources (docs/serving.md, "Limits"), each probed
//! the way an abusive client would: every probe ends in a 4xx, 429 or 503 naming
//! its cause (or a closed connection, for the timeouts), and the server answers
//! `/health` and reads all along. Connection bounds use real sockets to the server's
//! listener; body bounds go through the router in process.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::ipc::writer::{IpcWriteOptions, StreamWriter};
use datafusion::arrow::ipc::{root_as_message, CompressionType, MessageHeader};
use serde_json::{json, Value as Json};

use crate::support::*;

const ARROW: (&str, &str) = ("Content-Type", "application/vnd.apache.arrow.stream");

fn fraud(config: featc_server::ServeConfig) -> Served {
    Served::start(Path::new("examples/fraud"), config, false)
}

/// A connection to `served`'s listener, whose reads give up after 5 s.
fn connect(served: &Served) -> TcpStream {
    let s = TcpStream::connect(served.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s
}

/// Reads one answer: its status, head and body (by `Content-Length`).
fn answer(s: &mut TcpStream) -> (u16, String, String) {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).expect("an answer");
        assert!(n > 0, "closed without an answer");
        bytes.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while bytes.len() < head_end + length {
        let n = s.read(&mut chunk).expect("the body");
        assert!(n > 0, "closed inside the body");
        bytes.extend_from_slice(&chunk[..n]);
    }
    let status = head[9..12].parse().expect("a status");
    let body = String::from_utf8_lossy(&bytes[head_end..head_end + length]).into_owned();
    (status, head, body)
}

/// Sends `request` on a new connection and reads the answer.
fn exchange(served: &Served, request: &str) -> (u16, String, String) {
    let mut s = connect(served);
    s.write_all(request.as_bytes()).expect("send");
    answer(&mut s)
}

/// Whether the server closes `s` within `within` (reading EOF or a reset).
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).expect("timeout");
    let mut byte = [0u8; 1];
    loop {
        match s.read(&mut byte) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true,
        }
    }
}

/// `/health` answers 200, quickly.
fn healthy(served: &Served) {
    let started = Instant::now();
    let (status, _, body) = exchange(served, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 200, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "/health took {:?}",
        started.elapsed()
    );
}

fn code(body: &str) -> String {
    let json: Json = serde_json::from_str(body).expect("a JSON error");
    refusal(&json)["code"].as_str().expect("a code").to_string()
}

fn push_head(length: usize, token: &str) -> String {
    format!(
        "POST /push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer {token}\r\nContent-Length: {length}\r\n\r\n"
    )
}

#[test]
fn a_request_with_a_wrong_token_is_refused_before_its_body_is_read() {
    let mut config = Served::config();
    config.push_token = Some("secret".into());
    let served = fraud(config);
    // 64 MiB announced, none sent: the 401 comes without waiting for the body.
    let mut s = connect(&served);
    s.write_all(push_head(64 << 20, "wrong").as_bytes())
        .expect("send");
    let (status, _, body) = answer(&mut s);
    assert_eq!(status, 401);
    assert_eq!(code(&body), "unauthorized");
    healthy(&served);
}

#[test]
fn requests_past_the_in_flight_limit_are_answered_503_with_retry_after() {
    let mut config = Served::config();
    config.max_in_flight = 1;
    let served = fraud(config);
    // A push whose body never comes holds the one place.
    let mut holder = connect(&served);
    holder
        .write_all(push_head(1000, "none").as_bytes())
        .expect("send");
    std::thread::sleep(Duration::from_millis(200));
    let read = "POST /get-online-features HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    let (status, head, body) = exchange(&served, read);
    assert_eq!(status, 503, "{body}");
    assert_eq!(code(&body), "too_many_requests");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 1"),
        "{head}"
    );
    healthy(&served);
    drop(holder);
    std::thread::sleep(Duration::from_millis(200));
    let (status, _, body) = exchange(&served, read);
    assert_eq!(status, 400, "the place is free again: {body}");
    assert!(metric_line(&served, "featc_overloaded_total{cause=\"in_flight\"}") >= 1.0);
}

#[test]
fn pushes_past_the_queue_limit_are_answered_429() {
    let mut config = Served::config();
    config.max_queued_pushes = 1;
    let served = fraud(config);
    let mut holder = connect(&served);
    holder
        .write_all(push_head(1000, "none").as_bytes())
        .expect("send");
    std::thread::sleep(Duration::from_millis(200));
    let (status, head, body) = exchange(
        &served,
        "POST /push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    );
    assert_eq!(status, 429, "{body}");
    assert_eq!(code(&body), "push_queue_full");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 1"),
        "{head}"
    );
    // Reads are not pushes: they still get through.
    let (status, _, body) = exchange(
        &served,
        "POST /get-online-features HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    );
    assert_eq!(code(&body), "missing_field", "{status} {body}");
    healthy(&served);
}

#[test]
fn connections_past_the_limit_get_health_or_a_503_and_are_closed() {
    let mut config = Served::config();
    config.max_connections = 2;
    let served = fraud(config);
    let idle: Vec<TcpStream> = (0..2).map(|_| connect(&served)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let (status, head, body) = exchange(
        &served,
        "POST /get-online-features HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
    );
    assert_eq!(status, 503, "{body}");
    assert_eq!(code(&body), "too_many_connections");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 1"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    healthy(&served);
    // A reserved connection that sends nothing is closed after its short deadline.
    let mut silent = connect(&served);
    assert!(closed_within(&mut silent, Duration::from_secs(3)));
    drop(idle);
    std::thread::sleep(Duration::from_millis(200));
    healthy(&served);
}

#[test]
fn slow_headers_and_idle_connections_are_closed_after_the_header_timeout() {
    let mut config = Served::config();
    config.header_timeout = Duration::from_millis(300);
    let served = fraud(config);
    let mut slow = connect(&served);
    let mut idle = connect(&served);
    // A byte every 50 ms: the headers never complete, and the server closes the
    // connection 300 ms after it opened (a write may then fail: that is the point).
    for byte in b"GET /health HTTP/1.1\r\n" {
        if slow.write_all(&[*byte]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(closed_within(&mut slow, Duration::from_secs(3)));
    assert!(closed_within(&mut idle, Duration::from_secs(1)));
    // A keep-alive connection is closed as well once idle that long after an answer.
    let mut kept = connect(&served);
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    assert_eq!(answer(&mut kept).0, 200);
    assert!(closed_within(&mut kept, Duration::from_secs(3)));
    healthy(&served);
}

#[test]
fn a_stalled_body_is_closed_after_the_idle_timeout() {
    let mut config = Served::config();
    config.idle_timeout = Duration::from_millis(300);
    let served = fraud(config);
    let mut stalled = connect(&served);
    stalled
        .write_all(format!("{}{{\"push", push_head(1000, "none")).as_bytes())
        .expect("send");
    let started = Instant::now();
    assert!(closed_within(&mut stalled, Duration::from_secs(5)));
    assert!(started.elapsed() >= Duration::from_millis(250));
    healthy(&served);
}

#[test]
fn metrics_need_the_read_token() {
    let mut config = Served::config();
    config.read_token = Some("reader".into());
    let served = fraud(config);
    let (status, _, body) = exchange(&served, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 401);
    assert_eq!(code(&body), "unauthorized");
    let (status, _, body) = exchange(
        &served,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer reader\r\n\r\n",
    );
    assert_eq!(status, 200);
    assert!(body.contains("featc_events_total "), "{body}");
}

/// Sends `request` on a new connection to `addr` and reads the answer (its reads
/// give up after 5 s).
fn exchange_at(addr: std::net::SocketAddr, request: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(request.as_bytes()).expect("send");
    answer(&mut s)
}

#[test]
fn the_health_listener_answers_while_the_data_ports_connections_are_exhausted() {
    let mut config = Served::config();
    config.max_connections = 1;
    config.read_token = Some("reader".into());
    config.health_listen = Some("127.0.0.1:0".parse().expect("addr"));
    let served = fraud(config);
    let health = served.health_addr().expect("a health listener");
    let data = served.addr();
    // Until told to stop, the data port gets connections that never send a byte, far
    // more at once than its one served connection and its reserve of 64 hold.
    let flooding = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flood = std::thread::spawn({
        let flooding = Arc::clone(&flooding);
        move || {
            let mut held = std::collections::VecDeque::new();
            while flooding.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(s) = TcpStream::connect(data) {
                    held.push_back(s);
                }
                if held.len() > 300 {
                    held.pop_front();
                }
            }
        }
    });
    let mut rounds = 0;
    loop {
        let (status, _, body) = exchange_at(health, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"ready\""), "{body}");
        rounds += 1;
        // Until the data port has closed connections past its reserve (so both were
        // full while the health listener answered), and a few rounds at least.
        if rounds >= 5 && closed_past_the_reserve(health) >= 1.0 {
            break;
        }
        assert!(rounds < 1000, "the data port never closed a connection");
        std::thread::sleep(Duration::from_millis(20));
    }
    // `/metrics` there is behind the read token, as on the data port.
    let (status, _, body) = exchange_at(health, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 401);
    assert_eq!(code(&body), "unauthorized");
    let (status, _, body) = exchange_at(
        health,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer reader\r\n\r\n",
    );
    assert_eq!(status, 200);
    assert!(body.contains("featc_events_total "), "{body}");
    flooding.store(false, std::sync::atomic::Ordering::Relaxed);
    flood.join().expect("the flood");
    // One request per connection: the health listener closes it after answering.
    let mut s = TcpStream::connect(health).expect("connect");
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    assert_eq!(answer(&mut s).0, 200);
    assert!(closed_within(&mut s, Duration::from_secs(5)));
}

#[test]
fn a_public_health_listener_needs_the_read_token() {
    let (_, _, graph) = crate::support::project::serving(&repo().join("examples/fraud"));
    let mut config = Served::config();
    config.health_listen = Some("0.0.0.0:0".parse().expect("addr"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let refused = runtime.block_on(featc_server::Server::start(graph, config));
    let Err(featc_server::ServeError::Config(message)) = refused else {
        panic!("a --health-listen on 0.0.0.0 without a read token was not refused");
    };
    assert!(message.contains("--read-token-file"), "{message}");
}

/// `featc_overloaded_total{cause="connections_closed"}`, read from the health
/// listener at `health` with the read token `reader`.
fn closed_past_the_reserve(health: std::net::SocketAddr) -> f64 {
    let (status, _, body) = exchange_at(
        health,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer reader\r\n\r\n",
    );
    assert_eq!(status, 200, "{body}");
    let series = "featc_overloaded_total{cause=\"connections_closed\"} ";
    body.lines()
        .find_map(|l| l.strip_prefix(series))
        .unwrap_or_else(|| panic!("no {series}"))
        .parse()
        .expect("a number")
}

/// The value of the line starting with `series ` on the `/metrics` page.
fn metric_line(served: &Served, series: &str) -> f64 {
    let (status, text) = get(served, "/metrics");
    assert_eq!(status, 200);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{series} ")))
        .unwrap_or_else(|| panic!("no {series}"))
        .parse()
        .expect("a number")
}

#[test]
fn a_megabyte_feature_name_is_refused_without_a_long_search_for_a_suggestion() {
    let served = fraud(Served::config());
    let name = "x".repeat(1 << 20);
    let started = Instant::now();
    let (status, json) = post(
        &served,
        "/get-online-features",
        &json!({"features": [name], "entities": {"user_id": [1]}}),
    );
    assert_eq!(status, 404, "{json}");
    assert_eq!(refusal(&json)["code"], "unknown_feature");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    // A near miss still gets its suggestion.
    let (_, json) = post(
        &served,
        "/get-online-features",
        &json!({"features": ["user_spend:txn_count_7"], "entities": {"user_id": [1]}}),
    );
    let message = refusal(&json)["message"]
        .as_str()
        .expect("message")
        .to_string();
    assert!(message.contains("did you mean"), "{message}");
}

/// The refusal of an Arrow push of `body` (status, code, message).
fn arrow_push(served: &Served, body: &[u8]) -> (u16, String, String) {
    let (status, raw) = request(
        served,
        "POST",
        "/push?push_source_name=transactions",
        &[ARROW],
        body,
    );
    let json = refusal(&serde_json::from_slice(&raw).expect("JSON"));
    let code = json["code"].as_str().unwrap_or("").to_string();
    let message = json["message"].as_str().unwrap_or("").to_string();
    (status, code, message)
}

#[test]
fn an_arrow_length_prefix_is_checked_against_the_bytes_sent() {
    let served = fraud(Served::config());
    let started = Instant::now();
    let (status, code, message) =
        arrow_push(&served, &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    assert_eq!((status, code.as_str()), (400, "bad_field"), "{message}");
    assert!(
        message.contains("declares 2147483647 bytes where 0 remain"),
        "{message}"
    );
    let (status, raw) = request(
        &served,
        "POST",
        "/get-online-features",
        &[ARROW],
        &[0xff; 8],
    );
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&raw));
    assert!(started.elapsed() < Duration::from_secs(1));
    healthy(&served);
}

/// `rows` zeros as one Int64 column, written with `codec`.
fn zeros(rows: usize, codec: CompressionType) -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "user_id",
        DataType::Int64,
        false,
    )]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![Arc::new(Int64Array::from(vec![0i64; rows]))],
    )
    .expect("batch");
    let options = IpcWriteOptions::default()
        .try_with_compression(Some(codec))
        .expect("compression");
    let mut out = Vec::new();
    let mut w = StreamWriter::try_new_with_options(&mut out, &schema, options).expect("writer");
    w.write(&batch).expect("write");
    w.finish().expect("finish");
    drop(w);
    out
}

#[test]
fn compressed_arrow_buffers_are_capped_by_their_declared_size_before_decompressing() {
    let mut config = Served::config();
    config.body_limit = 1 << 20;
    let served = fraud(config);
    for codec in [CompressionType::ZSTD, CompressionType::LZ4_FRAME] {
        // 8 MiB of zeros compress to a few KB: under the body limit, over the cap.
        let bomb = zeros(1 << 20, codec);
        assert!(bomb.len() < 1 << 20, "{}", bomb.len());
        let (status, code, message) = arrow_push(&served, &bomb);
        assert_eq!((status, code.as_str()), (400, "bad_field"), "{message}");
        assert!(message.contains("--max-body"), "{message}");
        // Under the cap, the same stream is read (and refused by the source's check).
        let (_, code, message) = arrow_push(&served, &zeros(1000, codec));
        assert_eq!(code, "missing_column", "{message}");
    }
    healthy(&served);
}

#[test]
fn an_lz4_buffer_that_decompresses_to_more_than_it_declares_is_refused() {
    let served = fraud(Served::config());
    let mut body = zeros(1 << 16, CompressionType::LZ4_FRAME);
    lie_about_the_first_compressed_buffer(&mut body);
    let (status, code, message) = arrow_push(&served, &body);
    assert_eq!((status, code.as_str()), (400, "bad_field"), "{message}");
    assert!(message.contains("does not decompress to that"), "{message}");
    healthy(&served);
}

/// Halves the declared uncompressed size of the first record batch's largest
/// compressed buffer in the IPC stream `body`.
fn lie_about_the_first_compressed_buffer(body: &mut [u8]) {
    let mut at = 0;
    loop {
        assert_eq!(body[at..at + 4], [0xff; 4], "a continuation marker");
        let len = i32::from_le_bytes(body[at + 4..at + 8].try_into().expect("4 bytes"));
        let len = usize::try_from(len).expect("a length");
        let meta = root_as_message(&body[at + 8..at + 8 + len]).expect("a message");
        let start = at + 8 + len;
        let body_len = usize::try_from(meta.bodyLength()).expect("a length");
        if meta.header_type() == MessageHeader::RecordBatch {
            let batch = meta.header_as_record_batch().expect("a batch");
            let buffer = batch
                .buffers()
                .expect("buffers")
                .iter()
                .max_by_key(|b| b.length())
                .expect("a buffer");
            let offset = start + usize::try_from(buffer.offset()).expect("offset");
            let declared = i64::from_le_bytes(body[offset..offset + 8].try_into().expect("8"));
            body[offset..offset + 8].copy_from_slice(&(declared / 2).to_le_bytes());
            return;
        }
        at = start + body_len;
    }
}
