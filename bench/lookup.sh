#!/usr/bin/env bash
# What an as-of lookup adds to stream ingest (issue 43's target: at most 1 µs per
# event). Usage:
#
#   bench/lookup.sh [EVENTS=1e6] [ROUNDS=3]
#
# Runs the streaming benchmark (bench/stream, release) ROUNDS times each, interleaved,
# with bench/stream/views/lookup_sum_6d.feat (view `with_lookup` over `events` looks
# up `other.more_count_1h` at each event's time) and lookup_baseline_6d.feat (the same
# views, the looked-up value replaced by a column), 1000 users; each batch's first
# half goes to `events`, the rest to `more`. The lookup's cost per event of `events`
# is (ingest with - ingest without) / (EVENTS / 2).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
EVENTS="${1:-1e6}"
ROUNDS="${2:-3}"
cargo build --release -q -p featc-cli -p featc-bench
for round in $(seq "$ROUNDS"); do
    for view in lookup_sum_6d lookup_baseline_6d; do
        echo "stream $view round $round:"
        cargo run --release -q -p featc-bench --bin stream -- "$EVENTS" --mode featc \
            --users 1000 --view "bench/stream/views/$view.feat" | grep -E "^(RESULT|ingest)" || true
    done
done
