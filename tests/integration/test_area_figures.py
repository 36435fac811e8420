"""England and the regions as the DfE publishes them (issue 14 item 4), on
the real shipped history: the England and region values of the tables
(JSON `value`, the CSV's National and Regional rows), the profile, the
metric page and the evidence pack are the DfE's own figures from
data/dfe/sen2_2025 (E92000001, E12...), a derived rate the ratio of the
published numerator and denominator; where nothing is published
(a council-submitted quarter) the sum of contributors under the
disclosure rules; the neighbours' summary is over the 10 statistical
neighbours without the authority itself."""

import csv
import io
import json
import os
import urllib.parse

import harness

TEMPLATE = "history"
DORSET, SOUTH_WEST, ENGLAND = "E06000059", "E12000009", "E92000001"


def dfe_row(name, level, code, period, topic):
    with open(os.path.join(harness.ROOT, "data", "dfe", "sen2_2025", name),
              encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            geo = r["country_code"] if level == "National" else r["region_code"]
            if (r["geographic_level"] == level and geo == code and r["time_period"] == period
                    and r["breakdown_topic"] == topic):
                return r
    raise AssertionError("no DfE %s row for %s %s" % (level, code, period))


def england_rate_2024():
    """The DfE's 2024 rate within 20 weeks excluding exceptions: its own
    published percentage and its numerator over its denominator."""
    r = dfe_row("timeliness_20_week.csv", "National", ENGLAND, "2024", "All EHC plans issued")
    return (float(r["PC_plans_issued_20_weeks_ex"]),
            100.0 * float(r["plans_issued_20_weeks_ex"]) / float(r["plans_issued_den_ex"]))


def summary(doc, scope):
    return [s for s in doc["summaries"] if s["scope"] == scope][0]


def submit_approved(t, admin, code, period, figures):
    """One council's figures for a period, submitted with its own token and
    approved by the admin."""
    r = t.cli("token", "create", "--authority", code)
    t.eq(r.returncode, 0, "token for %s: %s" % (code, r.stderr))
    s, _, b = t.request("POST", "/api/v1/submissions",
                        {"authority": code, "period": period, "figures": figures},
                        headers={"Authorization": "Bearer " + r.stdout.strip()})
    t.eq(s, 201, "submission %s: %r" % (code, b[:300]))
    s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % json.loads(b)["id"],
                        headers={"Authorization": "Bearer " + admin})
    t.eq(s, 200, "approved")


def test_table_json_and_csv_carry_the_published_england_rate(t):
    published, ratio = england_rate_2024()
    t.eq(published, 46.4, "the DfE's own figure (PROVENANCE)")
    t.eq(round(ratio, 1), published, "numerator over denominator is the published rate")
    s, doc = t.get_json("/api/v1/tables/pct_within_20_weeks_ex?group=england&period=2024")
    t.eq(s, 200, "table")
    e = summary(doc, "england")
    t.eq(e["value"], 46.4, "England's value: %r" % e)
    t.eq(e["value_source"], "published", "labelled as published")
    t.true(e["mean"] != 46.4 and e["median"] != 46.4,
           "the mean and median of authorities stay, and differ: %r" % e)
    s, h, b = t.request("GET", "/api/v1/tables/pct_within_20_weeks_ex?group=england"
                               "&period=2024&format=csv")
    t.eq(s, 200, "csv")
    rows = list(csv.DictReader(io.StringIO(b.decode("utf-8"))))
    nat = [r for r in rows if r["geographic_level"] == "National"]
    t.eq(len(nat), 1, "one National row")
    t.eq(nat[0]["pct_within_20_weeks_ex"], "46.4", "the National row carries England's value")


def test_counts_england_and_region_as_published(t):
    eng = dfe_row("caseload.csv", "National", ENGLAND, "202425", "All EHC plans")
    sw = dfe_row("caseload.csv", "Regional", SOUTH_WEST, "202425", "All EHC plans")
    t.eq(float(eng["ehcplans"]), 638745.0, "England's plans in January 2025 (PROVENANCE)")
    s, doc = t.get_json("/api/v1/tables/ehcp_caseload?group=region&period=2025&authority="
                        + DORSET)
    t.eq(s, 200, "region table")
    e, r = summary(doc, "england"), summary(doc, "region")
    t.eq((e["value"], e["value_source"]), (638745, "published"), "England: %r" % e)
    t.eq((r["value"], r["value_source"]), (float(sw["ehcplans"]), "published"),
         "South West: %r" % r)
    s, h, b = t.request("GET", "/api/v1/tables/ehcp_caseload?group=region&period=2025"
                               "&authority=%s&format=csv" % DORSET)
    rows = {r["geographic_level"]: r for r in csv.DictReader(io.StringIO(b.decode("utf-8")))}
    t.eq(rows["National"]["ehcp_caseload"], "638745", "CSV National row")
    t.eq(float(rows["Regional"]["ehcp_caseload"]), float(sw["ehcplans"]), "CSV Regional row")


def test_neighbours_summary_is_over_the_ten_without_the_authority(t):
    s, doc = t.get_json("/api/v1/tables/ehcp_caseload?group=neighbours&period=2025&authority="
                        + DORSET)
    t.eq(s, 200, "neighbours table")
    nb = summary(doc, "neighbours")
    neighbours = t.psql("SELECT neighbour FROM statistical_neighbours WHERE authority = :'p1'",
                        DORSET)
    t.eq(len(neighbours), 10, "Dorset has 10 statistical neighbours")
    values = {r["code"]: r["value"] for r in doc["rows"]}
    own = values[DORSET]
    theirs = [values[n[0]] for n in neighbours if values.get(n[0]) is not None]
    t.eq(nb["n"], len(theirs), "contributors are the neighbours: %r" % nb)
    t.eq(nb["mean"], round(sum(theirs) / len(theirs)), "the mean of the neighbours alone")
    t.true(abs(sum(theirs + [own]) / (len(theirs) + 1) - nb["mean"]) > 1,
           "Dorset itself is not in its neighbours' mean")


def test_profile_page_and_pack_show_england_as_published(t):
    s, doc = t.get_json("/api/v1/authorities/%s/profile?period=2024" % DORSET)
    t.eq(s, 200, "profile")
    m = [x for x in doc["metrics"] if x["id"] == "pct_within_20_weeks_ex"][0]
    t.eq(m["period"], "2024", "the 2024 cross-section")
    t.eq((m["england"]["value"], m["england"]["value_source"]), (46.4, "published"),
         "profile England: %r" % m["england"])
    s, _, b = t.request("GET", "/metrics/pct_within_20_weeks_ex?period=2024",
                        headers={"Accept": "text/html"})
    t.eq(s, 200, "metric page")
    page = b.decode("utf-8")
    t.true('id="england-value"><strong>England: 46.4%</strong> as published by the DfE' in page,
           "the metric page says England 46.4%, as published")
    # The pack's timeliness headline is the DfE's headline measure, the
    # rate excluding exceptions (46.4% for England in 2024); the rate
    # including them follows in one sentence, England's own 2024 figure.
    r = dfe_row("timeliness_20_week.csv", "National", ENGLAND, "2024", "All EHC plans issued")
    want = "%.1f%%" % float(r["pc_plans_issued_within_20_weeks"])
    s, _, b = t.request("GET", "/api/v1/authorities/%s/evidence" % DORSET)
    t.eq(s, 200, "evidence pack")
    pack = b.decode("utf-8")
    i = pack.find('<p class="lead" data-metric="pct_within_20_weeks_ex">')
    t.true(i >= 0, "the pack's headline is the rate excluding exceptions")
    lead = pack[i:pack.find("</p>", i)]
    t.true("England 46.4%" in lead, "the pack gives England 46.4%%: %r" % lead)
    i = pack.find('<p class="note" data-metric="pct_within_20_weeks">')
    t.true(i >= 0, "the rate including exceptions follows")
    note = pack[i:pack.find("</p>", i)]
    t.true(("England " + want) in note, "England including exceptions %s: %r" % (want, note))


def test_counts_compare_with_the_published_totals_on_page_and_pack(t):
    """A count's England comparator on the authority page and in the
    evidence pack (HTML, CSV, XLSX) is the DfE's published total, labelled
    as such, with the median of authorities beside it, labelled."""
    np24 = float(dfe_row("newplans.csv", "National", ENGLAND, "2024", "New EHC plans")
                 ["new_ehc_plans"])
    rq24 = dfe_row("requests.csv", "National", ENGLAND, "2024",
                   "All requests for EHC needs assessments")
    rq24 = float(rq24["requests_received_in_year"])
    t.eq((np24, rq24), (97747.0, 154489.0), "England 2024 (PROVENANCE)")
    s, doc = t.get_json("/api/v1/authorities/%s/profile" % DORSET)
    m = {x["id"]: x for x in doc["metrics"]}
    t.eq((m["ehcp_caseload"]["england"]["value"], m["ehcp_caseload"]["england"]["value_source"]),
         (638745, "published"), "profile: England's published plans")
    median = m["ehcp_caseload"]["england"]["median"]
    s, _, b = t.request("GET", "/authorities/" + DORSET, headers={"Accept": "text/html"})
    t.eq(s, 200, "authority page")
    page = b.decode("utf-8")
    row = page.split('<tr data-metric="ehcp_caseload">')[1].split("</tr>")[0]
    t.true('data-england="published total">638,745<br><span class="source">DfE&#39;s '
           'published total' in row,
           "the page's England cell is the published total: %r" % row)
    t.true("median of authorities {:,}".format(int(median)) in row,
           "and the median of authorities, labelled: %r" % row)
    s, _, b = t.request("GET", "/api/v1/authorities/%s/evidence" % DORSET)
    pack = b.decode("utf-8")
    flows = pack.split('id="flows-table"')[1].split("</table>")[0]
    r24 = flows.split('<th scope="row">2024</th>')[1].split("</tr>")[0]
    t.true("{:,}".format(int(rq24)) in r24 and "{:,}".format(int(np24)) in r24,
           "the pack's flows table gives England's published 2024 totals: %r" % r24)
    # Growth: England's index is of its published totals.
    e20 = float(dfe_row("caseload.csv", "National", ENGLAND, "201920", "All EHC plans")
                ["ehcplans"])
    growth = pack.split('id="growth-table"')[1].split("</table>")[0]
    last = growth.split('<th scope="row">2025</th>')[1].split("</tr>")[0]
    t.true(">%.1f<" % round(100 * 638745 / e20, 1) in last,
           "England index 2025 on 2020 from the published totals (%.1f): %r"
           % (100 * 638745 / e20, last))
    s, _, b = t.request("GET", "/api/v1/authorities/%s/evidence?format=csv" % DORSET)
    rows = list(csv.DictReader(io.StringIO(b.decode("utf-8"))))
    pub = {(r["metric"], r["period"]): r for r in rows if r["series"] == "england_published"}
    t.eq(float(pub[("new_plans_issued", "2024")]["value"]), np24, "CSV: England new plans")
    t.eq(float(pub[("ehcp_caseload", "2025")]["value"]), 638745.0, "CSV: England plans")
    t.eq(float(pub[("pct_within_20_weeks_ex", "2024")]["value"]), 46.4, "CSV: England rate")
    t.true(any(r["series"] == "region_published" for r in rows), "CSV: the region's too")
    t.true(any(r["series"] == "england_median" for r in rows), "the median stays, labelled")
    openpyxl = harness.debian_module("openpyxl")
    s, _, b = t.request("GET", "/api/v1/authorities/%s/evidence?format=xlsx" % DORSET)
    t.eq(s, 200, "xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(b), read_only=True)
    cells = [[c for c in r] for r in wb.worksheets[0].iter_rows(values_only=True)]
    hdr = [i for i, r in enumerate(cells) if r and r[0] == "section"][0]
    col = {k: i for i, k in enumerate(cells[hdr])}
    got = [r for r in cells[hdr + 1:] if r[col["series"]] == "england_published"
           and r[col["metric"]] == "ehcp_caseload" and str(r[col["period"]]) == "2025"]
    t.eq(len(got), 1, "XLSX: England's published plans")
    t.eq(float(got[0][col["value"]]), 638745.0, "XLSX value")


def test_a_submitted_quarter_has_the_sum_of_contributors(t):
    """Nothing is published for a quarter: England is the sum of
    contributors when the disclosure rules release it (3 or more, released
    in batches of three of a region: six of the South West, two batches)."""
    admin = t.cli("token", "create", "--admin").stdout.strip()
    figures = {"E06000059": 4100, "E06000054": 5200, "E10000008": 6300, "E06000052": 2400,
               "E10000013": 3700, "E06000026": 2900}
    for code, v in figures.items():
        submit_approved(t, admin, code, "2026-27 Q2", {"ehcp_caseload": v})
    q = urllib.parse.quote("2026-27 Q2")
    s, doc = t.get_json("/api/v1/tables/ehcp_caseload?group=england&period=" + q)
    t.eq(s, 200, "quarter table")
    e = summary(doc, "england")
    t.eq((e["value"], e["value_source"], e["n"]), (sum(figures.values()), "sum of authorities", 6),
         "England is the sum of its 6 contributors: %r" % e)
    t.eq(e["median"], None, "no median of unpublished figures")
    t.true(all(r["value"] is None for r in doc["rows"]), "no authority's figure is shown")


CITY = "E09000001"


def test_a_dfe_footnote_travels_with_its_figure_and_is_not_ranked(t):
    """The DfE's footnote to 2024: Dorset and City of London classed every
    new plan as having a permitted exception, so their new plans excluding
    exceptions are 0 by classification.  The import notes exactly those two
    (rule all_exceptions, kept in force), and the tables (JSON, CSV), the
    profile, the authority page and the pack show the 0 with the note,
    unranked, unbanded and out of the summaries."""
    got = t.psql("SELECT authority, metric, action FROM import_quality"
                 " WHERE rule = 'all_exceptions' AND period = '2024' ORDER BY 1, 2")
    t.eq([tuple(r) for r in got],
         [(DORSET, "new_plans_issued_ex", "query"),
          (DORSET, "new_plans_within_20_weeks_ex", "query"),
          (CITY, "new_plans_issued_ex", "query"),
          (CITY, "new_plans_within_20_weeks_ex", "query")],
         "the two authorities of the DfE's footnote, noted")
    # and never fitted on: a noted year is a gap in what the forecasts read
    fitted = t.psql("SELECT authority, metric FROM forecast_input WHERE period = '2024'"
                    " AND authority IN (:'p1', :'p2') AND metric IN ('new_plans_issued_ex',"
                    " 'new_plans_within_20_weeks_ex', 'pct_within_20_weeks_ex')", DORSET, CITY)
    t.eq([tuple(r) for r in fitted], [], "noted figures are not forecast inputs")
    s, doc = t.get_json("/api/v1/tables/new_plans_issued_ex?group=england&period=2024")
    t.eq(s, 200, "table")
    rows = {r["code"]: r for r in doc["rows"]}
    for code in (DORSET, CITY):
        r = rows[code]
        t.eq((r["value"], r["rank"], r["rank_england"], r["band"]), (0, None, None, None),
             "%s: shown as 0, not ranked: %r" % (code, r))
        t.true("permitted exceptions" in (r.get("note") or ""), "%s carries the note" % code)
        t.true("reason" not in r, "%s: the note said once, not as a reason too: %r" % (code, r))
    valued = [r for r in doc["rows"] if r["value"] is not None]
    t.eq(doc["n_ranked_england"], len(valued) - 2, "the two are not in the ranking")
    t.eq(summary(doc, "england")["n"], len(valued) - 2, "nor in England's mean and median")
    s, h, b = t.request("GET", "/api/v1/tables/new_plans_issued_ex?group=england&period=2024"
                               "&format=csv")
    crow = [r for r in csv.DictReader(io.StringIO(b.decode("utf-8")))
            if r["new_la_code"] == DORSET][0]
    t.eq((crow["new_plans_issued_ex"], crow["rank"]), ("0", "x"), "CSV: 0, not ranked")
    t.true("permitted exceptions" in crow["note"], "CSV note: %r" % crow)
    s, prof = t.get_json("/api/v1/authorities/%s/profile?period=2024" % DORSET)
    m = [x for x in prof["metrics"] if x["id"] == "new_plans_issued_ex"][0]
    t.eq((m["value"], m["rank_england"], m["band"]), (0, None, None), "profile: %r" % m)
    t.true("permitted exceptions" in (m.get("note") or ""), "profile note")
    t.true("reason" not in m, "profile: the note said once, not as a reason too: %r" % m)
    rate = [x for x in prof["metrics"] if x["id"] == "pct_within_20_weeks_ex"][0]
    t.true("permitted exceptions" in (rate.get("reason") or ""),
           "the derived rate says why it has no figure: %r" % rate.get("reason"))
    s, _, b = t.request("GET", "/authorities/" + DORSET, headers={"Accept": "text/html"})
    page = b.decode("utf-8")
    notes = page.split('id="figure-notes"')[1].split("</section>")[0]
    t.true('data-metric="new_plans_issued_ex" data-period="2024"' in notes
           and "permitted exceptions" in notes, "the page's notes: %r" % notes[:600])
    row = page.split('<tr data-metric="new_plans_issued_ex">')[1].split("</tr>")[0]
    t.true('class="noted"' in row and 'data-rank="">&ndash;' in row,
           "the row shows the 0 noted, unranked: %r" % row)
    s, _, b = t.request("GET", "/metrics/new_plans_issued_ex?period=2024&authority=" + DORSET,
                        headers={"Accept": "text/html"})
    row = b.decode("utf-8").split('<tr class="focus" data-code="%s">' % DORSET)[1]
    row = row.split("</tr>")[0]
    t.true('<td class="num">&ndash;</td>' in row and "Not ranked: " in row
           and "permitted exceptions" in row, "the metric page says why: %r" % row)
    s, _, b = t.request("GET", "/api/v1/authorities/%s/evidence" % DORSET)
    pack = b.decode("utf-8")
    t.true('id="figure-notes"' in pack and "permitted exceptions" in
           pack.split('id="figure-notes"')[1], "the pack carries the note")
    s, _, b = t.request("GET", "/api/v1/authorities/%s/evidence?format=csv" % DORSET)
    prow = [r for r in csv.DictReader(io.StringIO(b.decode("utf-8")))
            if r["series"] == "authority" and r["metric"] == "pct_within_20_weeks_ex"]
    t.true(prow, "pack CSV has the rate")


def test_the_yorkshire_2022_rows_are_held_back_and_the_page_says_why(t):
    """Every Yorkshire and The Humber authority's 2022 new-plans row carries
    the regional total: the import quarantines them (equals_area_total),
    the tables leave them out, and the authority's page says why."""
    got = t.psql("SELECT q.authority FROM import_quality q JOIN authorities a"
                 " ON a.new_la_code = q.authority WHERE q.metric = 'new_plans_issued'"
                 " AND q.period = '2022' AND q.rule = 'equals_area_total'"
                 " AND a.region_code = 'E12000003' ORDER BY 1")
    t.eq(len(got), 15, "the 15 authorities' rows are quarantined")
    leeds = got[0][0]
    s, doc = t.get_json("/api/v1/tables/new_plans_issued?group=england&period=2022")
    r = [x for x in doc["rows"] if x["code"] == leeds][0]
    t.eq(r["value"], None, "not in the table: %r" % r)
    # the table says it is held back, as the profile and page do, not absent
    t.true(r.get("reason", "").startswith("held back by the import checks (equals_area_total)"),
           "the table says why: %r" % r)
    s, _, b = t.request("GET", "/metrics/new_plans_issued?period=2022",
                        headers={"Accept": "text/html"})
    t.true("held back by the import checks" in b.decode("utf-8"), "so does the metric page")
    s, _, b = t.request("GET", "/authorities/" + leeds, headers={"Accept": "text/html"})
    page = b.decode("utf-8")
    t.true('id="figure-notes"' in page, "the page has notes")
    notes = page.split('id="figure-notes"')[1].split("</section>")[0]
    t.true('class="held-back" data-metric="new_plans_issued" data-period="2022"' in notes
           and "equals_area_total" in notes, "the page says why: %r" % notes[:800])


def test_a_submitted_quarter_rate_is_the_ratio_of_sums(t):
    """A rate of a submitted quarter: England's and the region's value is
    the ratio of the contributors' summed numerators and denominators, not
    the mean of their rates; with fewer than 3 protected contributors,
    nothing."""
    admin = t.cli("token", "create", "--admin").stdout.strip()
    figures = {"E06000059": (400, 90), "E06000054": (300, 240), "E10000008": (800, 500),
               "E06000052": (100, 95), "E10000013": (600, 330), "E06000026": (200, 150)}

    def submit(period, codes):
        for code in codes:
            n, w = figures[code]
            submit_approved(t, admin, code, period,
                            {"new_plans_issued": n, "new_plans_within_20_weeks": w})
    submit("2025-26 Q3", figures)
    q = urllib.parse.quote("2025-26 Q3")
    want = round(100.0 * sum(w for _, w in figures.values())
                 / sum(n for n, _ in figures.values()), 1)
    mean = round(sum(100.0 * w / n for n, w in figures.values()) / len(figures), 1)
    t.true(want != mean, "the figures tell the two apart (%s, %s)" % (want, mean))
    s, doc = t.get_json("/api/v1/tables/pct_within_20_weeks?group=region&authority=%s&period=%s"
                        % (DORSET, q))
    t.eq(s, 200, "quarter table")
    for scope in ("england", "region"):
        e = summary(doc, scope)
        t.eq((e["value"], e["value_source"], e["n"], e["mean"]),
             (want, "ratio of sums of authorities", 6, mean), "%s: %r" % (scope, e))
    s, prof = t.get_json("/api/v1/authorities/%s/profile?period=%s" % (DORSET, q),
                         headers={"Authorization": "Bearer " + admin})
    m = [x for x in prof["metrics"] if x["id"] == "pct_within_20_weeks"][0]
    t.eq(m["period"], "2025-26 Q3", "the profile shows the quarter")
    t.eq((m["england"]["value"], m["england"]["value_source"]),
         (want, "ratio of sums of authorities"), "profile England: %r" % m["england"])
    # Two protected contributors: no ratio, as no mean.
    submit("2025-26 Q4", ["E06000059", "E06000054"])
    s, doc = t.get_json("/api/v1/tables/pct_within_20_weeks?group=england&period="
                        + urllib.parse.quote("2025-26 Q4"))
    t.eq(s, 200, "Q4 table")
    e = summary(doc, "england")
    t.eq((e["value"], e["mean"]), (None, None), "nothing of two protected figures: %r" % e)


def test_unit_costs_are_not_totals(t):
    """metrics.additive (sql/192): a figure per child, plan or placement
    does not add up over authorities.  No total of unit costs is offered
    (tables, CSV, collections), England's published weekly unit cost is not
    labelled a total, and England's High Needs Block per plan is forecast
    as a figure per plan, not as the sum of its authorities' (~£2.7m)."""
    s, doc = t.get_json("/api/v1/tables/sen_weekly_unit_cost_gbp?group=england")
    t.eq(s, 200, "weekly unit cost table")
    e = summary(doc, "england")
    t.true("total" not in e, "no total of weekly unit costs: %r" % e)
    t.eq(e["value_source"], "published", "England's own weekly unit cost: %r" % e)
    t.true(e["value"] < 1000, "on a child's scale: %r" % e)
    s, doc = t.get_json("/api/v1/tables/hnb_per_ehc_plan_gbp?group=england&period=2023-24")
    t.eq(s, 200, "HNB per plan table")
    e = summary(doc, "england")
    t.true("total" not in e, "no total of costs per plan: %r" % e)
    t.true(e["value_source"] != "sum of authorities" and (e["value"] or 0) < 100000,
           "England's value is not a sum of costs per plan: %r" % e)
    s, _, b = t.request("GET", "/api/v1/tables/hnb_per_ehc_plan_gbp?group=england"
                               "&period=2023-24&format=csv")
    nat = [r for r in csv.DictReader(io.StringIO(b.decode("utf-8")))
           if r["geographic_level"] == "National"]
    t.eq(nat[0]["hnb_per_ehc_plan_gbp"], "z", "the CSV's National row has no sum: %r" % nat)
    s, doc = t.get_json("/api/v1/authorities/%s/profile" % DORSET)
    m = {x["id"]: x for x in doc["metrics"]}
    t.eq((m["ehcp_caseload"]["additive"], m["hnb_allocation_gbp"]["additive"],
          m["sen_weekly_unit_cost_gbp"]["additive"], m["hnb_per_ehc_plan_gbp"]["additive"],
          m["pct_within_20_weeks"]["additive"]), (True, True, False, False, False),
         "the profile says which metrics add up")
    t.true("total" not in m["sen_weekly_unit_cost_gbp"]["england"], "no total in the profile")
    s, _, b = t.request("GET", "/authorities/" + DORSET, headers={"Accept": "text/html"})
    page = b.decode("utf-8")
    row = page.split('<tr data-metric="sen_weekly_unit_cost_gbp">')[1].split("</tr>")[0]
    t.true("published total" not in row and 'data-england="published"' in row,
           "England's weekly unit cost is its published figure, not a total: %r" % row)
    # A submitted quarter: six South West councils' costs per placement
    # (released in batches of three of a region, sql/180: two batches).
    admin = t.cli("token", "create", "--admin").stdout.strip()
    costs = {"E06000059": 21000, "E06000054": 19000, "E10000008": 23000, "E06000052": 20000,
             "E10000013": 22000, "E06000026": 18000}
    for code, v in costs.items():
        submit_approved(t, admin, code, "2026-27 Q1", {"cost_per_placement_mainstream_gbp": v})
    q = urllib.parse.quote("2026-27 Q1")
    s, doc = t.get_json("/api/v1/tables/cost_per_placement_mainstream_gbp?group=england&period="
                        + q)
    t.eq(s, 200, "quarter table")
    e = summary(doc, "england")
    t.true("total" not in e and e["value"] is None,
           "no sum of four costs per placement: %r" % e)
    t.eq((e["n"], e["mean"]), (6, sum(costs.values()) / 6), "their mean stays: %r" % e)
    s, doc = t.get_json("/api/v1/collections/" + q)
    t.eq(s, 200, "collection")
    c = [x for x in doc["metrics"] if x["id"] == "cost_per_placement_mainstream_gbp"][0]
    t.true("total" not in c["england"], "the collection offers no total: %r" % c["england"])
    t.wait_forecasts()
    s, doc = t.get_json("/api/v1/forecasts/hnb_per_ehc_plan_gbp")
    t.eq(s, 200, "England's forecast of HNB per plan")
    t.true(doc["model"]["reason"].startswith("unweighted mean of the authorities' forecasts"),
           "a mean of forecasts, not their sum: %r" % doc["model"])
    t.true(all(h["value"] < 100000 for h in doc["history"]) and
           all(f["forecast"] < 100000 for f in doc["forecasts"]),
           "England's history and forecast are per plan: %r" % doc["history"])


def test_the_metric_page_lists_only_periods_with_a_figure(t):
    """A year the DfE gives as x for every authority (plans issued after 20
    weeks, 2019-2022), and the rate computed from it, have no figure: the
    metric page does not offer them, and offers the years that have one."""
    for metric in ("new_plans_over_20_weeks", "pct_new_plans_over_20_weeks"):
        rows = t.psql("SELECT period, count(value) > 0 FROM (SELECT period, value"
                      " FROM current_observations WHERE metric = :'p1' UNION ALL"
                      " SELECT period, value FROM derived_observations WHERE metric = :'p1') s"
                      " GROUP BY period ORDER BY 1", metric)
        empty = [p for p, v in rows if v in ("f", False)]
        full = [p for p, v in rows if v in ("t", True)]
        t.true(empty and full, "%s has both: %r" % (metric, rows))
        s, _, b = t.request("GET", "/metrics/" + metric, headers={"Accept": "text/html"})
        sel = b.decode("utf-8").split('<select id="period"')[1].split("</select>")[0]
        for p in empty:
            t.true(">%s</option>" % p not in sel, "%s %s (no figure) not offered" % (metric, p))
        for p in full:
            t.true(">%s</option>" % p in sel, "%s %s offered" % (metric, p))
