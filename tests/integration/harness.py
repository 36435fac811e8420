"""Integration-test harness: a real PostgreSQL cluster (made by tests/run.sh),
real databases per test module, the real bin/sendbench server on a free
loopback port, and real HTTP.  Standard library only.

A test module tests/integration/test_*.py defines functions test_*(t) that
take a Ctx.  Optional module attributes:
  TEMPLATE = "empty" | "history"   database to clone (default "empty":
                                   migrated, no data; "history": the shipped
                                   DfE history imported)
  SERVER = True | False            start a server for the module (default True)
"""

import http.client
import json
import os
import signal
import subprocess
import time

BIN = os.environ.get("SENDBENCH_BIN", "bin/sendbench")
PGDIR = os.environ.get("SENDBENCH_PGDIR", "")
SOCK = os.path.join(PGDIR, "sock")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class TestFailure(AssertionError):
    pass


def debian_module(name):
    """Imports a module that a Debian package installs (python3-jsonschema,
    python3-openpyxl: make test's dependency step), also when python3 is
    another interpreter of the same version (pyenv) that does not search
    Debian's dist-packages."""
    import importlib
    import sys
    try:
        return importlib.import_module(name)
    except ImportError:
        if "/usr/lib/python3/dist-packages" not in sys.path:
            sys.path.append("/usr/lib/python3/dist-packages")
        return importlib.import_module(name)


def db_url(name):
    return "postgresql:///%s?host=%s&user=postgres" % (name, SOCK)


def psql(dbname, sql, *params):
    """Runs sql (with :'p1'-style psql variables p1..pn) and returns rows as
    lists of strings; raises on error."""
    cmd = ["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
           "-h", SOCK, "-U", "postgres", "-d", dbname]
    for i, p in enumerate(params, 1):
        cmd += ["-v", "p%d=%s" % (i, p)]
    out = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError("psql failed: %s" % out.stderr.strip())
    return [line.split("\t") for line in out.stdout.splitlines() if line != ""]


def psql_value(dbname, sql, *params):
    rows = psql(dbname, sql, *params)
    return rows[0][0] if rows else None


def approve_submissions(dbname):
    """Signs off, as a fixture, every submission version inserted by SQL
    and not yet decided: only approved versions are in force (sql/041).
    Sign-off itself is tested in test_returns; tests about tables, pages
    and forecasts start from figures in force."""
    psql(dbname, "INSERT INTO submission_states (submission_id, state, reason)"
                 " SELECT s.id, 'approved', 'test fixture' FROM submissions s"
                 " WHERE NOT EXISTS (SELECT 1 FROM submission_states x WHERE x.submission_id = s.id"
                 "                   AND x.state IN ('approved', 'rejected'));"
                 " INSERT INTO data_changes DEFAULT VALUES; NOTIFY sendbench_data")


def run_cli(dbname, *args, stdin=None, timeout=300, env=None):
    e = dict(os.environ)
    if dbname:
        e["DATABASE_URL"] = db_url(dbname)
    if env:
        e.update(env)
    return subprocess.run([BIN] + list(args), capture_output=True, text=True,
                          input=stdin, timeout=timeout, env=e, cwd=ROOT)


_templates = {}


def template(kind):
    """Makes (once per run) a migrated template database; "history" also has
    the shipped DfE data imported."""
    if kind in _templates:
        return _templates[kind]
    name = "tpl_" + kind
    psql("postgres", "CREATE DATABASE %s" % name)
    r = run_cli(name, "migrate")
    if r.returncode != 0:
        raise RuntimeError("migrate failed: " + r.stderr)
    if kind == "history":
        r = subprocess.run(["scripts/load_history.sh"], capture_output=True, text=True,
                           cwd=ROOT, env=dict(os.environ, DATABASE_URL=db_url(name),
                                              SENDBENCH_BIN=BIN), timeout=600)
        if r.returncode != 0:
            raise RuntimeError("loading history failed: " + r.stdout + r.stderr)
    # No connections may stay open on a template.
    _templates[kind] = name
    return name


_dbcount = [0]


def fresh_db(kind="empty"):
    tpl = template(kind)
    _dbcount[0] += 1
    name = "t%d_%d" % (os.getpid(), _dbcount[0])
    psql("postgres", "CREATE DATABASE %s TEMPLATE %s" % (name, tpl))
    return name


# What the forecast worker refits (server/forecast_worker.c): metrics with
# annual input and no run at the current forecast data version.
FORECASTS_PENDING = (
    "SELECT m.id FROM metrics m"
    " WHERE EXISTS (SELECT 1 FROM forecast_input f WHERE f.metric = m.id"
    "               AND f.period_kind = m.annual_period)"
    "   AND NOT EXISTS (SELECT 1 FROM forecast_runs r WHERE r.metric = m.id"
    "               AND r.frequency = 'annual' AND r.data_version >= forecast_data_version())")


def wait_forecasts(dbname, timeout=120):
    deadline = time.time() + timeout
    while True:
        pending = [r[0] for r in psql(dbname, FORECASTS_PENDING)]
        if not pending:
            return
        if time.time() > deadline:
            raise TestFailure("forecasts still pending after %ss: %s" % (timeout, pending))
        time.sleep(0.1)


class Server:
    def __init__(self, dbname, extra_args=(), env=None, tls_context=None):
        self.dbname = dbname
        self.tls_context = tls_context
        e = dict(os.environ)
        e["SENDBENCH_LOG_LEVEL"] = e.get("SENDBENCH_LOG_LEVEL", "warn")
        # Tests send bursts of requests from one address: the limiter runs,
        # with a limit they do not reach (test_security checks the limits).
        e.setdefault("SENDBENCH_RATE_LIMIT", "1000000")
        if env:
            e.update(env)
        self.log_path = os.path.join(PGDIR, "server-%s-%d.log" % (dbname, int(time.time() * 1000)))
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--port", "0", "--db", db_url(dbname)] + list(extra_args),
            stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=ROOT, env=e)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise RuntimeError("server did not start: %r (log %s)" % (line, self.log_path))
        self.port = int(line.strip().rsplit(":", 1)[1])
        self.wait_healthy()

    def wait_healthy(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                s, _, _ = self.request("GET", "/healthz", tls_context=self.tls_context)
                if s == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server not healthy within %ss" % timeout)

    def request(self, method, path, body=None, headers=None, timeout=30, source=None,
                tls_context=None):
        if tls_context is not None:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=tls_context,
                                               source_address=(source, 0) if source else None)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                              source_address=(source, 0) if source else None)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
                headers = dict(headers or {})
                headers.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def get_json(self, path, headers=None):
        s, h, b = self.request("GET", path, headers=headers)
        return s, json.loads(b) if b else None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class Ctx:
    """What a test gets: the module's database and server, and checks."""

    def __init__(self, dbname, server):
        self.db = dbname
        self.server = server

    # --- helpers
    def request(self, *a, **k):
        return self.server.request(*a, **k)

    def get_json(self, path, headers=None):
        return self.server.get_json(path, headers)

    def psql(self, sql, *params):
        return psql(self.db, sql, *params)

    def value(self, sql, *params):
        return psql_value(self.db, sql, *params)

    def cli(self, *args, **kw):
        return run_cli(self.db, *args, **kw)

    def wait_forecasts(self, timeout=120):
        """Waits until the forecast worker has fitted every metric at the
        current forecast data version: the readiness a test that reads
        forecasts after writing figures waits for."""
        wait_forecasts(self.db, timeout)

    # --- checks
    @staticmethod
    def eq(got, want, what=""):
        if got != want:
            raise TestFailure("%s: got %r, want %r" % (what or "value", got, want))

    @staticmethod
    def true(cond, what):
        if not cond:
            raise TestFailure(what)

    def json_error(self, status, body, want_status, want_code=None):
        """Checks an error reply has the contract's JSON shape."""
        self.eq(status, want_status, "status")
        try:
            doc = json.loads(body)
        except ValueError:
            raise TestFailure("error body is not JSON: %r" % body[:200])
        err = doc.get("error") if isinstance(doc, dict) else None
        self.true(isinstance(err, dict), "error body has no error object: %r" % doc)
        self.true(isinstance(err.get("code"), str) and isinstance(err.get("message"), str)
                  and isinstance(err.get("details"), list), "error shape: %r" % doc)
        if want_code:
            self.eq(err["code"], want_code, "error code")
        return err
