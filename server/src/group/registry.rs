//! Who owns which partition, for reads routed to the owner: each member writes the
//! tasks it owns and its address to the shared store (`members/<id>.json`) after
//! every rebalance and removes it when it stops; a reader lists the records. The
//! group protocol decides ownership; the registry only tells it, so no consensus of
//! featc's own is needed: where two records claim a task (one left behind by a
//! killed member), the newer one is the owner's, and a routed read that finds no
//! owner answering is refused by name (503), never answered from partial state.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use super::store::StateStore;
use super::GroupError;
use crate::wire::time::now_us;

/// What a member publishes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MemberRecord {
    pub member: String,
    /// Where its HTTP API answers (`http://host:port`).
    pub address: String,
    /// (entity, partition) of every task it owns.
    pub tasks: Vec<(String, i32)>,
    /// When it wrote this (µs since the epoch).
    pub at_us: i64,
}

const PREFIX: &str = "members/";

/// How long a read trusts the owners it listed.
const FRESH: Duration = Duration::from_secs(2);

/// The owner's address of each (entity, partition).
type Owners = HashMap<(String, i32), String>;

/// The registry seen from one member.
pub struct Registry {
    store: StateStore,
    member: String,
    address: String,
    owners: RwLock<Option<(Instant, Owners)>>,
}

impl Registry {
    pub fn new(store: StateStore, member: String, address: String) -> Registry {
        Registry {
            store,
            member,
            address,
            owners: RwLock::new(None),
        }
    }

    pub fn member(&self) -> &str {
        &self.member
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    fn key(&self) -> String {
        format!("{PREFIX}{}.json", self.member)
    }

    /// Says that this member now owns exactly `tasks`.
    pub fn publish(&self, tasks: &[(String, i32)]) -> Result<(), GroupError> {
        let record = MemberRecord {
            member: self.member.clone(),
            address: self.address.clone(),
            tasks: tasks.to_vec(),
            at_us: now_us(),
        };
        let bytes = serde_json::to_vec(&record).unwrap_or_default();
        self.store
            .put(&self.key(), &bytes)
            .map_err(GroupError::Store)?;
        self.forget();
        Ok(())
    }

    /// Removes this member's record (it stopped).
    pub fn withdraw(&self) -> Result<(), GroupError> {
        self.store.delete(&self.key()).map_err(GroupError::Store)
    }

    /// Drops the listed owners: the next lookup lists them again.
    pub fn forget(&self) {
        *self.owners.write().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The address of the owner of `entity`'s `partition`, as last listed (listed
    /// again when older than `FRESH`).
    pub fn owner(&self, entity: &str, partition: i32) -> Result<Option<String>, GroupError> {
        {
            let owners = self.owners.read().unwrap_or_else(|p| p.into_inner());
            if let Some((at, map)) = owners.as_ref() {
                if at.elapsed() < FRESH {
                    return Ok(map.get(&(entity.to_string(), partition)).cloned());
                }
            }
        }
        let map = self.list()?;
        let found = map.get(&(entity.to_string(), partition)).cloned();
        *self.owners.write().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), map));
        Ok(found)
    }

    /// Every member's record, as stored now.
    pub fn members(&self) -> Result<Vec<MemberRecord>, GroupError> {
        let mut out = Vec::new();
        for key in self.store.list(PREFIX).map_err(GroupError::Store)? {
            // A record being replaced or unreadable is skipped: the next listing sees it.
            if let Some(bytes) = self.store.get(&key).map_err(GroupError::Store)? {
                if let Ok(record) = serde_json::from_slice::<MemberRecord>(&bytes) {
                    out.push(record);
                }
            }
        }
        Ok(out)
    }

    /// The newest claim of every task.
    fn list(&self) -> Result<Owners, GroupError> {
        let mut newest: HashMap<(String, i32), (i64, String)> = HashMap::new();
        for record in self.members()? {
            for task in &record.tasks {
                let slot = newest
                    .entry(task.clone())
                    .or_insert((i64::MIN, String::new()));
                if record.at_us > slot.0 {
                    *slot = (record.at_us, record.address.clone());
                }
            }
        }
        Ok(newest.into_iter().map(|(k, (_, a))| (k, a)).collect())
    }
}
