"""Consent to be named (issue 15): `sendbench consent` and
PUT /api/v1/admin/authorities/{code}/consent change one flag through one
audited SQL function; bad requests change nothing; the change reaches the
tables at once (the cache is emptied)."""

import json
import urllib.parse

TEMPLATE = "history"
DORSET = "E06000059"
TOKENS = {}


def consent(t):
    return t.value("SELECT consent_to_name FROM authorities WHERE new_la_code = :'p1'", DORSET)


def audits(t):
    return t.psql("SELECT actor, authority, detail->>'name', detail->>'was' FROM audit_log"
                  " WHERE action = 'consent.set' ORDER BY id")


def test_cli(t):
    t.eq(consent(t), "f", "no consent by default")
    r = t.cli("consent", "--authority", "838", "--name", "yes")
    t.eq(r.returncode, 0, "consent yes: " + r.stderr)
    t.true("E06000059 Dorset: consent to be named yes" in r.stdout, r.stdout)
    t.eq(consent(t), "t", "recorded")
    r = t.cli("consent", "--authority", DORSET, "--name", "yes")
    t.true("(unchanged)" in r.stdout, "a repeat says so: " + r.stdout)
    r = t.cli("consent", "--authority", DORSET, "--name", "no")
    t.eq((r.returncode, consent(t)), (0, "f"), "withdrawn")
    t.eq(audits(t), [["cli", DORSET, "true", "false"], ["cli", DORSET, "true", "true"],
                     ["cli", DORSET, "false", "true"]], "every call audited")
    for args, want in ((["--authority", DORSET], 2), (["--authority", DORSET, "--name", "maybe"], 2),
                       (["--name", "yes"], 2), (["--authority", "E06999999", "--name", "yes"], 2),
                       (["--authority", DORSET, "--name", "yes", "--extra"], 2)):
        r = t.cli("consent", *args)
        t.eq(r.returncode, want, "exit for %r" % args)
        t.true(r.stderr.startswith("sendbench: consent:") and r.stderr.count("\n") == 1,
               "one-line reason: %r" % r.stderr)
    t.eq(len(audits(t)), 3, "refused calls audit nothing")


def test_server_role_cannot_update_authorities(t):
    r = t.psql("SET ROLE sendbench_app; SELECT has_table_privilege('authorities', 'UPDATE')")
    t.eq(r, [["f"]], "the app role changes consent only through the audited function")


def test_admin_api(t):
    for name, args in (("admin", ["--admin"]), ("council", ["--authority", DORSET])):
        r = t.cli("token", "create", *args)
        t.eq(r.returncode, 0, "token")
        TOKENS[name] = r.stdout.strip()
    path = "/api/v1/admin/authorities/%s/consent" % DORSET

    def put(body, token="admin", p=path):
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = "Bearer " + TOKENS[token]
        s, _, b = t.request("PUT", p, body=body if isinstance(body, str) else json.dumps(body),
                            headers=h)
        return s, b

    n0 = len(audits(t))
    for body, token, status in (({"name": True}, None, 401), ({"name": True}, "council", 403),
                                ("not json", "admin", 400), ({"name": "yes"}, "admin", 422),
                                ({"name": True, "x": 1}, "admin", 422), ([], "admin", 400)):
        s, b = put(body, token)
        t.json_error(s, b, status)
        t.eq(consent(t), "f", "refused request changes nothing (%r)" % body)
    s, b = put({"name": True}, "admin", "/api/v1/admin/authorities/E06999999/consent")
    t.json_error(s, b, 404)
    t.eq(len(audits(t)), n0, "refused requests audit nothing")

    # Before: Dorset's quarter masked/withheld in public; after: named.
    r = t.cli("token", "create", "--authority", DORSET)
    s, _, b = t.request("POST", "/api/v1/submissions",
                        {"authority": DORSET, "period": "2026-27 Q2",
                         "figures": {"ehcp_caseload": 6173}},
                        headers={"Authorization": "Bearer " + r.stdout.strip()})
    t.eq(s, 201, "submission")
    s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % json.loads(b)["id"],
                        headers={"Authorization": "Bearer " + TOKENS["admin"]})
    t.eq(s, 200, "approved (only approved versions are in force)")
    q = "/api/v1/tables/ehcp_caseload?group=england&period=" + urllib.parse.quote("2026-27 Q2")
    s, doc = t.get_json(q)
    t.true(6173 not in [x["value"] for x in doc["rows"]], "withheld before consent")
    s, b = put({"name": True})
    t.eq(s, 200, "admin sets consent: %r" % b)
    d = json.loads(b)
    t.eq((d["authority"], d["consent_to_name"], d["changed"]), (DORSET, True, True), "reply")
    t.eq(consent(t), "t", "recorded")
    row = t.psql("SELECT a.actor, a.token_id IS NOT NULL FROM audit_log a"
                 " WHERE action = 'consent.set' ORDER BY id DESC LIMIT 1")
    t.true(row[0][0].startswith("token:") and row[0][1] == "t", "audited with the token: %r" % row)
    s, doc = t.get_json(q)
    named = {x["code"]: x["value"] for x in doc["rows"]}
    t.eq(named.get(DORSET), 6173, "named at once after consent")
