//! `featc build --emit sql`: the SQL query computing a training set in another
//! engine (`featc::emit::sql`), or the diagnostics of the features it refuses.

use std::path::PathBuf;
use std::process::ExitCode;

use featc::emit::sql::{emit as emit_sql, refusal, Dialect, SqlOptions};

/// The options of `--emit sql`.
#[derive(clap::Args)]
pub struct SqlArgs {
    /// The SQL dialect: spark, duckdb, postgres or datafusion.
    #[arg(long, value_name = "DIALECT")]
    pub dialect: Option<String>,
    /// With `--emit sql` or `arroyo`: compute the features of this service, in its
    /// order.
    #[arg(long, value_name = "NAME", conflicts_with = "features")]
    pub service: Option<String>,
    /// With `--emit sql` or `arroyo`: compute these features, in this order
    /// (comma-separated). Default: every feature of the project's views.
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub features: Vec<String>,
    /// Read source SOURCE from table NAME (default: the table named like the source;
    /// repeatable; `schema.table` is qualified).
    #[arg(long = "table", value_name = "SOURCE=NAME")]
    pub tables: Vec<String>,
    /// The spine's table.
    #[arg(long, value_name = "NAME", default_value = "spine")]
    pub spine_table: String,
    /// The spine's order column: unique, non-null values in the spine's order. The
    /// result has one row per spine row, ordered by it.
    #[arg(long, value_name = "COLUMN", default_value = "spine_row")]
    pub spine_order: String,
    /// The spine's time column.
    #[arg(long, value_name = "COLUMN", default_value = "ts")]
    pub spine_time: String,
}

impl SqlArgs {
    /// Each `--emit sql` option with whether it was given.
    fn flags(&self) -> [(bool, &'static str); 7] {
        [
            (self.dialect.is_some(), "--dialect"),
            (self.service.is_some(), "--service"),
            (!self.features.is_empty(), "--features"),
            (!self.tables.is_empty(), "--table"),
            (self.spine_table != "spine", "--spine-table"),
            (self.spine_order != "spine_row", "--spine-order"),
            (self.spine_time != "ts", "--spine-time"),
        ]
    }

    /// The first `--emit sql` option given, by its flag (for other stages, where
    /// it would be ignored).
    pub fn given(&self) -> Option<&'static str> {
        self.flags()
            .into_iter()
            .find_map(|(given, flag)| given.then_some(flag))
    }

    /// The first `--emit sql` option given beyond the feature selection (`--service`,
    /// `--features`), which `--emit arroyo` shares.
    pub fn given_beyond_selection(&self) -> Option<&'static str> {
        self.flags()
            .into_iter()
            .filter(|(_, flag)| !matches!(*flag, "--service" | "--features"))
            .find_map(|(given, flag)| given.then_some(flag))
    }
}

pub fn emit(projects: &[PathBuf], args: &SqlArgs) -> Result<String, ExitCode> {
    let names: Vec<&str> = Dialect::ALL.iter().map(|d| d.name()).collect();
    let dialect = match args.dialect.as_deref() {
        None => {
            return Err(super::fail(format!(
                "--emit sql needs --dialect ({})",
                names.join(", ")
            )))
        }
        Some(name) => Dialect::by_name(name).ok_or_else(|| {
            super::fail(format!(
                "--dialect: no dialect `{name}` ({})",
                names.join(", ")
            ))
        })?,
    };
    let (files, project) = super::compile_project(projects)?;
    let features = featc::job::select_features(&project, args.service.as_deref(), &args.features)
        .map_err(super::fail)?;
    let mut options = SqlOptions::new(dialect);
    for binding in &args.tables {
        let Some((source, table)) = binding.split_once('=') else {
            return Err(super::fail(format!(
                "--table takes SOURCE=NAME, got `{binding}`"
            )));
        };
        if !project.sources.iter().any(|s| s.name == source) {
            return Err(super::fail(format!(
                "--table: the project has no source `{source}`"
            )));
        }
        options.tables.insert(source.to_string(), table.to_string());
    }
    options.spine_table.clone_from(&args.spine_table);
    options.spine_order.clone_from(&args.spine_order);
    options.spine_time.clone_from(&args.spine_time);
    let plan = featc::lower::groups::plan_groups(&project, &features).map_err(super::fail)?;
    match emit_sql(&plan, &options) {
        Ok(script) => Ok(script.text()),
        Err(refusals) => {
            super::report(&refusal::diagnostics(&refusals), &files);
            Err(ExitCode::from(super::EXIT_ERRORS))
        }
    }
}
