#!/usr/bin/env bash
# bench/batch.sh: featc's batch path (`featc training-set`) against DuckDB on the
# synthetic case (32 features: every aggregation over 1h/1d/7d/30d and lifetime), and
# with POLARS=1 against polars' rolling windows.
#
#   bench/batch.sh              # 1e6 and 1e7 events
#   bench/batch.sh 1e6          # any event counts, as gen.py reads them (1e5, 3e6, 2000000)
#   DUCKDB=0 SQL=0 bench/batch.sh 1e8    # featc alone (DuckDB takes long at 1e8)
#   POLARS=1 bench/batch.sh 1e6          # also polars' rolling windows
#
# For each size it
#   1. generates events + spine with bench/peers/gen.py (fixed seed; cached under
#      bench-data/synth_<events>_seed<SEED>_spine<SPINE>/, delete the folder to redo),
#   2. runs the release featc under /usr/bin/time (wall seconds, peak RSS) with
#      `--partitions 1` and `--partitions 2` (the outputs must be the same bytes),
#   3. runs bench/peers/reference.py (DuckDB range joins) on the same files,
#   4. checks featc and DuckDB agree with bench/peers/compare.py,
#   4b. with POLARS=1, runs bench/peers/polars_rolling.py (polars' rolling windows, one
#      per window, lifetime cumulative) under /usr/bin/time and checks it agrees with
#      featc (compare.py); before the sizes it checks the peer against every
#      tests/cases/*/expected.parquet,
#   5. with SQL=1, times featc's emitted SQL (`featc build --emit sql`) on DuckDB and
#      on Spark in local mode (bench/sql/time_sql.py, in the virtualenv that
#      scripts/check-sql-engines.sh makes; values checked there, row counts here),
# and prints one table row per size. "DuckDB s" is the query time reference.py
# prints (reading the parquet files included, writing its output excluded), so the
# ratio does not count Python start-up against DuckDB; likewise the SQL timings.
# "polars s" is the time polars_rolling.py prints (reading the parquet files,
# computing and writing its output; Python start-up and imports excluded), its peak
# MiB the whole process's.
#
# Needs python3 (>= 3.10) with venv, a Rust toolchain and GNU time (/usr/bin/time).
# The first run creates a venv in bench-data/venv from bench/peers/requirements.txt
# (PyPI access) and builds featc in release.
#
# Environment:
#   SEED=7 SPINE=1e5   data generation (gen.py --seed / --spine)
#   DUCKDB=0           skip DuckDB; compare with its output of an earlier run if any
#   POLARS=1           also time polars' rolling windows (bench/peers/polars_rolling.py)
#   SQL=1              time the emitted SQL on DuckDB and Spark (needs
#                      target/sql-engines-env: run scripts/check-sql-engines.sh once)
#   MEMORY_LIMIT=SIZE  featc's --memory-limit (default: featc's own default)
#   SPARK_MEMORY=8g    Spark's driver heap with SQL=1
#   CARGO_TARGET_DIR   where cargo builds (default: target/)
#   PYTHON=python3     the interpreter the venv is made from
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SEED="${SEED:-7}"
SPINE="${SPINE:-1e5}"
DUCKDB="${DUCKDB:-1}"
SQL="${SQL:-0}"
POLARS="${POLARS:-0}"
MEMORY_LIMIT="${MEMORY_LIMIT:-}"
PYTHON="${PYTHON:-python3}"
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1e6 1e7)
CASE="$ROOT/tests/cases/synthetic"
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench/batch.sh needs GNU time at $TIME" >&2; exit 2; }

source "$ROOT/bench/lib.sh"

# 1. The Python venv (re-made when requirements.txt changes).
bench_venv

# 2. featc, release build. Every bench script builds both packages in this one
# command: built apart, each resolves other features of DataFusion's crates and
# rebuilds them (about 40 minutes on a 2-core machine), so featc and the bench tools
# (kafka_load, ...) share one build.
echo "== building featc (release)" >&2
cargo build --release --quiet -p featc-cli -p featc-bench
FEATC="${CARGO_TARGET_DIR:-$ROOT/target}/release/featc"

# With POLARS=1 the peer first reproduces every acceptance case's expected.parquet.
if [ "$POLARS" != 0 ]; then
    TMPDIR="$DATA" "$ROOT/bench/peers/polars_cases.sh" "$PY"
fi

rows=()
for size in "${SIZES[@]}"; do
    dir="$DATA/synth_${size}_seed${SEED}_spine${SPINE}"
    if [ ! -f "$dir/spine.parquet" ]; then
        echo "== generating $dir" >&2
        "$PY" "$PEERS/gen.py" --events "$size" --spine "$SPINE" --seed "$SEED" --out "$dir" >&2
    fi

    limit=()
    [ -n "$MEMORY_LIMIT" ] && limit=(--memory-limit "$MEMORY_LIMIT")
    declare -A secs mib
    for p in 1 2; do
        echo "== featc, $size events, $p partitions" >&2
        res="$(timed "$FEATC" training-set "$CASE" \
            --spine "$dir/spine.parquet" --source "events=$dir/events.parquet" \
            --partitions "$p" "${limit[@]}" --out "$dir/featc_p$p.parquet")"
        read -r "secs[$p]" "mib[$p]" <<<"$res"
    done
    cmp -s "$dir/featc_p1.parquet" "$dir/featc_p2.parquet" \
        || { echo "== 1 and 2 partitions wrote different files at $size events" >&2; exit 1; }
    mv "$dir/featc_p2.parquet" "$dir/featc.parquet"
    rm -f "$dir/featc_p1.parquet"
    speedup="$(awk -v a="${secs[1]}" -v b="${secs[2]}" 'BEGIN { printf "%.2fx", a / (b > 0 ? b : 0.01) }')"

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

    polars_s="-"
    polars_mib="-"
    polars_ratio="-"
    polars_agree="-"
    if [ "$POLARS" != 0 ]; then
        echo "== polars' rolling windows, $size events" >&2
        res="$(timed "$PY" "$PEERS/polars_rolling.py" --spec "$CASE/spec.json" \
            --events "$dir/events.parquet" --spine "$dir/spine.parquet" \
            --out "$dir/polars.parquet" 2>"$dir/polars.txt")"
        cat "$dir/polars.txt" >&2
        read -r _ polars_mib <<<"$res"
        polars_s="$(sed -n 's/^polars: .* in \([0-9.]*\)s .*$/\1/p' "$dir/polars.txt")"
        [ -n "$polars_s" ] || { echo "== polars_rolling.py failed at $size events" >&2; exit 1; }
        polars_ratio="$(awk -v p="$polars_s" -v f="${secs[2]}" 'BEGIN { printf "%.1fx", p / (f > 0 ? f : 0.01) }')"
        if "$PY" "$PEERS/compare.py" --spec "$CASE/spec.json" "$dir/featc.parquet" "$dir/polars.parquet" \
            >"$dir/compare_polars.txt"; then
            polars_agree=yes
        else
            polars_agree=no
            echo "== featc and polars disagree at $size events: see $dir/compare_polars.txt" >&2
            head -40 "$dir/compare_polars.txt" >&2
        fi
    fi

    ratio="-"
    [ "$duck_s" != "-" ] && ratio="$(awk -v d="$duck_s" -v f="${secs[2]}" 'BEGIN { printf "%.1fx", d / (f > 0 ? f : 0.01) }')"

    sql_duck="-"
    sql_spark="-"
    if [ "$SQL" != 0 ]; then
        SQLPY="$ROOT/target/sql-engines-env/bin/python"
        [ -x "$SQLPY" ] || { echo "SQL=1 needs $SQLPY: run scripts/check-sql-engines.sh once" >&2; exit 2; }
        echo "== emitted SQL on DuckDB and Spark, $size events" >&2
        # Spark's local driver is its only executor: the default 1 GiB heap runs out.
        out="$(SPARK_LOCAL_IP=127.0.0.1 PYSPARK_SUBMIT_ARGS="--driver-memory ${SPARK_MEMORY:-8g} pyspark-shell" \
            "$SQLPY" "$ROOT/bench/sql/time_sql.py" --data "$dir" --featc "$FEATC")"
        echo "$out" >&2
        grep -q WRONG <<<"$out" && { echo "== the emitted SQL gave a wrong row count" >&2; exit 1; }
        sql_duck="$(sed -n 's/^duckdb round 1: \([0-9.]*\) s$/\1/p' <<<"$out")"
        sql_spark="$(sed -n 's/^spark round 1: \([0-9.]*\) s$/\1/p' <<<"$out")"
    fi
    rows+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |' "$size" \
        "${secs[1]}" "${mib[1]}" "${secs[2]}" "${mib[2]}" "$speedup" \
        "$duck_s" "$ratio" "$sql_duck" "$sql_spark" "$agree" \
        "$polars_s" "$polars_mib" "$polars_ratio" "$polars_agree")")
done

echo
echo "| events | featc 1p s | 1p peak MiB | featc 2p s | 2p peak MiB | 2p speed-up | DuckDB s | DuckDB / featc 2p | emitted SQL on DuckDB s | emitted SQL on Spark s | agree | polars s | polars peak MiB | polars / featc 2p | polars agrees |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
