//! The member: this instance's consumer in the group. Kafka's group protocol
//! (cooperative-sticky where the broker has it) assigns it partitions of the
//! sources' topics, which it forwards (`forward`), and partitions of the internal
//! topics, which are its tasks (`task`): on an assignment it opens them from the
//! store and pauses them here (each task reads its own partition), on a revocation it
//! closes them (checkpoint, copy to the store) before the partition is handed on.
//! The rebalance callbacks run inside `poll`, between rounds of forwarding, so no
//! round is half forwarded when a partition leaves. Partitions added to a source
//! topic are seen at the next metadata refresh (a few seconds) and assigned by a
//! rebalance, without a restart.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::kafka::consumer::client_config;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::Message;
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use super::forward::Forwarder;
use super::task::Task;
use super::{Group, GroupError};

/// The rebalance callbacks' view of the group.
struct MemberContext {
    group: Arc<Group>,
}

impl ClientContext for MemberContext {}

/// (entity index, partition) of the internal partitions in `tpl`.
fn tasks_in(group: &Group, tpl: &TopicPartitionList) -> Vec<(usize, i32)> {
    tpl.elements()
        .iter()
        .filter_map(|e| {
            group
                .spec
                .entities
                .iter()
                .position(|s| s.task.topic == e.topic())
                .map(|i| (i, e.partition()))
        })
        .collect()
}

impl ConsumerContext for MemberContext {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let group = &self.group;
        group.counters.rebalances.fetch_add(1, Ordering::Relaxed);
        let Rebalance::Revoke(tpl) = rebalance else {
            return;
        };
        {
            let mut sources = group.sources.write().unwrap_or_else(|p| p.into_inner());
            for e in tpl.elements() {
                sources.remove(&(e.topic().to_string(), e.partition()));
            }
        }
        for (entity, partition) in tasks_in(group, tpl) {
            let Some(task) = group.remove(entity, partition) else {
                continue;
            };
            close(group, &task);
        }
        group.publish();
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let group = &self.group;
        let Rebalance::Assign(tpl) = rebalance else {
            return;
        };
        let mut internal = TopicPartitionList::new();
        {
            let mut sources = group.sources.write().unwrap_or_else(|p| p.into_inner());
            for e in tpl.elements() {
                let is_internal = group
                    .spec
                    .entities
                    .iter()
                    .any(|s| s.task.topic == e.topic());
                if is_internal {
                    internal.add_partition(e.topic(), e.partition());
                } else {
                    sources.insert((e.topic().to_string(), e.partition()), -1);
                }
            }
        }
        // The tasks read their partitions themselves.
        if internal.count() > 0 {
            if let Err(e) = consumer.pause(&internal) {
                eprintln!("featc serve: group: cannot pause the internal partitions: {e}");
            }
        }
        for (entity, partition) in tasks_in(group, tpl) {
            if group.task(entity, partition).is_some() {
                continue;
            }
            let spec = &group.spec.entities[entity].task;
            let started = Instant::now();
            match Task::open(spec, partition, &group.spec.store, &group.spec.local) {
                Ok(task) => {
                    let c = &group.counters;
                    handed_over(&c.tasks_opened, &c.open_us_last, started);
                    group.insert(entity, task);
                }
                Err(e) => {
                    // The partition stays unserved here; it is refused by name (503)
                    // until a rebalance gives it to a member that can open it.
                    group.counters.errors.fetch_add(1, Ordering::Relaxed);
                    eprintln!(
                        "featc serve: group: cannot open partition {partition} of `{}`: {e}",
                        spec.entity
                    );
                }
            }
        }
        group.publish();
    }
}

/// Counts a task opened or closed since `started`, and how long it took.
fn handed_over(count: &AtomicU64, last_us: &AtomicU64, started: Instant) {
    count.fetch_add(1, Ordering::Relaxed);
    last_us.store(started.elapsed().as_micros() as u64, Ordering::Relaxed);
}

/// Closes a task (checkpoint, copy to the store), counting it.
fn close(group: &Group, task: &Task) {
    let started = Instant::now();
    match task.close(&group.spec.store) {
        Ok(()) => {
            let c = &group.counters;
            handed_over(&c.tasks_closed, &c.close_us_last, started);
        }
        Err(e) => {
            // Its last copied checkpoint stays in the store; the new owner reads on
            // from its positions, so nothing is lost, only read again.
            group.counters.errors.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "featc serve: group: closing partition {} of `{}`: {e}",
                task.partition, task.entity
            );
        }
    }
}

/// A running member.
pub struct Member {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Member {
    /// Joins the group and runs until `stop`.
    pub fn start(group: Arc<Group>, forwarder: Forwarder) -> Result<Member, GroupError> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("featc-member".into())
            .spawn(move || {
                while let Err(e) = run(&group, &forwarder, &flag) {
                    group.counters.errors.fetch_add(1, Ordering::Relaxed);
                    eprintln!("featc serve: group: {e}; joining again in 1 s");
                    std::thread::sleep(Duration::from_secs(1));
                    if flag.load(Ordering::Acquire) {
                        break;
                    }
                }
                for task in group.tasks() {
                    group.remove_task(&task);
                    close(&group, &task);
                }
                if let Err(e) = group.registry.withdraw() {
                    eprintln!("featc serve: group: {e}");
                }
            })
            .map_err(|e| GroupError::Local {
                what: "cannot start the group's thread".into(),
                message: e.to_string(),
            })?;
        Ok(Member {
            stop,
            thread: Some(thread),
        })
    }

    /// Leaves the group: every task is closed and copied to the store first.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Consumes until `stop` (then leaves the group) or a failure.
fn run(group: &Arc<Group>, forwarder: &Forwarder, stop: &AtomicBool) -> Result<(), GroupError> {
    let config = &group.spec.kafka;
    // Two groups, balanced apart: the sources' partitions (forwarding) under the
    // group's name, the internal ones (tasks, the state) under `NAME.partitions`. In
    // one group, the sticky assignor balances the count of partitions of all topics,
    // so a member joining two others took only source partitions and no state.
    let sources = consumer(group, &config.group)?;
    let partitions = consumer(group, &tasks_group(&config.group))?;
    let source_topics: Vec<&str> = forwarder.topics().collect();
    let internal: Vec<&str> = group
        .spec
        .entities
        .iter()
        .map(|e| e.task.topic.as_str())
        .collect();
    sources
        .subscribe(&source_topics)
        .map_err(|e| GroupError::kafka("cannot subscribe to the sources' topics", e))?;
    partitions
        .subscribe(&internal)
        .map_err(|e| GroupError::kafka("cannot subscribe to the internal topics", e))?;
    let mut last_upload = Instant::now();
    while !stop.load(Ordering::Acquire) {
        // Serves the task group's callbacks (its partitions are paused: each task
        // reads its own).
        let _ = partitions.poll(Duration::ZERO);
        let round = forward_round(group, &sources, forwarder)?;
        if round > 0 {
            group.counters.forwarded.fetch_add(round, Ordering::Relaxed);
        }
        if last_upload.elapsed() >= Duration::from_secs(1) {
            group.upload_all();
            // Each owned partition's end, for its lag on /metrics.
            for task in group.tasks() {
                if let Ok((_, high)) =
                    partitions.fetch_watermarks(&task.topic, task.partition, Duration::from_secs(1))
                {
                    task.end.store(high, Ordering::Relaxed);
                }
            }
            last_upload = Instant::now();
        }
    }
    // Leaving: the revocation closes every task (checkpoint, copy) before the
    // partitions move on.
    sources.unsubscribe();
    partitions.unsubscribe();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !group.tasks().is_empty() && Instant::now() < deadline {
        let _ = partitions.poll(Duration::from_millis(100));
        let _ = sources.poll(Duration::ZERO);
    }
    Ok(())
}

/// The consumer group whose assignment decides the tasks of group `name`.
pub fn tasks_group(name: &str) -> String {
    format!("{name}.partitions")
}

/// A consumer in consumer group `id`, with the member's rebalance callbacks.
fn consumer(group: &Arc<Group>, id: &str) -> Result<BaseConsumer<MemberContext>, GroupError> {
    let config = &group.spec.kafka;
    // The single server's fetch settings and bounds (`kafka::consumer`): without
    // them a member slower than the broker idles librdkafka's 1 s queue backoff.
    let mut client = client_config(&config.brokers, id);
    // librdkafka's own debug contexts (e.g. `cgrp` for the group protocol) on stderr,
    // to diagnose rebalancing (docs/scale-out.md).
    if let Ok(contexts) = std::env::var("FEATC_KAFKA_DEBUG") {
        client.set("debug", contexts);
    }
    client
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "1000")
        .set("topic.metadata.refresh.interval.ms", "2000")
        .set(
            "auto.offset.reset",
            if config.from_end {
                "latest"
            } else {
                "earliest"
            },
        )
        .create_with_context(MemberContext {
            group: Arc::clone(group),
        })
        .map_err(|e| GroupError::kafka("cannot create a consumer of the group", e))
}

/// Forwards one round of source records and commits past them once every copy is
/// acknowledged; returns how many records it forwarded.
fn forward_round(
    group: &Group,
    consumer: &BaseConsumer<MemberContext>,
    forwarder: &Forwarder,
) -> Result<u64, GroupError> {
    let config = &group.spec.kafka;
    let started = Instant::now();
    let mut first: BTreeMap<(String, i32), i64> = BTreeMap::new();
    let mut next: BTreeMap<(String, i32), i64> = BTreeMap::new();
    let mut count = 0u64;
    while (count as usize) < config.max_records {
        let left = config.max_wait.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        let message = match consumer.poll(left) {
            None => break,
            Some(Err(e)) => {
                eprintln!("featc serve: group: kafka: {e}");
                break;
            }
            Some(Ok(m)) => m,
        };
        if group
            .spec
            .entities
            .iter()
            .any(|e| e.task.topic == message.topic())
        {
            // An internal record fetched before its partition was paused.
            continue;
        }
        let at = (message.topic().to_string(), message.partition());
        first.entry(at.clone()).or_insert(message.offset());
        next.insert(at, message.offset() + 1);
        forwarder.forward(&message)?;
        count += 1;
    }
    if next.is_empty() {
        return Ok(0);
    }
    if let Err(e) = forwarder.flush() {
        // Read again from the round's start: the tasks drop what arrives twice.
        for ((topic, partition), offset) in &first {
            let _ = consumer.seek(
                topic,
                *partition,
                Offset::Offset(*offset),
                Duration::from_secs(5),
            );
        }
        return Err(e);
    }
    let mut commit = TopicPartitionList::new();
    for ((topic, partition), offset) in &next {
        let _ = commit.add_partition_offset(topic, *partition, Offset::Offset(*offset));
    }
    // A partition revoked meanwhile is refused here; its new owner forwards from the
    // last committed offset, and the copies are dropped by the tasks.
    let _ = consumer.commit(&commit, CommitMode::Sync);
    {
        let mut sources = group.sources.write().unwrap_or_else(|p| p.into_inner());
        for (k, v) in next {
            if let Some(slot) = sources.get_mut(&k) {
                *slot = v;
            }
        }
    }
    Ok(count)
}
