//! Where entity states go when the cache lets them go: the `StateStore` an embedder
//! gives (the server's is fjall, in its state directory), and `Tier`, a store with
//! the byte budget of the cache in front of it.
//!
//! The runtime names no storage engine: a store is a byte map. What the runtime puts
//! in it (keys and records) is `record`'s business.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// A failure of the store (its own message: I/O, corruption).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A byte map that holds entity states for a runtime.
///
/// Invariants the runtime relies on: `get` returns the bytes of the last `write` of
/// that key (or `None` after a delete, or if never written); each `write` is atomic
/// (after a crash all of its keys have their new bytes or none do: an entity's record
/// and its expiry index entry never part); after `persist` returns, everything
/// written before it survives a crash, and what was written after it survives as a
/// prefix of those writes (so a key never goes back before its state at the last
/// `persist`). Every method may be called from several threads at once.
pub trait StateStore: Send + Sync {
    /// The bytes last written under `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Writes (`Some`) or deletes (`None`) each key, in order.
    fn write(&self, batch: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<(), StoreError>;
    /// Calls `each` with every key starting with `prefix`, and its bytes, in key order,
    /// until it returns false.
    fn scan(
        &self,
        prefix: &[u8],
        each: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError>;
    /// Makes every write so far survive a crash.
    fn persist(&self) -> Result<(), StoreError>;
}

/// A disk tier for a runtime's entity states: where they go, and how many bytes of
/// decoded states the cache in front of it may count (`KeyState::approx_bytes`).
#[derive(Clone)]
pub struct Tier {
    pub store: Arc<dyn StateStore>,
    pub cache_bytes: usize,
}

/// The same tier: the same store (not equal contents) and budget.
impl PartialEq for Tier {
    fn eq(&self, other: &Tier) -> bool {
        Arc::ptr_eq(&self.store, &other.store) && self.cache_bytes == other.cache_bytes
    }
}

impl Eq for Tier {}

impl fmt::Debug for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tier")
            .field("cache_bytes", &self.cache_bytes)
            .finish_non_exhaustive()
    }
}

/// A `StateStore` in memory (a sorted map): for tests, and for an embedder who wants
/// the cache's accounting without a disk. `persist` does nothing (nothing survives a
/// crash anyway).
#[derive(Debug, Default)]
pub struct MemoryStore {
    map: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemoryStore {
    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        // Every change is one map operation: a holder that panicked left it whole.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The number of keys held.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl StateStore for MemoryStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.map().get(key).cloned())
    }

    fn write(&self, batch: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<(), StoreError> {
        let mut map = self.map();
        for (k, v) in batch {
            match v {
                Some(v) => map.insert(k, v),
                None => map.remove(&k),
            };
        }
        Ok(())
    }

    fn scan(
        &self,
        prefix: &[u8],
        each: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        let map = self.map();
        for (k, v) in map.range(prefix.to_vec()..) {
            if !k.starts_with(prefix) || !each(k, v) {
                break;
            }
        }
        Ok(())
    }

    fn persist(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
