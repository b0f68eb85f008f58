//! `featc build --emit arroyo --out DIR` on the command line: it writes
//! `DIR/pipeline.sql` and the UDF crates it calls (with `--all-udfs`, every UDF the
//! generator implements), and nothing when a feature is refused, which prints the
//! coded diagnostic with its file, line and column and exits 1; its usage errors exit
//! 2 with a message naming the flag or the window at fault.

use std::path::{Path, PathBuf};

use crate::cli_common;

use cli_common::{featc, stderr};

fn scratch(test: &str) -> PathBuf {
    cli_common::scratch(&format!("cli_arroyo/{test}"))
}

/// Features of the fraud example that the pipeline accepts (ttls on lifetime
/// features, `last` over a string are refused).
const FRAUD: &str = "txn_count_1h,amount_sum_1d,amount_avg_7d,merchants_7d,first_seen";

#[test]
fn writes_the_pipeline_into_out() {
    let dir = scratch("writes");
    let out = dir.join("pipeline");
    let o = featc(&[
        "build",
        "examples/fraud",
        "--emit",
        "arroyo",
        "--features",
        FRAUD,
        "--kafka-brokers",
        "kafka-1:9092,kafka-2:9092",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("pipeline.sql"), "{}", stderr(&o));
    let sql = std::fs::read_to_string(out.join("pipeline.sql")).expect("pipeline.sql");
    assert!(sql.contains("bootstrap_servers = 'kafka-1:9092,kafka-2:9092'"));
    assert!(sql.contains("hop(INTERVAL '60 seconds', INTERVAL '1 day')"));
    assert!(sql.contains("featc_avg_float64(\"amount\")"));
    assert!(sql.contains("format = 'debezium_json'"));
    assert!(
        !sql.contains("pair_count_30d"),
        "only the features asked for"
    );
    // The UDF crates the SQL calls, in a workspace of their own; a crate of an
    // earlier run that the pipeline no longer calls does not linger.
    let udfs = out.join("udfs");
    let workspace = std::fs::read_to_string(udfs.join("Cargo.toml")).expect("udfs/Cargo.toml");
    assert!(workspace.contains("[workspace]"), "{workspace}");
    let lib =
        std::fs::read_to_string(udfs.join("featc_avg_float64/src/lib.rs")).expect("a UDF crate");
    assert!(lib.contains("fn featc_avg_float64("), "{lib}");
    assert!(udfs
        .join("featc_avg_float64/tests/featc_values.rs")
        .exists());
    let again = featc(&[
        "build",
        "examples/fraud",
        "--emit",
        "arroyo",
        "--features",
        "txn_count_1h",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        !udfs.join("featc_avg_float64").exists(),
        "a stale crate lingers"
    );
}

#[test]
fn slide_and_staleness_choose_the_hop() {
    let dir = scratch("slide");
    let run = |flag: &str, value: &str| {
        let out = dir.join(value);
        let o = featc(&[
            "build",
            "examples/fraud",
            "--emit",
            "arroyo",
            "--features",
            "txn_count_1h,amount_sum_1d",
            flag,
            value,
            "--out",
            out.to_str().expect("utf-8 path"),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read_to_string(out.join("pipeline.sql")).expect("pipeline.sql")
    };
    let sql = run("--slide", "5m");
    assert!(sql.contains("hop(INTERVAL '300 seconds', INTERVAL '3600 seconds')"));
    assert!(sql.contains("hop(INTERVAL '300 seconds', INTERVAL '1 day')"));
    let sql = run("--staleness", "7m");
    assert!(sql.contains("hop(INTERVAL '400 seconds', INTERVAL '3600 seconds')"));
    let sql = run("--staleness", "2h");
    assert!(sql.contains("tumble(INTERVAL '3600 seconds')"));
}

#[test]
fn a_refused_feature_prints_its_diagnostic_and_writes_nothing() {
    let dir = scratch("refused");
    let out = dir.join("pipeline");
    let o = featc(&[
        "build",
        "examples/delivery",
        "--emit",
        "arroyo",
        "--features",
        "minutes_p50_7d,orders_1d_before",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("error[E0047]: feature `orders_1d_before`"),
        "{err}"
    );
    assert!(
        err.contains("examples/delivery/delivery.feat:41:5"),
        "{err}"
    );
    assert!(!out.join("pipeline.sql").exists());
}

/// `--all-udfs`: `DIR/udfs/` holds a crate of every spec the generator implements
/// (what scripts/check-arroyo-udfs.sh builds and tests), the pipeline's own among
/// them; without `--emit arroyo` the flag is a usage error.
#[test]
fn all_udfs_writes_a_crate_of_every_generated_udf() {
    let dir = scratch("all-udfs");
    let out = dir.join("pipeline");
    let o = featc(&[
        "build",
        "examples/fraud",
        "--emit",
        "arroyo",
        "--features",
        FRAUD,
        "--all-udfs",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let udfs = out.join("udfs");
    let workspace = std::fs::read_to_string(udfs.join("Cargo.toml")).expect("udfs/Cargo.toml");
    let members: Vec<&str> = workspace
        .lines()
        .filter_map(|l| l.trim().strip_prefix('"')?.strip_suffix("\","))
        .collect();
    let mut every: Vec<String> = featc::emit::arroyo::udfs::representative_specs()
        .iter()
        .map(featc::emit::arroyo::udf::UdfSpec::name)
        .collect();
    every.sort();
    assert_eq!(members, every, "{workspace}");
    for name in &every {
        let lib = std::fs::read_to_string(udfs.join(name).join("src/lib.rs")).expect("a crate");
        assert!(lib.contains(&format!("pub fn {name}(")), "{name}");
        assert!(
            udfs.join(name).join("tests/featc_values.rs").exists(),
            "{name}"
        );
    }
    // The pipeline's own UDF is among them, and the pipeline is the same.
    assert!(members.contains(&"featc_avg_float64"), "{members:?}");
    let sql = std::fs::read_to_string(out.join("pipeline.sql")).expect("pipeline.sql");
    assert!(sql.contains("featc_avg_float64(\"amount\")"));

    let o = featc(&["build", "examples/fraud", "--emit", "ir", "--all-udfs"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--all-udfs is an option of `--emit arroyo`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn usage_errors() {
    let dir = scratch("usage");
    let out = dir.join("p");
    let out = out.to_str().expect("utf-8 path");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["build", "examples/fraud", "--emit", "arroyo"],
            "--emit arroyo needs --out DIR",
        ),
        (
            vec![
                "build",
                "examples/fraud",
                "--emit",
                "arroyo",
                "--features",
                FRAUD,
                "--slide",
                "7m",
                "--out",
                out,
            ],
            "--slide 7m does not divide the 1h window of feature `txn_count_1h`",
        ),
        (
            vec![
                "build",
                "examples/fraud",
                "--emit",
                "arroyo",
                "--sink",
                "s3",
                "--out",
                out,
            ],
            "--sink: no sink `s3`",
        ),
        (
            vec![
                "build",
                "examples/fraud",
                "--emit",
                "arroyo",
                "--redis-address",
                "redis://r:6379",
                "--out",
                out,
            ],
            "--redis-address is an option of `--sink redis`",
        ),
        (
            vec![
                "build",
                "examples/fraud",
                "--emit",
                "arroyo",
                "--dialect",
                "duckdb",
                "--out",
                out,
            ],
            "--dialect is an option of `--emit sql`",
        ),
        (
            vec![
                "build",
                "examples/fraud",
                "--emit",
                "sql",
                "--dialect",
                "duckdb",
                "--slide",
                "1m",
            ],
            "--slide is an option of `--emit arroyo`",
        ),
        (
            vec![
                "build",
                "examples/fraud",
                "--emit",
                "ir",
                "--kafka-brokers",
                "k:9092",
            ],
            "--kafka-brokers is an option of `--emit arroyo`",
        ),
        (
            vec![
                "build",
                "examples/fraud",
                "--emit",
                "arroyo",
                "--staleness",
                "0s",
                "--out",
                out,
            ],
            "--staleness must be positive",
        ),
    ];
    for (args, message) in cases {
        let o = featc(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }
    assert!(!Path::new(out).exists(), "no usage error writes");
}

#[test]
fn the_redis_sink_writes_hashes_per_view() {
    let dir = scratch("redis");
    let out = dir.join("pipeline");
    let o = featc(&[
        "build",
        "examples/fraud",
        "--emit",
        "arroyo",
        "--features",
        "txn_count_1h",
        "--sink",
        "redis",
        "--redis-address",
        "redis://cache:6379",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sql = std::fs::read_to_string(out.join("pipeline.sql")).expect("pipeline.sql");
    assert!(sql.contains("connector = 'redis', address = 'redis://cache:6379'"));
    assert!(sql.contains("\"target.key_prefix\" = 'featc:user_spend:'"));
}
