"""Submitted and published figures side by side, in a real browser (Debian's
chromium, headless, tests/browser/check.mjs): three councils submit a
quarter; the public pages keep the DfE's published period and show no
banner; the collection page counts the contributors; Dorset, signed in
(its bearer token sent by the browser), sees its quarter on its page, in
its evidence pack (screen and print) and on the collection page, each under
the banner "includes your unpublished figures - not for circulation".
Screenshots go to SENDBENCH_SCREENSHOTS or a folder this test prints."""

import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse

import harness

TEMPLATE = "history"
BROWSER_DIR = os.path.join(harness.ROOT, "tests", "browser")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = os.environ.get("SENDBENCH_SCREENSHOTS") or tempfile.mkdtemp(prefix="sendbench-seam-")
Q = "2026-27 Q2"
RESULT = {}
TOKENS = {}
DORSET = "E06000059"


def test_seed(t):
    r = t.cli("token", "create", "--admin")
    t.eq(r.returncode, 0, "admin token")
    admin = r.stdout.strip()
    for num, cl in (("838", 6173), ("933", 7291), ("878", 8467)):
        r = t.cli("token", "create", "--authority", num)
        t.eq(r.returncode, 0, "token")
        TOKENS[num] = r.stdout.strip()
        code = t.value("SELECT new_la_code FROM authorities WHERE old_la_code = :'p1'", num)
        s, _, b = t.request("POST", "/api/v1/submissions",
                            {"authority": code, "period": Q,
                             "figures": {"ehcp_caseload": cl, "requests_received": cl // 5,
                                         "new_plans_issued": cl // 11,
                                         "new_plans_within_20_weeks": cl // 30}},
                            headers={"Authorization": "Bearer " + TOKENS[num]})
        t.eq(s, 201, "submission: %r" % b[:200])
        # only approved versions are in force (docs/submissions.md)
        s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % json.loads(b)["id"],
                            headers={"Authorization": "Bearer " + admin})
        t.eq(s, 200, "approved: %r" % b[:200])
    # Dorset's quarter ending 31 March 2025, paired on /authorities/{code}/submitted
    # with the DfE's January 2025 census
    s, _, b = t.request("POST", "/api/v1/submissions",
                        {"authority": DORSET, "period": "2024-25 Q4",
                         "figures": {"ehcp_caseload": 4417}},
                        headers={"Authorization": "Bearer " + TOKENS["838"]})
    t.eq(s, 201, "submission: %r" % b[:200])
    s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % json.loads(b)["id"],
                        headers={"Authorization": "Bearer " + admin})
    t.eq(s, 200, "approved: %r" % b[:200])


def test_browser_runs(t):
    t.true(os.path.exists(CHROMIUM), "chromium missing at %s" % CHROMIUM)
    t.true(shutil.which("node") is not None, "node missing")
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR,
                           capture_output=True, text=True, timeout=600)
        t.eq(r.returncode, 0, "npm ci: " + r.stderr[-2000:])
    own = {"Authorization": "Bearer " + TOKENS["838"]}
    q = urllib.parse.quote(Q)
    pages = [
        {"name": "collection-public", "path": "/collections/" + q, "full": True},
        {"name": "collection-own", "path": "/collections/" + q, "headers": own, "full": True},
        {"name": "authority-public", "path": "/authorities/" + DORSET},
        {"name": "authority-own", "path": "/authorities/" + DORSET, "headers": own},
        {"name": "evidence-own", "path": "/api/v1/authorities/%s/evidence" % DORSET,
         "headers": own, "full": True},
        {"name": "evidence-own-print", "path": "/api/v1/authorities/%s/evidence" % DORSET,
         "headers": own, "print": True},
        {"name": "evidence-published-only",
         "path": "/api/v1/authorities/%s/evidence?published=only" % DORSET, "headers": own},
        {"name": "metric-quarter-own",
         "path": "/metrics/ehcp_caseload?period=%s&authority=%s" % (q, DORSET), "headers": own},
        {"name": "metric-default", "path": "/metrics/ehcp_caseload"},
        # the layout at a small laptop's, a common laptop's and a phone's width
        {"name": "authority-1366", "path": "/authorities/" + DORSET, "width": 1366},
        {"name": "authority-phone", "path": "/authorities/" + DORSET, "width": 390},
        {"name": "evidence-phone", "path": "/api/v1/authorities/%s/evidence" % DORSET,
         "width": 390},
        {"name": "submitted-own", "path": "/authorities/%s/submitted" % DORSET, "headers": own},
        {"name": "submitted-public", "path": "/authorities/%s/submitted" % DORSET},
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


def facts(t, name):
    p = RESULT.get("pages", {}).get(name)
    t.true(p is not None, "page %s loaded" % name)
    t.eq(p["status"], 200, name)
    return p["facts"]


def test_banner_only_where_unpublished_figures_are_shown(t):
    t.eq(RESULT["blocked"], [], "no request leaves 127.0.0.1")
    t.eq(RESULT["console_errors"], [], "no console error")
    want = {"collection-public": False, "collection-own": True, "authority-public": False,
            "authority-own": True, "evidence-own": True, "evidence-own-print": True,
            "evidence-published-only": False, "metric-quarter-own": True,
            "metric-default": False}
    for name, banner in want.items():
        f = facts(t, name)
        t.eq(f["text_has"]["own_banner"], banner, "banner on " + name)
        t.true(f["text_has"]["ogl"], "OGL line on " + name)
        t.eq(f["scripts"], 0, name + " needs no script")


def test_pages_fit_their_width(t):
    # Dorset's latest-figures table was wider than a 1,100 px viewport (its
    # Download column scrolled off, an England cell's small print would not
    # wrap), and the submitted-beside-published table twice as wide.
    for name in ("authority-public", "authority-1366", "submitted-own", "evidence-own"):
        lay = facts(t, name)["layout"]
        t.eq(lay["page_width"], lay["viewport"], name + " does not scroll sideways")
        for tb in lay["tables"]:
            t.true(tb["width"] <= tb["room"] + 1, "%s: table %s %d px in %d px" %
                   (name, tb["id"], tb["width"], tb["room"]))
    prof = [tb for tb in facts(t, "authority-public")["layout"]["tables"] if tb["id"] == "profile"]
    t.eq(len(prof), 1, "the latest-figures table")
    # On a phone the page keeps to the screen; a wide table scrolls in its own box.
    for name in ("authority-phone", "evidence-phone"):
        lay = facts(t, name)["layout"]
        t.eq(lay["page_width"], lay["viewport"], name + " does not scroll sideways")


def test_submitted_page_in_the_browser(t):
    f = facts(t, "submitted-own")
    t.true(f["text_has"]["own_banner"], "the council's own page carries the banner")
    pairs = [tb for tb in f["tables"] if tb["id"] == "pairs"]
    t.true(pairs and pairs[0]["row_codes"] == ["ehcp_caseload"], "the census paired: %r" % pairs)
    f = facts(t, "submitted-public")
    t.true(not f["text_has"]["own_banner"], "no banner for an anonymous visitor")
    t.eq([tb["id"] for tb in f["tables"]], [], "no table of submitted figures for the public")
