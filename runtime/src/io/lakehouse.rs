//! Table formats as sources: a location `delta:PATH_OR_URL` (a Delta table's root, a
//! folder or `s3://bucket/prefix`) or `iceberg:METADATA_JSON_PATH_OR_URL` (an Iceberg
//! table read from its metadata file) is opened by its format's reader as a DataFusion
//! table at a version (the latest, or one pinned with `--as-of-version`), which the
//! binding then conforms to the declared schema like a Parquet file. Each open says
//! which version it read, so that a training set can record it (snapshot pinning).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::prelude::SessionContext;

use super::{Inputs, IoError};
use crate::ir::{FeatureId, Project};

/// The table formats featc reads as sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Delta,
    Iceberg,
}

impl TableFormat {
    /// The location prefix naming the format.
    pub fn prefix(self) -> &'static str {
        match self {
            TableFormat::Delta => "delta:",
            TableFormat::Iceberg => "iceberg:",
        }
    }
}

/// A table in a table format: the format, and where it is (for Delta the table's root,
/// for Iceberg its metadata file), a local path or an `s3://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLocation {
    pub format: TableFormat,
    pub target: String,
}

impl TableLocation {
    /// `path` as a table location, when it starts with `delta:` or `iceberg:` and names
    /// something after it.
    pub fn of(path: &Path) -> Option<TableLocation> {
        let text = path.to_str()?;
        [TableFormat::Delta, TableFormat::Iceberg]
            .into_iter()
            .find_map(|format| {
                let target = text.strip_prefix(format.prefix())?;
                (!target.is_empty()).then(|| TableLocation {
                    format,
                    target: target.to_string(),
                })
            })
    }

    /// The location as written (`delta:PATH_OR_URL`), as errors and records show it.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(self.to_string())
    }
}

impl fmt::Display for TableLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.format.prefix(), self.target)
    }
}

/// Whether `path` names a table (`delta:` or `iceberg:`) rather than files.
pub fn is_table(path: &Path) -> bool {
    TableLocation::of(path).is_some()
}

/// Opens `location` for `table` (the source's name as errors show it) at `version`
/// (the latest when None): its data as a table provider, and the version read (a
/// Delta version, an Iceberg snapshot id).
pub async fn open(
    ctx: &SessionContext,
    table: &str,
    location: &TableLocation,
    version: Option<i64>,
) -> Result<(Arc<dyn TableProvider>, i64), IoError> {
    match location.format {
        TableFormat::Delta => super::delta::open(ctx, table, &location.target, version).await,
        TableFormat::Iceberg => super::iceberg::open(ctx, table, &location.target, version).await,
    }
}

/// The version of one table a run read: what a training set records (`--as-of-version
/// SOURCE=VERSION` reads it again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceVersion {
    pub source: String,
    /// The location as written (`delta:...`).
    pub location: String,
    pub version: i64,
}

/// The tables the `features` read through `inputs` (each source whose location is a
/// table), each at the version a run reads: its pin in `inputs.versions`, else its
/// latest, found now. A pin must name a source of the project whose location is a
/// table, at a version the table has. A run that binds with `inputs.versions` set to
/// these reads exactly them, so they are what it records.
pub async fn versions_read(
    project: &Project,
    features: &[FeatureId],
    inputs: &Inputs,
) -> Result<Vec<SourceVersion>, IoError> {
    for name in inputs.versions.keys() {
        let Some(source) = project.sources.iter().find(|s| &s.name == name) else {
            return Err(IoError::Unreadable {
                table: format!("source `{name}`"),
                path: PathBuf::new(),
                message: "--as-of-version: not a source of the project".to_string(),
            });
        };
        let path = super::bind::source_path(source, &inputs.files).unwrap_or_default();
        if !is_table(&path) {
            return Err(not_a_table(name, &path));
        }
    }
    let ctx = SessionContext::new_with_config(super::configure(Default::default()));
    let mut out = Vec::new();
    for source in super::sources_of(project, features) {
        if inputs.tables.contains_key(&source.name) {
            continue;
        }
        let Some(path) = super::bind::source_path(source, &inputs.files) else {
            continue;
        };
        let Some(location) = TableLocation::of(&path) else {
            continue;
        };
        let table = format!("source `{}`", source.name);
        let pin = inputs.versions.get(&source.name).copied();
        let (_, version) = open(&ctx, &table, &location, pin).await?;
        out.push(SourceVersion {
            source: source.name.clone(),
            location: location.to_string(),
            version,
        });
    }
    Ok(out)
}

/// The error of a pin for source `name`, whose location `path` is not a table.
pub fn not_a_table(name: &str, path: &Path) -> IoError {
    IoError::Unreadable {
        table: format!("source `{name}`"),
        path: path.to_path_buf(),
        message: "--as-of-version pins a table's version, and this is not a table \
                  (delta:PATH_OR_URL or iceberg:METADATA)"
            .to_string(),
    }
}

/// The pins that read `versions` again, by source.
pub fn pins(versions: &[SourceVersion]) -> HashMap<String, i64> {
    versions
        .iter()
        .map(|v| (v.source.clone(), v.version))
        .collect()
}

/// `versions` as the JSON a training set records (`featc.source_versions` in its
/// Parquet metadata and its Delta commit): `{"SOURCE": {"location": ..., "version":
/// N}}`, sources in name order.
pub fn versions_json(versions: &[SourceVersion]) -> String {
    let by_source: BTreeMap<&str, serde_json::Value> = versions
        .iter()
        .map(|v| {
            (
                v.source.as_str(),
                serde_json::json!({"location": v.location, "version": v.version}),
            )
        })
        .collect();
    serde_json::to_string(&by_source).unwrap_or_default()
}

/// The key of the recorded versions in a training set's metadata.
pub const VERSIONS_KEY: &str = "featc.source_versions";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_name_the_format() {
        let of = |p: &str| TableLocation::of(Path::new(p));
        assert_eq!(
            of("delta:s3://b/t"),
            Some(TableLocation {
                format: TableFormat::Delta,
                target: "s3://b/t".into()
            })
        );
        assert_eq!(
            of("iceberg:meta/v3.metadata.json").map(|l| l.format),
            Some(TableFormat::Iceberg)
        );
        assert_eq!(of("delta:"), None);
        assert_eq!(of("data/delta:x"), None);
        assert_eq!(of("orders.parquet"), None);
        assert_eq!(
            of("delta:/t").map(|l| l.to_string()),
            Some("delta:/t".into())
        );
    }

    #[test]
    fn versions_are_recorded_by_source() {
        let v = |s: &str, n| SourceVersion {
            source: s.into(),
            location: format!("delta:{s}"),
            version: n,
        };
        assert_eq!(
            versions_json(&[v("b", 2), v("a", 0)]),
            r#"{"a":{"location":"delta:a","version":0},"b":{"location":"delta:b","version":2}}"#
        );
    }
}
