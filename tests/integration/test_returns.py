"""The quarterly return in the browser's terms (HTTP forms, cookies): the
list of quarters with their state, the form (labels, groups, prefill),
errors that block and queries that must be explained, submission for
approval, sign-off by another approver (never the submitter), rejection
with a reason, only approved versions in force, the API's states and
decisions, and the refusals: CSRF, another authority, viewers."""

import json
import re
import urllib.parse

from people import Client, make_user

DORSET, BCP = "E06000059", "E06000058"
PW = "correct horse battery"
Q = "2025-26 Q2"
QP = "/returns/" + urllib.parse.quote(Q)
TOK = {}


def in_force(t, metric, period=Q, authority=DORSET):
    return t.value("SELECT value FROM current_observations WHERE authority = :'p1' AND metric = :'p2'"
                   " AND period = :'p3'", authority, metric, period)


def test_setup(t):
    t.psql("""INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name) VALUES
              ('E06000059', '838', 'Dorset', 'E12000009', 'South West'),
              ('E06000058', '839', 'Bournemouth, Christchurch and Poole', 'E12000009', 'South West')""")
    make_user(t, "sub@dorset.example", "submitter", DORSET, PW)
    make_user(t, "app@dorset.example", "approver", DORSET, PW)
    make_user(t, "view@dorset.example", "viewer", DORSET, PW)
    make_user(t, "app@bcp.example", "approver", BCP, PW)
    for name, args in (("dorset", ["--authority", DORSET]), ("admin", ["--admin"]),
                       ("admin2", ["--admin"])):
        r = t.cli("token", "create", *args)
        TOK[name] = r.stdout.strip()
    # Last quarter's figures, approved: what the form is prefilled with and
    # what the queries compare against.
    s, _, b = t.request("POST", "/api/v1/submissions", body={
        "authority": DORSET, "period": "2025-26 Q1",
        "figures": {"ehcp_caseload": 3150, "requests_received": 260, "new_plans_issued": 118,
                    "new_plans_within_20_weeks": 21, "case_officers_fte": 16.5,
                    "dsg_cumulative_balance_gbp": -38400000}},
        headers={"Authorization": "Bearer " + TOK["dorset"]})
    t.eq(s, 201, "API submission: " + b.decode()[:300])
    doc = json.loads(b)
    t.eq(doc["state"], "awaiting_approval", "an API submission awaits approval too")
    t.eq(in_force(t, "ehcp_caseload", "2025-26 Q1"), None, "not in force before approval")
    s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % doc["id"],
                        headers={"Authorization": "Bearer " + TOK["dorset"]})
    t.json_error(s, b, 403, "forbidden")
    s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % doc["id"],
                        headers={"Authorization": "Bearer " + TOK["admin"]})
    t.eq(s, 200, "admin approves: " + b.decode()[:300])
    t.eq(json.loads(b)["state"], "approved", "approved")
    t.eq(in_force(t, "ehcp_caseload", "2025-26 Q1"), "3150", "in force once approved")
    s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % doc["id"],
                        headers={"Authorization": "Bearer " + TOK["admin"]})
    t.json_error(s, b, 409, "not_awaiting_approval")


def test_list_of_quarters(t):
    c = Client(t)
    c.sign_in("sub@dorset.example", PW)
    s, _, b = c.get("/returns")
    t.eq(s, 200, "list")
    rows = dict(re.findall(r'<tr data-period="([^"]+)" data-state="([^"]+)"', b))
    t.eq(rows.get("2025-26 Q1"), "approved", "approved quarter")
    t.eq(rows.get(Q), "open", "an open quarter")
    t.true(len(rows) == 8, rows)
    t.true('href="/returns/2025-26%20Q2"' in b, "links to the form")
    s, h, _ = Client(t).get("/returns")
    t.eq((s, h.get("location")), (303, "/login"), "signed out: to sign in")


def test_form_labels_groups_and_prefill(t):
    c = Client(t)
    c.sign_in("sub@dorset.example", PW)
    s, _, b = c.form(QP)
    t.eq(s, 200, "form")
    labels = dict(re.findall(r'<label for="f-([a-z0-9_]+)">([^<]+)</label>', b))
    want = dict(t.psql("SELECT id, label FROM metrics WHERE submittable ORDER BY sort_order"))
    t.eq(labels, want, "one input per metric, labelled with the catalogue label")
    legends = re.findall(r"<legend>([^<]+)</legend>", b)
    t.eq(legends, ["Volumes", "Timeliness", "High Needs money", "Staffing"], "grouped")
    t.true(re.search(r'id="f-ehcp_caseload" name="f.ehcp_caseload"[^>]*value="3150"', b),
           "prefilled from the last approved figures")
    t.true("Last approved: 3,150" in b, "last approved figure shown as a hint")
    for button in ('value="check">Check</button>', 'value="submit">Submit for approval</button>'):
        t.true(button in b, button)
    t.true("Approve</button>" not in b, "a submitter has no Approve button")


def test_csrf_and_other_authority_refused(t):
    c = Client(t)
    c.sign_in("sub@dorset.example", PW)
    c.form(QP)
    before = t.value("SELECT count(*) FROM submissions")
    s, _, _ = c.post(QP, {"action": "submit", "f.ehcp_caseload": "3200"}, csrf=False)
    t.eq(s, 403, "no CSRF token")
    s, _, _ = c.post(QP, {"action": "submit", "f.ehcp_caseload": "3200"}, csrf="D" * 43)
    t.eq(s, 403, "wrong CSRF token")
    t.eq(t.value("SELECT count(*) FROM submissions"), before, "nothing stored")
    s, _, _ = c.get(QP + "?authority=" + BCP)
    t.eq(s, 403, "another authority's return")
    s, _, _ = c.post(QP + "?authority=" + BCP, {"action": "submit", "f.ehcp_caseload": "3200"})
    t.eq(s, 403, "another authority's return, posted")
    v = Client(t)
    v.sign_in("view@dorset.example", PW)
    s, _, b = v.form(QP)
    t.eq(s, 200, "a viewer reads")
    t.true("<input id=\"f-" not in b, "no inputs for a viewer")
    s, _, _ = v.post(QP, {"action": "submit", "f.ehcp_caseload": "3200"})
    t.eq(s, 403, "a viewer cannot submit")
    t.eq(t.value("SELECT count(*) FROM submissions"), before, "nothing stored")


def test_errors_block_and_queries_need_explanations(t):
    c = Client(t)
    c.sign_in("sub@dorset.example", PW)
    c.form(QP)
    fields = {"f.ehcp_caseload": "31500", "f.requests_received": "270", "f.new_plans_issued": "120",
              "f.new_plans_within_20_weeks": "150", "f.case_officers_fte": "16.5",
              "f.dsg_cumulative_balance_gbp": "-39,000,000"}
    s, _, b = c.post(QP, dict(fields, action="check"))
    t.eq(s, 200, "check")
    t.true('href="#f-new_plans_within_20_weeks"' in b, "the error links to its field")
    t.true('data-rule="about_ten_times"' in b and 'href="#x-ehcp_caseload"' in b,
           "the extra zero is queried, linked to its explanation")
    t.true('<label for="x-ehcp_caseload">Explanation for EHC plans in place</label>' in b,
           "the explanation box is labelled")
    s, _, b = c.post(QP, dict(fields, action="submit"))
    t.eq(s, 422, "an error blocks submission")
    fields["f.new_plans_within_20_weeks"] = "22"
    s, _, b = c.post(QP, dict(fields, action="submit"))
    t.eq(s, 422, "an unexplained query blocks submission from the form")
    t.true("1 without an explanation" in b or "without an explanation" in b, b[:200])
    t.eq(t.value("SELECT count(*) FROM submissions WHERE period = :'p1'", Q), "0", "nothing stored")
    fields["x.ehcp_caseload"] = "Checked: a new count that includes plans transferred in."
    # The caseload per officer query also fires now (31500 / 16.5).
    s, _, b = c.post(QP, dict(fields, action="check"))
    for rule in re.findall(r'<li data-rule="([a-z_]+)"><a href="#x-([a-z_]+)"', b):
        if rule[1] != "ehcp_caseload":
            fields["x." + rule[1]] = "Explained for %s." % rule[0]
    s, h, b = c.post(QP, dict(fields, action="submit"))
    t.eq(s, 303, "submitted: " + b[:300])
    t.eq(h.get("location"), QP + "?done=submitted", "back to the return")
    rows = t.psql("SELECT q.metric, q.rule, q.explanation IS NOT NULL FROM submission_queries q"
                  " JOIN submissions s ON s.id = q.submission_id WHERE s.period = :'p1' ORDER BY q.id", Q)
    t.true(["ehcp_caseload", "about_ten_times", "t"] in rows, rows)
    t.true(all(r[2] == "t" for r in rows), "every query explained and kept")
    t.eq(in_force(t, "ehcp_caseload"), None, "awaiting approval: not in force")
    s, _, b = c.get(QP)
    t.true('data-state="awaiting_approval"' in b and 'id="waiting"' in b, "awaiting approval")
    t.true("Approve</button>" not in b, "the submitter cannot approve")
    c.form(QP)
    s, _, _ = c.post(QP, {"action": "approve"})
    t.eq(s, 403, "the submitter cannot approve, whatever they post")


def test_rejection_returns_it_with_a_reason(t):
    a = Client(t)
    a.sign_in("app@dorset.example", PW)
    s, _, b = a.form(QP)
    t.true("Approve</button>" in b and "Reject</button>" in b, "an approver can decide")
    t.true("Checked: a new count" in b, "the approver sees the explanations")
    s, _, b = a.post(QP, {"action": "reject"})
    t.eq(s, 422, "a rejection needs a reason")
    s, _, _ = a.post(QP, {"action": "reject", "reason": "31500 cannot be right: we have about 3,200 plans"})
    t.eq(s, 303, "rejected")
    c = Client(t)
    c.sign_in("sub@dorset.example", PW)
    s, _, b = c.form(QP)
    t.true('data-state="draft"' in b and "about 3,200 plans" in b, "back to the submitter with the reason")
    t.true(re.search(r'id="f-ehcp_caseload"[^>]*value="31500"', b), "the rejected figures to correct")
    fields = {"f.ehcp_caseload": "3180", "f.requests_received": "270", "f.new_plans_issued": "120",
              "f.new_plans_within_20_weeks": "22", "f.case_officers_fte": "16.5",
              "f.dsg_cumulative_balance_gbp": "-39000000", "action": "submit"}
    s, _, b = c.post(QP, fields)
    t.eq(s, 303, "corrected and sent again: " + b[:400])
    states = t.psql("SELECT s.version, st.state FROM submission_states st JOIN submissions s"
                    " ON s.id = st.submission_id WHERE s.period = :'p1' ORDER BY st.id", Q)
    t.eq(states, [["1", "awaiting_approval"], ["1", "rejected"], ["2", "awaiting_approval"]],
         "every state change is a row")


def test_approval_by_another_person_puts_it_in_force(t):
    other = Client(t)
    other.sign_in("app@bcp.example", PW)
    s, _, _ = other.get(QP + "?authority=" + DORSET)
    t.eq(s, 403, "an approver of another authority")
    a = Client(t)
    a.sign_in("app@dorset.example", PW)
    a.form(QP)
    dv, fv = (int(t.value("SELECT %s()" % f)) for f in ("data_version", "forecast_data_version"))
    s, h, _ = a.post(QP, {"action": "approve"})
    t.eq(s, 303, "approved")
    t.eq(in_force(t, "ehcp_caseload"), "3180", "in force")
    # A quarter in force is a change of data (tables, caches) but not of
    # the annual figures forecasts read: no refit of every forecast.
    t.true(int(t.value("SELECT data_version()")) > dv, "the data version moves")
    t.eq(int(t.value("SELECT forecast_data_version()")), fv, "forecasts are not made stale")
    t.eq(t.value("SELECT annual FROM data_changes ORDER BY id DESC LIMIT 1"), "f",
         "the approval's change is recorded as quarterly")
    s, _, b = a.get("/returns")
    t.true('data-period="%s" data-state="approved"' % Q in b, "listed as approved")
    audit = [r[0] for r in t.psql("SELECT action FROM audit_log WHERE action LIKE 'submission.%' ORDER BY id")]
    t.eq(audit[-4:], ["submission.create", "submission.reject", "submission.create",
                      "submission.approve"], "audited")


def test_withdraw_a_figure_from_the_form(t):
    c = Client(t)
    c.sign_in("sub@dorset.example", PW)
    s, _, b = c.form(QP)
    t.true('<input type="checkbox" id="w-requests_received" name="w.requests_received" value="1">'
           '<label for="w-requests_received">Withdraw Requests for EHC needs assessment' in b,
           "a withdraw control, labelled, for a figure in force")
    t.true('id="w-annual_reviews_due"' not in b, "none for a figure not in force")
    fields = {"f.ehcp_caseload": "3180", "f.requests_received": "270", "f.new_plans_issued": "120",
              "f.new_plans_within_20_weeks": "22", "f.case_officers_fte": "16.5",
              "f.dsg_cumulative_balance_gbp": "-39000000", "w.requests_received": "1"}
    s, _, b = c.post(QP, dict(fields, action="check"))
    t.eq(s, 200, "checked")
    t.true('id="w-requests_received" name="w.requests_received" value="1" checked' in b,
           "the tick is kept")
    for rule, metric in re.findall(r'<li data-rule="([a-z_]+)"><a href="#x-([a-z_]+)"', b):
        fields["x." + metric] = "Explained for %s." % rule
    before = int(t.value("SELECT count(*) FROM submissions"))
    s, _, b = c.post(QP, dict(fields, action="submit"))
    t.eq(s, 303, "sent: " + b[:300])
    doc = t.psql("SELECT figures ? 'requests_received', withdrawn FROM submissions s,"
                 " LATERAL (SELECT jsonb_agg(metric) AS withdrawn FROM observations o"
                 "          WHERE o.submission_id = s.id AND o.withdrawn) w"
                 " WHERE s.period = :'p1' ORDER BY s.version DESC LIMIT 1", Q)
    t.eq(doc, [["f", '["requests_received"]']], "the version withdraws it and sends no figure")
    t.eq(int(t.value("SELECT count(*) FROM submissions")), before + 1, "one new version")
    t.eq(in_force(t, "requests_received"), "270", "in force until approved")
    a = Client(t)
    a.sign_in("app@dorset.example", PW)
    a.form(QP)
    s, _, _ = a.post(QP, {"action": "approve"})
    t.eq(s, 303, "approved")
    t.eq(in_force(t, "requests_received"), None, "withdrawn: no longer in force")
    t.eq(in_force(t, "ehcp_caseload"), "3180", "the other figures stay")
    t.eq(t.value("SELECT count(*) FROM observations WHERE authority = :'p1' AND period = :'p2'"
                 " AND metric = 'requests_received' AND NOT withdrawn", DORSET, Q), "2",
         "nothing deleted")
    s, _, b = c.form(QP)
    t.true('id="w-requests_received"' not in b, "nothing left to withdraw")


def test_api_rejection_and_own_decision(t):
    s, _, b = t.request("POST", "/api/v1/submissions", body={
        "authority": DORSET, "period": "2025-26 Q3", "figures": {"ehcp_caseload": 32000}},
        headers={"Authorization": "Bearer " + TOK["admin"]})
    t.eq(s, 201, "admin submits")
    doc = json.loads(b)
    rules = {(q["metric"], q["rule"]) for q in doc["queries"]}
    t.true(("ehcp_caseload", "about_ten_times") in rules, "queries in the 201 body: %r" % rules)
    t.true(("case_officers_fte", "missing_now") in rules, "last quarter's figures missing: %r" % rules)
    t.true(all(q["explanation"] is None for q in doc["queries"]), "kept unexplained")
    s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % doc["id"],
                        headers={"Authorization": "Bearer " + TOK["admin"]})
    t.json_error(s, b, 403, "own_submission")
    s, _, b = t.request("POST", "/api/v1/submissions/%d/reject" % doc["id"], body={},
                        headers={"Authorization": "Bearer " + TOK["admin2"]})
    t.json_error(s, b, 422, "validation_failed")
    s, _, b = t.request("POST", "/api/v1/submissions/%d/reject" % doc["id"],
                        body={"reason": "an extra zero"},
                        headers={"Authorization": "Bearer " + TOK["admin2"]})
    t.eq(s, 200, "rejected")
    t.eq(json.loads(b)["state"], "rejected", "state")
    t.eq(in_force(t, "ehcp_caseload", "2025-26 Q3"), None, "never in force")
    s, _, b = t.request("POST", "/api/v1/submissions/999999/approve",
                        headers={"Authorization": "Bearer " + TOK["admin2"]})
    t.json_error(s, b, 404, "not_found")


def test_api_dfe_numbers_suggestions_and_withdrawal(t):
    h = {"Authorization": "Bearer " + TOK["dorset"]}
    s, _, b = t.request("POST", "/api/v1/submissions", body={
        "authority": "838", "period": "2024-25 Q4", "figures": {"ehcp_caseload": 3100}}, headers=h)
    t.eq(s, 201, "a DfE number names the authority: " + b.decode()[:200])
    t.eq(json.loads(b)["authority"], DORSET, "stored under the ONS code")
    s, _, b = t.request("POST", "/api/v1/submissions", body={
        "authority": "839", "period": "2024-25 Q4", "figures": {"ehcp_caseload": 3100}}, headers=h)
    t.json_error(s, b, 403, "forbidden")
    s, _, b = t.request("POST", "/api/v1/submissions", body={
        "authority": "999", "period": "2024-25 Q4", "figures": {"ehcp_caseload": 3100}}, headers=h)
    err = t.json_error(s, b, 422, "validation_failed")
    t.eq(err["details"][0]["rule"], "unknown_authority", "unknown DfE number")
    before = t.value("SELECT count(*) FROM submissions")
    s, _, b = t.request("POST", "/api/v1/submissions", body={
        "authority": DORSET, "period": "2024-25 Q4", "figures": {"case_officer_fte": 12}}, headers=h)
    err = t.json_error(s, b, 422, "validation_failed")
    d = err["details"][0]
    t.eq((d["field"], d["rule"], d.get("suggestion")),
         ("figures.case_officer_fte", "unknown_metric", "case_officers_fte"), "nearest metric id")
    t.true('did you mean "case_officers_fte"?' in d["message"], d["message"])
    t.eq(t.value("SELECT count(*) FROM submissions"), before, "nothing stored")
    # Withdrawing last quarter's requests: a new version marks it withdrawn.
    t.eq(in_force(t, "requests_received", "2025-26 Q1"), "260", "in force before")
    s, _, b = t.request("POST", "/api/v1/submissions", body={
        "authority": DORSET, "period": "2025-26 Q1", "withdraw": ["requests_received"]}, headers=h)
    t.eq(s, 201, "withdrawal stored: " + b.decode()[:300])
    doc = json.loads(b)
    t.eq(doc["withdrawn"], ["requests_received"], "listed as withdrawn")
    t.eq(in_force(t, "requests_received", "2025-26 Q1"), "260", "still in force until approved")
    s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % doc["id"],
                        headers={"Authorization": "Bearer " + TOK["admin"]})
    t.eq(s, 200, "approved")
    t.eq(in_force(t, "requests_received", "2025-26 Q1"), None, "withdrawn: no longer in force")
    t.eq(in_force(t, "ehcp_caseload", "2025-26 Q1"), "3150", "the other figures stay")
    t.eq(t.psql("SELECT version, value, withdrawn FROM observations WHERE authority = :'p1'"
                " AND metric = 'requests_received' AND period = '2025-26 Q1' ORDER BY version",
                DORSET), [["1", "260", "f"], ["2", "", "t"]], "nothing deleted: a new version")
    for body, rule in (({"authority": DORSET, "period": "2025-26 Q1", "withdraw": ["pct_within_20_weeks"]},
                        "unknown_metric"),
                       ({"authority": DORSET, "period": "2025-26 Q1", "figures": {"ehcp_caseload": 3150},
                         "withdraw": ["ehcp_caseload"]}, "withdrawn_and_sent")):
        s, _, b = t.request("POST", "/api/v1/submissions", body=body, headers=h)
        err = t.json_error(s, b, 422, "validation_failed")
        t.eq(err["details"][0]["rule"], rule, rule)


def test_a_signed_in_person_is_a_caller_like_a_token(t):
    c = Client(t)
    c.sign_in("sub@dorset.example", PW)
    s, _, b = c.request("GET", "/api/v1/submissions", headers={"Accept": "application/json"})
    t.eq(s, 200, "own history with the session cookie")
    t.eq(json.loads(b)["authority"], DORSET, "the person's authority")
    s, _, b = c.request("GET", "/api/v1/submissions?authority=" + BCP,
                        headers={"Accept": "application/json"})
    t.json_error(s, b.encode(), 403, "forbidden")
    s, _, b = c.request("GET", "/api/v1/authorities/%s/profile" % DORSET,
                        headers={"Accept": "application/json"})
    t.eq(s, 200, "own profile as a signed-in caller")
    # Writes over the API need a token: a cookie alone is not enough (no CSRF there).
    s, _, b = c.request("POST", "/api/v1/submissions", body=json.dumps({
        "authority": DORSET, "period": "2024-25 Q3", "figures": {"ehcp_caseload": 3000}}),
        headers={"Content-Type": "application/json", "Accept": "application/json"})
    t.json_error(s, b.encode(), 401)
    ended = Client(t)
    ended.cookies["sb_session"] = "E" * 43
    s, _, b = ended.request("GET", "/api/v1/submissions", headers={"Accept": "application/json"})
    t.json_error(s, b.encode(), 401)
    s, _, _ = Client(t).request("GET", "/api/v1/authorities/%s/profile" % DORSET,
                                headers={"Accept": "application/json"})
    t.eq(s, 200, "anonymous profile unchanged")


def multipart(fields, boundary="----sendbenchTestBoundary7MA4YWxk"):
    """A multipart/form-data body as a browser sends it: fields is a list
    of (name, value) or (name, value, filename)."""
    out = []
    for f in fields:
        disp = 'form-data; name="%s"' % f[0]
        if len(f) == 3:
            disp += '; filename="%s"' % f[2]
        out.append("--%s\r\nContent-Disposition: %s\r\n%s\r\n%s\r\n"
                   % (boundary, disp, "Content-Type: text/csv\r\n" if len(f) == 3 else "", f[1]))
    out.append("--%s--\r\n" % boundary)
    return "".join(out).encode(), "multipart/form-data; boundary=" + boundary


def test_upload_the_tidy_csv_into_the_form(t):
    qu = "2024-25 Q3"
    path = "/returns/" + urllib.parse.quote(qu)
    c = Client(t)
    c.sign_in("sub@dorset.example", PW)
    s, _, b = c.form(path)
    t.true('enctype="multipart/form-data"' in b and
           '<label for="upload-file">Upload the figures as CSV or XLSX</label>' in b and
           'value="upload" class="secondary">Upload</button>' in b, "an upload form, labelled")
    before = t.value("SELECT count(*) FROM submissions")
    csv_text = ("time_period,geographic_level,new_la_code,old_la_code,la_name,ehcp_caseload,"
                "requests_received,case_officers_fte\r\n"
                "2024-25 Q3,Local authority,E06000059,838,Dorset,3100,250,16\r\n")

    def upload(parts, csrf=True):
        fields = ([("csrf", c.csrf)] if csrf else []) + [("action", "upload")] + parts
        body, ct = multipart(fields)
        return c.request("POST", path, body=body, headers={"Content-Type": ct})

    s, _, b = upload([("file", csv_text, "dorset q3.csv")])
    summary = re.search(r'<div class="error-summary".*?</div>', b, re.S)
    t.eq(s, 200, "read: %s" % (summary.group(0) if summary else b[:300]))
    for metric, value in (("ehcp_caseload", "3100"), ("requests_received", "250"),
                          ("case_officers_fte", "16")):
        t.true(re.search(r'id="f-%s" name="f.%s"[^>]*value="%s"' % (metric, metric, value), b),
               "the file fills the form: " + metric)
    t.true("Read from the uploaded file and checked" in b and "Nothing is sent until" in b, "said so")
    t.eq(t.value("SELECT count(*) FROM submissions"), before, "nothing stored by an upload")
    # then the filled form is sent as any other
    c.form(path)
    s, _, b = c.post(path, {"action": "submit", "f.ehcp_caseload": "3100", "f.requests_received": "250",
                            "f.case_officers_fte": "16"})
    t.eq(s, 303, "submitted after the upload: " + b[:300])
    t.eq(int(t.value("SELECT count(*) FROM submissions")), int(before) + 1, "stored once")
    a = Client(t)
    a.sign_in("app@dorset.example", PW)
    a.form(path)
    s, _, _ = a.post(path, {"action": "approve"})
    t.eq(s, 303, "approved")
    before = t.value("SELECT count(*) FROM submissions")
    c.form(path)
    # the file's problems, named by their fields
    s, _, b = upload([("file", csv_text.replace("3100", "low").replace("2024-25 Q3", "2024-25 Q2"),
                       "wrong.csv")])
    t.eq(s, 422, "problems in the file")
    t.true('href="#f-ehcp_caseload"' in b, "a bad cell links to its input")
    t.true("the file is for 2024-25 Q2, this return is 2024-25 Q3" in b, "another quarter's file")
    s, _, b = upload([("file", csv_text.replace("E06000059,838", "E06000058,839"), "bcp.csv")])
    t.eq(s, 422, "another authority's file")
    t.true("the file is for E06000058" in b, "said which")
    s, _, b = upload([("file", "", "empty.csv")])
    t.eq(s, 422, "an empty file")
    t.true("choose a CSV or XLSX file" in b, "asked for a file")
    s, _, b = upload([("file", csv_text, "q3.csv")], csrf=False)
    t.eq(s, 403, "no CSRF token in the upload")
    s, _, b = c.request("POST", path, body=b"--x\r\nnot a part\r\n",
                        headers={"Content-Type": "multipart/form-data; boundary=x"})
    t.eq(s, 400, "a broken multipart body")
    body, ct = multipart([("csrf", c.csrf), ("action", "submit"), ("file", csv_text, "q3.csv")])
    s, _, b = c.request("POST", path, body=body, headers={"Content-Type": ct})
    t.eq(s, 400, "an upload body is only for the Upload button")
    t.eq(t.value("SELECT count(*) FROM submissions"), before, "none of these stored anything")
