# shellcheck shell=bash
# What every script of scripts/ shares, sourced by each (never run on its own): strict
# mode, the repository root as the working folder, `fail`, a virtualenv made from a
# pinned requirements file, and the workspace's binaries (featc, the Ballista
# processes). Those binaries come from the test build, `cargo test --workspace
# --no-run`, which builds them with the workspace's unified features: building one
# package instead (`cargo build -p featc-cli`) resolves other features and recompiles
# DataFusion and everything above it.
#
# Messages are prefixed by the sourcing script's name (its file name without `.sh`).

set -euo pipefail
SCRIPT_NAME=$(basename "$0" .sh)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$ROOT"

# fail MESSAGE...: says what went wrong, named by the script, and exits 1.
fail() {
    echo "$SCRIPT_NAME: $*" >&2
    exit 1
}

# venv DIR REQUIREMENTS: makes DIR a virtualenv holding exactly the pinned
# REQUIREMENTS, re-created only when that file changed since DIR was made (a copy of
# it is kept in DIR to tell).
venv() {
    local dir=$1 requirements=$2
    local made_from
    made_from="$dir/$(basename "$requirements")"
    if [ ! -x "$dir/bin/python" ] || ! cmp -s "$requirements" "$made_from"; then
        echo "$SCRIPT_NAME: creating $dir" >&2
        rm -rf "$dir"
        python3 -m venv "$dir"
        "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
        cp "$requirements" "$made_from"
    fi
}

# workspace_binary NAME: prints the path of the workspace's debug binary NAME, after
# building every test (and with them every binary a test runs) if it is missing.
workspace_binary() {
    local bin="$TARGET_DIR/debug/$1"
    if [ ! -x "$bin" ]; then
        echo "$SCRIPT_NAME: $bin is missing: building it with the tests (cargo test --workspace --no-run)" >&2
        cargo test --workspace --no-run >&2 || fail "building the tests failed"
        [ -x "$bin" ] || fail "cargo test --workspace --no-run built no $bin"
    fi
    echo "$bin"
}

# featc_binary: prints the featc binary to check: FEATC_BIN if set (it must exist),
# else the workspace's, built if missing (`workspace_binary`).
featc_binary() {
    if [ -n "${FEATC_BIN:-}" ]; then
        [ -x "$FEATC_BIN" ] || fail "FEATC_BIN=$FEATC_BIN is not an executable"
        echo "$FEATC_BIN"
    else
        workspace_binary featc
    fi
}

# dump_dom URL OUT WORK: the DOM of the page at URL after its scripts ran, as Debian's
# headless chromium dumps it, into OUT; chromium's profile (its own, never the
# user's) and log go in the folder WORK. The page's script must have marked its
# <body> data-ready="1" and recorded no data-error (featc's pages do both). Fails
# naming the page when chromium or its script does.
dump_dom() {
    local url="$1" out="$2" work="$3" body
    chromium --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$work/profile" --virtual-time-budget=2000 \
        --dump-dom "$url" > "$out" 2> "$work/chromium.log" \
        || fail "$url: chromium failed: $(tail -n 20 "$work/chromium.log")"
    body=$(grep -o '<body[^>]*>' "$out" | head -n 1)
    [ -n "$body" ] || fail "$url: no <body> in the dumped DOM"
    [[ "$body" == *'data-ready="1"'* ]] \
        || fail "$url: the page's script did not finish (no data-ready): $body"
    [[ "$body" != *data-error* ]] || fail "$url: the page recorded a JS error: $body"
}
