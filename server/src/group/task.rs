//! A task: the state of one partition of one entity's keys, the unit that moves
//! between instances. Opened from its last checkpoint in the shared store (or empty),
//! in a local state directory of its own (the same `state::open`, ledger and writer as
//! a single server's state), fed by its internal partition (`kafka::forwarded`), and
//! answering reads of its keys through an `App` of its own. Its checkpoint (state and
//! positions, one file written atomically) is copied to the store whenever the
//! writer made a new one, and once more when the task closes; a new owner loads it
//! and reads on from its positions, so nothing is lost or counted twice.

use std::path::{Path, PathBuf};

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use featc_runtime::stream::StreamGraph;

use super::store::StateStore;
use super::GroupError;
use crate::api::{App, Limits, Phase};
use crate::config::ServeConfig;
use crate::durable::checkpoint::{self, CheckpointStamp};
use crate::kafka::{Consuming, KafkaConfig, KafkaProgress, TopicBinding};
use crate::redis::{RedisTarget, SinkCounters, Sinking};
use crate::state::{self, PushCheck, Replay};
use crate::writer::Writer;

/// What every task of one entity shares.
#[derive(Clone)]
pub struct TaskSpec {
    pub entity: String,
    pub graph: StreamGraph,
    /// The entity's internal topic.
    pub topic: String,
    pub serve: ServeConfig,
    /// The consumer settings (brokers, rounds, idle timeout) of the group.
    pub kafka: KafkaConfig,
    /// The Redis (or Redis Cluster) each task keeps its entities' hashes current in.
    pub sink: Option<RedisTarget>,
}

/// An open task.
pub struct Task {
    pub entity: String,
    pub partition: i32,
    pub app: Arc<App>,
    consuming: Mutex<Option<Consuming>>,
    sinking: Mutex<Option<Sinking>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    dir: PathBuf,
    /// The checkpoint last copied to the store (its bytes' length and modification
    /// time), so an unchanged one is not copied again.
    uploaded: Mutex<Option<CheckpointStamp>>,
    /// The internal partition's end (next offset) as last fetched, for the lag.
    pub end: std::sync::atomic::AtomicI64,
    /// Its internal topic.
    pub topic: String,
}

/// The key of a task's checkpoint in the store.
pub fn checkpoint_key(entity: &str, partition: i32) -> String {
    format!("tasks/{entity}/{partition}/checkpoint.bin")
}

impl Task {
    /// Opens `partition` of `spec.entity` under `local` from the store's checkpoint.
    pub fn open(
        spec: &TaskSpec,
        partition: i32,
        store: &StateStore,
        local: &Path,
    ) -> Result<Task, GroupError> {
        let dir = local
            .join("tasks")
            .join(&spec.entity)
            .join(partition.to_string());
        // A directory left by an earlier owner here is stale: the store's checkpoint
        // is the partition's state.
        let key = checkpoint_key(&spec.entity, partition);
        let copied = store.get(&key).map_err(GroupError::Store)?;
        checkpoint::fresh_dir_with(&dir, copied.as_deref())
            .map_err(|e| GroupError::State(e.to_string()))?;
        let mut config = spec.serve.state_config();
        // The whole state is in the checkpoint, so that it can move.
        config.memory_limit = None;
        let (state, mut ledger, _found) =
            state::open(spec.graph.clone(), config, Some(&dir), Replay::SERVER)
                .map_err(|e| GroupError::State(e.to_string()))?;
        let check = PushCheck::new(
            state.graph(),
            spec.serve.runtime_options(),
            Arc::clone(state.names()),
            spec.serve.max_future_us,
        )
        .map(Arc::new)
        .map_err(|e| GroupError::State(e.to_string()))?;
        let progress = KafkaProgress::from_saved(ledger.saved_position(crate::kafka::KIND))
            .map(Arc::new)
            .map_err(|e| GroupError::State(format!("the checkpoint's Kafka positions: {e}")))?;
        ledger.register(
            crate::kafka::KIND,
            Arc::clone(&progress) as Arc<dyn state::Position>,
        );
        let state = Arc::new(state);
        let (writer, thread) =
            Writer::spawn(Arc::clone(&state), ledger).map_err(|e| GroupError::Local {
                what: "cannot start a task's writer".into(),
                message: e.to_string(),
            })?;
        let mut kafka = spec.kafka.clone();
        kafka.topics = vec![TopicBinding {
            source: String::new(),
            topic: spec.topic.clone(),
            // Forwarded records are the sources' own, and group mode's are JSON.
            format: featc_runtime::ir::TopicFormat::Json,
        }];
        kafka.forwarded = Some(partition);
        kafka.group = format!("{}.tasks", spec.kafka.group);
        let app = Arc::new(App::new(
            state,
            Arc::clone(&check),
            writer.clone(),
            Limits::of(&spec.serve),
            Arc::clone(&progress),
            Arc::new(SinkCounters::default()),
        ));
        app.set_phase(Phase::Ready);
        // The sink first writes every entity the restored state holds, then each
        // again as its values change.
        let sinking = match &spec.sink {
            Some(target) => {
                let sinking = Sinking::start(
                    Arc::clone(&app.state),
                    target.clone(),
                    Arc::clone(&app.redis),
                )
                .map_err(|e| GroupError::Local {
                    what: "cannot start a task's Redis sink".into(),
                    message: e.to_string(),
                })?;
                writer
                    .watch(Box::new(sinking.handle()))
                    .map_err(|e| GroupError::State(e.to_string()))?;
                sinking.begin();
                Some(sinking)
            }
            None => None,
        };
        let consuming =
            Consuming::start(writer, check, progress, kafka).map_err(|e| GroupError::Local {
                what: "cannot start a task's consumer".into(),
                message: e.to_string(),
            })?;
        Ok(Task {
            entity: spec.entity.clone(),
            partition,
            app,
            consuming: Mutex::new(Some(consuming)),
            sinking: Mutex::new(sinking),
            writer: Mutex::new(Some(thread)),
            dir,
            uploaded: Mutex::new(None),
            end: std::sync::atomic::AtomicI64::new(-1),
            topic: spec.topic.clone(),
        })
    }

    /// Records applied and dead-lettered over the partition's life.
    pub fn records(&self) -> (u64, u64) {
        let c = &self.app.kafka.counters;
        (
            c.records.load(Ordering::Relaxed),
            c.dead.load(Ordering::Relaxed),
        )
    }

    /// Holes the broker served in its internal partition since it opened here: met
    /// (each read again), and skipped after every read (`kafka::forwarded`).
    pub fn holes(&self) -> (u64, u64) {
        let c = &self.app.kafka.counters;
        (
            c.holes.load(Ordering::Relaxed),
            c.holes_skipped.load(Ordering::Relaxed),
        )
    }

    /// The next offset of each topic partition the task has read.
    pub fn positions(&self) -> Vec<((String, i32), i64)> {
        self.app.kafka.positions().into_iter().collect()
    }

    /// Records of its internal partition not yet applied (`None` before the
    /// partition's end was fetched).
    pub fn lag(&self) -> Option<i64> {
        let end = self.end.load(Ordering::Relaxed);
        let at = self
            .app
            .kafka
            .positions()
            .get(&(self.topic.clone(), self.partition))
            .copied()
            .unwrap_or(0);
        (end >= 0).then(|| (end - at).max(0))
    }

    /// Copies the task's checkpoint to the store if the writer made a new one since
    /// the last copy; says whether it did.
    pub fn upload(&self, store: &StateStore) -> Result<bool, GroupError> {
        let mut uploaded = self.uploaded.lock().unwrap_or_else(|p| p.into_inner());
        let stamp = checkpoint::stamp(&self.dir);
        if stamp.is_none() || stamp == *uploaded {
            return Ok(false);
        }
        let Some((bytes, stamp)) =
            checkpoint::file_bytes(&self.dir).map_err(|e| GroupError::State(e.to_string()))?
        else {
            return Ok(false);
        };
        store
            .put(&checkpoint_key(&self.entity, self.partition), &bytes)
            .map_err(GroupError::Store)?;
        *uploaded = Some(stamp);
        Ok(true)
    }

    /// Stops reading, checkpoints, copies the checkpoint to the store and removes the
    /// local directory: the partition can open elsewhere.
    pub fn close(&self, store: &StateStore) -> Result<(), GroupError> {
        self.app.set_phase(Phase::ShuttingDown);
        let consuming = crate::slot::take(&self.consuming);
        if let Some(c) = consuming {
            c.stop();
        }
        let stopped = futures::executor::block_on(self.app.writer.stop());
        if let Some(t) = crate::slot::take(&self.writer) {
            let _ = t.join();
        }
        // After the writer: the hashes end equal to the final state.
        let sinking = crate::slot::take(&self.sinking);
        if let Some(s) = sinking {
            s.stop();
        }
        stopped.map_err(|e| GroupError::State(e.to_string()))?;
        self.upload(store)?;
        checkpoint::remove_dir(&self.dir).map_err(|e| GroupError::State(e.to_string()))
    }
}
