//! `featc serve --kafka` on Avro and Protobuf records (`topic "t" format avro
//! "x.avsc"`, `format protobuf "x.proto" "M"`, with and without Confluent's framing)
//! produced by the reference Python libraries (fastavro, protobuf compiled by
//! grpcio-tools' protoc, confluent-kafka; `kafka_formats/produce.py`) to a real
//! broker (tansu on 127.0.0.1): the synthetic case's events, spread over three
//! partitions, then records that must be dead-lettered (garbage bytes, a record cut
//! short, a null in a non-null column, another schema id). Every event counts once,
//! every bad record is dead-lettered and counted with its reason, nothing is dropped
//! silently, and every spine row read over HTTP equals `featc training-set` on the
//! same events in their file, bit for bit, and (for Avro) what a server reading the
//! same events as JSON records answers.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::serve_common;
use crate::services;

use serde_json::Value as Json;
use serve_common::*;
use services::{produce, Broker};

/// How a topic's records are written.
struct Format {
    /// `avro` or `protobuf`.
    name: &'static str,
    /// The schema file (in `kafka_formats/`), and the message for Protobuf.
    schema: &'static str,
    message: Option<&'static str>,
    confluent: Option<u32>,
}

impl Format {
    /// The clause after `format`.
    fn clause(&self) -> String {
        let mut clause = format!("{} \"{}\"", self.name, self.schema);
        if let Some(m) = self.message {
            clause.push_str(&format!(" \"{m}\""));
        }
        if let Some(id) = self.confluent {
            clause.push_str(&format!(" confluent {id}"));
        }
        clause
    }
}

fn formats_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kafka_formats")
}

/// A copy of the synthetic case in `work/name` whose source reads `topic` with
/// `format` (a clause after `format`), and its schema files beside it.
fn case_copy(work: &Path, name: &str, topic: &str, format: &str) -> PathBuf {
    let from = repo().join("tests/cases/synthetic");
    let to = work.join(name);
    std::fs::create_dir_all(&to).expect("case dir");
    for entry in std::fs::read_dir(&from).expect("case") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
    }
    for schema in ["events.avsc", "events.proto"] {
        std::fs::copy(formats_dir().join(schema), to.join(schema)).expect("schema");
    }
    let feat = to.join("features.feat");
    let text = std::fs::read_to_string(&feat).expect("features.feat");
    let marker = "    file \"events.parquet\"\n";
    assert!(
        text.contains(marker),
        "the synthetic case reads events.parquet"
    );
    let with_topic = text.replace(
        marker,
        &format!("{marker}    topic \"{topic}\" format {format}\n"),
    );
    std::fs::write(&feat, with_topic).expect("write");
    to
}

/// The events as JSON lines for the producer (each with its partition), and their
/// JSON records for a JSON topic.
fn event_lines(events: &Events, work: &Path) -> (PathBuf, Vec<(i32, Vec<u8>)>) {
    let source = &events.sources[0];
    let mut lines = String::new();
    let mut records = Vec::new();
    for (_, r, _) in arrival(events, 3_600_000_000, 5) {
        let partition = (mix(r as u64) % 3) as i32;
        let record = record_json(source, r);
        let event: Json = serde_json::from_slice(&record).expect("a record");
        lines.push_str(&serde_json::json!({"partition": partition, "event": event}).to_string());
        lines.push('\n');
        records.push((partition, record));
    }
    let path = work.join("events.jsonl");
    std::fs::write(&path, lines).expect("events.jsonl");
    (path, records)
}

/// Runs `produce.py`: the events of `lines` then the bad records, to `topic`; returns
/// how many records it produced and the kinds of bad ones. Its generated code goes
/// into `work`.
fn produce_with_python(
    broker: &Broker,
    topic: &str,
    format: &Format,
    case: &Path,
    lines: &Path,
    work: &Path,
) -> (usize, Vec<String>) {
    let python = repo().join(".services/venv/bin/python");
    let mut command = Command::new(&python);
    command
        .arg(formats_dir().join("produce.py"))
        .args(["--brokers", &broker.address(), "--topic", topic])
        .args(["--format", format.name, "--time-column", "ts"])
        .arg("--schema")
        .arg(case.join(format.schema))
        .arg("--events")
        .arg(lines)
        .arg("--generated")
        .arg(work.join("generated"))
        .args(["--bad", "--null-column", "user_id"]);
    if let Some(m) = format.message {
        command.args(["--message", m]);
    }
    if let Some(id) = format.confluent {
        command.args(["--confluent", &id.to_string()]);
    }
    let out = command
        .output()
        .expect("python (scripts/services/install makes the venv)");
    assert!(
        out.status.success(),
        "produce.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: Json = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("produce.py's summary: {e}: {stdout}"));
    let bad = summary["bad"]
        .as_array()
        .expect("bad")
        .iter()
        .map(|b| b.as_str().expect("a kind").to_string())
        .collect();
    (
        summary["produced"].as_u64().expect("produced") as usize,
        bad,
    )
}

/// Starts a server on the case `dir` reading `broker`, and waits until it took
/// `records` records and dead-lettered `dead`.
fn serve(dir: &Path, broker: &Broker, log: &Path, records: usize, dead: usize) -> Served {
    let kafka = broker.address();
    let args = [
        dir.to_str().expect("path"),
        "--kafka",
        &kafka,
        "--clock",
        "events",
        // Nothing is late, so every spine row can be read at its time.
        "--min-lateness",
        "36500d",
    ];
    let served = Served::start(&args, log);
    served.wait_ready();
    wait_until("every record consumed", || {
        metric(&served.addr, "featc_kafka_records_total") as usize == records
            && metric(&served.addr, "featc_kafka_dead_lettered_total") as usize == dead
    });
    served
}

/// Every spine row read from `served`, each checked against the training set.
fn read_spine(served: &Served, check: &SpineCheck, label: &str) -> Vec<Json> {
    (0..check.spine.num_rows())
        .map(|row| {
            let (status, answer) =
                post(&served.addr, "/get-online-features", &check.read_body(row));
            assert_eq!(status, 200, "{label}: read of spine row {row}: {answer}");
            check.check_answer(label, row, &answer);
            answer["results"].clone()
        })
        .collect()
}

/// The dead letters `served` listed for Kafka records: each reason, by partition.
fn dead_reasons(served: &Served, topic: &str) -> Vec<(i64, String)> {
    let (status, text) = get(&served.addr, "/kafka/dead-letters");
    assert_eq!(status, 200, "{text}");
    let dead: Json = serde_json::from_str(&text).expect("json");
    let mut listed: Vec<(i64, String)> = dead["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            assert_eq!(r["at"]["topic"], topic, "{r}");
            assert!(r["at"]["offset"].is_i64(), "{r}");
            (
                r["at"]["partition"].as_i64().expect("partition"),
                r["reason"].as_str().expect("reason").to_string(),
            )
        })
        .collect();
    listed.sort();
    listed
}

/// The reason a bad record of `kind` must be dead-lettered for, as a predicate.
fn reason_fits(kind: &str, format: &Format, reason: &str) -> bool {
    match kind {
        "garbage" if format.confluent.is_some() => reason.contains("magic byte"),
        "garbage" | "truncated" if format.name == "avro" => {
            reason.starts_with("not an Avro datum of the schema")
        }
        "garbage" | "truncated" => reason.starts_with("not a Protobuf message"),
        "null" => reason == "column `user_id` is null but is not nullable",
        "schema id" => format.confluent.is_some_and(|id| {
            reason.contains(&format!("schema id {}", id + 1000)) && reason.contains(&id.to_string())
        }),
        _ => false,
    }
}

/// Produces the synthetic case's events as `format`'s records with Python, serves
/// them, and checks the counts, the dead letters and every spine row; returns the
/// served answers.
fn run(format: &Format, label: &str) -> (Vec<Json>, PathBuf, Broker) {
    let work = crate::cli_common::scratch(&format!("serve_kafka_formats/{label}"));
    let topic = format!("synthetic.{label}");
    let dir = case_copy(&work, "case", &topic, &format.clause());
    let (project, graph) = compile(&dir);
    let events = events(&project, &graph);
    let broker = Broker::start(&work.join("broker.txt"));
    broker.create_topic(&topic, 3);
    let (lines, _) = event_lines(&events, &work);
    let (produced, bad) = produce_with_python(&broker, &topic, format, &dir, &lines, &work);
    let total = events.sources[0].rows.len();
    assert_eq!(produced, total + bad.len());
    let served = serve(&dir, &broker, &work.join("serve.txt"), total, bad.len());
    assert_eq!(metric(&served.addr, "featc_events_total") as usize, total);
    assert_eq!(metric(&served.addr, "featc_late_events_total"), 0.0);
    // Each bad record once, with its reason (garbage in partition 0, cut short in 1,
    // the null in 2, another schema id in 0), and counted as invalid.
    let listed = dead_reasons(&served, &topic);
    assert_eq!(listed.len(), bad.len(), "{listed:?}");
    for kind in &bad {
        assert!(
            listed
                .iter()
                .any(|(_, reason)| reason_fits(kind, format, reason)),
            "{label}: no dead letter for the {kind} record among {listed:#?}"
        );
    }
    let invalid = "featc_dead_letters_total{source=\"events\",reason=\"invalid\"}";
    assert_eq!(metric(&served.addr, invalid) as usize, bad.len());
    let check = SpineCheck::new(&dir, &project, &work);
    let answers = read_spine(&served, &check, label);
    served.stop_gracefully();
    (answers, work, broker)
}

#[test]
fn avro_records_in_confluent_framing_serve_what_json_records_and_the_training_set_do() {
    let format = Format {
        name: "avro",
        schema: "events.avsc",
        message: None,
        confluent: Some(42),
    };
    let (avro, work, broker) = run(&format, "avro-confluent");
    // The same events as JSON records, on a topic of their own, served apart.
    let topic = "synthetic.json";
    let dir = case_copy(&work, "json", topic, "json");
    let (project, graph) = compile(&dir);
    let events = events(&project, &graph);
    broker.create_topic(topic, 3);
    let (_, records) = event_lines(&events, &work);
    let records: Vec<(String, i32, Vec<u8>)> = records
        .into_iter()
        .map(|(p, r)| (topic.to_string(), p, r))
        .collect();
    produce(&broker.producer(), &records);
    let served = serve(&dir, &broker, &work.join("json.txt"), records.len(), 0);
    let check = SpineCheck::new(&dir, &project, &work.join("json"));
    let json = read_spine(&served, &check, "json");
    served.stop_gracefully();
    assert_eq!(avro.len(), json.len());
    for (row, (a, j)) in avro.iter().zip(&json).enumerate() {
        assert_eq!(
            a, j,
            "spine row {row}: Avro and JSON records served differently"
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn bare_avro_datums_serve_the_training_set() {
    let format = Format {
        name: "avro",
        schema: "events.avsc",
        message: None,
        confluent: None,
    };
    let (_, work, _) = run(&format, "avro");
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn protobuf_messages_bare_and_in_confluent_framing_serve_the_training_set() {
    for (confluent, label) in [(None, "protobuf"), (Some(7), "protobuf-confluent")] {
        let format = Format {
            name: "protobuf",
            schema: "events.proto",
            message: Some("synthetic.Payment"),
            confluent,
        };
        let (_, work, _) = run(&format, label);
        let _ = std::fs::remove_dir_all(&work);
    }
}
