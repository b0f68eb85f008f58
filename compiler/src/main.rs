//! The `featc` command line (see `cli`).

// Bad input must never panic: errors are values (see ARCHITECTURE.md, Invariants).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
