//! Where the files of an Iceberg table are, and reading them. Iceberg names every file
//! (manifest lists, manifests, data files) by an absolute URI: `file:///...` (or
//! Java's `file:/...`), a plain absolute path, or `s3://bucket/key` (`s3a://` and
//! `s3n://`, Hadoop's names for the same store, too). The metadata file itself may
//! also be given by a relative path. S3 clients are `object::s3_client`'s, from the
//! environment, registered with the session for each bucket so that DataFusion reads
//! the data files through the same client.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::prelude::SessionContext;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt};

use super::error::Problem;
use crate::io::object::{masked, s3_client, with_sources};

/// A file of an Iceberg table: on this machine, or an object in S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    S3 { bucket: String, key: String },
}

impl Location {
    /// The location `uri` names: `None` for a scheme featc does not read.
    pub fn parse(uri: &str) -> Option<Location> {
        for scheme in ["s3://", "s3a://", "s3n://"] {
            if let Some(rest) = uri.strip_prefix(scheme) {
                let (bucket, key) = rest.split_once('/')?;
                return (!bucket.is_empty() && !key.is_empty()).then(|| Location::S3 {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                });
            }
        }
        // `file:///p` and Java's `file:/p` both name `/p`.
        let path = match uri.strip_prefix("file://") {
            Some(rest) => rest,
            None => uri.strip_prefix("file:").unwrap_or(uri),
        };
        (!path.contains("://") && !path.is_empty()).then(|| Location::Local(PathBuf::from(path)))
    }

    /// What DataFusion reads the file as: an absolute local path, or `s3://bucket/key`.
    pub fn url(&self) -> String {
        match self {
            Location::Local(path) => std::path::absolute(path)
                .unwrap_or_else(|_| path.clone())
                .to_string_lossy()
                .to_string(),
            Location::S3 { bucket, key } => format!("s3://{bucket}/{key}"),
        }
    }

    /// The store the file is in: `file` or `s3://bucket`.
    pub fn store(&self) -> String {
        match self {
            Location::Local(_) => "file".to_string(),
            Location::S3 { bucket, .. } => format!("s3://{bucket}"),
        }
    }
}

/// An S3 client and the secrets its errors must not show.
type Client = (Arc<dyn ObjectStore>, Arc<Vec<String>>);

/// Reads the files of a table, with one S3 client per bucket, each registered with
/// the session.
pub struct Files<'a> {
    ctx: &'a SessionContext,
    clients: Mutex<HashMap<String, Client>>,
}

impl<'a> Files<'a> {
    pub fn new(ctx: &'a SessionContext) -> Files<'a> {
        Files {
            ctx,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The client for `bucket`, made (and registered with the session) once.
    pub fn client(&self, bucket: &str) -> Result<Client, Problem> {
        let mut clients = self
            .clients
            .lock()
            .map_err(|_| Problem::Unreadable("an S3 client's lock was poisoned".to_string()))?;
        if let Some(client) = clients.get(bucket) {
            return Ok(client.clone());
        }
        let (s3, secrets) = s3_client(bucket, &[]).map_err(|e| Problem::Unreadable(e.0))?;
        let store: Arc<dyn ObjectStore> = Arc::new(s3);
        let url = ObjectStoreUrl::parse(format!("s3://{bucket}"))
            .map_err(|e| Problem::Unreadable(e.strip_backtrace()))?;
        self.ctx
            .register_object_store(url.as_ref(), Arc::clone(&store));
        let client = (store, Arc::new(secrets));
        clients.insert(bucket.to_string(), client.clone());
        Ok(client)
    }

    /// The bytes of the file at `location`.
    pub async fn read(&self, location: &Location) -> Result<Vec<u8>, Problem> {
        match location {
            Location::Local(path) => {
                std::fs::read(path).map_err(|e| Problem::Unreadable(e.to_string()))
            }
            Location::S3 { bucket, key } => {
                let (store, secrets) = self.client(bucket)?;
                let error = |e: object_store::Error| {
                    Problem::Unreadable(masked(&with_sources(&e), &secrets))
                };
                let got = store.get(&Key::from(key.as_str())).await.map_err(error)?;
                let bytes = got.bytes().await.map_err(error)?;
                Ok(bytes.to_vec())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iceberg_uris_name_local_files_and_objects() {
        let local = |p: &str| Some(Location::Local(PathBuf::from(p)));
        assert_eq!(Location::parse("file:///w/t/m.json"), local("/w/t/m.json"));
        assert_eq!(Location::parse("file:/w/t/m.json"), local("/w/t/m.json"));
        assert_eq!(Location::parse("/w/t/m.json"), local("/w/t/m.json"));
        assert_eq!(Location::parse("w/m.json"), local("w/m.json"));
        for scheme in ["s3", "s3a", "s3n"] {
            assert_eq!(
                Location::parse(&format!("{scheme}://b/w/d.parquet")),
                Some(Location::S3 {
                    bucket: "b".into(),
                    key: "w/d.parquet".into()
                })
            );
        }
        assert_eq!(Location::parse("s3://b"), None);
        assert_eq!(Location::parse("hdfs://nn/w/d.parquet"), None);
        assert_eq!(Location::parse("gs://b/k"), None);
    }
}
