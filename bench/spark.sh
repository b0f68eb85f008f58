#!/usr/bin/env bash
# bench/spark.sh: featc.spark.training_set (featc's operator inside Spark's executors,
# the release wheel) on Spark local[2] against `featc training-set --partitions 2`, on
# the 32-feature synthetic case's bench data (bench/batch.sh makes it).
#
#   bench/spark.sh              # 1e6 events, 1e5 spine rows
#   bench/spark.sh 1e6 1e7      # any sizes bench/batch.sh has generated
#
# Needs: the data folder bench-data/synth_<size>_seed7_spine1e5 with featc.parquet
# (run `DUCKDB=0 bench/batch.sh <size>` first: it times featc training-set and
# writes featc.parquet, the file the Spark output is checked against); Java 17.
# Makes bench-data/spark-venv from python/requirements-spark.txt and installs the
# release wheel into it (maturin build --release, cached in target/wheels-release).
#
# Environment: CORES=2 (local[N]), PARTITIONS=8 (the shuffle's shares),
# SPARK_MEMORY=6g (the driver's heap: in local mode it is the only executor).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1e6)
VENV="$ROOT/bench-data/spark-venv"
if ! cmp -s python/requirements-spark.txt "$VENV/requirements-spark.txt" 2>/dev/null; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet -r python/requirements-spark.txt
    cp python/requirements-spark.txt "$VENV/"
fi
WHEELS="${CARGO_TARGET_DIR:-$ROOT/target}/wheels-release"
echo "== building the release wheel" >&2
(cd python && "$VENV/bin/python" -m pip install --quiet maturin==1.16.0 \
    && "$VENV/bin/maturin" build --release --quiet -o "$WHEELS") >&2
"$VENV/bin/pip" install --quiet --force-reinstall --no-deps "$WHEELS"/featc-*.whl
for size in "${SIZES[@]}"; do
    dir="$ROOT/bench-data/synth_${size}_seed7_spine1e5"
    [ -f "$dir/featc.parquet" ] || { echo "no $dir/featc.parquet: run DUCKDB=0 bench/batch.sh $size first" >&2; exit 2; }
    echo "== featc.spark on local[${CORES:-2}], $size events" >&2
    "$VENV/bin/python" bench/spark/time_operator.py --data "$dir" --case tests/cases/synthetic \
        --cores "${CORES:-2}" --partitions "${PARTITIONS:-8}" --memory "${SPARK_MEMORY:-6g}"
done
