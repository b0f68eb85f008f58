//! Sources in object storage (issue 45), on a real S3-protocol server (SeaweedFS,
//! started on loopback): a training set whose sources are `s3://` objects, one object
//! or a prefix read as a folder, Parquet or CSV, is byte for byte the training set of
//! the same files read locally; a missing bucket, a missing object and a wrong secret
//! are errors naming the location, never showing the secret; a connection cut in the
//! middle of a response (`services::CuttingProxy`) is retried, and when every retry
//! is cut too, the run stops naming the object.

use crate::cli_common::scratch;
use crate::services::{CuttingProxy, S3Server};

use std::path::{Path, PathBuf};
use std::process::Output;

use featc_server::group::store::StateStore;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo")
        .to_path_buf()
}

/// A client for the folder of `url` (`s3://bucket/prefix/key`), and the key.
fn store<'u>(server: &S3Server, url: &'u str) -> (StateStore, &'u str) {
    let (prefix, key) = url.rsplit_once('/').expect("a key");
    let options = [
        ("aws_endpoint", server.endpoint()),
        ("aws_access_key_id", server.access_key.clone()),
        ("aws_secret_access_key", server.secret_key.clone()),
        ("aws_region", "us-east-1".to_string()),
    ];
    let options: Vec<(&str, &str)> = options.iter().map(|(k, v)| (*k, v.as_str())).collect();
    (StateStore::open_with(prefix, &options).expect("store"), key)
}

/// Uploads `file` to `url` (`s3://bucket/key`).
pub(crate) fn upload(server: &S3Server, url: &str, file: &Path) {
    let (store, key) = store(server, url);
    store
        .put(key, &std::fs::read(file).expect("file"))
        .expect("upload");
}

/// The object at `url`.
fn download(server: &S3Server, url: &str) -> Vec<u8> {
    let (store, key) = store(server, url);
    store.get(key).expect("download").expect("the object")
}

/// `featc ARGS` with the server's credentials (`secret` as the secret) in the
/// environment.
fn featc(server: &S3Server, secret: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_featc"))
        .args(args)
        .env("AWS_ENDPOINT_URL", server.endpoint())
        .env("AWS_ACCESS_KEY_ID", &server.access_key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_ENDPOINT")
        .current_dir(repo())
        .output()
        .expect("featc runs")
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn training_sets_from_s3_equal_those_from_local_files_and_errors_name_the_object() {
    let dir = scratch("object_store");
    let server = S3Server::start(&dir);
    server.create_bucket("history");
    let case = repo().join("tests/cases/marketplace");
    upload(
        &server,
        "s3://history/orders/all.parquet",
        &case.join("orders.parquet"),
    );
    // A prefix holding one Parquet object (and nothing else of its format).
    upload(
        &server,
        "s3://history/reviews/part-0.parquet",
        &case.join("reviews.parquet"),
    );
    let case_arg = case.to_string_lossy().to_string();
    let spine = case.join("spine.parquet").to_string_lossy().to_string();
    let local = dir.join("local.parquet").to_string_lossy().to_string();
    let remote = dir.join("remote.parquet").to_string_lossy().to_string();
    let secret = server.secret_key.clone();
    ok(&featc(
        &server,
        &secret,
        &[
            "training-set",
            &case_arg,
            "--spine",
            &spine,
            "--out",
            &local,
            "-q",
        ],
    ));
    ok(&featc(
        &server,
        &secret,
        &[
            "training-set",
            &case_arg,
            "--spine",
            &spine,
            "--source",
            "orders=s3://history/orders/all.parquet",
            "--source",
            "reviews=s3://history/reviews/",
            "--out",
            &remote,
            "-q",
        ],
    ));
    assert_eq!(
        std::fs::read(&local).expect("local"),
        std::fs::read(&remote).expect("remote"),
        "the training set from S3 is the one from local files, byte for byte"
    );

    // The spine from S3 and the training set written to S3: the same bytes again.
    upload(
        &server,
        "s3://history/spines/spine.parquet",
        &case.join("spine.parquet"),
    );
    let out = "s3://history/training/marketplace.parquet";
    let all_remote = [
        "training-set",
        &case_arg,
        "--spine",
        "s3://history/spines/spine.parquet",
        "--source",
        "orders=s3://history/orders/all.parquet",
        "--source",
        "reviews=s3://history/reviews/",
        "--out",
        out,
        "-q",
    ];
    ok(&featc(&server, &secret, &all_remote));
    let written = download(&server, out);
    assert_eq!(written, std::fs::read(&local).expect("local"));
    // A hive-partitioned table (`part=…/` folders), locally and under a prefix.
    let hive = dir.join("orders_hive");
    for (i, half) in split_in_two(&case.join("orders.parquet"))
        .iter()
        .enumerate()
    {
        let file = hive.join(format!("part={i}")).join("data.parquet");
        std::fs::create_dir_all(file.parent().expect("folder")).expect("partition");
        std::fs::write(&file, half).expect("half");
        upload(
            &server,
            &format!("s3://history/orders_hive/part={i}/data.parquet"),
            &file,
        );
    }
    let hive_arg = format!("orders={}", hive.display());
    for orders in [hive_arg.as_str(), "orders=s3://history/orders_hive/"] {
        let out = dir.join("hive.parquet").to_string_lossy().to_string();
        ok(&featc(
            &server,
            &secret,
            &[
                "training-set",
                &case_arg,
                "--spine",
                &spine,
                "--source",
                orders,
                "--out",
                &out,
                "-q",
            ],
        ));
        assert_eq!(
            std::fs::read(&out).expect("out"),
            std::fs::read(&local).expect("local"),
            "{orders}"
        );
    }

    // A run that fails leaves the object as it was.
    let mut failing = all_remote.to_vec();
    failing[6] = "orders=s3://history/orders/missing.parquet";
    let run = featc(&server, &secret, &failing);
    assert_eq!(
        run.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(download(&server, out), written, "the output is untouched");

    // A CSV source, from an object, declared in the project itself.
    let csv = dir.join("clicks.csv");
    std::fs::write(
        &csv,
        "ts,user_id,amount\n2024-03-01T12:00:00Z,1,5.5\n2024-03-01T12:30:00Z,1,1.25\n2024-03-01T13:00:00Z,2,2.0\n",
    )
    .expect("csv");
    upload(&server, "s3://history/clicks/clicks.csv", &csv);
    let project = |file: &str| {
        format!("source clicks {{\n    time ts\n    columns {{ user_id: int64  amount: float64 }}\n    file \"{file}\"\n}}\nentity user {{ key user_id: int64 }}\nview spend from clicks by user {{\n    feature total_1d = sum(amount) over 1d\n}}\n")
    };
    let (local_feat, remote_feat) = (dir.join("local.feat"), dir.join("remote.feat"));
    std::fs::write(&local_feat, project(&csv.to_string_lossy())).expect("project");
    std::fs::write(&remote_feat, project("s3://history/clicks/clicks.csv")).expect("project");
    let spine_csv = dir.join("spine.csv");
    std::fs::write(
        &spine_csv,
        "ts,user_id\n2024-03-01T12:45:00Z,1\n2024-03-01T13:00:00Z,2\n",
    )
    .expect("spine");
    let spine_csv = spine_csv.to_string_lossy().to_string();
    let mut outs = Vec::new();
    for (feat, name) in [(&local_feat, "local_csv"), (&remote_feat, "remote_csv")] {
        let out = dir
            .join(format!("{name}.parquet"))
            .to_string_lossy()
            .to_string();
        let feat = feat.to_string_lossy().to_string();
        ok(&featc(
            &server,
            &secret,
            &[
                "training-set",
                &feat,
                "--spine",
                &spine_csv,
                "--out",
                &out,
                "-q",
            ],
        ));
        outs.push(std::fs::read(&out).expect("output"));
    }
    assert_eq!(outs[0], outs[1], "CSV from S3 as from the local file");

    // A bad cell in an object is named like one in a file: the object's URL, its
    // line, its column (the objects are read again, one at a time, to find it).
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "ts,user_id,amount\n2024-03-01T12:00:00Z,1,5.5\n2024-03-01T12:10:00Z,1,abc\n",
    )
    .expect("csv");
    upload(&server, "s3://history/clicks_bad/a.csv", &csv);
    upload(&server, "s3://history/clicks_bad/b.csv", &bad);
    let remote_feat_arg = remote_feat.to_string_lossy().to_string();
    let bad_out = dir.join("bad.parquet").to_string_lossy().to_string();
    let run = featc(
        &server,
        &secret,
        &[
            "training-set",
            &remote_feat_arg,
            "--spine",
            &spine_csv,
            "--source",
            "clicks=s3://history/clicks_bad/",
            "--out",
            &bad_out,
            "-q",
        ],
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("s3://history/clicks_bad/b.csv:3, column `amount`")
            && stderr.contains("'abc'"),
        "{stderr}"
    );
    assert!(!stderr.contains(&server.secret_key), "{stderr}");

    // Errors name the location; the secret never shows.
    let remote_feat = remote_feat.to_string_lossy().to_string();
    for (binding, secret, expect) in [
        (
            "clicks=s3://nobucket/clicks.csv",
            secret.as_str(),
            "s3://nobucket/clicks.csv",
        ),
        (
            "clicks=s3://history/clicks/gone.csv",
            secret.as_str(),
            "s3://history/clicks/gone.csv",
        ),
        (
            "clicks=s3://history/clicks/clicks.csv",
            "hunter2-wrong-secret",
            "s3://history/clicks/clicks.csv",
        ),
    ] {
        let out = featc(
            &server,
            secret,
            &[
                "training-set",
                &remote_feat,
                "--spine",
                &spine_csv,
                "--source",
                binding,
                "--out",
                "/dev/null",
                "-q",
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{binding}: {stderr}");
        assert!(stderr.contains(expect), "{binding}: {stderr}");
        assert!(!stderr.contains("hunter2-wrong-secret"), "{stderr}");
        assert!(!stderr.contains(&server.secret_key), "{stderr}");
    }
}

/// The rows of the Parquet file `path` in two Parquet files' bytes.
fn split_in_two(path: &Path) -> [Vec<u8>; 2] {
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use datafusion::parquet::arrow::ArrowWriter;
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).expect("file"))
        .expect("parquet")
        .build()
        .expect("reader");
    let batches: Vec<_> = reader.map(|b| b.expect("batch")).collect();
    let schema = batches[0].schema();
    let all = datafusion::arrow::compute::concat_batches(&schema, &batches).expect("concat");
    let half = all.num_rows() / 2;
    [all.slice(0, half), all.slice(half, all.num_rows() - half)].map(|part| {
        let mut bytes = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut bytes, schema.clone(), None).expect("writer");
        writer.write(&part).expect("write");
        writer.close().expect("close");
        bytes
    })
}

/// A project over one CSV of clicks (about 3 MB), and a spine of its users.
fn big_clicks(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut rows = String::from("ts,user,amount\n");
    for i in 0..80_000u64 {
        let (day, second) = (1 + i % 28, i % 86_400);
        let (h, m, s) = (second / 3600, second / 60 % 60, second % 60);
        rows.push_str(&format!(
            "2024-02-{day:02}T{h:02}:{m:02}:{s:02}Z,{},{}.25\n",
            i % 97,
            i % 1000
        ));
    }
    let data = dir.join("clicks.csv");
    std::fs::write(&data, rows).expect("clicks");
    let project = dir.join("big.feat");
    std::fs::write(
        &project,
        "source clicks {\n    time ts\n    columns { user: int64  amount: float64 }\n    file \"clicks.csv\"\n}\nentity user { key user: int64 }\nview by_user from clicks by user {\n    feature spent_7d = sum(amount) over 7d\n    feature clicks_all = count(*)\n}\n",
    )
    .expect("project");
    let mut spine = String::from("user,ts\n");
    for user in 0..97 {
        spine.push_str(&format!("{user},2024-02-20T12:00:00Z\n"));
    }
    let spine_file = dir.join("spine.csv");
    std::fs::write(&spine_file, spine).expect("spine");
    (project, data, spine_file)
}

#[test]
fn a_connection_dropped_mid_read_is_retried_or_an_error_naming_the_object() {
    let dir = scratch("object_store_drops");
    let server = S3Server::start(&dir.join("server"));
    server.create_bucket("history");
    let (project, data, spine) = big_clicks(&dir);
    upload(&server, "s3://history/big/clicks.csv", &data);
    let (project, spine) = (project.to_string_lossy(), spine.to_string_lossy());
    let local = dir.join("local.parquet");
    ok(&crate::cli_common::featc(&[
        "training-set",
        &project,
        "--spine",
        &spine,
        "--out",
        &local.to_string_lossy(),
    ]));
    let through = |proxy: &CuttingProxy, out: &Path| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_featc"));
        command
            .args(["training-set", &project, "--spine", &spine])
            .args(["--source", "clicks=s3://history/big/clicks.csv", "--out"])
            .arg(out)
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .env("AWS_ACCESS_KEY_ID", &server.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &server.secret_key)
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_ENDPOINT");
        command.output().expect("featc runs")
    };
    // Cut once, 256 KiB into a response: the read is retried and nothing is lost.
    let once = CuttingProxy::start(server.port, 256 << 10, 1);
    let remote = dir.join("remote.parquet");
    ok(&through(&once, &remote));
    assert_eq!(once.cuts(), 1, "the proxy cut a response");
    assert_eq!(
        std::fs::read(&remote).expect("remote"),
        std::fs::read(&local).expect("local"),
        "a read retried after a cut gives the local file's training set"
    );
    // Every response cut: the retries run out and the run stops, naming the object
    // and what happened, never its secret.
    let always = CuttingProxy::start(server.port, 256 << 10, usize::MAX);
    let never = dir.join("never.parquet");
    let out = through(&always, &never);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(always.cuts() > 1, "{said}");
    assert!(
        said.contains("error: source `clicks`: cannot read `s3://history/big/clicks.csv`: ")
            && said.contains("body"),
        "{said}"
    );
    assert!(!said.contains(&server.secret_key), "{said}");
    assert!(!never.exists(), "no output from a failed run");
}
