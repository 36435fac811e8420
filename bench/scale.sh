# Sourced by bench/run.sh with N set: N synthetic authorities in 9 regions
# with 10 statistical neighbours each, 40 financial-year quarters
# (2014-15 Q1 .. 2023-24 Q4) of up to 20 submittable metrics (the catalogue has
# 17 that are not percentages) each (published
# council figures), and 10 January censuses (2013-2022) of ehcp_caseload so
# that the forecaster has annual series to fit.  Measures: load time, table
# latency uncached (first request of each of 5 metrics after a fresh start)
# and cached (wrk), the forecast of one metric over N series, and the
# server's resident memory.
#
# Loading: `sendbench import` reads only the DfE's published layouts, which
# are annual; quarterly figures arrive through submissions.  So the
# synthetic panel is written by one SQL statement per table into the real
# schema (keys, indexes, checks and the notify triggers all on) and that is
# the "load" figure.
#
# The schema allows at most 1,000 authorities: old_la_code (the DfE's
# 3-digit number) is UNIQUE and CHECKed to 3 digits.  Above 1,000 this
# throw-away database drops those two constraints, and the report says so.
db=scale_$N
mkdb "$db"
SURL=$(pg_url "$PGDIR" "$db")
SPSQL=("${PSQL[@]}" -d "$db")
note=
if [ "$N" -gt 1000 ]; then
    note="old_la_code UNIQUE and 3-digit CHECK dropped (the schema holds at most 1,000 authorities)"
    "${SPSQL[@]}" -c "ALTER TABLE authorities DROP CONSTRAINT authorities_old_la_code_key, DROP CONSTRAINT authorities_old_la_code_check"
    rec "scale:$N" load note "$note"
fi
t0=$(now)
"${SPSQL[@]}" <<SQL
BEGIN;
INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name)
SELECT 'E06' || lpad((100000 + i)::text, 6, '0'),
       CASE WHEN $N <= 1000 THEN lpad((i - 1)::text, 3, '0') ELSE lpad(((i - 1) % 1000)::text, 3, '0') END,
       'Synthetic authority ' || i,
       'E1200000' || (1 + i % 9), 'Region ' || (1 + i % 9)
FROM generate_series(1, $N) i;
INSERT INTO statistical_neighbours (authority, rank, neighbour, closeness, source)
SELECT 'E06' || lpad((100000 + i)::text, 6, '0'), k,
       'E06' || lpad((100000 + 1 + ((i - 1 + 9 * k) % $N))::text, 6, '0'), 'Close', 'bench synthetic'
FROM generate_series(1, $N) i, generate_series(1, 10) k;
INSERT INTO observations (authority, metric, period, period_kind, period_start, value, published, source, version)
SELECT 'E06' || lpad((100000 + i)::text, 6, '0'), m.id,
       (2014 + q / 4) || '-' || lpad(((2015 + q / 4) % 100)::text, 2, '0') || ' Q' || (1 + q % 4),
       'fy_quarter', make_date(2014 + q / 4, 4, 1) + make_interval(months => 3 * (q % 4)),
       round(100 + (i % 97) * 3 + q * (1 + m.sort_order % 5) + 7 * sin(i + q)),
       true, 'bench synthetic', 1
FROM generate_series(1, $N) i, generate_series(0, 39) q,
     (SELECT id, sort_order FROM metrics WHERE submittable AND unit <> '%' ORDER BY sort_order LIMIT 20) m;
INSERT INTO observations (authority, metric, period, period_kind, period_start, value, published, source, version)
SELECT 'E06' || lpad((100000 + i)::text, 6, '0'), 'ehcp_caseload', y::text, 'census_year',
       make_date(y, 1, 20), round(800 + (i % 113) * 20 + (y - 2013) * (30 + i % 40) + 25 * sin(i * y)),
       true, 'bench synthetic', 1
FROM generate_series(1, $N) i, generate_series(2013, 2022) y;
COMMIT;
ANALYZE;
SQL
t1=$(now)
load_s=$(echo "$t1 - $t0" | bc -l)
nobs=$("${SPSQL[@]}" -At -c "SELECT count(*) FROM observations")
dbsize=$("${SPSQL[@]}" -At -c "SELECT pg_database_size(current_database())")
printf '  N=%s: %s observations loaded in %.2f s (database %s MB)\n' "$N" "$nobs" "$load_s" "$((dbsize / 1048576))"
rec "scale:$N" load seconds "$(printf '%.3f' "$load_s")"
rec "scale:$N" load observations "$nobs"
rec "scale:$N" load db_mb "$((dbsize / 1048576))"

# Tables: a fresh server, the first request of each metric is uncached.
DATABASE_URL=$SURL
start_server
mets=$("${SPSQL[@]}" -At -c "SELECT id FROM metrics WHERE submittable AND unit <> '%' ORDER BY sort_order LIMIT 5")
: >"$WORK/uncached_$N"
for m in $mets; do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' \
        "$BASE/api/v1/tables/$m?period=2023-24%20Q4" >>"$WORK/uncached_$N"
done
bad=$(awk '$1 != 200' "$WORK/uncached_$N" | head -1)
if [ -n "$bad" ]; then
    echo "  uncached table answered: $bad"; rec "scale:$N" table_uncached error "HTTP ${bad%% *}"
else
    med=$(awk '{print $2 * 1000}' "$WORK/uncached_$N" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "  uncached table (median of 5 metrics): ${med} ms"
    rec "scale:$N" table_uncached median_ms "$med"
fi
first=$(echo "$mets" | head -1)
curl -s -o "$WORK/scale_table_$N.json" "$BASE/api/v1/tables/$first?period=2023-24%20Q4"
rec "scale:$N" table_cached bytes "$(stat -c %s "$WORK/scale_table_$N.json")"
wrk_run "scale:$N" table_cached "$BASE/api/v1/tables/$first?period=2023-24%20Q4"
rec "scale:$N" server rss_kb "$(awk '/VmRSS/ {print $2}' /proc/$server_pid/status)"
stop_server

# Forecast of one metric over N series (the worker does the same per metric).
"$BFC" --db "$SURL" --metric ehcp_caseload >"$WORK/scale_fc_$N.log" 2>&1 || true
cat "$WORK/scale_fc_$N.log" | sed 's/^/  /'
line=$(grep '^metric ehcp_caseload' "$WORK/scale_fc_$N.log" || true)
if echo "$line" | grep -q 'error'; then
    rec "scale:$N" forecast error "$(echo "$line" | sed 's/.*error: //')"
else
    rec "scale:$N" forecast cpu_s "$(echo "$line" | awk '{print $10}')"
    rec "scale:$N" forecast series "$(echo "$line" | awk '{print $4}')"
fi
"${PSQL[@]}" -d postgres -c "DROP DATABASE $db"
DATABASE_URL=$(pg_url "$PGDIR" sendbench)
