#!/usr/bin/env bash
# The generated Arroyo UDF crates (`featc build --emit arroyo`, DIR/udfs/): writes
# the UDF workspace of every spec the generator implements into a temporary folder
# (`featc build --emit arroyo --all-udfs`), builds it in its own workspace (it pins
# arrow 51 through arroyo-udf-plugin, so it never joins featc's workspace or
# lockfile; scripts/arroyo-udfs/Cargo.lock pins its dependencies), then runs every
# crate's `tests/featc_values.rs`: the UDF, called through `__run` as Arroyo calls
# it, against the values featc's runtime computed for the same inputs, bit for bit.
# Fails unless every crate's tests ran and passed. The build's target folder and the
# workspace are cached in target/arroyo-udfs (or $FEATC_ARROYO_UDFS_TARGET), so
# arrow 51 is compiled once and an unchanged crate is not rebuilt.
source "$(dirname "$0")/lib.sh"
UDFS_TARGET="${FEATC_ARROYO_UDFS_TARGET:-$TARGET_DIR/arroyo-udfs}"
LOCK="$ROOT/scripts/arroyo-udfs/Cargo.lock"
started=$(date +%s)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/featc-arroyo-udfs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# Generated afresh, then copied into the cached workspace file by file, only where
# it changed: a file rewritten with the same text would rebuild its crate.
UDFS="$UDFS_TARGET/workspace"

FEATC=$(featc_binary)
# One feature the pipeline can run (the whole project has features Arroyo refuses);
# --all-udfs adds a crate for every spec the generator implements.
(cd "$ROOT" && "$FEATC" build examples/fraud --emit arroyo --features txn_count_1h --all-udfs \
    --out "$WORK") > "$WORK/generate.log" 2>&1 \
    || fail "generating the workspace failed: $(tail -n 30 "$WORK/generate.log")"
[ -f "$WORK/udfs/Cargo.toml" ] || fail "featc build --all-udfs wrote no workspace into $WORK/udfs"
cp "$LOCK" "$WORK/udfs/Cargo.lock"
mkdir -p "$UDFS"
(cd "$WORK/udfs" && find . -type f) | while read -r f; do
    if ! cmp -s "$WORK/udfs/$f" "$UDFS/$f"; then
        mkdir -p "$(dirname "$UDFS/$f")"
        cp "$WORK/udfs/$f" "$UDFS/$f"
    fi
done
(cd "$UDFS" && find . -type f) | while read -r f; do
    [ -f "$WORK/udfs/$f" ] || rm -f "$UDFS/$f"
done
mapfile -t CRATES < <(sed -n 's/^    "\(featc_[a-z0-9_]*\)",$/\1/p' "$UDFS/Cargo.toml")
[ "${#CRATES[@]}" -gt 0 ] || fail "the generated workspace has no member"

# Every crate's featc_values test, in one run (one build, both cores busy).
export CARGO_TARGET_DIR="$UDFS_TARGET"
if ! cargo test --manifest-path "$UDFS/Cargo.toml" --workspace --no-fail-fast --test featc_values \
    > "$WORK/test.log" 2>&1; then
    fail "the generated crates do not build, or disagree with featc: $(grep -E -A 12 '^error|panicked|FAILED' "$WORK/test.log" | head -n 80)"
fi
ran=$(grep -c '^     Running tests/featc_values.rs' "$WORK/test.log" || true)
ok=$(grep -E -c '^test result: ok\. [1-9][0-9]* passed; 0 failed' "$WORK/test.log" || true)
passed=$(sed -n 's/^test result: ok\. \([0-9]*\) passed; 0 failed.*/\1/p' "$WORK/test.log" | awk '{ s += $1 } END { print s + 0 }')
[ "$ran" -eq "${#CRATES[@]}" ] && [ "$ok" -eq "${#CRATES[@]}" ] \
    || fail "of ${#CRATES[@]} crates, $ran ran their featc_values tests and $ok passed some: $(tail -n 30 "$WORK/test.log")"
echo "check-arroyo-udfs: ${#CRATES[@]} UDF crates agree with featc: $passed passed, 0 failed ($(( $(date +%s) - started )) s)" >&2
