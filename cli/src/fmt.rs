//! `featc fmt`: rewrite `.feat` files in the canonical layout, or (`--check`) list
//! those that are not, for CI.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use featc::fmt::ProjectFormatError;

/// Format `.feat` files in place (comments and doc comments kept).
///
/// With `--check`, writes nothing: prints a diff of each file that is not formatted
/// and exits with 1 if there is one. A file with syntax errors is reported like
/// `featc check` does (exit 1) and no file is written. IO errors exit with 2.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  featc fmt examples/fraud\n  featc fmt --check examples")]
pub struct Args {
    /// `.feat` files, or folders searched recursively for `*.feat` files.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Write nothing; exit with 1 if any file is not formatted, showing its diff.
    #[arg(long)]
    pub check: bool,
}

pub fn main(args: Args) -> ExitCode {
    let files = match super::read_project(&args.paths) {
        Ok(files) => files,
        Err(code) => return code,
    };
    let formatted = match featc::fmt::format_files(&files) {
        Ok(formatted) => formatted,
        Err(ProjectFormatError::Syntax(diagnostics)) => {
            super::report(&diagnostics, &files);
            return ExitCode::from(super::EXIT_ERRORS);
        }
        Err(ProjectFormatError::Unstable(name)) => {
            return super::fail(format!(
                "cannot format `{name}` without changing it (a featc bug, please report it); no file was written"
            ))
        }
    };
    let changed: Vec<usize> = (0..files.len())
        .filter(|&i| files[i].text != formatted[i])
        .collect();
    if args.check {
        for &i in &changed {
            let diff = similar::TextDiff::from_lines(&files[i].text, &formatted[i]);
            let name = &files[i].name;
            // A closed stdout (`| head`) is not an error of the check.
            let _ = write!(
                std::io::stdout().lock(),
                "{}",
                diff.unified_diff()
                    .context_radius(2)
                    .header(name, &format!("{name} (formatted)"))
            );
        }
        if changed.is_empty() {
            eprintln!("ok: {} files formatted", files.len());
            return ExitCode::SUCCESS;
        }
        eprintln!(
            "error: {} of {} files not formatted (run `featc fmt` on them)",
            changed.len(),
            files.len()
        );
        return ExitCode::from(super::EXIT_ERRORS);
    }
    for &i in &changed {
        if let Err(e) = std::fs::write(&files[i].name, &formatted[i]) {
            return super::fail(format!("cannot write `{}`: {e}", files[i].name));
        }
        eprintln!("formatted {}", files[i].name);
    }
    eprintln!("ok: {} files, {} reformatted", files.len(), changed.len());
    ExitCode::SUCCESS
}
