//! `featc catalog`: every declaration of a project with its docs, owner, tags, types
//! and lineage, as Markdown, JSON or one self-contained HTML page (docs/catalog.md).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use featc::catalog;

/// Write a project's catalog: every declaration with its docs, owner, tags and lineage.
///
/// Sources, entities, views, features, requests and services with their doc
/// comments, owners, tags, types, windows and ttls, and each feature's lineage (the
/// source columns and lets it reads, the features and request fields a derived
/// feature reads, the services that serve it), as Markdown, JSON, or one
/// self-contained HTML page with a search box and a lineage graph (docs/catalog.md).
///
/// Exits with 0, 1 when the project has errors (all of them are printed), 2 on usage
/// or IO errors.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  featc catalog examples/fraud\n  featc catalog examples/fraud --format html --out catalog.html\n  featc catalog examples/fraud --format json > catalog.json"
)]
pub struct Args {
    /// `.feat` files, or folders searched recursively for `*.feat` files.
    #[arg(value_name = "PROJECT", required = true)]
    pub projects: Vec<PathBuf>,
    /// Markdown for a wiki, JSON for tools, or one HTML page to publish.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: Format,
    /// Write the catalog to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Json,
    Html,
}

pub fn main(args: Args) -> ExitCode {
    let (_, project) = match super::compile_project(&args.projects) {
        Ok(compiled) => compiled,
        Err(code) => return code,
    };
    let c = catalog::catalog(&project);
    let text = match args.format {
        Format::Markdown => catalog::markdown::render(&c),
        Format::Html => catalog::html::render(&c),
        Format::Json => match catalog::json::render(&c) {
            Ok(json) => json,
            Err(e) => return super::fail(e),
        },
    };
    match &args.out {
        Some(out) => match std::fs::write(out, text) {
            Ok(()) => {
                eprintln!(
                    "wrote {} ({} features, {} services)",
                    out.display(),
                    c.features.len(),
                    c.services.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => super::fail(format!("cannot write `{}`: {e}", out.display())),
        },
        None => {
            // A closed stdout (`| head`) is not an error of the catalog.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
    }
}
