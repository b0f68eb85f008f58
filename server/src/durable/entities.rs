//! The disk tier's store: the runtime's entity states (`featc_runtime::stream::Tier`)
//! in a fjall database of their own in the state directory (`entities/`), apart from
//! the log, so that the log's fsyncs never wait for state writes.
//!
//! Writes go to fjall's journal unsynced; `persist` (a checkpoint's) syncs them. The
//! runtime relies on what `StateStore` states: a key never goes back before its state
//! at the last persist, which fjall's journal recovery (a prefix of the writes)
//! gives.

use std::path::Path;

use featc_runtime::stream::{StateStore, StoreError};
use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use super::DurableError;

/// fjall's block cache for the entity store: the runtime keeps decoded states in its
/// own cache (`--memory-limit`); this one only saves a read of recently written or
/// read blocks.
const BLOCK_CACHE_BYTES: u64 = 64 << 20;

/// The entity states of one state directory.
pub struct EntityStore {
    db: Database,
    states: Keyspace,
}

fn failed(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError(format!("{what}: {e}"))
}

impl EntityStore {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<EntityStore, DurableError> {
        let storage = |what: &str, e: fjall::Error| DurableError::Storage(format!("{what}: {e}"));
        let db = Database::builder(dir)
            .cache_size(BLOCK_CACHE_BYTES)
            .open()
            .map_err(|e| {
                storage(
                    &format!("cannot open the entity store in `{}`", dir.display()),
                    e,
                )
            })?;
        let states = db
            .keyspace("states", KeyspaceCreateOptions::default)
            .map_err(|e| storage("cannot open the entity store's states", e))?;
        Ok(EntityStore { db, states })
    }

    /// Bytes the store takes on disk.
    pub fn disk_bytes(&self) -> u64 {
        self.states.disk_space()
    }

    /// About how many entities it holds (fjall's estimate).
    pub fn approximate_len(&self) -> u64 {
        self.states.approximate_len() as u64
    }
}

impl StateStore for EntityStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.states
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| failed("cannot read an entity", e))
    }

    fn write(&self, batch: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<(), StoreError> {
        let mut b = self.db.batch();
        for (k, v) in batch {
            match v {
                Some(v) => b.insert(&self.states, k, v),
                None => b.remove(&self.states, k),
            }
        }
        b.commit().map_err(|e| failed("cannot write entities", e))
    }

    fn scan(
        &self,
        prefix: &[u8],
        each: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        for guard in self.states.prefix(prefix) {
            let (k, v) = guard
                .into_inner()
                .map_err(|e| failed("cannot list entities", e))?;
            if !each(&k, &v) {
                break;
            }
        }
        Ok(())
    }

    fn persist(&self) -> Result<(), StoreError> {
        self.db
            .persist(PersistMode::SyncAll)
            .map_err(|e| failed("cannot sync the entity store to disk", e))
    }
}
