#!/usr/bin/env bash
# Feast's own SDK against `featc serve` (docs/serving.md, "Feast"): Feast's
# FeatureStore, with the repo that page shows and a remote online store at a server of
# examples/fraud (127.0.0.1, a free port, stopped at the end), reads by features, by
# service, with full feature names and with the composite key, every cell equal to
# `featc training-set` at the server's read time; pushes with `store.push` and reads
# their effect; and gets Feast's exceptions for featc's refusals (scripts/feast/check.py).
#
# Feast comes from a virtualenv of its own, target/feast-env, created from
# scripts/feast/requirements.txt (Feast pins pandas below 3, which python/'s test
# environment has) and re-created only when that file changes. Uses the featc binary
# of the test build (scripts/lib.sh: target/debug/featc, built if missing, or FEATC_BIN).
source "$(dirname "$0")/lib.sh"
ENV="$TARGET_DIR/feast-env"
FEATC=$(featc_binary)
started=$(date +%s)
venv "$ENV" "$ROOT/scripts/feast/requirements.txt"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/featc-feast.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# Feast's usage reporting off: the check talks to no one but the local server.
FEAST_USAGE=False TZ=UTC "$ENV/bin/python" scripts/feast/check.py "$FEATC" "$WORK" ||
    fail "Feast's client disagrees with featc (above); the server's log: $(cat "$WORK/serve.log" 2>/dev/null | tail -n 20)"
echo "check-feast: passed in $(($(date +%s) - started)) s"
