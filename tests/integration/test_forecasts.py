"""Forecasts: fitted off the loop by the worker, stored, served, reconciled."""

import json
import math
import random
import time

import harness

REGIONS = [("E12000001", "North East"), ("E12000009", "South West")]


def seed(t):
    """Twelve authorities in two regions with growing plans, 2010-2022."""
    rnd = random.Random(7)
    rows, auths = [], []
    for i in range(12):
        code = "E0600%04d" % (100 + i)
        old = "%03d" % (700 + i)
        rc, rn = REGIONS[i % 2]
        auths.append("('%s','%s','Authority %d','%s','%s')" % (code, old, i, rc, rn))
        level = 800 + 150 * i
        growth = 0.04 + 0.01 * (i % 5)
        for y in range(2010, 2023):
            level *= 1 + growth + rnd.gauss(0, 0.02)
            rows.append("('%s','ehcp_caseload','%d','census_year','%d-01-20',%d,true,'test',1)"
                        % (code, y, y, round(level)))
    t.psql("INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name)"
           " VALUES " + ",".join(auths))
    nb = []
    for i in range(12):
        for r in range(1, 4):
            nb.append("('E0600%04d', %d, 'E0600%04d', 'Close', 'test')" % (100 + i, r, 100 + (i + r) % 12))
    t.psql("INSERT INTO statistical_neighbours VALUES " + ",".join(nb))
    t.psql("INSERT INTO observations (authority, metric, period, period_kind, period_start,"
           " value, published, source, version) VALUES " + ",".join(rows) +
           "; NOTIFY sendbench_data")


def wait_forecast(t, path, want_version=None, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s, h, b = t.request("GET", path)
        if s == 200:
            doc = json.loads(b)
            if want_version is None or doc["data_version"] >= want_version:
                return doc
        elif s != 503:
            raise harness.TestFailure("%s: %d %s" % (path, s, b[:300]))
        time.sleep(0.2)
    raise harness.TestFailure("no forecast within %ss for %s" % (timeout, path))


def test_metric_without_data_is_404_not_pending(t):
    s, h, b = t.request("GET", "/api/v1/forecasts/ehcp_caseload?authority=E92000001")
    t.json_error(s, b, 404, "no_data")


def test_authority_forecast_served_with_intervals_and_record(t):
    seed(t)
    doc = wait_forecast(t, "/api/v1/forecasts/ehcp_caseload?authority=E06000100")
    t.eq(doc["metric"], "ehcp_caseload", "metric")
    t.eq(doc["area"]["code"], "E06000100", "area")
    t.true(doc["model"]["name"] and doc["model"]["reason"], "model and reason given")
    t.eq(len(doc["history"]), 13, "history years")
    t.eq([f["period"] for f in doc["forecasts"]], ["2023", "2024", "2025"], "default horizon 3")
    for f in doc["forecasts"]:
        t.true(f["lo95"] <= f["lo80"] <= f["forecast"] <= f["hi80"] <= f["hi95"],
               "intervals nest: %r" % f)
        t.true(f["lo95"] >= 0, "a count's interval stays >= 0")
    acc = doc["accuracy"]
    for k in ("chosen", "naive", "drift"):
        a = acc[k]
        t.true({"n", "origins", "judged"} <= set(a), "accuracy %s carries its n: %r" % (k, a))
        if a["judged"]:
            t.true({"mase", "smape", "coverage80", "coverage95"} <= set(a), "accuracy %s" % k)
            t.true(a["origins"] >= acc["minimum_origins"], "judged from enough origins")
        else:
            t.true("smape" not in a and a["note"] == "too little history to judge",
                   "no figure below the minimum: %r" % a)
    t.true(acc["chosen"]["judged"], "13 years: the chosen model has a track record")
    t.true(("n = %d" % acc["chosen"]["n"]) in acc["statement"], "the statement gives its n")
    t.true("lopsided" in doc["intervals"]["shape"] or "symmetric" in doc["intervals"]["shape"],
           "interval shape explained")
    t.eq(doc["stale"], False, "fresh")


def test_old_code_and_horizon(t):
    doc = wait_forecast(t, "/api/v1/forecasts/ehcp_caseload?authority=700&horizon=5")
    t.eq(doc["area"]["code"], "E06000100", "DfE number resolves")
    t.eq(len(doc["forecasts"]), 5, "horizon 5")


def test_england_and_regions_add_up(t):
    eng = wait_forecast(t, "/api/v1/forecasts/ehcp_caseload")
    t.eq(eng["scope"], "england", "scope")
    t.eq(eng["reconciliation"]["method"], "bottom-up", "method stated")
    total = [0.0, 0.0, 0.0]
    for i in range(12):
        d = wait_forecast(t, "/api/v1/forecasts/ehcp_caseload?authority=E0600%04d" % (100 + i))
        for j in range(3):
            total[j] += d["forecasts"][j]["forecast"]
    for j in range(3):
        t.true(abs(eng["forecasts"][j]["forecast"] - total[j]) < 1e-6 * total[j],
               "England = sum of authorities at h=%d" % (j + 1))
    regions = [wait_forecast(t, "/api/v1/forecasts/ehcp_caseload?authority=" + rc)
               for rc, _ in REGIONS]
    for j in range(3):
        s = sum(r["forecasts"][j]["forecast"] for r in regions)
        t.true(abs(s - total[j]) < 1e-6 * total[j], "regions add up to England")


def test_csv_format(t):
    s, h, b = t.request("GET", "/api/v1/forecasts/ehcp_caseload?authority=E06000101&format=csv")
    t.eq(s, 200, "status")
    lines = b.decode().strip().split("\n")
    t.eq(lines[0], "period,forecast,lo80,hi80,lo95,hi95", "header")
    t.eq(len(lines), 4, "three rows")
    for line in lines[1:]:
        cells = line.split(",")
        t.eq(len(cells), 6, "six cells")
        for c in cells[1:]:
            v = float(c)
            t.true(math.isfinite(v) and "," not in c, "plain number")
            # ehcp_caseload has dp 0 in the catalogue: whole numbers, not
            # "3547.429592" (issue 14 point 6)
            t.true(c.lstrip("-").isdigit(), "rounded as the catalogue says: %r" % c)
    s2, h2, b2 = t.request("GET", "/api/v1/forecasts/ehcp_caseload?authority=E06000101",
                           headers={"Accept": "text/csv"})
    t.eq(b2, b, "Accept: text/csv gives the same CSV")


def test_new_data_refits_and_stale_flag_is_honest(t):
    before = wait_forecast(t, "/api/v1/forecasts/ehcp_caseload?authority=E06000102")
    t.psql("INSERT INTO observations (authority, metric, period, period_kind, period_start, value,"
           " published, source, version) VALUES ('E06000102','ehcp_caseload','2022','census_year',"
           " '2022-01-20', 99999, true, 'revised', 2); NOTIFY sendbench_data")
    current = int(t.value("SELECT data_version()"))
    s, h, b = t.request("GET", "/api/v1/forecasts/ehcp_caseload?authority=E06000102")
    doc = json.loads(b)
    t.eq(doc["stale"], doc["data_version"] < doc["current_data_version"], "stale flag")
    after = wait_forecast(t, "/api/v1/forecasts/ehcp_caseload?authority=E06000102",
                          want_version=current)
    t.eq(after["stale"], False, "refitted")
    t.eq(after["history"][-1]["value"], 99999, "refit used the revised figure")
    t.true(after["forecasts"][0]["forecast"] != before["forecasts"][0]["forecast"], "forecast moved")


def forecast_cache_hits(t):
    s, h, b = t.request("GET", "/metrics")
    for line in b.decode().splitlines():
        if line.startswith('sendbench_events_total{event="forecast_cache_hits"}'):
            return int(line.split()[-1])
    return 0


def test_replies_are_cached_with_etag_and_dropped_when_data_change(t):
    path = "/api/v1/forecasts/ehcp_caseload?authority=E06000101"
    first = wait_forecast(t, path)
    s1, h1, b1 = t.request("GET", path)
    hits = forecast_cache_hits(t)
    s2, h2, b2 = t.request("GET", path)
    t.eq((s1, s2), (200, 200), "status")
    t.eq(b2, b1, "the same bytes")
    t.true(h1.get("etag") and h2.get("etag") == h1.get("etag"), "one ETag: %s" % h1.get("etag"))
    t.eq(forecast_cache_hits(t), hits + 1, "the second answer came from the cache")
    s3, h3, b3 = t.request("GET", path, headers={"If-None-Match": h1["etag"]})
    t.eq((s3, b3), (304, b""), "revalidation answers 304")
    t.eq(h1.get("cache-control"), "public, max-age=60", "cache control")
    # New data move the data version: the cached reply is dropped, and the
    # next one says so.
    t.psql("INSERT INTO observations (authority, metric, period, period_kind, period_start, value,"
           " published, source, version) VALUES ('E06000101','ehcp_caseload','2021','census_year',"
           " '2021-01-21', 4242, true, 'cache test', 2)")
    current = int(t.value("SELECT data_version()"))
    deadline = time.time() + 10
    while True:
        doc = json.loads(t.request("GET", path)[2])
        if doc["current_data_version"] == current:
            break
        if time.time() > deadline:
            raise harness.TestFailure("the cached forecast still says data version %s, not %s"
                                      % (doc["current_data_version"], current))
        time.sleep(0.1)
    t.true(doc["current_data_version"] > first["current_data_version"], "moved on")
    t.eq(doc["stale"], doc["data_version"] < current, "stale flag")


def test_bad_parameters(t):
    for q, code, status in (("?horizon=0", "bad_parameter", 400), ("?horizon=6", "bad_parameter", 400),
                            ("?horizon=abc", "bad_parameter", 400), ("?format=xml", "bad_parameter", 400),
                            ("?authority=E09999999", "unknown_area", 404),
                            ("?authority=%27%3B%20DROP%20TABLE%20forecasts%3B--", "unknown_area", 404)):
        s, h, b = t.request("GET", "/api/v1/forecasts/ehcp_caseload" + q)
        t.json_error(s, b, status, code)
    s, h, b = t.request("GET", "/api/v1/forecasts/no_such_metric")
    t.json_error(s, b, 404, "unknown_metric")
    t.true(int(t.value("SELECT count(*) FROM forecasts")) > 0, "forecasts table intact")


def test_cli_forecast_and_backtest(t):
    r = t.cli("forecast", "--authority", "E06000103", "--metric", "ehcp_caseload", "--format", "csv")
    t.eq(r.returncode, 0, "exit: " + r.stderr)
    lines = r.stdout.strip().split("\n")
    t.eq(lines[0], "period,forecast,lo80,hi80,lo95,hi95", "CSV header")
    t.eq(len(lines), 4, "rows")
    r = t.cli("forecast", "--authority", "E06000103", "--metric", "ehcp_caseload", "--horizon", "2")
    t.eq(r.returncode, 0, "exit")
    t.eq(len(json.loads(r.stdout)["forecasts"]), 2, "json horizon 2")
    r = t.cli("backtest", "--metric", "ehcp_caseload")
    t.eq(r.returncode, 0, "exit: " + r.stderr)
    t.true("auto" in r.stdout and "MASE" in r.stdout and "drift" in r.stdout, r.stdout)
    for args in (["forecast", "--metric", "ehcp_caseload"],
                 ["forecast", "--authority", "E06000103", "--metric", "nope"],
                 ["forecast", "--authority", "nowhere", "--metric", "ehcp_caseload"],
                 ["forecast", "--authority", "E06000103", "--metric", "ehcp_caseload", "--horizon", "9"],
                 ["backtest"], ["backtest", "--metric", "ehcp_caseload", "--origin", "1990"]):
        r = t.cli(*args)
        t.true(r.returncode != 0, "%r fails" % args)
        t.eq(len(r.stderr.strip().splitlines()), 1, "one line: %r" % r.stderr)
