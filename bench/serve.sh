#!/usr/bin/env bash
# bench/serve.sh: `featc serve` under load on loopback, beside a Redis floor.
#
#   bench/serve.sh            # the 32-feature synthetic case, 1e7 events (1e5 users)
#   SIZE=1e6 DUR=5 bench/serve.sh
#
# 1. data and the release featc: `DUCKDB=0 bench/batch.sh SIZE` (gen.py, cached);
# 2. `featc serve tests/cases/synthetic --bootstrap --state ...` pinned to core 0, timed
#    until ready (the bootstrap, then its checkpoint);
# 3. reads with wrk pinned to core 1 (bench/serve/read.lua): 1 and 100 entities per
#    request at 1, 8 and 32 connections; then the same rows while
#    bench/serve/pace_push.py pushes 50 000 events/s;
# 4. push throughput, durable (wrk, bench/serve/push.lua, 1000 events per push, 8
#    connections); then one push of 1e6 events (39 MiB) while a client reads in a
#    loop (bench/serve/big_push.py: do reads wait for it?);
# 5. restart: SIGTERM (in-flight requests, checkpoint), then a restart on the same
#    state timed until ready; then SIGKILL after more pushes and a restart that loads
#    the checkpoint and re-applies the log;
# 6. the Redis floor: redis-server (core 0) with one 32-field hash per user for 1e4
#    users, redis-benchmark HGETALL (core 1) at 1 and 8 connections;
# 7. Feast's feature server (FEAST=1, the default): bench/peers/serve_peers/run.sh
#    (feast 0.67.0, sqlite online store, the same wrk body shape on 1e4 users of the
#    1e6-event data, server on core 0, wrk on core 1), in a venv of its own
#    (bench-data/feast-venv, made on the first run from PyPI).
# Everything listens on 127.0.0.1 only and is stopped at the end (also on error).
# Needs wrk, redis-server/redis-benchmark/redis-cli (Debian packages), taskset.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SIZE="${SIZE:-1e7}"
DUR="${DUR:-10}"
PORT="${PORT:-16600}"
REDIS_PORT="${REDIS_PORT:-16379}"
SEED="${SEED:-7}"
FEAST="${FEAST:-1}"
SPINE="${SPINE:-1e5}"
DATA="$ROOT/bench-data/synth_${SIZE}_seed${SEED}_spine${SPINE}"
OUT="$ROOT/bench-data/serve"
STATE="$OUT/state"
FEATC="${CARGO_TARGET_DIR:-$ROOT/target}/release/featc"
mkdir -p "$OUT"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "== data and release build (bench/batch.sh $SIZE, DuckDB skipped)" >&2
DUCKDB=0 bench/batch.sh "$SIZE" > "$OUT/batch.txt"

start_server() { # extra args...
    taskset -c 0 "$FEATC" serve tests/cases/synthetic --source "events=$DATA/events.parquet" \
        --clock events --state "$STATE" --listen "127.0.0.1:$PORT" --quiet "$@" \
        > "$OUT/stdout.txt" 2>> "$OUT/server.txt" &
    SERVER=$!
    PIDS+=("$SERVER")
}
wait_ready() {
    until curl -sf "http://127.0.0.1:$PORT/health" > /dev/null; do
        kill -0 "$SERVER" 2>/dev/null || { cat "$OUT/server.txt" >&2; exit 1; }
        sleep 0.05
    done
}
now() { date +%s.%N; }
row() { printf '| %s | %s |\n' "$1" "$2"; }

rm -rf "$STATE"; : > "$OUT/server.txt"
t0=$(now); start_server --bootstrap; wait_ready; t1=$(now)
echo "== bootstrap of $SIZE events: $(echo "$t1 - $t0" | bc) s" >&2
row "bootstrap $SIZE events (ready after)" "$(echo "$t1 - $t0" | bc) s"
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E "^featc_(entities|state_bytes|events_total) " >&2
row "server resident memory after the bootstrap" "$(( $(ps -o rss= -p "$SERVER") / 1024 )) MiB"

reads() { # label conns entities
    N_ENT=$3 taskset -c 1 wrk -t1 -c"$2" -d"${DUR}s" --timeout 10s -s bench/serve/read.lua \
        "http://127.0.0.1:$PORT" | grep RESULT | sed "s/^/$1 c=$2 n=$3 /"
}
echo "== reads" >&2
N_ENT=1 taskset -c 1 wrk -t1 -c8 -d3s -s bench/serve/read.lua "http://127.0.0.1:$PORT" > /dev/null
for n in 1 100; do for c in 1 8 32; do reads reads "$c" "$n"; done; done

echo "== reads while pushes run at 50 000 events/s" >&2
BASE=$(curl -s "http://127.0.0.1:$PORT/get-online-features" \
    -d '{"features":["txn_count_1h"],"entities":{"user_id":[1000]}}' \
    | python3 -c 'import json,sys; from datetime import datetime; a=json.load(sys.stdin)["metadata"]["at"]; print(int(datetime.fromisoformat(a.replace("Z","+00:00")).timestamp()*1e6)+1000000)')
taskset -c 1 python3 bench/serve/pace_push.py "$PORT" 50000 $((DUR * 6 + 8)) 1000 "$BASE" > "$OUT/pace.txt" &
PACER=$!; PIDS+=("$PACER")
sleep 2
for n in 1 100; do for c in 1 8 32; do reads "reads+push" "$c" "$n"; done; done
wait "$PACER" || true
sed "s/^/pacer /" "$OUT/pace.txt"

echo "== push throughput (durable)" >&2
ROWS=1000 BASE_US=$((BASE + 100000000000)) taskset -c 1 wrk -t1 -c8 -d"${DUR}s" --timeout 30s \
    -s bench/serve/push.lua "http://127.0.0.1:$PORT" | grep RESULT | sed "s/^/push c=8 rows=1000 /"
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E "^featc_(wal_syncs_total|wal_records_total|checkpoints_total|last_checkpoint_seconds|events_total|state_bytes) " >&2

echo "== a read during a large push (1e6 events)" >&2
python3 bench/serve/big_push.py "$PORT" 1000000 $((BASE + 150000000000)) | sed "s/^/big push /"

echo "== restart" >&2
t0=$(now); kill -TERM "$SERVER"; wait "$SERVER" || true; t1=$(now)
row "graceful stop (drain + checkpoint)" "$(echo "$t1 - $t0" | bc) s"
t0=$(now); start_server; wait_ready; t1=$(now)
row "restart from the checkpoint (ready after)" "$(echo "$t1 - $t0" | bc) s"
ROWS=1000 BASE_US=$((BASE + 200000000000)) taskset -c 1 wrk -t1 -c8 -d3s --timeout 30s \
    -s bench/serve/push.lua "http://127.0.0.1:$PORT" | grep RESULT | sed "s/^/push before kill /"
kill -KILL "$SERVER"; wait "$SERVER" 2>/dev/null || true
t0=$(now); start_server; wait_ready; t1=$(now)
row "restart after SIGKILL (checkpoint + log, ready after)" "$(echo "$t1 - $t0" | bc) s"
grep "featc serve: state" "$OUT/server.txt" | tail -2 >&2
kill -TERM "$SERVER"; wait "$SERVER" || true

echo "== Redis floor" >&2
taskset -c 0 redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    > "$OUT/redis.txt" 2>&1 &
PIDS+=("$!")
until redis-cli -p "$REDIS_PORT" ping > /dev/null 2>&1; do sleep 0.05; done
python3 bench/serve/redis_floor.py | redis-cli -p "$REDIS_PORT" --pipe > /dev/null
for c in 1 8; do
    n=$((c == 1 ? 200000 : 600000))
    taskset -c 1 redis-benchmark -p "$REDIS_PORT" -c "$c" -n "$n" -r 10000 --precision 3 \
        HGETALL user:__rand_int__ | grep -E "throughput summary|^ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+" \
        | tr -s ' ' | sed "s/^/redis c=$c /"
done

if [ "$FEAST" != 0 ]; then
    echo "== Feast (bench/peers/serve_peers, sqlite online store)" >&2
    FEAST_VENV="$ROOT/bench-data/feast-venv"
    if [ ! -x "$FEAST_VENV/bin/feast" ]; then
        python3 -m venv "$FEAST_VENV"
        "$FEAST_VENV/bin/pip" install -q feast==0.67.0 "redis<8,>=4.2.2" "hiredis<4,>=2.0.0" \
            -r bench/peers/requirements.txt
    fi
    [ -f "$ROOT/bench-data/synth_1e6_seed${SEED}_spine${SPINE}/events.parquet" ] || \
        DUCKDB=0 bench/batch.sh 1e6 > /dev/null
    VENV="$FEAST_VENV" EVENTS="$ROOT/bench-data/synth_1e6_seed${SEED}_spine${SPINE}/events.parquet" \
        STEPS=sqlite DUR="$DUR" QUIET_MAX_S=10 bench/peers/serve_peers/run.sh > "$OUT/feast.txt" 2>&1
    grep -E "^\| Feast|materialize \(" "$OUT/feast.txt" || tail -5 "$OUT/feast.txt"
fi
