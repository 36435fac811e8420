"""The authorisation matrix: every endpoint, every kind of caller.

Callers: anonymous, malformed token, wrong scheme, unknown token, revoked,
expired, council token (own authority), council token (another
authority), admin.  Public endpoints answer every valid caller the same;
private ones answer 401 (with WWW-Authenticate) / 403 / 2xx as documented.
No token ever appears in a response or in the server log."""

import json

import harness

DORSET, BCP = "E06000059", "E06000058"
TOK = {}
TOKID = {}
SUB = "/api/v1/submissions"

PUBLIC = [
    "/healthz", "/metrics", "/api/v1/metrics", "/api/v1/authorities",
    "/api/v1/authorities/" + DORSET, "/api/v1/authorities/%s/profile" % DORSET,
    "/api/v1/forecasts/ehcp_caseload?authority=" + DORSET,
    "/api/v1/tables/ehcp_caseload?period=2022", "/api/v1/tables/ehcp_caseload/meta",
    "/api/v1/tables/ehcp_caseload?period=2022&format=csv",
]
# Public endpoints that look at a token when one is sent (to unmask figures
# for its authority): a token that is sent must be valid.
TOKEN_AWARE = ("/api/v1/tables/", "/profile")


def test_setup(t):
    t.psql("""INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name) VALUES
              ('E06000059', '838', 'Dorset', 'E12000009', 'South West'),
              ('E06000058', '839', 'Bournemouth, Christchurch and Poole', 'E12000009', 'South West'),
              ('E06000052', '908', 'Cornwall', 'E12000009', 'South West');
              INSERT INTO observations (authority, metric, period, period_kind, period_start, value,
                                        published, source, version)
              SELECT a, 'ehcp_caseload', y::text, 'census_year', make_date(y, 1, 20),
                     1000 + 90 * (y - 2015) + length(a), true, 'seed', 1
              FROM unnest(ARRAY['E06000059', 'E06000058', 'E06000052']) a,
                   generate_series(2015, 2024) y""")
    for name, args in (("dorset", ["--authority", DORSET]), ("bcp", ["--authority", BCP]),
                       ("admin", ["--admin"]), ("revoked", ["--authority", DORSET]),
                       ("expired", ["--authority", DORSET, "--expires-days", "1"])):
        r = t.cli("token", "create", *args)
        t.eq(r.returncode, 0, "token create: " + r.stderr)
        TOK[name] = r.stdout.strip()
        TOKID[name] = int(r.stderr.split("token id ")[1].split()[0])
    t.eq(t.cli("token", "revoke", str(TOKID["revoked"])).returncode, 0, "revoke")
    t.psql("UPDATE tokens SET expires_at = now() - interval '1 minute' WHERE id = %d" % TOKID["expired"])
    s, h, b = t.request("POST", SUB, body={"authority": DORSET, "period": "2023-24 Q1",
                                           "figures": {"ehcp_caseload": 3100}},
                        headers={"Authorization": "Bearer " + TOK["dorset"]})
    t.eq(s, 201, "a Dorset submission to read: %r" % b[:200])
    TOKID["dorset_sub"] = json.loads(b)["id"]
    s, h, b = t.request("POST", SUB, body={"authority": BCP, "period": "2023-24 Q1",
                                           "figures": {"ehcp_caseload": 4100}},
                        headers={"Authorization": "Bearer " + TOK["admin"]})
    t.eq(s, 201, "a BCP submission to read")
    TOKID["bcp_sub"] = json.loads(b)["id"]
    # The forecast of PUBLIC is fitted by the worker in the background.
    t.wait_forecasts()


def callers():
    return {
        "anonymous": {},
        "malformed": {"Authorization": "Bearer not a token"},
        "wrong-scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
        "empty-bearer": {"Authorization": "Bearer "},
        "unknown": {"Authorization": "Bearer sbk_" + "B" * 43},
        "revoked": {"Authorization": "Bearer " + TOK["revoked"]},
        "expired": {"Authorization": "Bearer " + TOK["expired"]},
        "council-own": {"Authorization": "Bearer " + TOK["dorset"]},
        "council-other": {"Authorization": "Bearer " + TOK["bcp"]},
        "admin": {"Authorization": "Bearer " + TOK["admin"]},
    }


INVALID = ("malformed", "wrong-scheme", "empty-bearer", "unknown", "revoked", "expired")


def no_token_in(t, body, what):
    for tok in TOK.values():
        t.true(tok.encode() not in body, "token echoed in %s" % what)


def test_public_endpoints_answer_everyone(t):
    failures = []
    for path in PUBLIC:
        s0, _, _ = t.request("GET", path)
        if s0 != 200:
            failures.append("%s anonymous: %d" % (path, s0))
            continue
        for who, h in callers().items():
            s, hdr, b = t.request("GET", path, headers=h)
            no_token_in(t, b, path)
            aware = any(x in path for x in TOKEN_AWARE)
            if who in INVALID and aware and who != "wrong-scheme":
                want = 401
            elif who == "wrong-scheme" and aware:
                want = 401
            else:
                want = 200
            if s != want:
                failures.append("%s as %s: %d, want %d: %r" % (path, who, s, want, b[:120]))
            elif want == 401:
                try:
                    t.json_error(s, b, 401)
                except harness.TestFailure as e:
                    failures.append("%s as %s: %s" % (path, who, e))
                if not hdr.get("www-authenticate", "").startswith("Bearer"):
                    failures.append("%s as %s: no WWW-Authenticate" % (path, who))
    t.true(not failures, "\n  ".join(failures))


def test_private_endpoints_matrix(t):
    ds, bs = TOKID["dorset_sub"], TOKID["bcp_sub"]
    good = json.dumps({"authority": DORSET, "period": "2023-24 Q2", "figures": {"ehcp_caseload": 3200}})
    endpoints = [
        # (label, method, path, body, {caller: status})
        ("create", "POST", SUB, good, {"council-own": 201, "council-other": 403, "admin": 201}),
        ("list", "GET", SUB + "?authority=" + DORSET, None,
         {"council-own": 200, "council-other": 403, "admin": 200}),
        ("list-default", "GET", SUB, None, {"council-own": 200, "council-other": 200, "admin": 400}),
        ("get-dorset", "GET", SUB + "/%d" % ds, None,
         {"council-own": 200, "council-other": 403, "admin": 200}),
        ("get-bcp", "GET", SUB + "/%d" % bs, None,
         {"council-own": 403, "council-other": 200, "admin": 200}),
        ("get-missing", "GET", SUB + "/99999999", None,
         {"council-own": 404, "council-other": 404, "admin": 404}),
    ]
    failures = []
    for label, method, path, body, allowed in endpoints:
        for who, h in callers().items():
            hh = dict(h)
            if body:
                hh["Content-Type"] = "application/json"
            before = t.value("SELECT count(*) FROM submissions") if method == "POST" else None
            s, hdr, b = t.request(method, path, body=body, headers=hh)
            no_token_in(t, b, path)
            want = allowed.get(who, 401)
            if s != want:
                failures.append("%s as %s: %d, want %d: %r" % (label, who, s, want, b[:150]))
                continue
            if want >= 400:
                try:
                    t.json_error(s, b, want)
                except harness.TestFailure as e:
                    failures.append("%s as %s: %s" % (label, who, e))
                if before is not None and t.value("SELECT count(*) FROM submissions") != before:
                    failures.append("%s as %s: refused but a row changed" % (label, who))
            if want == 401:
                wa = hdr.get("www-authenticate", "")
                if not wa.startswith("Bearer"):
                    failures.append("%s as %s: WWW-Authenticate %r" % (label, who, wa))
                # RFC 6750: a header that is not "Bearer <token>" is an
                # invalid_request; a token that is not (or no longer) valid
                # is an invalid_token; no credentials at all, no error.
                werr = {"anonymous": None, "wrong-scheme": "invalid_request",
                        "empty-bearer": "invalid_request"}.get(who, "invalid_token")
                if werr and 'error="%s"' % werr not in wa:
                    failures.append("%s as %s: no error=%s in %r" % (label, who, werr, wa))
                if not werr and "error=" in wa:
                    failures.append("%s as %s: error in %r" % (label, who, wa))
            if label == "list-default" and want == 200:
                mine = DORSET if who == "council-own" else BCP
                if json.loads(b).get("authority") != mine:
                    failures.append("list-default as %s: not its own authority" % who)
    t.true(not failures, "%d failures:\n  %s" % (len(failures), "\n  ".join(failures)))


def test_tokens_never_logged(t):
    # Debug logging on a second server: even then, no token in the log.
    srv = harness.Server(t.db, env={"SENDBENCH_LOG_LEVEL": "debug"})
    try:
        for who, h in callers().items():
            srv.request("GET", SUB + "?authority=" + DORSET, headers=h)
            srv.request("GET", "/api/v1/tables/ehcp_caseload?period=2022", headers=h)
            srv.request("POST", SUB, body="{", headers=dict(h, **{"Content-Type": "application/json"}))
    finally:
        t.eq(srv.stop(), 0, "clean exit")
    for path in (srv.log_path, t.server.log_path):
        with open(path, errors="replace") as f:
            log = f.read()
        t.true(len(log) > 0 or path == t.server.log_path, "debug log written")
        for tok in list(TOK.values()) + ["B" * 43]:
            t.true(tok not in log, "token found in %s" % path)


def test_security_headers_on_every_answer(t):
    for path in PUBLIC + [SUB, "/nope"]:
        s, h, b = t.request("GET", path)
        t.eq(h.get("x-content-type-options"), "nosniff", "nosniff on %s" % path)
        t.true(h.get("x-frame-options", "").upper() == "DENY"
               or "frame-ancestors 'none'" in h.get("content-security-policy", ""),
               "frame denial on %s" % path)
        csp = h.get("content-security-policy", "")
        t.true(csp and "http:" not in csp and "https:" not in csp and "*" not in csp,
               "CSP without external sources on %s: %r" % (path, csp))
