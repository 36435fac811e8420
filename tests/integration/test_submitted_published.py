"""A council's submitted figures beside the DfE's published figures for the
same period (issue 15, point 6): GET /authorities/{code}/submitted pairs a
census year with the quarter ending 31 March, a calendar year with the sum
of its four quarters, each labelled with its source; the council sees it
signed in, the public sees one sentence whether or not anything was
submitted, and the published figure stays in force."""

import json
import re

import harness

DORSET, OTHER = "E06000059", "E06000060"
SUBMITTED = {  # quarter: figures
    "2023-24 Q4": {"requests_received": 241},
    "2024-25 Q1": {"requests_received": 252},
    "2024-25 Q2": {"requests_received": 257},
    "2024-25 Q3": {"requests_received": 246},
    "2024-25 Q4": {"ehcp_caseload": 3187, "requests_received": 263},
}
TOK = {}


def submit(t, period, figures, token):
    s, _, b = t.request("POST", "/api/v1/submissions",
                        body={"authority": DORSET, "period": period, "figures": figures},
                        headers={"Authorization": "Bearer " + token})
    t.eq(s, 201, "submitted %s: %s" % (period, b.decode()[:300]))
    return json.loads(b)["id"]


def page(t, code, token=None):
    h = {"Accept": "text/html"}
    if token:
        h["Authorization"] = "Bearer " + token
    s, hd, b = t.request("GET", "/authorities/%s/submitted" % code, headers=h)
    return s, b.decode()


def test_seed(t):
    t.psql("INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name) VALUES"
           " ('E06000059', '838', 'Dorset', 'E12000009', 'South West'),"
           " ('E06000060', '839', 'Other', 'E12000009', 'South West')")
    t.psql("INSERT INTO import_sources (source, release, published, file_name) VALUES"
           " ('DfE SEN2 2025 (test)', '2025 (test)', '2025-06-26', 'sen2.csv')")
    t.psql("INSERT INTO observations (authority, metric, period, period_kind, period_start, value,"
           " published, source, version) VALUES"
           " ('E06000059','ehcp_caseload','2025','census_year','2025-01-16',3120,true,'DfE SEN2 2025 (test)',1),"
           " ('E06000059','requests_received','2024','calendar_year','2024-01-01',1010,true,'DfE SEN2 2025 (test)',1),"
           " ('E06000060','ehcp_caseload','2025','census_year','2025-01-16',2500,true,'DfE SEN2 2025 (test)',1)")
    TOK["admin"] = t.cli("token", "create", "--admin").stdout.strip()
    TOK["council"] = t.cli("token", "create", "--authority", DORSET).stdout.strip()
    TOK["other"] = t.cli("token", "create", "--authority", OTHER).stdout.strip()
    # Before anything is submitted: the public sentence, kept for comparison.
    s, TOK["public_before"] = page(t, DORSET)
    t.eq(s, 200, "public page")
    # The council signed in with nothing to pair: no "includes your unpublished
    # figures" banner over a page that shows none (seen in Chromium).
    s, html = page(t, DORSET, TOK["council"])
    t.true('id="no-pairs"' in html and 'id="own-banner"' not in html,
           "no banner without submitted figures")
    for period, figures in SUBMITTED.items():
        sid = submit(t, period, figures, TOK["council"])
        s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % sid,
                            headers={"Authorization": "Bearer " + TOK["admin"]})
        t.eq(s, 200, "approved %s: %s" % (period, b.decode()[:200]))


def cell(html, metric, period, source):
    m = re.search(r'<tr data-metric="%s" data-period="%s">.*?data-source="%s" data-value="([^"]*)"'
                  r'>(.*?)</td>' % (metric, re.escape(period), source), html, re.S)
    return (m.group(1), re.sub(r"<[^>]+>", " ", m.group(2))) if m else None


def test_council_sees_both_labelled(t):
    s, html = page(t, DORSET, TOK["council"])
    t.eq(s, 200, "own page")
    t.true('id="own-banner"' in html, "own-figures banner")
    pub = cell(html, "ehcp_caseload", "2025", "published")
    sub = cell(html, "ehcp_caseload", "2025", "submitted")
    t.true(pub and sub, "census 2025 paired: %r %r" % (pub, sub))
    t.eq((pub[0], sub[0]), ("3120", "3187"), "January census beside the quarter ending 31 March")
    t.true("Published by the DfE: DfE SEN2 2025 (test)" in pub[1], pub[1])
    t.true("Submitted by the council" in sub[1] and "2024-25 Q4" in sub[1], sub[1])
    # Calendar 2024 = 2023-24 Q4 + 2024-25 Q1..Q3
    cy = cell(html, "requests_received", "2024", "submitted")
    t.true(cy, "calendar year 2024 paired")
    t.eq(cy[0], str(241 + 252 + 257 + 246), "sum of the four quarters")
    t.true("2023-24 Q4, 2024-25 Q1, 2024-25 Q2, 2024-25 Q3" in cy[1], cy[1])
    t.eq(cell(html, "requests_received", "2024", "published")[0], "1010", "published flow")
    # 2025 has only one of its quarters: not paired
    t.eq(cell(html, "requests_received", "2025", "submitted"), None, "incomplete year left out")
    # The same by DfE number
    s, html838 = page(t, "838", TOK["council"])
    t.eq((s, cell(html838, "ehcp_caseload", "2025", "submitted")[0]), (200, "3187"), "DfE number")


def test_published_stays_in_force(t):
    s, doc = t.get_json("/api/v1/tables/ehcp_caseload?group=england")
    t.eq((s, doc["period"]), (200, "2025"), "the default period is the published census")
    row = [r for r in doc["rows"] if r.get("code") == DORSET][0]
    t.eq((row["value"], row["published"]), (3120, True), "published figure ranked, not displaced")


def test_public_and_other_councils_see_a_sentence(t):
    s, html = page(t, DORSET)
    t.eq(s, 200, "public page")
    t.true('id="not-shown"' in html and "3187" not in html and "3,187" not in html,
           "no submitted figure for the public")
    t.eq(html, TOK["public_before"], "the same page as before anything was submitted")
    s, html = page(t, DORSET, TOK["other"])
    t.true('id="not-shown"' in html and "3,187" not in html, "another council sees no figure")
    s, html = page(t, DORSET, TOK["admin"])
    t.eq(cell(html, "ehcp_caseload", "2025", "submitted")[0], "3187", "an administrator sees it")
    t.true('id="own-banner"' not in html, "no own-figures banner for an administrator")


def test_consent_makes_it_public(t):
    t.cli("consent", "--authority", DORSET, "--name", "yes")
    s, html = page(t, DORSET)
    t.eq(cell(html, "ehcp_caseload", "2025", "submitted")[0], "3187", "consented: public")
    t.cli("consent", "--authority", DORSET, "--name", "no")


def test_bad_and_unknown_codes(t):
    s, _ = page(t, "nonsense")
    t.eq(s, 404, "bad code")
    s, _, b = t.request("GET", "/authorities/E06000999/submitted")
    t.eq(s, 404, "unknown authority")
    t.true(json.loads(b)["error"]["code"], "a JSON error for an API client")
