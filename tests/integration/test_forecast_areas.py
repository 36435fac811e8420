"""England and regional forecasts of a rate, boundary changes, and track
records that are only stated from enough history (issue 18)."""

import json
import re
import random

import harness
from test_forecasts import wait_forecast

REGIONS = [("E12000001", "North East"), ("E12000009", "South West")]
N = 8


def code(i):
    return "E0600%04d" % (200 + i)


def seed(t):
    """Eight authorities with 20-week timeliness counts 2015-2022; a county
    that split in two in 2019 (plans in place 2010-2018, then its two
    successors 2019-2022); one authority with only three years of plans."""
    rnd = random.Random(11)
    auths, rows = [], []
    for i in range(N):
        rc, rn = REGIONS[i % 2]
        auths.append("('%s','%03d','Authority %d','%s','%s')" % (code(i), 600 + i, i, rc, rn))
        den = 300 + 60 * i
        rate = 0.3 + 0.06 * i
        for y in range(2015, 2023):
            den *= 1.08 + rnd.gauss(0, 0.03)
            rate = min(0.97, max(0.05, rate + rnd.gauss(0, 0.08)))
            d = round(den)
            for metric, v in (("new_plans_timeliness_den", d), ("new_plans_within_20_weeks", round(d * rate))):
                rows.append("('%s','%s','%d','calendar_year','%d-01-01',%d,true,'test',1)"
                            % (code(i), metric, y, y, v))
        level = 900 + 100 * i
        for y in range(2010, 2023):
            level *= 1.05 + rnd.gauss(0, 0.02)
            rows.append("('%s','ehcp_caseload','%d','census_year','%d-01-20',%d,true,'test',1)"
                        % (code(i), y, y, round(level)))
    auths.append("('E10000901','901','Old County','E12000001','North East')")
    auths.append("('E06000901','931','North Half','E12000001','North East')")
    auths.append("('E06000902','932','South Half','E12000001','North East')")
    auths.append("('E06000903','933','Short History','E12000009','South West')")
    county = {}
    level = 3000.0
    for y in range(2010, 2019):
        level *= 1.06
        county[y] = round(level)
        rows.append("('E10000901','ehcp_caseload','%d','census_year','%d-01-20',%d,true,'test',1)"
                    % (y, y, county[y]))
    halves = {}
    for y in range(2019, 2023):
        level *= 1.06
        halves[y] = (round(level * 0.6), round(level * 0.4))
        for c, v in (("E06000901", halves[y][0]), ("E06000902", halves[y][1])):
            rows.append("('%s','ehcp_caseload','%d','census_year','%d-01-20',%d,true,'test',1)"
                        % (c, y, y, v))
    for y, v in ((2020, 500), (2021, 540), (2022, 600)):
        rows.append("('E06000903','ehcp_caseload','%d','census_year','%d-01-20',%d,true,'test',1)"
                    % (y, y, v))
    t.psql("INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name)"
           " VALUES " + ",".join(auths))
    t.psql("UPDATE authorities SET valid_to = '2019-04-01' WHERE new_la_code = 'E10000901';"
           " UPDATE authorities SET valid_from = '2019-04-01'"
           "  WHERE new_la_code IN ('E06000901', 'E06000902');"
           " INSERT INTO authority_successions VALUES ('E10000901', 'E06000901', '2019-04-01'),"
           " ('E10000901', 'E06000902', '2019-04-01')")
    t.psql("INSERT INTO observations (authority, metric, period, period_kind, period_start,"
           " value, published, source, version) VALUES " + ",".join(rows) +
           "; NOTIFY sendbench_data")
    return county, halves


STATE = {}


def test_england_rate_is_the_ratio_of_reconciled_forecasts(t):
    STATE["county"], STATE["halves"] = seed(t)
    eng = wait_forecast(t, "/api/v1/forecasts/pct_within_20_weeks", timeout=60)
    t.eq(eng["scope"], "england", "scope")
    rec = eng["reconciliation"]
    t.eq(rec["method"], "ratio of reconciled numerator and denominator forecasts", "method")
    t.true(re.match(r"ratio of reconciled numerator and denominator forecasts of the \d+ "
                    r"authorities in England \(", eng["model"]["reason"]) is not None,
        "the reason reads as English: %s" % eng["model"]["reason"][:120])
    t.eq(rec["denominator"], "new_plans_timeliness_den", "denominator named")
    rates = [wait_forecast(t, "/api/v1/forecasts/pct_within_20_weeks?authority=" + code(i))
             for i in range(N)]
    dens = [wait_forecast(t, "/api/v1/forecasts/new_plans_timeliness_den?authority=" + code(i))
            for i in range(N)]
    for j in range(3):
        num = sum(r["forecasts"][j]["forecast"] * d["forecasts"][j]["forecast"]
                  for r, d in zip(rates, dens))
        den = sum(d["forecasts"][j]["forecast"] for d in dens)
        f = eng["forecasts"][j]
        t.true(abs(f["forecast"] - num / den) < 1e-6 * (num / den),
               "England h=%d: %r = sum(rate x den) / sum(den) = %r" % (j + 1, f["forecast"], num / den))
        t.true(0 <= f["lo95"] <= f["lo80"] <= f["forecast"] <= f["hi80"] <= f["hi95"] <= 100,
               "intervals nest inside 0-100: %r" % f)
    # history: the rate of the summed counts
    for row in eng["history"]:
        y = row["period"]
        t.true(row["value"] is not None, "England's %s rate" % y)
    t.true("statement" in eng["accuracy"] and "n = " in eng["accuracy"]["statement"],
           "the area's statement gives its n: %r" % eng["accuracy"]["statement"])
    s, h, b = t.request("GET", "/api/v1/forecasts/pct_within_20_weeks?authority=E12000009&format=csv")
    t.eq(s, 200, "a region's rate forecast as CSV")
    t.eq(b.decode().splitlines()[0], "period,forecast,lo80,hi80,lo95,hi95", "CSV header")


def test_successor_history_apportioned_and_said(t):
    doc = wait_forecast(t, "/api/v1/forecasts/ehcp_caseload?authority=E06000901", timeout=60)
    b = doc["boundary_change"]
    t.eq(b["years_apportioned"], 9, "2010-2018 apportioned")
    t.eq((b["first_apportioned"], b["last_apportioned"]), (2010, 2018), "years")
    h19 = STATE["halves"][2019]
    share = h19[0] / (h19[0] + h19[1])
    t.true(abs(b["share"] - share) < 1e-9, "share of the first common year: %r" % b["share"])
    t.true("Old County" in b["predecessors"] and "Old County" in b["note"], b["note"])
    hist = {r["period"]: r for r in doc["history"]}
    t.true(hist["2010"].get("apportioned") is True, "2010 marked apportioned")
    t.true(abs(hist["2010"]["value"] - share * STATE["county"][2010]) < 1e-6, "2010 value")
    t.true("apportioned" not in hist["2019"], "its own 2019 figure is not")
    t.eq(len(doc["history"]), 13, "history from 2010")
    # nothing is counted twice: England's 2010 is the old county plus the others
    eng = wait_forecast(t, "/api/v1/forecasts/ehcp_caseload")
    e2010 = [r["value"] for r in eng["history"] if r["period"] == "2010"][0]
    others = sum(wait_forecast(t, "/api/v1/forecasts/ehcp_caseload?authority=" + code(i))
                 ["history"][0]["value"] for i in range(N))
    t.true(abs(e2010 - (others + STATE["county"][2010])) < 1e-6,
           "England 2010 = authorities + old county, successors' apportioned years left out")


def test_short_history_is_not_judged(t):
    doc = wait_forecast(t, "/api/v1/forecasts/ehcp_caseload?authority=E06000903", timeout=60)
    chosen = doc["accuracy"]["chosen"]
    t.eq(chosen["judged"], False, "three years: not judged")
    t.true("smape" not in chosen and "coverage80" not in chosen, "no percentage given")
    t.true(doc["accuracy"]["statement"].startswith("Too little history to judge"),
           doc["accuracy"]["statement"])
    s, h, body = t.request("GET", "/api/v1/authorities/E06000903/evidence")
    t.eq(s, 200, "evidence pack")
    page = body.decode()
    t.eq(page.count("Too little history to judge"), 1, "said once in the evidence pack")
    t.true("fell inside the 80% interval" not in page.split("Too little history")[1][:300],
           "no coverage percentage beside it")
