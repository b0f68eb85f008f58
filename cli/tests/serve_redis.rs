//! Redis as an online store, against a real redis-server started here: `featc
//! materialize` and `featc serve --sink` (fed by a real Kafka broker, killed with
//! SIGKILL mid-stream) leave in Redis, for every service and entity, exactly the
//! values `featc training-set` computes at the store's time, bit for bit; windows
//! and ttls that run out on the wall clock are rewritten and expired; the docs'
//! redis-cli and Python readers run as shown.
//!
//! The expected keys and values are computed here from the events and the training
//! set, not with featc-server's layout code: the key spelling is re-derived from the
//! documented rule.

use crate::serve_common;
use crate::services;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType as Arrow, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::ir::DataType;
use featc_runtime::stream::StreamGraph;
use serde_json::Value as Json;
use serve_common::*;
use services::{hgetall, keys, produce, Broker, RedisServer};

/// A Redis test's fresh work folder `redis/NAME` (this module's, `serve_redis_cluster`'s
/// and `kafka_partitioner`'s: the names are unique among them).
pub(crate) fn work_dir(name: &str) -> PathBuf {
    crate::cli_common::scratch(&format!("redis/{name}"))
}

/// RFC 3986 percent-encoding of everything but unreserved characters (Python's
/// `urllib.parse.quote(text, safe="")`), as docs/online-store.md states the rule.
fn quote(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A key cell (JSON, as the events hold it) as the key spells it.
fn key_text(cell: &Json) -> String {
    match cell {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One hash kind: a service's features of one entity.
struct HashKind {
    service: String,
    entity: String,
    /// (key name, source column, type), in key order.
    keys: Vec<(String, String, DataType)>,
    /// The sources whose events key this entity.
    sources: Vec<String>,
    features: Vec<String>,
}

fn hash_kinds(graph: &StreamGraph) -> Vec<HashKind> {
    let output = graph.output().expect("output");
    let mut kinds: Vec<HashKind> = Vec::new();
    for service in &output.services {
        for &i in &service.features {
            let featc_runtime::stream::graph::OutputFeature::Aggregate { aggregate, index } =
                output.features[i]
            else {
                continue;
            };
            let op = graph.aggregate(aggregate).expect("aggregate");
            let plan = &op.plan;
            let name = plan.features[index].name.clone();
            let kind = match kinds
                .iter_mut()
                .find(|k| k.service == service.name && k.entity == plan.entity)
            {
                Some(k) => k,
                None => {
                    kinds.push(HashKind {
                        service: service.name.clone(),
                        entity: plan.entity.clone(),
                        keys: plan
                            .keys
                            .iter()
                            .map(|k| (k.name.clone(), k.column.clone(), k.ty))
                            .collect(),
                        sources: Vec::new(),
                        features: Vec::new(),
                    });
                    kinds.last_mut().expect("pushed")
                }
            };
            kind.features.push(name);
        }
    }
    for kind in &mut kinds {
        for (_, op) in graph.aggregates() {
            // Every source of a group over several keys its entity.
            for (source, _) in op.plan.sources() {
                if op.plan.entity == kind.entity && !kind.sources.iter().any(|s| s == source) {
                    kind.sources.push(source.to_string());
                }
            }
        }
    }
    kinds
}

/// Where the tests read hashes back: a connection to one Redis, or a Redis Cluster
/// read with `redis-cli -c` (serve_redis_cluster.rs).
pub(crate) trait Store {
    /// Every field of the hash at `key` (empty when there is none).
    fn hgetall(&mut self, key: &str) -> std::collections::HashMap<String, String>;
    /// Every key matching `pattern`.
    fn keys(&mut self, pattern: &str) -> Vec<String>;
}

impl Store for redis::Connection {
    fn hgetall(&mut self, key: &str) -> std::collections::HashMap<String, String> {
        hgetall(self, key)
    }

    fn keys(&mut self, pattern: &str) -> Vec<String> {
        keys(self, pattern)
    }
}

/// A Redis key and each feature's expected cell: (feature, type, cell).
type ExpectedHash = (String, Vec<(String, Arrow, Json)>);

/// What Redis must hold at one time: per hash kind, per entity with an event at or
/// before it, the key and each feature's expected cell (`expected_cell`'s form).
pub(crate) struct Expected {
    at: i64,
    /// Whether `_as_of` must be `at` (a materialization), or may be earlier (the sink
    /// rewrites a hash only when one of its values changes).
    pub(crate) exact_as_of: bool,
    hashes: Vec<ExpectedHash>,
    /// Key patterns of each service (no other key may exist under them).
    patterns: Vec<String>,
}

impl Expected {
    pub(crate) fn compute(
        dir: &Path,
        graph: &StreamGraph,
        events: &Events,
        at: i64,
        work: &Path,
    ) -> Expected {
        let mut hashes = Vec::new();
        let mut patterns = Vec::new();
        for (n, kind) in hash_kinds(graph).iter().enumerate() {
            let pattern = format!("featc:{}:*", kind.service);
            if !patterns.contains(&pattern) {
                patterns.push(pattern);
            }
            // Every key of the entity some event at or before `at` gave.
            let mut entity_keys: Vec<Vec<Json>> = Vec::new();
            for source in events
                .sources
                .iter()
                .filter(|s| kind.sources.contains(&s.name))
            {
                let columns: Vec<usize> = kind
                    .keys
                    .iter()
                    .map(|(_, c, _)| {
                        source
                            .columns
                            .iter()
                            .position(|(n, _)| n == c)
                            .expect("key column")
                    })
                    .collect();
                for (ts, cells) in &source.rows {
                    let key: Vec<Json> = columns.iter().map(|&c| cells[c].clone()).collect();
                    if *ts <= at && key.iter().all(|c| !c.is_null()) && !entity_keys.contains(&key)
                    {
                        entity_keys.push(key);
                    }
                }
            }
            if entity_keys.is_empty() {
                continue;
            }
            // The training set of those keys at `at`.
            let spine = work.join(format!("spine-{n}.parquet"));
            write_spine(&spine, &kind.keys, &entity_keys, at);
            let out = work.join(format!("training-{n}.parquet"));
            let training = training_set(dir, &spine, &kind.features, &out);
            for (row, key) in entity_keys.iter().enumerate() {
                let spelled: Vec<String> = kind
                    .keys
                    .iter()
                    .zip(key)
                    .map(|((name, _, _), cell)| format!("{name}={}", quote(&key_text(cell))))
                    .collect();
                let redis_key = format!("featc:{}:{}", kind.service, spelled.join("&"));
                let cells = kind
                    .features
                    .iter()
                    .map(|f| {
                        let column = training.column_by_name(f).expect("feature column");
                        (
                            f.clone(),
                            column.data_type().clone(),
                            expected_cell(column, row),
                        )
                    })
                    .collect();
                hashes.push((redis_key, cells));
            }
        }
        Expected {
            at,
            exact_as_of: true,
            hashes,
            patterns,
        }
    }

    /// Compares Redis with the expectation; the first difference, if any.
    pub(crate) fn compare(&self, redis: &mut dyn Store) -> Result<(), String> {
        let mut present = 0;
        for (key, cells) in &self.hashes {
            let hash = redis.hgetall(key);
            if hash.is_empty() {
                // No key: every value is null (each view's ttl ran out).
                if let Some((f, _, want)) = cells.iter().find(|(_, _, w)| !w.is_null()) {
                    return Err(format!("{key}: no hash, but {f} is {want}"));
                }
                continue;
            }
            present += 1;
            let as_of = hash
                .get("_as_of")
                .and_then(|t| featc_server::wire::time::parse_time_text(t).ok());
            let fits = as_of.is_some_and(|t| t == self.at || (!self.exact_as_of && t <= self.at));
            if !fits {
                return Err(format!(
                    "{key}: _as_of {:?}, want {}",
                    hash.get("_as_of"),
                    self.at
                ));
            }
            for (f, ty, want) in cells {
                let got = hash.get(f).map_or(Json::Null, |text| redis_cell(text, ty));
                if &got != want {
                    return Err(format!(
                        "{key}: {f} is {:?} in Redis ({got}), want {want}",
                        hash.get(f)
                    ));
                }
            }
        }
        let mut found = 0;
        for pattern in &self.patterns {
            found += redis.keys(pattern).len();
        }
        if found != present {
            return Err(format!("{found} keys in Redis, {present} expected"));
        }
        Ok(())
    }

    /// Waits (up to two minutes) until Redis holds exactly the expectation.
    pub(crate) fn wait_for(&self, redis: &mut dyn Store, label: &str) {
        let started = std::time::Instant::now();
        loop {
            match self.compare(redis) {
                Ok(()) => return,
                Err(e) if started.elapsed() > std::time::Duration::from_secs(120) => {
                    panic!("{label}: {e}")
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
    }
}

/// A hash field's text in `expected_cell`'s form for a column of type `ty`.
fn redis_cell(text: &str, ty: &Arrow) -> Json {
    match ty {
        Arrow::Int64 => Json::from(text.parse::<i64>().expect("an int64")),
        Arrow::Float64 => {
            let f: f64 = text.parse().expect("a float64");
            Json::from(format!("bits:{:016x}", f.to_bits()))
        }
        Arrow::Boolean => Json::from(text.parse::<bool>().expect("a bool")),
        Arrow::Timestamp(_, _) => {
            Json::from(featc_server::wire::time::parse_time_text(text).expect("an RFC 3339 time"))
        }
        // A list feature's field is its JSON text.
        Arrow::List(_) => serde_json::from_str(text).expect("list JSON"),
        _ => Json::from(text),
    }
}

/// A spine of `keys` at time `at` (key columns named and typed as the entity's).
fn write_spine(path: &Path, columns: &[(String, String, DataType)], keys: &[Vec<Json>], at: i64) {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (i, (name, _, ty)) in columns.iter().enumerate() {
        match ty {
            DataType::Int64 => {
                fields.push(Field::new(name, Arrow::Int64, false));
                arrays.push(Arc::new(Int64Array::from_iter_values(
                    keys.iter().map(|k| k[i].as_i64().expect("int key")),
                )));
            }
            DataType::String => {
                fields.push(Field::new(name, Arrow::Utf8, false));
                arrays.push(Arc::new(StringArray::from_iter_values(
                    keys.iter()
                        .map(|k| k[i].as_str().expect("string key").to_string()),
                )));
            }
            other => panic!("a key of type {other:?}"),
        }
    }
    fields.push(Field::new(
        "ts",
        Arrow::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        false,
    ));
    arrays.push(Arc::new(
        TimestampMicrosecondArray::from_iter_values(keys.iter().map(|_| at)).with_timezone("UTC"),
    ));
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("spine");
    let file = std::fs::File::create(path).expect("spine file");
    let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)
        .expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
}

/// A copy of a project folder (its `.feat` files and data), with `edit` applied to
/// each `.feat` text.
pub(crate) fn copy_project(from: &Path, to: &Path, edit: &dyn Fn(&str) -> String) -> PathBuf {
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(from).expect("project") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_project(&path, &target, edit);
        } else if path.extension().is_some_and(|e| e == "feat") {
            let text = std::fs::read_to_string(&path).expect("feat");
            std::fs::write(&target, edit(&text)).expect("write");
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
    to.to_path_buf()
}

/// Every event time of the project, sorted.
pub(crate) fn event_times(events: &Events) -> Vec<i64> {
    let mut times: Vec<i64> = events
        .sources
        .iter()
        .flat_map(|s| s.rows.iter().map(|(ts, _)| *ts))
        .collect();
    times.sort_unstable();
    times
}

fn materialize(dir: &Path, redis: &RedisServer, at: i64) {
    materialize_to(dir, &redis.url(), at);
}

/// `featc materialize DIR --to URL --at AT`, which must succeed.
pub(crate) fn materialize_to(dir: &Path, url: &str, at: i64) {
    let output = Command::new(env!("CARGO_BIN_EXE_featc"))
        .args([
            "materialize",
            dir.to_str().expect("path"),
            "--quiet",
            "--to",
            url,
        ])
        .arg("--at")
        .arg(featc_server::wire::time::format_time(at))
        .output()
        .expect("featc materialize");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("hashes"), "{stderr}");
}

/// Materializes `dir` at several times (before the end of the data, at it, and well
/// after it, when windows and ttls have run out) and compares with the training set.
fn materialize_equals_the_training_set(name: &str, dir: &Path) {
    let work = work_dir(name);
    let (_, graph) = compile(dir);
    let events = events(&compile(dir).0, &graph);
    let mut redis = RedisServer::start(&work.join("redis.txt"));
    let mut connection = redis.connection();
    let times = event_times(&events);
    let last = *times.last().expect("events");
    for at in [times[times.len() / 2], last, last + 20 * 86_400_000_000] {
        let _: () = redis::cmd("FLUSHALL")
            .query(&mut connection)
            .expect("flush");
        materialize(dir, &redis, at);
        let expected = Expected::compute(dir, &graph, &events, at, &work);
        if let Err(e) = expected.compare(&mut connection) {
            panic!("{name} at {at}: {e}");
        }
    }
    redis.stop();
}

#[test]
fn materialize_equals_the_training_set_on_the_fraud_example() {
    // Composite keys, two views with a ttl: keys expire and are deleted.
    let work = work_dir("fraud-copy");
    let dir = copy_project(&repo().join("examples/fraud"), &work.join("fraud"), &|t| {
        t.to_string()
    });
    materialize_equals_the_training_set("fraud", &dir);
}

/// The fraud example with a view over both its sources in a service of its own: a
/// key only `logins` gave has a hash too, and each value counts the union's events
/// (history loaded source by source, each grouped by the view's key).
#[test]
fn materialize_equals_the_training_set_on_a_view_over_two_sources() {
    let work = work_dir("union-copy");
    let union = "
view activity from transactions, logins by user {
    feature events_1d = count(*) over 1d
    feature logins_7d = count_if(source() = 'logins') over 7d
    feature failed_7d = count_if(not success) over 7d
    feature spent_7d  = sum(amount) over 7d
}
service activity_v1 { events_1d logins_7d failed_7d spent_7d }
";
    let dir = copy_project(
        &repo().join("examples/fraud"),
        &work.join("fraud"),
        &|t| match t.contains("source logins") {
            true => format!("{t}{union}"),
            false => t.to_string(),
        },
    );
    materialize_equals_the_training_set("union", &dir);
}

/// The delivery example with one more service, `service` (its name) reading
/// `features`, materialized and compared with the training set (work folder `name`).
fn delivery_with_a_service_equals_the_training_set(name: &str, service: &str, features: &[&str]) {
    let work = work_dir(&format!("{name}-copy"));
    let lines: String = features.iter().map(|f| format!("    {f}\n")).collect();
    let dir = copy_project(
        &repo().join("examples/delivery"),
        &work.join("delivery"),
        &|t| format!("{t}\nservice {service} {{\n{lines}}}\n"),
    );
    materialize_equals_the_training_set(name, &dir);
}

/// The delivery example with its list features (`last_k`, `first_k`, `top_k`) in a
/// service of their own: each hash field holds the list's JSON text, equal to the
/// training set's list (empty lists included; after the windows run out, `[]`).
#[test]
fn materialize_equals_the_training_set_on_the_delivery_example_with_lists() {
    delivery_with_a_service_equals_the_training_set(
        "delivery",
        "lists_v1",
        &["minutes_last3_1d", "items_first2_life", "items_top3_7d"],
    );
}

/// The delivery example's count windows (`over 10 events`, `over 30d max 50 events`,
/// a list over `5 events exclusive`) in a service of their own: the sink rewrites a
/// hash whenever a count window's value changes (an event comes in; a capped one's
/// oldest event leaves its duration), so each field equals the training set's.
#[test]
fn materialize_equals_the_training_set_on_the_delivery_example_with_count_windows() {
    delivery_with_a_service_equals_the_training_set(
        "delivery_counted",
        "recent_v1",
        &[
            "minutes_avg_last10",
            "minutes_max_30d_50",
            "items_last5_before",
        ],
    );
}

/// The layout as a reader sees it: a few hashes of the fraud example, fields in the
/// order they are written (a user with every kind of field, one with a null average,
/// one known only from logins, a (user, merchant) pair whose key expires).
#[test]
fn the_fraud_examples_hashes_look_like_this() {
    let work = work_dir("snapshot");
    let redis = RedisServer::start(&work.join("redis.txt"));
    let at = featc_server::wire::time::parse_time_text("2024-03-31T00:00:00Z").expect("time");
    materialize(&repo().join("examples/fraud"), &redis, at);
    let mut connection = redis.connection();
    let mut text = String::new();
    for key in [
        "featc:fraud_v1:user_id=1",
        "featc:fraud_v1:user_id=33",
        "featc:fraud_v1:user_id=37",
        "featc:fraud_v1:user_id=7&merchant_id=m_cafe",
    ] {
        let fields: Vec<(String, String)> = redis::cmd("HGETALL")
            .arg(key)
            .query(&mut connection)
            .expect("HGETALL");
        let pttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query(&mut connection)
            .expect("PTTL");
        let expires = if pttl > 0 { "expires" } else { "never expires" };
        text.push_str(&format!("{key} ({expires})\n"));
        for (field, value) in fields {
            text.push_str(&format!("  {field} = {value}\n"));
        }
    }
    insta::assert_snapshot!("redis_hashes_of_the_fraud_example", text);
}

#[test]
fn materialize_equals_the_training_set_on_the_public_cases() {
    let work = work_dir("cases");
    let marketplace = copy_project(
        &repo().join("tests/cases/marketplace"),
        &work.join("marketplace"),
        &|t| t.to_string(),
    );
    materialize_equals_the_training_set("marketplace", &marketplace);
    // The synthetic case has no service (a hash holds a service's features): one with
    // every feature, and a ttl so that keys expire.
    let synthetic = copy_project(
        &repo().join("tests/cases/synthetic"),
        &work.join("synthetic"),
        &|t| {
            let features: Vec<&str> = t
                .lines()
                .filter_map(|l| l.trim().strip_prefix("feature "))
                .filter_map(|l| l.split_whitespace().next())
                .collect();
            let with_ttl = t.replacen("by user {", "by user {\n    ttl 3d", 1);
            format!(
                "{with_ttl}\nservice everything {{\n    {}\n}}\n",
                features.join("\n    ")
            )
        },
    );
    materialize_equals_the_training_set("synthetic", &synthetic);
}

#[test]
fn the_sink_follows_kafka_across_a_sigkill_and_equals_the_training_set() {
    let case = "marketplace";
    let work = work_dir("sink");
    let dir = case_with_topics(case, &work);
    let (project, graph) = compile(&dir);
    let events = events(&project, &graph);
    let broker = Broker::start(&work.join("broker.txt"));
    let redis = RedisServer::start(&work.join("redis.txt"));
    let mut connection = redis.connection();
    for s in &events.sources {
        broker.create_topic(&format!("{case}.{}", s.name), 3);
    }
    // Three stages of event time; each is produced (out of order within it, over
    // three partitions), consumed, and then Redis must equal the training set at the
    // stage's last event time (the server's clock follows the events).
    let times = event_times(&events);
    let ends = [
        times[times.len() / 3],
        times[2 * times.len() / 3],
        *times.last().expect("events"),
    ];
    let stage_of = |ts: i64| ends.iter().position(|&e| ts <= e).expect("a stage");
    let mut stages: Vec<Vec<(String, i32, Vec<u8>)>> = vec![Vec::new(); 3];
    for (s, r, _) in arrival(&events, 3_600_000_000, 11) {
        let source = &events.sources[s];
        let (ts, _) = source.rows[r];
        stages[stage_of(ts)].push((
            format!("{case}.{}", source.name),
            (mix(r as u64) % 3) as i32,
            record_json(source, r),
        ));
    }
    let state = work.join("state");
    let served_log = work.join("served");
    let kafka = broker.address();
    let sink = redis.url();
    let args = [
        dir.to_str().expect("path"),
        "--kafka",
        &kafka,
        "--sink",
        &sink,
        "--state",
        state.to_str().expect("path"),
        "--log-served",
        served_log.to_str().expect("path"),
        // A cache far smaller than the state: the sink reads entities from disk.
        "--memory-limit",
        "64KiB",
        "--clock",
        "events",
        "--min-lateness",
        "36500d",
        "--checkpoint-events",
        "1000",
    ];
    let log = work.join("serve.txt");
    let producer = broker.producer();
    let mut served = Served::start(&args, &log);
    served.wait_ready();
    // Beside the sink, reads over HTTP at the spine's times, each once its stage is
    // consumed: the served log `featc audit` checks at the end.
    let check = SpineCheck::new(&dir, &project, &work);
    let mut read = vec![false; check.times.len()];
    let mut consumed = 0;
    for (stage, records) in stages.iter().enumerate() {
        produce(&producer, records);
        if stage == 1 {
            // Killed while it consumes (after a checkpoint), restarted on its state:
            // the restarted sink rewrites every entity, then follows.
            wait_until("a checkpoint", || {
                metric(&served.addr, "featc_checkpoints_total") >= 1.0
            });
            served.kill();
            served = Served::start(&args, &log);
            served.wait_ready();
        }
        consumed += records.len();
        wait_until("the stage consumed", || {
            metric(&served.addr, "featc_kafka_records_total") as usize == consumed
        });
        let expected = Expected {
            exact_as_of: false,
            ..Expected::compute(&dir, &graph, &events, ends[stage], &work)
        };
        expected.wait_for(&mut connection, &format!("stage {stage}"));
        for (row, done) in read.iter_mut().enumerate() {
            if !*done && check.times[row] <= ends[stage] {
                let (status, answer) =
                    post(&served.addr, "/get-online-features", &check.read_body(row));
                assert_eq!(status, 200, "read of spine row {row}: {answer}");
                *done = true;
            }
        }
    }
    assert_eq!(metric(&served.addr, "featc_redis_errors_total"), 0.0);
    served.stop_gracefully();
    // What was served over HTTP beside the sink is what training computes, from the
    // sources' files, or explained (the reads of the killed server's last log file
    // are lost with it).
    let out = Command::new(env!("CARGO_BIN_EXE_featc"))
        .arg("audit")
        .arg(&dir)
        .args(["--format", "json", "-q", "--served"])
        .arg(&served_log)
        .arg("--state")
        .arg(&state)
        .current_dir(repo())
        .output()
        .expect("featc audit");
    let report: Json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert_eq!(report["cells"]["unexplained"], 0, "{report}");
    assert!(
        report["audited_reads"].as_u64().is_some_and(|n| n > 0),
        "{report}"
    );
}

/// A project whose values change on the wall clock within seconds.
const CLICKS: &str = r#"
source clicks {
    time ts
    columns { user_id: int64 }
}
entity user { key user_id: int64 }
view recent from clicks by user {
    feature clicks_2s = count(*) over 2s
}
view seen from clicks by user {
    feature last_click = max(ts)
    ttl 4s
}
service board { clicks_2s last_click }
service presence { last_click }
"#;

/// A Redis, and a server of `CLICKS` under `clock` with a sink to it.
fn clicks_served(name: &str, clock: &str) -> (PathBuf, RedisServer, Served) {
    let work = work_dir(name);
    let dir = clicks_project(&work);
    let redis = RedisServer::start(&work.join("redis.txt"));
    let sink = redis.url();
    let args = [
        dir.to_str().expect("path"),
        "--sink",
        &sink,
        "--clock",
        clock,
    ];
    let served = Served::start(&args, &work.join("serve.txt"));
    (work, redis, served)
}

/// `CLICKS` as a project folder in `work`.
fn clicks_project(work: &Path) -> PathBuf {
    let dir = work.join("clicks");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("clicks.feat"), CLICKS).expect("feat");
    dir
}

#[test]
fn the_sink_rewrites_windows_and_expires_ttls_on_the_wall_clock() {
    let (_work, redis, served) = clicks_served("wall", "wall");
    let mut connection = redis.connection();
    served.wait_ready();
    let now = featc_server::wire::time::now_us();
    let (status, answer) = post(
        &served.addr,
        "/push",
        &serde_json::json!({"push_source_name": "clicks", "df": {"ts": [now], "user_id": [7]}}),
    );
    assert_eq!(status, 200, "{answer}");
    let board = "featc:board:user_id=7";
    let presence = "featc:presence:user_id=7";
    let clock = || featc_server::wire::time::now_us();
    wait_until("the click in Redis", || {
        hgetall(&mut connection, board)
            .get("clicks_2s")
            .map(String::as_str)
            == Some("1")
    });
    let h = hgetall(&mut connection, board);
    assert_eq!(
        h.get("last_click")
            .map(|t| featc_server::wire::time::parse_time_text(t)),
        Some(Ok(now)),
        "{h:?}"
    );
    // Every feature of `presence` has a ttl: its key expires with it.
    let pttl: i64 = redis::cmd("PTTL")
        .arg(presence)
        .query(&mut connection)
        .expect("PTTL");
    assert!(pttl > 0 && pttl <= 4_000, "PTTL {pttl}");
    // The window empties 2 s after the click: rewritten without any new event, never
    // before.
    wait_until("the window emptied", || {
        hgetall(&mut connection, board)
            .get("clicks_2s")
            .map(String::as_str)
            == Some("0")
    });
    assert!(clock() >= now + 2_000_000);
    // The ttl runs out 4 s after it: the value is gone (with its status), the
    // presence key deleted.
    wait_until("the ttl ran out", || {
        let h = hgetall(&mut connection, board);
        !h.contains_key("last_click")
            && h.get("_status:last_click").map(String::as_str) == Some("OUTSIDE_MAX_AGE")
    });
    assert!(clock() >= now + 4_000_000);
    assert!(hgetall(&mut connection, presence).is_empty());
    assert!(metric(&served.addr, "featc_redis_hashes_written_total") >= 3.0);
    served.stop_gracefully();
}

#[test]
fn the_sink_waits_out_a_redis_restart_then_writes_everything_again() {
    let (work, mut redis, served) = clicks_served("restart", "events");
    served.wait_ready();
    let push = |user: i64, ts: i64| {
        // Times near 1970 as text: an integer time must be 16-digit microseconds.
        let ts = featc_server::wire::time::format_time(ts);
        let body = serde_json::json!({"push_source_name": "clicks", "df": {"ts": [ts], "user_id": [user]}});
        let (status, answer) = post(&served.addr, "/push", &body);
        assert_eq!(status, 200, "{answer}");
    };
    let count = |connection: &mut redis::Connection, user: i64| {
        hgetall(connection, &format!("featc:board:user_id={user}"))
            .get("clicks_2s")
            .cloned()
    };
    push(7, 1_000_000);
    let mut connection = redis.connection();
    wait_until("user 7 in Redis", || {
        count(&mut connection, 7).as_deref() == Some("1")
    });
    // Redis goes away (losing everything: no persistence); pushes go on.
    let port = redis.port;
    redis.stop();
    push(8, 1_500_000);
    wait_until("a failed write", || {
        metric(&served.addr, "featc_redis_errors_total") >= 1.0
    });
    // Back, empty: the sink sees a new Redis and writes every entity again.
    let redis = RedisServer::start_on(port, &work.join("redis-again.txt"));
    let mut connection = redis.connection();
    wait_until("both users in Redis", || {
        count(&mut connection, 7).as_deref() == Some("1")
            && count(&mut connection, 8).as_deref() == Some("1")
    });
    let stderr = served.stderr_text();
    assert!(
        stderr.contains("restarted: writing every entity again"),
        "{stderr}"
    );
    served.stop_gracefully();
}

/// A view over two sources: an event of either changes its key's values.
const UNION: &str = r#"
source clicks {
    time ts
    columns { user_id: int64 }
}
source logins {
    time at
    columns { user_id: int64 }
}
entity user { key user_id: int64 }
view activity from clicks, logins by user {
    feature events_1h = count(*) over 1h
    feature logins_1h = count_if(source() = 'logins') over 1h
}
service board { events_1h logins_1h }
"#;

#[test]
fn the_sink_writes_a_key_an_event_of_a_views_second_source_changed() {
    let work = work_dir("union");
    let dir = work.join("union");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("union.feat"), UNION).expect("feat");
    let redis = RedisServer::start(&work.join("redis.txt"));
    let sink = redis.url();
    let args = [
        dir.to_str().expect("path"),
        "--sink",
        &sink,
        "--clock",
        "events",
    ];
    let served = Served::start(&args, &work.join("serve.txt"));
    served.wait_ready();
    // Only a login: the sink must follow `logins` as well as `clicks`, the first.
    let at = featc_server::wire::time::format_time(1_000_000);
    let body =
        serde_json::json!({"push_source_name": "logins", "df": {"at": [at], "user_id": [7]}});
    let (status, answer) = post(&served.addr, "/push", &body);
    assert_eq!(status, 200, "{answer}");
    let mut connection = redis.connection();
    wait_until("the login in Redis", || {
        let h = hgetall(&mut connection, "featc:board:user_id=7");
        h.get("events_1h").map(String::as_str) == Some("1")
            && h.get("logins_1h").map(String::as_str) == Some("1")
    });
    served.stop_gracefully();
}

#[test]
fn a_sink_to_a_closed_port_stops_the_server_with_a_message() {
    let work = work_dir("closed");
    let dir = clicks_project(&work);
    // A port nothing listens on (a server started and stopped).
    let mut redis = RedisServer::start(&work.join("redis.txt"));
    let url = redis.url();
    redis.stop();
    let output = Command::new(env!("CARGO_BIN_EXE_featc"))
        .args([
            "serve",
            dir.to_str().expect("path"),
            "--listen",
            "127.0.0.1:0",
            "--sink",
            &url,
        ])
        .output()
        .expect("featc serve");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--sink") && stderr.contains(&url),
        "{stderr}"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_featc"))
        .args([
            "materialize",
            dir.to_str().expect("path"),
            "--to",
            "http://127.0.0.1:1",
        ])
        .output()
        .expect("featc materialize");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a Redis address"), "{stderr}");
}

/// The fenced blocks of `text` with their info strings, in order.
pub(crate) fn fenced_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim().to_string(), String::new())),
            (Some(_), Some(_)) => blocks.extend(open.take()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

#[test]
fn the_online_store_docs_run_as_shown() {
    let work = work_dir("docs");
    let redis = RedisServer::start(&work.join("redis.txt"));
    let port = redis.port.to_string();
    let docs = std::fs::read_to_string(repo().join("docs/online-store.md")).expect("docs");
    let blocks = fenced_blocks(&docs);
    let mut ran = 0;
    for (i, (info, body)) in blocks.iter().enumerate() {
        let body = body.replace("6379", &port);
        let output = match info.as_str() {
            "sh" => {
                let featc = env!("CARGO_BIN_EXE_featc");
                let script = body.replace("featc ", &format!("{featc} "));
                Command::new("bash")
                    .args(["-euo", "pipefail", "-c", &script])
                    .current_dir(repo())
                    .output()
                    .expect("bash")
            }
            "python" => Command::new(repo().join(".services/venv/bin/python"))
                .args(["-c", &body])
                .output()
                .expect("python (scripts/services/install makes the venv)"),
            _ => continue,
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "docs/online-store.md block {i} failed:\n{body}\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        // A `text` block right after shows the output.
        if let Some((next, shown)) = blocks.get(i + 1) {
            if next == "text" {
                assert_eq!(
                    stdout.trim_end(),
                    shown.trim_end(),
                    "docs/online-store.md block {i}:\n{body}"
                );
            }
        }
        ran += 1;
    }
    assert!(ran >= 3, "the page's examples were not found");
}
