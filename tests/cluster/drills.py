"""Failure drills (make test-cluster; issue 20, docs/scale-out.md).

Starts scripts/cluster.sh (a primary, a synchronous hot standby, three
servers, HAProxy) on free ports of its own (from 18080 and 56432), seeds a small data set, and runs,
each under a read and write load through HAProxy:

  rate limits   HAProxy's stick tables hold one client's limit across the
                three servers (a second HAProxy with a low limit)
  kill -9       one server killed: GET failures at most 0.1%, none 3 s after
  rolling       every server restarted with SIGTERM in turn: no failed request
  standby       a server pointed at the standby: /readyz 503; migrate refuses
  db-read       the servers read anonymous table misses on the standby; with
                its replay paused a change is still shown at once on every
                server (read on the primary: the LSN check), a 201's Location
                answers everywhere, and the standby serves again once replayed
  refits        one data change, three servers: each stale metric refitted
                once, by one server
  failover      the primary stopped, the standby promoted: writes back within
                10 s; every acknowledged submission present exactly once by
                its Idempotency-Key; every server's cache emptied and the
                next change seen by each

Prints one line per check and ends with "N passed, N failed"; the figures go
to tests/cluster/results.md.  Standard library only."""

import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SENDBENCH_BIN", os.path.join(ROOT, "bin/sendbench"))


def port_free(port):
    import socket
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_base(start, offsets):
    """The first base from start (in steps of 100) at which every port
    base + offset is free: a cluster left by a killed run, or anything else
    on these ports, must not fail the drills."""
    for base in range(start, start + 3000, 100):
        if all(port_free(base + o) for o in offsets):
            return base
    raise RuntimeError("no free ports near %d" % start)


HTTP_PORT = int(os.environ.get("DRILL_PORT") or free_base(18080, [0, 1, 2, 3, 10, 11, 12, 20]))
SRV_PORT = HTTP_PORT + 1
PG_PORT = int(os.environ.get("DRILL_PG_PORT") or free_base(56432, [0, 1]))
N = 3
AUTHS = ["E0600%04d" % (100 + i) for i in range(12)]
TABLE = "/api/v1/tables/ehcp_caseload?period=2022"
REFIT = re.compile(r"forecast worker: (\S+) refitted \(")

# DRILLS="refits,replica reads": only those (names as in main()); all by default.
ONLY = [d.strip() for d in os.environ.get("DRILLS", "").split(",") if d.strip()]
passed = failed = 0
figures = {}


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print("ok   %s" % what)
    else:
        failed += 1
        print("FAIL %s" % what)
    sys.stdout.flush()
    return cond


def request(port, method, path, body=None, headers=None, timeout=15, source=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        h = dict(headers or {})
        if body is not None:
            body = json.dumps(body)
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def psql(port, sql, db="sendbench"):
    out = subprocess.run(["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                          "-p", str(port), "-U", "postgres", "-d", db],
                         input=sql, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError("psql: " + out.stderr)
    return [l.split("|") for l in out.stdout.splitlines() if l]


def wait_for(what, fn, timeout, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            v = fn()
        except Exception:
            v = None
        if v:
            return v
        time.sleep(step)
    raise RuntimeError("%s: not within %ss" % (what, timeout))


class Cluster:
    def __init__(self, history="0"):
        self.dir = tempfile.mkdtemp(prefix="sendbench-drills.")
        os.chmod(self.dir, 0o755)
        self.env = dict(os.environ, CLUSTER_DIR=self.dir, CLUSTER_PORT=str(HTTP_PORT),
                        CLUSTER_SERVER_PORT=str(SRV_PORT), CLUSTER_PG_PORT=str(PG_PORT),
                        CLUSTER_SERVERS=str(N), CLUSTER_HISTORY=history,
                        CLUSTER_RATE_LIMIT="10000000", SENDBENCH_BIN=BIN,
                        SENDBENCH_LOG_LEVEL="info", PG_FSYNC="off")
        self.log = open(os.path.join(self.dir, "drills-cluster.out"), "w")
        self.proc = subprocess.Popen(["scripts/cluster.sh", "up"], cwd=ROOT, env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        ready = os.path.join(self.dir, "ready")
        t0 = time.time()
        wait_for("cluster up", lambda: os.path.exists(ready) or self.proc.poll() is not None,
                 900 if history == "1" else 180, 0.5)
        if self.proc.poll() is not None:
            raise RuntimeError("cluster.sh exited %s: %s" % (self.proc.returncode,
                                                            self.cluster_log()[-2000:]))
        figures["cluster_up_s"] = time.time() - t0

    def cluster_log(self):
        with open(os.path.join(self.dir, "drills-cluster.out")) as f:
            return f.read()

    def script(self, *args, timeout=120):
        r = subprocess.run(["scripts/cluster.sh"] + list(args), cwd=ROOT, env=self.env,
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("cluster.sh %s: %s%s" % (args, r.stdout, r.stderr))
        return r.stdout

    def server_log(self, i):
        with open(os.path.join(self.dir, "server%d.log" % i), errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(240)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


class Load:
    """Readers GET a cached table and an uncached list, writers POST
    submissions with a fresh Idempotency-Key each, all through HAProxy, at a
    bounded pace (the machine is shared).  Every answer is recorded."""

    def __init__(self, token, readers=3, writers=2, pause=0.01):
        self.token = token
        self.pause = pause
        self.gets, self.posts = [], []
        self.lock = threading.Lock()
        self.done = False
        self.n = 0
        self.threads = [threading.Thread(target=self.read, daemon=True) for _ in range(readers)]
        self.threads += [threading.Thread(target=self.write, args=(i,), daemon=True)
                         for i in range(writers)]
        for t in self.threads:
            t.start()

    def read(self):
        paths = [TABLE, "/api/v1/authorities", "/api/v1/metrics"]
        k = 0
        while not self.done:
            k += 1
            t = time.time()
            try:
                s = request(HTTP_PORT, "GET", paths[k % len(paths)])[0]
            except Exception as e:
                s = repr(e)
            with self.lock:
                self.gets.append((t, s))
            time.sleep(self.pause)

    def write(self, i):
        while not self.done:
            with self.lock:
                self.n += 1
                n = self.n
            key = str(uuid.uuid4())
            body = {"authority": AUTHS[n % len(AUTHS)],
                    "period": "%d-%02d Q%d" % (2015 + n % 9, (16 + n % 9) % 100, 1 + n % 4),
                    "figures": {"ehcp_caseload": 3000 + n}}
            t = time.time()
            try:
                s = request(HTTP_PORT, "POST", "/api/v1/submissions", body=body,
                            headers={"Authorization": "Bearer " + self.token,
                                     "Idempotency-Key": key})[0]
            except Exception as e:
                s = repr(e)
            with self.lock:
                self.posts.append((t, s, key))
            time.sleep(self.pause * 5)

    def stop(self):
        self.done = True
        for t in self.threads:
            t.join(30)

    def window(self, rows, t0, t1=None):
        return [r for r in rows if r[0] >= t0 and (t1 is None or r[0] < t1)]


def bad_get(s):
    return not (isinstance(s, int) and s < 400)


def seed(c, authorities=True):
    """Twelve authorities with caseloads 2010-2022 (authorities=False: the
    shipped history is there; only the token), and an admin token."""
    if authorities:
        seed_figures()
    r = subprocess.run([BIN, "token", "create", "--admin", "--db",
                        "postgresql://postgres@127.0.0.1:%d/sendbench" % PG_PORT],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("token: " + r.stderr)
    return r.stdout.strip()


def seed_figures():
    rnd = random.Random(7)
    auths, rows = [], []
    for i, code in enumerate(AUTHS):
        auths.append("('%s','%03d','Authority %d','E12000009','South West')" % (code, 700 + i, i))
        level = 800 + 150 * i
        for y in range(2010, 2023):
            level *= 1.05 + rnd.gauss(0, 0.02)
            rows.append("('%s','ehcp_caseload','%d','census_year','%d-01-20',%d,true,'test',1)"
                        % (code, y, y, round(level)))
    psql(PG_PORT, "INSERT INTO authorities (new_la_code, old_la_code, name, region_code,"
                  " region_name) VALUES " + ",".join(auths) + ";"
                  " INSERT INTO observations (authority, metric, period, period_kind,"
                  " period_start, value, published, source, version) VALUES " + ",".join(rows)
                  + "; NOTIFY sendbench_data")


PENDING = ("SELECT count(*) FROM metrics m WHERE EXISTS (SELECT 1 FROM forecast_input f"
           " WHERE f.metric = m.id AND f.period_kind = m.annual_period) AND NOT EXISTS"
           " (SELECT 1 FROM forecast_runs r WHERE r.metric = m.id AND r.frequency = 'annual'"
           " AND r.data_version >= forecast_data_version())")


def refits(c):
    return [len(REFIT.findall(c.server_log(i))) for i in range(1, N + 1)]


def drill_rate_limits(c, token):
    cfg = os.path.join(c.dir, "haproxy-limited.cfg")
    env = dict(c.env, CLUSTER_RATE_LIMIT="20", CLUSTER_PORT=str(HTTP_PORT + 10))
    with open(cfg, "w") as f:
        f.write(subprocess.run(["scripts/cluster.sh", "haproxy-config"], cwd=ROOT, env=env,
                               capture_output=True, text=True, check=True).stdout)
    hp = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    try:
        port = HTTP_PORT + 10
        wait_for("limited haproxy", lambda: request(port, "GET", "/livez")[0] == 200, 10)
        time.sleep(2.5)     # health checks have marked all three up
        before = [c.server_log(i).count("GET /api/v1/metrics") for i in range(1, N + 1)]
        # /livez above counted once; 20 a minute in all, whichever server.
        codes = [request(port, "GET", "/api/v1/metrics", source="127.0.0.5")[0]
                 for _ in range(21)]
        after = [c.server_log(i).count("GET /api/v1/metrics") for i in range(1, N + 1)]
        spread = sum(1 for b, a in zip(before, after) if a > b)
        check(codes[:20] == [200] * 20 and codes[20] == 429 and spread == N,
              "rate limit: 20 a minute for one client across %d servers, the 21st 429 "
              "(answers %s..., served by %d servers)" % (N, sorted(set(codes)), spread))
        s, h, b = request(port, "GET", "/api/v1/metrics", source="127.0.0.5")
        check(s == 429 and h.get("retry-after") and json.loads(b)["error"]["code"] ==
              "rate_limited", "rate limit: 429 is the JSON error with Retry-After")
        # One token from many addresses: its own limit.
        auth = {"Authorization": "Bearer " + token}
        codes = [request(port, "GET", "/api/v1/metrics", headers=auth,
                         source="127.0.1.%d" % (1 + k))[0] for k in range(21)]
        check(codes[:20] == [200] * 20 and codes[20] == 429,
              "rate limit: one token from 21 addresses, the 21st 429 (%s)" % sorted(set(codes)))
        check(request(port, "GET", "/api/v1/metrics", source="127.0.0.6")[0] == 200,
              "rate limit: another client is not limited")
        log = "".join(c.server_log(i) for i in range(1, N + 1))
        check("client=127.0.0.5" in log and " id=" in log,
              "servers log the client from X-Forwarded-For and HAProxy's request id")
    finally:
        hp.terminate()
        hp.wait(10)


def drill_kill9(c, token):
    load = Load(token)
    time.sleep(2)
    t_kill = time.time()
    c.script("kill-server", "1")
    time.sleep(6)
    load.stop()
    gets = load.window(load.gets, t_kill)
    bad = [g for g in gets if bad_get(g[1])]
    late = [g for g in bad if g[0] > t_kill + 3]
    rate = len(bad) / max(1, len(gets))
    figures["kill9"] = {"gets": len(gets), "failed": len(bad), "posts": len(load.posts),
                        "posts_failed": len([p for p in load.posts if p[1] not in (200, 201)])}
    check(gets and rate <= 0.001, "kill -9: GET failures %d of %d (%.3f%%, at most 0.1%%)"
          % (len(bad), len(gets), 100 * rate))
    check(not late, "kill -9: no GET failure 3 s after the kill (%d)" % len(late))
    c.script("start-server", "1")
    wait_for("server 1 ready", lambda: request(SRV_PORT, "GET", "/readyz")[0] == 200, 20)
    time.sleep(2.5)
    return load


def drill_rolling(c, token):
    load = Load(token)
    time.sleep(1)
    t0 = time.time()
    for i in range(1, N + 1):
        c.script("stop-server", str(i))
        c.script("start-server", str(i))
        port = SRV_PORT + i - 1
        wait_for("server %d ready" % i, lambda: request(port, "GET", "/readyz")[0] == 200, 20)
        time.sleep(2.5)     # HAProxy: rise 2 at 1 s
    took = time.time() - t0
    time.sleep(1)
    load.stop()
    bad_g = [g for g in load.gets if bad_get(g[1])]
    bad_p = [p for p in load.posts if p[1] not in (200, 201)]
    figures["rolling"] = {"gets": len(load.gets), "posts": len(load.posts), "seconds": took}
    check(load.gets and not bad_g, "rolling SIGTERM restart of %d servers (%.0f s): GETs %d, "
          "failed %d %s" % (N, took, len(load.gets), len(bad_g), sorted({str(g[1]) for g in bad_g})))
    check(load.posts and not bad_p, "rolling restart: POSTs %d, failed %d %s"
          % (len(load.posts), len(bad_p), sorted({str(p[1]) for p in bad_p})))
    return load


def drill_standby_server(c):
    port = HTTP_PORT + 20
    url = "postgresql://postgres@127.0.0.1:%d/sendbench" % (PG_PORT + 1)
    log = open(os.path.join(c.dir, "server-standby.log"), "w")
    p = subprocess.Popen([BIN, "serve", "--port", str(port), "--db", url], stdout=log,
                         stderr=subprocess.STDOUT, env=dict(os.environ, SENDBENCH_LOG_LEVEL="info"))
    try:
        wait_for("standby server up", lambda: request(port, "GET", "/livez")[0] == 200, 15)
        time.sleep(1.5)
        s, h, b = request(port, "GET", "/readyz")
        check(s == 503, "a server on the standby: /readyz %d %s" % (s, b.strip()[:120]))
        r = subprocess.run([BIN, "migrate", "--db", url], capture_output=True, text=True,
                           timeout=60)
        check(r.returncode == 1 and "standby" in r.stderr,
              "migrate on the standby refuses: exit %d, %s" % (r.returncode, r.stderr.strip()))
    finally:
        p.terminate()
        p.wait(30)
        log.close()


def drill_refits(c):
    wait_for("initial fits", lambda: psql(PG_PORT, PENDING)[0][0] == "0", 120, 0.3)
    time.sleep(1)
    offsets = [len(c.server_log(i)) for i in range(1, N + 1)]
    psql(PG_PORT, "INSERT INTO observations (authority, metric, period, period_kind,"
                  " period_start, value, published, source, version) VALUES"
                  " ('E06000100','ehcp_caseload','2023','census_year','2023-01-20',5000,true,"
                  "'test',1); NOTIFY sendbench_data")
    wait_for("refit", lambda: psql(PG_PORT, PENDING)[0][0] == "0", 60, 0.3)
    time.sleep(2)       # a second refit anywhere would have happened by now
    fitted = [REFIT.findall(c.server_log(i)[offsets[i - 1]:]) for i in range(1, N + 1)]
    fitters = [i + 1 for i, f in enumerate(fitted) if f]
    metrics = [m for f in fitted for m in f]
    figures["refits"] = {"server%d" % (i + 1): f for i, f in enumerate(fitted)}
    check(len(fitters) == 1 and "ehcp_caseload" in metrics and len(metrics) == len(set(metrics)),
          "one data change, %d servers: refitted by server(s) %s, each metric once: %s"
          % (N, fitters, metrics))


def event_count(port, name):
    b = request(port, "GET", "/metrics")[2].decode()
    m = re.search(r'^sendbench_events_total\{event="%s"\} (\d+)' % name, b, re.M)
    return int(m.group(1)) if m else 0


def replica_serves(port, keys):
    """GETs tables no server has cached until one is read on the replica."""
    before = event_count(port, "db_read_replica")
    def fresh():
        request(port, "GET", "/api/v1/tables/ehcp_caseload?period=%d&format=%s" % next(keys))
        return event_count(port, "db_read_replica") > before
    wait_for("a read on the replica of :%d" % port, fresh, 10, 0.05)


def drill_replica_reads(c, token):
    """--db-read: anonymous table misses on the standby, never stale.  The
    standby's replay is paused (commits wait for its flush only, for the
    drill), a figure changes: each server must show the new figure, read on
    the primary, not the standby's older one cached under the new
    generation; a 201's Location answers on every server; once the standby
    has replayed, it serves again."""
    keys = iter([(y, f) for f in ("csv", "xlsx", "json") for y in range(2010, 2022)] * N)
    for i in range(N):
        replica_serves(SRV_PORT + i, keys)
    check(True, "db-read: every server reads anonymous table misses on the standby")
    standby = PG_PORT + 1
    for i in range(N):
        request(SRV_PORT + i, "GET", TABLE)        # cached everywhere
    psql(PG_PORT, "ALTER SYSTEM SET synchronous_commit = 'on'; SELECT pg_reload_conf()")
    try:
        time.sleep(0.5)
        psql(standby, "SELECT pg_wal_replay_pause()")
        wait_for("replay paused", lambda: psql(standby, "SELECT pg_get_wal_replay_pause_state()")
                 [0][0] == "paused", 10)
        primary_before = [event_count(SRV_PORT + i, "db_read_primary") for i in range(N)]
        psql(PG_PORT, "INSERT INTO observations (authority, metric, period, period_kind,"
                      " period_start, value, published, source, version) VALUES"
                      " ('E06000102','ehcp_caseload','2022','census_year','2022-01-20',"
                      "66666,true,'test',2); NOTIFY sendbench_data")
        lagging = psql(standby, "SELECT count(*) FROM observations WHERE value = 66666")[0][0]
        check(lagging == "0", "db-read: the standby has not replayed the change (%s rows)"
              % lagging)

        def fresh(i):
            s, h, b = request(SRV_PORT + i, "GET", TABLE)
            return s == 200 and b"66666" in b
        seen = []
        for i in range(N):
            try:
                wait_for("server %d shows the change" % (i + 1), lambda: fresh(i), 5, 0.1)
                seen.append(fresh(i))       # and keeps it (the cached reply)
            except RuntimeError:
                seen.append(False)
        primary_after = [event_count(SRV_PORT + i, "db_read_primary") for i in range(N)]
        check(all(seen) and all(a > b for a, b in zip(primary_after, primary_before)),
              "db-read: with the standby behind, every server shows the new figure, read on "
              "the primary (%s; primary reads %s -> %s)" % (seen, primary_before, primary_after))
        # A council's 201 Location, asked of every server at once.
        auth = {"Authorization": "Bearer " + token}
        s, h, b = request(SRV_PORT, "POST", "/api/v1/submissions",
                          body={"authority": AUTHS[3], "period": "2024-25 Q1",
                                "figures": {"ehcp_caseload": 4321}},
                          headers=dict(auth, **{"Idempotency-Key": str(uuid.uuid4())}))
        loc = h.get("location", "")
        got = [request(SRV_PORT + i, "GET", loc, headers=auth)[0] for i in range(N)]
        check(s == 201 and got == [200] * N,
              "db-read: a 201's Location (%s) answers 200 on every server while the standby "
              "is behind (%s)" % (loc, got))
    finally:
        psql(standby, "SELECT pg_wal_replay_resume()")
        psql(PG_PORT, "ALTER SYSTEM RESET synchronous_commit; SELECT pg_reload_conf()")
    wait_for("standby replayed", lambda: psql(
        standby, "SELECT count(*) FROM observations WHERE value = 66666")[0][0] == "1", 20)
    try:
        for i in range(N):
            replica_serves(SRV_PORT + i, keys)
        check(True, "db-read: once the standby has replayed, it serves the servers' misses again")
        figures["db_read"] = {e: sum(event_count(SRV_PORT + i, e) for i in range(N))
                              for e in ("db_read_replica", "db_read_primary",
                                        "db_read_replica_failed")}
    except RuntimeError as e:
        check(False, "db-read: %s" % e)


def drill_failover(c, token):
    # A table cached on every server before the failover.
    for i in range(N):
        request(SRV_PORT + i, "GET", TABLE)
    def invalidations(i):
        b = request(SRV_PORT + i, "GET", "/metrics")[2].decode()
        m = re.search(r'^sendbench_events_total\{event="tables_cache_invalidations"\} (\d+)',
                      b, re.M)
        return int(m.group(1)) if m else 0
    inv_before = [invalidations(i) for i in range(N)]
    load = Load(token)
    time.sleep(2)
    t_stop = time.time()
    out = c.script("failover")
    t_promoted = time.time()
    m = re.search(r"promoted in ([0-9.]+) s", out)
    time.sleep(12)
    load.stop()
    ok_after = [p for p in load.posts if p[0] >= t_promoted and p[1] == 201]
    back = (ok_after[0][0] - t_promoted) if ok_after else None
    refused = [p for p in load.posts if p[0] >= t_stop and p[1] != 201]
    outage = (max(p[0] for p in refused) - t_stop) if refused else 0.0
    figures["failover"] = {"promotion_s": float(m.group(1)) if m else None,
                           "writes_back_after_promotion_s": back,
                           "primary_stop_to_promoted_s": t_promoted - t_stop,
                           "last_refused_write_after_stop_s": outage}
    check(back is not None and back <= 10, "failover: writes back %s s after promotion "
          "(promotion %s s)" % ("%.2f" % back if back is not None else "never",
                                m.group(1) if m else "?"))
    acked = [p[2] for p in load.posts if p[1] in (200, 201)]
    codes = sorted({str(p[1]) for p in load.posts})
    new_primary = PG_PORT + 1
    rows = psql(new_primary, "SELECT idempotency_key, count(*) FROM submissions"
                             " WHERE idempotency_key IS NOT NULL GROUP BY 1")
    stored = {k: int(n) for k, n in rows}
    missing = [k for k in acked if k not in stored]
    twice = [k for k, n in stored.items() if n != 1]
    figures["failover_writes"] = {"posts": len(load.posts), "acknowledged": len(acked),
                                  "answers": codes}
    check(acked and not missing and not twice,
          "failover: %d acknowledged submissions, %d missing, %d stored more than once "
          "(answers %s)" % (len(acked), len(missing), len(twice), codes))
    inv_after = [invalidations(i) for i in range(N)]
    check(all(a > b for a, b in zip(inv_after, inv_before)),
          "failover: every server emptied its cache (invalidations %s -> %s)"
          % (inv_before, inv_after))
    # The next change reaches every server's listener on the new primary.
    psql(new_primary, "INSERT INTO observations (authority, metric, period, period_kind,"
                      " period_start, value, published, source, version) VALUES"
                      " ('E06000101','ehcp_caseload','2022','census_year','2022-01-20',"
                      "77777,true,'test',2); NOTIFY sendbench_data")

    def seen(i):
        s, h, b = request(SRV_PORT + i, "GET", TABLE)
        return s == 200 and b"77777" in b
    try:
        for i in range(N):
            wait_for("server %d sees the change" % (i + 1), lambda: seen(i), 10, 0.2)
        check(True, "failover: a change on the new primary reaches every server's cache")
    except RuntimeError as e:
        check(False, "failover: %s" % e)


def write_results():
    path = os.path.join(ROOT, "tests/cluster/results.md")
    with open(path, "w") as f:
        f.write("# make test-cluster: figures of the last run\n\n")
        f.write("Written by tests/cluster/drills.py on %s (UTC), load average %s.\n\n"
                % (time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                   " ".join("%.1f" % x for x in os.getloadavg())))
        for k, v in figures.items():
            f.write("- %s: %s\n" % (k, v))
        f.write("\n%d passed, %d failed\n" % (passed, failed))


def main():
    c = None
    try:
        c = Cluster()
        token = seed(c)
        wait_for("table", lambda: request(HTTP_PORT, "GET", TABLE)[0] == 200, 30)
        for name, fn in [("rate limits", lambda: drill_rate_limits(c, token)),
                         ("refits", lambda: drill_refits(c)),
                         ("standby", lambda: drill_standby_server(c)),
                         ("replica reads", lambda: drill_replica_reads(c, token)),
                         ("kill -9", lambda: drill_kill9(c, token)),
                         ("rolling", lambda: drill_rolling(c, token)),
                         ("failover", lambda: drill_failover(c, token))]:
            if ONLY and name not in ONLY:
                continue
            try:
                fn()
            except Exception as e:
                check(False, "%s: %s" % (name, e))
    except Exception as e:
        check(False, "cluster: %s" % e)
    finally:
        if c:
            c.stop()
            for i in range(1, N + 1):
                log = c.server_log(i) if os.path.exists(os.path.join(c.dir, "server%d.log" % i)) else ""
                if "runtime error:" in log or "AddressSanitizer" in log or "LeakSanitizer" in log:
                    check(False, "sanitizer report in server %d's log" % i)
    write_results()
    # The cluster's folder stays only when something failed (its logs).
    if c and not failed:
        import shutil
        shutil.rmtree(c.dir, ignore_errors=True)
    elif c:
        print("cluster folder kept: %s" % c.dir)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
