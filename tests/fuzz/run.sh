#!/usr/bin/env bash
# Runs every libFuzzer target in bin/fuzz for FUZZ_SECONDS each.  Seeds come
# from tests/fuzz/corpus/<target>/ (copied, so the repository's corpus only
# grows by hand); a crash leaves its input in the printed folder and fails.
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-30}
work=$(mktemp -d /tmp/sendbench-fuzz.XXXXXX)
passed=0; failed=0
for bin in bin/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    mkdir -p "$work/$name/corpus" "$work/$name/crashes"
    [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/$name/corpus/"
    echo "== $name for ${secs}s"
    if "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$work/$name/crashes/" "$work/$name/corpus" >"$work/$name/log" 2>&1; then
        echo "ok   $name: $(grep -E '^Done' "$work/$name/log" | tail -1)"
        passed=$((passed + 1))
    else
        echo "FAIL $name: see $work/$name/log; inputs in $work/$name/crashes"
        grep -E "ERROR|SUMMARY|runtime error" "$work/$name/log" | head -5
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
