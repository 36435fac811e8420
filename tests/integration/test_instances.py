"""A server that is one of several behind a load balancer (issue 20): the
client's address from X-Forwarded-For only via a trusted proxy (logs, rate
limits), request ids unique across instances or adopted from the proxy, a
drain delay on SIGTERM during which /readyz fails, migrations serialised by
their advisory lock, SQLSTATEs of a moving topology answered 503 with the
session remade, the change listener's heartbeat and cached replies marked
stale while it is down, libpq multi-host --db."""

import atexit
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import harness
import test_forecasts

SERVER = False
FORECAST = "/api/v1/forecasts/ehcp_caseload"
ID = re.compile(r"^[0-9a-f]{12}-[0-9]+$")


def start(t, args=(), env=None):
    e = {"SENDBENCH_LOG_LEVEL": "info"}
    e.update(env or {})
    s = harness.Server(t.db, extra_args=args, env=e)
    atexit.register(lambda: s.proc.poll() is None and s.stop())
    return s


def log_text(server):
    with open(server.log_path) as f:
        return f.read()


def wait_for(what, fn, timeout, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    raise harness.TestFailure("%s: not within %ss" % (what, timeout))


def test_forwarded_for_only_from_trusted_proxy(t):
    s = start(t, ["--trusted-proxy", "127.0.0.1, 10.0.0.0/8"], {"SENDBENCH_RATE_LIMIT": "5"})
    try:
        xff = {"X-Forwarded-For": "6.6.6.6, 198.51.100.1"}
        codes = [s.request("GET", "/api/v1/metrics", headers=xff)[0] for _ in range(6)]
        t.eq(codes, [200] * 5 + [429], "one client behind the proxy: its own bucket")
        st, h, b = s.request("GET", "/api/v1/metrics",
                             headers={"X-Forwarded-For": "198.51.100.2"})
        t.eq(st, 200, "another client behind the same proxy is not limited with the first")
        # The forged entry left of the proxy's is not believed: the client
        # whose bucket is empty cannot escape it by prepending addresses.
        st, h, b = s.request("GET", "/api/v1/metrics",
                             headers={"X-Forwarded-For": "203.0.113.50, 198.51.100.1"})
        t.json_error(st, b, 429, "rate_limited")
        # Many forged X-Forwarded-For lines before the proxy's own (the last)
        # do not push it out.
        conn = __import__("http.client").client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        conn.putrequest("GET", "/api/v1/metrics")
        for i in range(12):
            conn.putheader("X-Forwarded-For", "192.0.2.%d" % i)
        conn.putheader("X-Forwarded-For", "198.51.100.1")
        conn.endheaders()
        t.eq(conn.getresponse().status, 429, "the last X-Forwarded-For line is the proxy's")
        conn.close()
        # From a peer that is not a trusted proxy the header is ignored:
        # the peer itself is the client, whatever it claims.
        codes = [s.request("GET", "/api/v1/metrics", source="127.0.0.2",
                           headers={"X-Forwarded-For": "192.0.2.%d" % i})[0] for i in range(6)]
        t.eq(codes, [200] * 5 + [429], "an untrusted peer's X-Forwarded-For changes no bucket")
        log = log_text(s)
        t.true("client=198.51.100.1" in log, "access log names the forwarded client")
        t.true("client=127.0.0.2" in log, "access log names an untrusted peer itself")
        t.true("client=192.0.2." not in log and "client=6.6.6.6" not in log,
               "no address a client wrote is logged as the client")
    finally:
        t.eq(s.stop(), 0, "exit status")


def test_request_ids_unique_across_instances_or_adopted(t):
    a = start(t, ["--trusted-proxy", "127.0.0.1"])
    b = start(t)
    try:
        ids = set()
        for srv in (a, b):
            for _ in range(3):
                st, h, _ = srv.request("GET", "/livez")
                rid = h.get("x-request-id", "")
                t.true(ID.match(rid), "request id %r is <instance>-<n>" % rid)
                ids.add(rid)
        t.eq(len(ids), 6, "six requests to two servers, six ids")
        prefixes = {i.split("-")[0] for i in ids}
        t.eq(len(prefixes), 2, "each server its own instance id")
        st, h, _ = a.request("GET", "/livez", headers={"X-Request-Id": "hap-7f3a:1.2"})
        t.eq(h.get("x-request-id"), "hap-7f3a:1.2", "a trusted proxy's id adopted")
        t.true("id=hap-7f3a:1.2" in log_text(a), "adopted id in the access log")
        st, h, _ = a.request("GET", "/livez", headers={"X-Request-Id": "bad id\x01"[:6]})
        t.true(ID.match(h.get("x-request-id", "")), "an id with other characters is not adopted")
        st, h, _ = a.request("GET", "/livez", headers={"X-Request-Id": "x" * 65})
        t.true(ID.match(h.get("x-request-id", "")), "an over-long id is not adopted")
        st, h, _ = b.request("GET", "/livez", headers={"X-Request-Id": "spoofed-1"})
        t.true(ID.match(h.get("x-request-id", "")), "an untrusted peer's id is not adopted")
    finally:
        t.eq(a.stop(), 0, "exit status a")
        t.eq(b.stop(), 0, "exit status b")


def test_sigterm_readyz_fails_for_the_drain_delay_then_socket_closes(t):
    s = start(t, ["--drain-delay", "2"])
    wait_for("ready before", lambda: wait_readyz(s, 200), 10)
    s.proc.send_signal(signal.SIGTERM)
    signalled = time.time()
    # (the signal reaches the loop between two requests: poll briefly)
    st, h, b = wait_for("readyz fails on SIGTERM", lambda: ready_reply(s, 503), 1.0, 0.01)
    t.true(b"draining" in b, "reason says draining: %r" % b)
    t.eq(h.get("connection"), "close", "keep-alive connections are closed while draining")
    t.eq(s.request("GET", "/api/v1/metrics")[0], 200, "requests still served in the delay")
    t.eq(s.request("GET", "/livez")[0], 200, "still alive in the delay")

    def refused():
        try:
            socket.create_connection(("127.0.0.1", s.port), timeout=1).close()
            return False
        except OSError:
            return True
    wait_for("socket closed", refused, 6)
    closed = time.time() - signalled
    t.true(1.8 <= closed <= 4.0, "socket closed after the 2 s delay (%.2f s)" % closed)
    s.proc.wait(timeout=30)
    t.eq(s.proc.returncode, 0, "exit status")
    s.log.close()


def test_concurrent_migrations_on_a_new_database(t):
    name = "mig_%d" % os.getpid()
    harness.psql("postgres", "CREATE DATABASE %s" % name)
    try:
        env = dict(os.environ, DATABASE_URL=harness.db_url(name))
        procs = [subprocess.Popen([harness.BIN, "migrate"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env, cwd=harness.ROOT)
                 for _ in range(4)]
        outs = [p.communicate(timeout=300) for p in procs]
        t.eq([p.returncode for p in procs], [0] * 4,
             "four concurrent migrate runs succeed: %r" % [o[1] for o in outs])
        applied = [int(o[0].split(":")[1]) for o in outs]
        files = [f for f in os.listdir(os.path.join(harness.ROOT, "sql")) if f.endswith(".sql")]
        t.eq(sum(applied), len(files), "each migration applied once in all (%r)" % applied)
        t.eq(harness.psql_value(name, "SELECT count(*) FROM schema_migrations"), str(len(files)),
             "recorded once each")
    finally:
        harness.psql("postgres", "DROP DATABASE %s" % name)


def submission(n):
    return {"authority": "E06000100", "period": "2023-24 Q%d" % (1 + n % 4),
            "figures": {"ehcp_caseload": 3000 + n}}


def test_read_only_session_is_503_and_remade(t):
    test_forecasts.seed(t)
    r = t.cli("token", "create", "--admin")
    t.eq(r.returncode, 0, "token: " + r.stderr)
    auth = {"Authorization": "Bearer " + r.stdout.strip()}
    # New sessions of this database are read-only, as on a standby: a
    # write fails with SQLSTATE 25006.
    harness.psql("postgres", "ALTER DATABASE %s SET default_transaction_read_only = on" % t.db)
    s = start(t, ["--pool-size", "2"])
    try:
        st, h, b = s.request("POST", "/api/v1/submissions", body=submission(1), headers=auth)
        t.json_error(st, b, 503, "database_unavailable")
        t.eq(h.get("retry-after"), "2", "Retry-After")
        t.true("SQLSTATE 25006" in log_text(s), "the session was dropped for 25006")
        harness.psql("postgres", "ALTER DATABASE %s RESET default_transaction_read_only" % t.db)
        # Sessions made from now on are writable; one made while the
        # database was read-only answers its first write 503 and is remade,
        # so within a few writes every session is writable and none lingers.
        n = [0]
        streak = [0]

        def writable():
            n[0] += 1
            st, h, b = s.request("POST", "/api/v1/submissions", body=submission(1 + n[0]),
                                 headers=auth)
            t.true(st in (201, 503), "only 201 or 503 meanwhile: %d %r" % (st, b[:200]))
            streak[0] = streak[0] + 1 if st == 201 else 0
            return streak[0] >= 8
        wait_for("eight writes in a row succeed", writable, 10, 0.05)
        t.true(n[0] <= 8 + 3, "at most one 503 per pooled session (%d writes)" % n[0])
    finally:
        harness.psql("postgres", "ALTER DATABASE %s RESET default_transaction_read_only" % t.db)
        t.eq(s.stop(), 0, "exit status")


def test_catalogue_reloads_when_the_metrics_table_changes(t):
    r = t.cli("token", "create", "--admin")
    t.eq(r.returncode, 0, "token: " + r.stderr)
    auth = {"Authorization": "Bearer " + r.stdout.strip()}
    body = {"authority": "E06000100", "period": "2022-23 Q3", "figures": {"new_plans_issued": 40}}
    t.psql("UPDATE metrics SET submittable = false WHERE id = 'new_plans_issued'")
    s = start(t)
    try:
        st, h, b = s.request("POST", "/api/v1/submissions", body=body, headers=auth)
        err = t.json_error(st, b, 422)
        t.true("new_plans_issued" in json.dumps(err), "the metric is named: %r" % err)
        # The catalogue changes while the server runs: the next submission
        # is judged by the new one, without a restart.
        t.psql("UPDATE metrics SET submittable = true WHERE id = 'new_plans_issued'")
        wait_for("accepted after the change", lambda: s.request(
            "POST", "/api/v1/submissions", body=body, headers=auth)[0] == 201, 5, 0.1)
        t.true(log_text(s).count("catalogue: ") >= 2, "the catalogue was read again")
    finally:
        t.psql("UPDATE metrics SET submittable = true WHERE id = 'new_plans_issued'")
        t.eq(s.stop(), 0, "exit status")


def test_terminated_sessions_answer_503_never_500(t):
    s = start(t)
    try:
        t.eq(s.request("GET", "/api/v1/metrics")[0], 200, "before")
        stop = threading.Event()
        codes = []

        def load():
            while not stop.is_set():
                codes.append(s.request("GET", "/api/v1/authorities")[0])
        th = threading.Thread(target=load, daemon=True)
        th.start()
        for _ in range(5):
            t.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                   " WHERE datname = current_database() AND application_name = 'sendbench'")
            time.sleep(0.3)
        stop.set()
        th.join(30)
        t.true(codes, "requests were made")
        t.true(set(codes) <= {200, 503}, "only 200 or 503 while sessions were killed: %r"
               % sorted(set(codes)))
        wait_for("recovered", lambda: s.request("GET", "/api/v1/authorities")[0] == 200, 10)
    finally:
        t.eq(s.stop(), 0, "exit status")


def listener_pid(t):
    return t.value("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                   " AND application_name = 'sendbench-listen'")


def test_listener_heartbeat_and_stale_cache(t):
    s = start(t)
    try:
        harness.wait_forecasts(t.db)
        t.eq(s.request("GET", FORECAST)[0], 200, "forecast computed")
        st, h, b = s.request("GET", FORECAST)
        fresh_cc = h.get("cache-control")
        t.true(fresh_cc and "no-cache" not in fresh_cc and not h.get("warning"),
               "a cached reply served fresh while the listener hears: %r" % fresh_cc)
        wait_for("heartbeat", lambda: wait_readyz(s, 200), 5)
        # A listener that looks up and hears nothing: its backend stopped
        # (the connection stays open).  The heartbeat goes unheard, the
        # listener is remade.
        pid = wait_for("listener backend", lambda: listener_pid(t), 5)
        os.kill(int(pid), signal.SIGSTOP)
        try:
            try:
                wait_for("heartbeat missed", lambda: "not heard" in log_text(s), 8)
            except harness.TestFailure:
                raise harness.TestFailure("heartbeat not missed (pid %s, listeners %r): %s" % (
                    pid, t.psql("SELECT pid, state FROM pg_stat_activity WHERE application_name"
                                " = 'sendbench-listen'"), log_text(s)[-3000:]))
            wait_for("ready again on a new listener", lambda: wait_readyz(s, 200), 8)
            t.eq(t.value("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                         " AND application_name = 'sendbench-listen' AND pid <> %s" % pid), "1",
                 "a new listening session")
        finally:
            os.kill(int(pid), signal.SIGCONT)
        # A listener that cannot come back: new sessions refused, the
        # listening one ended.  Cached replies still answer, never as fresh.
        # (from another database: this one takes no new sessions)
        harness.psql("postgres", "ALTER DATABASE %s ALLOW_CONNECTIONS false" % t.db)
        try:
            harness.psql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         " WHERE datname = '%s' AND application_name = 'sendbench-listen'" % t.db)
            st, h, b = wait_for("readyz 503", lambda: ready_reply(s, 503), 5)
            t.true(b"listener" in b, "reason names the listener: %r" % b)
            st, h, b = s.request("GET", FORECAST)
            t.eq(st, 200, "a kept reply still answers")
            t.eq(h.get("cache-control"), "no-cache", "not cacheable downstream")
            t.true("Stale" in (h.get("warning") or ""), "marked stale: %r" % h.get("warning"))
        finally:
            harness.psql("postgres", "ALTER DATABASE %s ALLOW_CONNECTIONS true" % t.db)
        wait_for("ready after the listener is back", lambda: wait_readyz(s, 200), 10)
        st, h, b = s.request("GET", FORECAST)
        st, h, b = s.request("GET", FORECAST)
        t.eq(h.get("cache-control"), fresh_cc, "fresh again")
        t.eq(h.get("warning"), None, "no warning")
    finally:
        t.eq(s.stop(), 0, "exit status")


def ready_reply(s, want):
    r = s.request("GET", "/readyz")
    return r if r[0] == want else None


def wait_readyz(s, want):
    return ready_reply(s, want) is not None


def test_multi_host_db_finds_the_writable_one(t):
    # libpq multi-host: the first host does not exist; the second is the
    # cluster, required to be writable.
    url = ("postgresql:///%s?host=/nonexistent-sendbench,%s&user=postgres"
           "&target_session_attrs=read-write" % (t.db, harness.SOCK))
    e = dict(os.environ, SENDBENCH_LOG_LEVEL="info", SENDBENCH_RATE_LIMIT="1000000")
    log_path = os.path.join(harness.PGDIR, "server-multihost-%d.log" % os.getpid())
    log = open(log_path, "w")
    p = subprocess.Popen([harness.BIN, "serve", "--port", "0", "--db", url],
                         stdout=subprocess.PIPE, stderr=log, text=True, cwd=harness.ROOT, env=e)
    try:
        line = p.stdout.readline()
        t.true(line.startswith("listening on "), "started: %r" % line)
        port = int(line.strip().rsplit(":", 1)[1])
        srv = harness.Server.__new__(harness.Server)
        srv.port, srv.tls_context = port, None
        try:
            wait_for("ready", lambda: ready_reply(srv, 200), 10)
        except harness.TestFailure:
            raise harness.TestFailure("not ready: %r; log %s" % (srv.request("GET", "/readyz"),
                                                                 log_path))
        s, _, b = srv.request("GET", "/api/v1/metrics")
        t.eq(s, 200, "queries on the second host")
    finally:
        p.send_signal(signal.SIGTERM)
        t.eq(p.wait(timeout=30), 0, "exit status")
        log.close()
