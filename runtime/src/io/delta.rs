//! Delta tables (`delta:PATH_OR_URL`, the table's root: a local folder or
//! `s3://bucket/prefix`), read and written through delta-rs (`deltalake-core`, which
//! shares featc's arrow, DataFusion and object_store). A table is read at a version
//! (its latest, or a pinned one) as delta-rs's DataFusion table: the files that
//! version holds, less removed files and deleted rows, each with the version's schema
//! (a column added later reads as null in older files). A training set is written as
//! a new version that replaces the table's contents (`--out delta:...`), or as the
//! table's first version.
//!
//! In S3 the client is featc's own (`object::s3_client`: the AWS_* environment,
//! secrets masked out of errors), handed to delta-rs as the table's store.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};

use datafusion::catalog::TableProvider;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use deltalake_core::kernel::transaction::CommitProperties;
use deltalake_core::logstore::{
    default_logstore, logstore_factories, LogStore, LogStoreFactory, ObjectStoreRef, StorageConfig,
};
use deltalake_core::operations::write::SchemaMode;
use deltalake_core::protocol::SaveMode;
use deltalake_core::{DeltaResult, DeltaTable, DeltaTableBuilder, DeltaTableError};
use object_store::ObjectStore;
use url::Url;

use super::object::{self, masked, with_sources, ObjectLocation};
use super::IoError;

/// Where a Delta table is, as delta-rs takes it: its URL and, in S3, featc's client
/// for its bucket (with the secrets to mask out of errors).
struct Root {
    url: Url,
    store: Option<Arc<dyn ObjectStore>>,
    secrets: Vec<String>,
}

/// The table at `target` (a local folder, relative to the working directory, or an
/// `s3://` URL).
fn root(target: &str) -> Result<Root, String> {
    if let Some(location) = ObjectLocation::of(Path::new(target)) {
        let (s3, secrets) = object::s3_client(&location.bucket, &[]).map_err(|e| e.0)?;
        let key = location.key.trim_end_matches('/');
        let url =
            Url::parse(&format!("s3://{}/{key}", location.bucket)).map_err(|e| e.to_string())?;
        register_s3();
        return Ok(Root {
            url,
            store: Some(Arc::new(s3)),
            secrets,
        });
    }
    let path = std::path::absolute(target).map_err(|e| e.to_string())?;
    let url = Url::from_directory_path(&path)
        .map_err(|()| format!("`{}` is not a folder's path", path.display()))?;
    Ok(Root {
        url,
        store: None,
        secrets: Vec::new(),
    })
}

/// delta-rs's log store over a store it is given, for `s3://` tables: commits are
/// conditional puts (object_store's S3 client sends `If-None-Match`), so that of two
/// writers of a version one fails, as on a local disk.
struct GivenStore;

impl LogStoreFactory for GivenStore {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> DeltaResult<Arc<dyn LogStore>> {
        Ok(default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

/// delta-rs knows file and memory URLs by itself; `s3://` tables go through featc's
/// own client (`with_storage_backend`), whose log store is registered here once.
fn register_s3() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if let Ok(scheme) = Url::parse("s3://") {
            logstore_factories().insert(scheme, Arc::new(GivenStore));
        }
    });
}

impl Root {
    fn builder(&self) -> DeltaResult<DeltaTableBuilder> {
        let builder = DeltaTableBuilder::from_url(self.url.clone())?;
        Ok(match &self.store {
            Some(store) => builder.with_storage_backend(Arc::clone(store), self.url.clone()),
            None => builder,
        })
    }

    fn message(&self, error: &DeltaTableError) -> String {
        masked(&with_sources(error), &self.secrets)
    }
}

/// Opens the Delta table at `target` for `table` (a source, as errors name it) at
/// `version` (the latest when None): its rows as a DataFusion table (the session can
/// read its files once this returns), and the version read.
pub async fn open(
    ctx: &SessionContext,
    table: &str,
    target: &str,
    version: Option<i64>,
) -> Result<(Arc<dyn TableProvider>, i64), IoError> {
    let unreadable = |message: String| IoError::Unreadable {
        table: table.to_string(),
        path: PathBuf::from(format!("delta:{target}")),
        message,
    };
    let root = root(target).map_err(unreadable)?;
    let error = |e: DeltaTableError| unreadable(root.message(&e));
    let latest = root.builder().map_err(error)?.load().await.map_err(error)?;
    let newest = latest.version().unwrap_or(0);
    let delta = match version {
        None => latest,
        Some(v) => match u64::try_from(v) {
            Ok(v) if v <= newest => {
                let mut pinned = root.builder().map_err(error)?.build().map_err(error)?;
                pinned.load_version(v).await.map_err(error)?;
                pinned
            }
            _ => {
                return Err(unreadable(format!(
                    "version {v} does not exist (the table's versions are 0 to {newest})"
                )))
            }
        },
    };
    let read = delta.version().map_or(0, version_number);
    delta
        .update_datafusion_session(&ctx.state())
        .map_err(error)?;
    // The session's settings: strings as `Utf8`, not views, as featc reads Parquet
    // (`io::configure`).
    let provider = delta
        .table_provider()
        .with_session(Arc::new(ctx.state()))
        .await
        .map_err(|e| unreadable(masked(&e.strip_backtrace(), &root.secrets)))?;
    Ok((provider, read))
}

/// Writes the Parquet file `file` (a training set) as the contents of the Delta table
/// at `target`: its first version if there is no table there, else a new version
/// replacing its rows (and its schema, if the columns changed). `metadata` goes into
/// the commit's information. Nothing is committed when anything fails, so the table
/// stays at its previous version.
pub(super) fn write(
    file: &Path,
    target: &str,
    metadata: &[(String, String)],
) -> Result<i64, String> {
    let (file, target) = (file.to_path_buf(), target.to_string());
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                runtime.block_on(commit(&file, &target, metadata))
            })
            .join()
            .unwrap_or_else(|_| Err("the Delta commit's thread panicked".to_string()))
    })
}

async fn commit(file: &Path, target: &str, metadata: &[(String, String)]) -> Result<i64, String> {
    let root = root(target)?;
    if root.store.is_none() {
        if let Ok(folder) = root.url.to_file_path() {
            std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
        }
    }
    let error = |e: DeltaTableError| root.message(&e);
    let mut delta: DeltaTable = root.builder().map_err(error)?.build().map_err(error)?;
    match delta.load().await {
        Ok(()) => {}
        // No table yet: the write creates it.
        Err(DeltaTableError::NotATable(_)) => {}
        Err(e) => return Err(error(e)),
    }
    let ctx = SessionContext::new_with_config(super::configure(Default::default()));
    let name = file.to_string_lossy().to_string();
    let rows = ctx
        .read_parquet(&name, ParquetReadOptions::default())
        .await
        .map_err(|e| e.strip_backtrace())?;
    let info: HashMap<String, serde_json::Value> = metadata
        .iter()
        .map(|(k, v)| {
            let value = serde_json::from_str(v).unwrap_or_else(|_| v.clone().into());
            (k.clone(), value)
        })
        .collect();
    let written = delta
        .write(Vec::new())
        // Planned in delta-rs's own session (its planner runs the write's nodes).
        .with_input_plan(rows.into_unoptimized_plan())
        .with_save_mode(SaveMode::Overwrite)
        .with_schema_mode(SchemaMode::Overwrite)
        .with_commit_properties(CommitProperties::default().with_metadata(info))
        .await
        .map_err(error)?;
    Ok(written.version().map_or(0, version_number))
}

/// A Delta version as featc's version numbers (`i64`, as Iceberg's snapshot ids).
fn version_number(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
