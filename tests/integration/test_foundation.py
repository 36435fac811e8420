"""Foundation: endpoints, errors, limits, CLI, migrations, schema rules."""

import json
import os
import signal
import socket
import subprocess
import threading
import time

import harness

CONTRACT_METRICS = """ehcp_caseload requests_received requests_decided_to_assess requests_refused
new_plans_issued plans_ceased new_plans_within_20_weeks new_plans_within_20_weeks_ex
requests_decided_within_6_weeks annual_reviews_due annual_reviews_on_time hnb_allocation_gbp
high_needs_spend_gbp dsg_cumulative_balance_gbp council_contribution_gbp case_officers_fte
pct_within_20_weeks pct_within_20_weeks_ex caseload_per_officer deficit_pct_of_hnb
caseload_growth_pct request_to_assessment_rate""".split()


def test_healthz_ok(t):
    s, h, b = t.request("GET", "/healthz")
    t.eq(s, 200, "status")
    t.eq(json.loads(b), {"status": "ok"}, "body")
    t.true(h.get("x-request-id"), "X-Request-Id header")


def test_catalogue_lists_every_contract_metric(t):
    s, doc = t.get_json("/api/v1/metrics")
    t.eq(s, 200, "status")
    ids = [m["id"] for m in doc["metrics"]]
    for m in CONTRACT_METRICS:
        t.true(m in ids, "catalogue lacks %s" % m)
    for m in doc["metrics"]:
        for k in ("label", "unit", "dp", "polarity", "kind", "description"):
            t.true(k in m, "%s lacks %s" % (m["id"], k))
        t.true(m["polarity"] in ("higher_better", "lower_better", "neutral"), "polarity")
        t.true(m["kind"] in ("stock", "flow", "rate", "money", "derived"), "kind")
    derived = {m["id"] for m in doc["metrics"] if m["kind"] == "derived"}
    t.true("pct_within_20_weeks" in derived and not any(
        m["submittable"] for m in doc["metrics"] if m["kind"] == "derived"),
        "derived metrics are not submittable")


def test_authorities_and_lookup_by_either_code(t):
    t.psql("""INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name)
              VALUES ('E06000059', '838', 'Dorset', 'E12000009', 'South West'),
                     ('E06000058', '839', 'Bournemouth, Christchurch and Poole', 'E12000009', 'South West');
              INSERT INTO statistical_neighbours VALUES ('E06000059', 1, 'E06000058', 'Close', 'test')""")
    s, doc = t.get_json("/api/v1/authorities")
    t.eq(s, 200, "status")
    t.eq(sorted(a["code"] for a in doc["authorities"]), ["E06000058", "E06000059"], "codes")
    for code in ("E06000059", "838"):
        s, a = t.get_json("/api/v1/authorities/" + code)
        t.eq(s, 200, "status for " + code)
        t.eq(a["name"], "Dorset", "name")
        t.eq(a["region_name"], "South West", "region")
        t.eq(a["neighbours"], [{"rank": 1, "code": "E06000058",
                                "name": "Bournemouth, Christchurch and Poole",
                                "closeness": "Close"}], "neighbours")


def test_unknown_authority_is_404_json(t):
    for code in ("E09999999", "999", "%27%20OR%201=1--", "..%2F..%2Fetc%2Fpasswd"):
        s, h, b = t.request("GET", "/api/v1/authorities/" + code)
        t.json_error(s, b, 404, "not_found")


def test_unknown_route_is_404_json(t):
    s, h, b = t.request("GET", "/no/such/thing")
    t.json_error(s, b, 404, "not_found")
    t.eq(h.get("content-type"), "application/json", "content type")


def test_wrong_method_is_405_with_allow(t):
    s, h, b = t.request("DELETE", "/api/v1/metrics")
    t.json_error(s, b, 405, "method_not_allowed")
    t.eq(h.get("allow"), "GET, HEAD", "Allow")


def raw_exchange(t, data):
    """Sends raw bytes, returns (status code, body) of the answer."""
    sock = socket.create_connection(("127.0.0.1", t.server.port), timeout=10)
    sock.sendall(data)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    t.true(head.startswith(b"HTTP/"), "status line: %r" % head[:40])
    return int(head.split(b" ")[1]), body


def test_oversized_body_is_413_json(t):
    # The server answers as soon as it sees the declared length.
    s, body = raw_exchange(t, b"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Type: application/json\r\nContent-Length: 2097152\r\n\r\n")
    t.json_error(s, body, 413, "payload_too_large")


def test_malformed_request_line_is_400_json(t):
    s, body = raw_exchange(t, b"GARBAGE\r\n\r\n")
    t.json_error(s, body, 400, "bad_request")


def test_oversized_headers_rejected(t):
    s, h, b = t.request("GET", "/healthz", headers={"X-Big": "a" * 40000})
    t.json_error(s, b, 400, "bad_request")


def test_bad_query_string_is_400(t):
    s, h, b = t.request("GET", "/api/v1/metrics?a=%zz&&=")
    t.true(s in (200, 400), "status %d" % s)
    if s == 400:
        t.json_error(s, b, 400)


def test_security_headers(t):
    s, h, b = t.request("GET", "/api/v1/metrics")
    t.eq(h.get("x-content-type-options"), "nosniff", "nosniff")
    t.eq(h.get("x-frame-options"), "DENY", "frame denial")
    t.true("default-src 'none'" in h.get("content-security-policy", ""), "CSP")


def test_prometheus_metrics(t):
    t.request("GET", "/healthz")
    s, h, b = t.request("GET", "/metrics")
    t.eq(s, 200, "status")
    text = b.decode()
    t.true('sendbench_http_requests_total{route="/healthz",status="200"}' in text, "requests counter")
    t.true('sendbench_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"}' in text,
           "latency histogram")
    t.true('sendbench_db_pool_connections{state="idle"}' in text, "pool gauge")
    t.true("sendbench_db_pool_waits_total" in text, "pool waits")


def test_serve_refuses_a_database_behind_it(t):
    """serve never migrates: on a database that lacks one of its migrations
    (a new binary deployed before `sendbench migrate`) it exits 1 at once,
    naming the command, instead of answering 500s; after migrate it starts."""
    name = "behind_%d" % os.getpid()
    harness.psql("postgres", "CREATE DATABASE %s" % name)
    try:
        r = harness.run_cli(name, "serve", "--port", "0", timeout=30)
        t.eq(r.returncode, 1, "serve on a database never migrated: exit")
        t.true("sendbench migrate" in r.stderr, "names the command: %r" % r.stderr[-300:])
        t.true("lacks" in r.stderr and "001_schema" in r.stderr, "says what is missing")
        t.eq(harness.run_cli(name, "migrate").returncode, 0, "migrate")
        last = harness.psql_value(name, "SELECT max(name) FROM schema_migrations")
        harness.psql(name, "DELETE FROM schema_migrations WHERE name = :'p1'", last)
        r = harness.run_cli(name, "serve", "--port", "0", timeout=30)
        t.eq(r.returncode, 1, "serve with the last migration unrecorded: exit")
        t.true("lacks 1 of" in r.stderr and last in r.stderr,
               "names the one missing migration %s: %r" % (last, r.stderr[-300:]))
        harness.psql(name, "INSERT INTO schema_migrations (name) VALUES (:'p1')", last)
        p = subprocess.Popen([harness.BIN, "serve", "--port", "0"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, cwd=harness.ROOT,
                             env=dict(os.environ, DATABASE_URL=harness.db_url(name)))
        try:
            line = p.stdout.readline()
            t.true(line.startswith("listening on"), "migrated: serve starts (%r)" % line)
        finally:
            p.terminate()
            p.wait(30)
    finally:
        harness.psql("postgres", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


def test_migrate_is_idempotent(t):
    before = t.value("SELECT count(*) FROM schema_migrations")
    r = t.cli("migrate")
    t.eq(r.returncode, 0, "exit: " + r.stderr)
    t.eq(r.stdout.strip(), "migrations applied: 0", "second run applies nothing")
    t.eq(t.value("SELECT count(*) FROM schema_migrations"), before, "migrations table")


def test_cli_errors_are_one_line_and_nonzero(t):
    for args in (["frobnicate"], ["serve", "--port", "notanumber"], ["serve", "--bogus", "1"],
                 ["serve", "--port", "70000"], ["migrate", "extra"], []):
        r = harness.run_cli(None, *args)
        t.true(r.returncode != 0, "%r should fail" % args)
        lines = r.stderr.strip().splitlines()
        t.eq(len(lines), 1, "one line for %r: %r" % (args, r.stderr))
        t.true(lines[0].startswith("sendbench: "), "prefix: %r" % lines[0])


def test_help_lists_commands(t):
    r = harness.run_cli(None, "--help")
    t.eq(r.returncode, 0, "exit")
    for c in ("serve", "migrate", "forecast", "backtest", "import", "token", "user"):
        t.true("sendbench " + c in r.stdout, "help lists " + c)
    for c in ("import sen2", "import neighbours", "import dsg", "import all"):
        t.true(c in r.stdout, "help lists " + c)


def test_schema_enforces_rules(t):
    bad = [
        # value and symbol both set
        "INSERT INTO observations (authority, metric, period, period_kind, period_start, value, symbol,"
        " published, source, version) VALUES ('E06000059','ehcp_caseload','2022','census_year',"
        " '2022-01-20', 1, 'c', true, 't', 1)",
        # unknown metric
        "INSERT INTO observations (authority, metric, period, period_kind, period_start, value,"
        " published, source, version) VALUES ('E06000059','nope','2022','census_year','2022-01-20',1,true,'t',1)",
        # bad period
        "INSERT INTO submissions (authority, period, version, content_type, figures)"
        " VALUES ('E06000059','2024 Q5',1,'application/json','{}')",
        # council token without authority
        "INSERT INTO tokens (hash, role) VALUES (decode(repeat('ab',32),'hex'), 'council')",
        # neighbour rank out of range
        "INSERT INTO statistical_neighbours VALUES ('E06000059', 11, 'E06000058', 'Close', 't')",
    ]
    for sql in bad:
        try:
            t.psql(sql)
        except RuntimeError:
            continue
        raise harness.TestFailure("accepted: " + sql)
    # observations checks its references once per statement (013): a row
    # naming an unknown authority, metric or submission fails the statement
    # with a foreign-key violation, even among good rows.
    good = ("('E06000059','ehcp_caseload','2019','census_year','2019-01-17',1,true,'t',1,NULL)")
    refs = [
        ("('E99999999','ehcp_caseload','2019','census_year','2019-01-17',1,true,'t',1,NULL)",
         "observations_authority_fkey"),
        ("('E06000059','no_such_metric','2019','census_year','2019-01-17',1,true,'t',1,NULL)",
         "observations_metric_fkey"),
        ("('E06000059','ehcp_caseload','2018','census_year','2018-01-18',1,false,'t',1,987654)",
         "observations_submission_id_fkey"),
    ]
    for row, constraint in refs:
        try:
            t.psql("INSERT INTO observations (authority, metric, period, period_kind, period_start,"
                   " value, published, source, version, submission_id) VALUES %s, %s"
                   % (good, row))
        except RuntimeError as e:
            t.true("violates foreign key constraint" in str(e) and constraint in str(e),
                   "foreign-key message: %s" % e)
            continue
        raise harness.TestFailure("accepted a row with a missing reference: " + row)
    t.eq(t.value("SELECT count(*) FROM observations WHERE period = '2019' AND source = 't'"), "0",
         "the good row went with the bad one")
    # The referenced keys are permanent.
    for sql in ("DELETE FROM authorities WHERE new_la_code = 'E06000059'",
                "UPDATE authorities SET new_la_code = 'E06999999' WHERE new_la_code = 'E06000059'",
                "TRUNCATE authorities CASCADE",
                "DELETE FROM metrics WHERE id = 'ehcp_caseload'",
                "UPDATE metrics SET id = 'ehcp_caseload2' WHERE id = 'ehcp_caseload'",
                "TRUNCATE metrics CASCADE", "TRUNCATE submissions CASCADE"):
        try:
            t.psql(sql)
        except RuntimeError as e:
            t.true("permanent" in str(e), "refusal names the rule: %s" % e)
            continue
        raise harness.TestFailure("a referenced key was removed by: " + sql)
    t.eq(t.value("SELECT count(*) FROM authorities WHERE new_la_code = 'E06000059'"), "1",
         "authority still there")
    t.psql("INSERT INTO observations (authority, metric, period, period_kind, period_start, value,"
           " published, source, version) VALUES ('E06000059','ehcp_caseload','2022','census_year',"
           " '2022-01-20', 3000, true, 't', 1)")
    for sql in ("UPDATE observations SET value = 1", "DELETE FROM observations"):
        try:
            t.psql(sql)
        except RuntimeError as e:
            t.true("append-only" in str(e), "append-only message: %s" % e)
            continue
        raise harness.TestFailure("history was changed by: " + sql)


def test_data_version_moves_once_per_write_statement(t):
    """015: the data version (what forecasts are judged stale against) moves
    once for each statement that adds observations, however many rows, and
    not for one that adds none."""
    v0 = int(t.value("SELECT data_version()"))
    cols = ("INSERT INTO observations (authority, metric, period, period_kind, period_start,"
            " value, published, source, version) ")
    t.psql(cols + "VALUES ('E06000059','ehcp_caseload','2017','census_year','2017-01-19',1,true,'dv',1),"
                  " ('E06000059','ehcp_caseload','2016','census_year','2016-01-21',1,true,'dv',1)")
    v1 = int(t.value("SELECT data_version()"))
    t.eq(v1, v0 + 1, "two rows, one statement, one step")
    t.psql(cols + "SELECT authority, metric, period, period_kind, period_start, value, published,"
                  " source, version + 1 FROM observations WHERE false")
    t.eq(int(t.value("SELECT data_version()")), v1, "a statement that adds nothing")
    t.true(t.value("SELECT count(*) FROM pg_indexes WHERE tablename = 'observations'"
                   " AND indexname = 'observations_pkey'") == "0", "no per-row id index")


def test_sigterm_finishes_in_flight_request_and_refuses_new(t):
    # A second server on the same database; a lock makes one request slow.
    srv = harness.Server(t.db)
    locker = subprocess.Popen(
        ["psql", "-X", "-q", "-h", harness.SOCK, "-U", "postgres", "-d", t.db],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    locker.stdin.write("BEGIN; LOCK TABLE metrics IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(1.5); COMMIT;\n")
    locker.stdin.flush()
    time.sleep(0.3)
    result = {}

    def slow():
        result["r"] = srv.request("GET", "/api/v1/metrics", timeout=20)

    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.3)
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    refused = False
    try:
        socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
    except OSError:
        refused = True
    t.true(refused, "new connections refused while draining")
    th.join(20)
    locker.stdin.close()
    locker.wait(10)
    t.eq(result.get("r", (None,))[0], 200, "in-flight request completed")
    t.eq(srv.proc.wait(20), 0, "exit status after SIGTERM")
    srv.log.close()
