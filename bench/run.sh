#!/usr/bin/env bash
# `make bench`: sendbench measured side by side with the limit of this
# machine, in the same run (absolute figures drift from run to run; ratios
# much less).  Makes its own throw-away PostgreSQL cluster, loads the shipped
# history, and runs:
#   1a. uncached the first (computed) reply of profiles, tables, evidence
#               packs, one at a time: medians against the issue's bounds
#   1. reads    wrk: cached table, profile, forecast vs bench/limit_server
#   2. writes   wrk + Lua POSTing submissions vs pgbench inserting the rows
#   3. import   sendbench import all data/dfe vs psql \copy of the same rows
#   4. forecast bench_forecast (fit + choose, every authority and metric)
#               vs R's forecast package on the same series
#   5. scale    synthetic 1,000 and 10,000 authorities
#   6. high_needs  bench_high_needs: the unmitigated High Needs trajectory
#               of every authority (CPU, target < 100 ms in all) and the
#               back-cast of 2021-22 spend against the HNBT budget
# then writes bench/results/latest.md and latest.json (bench/report.py;
# BENCH_OUT=bench/results/NAME writes NAME.md and NAME.json instead, for a
# run of some sections only).
#
# Settings (environment): WRK_THREADS (2), WRK_CONNS (16), WRK_DURATION (5s),
# BENCH_SCALES ("1000 10000"), BENCH_R_SECONDS (120: R's CPU budget; R fits
# as many series as it can in it and the comparison is per series),
# BENCH_KEEP=1 keeps the work directory, BENCH_ONLY="reads scale" runs only
# those sections (of import uncached reads writes forecast scale; the history is
# always loaded).
set -euo pipefail
cd "$(dirname "$0")/.."
BINDIR=${BINDIR:-bin/bench}
BIN=$PWD/$BINDIR/sendbench
LIMIT=$PWD/$BINDIR/limit_server
BFC=$PWD/$BINDIR/bench_forecast
BHN=$PWD/$BINDIR/bench_high_needs
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNS=${WRK_CONNS:-16}
WRK_DURATION=${WRK_DURATION:-5s}
BENCH_SCALES=${BENCH_SCALES:-"1000 10000"}
BENCH_R_SECONDS=${BENCH_R_SECONDS:-120}
. scripts/pg.sh

WORK=$(mktemp -d /tmp/sendbench-bench.XXXXXX)
chmod 755 "$WORK"
RES=$WORK/results.tsv
: >"$RES"
PGDIR=$WORK/pg
server_pid=
HUGE_BEFORE=
cleanup() {
    [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    pg_stop "$PGDIR"
    [ -n "$HUGE_BEFORE" ] && echo "$HUGE_BEFORE" >/proc/sys/vm/nr_hugepages 2>/dev/null
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# rec SECTION ITEM KEY VALUE: one measurement for bench/report.py.
rec() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RES"; }
say() { printf '\n== %s\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
want() { case " ${BENCH_ONLY:-import uncached reads writes forecast scale high_needs} " in *" $1 "*) return 0 ;; esac; return 1; }

# wrk_run SECTION ITEM URL [LUA]: same threads/connections/duration for every run.
wrk_run() {
    local section=$1 item=$2 url=$3 lua=${4:-bench/wrk_report.lua} out line kv
    out=$(wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"$WRK_DURATION" -s "$lua" "$url" 2>&1) || true
    line=$(printf '%s\n' "$out" | grep '^WRK_RESULT' | tail -1) || true
    if [ -z "$line" ]; then
        echo "bench: wrk failed on $url:"; printf '%s\n' "$out" | tail -5
        rec "$section" "$item" error "wrk failed"
        return 0
    fi
    echo "  $item: ${line#WRK_RESULT }"
    for kv in ${line#WRK_RESULT }; do rec "$section" "$item" "${kv%%=*}" "${kv#*=}"; done
}

rec machine - cores "$(nproc)"
rec machine - cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
rec machine - date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
rec machine - kernel "$(uname -r)"
rec machine - postgres "$(psql --version | awk '{print $3}')"
rec machine - wrk "threads $WRK_THREADS, connections $WRK_CONNS, duration $WRK_DURATION"
rec machine - commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
rec machine - load_before "$(cut -d' ' -f1-3 /proc/loadavg)"

say "PostgreSQL (throw-away cluster in $PGDIR)"
# PostgreSQL's shared memory in 2 MB pages where the machine allows it (its
# default huge_pages=try takes them when some are reserved): otherwise every
# new backend takes a page fault for each 4 kB of shared buffers it touches,
# which on this virtual machine is a large part of a short session (an
# import, a psql \copy).  Both sides of every comparison use this cluster.
# The reservation is put back at exit.
if [ "$(id -u)" -eq 0 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
    HUGE_BEFORE=$(cat /proc/sys/vm/nr_hugepages)
    if [ "$HUGE_BEFORE" -lt 100 ]; then echo 100 >/proc/sys/vm/nr_hugepages || true; fi
fi
pg_init "$PGDIR"
pg_start "$PGDIR"
rec machine - huge_pages "$(awk '/HugePages_Total/ {t=$2} /HugePages_Rsvd/ {r=$2} END {printf "%d reserved, %d used by PostgreSQL", t, r}' /proc/meminfo)"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$PGDIR/sock" -U postgres)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE migrated"
export DATABASE_URL
DATABASE_URL=$(pg_url "$PGDIR" migrated)
"$BIN" migrate >/dev/null
# Every database below is a copy of the migrated template.
mkdb() { "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 TEMPLATE migrated"; }

# ---------------------------------------------------------------- 3. import
say "3. import: sendbench import all vs psql \\copy of the same rows"
mkdb sendbench
DATABASE_URL=$(pg_url "$PGDIR" sendbench)
SENDBENCH_BIN=$BIN scripts/load_history.sh >"$WORK/load_history.log" 2>&1 \
    || { cat "$WORK/load_history.log"; exit 1; }
obs=$("${PSQL[@]}" -d sendbench -At -c "SELECT count(*) FROM observations")
nbr=$("${PSQL[@]}" -d sendbench -At -c "SELECT count(*) FROM statistical_neighbours")
auth=$("${PSQL[@]}" -d sendbench -At -c "SELECT count(*) FROM authorities")
csv_rows=$(awk '/rows read/ {s += $3} END {print s + 0}' "$WORK/load_history.log")
echo "  loaded: $csv_rows CSV rows read -> $obs observations, $nbr neighbour links, $auth authorities"
rec import history csv_rows "$csv_rows"
rec import history observations "$obs"
rec import history neighbour_links "$nbr"
if want import; then
# The limit: the rows the import wrote, as CSV, copied into plain tables
# (no key, no index, no trigger, no check) by one psql.
"${PSQL[@]}" -d sendbench -c "\\copy (SELECT authority, metric, period, period_kind, period_start, value, symbol, source, published, version FROM observations) TO '$WORK/obs.csv' CSV"
"${PSQL[@]}" -d sendbench -c "\\copy (SELECT authority, rank, neighbour FROM statistical_neighbours) TO '$WORK/nbr.csv' CSV"
"${PSQL[@]}" -d postgres -c "CREATE DATABASE plain"
"${PSQL[@]}" -d plain -c "CREATE TABLE obs (authority text, metric text, period text, period_kind text, period_start date, value numeric, symbol text, source text, published boolean, version int); CREATE TABLE nbr (authority text, rank int, neighbour text)"
# Both sides are one process started by hyperfine without a shell (-N):
# sendbench import all (what scripts/load_history.sh runs) and psql.  Both
# write into a database created for the run from a template (the migrated
# schema; the two plain tables): sendbench's history cannot be emptied (it
# is append-only and authorities are permanent), and the first session in a
# new database pays costs a reused one does not, so the limit starts from
# the same place.  The copy into the reused, truncated tables is measured
# too and reported beside it.
hyperfine -N --style basic --runs 20 --warmup 2 \
    --prepare "${PSQL[*]} -d postgres -c 'DROP DATABASE IF EXISTS imp' -c 'CREATE DATABASE imp TEMPLATE migrated'" \
    --export-json "$WORK/hf_import.json" \
    "env DATABASE_URL=$(pg_url "$PGDIR" imp) $BIN import all data/dfe" \
    >"$WORK/hf_import.log" 2>&1 || { cat "$WORK/hf_import.log"; exit 1; }
hyperfine -N --style basic --runs 20 --warmup 2 \
    --prepare "${PSQL[*]} -d postgres -c 'DROP DATABASE IF EXISTS plainrun' -c 'CREATE DATABASE plainrun TEMPLATE plain'" \
    --export-json "$WORK/hf_copy.json" \
    "${PSQL[*]} -d plainrun -c \"\\copy obs FROM '$WORK/obs.csv' CSV\" -c \"\\copy nbr FROM '$WORK/nbr.csv' CSV\"" \
    >"$WORK/hf_copy.log" 2>&1 || { cat "$WORK/hf_copy.log"; exit 1; }
hyperfine -N --style basic --runs 20 --warmup 2 \
    --prepare "${PSQL[*]} -d plainrun -c 'TRUNCATE obs, nbr'" \
    --export-json "$WORK/hf_copy_reused.json" \
    "${PSQL[*]} -d plainrun -c \"\\copy obs FROM '$WORK/obs.csv' CSV\" -c \"\\copy nbr FROM '$WORK/nbr.csv' CSV\"" \
    >"$WORK/hf_copy_reused.log" 2>&1 || { cat "$WORK/hf_copy_reused.log"; exit 1; }
# Median (what the ratio uses: one run slowed by other load on this shared
# machine moves a mean of 20 far more than a median), mean and sd.
hf_stats() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print('%.4f %.4f %.4f' % (r['median'], r['mean'], r['stddev'] or 0))" "$1"; }
read -r imp_s imp_mean imp_sd < <(hf_stats "$WORK/hf_import.json")
read -r cp_s cp_mean cp_sd < <(hf_stats "$WORK/hf_copy.json")
read -r cpr_s cpr_mean cpr_sd < <(hf_stats "$WORK/hf_copy_reused.json")
echo "  sendbench import: median ${imp_s}s (mean $imp_mean, sd $imp_sd); psql \\copy: median ${cp_s}s (mean $cp_mean, sd $cp_sd)"
for side in sendbench copy copy_reused; do
    case $side in
        sendbench) v=($imp_s $imp_mean $imp_sd) ;;
        copy) v=($cp_s $cp_mean $cp_sd) ;;
        copy_reused) v=($cpr_s $cpr_mean $cpr_sd) ;;
    esac
    rec import $side seconds "${v[0]}"
    rec import $side mean "${v[1]}"
    rec import $side stddev "${v[2]}"
done
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS imp" -c "DROP DATABASE IF EXISTS plainrun" -c "DROP DATABASE plain"
fi

# ---------------------------------------------------------------- server
PORT=$(free_port)
DATABASE_URL=$(pg_url "$PGDIR" sendbench)
start_server() {
    "$BIN" serve --port "$PORT" --db "$DATABASE_URL" --rate-limit 0 --log-level warn \
        >"$WORK/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "bench: the server did not start"; tail -20 "$WORK/server.log"; exit 1
}
stop_server() {
    [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    server_pid=
}
start_server
BASE=http://127.0.0.1:$PORT

# ---------------------------------------------------------------- 1. reads
say "1. reads: wrk -t$WRK_THREADS -c$WRK_CONNS -d$WRK_DURATION, server (--log-level warn, --rate-limit 0) vs limit_server"
# The forecast worker fits after start; wait for the document.
FC_PATH="/api/v1/forecasts/ehcp_caseload?authority=E06000059"
for _ in $(seq 1 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE$FC_PATH")" = 200 ] && break
    sleep 0.2
done
# ... and until the worker has refitted every metric (so that it does not
# compete for the CPU during the runs): forecast_runs stops changing.
prev=-1
for _ in $(seq 1 300); do
    cur=$("${PSQL[@]}" -d sendbench -At -c "SELECT count(*), max(fitted_at) FROM forecast_runs")
    [ "$cur" = "$prev" ] && break
    prev=$cur
    sleep 2
done
# ---------------------------------------------------------------- 1a. uncached
# Replies the server must compute (first request of each URL, one at a
# time): the issue's bounds are medians of 15 ms (profile), 5 ms (table)
# and 50 ms (evidence pack).  Before any other read, so nothing is cached.
if want uncached; then
say "1a. uncached replies: profile, table, evidence pack (bench/uncached.py)"
"${PSQL[@]}" -d sendbench -At -c "SELECT DISTINCT n.authority FROM statistical_neighbours n
    JOIN authorities a ON a.new_la_code = n.authority WHERE a.valid_to IS NULL ORDER BY 1" >"$WORK/uncached_codes"
python3 bench/uncached.py "$BASE" "$WORK/uncached_codes" "${BENCH_UNCACHED_N:-60}" >"$WORK/uncached.txt" \
    || echo "bench: some uncached requests did not answer 200 (counted as errors)"
while read -r tag rest; do
    [ "$tag" = UNCACHED ] || continue
    item=
    for kv in $rest; do [ "${kv%%=*}" = item ] && item=${kv#*=}; done
    echo "  $item: $rest"
    for kv in $rest; do [ "${kv%%=*}" = item ] || rec uncached "$item" "${kv%%=*}" "${kv#*=}"; done
done <"$WORK/uncached.txt"
fi

read_bench() {  # read_bench ITEM PATH
    local item=$1 path=$2 code
    code=$(curl -s -o "$WORK/$item.body" -D "$WORK/$item.headers" -w '%{http_code}' "$BASE$path") || true
    code=$(curl -s -o "$WORK/$item.body" -D "$WORK/$item.headers" -w '%{http_code}' "$BASE$path") || true
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "bench: THE SERVER DIED; its log ends:"; tail -20 "$WORK/server.log"
        rec reads "$item" error "server died (see the log of the run)"
        start_server
        return 0
    fi
    if [ "$code" != 200 ]; then
        echo "bench: $path answered $code"; rec reads "$item" error "HTTP $code"; return 0
    fi
    rec reads "$item" path "$path"
    rec reads "$item" bytes "$(stat -c %s "$WORK/$item.body")"
    wrk_run reads "$item" "$BASE$path"
    local lport lpid
    lport=$(free_port)
    "$LIMIT" --port "$lport" --body "$WORK/$item.body" --headers "$WORK/$item.headers" \
        >"$WORK/limit.out" 2>&1 &
    lpid=$!
    for _ in $(seq 1 50); do grep -q '^port' "$WORK/limit.out" && break; sleep 0.1; done
    if cmp -s <(curl -s "http://127.0.0.1:$lport$path") "$WORK/$item.body"; then
        wrk_run reads "$item.limit" "http://127.0.0.1:$lport$path"
    else
        echo "bench: limit_server did not return the same body"; rec reads "$item.limit" error "body differs"
    fi
    kill -TERM "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null || true
}
if want reads; then
read_bench table "/api/v1/tables/ehcp_caseload?period=2022&group=neighbours&authority=E06000059"
read_bench table_england "/api/v1/tables/ehcp_caseload?period=2022"
read_bench profile "/api/v1/authorities/E06000059/profile"
read_bench forecast "$FC_PATH"
rec reads server rss_kb "$(awk '/VmRSS/ {print $2}' /proc/$server_pid/status)"
fi

# ---------------------------------------------------------------- 2. writes
say "2. writes: submissions through the API vs pgbench, $WRK_CONNS clients"
if ! want writes; then
    echo "  skipped (BENCH_ONLY)"
elif "$BIN" --help 2>/dev/null | grep -q 'token create'; then
    WRITES=1 . bench/writes.sh
else
    echo "  skipped: this build has no submissions (sendbench token create)"
    rec writes api error "this build has no submissions endpoint"
fi
stop_server

# ---------------------------------------------------------------- 4. forecasts
say "4. forecasts: fit + choose for every authority and metric vs R forecast"
if want forecast; then
"$BFC" --db "$DATABASE_URL" --export "$WORK/series.csv" | tee "$WORK/bench_forecast.log"
read -r fc_metrics fc_series fc_docs fc_cpu < <(awk '/^total/ {print $3, $5, $7, $9}' "$WORK/bench_forecast.log")
rec forecast sendbench metrics "$fc_metrics"
rec forecast sendbench series "$fc_series"
rec forecast sendbench cpu_s "$fc_cpu"
rec forecast sendbench exported "$(($(wc -l <"$WORK/series.csv") - 1))"
awk '/^metric .* cpu_s/ {print $2, $4, $6, $10}' "$WORK/bench_forecast.log" | while read -r m s y c; do
    rec forecast "metric:$m" series "$s"; rec forecast "metric:$m" years "$y"; rec forecast "metric:$m" cpu_s "$c"
done
/usr/bin/time -f '%U %S' -o "$WORK/r.time" \
    Rscript bench/forecast_r.R "$WORK/series.csv" "$BENCH_R_SECONDS" >"$WORK/r.log" 2>&1 \
    || { tail -20 "$WORK/r.log"; rec forecast r error "Rscript failed"; }
cat "$WORK/r.log" | tail -3
if grep -q '^R_RESULT' "$WORK/r.log"; then
    for kv in $(grep '^R_RESULT' "$WORK/r.log" | sed 's/^R_RESULT //'); do rec forecast r "${kv%%=*}" "${kv#*=}"; done
    rec forecast r process_cpu_s "$(awk '{print $1 + $2}' "$WORK/r.time")"
fi
fi

# ---------------------------------------------------------------- 6. high needs
# Before the scale runs, on the shipped history (run here so that
# BENCH_SCALES does not change its database).
say "6. high needs: unmitigated trajectory of every authority (CPU), back-cast of 2021-22"
if want high_needs; then
"$BHN" --db "$DATABASE_URL" --repeat 50 | tee "$WORK/bench_high_needs.log" \
    || rec high_needs projection error "bench_high_needs failed"
awk '/^projection / {for (i = 2; i < NF; i += 2) print $i, $(i + 1)}' "$WORK/bench_high_needs.log" |
    while read -r k v; do rec high_needs projection "$k" "$v"; done
awk '/^backcast / {for (i = 3; i < NF; i += 2) print $2, $i, $(i + 1)}' "$WORK/bench_high_needs.log" |
    while read -r m k v; do rec high_needs "backcast:$m" "$k" "$v"; done
fi

# ---------------------------------------------------------------- 5. scale
say "5. scale: synthetic authorities, 40 quarters x 20 metrics"
want scale || BENCH_SCALES=
for n in $BENCH_SCALES; do
    N=$n . bench/scale.sh
done

rec machine - load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
say "report"
OUT=${BENCH_OUT:-bench/results/latest}
python3 bench/report.py "$RES" "$OUT.md" "$OUT.json"
cat "$OUT.md"
