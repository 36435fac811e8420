"""Importers (sendbench import sen2|neighbours|dsg) against the shipped DfE
history: England totals, every authority value, symbols, boundary changes,
neighbours, idempotence, revisions and bad files."""

import csv
import os
import re
import shutil
import subprocess
import tempfile
from decimal import Decimal

import harness

TEMPLATE = "history"

D = os.path.join(harness.ROOT, "data", "dfe")

# file -> (column -> metric), period kind, row filter (column, value)
SEN2 = {
    "sen2_2022_age_caseload.csv": ({"Total_all": "ehcp_caseload"}, "census",
                                   ("characteristic_age", "Total")),
    "sen2_2022_mi.csv": ({"NewallEHC": "new_plans_issued", "InreqEHC": "requests_received",
                          "AssRefusedEHC": "requests_refused",
                          "TotIncExcEHC": "new_plans_timeliness_den",
                          "IncExc20weekEHC": "new_plans_within_20_weeks",
                          "TotNoExcEHC": "new_plans_issued_ex",
                          "NoExc20weekEHC": "new_plans_within_20_weeks_ex"}, "calendar", None),
    "sen2_2025format_caseload_to_202122.csv": ({"ehcplans": "ehcp_caseload"}, "census",
                                               ("breakdown_topic", "All EHC plans")),
    "sen2_2025format_newplans_to_2021.csv": ({"new_ehc_plans": "new_plans_issued"}, "calendar",
                                             ("breakdown_topic", "New EHC plans")),
    "sen2_2025format_requests_to_2021.csv": (
        {"requests_received_in_year": "requests_received",
         "requests_decided_to_assess": "requests_decided_to_assess",
         "requests_decided_not_to_assess": "requests_refused"}, "calendar",
        ("breakdown_topic", "All requests for EHC needs assessments")),
    "sen2_2025format_timeliness_20_week_to_2021.csv": (
        {"plans_issued_den": "new_plans_timeliness_den",
         "plans_issued_within_20_weeks": "new_plans_within_20_weeks",
         "plans_issued_den_ex": "new_plans_issued_ex",
         "plans_issued_20_weeks_ex": "new_plans_within_20_weeks_ex"}, "calendar",
        ("breakdown_topic", "All EHC plans issued")),
}
SYMBOLS = ("x", "c", "z", "low")


def rows(name):
    with open(os.path.join(D, name), encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def period_of(tp, kind):
    # census: 2022 -> 2022, academic 202122 -> 2022 (the January census)
    if kind == "census" and len(tp) == 6:
        return str(int(tp[:4]) + 1)
    return tp


def current(t):
    """(authority old code, metric, period) -> (value or None, symbol or None)."""
    out = {}
    for old, metric, period, value, symbol in t.psql(
            "SELECT a.old_la_code, c.metric, c.period, c.value, c.symbol"
            " FROM current_observations c JOIN authorities a ON a.new_la_code = c.authority"):
        out[(old, metric, period)] = (Decimal(value) if value else None, symbol or None)
    return out


def snapshot(t):
    return t.psql("""
        SELECT (SELECT count(*) FROM observations),
               (SELECT md5(string_agg(concat_ws('|', authority, metric, period, period_kind,
                        period_start, value, symbol, source, version, published), ','
                        ORDER BY authority, metric, period, version)) FROM observations),
               (SELECT count(*) FROM authorities),
               (SELECT md5(string_agg(concat_ws('|', new_la_code, old_la_code, name, region_code,
                        region_name, valid_from, valid_to), ',' ORDER BY new_la_code)) FROM authorities),
               (SELECT md5(string_agg(concat_ws('|', predecessor, successor, effective), ','
                        ORDER BY predecessor, successor)) FROM authority_successions),
               (SELECT md5(string_agg(concat_ws('|', authority, rank, neighbour, closeness, source), ','
                        ORDER BY authority, rank)) FROM statistical_neighbours),
               (SELECT count(*) FROM import_sources),
               (SELECT count(*) FROM audit_log)""")[0]


def test_england_totals_equal_the_national_rows(t):
    """For every SEN2 file, year and metric: the England total computed from
    the authority figures in the database equals the file's national row;
    where the national figure is a symbol, every authority figure is one."""
    sums = {(m, p): (Decimal(total), int(numeric), int(symbols)) for m, p, total, numeric, symbols in t.psql(
        "SELECT metric, period, coalesce(sum(value), 0), count(value), count(symbol)"
        " FROM current_observations GROUP BY metric, period")}
    checked = 0
    for name, (cols, kind, _filter) in SEN2.items():
        for r in rows(name):
            if r["geographic_level"] != "National":
                continue
            if _filter and r[_filter[0]] != _filter[1]:
                continue
            period = period_of(r["time_period"], kind)
            for col, metric in cols.items():
                nat = r[col].strip()
                total, numeric, symbols = sums[(metric, period)]
                t.true(numeric + symbols >= 150,
                       "%s %s: only %d authority figures" % (metric, period, numeric + symbols))
                if nat in SYMBOLS:
                    t.eq(numeric, 0, "%s %s %s: national %s but authorities have numbers"
                         % (name, metric, period, nat))
                else:
                    t.eq(total, Decimal(nat), "England %s %s (%s)" % (metric, period, name))
                checked += 1
    t.true(checked >= 13 + 8 * 7 + 4 + 3 + 9 + 12, "national figures checked: %d" % checked)
    # The figures the DfE headlines quote.
    t.eq(t.value("SELECT sum(value) FROM current_observations"
                 " WHERE metric = 'ehcp_caseload' AND period = '2022'"), "473255", "plans Jan 2022")
    t.eq(t.value("SELECT sum(value) FROM current_observations"
                 " WHERE metric = 'new_plans_issued' AND period = '2021'"), "62180", "new plans 2021")


def test_every_authority_value_matches_the_files(t):
    cur = current(t)
    checked = 0
    for name, (cols, kind, _filter) in SEN2.items():
        for r in rows(name):
            if r["geographic_level"] != "Local authority":
                continue
            if _filter and r[_filter[0]] != _filter[1]:
                continue
            period = period_of(r["time_period"], kind)
            for col, metric in cols.items():
                cell = r[col].strip()
                want = (None, cell) if cell in SYMBOLS else (Decimal(cell), None)
                got = cur.get((r["old_la_code"], metric, period))
                t.eq(got, want, "%s %s %s %s" % (name, r["old_la_code"], metric, period))
                checked += 1
    # DSG: by name, among the authorities that existed on 1 April of the year.
    dsg = {(name, period): Decimal(v) for name, period, v in t.psql(
        "SELECT a.name, c.period, c.value FROM current_observations c"
        " JOIN authorities a ON a.new_la_code = c.authority"
        " WHERE c.metric = 'dsg_balance_pct_of_income'"
        " AND (a.valid_to IS NULL OR a.valid_to > c.period_start)"
        " AND (a.valid_from IS NULL OR a.valid_from <= c.period_start)")}
    for r in rows("dfe_dsg_cumulative_balance_pct_2019_2022.csv"):
        if r["geographic_level"] != "Local authority":
            continue
        t.eq(dsg.get((r["la_name"], r["financial_year"])),
             Decimal(r["DSG cumulative balance as a % of the total income"]),
             "DSG %s %s" % (r["la_name"], r["financial_year"]))
        checked += 1
    t.eq(t.value("SELECT count(*) FROM observations WHERE metric = 'dsg_balance_pct_of_income'"),
         "448", "DSG rows")
    t.true(checked > 15000, "authority values checked: %d" % checked)


def test_spot_checks_and_periods(t):
    # Plans in place at the January 2022 census (census day 2022-01-20).
    by_file = {r["old_la_code"]: r for r in rows("sen2_2022_age_caseload.csv")
               if r["time_period"] == "2022" and r["characteristic_age"] == "Total"
               and r["geographic_level"] == "Local authority"}
    for old in ("838", "839", "940", "941", "909", "201", "420", "825"):
        got = t.psql("SELECT c.value, c.period_kind, c.period_start::text FROM current_observations c"
                     " JOIN authorities a ON a.new_la_code = c.authority"
                     " WHERE a.old_la_code = :'p1' AND c.metric = 'ehcp_caseload' AND c.period = '2022'",
                     old)
        t.eq(got, [[by_file[old]["Total_all"], "census_year", "2022-01-20"]], "caseload 2022 " + old)
    t.eq(t.psql("SELECT value, period_kind, period_start::text FROM current_observations"
                " WHERE authority = 'E09000012' AND metric = 'dsg_balance_pct_of_income'"
                " AND period = '2019-20'"), [["-1.78", "financial_year", "2019-04-01"]], "Hackney DSG")
    t.eq(t.psql("SELECT value, period_kind, period_start::text FROM current_observations"
                " WHERE authority = 'E06000059' AND metric = 'new_plans_issued' AND period = '2021'"),
         [[next(r["NewallEHC"] for r in rows("sen2_2022_mi.csv")
                if r["old_la_code"] == "838" and r["time_period"] == "2021"),
           "calendar_year", "2021-01-01"]], "Dorset new plans 2021")
    # Superseded ONS codes are filed under the current code, never as a
    # second authority: Buckinghamshire 2015 (E10000002 in the file).
    t.eq(t.value("SELECT count(*) FROM authorities WHERE old_la_code = '825'"), "1", "one Bucks")
    t.eq(t.value("SELECT count(*) FROM authorities WHERE new_la_code IN"
                 " ('E10000002', 'E08000020', 'E06000048')"), "0", "no superseded codes")
    t.eq(t.value("SELECT value FROM observations WHERE authority = 'E06000060'"
                 " AND metric = 'ehcp_caseload' AND period = '2015'"),
         next(r["Total_all"] for r in rows("sen2_2022_age_caseload.csv")
              if r["new_la_code"] == "E10000002" and r["time_period"] == "2015"
              and r["characteristic_age"] == "Total"), "Bucks 2015")


def test_suppression_symbols_are_stored_as_symbols(t):
    # InreqEHC is 'z' for 2014-2015, requests_decided_to_assess 'x' in the
    # 2025 file: symbols, never zero.
    t.eq(t.psql("SELECT period, count(*), count(symbol), count(value), min(symbol)"
                " FROM current_observations WHERE metric = 'requests_received'"
                " AND period IN ('2014', '2015') GROUP BY period ORDER BY period"),
         [["2014", "152", "152", "0", "z"], ["2015", "152", "152", "0", "z"]], "z symbols")
    t.eq(t.psql("SELECT count(*), count(symbol), count(value), min(symbol), max(symbol)"
                " FROM current_observations WHERE metric = 'requests_decided_to_assess'"
                " AND period IN ('2019', '2020', '2021')"),
         [["454", "454", "0", "x", "x"]], "x symbols")
    t.eq(t.value("SELECT count(*) FROM observations WHERE symbol IS NOT NULL AND value IS NOT NULL"),
         "0", "value XOR symbol")


def test_authorities_and_boundary_changes(t):
    t.eq(t.value("SELECT count(*) FROM authorities"), "158", "authorities")
    t.eq(t.psql("SELECT p.old_la_code, s.old_la_code, effective FROM authority_successions x"
                " JOIN authorities p ON p.new_la_code = x.predecessor"
                " JOIN authorities s ON s.new_la_code = x.successor ORDER BY 1, 2"),
         [["835", "838", "2019-04-01"], ["835", "839", "2019-04-01"], ["836", "839", "2019-04-01"],
          ["837", "839", "2019-04-01"], ["909", "942", "2023-04-01"], ["909", "943", "2023-04-01"],
          ["928", "940", "2021-04-01"], ["928", "941", "2021-04-01"]], "successions")
    t.eq(t.psql("SELECT old_la_code, new_la_code, name, region_code, valid_from, valid_to"
                " FROM authorities WHERE old_la_code IN ('909', '942', '943', '928', '835')"
                " ORDER BY 1"),
         [["835", "E10000009", "Dorset", "E12000009", "", "2019-04-01"],
          ["909", "E10000006", "Cumbria", "E12000002", "", "2023-04-01"],
          ["928", "E10000021", "Northamptonshire", "E12000004", "", "2021-04-01"],
          ["942", "E06000063", "Cumberland", "E12000002", "2023-04-01", ""],
          ["943", "E06000064", "Westmorland and Furness", "E12000002", "2023-04-01", ""]],
         "predecessors end, successors begin")
    # Predecessors keep their own history: Northamptonshire's January 2021
    # caseload is its own, not merged into its successors.
    t.eq(t.value("SELECT count(*) FROM observations WHERE authority = 'E10000021'"
                 " AND metric = 'ehcp_caseload'"), "12", "Northamptonshire 2010-2021")
    t.eq(t.value("SELECT count(*) FROM observations WHERE authority = 'E06000061'"
                 " AND metric = 'ehcp_caseload'"), "4", "North Northamptonshire 2022-2025 only")
    # Cumberland (from April 2023) has the 2025 release's figures.
    t.eq(t.psql("SELECT period, value FROM current_observations WHERE authority = 'E06000063'"
                " AND metric = 'ehcp_caseload' ORDER BY period"),
         [[p, v] for p, v in (("2024", next(r["ehcplans"] for r in rows("sen2_2025/caseload.csv")
                                              if r["old_la_code"] == "942"
                                              and r["time_period"] == "202324"
                                              and r["breakdown_topic"] == "All EHC plans")),
                              ("2025", next(r["ehcplans"] for r in rows("sen2_2025/caseload.csv")
                                              if r["old_la_code"] == "942"
                                              and r["time_period"] == "202425"
                                              and r["breakdown_topic"] == "All EHC plans")))],
         "Cumberland January 2024 and 2025")
    # Both codes and the region, over HTTP.
    s, doc = t.get_json("/api/v1/authorities/942")
    t.eq(s, 200, "status")
    t.eq((doc["name"], doc["region_name"]), ("Cumberland", "North West"), "Cumberland")


def test_neighbours(t):
    t.eq(t.value("SELECT count(*) FROM statistical_neighbours"), "1580", "158 x 10 links")
    t.eq(t.psql("SELECT closeness, count(*) FROM statistical_neighbours GROUP BY 1 ORDER BY 1"),
         [["Close", "514"], ["Extremely close", "16"], ["Not close", "49"],
          ["Somewhat close", "136"], ["Very close", "865"]], "labels, capitalisation folded")
    t.eq(t.psql("SELECT n.rank, a.old_la_code, n.closeness FROM statistical_neighbours n"
                " JOIN authorities a ON a.new_la_code = n.neighbour"
                " WHERE n.authority = 'E09000002' AND n.rank IN (1, 4, 10) ORDER BY 1"),
         [["1", "308", "Close"], ["4", "333", "Somewhat close"], ["10", "203", "Somewhat close"]],
         "Barking and Dagenham")
    t.eq(t.value("SELECT count(*) FROM statistical_neighbours WHERE authority = 'E06000063'"),
         "10", "Cumberland's neighbours")


def test_neighbour_changes_replace_only_what_differs(t):
    """A new neighbours file: swapped ranks and a changed closeness replace
    just those links; a neighbour named twice in a row is refused.  In a
    database of its own."""
    db = harness.fresh_db("history")
    name = "dfe_statistical_neighbours_may2025.csv"
    with open(os.path.join(D, name), encoding="utf-8-sig", newline="") as f:
        rd = csv.reader(f)
        header = next(rd)
        data = list(rd)
    row = next(i for i, r in enumerate(data) if r[0] == "301")     # Barking and Dagenham
    r = data[row]
    r[5], r[7] = r[7], r[5]                 # SN1 <-> SN2 (closeness stays with its rank)
    r[24] = "Not close" if r[24] != "Not close" else "Close"      # SN10's closeness
    tmp = tempfile.mkdtemp()
    try:
        changed = os.path.join(tmp, "nb_changed.csv")
        write_csv(changed, header, data)
        before = harness.psql(db, "SELECT rank, neighbour, closeness FROM statistical_neighbours"
                                  " WHERE authority = 'E09000002' ORDER BY rank")
        res = harness.run_cli(db, "import", "neighbours", changed)
        t.eq(res.returncode, 0, "changed neighbours: " + res.stderr)
        t.true("neighbour links: 3 written, 3 replaced or removed" in res.stdout, res.stdout)
        after = harness.psql(db, "SELECT rank, neighbour, closeness FROM statistical_neighbours"
                                 " WHERE authority = 'E09000002' ORDER BY rank")
        t.eq([after[0][1], after[1][1]], [before[1][1], before[0][1]], "ranks 1 and 2 swapped")
        t.eq(after[2:9], before[2:9], "ranks 3-9 as they were")
        t.true(after[9][2] != before[9][2], "rank 10's closeness changed")
        t.eq(harness.psql_value(db, "SELECT count(*) FROM statistical_neighbours"), "1580",
             "still 1,580 links")
        res = harness.run_cli(db, "import", "neighbours", changed)
        t.true("neighbour links: 0 written, 0 replaced" in res.stdout, "again: nothing")

        r[7] = r[5]                         # SN2 = SN1
        dup = os.path.join(tmp, "nb_dup.csv")
        write_csv(dup, header, data)
        res = harness.run_cli(db, "import", "neighbours", dup)
        t.eq(res.returncode, 1, "duplicate neighbour refused")
        t.true("nb_dup.csv:%d:" % (row + 2) in res.stderr and "listed twice" in res.stderr,
               res.stderr)
    finally:
        shutil.rmtree(tmp)


def import_cli(t, *args):
    return t.cli("import", *args)


def test_reimport_changes_nothing(t):
    before = snapshot(t)
    r = subprocess.run(["scripts/load_history.sh"], capture_output=True, text=True,
                       cwd=harness.ROOT, timeout=300,
                       env=dict(os.environ, DATABASE_URL=harness.db_url(t.db),
                                SENDBENCH_BIN=harness.BIN))
    t.eq(r.returncode, 0, "load_history again: " + r.stderr)
    t.true(" 0 new, 0 revised" in r.stdout and "1974 unchanged" in r.stdout,
           "counts say nothing changed: " + r.stdout[:400])
    t.true("neighbour links: 0 written, 0 replaced" in r.stdout, "neighbours unchanged")
    t.eq(snapshot(t), before, "row counts and checksums")
    r = subprocess.run(["scripts/load_history.sh", "--if-empty"], capture_output=True, text=True,
                       cwd=harness.ROOT, timeout=60,
                       env=dict(os.environ, DATABASE_URL=harness.db_url(t.db),
                                SENDBENCH_BIN=harness.BIN))
    t.eq(r.returncode, 0, "--if-empty")
    t.true("nothing loaded" in r.stdout, "--if-empty skips a loaded database")


def write_csv(path, header, data, bom=True, crlf=True):
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n" if crlf else "\n")
        w.writerow(header)
        w.writerows(data)


def newplans_copy(path, change):
    """The 2025 new-plans file with change(row) applied to each row."""
    with open(os.path.join(D, "sen2_2025format_newplans_to_2021.csv"), encoding="utf-8-sig",
              newline="") as f:
        rd = csv.reader(f)
        header = next(rd)
        data = [change(header, r) for r in rd]
    write_csv(path, header, data)
    return header


def bump_dorset(by):
    """A newplans_copy change: Dorset's (838) 2021 new plans plus `by`."""
    def change(h, r):
        if r[h.index("old_la_code")] == "838" and r[h.index("time_period")] == "2021":
            r[h.index("new_ehc_plans")] = str(int(r[h.index("new_ehc_plans")]) + by)
        return r
    return change


def test_revision_adds_a_version_and_older_releases_do_not_override(t):
    tmp = tempfile.mkdtemp()
    try:
        revised = os.path.join(tmp, "sen2_2026_revised_newplans.csv")

        newplans_copy(revised, bump_dorset(7))
        before = t.psql("SELECT value FROM current_observations WHERE authority = 'E06000059'"
                        " AND metric = 'new_plans_issued' AND period = '2021'")[0][0]
        r = import_cli(t, "sen2", "--release", "DfE SEN2 2026 (test)", "--published", "2026-06-25",
                       revised)
        t.eq(r.returncode, 0, "revised import: " + r.stderr)
        # Dorset's 2021 new plans, and the shares of its row made from them.
        m = re.search(r"observations: 0 new, (\d+) revised \(new version\)", r.stdout)
        t.true(m, r.stdout)
        revised_n = int(m.group(1)) if m else 0
        t.eq(t.psql("SELECT DISTINCT authority, period, metric LIKE 'pct_new_plans_%'"
                    "  OR metric = 'new_plans_issued' FROM observations"
                    " WHERE source LIKE '%sen2_2026_revised_newplans.csv'"),
             [["E06000059", "2021", "t"]], "only Dorset 2021's total and shares revised")
        t.eq(t.value("SELECT count(*) FROM observations"
                     " WHERE source LIKE '%sen2_2026_revised_newplans.csv'"), str(revised_n),
             "as many as reported")
        t.eq(t.psql("SELECT version, value, source FROM observations WHERE authority = 'E06000059'"
                    " AND metric = 'new_plans_issued' AND period = '2021' ORDER BY version"),
             [["1", before, "DfE SEN2 2022: sen2_2022_mi.csv"],
              ["2", str(int(before) + 7), "DfE SEN2 2026 (test): sen2_2026_revised_newplans.csv"]],
             "both versions kept, the revision names its source")
        snap = snapshot(t)
        r = import_cli(t, "sen2", "--release", "DfE SEN2 2026 (test)", "--published", "2026-06-25",
                       revised)
        t.eq(r.returncode, 0, "again")
        t.eq(snapshot(t), snap, "same revised file twice changes nothing")
        # Re-importing the older releases does not put the old figure back.
        for f in ("sen2_2022_mi.csv", "sen2_2025/newplans.csv"):
            r = import_cli(t, "sen2", os.path.join(D, f))
            t.eq(r.returncode, 0, f)
            t.true(re.search(r"observations: 0 new, 0 revised .*?, (1|%d) not recorded" % revised_n,
                             r.stdout), "older release refused: " + r.stdout)
        t.eq(snapshot(t), snap, "older releases change nothing")
        t.eq(t.value("SELECT value FROM current_observations WHERE authority = 'E06000059'"
                     " AND metric = 'new_plans_issued' AND period = '2021'"),
             str(int(before) + 7), "figure in force")
        # --release and --published go together.
        r = import_cli(t, "sen2", "--published", "2026-06-25", revised)
        t.eq(r.returncode, 2, "usage error")
    finally:
        shutil.rmtree(tmp)


def test_equal_numbers_are_the_same_figure(t):
    """The importer compares figures as numbers: 1.50 restates 1.5, it does
    not revise it; a changed decimal is a revision.  Run in a database of its
    own (a revision here would change what the other tests see)."""
    db = harness.fresh_db("history")
    dsg = "dfe_dsg_cumulative_balance_pct_2019_2022.csv"
    with open(os.path.join(D, dsg), encoding="utf-8-sig", newline="") as f:
        rd = csv.reader(f)
        header = next(rd)
        data = list(rd)
    col = header.index("DSG cumulative balance as a % of the total income")
    tmp = tempfile.mkdtemp()
    try:
        padded = os.path.join(tmp, "dsg_padded.csv")
        changed = 0
        for r in data:
            v = r[col].strip()
            if re.fullmatch(r"-?\d+(\.\d+)?", v):
                neg = v.startswith("-")
                v = v.lstrip("-")
                r[col] = ("-" if neg else "") + "0" + v + ("0" if "." in v else ".00")
                changed += 1
        t.true(changed > 400, "most DSG cells are numbers (%d)" % changed)
        write_csv(padded, header, data)
        r = harness.run_cli(db, "import", "dsg", padded)
        t.eq(r.returncode, 0, "padded DSG import: " + r.stderr)
        t.true("0 new, 0 revised (new version), 448 unchanged" in r.stdout, r.stdout)

        # One figure moved by a hundredth: one new version, the rest unchanged.
        geo = header.index("geographic_level")
        first = next(i for i, r in enumerate(data)
                     if r[geo] == "Local authority" and re.fullmatch(r"-?0\d.*", r[col]))
        old = Decimal(data[first][col])
        data[first][col] = str(old + Decimal("0.01"))
        moved = os.path.join(tmp, "dsg_moved.csv")
        write_csv(moved, header, data)
        r = harness.run_cli(db, "import", "dsg", moved)
        t.eq(r.returncode, 0, "moved DSG import: " + r.stderr)
        t.true("0 new, 1 revised (new version), 447 unchanged" in r.stdout, r.stdout)
        got = harness.psql(db, "SELECT value FROM observations WHERE source LIKE '%dsg_moved.csv'")
        t.eq(len(got), 1, "one row from the moved file")
        t.eq(Decimal(got[0][0]), old + Decimal("0.01"), "the new figure")
    finally:
        shutil.rmtree(tmp)


def test_one_command_newer_release_first_keeps_its_figures(t):
    """Files of one command share what the run knows of the database
    (registry, releases): an older release imported after a newer one in
    the same command must not override the newer figure."""
    db = harness.fresh_db("empty")
    tmp = tempfile.mkdtemp()
    try:
        newer = os.path.join(tmp, "sen2_newplans_newer.csv")

        newplans_copy(newer, bump_dorset(5))
        res = harness.run_cli(db, "import", "sen2", os.path.join(D, "sen2_2022_age_caseload.csv"),
                              newer, os.path.join(D, "sen2_2022_mi.csv"))
        t.eq(res.returncode, 0, "import: " + res.stderr)
        t.true(re.search(r"sen2_2022_mi.csv: .*?observations: \d+ new, 0 revised .*?, 1 not recorded",
                         res.stdout, re.S), "the 2022 figure is older: " + res.stdout[-900:])
        t.eq(harness.psql(db, "SELECT source FROM current_observations WHERE authority = 'E06000059'"
                              " AND metric = 'new_plans_issued' AND period = '2021'"),
             [["DfE SEN2 2025: sen2_newplans_newer.csv"]], "the newer release's figure in force")
    finally:
        shutil.rmtree(tmp)


def expect_refused(t, args, line_text, reason):
    snap = snapshot(t)
    r = import_cli(t, *args)
    t.eq(r.returncode, 1, "exit status for %s (stdout %s)" % (reason, r.stdout[:200]))
    t.true(line_text in r.stderr and reason in r.stderr,
           "want %r and %r in: %s" % (line_text, reason, r.stderr))
    t.true("nothing from" in r.stderr, "says nothing was loaded")
    t.eq(snapshot(t), snap, "nothing half-loaded (%s)" % reason)


def test_bad_files_are_refused_whole(t):
    tmp = tempfile.mkdtemp()
    try:
        # Every bad file starts with rows whose values differ from the
        # database (+1000), so a partial load would show in the checksum.
        def bump(h, r):
            v = r[h.index("new_ehc_plans")]
            if v.isdigit():
                r[h.index("new_ehc_plans")] = str(int(v) + 1000)
            return r

        def make(name, change_at_line, fn):
            path = os.path.join(tmp, name)

            def ch(h, r, n=[1]):
                n[0] += 1
                r = bump(h, r)
                return fn(h, r) if n[0] == change_at_line else r
            newplans_copy(path, ch)
            return path

        def truncate(h, r):
            return r[:9]

        def text_cell(h, r):
            r[h.index("new_ehc_plans")] = "12a"
            return r

        def bad_code(h, r):
            r[h.index("new_la_code")] = "E07000001"
            return r

        def wrong_pair(h, r):
            r[h.index("new_la_code")] = "E09000099"
            return r

        def bad_period(h, r):
            r[h.index("time_period")] = "20x1"
            return r

        expect_refused(t, ["sen2", make("trunc.csv", 300, truncate)], "trunc.csv:300:",
                       "truncated line")
        expect_refused(t, ["sen2", make("text.csv", 250, text_cell)], "text.csv:250:",
                       "non-numeric cell \"12a\" in column new_ehc_plans")
        expect_refused(t, ["sen2", make("code.csv", 200, bad_code)], "code.csv:200:",
                       "unknown authority code")
        expect_refused(t, ["sen2", make("pair.csv", 200, wrong_pair)], "pair.csv:200:",
                       "unknown authority code")
        expect_refused(t, ["sen2", make("period.csv", 100, bad_period)], "period.csv:100:",
                       "time_period \"20x1\"")

        hdr = os.path.join(tmp, "header.csv")
        with open(os.path.join(D, "sen2_2025format_newplans_to_2021.csv"), encoding="utf-8-sig") as f:
            lines = f.read().splitlines()
        with open(hdr, "w") as f:
            f.write(lines[0].replace("new_ehc_plans", "new_plans") + "\n" + "\n".join(lines[1:]) + "\n")
        expect_refused(t, ["sen2", hdr], "header.csv:1:", "wrong header")
        broken = os.path.join(tmp, "quote.csv")
        with open(broken, "w") as f:
            f.write("\n".join(lines[:40]) + "\n" + lines[40][:30] + ",\"unterminated\n")
        expect_refused(t, ["sen2", broken], "quote.csv:41:", "unterminated quoted field")
        empty = os.path.join(tmp, "empty.csv")
        open(empty, "w").close()
        expect_refused(t, ["sen2", empty], "empty.csv:", "empty file")
        only = os.path.join(tmp, "only_header.csv")
        with open(only, "w") as f:
            f.write(lines[0] + "\n")
        expect_refused(t, ["sen2", only], "only_header.csv:1:", "no data rows")
        dup = os.path.join(tmp, "dup.csv")
        with open(dup, "w") as f:
            f.write("\n".join(lines + [lines[60]]) + "\n")
        expect_refused(t, ["sen2", dup], "dup.csv:%d:" % (len(lines) + 1), "duplicate row")
        expect_refused(t, ["sen2", os.path.join(tmp, "missing.csv")], "missing.csv:", "cannot open")

        # Neighbours: an unknown authority number, an unknown label.
        with open(os.path.join(D, "dfe_statistical_neighbours_may2025.csv"), encoding="utf-8-sig") as f:
            nl = f.read().splitlines()
        nb = os.path.join(tmp, "nb.csv")
        with open(nb, "w") as f:
            f.write("\n".join(nl[:50] + [nl[50].replace(nl[50].split(",")[5], "999", 1)]) + "\n")
        t.true(nl[50].split(",")[5] != nl[50].split(",")[0], "fixture sanity")
        expect_refused(t, ["neighbours", nb], "nb.csv:51:", "unknown authority code \"999\"")
        with open(nb, "w") as f:
            f.write("\n".join(nl[:20] + [nl[20].replace(",Close", ",Sometimes close", 1)] + nl[21:]) + "\n")
        expect_refused(t, ["neighbours", nb], "nb.csv:21:", "unknown closeness label")

        # DSG: a name no authority had at the time (Dorset 835 ended 2019).
        dsg = os.path.join(tmp, "dsg.csv")
        with open(os.path.join(D, "dfe_dsg_cumulative_balance_pct_2019_2022.csv")) as f:
            dl = f.read().splitlines()
        with open(dsg, "w") as f:
            f.write("\n".join(dl[:100] + ["201920,Local authority,North East,Atlantis,1.0,-1.0,2019-20"]
                              + dl[100:]) + "\n")
        expect_refused(t, ["dsg", dsg], "dsg.csv:101:", "unknown authority \"Atlantis\"")
        r = import_cli(t, "nonsense", dsg)
        t.eq(r.returncode, 2, "unknown import kind")
    finally:
        shutil.rmtree(tmp)


def test_import_all_orders_files_by_kind_and_release(t):
    """`import all DIR`: one process for every file, whatever their order on
    disk (by name the neighbours and DSG files come first, but they need the
    SEN2 authorities; the 2025 release must come after the 2022 one)."""
    tmp = tempfile.mkdtemp()
    try:
        # What load_history.sh loads, in one folder (by name the neighbours
        # and DSG files come first).
        for f in os.listdir(D):
            if os.path.isfile(os.path.join(D, f)) and not f.startswith("sen2_2025format_"):
                shutil.copy(os.path.join(D, f), tmp)   # PROVENANCE.md, .txt: not .csv, ignored
        for f in ("caseload.csv", "newplans.csv", "requests.csv", "timeliness_20_week.csv"):
            shutil.copy(os.path.join(D, "sen2_2025", f), tmp)
        shutil.copy(os.path.join(D, "lait", "lait_sen_measures_2016_2025.csv"), tmp)
        snap = snapshot(t)
        r = import_cli(t, "all", tmp)
        t.eq(r.returncode, 0, "import all: " + r.stderr)
        order = [line.split(":")[0].split("/")[-1] for line in r.stdout.splitlines()
                 if line.startswith(tmp)]
        t.eq(order, ["sen2_2022_age_caseload.csv", "sen2_2022_mi.csv",
                     "caseload.csv", "newplans.csv", "requests.csv", "timeliness_20_week.csv",
                     "dfe_statistical_neighbours_may2025.csv",
                     "dfe_dsg_cumulative_balance_pct_2019_2022.csv",
                     "lait_sen_measures_2016_2025.csv"], "import order")
        # 8 observation lines, and 7 of England and regional figures (the
        # SEN2 files and LAIT).
        t.eq(r.stdout.count(" 0 new, 0 revised"), 15, "every observation file unchanged")
        t.true("neighbour links: 0 written, 0 replaced" in r.stdout, "neighbours unchanged")
        t.true("import all: 9 files in" in r.stdout, r.stdout[-200:])
        t.eq(snapshot(t), snap, "importing the shipped files again changes nothing")

        # A file no importer recognises: refused before anything is loaded,
        # even the files that sort before it (here one that would add 453
        # new versions).
        def bump(h, r):
            v = r[h.index("new_ehc_plans")]
            if v.isdigit():
                r[h.index("new_ehc_plans")] = str(int(v) + 1000)
            return r
        newplans_copy(os.path.join(tmp, "sen2_2025format_newplans_to_2021.csv"), bump)
        write_csv(os.path.join(tmp, "zz_other.csv"), ["a", "b"], [["1", "2"]])
        r = import_cli(t, "all", tmp)
        t.eq(r.returncode, 1, "unrecognised file: " + r.stdout[:300])
        t.true("zz_other.csv:1: wrong header" in r.stderr and "nothing was loaded" in r.stderr,
               r.stderr)
        t.eq(snapshot(t), snap, "nothing loaded")

        # A bad file among good ones: the files before it stay loaded (one
        # transaction per file), nothing of it is, and the message names it.
        os.remove(os.path.join(tmp, "zz_other.csv"))
        with open(os.path.join(tmp, "dfe_dsg_cumulative_balance_pct_2019_2022.csv"), "a") as f:
            f.write("202021,Local authority,North East\n")
        r = import_cli(t, "all", tmp)
        t.eq(r.returncode, 1, "truncated DSG line")
        t.true("dfe_dsg_cumulative_balance_pct_2019_2022.csv:" in r.stderr
               and "truncated line" in r.stderr
               and "(the files before it were)" in r.stderr, r.stderr)
        # 453 new-plans figures changed (and the shares made from them); one
        # of them (Dorset 2021) may already carry a later release's revision
        # from the test above, which stays in force.
        m = re.search(r"newplans_to_2021.csv: .*?observations: 0 new, (\d+) revised", r.stdout, re.S)
        t.true(m is not None and int(m.group(1)) >= 452, "the revised new-plans file loaded: "
               + r.stdout[-3000:])
        t.true(t.value("SELECT count(*) FROM observations WHERE metric = 'new_plans_issued' AND"
                       " source = 'DfE SEN2 2025: sen2_2025format_newplans_to_2021.csv'"
                       " AND version > 1") in ("452", "453"), "453 new-plans figures revised")
        t.eq(t.value("SELECT count(*) FROM observations WHERE source ="
                     " 'DfE SEND and AP inclusion dashboard (S251 outturn):"
                     " dfe_dsg_cumulative_balance_pct_2019_2022.csv'"), "448", "DSG unchanged")

        # Usage: no path, a missing path.
        t.eq(import_cli(t, "all").returncode, 2, "no FILE")
        r = import_cli(t, "all", os.path.join(tmp, "nope"))
        t.eq(r.returncode, 1, "missing path")
        t.true("nope" in r.stderr and "cannot open" in r.stderr, r.stderr)
    finally:
        shutil.rmtree(tmp)
