#!/usr/bin/env bash
# bench/group.sh: `featc serve` in a Kafka consumer group, one member against two.
#
#   bench/group.sh            # the 32-feature synthetic case, 1e6 events
#   SIZE=1e7 bench/group.sh
#
# 1. data and the release featc: `DUCKDB=0 bench/batch.sh SIZE` (cached); the tansu
#    broker from scripts/services/install; tansu (memory storage) on 127.0.0.1; a
#    topic of PARTS (6) partitions; every event produced as a JSON record
#    (kafka_load produce).
# 2. the single server, `featc serve --kafka` on core 0: seconds and CPU (user +
#    system, from /proc) until featc_kafka_records_total reaches the count;
# 3. one member (`--kafka-group g1 --state-store DIR --kafka-partitions TASKS`) on
#    core 0, then two members (a new group, g2) on cores 0 and 1: seconds from the
#    first record applied until the partitions' records (summed over the members)
#    reach the count, and the members' CPU per event (forwarding included). The broker
#    and the load share the two cores with them: this machine has no third core.
# 4. reads through member 1 of g2 (bench/serve/group_reads.py): one key each, every
#    feature, timed apart by whether member 1 owns the key's partition or routes it;
# 5. hand-over: member 2 of g2 leaves (SIGTERM): the seconds until it exited (its
#    partitions closed: last checkpoint, copy to the store), and member 1's time to
#    open the last partition it took over (copy, recovery), with the entities per
#    partition.
# Everything listens on 127.0.0.1 only and is stopped at the end (also on error).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SIZE="${SIZE:-1e6}"
SEED="${SEED:-7}"
SPINE="${SPINE:-1e5}"
PARTS="${PARTS:-6}"
TASKS="${TASKS:-6}"
READS="${READS:-2000}"
DATA="${DATA:-$ROOT/bench-data/synth_${SIZE}_seed${SEED}_spine${SPINE}}"
OUT="$ROOT/bench-data/group"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}/release"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "== data and release build" >&2
mkdir -p "$ROOT/bench-data"
DUCKDB=0 bench/batch.sh "$SIZE" > /dev/null
cargo build --release -q -p featc-cli -p featc-bench
scripts/services/install
rm -rf "$OUT"; mkdir -p "$OUT"
N=$(python3 -c "import sys; print(int(float('$SIZE')))")
USERS=$(python3 -c "import pyarrow.parquet as pq, pyarrow.compute as pc; print(pc.max(pq.read_table('$DATA/events.parquet', columns=['user_id'])['user_id']).as_py() + 1)" 2>/dev/null \
    || "$ROOT/bench-data/venv/bin/python" -c "import pyarrow.parquet as pq, pyarrow.compute as pc; print(pc.max(pq.read_table('$DATA/events.parquet', columns=['user_id'])['user_id']).as_py() + 1)")
LAST=$("$ROOT/bench-data/venv/bin/python" -c "import pyarrow.parquet as pq, pyarrow.compute as pc; t=pq.read_table('$DATA/events.parquet', columns=['ts'])['ts']; print(pc.max(t).cast('int64').as_py())")

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.services/bin/tansu broker --listener-url "tcp://127.0.0.1:$PORT" \
    --advertised-listener-url "tcp://127.0.0.1:$PORT" --storage-engine memory://tansu/ \
    > "$OUT/broker.txt" 2>&1 &
PIDS+=("$!")
until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do sleep 0.05; done
TOPIC="bench.events"
.services/bin/tansu topic create "$TOPIC" --partitions "$PARTS" --broker "tcp://127.0.0.1:$PORT" > /dev/null
echo "== produce $N events to $TOPIC ($PARTS partitions)" >&2
"$TARGET/kafka_load" produce "127.0.0.1:$PORT" "$TOPIC" "$DATA/events.parquet" "$PARTS"
PROJECT="$OUT/project"
mkdir -p "$PROJECT"
sed "s/^source events {/source events {\n    topic \"$TOPIC\"/" tests/cases/synthetic/features.feat \
    > "$PROJECT/features.feat"

# cpu PID...: user + system seconds of the processes so far.
cpu() {
    local ticks=0
    for p in "$@"; do
        ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "scale=3; $ticks / $(getconf CLK_TCK)" | bc
}
# start NAME CORE ARGS...: a featc serve pinned to CORE; sets ADDR_NAME and PID_NAME.
start() {
    local name=$1 core=$2; shift 2
    taskset -c "$core" "$TARGET/featc" serve "$PROJECT" --kafka "127.0.0.1:$PORT" \
        --listen 127.0.0.1:0 --quiet --min-lateness 36500d "$@" \
        > "$OUT/$name.out" 2> "$OUT/$name.err" &
    local pid=$!; PIDS+=("$pid")
    until grep -q "listening on" "$OUT/$name.out" 2>/dev/null; do sleep 0.02; done
    eval "ADDR_$name=$(sed -n 's/^listening on //p' "$OUT/$name.out")"
    eval "PID_$name=$pid"
}
# applied ADDR...: the records the members' partitions applied.
applied() {
    local sum=0
    for a in "$@"; do
        local n
        n=$(curl -s "$a/metrics" | awk '/^featc_group_partition_records_total\{/ {s += $2} END {print s + 0}')
        sum=$((sum + ${n%.*}))
    done
    echo "$sum"
}

echo "== the single server (featc serve --kafka, core 0)" >&2
t0=$(date +%s.%N)
start single 0 --state "$OUT/single-state" --clock events
records=0
while [ "${records%.*}" -lt "$N" ]; do
    sleep 0.05
    records=$(curl -s "$ADDR_single/metrics" | sed -n 's/^featc_kafka_records_total //p'); records=${records:-0}
done
t1=$(date +%s.%N)
echo "RESULT single records=$N seconds=$(echo "$t1 - $t0" | bc) cpu_us_per_event=$(echo "scale=2; $(cpu "$PID_single") * 1000000 / $N" | bc)"
kill -TERM "$PID_single"; wait "$PID_single" || true

# run_group GROUP CORES...: members of GROUP, one per core; times them to the count.
run_group() {
    local group=$1; shift
    local addrs=() pids=() i=0
    for core in "$@"; do
        i=$((i + 1))
        start "${group}m$i" "$core" --kafka-group "$group" --state-store "$OUT/store-$group" \
            --kafka-partitions "$TASKS" --state "$OUT/local-$group-$i" --checkpoint-interval 30s
        addrs+=("$(eval echo "\$ADDR_${group}m$i")"); pids+=("$(eval echo "\$PID_${group}m$i")")
    done
    local first="" done=0
    while [ "$done" -lt "$N" ]; do
        sleep 0.05
        done=$(applied "${addrs[@]}")
        if [ -z "$first" ] && [ "$done" -gt 0 ]; then first=$(date +%s.%N); fi
    done
    local t=$(date +%s.%N)
    local secs; secs=$(echo "$t - $first" | bc)
    echo "RESULT group=$group members=$# records=$N seconds_from_first_record=$secs records_per_s=$(echo "$N / $secs" | bc) cpu_us_per_event=$(echo "scale=2; $(cpu "${pids[@]}") * 1000000 / $N" | bc)"
    GROUP_ADDRS=("${addrs[@]}")
}

echo "== one member (core 0)" >&2
run_group g1 0
for p in $(eval echo "\$PID_g1m1"); do kill -TERM "$p"; wait "$p" || true; done
echo "== two members (cores 0 and 1)" >&2
run_group g2 0 1
sleep 2
echo "== reads through member 1 of g2" >&2
"$ROOT/bench-data/venv/bin/python" bench/serve/group_reads.py "${GROUP_ADDRS[0]}" "$OUT/store-g2" \
    user user_id "$USERS" "$TASKS" "$READS" "$LAST" "$PROJECT/features.feat"
echo "== hand-over: member 2 of g2 leaves" >&2
opened=$(curl -s "${GROUP_ADDRS[0]}/metrics" | sed -n 's/^featc_group_tasks_opened_total //p')
t0=$(date +%s.%N)
kill -TERM "$PID_g2m2"
while kill -0 "$PID_g2m2" 2>/dev/null; do sleep 0.02; done
echo "RESULT leave seconds=$(echo "$(date +%s.%N) - $t0" | bc) (member 2 closed and copied its partitions, left the group)"
until [ "$(curl -s "${GROUP_ADDRS[0]}/metrics" | sed -n 's/^featc_group_tasks_opened_total //p')" -gt "$opened" ] 2>/dev/null; do sleep 0.1; done
sleep 2
curl -s "${GROUP_ADDRS[0]}/metrics" | grep -E "^featc_group_(handover_open_seconds_last|tasks_opened_total|partitions_owned) " | sed "s|^|RESULT member1 |"
echo "RESULT entities_per_partition=$((USERS / TASKS)) (users $USERS over $TASKS partitions)"
