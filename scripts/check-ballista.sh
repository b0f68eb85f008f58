#!/usr/bin/env bash
# The batch plan on a Ballista cluster (featc-ballista): starts one
# featc-ballista-scheduler and two featc-ballista-executor processes on 127.0.0.1
# (free ports, one task at a time each, logs and shuffle files in a temporary
# folder), then for every public case, at the default batch size and
# at 7 rows, runs `featc training-set` in process and with `--ballista`, and checks
# that both outputs are identical bit for bit (scripts/ballista/compare.py: schema,
# row order, every cell's bits). Also checks that a task failing on an executor and
# an unreachable scheduler are errors naming the cluster's address, and that both
# executors ran tasks. Every process started here is stopped at the end, also on
# failure. Uses the binaries of the test build (scripts/lib.sh: target/debug/featc,
# or FEATC_BIN, and the two above, built if missing with the workspace's features)
# and the virtualenv of scripts/check-sql-engines.sh (created the same way if
# missing).
source "$(dirname "$0")/lib.sh"
ENV="$TARGET_DIR/sql-engines-env"
FEATC=$(featc_binary)
SCHEDULER=$(workspace_binary featc-ballista-scheduler)
EXECUTOR=$(workspace_binary featc-ballista-executor)
CASES=(synthetic marketplace)
started=$(date +%s)

venv "$ENV" "$ROOT/scripts/sql-engines/requirements.txt"
PYTHON="$ENV/bin/python"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/featc-ballista.XXXXXX")
PIDS=()
stop() {
    local status=$?
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2> /dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        # A graceful stop takes a moment; after 10 s, force it.
        for _ in $(seq 50); do
            kill -0 "$pid" 2> /dev/null || break
            sleep 0.2
        done
        kill -KILL "$pid" 2> /dev/null || true
        wait "$pid" 2> /dev/null || true
    done
    if [ "$status" -ne 0 ]; then
        for log in "$WORK"/*.log; do
            [ -f "$log" ] && { echo "--- last lines of $log" >&2; tail -n 20 "$log" >&2; }
        done
    fi
    rm -rf "$WORK"
}
trap stop EXIT

# Free loopback ports: the scheduler's, then each executor's Flight and gRPC ports,
# then one nothing listens on (for the unreachable-scheduler check).
read -r SCHED E1 E1G E2 E2G CLOSED < <("$PYTHON" -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
')

# Waits until something listens on 127.0.0.1:$1, for at most $2 seconds.
wait_port() {
    for _ in $(seq $(( $2 * 5 ))); do
        if (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; then
            return 0
        fi
        sleep 0.2
    done
    fail "nothing listens on 127.0.0.1:$1 after $2 s"
}

"$SCHEDULER" --bind 127.0.0.1 --port "$SCHED" > "$WORK/scheduler.log" 2>&1 &
PIDS+=($!)
wait_port "$SCHED" 60
for i in 1 2; do
    if [ "$i" = 1 ]; then ports=("$E1" "$E1G"); else ports=("$E2" "$E2G"); fi
    mkdir -p "$WORK/executor$i"
    "$EXECUTOR" --bind 127.0.0.1 --port "${ports[0]}" --grpc-port "${ports[1]}" \
        --scheduler "127.0.0.1:$SCHED" --concurrent-tasks 1 --work-dir "$WORK/executor$i" \
        > "$WORK/executor$i.log" 2>&1 &
    PIDS+=($!)
done
for _ in $(seq 300); do
    registered=$(grep -c "Received register executor request" "$WORK/scheduler.log" || true)
    [ "$registered" -ge 2 ] && break
    sleep 0.2
done
[ "$registered" -ge 2 ] || fail "$registered of 2 executors registered with the scheduler"
CLUSTER="df://127.0.0.1:$SCHED"

# Every case, in process and on the cluster, at two batch sizes.
for case in "${CASES[@]}"; do
    for size in default 7; do
        args=("tests/cases/$case" --spine "tests/cases/$case/spine.parquet" --quiet)
        [ "$size" = default ] || args+=(--batch-size "$size")
        out="$WORK/$case-$size"
        "$FEATC" training-set "${args[@]}" --out "$out-local.parquet" 2> "$out-local.err" \
            || fail "$case: the local run failed: $(cat "$out-local.err")"
        "$FEATC" training-set "${args[@]}" --out "$out-cluster.parquet" --ballista "$CLUSTER" \
            2> "$out-cluster.err" || fail "$case: the run on $CLUSTER failed: $(cat "$out-cluster.err")"
        if ! result=$("$PYTHON" scripts/ballista/compare.py "$out-local.parquet" "$out-cluster.parquet" 2>&1); then
            fail "$case (batch size $size): the cluster's training set differs: $result"
        fi
        echo "check-ballista: $case (batch size $size): $result" >&2
    done
done

# A task failing on an executor: a derived feature that overflows int64.
mkdir -p "$WORK/boom"
cp tests/cases/synthetic/features.feat tests/cases/synthetic/events.parquet "$WORK/boom/"
cat >> "$WORK/boom/features.feat" <<'FEAT'

/// Overflows as soon as a user has two transactions.
view overflow from events by user {
    feature total = count(*)
    feature boom = total * 9223372036854775807
}
FEAT
if "$FEATC" training-set "$WORK/boom" --spine tests/cases/synthetic/spine.parquet --quiet \
    --out "$WORK/boom.parquet" --ballista "$CLUSTER" 2> "$WORK/boom.err"; then
    fail "a run whose feature overflows succeeded on the cluster"
fi
grep -q "on the Ballista cluster at $CLUSTER" "$WORK/boom.err" && grep -q "int64 overflow" "$WORK/boom.err" \
    || fail "a task's failure is not reported with the cluster's address: $(cat "$WORK/boom.err")"

# No scheduler at the address.
if "$FEATC" training-set tests/cases/synthetic --spine tests/cases/synthetic/spine.parquet --quiet \
    --out "$WORK/none.parquet" --ballista "df://127.0.0.1:$CLOSED" 2> "$WORK/none.err"; then
    fail "a run on a closed port succeeded"
fi
grep -q "cannot reach the Ballista scheduler at df://127.0.0.1:$CLOSED" "$WORK/none.err" \
    || fail "an unreachable scheduler is not named: $(cat "$WORK/none.err")"

# Both executors took part, and every process is still up.
for i in 1 2; do
    tasks=$(grep -c "Finished task" "$WORK/executor$i.log" || true)
    [ "$tasks" -ge 1 ] || fail "executor $i ran no task"
    echo "check-ballista: executor $i ran $tasks tasks" >&2
done
for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2> /dev/null || fail "a cluster process (pid $pid) died"
done
echo "check-ballista: $(( $(date +%s) - started )) s" >&2
