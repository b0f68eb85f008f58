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
#    featc uses for FORMAT (serde_json, apache-avro, prost-reflect), counting them
#    (what any consumer pays before featc's own work), pinned to core 0.
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
mkdir -p "$OUT"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "== data and release build" >&2
DUCKDB=0 bench/batch.sh "$SIZE" > "$OUT/batch.txt"
cargo build --release -q -p featc-cli -p featc-bench
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
taskset -c 1 "$TARGET/kafka_load" produce "127.0.0.1:$PORT" "$TOPIC" "$DATA/events.parquet" "$PARTS" \
    "$FORMAT" "$PROJECT"
echo "== featc serve --kafka" >&2
t0=$(date +%s.%N)
taskset -c 0 "$TARGET/featc" serve "$PROJECT" --kafka "127.0.0.1:$PORT" --state "$OUT/state" \
    --clock events --checkpoint-events "$CKPT" --archive-retention "$ARCHIVE" \
    --listen 127.0.0.1:0 --quiet > "$OUT/serve.out" 2> "$OUT/serve.err" &
SERVER=$!; PIDS+=("$SERVER")
until grep -q "listening on" "$OUT/serve.out" 2>/dev/null; do sleep 0.02; done
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
curl -s "$ADDR/metrics" | grep -E "^featc_(events_total|late_events_total|kafka_dead_lettered_total|checkpoints_total|archived_rows_total|last_checkpoint_seconds|state_bytes) " >&2
kill -TERM "$SERVER"; wait "$SERVER" || true

echo "== floor: decode and count" >&2
taskset -c 0 "$TARGET/kafka_load" floor "127.0.0.1:$PORT" "$TOPIC" "$N" "$FORMAT" "$PROJECT"
