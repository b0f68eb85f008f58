//! Iceberg tables read from their metadata (`io::iceberg::open`), against the
//! reference library: pyiceberg writes tables (snapshots of appends, an added column,
//! a renamed column, a copy-on-write delete, format versions 1 and 2) with a SQL
//! catalog on sqlite, and its own `scan(snapshot_id=...).to_arrow()` of every
//! snapshot is what `open` must read, row for row (after sorting). Then the errors: a
//! missing metadata file, an unknown snapshot, a manifest that does not decode, an
//! unsupported format version or type, a delete file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::{cast, concat_batches, sort_to_indices, take_record_batch};
use datafusion::prelude::SessionContext;
use featc_runtime::io::iceberg::open;
use featc_runtime::io::IoError;
use featc_test_support::parquet::read_parquet;
use featc_test_support::paths::repo_root;
use featc_test_support::scratch::fresh_dir;

/// A table pyiceberg wrote: its current metadata file and its snapshots, oldest
/// first.
#[derive(serde::Deserialize)]
struct Written {
    metadata: String,
    snapshots: Vec<i64>,
}

/// Runs the fixture writer (`fixtures/iceberg/write_table.py`) into `dir`.
fn write_tables(dir: &Path) -> BTreeMap<String, Written> {
    let python = repo_root().join(".services/venv/bin/python");
    assert!(
        python.exists(),
        "no {}: run scripts/services/install",
        python.display()
    );
    let out = Command::new(python)
        .arg(repo_root().join("runtime/tests/fixtures/iceberg/write_table.py"))
        .arg(dir)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "write_table.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the tables, as JSON")
}

fn scratch(name: &str) -> PathBuf {
    fresh_dir(Path::new(env!("CARGO_TARGET_TMPDIR")).join(name))
}

async fn read(metadata: &str, snapshot: Option<i64>) -> Result<(RecordBatch, i64), IoError> {
    let ctx = SessionContext::new_with_config(featc_runtime::io::configure(Default::default()));
    let (provider, read) = open(&ctx, "source `clicks`", metadata, snapshot).await?;
    let schema = provider.schema();
    let batches = ctx
        .read_table(provider)
        .expect("a table")
        .collect()
        .await
        .expect("the table reads");
    Ok((concat_batches(&schema, &batches).expect("concat"), read))
}

/// `batch`'s rows sorted by its first column (the times, all different), its columns
/// cast to `like`'s types.
fn sorted(batch: &RecordBatch, like: &RecordBatch) -> RecordBatch {
    let columns = batch
        .columns()
        .iter()
        .zip(like.columns())
        .map(|(c, l)| cast(c, l.data_type()).expect("cast"))
        .collect();
    let batch = RecordBatch::try_new(like.schema(), columns).expect("batch");
    let order = sort_to_indices(batch.column(0), None, None).expect("sort");
    take_record_batch(&batch, &order).expect("take")
}

fn names(batch: &RecordBatch) -> Vec<String> {
    batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_snapshot_reads_as_pyiceberg_reads_it_and_errors_name_the_file() {
    let dir = scratch("iceberg_tables");
    let tables = write_tables(&dir);
    for name in ["clicks", "clicks_v1", "clicks_renamed"] {
        let table = &tables[name];
        for &snapshot in &table.snapshots {
            let (rows, read_id) = read(&table.metadata, Some(snapshot))
                .await
                .unwrap_or_else(|e| panic!("{name} at {snapshot}: {e}"));
            assert_eq!(read_id, snapshot);
            let expected = read_parquet(&dir.join(format!("expected/{name}/{snapshot}.parquet")));
            assert_eq!(names(&rows), names(&expected), "{name} at {snapshot}");
            assert_eq!(
                sorted(&rows, &rows),
                sorted(&expected, &rows),
                "{name} at snapshot {snapshot}"
            );
        }
        // No snapshot given: the current one, the last written.
        let (_, current) = read(&table.metadata, None).await.expect("reads");
        assert_eq!(Some(&current), table.snapshots.last(), "{name}");
    }
    // What the tables went through, so that the comparisons above covered it: the
    // added column is null in older files; the delete removed rows.
    let clicks = &tables["clicks"];
    let (added, _) = read(&clicks.metadata, Some(clicks.snapshots[2]))
        .await
        .expect("reads");
    assert_eq!(names(&added), ["ts", "user_id", "amount", "channel"]);
    assert_eq!(
        added.column(3).null_count(),
        70 + 12,
        "70 older rows, 12 of 25 new"
    );
    let (deleted, _) = read(&clicks.metadata, Some(clicks.snapshots[3]))
        .await
        .expect("reads");
    assert!(deleted.num_rows() < added.num_rows());

    let error = |e: Result<(RecordBatch, i64), IoError>| match e {
        Ok(_) => panic!("read, where an error was expected"),
        Err(e) => e.to_string(),
    };
    // A missing metadata file.
    let missing = dir.join("warehouse/db/gone/metadata/00001.metadata.json");
    let message = error(read(&missing.to_string_lossy(), None).await);
    assert!(
        message.starts_with(&format!(
            "source `clicks`: cannot read `iceberg:{}`",
            missing.display()
        )),
        "{message}"
    );
    // A snapshot the table does not have: the ones it has are listed.
    let message = error(read(&clicks.metadata, Some(42)).await);
    let known: Vec<String> = clicks.snapshots.iter().map(i64::to_string).collect();
    assert!(
        message.contains(&format!(
            "the Iceberg table has no snapshot 42 (its snapshots: {})",
            known.join(", ")
        )),
        "{message}"
    );
    // A delete file is never ignored: the table, the snapshot, the file are named.
    // (The snapshot before it reads, and equals pyiceberg's, above.)
    let deletes = &tables["clicks_deletes"];
    let (before, _) = read(&deletes.metadata, Some(deletes.snapshots[0]))
        .await
        .expect("reads");
    let expected = read_parquet(&dir.join(format!(
        "expected/clicks_deletes/{}.parquet",
        deletes.snapshots[0]
    )));
    assert_eq!(sorted(&before, &before), sorted(&expected, &before));
    let message = error(read(&deletes.metadata, None).await);
    let current = deletes.snapshots[1];
    assert!(
        message.starts_with(&format!(
            "source `clicks`: `iceberg:{}`: snapshot {current} has a position delete file `file://",
            deletes.metadata
        )),
        "{message}"
    );
    assert!(message.contains("/data/deletes-"), "{message}");

    // A metadata file of another format version, or a column of a nested type.
    let renamed = &tables["clicks_renamed"];
    let text = std::fs::read_to_string(&renamed.metadata).expect("metadata");
    let mut json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let edited = dir.join("edited.metadata.json");
    let edited_arg = edited.to_string_lossy().to_string();
    json["format-version"] = 3.into();
    std::fs::write(&edited, json.to_string()).expect("write");
    let message = error(read(&edited_arg, None).await);
    assert!(
        message
            .ends_with("Iceberg format version 3 is not supported (featc reads versions 1 and 2)"),
        "{message}"
    );
    json["format-version"] = 2.into();
    let schema = json["current-schema-id"].clone();
    for s in json["schemas"].as_array_mut().expect("schemas") {
        if s["schema-id"] == schema {
            s["fields"].as_array_mut().expect("fields").push(serde_json::json!(
                {"id": 9, "name": "tags", "required": false,
                 "type": {"type": "list", "element-id": 10, "element": "string", "element-required": false}}
            ));
        }
    }
    std::fs::write(&edited, json.to_string()).expect("write");
    let message = error(read(&edited_arg, None).await);
    assert!(
        message.ends_with("column `tags` has Iceberg type `list`, which featc does not read"),
        "{message}"
    );
    // A manifest that does not decode: it is named, and so is its table.
    let manifest = std::fs::read_dir(dir.join("warehouse/db/clicks_renamed/metadata"))
        .expect("metadata folder")
        .map(|e| e.expect("entry").path())
        .find(|p| p.to_string_lossy().ends_with("-m0.avro"))
        .expect("a manifest");
    std::fs::write(&manifest, b"Obj\x01 truncated").expect("corrupt");
    let message = error(read(&renamed.metadata, None).await);
    assert!(
        message.contains(&format!(
            "{}`: not an Iceberg manifest (Avro) file: ",
            manifest.display()
        )),
        "{message}"
    );
    assert!(
        message.ends_with(&format!(
            "(in the Iceberg table `iceberg:{}`)",
            renamed.metadata
        )),
        "{message}"
    );
}
