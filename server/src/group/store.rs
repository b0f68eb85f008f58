//! PLACEHOLDER until the object_store version lands: a directory-only state store.
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub enum StoreError {
    Url {
        url: String,
        reason: String,
    },
    Object {
        key: String,
        what: &'static str,
        reason: String,
    },
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Url { url, reason } => write!(f, "--state-store `{url}`: {reason}"),
            StoreError::Object { key, what, reason } => {
                write!(f, "state store: {what} `{key}`: {reason}")
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct StateStore {
    url: String,
    root: PathBuf,
}

impl StateStore {
    pub fn open(url: &str) -> Result<StateStore, StoreError> {
        let root = PathBuf::from(url.strip_prefix("file://").unwrap_or(url));
        std::fs::create_dir_all(&root).map_err(|e| StoreError::Url {
            url: url.into(),
            reason: e.to_string(),
        })?;
        Ok(StateStore {
            url: url.into(),
            root,
        })
    }
    pub fn url(&self) -> &str {
        &self.url
    }
    pub fn put(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.root.join(key);
        let err = |e: std::io::Error| StoreError::Object {
            key: key.into(),
            what: "cannot write",
            reason: e.to_string(),
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        let temp = path.with_extension("tmp-put");
        std::fs::write(&temp, bytes).map_err(err)?;
        std::fs::rename(&temp, &path).map_err(err)
    }
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match std::fs::read(self.root.join(key)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Object {
                key: key.into(),
                what: "cannot read",
                reason: e.to_string(),
            }),
        }
    }
    pub fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let dir = self.root.join(prefix);
        let mut out = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !name.ends_with(".tmp-put") {
                    out.push(format!("{prefix}{name}"));
                }
            }
        }
        out.sort();
        Ok(out)
    }
    pub fn delete(&self, key: &str) -> Result<(), StoreError> {
        match std::fs::remove_file(self.root.join(key)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Object {
                key: key.into(),
                what: "cannot delete",
                reason: e.to_string(),
            }),
            _ => Ok(()),
        }
    }
}
