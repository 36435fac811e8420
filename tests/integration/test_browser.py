"""The web interface and the evidence pack in a real browser: Debian's
chromium, headless, driven by tests/browser/check.mjs (playwright-core).
Checks the DOM (table rows, chart points, the highlighted authority), that
no console error occurs and no request leaves 127.0.0.1, keyboard use and
the page without JavaScript; saves a screenshot of each page in a folder
this test prints."""

import json
import os
import shutil
import subprocess
import tempfile

import harness
import webseed
from webseed import code

BROWSER_DIR = os.path.join(harness.ROOT, "tests", "browser")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
RESULT = {}
SHOTS = os.environ.get("SENDBENCH_SCREENSHOTS") or tempfile.mkdtemp(prefix="sendbench-screens-")


def test_seed(t):
    global EXPECT
    EXPECT = webseed.seed(t)
    for i in range(webseed.N):
        webseed.wait_forecast(t, code(i))


def test_browser_runs(t):
    t.true(os.path.exists(CHROMIUM), "chromium missing at %s: tests/run.sh installs it as root "
                                     "(apt-get install chromium)" % CHROMIUM)
    node = shutil.which("node")
    t.true(node is not None, "node missing: apt-get install nodejs npm")
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR,
                           capture_output=True, text=True, timeout=600)
        t.eq(r.returncode, 0, "npm ci: " + r.stderr[-2000:])
    pages = [
        {"name": "home", "path": "/", "search": "authority 1"},
        {"name": "search-nojs", "path": "/", "search": "dfe 704", "js": False},
        {"name": "search-code-nojs", "path": "/?q=" + code(4), "js": False},
        {"name": "authority", "path": "/authorities/" + code(2), "full": True},
        {"name": "authority-top", "path": "/authorities/" + code(2)},
        {"name": "authority-hostile", "path": "/authorities/" + code(5)},
        {"name": "metric", "path": "/metrics/pct_within_20_weeks?period=2021&authority=" + code(7),
         "full": True},
        {"name": "evidence", "path": "/api/v1/authorities/%s/evidence" % code(0), "full": True},
        {"name": "evidence-print", "path": "/api/v1/authorities/%s/evidence" % code(0),
         "print": True, "pdf": True},
        {"name": "not-found", "path": "/authorities/E06009999"},
    ]
    base = "http://127.0.0.1:%d" % t.server.port
    r = subprocess.run(["node", "check.mjs", base, SHOTS, json.dumps(pages)], cwd=BROWSER_DIR,
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, CHROMIUM=CHROMIUM))
    t.eq(r.returncode, 0, "check.mjs failed: " + r.stderr[-3000:])
    RESULT.update(json.loads(r.stdout.strip().splitlines()[-1]))
    for rs in RESULT.get("browser_restarts", []):   # chromium died under a page: loaded again
        print("    chromium restarted on %s: %s" % (rs["page"], rs["error"]))
    print("    screenshots: %s" % SHOTS)


def page(t, name):
    t.true(name in RESULT.get("pages", {}), "page %s was not loaded" % name)
    return RESULT["pages"][name]


def test_no_console_errors_no_external_requests(t):
    t.true(RESULT, "browser ran")
    t.eq(RESULT["blocked"], [], "requests that tried to leave 127.0.0.1")
    # The 404 page's own status is logged by chromium; anything else is an error.
    errors = [e for e in RESULT["console_errors"]
              if not (e["page"] == "not-found" and "status of 404" in e["text"])]
    t.eq(errors, [], "console errors (CSP violations show here)")
    t.eq(RESULT["failed"], [], "failed requests")
    for name, p in RESULT["pages"].items():
        f = p["facts"]
        t.eq(f["lang"], "en", name + " lang")
        t.true(f["skip_link"] and f["main"], name + " skip link to main")
        t.eq(f["scripts"], 0, name + " needs no script")
        t.eq(f["external_refs"], 0, name + " external references")
        t.eq(f["alert_fired"], False, name + " no injected script ran")
        t.true(os.path.getsize(p["screenshot"]) > 5000, name + " screenshot saved")
        for c in f["charts"]:
            t.eq(c["role"], "img", "chart role")
            t.true(len(c["labelled"]) == 2 and all(c["labelled"]), "chart title and desc")
            t.eq(c["text"], "ok", "no NaN drawn")
        for tb in f["tables"]:
            t.true(tb["caption"], "table caption in " + name)
            t.true(all(s == "col" for s in tb["col_headers"]), "column headers scoped")
            t.true(all(s == "row" for s in tb["row_headers"]), "row headers scoped")


def test_search_by_keyboard_and_without_javascript(t):
    p = page(t, "home")
    t.eq(p["status"], 200, "status")
    t.true("default-src 'none'" in p["csp"], "strict CSP on the page")
    t.eq(p["first_tab"]["cls"], "skip", "first Tab reaches the skip link")
    t.true(p["first_tab"]["outline"] not in ("none", ""), "focus is visible")
    t.true(p["url_after_search"].endswith("/?q=authority+1"), p["url_after_search"])
    got = sorted(r["href"] for r in p["facts"]["results"])
    t.eq(got, sorted("/authorities/" + code(i) for i in (1, 10, 11)), "results")
    p = page(t, "search-nojs")
    t.eq(p["facts"]["results"], [], "no match for 'dfe 704'")
    p = page(t, "search-code-nojs")
    t.eq([r["href"] for r in p["facts"]["results"]], ["/authorities/" + code(4)], "code search, no JS")


def test_authority_page_dom(t):
    f = page(t, "authority")["facts"]
    t.eq(f["h1"], "Authority 2", "h1")
    prof = [x for x in f["tables"] if x["id"] == "profile"][0]
    t.eq(prof["rows"], 7, "one row per metric with published figures (5 imported + 2 derived:"
                          " timeliness and growth in plans)")
    t.true("ehcp_caseload" in prof["row_codes"] and "pct_within_20_weeks" in prof["row_codes"],
           prof["row_codes"])
    for bd in prof["bands"]:
        t.true(bd["text"], "band has text as well as colour")
    banded = [bd for bd in prof["bands"] if bd["band"]]
    t.true(banded, "some measure is banded")
    t.true(len(set(bd["bg"] for bd in banded) | {"x"}) >= 2, "bands coloured")
    nbt = [x for x in f["tables"] if x["id"] == "neighbour-table"][0]
    t.eq(nbt["rows"], 3, "three neighbours")
    charts = {c["metric"]: c for c in f["charts"] if c["metric"]}
    cl = [c for c in f["charts"] if c["metric"] == "ehcp_caseload" and "history" not in c["series"]][0]
    t.eq(len(cl["series"]["Authority 2"]), 13, "13 points for the authority")
    t.eq(len(cl["series"]["England (median)"]), 13, "13 England points")
    for pt in cl["series"]["Authority 2"]:
        t.eq(float(pt["value"]), EXPECT["caseload"][(code(2), pt["period"])], "value " + pt["period"])
    fan = [c for c in f["charts"] if "history" in c["series"]][0]
    fc = webseed.wait_forecast(t, code(2))
    t.eq(len(fan["series"]["history"]), len(fc["history"]), "fan history points")
    t.eq(len(fan["series"]["forecast"]), 3, "three forecast points")
    for pt, want in zip(fan["series"]["forecast"], fc["forecasts"]):
        t.eq(pt["period"], want["period"], "period")
        t.true(abs(float(pt["lo95"]) - want["lo95"]) <= 0.5 and
               abs(float(pt["hi80"]) - want["hi80"]) <= 0.5, "intervals = API")
    t.true(charts and all(c["ticks"] > 2 for c in f["charts"]), "tick values on every chart")


def test_metric_page_highlight(t):
    f = page(t, "metric")["facts"]
    ch = [c for c in f["charts"] if c["bars"]][0]
    t.eq(len(ch["bars"]), webseed.N, "a bar per authority")
    hl = [b for b in ch["bars"] if b["highlight"] == "true"]
    t.eq([b["code"] for b in hl], [code(7)], "the chosen authority is highlighted")
    ranks = [int(b["rank"]) for b in ch["bars"]]
    t.eq(ranks, sorted(ranks), "bars in rank order")
    vals = [float(b["value"]) for b in ch["bars"]]
    t.eq(vals, sorted(vals, reverse=True), "higher is better: largest first")
    want = 100.0 * EXPECT["within"][(code(7), "2021")] / EXPECT["new"][(code(7), "2021")]
    t.eq(float(hl[0]["value"]), round(want, 1), "highlighted value")
    tb = [x for x in f["tables"] if x["id"] == "ranking"][0]
    t.eq(tb["rows"], webseed.N, "table rows")
    t.eq(tb["focus_rows"], [code(7)], "table highlights the same authority")
    t.true("is ranked %s of 12" % hl[0]["rank"] in f["text_has"]["focal_note"], "rank in words")


def test_evidence_pack_in_browser(t):
    f = page(t, "evidence")["facts"]
    t.true(f["text_has"]["ogl"], "OGL attribution")
    t.true("off by" in f["text_has"]["accuracy"] and "% on average" in f["text_has"]["accuracy"],
           f["text_has"]["accuracy"])
    t.true("a change of" in f["text_has"]["growth"], "growth since 2015 in words")
    ids = {c["id"] for c in f["charts"]}
    t.true({"growth-chart", "flows-chart", "timeliness-chart", "dsg-chart", "fan-chart"} <= ids, ids)
    g = [c for c in f["charts"] if c["id"] == "growth-chart"][0]
    t.eq(len(g["series"]["Authority 0"]), 8, "2015..2022")
    t.eq(float(g["series"]["Authority 0"][0]["value"]), 100.0, "index starts at 100")
    flows = [c for c in f["charts"] if c["id"] == "flows-chart"][0]
    # calendar 2014 (four months of EHC plans) is left out of calendar-year charts
    t.eq(len(flows["series"]["Requests received"]), 7, "2015..2021 requests")
    st = [x for x in f["tables"] if x["id"] == "staffing-table"][0]
    t.eq(st["rows"], 1, "submitted staffing shown (authority consented)")
    p = page(t, "evidence-print")
    t.true(p["pdf_pages"] >= 4, "A4 print has a page per section or more: %r" % p["pdf_pages"])
    for c in p["facts"]["charts"]:
        t.true(c["width"] > 300 and c["height"] > 100, "chart laid out in print: %r" % c["id"])


def test_not_found_page(t):
    p = page(t, "not-found")
    t.eq(p["status"], 404, "status")
    t.eq(p["facts"]["text_has"]["error_code"], "not_found", "an HTML error page for the browser")
