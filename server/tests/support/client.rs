//! A client of a server's routes in process: each request goes through the server's
//! router (`featc_server::api::router`, every route and limit of the HTTP server) as a
//! `tower` call, without a socket. Async on a `Client`; blocking on a `Served`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use serde_json::Value as Json;
use tower::ServiceExt;

use super::Served;

/// The routes of one server.
#[derive(Clone)]
pub struct Client(axum::Router);

impl Client {
    pub fn of(server: &featc_server::Server) -> Client {
        Client(featc_server::api::router(Arc::clone(server.app())))
    }

    /// The router the client sends through.
    pub fn router(&self) -> axum::Router {
        self.0.clone()
    }

    /// One request (`Content-Type: application/json` unless `headers` give one);
    /// returns the status and the body.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let mut request = Request::builder().method(method).uri(path);
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            request = request.header("Content-Type", "application/json");
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let request = request.body(Body::from(body.to_vec())).expect("a request");
        let response = self
            .0
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body");
        (status, body.to_vec())
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let (status, body) = self.request("GET", path, &[], b"").await;
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// POSTs JSON; the answer as JSON (a body that is not JSON, as a JSON string).
    pub async fn post_with(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &Json,
    ) -> (u16, Json) {
        let bytes = serde_json::to_vec(body).expect("json");
        let (status, body) = self.request("POST", path, headers, &bytes).await;
        let json = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&body).into_owned()));
        (status, json)
    }

    pub async fn post(&self, path: &str, body: &Json) -> (u16, Json) {
        self.post_with(path, &[], body).await
    }
}

/// One request to `served`: the status and the body.
pub fn request(
    served: &Served,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<u8>) {
    served.block_on(served.client.request(method, path, headers, body))
}

pub fn get(served: &Served, path: &str) -> (u16, String) {
    served.block_on(served.client.get(path))
}

pub fn post(served: &Served, path: &str, body: &Json) -> (u16, Json) {
    served.block_on(served.client.post(path, body))
}

pub fn post_with(
    served: &Served,
    path: &str,
    headers: &[(&str, &str)],
    body: &Json,
) -> (u16, Json) {
    served.block_on(served.client.post_with(path, headers, body))
}

/// The value of metric `name` on the server's `/metrics` page.
pub fn metric(served: &Served, name: &str) -> f64 {
    let (status, text) = get(served, "/metrics");
    assert_eq!(status, 200);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no metric {name}"))
        .parse()
        .expect("a number")
}

/// `batch` as an Arrow IPC stream, the body of an Arrow push or read.
pub fn arrow_body(batch: &datafusion::arrow::record_batch::RecordBatch) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = datafusion::arrow::ipc::writer::StreamWriter::try_new(&mut out, &batch.schema())
        .expect("writer");
    w.write(batch).expect("write");
    w.finish().expect("finish");
    drop(w);
    out
}
