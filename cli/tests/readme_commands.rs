//! Every `featc` command of README.md runs as written (outputs redirected to a
//! temporary folder), and the feature plan excerpt it shows is what `--emit plan`
//! prints for the fraud example, so the README cannot drift from the tool.

use crate::cli_common;
use crate::services;

use std::path::{Path, PathBuf};

use cli_common::{featc, stderr};

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    std::fs::read_to_string(path).expect("README.md")
}

/// The commands of the README's indented code blocks (continuation lines joined),
/// as `featc` arguments: `cargo run -p featc-cli --` stands for `featc`.
fn commands(markdown: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in markdown.lines() {
        let Some(code) = line.strip_prefix("    ") else {
            continue;
        };
        pending.push_str(code.trim());
        if let Some(stripped) = pending.strip_suffix('\\') {
            pending = format!("{} ", stripped.trim_end());
            continue;
        }
        let text = std::mem::take(&mut pending);
        let text = text.split('#').next().unwrap_or("").trim().to_string();
        let args = text
            .strip_prefix("featc ")
            .or_else(|| text.strip_prefix("cargo run -p featc-cli -- "));
        if let Some(args) = args {
            out.push(args.split_whitespace().map(str::to_string).collect());
        }
    }
    out
}

/// `args` with every output (`--out X`, `> X`) sent to `dir`.
fn redirected(args: &[String], dir: &Path, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            ">" => {
                it.next();
            }
            "--out" => {
                let target = it.next().map(PathBuf::from).unwrap_or_default();
                let name = target.file_name().map(|f| f.to_string_lossy().to_string());
                out.push(a.clone());
                let file = format!("{n}_{}", name.unwrap_or_default());
                out.push(dir.join(file).display().to_string());
            }
            _ => out.push(a.clone()),
        }
    }
    out
}

/// Runs `featc serve ARGS` on a free loopback port until it is ready, then stops it
/// with SIGTERM: it must exit 0.
fn serves(args: &[String]) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_featc"))
        .args(args)
        .args(["--listen", "127.0.0.1:0", "--quiet"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("featc serve starts");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a first line");
    assert!(
        first.starts_with("listening on http://127.0.0.1:"),
        "`featc {}`: {first:?}",
        args.join(" ")
    );
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    while stderr.read_line(&mut line).expect("stderr") > 0 && !line.contains("ready") {
        line.clear();
    }
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    let status = child.wait().expect("exits");
    assert_eq!(
        status.code(),
        Some(0),
        "`featc {}` did not stop cleanly",
        args.join(" ")
    );
}

#[test]
fn every_featc_command_of_the_readme_runs() {
    let dir = crate::cli_common::scratch("readme_commands");
    let all = commands(&readme());
    let mut ran = 0;
    // `redis://127.0.0.1:6379` stands for a Redis started here.
    let mut redis: Option<services::RedisServer> = None;
    for (n, args) in all.iter().enumerate() {
        // `path/to/case` stands for the reader's own case.
        if args.iter().any(|a| a.starts_with("path/to/")) {
            continue;
        }
        let mut args = redirected(args, &dir, n);
        for a in args.iter_mut() {
            if let Some(rest) = a.strip_prefix("redis://127.0.0.1:6379") {
                let server = redis
                    .get_or_insert_with(|| services::RedisServer::start(&dir.join("redis.txt")));
                *a = format!("{}{rest}", server.url());
            }
        }
        if args.first().map(String::as_str) == Some("serve") {
            // A server: it must start, say where it listens and stop cleanly.
            if let Some(i) = args.iter().position(|a| a == "--state") {
                args[i + 1] = dir.join(format!("{n}_state")).display().to_string();
            }
            serves(&args);
            ran += 1;
            continue;
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = featc(&refs);
        assert_eq!(
            o.status.code(),
            Some(0),
            "`featc {}` failed: {}",
            args.join(" "),
            stderr(&o)
        );
        ran += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ran >= 10, "expected the README's commands, ran {ran}");
}

#[test]
fn the_readmes_feature_plan_excerpt_is_what_emit_plan_prints() {
    let text = readme();
    let start = text.find("```text\ngroup ").expect("a plan excerpt") + "```text\n".len();
    let end = start + text[start..].find("```").expect("its end");
    let excerpt = &text[start..end];
    let o = featc(&["build", "examples/fraud", "--emit", "plan"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let plan = String::from_utf8_lossy(&o.stdout);
    assert!(
        plan.contains(excerpt),
        "the README's excerpt is not in `--emit plan`:\n{excerpt}\n---\n{plan}"
    );
}
