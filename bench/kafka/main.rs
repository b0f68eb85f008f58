//! The Kafka benchmark's client (`kafka_load`): produces a source's events (a Parquet
//! file) to a topic as JSON records, and the floor, a consumer that only decodes and
//! counts them. Only 127.0.0.1 is ever contacted (bench/kafka.sh).
//!
//!     kafka_load produce BROKERS TOPIC EVENTS.parquet PARTITIONS
//!     kafka_load floor BROKERS TOPIC RECORDS
//!
//! Each prints one `RESULT` line.

use std::time::{Duration, Instant};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, TimestampMicrosecondType};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

fn fail(what: impl std::fmt::Display) -> ! {
    eprintln!("kafka_load: {what}");
    std::process::exit(2)
}

/// One row of `batch` as a JSON object (times as integer microseconds).
fn row_json(batch: &datafusion::arrow::record_batch::RecordBatch, row: usize, out: &mut String) {
    use std::fmt::Write;
    out.clear();
    out.push('{');
    for (i, field) in batch.schema().fields().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{}\":", field.name());
        let column = batch.column(i);
        if column.is_null(row) {
            out.push_str("null");
            continue;
        }
        match column.data_type() {
            DataType::Int64 => {
                let _ = write!(out, "{}", column.as_primitive::<Int64Type>().value(row));
            }
            DataType::Float64 => {
                let _ = write!(out, "{}", column.as_primitive::<Float64Type>().value(row));
            }
            DataType::Boolean => {
                let _ = write!(out, "{}", column.as_boolean().value(row));
            }
            DataType::Timestamp(_, _) => {
                let _ = write!(
                    out,
                    "{}",
                    column.as_primitive::<TimestampMicrosecondType>().value(row)
                );
            }
            DataType::Utf8 => {
                let _ = write!(out, "{:?}", column.as_string::<i32>().value(row));
            }
            other => fail(format!(
                "column {}: type {other} not produced",
                field.name()
            )),
        }
    }
    out.push('}');
}

fn produce(brokers: &str, topic: &str, path: &str, partitions: i32) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .unwrap_or_else(|e| fail(e));
    let file = std::fs::File::open(path).unwrap_or_else(|e| fail(format!("{path}: {e}")));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.with_batch_size(8192).build())
        .unwrap_or_else(|e| fail(e));
    // In event-time order, as a live stream would deliver them (the generated file
    // is not sorted).
    let batches: Vec<_> = reader.map(|b| b.unwrap_or_else(|e| fail(e))).collect();
    let mut order: Vec<(i64, usize, usize)> = Vec::new();
    for (b, batch) in batches.iter().enumerate() {
        let ts = batch
            .column_by_name("ts")
            .unwrap_or_else(|| fail("no `ts` column"))
            .as_primitive::<TimestampMicrosecondType>();
        order.extend((0..batch.num_rows()).map(|r| (ts.value(r), b, r)));
    }
    order.sort_unstable();
    let started = Instant::now();
    let mut sent = 0u64;
    let mut text = String::new();
    for &(_, b, row) in &order {
        row_json(&batches[b], row, &mut text);
        let partition = (sent % partitions as u64) as i32;
        let mut record: BaseRecord<'_, (), str> = BaseRecord::to(topic)
            .partition(partition)
            .payload(text.as_str());
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, back)) => {
                    producer.poll(Duration::from_millis(5));
                    record = back;
                }
            }
        }
        sent += 1;
        if sent.is_multiple_of(10_000) {
            producer.poll(Duration::ZERO);
        }
    }
    producer
        .flush(Duration::from_secs(600))
        .unwrap_or_else(|e| fail(e));
    let took = started.elapsed().as_secs_f64();
    println!(
        "RESULT produce records={sent} seconds={took:.2} records_per_s={:.0}",
        sent as f64 / took
    );
}

/// Reads every partition of `topic` from the beginning, parsing each record as JSON,
/// until `records` were read: what any consumer pays before featc's own work.
fn floor(brokers: &str, topic: &str, records: u64) {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "featc-bench-floor")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "50")
        .create()
        .unwrap_or_else(|e| fail(e));
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap_or_else(|e| fail(e));
    let mut assigned = TopicPartitionList::new();
    for t in metadata.topics() {
        for p in t.partitions() {
            assigned
                .add_partition_offset(topic, p.id(), Offset::Beginning)
                .unwrap_or_else(|e| fail(e));
        }
    }
    consumer.assign(&assigned).unwrap_or_else(|e| fail(e));
    let started = Instant::now();
    let (mut read, mut fields) = (0u64, 0usize);
    while read < records {
        match consumer.poll(Duration::from_secs(10)) {
            None => fail(format!("no record for 10 s after {read}")),
            Some(Err(e)) => fail(e),
            Some(Ok(m)) => {
                if let Some(Ok(serde_json::Value::Object(o))) =
                    m.payload().map(serde_json::from_slice::<serde_json::Value>)
                {
                    fields += o.len();
                }
                read += 1;
            }
        }
    }
    let took = started.elapsed().as_secs_f64();
    println!(
        "RESULT floor records={read} fields={fields} seconds={took:.2} records_per_s={:.0}",
        read as f64 / took
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| {
        args.get(i)
            .map(String::as_str)
            .unwrap_or_else(|| fail("usage: kafka_load produce|floor ..."))
    };
    match arg(0) {
        "produce" => produce(
            arg(1),
            arg(2),
            arg(3),
            arg(4).parse().unwrap_or_else(|e| fail(e)),
        ),
        "floor" => floor(arg(1), arg(2), arg(3).parse().unwrap_or_else(|e| fail(e))),
        other => fail(format!("unknown mode {other}")),
    }
}
