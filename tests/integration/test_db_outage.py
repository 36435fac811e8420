"""The database goes away and comes back: 503 meanwhile, recovery alone."""

import subprocess
import time

import harness


def pg_ctl(action):
    r = subprocess.run(["bash", "-c", '. scripts/pg.sh && pg_%s "$SENDBENCH_PGDIR"' % action],
                       cwd=harness.ROOT, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("pg_%s: %s" % (action, r.stderr))


def test_healthz_503_while_database_down_then_recovers(t):
    t.eq(t.request("GET", "/healthz")[0], 200, "healthy before")
    pg_ctl("stop")
    try:
        time.sleep(0.3)
        s, h, b = t.request("GET", "/healthz")
        t.eq(s, 503, "healthz while down")
        t.true(b'"unavailable"' in b and b"reason" in b, "reason given: %r" % b)
        s, h, b = t.request("GET", "/api/v1/metrics")
        t.json_error(s, b, 503, "database_unavailable")
        t.true(h.get("retry-after"), "Retry-After on 503")
        t.eq(t.server.proc.poll(), None, "server still running")
    finally:
        pg_ctl("start")
    deadline = time.time() + 15
    status = None
    while time.time() < deadline:
        status = t.request("GET", "/healthz")[0]
        if status == 200:
            break
        time.sleep(0.2)
    t.eq(status, 200, "healthz recovers by itself")
    t.eq(t.request("GET", "/api/v1/metrics")[0], 200, "queries work again")
    s, h, b = t.request("GET", "/metrics")
    t.true(b"sendbench_db_reconnects_total" in b, "reconnects counted")
