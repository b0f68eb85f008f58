//! The state store group mode shares: where every instance of `featc serve
//! --kafka-group` keeps each partition's checkpoint and the member registry, in a
//! directory or in S3-compatible object storage, behind one blocking API over
//! `object_store`.
//!
//! `--state-store` takes `/abs/path` or `file:///abs/path` (object_store's local file
//! system: the directory and the folders of a key are created by the first write into
//! them) or `s3://bucket[/prefix]` (credentials, region and endpoint from the usual
//! `AWS_*` variables, then from `StateStore::open_with`'s options). Keys are
//! `/`-separated relative paths (`tasks/user/3/checkpoint.bin`, `members/abc.json`),
//! placed under the directory or the prefix.
//!
//! The callers are plain threads and tokio worker threads alike, and a worker may not
//! `block_on` its own runtime: each operation runs on the store's own small runtime
//! while the caller waits on a std channel. Every operation is bounded
//! (`OPERATION_TIMEOUT`), so a dead endpoint is an error, not a hang. An error names the
//! object (the store's URL and the key), never a credential: the secret key and session
//! token are masked in any text an error carries.

use std::fmt;
use std::future::Future;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use featc_runtime::io::object::{masked, with_sources};
use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tokio::runtime::{Handle, Runtime};

/// How long one operation may take, its retries included, before it is an error.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a store could not be opened or an operation on it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// `url` names no store this can open (credentials in a URL are masked).
    Url { url: String, reason: String },
    /// `what` (reading, writing, listing, deleting) failed; `key` is the object's full
    /// address, the store's URL then the key, so that the bucket is named too.
    Object {
        key: String,
        what: &'static str,
        reason: String,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Url { url, reason } => write!(f, "state store `{url}`: {reason}"),
            StoreError::Object { key, what, reason } => write!(f, "{what} `{key}`: {reason}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// A handle on the shared state store; clones share one connection and runtime.
#[derive(Clone)]
pub struct StateStore {
    inner: Arc<Inner>,
}

struct Inner {
    url: String,
    objects: Arc<dyn ObjectStore>,
    /// What an error's text must never show (S3's secret key and session token).
    secrets: Vec<String>,
    handle: Handle,
    /// Taken by `drop` only: see there.
    runtime: Option<Runtime>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last clone may be dropped on a tokio worker, where dropping a runtime
        // (which waits for its threads) panics; its threads end on their own instead.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl fmt::Debug for StateStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateStore")
            .field("url", &self.inner.url)
            .finish_non_exhaustive()
    }
}

/// Where a URL points.
enum Location {
    Directory(Path),
    S3 { bucket: String, prefix: Path },
}

impl StateStore {
    /// Opens the store `url` names (nothing is read or written yet).
    pub fn open(url: &str) -> Result<StateStore, StoreError> {
        StateStore::open_with(url, &[])
    }

    /// `open`, with S3 settings (`("aws_endpoint", ..)`, `("aws_access_key_id", ..)`,
    /// any key object_store's `AmazonS3ConfigKey` reads) applied over the environment's;
    /// a directory takes none.
    pub fn open_with(url: &str, options: &[(&str, &str)]) -> Result<StateStore, StoreError> {
        let refused = |reason: String| StoreError::Url {
            url: without_userinfo(url),
            reason,
        };
        let (objects, secrets) = objects(url, options).map_err(refused)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("featc-state-store")
            .enable_all()
            .build()
            .map_err(|e| refused(format!("cannot start its runtime: {e}")))?;
        Ok(StateStore {
            inner: Arc::new(Inner {
                url: url.to_string(),
                objects,
                secrets,
                handle: runtime.handle().clone(),
                runtime: Some(runtime),
            }),
        })
    }

    /// The URL as given (it holds no credentials: `open` refuses those).
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// Replaces the object at `key` atomically: a reader sees the old object or the new
    /// one whole (a rename into place on disk; one PUT on S3).
    pub fn put(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.key("writing", key)?;
        let objects = Arc::clone(&self.inner.objects);
        let payload = PutPayload::from(bytes.to_vec());
        self.run("writing", key, async move {
            objects.put(&path, payload).await.map(|_| ())
        })
    }

    /// The object at `key`, or `None` when there is none.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.key("reading", key)?;
        let objects = Arc::clone(&self.inner.objects);
        self.run("reading", key, async move {
            match objects.get(&path).await {
                Ok(found) => Ok(Some(found.bytes().await?.to_vec())),
                Err(error) if no_such_object(&error) => Ok(None),
                Err(error) => Err(error),
            }
        })
    }

    /// Every key under the folder `prefix` (`"members/"`; `""` for all), relative to the
    /// store's root, sorted.
    pub fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let path =
            Path::parse(prefix).map_err(|e| self.failed("listing", prefix, e.to_string()))?;
        let objects = Arc::clone(&self.inner.objects);
        let mut keys = self.run("listing", prefix, async move {
            objects
                .list(Some(&path))
                .map_ok(|meta| meta.location.to_string())
                .try_collect::<Vec<String>>()
                .await
        })?;
        keys.sort();
        Ok(keys)
    }

    /// Deletes the object at `key`; one that is not there is not an error.
    pub fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.key("deleting", key)?;
        let objects = Arc::clone(&self.inner.objects);
        self.run("deleting", key, async move {
            match objects.delete(&path).await {
                Err(error) if no_such_object(&error) => Ok(()),
                done => done,
            }
        })
    }

    /// `key` as a path of the store: segments that could leave its root (`..`) or
    /// name nothing (empty) are refused.
    fn key(&self, what: &'static str, key: &str) -> Result<Path, StoreError> {
        match Path::parse(key) {
            Ok(path) if !path.is_root() => Ok(path),
            Ok(_) => Err(self.failed(what, key, "an empty key".to_string())),
            Err(e) => Err(self.failed(what, key, format!("not a key: {e}"))),
        }
    }

    /// Runs `operation` on the store's runtime, bounded by `OPERATION_TIMEOUT`, and
    /// waits for it on the caller's thread.
    fn run<T: Send + 'static>(
        &self,
        what: &'static str,
        key: &str,
        operation: impl Future<Output = object_store::Result<T>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (sender, receiver) = mpsc::sync_channel(1);
        self.inner.handle.spawn(async move {
            // The caller waits below, so the receiver is there.
            let _ = sender.send(tokio::time::timeout(OPERATION_TIMEOUT, operation).await);
        });
        let reason = match receiver.recv() {
            Ok(Ok(Ok(value))) => return Ok(value),
            Ok(Ok(Err(error))) => with_sources(&error),
            Ok(Err(_)) => format!("no answer within {} s", OPERATION_TIMEOUT.as_secs()),
            Err(_) => "the store's runtime stopped before answering".to_string(),
        };
        Err(self.failed(what, key, reason))
    }

    fn failed(&self, what: &'static str, key: &str, reason: String) -> StoreError {
        let root = self.inner.url.trim_end_matches('/');
        // One line: an S3 error carries the server's XML answer, lines and all.
        let reason: Vec<&str> = reason
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        StoreError::Object {
            key: format!("{root}/{}", key.trim_start_matches('/')),
            what,
            reason: masked(&reason.join(" "), &self.inner.secrets),
        }
    }
}

/// The location `url` names, or why it names none.
fn locate(url: &str) -> Result<Location, String> {
    if let Some(rest) = url.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.contains('@') {
            return Err("credentials do not belong in the URL: give them as \
                        AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                .to_string());
        }
        let valid = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
        if !valid {
            return Err(format!(
                "`{bucket}` is not a bucket name (3 to 63 lower-case letters, digits, `.` and `-`)"
            ));
        }
        let prefix = Path::parse(prefix).map_err(|e| format!("not a key prefix: {e}"))?;
        let bucket = bucket.to_string();
        Ok(Location::S3 { bucket, prefix })
    } else if let Some(rest) = url.strip_prefix("file://") {
        if !rest.starts_with('/') {
            return Err("a file URL names a directory of this machine: file:///abs/path".into());
        }
        Path::from_url_path(rest)
            .map(Location::Directory)
            .map_err(|e| e.to_string())
    } else if url.starts_with('/') {
        Path::from_absolute_path(url)
            .map(Location::Directory)
            .map_err(|e| e.to_string())
    } else {
        Err(
            "expected an absolute directory (/abs/path or file:///abs/path) \
             or s3://bucket[/prefix]"
                .to_string(),
        )
    }
}

/// The object store `url` names, with the secrets its errors must not show.
fn objects(
    url: &str,
    options: &[(&str, &str)],
) -> Result<(Arc<dyn ObjectStore>, Vec<String>), String> {
    match locate(url)? {
        Location::Directory(dir) => {
            if let Some((key, _)) = options.first() {
                return Err(format!("`{key}` is an S3 setting, and this is a directory"));
            }
            // Rooted at `/` with the directory as a prefix, not at the directory:
            // object_store's `new_with_prefix` needs it to exist already.
            let local = PrefixStore::new(LocalFileSystem::new(), dir);
            Ok((Arc::new(local), Vec::new()))
        }
        Location::S3 { bucket, prefix } => {
            let (s3, secrets) = s3(&bucket, options)?;
            let objects: Arc<dyn ObjectStore> = if prefix.is_root() {
                Arc::new(s3)
            } else {
                Arc::new(PrefixStore::new(s3, prefix))
            };
            Ok((objects, secrets))
        }
    }
}

/// An S3 client for `bucket`, with the secrets its errors must not show.
fn s3(
    bucket: &str,
    options: &[(&str, &str)],
) -> Result<(object_store::aws::AmazonS3, Vec<String>), String> {
    featc_runtime::io::object::s3_client(bucket, options).map_err(|e| e.0)
}

/// Whether `error` says the object is not there, as opposed to its bucket: S3 answers
/// 404 to both and object_store makes both `NotFound`; only the code in the answer's
/// body (`NoSuchKey`, `NoSuchBucket`) tells them apart.
fn no_such_object(error: &object_store::Error) -> bool {
    matches!(error, object_store::Error::NotFound { .. })
        && !with_sources(error).contains("NoSuchBucket")
}

/// `url` with any `user:password@` masked.
fn without_userinfo(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
        if let Some(at) = authority.rfind('@') {
            return format!("{scheme}://***@{}", &rest[at + 1..]);
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::durable::temp::TempDir;

    /// A store in a directory that does not exist yet.
    fn store(temp: &TempDir) -> StateStore {
        let dir = temp.path().join("shared/state");
        StateStore::open(dir.to_str().unwrap()).unwrap()
    }

    #[test]
    fn an_object_reads_back_and_a_missing_one_is_none() {
        let temp = TempDir::new("store-round-trip");
        let store = store(&temp);
        assert_eq!(store.get("members/a.json").unwrap(), None);
        store
            .put("tasks/user/3/checkpoint.bin", b"\0\x01bytes")
            .unwrap();
        let back = store.get("tasks/user/3/checkpoint.bin").unwrap();
        assert_eq!(back.as_deref(), Some(&b"\0\x01bytes"[..]));
        assert_eq!(store.get("tasks/user/4/checkpoint.bin").unwrap(), None);
    }

    #[test]
    fn a_put_replaces_the_whole_object() {
        let temp = TempDir::new("store-replace");
        let store = store(&temp);
        store
            .put("members/a.json", b"a longer first value")
            .unwrap();
        store.put("members/a.json", b"short").unwrap();
        assert_eq!(store.get("members/a.json").unwrap().unwrap(), b"short");
        assert_eq!(store.list("members/").unwrap(), ["members/a.json"]);
    }

    #[test]
    fn a_list_is_sorted_and_only_under_its_prefix() {
        let temp = TempDir::new("store-list");
        let store = store(&temp);
        assert!(store.list("").unwrap().is_empty());
        for key in [
            "tasks/user/3/checkpoint.bin",
            "members/b.json",
            "tasks/user/10/checkpoint.bin",
            "members/a.json",
            "membersx/c.json",
            "tasks/item/1/checkpoint.bin",
        ] {
            store.put(key, key.as_bytes()).unwrap();
        }
        assert_eq!(
            store.list("members/").unwrap(),
            ["members/a.json", "members/b.json"]
        );
        assert_eq!(
            store.list("tasks/user").unwrap(),
            [
                "tasks/user/10/checkpoint.bin",
                "tasks/user/3/checkpoint.bin"
            ]
        );
        assert_eq!(store.list("").unwrap().len(), 6);
        assert!(store.list("nothing/").unwrap().is_empty());
    }

    #[test]
    fn deleting_a_missing_key_is_not_an_error() {
        let temp = TempDir::new("store-delete");
        let store = store(&temp);
        store.delete("members/a.json").unwrap();
        store.put("members/a.json", b"{}").unwrap();
        store.delete("members/a.json").unwrap();
        assert_eq!(store.get("members/a.json").unwrap(), None);
        assert!(store.list("members/").unwrap().is_empty());
        store.delete("members/a.json").unwrap();
    }

    #[test]
    fn a_file_url_and_a_path_name_the_same_store() {
        let temp = TempDir::new("store-file-url");
        let dir = temp.path().join("state");
        let by_path = StateStore::open(dir.to_str().unwrap()).unwrap();
        let by_url = StateStore::open(&format!("file://{}", dir.display())).unwrap();
        by_path.put("members/a.json", b"1").unwrap();
        assert_eq!(by_url.get("members/a.json").unwrap().unwrap(), b"1");
        assert_eq!(by_url.url(), format!("file://{}", dir.display()));
    }

    #[test]
    fn a_bad_url_is_a_url_error() {
        for url in [
            "relative/state",
            "",
            "s3://",
            "s3://Upper_Case",
            "s3://ab",
            "s3://bucket/a//b",
            "http://example.com/state",
            "file://host/state",
            "/state/../elsewhere",
        ] {
            let error = StateStore::open(url).unwrap_err();
            assert!(matches!(error, StoreError::Url { .. }), "{url}: {error}");
        }
        let error = StateStore::open("s3://AKIDEXAMPLE:hunter22@bucket/state").unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, StoreError::Url { .. }), "{text}");
        assert!(!text.contains("hunter22"), "{text}");
        let error = StateStore::open_with("/tmp/state", &[("aws_region", "x")]).unwrap_err();
        assert!(matches!(error, StoreError::Url { .. }), "{error}");
    }

    #[test]
    fn a_bad_s3_setting_is_named_and_no_secret_shown() {
        let options = [
            ("aws_secret_access_key", "hunter22"),
            ("aws_no_such_setting", "x"),
        ];
        let error = StateStore::open_with("s3://bucket/state", &options).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("aws_no_such_setting"), "{text}");
        assert!(!text.contains("hunter22"), "{text}");
    }

    #[test]
    fn a_bad_key_is_an_error_naming_it_and_the_store() {
        let temp = TempDir::new("store-bad-key");
        let store = store(&temp);
        for key in ["tasks/../../escape", "", "a//b"] {
            let error = store.put(key, b"x").unwrap_err();
            assert!(matches!(error, StoreError::Object { .. }), "{key}: {error}");
            assert!(error.to_string().contains(store.url()), "{error}");
        }
    }

    #[test]
    fn a_store_is_shared_by_threads() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        shareable::<StateStore>();
        shareable::<StoreError>();
    }

    #[test]
    fn a_tokio_worker_can_use_and_drop_a_store() {
        // The store's runtime is its own: no `block_on` on the caller's, and dropping
        // the last clone on a worker does not panic.
        let temp = TempDir::new("store-in-tokio");
        let store = store(&temp);
        let caller = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let got = caller.block_on(async move {
            tokio::spawn(async move {
                store.put("members/a.json", b"from a worker").unwrap();
                store.get("members/a.json").unwrap()
            })
            .await
            .unwrap()
        });
        assert_eq!(got.unwrap(), b"from a worker");
    }
}
