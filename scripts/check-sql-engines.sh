#!/usr/bin/env bash
# The emitted SQL on real engines (docs/scale-out.md, "How it is checked"): for every
# public case, `featc build --emit sql` in the spark, duckdb and postgres dialects, run
# on Spark in local mode, on DuckDB over the case's Parquet files and on PostgreSQL
# (the Parquet data loaded into tables), each result compared with `featc
# training-set`'s output (floats within 1e-9 relative, the rest exact, nulls in the
# same places); also a case kept for this check, tests/sql-engines/float_keys (-0.0,
# +0.0 and NaNs of either sign and payload as entity keys, which the engines' own
# equality and grouping key otherwise). Then `featc verify --sql-engine` on the same
# three engines, and on an engine that changes one value, which it must catch. Exits 1
# on any difference, with a report per case and engine.
#
# The engines come from a virtualenv of its own, target/sql-engines-env, created from
# scripts/sql-engines/requirements.txt (pinned pyspark 3.5.8 on the machine's Java 17,
# duckdb, pyarrow, psycopg) and re-created only when that file changes. PostgreSQL is
# Debian's (scripts/services/install), started here on 127.0.0.1 only, in a temporary
# folder, and stopped at the end, also on failure. Uses the featc binary of the test
# build (scripts/lib.sh: target/debug/featc, built if missing, or FEATC_BIN).
source "$(dirname "$0")/lib.sh"
ENV="$TARGET_DIR/sql-engines-env"
FEATC=$(featc_binary)
CASES=(synthetic marketplace)
# The folders whose emitted SQL runs on each engine: the public cases, then cases kept
# for this check alone.
SQL_CASES=("${CASES[@]/#/tests/cases/}" tests/sql-engines/float_keys)
started=$(date +%s)

venv "$ENV" "$ROOT/scripts/sql-engines/requirements.txt"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/featc-sql.XXXXXX")
# PostgreSQL runs as the postgres user, which must reach its folder inside.
chmod 755 "$WORK"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGDIR="$WORK/pg"
SPARK_PID=
stop() {
    if [ -n "$SPARK_PID" ]; then
        kill "$SPARK_PID" 2> /dev/null || true
        wait "$SPARK_PID" 2> /dev/null || true
    fi
    if [ -f "$PGDIR/data/postmaster.pid" ]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop > /dev/null || true
    fi
    rm -rf "$WORK"
}
trap stop EXIT

# One Spark session for every `featc verify --sql-engine spark=...` below
# (scripts/sql-engines/spark_server.py): a JVM start per generated case would be most
# of their time. Started first, so that it comes up while the rest runs.
export FEATC_SPARK_SOCKET="$WORK/spark.sock"
SPARK_LOCAL_IP=127.0.0.1 TZ=UTC "$ENV/bin/python" scripts/sql-engines/spark_server.py \
    "$FEATC_SPARK_SOCKET" > "$WORK/spark-server.log" 2>&1 &
SPARK_PID=$!

# The expected results and the scripts, per case.
for dir in "${SQL_CASES[@]}"; do
    case=$(basename "$dir")
    mkdir -p "$WORK/$case"
    "$FEATC" training-set "$dir" --spine "$dir/spine.parquet" \
        --out "$WORK/$case/featc.parquet" --quiet > /dev/null
    for dialect in spark duckdb postgres; do
        "$FEATC" build "$dir" --emit sql --dialect "$dialect" > "$WORK/$case/$dialect.sql"
    done
done

# PostgreSQL on a free loopback port, owned by the postgres user (initdb refuses root).
PORT=$("$ENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$PGDIR"
chown postgres:postgres "$PGDIR"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 --locale=C > /dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
    -o "-p $PORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off" start > /dev/null

status=0
SPARK_LOCAL_IP=127.0.0.1 TZ=UTC "$ENV/bin/python" scripts/sql-engines/run.py \
    --work "$WORK" --pg-port "$PORT" "${SQL_CASES[@]}" || status=$?

# `featc verify --sql-engine` on the same engines (docs/verify.md), every engine
# compared with the reference cell by cell: DuckDB and Spark on a sample of each
# case's data and on generated cases; PostgreSQL on the sample only, because the
# generated cases' extreme floats (1e300) overflow its float8 arithmetic, which
# raises an error where featc answers inf or NaN (docs/scale-out.md). Then an engine
# that changes one value, which verify must catch (exit 1, the cell named).
ENGINE=("$ENV/bin/python" "$ROOT/scripts/sql-engines/verify_engine.py")
for _ in $(seq 300); do
    [ -S "$FEATC_SPARK_SOCKET" ] || ! kill -0 "$SPARK_PID" 2> /dev/null && break
    sleep 0.5
done
[ -S "$FEATC_SPARK_SOCKET" ] || fail "the shared Spark session did not start: $(tail -n 20 "$WORK/spark-server.log")"
verify_on() { # CASE LABEL ARGS...: featc verify, its report kept and shown on failure
    local case=$1 label=$2 dir="tests/cases/$1"
    shift 2
    [ -d "$dir" ] || dir="tests/sql-engines/$case"
    [ -d "$dir" ] || dir="examples/$case"
    mkdir -p "$WORK/$case"
    if SPARK_LOCAL_IP=127.0.0.1 TZ=UTC "$FEATC" verify "$dir" --quiet --no-sql \
        --sample 5000 --spine-rows 1000 "$@" > "$WORK/$case/verify-$label.txt" 2>&1; then
        echo "$case: featc verify on $label: $(tail -n 1 "$WORK/$case/verify-$label.txt")"
    else
        echo "$case: featc verify on $label FAILED:"
        cat "$WORK/$case/verify-$label.txt"
        status=1
    fi
}
for case in "${CASES[@]}"; do
    verify_on "$case" "duckdb and spark" --cases 2 \
        --sql-engine "duckdb=${ENGINE[*]} duckdb" --sql-engine "spark=${ENGINE[*]} spark"
    verify_on "$case" postgres --cases 0 \
        --sql-engine "postgres=${ENGINE[*]} postgres --pg-port $PORT"
done
# The delivery example: count windows (their cut by time then value), shifted windows
# and percentiles, on each engine (its list features are refused, E0040, and left out).
verify_on delivery "duckdb and spark" --cases 2 \
    --sql-engine "duckdb=${ENGINE[*]} duckdb" --sql-engine "spark=${ENGINE[*]} spark"
verify_on delivery postgres --cases 0 \
    --sql-engine "postgres=${ENGINE[*]} postgres --pg-port $PORT"
# The float-key case on its own data (verify's generated keys hold no -0.0 nor NaN).
verify_on float_keys "every engine" --cases 0 --sql-engine "duckdb=${ENGINE[*]} duckdb" \
    --sql-engine "spark=${ENGINE[*]} spark" --sql-engine "postgres=${ENGINE[*]} postgres --pg-port $PORT"
verify_status=0
TZ=UTC "$FEATC" verify tests/cases/synthetic --quiet --no-sql --generated-only --cases 1 \
    --sql-engine "duckdb=${ENGINE[*]} duckdb --corrupt" > "$WORK/corrupt.txt" 2>&1 || verify_status=$?
if [ "$verify_status" = 1 ] && grep -q "sql:duckdb .*<- differs" "$WORK/corrupt.txt"; then
    echo "featc verify caught the engine that changes one value: $(grep -m 1 "<- differs" "$WORK/corrupt.txt" | tr -s ' ')"
else
    echo "featc verify did not catch the engine that changes one value (exit $verify_status):"
    cat "$WORK/corrupt.txt"
    status=1
fi
echo "check-sql-engines: $(( $(date +%s) - started )) s" >&2
exit $status
