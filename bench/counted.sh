#!/usr/bin/env bash
# Count windows against duration windows of about as many events (issue 43's target:
# a count window of N = 100 costs at most 2x a duration window holding about 100
# events, in training-set and in stream ingest). Usage:
#
#   bench/counted.sh [EVENTS=1e6] [ROUNDS=3]
#
# 1. generates gen.py's events with 1000 users (about 100 events per user in 6
#    days) and a 1e5-row spine, cached under bench-data/counted/;
# 2. times `featc training-set --partitions 2` (release) on bench/counted/sum_6d
#    (sum, avg, max over 6d) and bench/counted/sum_last100 (the same over 100
#    events), interleaved, ROUNDS times each, and prints each run's seconds;
# 3. runs the streaming benchmark (bench/stream) with the views
#    bench/stream/views/sum_6d.feat and sum_100_events.feat, 1000 users.
#
# Needs what bench/batch.sh needs (its venv in bench-data/venv for gen.py).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
EVENTS="${1:-1e6}"
ROUNDS="${2:-3}"
DATA="bench-data/counted/data_$EVENTS"
[ -x bench-data/venv/bin/python ] || { echo "run bench/batch.sh once (it makes bench-data/venv)" >&2; exit 2; }
if [ ! -f "$DATA/events.parquet" ]; then
    bench-data/venv/bin/python bench/peers/gen.py --events "$EVENTS" --spine 1e5 --users 1000 --seed 7 --out "$DATA" >&2
fi
cargo build --release -q -p featc-cli -p featc-bench
FEATC="${CARGO_TARGET_DIR:-target}/release/featc"
for round in $(seq "$ROUNDS"); do
    for project in sum_6d sum_last100; do
        start=$(date +%s.%N)
        "$FEATC" training-set "bench/counted/$project" --source "events=$DATA/events.parquet" \
            --spine "$DATA/spine.parquet" --out "$DATA/$project.parquet" --partitions 2 >/dev/null 2>&1
        end=$(date +%s.%N)
        echo "training-set $project round $round: $(echo "$end - $start" | bc) s"
    done
done
for view in sum_6d sum_100_events; do
    echo "stream $view:"
    cargo run --release -q -p featc-bench --bin stream -- "$EVENTS" --mode featc --users 1000 \
        --view "bench/stream/views/$view.feat" | grep -E "^(RESULT|ingest|read)" || true
done
