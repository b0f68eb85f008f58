#!/usr/bin/env bash
# bench/peers/polars_cases.sh PYTHON: the polars peer (polars_rolling.py) must reproduce
# every acceptance case's expected.parquet (tests/cases/*: each source the spec names
# read from <case>/<source>.parquet), so that its timings in BENCHMARKS.md compare
# like with like. PYTHON has polars, pyarrow and numpy. Run by bench/batch.sh (POLARS=1)
# and by scripts/python-test; exits 1 on the first case that differs.
set -euo pipefail
PY="$1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$(mktemp -d "${TMPDIR:-$ROOT/target}/polars-cases.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT
for case in "$ROOT"/tests/cases/*/; do
    case="${case%/}"
    events=()
    for src in $("$PY" -c 'import json, sys
print(" ".join(sorted({f.get("source") or "events" for f in json.load(open(sys.argv[1]))})))' \
        "$case/spec.json"); do
        events+=(--events "$src=$case/$src.parquet")
    done
    echo "== polars' rolling windows on $case" >&2
    "$PY" "$ROOT/bench/peers/polars_rolling.py" --spec "$case/spec.json" "${events[@]}" \
        --spine "$case/spine.parquet" --out "$OUT/out.parquet" \
        --expected "$case/expected.parquet" >&2 \
        || { echo "== polars_rolling.py disagrees with $case/expected.parquet" >&2; exit 1; }
done
