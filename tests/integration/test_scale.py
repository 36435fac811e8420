"""Several servers on one database (issue 20): one forecast worker leads,
elected with a session-level advisory lock; when the leader dies another
server takes over; a forecast write never replaces a newer fit."""

import atexit
import json
import re
import time

import harness
import test_forecasts

SERVER = False
REFIT = re.compile(r"forecast worker: \S+ refitted \(")
_state = {}


def log_text(server):
    with open(server.log_path) as f:
        return f.read()


def refits(server):
    return len(REFIT.findall(log_text(server)))


def wait_log(server, needle, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if needle in log_text(server):
            return time.time()
        time.sleep(0.05)
    raise harness.TestFailure("%r not logged within %ss (log %s)" % (needle, timeout,
                                                                     server.log_path))


def start(t):
    s = harness.Server(t.db, env={"SENDBENCH_LOG_LEVEL": "info"})
    # A failed check leaves no server running (the runner stops only its own).
    atexit.register(lambda: s.proc.poll() is None and s.stop())
    return s


def test_one_of_two_servers_refits(t):
    a = start(t)
    _state["a"] = a
    wait_log(a, "forecast worker: leading", 10)
    b = start(t)
    _state["b"] = b
    wait_log(b, "forecast worker: not leading (another instance leads)", 10)
    test_forecasts.seed(t)
    t.wait_forecasts()
    t.true(refits(a) >= 1, "the leader refitted after the data change")
    t.eq(refits(b), 0, "refits by the server that does not lead")
    t.eq(t.value("SELECT count(*) FROM forecast_runs WHERE metric = 'ehcp_caseload'"), "1",
         "one run stored")


def test_leader_killed_other_takes_over_and_refits(t):
    a, b = _state["a"], _state["b"]
    a.proc.kill()
    a.proc.wait()
    a.log.close()
    killed = time.time()
    took = wait_log(b, "forecast worker: leading", 20)
    t.true(took - killed <= 15, "new leader within 15 s (took %.1f s)" % (took - killed))
    before = refits(b)
    t.psql("INSERT INTO observations (authority, metric, period, period_kind, period_start,"
           " value, published, source, version) VALUES"
           " ('E06000100','ehcp_caseload','2023','census_year','2023-01-20',5000,true,'test',1);"
           " NOTIFY sendbench_data")
    t.wait_forecasts()
    t.true(refits(b) > before, "the new leader refitted after the next change")


def test_livez_and_readyz(t):
    b = _state["b"]
    s, h, body = b.request("GET", "/livez")
    t.eq((s, json.loads(body)), (200, {"status": "alive"}), "/livez")
    t.eq(h.get("cache-control"), "no-store", "/livez not cached")
    s, h, body = b.request("GET", "/readyz")
    t.eq((s, json.loads(body)), (200, {"status": "ready"}), "/readyz on a primary")


def test_forecast_write_never_replaces_newer_fit(t):
    b = _state["b"]
    # Rows stored by a fit newer than the one the worker is about to make
    # (as if another leader had finished first): marked, and their run
    # removed so that the worker refits the metric.  The refits are
    # counted before the change: the worker may refit before the next line.
    before = refits(b)
    t.psql("UPDATE forecasts SET data_version = data_version + 1000000,"
           " doc = doc || '{\"newer_fit\": true}'::jsonb WHERE metric = 'ehcp_caseload';"
           " DELETE FROM forecast_runs WHERE metric = 'ehcp_caseload';"
           " NOTIFY sendbench_data")
    rows = int(t.value("SELECT count(*) FROM forecasts WHERE metric = 'ehcp_caseload'"))
    t.true(rows > 0, "forecasts stored")
    t.wait_forecasts()
    t.true(refits(b) > before, "the worker refitted the metric")
    t.eq(t.value("SELECT count(*) FROM forecasts WHERE metric = 'ehcp_caseload'"
                 " AND doc ? 'newer_fit' AND data_version > 1000000"), str(rows),
         "newer rows kept")
    b.stop()
    t.eq(b.proc.returncode, 0, "SIGTERM exit status")
