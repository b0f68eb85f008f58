#!/usr/bin/env bash
# bench/s3.sh: `featc training-set` with its events read from an S3 server on
# loopback, beside the same training set from the local file (issue 45's benchmark:
# 1e7 events; target: S3 within 1.3x of local).
#
#   bench/s3.sh                    # 1e7 events, 1e5 spine rows
#   EVENTS=1e6 bench/s3.sh
#
# 1. the synthetic data (bench/peers/gen.py, cached as bench/batch.sh's) and the
#    release featc;
# 2. SeaweedFS (`weed server` from scripts/services/install: master, volume, filer and
#    S3 gateway) on 127.0.0.1 with its data in bench-data/s3, one identity; the bucket
#    made and the events uploaded with pyarrow's S3 client;
# 3. `featc training-set` of the 32-feature synthetic case from the local events,
#    then from `s3://bench/events.parquet`, alternating, ROUNDS (3) times each, under
#    GNU time; the outputs must be byte-identical.
# Everything listens on 127.0.0.1 only and is stopped at the end (also on error).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SEED="${SEED:-7}"
EVENTS="${EVENTS:-1e7}"
SPINE="${SPINE:-1e5}"
ROUNDS="${ROUNDS:-3}"
PYTHON="${PYTHON:-python3}"
CASE="$ROOT/tests/cases/synthetic"
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench/s3.sh needs GNU time at $TIME" >&2; exit 2; }
source "$ROOT/bench/lib.sh"
bench_venv
scripts/services/install
cargo build --release --quiet -p featc-cli -p featc-bench
FEATC="${CARGO_TARGET_DIR:-$ROOT/target}/release/featc"
dir="$DATA/synth_${EVENTS}_seed${SEED}_spine${SPINE}"
if [ ! -f "$dir/spine.parquet" ]; then
    echo "== generating $dir" >&2
    "$PY" "$PEERS/gen.py" --events "$EVENTS" --spine "$SPINE" --seed "$SEED" --out "$dir" >&2
fi

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
S3="$DATA/s3"
rm -rf "$S3"; mkdir -p "$S3/data"
PORT=$(free_port)
export AWS_ACCESS_KEY_ID=featc-bench AWS_SECRET_ACCESS_KEY="featc-bench-secret-$PORT"
export AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
cat > "$S3/s3.json" <<JSON
{"identities": [{"name": "featc", "credentials": [{"accessKey": "$AWS_ACCESS_KEY_ID", "secretKey": "$AWS_SECRET_ACCESS_KEY"}], "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
ports=()
for _ in 1 2 3 4 5 6 7; do ports+=("$(free_port)"); done
# An absolute free-space floor: weed's default, 1 % of the disk, turns every volume
# read-only (and every write into a hang) on a large disk with a few GB left.
.services/bin/weed -logtostderr server -dir="$S3/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -filer -s3 -s3.config="$S3/s3.json" -s3.port="$PORT" -s3.port.iceberg=0 -s3.port.lance=0 \
    -master.port="${ports[0]}" -master.port.grpc="${ports[1]}" -volume.port="${ports[2]}" \
    -volume.port.grpc="${ports[3]}" -filer.port="${ports[4]}" -filer.port.grpc="${ports[5]}" \
    -s3.port.grpc="${ports[6]}" -volume.minFreeSpace=64MiB > "$S3/weed.txt" 2>&1 &
WEED=$!
trap 'kill $WEED 2>/dev/null || true' EXIT

echo "== bucket and upload" >&2
"$PY" - "$PORT" "$dir/events.parquet" <<'PY'
import os, sys, time
import pyarrow.fs as fs
port, events = sys.argv[1:]
s3 = fs.S3FileSystem(access_key=os.environ["AWS_ACCESS_KEY_ID"],
                     secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                     endpoint_override=f"127.0.0.1:{port}", scheme="http", region="us-east-1",
                     allow_bucket_creation=True)
error = None
for attempt in range(600):
    try:
        s3.create_dir("bench")
        break
    except OSError as e:
        error = e
        time.sleep(0.1)
else:
    sys.exit(f"the S3 server did not start: {error}")
with open(events, "rb") as src, s3.open_output_stream("bench/events.parquet") as dst:
    while chunk := src.read(8 << 20):
        dst.write(chunk)
print("uploaded", os.path.getsize(events), "bytes", file=sys.stderr)
PY

run() {  # run LABEL EVENTS_LOCATION
    timed "$FEATC" training-set "$CASE" --quiet --spine "$dir/spine.parquet" \
        --source "events=$2" --out "$dir/s3_$1.parquet"
}
for round in $(seq "$ROUNDS"); do
    read -r local_s local_mib <<<"$(run local "$dir/events.parquet")"
    read -r s3_s s3_mib <<<"$(run s3 "s3://bench/events.parquet")"
    cmp -s "$dir/s3_local.parquet" "$dir/s3_s3.parquet" || { echo "outputs differ" >&2; exit 1; }
    echo "RESULT round=$round events=$EVENTS local_s=$local_s local_mib=$local_mib s3_s=$s3_s s3_mib=$s3_mib ratio=$(echo "scale=2; $s3_s / $local_s" | bc)"
done
