//! `featc diff`: which features two versions of a project add, remove or change in
//! meaning, and what that does to services and online state (docs/diff.md).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use featc::diff::report::{ProjectDiff, StateDirectory};
use featc::{ir, SourceFile};

use super::{report, EXIT_USAGE};

/// Compare two versions of a project: features added, removed and changed in meaning
/// (with why), services affected, online state to rebuild.
///
/// OLD and NEW are project folders or `.feat` files. With `--git REV`, the project
/// (default `.`) at revision REV is compared with its working tree. Reformatting,
/// comments, doc comments, owners and tags are not changes in meaning.
///
/// Exits with 1 when a service that remains serves a feature whose meaning changed or
/// no longer serves one, or a service was removed (a CI gate); 0 otherwise; 2 on
/// usage or IO errors, or when a side does not compile.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  featc diff old/ new/\n  featc diff --git origin/main examples/fraud\n  featc diff old/ new/ --format json"
)]
pub struct Args {
    /// OLD NEW (project folders or .feat files); with --git, the project (default `.`).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Compare the project at this git revision (the old side) with the working tree.
    #[arg(long, value_name = "REV")]
    pub git: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The report for people.
    Text,
    /// A versioned JSON document (`diff_version`: 1) of the same report.
    Json,
}

/// One side of the comparison, compiled.
struct Side {
    label: String,
    project: ir::Project,
}

pub fn main(args: Args) -> ExitCode {
    let (old, new) = match sides(&args) {
        Ok(sides) => sides,
        Err(code) => return code,
    };
    let mut diff: ProjectDiff = match featc::diff::diff(&old.project, &new.project) {
        Ok(d) => d,
        Err(e) => return super::fail(e),
    };
    diff.online.state_directory = Some(state_directory(&old.project, &new.project));
    let text = match args.format {
        Format::Text => featc::diff::text::render(&diff, &old.label, &new.label),
        Format::Json => match featc::diff::json::render(&diff, &old.label, &new.label) {
            Ok(json) => json,
            Err(e) => return super::fail(e),
        },
    };
    // A closed stdout (`| head`) does not change the verdict.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    if diff.gate.fails {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Whether `featc serve --state` reuses a directory `old`'s server wrote: the
/// server's own checks (`state_dir`), in a featc built with `serve`.
#[cfg(feature = "serve")]
fn state_directory(old: &ir::Project, new: &ir::Project) -> StateDirectory {
    super::state_dir::check(old, new)
}

/// Without the server, the state directory is not checked, and the report says so.
#[cfg(not(feature = "serve"))]
fn state_directory(_: &ir::Project, _: &ir::Project) -> StateDirectory {
    StateDirectory::NotChecked {
        message: super::cargo_features::without("serve"),
    }
}

/// Both sides read and compiled; on failure what went wrong is printed.
fn sides(args: &Args) -> Result<(Side, Side), ExitCode> {
    match (&args.git, args.paths.as_slice()) {
        (None, [old, new]) => Ok((
            load("OLD", &label(old), old, read(old)?)?,
            load("NEW", &label(new), new, read(new)?)?,
        )),
        (None, _) => Err(super::fail(
            "give two projects, OLD and NEW (folders or .feat files), or --git REV [PROJECT]",
        )),
        (Some(rev), _) if rev.starts_with('-') => {
            // Never handed to git, where it would read as an option.
            Err(super::fail(format!("`{rev}` is not a revision")))
        }
        (Some(rev), paths) if paths.len() <= 1 => {
            let project = paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
            let raw = super::git::read_revision(rev, &project).map_err(super::fail)?;
            let files = decode(raw, &format!("`{}` at {rev}", project.display()))?;
            let old = load(
                "OLD",
                &format!("{}@{rev}", label(&project)),
                &project,
                files,
            )?;
            let new_label = format!("{} (working tree)", label(&project));
            let new = load("NEW", &new_label, &project, read(&project)?)?;
            Ok((old, new))
        }
        (Some(_), _) => Err(super::fail("--git REV takes one PROJECT (default `.`)")),
    }
}

fn label(path: &Path) -> String {
    path.display().to_string()
}

/// The `.feat` files of a path on disk.
fn read(path: &Path) -> Result<Vec<SourceFile>, ExitCode> {
    match featc::files::read_project(&[path.to_path_buf()]) {
        Ok(files) => Ok(files),
        Err(featc::files::ReadError::Io(message)) => Err(super::fail(message)),
        Err(featc::files::ReadError::Undecodable(u)) => {
            report(&u.diagnostics, &u.files);
            Err(super::fail(format!("`{}` cannot be read", path.display())))
        }
    }
}

/// Files read from git, decoded as the compiler takes them.
fn decode(raw: Vec<(String, Vec<u8>)>, what: &str) -> Result<Vec<SourceFile>, ExitCode> {
    featc::decode_files(raw).map_err(|u| {
        report(&u.diagnostics, &u.files);
        super::fail(format!("{what} cannot be read"))
    })
}

/// Compiles one side; its diagnostics and which side failed are printed otherwise.
/// Source locations are made relative to the side's folder, so moving a project (or
/// comparing two copies of it) does not read as a new location.
fn load(side: &str, label: &str, root: &Path, files: Vec<SourceFile>) -> Result<Side, ExitCode> {
    let mut project = match featc::compile(&files) {
        Ok(p) => p,
        Err(diagnostics) => {
            report(&diagnostics, &files);
            eprintln!("error: the {side} project ({label}) does not compile");
            return Err(ExitCode::from(EXIT_USAGE));
        }
    };
    let root = if root.is_dir() {
        root
    } else {
        root.parent().unwrap_or(Path::new(""))
    };
    for source in &mut project.sources {
        if let Some(location) = &source.location {
            if let Ok(relative) = Path::new(location).strip_prefix(root) {
                source.location = Some(relative.display().to_string());
            }
        }
    }
    Ok(Side {
        label: label.to_string(),
        project,
    })
}
