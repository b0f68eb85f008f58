#!/usr/bin/env bash
# bench/batch.sh: featc's batch path (`featc training-set`) against DuckDB on the
# synthetic case (32 features: every aggregation over 1h/1d/7d/30d and lifetime).
#
#   bench/batch.sh              # 1e6 and 1e7 events
#   bench/batch.sh 1e6          # any event counts, as gen.py reads them (1e5, 3e6, 2000000)
#
# For each size it
#   1. generates events + spine with bench/peers/gen.py (fixed seed; cached under
#      bench-data/synth_<events>_seed<SEED>_spine<SPINE>/, delete the folder to redo),
#   2. runs the release featc under /usr/bin/time (wall seconds, peak RSS),
#   3. runs bench/peers/reference.py (DuckDB range joins) on the same files,
#   4. checks the two outputs agree with bench/peers/compare.py,
# and prints one table row per size. "DuckDB s" is the query time reference.py
# prints (reading the parquet files included, writing its output excluded), so the
# ratio does not count Python start-up against DuckDB.
#
# Needs python3 (>= 3.10) with venv, a Rust toolchain and GNU time (/usr/bin/time).
# The first run creates a venv in bench-data/venv from bench/peers/requirements.txt
# (PyPI access) and builds featc in release.
#
# Environment:
#   SEED=7 SPINE=1e5   data generation (gen.py --seed / --spine)
#   DUCKDB=0           skip DuckDB; compare with its output of an earlier run if any
#   CARGO_TARGET_DIR   where cargo builds (default: target/)
#   PYTHON=python3     the interpreter the venv is made from
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SEED="${SEED:-7}"
SPINE="${SPINE:-1e5}"
DUCKDB="${DUCKDB:-1}"
PYTHON="${PYTHON:-python3}"
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1e6 1e7)
DATA="$ROOT/bench-data"
VENV="$DATA/venv"
PEERS="$ROOT/bench/peers"
CASE="$ROOT/tests/cases/synthetic"
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench/batch.sh needs GNU time at $TIME" >&2; exit 2; }

mkdir -p "$DATA"

# 1. The Python venv (re-made when requirements.txt changes).
if ! cmp -s "$PEERS/requirements.txt" "$VENV/requirements.txt" 2>/dev/null; then
    echo "== creating $VENV" >&2
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet -r "$PEERS/requirements.txt"
    cp "$PEERS/requirements.txt" "$VENV/requirements.txt"
fi
PY="$VENV/bin/python"

# 2. featc, release build.
echo "== building featc (release)" >&2
cargo build --release --quiet -p featc
FEATC="${CARGO_TARGET_DIR:-$ROOT/target}/release/featc"

# Runs a command under GNU time; prints "<wall s> <peak MiB>" on stdout, the
# command's own output on stderr.
timed() {
    local log
    log="$(mktemp)"
    "$TIME" -f "%e %M" -o "$log" "$@" >&2
    awk '{ printf "%.2f %.0f\n", $1, $2 / 1024 }' "$log"
    rm -f "$log"
}

rows=()
for size in "${SIZES[@]}"; do
    dir="$DATA/synth_${size}_seed${SEED}_spine${SPINE}"
    if [ ! -f "$dir/spine.parquet" ]; then
        echo "== generating $dir" >&2
        "$PY" "$PEERS/gen.py" --events "$size" --spine "$SPINE" --seed "$SEED" --out "$dir" >&2
    fi

    echo "== featc, $size events" >&2
    res="$(timed "$FEATC" training-set "$CASE" \
        --spine "$dir/spine.parquet" --source "events=$dir/events.parquet" \
        --out "$dir/featc.parquet")"
    read -r featc_s featc_mib <<<"$res"

    duck_s="-"
    if [ "$DUCKDB" != 0 ]; then
        echo "== DuckDB, $size events" >&2
        # reference.py puts DuckDB's spill folder under ./data: keep it in bench-data.
        out="$(cd "$DATA" && "$PY" "$PEERS/reference.py" --spec "$CASE/spec.json" \
            --events "$dir/events.parquet" --spine "$dir/spine.parquet" \
            --out "$dir/duckdb.parquet")"
        echo "$out" >&2
        duck_s="$(sed -n 's/^duckdb: .* in \([0-9.]*\)s$/\1/p' <<<"$out")"
    fi

    agree="-"
    if [ -f "$dir/duckdb.parquet" ]; then
        if "$PY" "$PEERS/compare.py" "$dir/duckdb.parquet" "$dir/featc.parquet" >"$dir/compare.txt"; then
            agree=yes
        else
            agree=no
            echo "== featc and DuckDB disagree at $size events: see $dir/compare.txt" >&2
            head -40 "$dir/compare.txt" >&2
        fi
    fi

    ratio="-"
    [ "$duck_s" != "-" ] && ratio="$(awk -v d="$duck_s" -v f="$featc_s" 'BEGIN { printf "%.1fx", d / (f > 0 ? f : 0.01) }')"
    rows+=("$(printf '| %s | %s | %s | %s | %s | %s |' "$size" "$featc_s" "$featc_mib" "$duck_s" "$ratio" "$agree")")
done

echo
echo "| events | featc s | featc peak MiB | DuckDB s | DuckDB / featc | agree |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
