//! What an online store that mirrors the runtime needs to stay current without
//! re-reading every entity: the keys an entity has, and when an entity's values next
//! change with no new event (a window edge, a ttl running out, a future event coming
//! into range). Both on the runtime and on its readers.

use super::core::StreamReader;
use super::error::StreamError;
use super::runtime::StreamRuntime;
use crate::value::Value;

impl StreamRuntime {
    /// Every key of `entity` that some event gave (across the groups that key on it),
    /// each once, in a deterministic order: group order, then the order entities were
    /// first seen. With a disk tier, the store is listed too (a failing store fails).
    pub fn entity_keys(&self, entity: &str) -> Result<Vec<Vec<Value>>, StreamError> {
        self.core.entity_keys(entity)
    }

    /// The earliest time after `t` at which a read of `entity`'s features for `key`
    /// may differ from the read at `t` when no event is ingested meanwhile; `None`
    /// when none will (only lifetime features, or nothing in any window). Never later
    /// than the first change (see `KeyState::next_change_after`): re-reading at the
    /// times it gives keeps a copy of the values exact.
    pub fn next_change(
        &self,
        entity: &str,
        key: &[Value],
        t: i64,
    ) -> Result<Option<i64>, StreamError> {
        self.core.next_change(entity, key, t)
    }
}

impl StreamReader {
    /// `StreamRuntime::entity_keys`.
    pub fn entity_keys(&self, entity: &str) -> Result<Vec<Vec<Value>>, StreamError> {
        self.core.entity_keys(entity)
    }

    /// `StreamRuntime::next_change`.
    pub fn next_change(
        &self,
        entity: &str,
        key: &[Value],
        t: i64,
    ) -> Result<Option<i64>, StreamError> {
        self.core.next_change(entity, key, t)
    }
}
