#!/usr/bin/env bash
# Loads the shipped DfE history (data/dfe/) into $DATABASE_URL (or the libpq
# PG* variables).  Order matters:
#   1. SEN2 2022 release (caseload 2010-2022, management information
#      2014-2021): creates the authorities and the boundary links;
#   2. SEN2 2025 release, in full (sen2_2025/: plans January 2019-2025,
#      flows 2019-2024, every setting, the DfE's England and regional rows):
#      the newer release; where it repeats a 2022-release figure unchanged
#      nothing is added, where it differs a new version is recorded; the
#      import checks quarantine its defective rows (docs/import.md);
#   3. statistical neighbours (needs every authority, including the 2023
#      successors created from the boundary register in step 1);
#   4. DSG balance % (matched by authority name and date, so after step 1);
#   5. LAIT measures: % of pupils with an EHC plan / SEN support, SEN unit
#      costs (matched by DfE number, so after step 1).
# Every import is idempotent: running this twice changes nothing.
#
#   scripts/load_history.sh             load (again)
#   scripts/load_history.sh --if-empty  load only when the database has no
#                                       observations yet (make run)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SENDBENCH_BIN:-bin/sendbench}
D=data/dfe

case "${1:-}" in
    "") ;;
    --if-empty)
        n=$(psql -X -qAt -d "${DATABASE_URL:-}" -c "SELECT count(*) FROM (SELECT 1 FROM observations LIMIT 1) x")
        if [ "$n" != 0 ]; then
            echo "load_history: the database already has observations; nothing loaded"
            exit 0
        fi ;;
    *) echo "usage: scripts/load_history.sh [--if-empty]" >&2; exit 2 ;;
esac

start=$(date +%s%N)
# One process, one connection, one transaction per file: `import all` orders
# the files as above itself (SEN2 releases oldest first, then neighbours,
# then DSG); they are listed here in that order anyway.
# (The sen2_2025format_*_to_2021 files are the same release cut to 2021,
# kept for the tests and the backtest; the full release covers them.)
"$BIN" import all "$D/sen2_2022_age_caseload.csv" "$D/sen2_2022_mi.csv" \
    "$D/sen2_2025/caseload.csv" "$D/sen2_2025/newplans.csv" \
    "$D/sen2_2025/requests.csv" "$D/sen2_2025/timeliness_20_week.csv" \
    "$D/dfe_statistical_neighbours_may2025.csv" \
    "$D/dfe_dsg_cumulative_balance_pct_2019_2022.csv" \
    "$D/lait/lait_sen_measures_2016_2025.csv" \
    data/high_needs/esfa_dsg_allocations_2019_2024.csv data/high_needs/hnbt_2021_22.csv
ms=$(( ($(date +%s%N) - start) / 1000000 ))
printf "load_history: all shipped history loaded in %d.%03d s\n" $((ms / 1000)) $((ms % 1000))
