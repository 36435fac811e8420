"""The administrators' pages: people (create with a set-up link shown
once, disable, a new link), API tokens (issued and shown once, revoked),
the collection calendar's setting, the dashboard of every authority's
state for the current quarter (and its CSV), and the audit log (page and
CSV download).  Only administrators; every form needs its CSRF token."""

import csv
import io
import json
import re
import urllib.parse

from people import Client, make_user

DORSET, BCP, CORN = "E06000059", "E06000058", "E06000052"
PW = "correct horse battery"
C = {}


def admin(t):
    if "admin" not in C:
        c = Client(t)
        s, h, _ = c.sign_in("root@sendbench.example", PW)
        t.eq((s, h.get("location")), (303, "/admin"), "an administrator lands on /admin")
        C["admin"] = c
    return C["admin"]


def test_setup(t):
    t.psql("""INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name) VALUES
              ('E06000059', '838', 'Dorset', 'E12000009', 'South West'),
              ('E06000058', '839', 'Bournemouth, Christchurch and Poole', 'E12000009', 'South West'),
              ('E06000052', '908', 'Cornwall', 'E12000009', 'South West')""")
    make_user(t, "root@sendbench.example", "admin", password=PW)
    make_user(t, "sub@dorset.example", "submitter", DORSET, PW)


def test_only_administrators(t):
    c = Client(t)
    c.sign_in("sub@dorset.example", PW)
    for path in ("/admin", "/admin/audit", "/admin/collection", "/admin/audit?format=csv"):
        s, _, _ = c.get(path)
        t.eq(s, 403, "a council officer: " + path)
        s, h, _ = Client(t).get(path)
        t.eq((s, h.get("location")), (303, "/login"), "signed out: " + path)
    c.form("/returns")
    s, _, _ = c.post("/admin", {"action": "issue_token"})
    t.eq(s, 403, "a council officer cannot post")


def test_create_a_person_and_the_link_works_once(t):
    a = admin(t)
    s, _, b = a.form("/admin")
    t.eq(s, 200, "admin page")
    for label in ("Email", "Role", "Authority", "Label", "Weeks from opening to the due date"):
        t.true(">%s</label>" % label in b, "labelled: " + label)
    before = t.value("SELECT count(*) FROM users")
    s, _, _ = a.post("/admin", {"action": "create_user", "email": "new@bcp.example",
                                "role": "approver", "authority": "839"}, csrf=False)
    t.eq(s, 403, "no CSRF token")
    t.eq(t.value("SELECT count(*) FROM users"), before, "nothing stored")
    s, _, b = a.post("/admin", {"action": "create_user", "email": "new@bcp.example",
                                "role": "approver", "authority": "839"})
    t.eq(s, 200, "created")
    link = re.search(r'<code id="secret-value">([^<]+)</code>', b).group(1)
    t.true(re.fullmatch(r"http://127\.0\.0\.1:\d+/setup/[A-Za-z0-9_-]{43}", link), link)
    t.eq(t.psql("SELECT role, authority, created_by FROM users WHERE email = 'new@bcp.example'"),
         [["approver", BCP, "user:1"]], "stored for the DfE number's authority, by whom")
    s, _, b = a.get("/admin")
    t.true(link not in b, "the link is shown only once")
    c = Client(t)
    path = urllib.parse.urlparse(link).path
    s, _, _ = c.form(path)
    t.eq(s, 200, "the link works")
    s, _, b = a.post("/admin", {"action": "create_user", "email": "x@y.example", "role": "viewer",
                                "authority": "E06009999"})
    t.true("not registered" in b, "unknown authority refused")
    s, _, b = a.post("/admin", {"action": "create_user", "email": "new@bcp.example",
                                "role": "viewer", "authority": BCP})
    t.true("already an account" in b, "taken email refused")
    t.eq(t.value("SELECT count(*) FROM users"), str(int(before) + 1), "one account made")


def test_disable_and_new_link(t):
    a = admin(t)
    c = Client(t)
    c.sign_in("sub@dorset.example", PW)
    uid = t.value("SELECT id FROM users WHERE email = 'sub@dorset.example'")
    a.form("/admin")
    s, _, b = a.post("/admin", {"action": "link_user", "id": uid})
    t.true('id="secret-value"' in b, "a new set-up link shown")
    s, _, b = a.post("/admin", {"action": "disable_user", "id": uid})
    t.true("disabled" in b, b[:300])
    t.eq(t.value("SELECT disabled_at IS NOT NULL FROM users WHERE id = :'p1'", uid), "t", "disabled")
    s, _, _ = c.get("/returns")
    t.eq(s, 303, "their session ended at once")
    s, _, b = a.post("/admin", {"action": "disable_user", "id": "99999"})
    t.true("no such" in b, "unknown account")


def test_tokens_issued_once_and_revoked(t):
    a = admin(t)
    a.form("/admin")
    s, _, b = a.post("/admin", {"action": "issue_token", "authority": "908", "label": "Cornwall pipeline"})
    tok = re.search(r'<code id="secret-value">(sbk_[A-Za-z0-9_-]{43})</code>', b).group(1)
    s, doc = t.get_json("/api/v1/submissions?authority=" + CORN,
                        headers={"Authorization": "Bearer " + tok})
    t.eq(s, 200, "the token works for its authority")
    tid = t.value("SELECT id FROM tokens WHERE label = 'Cornwall pipeline'")
    t.eq(t.value("SELECT count(*) FROM tokens WHERE hash = sha256(convert_to(:'p1', 'UTF8'))", tok),
         "1", "only the hash is stored")
    s, _, b = a.get("/admin")
    t.true(tok not in b and 'data-token="%s"' % tid in b, "listed, never shown again")
    s, _, b = a.post("/admin", {"action": "revoke_token", "id": tid})
    t.true("revoked" in b, "revoked")
    s, _, _ = t.request("GET", "/api/v1/submissions?authority=" + CORN,
                        headers={"Authorization": "Bearer " + tok})
    t.eq(s, 401, "a revoked token is refused")
    s, _, b = a.post("/admin", {"action": "issue_token", "authority": "E06009999"})
    t.true("not registered" in b and 'id="secret-value"' not in b, "unknown authority: no token")


def test_calendar_setting_and_dashboard(t):
    a = admin(t)
    s, _, b = a.get("/admin/collection")
    t.eq(s, 200, "dashboard")
    period = re.search(r"<h1>Collection (\d{4}-\d\d Q\d)</h1>", b).group(1)
    states = dict(re.findall(r'<tr data-code="([^"]+)" data-state="([^"]+)"', b))
    t.eq(states, {DORSET: "open", BCP: "open", CORN: "open"}, "every authority, none started")
    # Dorset sends and a token of an administrator approves; BCP sends.
    tok = {}
    for name, args in (("dorset", ["--authority", DORSET]), ("bcp", ["--authority", BCP]),
                       ("admin", ["--admin"])):
        tok[name] = t.cli("token", "create", *args).stdout.strip()
    for name, code in (("dorset", DORSET), ("bcp", BCP)):
        s, _, body = t.request("POST", "/api/v1/submissions", body={
            "authority": code, "period": period, "figures": {"ehcp_caseload": 3000}},
            headers={"Authorization": "Bearer " + tok[name]})
        t.eq(s, 201, "submitted " + body.decode()[:200])
        if name == "dorset":
            sid = json.loads(body)["id"]
    s, _, _ = t.request("POST", "/api/v1/submissions/%d/approve" % sid,
                        headers={"Authorization": "Bearer " + tok["admin"]})
    t.eq(s, 200, "approved")
    s, _, b = a.get("/admin/collection")
    states = dict(re.findall(r'<tr data-code="([^"]+)" data-state="([^"]+)"', b))
    t.eq(states, {DORSET: "approved", BCP: "awaiting_approval", CORN: "open"}, "states")
    t.true('<li data-state="approved">Approved: 1</li>' in b, "counts")
    s, h, body = a.get("/admin/collection?format=csv")
    t.eq(s, 200, "CSV")
    t.true(h.get("content-type", "").startswith("text/csv"), "CSV type")
    rows = list(csv.DictReader(io.StringIO(body)))
    t.eq({r["new_la_code"]: r["state"] for r in rows},
         {DORSET: "approved", BCP: "awaiting_approval", CORN: "open"}, "CSV states")
    t.eq({r["period"] for r in rows}, {period}, "CSV period")
    # The due date is an administrator's setting; a past quarter is late.
    a.form("/admin")
    s, _, b = a.post("/admin", {"action": "due_weeks", "due_weeks": "30"})
    t.true("Nothing was changed" in b, "out of range refused")
    s, _, b = a.post("/admin", {"action": "due_weeks", "due_weeks": "8"})
    t.eq(t.value("SELECT due_weeks FROM collection_settings"), "8", "saved")
    t.eq(t.value("SELECT return_due('2024-25 Q1')"), "2024-08-26", "opens 1 July, due 8 weeks later")
    s, _, b = a.get("/admin/collection?period=" + urllib.parse.quote("2024-25 Q1"))
    t.true(b.count('data-late="true"') == 3, "every authority late for an old quarter")
    # A period the period rule refuses (years that do not follow, a year out
    # of range) is no quarter: the current collection, as without one.
    s, _, b = a.get("/admin/collection")
    current = re.search(r"<h1>Collection ([^<]*)</h1>", b).group(1)
    for bad in ("2024-27 Q1", "1066-67 Q1"):
        s, _, b = a.get("/admin/collection?period=" + urllib.parse.quote(bad))
        t.eq(s, 200, "%s: the page" % bad)
        t.true("<h1>Collection %s</h1>" % current in b,
               "%s is not a quarter: the current collection, %s" % (bad, current))


def test_consent_to_be_named(t):
    a = admin(t)
    s, _, b = a.form("/admin")
    t.true('<label for="consent-authority">Authority</label>' in b and
           '<label for="consent-name">May be named</label>' in b, "the consent form is labelled")
    t.true('<tr data-code="' not in b, "nobody consents yet")
    consent = "SELECT consent_to_name FROM authorities WHERE new_la_code = :'p1'"
    s, _, _ = a.post("/admin", {"action": "consent", "authority": "838", "name": "yes"}, csrf=False)
    t.eq(s, 403, "no CSRF token")
    t.eq(t.value(consent, DORSET), "f", "nothing changed")
    s, _, b = a.post("/admin", {"action": "consent", "authority": "838", "name": "yes"})
    t.eq(s, 200, "recorded")
    t.true("Consent recorded for 838" in b, "said so")
    t.eq(t.value(consent, DORSET), "t", "a DfE number names the authority")
    t.true('<tr data-code="E06000059"><td>E06000059</td><td>Dorset</td></tr>' in b,
           "listed among those that consent")
    t.eq(t.psql("SELECT actor, detail->>'name', detail->>'was' FROM audit_log"
                " WHERE action = 'consent.set' ORDER BY id"),
         [["user:%s" % t.value("SELECT id FROM users WHERE email = 'root@sendbench.example'"),
           "true", "false"]], "audited as the person")
    for fields, why in (({"authority": "999", "name": "no"}, "unknown authority"),
                        ({"authority": DORSET, "name": "maybe"}, "neither yes nor no"),
                        ({"name": "no"}, "no authority")):
        s, _, b = a.post("/admin", dict(fields, action="consent"))
        t.true(s == 200 and "Nothing was changed" in b, why)
        t.eq(t.value(consent, DORSET), "t", "unchanged: " + why)
    s, _, b = a.post("/admin", {"action": "consent", "authority": DORSET, "name": "no"})
    t.eq(t.value(consent, DORSET), "f", "withdrawn")
    t.true('<tr data-code="' not in b, "no longer listed")
    make_user(t, "consent@dorset.example", "approver", DORSET, PW)
    c = Client(t)
    c.sign_in("consent@dorset.example", PW)
    c.form("/returns")
    s, _, _ = c.post("/admin", {"action": "consent", "authority": DORSET, "name": "yes"})
    t.eq(s, 403, "a council officer cannot give consent here")
    t.eq(t.value(consent, DORSET), "f", "unchanged")


def test_audit_log_page_and_download(t):
    a = admin(t)
    s, _, b = a.get("/admin/audit")
    t.eq(s, 200, "audit page")
    actions = set(re.findall(r'<tr data-action="([^"]+)"', b))
    for want in ("user.create", "user.password_set", "login.success", "user.disable", "user.link",
                 "token.create", "token.revoke", "submission.create", "submission.approve",
                 "collection.due_weeks", "consent.set"):
        t.true(want in actions, "audited: %s (%s)" % (want, sorted(actions)))
    s, h, body = a.get("/admin/audit?format=csv")
    t.eq(s, 200, "download")
    t.true("attachment" in h.get("content-disposition", ""), "a download")
    rows = list(csv.DictReader(io.StringIO(body)))
    t.eq(len(rows), int(t.value("SELECT count(*) FROM audit_log")), "the whole log")
    t.true(all(r["at"].endswith("Z") for r in rows), "UTC times")
