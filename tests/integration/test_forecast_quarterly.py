"""Quarterly forecasts (issue 18, point 6): once a council has eight approved
quarters of a metric, the worker forecasts its next four quarters from those
quarters alone, seasonal models among the candidates; the answer goes to the
council itself and administrators only.  No real quarterly history exists,
so the quarters here are synthetic: a strong seasonal pattern on a trend."""

import json
import math
import time

import harness

A, B, C = "E06000201", "E06000202", "E06000203"
TOKENS = {"a": A, "b": B}


def tok(name):
    return "sbk_" + ("tok-q-" + name + "x" * 43)[:43]


def bearer(name):
    return {"Authorization": "Bearer " + tok(name)}


def quarters(first_year, n):
    out = []
    for k in range(n):
        y, q = first_year + k // 4, k % 4 + 1
        out.append(("%d-%02d Q%d" % (y, (y + 1) % 100, q),
                    "%d-%02d-01" % (y if q < 4 else y + 1, (4, 7, 10, 1)[q - 1])))
    return out


SEASON = (1.25, 0.85, 0.7, 1.2)


def value(k):
    return round((200 + 4 * k) * SEASON[k % 4])


def submit(t, code, periods, value_of):
    sql = ""
    for k, (period, start) in enumerate(periods):
        sql += ("WITH s AS (INSERT INTO submissions (authority, period, version, content_type,"
                " figures) VALUES ('%s', '%s', 1, 'application/json', '{}') RETURNING id)"
                " INSERT INTO observations (authority, metric, period, period_kind, period_start,"
                " value, published, source, submission_id, version)"
                " SELECT '%s', 'requests_received', '%s', 'fy_quarter', '%s', %d, false,"
                " 'submission', s.id, 1 FROM s;\n" % (code, period, code, period, start,
                                                       value_of(k)))
    t.psql(sql)


def decisions(t):
    """The newest sign-off: what a quarterly fit must have seen."""
    return int(t.value("SELECT coalesce(max(id), 0) FROM submission_states"))


def wait_quarterly(t, code, at_least, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = t.value("SELECT decisions_version FROM quarterly_forecasts"
                    " WHERE metric = 'requests_received' AND authority = :'p1'", code)
        if v is not None and int(v) >= at_least:
            return
        time.sleep(0.2)
    with open(t.server.log_path) as f:
        log = f.read()[-1500:]
    raise harness.TestFailure("no quarterly forecast for %s within %ss; server log: %s"
                              % (code, timeout, log))


def test_setup(t):
    t.psql("INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name)"
           " VALUES ('%s', '901', 'Quarter A', 'E12000009', 'South West'),"
           " ('%s', '902', 'Quarter B', 'E12000009', 'South West'),"
           " ('%s', '903', 'Quarter C', 'E12000009', 'South West')" % (A, B, C))
    sql = ""
    for name, code in TOKENS.items():
        sql += ("INSERT INTO tokens (hash, role, authority) VALUES"
                " (sha256(convert_to('%s', 'UTF8')), 'council', '%s');\n" % (tok(name), code))
    sql += ("INSERT INTO tokens (hash, role, authority) VALUES"
            " (sha256(convert_to('%s', 'UTF8')), 'admin', NULL);\n" % tok("admin"))
    t.psql(sql)
    # A: twelve approved quarters, 2021-22 Q1 .. 2023-24 Q4; B: seven only;
    # C: eight submitted, none approved yet.
    submit(t, A, quarters(2021, 12), value)
    submit(t, B, quarters(2021, 7), value)
    harness.approve_submissions(t.db)
    submit(t, C, quarters(2021, 8), value)


def test_council_gets_a_seasonal_forecast_of_its_next_quarters(t):
    wait_quarterly(t, A, decisions(t))
    s, h, b = t.request("GET", "/api/v1/forecasts/requests_received/quarterly?authority=" + A,
                        headers=bearer("a"))
    t.eq(s, 200, "own quarterly forecast: %s" % b[:300])
    t.eq(h.get("cache-control"), "private, no-store", "never cached")
    doc = json.loads(b)
    t.eq(doc["frequency"], "quarterly", "frequency")
    t.eq(doc["published"], False, "says it rests on unpublished figures")
    t.true(doc["model"]["name"] in ("seasonal_naive", "snaive", "holt_winters", "hw"),
           "a seasonal model wins on a seasonal series: %s (%s)"
           % (doc["model"]["name"], doc["model"]["reason"]))
    t.true("own earlier splits" in doc["model"]["reason"], "reason: %s" % doc["model"]["reason"])
    t.eq([p["period"] for p in doc["forecasts"]],
         ["2024-25 Q1", "2024-25 Q2", "2024-25 Q3", "2024-25 Q4"], "the next four quarters")
    t.eq(len(doc["history"]), 12, "twelve quarters of history")
    for k, p in enumerate(doc["forecasts"]):
        t.true(p["lo95"] <= p["lo80"] <= p["forecast"] <= p["hi80"] <= p["hi95"],
               "ordered interval %s" % p)
        # the seasonal pattern is forecast: within 15% of the true next value
        truth = value(12 + k)
        t.true(abs(p["forecast"] - truth) < 0.15 * truth,
               "%s forecast %.0f vs %d" % (p["period"], p["forecast"], truth))
    # Q1 and Q4 are high quarters, Q2 and Q3 low ones
    f = [p["forecast"] for p in doc["forecasts"]]
    t.true(f[0] > f[1] and f[3] > f[2], "seasonal shape kept: %s" % f)
    acc = doc["accuracy"]["chosen"]
    t.true("n" in acc and "origins" in acc, "track record carries n and origins: %s" % acc)
    if acc["origins"] < 5:
        t.eq(acc.get("judged"), False, "below the minimum: not judged")
        t.true("mase" not in acc, "no figure below the minimum")
    # admin sees it too; csv and horizon
    s, h, b = t.request("GET", "/api/v1/forecasts/requests_received/quarterly?authority=901"
                        "&horizon=2&format=csv", headers=bearer("admin"))
    t.eq(s, 200, "admin, by DfE number, csv: %s" % b[:200])
    lines = b.decode().strip().splitlines()
    t.eq(lines[0], "period,forecast,lo80,hi80,lo95,hi95", "csv header")
    t.eq(len(lines), 3, "two quarters")
    # the format from Accept, as for the annual forecasts (one parser)
    hdr = dict(bearer("admin"), Accept="text/csv")
    s, h, b = t.request("GET", "/api/v1/forecasts/requests_received/quarterly?authority=901",
                        headers=hdr)
    t.eq(s, 200, "Accept: text/csv")
    t.eq(b.decode().splitlines()[0], "period,forecast,lo80,hi80,lo95,hi95", "csv by Accept")


def test_only_the_council_and_admins(t):
    path = "/api/v1/forecasts/requests_received/quarterly?authority=" + A
    s, h, b = t.request("GET", path)
    t.json_error(s, b, 401)
    s, h, b = t.request("GET", path, headers=bearer("b"))
    t.json_error(s, b, 403)
    # another council learns nothing about which codes exist
    s, h, b = t.request("GET", "/api/v1/forecasts/requests_received/quarterly?authority=E06999999",
                        headers=bearer("b"))
    t.json_error(s, b, 403)
    s, h, b = t.request("GET", "/api/v1/forecasts/requests_received/quarterly?authority=E06999999",
                        headers=bearer("admin"))
    t.json_error(s, b, 404, "unknown_area")
    # the public annual forecast knows nothing of the quarters
    s, h, b = t.request("GET", "/api/v1/forecasts/requests_received?authority=" + A)
    t.json_error(s, b, 404, "no_data")
    t.eq(t.value("SELECT count(*) FROM forecasts"), "0", "nothing quarterly among public forecasts")


def test_too_few_or_unapproved_quarters_get_none(t):
    wait_quarterly(t, A, decisions(t))
    s, h, b = t.request("GET", "/api/v1/forecasts/requests_received/quarterly?authority=" + B,
                        headers=bearer("b"))
    t.json_error(s, b, 404, "no_forecast")
    t.true(b"8 approved quarters" in b, "says what it needs: %s" % b[:200])
    s, h, b = t.request("GET", "/api/v1/forecasts/requests_received/quarterly?authority=" + C,
                        headers=bearer("admin"))
    t.json_error(s, b, 404, "no_forecast")


def test_bad_parameters(t):
    base = "/api/v1/forecasts/requests_received/quarterly"
    for q, field in (("?authority=%s&horizon=5" % A, "horizon"),
                     ("?authority=%s&horizon=x" % A, "horizon"),
                     ("?authority=%s&format=xml" % A, "format"),
                     ("", "authority")):
        s, h, b = t.request("GET", base + q, headers=bearer("a"))
        t.json_error(s, b, 400)
        t.eq(json.loads(b)["error"]["details"][0]["field"], field, "names the field for " + q)
    s, h, b = t.request("GET", "/api/v1/forecasts/no_such_metric/quarterly?authority=" + A,
                        headers=bearer("a"))
    t.json_error(s, b, 404, "unknown_metric")


def test_approval_brings_a_forecast_and_withdrawal_takes_it_away(t):
    # C's eight quarters approved: it gets one
    harness.approve_submissions(t.db)
    wait_quarterly(t, C, decisions(t))
    s, h, b = t.request("GET", "/api/v1/forecasts/requests_received/quarterly?authority=" + C,
                        headers=bearer("admin"))
    t.eq(s, 200, "eight approved quarters: a forecast: %s" % b[:200])
    doc = json.loads(b)
    t.true(all(math.isfinite(p["forecast"]) for p in doc["forecasts"]), "finite forecasts")
    # One of C's quarters withdrawn (a new version, signed off): seven
    # left, so its forecast is no longer served from the older fit.
    period, start = quarters(2021, 1)[0]
    t.psql("WITH s AS (INSERT INTO submissions (authority, period, version, content_type, figures)"
           " VALUES ('%s', '%s', 2, 'application/json', '{}') RETURNING id)"
           " INSERT INTO observations (authority, metric, period, period_kind, period_start,"
           " value, published, source, submission_id, version, withdrawn)"
           " SELECT '%s', 'requests_received', '%s', 'fy_quarter', '%s', NULL, false,"
           " 'submission', s.id, 2, true FROM s" % (C, period, C, period, start))
    harness.approve_submissions(t.db)
    want = decisions(t)
    deadline = time.time() + 60
    while t.value("SELECT count(*) FROM quarterly_forecasts WHERE authority = :'p1'", C) != "0":
        t.true(time.time() < deadline, "withdrawn quarter: forecast still stored after 60 s")
        time.sleep(0.2)
    s, h, b = t.request("GET", "/api/v1/forecasts/requests_received/quarterly?authority=" + C,
                        headers=bearer("admin"))
    t.json_error(s, b, 404, "no_forecast")
    wait_quarterly(t, A, want)   # the others are refitted, not dropped
