//! `featc audit` on what a real `featc serve` served (the checkout example: decimals,
//! lists, count windows, a view over two sources, lookups, a derived feature of a
//! request field): every cell equal; a definition changed since the serve explained;
//! a served value made wrong in the log unexplained, named by feature, key and time.

use crate::serve_common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::arrow::ArrowWriter;
use serde_json::{json, Value as Json};
use serve_common::*;

pub(crate) fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("serve_audit")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

pub(crate) fn featc(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_featc"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("featc runs")
}

/// Serves the checkout example (its history, at the events' clock) and reads it as
/// a model server would: the service with its request field, every feature of the
/// shopper views, the merchants' features; returns the log folder and how many
/// cells were asked.
fn served_log(dir: &Path) -> (PathBuf, u64) {
    let log = dir.join("served");
    let log_arg = log.to_string_lossy().to_string();
    let served = Served::start(
        &[
            "examples/checkout",
            "--bootstrap",
            "--clock",
            "events",
            "--log-served",
            &log_arg,
            // Tiny: the log has several files.
            "--log-served-rotate",
            "1",
        ],
        &dir.join("serve.txt"),
    );
    served.wait_ready();
    let users: Vec<i64> = (1..=24).collect();
    let amounts: Vec<f64> = users.iter().map(|u| *u as f64 * 7.25).collect();
    let spending = [
        "spent_7d",
        "avg_last10",
        "max_30d_last50",
        "basket_mean_7d",
        "basket_fit_last",
        "last_ship_lat",
        "risk_signals_7d",
    ];
    let reads = [
        (
            json!({"feature_service": "fraud_v1", "entities": {"user_id": users}, "request_context": {"amount": amounts}}),
            5 * users.len(),
        ),
        (
            json!({"features": spending.map(|f| format!("spending:{f}")), "entities": {"user_id": [1, 2, 3, 999]}}),
            spending.len() * 4,
        ),
        (
            json!({"features": ["activity:last_events", "activity:payments_last20", "merchant_volume:paid_30d", "merchant_risk:chargebacks_30d"],
                   "entities": {"user_id": [4, 5], "merchant_id": ["m1", "m7"]}}),
            4 * 2,
        ),
    ];
    let mut asked = 0;
    for (body, cells) in &reads {
        let (status, answer) = post(&served.addr, "/get-online-features", body);
        assert_eq!(status, 200, "{answer}");
        asked += *cells as u64;
        // Let the writer's idle flush complete a file between reads.
        std::thread::sleep(std::time::Duration::from_millis(1300));
    }
    served.stop_gracefully();
    // A file still being written is not read (its rows are the next run's).
    std::fs::write(log.join(".served-1-000009.parquet.partial"), b"not yet").expect("partial");
    (log, asked)
}

pub(crate) fn report(out: &std::process::Output) -> Json {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `featc audit ARGS --format json -q`: its report, the exit status being `code`.
pub(crate) fn audit_report(args: &[&str], code: i32) -> Json {
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    all.extend(["--format", "json", "-q"]);
    let out = featc(&all);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    report(&out)
}

pub(crate) fn count(doc: &Json, feature: &str, what: &str) -> u64 {
    let f = doc["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["feature"] == feature)
        .unwrap_or_else(|| panic!("{feature} in {doc}"));
    match what {
        "explained" => f["explained"]
            .as_object()
            .map_or(0, |m| m.values().filter_map(Json::as_u64).sum()),
        _ => f[what].as_u64().expect("count"),
    }
}

#[test]
fn what_was_served_is_what_training_computes_and_a_changed_definition_is_explained() {
    let dir = scratch("equal");
    let (log, asked) = served_log(&dir);
    let log_arg = log.to_string_lossy().to_string();
    let files = std::fs::read_dir(&log)
        .expect("log")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("served-"))
        })
        .count();
    // The writer completes a file when it has been idle a second: under load two reads
    // may share one, so at least two files.
    assert!(files >= 2, "several files: {files}");

    // Small chunks: the recomputation's batches and the log's rows meet across files.
    let doc = audit_report(
        &[
            "examples/checkout",
            "--served",
            &log_arg,
            "--chunk-rows",
            "7",
        ],
        0,
    );
    let reads = 24 + 4 + 2;
    assert_eq!(doc["logged_reads"], reads, "{doc}");
    assert_eq!(doc["audited_reads"], reads);
    assert_eq!(doc["cells"]["unexplained"], 0, "{doc}");
    // The server answered at the events' clock (the last chargeback's time) while
    // user 12's last payment, 5 minutes inside the payments' lateness, still waited
    // for the lookups of `spending` (merchant_volume reads the payments themselves):
    // the three cells that read it differ, and the audit shows why by recomputing
    // them without it.
    assert_eq!(doc["cells"]["explained"]["held_for_lookup"], 3, "{doc}");
    assert_eq!(doc["cells"]["equal"], asked - 3, "{doc}");
    assert_eq!(doc["exact_reads"], reads - 1, "{doc}");
    assert_eq!(doc["worst_keys"][0]["key"], "user_id=12", "{doc}");
    for f in ["spent_7d", "avg_last10", "amount_vs_recent"] {
        assert_eq!(count(&doc, f, "explained"), 1, "{f}: {doc}");
    }
    assert_eq!(count(&doc, "amount_vs_recent", "equal"), 23, "{doc}");
    assert_eq!(count(&doc, "basket_mean_7d", "equal"), 4);

    // A sample: every k-th read, the same verdicts.
    let sampled = audit_report(
        &["examples/checkout", "--served", &log_arg, "--sample", "5"],
        0,
    );
    assert_eq!(sampled["sample_every"], 6, "{sampled}");
    assert_eq!(sampled["audited_reads"], 5);
    assert_eq!(sampled["cells"]["unexplained"], 0);

    // Today's project counts `spent_7d` over 8 days: its differing cells are
    // explained by the change, so is the derived feature that reads it, and the rest
    // is equal.
    let changed = dir.join("changed.feat");
    let text =
        std::fs::read_to_string(repo().join("examples/checkout/checkout.feat")).expect("example");
    let edited = text.replace(
        "spent_7d             = sum(amount) over 7d",
        "spent_7d             = sum(amount) over 8d",
    );
    assert_ne!(text, edited);
    std::fs::write(&changed, edited).expect("changed project");
    let data = repo().join("examples/checkout/data");
    let binding = |s: &str| format!("{s}={}", data.join(format!("{s}.csv")).display());
    let changed_arg = changed.to_string_lossy().to_string();
    let (payments, logins, chargebacks) = (
        binding("payments"),
        binding("logins"),
        binding("chargebacks"),
    );
    let doc = audit_report(
        &[
            &changed_arg,
            "--served",
            &log_arg,
            "--source",
            &payments,
            "--source",
            &logins,
            "--source",
            &chargebacks,
        ],
        0,
    );
    assert_eq!(doc["cells"]["unexplained"], 0, "{doc}");
    let spent = &doc["features"][0];
    assert_eq!(spent["feature"], "spent_7d");
    assert!(
        spent["explained"]["definition_changed"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{doc}"
    );
    assert_eq!(
        count(&doc, "spent_7d", "equal") + count(&doc, "spent_7d", "explained"),
        24 + 4
    );
    // What does not read `spent_7d` is as before: equal, or held for its lookups.
    assert_eq!(count(&doc, "avg_last10", "equal"), 24 + 4 - 1, "{doc}");
    assert_eq!(count(&doc, "avg_last10", "explained"), 1);
    assert_eq!(count(&doc, "amount_vs_recent", "equal"), 23);
}

/// Rewrites the first log file with `feature` (an int64) of its first row plus one.
fn make_wrong(log: &Path, feature: &str) -> i64 {
    let mut files: Vec<PathBuf> = std::fs::read_dir(log)
        .expect("log")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("served-"))
        })
        .collect();
    files.sort();
    let path = &files[0];
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).expect("open"))
            .expect("parquet");
    // With its metadata (the features it names, their meanings).
    let schema = Arc::clone(builder.schema());
    let batches: Vec<RecordBatch> = builder
        .build()
        .expect("reader")
        .map(|b| b.expect("batch"))
        .collect();
    let at = schema.index_of(feature).expect("feature column");
    let mut wrong = None;
    let edited: Vec<RecordBatch> = batches
        .iter()
        .enumerate()
        .map(|(b, batch)| {
            let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
            if b == 0 {
                let values = batch.column(at).as_primitive::<Int64Type>();
                let changed: Int64Array = (0..values.len())
                    .map(|r| match r {
                        0 => Some(values.value(0) + 1),
                        _ => (!values.is_null(r)).then(|| values.value(r)),
                    })
                    .collect();
                wrong = Some(values.value(0) + 1);
                columns[at] = Arc::new(changed);
            }
            RecordBatch::try_new(Arc::clone(&schema), columns).expect("batch")
        })
        .collect();
    let mut writer = ArrowWriter::try_new(
        std::fs::File::create(path).expect("create"),
        Arc::clone(&schema),
        None,
    )
    .expect("writer");
    for b in &edited {
        writer.write(b).expect("write");
    }
    writer.close().expect("close");
    wrong.expect("a first row")
}

#[test]
fn a_wrong_served_value_is_unexplained_and_named() {
    let dir = scratch("wrong");
    let (log, _) = served_log(&dir);
    let log_arg = log.to_string_lossy().to_string();
    // The first read is the service's, for users 1..24: user 1's failed logins.
    let wrong = make_wrong(&log, "failed_logins_1d");
    // An unexplained cell exits 1.
    let doc = audit_report(&["examples/checkout", "--served", &log_arg], 1);
    assert_eq!(doc["cells"]["unexplained"], 1, "{doc}");
    // User 12's read is explained, not exact (see the first test).
    assert_eq!(doc["exact_reads"], 24 + 4 + 2 - 2);
    let finding = &doc["unexplained"][0];
    assert_eq!(finding["feature"], "failed_logins_1d", "{finding}");
    assert_eq!(finding["keys"]["user_id"], "1");
    assert_eq!(finding["served"], wrong.to_string());
    assert_eq!(finding["computed"], (wrong - 1).to_string());
    assert_eq!(finding["status"], "PRESENT");
    assert!(
        finding["read_time"]
            .as_str()
            .is_some_and(|t| t.starts_with("2024-")),
        "{finding}"
    );
    assert_eq!(doc["worst_keys"][0]["key"], "user_id=1", "{doc}");
    // With the events behind it: `activity` reads the payments and the logins, the
    // latest of each of user 1's at or before the read.
    let events: Vec<&str> = finding["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(Json::as_str)
        .collect();
    for source in ["payments", "logins"] {
        assert!(
            events.iter().any(|e| e.starts_with(&format!("{source} {{"))
                && (e.contains("user_id=1,") || e.contains("user_id=1}"))),
            "{events:?}"
        );
    }

    // The text report names it too.
    let out = featc(&["audit", "examples/checkout", "--served", &log_arg, "-q"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "failed_logins_1d at {}",
            finding["read_time"].as_str().unwrap_or("")
        )) && text.contains(&format!(
            "served {wrong} (PRESENT), training computes {}",
            wrong - 1
        )),
        "{text}"
    );
}

#[test]
fn a_missing_log_or_a_broken_project_is_a_usage_error() {
    let dir = scratch("usage");
    let missing = dir.join("nothing").to_string_lossy().to_string();
    let out = featc(&["audit", "examples/checkout", "--served", &missing, "-q"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("served log"));
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).expect("empty folder");
    let empty_arg = empty.to_string_lossy().to_string();
    let out = featc(&["audit", "examples/checkout", "--served", &empty_arg, "-q"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no complete served-log file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let broken = dir.join("broken.feat");
    std::fs::write(&broken, "view v from nowhere by nobody {}").expect("broken project");
    let broken_arg = broken.to_string_lossy().to_string();
    let out = featc(&["audit", &broken_arg, "--served", &empty_arg, "-q"]);
    assert_eq!(out.status.code(), Some(2), "1 is the audit's verdict");
}

/// One log, two deploys: the example, then a version whose `spent_7d` counts 8 days,
/// each logging into the same folder. Each file is audited by the meanings it was
/// served with: today's version finds its own reads equal and the first deploy's
/// differing `spent_7d` cells explained by the change, never unexplained.
#[test]
fn two_deploys_in_one_log_are_audited_by_their_own_meanings() {
    let dir = scratch("deploys");
    let log = dir.join("served");
    let log_arg = log.to_string_lossy().to_string();
    let text =
        std::fs::read_to_string(repo().join("examples/checkout/checkout.feat")).expect("example");
    let changed = dir.join("changed.feat");
    std::fs::write(
        &changed,
        text.replace(
            "spent_7d             = sum(amount) over 7d",
            "spent_7d             = sum(amount) over 8d",
        ),
    )
    .expect("changed project");
    let changed_arg = changed.to_string_lossy().to_string();
    let data = repo().join("examples/checkout/data");
    let bindings: Vec<String> = ["payments", "logins", "chargebacks"]
        .iter()
        .map(|s| format!("{s}={}", data.join(format!("{s}.csv")).display()))
        .collect();
    let read = json!({"features": ["spending:spent_7d", "spending:avg_last10"], "entities": {"user_id": (1..=12).collect::<Vec<i64>>()}});
    for project in ["examples/checkout", changed_arg.as_str()] {
        let mut args = vec![
            project,
            "--bootstrap",
            "--clock",
            "events",
            "--log-served",
            &log_arg,
        ];
        for b in &bindings {
            args.extend(["--source", b.as_str()]);
        }
        let served = Served::start(&args, &dir.join("serve.txt"));
        served.wait_ready();
        let (status, answer) = post(&served.addr, "/get-online-features", &read);
        assert_eq!(status, 200, "{answer}");
        served.stop_gracefully();
    }
    let mut args = vec![changed_arg.as_str(), "--served", &log_arg];
    for b in &bindings {
        args.extend(["--source", b.as_str()]);
    }
    let doc = audit_report(&args, 0);
    assert_eq!(doc["files"], 2, "{doc}");
    assert_eq!(doc["cells"]["unexplained"], 0, "{doc}");
    let spent = count(&doc, "spent_7d", "equal") + count(&doc, "spent_7d", "explained");
    assert_eq!(spent, 24, "{doc}");
    // The second deploy's 12 reads are today's: equal, or held (user 12, as above).
    assert!(count(&doc, "spent_7d", "equal") >= 11, "{doc}");
    assert!(
        doc["features"][0]["explained"]["definition_changed"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "the first deploy's 7-day sums differ from 8-day ones: {doc}"
    );
}

/// A late event the server dead-lettered is in the history a warehouse keeps, so
/// training counts it where the server did not. Without the server's state the audit
/// cannot know why the cell differs (unexplained, exit 1); with `--state` it reads the
/// dead letters and shows, by recomputing without them, that they are the whole
/// difference (`dead_lettered`, exit 0).
#[test]
fn a_dead_lettered_late_event_explains_the_cells_it_changes() {
    let dir = scratch("dead_letters");
    let project = dir.join("clicks.feat");
    std::fs::write(
        &project,
        "source clicks {\n    time ts\n    columns { user_id: int64  amount: float64 }\n    file \"clicks.csv\"\n    lateness 1m\n}\nentity user { key user_id: int64 }\nview spend from clicks by user {\n    feature n_1d = count(*) over 1d\n    feature total_1d = sum(amount) over 1d\n}\n",
    )
    .expect("project");
    // What the warehouse holds: every event, the late one (12:00 for user 1) too.
    std::fs::write(
        dir.join("clicks.csv"),
        "ts,user_id,amount\n2024-03-01T12:00:00Z,1,5.5\n2024-03-01T12:30:00Z,1,1.25\n2024-03-01T13:00:00Z,2,2.0\n2024-03-01T14:00:00Z,1,3.0\n",
    )
    .expect("history");
    let state = dir.join("state");
    let log = dir.join("served");
    let project_arg = project.to_string_lossy().to_string();
    let state_arg = state.to_string_lossy().to_string();
    let log_arg = log.to_string_lossy().to_string();
    let served = Served::start(
        &[
            &project_arg,
            "--state",
            &state_arg,
            "--late",
            "dead-letter",
            "--clock",
            "events",
            "--log-served",
            &log_arg,
        ],
        &dir.join("serve.txt"),
    );
    served.wait_ready();
    let push = |ts: &[&str], users: &[i64], amounts: &[f64]| {
        let body = json!({"push_source_name": "clicks", "to": "online",
            "df": {"ts": ts, "user_id": users, "amount": amounts}});
        let (status, answer) = post(&served.addr, "/push", &body);
        assert_eq!(status, 200, "{answer}");
        answer
    };
    push(
        &[
            "2024-03-01T12:30:00Z",
            "2024-03-01T13:00:00Z",
            "2024-03-01T14:00:00Z",
        ],
        &[1, 2, 1],
        &[1.25, 2.0, 3.0],
    );
    // Two hours behind the watermark (14:00 less a minute): dead-lettered.
    let late = push(&["2024-03-01T12:00:00Z"], &[1], &[5.5]);
    assert_eq!(late["late"], 1, "{late}");
    let read = json!({"features": ["n_1d", "total_1d"], "entities": {"user_id": [1, 2]}});
    let (status, answer) = post(&served.addr, "/get-online-features", &read);
    assert_eq!(status, 200, "{answer}");
    served.stop_gracefully();

    let doc = audit_report(&[&project_arg, "--served", &log_arg], 1);
    assert_eq!(doc["cells"]["unexplained"], 2, "user 1's two cells: {doc}");
    let finding = &doc["unexplained"][0];
    assert_eq!(finding["keys"]["user_id"], "1", "{finding}");
    assert!(
        finding["events"].as_array().is_some_and(|e| e
            .iter()
            .any(|e| e.as_str().is_some_and(|e| e.contains("12:00:00")))),
        "the late event is among the key's events: {finding}"
    );

    let doc = audit_report(
        &[&project_arg, "--served", &log_arg, "--state", &state_arg],
        0,
    );
    assert_eq!(doc["cells"]["unexplained"], 0, "{doc}");
    assert_eq!(doc["cells"]["explained"]["dead_lettered"], 2, "{doc}");
    assert_eq!(doc["cells"]["equal"], 2, "user 2's cells: {doc}");
}
