//! A temporary state directory for tests, removed when dropped (here because only
//! `durable/` touches the file system).

use std::path::{Path, PathBuf};

/// A fresh folder under the system's temporary one, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("featc-state-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Puts a folder where a file `name` of the state directory goes, so that
    /// writing that file fails (even for root), until `unblock`.
    pub fn block(&self, name: &str) {
        let _ = std::fs::create_dir_all(self.0.join(name));
    }

    pub fn unblock(&self, name: &str) {
        let _ = std::fs::remove_dir_all(self.0.join(name));
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
