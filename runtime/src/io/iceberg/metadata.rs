//! An Iceberg table's metadata file (format versions 1 and 2, the table spec's
//! "Table Metadata"): its schemas, its snapshots, which snapshot is current, and where
//! each snapshot's manifests are listed. Only what reading a snapshot needs is kept.

use serde::Deserialize;

use super::error::Problem;
use super::schema::IcebergField;

/// The parts of a metadata file a read uses.
#[derive(Debug, Clone, PartialEq)]
pub struct TableMetadata {
    pub version: i64,
    schemas: Vec<Schema>,
    current_schema: Option<i64>,
    pub snapshots: Vec<Snapshot>,
    pub current_snapshot: Option<i64>,
}

/// One of the table's schemas.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Schema {
    /// Absent in version 1's single `schema`.
    #[serde(rename = "schema-id", default)]
    pub id: Option<i64>,
    pub fields: Vec<IcebergField>,
}

/// One snapshot of the table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Snapshot {
    #[serde(rename = "snapshot-id")]
    pub id: i64,
    /// The schema current when the snapshot was written (absent in older version 1
    /// tables: the current schema then).
    #[serde(rename = "schema-id", default)]
    pub schema_id: Option<i64>,
    /// Its manifest list (an Avro file)...
    #[serde(rename = "manifest-list", default)]
    pub manifest_list: Option<String>,
    /// ... or, in version 1 only, its manifests listed inline.
    #[serde(default)]
    pub manifests: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    schemas: Option<Vec<Schema>>,
    #[serde(default)]
    schema: Option<Schema>,
    #[serde(rename = "current-schema-id", default)]
    current_schema_id: Option<i64>,
    #[serde(default)]
    snapshots: Option<Vec<Snapshot>>,
    #[serde(rename = "current-snapshot-id", default)]
    current_snapshot_id: Option<i64>,
}

impl TableMetadata {
    /// The metadata file's text, read.
    pub fn parse(text: &[u8]) -> Result<TableMetadata, Problem> {
        let bad = |e: serde_json::Error| Problem::BadMetadata(e.to_string());
        let value: serde_json::Value = serde_json::from_slice(text).map_err(bad)?;
        let version = value
            .get("format-version")
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| Problem::BadMetadata("no `format-version`".to_string()))?;
        if !(1..=2).contains(&version) {
            return Err(Problem::Version(version));
        }
        let raw: Raw = serde_json::from_value(value).map_err(bad)?;
        let mut schemas = raw.schemas.unwrap_or_default();
        // Version 1 writers wrote the one `schema` (and newer ones `schemas` too).
        if let Some(schema) = raw.schema {
            if schemas.is_empty() {
                schemas.push(schema);
            }
        }
        if schemas.is_empty() {
            return Err(Problem::BadMetadata("no `schemas`".to_string()));
        }
        Ok(TableMetadata {
            version,
            schemas,
            current_schema: raw.current_schema_id,
            snapshots: raw.snapshots.unwrap_or_default(),
            // Version 1 writers wrote -1 for "none".
            current_snapshot: raw.current_snapshot_id.filter(|&id| id != -1),
        })
    }

    /// The snapshot read: the pinned one, or the current one.
    pub fn snapshot(&self, pinned: Option<i64>) -> Result<&Snapshot, Problem> {
        let Some(id) = pinned.or(self.current_snapshot) else {
            return Err(Problem::NoSnapshot);
        };
        self.snapshots
            .iter()
            .find(|s| s.id == id)
            .ok_or_else(|| Problem::UnknownSnapshot {
                id,
                known: self.snapshots.iter().map(|s| s.id).collect(),
            })
    }

    /// The schema `snapshot` was written with (as Iceberg readers read a snapshot
    /// they travel back to), or the current one when the snapshot does not say.
    pub fn schema_of(&self, snapshot: &Snapshot) -> Result<&Schema, Problem> {
        let id = snapshot.schema_id.or(self.current_schema);
        match id {
            Some(id) => self
                .schemas
                .iter()
                .find(|s| s.id == Some(id))
                .ok_or_else(|| Problem::BadMetadata(format!("no schema with id {id}"))),
            // A version 1 table with its one schema.
            None => self
                .schemas
                .last()
                .ok_or_else(|| Problem::BadMetadata("no `schemas`".to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = r#"{"format-version": 1, "location": "/w/t",
        "schema": {"type": "struct", "fields": [{"id": 1, "name": "a", "required": true, "type": "long"}]},
        "current-snapshot-id": 7,
        "snapshots": [{"snapshot-id": 7, "manifests": ["/w/t/metadata/m0.avro"]}]}"#;

    #[test]
    fn version_1_has_one_schema_and_may_list_manifests_inline() {
        let meta = TableMetadata::parse(V1.as_bytes()).expect("parses");
        let snapshot = meta.snapshot(None).expect("the current snapshot");
        assert_eq!(
            snapshot.manifests,
            Some(vec!["/w/t/metadata/m0.avro".to_string()])
        );
        assert_eq!(meta.schema_of(snapshot).expect("schema").fields.len(), 1);
    }

    #[test]
    fn unknown_versions_and_snapshots_are_refused() {
        assert_eq!(
            TableMetadata::parse(br#"{"format-version": 3}"#).err(),
            Some(Problem::Version(3))
        );
        let meta = TableMetadata::parse(V1.as_bytes()).expect("parses");
        assert_eq!(
            meta.snapshot(Some(8)).err(),
            Some(Problem::UnknownSnapshot {
                id: 8,
                known: vec![7]
            })
        );
        let empty = V1.replace("\"current-snapshot-id\": 7", "\"current-snapshot-id\": -1");
        let meta = TableMetadata::parse(empty.as_bytes()).expect("parses");
        assert_eq!(meta.snapshot(None).err(), Some(Problem::NoSnapshot));
    }
}
