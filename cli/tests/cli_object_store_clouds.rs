//! Sources, spines and outputs in Azure Blob Storage (`az://`, on Azurite, Microsoft's
//! emulator, started on loopback) and Google Cloud Storage (`gs://`, on SeaweedFS's
//! S3 gateway without identities: GCS's XML API, which object_store's GCS client
//! speaks, is S3's):
//! the training set is byte for byte the one from local files, the output replaces the
//! object only when the run succeeds, and errors name the location. Blobs are put and
//! read back with Azure's own Python SDK.

use crate::cli_common::scratch;
use crate::services::{Azurite, S3Server};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo")
        .to_path_buf()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `script` (Python, with azure-storage-blob) with the emulator's connection
/// string as its first argument and `args` after it.
fn azure_python(azurite: &Azurite, script: &str, args: &[&str]) -> Output {
    let out = Command::new(repo().join(".services/venv/bin/python"))
        .arg("-c")
        .arg(script)
        .arg(azurite.connection_string())
        .args(args)
        .output()
        .expect("python runs");
    ok(&out);
    out
}

const CREATE: &str = "import sys\nfrom azure.storage.blob import BlobServiceClient\nBlobServiceClient.from_connection_string(sys.argv[1]).create_container(sys.argv[2])\n";
const PUT: &str = "import sys\nfrom azure.storage.blob import BlobServiceClient\nc = BlobServiceClient.from_connection_string(sys.argv[1])\nwith open(sys.argv[4], 'rb') as f:\n    c.get_blob_client(sys.argv[2], sys.argv[3]).upload_blob(f, overwrite=True)\n";
const GET: &str = "import sys\nfrom azure.storage.blob import BlobServiceClient\nc = BlobServiceClient.from_connection_string(sys.argv[1])\nwith open(sys.argv[4], 'wb') as f:\n    f.write(c.get_blob_client(sys.argv[2], sys.argv[3]).download_blob().readall())\n";

/// `featc training-set` of the marketplace case with `args` after its spine
/// (`--source`s, `--out`), in `env`.
fn training_set(env: &[(&str, String)], spine: &str, args: &[&str]) -> Output {
    let case = repo().join("tests/cases/marketplace");
    let mut command = Command::new(env!("CARGO_BIN_EXE_featc"));
    command
        .arg("training-set")
        .arg(&case)
        .args(["--spine", spine])
        .args(args)
        .arg("-q")
        .current_dir(repo());
    for key in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT",
        "AZURE_STORAGE_ACCOUNT_KEY",
    ] {
        command.env_remove(key);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("featc runs")
}

/// The marketplace case's training set from its local files, written to `dir`.
fn local_training_set(dir: &Path) -> Vec<u8> {
    let case = repo().join("tests/cases/marketplace");
    let out = dir.join("local.parquet");
    let spine = case.join("spine.parquet");
    ok(&training_set(
        &[],
        &spine.to_string_lossy(),
        &["--out", &out.to_string_lossy()],
    ));
    std::fs::read(out).expect("local training set")
}

#[test]
fn training_sets_from_azure_blobs_equal_those_from_local_files() {
    let dir = scratch("object_store_azure");
    let azurite = Azurite::start(&dir);
    let case = repo().join("tests/cases/marketplace");
    azure_python(&azurite, CREATE, &["history"]);
    for (blob, file) in [
        ("orders/all.parquet", "orders.parquet"),
        ("reviews/part-0.parquet", "reviews.parquet"),
        ("spines/spine.parquet", "spine.parquet"),
    ] {
        let file = case.join(file).to_string_lossy().to_string();
        azure_python(&azurite, PUT, &["history", blob, &file]);
    }
    let local = local_training_set(&dir);
    // object_store's emulator mode: the development account, at this port.
    let env = [
        ("AZURE_STORAGE_USE_EMULATOR", "true".to_string()),
        ("AZURITE_BLOB_STORAGE_URL", azurite.url()),
    ];
    let sources = [
        "--source",
        "orders=az://history/orders/all.parquet",
        "--source",
        "reviews=az://history/reviews/",
    ];
    let out = "az://history/training/marketplace.parquet";
    let mut args = sources.to_vec();
    args.extend(["--out", out]);
    ok(&training_set(
        &env,
        "az://history/spines/spine.parquet",
        &args,
    ));
    let written = dir.join("written.parquet").to_string_lossy().to_string();
    azure_python(
        &azurite,
        GET,
        &["history", "training/marketplace.parquet", &written],
    );
    assert_eq!(
        std::fs::read(&written).expect("written"),
        local,
        "the training set from Azure is the one from local files, byte for byte"
    );

    // A run that fails (a missing blob) exits 2 naming it, and leaves the output.
    let mut failing = args.clone();
    failing[1] = "orders=az://history/orders/gone.parquet";
    let run = training_set(&env, "az://history/spines/spine.parquet", &failing);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("az://history/orders/gone.parquet"),
        "{stderr}"
    );
    assert!(!stderr.contains(Azurite::ACCOUNT_KEY), "{stderr}");
    azure_python(
        &azurite,
        GET,
        &["history", "training/marketplace.parquet", &written],
    );
    assert_eq!(std::fs::read(&written).expect("written"), local);
}

#[test]
fn training_sets_from_google_cloud_storage_equal_those_from_local_files() {
    let dir = scratch("object_store_gcs");
    let server = S3Server::start_anonymous(&dir);
    server.create_bucket("history");
    let case = repo().join("tests/cases/marketplace");
    let local = local_training_set(&dir);
    // A service account key that turns OAuth off (empty bearer tokens), as
    // object_store's own tests reach a GCS emulator: its writes fetch a token even
    // with GOOGLE_SKIP_SIGNATURE.
    let key = serde_json::json!({
        "private_key": "",
        "private_key_id": "",
        "client_email": "",
        "gcs_base_url": server.endpoint(),
        "disable_oauth": true,
    });
    let env = [("GOOGLE_SERVICE_ACCOUNT_KEY", key.to_string())];
    // The inputs go up with a plain unsigned PUT (the gateway has no identities).
    let put = |file: &Path, url: &str| {
        let status = Command::new("curl")
            .args(["-s", "-f", "-X", "PUT", "--upload-file"])
            .arg(file)
            .arg(format!(
                "{}/{}",
                server.endpoint(),
                url.trim_start_matches("gs://")
            ))
            .status()
            .expect("curl runs");
        assert!(status.success(), "PUT {url}");
    };
    put(
        &case.join("orders.parquet"),
        "gs://history/orders/all.parquet",
    );
    put(
        &case.join("reviews.parquet"),
        "gs://history/reviews/part-0.parquet",
    );
    let spine = case.join("spine.parquet").to_string_lossy().to_string();
    let out = "gs://history/training/marketplace.parquet";
    let args = [
        "--source",
        "orders=gs://history/orders/all.parquet",
        "--source",
        "reviews=gs://history/reviews/",
        "--out",
        out,
    ];
    ok(&training_set(&env, &spine, &args));
    let written = Command::new("curl")
        .args(["-s", "-f"])
        .arg(format!(
            "{}/history/training/marketplace.parquet",
            server.endpoint()
        ))
        .output()
        .expect("curl runs");
    assert!(written.status.success());
    assert_eq!(
        written.stdout, local,
        "the training set from GCS is the one from local files, byte for byte"
    );
    let mut failing = args.to_vec();
    failing[1] = "orders=gs://history/orders/gone.parquet";
    let run = training_set(&env, &spine, &failing);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("gs://history/orders/gone.parquet"),
        "{stderr}"
    );
}
