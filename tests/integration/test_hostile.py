"""Hostile-input corpus: malformed and hostile requests, each expecting a
specific 4xx with the JSON error shape; the database must be unchanged
(row counts and a checksum of the observation and submission tables) and
the server healthy afterwards.

The corpus is data: CASES below, built from lists of hostile strings and
the places they can go (path segments, query parameters, headers, bodies).
"""

import socket
import time
import urllib.parse

import harness

INJECTIONS = [
    "' OR '1'='1", "'; DROP TABLE observations; --", "\" OR \"\"=\"", "1; SELECT pg_sleep(5)",
    "') UNION SELECT * FROM tokens --", "E06000059' --", "%27%20OR%201%3D1", "admin'--",
    "1' AND 1=CAST((SELECT hash FROM tokens LIMIT 1) AS int) --", "$1", "\\x00", "${jndi:ldap://x}",
    "<script>alert(1)</script>", "{{7*7}}", "../../../../etc/passwd", "..%2f..%2fetc%2fpasswd",
    "%00", "%ff%fe", "\u202e", "A" * 5000,
]

TRAVERSALS = [
    "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/api/v1/../../../etc/shadow",
    "/api/v1/authorities/..%2f..%2f..%2fetc%2fpasswd", "/....//....//etc/passwd",
    "/api/v1/%2e%2e/%2e%2e/sql/001_schema.sql", "/static/../../Makefile", "/%c0%ae%c0%ae/etc/passwd",
    "/api/v1/metrics/../../../../var/pg", "/.git/config",
]


def q(s):
    return urllib.parse.quote(s, safe="")


def latin1(s):
    """Header values go on the wire as bytes: send the UTF-8 bytes."""
    return s.encode("utf-8").decode("latin-1")


def build_cases():
    cases = []  # (name, method, target, headers, body, status, code)
    for i, s in enumerate(INJECTIONS):
        cases.append(("inject-authority-path-%d" % i, "GET", "/api/v1/authorities/" + q(s), {}, None,
                      404, None))
        cases.append(("inject-forecast-metric-%d" % i, "GET", "/api/v1/forecasts/" + q(s), {}, None,
                      404, None))
        cases.append(("inject-forecast-authority-%d" % i, "GET",
                      "/api/v1/forecasts/ehcp_caseload?authority=" + q(s), {}, None, 404, None))
        cases.append(("inject-forecast-horizon-%d" % i, "GET",
                      "/api/v1/forecasts/ehcp_caseload?horizon=" + q(s), {}, None, 400, "bad_parameter"))
        cases.append(("inject-forecast-format-%d" % i, "GET",
                      "/api/v1/forecasts/ehcp_caseload?format=" + q(s), {}, None, 400, "bad_parameter"))
        cases.append(("inject-unknown-route-%d" % i, "GET", "/api/v1/" + q(s), {}, None, 404, None))
        cases.append(("inject-header-%d" % i, "GET", "/api/v1/authorities/E09999999",
                      {"X-Forwarded-For": latin1(s[:200]), "Accept": latin1(s[:200])}, None,
                      404, "not_found"))
    for i, path in enumerate(TRAVERSALS):
        # Overlong UTF-8 ("%c0%ae" = ".") is refused as a bad path.
        bad = "%c0" in path
        cases.append(("traversal-%d" % i, "GET", path, {}, None, 400 if bad else 404,
                      "bad_path" if bad else None))
    for i, m in enumerate(["DELETE", "PUT", "PATCH", "OPTIONS"]):
        cases.append(("method-%s-metrics" % m, m, "/api/v1/metrics", {}, None, 405,
                      "method_not_allowed"))
        cases.append(("method-%s-authority" % m, m, "/api/v1/authorities/E06000059", {}, None, 405,
                      "method_not_allowed"))
        cases.append(("method-%s-forecast" % m, m, "/api/v1/forecasts/ehcp_caseload", {}, None, 405,
                      "method_not_allowed"))
    cases.append(("nul-in-path", "GET", "/api/v1/authorities/E06%00000059", {}, None, 400, "bad_path"))
    for i, bad in enumerate(["%ff", "%c0%ae", "%ed%a0%80", "%01", "%7f", "%e2%82", "%f8%88%80%80%80"]):
        cases.append(("bad-utf8-query-%d" % i, "GET", "/api/v1/forecasts/ehcp_caseload?authority=" + bad,
                      {}, None, 400, "bad_query"))
        cases.append(("bad-utf8-path-%d" % i, "GET", "/api/v1/authorities/E06" + bad, {}, None, 400,
                      "bad_path"))
    return cases


RAW_CASES = [
    # (name, bytes, expected status, code)
    ("garbage-request-line", b"GARBAGE\r\n\r\n", 400, "bad_request"),
    ("http-0.9", b"GET /\r\n\r\n", 400, "bad_request"),
    ("bad-version", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 400, "bad_request"),
    ("header-without-colon", b"GET /healthz HTTP/1.1\r\nHost x\r\n\r\n", 400, "bad_request"),
    ("oversized-header", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 40000 + b"\r\n\r\n",
     400, "bad_request"),
    ("many-headers", b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(3000))
     + b"\r\n", 400, "bad_request"),
    ("declared-huge-body", b"POST /api/v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
     413, "payload_too_large"),
    ("negative-content-length", b"POST /api/v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
     400, "bad_request"),
    ("invalid-utf8-path", b"GET /api/v1/authorities/\xff\xfe\xfd HTTP/1.1\r\nHost: x\r\n\r\n", 400,
     "bad_path"),
    ("control-chars-path", b"GET /api/v1/authorities/E06\x01\x02 HTTP/1.1\r\nHost: x\r\n\r\n", 400, None),
    ("huge-request-line", b"GET /api/v1/metrics?" + b"a=b&" * 6000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
     400, "bad_request"),
]


def raw(port, data, timeout=10):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(data)
    except OSError:
        pass
    out = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, body = out.partition(b"\r\n\r\n")
                cl = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if cl and len(body) >= int(cl[0].split(b":")[1]):
                    break
    except OSError:
        pass
    sock.close()
    return out


def db_fingerprint(t):
    return t.psql("SELECT (SELECT count(*) FROM observations),"
                  " (SELECT md5(coalesce(string_agg(o::text, ',' ORDER BY id), '')) FROM observations o),"
                  " (SELECT count(*) FROM submissions),"
                  " (SELECT md5(coalesce(string_agg(s::text, ',' ORDER BY id), '')) FROM submissions s),"
                  " (SELECT count(*) FROM tokens), (SELECT count(*) FROM audit_log)")


def seed(t):
    t.psql("""INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name)
              VALUES ('E06000059', '838', 'Dorset', 'E12000009', 'South West');
              INSERT INTO observations (authority, metric, period, period_kind, period_start, value,
                 published, source, version)
              VALUES ('E06000059', 'ehcp_caseload', '2022', 'census_year', '2022-01-20', 3000, true, 'seed', 1)""")


def test_corpus_gets_json_4xx_and_changes_nothing(t):
    seed(t)
    before = db_fingerprint(t)
    cases = build_cases()
    failures = []
    for name, method, target, headers, body, status, code in cases:
        try:
            s, h, b = t.request(method, target, body=body, headers=headers)
        except Exception as e:  # a closed connection is a failure too
            failures.append("%s: %s" % (name, e))
            continue
        if s != status:
            failures.append("%s: status %d, want %d: %r" % (name, s, status, b[:120]))
            continue
        try:
            t.json_error(s, b, status, code)
        except harness.TestFailure as e:
            failures.append("%s: %s" % (name, e))
    for name, data, status, code in RAW_CASES:
        out = raw(t.server.port, data)
        head, _, body = out.partition(b"\r\n\r\n")
        try:
            got = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else None
        except (IndexError, ValueError):
            got = None
        if got != status:
            failures.append("%s: status %r, want %d: %r" % (name, got, status, out[:120]))
            continue
        try:
            t.json_error(got, body, status, code)
        except harness.TestFailure as e:
            failures.append("%s: %s" % (name, e))
    t.true(len(cases) + len(RAW_CASES) >= 150, "corpus size %d" % (len(cases) + len(RAW_CASES)))
    t.true(not failures, "%d of %d cases failed:\n  %s" % (
        len(failures), len(cases) + len(RAW_CASES), "\n  ".join(failures[:40])))
    t.eq(db_fingerprint(t), before, "database unchanged")
    t.eq(t.request("GET", "/healthz")[0], 200, "server healthy")


def test_truncated_and_slow_requests_do_not_hurt(t):
    # A body shorter than declared, then the client goes away.
    raw(t.server.port, b"POST /api/v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"a\":",
        timeout=1)
    # Slow headers on several connections (slowloris) while others are served.
    slow = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", t.server.port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    t0 = time.time()
    for _ in range(20):
        t.eq(t.request("GET", "/healthz")[0], 200, "served beside slow clients")
    t.true(time.time() - t0 < 5, "not held up by slow clients")
    for s in slow:
        s.close()
    t.eq(t.request("GET", "/healthz")[0], 200, "healthy afterwards")
