"""Quarterly submissions: tokens, the authorisation matrix, validation (422,
nothing changed), versions and history, idempotency, atomicity, CSV,
derived metrics and durability across a SIGKILL."""

import json
import os
import signal
import socket
import subprocess
import threading

import harness

DORSET, BCP, CORN = "E06000059", "E06000058", "E06000052"
TOK = {}        # name -> token string
TOKID = {}      # name -> token id
POST = "/api/v1/submissions"


def bearer(name):
    return {"Authorization": "Bearer " + TOK[name]}


def post(t, body, tok="dorset", ctype="application/json", headers=None):
    h = dict(headers or {})
    if tok:
        h.update(bearer(tok))
    if ctype:
        h["Content-Type"] = ctype
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    s, hdr, b = t.request("POST", POST, body=body, headers=h)
    return s, hdr, b


def state(t):
    """Counts and a checksum of everything a submission may write."""
    return t.psql("""SELECT (SELECT count(*) FROM submissions), (SELECT count(*) FROM observations),
                            (SELECT count(*) FROM audit_log),
                            (SELECT md5(coalesce(string_agg(s::text, '|' ORDER BY id), '')) FROM submissions s),
                            (SELECT md5(coalesce(string_agg(o::text, '|' ORDER BY id), '')) FROM observations o)""")[0]


def approve(t, body):
    """Signs off a version (sign-off itself is tested in test_returns): an
    API submission awaits approval and is in force only once approved."""
    doc = json.loads(body) if isinstance(body, (bytes, str)) else body
    s, _, b = t.request("POST", POST + "/%d/approve" % doc["id"], headers=bearer("admin"))
    t.eq(s, 200, "approve %d: %s" % (doc["id"], b[:200]))
    return doc


def sub(period="2024-25 Q2", authority=DORSET, **figures):
    return {"authority": authority, "period": period, "figures": figures}


def test_setup_authorities_and_tokens(t):
    t.psql("""INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name) VALUES
              ('E06000059', '838', 'Dorset', 'E12000009', 'South West'),
              ('E06000058', '839', 'Bournemouth, Christchurch and Poole', 'E12000009', 'South West'),
              ('E06000052', '908', 'Cornwall', 'E12000009', 'South West')""")
    for name, args in (("dorset", ["--authority", DORSET, "--label", "Dorset data team"]),
                       ("bcp", ["--authority", "839"]),
                       ("admin", ["--admin"]),
                       ("revoked", ["--authority", DORSET]),
                       ("expired", ["--authority", DORSET, "--expires-days", "1"])):
        r = t.cli("token", "create", *args)
        t.eq(r.returncode, 0, "token create %s: %s" % (name, r.stderr))
        tok = r.stdout.strip()
        t.true(tok.startswith("sbk_") and len(tok) == 47, "token form: %r" % tok)
        TOK[name] = tok
        TOKID[name] = int(r.stderr.split("token id ")[1].split()[0])
    # Only the SHA-256 is stored; the token itself appears nowhere.
    t.eq(t.value("SELECT count(*) FROM tokens WHERE hash = sha256(convert_to(:'p1', 'UTF8'))",
                 TOK["dorset"]), "1", "stored hash is SHA-256 of the token")
    t.eq(t.value("SELECT count(*) FROM tokens WHERE position(convert_to(:'p1', 'UTF8') in hash) > 0"
                 " OR label = :'p1'", TOK["dorset"]), "0", "token not stored")
    r = t.cli("token", "revoke", str(TOKID["revoked"]))
    t.eq(r.returncode, 0, "revoke: " + r.stderr)
    t.psql("UPDATE tokens SET expires_at = now() - interval '1 minute' WHERE id = %d" % TOKID["expired"])
    r = t.cli("token", "list")
    t.eq(r.returncode, 0, "list")
    t.true("revoked" in r.stdout and "expired" in r.stdout and TOK["dorset"] not in r.stdout,
           "list shows status, never tokens: " + r.stdout)
    t.eq(len(set(TOK.values())), 5, "tokens differ")


def test_token_cli_bad_arguments(t):
    for args in (["token"], ["token", "create"], ["token", "create", "--admin", "--authority", DORSET],
                 ["token", "create", "--authority", "E09999999"],
                 ["token", "create", "--admin", "--expires-days", "0"],
                 ["token", "revoke"], ["token", "revoke", "abc"], ["token", "revoke", "999999"],
                 ["token", "frobnicate"]):
        r = t.cli(*args)
        t.true(r.returncode != 0, "%s should fail" % args)
        t.true(r.stderr.startswith("sendbench: ") and r.stderr.count("\n") == 1,
               "one-line reason for %s: %r" % (args, r.stderr))
        t.eq(r.stdout, "", "nothing on stdout for %s" % args)


GOOD = sub(ehcp_caseload=3150, requests_received=260, new_plans_issued=118,
           new_plans_within_20_weeks=21, hnb_allocation_gbp=52300000,
           dsg_cumulative_balance_gbp=-38400000, case_officers_fte=16.5)


def test_authorisation_matrix(t):
    """Every write and private read endpoint: no token, malformed, unknown,
    revoked, expired -> 401 with WWW-Authenticate; another authority -> 403;
    own and admin -> allowed."""
    before = state(t)
    bad = {
        "none": {},
        "malformed": {"Authorization": "Bearer not-a-token"},
        "wrong scheme": {"Authorization": "Basic " + "x" * 20},
        "unknown": {"Authorization": "Bearer sbk_" + "A" * 43},
        "revoked": bearer("revoked"),
        "expired": bearer("expired"),
    }
    endpoints = [("POST", POST, json.dumps(GOOD)),
                 ("GET", POST + "?authority=" + DORSET, None),
                 ("GET", POST + "/1", None)]
    for label, h in bad.items():
        for method, path, body in endpoints:
            hh = dict(h, **({"Content-Type": "application/json"} if body else {}))
            s, hdr, b = t.request(method, path, body=body, headers=hh)
            t.json_error(s, b, 401)
            t.true(hdr.get("www-authenticate", "").startswith("Bearer"),
                   "%s %s (%s): WWW-Authenticate" % (method, path, label))
            t.true(TOK["revoked"] not in b.decode() and TOK["expired"] not in b.decode(),
                   "token echoed")
    s, _, b = post(t, GOOD, tok="revoked")
    t.true(b"revoked" in b, "says revoked")
    s, _, b = post(t, GOOD, tok="expired")
    t.true(b"expired" in b, "says expired")
    t.eq(state(t), before, "no row changed by refused requests")
    # Another authority's token: 403 on the write and on both reads.
    s, _, b = post(t, GOOD, tok="bcp")
    t.json_error(s, b, 403, "forbidden")
    s, _, b = t.request("GET", POST + "?authority=" + DORSET, headers=bearer("bcp"))
    t.json_error(s, b, 403, "forbidden")
    t.eq(state(t), before, "no row changed by 403")
    # Own token and admin succeed.
    s, _, b = post(t, GOOD, tok="dorset")
    t.eq(s, 201, "own authority: %s" % b)
    sid = json.loads(b)["id"]
    s, _, b = post(t, sub(authority=BCP, ehcp_caseload=4100), tok="admin")
    t.eq(s, 201, "admin for any authority: %s" % b)
    bcp_id = json.loads(b)["id"]
    s, _, b = t.request("GET", POST + "/%d" % sid, headers=bearer("bcp"))
    t.json_error(s, b, 403, "forbidden")
    s, _, b = t.request("GET", POST + "/%d" % bcp_id, headers=bearer("dorset"))
    t.json_error(s, b, 403, "forbidden")
    for name in ("dorset", "admin"):
        s, doc = t.get_json(POST + "/%d" % sid, headers=bearer(name))
        t.eq(s, 200, "read own/admin")
        t.eq(doc["authority"], DORSET, "authority")
        s, doc = t.get_json(POST + "?authority=" + DORSET, headers=bearer(name))
        t.eq(s, 200, "list own/admin")
    # Logs never carry a token.
    with open(t.server.log_path) as f:
        log = f.read()
    for tok in TOK.values():
        t.true(tok not in log, "token in server log")


def test_created_shape_and_rows(t):
    s, h, b = post(t, sub("2024-25 Q1", ehcp_caseload=3000, case_officers_fte=15))
    t.eq(s, 201, "status %s" % b)
    doc = json.loads(b)
    for k in ("id", "authority", "period", "version", "created_at", "figures"):
        t.true(k in doc, "response has " + k)
    t.eq(doc["period"], "2024-25 Q1", "period")
    t.eq(doc["version"], 1, "first version")
    t.eq(doc["figures"], {"ehcp_caseload": 3000, "case_officers_fte": 15}, "figures")
    t.eq(h.get("location"), "/api/v1/submissions/%d" % doc["id"], "Location")
    rows = t.psql("""SELECT metric, value, published, source, period_kind, period_start, version
                     FROM observations WHERE submission_id = %d ORDER BY metric""" % doc["id"])
    t.eq(rows, [["case_officers_fte", "15", "f", "submission", "fy_quarter", "2024-04-01", "1"],
                ["ehcp_caseload", "3000", "f", "submission", "fy_quarter", "2024-04-01", "1"]],
         "observations")
    t.eq(t.value("SELECT count(*) FROM audit_log WHERE action = 'submission.create'"
                 " AND (detail->>'submission_id')::bigint = %d AND token_id = %d"
                 % (doc["id"], TOKID["dorset"])), "1", "audit row")


def expect_422(t, body, field, rule, words=None, ctype="application/json", tok="dorset"):
    before = state(t)
    s, _, b = post(t, body, ctype=ctype, tok=tok)
    err = t.json_error(s, b, 422)
    found = [d for d in err["details"] if d["field"] == field and d["rule"] == rule
             and (words is None or words in d["message"])]
    t.true(found, "want %s/%s in %s" % (field, rule, err["details"]))
    t.eq(state(t), before, "no row changed (%s/%s)" % (field, rule))
    return err


def test_every_validation_rule_is_422_and_changes_nothing(t):
    cases = [
        (sub(authority="E06000001", ehcp_caseload=1), "authority", "unknown_authority", "not a registered", "admin"),
        (sub(authority="E0600", ehcp_caseload=1), "authority", "authority_format", None, "admin"),
        (sub(nope=1), "figures.nope", "unknown_metric", "not a metric id", "dorset"),
        (sub(ehcp_caseload="3150"), "figures.ehcp_caseload", "type", "must be a number", "dorset"),
        ({"authority": DORSET, "period": "2024-25 Q2", "figures": [1]}, "figures", "type", None, "dorset"),
        (sub(requests_received=-1), "figures.requests_received", "non_negative", None, "dorset"),
        (sub(requests_received=1.5), "figures.requests_received", "whole_number", None, "dorset"),
        (sub(hnb_allocation_gbp=2e10), "figures.hnb_allocation_gbp", "money_range", "£10bn", "dorset"),
        (sub(case_officers_fte=-3), "figures.case_officers_fte", "fte_range", None, "dorset"),
        (sub(new_plans_issued=5, new_plans_within_20_weeks=6), "figures.new_plans_within_20_weeks",
         "exceeds_total", None, "dorset"),
        (sub(new_plans_issued_ex=5, new_plans_within_20_weeks_ex=6), "figures.new_plans_within_20_weeks_ex",
         "exceeds_total", None, "dorset"),
        (sub(annual_reviews_due=5, annual_reviews_on_time=6), "figures.annual_reviews_on_time",
         "exceeds_total", None, "dorset"),
        (sub(requests_decided_to_assess=2, requests_refused=2, requests_decided_within_6_weeks=5),
         "figures.requests_decided_within_6_weeks", "exceeds_total", None, "dorset"),
        (sub("2024/25 Q2", ehcp_caseload=1), "period", "period_format", "YYYY-YY Qn", "dorset"),
        (sub("2024-26 Q2", ehcp_caseload=1), "period", "period_years", None, "dorset"),
        (sub("2090-91 Q1", ehcp_caseload=1), "period", "period_not_ended", None, "dorset"),
        (sub("2012-13 Q1", ehcp_caseload=1), "period", "period_too_early", "2014-15", "dorset"),
        (sub(pct_within_20_weeks=50), "figures.pct_within_20_weeks", "derived_metric", None, "dorset"),
        (sub(dsg_balance_pct_of_income=1), "figures.dsg_balance_pct_of_income", "not_submittable", None, "dorset"),
        (dict(sub(ehcp_caseload=1), extra=1), "extra", "unknown_field", None, "dorset"),
        (dict(sub(ehcp_caseload=1), name="Sam Smith"), "name", "personal_data", "only aggregate figures", "dorset"),
        (dict(sub(ehcp_caseload=1), child={"date_of_birth": "x"}), "child.date_of_birth", "personal_data",
         "only aggregate figures", "dorset"),
        (sub(ehcp_caseload=1, UPN=1), "figures.UPN", "personal_data", "only aggregate figures", "dorset"),
        (dict(sub(ehcp_caseload=1), notes="plan for A123456789012 late"), "notes", "personal_data",
         "only aggregate figures", "dorset"),
        (dict(sub(ehcp_caseload=1), notes="born 02/03/2014"), "notes", "personal_data",
         "date of birth", "dorset"),
        (dict(sub(ehcp_caseload=1), notes="NHS 943 476 5919"), "notes", "personal_data", "NHS", "dorset"),
        (dict(sub(ehcp_caseload=1), notes="lives at BH1 1AA"), "notes", "personal_data", "postcode", "dorset"),
        ({"authority": DORSET, "period": "2024-25 Q2"}, "figures", "required", None, "dorset"),
    ]
    for body, field, rule, words, tok in cases:
        expect_422(t, body, field, rule, words, tok=tok)
    # The same metric twice (a raw body: Python dicts cannot repeat keys).
    raw = '{"authority":"%s","period":"2024-25 Q2","figures":{"ehcp_caseload":1,"ehcp_caseload":2}}' % DORSET
    expect_422(t, raw, "figures.ehcp_caseload", "duplicate_metric", "the same metric twice")
    # Every problem at once.
    err = expect_422(t, sub("2024-26 Q2", ehcp_caseload=-1, nope=2, hnb_allocation_gbp=3e10),
                     "period", "period_years")
    t.eq(len(err["details"]), 4, "one detail per problem: %s" % err["details"])


def test_content_type_syntax_and_size(t):
    before = state(t)
    for ctype in (None, "text/plain", "application/xml", "application/json; charset=latin1"):
        s, _, b = post(t, json.dumps(GOOD), ctype=ctype)
        t.json_error(s, b, 415, "unsupported_media_type")
    s, _, b = post(t, '{"authority": "E06000059", ', ctype="application/json")
    err = t.json_error(s, b, 400, "invalid_json")
    t.eq(err["details"][0]["field"], "body", "syntax detail")
    # Over the body limit (1 MiB by default), with a valid token: the HTTP
    # core answers 413 as JSON as soon as it sees the declared length.
    sock = socket.create_connection(("127.0.0.1", t.server.port), timeout=10)
    try:
        sock.sendall(("POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\n"
                      "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                      "Content-Length: 2097152\r\n\r\n" % TOK["dorset"]).encode())
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    t.json_error(int(head.split(b" ")[1]), body, 413, "payload_too_large")
    t.eq(state(t), before, "no row changed")


def test_versions_history_and_current_values(t):
    p = "2023-24 Q3"
    s, _, b = post(t, sub(p, ehcp_caseload=3000, requests_received=200, new_plans_issued=100))
    t.eq(s, 201, "v1 %s" % b)
    v1 = approve(t, b)
    # A partial correction: caseload changes, requests_received is not sent.
    s, _, b = post(t, sub(p, ehcp_caseload=3010, new_plans_issued=100, new_plans_within_20_weeks=30))
    t.eq(s, 201, "v2")
    v2 = approve(t, b)
    t.eq((v1["version"], v2["version"]), (1, 2), "versions per (authority, period)")
    t.eq(v2["changed"], ["ehcp_caseload", "new_plans_within_20_weeks"], "changed vs previous")
    # Both versions stay readable; the current value is the latest version
    # containing the metric, and a metric not re-sent keeps its value.
    s, one = t.get_json(POST + "/%d" % v1["id"], headers=bearer("dorset"))
    t.eq(one["figures"], {"ehcp_caseload": 3000, "requests_received": 200, "new_plans_issued": 100},
         "v1 figures kept")
    t.eq(one["current"], {"ehcp_caseload": 3010, "requests_received": 200, "new_plans_issued": 100,
                          "new_plans_within_20_weeks": 30}, "current values")
    s, hist = t.get_json(POST + "?authority=" + DORSET, headers=bearer("dorset"))
    t.eq(s, 200, "history")
    mine = [x for x in hist["submissions"] if x["period"] == p]
    t.eq([x["version"] for x in mine], [2, 1], "newest first")
    t.eq(mine[0]["token_id"], TOKID["dorset"], "token id")
    t.eq(mine[1]["changed"], ["ehcp_caseload", "new_plans_issued", "requests_received"], "v1 changed")
    t.true(all("created_at" in x for x in mine), "when")
    ids = [x["id"] for x in hist["submissions"]]
    t.eq(ids, sorted(ids, reverse=True), "whole history newest first")
    # Council token without ?authority lists its own; admin must name one.
    s, own = t.get_json(POST, headers=bearer("dorset"))
    t.eq((s, own["authority"]), (200, DORSET), "default to own")
    s, _, b = t.request("GET", POST, headers=bearer("admin"))
    t.json_error(s, b, 400)
    s, _, b = t.request("GET", POST + "?authority=E09999999", headers=bearer("admin"))
    t.json_error(s, b, 404, "not_found")
    s, _, b = t.request("GET", POST + "/999999", headers=bearer("admin"))
    t.json_error(s, b, 404, "not_found")
    s, _, b = t.request("GET", POST + "/abc", headers=bearer("admin"))
    t.json_error(s, b, 404, "not_found")
    # Observation versions per (authority, metric, period).
    t.eq(t.psql("SELECT metric, max(version) FROM observations WHERE authority = '%s' AND period = '%s'"
                " GROUP BY metric ORDER BY metric" % (DORSET, p)),
         [["ehcp_caseload", "2"], ["new_plans_issued", "2"], ["new_plans_within_20_weeks", "1"],
          ["requests_received", "1"]], "observation versions")


def test_derived_metrics(t):
    p = "2023-24 Q3"   # from the previous test: caseload 3010, issued 100, within 30
    s, one = t.get_json(POST + "/%s" % t.value(
        "SELECT max(id) FROM submissions WHERE period = '%s'" % p), headers=bearer("dorset"))
    d = one["derived"]
    t.eq(float(d["pct_within_20_weeks"]["value"]), 30.0, "pct within 20 weeks")
    t.eq(d["caseload_per_officer"]["value"], None, "no FTE: absent, never 0")
    t.true("case_officers_fte" in d["caseload_per_officer"]["reason"], "reason names the input")
    t.eq(d["caseload_growth_pct"]["value"], None, "no year-earlier caseload")
    t.true("2022-23 Q3" in d["caseload_growth_pct"]["reason"], "reason names the period")
    # A year earlier arrives: growth appears.
    s, _, b = post(t, sub("2022-23 Q3", ehcp_caseload=2800))
    t.eq(s, 201, "earlier year")
    approve(t, b)
    v = t.value("SELECT value FROM derived_observations WHERE authority = '%s' AND period = '%s'"
                " AND metric = 'caseload_growth_pct'" % (DORSET, p))
    t.eq(round(float(v), 4), round((3010 / 2800 - 1) * 100, 4), "growth")
    # Zero denominator: absent with a reason.
    s, _, b = post(t, sub("2021-22 Q1", new_plans_issued=0, new_plans_within_20_weeks=0))
    t.eq(s, 201, "zero plans")
    approve(t, b)
    row = t.psql("SELECT value IS NULL, reason FROM derived_observations WHERE authority = '%s'"
                 " AND period = '2021-22 Q1' AND metric = 'pct_within_20_weeks'" % DORSET)
    t.eq(row[0][0], "t", "undefined ratio is NULL")
    t.true("is zero" in row[0][1] or "is 0" in row[0][1], "reason: " + row[0][1])
    t.eq(t.value("SELECT count(*) FROM derived_observations WHERE value = 0 AND reason IS NOT NULL"),
         "0", "never 0 with a reason")


def test_idempotency(t):
    body = sub("2022-23 Q1", ehcp_caseload=2700)
    key = {"Idempotency-Key": "dorset-2022-23-Q1-attempt"}
    before = int(t.value("SELECT count(*) FROM submissions"))
    s, h, b = post(t, body, headers=key)
    t.eq(s, 201, "first")
    first = json.loads(b)
    s, h, b = post(t, body, headers=key)
    t.eq(s, 200, "retry answers 200")
    t.eq(h.get("idempotent-replayed"), "true", "replay header")
    again = json.loads(b)
    t.eq((again["id"], again["version"]), (first["id"], first["version"]), "same result")
    t.eq(int(t.value("SELECT count(*) FROM submissions")), before + 1, "no second version")
    # The same key with other content: refused, nothing stored.
    snap = state(t)
    s, _, b = post(t, sub("2022-23 Q1", ehcp_caseload=2701), headers=key)
    t.json_error(s, b, 422, "idempotency_key_reused")
    t.eq(state(t), snap, "nothing stored")
    # The same key from another token is another request.
    s, _, b = post(t, body, tok="admin", headers=key)
    t.eq(s, 201, "other token, same key")
    t.eq(json.loads(b)["version"], first["version"] + 1, "new version")
    # A bad key is a validation problem.
    s, _, b = post(t, body, headers={"Idempotency-Key": "x" * 201})
    err = t.json_error(s, b, 422)
    t.eq(err["details"][0]["field"], "Idempotency-Key", "bad key named")


def test_atomicity_failure_after_first_statement(t):
    """A trigger that fails the audit insert (after the submission and the
    observations were inserted) must leave nothing behind."""
    t.psql("""CREATE FUNCTION test_fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN RAISE EXCEPTION 'injected failure'; END $$;
              CREATE TRIGGER test_fail_audit BEFORE INSERT ON audit_log
                  FOR EACH ROW EXECUTE FUNCTION test_fail_audit();""")
    try:
        before = state(t)
        s, _, b = post(t, sub("2020-21 Q2", ehcp_caseload=2500, requests_received=10))
        t.json_error(s, b, 500, "internal_error")
        t.eq(state(t), before, "nothing stays after the injected failure")
    finally:
        t.psql("DROP TRIGGER test_fail_audit ON audit_log; DROP FUNCTION test_fail_audit()")
    s, _, b = post(t, sub("2020-21 Q2", ehcp_caseload=2500, requests_received=10))
    t.eq(s, 201, "works once the fault is gone")
    t.eq(json.loads(b)["version"], 1, "the failed attempt used no version")


CSV_HDR = ("time_period,time_identifier,geographic_level,country_code,country_name,region_code,"
           "region_name,new_la_code,old_la_code,la_name")


def test_csv_submission(t):
    body = ("\ufeff" + CSV_HDR + ",ehcp_caseload,new_plans_issued,new_plans_within_20_weeks,notes\r\n"
            "\r\n"
            '202324,Financial year Q4,Local authority,E92000001,England,E12000009,South West,'
            'E06000058,839,"Bournemouth, Christchurch\r\nand ""Poole""",4200,90,"12","restated, ""final"""\r\n'
            "\r\n")
    s, _, b = post(t, body.encode("utf-8"), tok="bcp", ctype="text/csv; charset=utf-8")
    t.eq(s, 201, "csv: %s" % b)
    doc = json.loads(b)
    t.eq(doc["authority"], BCP, "authority")
    t.eq(doc["period"], "2023-24 Q4", "period from 202324 + Financial year Q4")
    t.eq(doc["figures"], {"ehcp_caseload": 4200, "new_plans_issued": 90,
                          "new_plans_within_20_weeks": 12}, "figures")
    t.eq(doc["notes"], 'restated, "final"', "quoted notes")
    t.eq(t.value("SELECT content_type FROM submissions WHERE id = %d" % doc["id"]), "text/csv",
         "content type kept")
    # CSV validation errors name the column.
    bad = CSV_HDR + ",ehcp_caseload,requests_received\n" \
        "202324,Financial year Q4,Local authority,,,,,E06000058,839,BCP,\"4,200\",-3\n"
    before = state(t)
    s, _, b = post(t, bad, tok="bcp", ctype="text/csv")
    err = t.json_error(s, b, 422, "validation_failed")
    rules = {(d["field"], d["rule"]) for d in err["details"]}
    t.true(("ehcp_caseload", "type") in rules and ("requests_received", "non_negative") in rules,
           "csv details: %s" % err["details"])
    s, _, b = post(t, 'time_period,new_la_code\n"2023-24 Q4,E06000058\n', tok="bcp", ctype="text/csv")
    t.json_error(s, b, 400, "invalid_csv")
    # A council CSV for another authority is refused.
    s, _, b = post(t, "time_period,new_la_code,ehcp_caseload\n2023-24 Q4,%s,1\n" % DORSET,
                   tok="bcp", ctype="text/csv")
    t.json_error(s, b, 403, "forbidden")
    t.eq(state(t), before, "no row changed")


def test_notify_on_commit(t):
    """A version awaiting approval is in force nowhere and notifies nobody
    (sql/151); its approval notifies 'sendbench_data' (on commit) so that
    caches elsewhere can invalidate."""
    cmd = ["psql", "-X", "-At", "-h", harness.SOCK, "-U", "postgres", "-d", t.db]
    sql = """LISTEN sendbench_data;
             SELECT (submit_figures('E06000052', '2019-20 Q1', '{"ehcp_caseload": 5}',
                                    NULL, NULL, 'application/json', NULL))->>'version';
             SELECT 'awaiting';
             SELECT submission_decide((SELECT max(id) FROM submissions WHERE authority = 'E06000052'
                                       AND period = '2019-20 Q1'), 'approve', NULL, NULL, NULL)->>'state';
             SELECT 1;"""
    out = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=60)
    t.eq(out.returncode, 0, "psql: " + out.stderr)
    text = out.stdout + out.stderr
    before, _, after = text.partition("approved")
    t.true('Asynchronous notification' not in before, "not notified while awaiting: %r" % text)
    t.true('Asynchronous notification "sendbench_data"' in after, "notified: %r" % text)
    t.true('"authority": "E06000052"' in after and '"ehcp_caseload"' in after, "payload: %r" % text)


def test_concurrent_submissions_get_distinct_versions(t):
    results = []

    def one(i):
        s, _, b = post(t, sub("2018-19 Q2", ehcp_caseload=1000 + i))
        results.append((s, json.loads(b)))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t.eq(sorted(s for s, _ in results), [201] * 8, "all stored")
    t.eq(sorted(d["version"] for _, d in results), list(range(1, 9)), "versions 1..8, no gap, no clash")
    t.eq(t.value("SELECT string_agg(version::text, ',' ORDER BY version) FROM observations"
                 " WHERE authority = '%s' AND period = '2018-19 Q2'" % DORSET),
         "1,2,3,4,5,6,7,8", "observation versions")


def test_durability_sigkill_and_restart(t):
    s, _, b = post(t, sub("2019-20 Q3", ehcp_caseload=2222))
    t.eq(s, 201, "stored")
    sid = json.loads(b)["id"]
    t.server.proc.send_signal(signal.SIGKILL)
    t.server.proc.wait()
    t.server.log.close()
    # Restart in place: the runner stops this same Server object at the end.
    srv = harness.Server(t.db)
    t.server.__dict__.update(srv.__dict__)
    s, one = t.get_json(POST + "/%d" % sid, headers=bearer("dorset"))
    t.eq(s, 200, "readable after SIGKILL and restart")
    t.eq(one["figures"], {"ehcp_caseload": 2222}, "figures survived")
