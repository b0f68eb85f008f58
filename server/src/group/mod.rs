//! Group mode (`featc serve --kafka B --kafka-group G --state-store URL`): any number
//! of instances share the work through Kafka's consumer group, as Kafka Streams does
//! (docs/scale-out.md).
//!
//! - `forward`: every source record is produced again to the internal topic of each
//!   entity whose views read it, keyed and partitioned by that entity's key
//!   (`kafka::key`), named after project, group and entity (`topics`);
//! - `task`: one partition of one entity's keys, a state of its own fed by its
//!   internal partition, checkpointed to the shared store (`store`);
//! - `member`: the group's consumer: the assignment Kafka's group protocol hands it
//!   decides which source partitions it forwards and which tasks it runs; on a
//!   revocation a task checkpoints and copies its checkpoint to the store before the
//!   partition moves, on an assignment it opens from there;
//! - `registry`: who owns which task, in the store, for reads routed to the owner
//!   (`api::route`, which this module's `Group` serves as `Routing`).

pub mod forward;
pub mod member;
pub mod registry;
pub mod routing;
pub mod store;
pub mod task;
pub mod topics;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::api::App;
use crate::kafka::KafkaConfig;
pub use member::Member;
pub use registry::Registry;
pub use store::{StateStore, StoreError};
pub use task::{Task, TaskSpec};

/// Why group mode could not start or go on.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupError {
    Kafka {
        what: String,
        message: String,
    },
    /// An internal topic exists with another partition count than the group's.
    Partitions {
        topic: String,
        found: i32,
        expected: i32,
    },
    Store(StoreError),
    /// A task's state could not be opened or closed.
    State(String),
    /// The local directory failed.
    Local {
        what: String,
        message: String,
    },
}

impl GroupError {
    pub fn kafka(what: &str, e: impl std::fmt::Display) -> GroupError {
        GroupError::Kafka {
            what: what.to_string(),
            message: e.to_string(),
        }
    }
}

impl std::fmt::Display for GroupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroupError::Kafka { what, message } => write!(f, "kafka: {what}: {message}"),
            GroupError::Partitions {
                topic,
                found,
                expected,
            } => write!(
                f,
                "the internal topic `{topic}` has {found} partitions, and the group's state is \
                 split {expected} ways (--kafka-partitions): start with --kafka-partitions \
                 {found}, or use a new --kafka-group"
            ),
            GroupError::Store(e) => write!(f, "{e}"),
            GroupError::State(m) => write!(f, "a task's state: {m}"),
            GroupError::Local { what, message } => write!(f, "{what}: {message}"),
        }
    }
}

impl std::error::Error for GroupError {}

/// One entity's share of the project in group mode.
#[derive(Clone)]
pub struct EntitySpec {
    pub task: TaskSpec,
    /// Per source the entity's views read: the source's key columns.
    pub routes: Vec<(String, Vec<String>)>,
}

/// How an instance joins the group.
#[derive(Clone)]
pub struct GroupSpec {
    pub entities: Vec<EntitySpec>,
    /// Partitions of every internal topic: the number of tasks per entity.
    pub partitions: i32,
    /// The sources' topics and consumer settings (group, brokers, start).
    pub kafka: KafkaConfig,
    pub store: StateStore,
    /// Where this instance keeps its tasks' directories.
    pub local: PathBuf,
    /// How other instances reach this one's HTTP API.
    pub address: String,
}

/// Counters of the group for `/metrics`.
#[derive(Debug, Default)]
pub struct GroupCounters {
    pub rebalances: AtomicU64,
    pub tasks_opened: AtomicU64,
    pub tasks_closed: AtomicU64,
    /// The last time to open a task (download and recovery), µs.
    pub open_us_last: AtomicU64,
    /// The last time to close a task (checkpoint and upload), µs.
    pub close_us_last: AtomicU64,
    pub routed_reads: AtomicU64,
    pub routed_failures: AtomicU64,
    pub forwarded: AtomicU64,
    pub uploads: AtomicU64,
    pub errors: AtomicU64,
}

/// The running group membership of one instance, shared with the HTTP API.
pub struct Group {
    pub spec: GroupSpec,
    pub registry: Registry,
    /// Open tasks by (entity index, partition).
    tasks: RwLock<HashMap<(usize, i32), Arc<Task>>>,
    pub counters: GroupCounters,
    /// The partitions of the sources' topics this member forwards, with their
    /// committed next offsets.
    pub sources: RwLock<BTreeMap<(String, i32), i64>>,
}

impl Group {
    pub fn new(spec: GroupSpec, member: String) -> Group {
        let registry = Registry::new(spec.store.clone(), member, spec.address.clone());
        Group {
            spec,
            registry,
            tasks: RwLock::new(HashMap::new()),
            counters: GroupCounters::default(),
            sources: RwLock::new(BTreeMap::new()),
        }
    }

    /// The index of entity `name`.
    pub fn entity_index(&self, name: &str) -> Option<usize> {
        self.spec
            .entities
            .iter()
            .position(|e| e.task.entity == name)
    }

    /// The open task of `entity`'s `partition`.
    pub fn task(&self, entity: usize, partition: i32) -> Option<Arc<Task>> {
        self.tasks
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(entity, partition))
            .cloned()
    }

    /// The app answering reads of `entity`'s `partition` here, if it is open.
    pub fn local_app(&self, entity: usize, partition: i32) -> Option<Arc<App>> {
        self.task(entity, partition).map(|t| Arc::clone(&t.app))
    }

    /// Every open task.
    pub fn tasks(&self) -> Vec<Arc<Task>> {
        let mut all: Vec<Arc<Task>> = self
            .tasks
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| (&a.entity, a.partition).cmp(&(&b.entity, b.partition)));
        all
    }

    fn insert(&self, entity: usize, task: Task) {
        self.tasks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert((entity, task.partition), Arc::new(task));
    }

    /// Removes an open task (before closing it).
    pub fn remove_task(&self, task: &Task) {
        if let Some(e) = self.entity_index(&task.entity) {
            self.remove(e, task.partition);
        }
    }

    fn remove(&self, entity: usize, partition: i32) -> Option<Arc<Task>> {
        self.tasks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(entity, partition))
    }

    /// Publishes the tasks open now in the registry.
    fn publish(&self) {
        let owned: Vec<(String, i32)> = self
            .tasks()
            .iter()
            .map(|t| (t.entity.clone(), t.partition))
            .collect();
        if let Err(e) = self.registry.publish(&owned) {
            self.counters.errors.fetch_add(1, Ordering::Relaxed);
            eprintln!("featc serve: group: cannot publish the owned partitions: {e}");
        }
    }

    /// Copies every task's new checkpoint to the store.
    pub fn upload_all(&self) {
        for task in self.tasks() {
            match task.upload(&self.spec.store) {
                Ok(true) => {
                    self.counters.uploads.fetch_add(1, Ordering::Relaxed);
                }
                Ok(false) => {}
                Err(e) => {
                    self.counters.errors.fetch_add(1, Ordering::Relaxed);
                    eprintln!("featc serve: group: {e}");
                }
            }
        }
    }
}
