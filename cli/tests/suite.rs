//! One test binary for the `featc` command line: the binary as a process, every
//! subcommand (the server's `serve` and `materialize` included, against real Redis and
//! Kafka brokers: `services`), and what a subcommand asks of the server in process
//! (`state_dir`; group mode's shared state store against a real S3 server,
//! `state_store_s3`). Each module is one of the files beside this one, one concern each.
//! One binary instead of one per file keeps the link time and the disk use of a build
//! down (each test binary links its dependencies whole). `cargo test -p featc-cli
//! --test suite MODULE::` runs one module; `tidy/tests/files.rs` checks that no file
//! is left out. The server's tests that need no `featc` binary are featc-server's
//! own suite (server/tests).

// A test binary: its helpers may unwrap, expect and panic!, which the workspace's lints
// deny in library code (clippy.toml already lets the tests themselves).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_common;
mod limit_inputs;
// The fuzz test's mutations, shared with the library's robustness tests (one copy, in
// the library's test folder): `limit_inputs` makes its inputs with them.
#[path = "../../compiler/tests/mutate/mod.rs"]
mod mutate;
mod serve_common;
mod services;

mod cargo_features;
mod cli;
mod cli_arroyo;
mod cli_catalog;
mod cli_data;
mod cli_delta;
mod cli_diff;
mod cli_errors;
mod cli_fmt;
mod cli_iceberg;
mod cli_interrupt;
mod cli_limits;
mod cli_object_store;
mod cli_object_store_clouds;
mod cli_output;
mod cli_partitions;
mod cli_stats;
mod cli_time_partitions;
mod cli_times;
mod cli_verify;
mod kafka_partitioner;
mod readme_commands;
mod serve_audit;
mod serve_audit_arrivals;
mod serve_audit_online;
mod serve_cases;
mod serve_crash;
mod serve_group;
mod serve_kafka;
mod serve_kafka_formats;
mod serve_log;
mod serve_redis;
mod serve_redis_cluster;
mod serve_requests;
mod state_dir;
mod state_store_s3;
mod stats_snapshots;
