# Sourced by bench/run.sh (server running on $BASE against database
# sendbench): submissions per second through the API (wrk + Lua POSTing
# valid JSON bodies, admin token, every current authority x every ended
# quarter) against pgbench writing the same rows (bench/pgbench_submit.sql,
# one transaction per submission), same client count, same duration.
"${PSQL[@]}" -d sendbench -At -c "SELECT new_la_code FROM authorities WHERE valid_to IS NULL ORDER BY 1" >"$WORK/auths.txt"
python3 - "$WORK/periods.txt" <<'PY'
import datetime, sys
today = datetime.datetime.now(datetime.timezone.utc).date()
out = []
y, q = 2014, 1
while True:
    # Q1 April-June ... Q4 January-March of y+1; a quarter may be submitted
    # from the day after it ends.
    m0 = 3 + 3 * (q - 1) + 3          # months after January of y to the end
    end = datetime.date(y + m0 // 12, m0 % 12 + 1, 1)
    if end > today:
        break
    out.append(f"{y}-{(y + 1) % 100:02d} Q{q}")
    q += 1
    if q == 5:
        y, q = y + 1, 1
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
nq=$(wc -l <"$WORK/periods.txt")
nauth=$(wc -l <"$WORK/auths.txt")
echo "  $nauth authorities x $nq quarters ($(head -1 "$WORK/periods.txt") .. $(tail -1 "$WORK/periods.txt"))"
BENCH_TOKEN=$(DATABASE_URL=$DATABASE_URL "$BIN" token create --admin --label bench 2>"$WORK/token.err") \
    || { cat "$WORK/token.err"; exit 1; }
before=$("${PSQL[@]}" -d sendbench -At -c "SELECT count(*) FROM submissions")
BENCH_AUTHS=$WORK/auths.txt BENCH_PERIODS=$WORK/periods.txt BENCH_TOKEN=$BENCH_TOKEN \
    wrk_run writes api "$BASE/api/v1/submissions" bench/wrk_submit.lua
after=$("${PSQL[@]}" -d sendbench -At -c "SELECT count(*) FROM submissions")
rec writes api clients "$WRK_CONNS"
rec writes api stored "$((after - before))"
echo "  submissions stored by the API run: $((after - before))"
# Show one refusal, if any, so that a non-2xx count is explained.
probe=$(curl -s -X POST -H "Authorization: Bearer $BENCH_TOKEN" -H 'Content-Type: application/json' \
    -d "{\"authority\":\"$(head -1 "$WORK/auths.txt")\",\"period\":\"$(tail -1 "$WORK/periods.txt")\",\"figures\":{\"ehcp_caseload\":1000}}" \
    -w ' %{http_code}' "$BASE/api/v1/submissions" | tail -c 200)
echo "  probe: $probe"

"${PSQL[@]}" -d sendbench -c "CREATE SEQUENCE bench_version START 1000000" \
    -c "CREATE TABLE bench_auth AS SELECT row_number() OVER (ORDER BY new_la_code)::int AS i, new_la_code AS code FROM authorities WHERE valid_to IS NULL" \
    -c "ALTER TABLE bench_auth ADD PRIMARY KEY (i)"
pgout=$(pgbench -n -h "$PGDIR/sock" -U postgres -c "$WRK_CONNS" -j "$WRK_THREADS" -T "${WRK_DURATION%s}" \
    -D nauth="$nauth" -D nq="$nq" -f bench/pgbench_submit.sql sendbench 2>&1) || true
tps=$(printf '%s\n' "$pgout" | awk '/^tps = / {print $3}' | tail -1)
lat=$(printf '%s\n' "$pgout" | awk '/^latency average/ {print $4}')
failed=$(printf '%s\n' "$pgout" | awk '/number of failed transactions/ {print $5}')
if [ -z "$tps" ]; then
    echo "  pgbench failed:"; printf '%s\n' "$pgout" | tail -5
    rec writes pgbench error "pgbench failed"
else
    echo "  pgbench: tps=$tps latency_ms=$lat failed=${failed:-0}"
    rec writes pgbench tps "$tps"
    rec writes pgbench latency_ms "$lat"
    rec writes pgbench clients "$WRK_CONNS"
    rec writes pgbench note "failed transactions: ${failed:-0}"
fi
"${PSQL[@]}" -d sendbench -c "DROP TABLE bench_auth" -c "DROP SEQUENCE bench_version"
