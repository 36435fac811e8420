#!/usr/bin/env bash
# make load / make soak: the server under a mixed load at 500 concurrent
# connections on loopback, with wrk (tests/load/mix.lua).
#
#   make load  (LOAD_MODE=load)  1. warm-up: every read URL of the mix once
#                                   (tests/load/warm.py);
#                                2. ceiling: the same read mix with no writes
#                                   for LOAD_CEILING_SECONDS (30), every read
#                                   a cache hit (the database queries the
#                                   server sent meanwhile are counted);
#                                3. mixed: LOAD_WRITE_PCT (10) % writes
#                                   (submissions and, unless LOAD_APPROVE=0,
#                                   their approvals: see mix.lua)
#                                   for LOAD_SECONDS (60);
#                                writes tests/load/results.md.  Fails when the
#                                mixed run's p99 passes LOAD_MAX_P99_MS (300),
#                                any answer is not 2xx/3xx or any socket errs,
#                                throughput is under LOAD_MIN_RPS (2000) or
#                                under LOAD_MIN_RATIO (0.5) of the ceiling, or
#                                resident memory passes RSS_BOUND_MB (256).
#   make soak  (LOAD_MODE=soak)  the mixed load for SOAK_SECONDS (600) with the
#                                server's resident memory sampled every second;
#                                writes tests/load/soak.md.  Fails on any
#                                error answer or when memory grows: the mean
#                                RSS of the last minute against that of the
#                                minute after SOAK_WARM_SECONDS (120) by more
#                                than SOAK_MAX_GROWTH_MB (4).
#
# Makes its own PostgreSQL cluster, loads the shipped history, starts the
# server with --rate-limit 0 (otherwise every setting at its default).
set -euo pipefail
cd "$(dirname "$0")/../.."
BINDIR=${BINDIR:-bin}
MODE=${LOAD_MODE:-load}
CONNS=${LOAD_CONNECTIONS:-500}
THREADS=${LOAD_THREADS:-2}
WRITE_PCT=${LOAD_WRITE_PCT:-10}
RSS_BOUND_MB=${RSS_BOUND_MB:-256}
MAX_P99_MS=${LOAD_MAX_P99_MS:-300}
MIN_RPS=${LOAD_MIN_RPS:-2000}
MIN_RATIO=${LOAD_MIN_RATIO:-0.5}
CEILING_SECONDS=${LOAD_CEILING_SECONDS:-30}
if [ "$MODE" = soak ]; then
    DURATION=${SOAK_SECONDS:-600}
    OUT=tests/load/soak.md
else
    DURATION=${LOAD_SECONDS:-60}
    OUT=tests/load/results.md
fi
WARM_S=${SOAK_WARM_SECONDS:-120}
MAX_GROWTH_MB=${SOAK_MAX_GROWTH_MB:-4}
command -v wrk >/dev/null || { echo "load: wrk not found (apt-get install wrk)" >&2; exit 1; }
# 500 client sockets + 500 server sockets + the pool: raise the soft limit.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "fd limit: $(ulimit -n)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

. scripts/pg.sh
W=$(mktemp -d /tmp/sendbench-load.XXXXXX)
chmod 755 "$W"
SRV_PID=
SAMPLER=
cleanup() {
    [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
    [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
    pg_stop "$W/pg"; rm -rf "$W"
}
trap cleanup EXIT
PG_FSYNC=off pg_init "$W/pg" && pg_start "$W/pg"
as_pg() { psql -X -q -h "$W/pg/sock" -U postgres "$@"; }
as_pg -d postgres -c "CREATE DATABASE load" >/dev/null
export DATABASE_URL; DATABASE_URL=$(pg_url "$W/pg" load)
"$BINDIR/sendbench" migrate >/dev/null
t0=$(date +%s)
SENDBENCH_BIN="$BINDIR/sendbench" scripts/load_history.sh >/dev/null
echo "history loaded in $(( $(date +%s) - t0 ))s"
"$BINDIR/sendbench" token create --admin --label load 2>/dev/null > "$W/token"
"$BINDIR/sendbench" token create --admin --label load-approver 2>/dev/null > "$W/token2"

SENDBENCH_LOG_LEVEL=warn "$BINDIR/sendbench" serve --port 0 --db "$DATABASE_URL" \
    --rate-limit 0 > "$W/stdout" 2> "$W/server.log" &
SRV_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$W/stdout" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$W/stdout" | head -1)
[ -n "$PORT" ] || { echo "load: server did not start"; cat "$W/server.log"; exit 1; }
BASE="http://127.0.0.1:$PORT"

# Authorities for which every request of the mix answers 200 (current
# upper-tier authorities with neighbours and a caseload history).  The
# forecasts are fitted by the worker after start: wait for them first.
for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/api/v1/forecasts/ehcp_caseload?authority=E06000059")" = 200 ] && break
    sleep 0.2
done
as_pg -d load -At -c "SELECT DISTINCT authority FROM statistical_neighbours ORDER BY 1" > "$W/candidates"
: > "$W/codes"
while read -r a; do
    ok=1
    for path in "/api/v1/authorities/$a/profile" "/api/v1/forecasts/ehcp_caseload?authority=$a" \
                "/api/v1/tables/pct_within_20_weeks?period=2021&group=neighbours&authority=$a"; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE$path")" = 200 ] || { ok=0; break; }
    done
    [ $ok = 1 ] && echo "$a" >> "$W/codes"
done < "$W/candidates"
echo "authorities in the mix: $(wc -l < "$W/codes") of $(wc -l < "$W/candidates")"
[ -s "$W/codes" ] || { echo "load: no authority answers every request"; exit 1; }

calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
holds() { awk "BEGIN { exit !($1) }"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$SRV_PID/status"; }
metric() { curl -s "$BASE/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
RSS_START=$(rss)
T_START=$(date +%s)
( while kill -0 "$SRV_PID" 2>/dev/null; do echo "$(( $(date +%s) - T_START )) $(rss)"; sleep 1; done ) > "$W/rss" &
SAMPLER=$!

# run_wrk NAME SECONDS WRITE_PCT: one wrk run; its LOAD_RESULT line parsed
# into NAME_requests, NAME_rps, NAME_p50 ... (ms), NAME_sockerr, NAME_status.
run_wrk() {
    local name=$1 secs=$2 pct=$3 line kv
    LOAD_DIR=$W LOAD_WRITE_PCT=$pct LOAD_THREADS=$THREADS wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout 30s \
        --latency -s tests/load/mix.lua "$BASE" | tee "$W/wrk_$name.txt"
    line=$(grep '^LOAD_RESULT' "$W/wrk_$name.txt" | tail -1)
    [ -n "$line" ] || { echo "load: wrk gave no result"; exit 1; }
    for kv in ${line#LOAD_RESULT }; do printf -v "${name}_${kv%%=*}" '%s' "${kv#*=}"; done
    local d=${name}_duration_us r=${name}_requests
    printf -v "${name}_rps" '%s' "$(calc "${!r} / (${!d} / 1000000)")"
    for k in p50 p90 p99 max; do
        local v=${name}_${k}_us
        printf -v "${name}_${k}" '%s' "$(calc "${!v} / 1000")"
    done
    local c=${name}_connect rd=${name}_read wr=${name}_write to=${name}_timeout
    printf -v "${name}_sockerr" '%d' "$(( ${!c} + ${!rd} + ${!wr} + ${!to} ))"
}

if [ "$MODE" = load ]; then
    python3 tests/load/warm.py "$BASE" "$W/codes" | tee "$W/warm.txt"
    q0=$(metric sendbench_db_queries_total)
    echo "== ceiling: the read mix, no writes, ${CEILING_SECONDS}s"
    run_wrk ceil "$CEILING_SECONDS" 0
    q1=$(metric sendbench_db_queries_total)
    ceil_queries=$(( ${q1%.*} - ${q0%.*} ))
fi
RSS_MIXED_START=$(rss)
subs_before=$(as_pg -d load -At -c "SELECT count(*) FROM submissions")
approved_before=$(as_pg -d load -At -c "SELECT count(*) FROM submission_states WHERE state = 'approved'")
curl -s "$BASE/metrics" > "$W/metrics_before.txt"
echo "== mixed: ${WRITE_PCT}% writes, ${DURATION}s"
T_MIXED=$(( $(date +%s) - T_START ))
run_wrk mix "$DURATION" "$WRITE_PCT"
RSS_END=$(rss)
kill "$SAMPLER" 2>/dev/null || true
SAMPLER=
subs_after=$(as_pg -d load -At -c "SELECT count(*) FROM submissions")
approved=$(as_pg -d load -At -c "SELECT count(*) FROM submission_states WHERE state = 'approved'")
health=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")
curl -s "$BASE/metrics" > "$W/metrics.txt"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# Every answer that was not 2xx, by method, route and status (the server
# logs each one at warn level).
awk '$3 ~ /^req=/ && $6 ~ /^[0-9][0-9][0-9]$/ && $6 !~ /^2/ {
        split($5, p, "?"); sub(/\/(E[0-9]+|[0-9]+)(\/|$).*/, "/{id}", p[1]);
        n[$4 " " p[1] " " $6]++ } END { for (k in n) print n[k], k }' "$W/server.log" \
    | sort -rn > "$W/errors" || true
# Requests and mean time in the server per route over the mixed run (from
# the server's own latency histogram, /metrics before and after).
awk 'FNR == 1 { f++ }
     /^sendbench_http_request_duration_seconds_(sum|count)/ {
        match($1, /route="[^"]*"/); r = substr($1, RSTART + 7, RLENGTH - 8)
        k = ($1 ~ /_sum/) ? "s" : "c"; v[f, k, r] = $2; routes[r] = 1 }
     END { for (r in routes) { c = v[2, "c", r] - v[1, "c", r]; s = v[2, "s", r] - v[1, "s", r]
           if (c > 0) printf "| %s | %d | %.2f |\n", r, c, 1000 * s / c } }' \
    "$W/metrics_before.txt" "$W/metrics.txt" | sort -t'|' -k3 -rn > "$W/routes"
# Resident memory over the mixed run: peak, and (soak) the mean of the
# minute after the warm-up against the mean of the last minute.
peak=$(awk -v t="$T_MIXED" '$1 >= t { if ($2 > m) m = $2 } END { print m + 0 }' "$W/rss")
peak_mb=$(( peak / 1024 ))
samples=$(awk -v t="$T_MIXED" '$1 >= t' "$W/rss" | wc -l)
checks=()
fail() { checks+=("FAIL: $*"); }
pass() { checks+=("pass: $*"); }
[ "$mix_status" = 0 ] && [ "$mix_sockerr" = 0 ] && pass "every answer 2xx/3xx, no socket error" \
    || fail "$mix_status answers not 2xx/3xx, $mix_sockerr socket errors"
[ "$health" = 200 ] && pass "/healthz 200 after the load" || fail "/healthz $health after the load"
[ "$peak_mb" -lt "$RSS_BOUND_MB" ] && pass "peak RSS $peak_mb MB < $RSS_BOUND_MB MB" \
    || fail "peak RSS $peak_mb MB >= $RSS_BOUND_MB MB"
if [ "$MODE" = load ]; then
    ratio=$(calc "$mix_rps / $ceil_rps" 2)
    [ "$ceil_status" = 0 ] && [ "$ceil_sockerr" = 0 ] && pass "ceiling run: every answer 2xx/3xx" \
        || fail "ceiling run: $ceil_status answers not 2xx/3xx, $ceil_sockerr socket errors"
    holds "$mix_p99 <= $MAX_P99_MS" && pass "p99 $mix_p99 ms <= $MAX_P99_MS ms" \
        || fail "p99 $mix_p99 ms > $MAX_P99_MS ms"
    holds "$mix_rps >= $MIN_RPS" && pass "$mix_rps req/s >= $MIN_RPS" \
        || fail "$mix_rps req/s < $MIN_RPS"
    holds "$ratio >= $MIN_RATIO" && pass "ratio to the ceiling $ratio >= $MIN_RATIO" \
        || fail "ratio to the ceiling $ratio < $MIN_RATIO"
else
    read -r warm_mb last_mb < <(awk -v t="$T_MIXED" -v w="$WARM_S" -v d="$DURATION" '
        $1 >= t + w && $1 < t + w + 60 { a += $2; na++ }
        $1 >= t + d - 60 { b += $2; nb++ }
        END { printf "%.1f %.1f\n", na ? a / na / 1024 : 0, nb ? b / nb / 1024 : 0 }' "$W/rss")
    growth=$(calc "$last_mb - $warm_mb")
    holds "$growth <= $MAX_GROWTH_MB" \
        && pass "RSS growth $growth MB (mean of minute after ${WARM_S}s: $warm_mb MB, of the last minute: $last_mb MB) <= $MAX_GROWTH_MB MB" \
        || fail "RSS grew $growth MB (mean of minute after ${WARM_S}s: $warm_mb MB, of the last minute: $last_mb MB) > $MAX_GROWTH_MB MB"
    # One line a minute for the report.
    awk -v t="$T_MIXED" '$1 >= t { m = int(($1 - t) / 60); s[m] += $2; n[m]++ }
        END { for (k in s) printf "%d %.1f\n", k, s[k] / n[k] / 1024 }' "$W/rss" | sort -n > "$W/rss_minutes"
fi
verdict=pass
printf '%s\n' "${checks[@]}" | grep -q '^FAIL' && verdict=FAIL

{
echo "# $( [ "$MODE" = soak ] && echo "Soak test results (make soak)" || echo "Load test results (make load)")"
echo
echo "\`make $MODE\` (tests/load/run.sh, wrk script tests/load/mix.lua), $(date -u +%Y-%m-%dT%H:%MZ),"
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), on $(nproc) cores ($(uname -m)) shared with"
echo "other work: load average $LOAD_BEFORE before, $LOAD_AFTER after. Loopback, server built"
echo "with \`make\` (-O2), \`--rate-limit 0\`, every other setting at its default."
echo
echo "| | |"
echo "|---|---|"
echo "| connections / wrk threads | ${CONNS} / ${THREADS} |"
echo "| mix | writes ${WRITE_PCT}% ($( [ "${LOAD_APPROVE:-1}" = 0 ] && echo "submissions left awaiting approval" || echo "submissions and their approvals, alternately: each approval puts a council quarter in force")), the rest tables:profiles:forecasts 40:25:25 (tables england, region, neighbours) |"
echo "| authorities in the mix | $(wc -l < "$W/codes") |"
if [ "$MODE" = load ]; then
echo "| warm-up | $(sed -n 's/^warm-up: //p' "$W/warm.txt" | head -1) |"
echo "| **ceiling**: the read mix, no writes, ${CEILING_SECONDS} s | **${ceil_rps} req/s**, p50 ${ceil_p50} ms, p99 ${ceil_p99} ms; ${ceil_queries} database queries sent meanwhile (0 = every read a cache hit) |"
fi
echo "| **mixed**: ${WRITE_PCT}% writes, ${DURATION} s | **${mix_rps} req/s** (${mix_requests} requests) |"
[ "$MODE" = load ] && echo "| **ratio to the ceiling** | **${ratio}** (target >= ${MIN_RATIO}) |"
echo "| latency p50 / p90 / p99 / max | ${mix_p50} / ${mix_p90} / **${mix_p99}** / ${mix_max} ms (p99 bound ${MAX_P99_MS} ms) |"
echo "| submissions stored / approved | $((subs_after - subs_before)) / $((approved - approved_before)) |"
echo "| answers not 2xx/3xx | ${mix_status} |"
echo "| socket errors (connect, read, write, timeout) | ${mix_connect}, ${mix_read}, ${mix_write}, ${mix_timeout} |"
echo "| server RSS at start / mixed start / peak / end (${samples} samples, 1 s apart) | $((RSS_START / 1024)) / $((RSS_MIXED_START / 1024)) / ${peak_mb} / $((RSS_END / 1024)) MB (bound ${RSS_BOUND_MB} MB) |"
echo "| reply cache over the mixed run: narrow changes / entries they dropped / full invalidations | $(awk 'FNR == 1 { f++ } $1 ~ /^sendbench_reply_cache_events_total/ { v[f, $1] = $2 } END { e = "sendbench_reply_cache_events_total{event=\""; printf "%d / %d / %d", v[2, e "change\"}"] - v[1, e "change\"}"], v[2, e "change_drop\"}"] - v[1, e "change_drop\"}"], v[2, e "invalidation\"}"] - v[1, e "invalidation\"}"] }' "$W/metrics_before.txt" "$W/metrics.txt") |"
echo "| pool: writes waited / refused; reads refused | $(awk '$1=="sendbench_db_pool_write_waits_total"{w=$2} $1=="sendbench_db_pool_write_rejected_total"{x=$2} $1=="sendbench_db_pool_rejected_total"{r=$2} END{printf "%d / %d; %d", w, x, r - x}' "$W/metrics.txt") |"
echo "| verdict | **${verdict}** |"
echo
printf -- '- %s\n' "${checks[@]}"
echo
if [ "$MODE" = soak ]; then
echo "Resident memory, mean per minute of the mixed run (MB):"
echo
echo '```'
awk '{printf "minute %2d  %6.1f\n", $1 + 1, $2}' "$W/rss_minutes"
echo '```'
echo
fi
echo "Time in the server by route over the mixed run (the server's latency histogram; wrk's"
echo "latencies also hold the wait for a connection's turn):"
echo
echo "| route | requests | mean ms |"
echo "|---|---|---|"
cat "$W/routes"
echo
echo "Answers not 2xx by route (from the server log): $( [ -s "$W/errors" ] && echo || echo none)"
echo
if [ -s "$W/errors" ]; then echo '```'; head -20 "$W/errors"; echo '```'; echo; fi
echo "wrk's own output (mixed run):"
echo
echo '```'
grep -v '^LOAD_RESULT' "$W/wrk_mix.txt"
echo '```'
} > "$OUT"
printf '%s\n' "${checks[@]}"
echo "results in $OUT: $verdict"
[ "$verdict" = pass ]
