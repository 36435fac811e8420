"""Web pages and the evidence pack over plain HTTP: status, escaping, the
numbers drawn against the API's, CSV, validation.  (test_browser.py loads
the same pages in chromium.)"""

import csv
import io
import json
import re

import webseed
from webseed import code

HTML = {"Accept": "text/html"}


def get(t, path, headers=None):
    s, h, b = t.request("GET", path, headers=headers)
    return s, h, b.decode("utf-8")


def test_seed_and_forecasts(t):
    global EXPECT
    EXPECT = webseed.seed(t)
    for i in range(webseed.N):
        webseed.wait_forecast(t, code(i))


def test_home_and_search(t):
    s, h, b = get(t, "/")
    t.eq(s, 200, "status")
    t.true(h["content-type"].startswith("text/html"), "html")
    t.true('<html lang="en">' in b and 'href="#main"' in b, "lang and skip link")
    t.true('href="/metrics/ehcp_caseload"' in b, "metric list links")
    s, h, b = get(t, "/?q=authority%201")
    t.eq(s, 200, "status")
    found = re.findall(r'<li><a href="/authorities/(E\d+)">', b)
    t.eq(sorted(found), sorted([code(1), code(10), code(11)]), "name search")
    s, h, b = get(t, "/?q=" + code(4))
    t.eq(re.findall(r'<li><a href="/authorities/(E\d+)">', b), [code(4)], "ONS code search")
    s, h, b = get(t, "/?q=704")
    t.eq(re.findall(r'<li><a href="/authorities/(E\d+)">', b), [code(4)], "DfE number search")
    s, h, b = get(t, "/?q=%25")
    t.true('id="no-results"' in b, "% is literal, not a wildcard")
    s, h, b = get(t, "/?q=" + "x" * 101)
    t.json_error(s, b.encode(), 400, "bad_parameter")
    s, h, b = get(t, "/?q=" + "x" * 101, headers=HTML)
    t.eq(s, 400, "html error status")
    t.true('data-error-code="bad_parameter"' in b, "html error page for browsers")


def test_hostile_name_escaped_everywhere(t):
    for path in ("/?q=script", "/authorities/" + code(5), "/authorities/" + code(4),
                 "/metrics/ehcp_caseload?authority=" + code(5),
                 "/api/v1/authorities/%s/evidence" % code(5), "/?q=%3Cscript%3E"):
        s, h, b = get(t, path)
        t.eq(s, 200, path)
        t.true("<script" not in b.lower(), "no raw <script> in " + path)
        t.true("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;Borough&#39; &quot;of&quot;" in b
               or path == "/?q=%3Cscript%3E", "escaped name in " + path)


def test_authority_page_numbers_match_api(t):
    s, h, b = get(t, "/authorities/" + code(2))
    t.eq(s, 200, "status")
    rows = re.findall(r'<tr data-metric="([a-z0-9_]+)">', b)
    t.eq(rows, ["ehcp_caseload", "requests_received", "new_plans_issued",
                "new_plans_within_20_weeks", "dsg_balance_pct_of_income", "pct_within_20_weeks",
                "caseload_growth_pct", "request_to_assessment_rate"][:len(rows)],
         "metric rows in catalogue order")
    t.true({"ehcp_caseload", "pct_within_20_weeks", "dsg_balance_pct_of_income"} <= set(rows), rows)
    t.true("case_officers_fte" not in rows, "unpublished staffing is not in the public table")
    # the caseload chart: 13 points, values from the data
    pts = re.findall(r'class="pt" data-series="Authority 2" data-period="(\d{4})" data-value="([\d.]+)"', b)
    care = [p for p in pts if p[0] >= "2010"]
    t.true(len(care) >= 13, "caseload points")
    series = dict((p, float(v)) for p, v in re.findall(
        r'data-series="Authority 2" data-period="(20\d\d)" data-value="([\d.]+)"',
        b.split('<figure class="chart-figure" data-metric="ehcp_caseload">')[1].split("</figure>")[0]))
    t.eq(len(series), 13, "13 census years")
    for y, v in series.items():
        t.eq(v, EXPECT["caseload"][(code(2), y)], "plans %s" % y)
    # forecast fan = the API's stored forecast
    fc = webseed.wait_forecast(t, code(2))
    fan = b.split('class="chart-figure fan" data-metric="ehcp_caseload"')[1].split("</figure>")[0]
    got = re.findall(r'data-series="forecast" data-period="(\d+)" data-value="([\d.]+)" '
                     r'data-lo80="([\d.]+)" data-hi80="([\d.]+)"', fan)
    t.eq([g[0] for g in got], [f["period"] for f in fc["forecasts"]], "forecast periods")
    for g, f in zip(got, fc["forecasts"]):
        t.eq(round(float(g[1])), round(f["forecast"]), "forecast value")
        t.eq(round(float(g[2])), round(f["lo80"]), "lo80")
    smape = fc["accuracy"]["chosen"]["smape"]
    want = "off by %s%% on average" % (("%.1f" if smape < 10 else "%.0f") % smape)
    t.true(want in b, "plain-words accuracy %r" % want)


def test_rank_and_band_consistent(t):
    # pct_within_20_weeks 2021: higher is better; authority i has 30+5i % roughly
    s, h, b = get(t, "/metrics/pct_within_20_weeks?period=2021&authority=" + code(11))
    t.eq(s, 200, "status")
    rows = re.findall(r'<tr(?: class="focus")? data-code="(E\d+)"><td class="num">(\d+)</td>', b)
    t.eq(len(rows), webseed.N, "every authority")
    vals = {}
    for i in range(webseed.N):
        n = EXPECT["new"][(code(i), "2021")]
        vals[code(i)] = 100.0 * EXPECT["within"][(code(i), "2021")] / n
    order = sorted(vals, key=lambda c: -round(vals[c], 1))
    t.eq([r[0] for r in rows], order, "ranked best first")
    t.eq(rows[0][1], "1", "rank 1 first")
    t.true('<tr class="focus" data-code="%s">' % code(11) in b, "focal row highlighted")
    t.eq(len(re.findall(r'data-highlight="true"', b)), 1, "one highlighted bar")
    t.true(re.search(r'data-code="%s"[^>]*data-highlight="true"' % code(11), b), "the chosen one")
    bands = re.findall(r'data-band="([A-D])"', b.split('id="ranking"')[1])
    t.eq(bands, ["A"] * 3 + ["B"] * 3 + ["C"] * 3 + ["D"] * 3, "quartile bands by rank")
    # default period is the latest
    s, h, b2 = get(t, "/metrics/dsg_balance_pct_of_income")
    t.true("<h1>DSG cumulative balance as % of DSG income, 2021-22</h1>" in b2, "latest period")


def test_metric_page_errors(t):
    for path, status, code_ in (("/metrics/no_such_metric", 404, "unknown_metric"),
                                ("/metrics/ehcp_caseload?period=20x1", 400, "bad_parameter"),
                                ("/metrics/ehcp_caseload?period=1999", 404, "no_data"),
                                ("/metrics/ehcp_caseload?authority=E99", 404, "unknown_authority"),
                                ("/metrics/ehcp_caseload?authority=E06009999", 404, "unknown_authority"),
                                ("/metrics/hnb_allocation_gbp", 404, "no_data"),
                                ("/authorities/nowhere", 404, "unknown_authority"),
                                ("/authorities/E06009999", 404, "not_found"),
                                ("/api/v1/authorities/E06009999/evidence", 404, "not_found"),
                                ("/api/v1/authorities/%s/evidence?format=pdf" % code(1), 400,
                                 "bad_parameter")):
        s, h, b = t.request("GET", path)
        t.json_error(s, b, status, code_)


def test_evidence_pack(t):
    s, h, b = get(t, "/api/v1/authorities/%s/evidence" % code(0))
    t.eq(s, 200, "status")
    t.true(h["content-type"].startswith("text/html"), "html")
    for sec in ("growth", "flows", "timeliness", "high-needs", "staffing", "forecast", "sources"):
        t.true('<section class="pack" id="%s">' % sec in b, "section " + sec)
    t.true("Contains public sector information licensed under the Open Government Licence v3.0 "
           "(Department for Education)" in b, "OGL line")
    t.true("@media print" in b and "size:A4" in b and "break-inside:avoid" in b, "print stylesheet")
    t.true("<script" not in b and not re.search(r'(src|href)="(https?:)?//', b), "self-contained")
    base = EXPECT["caseload"][(code(0), "2015")]
    last = EXPECT["caseload"][(code(0), "2022")]
    pct = "{:,.0f}".format(round(100.0 * last / base - 100))
    t.true("a change of %s%%" % pct in b, "growth since 2015 stated: %s" % pct)
    t.true(re.search(r"Plans per officer.*<td class=\"num\">200\.0</td>", b, re.S),
           "consenting authority: 3300 plans / 16.5 FTE = 200")
    s, h, b1 = get(t, "/api/v1/authorities/%s/evidence" % code(1))
    # one sentence whether or not figures were submitted (docs/disclosure.md)
    t.true('id="staffing-none"' in b1 and "shown only with the authority's consent" in b1,
           "no consent: hidden, said so")
    t.true("12.0" not in b1.split('id="staffing"')[1].split("</section>")[0], "figure not leaked")
    s, h, b2 = get(t, "/api/v1/authorities/%s/evidence" % code(3))
    # the same sentence for an authority that submitted nothing
    t.eq(b2.split('id="staffing-none">')[1].split("</p>")[0],
         b1.split('id="staffing-none">')[1].split("</p>")[0], "no staffing said, the same way")


def test_evidence_csv(t):
    s, h, b = get(t, "/api/v1/authorities/%s/evidence?format=csv" % code(0))
    t.eq(s, 200, "status")
    t.true(h["content-type"].startswith("text/csv"), "csv type")
    rows = list(csv.DictReader(io.StringIO(b)))
    t.eq(list(rows[0].keys()), ["section", "metric", "series", "area_code", "area_name", "period",
                                "value", "unit", "source", "recorded", "note"], "header")
    plans = {r["period"]: float(r["value"]) for r in rows
             if r["section"] == "plans" and r["series"] == "authority"}
    t.eq(len(plans), 13, "plans rows")
    for y, v in plans.items():
        t.eq(v, EXPECT["caseload"][(code(0), y)], "plans " + y)
    fc = webseed.wait_forecast(t, code(0))
    got = [float(r["value"]) for r in rows if r["section"] == "forecast" and r["series"] == "forecast"]
    t.eq(len(got), 3, "three forecast years")
    for g, f in zip(got, fc["forecasts"]):
        t.true(abs(g - f["forecast"]) < 0.06, "forecast = API")
    staff = [r for r in rows if r["section"] == "staffing"]
    t.eq([(r["period"], r["value"]) for r in staff], [("2024-25 Q2", "200.0")], "staffing row")
    for r in rows:
        t.true(r["value"] not in ("", "nan", "NaN", "inf"), "every value is a number: %r" % r)
    s, h, b5 = get(t, "/api/v1/authorities/%s/evidence?format=csv" % code(5))
    rows5 = list(csv.DictReader(io.StringIO(b5)))
    t.eq(rows5[0]["area_name"], webseed.HOSTILE, "hostile name round-trips through CSV quoting")
