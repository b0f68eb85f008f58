//! Running `featc serve` as a child process and talking HTTP to it, for the serve
//! tests: a minimal blocking HTTP/1.1 client (one connection per request), JSON
//! bodies, SIGKILL and SIGTERM.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

pub use featc_test_support::parquet::read_parquet;
pub use featc_test_support::pushes::{arrival, push_body, source_events, Events, SourceEvents};
pub use featc_test_support::refusal::refusal;
pub use featc_test_support::rng::mix;
pub use featc_test_support::served_cells::{expected_cell, served_cell};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A `featc serve` child process.
pub struct Served {
    pub child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    pub stderr: PathBuf,
}

impl Served {
    /// Starts `featc serve ARGS --listen 127.0.0.1:0` and waits for its first stdout
    /// line (`listening on http://...`).
    pub fn start(args: &[&str], stderr: &Path) -> Served {
        Served::start_with_env(args, &[], stderr)
    }

    /// `start`, with `env` added to the process's environment.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)], stderr: &Path) -> Served {
        let log = std::fs::File::create(stderr).expect("stderr file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_featc"))
            .envs(env.iter().copied())
            .arg("serve")
            .args(args)
            .args(["--listen", "127.0.0.1:0", "--quiet"])
            .current_dir(repo())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("featc serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first stdout line");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| {
                let err = std::fs::read_to_string(stderr).unwrap_or_default();
                panic!("unexpected first line {line:?}; stderr:\n{err}")
            })
            .to_string();
        Served {
            child,
            addr,
            stderr: stderr.to_path_buf(),
        }
    }

    /// Waits until `/health` says ready.
    pub fn wait_ready(&self) {
        let started = Instant::now();
        loop {
            let (status, _) = get(&self.addr, "/health");
            if status == 200 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "not ready after 120 s; stderr:\n{}",
                self.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Whether the process ends within `wait` (e.g. after a SIGKILL sent by another
    /// thread): a request that got no answer from a server still running is a hang
    /// or a bug, never a kill.
    pub fn exited_within(&mut self, wait: Duration) -> bool {
        let started = Instant::now();
        loop {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return true;
            }
            if started.elapsed() >= wait {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL, and reap.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then the exit status (a graceful stop exits 0).
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        self.child.wait().expect("featc serve exits")
    }

    /// SIGTERM, and the exit status must be 0 (a graceful stop).
    pub fn stop_gracefully(self) {
        assert_eq!(self.terminate().code(), Some(0), "a graceful stop exits 0");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why a request got no answer. Only `Refused` and `Cut` can come from a server that
/// died; a dead server never makes a request time out, and a garbled answer from a
/// live one is a bug, so the crash tests tell them apart (`Served::exited_within`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoAnswer {
    /// The connection was refused.
    Refused,
    /// The connection was cut (reset, or closed before a whole answer).
    Cut,
    /// No answer within the read timeout: the server hangs.
    TimedOut,
    /// Bytes that are not an HTTP answer, or a body of another length than it says.
    Garbled,
}

/// One HTTP request; returns the status and the body, or why there was none.
pub fn try_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(u16, Vec<u8>), NoAnswer> {
    let mut stream = TcpStream::connect(addr).map_err(|_| NoAnswer::Refused)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|_| NoAnswer::Cut)?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .map_err(|_| NoAnswer::Cut)?;
    stream.write_all(body).map_err(|_| NoAnswer::Cut)?;
    let mut raw = Vec::new();
    if let Err(e) = stream.read_to_end(&mut raw) {
        return Err(match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => NoAnswer::TimedOut,
            _ => NoAnswer::Cut,
        });
    }
    if raw.is_empty() {
        return Err(NoAnswer::Cut);
    }
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        // A head cut short by a dying server, or bytes that are not HTTP.
        return Err(if raw.starts_with(b"HTTP/1.1 ") {
            NoAnswer::Cut
        } else {
            NoAnswer::Garbled
        });
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(NoAnswer::Garbled)?;
    let body = raw[split + 4..].to_vec();
    let length = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok())
            .flatten()
    });
    match length {
        Some(n) if n > body.len() => Err(NoAnswer::Cut),
        Some(n) if n != body.len() => Err(NoAnswer::Garbled),
        _ => Ok((status, body)),
    }
}

/// One HTTP request; returns the status and the body. `None` when there was no
/// answer (see `try_request` for why).
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<(u16, Vec<u8>)> {
    try_request(addr, method, path, headers, body).ok()
}

pub fn get(addr: &str, path: &str) -> (u16, String) {
    match request(addr, "GET", path, &[], b"") {
        Some((s, b)) => (s, String::from_utf8_lossy(&b).into_owned()),
        None => (0, String::new()),
    }
}

/// POSTs JSON; panics when the server does not answer.
pub fn post(addr: &str, path: &str, body: &Json) -> (u16, Json) {
    post_with(addr, path, &[], body).expect("the server answers")
}

pub fn post_with(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &Json,
) -> Option<(u16, Json)> {
    try_post_with(addr, path, headers, body).ok()
}

/// POSTs JSON; the status and the body as JSON (a body that is not JSON as a JSON
/// string), or why there was no answer.
pub fn try_post_with(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &Json,
) -> Result<(u16, Json), NoAnswer> {
    let bytes = serde_json::to_vec(body).expect("json");
    let (status, body) = try_request(addr, "POST", path, headers, &bytes)?;
    let json = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&body).into_owned()));
    Ok((status, json))
}

/// A compiled project and its stream graph.
pub fn compile(dir: &Path) -> (featc::ir::Project, featc_runtime::stream::StreamGraph) {
    let project = featc_test_support::project::compile_dir(dir);
    let graph =
        featc::lower::stream::lower_stream(&project, &project.all_features()).expect("lower");
    (project, graph)
}

/// The events of every source of `graph`, from the files `project` declares: read from
/// the repository's files as the binary sees them (CSV through featc's binding).
pub fn events(project: &featc::ir::Project, graph: &featc_runtime::stream::StreamGraph) -> Events {
    let mut sources = Vec::new();
    for (_, op) in graph.sources() {
        let source = project
            .sources
            .iter()
            .find(|s| s.name == op.name)
            .expect("source");
        let location = source.location.as_ref().expect("a declared file");
        let path = repo().join(location);
        let batch = if path.extension().is_some_and(|e| e == "parquet") {
            read_parquet(&path)
        } else {
            read_as_featc_does(project, &op.name)
        };
        sources.push(source_events(op, &batch));
    }
    Events { sources }
}

/// Source `name` of `project` read whole, the way featc binds it (CSV included).
pub fn read_as_featc_does(
    project: &featc::ir::Project,
    name: &str,
) -> datafusion::arrow::record_batch::RecordBatch {
    let features = project.all_features();
    let plan = featc::lower::groups::plan_groups(project, &features).expect("plan");
    let runtime = tokio::runtime::Runtime::new().expect("tokio");
    runtime.block_on(async {
        let ctx = featc_runtime::batch::session_context(Default::default());
        let tables = featc_runtime::io::bind_sources(&ctx, project, &plan, &Default::default())
            .await
            .expect("bind the sources");
        let table = tables.get(name).expect("a bound source").clone();
        let batches = ctx
            .read_table(table)
            .expect("read")
            .collect()
            .await
            .expect("collect");
        let schema = batches.first().expect("a batch").schema();
        datafusion::arrow::compute::concat_batches(&schema, &batches).expect("concat")
    })
}

/// `featc training-set` of project `dir` for `spine` (`features`, or all of them when
/// empty), written to `out` and read back.
pub fn training_set(
    dir: &Path,
    spine: &Path,
    features: &[String],
    out: &Path,
) -> datafusion::arrow::record_batch::RecordBatch {
    let mut command = Command::new(env!("CARGO_BIN_EXE_featc"));
    command
        .args([
            "training-set",
            dir.to_str().expect("path"),
            "--quiet",
            "--spine",
        ])
        .arg(spine)
        .arg("--out")
        .arg(out);
    if !features.is_empty() {
        command.arg("--features").arg(features.join(","));
    }
    let output = command.output().expect("featc training-set");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    read_parquet(out)
}

/// A case's spine and `featc training-set`'s answers for it: what the served reads
/// are compared with.
pub struct SpineCheck {
    pub training: datafusion::arrow::record_batch::RecordBatch,
    pub spine: datafusion::arrow::record_batch::RecordBatch,
    /// Each spine row's time.
    pub times: Vec<i64>,
    pub features: Vec<String>,
    pub key_names: Vec<String>,
}

impl SpineCheck {
    /// Runs `featc training-set` on `dir` (its `spine.parquet`) into `work`.
    pub fn new(dir: &Path, project: &featc::ir::Project, work: &Path) -> SpineCheck {
        use datafusion::arrow::array::AsArray;
        use datafusion::arrow::datatypes::TimestampMicrosecondType;
        let spine_path = dir.join("spine.parquet");
        let training = training_set(dir, &spine_path, &[], &work.join("training.parquet"));
        let spine = read_parquet(&spine_path);
        let features = project
            .all_features()
            .into_iter()
            .map(|f| project.feature(f).name.clone())
            .collect();
        let key_names = featc_runtime::io::spine_keys(project, &project.all_features())
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let times = featc_runtime::row::conform(
            spine.column_by_name("ts").expect("spine ts"),
            featc_runtime::ir::DataType::Timestamp,
            "ts",
        )
        .expect("spine times")
        .as_primitive::<TimestampMicrosecondType>()
        .values()
        .to_vec();
        SpineCheck {
            training,
            spine,
            times,
            features,
            key_names,
        }
    }

    /// The read of spine row `row` at its time.
    pub fn read_body(&self, row: usize) -> Json {
        let mut entities = serde_json::Map::new();
        for k in &self.key_names {
            let array = self.spine.column_by_name(k).expect("spine key");
            entities.insert(k.clone(), Json::from(vec![expected_cell(array, row)]));
        }
        serde_json::json!({"features": self.features, "entities": entities, "at": self.times[row]})
    }

    /// Checks a served answer to `read_body(row)` against the training set, bit for bit.
    pub fn check_answer(&self, label: &str, row: usize, answer: &Json) {
        let results = answer["results"].as_array().expect("results");
        let names = answer["metadata"]["feature_names"]
            .as_array()
            .expect("names");
        let offset = names.len() - self.features.len();
        for (f, name) in self.features.iter().enumerate() {
            let column = self
                .training
                .column_by_name(name)
                .unwrap_or_else(|| panic!("column {name}"));
            let want = expected_cell(column, row);
            let value = &results[offset + f]["values"][0];
            let got = served_cell(value, column.data_type());
            assert_eq!(
                got, want,
                "{label}: spine row {row}, feature {name}: served {value}"
            );
            let status = results[offset + f]["statuses"][0].as_str().expect("status");
            if !value.is_null() {
                assert!(
                    status == "PRESENT" || status == "NOT_FOUND",
                    "{name}: {status} with a value"
                );
            }
        }
    }
}

/// The value of metric `name` on the server's `/metrics` page.
pub fn metric(addr: &str, name: &str) -> f64 {
    metric_as(addr, name, &[])
}

/// `metric`, sending `headers` (the read token of a guarded server).
pub fn metric_as(addr: &str, name: &str, headers: &[(&str, &str)]) -> f64 {
    let (status, body) = request(addr, "GET", "/metrics", headers, b"").unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, 200);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no metric {name}"))
        .parse()
        .expect("a number")
}

/// Event `row` of `source` as one JSON object keyed by column names (a Kafka record).
pub fn record_json(source: &SourceEvents, row: usize) -> Vec<u8> {
    let (ts, cells) = &source.rows[row];
    let mut object = serde_json::Map::new();
    object.insert(
        source.time_column.clone(),
        featc_test_support::pushes::time_json(*ts),
    );
    for ((name, _), cell) in source.columns.iter().zip(cells) {
        object.insert(name.clone(), cell.clone());
    }
    Json::Object(object).to_string().into_bytes()
}

/// A copy of case `case` whose sources each declare the topic `<case>.<source>`.
pub fn case_with_topics(case: &str, work: &std::path::Path) -> std::path::PathBuf {
    let from = repo().join("tests/cases").join(case);
    let to = work.join(case);
    std::fs::create_dir_all(&to).expect("case dir");
    for entry in std::fs::read_dir(&from).expect("case") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
    }
    let feat = to.join("features.feat");
    let text = std::fs::read_to_string(&feat).expect("features.feat");
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("source ") {
            let name = rest.trim_end_matches('{').trim();
            out.push_str(&format!("    topic \"{case}.{name}\"\n"));
        }
    }
    std::fs::write(&feat, out).expect("write");
    to
}

pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{what}: not after 120 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
