#!/usr/bin/env bash
# The catalog's HTML page in a real browser: builds featc (debug), writes
# `featc catalog --format html` of every example and acceptance case into a
# temporary folder, opens each page in Debian's headless chromium with a search in
# the URL (`#q=TERM`) and checks the DOM chromium dumps after the page's script ran:
# the ready marker is set and no JS error was recorded, the search hid exactly the
# entries whose name, doc, owner and tags do not hold every word of the query
# (match-count says how many stayed), and the lineage graph has one node per
# feature, dimmed when the search hid its entry. chromium comes from
# scripts/services/install, featc from the test build (scripts/lib.sh: built if
# missing, or FEATC_BIN).
source "$(dirname "$0")/lib.sh"
started=$(date +%s)

command -v chromium > /dev/null \
    || fail "chromium is missing: run scripts/services/install (as root) or install Debian's chromium"
command -v python3 > /dev/null || fail "python3 is missing"

FEATC=$(featc_binary)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/featc-catalog-html.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# One page, one query: the DOM after the script ran, checked against what the page
# itself says (every entry's data-search, the JSON catalog's features).
check_page() {
    local name="$1" html="$2" json="$3" query="$4"
    local dom="$WORK/$name.$RANDOM.dom.html"
    dump_dom "file://$html#q=$query" "$dom" "$WORK"
    python3 - "$name" "$html" "$dom" "$json" "$query" <<'PY' || exit 1
import html as htmllib
import json
import re
import sys
import urllib.parse

name, page_path, dom_path, json_path, query = sys.argv[1:]
page = open(page_path, encoding="utf-8").read()
dom = open(dom_path, encoding="utf-8").read()
catalog = json.load(open(json_path, encoding="utf-8"))

def fail(message):
    print(f"check-catalog-html: {name} (#q={query}): {message}", file=sys.stderr)
    sys.exit(1)


# What the search must keep: every word of the query in an entry's data-search.
terms = urllib.parse.unquote(query).lower().split()
searchable = [htmllib.unescape(s) for s in re.findall(r'<article class="entry"[^>]*data-search="([^"]*)"', page)]
expected = sum(1 for s in searchable if all(t in s for t in terms))
total = len(searchable)
if not 0 < expected < total:
    fail(f"the query should keep some of the {total} entries and hide others; it keeps {expected}")
count = re.search(r'<span id="match-count">(\d+)</span>', dom)
if count is None or int(count.group(1)) != expected:
    fail(f"match-count is {count and count.group(1)}, expected {expected} of {total}")
articles = re.findall(r"<article [^>]*>", dom)
visible = [a for a in articles if not re.search(r"\shidden(=|\s|>)", a)]
if len(articles) != total or len(visible) != expected:
    fail(f"{len(visible)} of {len(articles)} entries visible, expected {expected} of {total}")

# The lineage graph: one node per feature, named as the JSON catalog names them.
features = [f["name"] for f in catalog["features"]]
nodes = [htmllib.unescape(n) for n in re.findall(r'<g class="node feature [^"]*" data-name="([^"]*)"', dom)]
if nodes != features:
    fail(f"the graph's feature nodes {nodes} are not the features {features}")
# The search dims the graph's nodes of the features it hid, and only those.
shown_features = [a for a in visible if 'data-kind="feature"' in a]
dimmed = re.findall(r'<g class="node feature [^"]* dim" data-name=', dom)
if len(dimmed) != len(features) - len(shown_features):
    fail(f"{len(dimmed)} feature nodes dimmed, expected {len(features) - len(shown_features)}")
print(f"check-catalog-html: {name} (#q={query}): {expected} of {total} entries, {len(nodes)} feature nodes", file=sys.stderr)
PY
}

pages=0
for dir in examples/* tests/cases/*; do
    compgen -G "$dir/*.feat" > /dev/null || continue
    name=$(basename "$dir")
    "$FEATC" catalog "$dir" --format html --out "$WORK/$name.html" 2> "$WORK/featc.log" \
        || fail "featc catalog $dir failed: $(cat "$WORK/featc.log")"
    "$FEATC" catalog "$dir" --format json --out "$WORK/$name.json" 2> "$WORK/featc.log" \
        || fail "featc catalog $dir --format json failed: $(cat "$WORK/featc.log")"
    # The first feature's name: a query that keeps it and hides most entries.
    first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["features"][0]["name"])' "$WORK/$name.json")
    check_page "$name" "$WORK/$name.html" "$WORK/$name.json" "$first"
    pages=$((pages + 1))
done
[ "$pages" -ge 2 ] || fail "expected the examples' pages, checked $pages"
# Two words, URL-encoded: both must be in an entry (its doc), in any order.
check_page fraud "$WORK/fraud.html" "$WORK/fraud.json" "holder%20CARD"
# A word of a definition only (no name, doc or tag says it): the features using it.
check_page fraud "$WORK/fraud.html" "$WORK/fraud.json" "count_if"
echo "check-catalog-html: $pages pages checked in chromium ($(( $(date +%s) - started )) s)" >&2
