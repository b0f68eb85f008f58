//! Iceberg tables as sources (issue 45), from the command line: a training set whose
//! source is `--source NAME=iceberg:METADATA_JSON` (a table pyiceberg wrote: appends
//! in several snapshots, an added column, a copy-on-write delete) has, bit for bit,
//! the rows of the training set of a Parquet copy of the current snapshot's rows, as
//! pyiceberg itself reads them (`scan().to_arrow()`), and records the snapshot it read;
//! pinned with `--as-of-version` to each older snapshot, that snapshot's; locally and
//! from an S3 server (SeaweedFS, on loopback) pyiceberg wrote the table to; a table
//! with a delete file is refused, naming it. The command and the error are
//! docs/sources.md's.
//! `runtime/tests/iceberg_tables.rs` compares every snapshot with pyiceberg's.

use crate::cli_common::{featc, recorded_versions, same_rows, scratch, stderr};
use crate::services::S3Server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use featc_test_support::compare::bit_equal;
use featc_test_support::parquet::read_parquet;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo")
        .to_path_buf()
}

/// A table pyiceberg wrote: its current metadata file and its snapshots, oldest
/// first.
struct Written {
    metadata: String,
    snapshots: Vec<i64>,
}

/// Runs the fixture writer into `dir` (the tables' warehouse at `warehouse`, an
/// `s3://` URL, when given, with `env` for its endpoint and keys).
fn write_tables(
    dir: &Path,
    warehouse: Option<&str>,
    env: &[(&str, String)],
) -> BTreeMap<String, Written> {
    let python = repo().join(".services/venv/bin/python");
    assert!(
        python.exists(),
        "no {}: run scripts/services/install",
        python.display()
    );
    let out = Command::new(python)
        .arg(repo().join("runtime/tests/fixtures/iceberg/write_table.py"))
        .arg(dir)
        .args(warehouse)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "write_table.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tables: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let tables = tables.as_object().expect("the tables by name");
    tables
        .iter()
        .map(|(name, table)| {
            let written = Written {
                metadata: table["metadata"].as_str().expect("metadata").to_string(),
                snapshots: table["snapshots"]
                    .as_array()
                    .expect("snapshots")
                    .iter()
                    .map(|s| s.as_i64().expect("a snapshot id"))
                    .collect(),
            };
            (name.clone(), written)
        })
        .collect()
}

/// A project reading `clicks` (every column of the table, the added one too) and a
/// spine of every user at every hour the clicks span.
fn project(dir: &Path) -> (String, String) {
    let feat = dir.join("features.feat");
    std::fs::write(
        &feat,
        "source clicks {\n    time ts\n    columns { user_id: int64  amount: float64?  channel: string? }\n    file \"clicks.parquet\"\n}\n\
         entity user { key user_id: int64 }\n\
         view spend from clicks by user {\n    feature total_2h = sum(amount) over 2h\n    feature clicks_1d = count(*) over 1d\n    feature last_channel = last(channel)\n    feature channels_1d = count(channel) over 1d\n}\n",
    )
    .expect("project");
    let spine = dir.join("spine.csv");
    let mut rows = "ts,user_id\n".to_string();
    for hour in 0..14 {
        for user in 1..=3 {
            rows.push_str(&format!("2024-03-01T{hour:02}:30:00Z,{user}\n"));
        }
    }
    std::fs::write(&spine, rows).expect("spine");
    (
        feat.to_string_lossy().to_string(),
        spine.to_string_lossy().to_string(),
    )
}

fn ok(out: &Output) {
    assert!(out.status.success(), "{}", stderr(out));
}

#[test]
fn a_training_set_from_an_iceberg_table_is_the_one_from_a_parquet_copy_of_it() {
    let dir = scratch("cli_iceberg");
    let tables = write_tables(&dir, None, &[]);
    let (feat, spine) = project(&dir);
    let clicks = &tables["clicks"];
    let current = clicks.snapshots.last().expect("a snapshot");
    let copy = dir.join(format!("expected/clicks/{current}.parquet"));
    let copy_out = dir.join("copy.parquet");
    let copy_out_arg = copy_out.to_string_lossy().to_string();
    let binding = format!("clicks={}", copy.display());
    ok(&featc(&[
        "training-set",
        &feat,
        "--spine",
        &spine,
        "--source",
        &binding,
        "--out",
        &copy_out_arg,
        "-q",
    ]));
    // The Iceberg run is docs/sources.md's command, on this table.
    let docs = std::fs::read_to_string(repo().join("docs/sources.md")).expect("docs");
    let command = docs
        .lines()
        .find(|l| l.starts_with("featc training-set") && l.contains("iceberg:"))
        .expect("docs/sources.md's Iceberg command");
    let iceberg_out = dir.join("iceberg.parquet");
    let args: Vec<String> = command
        .split_whitespace()
        .skip(1)
        .map(|a| match a {
            "features.feat" => feat.clone(),
            "spine.csv" => spine.clone(),
            "training.parquet" => iceberg_out.to_string_lossy().to_string(),
            a if a.starts_with("clicks=iceberg:") => format!("clicks=iceberg:{}", clicks.metadata),
            a => a.to_string(),
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&featc(&args));
    same_rows(&iceberg_out, &copy_out);
    let location = format!("iceberg:{}", clicks.metadata);
    assert_eq!(
        recorded_versions(&iceberg_out),
        serde_json::json!({"clicks": {"location": location, "version": current}}),
        "the training set records the snapshot it read"
    );

    // Pinned to each older snapshot that has every column the project declares (the
    // ones before the added column are refused by the project, as their copies are),
    // the table reads as pyiceberg's copy of that snapshot.
    let mut pinned_some = 0;
    for older in &clicks.snapshots[..clicks.snapshots.len() - 1] {
        let copy = dir.join(format!("expected/clicks/{older}.parquet"));
        if read_parquet(&copy)
            .schema()
            .column_with_name("channel")
            .is_none()
        {
            continue;
        }
        pinned_some += 1;
        let (from_copy, pinned) = (dir.join("older_copy.parquet"), dir.join("pinned.parquet"));
        let binding = format!("clicks={}", copy.display());
        let table = format!("clicks=iceberg:{}", clicks.metadata);
        let pin = format!("clicks={older}");
        for (out, args) in [
            (&from_copy, vec!["--source", binding.as_str()]),
            (&pinned, vec!["--source", &table, "--as-of-version", &pin]),
        ] {
            let out_arg = out.to_string_lossy().to_string();
            let mut all = vec!["training-set", &feat, "--spine", &spine];
            all.extend(args);
            all.extend(["--out", &out_arg, "-q"]);
            ok(&featc(&all));
        }
        same_rows(&pinned, &from_copy);
        assert!(
            bit_equal(&read_parquet(&pinned), &read_parquet(&copy_out)).is_err(),
            "snapshot {older}'s training set is not the current one's: the pin is seen"
        );
        assert_eq!(recorded_versions(&pinned)["clicks"]["version"], *older);
    }
    assert!(pinned_some >= 1, "no older snapshot has every column");

    // A table with a delete file is refused, naming the table, the snapshot and the file.
    let deletes = &tables["clicks_deletes"];
    let current = deletes.snapshots.last().expect("a snapshot");
    let binding = format!("clicks=iceberg:{}", deletes.metadata);
    let out = featc(&[
        "training-set",
        &feat,
        "--spine",
        &spine,
        "--source",
        &binding,
        "--out",
        "/dev/null",
        "-q",
    ]);
    let message = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{message}");
    let prefix = format!(
        "source `clicks`: `iceberg:{}`: snapshot {current} has a position delete file `",
        deletes.metadata
    );
    assert!(message.contains(&prefix), "{message}");
    // docs/sources.md shows this error: the same, but for the paths and the id.
    let line = message
        .lines()
        .find(|l| l.contains(&prefix))
        .expect("the error");
    let file = line
        .split("delete file `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("the delete file");
    let shown = line
        .replace(
            &deletes.metadata,
            "/data/warehouse/db/clicks/metadata/00002-9c1e.metadata.json",
        )
        .replace(&current.to_string(), "4761931123412442163")
        .replace(
            file,
            "file:///data/warehouse/db/clicks/data/deletes-1.parquet",
        );
    assert!(
        docs.contains(&shown),
        "docs/sources.md does not show:\n{shown}"
    );
}

#[test]
fn a_training_set_from_an_iceberg_table_in_s3_is_the_one_from_a_parquet_copy_of_it() {
    let dir = scratch("cli_iceberg_s3");
    let server = S3Server::start(&dir.join("s3"));
    server.create_bucket("lake");
    let env = [
        ("AWS_ENDPOINT_URL", server.endpoint()),
        ("AWS_ACCESS_KEY_ID", server.access_key.clone()),
        ("AWS_SECRET_ACCESS_KEY", server.secret_key.clone()),
        ("AWS_REGION", "us-east-1".to_string()),
    ];
    // pyiceberg writes the tables to the server (its data files, manifests and
    // metadata all `s3://lake/...`), and its reading of them to local files.
    let tables = write_tables(&dir, Some("s3://lake/warehouse"), &env);
    let (feat, spine) = project(&dir);
    let clicks = &tables["clicks"];
    assert!(
        clicks.metadata.starts_with("s3://lake/"),
        "{}",
        clicks.metadata
    );
    let current = clicks.snapshots.last().expect("a snapshot");
    let copy = dir.join(format!("expected/clicks/{current}.parquet"));
    let mut outputs = Vec::new();
    for (name, binding) in [
        ("copy", format!("clicks={}", copy.display())),
        ("iceberg", format!("clicks=iceberg:{}", clicks.metadata)),
    ] {
        let out = dir.join(format!("{name}.parquet"));
        let out_arg = out.to_string_lossy().to_string();
        let run = Command::new(env!("CARGO_BIN_EXE_featc"))
            .args([
                "training-set",
                &feat,
                "--spine",
                &spine,
                "--source",
                &binding,
                "--out",
                &out_arg,
                "-q",
            ])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env_remove("AWS_ENDPOINT")
            .output()
            .expect("featc runs");
        ok(&run);
        outputs.push(out);
    }
    same_rows(&outputs[1], &outputs[0]);
    assert_eq!(
        recorded_versions(&outputs[1])["clicks"]["version"],
        *current
    );

    // A metadata file that is not there: named, and the secret never shows.
    let gone = "clicks=iceberg:s3://lake/warehouse/db/gone/metadata/00001.metadata.json";
    let run = Command::new(env!("CARGO_BIN_EXE_featc"))
        .args([
            "training-set",
            &feat,
            "--spine",
            &spine,
            "--source",
            gone,
            "--out",
            "/dev/null",
            "-q",
        ])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env_remove("AWS_ENDPOINT")
        .output()
        .expect("featc runs");
    let message = stderr(&run);
    assert_eq!(run.status.code(), Some(2), "{message}");
    assert!(
        message.contains(
            "source `clicks`: cannot read `iceberg:s3://lake/warehouse/db/gone/metadata/00001.metadata.json`: "
        ),
        "{message}"
    );
    assert!(!message.contains(&server.secret_key), "{message}");
}
