#!/usr/bin/env bash
# Runs every test: the unit-test programs (pure code), then the integration
# tests (real server over loopback HTTP against a real, throw-away PostgreSQL
# cluster made here and removed on exit, also when a test fails).
# Ends with the line "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
BINDIR=${BINDIR:-bin}
UNIT_ONLY=0
[ "${1:-}" = "--unit-only" ] && UNIT_ONLY=1

passed=0
failed=0
add_counts() {  # add_counts LOGFILE: sums the "N passed, N failed" line
    local line p f
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
    if [ -z "$line" ]; then
        failed=$((failed + 1)); return
    fi
    p=$(echo "$line" | awk '{print $1}'); f=$(echo "$line" | awk '{print $3}')
    passed=$((passed + p)); failed=$((failed + f))
}

LOGDIR=$(mktemp -d /tmp/sendbench-test-logs.XXXXXX)

echo "== unit tests"
for t in "$BINDIR"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    if [ "${VALGRIND:-0}" = 1 ]; then
        valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
            --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
            "$t" >"$LOGDIR/$name.log" 2>&1
    else
        "$t" >"$LOGDIR/$name.log" 2>&1
    fi
    rc=$?
    add_counts "$LOGDIR/$name.log"
    if [ $rc -ne 0 ]; then
        grep -q '0 failed' "$LOGDIR/$name.log" && failed=$((failed + 1))
        echo "FAIL $name (exit $rc)"; sed 's/^/    /' "$LOGDIR/$name.log" | tail -40
    else
        echo "ok   $name: $(tail -1 "$LOGDIR/$name.log")"
    fi
done

if [ $UNIT_ONLY = 0 ]; then
    # The browser test (tests/integration/test_browser.py) drives Debian's
    # chromium with node; as root the dependency step installs what is
    # missing (npm only when no npm command exists: NodeSource's nodejs
    # ships its own and conflicts with Debian's npm package).
    browser_pkgs="chromium"
    command -v node >/dev/null 2>&1 || browser_pkgs="$browser_pkgs nodejs"
    command -v npm >/dev/null 2>&1 || browser_pkgs="$browser_pkgs npm"
    SENDBENCH_EXTRA_PKGS="$browser_pkgs ${SENDBENCH_EXTRA_PKGS:-}" scripts/deps.sh ||
        echo "note: the browser test needs: $browser_pkgs"
    . scripts/pg.sh
    PGDIR=$(mktemp -d /tmp/sendbench-test-pg.XXXXXX)
    cleanup() { pg_stop "$PGDIR"; rm -rf "$PGDIR"; }
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    echo "== integration tests (PostgreSQL in $PGDIR)"
    if PG_FSYNC=off pg_init "$PGDIR" && pg_start "$PGDIR"; then
        SENDBENCH_BIN="$PWD/$BINDIR/sendbench" SENDBENCH_PGDIR="$PGDIR" \
            python3 tests/integration/run.py "$@" 2>&1 | tee "$LOGDIR/integration.log"
        add_counts "$LOGDIR/integration.log"
    else
        echo "FAIL could not start PostgreSQL"; failed=$((failed + 1))
    fi
fi

echo "logs: $LOGDIR"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
