//! featc-server's integration suite: the server driven in process (`Server::start`,
//! its history loaded as `featc serve --bootstrap` loads it, requests sent through its
//! router, `Server::shutdown`), one module per concern. One test binary instead of
//! one per file keeps link time and disk down. What needs the `featc` binary (its
//! flags, its stdout and stderr, a killed process, `featc training-set` answers to
//! compare with) is featc-cli's suite (cli/tests/serve_*.rs).

// A test binary: its helpers may unwrap, expect and panic!, which the workspace's lints
// deny in library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod group_partition;
mod serve_arrow;
mod serve_dead_letters;
mod serve_dispatch;
mod serve_feast;
mod serve_future;
mod serve_limits;
mod serve_log;
mod serve_lookups;
mod serve_nested;
mod serve_requests;
mod serve_times;
mod serve_union;
