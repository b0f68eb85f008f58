//! featc's partition of a keyed record (`featc_server::kafka::partitioner`) is the
//! one a producer featc did not write chooses: librdkafka with `partitioner =
//! murmur2_random` (the Java producer's default), producing to a real broker
//! (tansu) without naming a partition; every record is read back from the partition
//! it landed in.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use featc_server::kafka::partitioner::partition_of;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

use crate::serve_redis::work_dir;
use crate::services::Broker;

const PARTITIONS: i32 = 7;

#[test]
fn librdkafka_puts_each_key_in_the_partition_featc_computes() {
    let work = work_dir("kafka-partitioner");
    let broker = Broker::start(&work.join("broker.txt"));
    let topic = "keyed";
    broker.create_topic(topic, PARTITIONS);
    // Keys as entity keys are written: numbers, text, the empty key, UTF-8.
    let keys: Vec<String> = (0..200)
        .map(|i| i.to_string())
        .chain((0..100).map(|i| format!("user-{i}")))
        .chain(["".to_string(), "müller".to_string(), "a b,c".to_string()])
        .collect();
    let producer: BaseProducer = rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", broker.address())
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        .create()
        .expect("producer");
    for key in &keys {
        let record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic)
            .key(key.as_bytes())
            .payload(key.as_bytes());
        producer.send(record).map_err(|(e, _)| e).expect("send");
    }
    producer.flush(Duration::from_secs(30)).expect("flush");
    let consumer: BaseConsumer = rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", broker.address())
        .set("group.id", "featc-partitioner-test")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut all = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        all.add_partition_offset(topic, p, Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&all).expect("assign");
    let mut landed: HashMap<String, i32> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while landed.len() < keys.len() {
        assert!(
            Instant::now() < deadline,
            "read {} of {} records",
            landed.len(),
            keys.len()
        );
        if let Some(m) = consumer.poll(Duration::from_millis(200)) {
            let m = m.expect("record");
            let key = String::from_utf8(m.key().expect("a key").to_vec()).expect("utf-8");
            landed.insert(key, m.partition());
        }
    }
    let used: std::collections::HashSet<i32> = landed.values().copied().collect();
    assert_eq!(
        used.len(),
        PARTITIONS as usize,
        "every partition got records"
    );
    for key in &keys {
        assert_eq!(
            Some(landed[key]),
            partition_of(key.as_bytes(), PARTITIONS),
            "key {key:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}
