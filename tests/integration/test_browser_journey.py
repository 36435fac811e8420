"""The quarterly return's whole journey in a real browser (Debian's
chromium, headless, JavaScript off, playwright-core: tests/browser/
journey.mjs): a new officer opens the set-up link and sets a password, signs
in from the keyboard, is queried on a figure typed with an extra zero,
explains it, submits for approval; a colleague approves; the figures are in
force and the council's profile and evidence pack load for them.
Screenshots go to a folder this test prints."""

import base64
import io
import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse

import harness
from people import make_user

BROWSER_DIR = os.path.join(harness.ROOT, "tests", "browser")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = os.environ.get("SENDBENCH_SCREENSHOTS") or tempfile.mkdtemp(prefix="sendbench-journey-")
DORSET = "E06000059"
PERIOD = "2025-26 Q2"
PW, PW2 = "a new officer's password", "the approver's own password"
R = {}


def test_journey_in_chromium(t):
    t.true(os.path.exists(CHROMIUM), "chromium missing at %s" % CHROMIUM)
    t.true(shutil.which("node") is not None, "node missing")
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR,
                           capture_output=True, text=True, timeout=600)
        t.eq(r.returncode, 0, "npm ci: " + r.stderr[-2000:])
    t.psql("""INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name) VALUES
              ('E06000059', '838', 'Dorset', 'E12000009', 'South West')""")
    # Last quarter, sent over the API and signed off: the form's prefill.
    admin = t.cli("token", "create", "--admin").stdout.strip()
    council = t.cli("token", "create", "--authority", DORSET).stdout.strip()
    s, _, b = t.request("POST", "/api/v1/submissions", body={
        "authority": DORSET, "period": "2025-26 Q1",
        "figures": {"ehcp_caseload": 3150, "requests_received": 260, "new_plans_issued": 118,
                    "new_plans_within_20_weeks": 21, "case_officers_fte": 16.5}},
        headers={"Authorization": "Bearer " + council})
    t.eq(s, 201, "last quarter: " + b.decode()[:200])
    s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % json.loads(b)["id"],
                        headers={"Authorization": "Bearer " + admin})
    t.eq(s, 200, "last quarter approved")
    link = urllib.parse.urlparse(make_user(t, "officer@dorset.example", "submitter", DORSET)).path
    make_user(t, "approver@dorset.example", "approver", DORSET, PW2)
    # The same return as an .xlsx workbook (openpyxl, as Excel saves one).
    openpyxl = harness.debian_module("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["time_period", "new_la_code", "ehcp_caseload", "requests_received"])
    wb.active.append([PERIOD, DORSET, 3170, 270])
    buf = io.BytesIO()
    wb.save(buf)
    cfg = {"xlsx_b64": base64.b64encode(buf.getvalue()).decode(), "setup_link": link, "email": "officer@dorset.example", "password": PW,
           "approver_email": "approver@dorset.example", "approver_password": PW2,
           "period": PERIOD, "authority": DORSET}
    base = "http://127.0.0.1:%d" % t.server.port
    r = subprocess.run(["node", "journey.mjs", base, SHOTS, json.dumps(cfg)], cwd=BROWSER_DIR,
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, CHROMIUM=CHROMIUM))
    t.eq(r.returncode, 0, "journey.mjs failed: " + r.stderr[-3000:])
    R.update(json.loads(r.stdout.strip().splitlines()[-1]))
    print("    screenshots: %s" % SHOTS)
    t.eq(R.get("error"), None, "the journey ran to the end")


def step(t, name):
    t.true(name in R.get("steps", {}), "step %s not reached (%s)" % (name, R.get("error")))
    return R["steps"][name]


def test_set_up_and_sign_in_from_the_keyboard(t):
    t.eq(step(t, "setup_status"), 200, "set-up page")
    t.true(step(t, "after_setup_url").endswith("/login?setup=done"), "on to sign in")
    t.eq(step(t, "tab_reaches_password"), "password", "Tab from Email reaches Password")
    t.true(step(t, "after_login_url").endswith("/returns"), "Enter signs in")
    t.eq(step(t, "cookie"), {"httpOnly": True, "sameSite": "Strict", "secure": False},
         "session cookie flags (Secure only under TLS)")
    t.eq(step(t, "setup_unlabelled"), [], "every input has a visible label")


def test_queried_on_the_extra_zero_explained_and_submitted(t):
    t.eq(step(t, "form_status"), 200, "form")
    t.eq(step(t, "prefilled"), "3150", "prefilled from the last approved figures")
    t.eq(step(t, "form_unlabelled"), [], "every input has a visible label")
    upx = step(t, "uploaded_xlsx")
    t.eq((upx["caseload"], upx["requests"]), ("3170", "270"), "the uploaded XLSX fills the form")
    t.true("Read from the uploaded file" in upx["note"], upx["note"])
    t.eq(step(t, "uploaded_junk_xlsx"), True, "a damaged workbook is refused with its reason")
    up = step(t, "uploaded")
    t.eq((up["caseload"], up["requests"]), ("3160", "265"), "the uploaded CSV fills the form")
    t.true("Read from the uploaded file" in up["note"], up["note"])
    rules = [q["rule"] for q in step(t, "queries")]
    t.true("about_ten_times" in rules, "queried on the extra zero: %r" % rules)
    t.true(step(t, "query_targets_exist"), "each query links to its explanation box")
    t.eq(step(t, "explanation_label"), "Explanation for EHC plans in place", "contract label")
    t.true("Not submitted" in step(t, "unexplained_refused"), "unexplained queries block")
    t.eq(step(t, "after_submit_state"), "awaiting_approval", "submitted for approval")
    t.eq(step(t, "submitter_sees_approve"), 0, "the submitter cannot approve")
    t.eq(t.value("SELECT count(*) FROM submission_queries WHERE explanation LIKE 'Checked with%'"),
         str(len(rules)), "explanations stored with the version")


def test_colleague_approves_and_figures_are_in_force(t):
    t.true("Checked with the caseload team" in step(t, "approver_sees_explanations"),
           "the approver reads the explanations")
    t.eq(step(t, "after_approve_state"), "approved", "approved")
    t.eq(t.value("SELECT value FROM current_observations WHERE authority = :'p1'"
                 " AND metric = 'ehcp_caseload' AND period = :'p2'", DORSET, PERIOD), "31500",
         "the explained figure is in force")
    t.eq(step(t, "profile_status"), 200, "own profile")
    t.eq(step(t, "evidence_status"), 200, "evidence pack")
    # Signed in through the browser session (the cookie, no bearer token):
    # the council's own approved quarter, under the banner.
    t.eq(step(t, "profile_has_own"), True, "own quarter in the signed-in profile page")
    t.eq(step(t, "profile_banner"), 1, "profile page carries the own-figures banner")
    # Its quarter is the only one it sees: not "1 of 1", and the page says why.
    t.eq(step(t, "profile_caseload_rank"), "not ranked", "a rank among one figure is not given")
    t.eq(step(t, "profile_rank_note"), 1, "the page says why it is not ranked")
    # Its quarters on their own quarterly axis, never on an annual one.
    t.eq(step(t, "quarterly_points"), [["2025-26 Q1", "3150"], ["2025-26 Q2", "31500"]],
         "the approved quarters on a quarterly chart")
    t.eq(step(t, "annual_quarters"), [], "no annual chart draws a quarter")
    t.eq(step(t, "public_quarterly_charts"), 0, "no quarterly chart for an anonymous visitor")
    t.eq(step(t, "evidence_has_own"), True, "own quarter in the signed-in evidence pack")
    t.eq(step(t, "evidence_banner"), 1, "evidence pack carries the own-figures banner")
    t.eq(step(t, "published_only_has_own"), False, "?published=only prints without it")
    t.eq(step(t, "metric_page_has_own"), True, "own quarter in its metric page, signed in")
    t.eq(step(t, "table_has_own"), True, "own quarter in the tables API, signed in (cookie)")
    t.eq(step(t, "public_metric_page_has_own"), False, "not in the public metric page")
    t.eq(step(t, "public_table_has_own"), False, "not in the public table")
    t.eq(step(t, "public_profile_has_own"), False, "not in the public profile")
    t.eq(step(t, "public_profile_banner"), 0, "no banner for an anonymous visitor")
    t.eq(step(t, "public_evidence_has_own"), False, "not in the public evidence pack")


def test_sign_out_and_no_external_requests(t):
    t.true(step(t, "after_signout_url").endswith("/login?signed_out=1"), "signed out")
    t.true(step(t, "form_after_signout_url").endswith("/login"), "the form needs a sign-in again")
    t.eq(R.get("blocked"), [], "no request left 127.0.0.1")
    # The refused submission answers 422 on purpose; chromium logs that status.
    errors = [e for e in R.get("console_errors", []) if "status of 422" not in e["text"]]
    t.eq(errors, [], "no console errors (CSP)")
