#!/usr/bin/env bash
# bench/audit.sh: `featc audit` of a served log against `featc training-set` for a
# spine of the same size, on the 32-feature synthetic case (issue 44's benchmark:
# 1e6 logged reads of 32 features against a 1e7-event history; target: the audit
# within 1.5x of the training set).
#
#   bench/audit.sh                 # 1e7 events, 1e6 reads
#   EVENTS=1e6 READS=1e5 bench/audit.sh
#
# 1. generates events + spine with bench/peers/gen.py (fixed seed; cached under
#    bench-data/synth_<events>_seed<SEED>_spine<READS>/, the venv as bench/batch.sh's),
# 2. runs the release `featc training-set` over the spine under GNU time (the peer),
# 3. turns its output into a served log as `featc serve --log-served` writes it
#    (`read_time`, `served_at`, the key, each feature and its status, the features
#    named in the metadata): what a server that served exactly the training values
#    for those reads would have logged,
# 4. runs the release `featc audit` on it under GNU time, which must find every cell
#    equal (exit 0, 32 x READS cells),
# and prints both times, peak RSS and the ratio.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SEED="${SEED:-7}"
EVENTS="${EVENTS:-1e7}"
READS="${READS:-1e6}"
PYTHON="${PYTHON:-python3}"
CASE="$ROOT/tests/cases/synthetic"
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench/audit.sh needs GNU time at $TIME" >&2; exit 2; }
source "$ROOT/bench/lib.sh"
bench_venv

echo "== building featc (release)" >&2
cargo build --release --quiet -p featc-cli -p featc-bench
FEATC="${CARGO_TARGET_DIR:-$ROOT/target}/release/featc"

dir="$DATA/synth_${EVENTS}_seed${SEED}_spine${READS}"
if [ ! -f "$dir/spine.parquet" ]; then
    echo "== generating $dir" >&2
    "$PY" "$PEERS/gen.py" --events "$EVENTS" --spine "$READS" --seed "$SEED" --out "$dir" >&2
fi

echo "== featc training-set, $EVENTS events, $READS spine rows" >&2
read -r train_s train_mib <<<"$(timed "$FEATC" training-set "$CASE" --quiet \
    --spine "$dir/spine.parquet" --source "events=$dir/events.parquet" \
    --out "$dir/audit_train.parquet")"

echo "== the served log of those reads" >&2
rm -rf "$dir/served"
mkdir -p "$dir/served"
"$PY" - "$dir/audit_train.parquet" "$dir/spine.parquet" "$dir/served/served-00000000000000000000-000000.parquet" <<'PY'
import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq

source, spine, target = sys.argv[1:]
train = pq.read_table(source)
keys = ["user_id"]
spine_columns = pq.read_schema(spine).names
features = [n for n in train.column_names if n not in spine_columns]
columns = {"read_time": train.column("ts"), "served_at": train.column("ts")}
for k in keys:
    columns[k] = train.column(k)
for f in features:
    values = train.column(f)
    columns[f] = values
    # Feast's status of a served value: every feature was asked for.
    columns[f + "__status"] = pa.array(
        ["NULL_VALUE" if v is None else "PRESENT" for v in values.to_pylist()], pa.string()
    )
table = pa.table(columns).replace_schema_metadata({"featc.features": json.dumps(features)})
pq.write_table(table, target, row_group_size=8192)
print(f"{table.num_rows} reads of {len(features)} features", file=sys.stderr)
PY

echo "== featc audit" >&2
read -r audit_s audit_mib <<<"$(timed "$FEATC" audit "$CASE" --quiet --format json \
    --served "$dir/served" --source "events=$dir/events.parquet" --out "$dir/audit.json")"
"$PY" - "$dir/audit.json" <<'PY'
import json
import sys

report = json.load(open(sys.argv[1]))
cells = report["cells"]
if cells["unexplained"] or cells["explained"] or report["exact_reads"] != report["audited_reads"]:
    sys.exit(f"the audit did not find every cell equal: {cells}")
print(f"audit: {report['audited_reads']} reads, {cells['equal']} cells equal", file=sys.stderr)
PY

ratio="$(awk -v a="$audit_s" -v b="$train_s" 'BEGIN { printf "%.2fx", a / (b > 0 ? b : 0.01) }')"
echo
echo "| events | reads | training-set s | peak MiB | audit s | peak MiB | audit / training-set |"
echo "|---|---|---|---|---|---|---|"
echo "| $EVENTS | $READS | $train_s | $train_mib | $audit_s | $audit_mib | $ratio |"
