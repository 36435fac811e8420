"""One source of truth, on the real shipped DfE history (about 150
authorities): the value, rank and band an HTML page shows equal what
/api/v1/tables/{metric} and /api/v1/authorities/{code}/profile return, the
charts' medians equal the tables' summaries, the evidence pack's fan equals
/api/v1/forecasts, and a data change reaches page and API together."""

import csv
import html
import json
import os
import re
import time
import urllib.parse

import harness

TEMPLATE = "history"
DORSET, BCP = "E06000059", "E06000058"
# Dorset and BCP (created April 2019), a London borough, a metropolitan
# district and a county.
AUTHORITIES = [DORSET, BCP, "E09000002", "E08000035", "E10000014"]


def page(t, path):
    s, h, b = t.request("GET", path, headers={"Accept": "text/html"})
    t.eq(s, 200, path)
    t.true(h["content-type"].startswith("text/html"), "html " + path)
    return b.decode("utf-8")


def api(t, path):
    s, b = t.get_json(path)
    t.eq(s, 200, path)
    return b


def num(s):
    return None if s in ("", None) else float(s)


def dfe_caseload(code, year):
    """Plans in place at the January census of year: the 2025 release from
    2019 (time_period 201819 = January 2019), the 2022 release before."""
    if int(year) >= 2019:
        tp = "%d%02d" % (int(year) - 1, int(year) % 100)
        with open(os.path.join(harness.ROOT, "data", "dfe", "sen2_2025", "caseload.csv"),
                  encoding="utf-8-sig") as f:
            for r in csv.DictReader(f):
                if (r["new_la_code"] == code and r["time_period"] == tp
                        and r["breakdown_topic"] == "All EHC plans"):
                    return float(r["ehcplans"])
    with open(os.path.join(harness.ROOT, "data", "dfe", "sen2_2022_age_caseload.csv")) as f:
        for r in csv.DictReader(f):
            if (r["new_la_code"] == code and r["time_period"] == year
                    and r["characteristic_age"] == "Total"):
                return float(r["Total_ehc"])
    raise AssertionError("no DfE figure for %s %s" % (code, year))


def profile_rows(b):
    """{metric: (period, value, rank, band)} from the authority page's table."""
    out = {}
    for mid, row in re.findall(r'<tr data-metric="([a-z0-9_]+)">(.*?)</tr>', b, re.S):
        period = re.search(r"</th><td>([^<]*)</td>", row).group(1)
        value = re.search(r'data-value="([^"]*)"', row).group(1)
        rank = re.search(r'data-rank="([^"]*)"', row).group(1)
        band = re.search(r'data-band="([A-D]?)"', row).group(1)
        out[mid] = (html.unescape(period), num(value), num(rank), band or None)
    return out


def chart_points(b, metric, series):
    fig = b.split('<figure class="chart-figure" data-metric="%s">' % metric)[1].split("</figure>")[0]
    return {p: float(v) for p, v in re.findall(
        r'class="pt" data-series="%s" data-period="([^"]+)" data-value="([^"]+)"'
        % re.escape(html.escape(series, quote=True)), fig)}


def test_dorset_page_shows_the_dfe_figure(t):
    b = page(t, "/authorities/" + DORSET)
    t.true("<h1>Dorset</h1>" in b, "Dorset's page")
    rows = profile_rows(b)
    t.eq(rows["ehcp_caseload"][0], "2025", "latest census")
    t.eq(rows["ehcp_caseload"][1], dfe_caseload(DORSET, "2025"), "plans in January 2025 = DfE file")
    # Created in April 2019: its own line starts at the January 2020 census,
    # England's in 2010, and the chart is not empty.
    own = chart_points(b, "ehcp_caseload", "Dorset")
    eng = chart_points(b, "ehcp_caseload", "England (median)")
    t.eq(sorted(own), ["2020", "2021", "2022", "2023", "2024", "2025"], "Dorset's census years")
    t.eq(own["2020"], dfe_caseload(DORSET, "2020"), "2020 plans = DfE file")
    t.eq(len(eng), 16, "England 2010-2025")


def test_authority_pages_equal_the_profile_api(t):
    checked = 0
    for code in AUTHORITIES:
        b = page(t, "/authorities/" + code)
        rows = profile_rows(b)
        prof = api(t, "/api/v1/authorities/%s/profile" % code)
        t.true(len(rows) >= 6, "%s shows its measures: %r" % (code, sorted(rows)))
        by_id = {m["id"]: m for m in prof["metrics"]}
        for mid, (period, value, rank, band) in rows.items():
            m = by_id[mid]
            t.eq(period, m["period"], "%s %s period" % (code, mid))
            t.eq(value, m["value"], "%s %s value" % (code, mid))
            t.eq(rank, m["rank_england"], "%s %s rank" % (code, mid))
            t.eq(band, m["band"], "%s %s band" % (code, mid))
            checked += 1
        t.true('href="/api/v1/authorities/%s/profile"' % code in b, "profile JSON link")
        for mid, (period, _, _, _) in rows.items():
            link = ('href="/api/v1/tables/%s?group=neighbours&amp;authority=%s&amp;period=%s'
                    '&amp;format=csv"' % (mid, code, period))
            t.true(link in b, "CSV link to the real table " + link)
    t.true(checked >= 30, "values, ranks and bands compared: %d" % checked)


def test_csv_links_answer_with_the_same_value(t):
    b = page(t, "/authorities/" + DORSET)
    rows = profile_rows(b)
    link = html.unescape(re.search(
        r'href="(/api/v1/tables/pct_within_20_weeks\?[^"]*format=csv)"', b).group(1))
    s, h, body = t.request("GET", link)
    t.eq(s, 200, link)
    t.true(h["content-type"].startswith("text/csv"), "csv")
    got = [r for r in csv.DictReader(body.decode().splitlines())
           if r["geographic_level"] == "Local authority" and r["new_la_code"] == DORSET]
    t.eq(len(got), 1, "Dorset's row in the CSV")
    t.eq(float(got[0]["pct_within_20_weeks"]), rows["pct_within_20_weeks"][1], "same value")


def test_chart_comparisons_equal_the_tables_api(t):
    b = page(t, "/authorities/" + DORSET)
    for metric, dp in (("ehcp_caseload", 0), ("pct_within_20_weeks", 1)):
        nb = chart_points(b, metric, "Statistical neighbours (average)")
        # a rate beside England as the DfE publishes it; a count beside the
        # median authority (England's total is not on an authority's scale)
        eng = chart_points(b, metric, "England")
        published = bool(eng)
        if not published:
            eng = chart_points(b, metric, "England (median)")
        own = chart_points(b, metric, "Dorset")
        t.true(len(nb) >= 3 and len(eng) >= 3, metric + " comparison lines drawn")
        for period in sorted(own)[-3:]:
            doc = api(t, "/api/v1/tables/%s?period=%s&group=neighbours&authority=%s"
                      % (metric, period, DORSET))
            sums = {s["scope"]: s for s in doc["summaries"]}
            if published:
                t.eq(sums["england"]["value_source"], "published", "England as published")
                t.eq(eng[period], sums["england"]["value"], "%s %s England" % (metric, period))
            else:
                t.eq(eng[period], round(sums["england"]["median"], dp),
                     "%s %s England median" % (metric, period))
            t.eq(nb[period], round(sums["neighbours"]["mean"], dp),
                 "%s %s neighbours' average" % (metric, period))
            mine = [r for r in doc["rows"] if r["code"] == DORSET][0]
            t.eq(own[period], mine["value"], "%s %s Dorset" % (metric, period))


def metric_rows(b):
    """[(code, rank, value, band)] of the metric page's ranking table."""
    body = b.split('id="ranking"')[1].split("</table>")[0]
    out = []
    for code, rank, row in re.findall(
            r'<tr(?: class="focus")? data-code="(E\d*)"><td class="num">([^<]*)</td>(.*?)</tr>', body, re.S):
        value = re.search(r'data-value="([^"]*)"', row).group(1)
        band = re.search(r'data-band="([A-D]?)"', row).group(1)
        out.append((code, None if rank == "&ndash;" else int(rank), num(value), band or None))
    return out


def test_metric_pages_equal_the_tables_api(t):
    for metric, period in (("pct_within_20_weeks", "2021"), ("ehcp_caseload", "2022"),
                           ("dsg_balance_pct_of_income", None), ("caseload_growth_pct", "2020")):
        q = "?authority=" + DORSET + ("&period=" + period if period else "")
        b = page(t, "/metrics/" + metric + q)
        doc = api(t, "/api/v1/tables/" + metric + q)
        want = [(r["code"], r["rank"], r["value"], r["band"]) for r in doc["rows"]]
        got = metric_rows(b)
        t.true(len(want) > 140, "%s: about 150 authorities (%d)" % (metric, len(want)))
        t.eq(got, want, metric + ": every row's code, rank, value and band")
        t.true("<h1>" in b and ", %s</h1>" % doc["period"] in b, metric + " period shown")
        focus = re.findall(r'<tr class="focus" data-code="(E\d+)">', b)
        t.eq(focus, [DORSET], metric + " highlights Dorset")
        mine = [r for r in doc["rows"] if r["code"] == DORSET][0]
        if mine["rank"]:
            t.true("Dorset is ranked %d of %d" % (mine["rank"], doc["n_ranked_england"]) in b,
                   metric + " rank in words")
        bars = re.findall(r'<g class="bar[^"]*" data-code="(E\d+)"[^>]* data-rank="(\d+)" '
                          r'data-highlight="(true|false)"', b)
        t.eq([c for c, _, h in bars if h == "true"], [DORSET], metric + " one highlighted bar")


def test_evidence_pack_equals_the_api(t):
    b = page(t, "/api/v1/authorities/%s/evidence" % DORSET)
    prof = {m["id"]: m for m in api(t, "/api/v1/authorities/%s/profile" % DORSET)["metrics"]}
    # The headline is the rate excluding exceptions (the DfE's); Dorset's
    # 2024 one has no figure (the DfE's footnote: every new plan classed
    # as an exception), so its latest figure including exceptions follows.
    lead = re.search(r'<p class="lead" data-metric="pct_within_20_weeks_ex">(.*?)</p>', b,
                     re.S).group(1)
    m = prof["pct_within_20_weeks_ex"]
    if m["value"] is None:
        t.true("No figure for this authority" in lead, "no timeliness value: " + lead)
    else:
        t.true('<span class="value">%.1f%%</span>' % m["value"] in lead, "timeliness: " + lead)
    note = re.search(r'<p class="note" data-metric="pct_within_20_weeks">(.*?)</p>', b,
                     re.S).group(1)
    m = prof["pct_within_20_weeks"]
    t.true("%.1f%%" % m["value"] in note, "including exceptions: " + note)
    # Growth: Dorset began in 2019, so its index starts at its first census.
    t.true("2020 = 100" in b, "growth base is Dorset's first census")
    g = b.split('id="growth-chart"')[1].split("</svg>")[0]
    pts = re.findall(r'data-series="Dorset" data-period="(\d+)" data-value="([\d.]+)"', g)
    t.eq([p for p, _ in pts], ["2020", "2021", "2022", "2023", "2024", "2025"], "growth points")
    want = 100.0 * dfe_caseload(DORSET, "2025") / dfe_caseload(DORSET, "2020")
    t.eq(float(pts[-1][1]), round(want, 1), "2025 index from the DfE figures")
    # The fan chart draws /api/v1/forecasts (a stored forecast empties the
    # page cache, so the page follows the refit).
    deadline = time.time() + 120
    while True:
        s, fc = t.get_json("/api/v1/forecasts/ehcp_caseload?authority=" + DORSET)
        if s == 200 and not fc["stale"]:
            break
        t.true(time.time() < deadline, "Dorset's forecast within 120 s")
        time.sleep(0.5)
    b = page(t, "/api/v1/authorities/%s/evidence" % DORSET)
    fan = b.split('id="fan-chart"')[1].split("</svg>")[0]
    got = re.findall(r'data-series="forecast" data-period="(\d+)" data-value="([\d.]+)" '
                     r'data-lo80="([\d.]+)" data-hi80="([\d.]+)" data-lo95="([\d.]+)" '
                     r'data-hi95="([\d.]+)"', fan)
    t.eq(len(got), 3, "three forecast years")
    for g_, f in zip(got, fc["forecasts"]):
        t.eq(g_[0], f["period"], "forecast period")
        for k, v in zip(("forecast", "lo80", "hi80", "lo95", "hi95"), g_[1:]):
            t.eq(float(v), round(f[k]), "%s %s" % (f["period"], k))


def test_a_data_change_reaches_page_and_api_together(t):
    path = "/authorities/" + DORSET
    before = profile_rows(page(t, path))["ehcp_caseload"]
    t.psql("INSERT INTO observations (authority, metric, period, period_kind, period_start, value,"
           " published, source, version) SELECT authority, metric, period, period_kind,"
           " period_start, value + 100, true, 'test revision', version + 1 FROM current_observations"
           " WHERE authority = :'p1' AND metric = 'ehcp_caseload' AND period = '2025'", DORSET)
    deadline = time.time() + 5
    while True:
        after = profile_rows(page(t, path))["ehcp_caseload"]
        if after[1] != before[1] or time.time() > deadline:
            break
        time.sleep(0.1)
    t.eq(after[1], before[1] + 100, "the page shows the revised figure (cache invalidated)")
    prof = {m["id"]: m for m in api(t, "/api/v1/authorities/%s/profile" % DORSET)["metrics"]}
    t.eq(after[1], prof["ehcp_caseload"]["value"], "= the API")
    t.eq(after[2], prof["ehcp_caseload"]["rank_england"], "rank = the API")
