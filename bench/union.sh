#!/usr/bin/env bash
# A view over two sources against one view per source (issue 43's target: a view
# over two sources costs no more than the two single-source views). Usage:
#
#   bench/union.sh [EVENTS=1e6] [ROUNDS=3]
#
# 1. uses bench/counted.sh's data (gen.py's events, 1000 users, a 1e5-row spine,
#    cached under bench-data/counted/), each source reading the same events;
# 2. times `featc training-set --partitions 2` (release) on bench/union/one_view
#    (sum, avg, max over 6d of `events, more`) and bench/union/two_views (the same
#    features of `events` and of `more`), interleaved, ROUNDS times each;
# 3. runs the streaming benchmark (bench/stream) with the views
#    bench/stream/views/union_sum_6d.feat and two_sources_sum_6d.feat (each batch's
#    first half ingested into `events`, the rest into `more`), 1000 users.
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
    for project in one_view two_views; do
        start=$(date +%s.%N)
        "$FEATC" training-set "bench/union/$project" --source "events=$DATA/events.parquet" \
            --source "more=$DATA/events.parquet" --spine "$DATA/spine.parquet" \
            --out "$DATA/union_$project.parquet" --partitions 2 >/dev/null 2>&1
        end=$(date +%s.%N)
        echo "training-set $project round $round: $(echo "$end - $start" | bc) s"
    done
done
for view in union_sum_6d two_sources_sum_6d; do
    echo "stream $view:"
    cargo run --release -q -p featc-bench --bin stream -- "$EVENTS" --mode featc --users 1000 \
        --view "bench/stream/views/$view.feat" | grep -E "^(RESULT|ingest|read)" || true
done
