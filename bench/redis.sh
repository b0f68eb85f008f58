#!/usr/bin/env bash
# bench/redis.sh: the Redis online store: `featc materialize` beside a redis-py floor,
# `redis-cli --pipe` and Feast's materialize; the cost per event of `featc serve --kafka
# --sink`; and the produce-to-readable freshness of the store at a paced event rate.
#
#   bench/redis.sh                      # 1e7 events (1e5 users) for materialize,
#                                       # 1e6 events for Kafka, freshness at 50 000,
#                                       # 20 000 and 5 000 events/s for 30 s each
#   MAT_SIZE=1e6 FEAST=0 FRESH_S=10 RATES=50000 bench/redis.sh      # a quick run
#   STEPS=fresh RATES=50000 READS=0 bench/redis.sh                  # one step
#   STEPS=fresh RATES= NOSINK_RATES=5000 READS=0 STATE_POLL=1 bench/redis.sh
#                                       # produce-to-state, no sink
#
# 1. data and the release builds: `DUCKDB=0 bench/batch.sh SIZE` (cached), featc and
#    kafka_load (CARGO_TARGET_DIR honoured); tansu from scripts/services/install. The
#    project: a copy of tests/cases/synthetic with a service `synth_v1` of its 32
#    features (the case declares none) and the source bound to a topic.
# 2. redis-server (127.0.0.1, no persistence) pinned to core 1, like the broker (a new
#    one for each Kafka measurement) and the load; featc, the floors and Feast pinned
#    to core 0.
# 3. materialize (MAT_SIZE events): `featc materialize --at` after the last event,
#    phases timed from its progress lines (bench/redis/timed.py: load of the history,
#    then the write of every hash, featc's and Redis's CPU in each); then the floor
#    (bench/redis/floor.py): the same hashes read back and written again by redis-py,
#    pipelined HSET, 1000 per pipeline (as bench/peers/serve_peers/load_redis_hashes.py),
#    and by `redis-cli --pipe`; then Feast 0.67.0 (FEAST=1, bench-data/feast-venv, made
#    by bench/serve.sh): 32 precomputed features per user (bench/peers/serve_peers/make_features.py,
#    DuckDB) materialized into its Redis online store (bench/redis/materialize_timed.py).
# 4. Kafka (SIZE events, as bench/kafka.sh): every event produced to a PARTS-partition
#    topic; `featc serve --kafka` timed until featc_kafka_records_total reaches the
#    count, without and then with `--sink` (with: also until the sink settles, i.e.
#    featc_redis_hashes_written_total stops moving), featc's CPU in each.
# 5. freshness, for each rate of RATES (events/s): a new topic; `featc serve --kafka
#    --sink --clock wall` (empty state); `kafka_load fresh` (core 1) produces the SIZE
#    data's events (cycled) at that rate for FRESH_S seconds with event time = the wall
#    clock at produce, and a probe event for a new user every PROBE_MS ms, and polls
#    Redis (every POLL_US µs) until each probe's hash has `_ts:user_txn`: the time from
#    the probe's send to the answer (producer linger.ms LINGER_MS). STATE_POLL=1 also
#    polls featc's HTTP read for when each probe is in the state (it slows the sink).
#    Then (READS=1) the first rate twice more, with and without --sink, while
#    bench/redis/reads.py (core 1) reads one entity from featc every 5 ms: do reads
#    wait for the sink? (Without it the probes are produced but not polled.) Last,
#    each rate of NOSINK_RATES (none by default) without --sink: with STATE_POLL=1,
#    produce-to-state alone. Each run prints the latency by 5 s of the run (WINDOW),
#    records consumed and hashes written each second (TIMELINE), and the broker's CPU
#    by 5 s.
# Each measurement waits (up to QUIET_MAX_S, 300 s) for both cores to be under
# QUIET_PCT (15) % busy, and reports how busy each core was while it ran (the pinned
# processes' own CPU is reported apart: the difference is other work on the machine).
# BUILD=0 uses the data and the binaries as they are (no bench/batch.sh, no cargo);
# FEATC=PATH runs that featc instead of the build's (e.g. the binary before a change);
# OUT=DIR keeps a run's files apart; RATES= READ_RATE=50000 runs only the reads' pair.
# Everything listens on 127.0.0.1 only and is stopped at the end (also on error).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SIZE="${SIZE:-1e6}"
MAT_SIZE="${MAT_SIZE:-1e7}"
SEED="${SEED:-7}"
SPINE="${SPINE:-1e5}"
PARTS="${PARTS:-3}"
CKPT="${CKPT:-1000000}"
RATES="${RATES-50000 20000 5000}"
FRESH_S="${FRESH_S:-30}"
PROBE_MS="${PROBE_MS:-10}"
FEAST="${FEAST:-1}"
STEPS="${STEPS:-materialize kafka fresh}"
READS="${READS:-1}"
READ_RATE="${READ_RATE-${RATES%% *}}"   # the rate of the reads' runs (RATES= READ_RATE=50000: those alone)
NOSINK_RATES="${NOSINK_RATES:-}"
BUILD="${BUILD:-1}"
QUIET_PCT="${QUIET_PCT:-15}"
QUIET_MAX_S="${QUIET_MAX_S:-300}"
export LINGER_MS="${LINGER_MS:-5}" POLL_US="${POLL_US:-1000}" STATE_POLL="${STATE_POLL:-0}"
DATA="$ROOT/bench-data/synth_${SIZE}_seed${SEED}_spine${SPINE}"
MAT_DATA="$ROOT/bench-data/synth_${MAT_SIZE}_seed${SEED}_spine${SPINE}"
OUT="${OUT:-$ROOT/bench-data/redis}"   # OUT=DIR: keep two runs apart
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}/release"
FEATC="${FEATC:-$TARGET/featc}"   # FEATC=PATH: another build (an A/B of the sink)
mkdir -p "$OUT"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
TICK=$(getconf CLK_TCK)
cpu_s() { awk -v t="$TICK" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }
# Busy seconds of core 0 and core 1 (all processes, this machine's other tenants too).
cores() { awk -v t="$TICK" '/^cpu[01] /{printf "%.2f ", ($2 + $3 + $4 + $7 + $8 + $9) / t}' /proc/stat; }
busy() { # BEFORE("a b") SECONDS: each core's busy share since BEFORE
    local now; now=$(cores)
    awk -v a="$1" -v b="$now" -v s="$2" 'BEGIN {split(a, x, " "); split(b, y, " ");
        printf "core0_busy=%.0f%% core1_busy=%.0f%%", 100 * (y[1] - x[1]) / s, 100 * (y[2] - x[2]) / s}'
}
# Waits (up to QUIET_MAX_S) until both cores were under QUIET_PCT % busy over 2 s: other
# work on this machine (builds, tests) moves every figure here.
quiet() {
    local t0=$SECONDS k b
    while :; do
        k=$(cores); sleep 2; b=$(busy "$k" 2)
        if awk -v b="$b" -v q="$QUIET_PCT" 'BEGIN {gsub(/[a-z0-9_]+=|%/, "", b); split(b, x, " ");
            exit !(x[1] < q && x[2] < q)}'; then
            return 0
        fi
        if (( SECONDS - t0 > QUIET_MAX_S )); then
            echo "== not quiet after ${QUIET_MAX_S}s ($b): measuring anyway" >&2
            return 0
        fi
    done
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
metric() { # ADDR NAME
    curl -s "$1/metrics" | sed -n "s/^$2 //p"
}

echo "== load: $(uptime)" >&2
if [ "$BUILD" != 0 ]; then
    echo "== data and release builds" >&2
    DUCKDB=0 bench/batch.sh "$SIZE" > "$OUT/batch.txt"
    if [[ " $STEPS " == *" materialize "* && "$MAT_SIZE" != "$SIZE" ]]; then
        DUCKDB=0 bench/batch.sh "$MAT_SIZE" >> "$OUT/batch.txt"
    fi
    cargo build --release -q -p featc-cli -p featc-bench --bin kafka_load
else
    echo "== BUILD=0: the data and binaries as they are ($TARGET)" >&2
    need=("$DATA/events.parquet" "$FEATC" "$TARGET/kafka_load")
    [[ " $STEPS " != *" materialize "* ]] || need+=("$MAT_DATA/events.parquet")
    for f in "${need[@]}"; do
        [ -e "$f" ] || { echo "missing $f (run without BUILD=0)" >&2; exit 1; }
    done
fi
scripts/services/install
N=$(python3 -c "import sys; print(int(float('$SIZE')))")
if [ -x "$ROOT/bench-data/feast-venv/bin/python" ]; then
    FLOOR_PY="$ROOT/bench-data/feast-venv/bin/python"   # redis-py 7.4 + hiredis, as the peers
else
    FLOOR_PY="$ROOT/.services/venv/bin/python"          # redis-py 6.4
fi

# The project: the synthetic case, its source on a topic, and a service of every feature.
project() { # DIR TOPIC
    rm -rf "$1"; mkdir -p "$1"
    {
        sed "s/^source events {/source events {\n    topic \"$2\"/" tests/cases/synthetic/features.feat
        echo
        echo "/// Every feature of user_txn, so that each user gets one hash (bench/redis.sh)."
        echo "service synth_v1 {"
        sed -n 's/^ *feature \([a-z0-9_]*\) *=.*/    user_txn.\1/p' tests/cases/synthetic/features.feat
        echo "}"
    } > "$1/features.feat"
}
project "$OUT/project" bench.events

REDIS_PORT=$(free_port)
taskset -c 1 redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    > "$OUT/redis.txt" 2>&1 &
REDIS=$!; PIDS+=("$REDIS")
until redis-cli -p "$REDIS_PORT" ping > /dev/null 2>&1; do sleep 0.05; done
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
echo "== redis-server $(redis-server --version | cut -d' ' -f3) on port $REDIS_PORT (core 1)" >&2

if [[ " $STEPS " == *" materialize "* ]]; then
    USERS=$("$ROOT/bench-data/venv/bin/python" -c "import pyarrow.parquet as pq, pyarrow.compute as pc; \
print(len(pc.unique(pq.read_table('$MAT_DATA/events.parquet', columns=['user_id'])['user_id'])))")
    AT=$("$ROOT/bench-data/venv/bin/python" -c "import pyarrow.parquet as pq, pyarrow.compute as pc; \
print(pc.max(pq.read_table('$MAT_DATA/events.parquet', columns=['ts'])['ts']).as_py().isoformat())")
    echo "== featc materialize: $MAT_SIZE events, $USERS users, as of $AT" >&2
    redis-cli -p "$REDIS_PORT" flushall > /dev/null
    quiet
    k0=$(cores); t0=$(date +%s.%N)
    python3 bench/redis/timed.py "$REDIS" -- taskset -c 0 "$FEATC" materialize "$OUT/project" \
        --source "events=$MAT_DATA/events.parquet" --to "$REDIS_URL" --at "$AT" 2> "$OUT/materialize.txt"
    echo "RESULT materialize_machine $(busy "$k0" "$(echo "$(date +%s.%N) - $t0" | bc)")"
    sed -n 's/^wrote /featc: wrote /p' "$OUT/materialize.txt" >&2
    echo "redis dbsize $(redis-cli -p "$REDIS_PORT" dbsize), used_memory $(redis-cli -p "$REDIS_PORT" info memory | sed -n 's/^used_memory_human://p' | tr -d '\r')" >&2

    echo "== floor: the same hashes by redis-py (pipelined HSET, 1000 per pipeline) and redis-cli --pipe" >&2
    quiet
    taskset -c 0 "$FLOOR_PY" bench/redis/floor.py "$REDIS_PORT" featc: "$REDIS"

    if [ "$FEAST" != 0 ]; then
        FEAST_VENV="$ROOT/bench-data/feast-venv"
        if [ ! -x "$FEAST_VENV/bin/feast" ]; then
            echo "== no $FEAST_VENV (bench/serve.sh makes it): Feast skipped" >&2
        else
            echo "== Feast materialize into Redis: $USERS users, 32 precomputed features" >&2
            export FEAST_USAGE=False
            FD="$OUT/feast"
            rm -rf "$FD/feast_repo"; mkdir -p "$FD/feast_repo/data" "$FD/data"
            cp bench/peers/serve_peers/feast_repo/features.py "$FD/feast_repo/"
            sed "s/REDIS_PORT/$REDIS_PORT/" bench/peers/serve_peers/feast_repo/feature_store.redis.yaml \
                > "$FD/feast_repo/feature_store.yaml"
            features="$FD/data/user_features_${MAT_SIZE}.parquet"
            [ -f "$features" ] || "$FEAST_VENV/bin/python" bench/peers/serve_peers/make_features.py \
                "$MAT_DATA/events.parquet" "$features" >&2
            cp "$features" "$FD/data/user_features.parquet"
            redis-cli -p "$REDIS_PORT" flushall > /dev/null
            quiet
            (cd "$FD/feast_repo" && "$FEAST_VENV/bin/feast" apply) > "$OUT/feast.txt" 2>&1
            taskset -c 0 "$FEAST_VENV/bin/python" bench/redis/materialize_timed.py "$FD/feast_repo" \
                2024-01-01T00:00:00 2024-03-02T00:00:00 "$FD/data/user_features.parquet" "$REDIS" \
                >> "$OUT/feast.txt" 2>&1
            grep "^RESULT" "$OUT/feast.txt"
            echo "redis dbsize after Feast: $(redis-cli -p "$REDIS_PORT" dbsize)" >&2
        fi
    fi
    redis-cli -p "$REDIS_PORT" flushall > /dev/null
fi

# A new tansu broker (memory storage), core 1: each measurement gets an empty one.
BROKER=""
start_broker() {
    if [ -n "$BROKER" ]; then kill "$BROKER" 2>/dev/null || true; wait "$BROKER" 2>/dev/null || true; fi
    KPORT=$(free_port)
    taskset -c 1 .services/bin/tansu broker --listener-url "tcp://127.0.0.1:$KPORT" \
        --advertised-listener-url "tcp://127.0.0.1:$KPORT" --storage-engine memory://tansu/ \
        >> "$OUT/broker.txt" 2>&1 &
    BROKER=$!; PIDS+=("$BROKER")
    until (exec 3<>"/dev/tcp/127.0.0.1/$KPORT") 2>/dev/null; do sleep 0.05; done
}
: > "$OUT/broker.txt"

start_serve() { # PROJECT LOG extra args...
    local project=$1 log=$2; shift 2
    # A run before this one may have left the same logs: its address must not be read.
    rm -rf "$OUT/state" "$OUT/$log.out" "$OUT/$log.err"
    taskset -c 0 "$FEATC" serve "$project" --kafka "127.0.0.1:$KPORT" --state "$OUT/state" \
        --checkpoint-events "$CKPT" --listen 127.0.0.1:0 --quiet "$@" \
        > "$OUT/$log.out" 2> "$OUT/$log.err" &
    SERVER=$!; PIDS+=("$SERVER")
    until grep -q "listening on" "$OUT/$log.out" 2>/dev/null; do
        kill -0 "$SERVER" 2>/dev/null || { cat "$OUT/$log.err" >&2; exit 1; }
        sleep 0.02
    done
    ADDR=$(sed -n 's/^listening on //p' "$OUT/$log.out")
}

if [[ " $STEPS " == *" kafka "* ]]; then
    start_broker
    TOPIC="bench.events"
    .services/bin/tansu topic create "$TOPIC" --partitions "$PARTS" --broker "tcp://127.0.0.1:$KPORT" > /dev/null
    echo "== produce $N events to $TOPIC ($PARTS partitions)" >&2
    taskset -c 1 "$TARGET/kafka_load" produce "127.0.0.1:$KPORT" "$TOPIC" "$DATA/events.parquet" "$PARTS"
    ingest() { # LABEL extra args...
        local label=$1; shift
        redis-cli -p "$REDIS_PORT" flushall > /dev/null
        quiet
        local r0 k0; r0=$(cpu_s "$REDIS"); k0=$(cores)
        local t0; t0=$(date +%s.%N)
        start_serve "$OUT/project" "serve_$label" --clock events "$@"
        local records=0
        while [ "$records" -lt "$N" ]; do
            sleep 0.05
            records=$(metric "$ADDR" featc_kafka_records_total); records=${records:-0}
        done
        local t1 c1; t1=$(date +%s.%N); c1=$(cpu_s "$SERVER")
        local secs; secs=$(echo "$t1 - $t0" | bc)
        echo "RESULT ingest $label records=$N seconds=$secs records_per_s=$(echo "$N / $secs" | bc) featc_cpu_s=$c1 us_cpu_per_event=$(echo "scale=2; $c1 * 1000000 / $N" | bc) $(busy "$k0" "$secs")"
        if [ "$label" = sink ]; then
            # Until the sink settles: hashes written unchanged for 1 s (the event clock
            # only moves with events, so nothing else is due).
            local last=-1 w t2="$t1" c2="$c1" still=0
            while [ "$still" -lt 20 ]; do
                w=$(metric "$ADDR" featc_redis_hashes_written_total)
                if [ "$w" != "$last" ]; then
                    last=$w; still=0; t2=$(date +%s.%N); c2=$(cpu_s "$SERVER")
                else
                    still=$((still + 1))
                fi
                sleep 0.05
            done
            secs=$(echo "$t2 - $t0" | bc)
            echo "RESULT ingest sink_settled records=$N seconds=$secs records_per_s=$(echo "$N / $secs" | bc) featc_cpu_s=$c2 us_cpu_per_event=$(echo "scale=2; $c2 * 1000000 / $N" | bc) hashes_written=$last redis_cpu_s=$(echo "$(cpu_s "$REDIS") - $r0" | bc) dbsize=$(redis-cli -p "$REDIS_PORT" dbsize)"
            curl -s "$ADDR/metrics" | grep -E "^featc_redis_" >&2
        fi
        curl -s "$ADDR/metrics" | grep -E "^featc_(events_total|late_events_total|kafka_dead_lettered_total|checkpoints_total) " >&2
        kill -TERM "$SERVER"; wait "$SERVER" || true
    }
    echo "== featc serve --kafka, without --sink" >&2
    ingest nosink
    echo "== featc serve --kafka --sink $REDIS_URL" >&2
    ingest sink --sink "$REDIS_URL"
fi

fresh() { # RATE sink|nosink READS(0|1)
    local rate=$1 mode=$2 topic="bench.fresh.$1.$2.$3" url="$REDIS_URL" extra=()
    start_broker
    .services/bin/tansu topic create "$topic" --partitions "$PARTS" --broker "tcp://127.0.0.1:$KPORT" > /dev/null
    project "$OUT/project_fresh" "$topic"
    redis-cli -p "$REDIS_PORT" flushall > /dev/null
    if [ "$mode" = sink ]; then extra=(--sink "$REDIS_URL"); else url=-; fi
    echo "== freshness ($mode): $rate events/s for $FRESH_S s, a probe every $PROBE_MS ms (linger.ms $LINGER_MS, poll every $POLL_US us)" >&2
    quiet
    start_serve "$OUT/project_fresh" "serve_fresh_${rate}_$mode" --clock wall "${extra[@]}"
    sleep 1
    local c_f c_b c_r t0 c_l=0 reads
    local k0; k0=$(cores)
    c_f=$(cpu_s "$SERVER"); c_b=$(cpu_s "$BROKER"); c_r=$(cpu_s "$REDIS"); t0=$(date +%s.%N)
    taskset -c 1 "$TARGET/kafka_load" fresh "127.0.0.1:$KPORT" "$topic" "$DATA/events.parquet" "$PARTS" \
        "$rate" "$FRESH_S" "$PROBE_MS" "$url" "featc:synth_v1:user_id=" "_ts:user_txn" \
        "${ADDR#http://}" "$OUT/fresh_probes_${rate}_${mode}_reads$3.csv" > "$OUT/fresh_${rate}_${mode}_reads$3.txt" &
    LOAD=$!; PIDS+=("$LOAD")
    : > "$OUT/reads_${rate}_${mode}_reads$3.txt"
    if [ "$3" = 1 ]; then
        # Reads at a light pace from the 3rd second to 2 s before the end (core 1).
        (sleep 3; taskset -c 1 python3 bench/redis/reads.py "${ADDR##*:}" "$((FRESH_S - 5))" "$USER_MIN" "$USER_MAX" \
            > "$OUT/reads_${rate}_${mode}_reads$3.txt") &
        reads=$!; PIDS+=("$reads")
    fi
    # The broker's CPU by 5 s (it grows with its in-memory topic).
    local tick=$SECONDS b_last="$c_b" b_now trend=""
    while kill -0 "$LOAD" 2>/dev/null; do
        c_l=$(cpu_s "$LOAD" 2>/dev/null || echo "$c_l")
        if (( SECONDS - tick >= 5 )); then
            tick=$SECONDS; b_now=$(cpu_s "$BROKER"); trend="$trend $(echo "$b_now - $b_last" | bc)"; b_last=$b_now
        fi
        sleep 0.2
    done
    wait "$LOAD"; [ "$3" = 0 ] || wait "$reads"
    local secs; secs=$(echo "$(date +%s.%N) - $t0" | bc)
    grep -E "^(TIMELINE|WINDOW)" "$OUT/fresh_${rate}_${mode}_reads$3.txt" >&2
    grep -E "^RESULT" "$OUT/fresh_${rate}_${mode}_reads$3.txt" "$OUT/reads_${rate}_${mode}_reads$3.txt" | sed "s/^[^:]*:RESULT /RESULT $mode rate=$rate reads=$3 /" \
        | grep -v "fresh_latency_ms.*seen=0"
    echo "RESULT $mode rate=$rate reads=$3 fresh_cpu seconds=$secs featc_cpu_s=$(echo "$(cpu_s "$SERVER") - $c_f" | bc) broker_cpu_s=$(echo "$(cpu_s "$BROKER") - $c_b" | bc) redis_cpu_s=$(echo "$(cpu_s "$REDIS") - $c_r" | bc) load_cpu_s=$c_l $(busy "$k0" "$secs")"
    echo "RESULT $mode rate=$rate reads=$3 broker_cpu_s_per_5s$trend"
    curl -s -m 10 "$ADDR/metrics" | grep -E "^featc_(redis_|kafka_records_total|events_total|late_events_total|checkpoints_total)" >&2 \
        || echo "== featc did not answer /metrics" >&2
    kill -TERM "$SERVER"; wait "$SERVER" || true
}
if [[ " $STEPS " == *" fresh "* ]]; then
    read -r USER_MIN USER_MAX < <("$ROOT/bench-data/venv/bin/python" -c "import pyarrow.parquet as pq, pyarrow.compute as pc; \
u = pq.read_table('$DATA/events.parquet', columns=['user_id'])['user_id']; print(pc.min(u), pc.max(u))")
    for rate in $RATES; do fresh "$rate" sink 0; done
    if [ "$READS" != 0 ] && [ -n "$READ_RATE" ]; then
        # Do reads wait for the sink? One rate with reads, with and without it.
        fresh "$READ_RATE" sink 1
        fresh "$READ_RATE" nosink 1
    fi
    # Without --sink (NOSINK_RATES, e.g. with STATE_POLL=1: produce-to-state alone).
    for rate in $NOSINK_RATES; do fresh "$rate" nosink 0; done
fi
echo "== load: $(uptime)" >&2
