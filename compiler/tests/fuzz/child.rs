//! Running one corpus file in a child process of the test binary, so that a stack
//! overflow (which aborts the process) fails that file only, and a hang is killed.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The variable that tells the child which file to run.
pub const FILE_VAR: &str = "FEATC_FUZZ_CORPUS_FILE";

/// More CPU time than every stage's limit together; a child past it is killed.
/// CPU time, so that other work loading the machine does not count (the slowest
/// file, `if_lets_255`, uses about 95 s of it in a debug build).
const CHILD_LIMIT: Duration = Duration::from_secs(180);
/// A child past this much wall time is killed too: a hang that uses no CPU.
const CHILD_WALL_LIMIT: Duration = Duration::from_secs(900);

/// Runs `test` (this binary's test of that name) in a child with `FILE_VAR=file`;
/// `Err` holds the exit status and the lines of its output that say why.
pub fn run_in_child(test: &str, file: &Path) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(FILE_VAR, file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the child: {e}"))?;
    // Drain both pipes on threads so that a chatty child cannot block on a full pipe.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let out = child.stdout.take().map(|p| drain(Box::new(p)));
    let err = child.stderr.take().map(|p| drain(Box::new(p)));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(status);
        }
        let cpu = super::clock::cpu_time(&format!("/proc/{}/stat", child.id()));
        if cpu.is_some_and(|c| c > CHILD_LIMIT) || started.elapsed() > CHILD_WALL_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = |h: Option<std::thread::JoinHandle<String>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    let output = format!("{}{}", text(out), text(err));
    match status {
        Some(s) if s.success() => Ok(()),
        Some(s) => Err(format!("{s}:\n{}", why(&output))),
        None => Err(format!(
            "killed after {} s of CPU or {} s:\n{}",
            CHILD_LIMIT.as_secs(),
            CHILD_WALL_LIMIT.as_secs(),
            why(&output)
        )),
    }
}

/// The lines of a failed child's output that explain the failure (a stage's thread
/// is named after the stage).
fn why(output: &str) -> String {
    const MARKS: &[&str] = &[
        "panicked at",
        "panic in stage",
        "overflowed its stack",
        "fatal runtime error",
        "timing:",
        "hang:",
        "disagreement:",
        "internal error:",
    ];
    let lines: Vec<&str> = output
        .lines()
        .filter(|l| MARKS.iter().any(|m| l.contains(m)))
        .collect();
    if lines.is_empty() {
        output.lines().rev().take(20).collect::<Vec<_>>().join("\n")
    } else {
        lines.join("\n")
    }
}
