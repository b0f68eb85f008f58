#!/usr/bin/env bash
# `featc audit --format html` in a real browser: serves the checkout example (its
# history, at the events' clock, logging what it serves), reads it with curl, audits
# the log against the example and against a copy whose `spent_7d` counts 8 days (so
# two causes are explained: events held for their lookups, a changed definition),
# opens each page in Debian's headless chromium and checks the DOM chromium dumps
# after the page's script ran: the ready marker is set and no JS error was recorded,
# the chart has one bar group per bucket of the report's timeline, and its bars add up,
# cause by cause, to the report's counts (the JSON of the same audit). chromium comes
# from scripts/services/install, featc from the test build (scripts/lib.sh).
source "$(dirname "$0")/lib.sh"
started=$(date +%s)

command -v chromium > /dev/null \
    || fail "chromium is missing: run scripts/services/install (as root) or install Debian's chromium"
command -v python3 > /dev/null || fail "python3 is missing"
command -v curl > /dev/null || fail "curl is missing"

FEATC=$(featc_binary)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/featc-audit-html.XXXXXX")
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2> /dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# The server, on a free loopback port (its first stdout line names it).
"$FEATC" serve examples/checkout --bootstrap --clock events --listen 127.0.0.1:0 --quiet \
    --log-served "$WORK/served" > "$WORK/stdout" 2> "$WORK/serve.log" &
server=$!
for _ in $(seq 1 240); do
    grep -q '^listening on http://' "$WORK/stdout" && break
    sleep 0.25
done
line=$(grep -m1 '^listening on http://' "$WORK/stdout") \
    || fail "featc serve did not start: $(cat "$WORK/serve.log")"
addr=${line#listening on http://}
for _ in $(seq 1 240); do
    curl -sf "http://$addr/health" | grep -q '"ready"' && break
    sleep 0.25
done
curl -sf "http://$addr/health" | grep -q '"ready"' || fail "featc serve never became ready"
read_features() {
    curl -sf -X POST "http://$addr/get-online-features" -d "$1" > /dev/null \
        || fail "the read $1 failed"
}
read_features '{"feature_service": "fraud_v1", "entities": {"user_id": [1, 2, 3, 10, 11, 12, 13]}, "request_context": {"amount": [1.5, 2, 3, 4, 5, 6, 7]}}'
read_features '{"features": ["spending:spent_7d", "spending:avg_last10", "activity:events_1d"], "entities": {"user_id": [12, 14, 15]}}'
kill -TERM "$server"
wait "$server" || fail "featc serve did not stop cleanly: $(cat "$WORK/serve.log")"
server=""

# Today's project with `spent_7d` over 8 days, reading the example's data.
sed 's/spent_7d             = sum(amount) over 7d/spent_7d             = sum(amount) over 8d/' \
    examples/checkout/checkout.feat > "$WORK/changed.feat"
cmp -s examples/checkout/checkout.feat "$WORK/changed.feat" && fail "the edit of spent_7d did not apply"
data=examples/checkout/data

check_page() {
    local name="$1"; shift
    "$FEATC" audit "$@" --served "$WORK/served" --format html --out "$WORK/$name.html" -q \
        || fail "$name: featc audit (html) failed"
    "$FEATC" audit "$@" --served "$WORK/served" --format json --out "$WORK/$name.json" -q \
        || fail "$name: featc audit (json) failed"
    local dom="$WORK/$name.dom.html"
    dump_dom "file://$WORK/$name.html" "$dom" "$WORK"
    python3 - "$name" "$dom" "$WORK/$name.json" <<'PY' || exit 1
import json
import re
import sys

name, dom_path, json_path = sys.argv[1:]
dom = open(dom_path, encoding="utf-8").read()
report = json.load(open(json_path, encoding="utf-8"))

def fail(message):
    print(f"check-audit-html: {name}: {message}", file=sys.stderr)
    sys.exit(1)

groups = re.findall(r'<g class="bucket"', dom)
if len(groups) != len(report["timeline"]):
    fail(f"{len(groups)} bar groups, the report has {len(report['timeline'])} buckets")
drawn = {}
for kind, count in re.findall(r'<rect [^>]*data-kind="([^"]+)" data-count="(\d+)"', dom):
    drawn[kind] = drawn.get(kind, 0) + int(count)
expected = dict(report["cells"]["explained"])
if report["cells"]["unexplained"]:
    expected["unexplained"] = report["cells"]["unexplained"]
if drawn != expected:
    fail(f"the bars add up to {drawn}, the report counts {expected}")
if not expected:
    fail("the audit should have explained cells to draw")
print(f"check-audit-html: {name}: {len(groups)} buckets, bars {drawn}", file=sys.stderr)
PY
}

check_page example examples/checkout
check_page changed "$WORK/changed.feat" --source "payments=$data/payments.csv" \
    --source "logins=$data/logins.csv" --source "chargebacks=$data/chargebacks.csv"
grep -q definition_changed "$WORK/changed.json" || fail "changed: no definition_changed cell"
grep -q held_for_lookup "$WORK/example.json" || fail "example: no held_for_lookup cell"
echo "check-audit-html: 2 pages checked in chromium ($(( $(date +%s) - started )) s)" >&2
