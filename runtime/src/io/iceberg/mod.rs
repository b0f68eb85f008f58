//! Iceberg tables as sources: `iceberg:METADATA_JSON_PATH_OR_URL`, a table read from
//! its metadata file, no catalog needed. A read takes a snapshot (the current one, or
//! a pinned snapshot id), the schema it was written with, its manifest list, its
//! manifests, and the Parquet data files they list as live (an entry not DELETED,
//! of data content); the rows are those files' rows, read with the table's schema
//! (see `scan` and `field_ids`).
//!
//! Why by hand, not with iceberg-rust: its release (0.10) pins arrow 58 and
//! DataFusion 53, and featc is on arrow 59 and DataFusion 55, so its tables and
//! batches cannot be featc's. The table format is small enough to read from its
//! metadata: JSON (`metadata`), Avro for the manifest list and manifests (`manifest`,
//! with the `apache-avro` crate), Parquet for the data, read by DataFusion.
//!
//! Never read as if absent: delete files (position or equality deletes, which
//! featc does not apply yet) are refused, naming the table, the snapshot and the
//! delete file. Copy-on-write deletes (pyiceberg's `delete`, which rewrites data
//! files) need nothing more: the manifests mark the removed files DELETED. Also
//! refused, each naming its file: format versions other than 1 and 2, nested column
//! types, data files in other formats than Parquet or in more than one store.

mod error;
mod field_ids;
mod files;
mod manifest;
mod metadata;
mod scan;
mod schema;

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::prelude::SessionContext;

pub use error::{IcebergError, Problem};
use files::{Files, Location};
use manifest::{manifest_entries, manifest_list, Content, ManifestFile};
use metadata::TableMetadata;

use crate::io::IoError;

/// The table of source `table` (as errors name it) at snapshot `snapshot` (the
/// current one when `None`) of the Iceberg table whose metadata file is `metadata` (a
/// local path or an `s3://` URL), and the id of the snapshot read.
pub async fn open(
    ctx: &SessionContext,
    table: &str,
    metadata: &str,
    snapshot: Option<i64>,
) -> Result<(Arc<dyn TableProvider>, i64), IoError> {
    read(ctx, metadata, snapshot)
        .await
        .map_err(|e| e.into_io(table, metadata))
}

async fn read(
    ctx: &SessionContext,
    metadata: &str,
    pinned: Option<i64>,
) -> Result<(Arc<dyn TableProvider>, i64), IcebergError> {
    let files = Files::new(ctx);
    let in_metadata = |problem| IcebergError::new(metadata, problem);
    let text = read_file(&files, metadata).await?;
    let meta = TableMetadata::parse(&text).map_err(in_metadata)?;
    let snapshot = meta.snapshot(pinned).map_err(in_metadata)?;
    let schema = meta.schema_of(snapshot).map_err(in_metadata)?;
    let (arrow, ids) = schema::arrow_schema(&schema.fields).map_err(in_metadata)?;
    let manifests: Vec<ManifestFile> = match (&snapshot.manifest_list, &snapshot.manifests) {
        (Some(list), _) => {
            let bytes = read_file(&files, list).await?;
            manifest_list(&bytes).map_err(|m| IcebergError::new(list, Problem::BadManifest(m)))?
        }
        (None, Some(paths)) => paths
            .iter()
            .map(|path| ManifestFile {
                path: path.clone(),
                content: Content::Data,
            })
            .collect(),
        (None, None) => {
            return Err(in_metadata(Problem::BadMetadata(format!(
                "snapshot {} has no `manifest-list`",
                snapshot.id
            ))))
        }
    };
    let files_ref = &files;
    let read_manifests = manifests.iter().map(|manifest| async move {
        let bytes = read_file(files_ref, &manifest.path).await?;
        let entries = manifest_entries(&bytes)
            .map_err(|m| IcebergError::new(&manifest.path, Problem::BadManifest(m)))?;
        Ok::<_, IcebergError>((manifest, entries))
    });
    let manifests = futures::future::try_join_all(read_manifests).await?;
    let mut data = Vec::new();
    for (manifest, entries) in &manifests {
        for entry in entries.iter().filter(|e| !e.deleted) {
            if entry.content != Content::Data || manifest.content == Content::Deletes {
                return Err(in_metadata(Problem::DeleteFile {
                    snapshot: snapshot.id,
                    kind: entry.content.deletes_name(),
                    file: entry.path.clone(),
                }));
            }
            if !entry.format.eq_ignore_ascii_case("parquet") {
                return Err(IcebergError::new(
                    &manifest.path,
                    Problem::DataFormat {
                        file: entry.path.clone(),
                        format: entry.format.clone(),
                    },
                ));
            }
            data.push(location(&entry.path)?);
        }
    }
    let provider = scan::provider(ctx, &files, &data, arrow, ids).map_err(in_metadata)?;
    Ok((provider, snapshot.id))
}

fn location(uri: &str) -> Result<Location, IcebergError> {
    Location::parse(uri).ok_or_else(|| {
        IcebergError::new(
            uri,
            Problem::Unreadable(
                "featc reads files on this machine (`file:`, a path) and in S3 (`s3://`) only"
                    .to_string(),
            ),
        )
    })
}

/// The bytes of the table's file `uri`.
async fn read_file(files: &Files<'_>, uri: &str) -> Result<Vec<u8>, IcebergError> {
    files
        .read(&location(uri)?)
        .await
        .map_err(|problem| IcebergError::new(uri, problem))
}
