//! The Kafka benchmark's client (`kafka_load`): produces a source's events (a Parquet
//! file) to a topic as JSON records (or Avro or Protobuf, `formats`), and the floor, a
//! consumer that only decodes and counts them (bench/kafka.sh); and the freshness
//! probe of `featc serve --sink` (bench/redis.sh). Only 127.0.0.1 is ever contacted.
//!
//!     kafka_load produce BROKERS TOPIC EVENTS.parquet PARTITIONS [FORMAT PROJECT]
//!     kafka_load floor BROKERS TOPIC RECORDS [FORMAT PROJECT]
//!     kafka_load consume BROKERS TOPIC RECORDS
//!     kafka_load fresh BROKERS TOPIC EVENTS.parquet PARTITIONS RATE SECONDS PROBE_MS \
//!         REDIS_URL KEY_PREFIX FIELD METRICS_ADDR OUT.csv
//!
//! `fresh` produces the file's rows (cycled) at RATE events/s for SECONDS, each with
//! its time column set to the wall clock when it is produced (so in event-time order),
//! and every PROBE_MS one probe event for a new entity (`user_id` 1e9 + i, outside
//! the data); a second thread polls Redis until each probe's hash
//! (`KEY_PREFIX<user_id>`) has FIELD, and records the time from the probe's send to
//! that answer. Each second it also reads `featc serve`'s /metrics at METRICS_ADDR
//! (`127.0.0.1:PORT`): records consumed against records sent. Writes every probe to
//! OUT.csv. REDIS_URL `-` produces the same stream and probes without polling Redis.
//! With STATE_POLL=1 the poller also asks featc's HTTP read when each probe
//! is in the state (produce-to-state, apart from state-to-Redis; one more request per
//! poll on the server's core).
//!
//! FORMAT is `json` (the default), `avro` or `protobuf`: the records are encoded,
//! and the floor decodes them, with the schema the project in folder PROJECT
//! declares for its source `events`.
//!
//! `consume` reads the records as the floor does and only counts them and their
//! bytes: the broker's ceiling. The floor and `consume` use featc's own consumer
//! settings (KAFKA_SET="key=value,..." overrides some, to try settings out).
//!
//! Each prints `RESULT` lines.

mod formats;

use std::collections::VecDeque;
use std::io::{Read, Write as _};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

/// One row of `batch` as a JSON object (times as integer microseconds); with `time`,
/// column `time.0` holds `time.1` instead of its value.
fn row_json(
    batch: &datafusion::arrow::record_batch::RecordBatch,
    row: usize,
    time: Option<(usize, i64)>,
    out: &mut String,
) {
    use std::fmt::Write;
    out.clear();
    out.push('{');
    for (i, field) in batch.schema().fields().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{}\":", field.name());
        if let Some((c, us)) = time {
            if c == i {
                let _ = write!(out, "{us}");
                continue;
            }
        }
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

fn produce(brokers: &str, topic: &str, path: &str, partitions: i32, codec: &formats::Codec) {
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
    let mut bytes = Vec::new();
    for &(_, b, row) in &order {
        codec.encode(&batches[b], row, &mut text, &mut bytes);
        let partition = (sent % partitions as u64) as i32;
        let mut record: BaseRecord<'_, (), [u8]> = BaseRecord::to(topic)
            .partition(partition)
            .payload(bytes.as_slice());
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

/// Reads every partition of `topic` from the beginning, decoding each record (as JSON,
/// or as `codec`'s format), until `records` were read: what any consumer pays before
/// featc's own work.
fn floor(brokers: &str, topic: &str, records: u64, codec: &formats::Codec) {
    let consumer = reader(brokers, topic, "featc-bench-floor");
    let started = Instant::now();
    let (mut read, mut fields) = (0u64, 0usize);
    let mut slots = Vec::new();
    while read < records {
        match consumer.poll(Duration::from_secs(10)) {
            None => fail(format!("no record for 10 s after {read}")),
            Some(Err(e)) => fail(e),
            Some(Ok(m)) => {
                fields += m
                    .payload()
                    .and_then(|p| codec.decode(p, &mut slots))
                    .unwrap_or(0);
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

/// A consumer of every partition of `topic` from its beginning, with featc's own
/// consumer settings (`featc_server::kafka::consumer::client_config`), so that the
/// floor and the ceiling read the broker as featc does. KAFKA_SET="key=value,..."
/// overrides some, to try settings out before featc takes them.
fn reader(brokers: &str, topic: &str, group: &str) -> BaseConsumer {
    let mut config = featc_server::kafka::consumer::client_config(brokers, group);
    for pair in std::env::var("KAFKA_SET").unwrap_or_default().split(',') {
        if let Some((key, value)) = pair.split_once('=') {
            config.set(key.trim(), value.trim());
        }
    }
    let consumer: BaseConsumer = config.create().unwrap_or_else(|e| fail(e));
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
    consumer
}

/// Reads every partition of `topic` from the beginning until `records` were read,
/// counting them and their value bytes and decoding nothing: the most this broker
/// serves to one consumer on one core, the ceiling of the floor and of featc.
fn consume(brokers: &str, topic: &str, records: u64) {
    let consumer = reader(brokers, topic, "featc-bench-consume");
    let started = Instant::now();
    let (mut read, mut bytes) = (0u64, 0usize);
    while read < records {
        match consumer.poll(Duration::from_secs(10)) {
            None => fail(format!("no record for 10 s after {read}")),
            Some(Err(e)) => fail(e),
            Some(Ok(m)) => {
                bytes += m.payload_len();
                read += 1;
            }
        }
    }
    let took = started.elapsed().as_secs_f64();
    println!(
        "RESULT consume records={read} bytes={bytes} seconds={took:.2} records_per_s={:.0} \
         mib_per_s={:.1}",
        read as f64 / took,
        bytes as f64 / took / (1 << 20) as f64
    );
}

/// Sends `record`, waiting for room in the producer's queue.
fn send(producer: &BaseProducer, mut record: BaseRecord<'_, (), str>) {
    loop {
        match producer.send(record) {
            Ok(()) => return,
            Err((_, back)) => {
                producer.poll(Duration::from_millis(1));
                record = back;
            }
        }
    }
}

fn wall_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// One probe: its entity, when it was sent, and when its hash was first read.
struct Probe {
    user: i64,
    offset_s: f64,
    sent: Instant,
    seen: Option<Duration>,
    /// With STATE_POLL=1: when featc's HTTP read first answered it PRESENT.
    in_state: Option<Duration>,
}

/// Which of `users` featc's state knows (`txn_count_life` PRESENT), by one HTTP read of
/// the server at `addr`.
fn in_state(addr: &str, users: &[i64]) -> Vec<bool> {
    let body = format!(
        "{{\"features\":[\"user_txn:txn_count_life\"],\"entities\":{{\"user_id\":{users:?}}}}}"
    );
    let mut answer = String::new();
    if let Ok(mut stream) = std::net::TcpStream::connect(addr) {
        let _ = write!(
            stream,
            "POST /get-online-features HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.read_to_string(&mut answer);
    }
    let statuses = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, json)| serde_json::from_str::<serde_json::Value>(json).ok())
        .and_then(|v| v.pointer("/results/1/statuses").cloned());
    (0..users.len())
        .map(|i| {
            statuses
                .as_ref()
                .and_then(|s| s.get(i))
                .and_then(|s| s.as_str())
                == Some("PRESENT")
        })
        .collect()
}

/// The first user id of the probes (the synthetic data's are below 1e6).
const PROBE_BASE: i64 = 1_000_000_000;

/// `name value` lines of a Prometheus text answer from `addr` (`127.0.0.1:PORT`).
fn scrape(addr: &str, names: &[&str]) -> Vec<f64> {
    let mut values = vec![f64::NAN; names.len()];
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return values;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = write!(
        stream,
        "GET /metrics HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if let (Some(name), Some(value)) = (words.next(), words.next()) {
            if let Some(i) = names.iter().position(|n| *n == name) {
                values[i] = value.parse().unwrap_or(f64::NAN);
            }
        }
    }
    values
}

/// The `p` quantile (nearest rank) of sorted `values`.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

struct FreshArgs<'a> {
    brokers: &'a str,
    topic: &'a str,
    path: &'a str,
    partitions: i32,
    rate: f64,
    seconds: f64,
    probe_every: Duration,
    redis_url: &'a str,
    key_prefix: &'a str,
    field: &'a str,
    metrics: &'a str,
    out: &'a str,
}

/// The paced producer with its probes, and the Redis poller (see the module doc).
fn fresh(a: &FreshArgs<'_>) {
    let linger = std::env::var("LINGER_MS").unwrap_or_else(|_| "5".into());
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", a.brokers)
        .set("linger.ms", &linger)
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .unwrap_or_else(|e| fail(e));
    let file = std::fs::File::open(a.path).unwrap_or_else(|e| fail(format!("{}: {e}", a.path)));
    let batches: Vec<_> = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.with_batch_size(8192).build())
        .unwrap_or_else(|e| fail(e))
        .map(|b| b.unwrap_or_else(|e| fail(e)))
        .collect();
    let schema = batches.first().unwrap_or_else(|| fail("no rows")).schema();
    let ts = schema.index_of("ts").unwrap_or_else(|e| fail(e));
    let rows: Vec<(usize, usize)> = batches
        .iter()
        .enumerate()
        .flat_map(|(b, batch)| (0..batch.num_rows()).map(move |r| (b, r)))
        .collect();
    let key_column = schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .find(|n| *n == "user_id")
        .unwrap_or_else(|| fail("no `user_id` column"));

    // REDIS_URL `-`: no sink to poll (the probes are produced all the same).
    let mut redis = (a.redis_url != "-").then(|| {
        redis::Client::open(a.redis_url)
            .and_then(|c| c.get_connection())
            .unwrap_or_else(|e| fail(e))
    });
    let (tx, rx) = mpsc::channel::<Probe>();
    let (key_prefix, field) = (a.key_prefix.to_string(), a.field.to_string());
    let poll_state = std::env::var("STATE_POLL").as_deref() == Ok("1");
    let state_addr = poll_state.then(|| a.metrics.to_string());
    let poll_every = Duration::from_micros(
        std::env::var("POLL_US")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000),
    );
    // The poller: every `poll_every`, one pipeline of HGET FIELD over the probes not
    // yet seen; a probe counts as seen when the answer arrives.
    let poller = std::thread::spawn(move || {
        let mut waiting: VecDeque<Probe> = VecDeque::new();
        let mut done: Vec<Probe> = Vec::new();
        let mut producing = true;
        let mut polls = 0u64;
        let mut last_progress = Instant::now();
        loop {
            loop {
                match rx.try_recv() {
                    Ok(p) => waiting.push_back(p),
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => {
                        producing = false;
                        break;
                    }
                }
            }
            if waiting.is_empty() || (redis.is_none() && state_addr.is_none()) {
                if !producing {
                    break;
                }
            } else {
                if let Some(addr) = &state_addr {
                    let unknown: Vec<usize> = (0..waiting.len())
                        .filter(|&i| waiting[i].in_state.is_none())
                        .collect();
                    if !unknown.is_empty() {
                        let users: Vec<i64> = unknown.iter().map(|&i| waiting[i].user).collect();
                        let known = in_state(addr, &users);
                        let now = Instant::now();
                        for (&i, k) in unknown.iter().zip(known) {
                            if k {
                                waiting[i].in_state = Some(now - waiting[i].sent);
                                last_progress = now;
                            }
                        }
                    }
                }
                polls += 1;
                match redis.as_mut() {
                    Some(r) => {
                        let mut pipe = redis::pipe();
                        for p in &waiting {
                            pipe.cmd("HGET")
                                .arg(format!("{key_prefix}{}", p.user))
                                .arg(&field);
                        }
                        let answers: Vec<Option<String>> =
                            pipe.query(r).unwrap_or_else(|e| fail(e));
                        let now = Instant::now();
                        let mut i = 0;
                        for answer in answers {
                            if answer.is_some() {
                                if let Some(mut p) = waiting.remove(i) {
                                    p.seen = Some(now - p.sent);
                                    done.push(p);
                                    last_progress = now;
                                }
                            } else {
                                i += 1;
                            }
                        }
                    }
                    // No sink: a probe is done once it is in the state.
                    None => {
                        let (known, unknown): (Vec<Probe>, Vec<Probe>) =
                            waiting.drain(..).partition(|p| p.in_state.is_some());
                        done.extend(known);
                        waiting.extend(unknown);
                    }
                }
                if !producing && last_progress.elapsed() > Duration::from_secs(30) {
                    break;
                }
            }
            std::thread::sleep(poll_every);
        }
        done.extend(waiting);
        (done, polls)
    });

    let names = [
        "featc_kafka_records_total",
        "featc_redis_hashes_written_total",
        "featc_redis_lag_seconds",
        "featc_redis_errors_total",
    ];
    println!("TIMELINE s sent records_consumed behind_records hashes_written redis_lag_s");
    let total = (a.rate * a.seconds) as u64;
    let started = Instant::now();
    let (mut sent, mut probes, mut row) = (0u64, 0u64, 0usize);
    let mut next_second = 1u64;
    let mut text = String::new();
    let mut worst_behind = 0u64;
    while sent < total {
        let elapsed = started.elapsed();
        let due = ((elapsed.as_secs_f64() * a.rate) as u64).min(total);
        worst_behind = worst_behind.max(due.saturating_sub(sent));
        while sent < due {
            let (b, r) = rows[row % rows.len()];
            row += 1;
            row_json(&batches[b], r, Some((ts, wall_us())), &mut text);
            let partition = (sent % a.partitions as u64) as i32;
            send(
                &producer,
                BaseRecord::to(a.topic)
                    .partition(partition)
                    .payload(text.as_str()),
            );
            sent += 1;
        }
        if elapsed >= a.probe_every * probes as u32 {
            let user = PROBE_BASE + probes as i64;
            let record = format!(
                "{{\"{key_column}\":{user},\"ts\":{},\"amount\":1.0,\"category\":\"probe\",\"is_mobile\":false}}",
                wall_us()
            );
            let partition = (probes % a.partitions as u64) as i32;
            let at = Instant::now();
            send(
                &producer,
                BaseRecord::to(a.topic)
                    .partition(partition)
                    .payload(record.as_str()),
            );
            let _ = tx.send(Probe {
                user,
                offset_s: (at - started).as_secs_f64(),
                sent: at,
                seen: None,
                in_state: None,
            });
            probes += 1;
        }
        producer.poll(Duration::ZERO);
        if elapsed.as_secs() >= next_second {
            let m = scrape(a.metrics, &names);
            println!(
                "TIMELINE {next_second} {sent} {} {} {} {}",
                m[0],
                sent as f64 + probes as f64 - m[0],
                m[1],
                m[2]
            );
            next_second += 1;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let produced_s = started.elapsed().as_secs_f64();
    producer
        .flush(Duration::from_secs(60))
        .unwrap_or_else(|e| fail(e));
    drop(tx);
    let (done, polls) = poller.join().unwrap_or_else(|_| fail("the poller failed"));
    let m = scrape(a.metrics, &names);
    let mut csv = String::from("probe,user_id,sent_s,latency_ms,in_state_ms\n");
    let mut latencies: Vec<f64> = Vec::new();
    let mut ordered: Vec<&Probe> = done.iter().collect();
    ordered.sort_by(|x, y| x.offset_s.total_cmp(&y.offset_s));
    for (i, p) in ordered.iter().enumerate() {
        let ms = p.seen.map(|d| d.as_secs_f64() * 1e3);
        if let Some(ms) = ms {
            latencies.push(ms);
        }
        let state_ms = p.in_state.map(|d| d.as_secs_f64() * 1e3);
        csv.push_str(&format!(
            "{i},{},{:.4},{},{}\n",
            p.user,
            p.offset_s,
            ms.map_or("".into(), |v| format!("{v:.3}")),
            state_ms.map_or("".into(), |v| format!("{v:.3}"))
        ));
    }
    std::fs::write(a.out, csv).unwrap_or_else(|e| fail(format!("{}: {e}", a.out)));
    // The first second (the consumer joining, the state's first entities) apart.
    let steady: Vec<f64> = {
        let mut v: Vec<f64> = ordered
            .iter()
            .filter(|p| p.offset_s >= 1.0)
            .filter_map(|p| p.seen.map(|d| d.as_secs_f64() * 1e3))
            .collect();
        v.sort_by(f64::total_cmp);
        v
    };
    latencies.sort_by(f64::total_cmp);
    let mut state: Vec<f64> = ordered
        .iter()
        .filter_map(|p| p.in_state.map(|d| d.as_secs_f64() * 1e3))
        .collect();
    state.sort_by(f64::total_cmp);
    println!(
        "RESULT fresh_produce events={sent} probes={probes} seconds={produced_s:.2} events_per_s={:.0} \
         worst_behind_schedule={worst_behind} consumed={} hashes_written={} polls={polls}",
        sent as f64 / produced_s,
        m[0],
        m[1]
    );
    let mut series = vec![("all", &latencies), ("after_1s", &steady)];
    if poll_state {
        series.push(("in_state", &state));
    }
    for (label, v) in series {
        println!(
            "RESULT fresh_latency_ms probes={label} seen={} missing={} p50={:.2} p90={:.2} p99={:.2} \
             p999={:.2} max={:.2}",
            v.len(),
            if label == "all" { probes as usize - v.len() } else { 0 },
            quantile(v, 0.5),
            quantile(v, 0.9),
            quantile(v, 0.99),
            quantile(v, 0.999),
            v.last().copied().unwrap_or(f64::NAN)
        );
    }
    // By WINDOW_S (5) seconds of send time: does the latency drift during the run?
    let window: f64 = std::env::var("WINDOW_S")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5.0);
    let mut from = 0.0;
    while from < produced_s {
        let of = |f: &dyn Fn(&Probe) -> Option<Duration>| {
            let mut v: Vec<f64> = ordered
                .iter()
                .filter(|p| p.offset_s >= from && p.offset_s < from + window)
                .filter_map(|p| f(p).map(|d| d.as_secs_f64() * 1e3))
                .collect();
            v.sort_by(f64::total_cmp);
            v
        };
        let (redis, state) = (of(&|p| p.seen), of(&|p| p.in_state));
        println!(
            "WINDOW {from:.0}-{:.0}s redis: n={} p50={:.1} p99={:.1} state: n={} p50={:.1} p99={:.1}",
            from + window,
            redis.len(),
            quantile(&redis, 0.5),
            quantile(&redis, 0.99),
            state.len(),
            quantile(&state, 0.5),
            quantile(&state, 0.99)
        );
        from += window;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| {
        args.get(i)
            .map(String::as_str)
            .unwrap_or_else(|| fail("usage: kafka_load produce|floor|consume|fresh ..."))
    };
    match arg(0) {
        "produce" => produce(
            arg(1),
            arg(2),
            arg(3),
            arg(4).parse().unwrap_or_else(|e| fail(e)),
            &formats::Codec::of(
                args.get(5).map_or("json", String::as_str),
                args.get(6).map(String::as_str),
            ),
        ),
        "floor" => floor(
            arg(1),
            arg(2),
            arg(3).parse().unwrap_or_else(|e| fail(e)),
            &formats::Codec::of(
                args.get(4).map_or("json", String::as_str),
                args.get(5).map(String::as_str),
            ),
        ),
        "consume" => consume(arg(1), arg(2), arg(3).parse().unwrap_or_else(|e| fail(e))),
        "fresh" => {
            let number = |i: usize| -> f64 { arg(i).parse().unwrap_or_else(|e| fail(e)) };
            fresh(&FreshArgs {
                brokers: arg(1),
                topic: arg(2),
                path: arg(3),
                partitions: number(4) as i32,
                rate: number(5),
                seconds: number(6),
                probe_every: Duration::from_secs_f64(number(7) / 1e3),
                redis_url: arg(8),
                key_prefix: arg(9),
                field: arg(10),
                metrics: arg(11),
                out: arg(12),
            })
        }
        other => fail(format!("unknown mode {other}")),
    }
}
