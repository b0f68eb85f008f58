#!/usr/bin/env bash
# bench/serve/bootstrap_rss.sh: `featc serve --bootstrap` into a fresh state directory
# with its entity states on disk, resident memory sampled every 0.5 s until /health
# answers ready (issue 40: where the bootstrap's peak comes from).
#
#   bench/serve/bootstrap_rss.sh DIR [LIMIT]   # DIR: a gen.py output folder; LIMIT: 400MiB
#
# Prints "SECONDS RSS_MIB" lines, then the time to ready and the peak (VmHWM). The
# server is pinned to core 0, listens on 127.0.0.1 only and is killed at the end.
# Environment: FEATC (default target/release/featc), PORT=16853, STATE (default
# bench-data/bootstrap_rss/state, emptied first).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
DATA="$(realpath "${1:?a gen.py output folder}")"
LIMIT="${2:-400MiB}"
FEATC="${FEATC:-$ROOT/target/release/featc}"
PORT="${PORT:-16853}"
STATE="${STATE:-$ROOT/bench-data/bootstrap_rss/state}"
rm -rf "$STATE"
mkdir -p "$(dirname "$STATE")"
taskset -c 0 "$FEATC" serve tests/cases/synthetic --source "events=$DATA/events.parquet" \
    --bootstrap --clock events --state "$STATE" --listen "127.0.0.1:$PORT" --quiet \
    --memory-limit "$LIMIT" > /dev/null 2> "$(dirname "$STATE")/server.txt" &
SERVER=$!
trap 'kill -9 $SERVER 2>/dev/null || true' EXIT
t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
until curl -sf -m 1 "http://127.0.0.1:$PORT/health" > /dev/null; do
    kill -0 "$SERVER" 2>/dev/null || { tail -5 "$(dirname "$STATE")/server.txt" >&2; exit 1; }
    awk -v t="$(elapsed)" '/^VmRSS/ { printf "%s %d\n", t, $2 / 1024 }' "/proc/$SERVER/status"
    sleep 0.5
done
echo "ready after $(elapsed) s; peak RSS (VmHWM) $(awk '/^VmHWM/ { print int($2 / 1024) }' "/proc/$SERVER/status") MiB"
