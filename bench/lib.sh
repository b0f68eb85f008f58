# bench/lib.sh: what the batch benchmarks share (sourced by bench/batch.sh and
# bench/audit.sh, after they set ROOT, PYTHON and TIME): the Python venv of the
# peers, and timing a command.

DATA="$ROOT/bench-data"
VENV="$DATA/venv"
PEERS="$ROOT/bench/peers"
mkdir -p "$DATA"

# The Python venv of bench/peers (re-made when requirements.txt changes); sets PY.
bench_venv() {
    if ! cmp -s "$PEERS/requirements.txt" "$VENV/requirements.txt" 2>/dev/null; then
        echo "== creating $VENV" >&2
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV"
        "$VENV/bin/pip" install --quiet -r "$PEERS/requirements.txt"
        cp "$PEERS/requirements.txt" "$VENV/requirements.txt"
    fi
    PY="$VENV/bin/python"
}

# Runs a command under GNU time; prints "<wall s> <peak MiB>" on stdout, the
# command's own output on stderr.
timed() {
    local log
    log="$(mktemp)"
    "$TIME" -f "%e %M" -o "$log" "$@" >&2
    awk '{ printf "%.2f %.0f\n", $1, $2 / 1024 }' "$log"
    rm -f "$log"
}
