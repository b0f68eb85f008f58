#!/usr/bin/env bash
# bench/kafka.sh: Kafka ingest into `featc serve --kafka`, beside a decode-and-count floor.
#
#   bench/kafka.sh            # the 32-feature synthetic case, 1e6 events
#   SIZE=1e7 bench/kafka.sh
#   FORMAT=avro bench/kafka.sh      # records as Avro datums (bench/kafka/events.avsc)
#   FORMAT=protobuf bench/kafka.sh  # or Protobuf messages (bench/kafka/events.proto)
#
# 1. data and the release featc: `DUCKDB=0 bench/batch.sh SIZE` (cached); the tansu
#    broker from scripts/services/install;
# 2. tansu (memory storage) on 127.0.0.1, pinned to core 1; a topic of PARTS (3)
#    partitions; every event produced as a FORMAT (json) record in event-time order,
#    spread round-robin over the partitions (kafka_load produce, core 1);
# 3. `featc serve` of a copy of tests/cases/synthetic whose source declares the topic
#    (and its format, with the schema in bench/kafka/ for avro and protobuf),
#    pinned to core 0, with --state and checkpoints every CKPT (1e6) events (each
#    archiving the events it covers unless ARCHIVE=off): the time
#    from its start until featc_kafka_records_total reaches the count (startup,
#    consuming, decoding, checking and applying to both copies of the state);
# 4. the floor: kafka_load floor reads and decodes the same records with the decoder
#    featc uses for FORMAT (featc's own JSON reader, apache-avro, prost-reflect),
#    counting them (what any consumer pays before featc's own work), pinned to core 0;
# 5. the broker's ceiling: kafka_load consume reads the same records with the same
#    consumer settings and counts them and their bytes, decoding nothing (what this
#    broker serves to any consumer on one core), pinned to core 0.
# The floor and the ceiling use featc's own consumer settings
# (featc_server::kafka::consumer::client_config), so the three stay comparable.
#
# For an A/B of binaries: FEATC=PATH and KAFKA_LOAD=PATH run those instead of the
# release build (then nothing is built, and the data must already be there);
# PERF=FILE records featc's profile (`perf record -g`) into FILE while it ingests.
# Everything listens on 127.0.0.1 only and is stopped at the end (also on error).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SIZE="${SIZE:-1e6}"
SEED="${SEED:-7}"
SPINE="${SPINE:-1e5}"
PARTS="${PARTS:-3}"
CKPT="${CKPT:-1000000}"
# The archive of acknowledged events each checkpoint writes (`off`: none), for A/B.
ARCHIVE="${ARCHIVE:-7d}"
# How the records are encoded: json, avro or protobuf.
FORMAT="${FORMAT:-json}"
case "$FORMAT" in
    json) CLAUSE="json" ;;
    avro) CLAUSE="avro \"events.avsc\"" ;;
    protobuf) CLAUSE="protobuf \"events.proto\" \"bench.Payment\"" ;;
    *) echo "FORMAT=$FORMAT: json, avro or protobuf" >&2; exit 2 ;;
esac
DATA="$ROOT/bench-data/synth_${SIZE}_seed${SEED}_spine${SPINE}"
OUT="$ROOT/bench-data/kafka"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}/release"
FEATC="${FEATC:-}"
KAFKA_LOAD="${KAFKA_LOAD:-}"
PERF="${PERF:-}"
mkdir -p "$OUT"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

if [ -n "$FEATC" ] && [ -n "$KAFKA_LOAD" ]; then
    [ -f "$DATA/events.parquet" ] || { echo "no data in $DATA: run once without FEATC" >&2; exit 2; }
else
    echo "== data and release build" >&2
    DUCKDB=0 bench/batch.sh "$SIZE" > "$OUT/batch.txt"
    cargo build --release -q -p featc-cli -p featc-bench
    FEATC="$TARGET/featc"
    KAFKA_LOAD="$TARGET/kafka_load"
fi
scripts/services/install
N=$(python3 -c "import sys; print(int(float('$SIZE')))")

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
taskset -c 1 .services/bin/tansu broker --listener-url "tcp://127.0.0.1:$PORT" \
    --advertised-listener-url "tcp://127.0.0.1:$PORT" --storage-engine memory://tansu/ \
    > "$OUT/broker.txt" 2>&1 &
PIDS+=("$!")
until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do sleep 0.05; done
TOPIC="bench.events"
.services/bin/tansu topic create "$TOPIC" --partitions "$PARTS" --broker "tcp://127.0.0.1:$PORT" > /dev/null

PROJECT="$OUT/project"
rm -rf "$PROJECT" "$OUT/state"; mkdir -p "$PROJECT"
sed "s/^source events {/source events {\n    topic \"$TOPIC\" format $CLAUSE/" \
    tests/cases/synthetic/features.feat > "$PROJECT/features.feat"
cp bench/kafka/events.avsc bench/kafka/events.proto "$PROJECT/"
echo "== produce $N events to $TOPIC ($PARTS partitions, $FORMAT)" >&2
taskset -c 1 "$KAFKA_LOAD" produce "127.0.0.1:$PORT" "$TOPIC" "$DATA/events.parquet" "$PARTS" \
    "$FORMAT" "$PROJECT"
echo "== featc serve --kafka" >&2
# The last run's output removed first: the shell truncates it only once the server's
# process starts, and the wait below must not read the old address.
rm -f "$OUT/serve.out" "$OUT/serve.err"
t0=$(date +%s.%N)
taskset -c 0 "$FEATC" serve "$PROJECT" --kafka "127.0.0.1:$PORT" --state "$OUT/state" \
    --clock events --checkpoint-events "$CKPT" --archive-retention "$ARCHIVE" \
    --listen 127.0.0.1:0 --quiet > "$OUT/serve.out" 2> "$OUT/serve.err" &
SERVER=$!; PIDS+=("$SERVER")
until grep -q "listening on" "$OUT/serve.out" 2>/dev/null; do sleep 0.02; done
# Attached once it listens, when its threads (the consumer's, the writer's) exist:
# `perf record -p` follows the threads it finds.
if [ -n "$PERF" ]; then
    perf record -F 999 -g -o "$PERF" -p "$SERVER" > /dev/null 2>&1 &
    PERF_PID=$!; PIDS+=("$PERF_PID")
fi
ADDR=$(sed -n 's/^listening on //p' "$OUT/serve.out")
records=0
while [ "$records" -lt "$N" ]; do
    sleep 0.05
    records=$(curl -s "$ADDR/metrics" | sed -n 's/^featc_kafka_records_total //p')
    records=${records:-0}
done
t1=$(date +%s.%N)
secs=$(echo "$t1 - $t0" | bc)
echo "RESULT featc format=$FORMAT records=$N seconds=$secs records_per_s=$(echo "$N / $secs" | bc)"
[ -z "$PERF" ] || { kill -INT "$PERF_PID"; wait "$PERF_PID" || true; }
curl -s "$ADDR/metrics" | grep -E "^featc_(events_total|late_events_total|kafka_dead_lettered_total|checkpoints_total|archived_rows_total|last_checkpoint_seconds|state_bytes) " >&2
kill -TERM "$SERVER"; wait "$SERVER" || true

echo "== floor: decode and count" >&2
taskset -c 0 "$KAFKA_LOAD" floor "127.0.0.1:$PORT" "$TOPIC" "$N" "$FORMAT" "$PROJECT"

echo "== the broker's ceiling: consume and count only" >&2
# An older kafka_load (an A/B's) has no `consume`: then the step is skipped.
if [[ "$("$KAFKA_LOAD" consume 2>&1 || true)" == *"unknown mode"* ]]; then
    echo "== $KAFKA_LOAD has no consume mode: skipped" >&2
else
    taskset -c 0 "$KAFKA_LOAD" consume "127.0.0.1:$PORT" "$TOPIC" "$N"
fi
