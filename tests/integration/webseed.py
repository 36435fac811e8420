"""Seed data for the web-page tests: twelve authorities in two regions with
SEN2-like history (plans 2010-2022, requests/new plans/20-week counts
2014-2021, DSG balance % 2019-20..2021-22), three statistical neighbours
each, one authority with a hostile name, and council-submitted staffing
for two authorities (one agreed to be named, one did not)."""

import json
import random
import time

import harness

REGIONS = [("E12000001", "North East"), ("E12000009", "South West")]
HOSTILE = "<script>alert(1)</script> & 'Borough' \"of\" Test"
N = 12


def code(i):
    return "E0600%04d" % (100 + i)


def name(i):
    return HOSTILE if i == 5 else "Authority %d" % i


def seed(t):
    rnd = random.Random(11)
    auths, rows = [], []
    expect = {"caseload": {}, "requests": {}, "new": {}, "within": {}, "dsg": {}}

    def obs(c, metric, period, kind, start, value):
        rows.append("('%s','%s','%s','%s','%s',%s,true,'DfE SEN2 2022 (test)',1)"
                    % (c, metric, period, kind, start, value))

    for i in range(N):
        c = code(i)
        rc, rn = REGIONS[i % 2]
        auths.append("('%s','%03d',%s,'%s','%s',%s)" % (
            c, 700 + i, "$n$" + name(i) + "$n$", rc, rn, "true" if i == 0 else "false"))
        level = 800 + 150 * i
        growth = 0.04 + 0.01 * (i % 5)
        for y in range(2010, 2023):
            level *= 1 + growth + rnd.gauss(0, 0.02)
            v = round(level)
            expect["caseload"][(c, str(y))] = v
            obs(c, "ehcp_caseload", str(y), "census_year", "%d-01-20" % y, v)
        for y in range(2014, 2022):
            req = 300 + 20 * i + 15 * (y - 2014) + rnd.randint(0, 20)
            new = int(req * 0.6)
            within = int(new * (0.3 + 0.05 * i) if i != 3 else 0)
            for m, v in (("requests_received", req), ("new_plans_issued", new),
                         ("new_plans_within_20_weeks", within)):
                obs(c, m, str(y), "calendar_year", "%d-01-01" % y, v)
            expect["requests"][(c, str(y))] = req
            expect["new"][(c, str(y))] = new
            expect["within"][(c, str(y))] = within
        for y in (2019, 2020, 2021):
            p = "%d-%02d" % (y, (y + 1) % 100)
            v = round(-2.5 * i + 3 - (y - 2019) * 1.5, 2)
            expect["dsg"][(c, p)] = v
            obs(c, "dsg_balance_pct_of_income", p, "financial_year", "%d-04-01" % y, v)
    t.psql("INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name,"
           " consent_to_name) VALUES " + ",".join(auths))
    nb = []
    for i in range(N):
        for r in range(1, 4):
            nb.append("('%s', %d, '%s', 'Close', 'test')" % (code(i), r, code((i + r) % N)))
    t.psql("INSERT INTO statistical_neighbours VALUES " + ",".join(nb))
    t.psql("INSERT INTO observations (authority, metric, period, period_kind, period_start,"
           " value, published, source, version) VALUES " + ",".join(rows))
    # Staffing submitted by two councils for 2024-25 Q2.
    for i, officers in ((0, 16.5), (1, 12.0)):
        sid = t.value("INSERT INTO submissions (authority, period, version, content_type, figures)"
                      " VALUES ('%s', '2024-25 Q2', 1, 'application/json', '{}') RETURNING id" % code(i))
        t.psql("INSERT INTO observations (authority, metric, period, period_kind, period_start, value,"
               " published, source, submission_id, version) VALUES"
               " ('%s','ehcp_caseload','2024-25 Q2','fy_quarter','2024-07-01',3300,false,'council submission',%s,1),"
               " ('%s','case_officers_fte','2024-25 Q2','fy_quarter','2024-07-01',%s,false,'council submission',%s,1)"
               % (code(i), sid, code(i), officers, sid))
    harness.approve_submissions(t.db)
    return expect


def wait_forecast(t, c, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s, h, b = t.request("GET", "/api/v1/forecasts/ehcp_caseload?authority=" + c)
        if s == 200:
            doc = json.loads(b)
            if not doc["stale"]:
                return doc
        time.sleep(0.3)
    raise AssertionError("no forecast for %s within %ss" % (c, timeout))
