//! The two binaries as processes: they listen on loopback unless told otherwise, a
//! scheduler answers a client session, an executor registers with it, and bad
//! arguments are refused. (`cargo test` also builds them this way, with the
//! workspace's features, for scripts/check-ballista.sh, which runs a whole cluster.)

// A test binary: its helpers may unwrap, expect and panic!, which the workspace's lints
// deny in library code (clippy.toml already lets the tests themselves).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SCHEDULER: &str = env!("CARGO_BIN_EXE_featc-ballista-scheduler");
const EXECUTOR: &str = env!("CARGO_BIN_EXE_featc-ballista-executor");

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

fn help(bin: &str) -> String {
    let out = Command::new(bin).arg("--help").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn both_listen_on_loopback_by_default() {
    for bin in [SCHEDULER, EXECUTOR] {
        let text = help(bin);
        assert!(text.contains("--bind <BIND>"), "{text}");
        assert!(text.contains("[default: 127.0.0.1]"), "{text}");
    }
}

#[test]
fn an_executor_refuses_a_scheduler_without_a_port() {
    let out = Command::new(EXECUTOR)
        .args(["--scheduler", "localhost"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HOST:PORT"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_answers_and_an_executor_registers() {
    let port = free_port();
    let _scheduler = Running(
        Command::new(SCHEDULER)
            .args(["--port", &port.to_string()])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("df://127.0.0.1:{port}");
    let started = Instant::now();
    let cluster = loop {
        match featc_ballista::connect(&url, Default::default()).await {
            Ok(c) => break c,
            Err(e) if started.elapsed() > Duration::from_secs(60) => panic!("{e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    assert_eq!(cluster.address.to_string(), url);
    let mut executor = Running(
        Command::new(EXECUTOR)
            .args(["--port", &free_port().to_string()])
            .args(["--grpc-port", &free_port().to_string()])
            .args(["--scheduler", &format!("127.0.0.1:{port}")])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // The executor logs its registration; read until it does (or gives up).
    let mut stderr = executor.0.stderr.take().unwrap();
    let log = tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        let mut buf = [0u8; 4096];
        while !text.contains("Executor registration succeed") {
            match stderr.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => text.push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
        text
    });
    let log = tokio::time::timeout(Duration::from_secs(60), log)
        .await
        .unwrap()
        .unwrap();
    assert!(log.contains("Executor registration succeed"), "{log}");
}
