"""Faults under a write load: PostgreSQL stopped and restarted, the server
killed with SIGKILL, the server stopped with SIGTERM.  Nothing acknowledged
may be lost, nothing partial may stay, and the server must recover alone.

A "write load" is WRITERS client threads, each POSTing valid submissions
(admin token, rotating authorities and quarters) as fast as they are
answered, recording every answer."""

import json
import signal
import socket
import subprocess
import threading
import time

import harness

SERVER = False
WRITERS = 4
AUTHS = ["E06000059", "E06000058", "E06000052", "E09000001", "E08000025", "E10000016"]
QUARTERS = ["%d-%02d Q%d" % (y, (y + 1) % 100, q) for y in range(2015, 2024) for q in (1, 2, 3, 4)]
TABLE = "/api/v1/tables/ehcp_caseload?period=2022"
TOK = {}


def pg_ctl(action):
    r = subprocess.run(["bash", "-c", '. scripts/pg.sh && pg_%s "$SENDBENCH_PGDIR"' % action],
                       cwd=harness.ROOT, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("pg_%s: %s" % (action, r.stderr))


class WriteLoad:
    """WRITERS threads POSTing submissions until stop(); pause()/resume()
    hold them between requests.  results: (status, id or None, retry-after,
    time) per answered request; errors: connection-level failures."""

    def __init__(self, srv, writers=WRITERS, stop_on_error=False):
        self.srv = srv
        self.results = []
        self.errors = []
        self.lock = threading.Lock()
        self.running = threading.Event()
        self.running.set()
        self.done = False
        self.busy = 0
        self.stop_on_error = stop_on_error
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(writers)]
        for th in self.threads:
            th.start()

    def body(self, i, n):
        a = AUTHS[(i + n) % len(AUTHS)]
        p = QUARTERS[(i * 7 + n) % len(QUARTERS)]
        return {"authority": a, "period": p,
                "figures": {"ehcp_caseload": 3000 + n, "new_plans_issued": 100 + i,
                            "new_plans_within_20_weeks": 50}}

    def run(self, i):
        n = 0
        while not self.done:
            self.running.wait()
            if self.done:
                break
            with self.lock:
                self.busy += 1
            try:
                n += 1
                s, h, b = self.srv.request("POST", "/api/v1/submissions", body=self.body(i, n),
                                           headers={"Authorization": "Bearer " + TOK["admin"]},
                                           timeout=30)
                sid = json.loads(b).get("id") if s == 201 else None
                with self.lock:
                    self.results.append((s, sid, h.get("retry-after"), time.time(), b[:200]))
                if s == 503:
                    time.sleep(0.05)
            except Exception as e:  # connection refused/reset
                with self.lock:
                    self.errors.append((time.time(), repr(e)))
                if self.stop_on_error:
                    break
                time.sleep(0.05)
            finally:
                with self.lock:
                    self.busy -= 1

    def pause(self):
        self.running.clear()
        deadline = time.time() + 30
        while self.busy and time.time() < deadline:
            time.sleep(0.01)

    def resume(self):
        self.running.set()

    def stop(self):
        self.done = True
        self.running.set()
        for th in self.threads:
            th.join(60)

    def ids(self):
        return [sid for s, sid, _, _, _ in self.results if s == 201]


def test_setup(t):
    t.psql("INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name) VALUES "
           + ", ".join("('%s', '%03d', 'Authority %d', 'E12000009', 'South West')" % (a, 800 + i, i)
                       for i, a in enumerate(AUTHS)))
    t.psql("INSERT INTO observations (authority, metric, period, period_kind, period_start, value,"
           " published, source, version) SELECT new_la_code, 'ehcp_caseload', '2022', 'census_year',"
           " '2022-01-20', 1000 + row_number() OVER (ORDER BY new_la_code), true, 'seed', 1"
           " FROM authorities")
    r = t.cli("token", "create", "--admin")
    t.eq(r.returncode, 0, "token: " + r.stderr)
    TOK["admin"] = r.stdout.strip()


def integrity(t, what):
    """No partial submission: every submission has one observation per
    figure and its audit row; no submission observation lacks its
    submission."""
    bad = t.psql("""SELECT s.id FROM submissions s
                    WHERE (SELECT count(*) FROM observations o WHERE o.submission_id = s.id)
                          <> (SELECT count(*) FROM jsonb_object_keys(s.figures))
                       OR NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'submission.create'
                                      AND (a.detail->>'submission_id')::bigint = s.id)""")
    t.eq(bad, [], "%s: submissions without all their observations or audit row" % what)
    orphans = t.value("""SELECT count(*) FROM observations o WHERE o.source = 'submission'
                         AND (o.submission_id IS NULL OR NOT EXISTS
                              (SELECT 1 FROM submissions s WHERE s.id = o.submission_id))""")
    t.eq(orphans, "0", "%s: observations without their submission" % what)


def all_present(t, ids, what):
    if not ids:
        return
    got = t.value("SELECT count(*) FROM submissions WHERE id = ANY(:'p1'::bigint[])",
                  "{" + ",".join(str(i) for i in ids) + "}")
    t.eq(int(got), len(set(ids)), "%s: every submission answered 201 is in the database" % what)


FIGURES = {}


def test_database_stopped_during_write_load(t):
    srv = harness.Server(t.db)
    load = None
    try:
        load = WriteLoad(srv)
        time.sleep(1.0)
        # The table is asked for with the writers paused (each accepted
        # submission empties the table cache), then PostgreSQL stops.
        load.pause()
        time.sleep(0.5)
        s, h, table_before = srv.request("GET", TABLE)
        t.eq(s, 200, "table before the outage")
        t_stop = time.time()
        pg_ctl("stop")
        t_down = time.time()
        load.resume()
        try:
            time.sleep(1.5)
            s, h, b = srv.request("GET", TABLE)
            t.eq(s, 200, "cached table answers while PostgreSQL is down")
            t.eq(b, table_before, "the same table")
            s, h, b = srv.request("GET", "/healthz")
            t.eq(s, 503, "healthz while down")
            t.eq(srv.proc.poll(), None, "server up")
        finally:
            pg_ctl("start")
        t_up = time.time()
        deadline = time.time() + 20
        while time.time() < deadline and srv.request("GET", "/healthz")[0] != 200:
            time.sleep(0.1)
        t_healthy = time.time()
        t.eq(srv.request("GET", "/healthz")[0], 200, "reconnected by itself")
        time.sleep(1.5)
        load.stop()
        during = [r for r in load.results if t_down + 0.2 < r[3] < t_up]
        t.true(during, "writes were attempted during the outage")
        t.true(all(r[0] == 503 for r in during),
               "every write during the outage got 503: %r" % sorted({r[0] for r in during}))
        t.true(all(r[2] for r in during), "503 carries Retry-After")
        t.true(all(b'"database_unavailable"' in r[4] for r in during), "503 is the JSON error")
        after = [r for r in load.results if r[3] > t_healthy + 0.2]
        t.true(after and all(r[0] == 201 for r in after),
               "writes succeed again after recovery: %r" % sorted({r[0] for r in after}))
        t.eq(load.errors, [], "no connection failures")
        codes = sorted({r[0] for r in load.results})
        t.true(set(codes) <= {201, 503}, "only 201 and 503: %r" % codes)
        ids = load.ids()
        all_present(t, ids, "outage")
        integrity(t, "outage")
        FIGURES["outage"] = (len(load.results), len(ids), len(during), t_healthy - t_up,
                             t_down - t_stop)
        print("    outage: %d writes, %d acknowledged, %d refused with 503 while down; "
              "healthy %.2fs after PostgreSQL restarted" % FIGURES["outage"][:4])
    finally:
        if load:
            load.stop()
        t.eq(srv.stop(), 0, "clean exit")


def test_sigkill_during_write_load_leaves_no_partial_submission(t):
    before = int(t.value("SELECT count(*) FROM submissions"))
    srv = harness.Server(t.db)
    load = WriteLoad(srv, stop_on_error=True)
    try:
        time.sleep(1.5)
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait(10)
    finally:
        load.stop()
        srv.log.close()
    ids = load.ids()
    t.true(len(ids) > 5, "load was writing (%d acknowledged)" % len(ids))
    srv2 = harness.Server(t.db)
    try:
        all_present(t, ids, "SIGKILL")
        integrity(t, "SIGKILL")
        # The new server works on the same data.
        s, h, b = srv2.request("POST", "/api/v1/submissions", body=load.body(0, 999),
                               headers={"Authorization": "Bearer " + TOK["admin"]})
        t.eq(s, 201, "writes after restart: %r" % b[:200])
        after = int(t.value("SELECT count(*) FROM submissions"))
        FIGURES["sigkill"] = (len(ids), after - before - 1)
        print("    SIGKILL: %d acknowledged before the kill, %d stored (extra ones were committed "
              "but their answer was lost with the process)" % FIGURES["sigkill"])
        t.true(after - before - 1 >= len(ids), "stored >= acknowledged")
    finally:
        t.eq(srv2.stop(), 0, "clean exit")


def test_sigterm_during_load_completes_in_flight_and_exits_0(t):
    srv = harness.Server(t.db)
    # Hold the submissions table so that the writers' requests are in
    # flight (waiting in PostgreSQL) when SIGTERM arrives.
    locker = subprocess.Popen(
        ["psql", "-X", "-q", "-h", harness.SOCK, "-U", "postgres", "-d", t.db],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    readers_done = threading.Event()
    read_results = []

    def reader():
        while not readers_done.is_set():
            try:
                read_results.append(srv.request("GET", TABLE, timeout=20)[0])
            except OSError:
                break
    load = None
    try:
        time.sleep(0.1)
        rd = [threading.Thread(target=reader, daemon=True) for _ in range(2)]
        for th in rd:
            th.start()
        load = WriteLoad(srv, stop_on_error=True)
        time.sleep(0.8)
        locker.stdin.write("BEGIN; LOCK TABLE submissions IN EXCLUSIVE MODE; SELECT pg_sleep(2); COMMIT;\n")
        locker.stdin.flush()
        time.sleep(0.5)
        n_before = len(load.results)
        in_flight = load.busy
        t.true(in_flight > 0, "writes in flight when SIGTERM arrives")
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        refused = False
        try:
            socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
        except OSError:
            refused = True
        t.true(refused, "new connections refused while draining")
        rc = srv.proc.wait(30)
        t.eq(rc, 0, "exit status 0 after SIGTERM")
    finally:
        readers_done.set()
        if load:
            load.stop()
        locker.stdin.close()
        locker.wait(10)
        srv.log.close()
    finished = load.results[n_before:]
    t.true(len(finished) >= in_flight, "every in-flight write answered (%d of %d)"
           % (len(finished), in_flight))
    t.true(all(r[0] == 201 for r in load.results), "every answered write is 201: %r"
           % sorted({r[0] for r in load.results}))
    t.true(all(s == 200 for s in read_results), "reads answered 200: %r" % sorted(set(read_results)))
    all_present(t, load.ids(), "SIGTERM")
    integrity(t, "SIGTERM")
    FIGURES["sigterm"] = (in_flight, len(load.results), len(read_results))
    print("    SIGTERM: %d writes in flight completed with 201; %d writes and %d reads answered "
          "in all" % FIGURES["sigterm"])
