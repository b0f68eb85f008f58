//! The internal topics of group mode: one per entity, named after the project, the
//! consumer group and the entity, holding the sources' records keyed (and
//! partitioned) by that entity's key. Created by the first instance with the group's
//! partition count; an existing one with another count is refused, because each of
//! its partitions is a unit of state (a task) checkpointed under its number.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

use super::GroupError;

/// The internal topic of `entity` (Kafka topic names allow `[a-zA-Z0-9._-]`; other
/// characters become `_`).
pub fn internal_topic(project: &str, group: &str, entity: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
                _ => '_',
            })
            .collect()
    };
    format!(
        "featc.{}.{}.{}",
        clean(project),
        clean(group),
        clean(entity)
    )
}

/// Creates each of `topics` with `partitions` partitions unless it exists, and checks
/// that every one has exactly `partitions`.
pub fn ensure(brokers: &str, topics: &[String], partitions: i32) -> Result<(), GroupError> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .map_err(|e| GroupError::kafka("cannot create an admin client", e))?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(1)))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = futures::executor::block_on(admin.create_topics(&new, &options))
        .map_err(|e| GroupError::kafka("cannot create the internal topics", e))?;
    for result in results {
        if let Err((topic, code)) = result {
            if code != RDKafkaErrorCode::TopicAlreadyExists {
                return Err(GroupError::Kafka {
                    what: format!("cannot create the internal topic `{topic}`"),
                    message: code.to_string(),
                });
            }
        }
    }
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .map_err(|e| GroupError::kafka("cannot create a client", e))?;
    for topic in topics {
        let found = partition_count(&consumer, topic)?;
        if found != partitions {
            return Err(GroupError::Partitions {
                topic: topic.clone(),
                found,
                expected: partitions,
            });
        }
    }
    Ok(())
}

/// The partition count of `topic` (waiting up to 30 s for a new topic to appear).
fn partition_count(consumer: &BaseConsumer, topic: &str) -> Result<i32, GroupError> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let metadata = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .map_err(|e| GroupError::kafka(&format!("cannot read the metadata of `{topic}`"), e))?;
        let count = metadata
            .topics()
            .iter()
            .filter(|t| t.name() == topic && t.error().is_none())
            .map(|t| t.partitions().len())
            .next()
            .unwrap_or(0);
        if count > 0 || std::time::Instant::now() >= deadline {
            return Ok(i32::try_from(count).unwrap_or(i32::MAX));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn internal_topics_are_named_after_project_group_and_entity() {
        assert_eq!(
            super::internal_topic("fraud", "serve one", "user"),
            "featc.fraud.serve_one.user"
        );
    }
}
