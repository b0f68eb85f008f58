#!/usr/bin/env bash
# bench/billion.sh: `featc training-set` on a billion events (issue 46): the synthetic
# case (tests/cases/synthetic, 32 features) over 1e9 events of 1e7 users with a
# 1e6-row spine, in bounded memory on a 2-core machine.
#
#   bench/billion.sh                       # 1e9 events (about 13 GB of parquet)
#   bench/billion.sh 1e8                   # another size: users = events / 100
#   bench/billion.sh 1e9 /mnt/big/b1e9     # the data in DIR (outside the repo)
#
# It
#   1. builds featc and the generator (the one cargo command of every bench script),
#   2. generates events + spine with the Rust generator `gen` (bench/stream/src/bin_gen:
#      gen.py's chunked distributions, seeded, a few minutes for 1e9 events; cached
#      in bench-data/billion_<events>_seed<SEED>_spine<SPINE>/ or DIR, delete to redo),
#   3. runs the release featc under `/usr/bin/time -v` with `--partitions` and
#      `--passes`, watching the free space of the spill's disk (TMPDIR) every second,
# and prints one table row: generation time, featc's wall time and peak RSS, what its
# sorts spilled to disk in all (the CLI's "spilled to disk" line) and the most the
# spill held on disk at once (the largest drop in free space, so keep the disk quiet);
#   4. with CHECK=1 (the default), checks featc's output against DuckDB's reference on
#      a sample of 300 users (bench/peers/sample_check.py: a row's features depend only
#      on its user's events; about a minute at 1e9).
#
# Environment:
#   SEED=7 SPINE=1e6        generation (gen --seed / --spine)
#   USERS=N                 gen --users (default events / 100)
#   CHUNK_ROWS=5e6          gen --chunk-rows: rows per row group of events.parquet
#   PARTITIONS=2            featc --partitions
#   PASSES=1                featc --passes (N passes by key share: about 1/N of the
#                           spill on disk at once; 1e9 events need 4 on a disk with
#                           about 25 GB free)
#   MEMORY_LIMIT=SIZE       featc --memory-limit (default: featc's own default)
#   CHECK=1                 step 4 (0: skip it)
#   CARGO_TARGET_DIR        where cargo builds (default: target/)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
EVENTS="${1:-1e9}"
SEED="${SEED:-7}"
SPINE="${SPINE:-1e6}"
USERS="${USERS:-}"
CHUNK_ROWS="${CHUNK_ROWS:-5e6}"
PARTITIONS="${PARTITIONS:-2}"
PASSES="${PASSES:-1}"
CHECK="${CHECK:-1}"
MEMORY_LIMIT="${MEMORY_LIMIT:-}"
CASE="$ROOT/tests/cases/synthetic"
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench/billion.sh needs GNU time at $TIME" >&2; exit 2; }

source "$ROOT/bench/lib.sh"

name="billion_${EVENTS}_seed${SEED}_spine${SPINE}${USERS:+_users$USERS}"
dir="${2:-$DATA/$name}"

# 1. featc and gen, release build: both packages in one command, as every bench script
# (built apart, each resolves other features of DataFusion's crates and rebuilds them).
echo "== building featc and gen (release)" >&2
cargo build --release --quiet -p featc-cli -p featc-bench
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"

# 2. The data, unless already there (spine.parquet is written last).
gen_s="cached"
gen_rate="-"
if [ ! -f "$dir/spine.parquet" ]; then
    mkdir -p "$dir"
    # About 13 bytes per event in events.parquet (zstd); featc's spill needs room too.
    need_gb="$(awk -v e="$EVENTS" 'BEGIN { printf "%.0f", e * 13 / 1e9 + 1 }')"
    free_gb="$(df -P -BG "$dir" | awk 'NR == 2 { sub("G", "", $4); print $4 }')"
    if [ "$free_gb" -lt "$need_gb" ]; then
        echo "== $dir: about $need_gb GB needed for the events, $free_gb GB free" >&2
        exit 1
    fi
    echo "== generating $dir" >&2
    users=()
    [ -n "$USERS" ] && users=(--users "$USERS")
    res="$(timed "$BIN/gen" --events "$EVENTS" --spine "$SPINE" --seed "$SEED" \
        --chunk-rows "$CHUNK_ROWS" "${users[@]}" --out "$dir")"
    read -r gen_s gen_mib <<<"$res"
    gen_rate="$(awk -v e="$EVENTS" -v s="$gen_s" -v m="$gen_mib" \
        'BEGIN { printf "%.1f M rows/s, peak %s MiB", e / 1e6 / (s > 0 ? s : 0.01), m }')"
fi

# 3. featc under GNU time -v: its report to a file, featc's own lines (progress, the
# spill) to the terminal and a log.
limit=()
[ -n "$MEMORY_LIMIT" ] && limit=(--memory-limit "$MEMORY_LIMIT")
log="$(mktemp)"
report="$(mktemp)"
disk="$(mktemp)"
trap 'rm -f "$log" "$report" "$disk"' EXIT
spill_dir="${TMPDIR:-/tmp}"
free_kib() { df -P -k "$spill_dir" | awk 'NR == 2 { print $4 }'; }
before="$(free_kib)"
( while sleep 1; do free_kib; done >"$disk" ) &
watcher=$!
echo "== featc, $EVENTS events, $PARTITIONS partitions, $PASSES passes" >&2
"$TIME" -v -o "$report" "$BIN/featc" training-set "$CASE" \
    --spine "$dir/spine.parquet" --source "events=$dir/events.parquet" \
    --partitions "$PARTITIONS" --passes "$PASSES" "${limit[@]}" \
    --out "$dir/featc.parquet" 2>&1 | tee "$log" >&2
kill "$watcher" 2>/dev/null || true
# The output file is written at the end, beside the spill: the drop is an upper bound.
on_disk="$(awk -v b="$before" '{ d = b - $1; if (d > m) m = d } END { printf "%.1f GiB", m / 1048576 }' "$disk")"

# "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02:03" -> seconds.
wall="$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$report" \
    | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.1f", s }')"
peak="$(awk '/Maximum resident set size/ { printf "%.0f", $NF / 1024 }' "$report")"
spilled="$(sed -n 's/^ *\(.*\) spilled to disk.*/\1/p' "$log")"

echo
echo "| events | spine | gen s | gen rate | featc ${PARTITIONS}p ${PASSES} passes s | peak MiB | spilled | most on disk |"
echo "|---|---|---|---|---|---|---|---|"
printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$EVENTS" "$SPINE" "$gen_s" "$gen_rate" \
    "$wall" "$peak" "${spilled:-none}" "$on_disk"

# 4. featc against DuckDB on a sample of users.
if [ "$CHECK" = 1 ]; then
    PYTHON="${PYTHON:-python3}"
    bench_venv
    if "$PY" "$PEERS/sample_check.py" --spec "$CASE/spec.json" --events "$dir/events.parquet" \
        --spine "$dir/spine.parquet" --featc "$dir/featc.parquet" --work "$dir/sample" \
        >"$dir/sample_check.txt"; then
        echo "featc and DuckDB agree on a sample ($(head -1 "$dir/sample_check.txt"))"
    else
        echo "featc and DuckDB DISAGREE on a sample: $dir/sample_check.txt"
        exit 1
    fi
fi
