#!/usr/bin/env bash
# bench/partitions.sh: a training set over a source declared `partition day by day`
# beside the same training set over the unpartitioned file (docs/sources.md, "Time
# partitions").
#
#   bench/partitions.sh             # the synthetic case's 1e6 events (60 days)
#   SIZE=1e7 bench/partitions.sh
#
# 1. data and the release featc: `DUCKDB=0 bench/batch.sh SIZE` (cached);
# 2. the events split into one folder per UTC day (`day=YYYY-MM-DD/part-0.parquet`,
#    pyarrow), and a spine of the rows of the case's spine in the events' last week;
# 3. `featc training-set` of the synthetic case's features of windows up to 7 days
#    (FEATURES), the source bound to the one file, then to the folder with the
#    case's source declared `partition day by day`: RUNS runs each, alternating,
#    wall seconds; the two outputs compared row for row.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SIZE="${SIZE:-1e6}"
RUNS="${RUNS:-3}"
FEATURES="${FEATURES:-txn_count_1h,txn_count_1d,txn_count_7d,amount_count_7d,mobile_count_7d,big_count_1d,amount_sum_1h,amount_sum_7d,amount_avg_1d,amount_min_7d,amount_max_1d,amount_last_1h,amount_first_7d,mobile_last_1d,category_distinct_7d,amount_stddev_7d,mobile_amount_sum_7d,nonfood_count_1d,desktop_amount_last_7d}"
DATA="$ROOT/bench-data/synth_${SIZE}_seed7_spine1e5"
OUT="$ROOT/bench-data/partitions_${SIZE}"
FEATC="${CARGO_TARGET_DIR:-$ROOT/target}/release/featc"

echo "== data and release build" >&2
DUCKDB=0 bench/batch.sh "$SIZE" > /dev/null
PY="$ROOT/bench-data/venv/bin/python"

echo "== the events by day, the last week's spine" >&2
rm -rf "$OUT"; mkdir -p "$OUT/parted"
"$PY" - "$DATA" "$OUT" <<'PY'
import os, sys, datetime as dt
import pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
data, out = sys.argv[1], sys.argv[2]
events = pq.read_table(f"{data}/events.parquet")
days = pc.strftime(events["ts"], format="%Y-%m-%d", locale="C")
for day in sorted(set(days.to_pylist())):
    part = events.filter(pc.equal(days, day))
    os.makedirs(f"{out}/events/day={day}", exist_ok=True)
    pq.write_table(part, f"{out}/events/day={day}/part-0.parquet")
spine = pq.read_table(f"{data}/spine.parquet")
last = pc.max(events["ts"]).as_py()
week = pa.scalar(last - dt.timedelta(days=7), type=spine["ts"].type)
late = spine.filter(pc.and_(pc.greater_equal(spine["ts"], week),
                            pc.less_equal(spine["ts"], pa.scalar(last, type=spine["ts"].type))))
pq.write_table(late, f"{out}/spine.parquet")
print(f"{len(set(days.to_pylist()))} days, {late.num_rows} spine rows", file=sys.stderr)
PY
sed "s/^source events {/source events {\n    partition day by day/" \
    tests/cases/synthetic/features.feat > "$OUT/parted/features.feat"

for run in $(seq "$RUNS"); do
    for kind in file partitions; do
        if [ "$kind" = file ]; then
            args=(tests/cases/synthetic --source "events=$DATA/events.parquet")
        else
            args=("$OUT/parted" --source "events=$OUT/events/")
        fi
        t0=$(date +%s.%N)
        "$FEATC" training-set "${args[@]}" --spine "$OUT/spine.parquet" \
            --features "$FEATURES" --out "$OUT/$kind.parquet" -q 2> "$OUT/$kind.err"
        t1=$(date +%s.%N)
        echo "RESULT $kind run=$run seconds=$(echo "$t1 - $t0" | bc)"
    done
done
grep -h "partitions of" "$OUT/partitions.err" || true
"$PY" - "$OUT" <<'PY'
import sys, pyarrow.parquet as pq
out = sys.argv[1]
a, b = pq.read_table(f"{out}/file.parquet"), pq.read_table(f"{out}/partitions.parquet")
assert a.equals(b), "the two training sets differ"
print(f"same {a.num_rows} rows", file=sys.stderr)
PY
