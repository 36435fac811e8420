"""The High Needs page, its lever preview and the evidence pack's High
Needs section in a real browser (Debian's chromium, headless, through
tests/browser/check.mjs as test_browser does), on the shipped history:
no script, no console error, no request leaving 127.0.0.1, charts named,
tables with captions and scoped headers, and the page without JavaScript."""

import json
import os
import shutil
import subprocess
import tempfile
import time

import harness

TEMPLATE = "history"
BROWSER_DIR = os.path.join(harness.ROOT, "tests", "browser")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = os.environ.get("SENDBENCH_SCREENSHOTS") or tempfile.mkdtemp(prefix="sendbench-hn-screens-")


def test_pages_in_chromium(t):
    deadline = time.time() + 300
    while time.time() < deadline:   # the caseload and setting forecasts are fitted by the worker
        s, h, b = t.request("GET", "/api/v1/authorities/831/high-needs")
        if s == 200:
            break
        time.sleep(0.3)
    t.eq(s, 200, "trajectory ready")
    t.true(os.path.exists(CHROMIUM), "chromium missing at %s" % CHROMIUM)
    t.true(shutil.which("node") is not None, "node missing")
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR,
                           capture_output=True, text=True, timeout=600)
        t.eq(r.returncode, 0, "npm ci: " + r.stderr[-2000:])
    preview = ("/authorities/831/high-needs?independent_to_maintained_pct=30"
               "&new_special_places=60&new_special_places_year=2027-28"
               "&new_special_place_cost_gbp=28000")
    pages = [
        {"name": "high-needs", "path": "/authorities/831/high-needs", "full": True},
        {"name": "high-needs-nojs", "path": "/authorities/831/high-needs", "js": False},
        {"name": "high-needs-preview-nojs", "path": preview, "js": False, "full": True},
        {"name": "evidence-high-needs", "path": "/api/v1/authorities/831/evidence", "full": True},
    ]
    # the pack with a council's plan (shared, so the browser needs no token)
    r = t.cli("token", "create", "--authority", "831")
    t.eq(r.returncode, 0, "token: " + r.stderr)
    plan = {"name": "Special school 2027-28", "shared": True,
            "levers": {"independent_to_maintained_pct": 30, "new_special_places": 60,
                       "new_special_places_year": "2027-28", "new_special_place_cost_gbp": 28000}}
    s, h, b = t.request("POST", "/api/v1/authorities/831/scenarios", plan,
                        headers={"Authorization": "Bearer " + r.stdout.strip()})
    t.eq(s, 201, "shared plan saved: %s" % b[:200])
    pages.append({"name": "evidence-plan", "full": True,
                  "path": "/api/v1/authorities/831/evidence?scenario=%d" % json.loads(b)["id"]})
    base = "http://127.0.0.1:%d" % t.server.port
    r = subprocess.run(["node", "check.mjs", base, SHOTS, json.dumps(pages)], cwd=BROWSER_DIR,
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, CHROMIUM=CHROMIUM))
    t.eq(r.returncode, 0, "check.mjs failed: " + r.stderr[-3000:])
    res = json.loads(r.stdout.strip().splitlines()[-1])
    for rs in res.get("browser_restarts", []):   # chromium died under a page: loaded again
        print("    chromium restarted on %s: %s" % (rs["page"], rs["error"]))
    print("    screenshots: %s" % SHOTS)
    t.eq(res["blocked"], [], "requests that tried to leave 127.0.0.1")
    t.eq(res["console_errors"], [], "console errors (CSP violations show here)")
    t.eq(res["failed"], [], "failed requests")
    for name, p in res["pages"].items():
        t.eq(p["status"], 200, name + " status")
        f = p["facts"]
        t.eq(f["scripts"], 0, name + " needs no script")
        t.eq(f["external_refs"], 0, name + " external references")
        t.true(f["skip_link"] and f["main"], name + " skip link to main")
        t.true(len(f["charts"]) >= 1, name + " has a chart")
        for c in f["charts"]:
            t.eq(c["role"], "img", "chart role")
            t.true(len(c["labelled"]) == 2 and all(c["labelled"]), "chart title and desc")
            t.eq(c["text"], "ok", "no NaN drawn")
        for tb in f["tables"]:
            t.true(tb["caption"], "table caption in " + name)
            t.true(all(s == "col" for s in tb["col_headers"]), "column headers scoped in " + name)
            t.true(all(s == "row" for s in tb["row_headers"]), "row headers scoped in " + name)
    t.true(len(res["pages"]["high-needs-preview-nojs"]["facts"]["charts"]) == 2,
           "the preview adds the scenario chart")
    t.eq(len(res["pages"]["evidence-plan"]["facts"]["charts"]),
         len(res["pages"]["evidence-high-needs"]["facts"]["charts"]) + 1,
         "the plan's pack adds the plan's chart to the whole pack")
