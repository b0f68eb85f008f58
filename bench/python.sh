#!/usr/bin/env bash
# bench/python.sh: featc's Python package on the synthetic case (32 features), side by
# side with the featc CLI, a hand-written pandas merge_asof pipeline and Feast's
# get_historical_features (bench/python/*.py say exactly what each measures).
#
#   bench/python.sh              # 1e6 events, 1e5 spine rows
#   bench/python.sh 1e6 1e7      # any sizes gen.py reads
#
# For each size it generates (or reuses) the data of bench/batch.sh
# (bench-data/synth_<events>_seed<SEED>_spine<SPINE>/), then runs, in one process each:
#   binding.py      the CLI, training_set from paths, + the CLI's Parquet write, from
#                   pyarrow Tables, pandas and polars frames (overhead of the binding)
#   peer_pandas.py  featc against pandas merge_asof on the 27 features pandas expresses
#   peer_feast.py   featc against Feast on the 5 features Feast expresses, with
#                   Feast's duckdb and its default dask offline store
#   online.py       online reads from Python: the embedded store, and featc.Client
#                   on a featc serve over loopback
# appending JSON lines to bench-data/python-results.jsonl, and prints the table
# (bench/python/report.py) that BENCHMARKS.md shows.
#
# Needs python3 with venv, a Rust toolchain and PyPI access. The first run creates
# bench-data/python-bench-venv (bench/python/requirements.txt: maturin, pandas, polars,
# pyarrow, Feast) and builds featc and its wheel in release (the figures mean nothing
# for a development build).
#
# Environment: SEED=7 SPINE=1e5 (data), RUNS=5 (rounds per variant), FEAST_RUNS=3
# and FEAST_DASK_RUNS=1 (Feast's rounds), READS=2000 (online reads per shape),
# PYTHON=python3,
# FEATC_WHEEL (a wheel to install instead of building one).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SEED="${SEED:-7}"
SPINE="${SPINE:-1e5}"
RUNS="${RUNS:-5}"
READS="${READS:-2000}"
FEAST_RUNS="${FEAST_RUNS:-3}"
FEAST_DASK_RUNS="${FEAST_DASK_RUNS:-1}"
PYTHON="${PYTHON:-python3}"
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1e6)
DATA="$ROOT/bench-data"
VENV="$DATA/python-bench-venv"
REQ="$ROOT/bench/python/requirements.txt"
RESULTS="$DATA/python-results.jsonl"
mkdir -p "$DATA"

if ! cmp -s "$REQ" "$VENV/requirements.txt" 2>/dev/null; then
    echo "== creating $VENV" >&2
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
    cp "$REQ" "$VENV/requirements.txt"
fi
PY="$VENV/bin/python"

echo "== building featc and its wheel (release)" >&2
cargo build --release --quiet -p featc-cli -p featc-bench
FEATC="${CARGO_TARGET_DIR:-$ROOT/target}/release/featc"
if [ -z "${FEATC_WHEEL:-}" ]; then
    rm -rf "$ROOT/target/wheels-release"
    (cd python && "$VENV/bin/maturin" build --release --quiet -o "$ROOT/target/wheels-release")
    FEATC_WHEEL="$(ls "$ROOT"/target/wheels-release/featc-*.whl)"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$FEATC_WHEEL"

: > "$RESULTS"
for size in "${SIZES[@]}"; do
    dir="$DATA/synth_${size}_seed${SEED}_spine${SPINE}"
    if [ ! -f "$dir/spine.parquet" ]; then
        echo "== generating $dir" >&2
        "$PY" bench/peers/gen.py --events "$size" --spine "$SPINE" --seed "$SEED" --out "$dir" >&2
    fi
    echo "== $size: featc CLI and Python" >&2
    (cd bench/python && "$PY" binding.py --featc "$FEATC" --data "$dir" --size "$size" --runs "$RUNS" --results "$RESULTS")
    echo "== $size: pandas merge_asof" >&2
    (cd bench/python && "$PY" peer_pandas.py --data "$dir" --size "$size" --runs "$RUNS" --results "$RESULTS")
    # Feast's default (dask) offline store takes about 11 minutes a run at 1e6: one run.
    for store in duckdb dask; do
        echo "== $size: Feast get_historical_features, $store offline store" >&2
        runs="$FEAST_RUNS"; [ "$store" = dask ] && runs="$FEAST_DASK_RUNS"
        (cd bench/python && FEAST_USAGE=False "$PY" peer_feast.py --data "$dir" --size "$size" \
            --runs "$runs" --offline-store "$store" --results "$RESULTS")
    done
    echo "== $size: online reads, embedded and through featc serve" >&2
    (cd bench/python && "$PY" online.py --featc "$FEATC" --data "$dir" --size "$size" --reads "$READS" --results "$RESULTS")
done
"$PY" bench/python/report.py "$RESULTS"
