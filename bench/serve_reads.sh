#!/usr/bin/env bash
# bench/serve_reads.sh: single-entity reads of `featc serve` against the Redis HGETALL
# floor, alternated in one run so that the ratio is taken on the same machine state.
#
#   bench/serve_reads.sh                       # bench-data/synth_1e6_seed7_spine1e5, 3 rounds
#   ROUNDS=5 DUR=8 bench/serve_reads.sh DIR    # any gen.py output folder
#   PERF=1 bench/serve_reads.sh                # also `perf record -g` the server's last round
#
# The server (`featc serve tests/cases/synthetic --bootstrap`, release build) is pinned
# to core 0 and wrk to core 1 (bench/serve/read.lua: the 32 features of one uniform
# random user per request, 8 connections); the floor is redis-server on core 0 with one
# 32-field hash per user for 1e4 users, driven by redis-benchmark HGETALL on core 1 at 8
# connections. Each round runs featc, then Redis, for DUR seconds each, and prints
# both rows, the ratio of their throughputs and of each server's CPU time per request
# (from /proc: steadier than throughput when something else runs on the machine). Everything listens on 127.0.0.1 and
# is stopped at the end. Needs wrk, redis-server, redis-benchmark, redis-cli, taskset
# (and perf with PERF=1). The data comes from `DUCKDB=0 bench/batch.sh 1e6`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATA="${1:-$ROOT/bench-data/synth_1e6_seed7_spine1e5}"
DUR="${DUR:-5}"
ROUNDS="${ROUNDS:-3}"
PERF="${PERF:-0}"
PORT="${PORT:-16610}"
REDIS_PORT="${REDIS_PORT:-16389}"
FEATC="${FEATC:-${CARGO_TARGET_DIR:-$ROOT/target}/release/featc}"
OUT="$ROOT/bench-data/serve_reads"
mkdir -p "$OUT"
[ -f "$DATA/events.parquet" ] || { echo "no $DATA/events.parquet: run DUCKDB=0 bench/batch.sh 1e6" >&2; exit 2; }
[ -x "$FEATC" ] || { echo "no release featc at $FEATC (bench/batch.sh builds it)" >&2; exit 2; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# The user ids the data has (gen.py: a permutation of 1000..1000+K-1).
read -r UID_MIN UID_MAX < <("$ROOT/bench-data/venv/bin/python" -c "
import pyarrow.parquet as pq, pyarrow.compute as pc
u = pq.read_table('$DATA/events.parquet', columns=['user_id']).column('user_id')
m = pc.min_max(u); print(m['min'].as_py(), m['max'].as_py())")

rm -rf "$OUT/state"
taskset -c 0 "$FEATC" serve tests/cases/synthetic --source "events=$DATA/events.parquet" \
    --clock events --state "$OUT/state" --listen "127.0.0.1:$PORT" --quiet --bootstrap \
    > "$OUT/stdout.txt" 2> "$OUT/server.txt" &
SERVER=$!
PIDS+=("$SERVER")
until curl -sf "http://127.0.0.1:$PORT/health" > /dev/null; do
    kill -0 "$SERVER" 2>/dev/null || { cat "$OUT/server.txt" >&2; exit 1; }
    sleep 0.1
done

taskset -c 0 redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    > "$OUT/redis.txt" 2>&1 &
PIDS+=("$!")
REDIS=$!
until redis-cli -p "$REDIS_PORT" ping > /dev/null 2>&1; do sleep 0.05; done
python3 bench/serve/redis_floor.py | redis-cli -p "$REDIS_PORT" --pipe > /dev/null

# A process's CPU time so far (user + system), in microseconds.
cpu_us() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%d\n", ($14 + $15) * 1e6 / hz }' "/proc/$1/stat"; }
featc_reads() { # duration
    UID_MIN=$UID_MIN UID_MAX=$UID_MAX N_ENT=1 taskset -c 1 wrk -t1 -c8 -d"$1s" --timeout 10s \
        -s bench/serve/read.lua "http://127.0.0.1:$PORT" | grep RESULT
}
redis_reads() { # duration: redis-benchmark takes a request count, so about DUR seconds' worth
    # CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    taskset -c 1 redis-benchmark -p "$REDIS_PORT" -c 8 -n $(( $1 * 80000 )) -r 10000 --precision 3 --csv \
        HGETALL user:__rand_int__ | tail -1 | tr -d '"' \
        | awk -F, '{ printf "rps=%s p50_ms=%s p99_ms=%s max_ms=%s\n", $2, $5, $7, $8 }'
}
featc_reads 2 > /dev/null  # warm-up
for r in $(seq 1 "$ROUNDS"); do
    if [ "$PERF" != 0 ] && [ "$r" = "$ROUNDS" ]; then
        perf record -g -F 2000 -p "$SERVER" -o "$OUT/perf.data" -- sleep "$DUR" 2> /dev/null &
        PERFPID=$!
    fi
    c0=$(cpu_us "$SERVER")
    f=$(featc_reads "$DUR")
    c1=$(cpu_us "$SERVER")
    [ "$PERF" != 0 ] && [ "$r" = "$ROUNDS" ] && wait "$PERFPID"
    d0=$(cpu_us "$REDIS")
    g=$(redis_reads "$DUR")
    d1=$(cpu_us "$REDIS")
    frps=$(echo "$f" | sed -E 's/.*rps=([0-9.]+).*/\1/')
    freq=$(echo "$f" | sed -E 's/.*req=([0-9]+).*/\1/')
    grps=$(echo "$g" | sed -E 's/.*rps=([0-9.]+).*/\1/')
    greq=$(( $DUR * 80000 ))
    fcpu=$(echo "scale=2; ($c1 - $c0) / $freq" | bc)
    gcpu=$(echo "scale=2; ($d1 - $d0) / $greq" | bc)
    echo "round $r featc $f cpu_us_per_req=$fcpu"
    echo "round $r redis $g cpu_us_per_req=$gcpu"
    echo "round $r ratio redis/featc throughput $(echo "scale=2; $grps / $frps" | bc), featc/redis cpu per request $(echo "scale=2; $fcpu / $gcpu" | bc)"
done
[ "$PERF" != 0 ] && echo "perf data: $OUT/perf.data (perf report -i $OUT/perf.data --no-children)"
kill -TERM "$SERVER"; wait "$SERVER" || true
