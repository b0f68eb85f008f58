#!/usr/bin/env bash
# bench/serve_disk.sh: `featc serve` with its entity state on disk under a memory budget
# (issue 40): 1e8 events over 1e7 users on the 32-feature synthetic case.
#
#   bench/serve_disk.sh                                  # bench-data/synth_1e8_seed7_users1e7_spine1e5
#   bench/serve_disk.sh /work/bench-data/synth_1e8_seed7_users1e7_spine1e5
#   MEMORY_LIMIT=2GiB DUR=20 bench/serve_disk.sh DIR     # any gen.py folder (events.parquet)
#   MEMORY_FLAG= FEATC=/path/featc bench/serve_disk.sh DIR   # a featc without --memory-limit
#
# 1. data: DIR/events.parquet; the default folder is generated when missing
#    (`bench/peers/gen.py --events 1e8 --users 1e7 --spine 1e5 --seed 7`, chunked: 1.5
#    minutes, 0.7 GiB); then bench/serve/check_sample.py lists the users that have
#    events (users.txt), draws a hot set of HOT users once (hot.txt) and a check sample
#    of CHECK (user, time) rows at or after the latest event, and `featc training-set`
#    computes the sample's expected values (before the server starts, so it is not
#    timed beside it);
# 2. `featc serve tests/cases/synthetic --source events=... --bootstrap --state STATE
#    --clock events --memory-limit $MEMORY_LIMIT` pinned to core 0, timed until
#    /health answers ready; its peak RSS (VmHWM), the state on disk (`du -sb`) and
#    bytes per entity (featc_entities of /metrics);
# 3. the check sample: every value served at the sample's times equals the training
#    set's (check_sample.py compare; the run goes on, the table says no);
# 4. reads with wrk pinned to core 1 (bench/serve/read_ids.lua: 8 connections, 32
#    features, one entity per request): the hot set (after a warm-up of the same),
#    then users uniform over every user with events (mostly not cached);
# 5. durable push throughput (bench/serve/push.lua, 1000 events per push, 8
#    connections, users uniform over the id range, times after the history);
# 6. SIGKILL, then a restart on the same state timed until /health answers ready, and
#    one read; then SIGTERM.
# Prints a Markdown table on stdout (progress and metrics on stderr). Everything
# listens on 127.0.0.1 only and is stopped at the end (also on error).
#
# Environment: DUR=10 (seconds per wrk run), PORT=16800, MEMORY_LIMIT=4GiB,
# MEMORY_FLAG=--memory-limit (empty: no memory flag, for a featc without it), HOT=1000,
# CHECK=200 (0: no check sample), STATE (default bench-data/serve_disk/state: it holds
# the whole state, tens of GiB at 1e7 users), FEATC (default: the release build, built
# with cargo first unless BUILD=0), PY (numpy + pyarrow; default bench-data/venv made by
# bench/batch.sh, else python3). Needs wrk, curl, taskset, bc, GNU time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DEFAULT_DATA="$ROOT/bench-data/synth_1e8_seed7_users1e7_spine1e5"
DATA="$(realpath -m "${1:-$DEFAULT_DATA}")"
DUR="${DUR:-10}"
PORT="${PORT:-16800}"
MEMORY_LIMIT="${MEMORY_LIMIT:-4GiB}"
MEMORY_FLAG="${MEMORY_FLAG---memory-limit}"
HOT="${HOT:-1000}"
CHECK="${CHECK:-200}"
OUT="$ROOT/bench-data/serve_disk"
STATE="${STATE:-$OUT/state}"
FEATC="${FEATC:-${CARGO_TARGET_DIR:-$ROOT/target}/release/featc}"
if [ -z "${PY:-}" ]; then
    PY=python3
    [ -x "$ROOT/bench-data/venv/bin/python" ] && PY="$ROOT/bench-data/venv/bin/python"
fi
mkdir -p "$OUT"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
row() { printf '| %s | %s |\n' "$1" "$2"; }
hwm_mib() { awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
metrics() { curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^featc_' || true; }
metric() { metrics | awk -v m="$1" '$1 == m { print $2 }'; }

if [[ "${BUILD:-1}" == 1 && "$FEATC" == */target/release/featc ]]; then
    echo "== building featc (release)" >&2
    cargo build --release --quiet -p featc-cli -p featc-bench
fi
mem_args=()
[ -n "$MEMORY_FLAG" ] && mem_args=("$MEMORY_FLAG" "$MEMORY_LIMIT")

echo "== data: $DATA" >&2
if [ ! -f "$DATA/events.parquet" ]; then
    [ "$DATA" == "$DEFAULT_DATA" ] || { echo "no $DATA/events.parquet (gen.py's output folder)" >&2; exit 2; }
    nice -n 10 "$PY" bench/peers/gen.py --events 1e8 --users 1e7 --spine 1e5 --seed 7 --out "$DATA" >&2
fi
"$PY" bench/serve/check_sample.py prepare "$DATA/events.parquet" "$OUT" --hot "$HOT" \
    --check "$((CHECK > 0 ? CHECK : 2))" >&2
# shellcheck source=/dev/null
source "$OUT/lists.env"
if [ "$CHECK" -gt 0 ]; then
    echo "== featc training-set on the check sample" >&2
    t0=$(now)
    "$FEATC" training-set tests/cases/synthetic --source "events=$DATA/events.parquet" \
        --spine "$OUT/check_spine.parquet" --out "$OUT/expected.parquet" --quiet \
        --features "$("$PY" -c 'import sys; sys.path.insert(0, "bench/serve"); import check_sample; print(",".join(check_sample.FEATURES))')" >&2
    echo "   $(secs "$t0" "$(now)") s" >&2
fi

start_server() { # extra args...
    taskset -c 0 "$FEATC" serve tests/cases/synthetic --source "events=$DATA/events.parquet" \
        --clock events --state "$STATE" --listen "127.0.0.1:$PORT" --quiet "${mem_args[@]}" "$@" \
        > "$OUT/stdout.txt" 2>> "$OUT/server.txt" &
    SERVER=$!
    PIDS+=("$SERVER")
}
wait_ready() { # progress (what /health says) on stderr every 30 s
    local n=0
    until curl -sf "http://127.0.0.1:$PORT/health" > /dev/null; do
        kill -0 "$SERVER" 2>/dev/null || { tail -20 "$OUT/server.txt" >&2; exit 1; }
        sleep 0.05
        n=$((n + 1))
        (( n % 600 == 0 )) && echo "   $((n / 20)) s: $(curl -s "http://127.0.0.1:$PORT/health" | cut -c1-200)" >&2
    done
    return 0
}
wrk_row() { # label: wrk's RESULT line on stdin -> a table row
    awk -v l="$1" '/^RESULT/ {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        if ("events_per_s" in v)
            printf "| %s | %s events/s (%s pushes/s), p50 %s ms, p99 %s ms, errors %s |\n", l, v["events_per_s"], v["rps"], v["p50_ms"], v["p99_ms"], v["errors_status"]
        else
            printf "| %s | p50 %s ms, p99 %s ms, p99.9 %s ms, max %s ms, %s req/s, errors %s+%s |\n", l, v["p50_ms"], v["p99_ms"], v["p999_ms"], v["max_ms"], v["rps"], v["errors_status"], v["errors_other"]
    }'
}
reads() { # label uid_file seconds
    UID_FILE="$2" N_ENT=1 taskset -c 1 wrk -t1 -c8 -d"$3s" --timeout 10s -s bench/serve/read_ids.lua \
        "http://127.0.0.1:$PORT" | tee -a "$OUT/wrk.txt" | wrk_row "$1"
}

: > "$OUT/server.txt"; : > "$OUT/wrk.txt"
rm -rf "$STATE"
echo "== bootstrap (${mem_args[*]:-no memory flag})" >&2
echo "| $(basename "$DATA"), $USERS users with events, ${mem_args[*]:-no memory flag}, $("$FEATC" --version 2>/dev/null || echo featc), $(date -u +%F) | |"
echo "|---|---|"
t0=$(now); start_server --bootstrap; wait_ready; t1=$(now)
row "bootstrap (ready after)" "$(secs "$t0" "$t1") s"
row "peak RSS during the bootstrap (VmHWM)" "$(hwm_mib "$SERVER") MiB"
metrics > "$OUT/metrics_bootstrap.txt"; cat "$OUT/metrics_bootstrap.txt" >&2
entities=$(metric featc_entities); counted=$(metric featc_state_bytes); disk=$(du -sb "$STATE" | cut -f1)
per_entity() { [ -n "$1" ] && [ -n "$entities" ] && [ "$entities" -gt 0 ] && echo "$(( $1 / entities ))" || echo "?"; }
row "state on disk (du -sb), featc_entities" "$(( disk / 1048576 )) MiB, ${entities:-?} entities, $(per_entity "$disk") bytes/entity"
row "counted state in memory (featc_state_bytes)" "$(( ${counted:-0} / 1048576 )) MiB, $(per_entity "$counted") bytes/entity"

check_ok=skipped
if [ "$CHECK" -gt 0 ]; then
    echo "== check sample" >&2
    if "$PY" bench/serve/check_sample.py compare "$OUT" "$PORT" > "$OUT/check.txt"; then check_ok=yes; else check_ok=NO; fi
    cat "$OUT/check.txt" >&2
    row "check sample: served = training-set" "$check_ok ($(head -1 "$OUT/check.txt" | sed 's/^check: //'))"
fi

echo "== reads: hot set ($HOT users), then uniform over $USERS users" >&2
reads "warm-up" "$OUT/hot.txt" 3 > /dev/null
reads "reads, hot set ($HOT users), c=8, 1 entity, 32 features" "$OUT/hot.txt" "$DUR"
reads "reads, uniform over $USERS users, c=8, 1 entity, 32 features" "$OUT/users.txt" "$DUR"
metrics > "$OUT/metrics_reads.txt"; grep -E '^featc_[a-z_]*(entit|state|cache|disk|store|evict)' "$OUT/metrics_reads.txt" >&2 || true
row "peak RSS after the reads (VmHWM)" "$(hwm_mib "$SERVER") MiB"

echo "== push throughput (durable)" >&2
BASE=$((MAX_TS_US + 86400000000))
ROWS=1000 BASE_US="$BASE" UID_MIN="$UID_MIN" UID_MAX="$UID_MAX" taskset -c 1 wrk -t1 -c8 -d"${DUR}s" \
    --timeout 30s -s bench/serve/push.lua "http://127.0.0.1:$PORT" | tee -a "$OUT/wrk.txt" \
    | wrk_row "durable push, c=8, 1000 events a push, users uniform over ids $UID_MIN..$UID_MAX"
metrics > "$OUT/metrics_push.txt"; grep -E '^featc_[a-z_]*(wal|checkpoint|events_total|entit|state|cache|disk|store|evict)' "$OUT/metrics_push.txt" >&2 || true
row "peak RSS after the pushes (VmHWM)" "$(hwm_mib "$SERVER") MiB"
row "state on disk after the pushes (du -sb)" "$(( $(du -sb "$STATE" | cut -f1) / 1048576 )) MiB"

echo "== restart after SIGKILL" >&2
kill -KILL "$SERVER"; wait "$SERVER" 2>/dev/null || true
t0=$(now); start_server; wait_ready; t1=$(now)
row "restart after SIGKILL (ready after)" "$(secs "$t0" "$t1") s"
first=$(head -1 "$OUT/hot.txt")
t0=$(now)
curl -sf "http://127.0.0.1:$PORT/get-online-features" \
    -d "{\"features\":[\"txn_count_life\"],\"entities\":{\"user_id\":[$first]}}" > "$OUT/after_restart.json"
row "first read after the restart" "$(secs "$t0" "$(now)") s, $(cut -c1-120 "$OUT/after_restart.json")"
row "peak RSS of the restarted server (VmHWM)" "$(hwm_mib "$SERVER") MiB"
grep "featc serve: state" "$OUT/server.txt" | tail -2 >&2 || true
t0=$(now); kill -TERM "$SERVER"; wait "$SERVER" || true
row "graceful stop (SIGTERM: drain + checkpoint)" "$(secs "$t0" "$(now)") s"
[ "$check_ok" != NO ]
