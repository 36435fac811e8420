"""Import checks (docs/import.md "Import checks"): each rule against a
crafted file in a database of its own, the shipped release's defective
Yorkshire and The Humber rows, `sendbench quality list|release`, and the
admin endpoints."""

import csv
import json
import os
import re
import shutil
import tempfile

import harness

TEMPLATE = "history"

D = os.path.join(harness.ROOT, "data", "dfe")

# North East authorities (old code, ONS code, name) and their region.
NE = [("805", "E06000001", "Hartlepool"), ("806", "E06000002", "Middlesbrough"),
      ("807", "E06000003", "Redcar and Cleveland")]
NW = [("875", "E06000049", "Cheshire East"), ("876", "E06000006", "Halton")]
REGION = {"E12000001": "North East", "E12000002": "North West"}


def header_of(name):
    with open(os.path.join(D, "sen2_2025", name), encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f))


def crafted(path, name, topic, rows):
    """A file in the layout of data/dfe/sen2_2025/NAME: rows are (level,
    code-or-authority, period, {column: value}); every other measure 0."""
    h = header_of(name)
    out = []
    for level, who, period, values in rows:
        r = dict.fromkeys(h, "0")
        r.update(time_identifier="Calendar year" if len(period) == 4 else "Academic year",
                 geographic_level=level, country_code="E92000001", country_name="England",
                 region_code="", region_name="", new_la_code="", old_la_code="", la_name="",
                 breakdown_topic=topic, breakdown=topic, time_period=period)
        if level == "Regional":
            r.update(region_code=who, region_name=REGION[who])
        elif level == "Local authority":
            (old, code, la), region = who
            r.update(region_code=region, region_name=REGION[region], new_la_code=code,
                     old_la_code=old, la_name=la)
        r.update(values)
        out.append([r[c] for c in h])
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(h)
        w.writerows(out)


def la(i, region="E12000001"):
    return ((NE if region == "E12000001" else NW)[i], region)


def in_force(db, code, metric, period):
    return harness.psql_value(db, "SELECT coalesce(value::text, symbol) FROM current_observations"
                                  " WHERE authority = :'p1' AND metric = :'p2' AND period = :'p3'",
                              code, metric, period)


def stored(db, code, metric, period):
    return harness.psql_value(db, "SELECT coalesce(value::text, symbol) FROM observations"
                                  " WHERE authority = :'p1' AND metric = :'p2' AND period = :'p3'"
                                  " ORDER BY version DESC LIMIT 1", code, metric, period)


def flags(db):
    return harness.psql(db, "SELECT authority, metric, period, rule, action, line"
                            " FROM import_quality ORDER BY authority, metric, period, rule")


class Scratch:
    """A database of its own (migrated, empty) and a temporary folder."""
    def __enter__(self):
        self.db = harness.fresh_db("empty")
        self.dir = tempfile.mkdtemp()
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def imp(self, t, path):
        r = harness.run_cli(self.db, "import", "sen2", path)
        t.eq(r.returncode, 0, "import exits 0 with flagged rows: " + r.stderr)
        return r.stdout


def test_equal_to_the_region_total_is_quarantined(t):
    with Scratch() as s:
        f = s.path("np.csv")
        crafted(f, "newplans.csv", "New EHC plans", [
            ("National", None, "2024", {"new_ehc_plans": "900", "mainstream_total": "600"}),
            ("Regional", "E12000001", "2024", {"new_ehc_plans": "300", "mainstream_total": "200"}),
            ("Local authority", la(0), "2024", {"new_ehc_plans": "100", "mainstream_total": "60"}),
            ("Local authority", la(1), "2024", {"new_ehc_plans": "300", "mainstream_total": "50"}),
            ("Local authority", la(2), "2024", {"new_ehc_plans": "80", "mainstream_total": "40"}),
        ])
        out = s.imp(t, f)
        # Line 5 is Middlesbrough's row (header, national, regional, 805, 806).
        t.true(re.search(r"np\.csv:5: quarantined \(equals_area_total\): Middlesbrough \(E06000002\)"
                         r" new_plans_issued 2024 = 300: equal to the published North East total",
                         out), out)
        t.eq(stored(s.db, "E06000002", "new_plans_issued", "2024"), "300", "stored as published")
        t.eq(in_force(s.db, "E06000002", "new_plans_issued", "2024"), None, "not in force")
        # The row's shares were made from the bad total: held back too.
        t.eq(in_force(s.db, "E06000002", "pct_new_plans_mainstream", "2024"), None, "its share")
        t.eq(in_force(s.db, "E06000002", "new_plans_mainstream", "2024"), "50", "its counts stay")
        t.eq(in_force(s.db, "E06000001", "new_plans_issued", "2024"), "100", "the others stay")
        # The published England and regional figures are stored as areas.
        t.eq(harness.psql(s.db, "SELECT area, value FROM current_area_observations"
                                " WHERE metric = 'new_plans_issued' ORDER BY area"),
             [["E12000001", "300"], ["E92000001", "900"]], "areas")
        # Once only: the same file again adds no flag and says so.
        n = len(flags(s.db))
        out = s.imp(t, f)
        t.true("all recorded by an earlier import" in out, out)
        t.eq(len(flags(s.db)), n, "no second flag")
        # An authority equal to a region's total where it is the only one
        # with a figure is not a defect.
        f2 = s.path("np_alone.csv")
        crafted(f2, "newplans.csv", "New EHC plans", [
            ("Regional", "E12000002", "2023", {"new_ehc_plans": "40"}),
            ("Local authority", la(0, "E12000002"), "2023", {"new_ehc_plans": "40"}),
            ("Local authority", la(1, "E12000002"), "2023", {"new_ehc_plans": "0"}),
        ])
        out = s.imp(t, f2)
        t.true("import checks: nothing quarantined" in out, out)


def test_authorities_adding_up_to_more_than_the_total_are_quarantined(t):
    with Scratch() as s:
        f = s.path("np.csv")
        crafted(f, "newplans.csv", "New EHC plans", [
            ("National", None, "2024", {"new_ehc_plans": "1000"}),
            # North East: 100 + 90 + 60 = 250 > 200 + slack 5: all three.
            ("Regional", "E12000001", "2024", {"new_ehc_plans": "200"}),
            ("Local authority", la(0), "2024", {"new_ehc_plans": "100"}),
            ("Local authority", la(1), "2024", {"new_ehc_plans": "90"}),
            ("Local authority", la(2), "2024", {"new_ehc_plans": "60"}),
            # 204 against 200: within the slack (5 or 1%), not flagged.
            ("Regional", "E12000001", "2023", {"new_ehc_plans": "200"}),
            ("Local authority", la(0), "2023", {"new_ehc_plans": "104"}),
            ("Local authority", la(1), "2023", {"new_ehc_plans": "90"}),
            ("Local authority", la(2), "2023", {"new_ehc_plans": "10"}),
        ])
        out = s.imp(t, f)
        t.eq(sorted(r[0] for r in flags(s.db) if r[3] == "exceeds_area_total"
                    and r[1] == "new_plans_issued"),
             ["E06000001", "E06000002", "E06000003"], "the region's three: " + out)
        t.true("the 3 authorities of North East add up to 250, the published total is 200" in out,
               out)
        t.eq(in_force(s.db, "E06000001", "new_plans_issued", "2024"), None, "quarantined")
        t.eq(in_force(s.db, "E06000001", "new_plans_issued", "2023"), "104", "within slack")
        # England: regions consistent, but more than the national total.
        f2 = s.path("np_england.csv")
        crafted(f2, "newplans.csv", "New EHC plans", [
            ("National", None, "2022", {"new_ehc_plans": "150"}),
            ("Local authority", la(0), "2022", {"new_ehc_plans": "100"}),
            ("Local authority", la(0, "E12000002"), "2022", {"new_ehc_plans": "90"}),
        ])
        out = s.imp(t, f2)
        t.true("authorities of England add up to 190, the published total is 150" in out, out)
        t.eq(in_force(s.db, "E06000049", "new_plans_issued", "2022"), None, "England rule")


def test_internal_contradictions_are_quarantined(t):
    with Scratch() as s:
        tl = s.path("tl.csv")
        crafted(tl, "timeliness_20_week.csv", "All EHC plans issued", [
            ("Local authority", la(0), "2024",
             {"plans_issued_den": "50", "plans_issued_within_20_weeks": "60",
              "plans_issued_den_ex": "50", "plans_issued_20_weeks_ex": "40"}),
            ("Local authority", la(1), "2024",
             {"plans_issued_den": "50", "plans_issued_within_20_weeks": "30",
              "plans_issued_den_ex": "50", "plans_issued_20_weeks_ex": "30"}),
        ])
        out = s.imp(t, tl)
        t.true(re.search(r"tl\.csv:2: quarantined \(contradiction\): Hartlepool \(E06000001\) 2024:"
                         r" new_plans_within_20_weeks 60 = 60, more than new_plans_timeliness_den 50",
                         out), out)
        for m in ("new_plans_within_20_weeks", "new_plans_timeliness_den",
                  "pct_new_plans_over_1_year"):
            t.eq(in_force(s.db, "E06000001", m, "2024"), None, m + " held back")
        t.eq(in_force(s.db, "E06000001", "new_plans_within_20_weeks_ex", "2024"), "40",
             "the consistent pair stays")
        t.eq(in_force(s.db, "E06000002", "new_plans_within_20_weeks", "2024"), "30", "other row")

        rq = s.path("rq.csv")
        crafted(rq, "requests.csv", "All requests for EHC needs assessments", [
            ("Local authority", la(0), "2024",
             {"requests_received_in_year": "100", "requests_decided_to_assess": "80",
              "requests_decided_not_to_assess": "30"}),
        ])
        out = s.imp(t, rq)
        t.true("requests_decided_to_assess 80 + requests_refused 30 = 110, more than"
               " requests_received 100" in out, out)
        t.eq(in_force(s.db, "E06000001", "requests_received", "2024"), None, "requests held back")

        cl = s.path("cl.csv")
        crafted(cl, "caseload.csv", "All EHC plans", [
            ("Local authority", la(0), "202425",
             {"ehcplans": "100", "mainstream_total": "70", "special_total": "0",
              "special_la_maintained": "40", "ap_pru_total": "0"}),
        ])
        out = s.imp(t, cl)
        t.true("plans_mainstream 70 + plans_special_state 40" in out and "more than ehcp_caseload 100"
               in out, out)
        t.eq(in_force(s.db, "E06000001", "ehcp_caseload", "2025"), None, "plans held back")
        t.eq(in_force(s.db, "E06000001", "pct_plans_mainstream", "2025"), None, "shares held back")


def test_a_large_change_on_the_year_before_is_queried_and_kept(t):
    with Scratch() as s:
        f = s.path("np.csv")
        crafted(f, "newplans.csv", "New EHC plans", [
            ("Local authority", la(0), "2023", {"new_ehc_plans": "100"}),
            ("Local authority", la(0), "2024", {"new_ehc_plans": "400"}),
            ("Local authority", la(1), "2023", {"new_ehc_plans": "100"}),
            ("Local authority", la(1), "2024", {"new_ehc_plans": "290"}),
            # Small counts move: 10 -> 40 is below year_on_year_min.
            ("Local authority", la(2), "2023", {"new_ehc_plans": "10"}),
            ("Local authority", la(2), "2024", {"new_ehc_plans": "40"}),
        ])
        out = s.imp(t, f)
        t.true(re.search(r"np\.csv:3: queried \(year_on_year\): Hartlepool \(E06000001\)"
                         r" new_plans_issued 2024 = 400, 2023 was 100", out), out)
        t.eq([r[:5] for r in flags(s.db)],
             [["E06000001", "new_plans_issued", "2024", "year_on_year", "query"]], "one query")
        t.eq(in_force(s.db, "E06000001", "new_plans_issued", "2024"), "400", "kept in force")
        # Against the year in force when the file does not have it.
        f2 = s.path("np_2025.csv")
        crafted(f2, "newplans.csv", "New EHC plans", [
            ("Local authority", la(1), "2025", {"new_ehc_plans": "80"}),
        ])
        out = s.imp(t, f2)
        t.true("new_plans_issued 2025 = 80, 2024 was 290 (in force)" in out, out)


def test_the_shipped_release_defect_is_caught(t):
    """Every Yorkshire and The Humber authority's 2022 new-plans row in the
    shipped newplans.csv carries the regional total (6,078): quarantined,
    so nowhere in force; the other regions' 2022 figures are."""
    got = t.psql("SELECT q.authority, q.rule, q.line FROM import_quality q"
                 " JOIN authorities a ON a.new_la_code = q.authority"
                 " WHERE q.metric = 'new_plans_issued' AND q.period = '2022'"
                 "  AND q.file_name = 'newplans.csv' ORDER BY q.authority")
    yh = t.psql("SELECT new_la_code FROM authorities WHERE region_code = 'E12000003'"
                " AND valid_to IS NULL ORDER BY new_la_code")
    t.eq([r[0] for r in got], [r[0] for r in yh], "every Y&H authority")
    t.true(all(r[1] == "equals_area_total" for r in got), got)
    t.eq(t.value("SELECT count(*) FROM current_observations c JOIN authorities a"
                 " ON a.new_la_code = c.authority WHERE a.region_code = 'E12000003'"
                 " AND c.metric IN ('new_plans_issued', 'pct_new_plans_mainstream')"
                 " AND c.period = '2022'"), "0", "none in force")
    t.eq(t.value("SELECT count(*) FROM current_observations WHERE metric = 'new_plans_issued'"
                 " AND period = '2022'"), "137", "the other 137 authorities are")
    t.eq(t.value("SELECT count(*) FROM forecast_input WHERE metric = 'new_plans_issued'"
                 " AND period = '2022' AND value = 6078"), "0", "not forecast")
    # The published England and regional figures, beside the authorities.
    t.eq(t.psql("SELECT area, metric, period, value FROM current_area_observations"
                " WHERE area = 'E92000001' AND ((metric = 'ehcp_caseload' AND period = '2025')"
                "  OR (period = '2024' AND metric IN ('new_plans_issued', 'requests_received',"
                "   'new_plans_issued_ex', 'new_plans_within_20_weeks_ex')))"
                " ORDER BY metric"),
         [["E92000001", "ehcp_caseload", "2025", "638745"],
          ["E92000001", "new_plans_issued", "2024", "97747"],
          ["E92000001", "new_plans_issued_ex", "2024", "84866"],
          ["E92000001", "new_plans_within_20_weeks_ex", "2024", "39407"],
          ["E92000001", "requests_received", "2024", "154489"]], "England as published")
    t.eq(t.value("SELECT round(100 * n.value / d.value, 1) FROM current_area_observations n,"
                 " current_area_observations d WHERE n.area = 'E92000001' AND d.area = n.area"
                 " AND n.period = '2024' AND d.period = '2024'"
                 " AND n.metric = 'new_plans_within_20_weeks_ex' AND d.metric = 'new_plans_issued_ex'"),
         "46.4", "England's 2024 rate within 20 weeks excluding exceptions")
    t.eq(t.value("SELECT value FROM current_area_observations WHERE area = 'E12000003'"
                 " AND metric = 'new_plans_issued' AND period = '2022'"), "6078", "the region's")


def test_a_noted_row_names_each_figure_it_flags(t):
    """Dorset's 2024 timeliness row is noted twice (new plans and plans
    within 20 weeks, both excluding exceptions, are 0 by the DfE's
    footnote): the import prints one line per figure, each naming it,
    not the same line twice."""
    with Scratch() as s:
        out = s.imp(t, os.path.join(D, "sen2_2025", "timeliness_20_week.csv"))
    lines = [l for l in out.splitlines()
             if "noted (all_exceptions)" in l and "Dorset (E06000059) 2024:" in l]
    t.eq(len(lines), 2, "two noted figures: %r" % lines)
    t.eq(len(set(lines)), 2, "two different lines: %r" % lines)
    t.true(any("): new_plans_issued_ex: Dorset" in l for l in lines), lines)
    t.true(any("): new_plans_within_20_weeks_ex: Dorset" in l for l in lines), lines)


def test_the_esfa_england_row_is_englands_figure(t):
    """The DSG allocations' National row is the ESFA's published England
    total, stored as England's figure (not skipped), so England's value of
    a money table is the published one, not a sum of authorities."""
    t.eq(t.psql("SELECT metric, value FROM current_area_observations WHERE area = 'E92000001'"
                " AND period = '2023-24' AND metric LIKE '%deductions_gbp' ORDER BY metric"),
         [["dsg_total_after_deductions_gbp", "30327401487"],
          ["dsg_total_before_deductions_gbp", "57165623081"],
          ["hnb_after_deductions_gbp", "8885084012"],
          ["hnb_before_deductions_gbp", "9953984391"]], "England's 2023-24 row, as published")
    t.eq(t.value("SELECT count(*) FROM current_area_observations WHERE area = 'E92000001'"
                 " AND metric = 'hnb_before_deductions_gbp'"), "5", "every year 2019-20..2023-24")
    t.eq(t.psql("SELECT how, value FROM area_figures WHERE area = 'E92000001'"
                " AND metric = 'hnb_before_deductions_gbp' AND period = '2019-20'"),
         [["published", "6279123139.32"]], "England's value is the published one")


def test_quality_list_and_release(t):
    db = harness.fresh_db("history")
    r = harness.run_cli(db, "quality", "list", "--status", "quarantined")
    t.eq(r.returncode, 0, r.stderr)
    t.true("equals_area_total  newplans.csv:" in r.stdout and "Leeds" in r.stdout, r.stdout[:500])
    t.true(re.search(r"quality: \d+ quarantined \(not in force\), 0 released", r.stdout),
           r.stdout[-300:])
    leeds = harness.psql_value(db, "SELECT id FROM import_quality WHERE authority = 'E08000035'"
                                   " AND metric = 'new_plans_issued' AND period = '2022'")
    # A reason is required; a query cannot be released; an unknown id.
    for args, code, text in ((["release", leeds], 2, "--reason"),
                             (["release", leeds, "--reason", "  "], 2, "--reason"),
                             (["release", "abc", "--reason", "x"], 2, "flag number"),
                             (["release", "999999999", "--reason", "x"], 1, "no flag")):
        r = harness.run_cli(db, "quality", *args)
        t.eq(r.returncode, code, "%s: %s" % (args, r.stderr))
        t.true(text in r.stderr, r.stderr)
    query = harness.psql_value(db, "SELECT min(id) FROM import_quality WHERE action = 'query'")
    r = harness.run_cli(db, "quality", "release", query, "--reason", "x")
    t.eq(r.returncode, 1, "a query")
    t.true("is a query" in r.stderr, r.stderr)
    version = harness.psql_value(db, "SELECT data_version()")
    r = harness.run_cli(db, "quality", "release", leeds, "--reason", "checked with Leeds")
    t.eq(r.returncode, 0, r.stderr)
    t.eq(harness.psql_value(db, "SELECT value FROM current_observations WHERE authority ="
                                " 'E08000035' AND metric = 'new_plans_issued' AND period = '2022'"),
         "6078", "released: in force again")
    t.true(int(harness.psql_value(db, "SELECT data_version()")) > int(version), "data version moved")
    t.eq(harness.psql(db, "SELECT actor, action, authority, detail->>'reason', detail->>'rule'"
                          " FROM audit_log WHERE action = 'quality release'"),
         [["cli", "quality release", "E08000035", "checked with Leeds", "equals_area_total"]],
         "audited")
    r = harness.run_cli(db, "quality", "release", leeds, "--reason", "again")
    t.eq(r.returncode, 1, "twice")
    t.true("released before" in r.stderr, r.stderr)
    r = harness.run_cli(db, "quality", "list", "--status", "released")
    t.true("released" in r.stdout and "checked with Leeds" in r.stdout, r.stdout)


def test_admin_endpoints(t):
    """GET /api/v1/admin/quality and POST .../{id}/release: admin only,
    every refusal a 4xx JSON error that changes nothing, a release audited
    and in force at once (tables included)."""
    tok = {}
    for name, args in (("admin", ["--admin"]), ("leeds", ["--authority", "E08000035"])):
        r = t.cli("token", "create", *args)
        t.eq(r.returncode, 0, "token create: " + r.stderr)
        tok[name] = {"Authorization": "Bearer " + r.stdout.strip()}
    path = "/api/v1/admin/quality"
    s, h, b = t.request("GET", path)
    t.json_error(s, b, 401)
    s, h, b = t.request("GET", path, headers=tok["leeds"])
    t.json_error(s, b, 403, "forbidden")
    s, h, b = t.request("GET", path + "?status=bogus", headers=tok["admin"])
    t.json_error(s, b, 400, "bad_parameter")
    t.eq(json.loads(b)["error"]["details"][0]["field"], "status", "names the field")
    s, doc = t.get_json(path + "?status=quarantined", headers=tok["admin"])
    t.eq(s, 200, "list")
    t.true(doc["counts"]["quarantined"] >= 120 and all(f["status"] == "quarantined"
                                                       for f in doc["flags"]), doc["counts"])
    t.true(any(th["name"] == "year_on_year_ratio" and th["value"] == 3
               for th in doc["thresholds"]), doc["thresholds"])
    leeds = next(f for f in doc["flags"] if f["authority"] == "E08000035"
                 and f["metric"] == "new_plans_issued" and f["period"] == "2022")
    t.eq((leeds["rule"], leeds["file"], leeds["authority_name"]),
         ("equals_area_total", "newplans.csv", "Leeds"), "the Leeds flag")
    t.true("6078" in leeds["detail"], leeds["detail"])

    table = "/api/v1/tables/new_plans_issued?period=2022"

    def leeds_value():
        s, doc = t.get_json(table)
        t.eq(s, 200, "table")
        row = [x for x in doc["rows"] if x["code"] == "E08000035"]
        return row[0]["value"] if row else None

    t.true(leeds_value() in (None, "x"), "Leeds 2022 not served")

    release = "%s/%d/release" % (path, leeds["id"])
    snap = t.psql("SELECT count(*) FROM import_quality_releases UNION ALL"
                  " SELECT count(*) FROM audit_log")
    for body, headers, status, code in (
            ({"reason": "checked"}, None, 401, None),
            ({"reason": "checked"}, tok["leeds"], 403, "forbidden"),
            ({}, tok["admin"], 400, "bad_request"),
            ({"reason": "   "}, tok["admin"], 400, "bad_request"),
            ({"reason": 5}, tok["admin"], 400, "bad_request"),
            ("not json", tok["admin"], 400, "bad_request")):
        s, h, b = t.request("POST", release, body=body, headers=headers)
        t.json_error(s, b, status, code)
        if status == 400:
            t.eq(json.loads(b)["error"]["details"][0]["field"], "reason", "names reason")
    s, h, b = t.request("POST", "%s/999999999/release" % path, body={"reason": "x"},
                        headers=tok["admin"])
    t.json_error(s, b, 404, "not_found")
    query = next(f for f in t.get_json(path + "?status=queried", headers=tok["admin"])[1]["flags"])
    s, h, b = t.request("POST", "%s/%d/release" % (path, query["id"]), body={"reason": "x"},
                        headers=tok["admin"])
    t.json_error(s, b, 409, "not_quarantined")
    t.eq(t.psql("SELECT count(*) FROM import_quality_releases UNION ALL"
                " SELECT count(*) FROM audit_log"), snap, "refusals change nothing")

    s, doc = t.get_json(path + "?status=quarantined", headers=tok["admin"])
    s, h, b = t.request("POST", release, body={"reason": "confirmed with the council"},
                        headers=tok["admin"])
    t.eq(s, 200, "release: %s" % b)
    t.eq(json.loads(b)["released"]["status"], "released", "answer")
    s, h, b = t.request("POST", release, body={"reason": "again"}, headers=tok["admin"])
    t.json_error(s, b, 409, "already_released")
    t.eq(t.psql("SELECT action, authority, detail->>'reason' FROM audit_log"
                " WHERE action = 'quality release' AND actor LIKE 'token:%'"),
         [["quality release", "E08000035", "confirmed with the council"]], "audited")
    v = leeds_value()
    t.true(v not in (None, "x") and float(v) == 6078, "Leeds served again: %r" % v)
    s, doc = t.get_json(path + "?status=released", headers=tok["admin"])
    t.true(any(f["id"] == leeds["id"] and f["release_reason"] == "confirmed with the council"
               and f["released_by"].startswith("token:") for f in doc["flags"]), doc["flags"][:2])
