//! `featc import-spec`: write the `.feat` project of a case folder's `spec.json`
//! (the feature spec format of the acceptance cases), reading its sources' schemas.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use featc::import::{import_spec, parse_spec, SourceSchema, SERVICE};

/// Write the `.feat` project of a feature spec (`spec.json`).
///
/// The folder holds `spec.json` and one `<source>.parquet` per source the spec names
/// (`events` by default). The project declares every column of each source, one view
/// per (source, key) and a service `spec` listing the features in spec order, so that
/// `featc training-set DIR --service spec` has the columns of the case's expected
/// output.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  featc import-spec tests/cases/synthetic --out /tmp/synthetic.feat\n  featc import-spec case/ --out case/features.feat && featc training-set case/ --spine case/spine.parquet --service spec --out out.parquet"
)]
pub struct Args {
    /// The folder holding `spec.json` and the sources' `<source>.parquet` files.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The spec file (default: `DIR/spec.json`).
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// Write the project to FILE (default: stdout). Source files are named relative to
    /// FILE's folder.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn main(args: Args) -> ExitCode {
    match import(&args) {
        Ok(text) => match &args.out {
            None => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Some(path) => match std::fs::write(path, text) {
                Ok(()) => {
                    eprintln!("wrote {} (service `{SERVICE}`)", path.display());
                    ExitCode::SUCCESS
                }
                Err(e) => super::fail(format!("cannot write `{}`: {e}", path.display())),
            },
        },
        Err(message) => super::fail(message),
    }
}

fn import(args: &Args) -> Result<String, String> {
    let spec_path = args
        .spec
        .clone()
        .unwrap_or_else(|| args.dir.join("spec.json"));
    let text = std::fs::read_to_string(&spec_path)
        .map_err(|e| format!("cannot read `{}`: {e}", spec_path.display()))?;
    let spec = parse_spec(&text).map_err(|e| format!("`{}`: {e}", spec_path.display()))?;
    let mut names: Vec<&str> = spec.iter().map(|f| f.source.as_str()).collect();
    names.sort();
    names.dedup();
    let base = args
        .out
        .as_ref()
        .and_then(|o| o.parent())
        .map(Path::to_path_buf);
    let mut sources = Vec::new();
    for name in names {
        let path = args.dir.join(format!("{name}.parquet"));
        let file = File::open(&path)
            .map_err(|e| format!("source `{name}`: cannot read `{}`: {e}", path.display()))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
            format!(
                "source `{name}`: `{}` is not a Parquet file: {e}",
                path.display()
            )
        })?;
        sources.push(SourceSchema {
            name: name.to_string(),
            file: relative_to(&path, base.as_deref()),
            schema: reader.schema().as_ref().clone(),
        });
    }
    import_spec(&spec_path.display().to_string(), &spec, &sources).map_err(|e| e.to_string())
}

/// `path` as the project should name it: relative to the output's folder when both
/// resolve, else as absolute as it can be made.
fn relative_to(path: &Path, base: Option<&Path>) -> String {
    let absolute = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let base = base
        .map(|b| {
            if b.as_os_str().is_empty() {
                Path::new(".")
            } else {
                b
            }
        })
        .and_then(|b| b.canonicalize().ok());
    match base.as_deref().and_then(|b| absolute.strip_prefix(b).ok()) {
        Some(rel) => rel.display().to_string(),
        None => absolute.display().to_string(),
    }
}
