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
    # The pack's timeliness section is the rate including exceptions: the
    # DfE's 2024 figure for England is its own pc_plans_issued_within_20_weeks.
    r = dfe_row("timeliness_20_week.csv", "National", ENGLAND, "2024", "All EHC plans issued")
    want = "%.1f%%" % float(r["pc_plans_issued_within_20_weeks"])
    s, _, b = t.request("GET", "/api/v1/authorities/%s/evidence" % DORSET)
    t.eq(s, 200, "evidence pack")
    pack = b.decode("utf-8")
    i = pack.find('<p class="lead" data-metric="pct_within_20_weeks">')
    t.true(i >= 0, "the pack has the rate")
    lead = pack[i:pack.find("</p>", i)]
    t.true(("England " + want) in lead, "the pack gives England %s: %r" % (want, lead))


def test_a_submitted_quarter_has_the_sum_of_contributors(t):
    """Nothing is published for a quarter: England is the sum of
    contributors when the disclosure rules release it (3 or more)."""
    admin = t.cli("token", "create", "--admin").stdout.strip()
    figures = {"E06000059": 4100, "E06000054": 5200, "E10000008": 6300, "E06000052": 2400}
    for code, v in figures.items():
        r = t.cli("token", "create", "--authority", code)
        t.eq(r.returncode, 0, "token for %s: %s" % (code, r.stderr))
        tok = r.stdout.strip()
        s, _, b = t.request("POST", "/api/v1/submissions",
                            {"authority": code, "period": "2026-27 Q2",
                             "figures": {"ehcp_caseload": v}},
                            headers={"Authorization": "Bearer " + tok})
        t.eq(s, 201, "submission %s: %r" % (code, b[:300]))
        s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % json.loads(b)["id"],
                            headers={"Authorization": "Bearer " + admin})
        t.eq(s, 200, "approved")
    q = urllib.parse.quote("2026-27 Q2")
    s, doc = t.get_json("/api/v1/tables/ehcp_caseload?group=england&period=" + q)
    t.eq(s, 200, "quarter table")
    e = summary(doc, "england")
    t.eq((e["value"], e["value_source"], e["n"]), (sum(figures.values()), "sum of authorities", 4),
         "England is the sum of its 4 contributors: %r" % e)
    t.eq(e["median"], None, "no median of unpublished figures")
    t.true(all(r["value"] is None for r in doc["rows"]), "no authority's figure is shown")
