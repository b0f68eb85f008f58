#!/usr/bin/env bash
# bench/serve_probes.sh: `featc serve` under abusive clients, each bound of its
# resources (docs/serving.md, "Limits") measured with a release build.
#
#   bench/serve_probes.sh                       # every probe, default flags
#   PROBES="idle slowloris" bench/serve_probes.sh
#   FEATC=/work/golden/base-release/featc HEALTH_PORT= bench/serve_probes.sh   # a binary without --health-listen
#
# Serves examples/fraud (no bootstrap, tokens required) on 127.0.0.1:$PORT, with its
# health listener on 127.0.0.1:$HEALTH_PORT (PORT + 1; empty: none), and runs
# bench/serve/probes.py against it, one probe at a time: 20 000 idle connections,
# slowloris (2 000 connections sending headers a byte every 0.5 s), 200 Arrow bodies
# declaring a 2 GiB message, 10 000 concurrent reads, 200 unauthenticated 64 MiB
# pushes. Each prints a Markdown row: what the clients got, the server's peak RSS and
# descriptors (/proc/PID), `/health` latency on the health listener and on the data
# port (p50 / max, a new connection every 100 ms each, from processes of their own)
# and how long the probe took. Compressed Arrow bombs are covered by the server's
# tests (server/tests/serve_limits.rs), not here (crafting Arrow IPC without pyarrow).
# Raises its descriptor limit to the hard limit (the server inherits it). Everything
# listens on 127.0.0.1 only and is stopped at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PORT="${PORT:-16700}"
HEALTH_PORT="${HEALTH_PORT-$((PORT + 1))}"
FEATC="${FEATC:-${CARGO_TARGET_DIR:-$ROOT/target}/release/featc}"
OUT="$ROOT/bench-data/serve_probes"
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)"

if [[ "${BUILD:-1}" == 1 && "$FEATC" == */target/release/featc ]]; then
    cargo build --release --quiet -p featc-cli -p featc-bench
fi
printf 'reader-secret\n' > "$OUT/read.token"
printf 'pusher-secret\n' > "$OUT/push.token"

"$FEATC" serve examples/fraud --listen "127.0.0.1:$PORT" --quiet \
    --read-token-file "$OUT/read.token" --push-token-file "$OUT/push.token" \
    ${HEALTH_PORT:+--health-listen "127.0.0.1:$HEALTH_PORT"} \
    ${SERVE_FLAGS:-} > "$OUT/stdout.txt" 2> "$OUT/server.txt" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/health" > /dev/null; do
    kill -0 "$SERVER" 2>/dev/null || { cat "$OUT/server.txt" >&2; exit 1; }
    sleep 0.05
done
echo "featc: $FEATC ($(ulimit -n) descriptors; flags: ${SERVE_FLAGS:-defaults})"
echo "resident memory when ready: $(( $(ps -o rss= -p "$SERVER") / 1024 )) MiB"
echo
echo "| probe | answers | peak RSS | peak fds | /health p50 / max: health listener | data port | took |"
echo "|---|---|---|---|---|---|---|"
args=()
for p in ${PROBES:-idle slowloris length_prefix concurrent unauthenticated_64MiB_pushes}; do
    args+=(--probe "$p")
done
python3 bench/serve/probes.py --port "$PORT" --health-port "${HEALTH_PORT:-0}" --pid "$SERVER" \
    --read-token reader-secret --push-token pusher-secret "${args[@]}" ${PROBE_FLAGS:-}
kill -0 "$SERVER" 2>/dev/null && echo && echo "the server is still up: $(curl -s "http://127.0.0.1:$PORT/health")"
