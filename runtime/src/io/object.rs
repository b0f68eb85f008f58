//! Sources in object storage: a source's `file` or `--source NAME=URL` given as
//! `s3://bucket/key` (one `.parquet`/`.csv` object) or `s3://bucket/prefix/` (every
//! object of one of those formats under it, as a folder), and the same in Google Cloud
//! Storage (`gs://bucket/...`) and Azure Blob Storage (`az://container/...`). The
//! client is object_store's, registered with the session for the bucket, its
//! credentials and endpoint from the usual environment variables (`AWS_*`, `GOOGLE_*`,
//! `AZURE_*`, docs/sources.md): never printed, and masked out of every error.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, RetryConfig};

use super::{header_names, Format, IoError};

/// Bytes of an object read to find a CSV header line.
const HEADER_BYTES: u64 = 64 << 10;

/// The object stores a location can name, by its URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `s3://bucket/key`: Amazon S3 or an S3-compatible server.
    S3,
    /// `gs://bucket/key`: Google Cloud Storage.
    Gcs,
    /// `az://container/key`: Azure Blob Storage.
    Azure,
}

impl Scheme {
    pub const ALL: [Scheme; 3] = [Scheme::S3, Scheme::Gcs, Scheme::Azure];

    /// The URL scheme, without `://`.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::S3 => "s3",
            Scheme::Gcs => "gs",
            Scheme::Azure => "az",
        }
    }
}

/// An object-storage location: its store, bucket (an Azure container) and key (a
/// prefix for a folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectLocation {
    pub scheme: Scheme,
    pub bucket: String,
    pub key: String,
}

impl ObjectLocation {
    /// `path` as an object-storage location, when it is an `s3://`, `gs://` or `az://`
    /// URL.
    pub fn of(path: &Path) -> Option<ObjectLocation> {
        let text = path.to_str()?;
        let (scheme, rest) = Scheme::ALL.iter().find_map(|s| {
            let rest = text.strip_prefix(s.name())?.strip_prefix("://")?;
            Some((*s, rest))
        })?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| ObjectLocation {
            scheme,
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }

    /// The URL of `key` in this location's bucket.
    pub fn url(&self, key: &str) -> String {
        format!("{}://{}/{key}", self.scheme.name(), self.bucket)
    }

    /// The URL of the bucket itself: what a client is registered for with DataFusion.
    fn base(&self) -> String {
        format!("{}://{}", self.scheme.name(), self.bucket)
    }
}

/// Whether `path` names a location in object storage.
pub fn is_object(path: &Path) -> bool {
    ObjectLocation::of(path).is_some()
}

/// Why an S3 client could not be made: the builder's message, secrets masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError(pub String);

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClientError {}

/// A client for `bucket` from the environment, with `options` (any key object_store's
/// `AmazonS3ConfigKey` reads: `aws_endpoint`, `aws_access_key_id`, …) applied over
/// it, and the secrets its errors must not show (`masked`). Few retries, within 20
/// s: a dead endpoint reports its own error (refused, reset) soon. Group mode's state
/// store and the sources in S3 both make their clients here.
pub fn s3_client(
    bucket: &str,
    options: &[(&str, &str)],
) -> Result<(AmazonS3, Vec<String>), ClientError> {
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    // object_store reads AWS_ENDPOINT_URL (the AWS tools' name) and AWS_ENDPOINT into
    // one setting in the environment's order: when both are set, the standard one wins.
    if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
        builder = builder.with_endpoint(endpoint);
    }
    for (key, value) in options {
        let config: AmazonS3ConfigKey = key
            .parse()
            .map_err(|_| ClientError(format!("`{key}` is not an S3 setting")))?;
        builder = builder.with_config(config, *value);
    }
    let secrets: Vec<String> = [AmazonS3ConfigKey::SecretAccessKey, AmazonS3ConfigKey::Token]
        .iter()
        .filter_map(|k| builder.get_config_value(k))
        .filter(|s| !s.is_empty())
        .collect();
    let endpoint = builder.get_config_value(&AmazonS3ConfigKey::Endpoint);
    if endpoint.is_some_and(|e| e.starts_with("http://")) {
        builder = builder.with_allow_http(true);
    }
    match builder.with_retry(retry()).build() {
        Ok(s3) => Ok((s3, secrets)),
        Err(e) => Err(ClientError(masked(&with_sources(&e), &secrets))),
    }
}

/// Few retries, within 20 s: a dead endpoint reports its own error soon.
fn retry() -> RetryConfig {
    RetryConfig {
        max_retries: 3,
        retry_timeout: Duration::from_secs(20),
        ..RetryConfig::default()
    }
}

/// A client for `location`'s bucket, configured from the environment (`AWS_*`,
/// `GOOGLE_*` or `AZURE_*` by its scheme; docs/sources.md), and the secrets its errors
/// must not show.
pub fn object_client(
    location: &ObjectLocation,
) -> Result<(Arc<dyn ObjectStore>, Vec<String>), ClientError> {
    let bucket = location.bucket.as_str();
    match location.scheme {
        Scheme::S3 => {
            let (s3, secrets) = s3_client(bucket, &[])?;
            Ok((Arc::new(s3), secrets))
        }
        Scheme::Gcs => {
            let builder = GoogleCloudStorageBuilder::from_env().with_bucket_name(bucket);
            let secrets = secrets_of(
                |k| builder.get_config_value(k),
                &[GoogleConfigKey::ServiceAccountKey],
            );
            match builder.with_retry(retry()).build() {
                Ok(store) => Ok((Arc::new(store), secrets)),
                Err(e) => Err(ClientError(masked(&with_sources(&e), &secrets))),
            }
        }
        Scheme::Azure => {
            let builder = MicrosoftAzureBuilder::from_env().with_container_name(bucket);
            let secrets = secrets_of(
                |k| builder.get_config_value(k),
                &[
                    AzureConfigKey::AccessKey,
                    AzureConfigKey::SasKey,
                    AzureConfigKey::ClientSecret,
                    AzureConfigKey::Token,
                ],
            );
            match builder.with_retry(retry()).build() {
                Ok(store) => Ok((Arc::new(store), secrets)),
                Err(e) => Err(ClientError(masked(&with_sources(&e), &secrets))),
            }
        }
    }
}

/// The non-empty values of `keys` (the secrets among a builder's settings).
fn secrets_of<K>(value: impl Fn(&K) -> Option<String>, keys: &[K]) -> Vec<String> {
    keys.iter()
        .filter_map(value)
        .filter(|s| !s.is_empty())
        .collect()
}

fn client(location: &ObjectLocation) -> Result<(Arc<dyn ObjectStore>, Vec<String>), String> {
    object_client(location).map_err(|e| e.0)
}

/// `error` and each of its sources the text does not already show (a connection's
/// cause is often only in a source).
pub fn with_sources(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = cause.source();
    }
    text
}

/// `text` with each of `secrets` replaced by `***`.
pub fn masked(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
}

/// Registers a client for `location`'s bucket with `ctx` and finds its data: the
/// format and the URL DataFusion reads (the object, or the prefix as a folder), and
/// the first object's key (whose header a CSV source is checked against).
pub async fn locate(
    ctx: &SessionContext,
    table: &str,
    path: &Path,
    location: &ObjectLocation,
) -> Result<(Format, String, Option<String>), IoError> {
    let unreadable = |message: String| IoError::Unreadable {
        table: table.to_string(),
        path: path.to_path_buf(),
        message,
    };
    let (store, secrets) = client(location).map_err(unreadable)?;
    let base = ObjectStoreUrl::parse(location.base()).map_err(|e| unreadable(e.to_string()))?;
    ctx.register_object_store(base.as_ref(), Arc::clone(&store));
    let error = |e: object_store::Error| unreadable(masked(&with_sources(&e), &secrets));
    if let Some(format) = Format::of_file(Path::new(&location.key)) {
        // One object: its absence (or a denied read) is reported now, naming it.
        store
            .head(&Key::from(location.key.as_str()))
            .await
            .map_err(error)?;
        let url = location.url(&location.key);
        return Ok((format, url, Some(location.key.clone())));
    }
    let Some((format, keys)) = data_keys(store.as_ref(), location).await.map_err(error)? else {
        return Err(IoError::UnknownFormat {
            table: table.to_string(),
            path: path.to_path_buf(),
        });
    };
    let folder = match location.key.trim_end_matches('/') {
        "" => location.url(""),
        p => location.url(&format!("{p}/")),
    };
    Ok((format, folder, keys.into_iter().next()))
}

/// The data objects at `location` and their format, as a folder's files are found:
/// the object itself when its key has a data file's extension, else every object under
/// the prefix of the format of the first by key, sorted (`None`: none of a format
/// featc reads).
async fn data_keys(
    store: &dyn ObjectStore,
    location: &ObjectLocation,
) -> Result<Option<(Format, Vec<String>)>, object_store::Error> {
    if let Some(format) = Format::of_file(Path::new(&location.key)) {
        return Ok(Some((format, vec![location.key.clone()])));
    }
    let prefix = location.key.trim_end_matches('/');
    let listed: Vec<_> = store.list(Some(&Key::from(prefix))).try_collect().await?;
    let mut keys: Vec<String> = listed
        .into_iter()
        .map(|o| o.location.to_string())
        .filter(|k| Format::of_file(Path::new(k)).is_some())
        .collect();
    keys.sort();
    let Some(format) = keys.first().and_then(|k| Format::of_file(Path::new(k))) else {
        return Ok(None);
    };
    keys.retain(|k| Format::of_file(Path::new(k)) == Some(format));
    Ok(Some((format, keys)))
}

/// Each data object at `location` (`data_keys`) but those `skip` names by URL, downloaded in turn into a temporary
/// file and handed to `check` with its URL and format, until `check` finds something.
/// One object at a time, streamed to disk: the memory this takes is a chunk's, the
/// disk the largest object's, and only the failure path pays for it
/// (`locate::first_bad_cell`). Runs on a thread of its own with its own IO runtime,
/// like `upload`, so that any caller, async or not, can wait for it.
pub(super) fn first_in_objects<T: Send>(
    location: &ObjectLocation,
    skip: &(dyn Fn(&str) -> bool + Sync),
    check: &mut (dyn FnMut(&Path, &str, Format) -> Option<T> + Send),
) -> Result<Option<T>, String> {
    on_own_runtime(|runtime| {
        let (store, secrets) = client(location)?;
        let error = |e: object_store::Error| masked(&with_sources(&e), &secrets);
        let found = runtime
            .block_on(data_keys(store.as_ref(), location))
            .map_err(error)?;
        let Some((format, keys)) = found else {
            return Ok(None);
        };
        let temp = std::env::temp_dir().join(format!(
            ".featc-check-{}{}",
            std::process::id(),
            format.extension()
        ));
        for key in keys.iter().filter(|k| !skip(&location.url(k))) {
            let downloaded = runtime.block_on(download(store.as_ref(), key, &temp));
            let found = downloaded
                .map_err(error)
                .map(|()| check(&temp, &location.url(key), format));
            let _ = std::fs::remove_file(&temp);
            if let Some(found) = found? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    })
}

/// Runs `work` on a thread of its own with its own IO runtime and waits for it: an
/// object store's futures need a runtime, and a caller inside another one cannot
/// block on them there.
fn on_own_runtime<T: Send>(
    work: impl FnOnce(&tokio::runtime::Runtime) -> Result<T, String> + Send,
) -> Result<T, String> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                work(&runtime)
            })
            .join()
            .unwrap_or_else(|_| Err("the object store's thread panicked".to_string()))
    })
}

/// Streams the object `key` of `store` into the file `to`, chunk by chunk.
async fn download(
    store: &dyn ObjectStore,
    key: &str,
    to: &Path,
) -> Result<(), object_store::Error> {
    use std::io::Write;
    let local = |e: std::io::Error| object_store::Error::Generic {
        store: "local temporary file",
        source: Box::new(e),
    };
    let mut file = std::fs::File::create(to).map_err(local)?;
    let mut chunks = store.get(&Key::from(key)).await?.into_stream();
    while let Some(chunk) = chunks.try_next().await? {
        file.write_all(&chunk).map_err(local)?;
    }
    file.flush().map_err(local)
}

/// The column names of the CSV object `key` of `location`'s bucket (a client for it
/// registered with `ctx` by `locate`).
pub async fn csv_header(
    ctx: &SessionContext,
    table: &str,
    location: &ObjectLocation,
    key: &str,
) -> Result<Vec<String>, IoError> {
    let file = Path::new(key);
    let unreadable = |message: String| IoError::Unreadable {
        table: table.to_string(),
        path: Path::new(&location.url(key)).to_path_buf(),
        message,
    };
    let base = ObjectStoreUrl::parse(location.base()).map_err(|e| unreadable(e.to_string()))?;
    let store = ctx
        .runtime_env()
        .object_store(base)
        .map_err(|e| unreadable(e.strip_backtrace()))?;
    let key = Key::from(key);
    let size = store
        .head(&key)
        .await
        .map_err(|e| unreadable(with_sources(&e)))?
        .size;
    let bytes = store
        .get_range(&key, 0..size.min(HEADER_BYTES))
        .await
        .map_err(|e| unreadable(with_sources(&e)))?;
    let text = String::from_utf8_lossy(&bytes);
    let line = text.lines().next().unwrap_or("");
    header_names(table, file, line)
}

/// Bytes of an upload sent per part, and parts in flight at most.
const PART_BYTES: usize = 8 << 20;
const PARTS_IN_FLIGHT: usize = 4;

/// Uploads the local `file` to `location` as one object (one PUT, or a multipart
/// upload past one part: either way the object appears, or is replaced, only when all
/// of it is there; a failure leaves what was at the location). Runs on a thread of
/// its own with its own IO runtime, so that any caller, async or not, can wait for it.
pub(super) fn upload(file: &Path, location: &ObjectLocation) -> Result<(), String> {
    on_own_runtime(|runtime| runtime.block_on(upload_parts(file, location)))
}

async fn upload_parts(file: &Path, location: &ObjectLocation) -> Result<(), String> {
    use std::io::Read;
    let (store, secrets) = client(location)?;
    let error = |e: object_store::Error| masked(&with_sources(&e), &secrets);
    let key = Key::from(location.key.as_str());
    // A file of one part goes up in one request (a PUT replaces an object whole too).
    let size = std::fs::metadata(file).map_err(|e| e.to_string())?.len();
    if size <= PART_BYTES as u64 {
        let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
        store.put(&key, bytes.into()).await.map_err(error)?;
        return Ok(());
    }
    let parts = store.put_multipart(&key).await.map_err(error)?;
    let mut upload = object_store::WriteMultipart::new_with_chunk_size(parts, PART_BYTES);
    let mut reader = std::fs::File::open(file).map_err(|e| e.to_string())?;
    let mut buffer = vec![0u8; PART_BYTES];
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(n) => n,
            Err(e) => {
                let _ = upload.abort().await;
                return Err(e.to_string());
            }
        };
        if n == 0 {
            break;
        }
        if let Err(e) = upload.wait_for_capacity(PARTS_IN_FLIGHT).await {
            return Err(error(e));
        }
        upload.write(&buffer[..n]);
    }
    upload.finish().await.map_err(error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_object_store_urls_are_object_locations() {
        let of = |p: &str| ObjectLocation::of(Path::new(p));
        assert_eq!(
            of("s3://bucket/a/b.parquet"),
            Some(ObjectLocation {
                scheme: Scheme::S3,
                bucket: "bucket".into(),
                key: "a/b.parquet".into()
            })
        );
        assert_eq!(
            of("s3://bucket"),
            Some(ObjectLocation {
                scheme: Scheme::S3,
                bucket: "bucket".into(),
                key: String::new()
            })
        );
        assert_eq!(
            of("gs://b/k.csv").map(|l| (l.scheme, l.url("x"))),
            Some((Scheme::Gcs, "gs://b/x".to_string()))
        );
        assert_eq!(
            of("az://container/p/").map(|l| (l.scheme, l.key)),
            Some((Scheme::Azure, "p/".to_string()))
        );
        assert_eq!(of("s3:///key"), None);
        assert_eq!(of("gsx://b/k"), None);
        assert_eq!(of("https://b/k"), None);
        assert_eq!(of("data/s3://x"), None);
        assert_eq!(of("/abs/file.csv"), None);
    }

    #[test]
    fn secrets_are_masked_out_of_errors() {
        assert_eq!(
            masked("denied for hunter22 at x", &["hunter22".to_string()]),
            "denied for *** at x"
        );
    }
}
