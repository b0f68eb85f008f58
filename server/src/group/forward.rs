//! The forwarder (group mode's repartitioning, as Kafka Streams does it): each record
//! of a source's topic is produced again to the internal topic of every entity whose
//! views read the source, keyed by that entity's key and placed in the key's
//! partition (`kafka::key`), with headers saying where it was first read
//! (`kafka::forwarded`). The member commits a source partition's offsets only after
//! every record before them was acknowledged (`flush`), so a crash or a rebalance
//! makes a new owner forward some records again, never skip one; the tasks drop the
//! copies by their positions (exactly once, `kafka::forwarded`).
//!
//! A record whose value is not a JSON object goes, once, to partition 0 of the first
//! entity's topic, whose task dead-letters it under its own topic, partition and
//! offset; a key that is missing, null or of the wrong type goes to partition 0 (the
//! task counts a null key, or dead-letters the record, as one process would).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use featc_runtime::ir::{DataType, EpochUnit};
use rdkafka::config::ClientConfig;
use rdkafka::message::{BorrowedMessage, Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;
use serde_json::{Map, Value as Json};

use super::GroupError;
use crate::kafka::forwarded::{OFFSET, PARTITION, SOURCE, TOPIC};
use crate::kafka::key::{key_text, partition_of_key};
use crate::wire::json::to_value_in;

/// One entity's route for a source: its internal topic and the source's key columns.
#[derive(Debug, Clone)]
pub struct Route {
    pub topic: String,
    pub columns: Vec<(String, DataType)>,
}

/// Where a source topic's records go.
#[derive(Debug, Clone)]
pub struct SourceRoutes {
    pub source: String,
    pub epoch: Option<EpochUnit>,
    pub routes: Vec<Route>,
}

/// Counts deliveries that failed since the last flush.
#[derive(Default)]
pub struct Deliveries {
    failed: AtomicU64,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if result.is_err() {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The forwarding producer (see the module docs).
pub struct Forwarder {
    producer: BaseProducer<Deliveries>,
    by_topic: HashMap<String, SourceRoutes>,
    partitions: i32,
}

impl Forwarder {
    pub fn new(
        brokers: &str,
        by_topic: HashMap<String, SourceRoutes>,
        partitions: i32,
    ) -> Result<Forwarder, GroupError> {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            // In order per partition, without duplicates from retries.
            .set("enable.idempotence", "true")
            .set("linger.ms", "5")
            .create_with_context(Deliveries::default())
            .map_err(|e| GroupError::kafka("cannot create the forwarding producer", e))?;
        Ok(Forwarder {
            producer,
            by_topic,
            partitions,
        })
    }

    /// The source topics it forwards.
    pub fn topics(&self) -> impl Iterator<Item = &str> {
        self.by_topic.keys().map(String::as_str)
    }

    /// Queues `message`'s copies (one per entity whose views read its source).
    pub fn forward(&self, message: &BorrowedMessage<'_>) -> Result<(), GroupError> {
        let Some(routes) = self.by_topic.get(message.topic()) else {
            return Ok(());
        };
        let payload = message.payload().unwrap_or_default();
        let (partition, offset) = (
            message.partition().to_string(),
            message.offset().to_string(),
        );
        let headers = OwnedHeaders::new_with_capacity(4)
            .insert(Header {
                key: SOURCE,
                value: Some(routes.source.as_str()),
            })
            .insert(Header {
                key: TOPIC,
                value: Some(message.topic()),
            })
            .insert(Header {
                key: PARTITION,
                value: Some(partition.as_str()),
            })
            .insert(Header {
                key: OFFSET,
                value: Some(offset.as_str()),
            });
        let object = match serde_json::from_slice::<Json>(payload) {
            Ok(Json::Object(o)) => Some(o),
            _ => None,
        };
        for (i, route) in routes.routes.iter().enumerate() {
            let key = match &object {
                Some(o) => route_key(o, route, routes.epoch),
                // Dead-lettered once, by the first entity's partition 0.
                None if i == 0 => None,
                None => break,
            };
            let p = partition_of_key(key.as_deref(), self.partitions);
            let mut record = BaseRecord::to(&route.topic)
                .partition(p)
                .payload(payload)
                .headers(headers.clone());
            if let Some(k) = key.as_deref() {
                record = record.key(k);
            }
            self.send(record)?;
        }
        Ok(())
    }

    /// Queues one record, waiting while the producer's queue is full.
    fn send(&self, mut record: BaseRecord<'_, str, [u8]>) -> Result<(), GroupError> {
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((
                    rdkafka::error::KafkaError::MessageProduction(
                        rdkafka::types::RDKafkaErrorCode::QueueFull,
                    ),
                    back,
                )) => {
                    record = back;
                    self.producer.poll(Duration::from_millis(10));
                }
                Err((e, _)) => return Err(GroupError::kafka("cannot forward a record", e)),
            }
        }
    }

    /// Waits until every queued record is acknowledged; an error if any was not
    /// (then nothing may be committed: the records are forwarded again).
    pub fn flush(&self) -> Result<(), GroupError> {
        self.producer
            .flush(Duration::from_secs(60))
            .map_err(|e| GroupError::kafka("cannot flush the forwarded records", e))?;
        let failed = self.producer.context().failed.swap(0, Ordering::Relaxed);
        if failed > 0 {
            return Err(GroupError::Kafka {
                what: "forwarding".into(),
                message: format!("{failed} records were not acknowledged"),
            });
        }
        Ok(())
    }
}

/// The routing text of a record's key for `route` (`None`: null, missing or not of
/// the key's type).
fn route_key(
    object: &Map<String, Json>,
    route: &Route,
    epoch: Option<EpochUnit>,
) -> Option<String> {
    let mut values = Vec::with_capacity(route.columns.len());
    for (column, ty) in &route.columns {
        let cell = object.get(column)?;
        values.push(to_value_in(cell, *ty, epoch).ok()?);
    }
    key_text(&values)
}
