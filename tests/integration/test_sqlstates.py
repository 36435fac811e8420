"""SQLSTATEs of a busy or moving database answered 503 with Retry-After,
never 500, provoked for real on PostgreSQL (issue 20; server/db_errors.c):

  40P01  a deadlock between a submission and a second session
  40001  a serialization failure (repeatable read, a concurrent update)
  57P01  the submission's backend ended by pg_terminate_backend
  08xxx  the connection cut under a submission (a TCP relay closed)

Each time the answer is 503 database_unavailable with Retry-After, the
submission retried with the same Idempotency-Key is stored exactly once,
and after 57P01 and a cut connection the session is remade (a new backend,
the pool full again).  The submission is held at a known point by a
trigger that updates two rows of a probe table, which a psql session
locks; nothing here depends on timing but the deadlock detector's own
deadlock_timeout (1 s)."""

import json
import os
import socket
import subprocess
import threading
import time
import uuid

import harness

SERVER = False
AUTH = "E06000059"
TOK = {}


def test_setup(t):
    t.psql("INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name)"
           " VALUES ('%s', '838', 'Dorset', 'E12000009', 'South West')" % AUTH)
    r = t.cli("token", "create", "--admin")
    t.eq(r.returncode, 0, "token: " + r.stderr)
    TOK["admin"] = r.stdout.strip()
    # Each submission updates probe rows 1 then 2 in its own transaction.
    t.psql("CREATE TABLE sqlstate_probe (id int PRIMARY KEY, n int NOT NULL);"
           " INSERT INTO sqlstate_probe VALUES (1, 0), (2, 0);"
           " GRANT SELECT, UPDATE ON sqlstate_probe TO sendbench_app;"
           " CREATE FUNCTION sqlstate_probe_touch() RETURNS trigger LANGUAGE plpgsql AS $$"
           " BEGIN UPDATE sqlstate_probe SET n = n + 1 WHERE id = 1;"
           " UPDATE sqlstate_probe SET n = n + 1 WHERE id = 2; RETURN NEW; END $$;"
           " CREATE TRIGGER sqlstate_probe BEFORE INSERT ON submissions"
           " FOR EACH ROW EXECUTE FUNCTION sqlstate_probe_touch()")


class Session:
    """A psql session driven line by line."""

    def __init__(self, t):
        self.p = subprocess.Popen(
            ["psql", "-X", "-q", "-At", "-h", harness.SOCK, "-U", "postgres", "-d", t.db],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def send(self, sql):
        self.p.stdin.write(sql + "\n")
        self.p.stdin.flush()

    def ask(self, sql, mark):
        self.send(sql + "\nSELECT '%s';" % mark)
        line = self.p.stdout.readline().strip()
        if line != mark:
            raise harness.TestFailure("psql: %r (%s)" % (line, self.p.stderr.read()[:300]))

    def close(self):
        if self.p.poll() is None:
            self.send("ROLLBACK;")
            self.p.stdin.close()
            self.p.wait(30)


def wait_for(what, cond, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise harness.TestFailure("timed out waiting for " + what)


def waiting_backend(t):
    """The server's backend that waits for a probe row's lock, or None."""
    return t.value("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                   " AND application_name = 'sendbench' AND wait_event_type = 'Lock'") or None


def submission(quarter):
    return {"authority": AUTH, "period": quarter, "figures": {"ehcp_caseload": 3100}}


def post(srv, quarter, key, out):
    s, h, b = srv.request("POST", "/api/v1/submissions", body=submission(quarter), timeout=60,
                          headers={"Authorization": "Bearer " + TOK["admin"],
                                   "Idempotency-Key": key})
    out.append((s, h, b))


def held_post(t, srv, quarter, key):
    """Starts the submission in a thread; returns when its backend waits."""
    out = []
    th = threading.Thread(target=post, args=(srv, quarter, key, out))
    th.start()
    pid = wait_for("the submission to wait for the probe's lock", lambda: waiting_backend(t))
    return th, out, pid


def answered_503(t, out, what):
    t.eq(len(out), 1, what + ": answered")
    s, h, b = out[0]
    t.json_error(s, b, 503, "database_unavailable")
    t.eq(h.get("retry-after"), "2", what + ": Retry-After")
    return json.loads(b)["error"]["message"]


def retried_once(t, srv, quarter, key, what):
    out = []
    post(srv, quarter, key, out)
    t.true(out[0][0] in (200, 201), what + ": the retry is stored: %d %r" % (out[0][0],
                                                                           out[0][2][:200]))
    t.eq(stored(t, key), "1", what + ": stored exactly once")


def stored(t, key):
    return t.value("SELECT count(*) FROM submissions WHERE idempotency_key = '%s'" % key)


def log_text(srv):
    with open(srv.log_path) as f:
        return f.read()


def server_backends(t):
    return [r[0] for r in t.psql("SELECT pid FROM pg_stat_activity WHERE datname ="
                                 " current_database() AND application_name = 'sendbench'")]


def test_deadlock_is_503_and_the_retry_succeeds(t):
    srv = harness.Server(t.db, ["--pool-size", "2"])
    lock = Session(t)
    key = str(uuid.uuid4())
    try:
        # The second session holds row 2 and will wait for row 1 after the
        # submission (holding row 1) waits for row 2: a deadlock, which the
        # submission's backend detects first (this session waits longer).
        lock.ask("BEGIN; SET LOCAL deadlock_timeout = '60s';"
                 " UPDATE sqlstate_probe SET n = n + 1 WHERE id = 2;", "locked")
        th, out, pid = held_post(t, srv, "2023-24 Q1", key)
        lock.ask("UPDATE sqlstate_probe SET n = n + 1 WHERE id = 1;", "got row 1")
        th.join(30)
        answered_503(t, out, "40P01")
        t.eq(stored(t, key), "0", "40P01: nothing stored")
        lock.ask("COMMIT;", "committed")
        retried_once(t, srv, "2023-24 Q1", key, "40P01")
    finally:
        lock.close()
        t.eq(srv.stop(), 0, "exit status")
    t.true("SQLSTATE 40P01" in log_text(srv), "the log names SQLSTATE 40P01")


def test_serialization_failure_is_503_and_the_retry_succeeds(t):
    # Sessions made from now on run repeatable read: a row updated by a
    # transaction that commits after the submission's snapshot fails it.
    harness.psql("postgres", "ALTER DATABASE %s SET default_transaction_isolation ="
                             " 'repeatable read'" % t.db)
    lock = Session(t)
    key = str(uuid.uuid4())
    srv = None
    try:
        srv = harness.Server(t.db, ["--pool-size", "2"])
        lock.ask("BEGIN; UPDATE sqlstate_probe SET n = n + 1 WHERE id = 1;", "locked")
        th, out, pid = held_post(t, srv, "2023-24 Q2", key)
        lock.ask("COMMIT;", "committed")
        th.join(30)
        answered_503(t, out, "40001")
        t.eq(stored(t, key), "0", "40001: nothing stored")
        retried_once(t, srv, "2023-24 Q2", key, "40001")
        t.true(pid in server_backends(t), "40001: the session is kept (nothing wrong with it)")
    finally:
        lock.close()
        harness.psql("postgres", "ALTER DATABASE %s RESET default_transaction_isolation" % t.db)
        if srv:
            t.eq(srv.stop(), 0, "exit status")
    t.true("SQLSTATE 40001" in log_text(srv), "the log names SQLSTATE 40001")


def test_terminated_backend_is_503_and_remade(t):
    srv = harness.Server(t.db, ["--pool-size", "2"], env={"SENDBENCH_LOG_LEVEL": "info"})
    lock = Session(t)
    key = str(uuid.uuid4())
    try:
        wait_for("both sessions up", lambda: len(server_backends(t)) == 2)
        lock.ask("BEGIN; UPDATE sqlstate_probe SET n = n + 1 WHERE id = 1;", "locked")
        th, out, pid = held_post(t, srv, "2023-24 Q3", key)
        t.eq(t.value("SELECT pg_terminate_backend(%s)" % pid), "t", "backend terminated")
        th.join(30)
        answered_503(t, out, "57P01")
        lock.ask("ROLLBACK;", "rolled back")
        wait_for("the session remade", lambda: len(server_backends(t)) == 2 and
                 pid not in server_backends(t))
        # (libpq reads the FATAL 57P01 and the closed socket together: the
        # log names the one or the other)
        log = log_text(srv)
        t.true("SQLSTATE 57P01" in log or "connection lost: FATAL:  terminating connection"
               " due to administrator command" in log,
               "the session was dropped for 57P01: %s" % log[-1500:])
        t.eq(stored(t, key), "0", "57P01: nothing stored")
        retried_once(t, srv, "2023-24 Q3", key, "57P01")
    finally:
        lock.close()
        t.eq(srv.stop(), 0, "exit status")


class Relay:
    """A TCP relay to the cluster's socket that can cut every connection."""

    def __init__(self, t):
        port = t.value("SHOW port")
        self.target = os.path.join(harness.SOCK, ".s.PGSQL.%s" % port)
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        self.socks = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.closed:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            u = socket.socket(socket.AF_UNIX)
            u.connect(self.target)
            with self.lock:
                self.socks += [c, u]
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.closed = True
        self.ls.close()
        self.cut()


def test_cut_connection_is_503_and_remade(t):
    relay = Relay(t)
    url = "postgresql://postgres@127.0.0.1:%d/%s" % (relay.port, t.db)
    lock = Session(t)
    key = str(uuid.uuid4())
    srv = None
    try:
        srv = harness.Server(t.db, ["--pool-size", "2", "--db", url],
                             env={"SENDBENCH_LOG_LEVEL": "info"})
        wait_for("both sessions up", lambda: len(server_backends(t)) == 2)
        before = server_backends(t)
        lock.ask("BEGIN; UPDATE sqlstate_probe SET n = n + 1 WHERE id = 1;", "locked")
        th, out, pid = held_post(t, srv, "2023-24 Q4", key)
        relay.cut()
        th.join(30)
        answered_503(t, out, "connection lost")
        # The backend that lost its client finishes when the lock goes:
        # the retry with the same key then finds it stored, or stores it.
        lock.ask("ROLLBACK;", "rolled back")
        wait_for("the sessions remade", lambda: len(
            [p for p in server_backends(t) if p not in before]) == 2, 20)
        t.true("connection lost" in log_text(srv), "the lost sessions are logged")
        retried_once(t, srv, "2023-24 Q4", key, "connection lost")
    finally:
        lock.close()
        if srv:
            t.eq(srv.stop(), 0, "exit status")
        relay.close()
