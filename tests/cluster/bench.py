"""Scale-out figures (make bench-cluster; docs/scale-out.md).

On the topology of scripts/cluster.sh (with the shipped history) measures,
side by side and one after another:
  - throughput, latency and CPU per request of a cached table, with wrk:
    one server direct, then through HAProxy with 1, 2 and 3 servers behind
    it (extra HAProxy instances list the first 1 and 2 servers);
  - replica lag while 50 submissions a second go through HAProxy
    (pg_stat_replication's write/flush/replay lag, sampled);
  - failover: the primary stopped and the standby promoted under a write
    load: promotion time and the gap in acknowledged writes.
Writes tests/cluster/bench-results.md.  Bounded: a few 10 s runs."""

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drills  # noqa: E402

DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
CONNS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
# BENCH_PARTS: which measurements (all by default; the file is written with
# those run).
READERS = int(os.environ.get("BENCH_READERS", "12"))   # replica_reads' readers
PARTS = os.environ.get("BENCH_PARTS", "throughput,reads,lag,failover").split(",")
TICK = os.sysconf("SC_CLK_TCK")
out = []


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / TICK


def pids_of(c):
    servers = []
    for i in range(1, drills.N + 1):
        with open(os.path.join(c.dir, "server%d.pid" % i)) as f:
            servers.append(int(f.read()))
    return servers


def wrk(url):
    r = subprocess.run(["wrk", "-t2", "-c%d" % CONNS, "-d%ds" % DURATION, "--latency", url],
                       capture_output=True, text=True, timeout=DURATION + 60)
    text = r.stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1))
    total = int(re.search(r"(\d+) requests in", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errs = re.search(r"Socket errors: (.*)", text)

    def pct(p):
        m = re.search(r"^\s+%s%%\s+([0-9.]+)(us|ms|s)" % p, text, re.M)
        if not m:
            return None
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    return {"rps": rps, "requests": total, "p50_ms": pct(50), "p99_ms": pct(99),
            "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errs.group(1).strip() if errs else "none"}


def throughput(c):
    servers = pids_of(c)
    path = drills.TABLE
    extra = []
    targets = [("1 server direct", drills.SRV_PORT, servers[:1], None)]
    for n in (1, 2):
        port = drills.HTTP_PORT + 10 + n
        cfg = os.path.join(c.dir, "haproxy-%d.cfg" % n)
        env = dict(c.env, CLUSTER_SERVERS=str(n), CLUSTER_PORT=str(port))
        with open(cfg, "w") as f:
            f.write(subprocess.run(["scripts/cluster.sh", "haproxy-config"], cwd=drills.ROOT,
                                   env=env, capture_output=True, text=True, check=True).stdout)
        hp = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        extra.append(hp)
        targets.append(("HAProxy + %d server%s" % (n, "s" if n > 1 else ""), port, servers[:n],
                        hp.pid))
    with open(os.path.join(c.dir, "haproxy.pid")) as f:
        targets.append(("HAProxy + 3 servers", drills.HTTP_PORT, servers, int(f.read())))
    time.sleep(3)   # health checks
    rows = []
    try:
        for name, port, spids, hpid in targets:
            url = "http://127.0.0.1:%d%s" % (port, path)
            for i in range(drills.N):   # every server has the table cached
                drills.request(drills.SRV_PORT + i, "GET", path)
            load0 = os.getloadavg()[0]
            s0, h0 = cpu_seconds(spids), cpu_seconds([hpid] if hpid else [])
            r = wrk(url)
            s1, h1 = cpu_seconds(spids), cpu_seconds([hpid] if hpid else [])
            r["server_cpu_us_per_req"] = 1e6 * (s1 - s0) / max(1, r["requests"])
            r["haproxy_cpu_us_per_req"] = 1e6 * (h1 - h0) / max(1, r["requests"])
            r["load_before"] = load0
            rows.append((name, r))
            print("%-22s %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms  server CPU %5.0f us/req  "
                  "HAProxy %4.0f us/req  non-2xx %d  (load %.1f)"
                  % (name, r["rps"], r["p50_ms"] or -1, r["p99_ms"] or -1,
                     r["server_cpu_us_per_req"], r["haproxy_cpu_us_per_req"], r["non2xx"],
                     load0))
            sys.stdout.flush()
    finally:
        for hp in extra:
            hp.terminate()
            hp.wait(10)
    return rows


class PacedWriter:
    """rate submissions a second through HAProxy, spread over threads."""

    def __init__(self, token, rate, threads=4):
        self.token, self.rate = token, rate
        self.done = False
        self.results = []
        self.lock = threading.Lock()
        self.start = time.time()
        self.sent = 0
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def run(self):
        while not self.done:
            with self.lock:
                due = self.start + self.sent / self.rate
                self.sent += 1
                n = self.sent
            wait = due - time.time()
            if wait > 0:
                time.sleep(wait)
            body = {"authority": drills.AUTHS[n % len(drills.AUTHS)],
                    "period": "%d-%02d Q%d" % (2015 + n % 9, (16 + n % 9) % 100, 1 + n % 4),
                    "figures": {"ehcp_caseload": 3000 + n}}
            t0 = time.time()
            try:
                s = drills.request(drills.HTTP_PORT, "POST", "/api/v1/submissions", body=body,
                                   headers={"Authorization": "Bearer " + self.token,
                                            "Idempotency-Key": str(uuid.uuid4())})[0]
            except Exception as e:
                s = repr(e)
            with self.lock:
                self.results.append((t0, s, time.time() - t0))

    def stop(self):
        self.done = True
        for t in self.threads:
            t.join(30)


def replica_reads(c, token):
    """Where server 1 reads its anonymous table misses (--db-read) with no
    writes, then under a make load-like stream of approvals (each sends a
    change notice; a submission before each, as in tests/load/mix.lua),
    through HAProxy.  Misses: tables of every metric with 2021 figures for
    every authority and grouping (tests/load/mix.lua's table URLs), each
    asked once, on server 1 directly, by READERS threads (more than the
    pool's 8 connections, so that reads queue as under make load)."""
    approver = drills.seed(c, authorities=False)
    metrics = [r[0] for r in drills.psql(drills.PG_PORT, "SELECT DISTINCT metric FROM"
                                         " current_observations WHERE period = '2021'"
                                         " ORDER BY 1")]
    auths = [r[0] for r in drills.psql(drills.PG_PORT, "SELECT new_la_code FROM authorities"
                                       " WHERE new_la_code LIKE 'E0%' ORDER BY 1")]
    keys = iter("/api/v1/tables/%s?period=2021%s" % (m, g % a)
                for g in ("&group=region&authority=%s", "&group=neighbours&authority=%s",
                          "&authority=%s&format=csv")
                for a in auths for m in metrics)
    lock = threading.Lock()
    port = drills.SRV_PORT

    def events():
        b = drills.request(port, "GET", "/metrics")[2].decode()
        out = {}
        for k in ("db_read_replica", "db_read_primary", "db_read_replica_failed",
                  "db_read_primary_barrier", "db_read_primary_behind", "db_read_primary_down",
                  "tables_cache_narrow_invalidations", "tables_cache_invalidations"):
            m = re.search(r'^sendbench_events_total\{event="%s"\} (\d+)' % k, b, re.M)
            out[k] = int(m.group(1)) if m else 0
        return out

    def phase(name, notices_per_s):
        done = [False]
        answers = []

        def read():
            while not done[0]:
                with lock:
                    path = next(keys, None)
                if path is None:
                    return
                try:
                    st = drills.request(port, "GET", path)[0]
                except Exception as e:
                    st = repr(e)
                with lock:
                    answers.append(st)

        pairs = []

        def write(i, nthreads):
            t_start = time.time()
            k = i
            while not done[0]:
                due = t_start + (k // nthreads) * nthreads / notices_per_s
                if due > time.time():
                    time.sleep(due - time.time())
                a = auths[k % len(auths)]
                q = "%d-%02d Q%d" % (2016 + (k // len(auths)) % 8,
                                     (17 + (k // len(auths)) % 8) % 100,
                                     1 + (k // (8 * len(auths))) % 4)
                k += nthreads
                s, _, b = drills.request(drills.HTTP_PORT, "POST", "/api/v1/submissions",
                                         body={"authority": a, "period": q,
                                               "figures": {"ehcp_caseload": 3000 + k}},
                                         headers={"Authorization": "Bearer " + token,
                                                  "Idempotency-Key": str(uuid.uuid4())})
                if s != 201:
                    with lock:
                        pairs.append(("submit", s))
                    continue
                sid = json.loads(b)["id"]
                s2 = drills.request(drills.HTTP_PORT, "POST",
                                    "/api/v1/submissions/%s/approve" % sid,
                                    headers={"Authorization": "Bearer " + approver})[0]
                with lock:
                    pairs.append(("approve", s2))
        e0 = events()
        load0 = os.getloadavg()[0]
        threads = [threading.Thread(target=read, daemon=True) for _ in range(READERS)]
        nw = 4 if notices_per_s else 0
        threads += [threading.Thread(target=write, args=(i, nw), daemon=True)
                    for i in range(nw)]
        t0 = time.time()
        for t in threads:
            t.start()
        time.sleep(DURATION)
        done[0] = True
        for t in threads:
            t.join(60)
        span = time.time() - t0
        e1 = events()
        d = {k: e1[k] - e0[k] for k in e0}
        routed = d["db_read_replica"] + d["db_read_primary"]
        res = {"phase": name, "seconds": round(span, 1), "load_before": load0,
               "misses": len(answers), "misses_failed": len([a for a in answers
                                                             if not isinstance(a, int)
                                                             or a >= 500]),
               "approvals": len([p for p in pairs if p == ("approve", 200)]),
               "writes_failed": len([p for p in pairs if p[1] not in (200, 201)]),
               "notices_per_s": round((d["tables_cache_narrow_invalidations"] +
                                       d["tables_cache_invalidations"]) / span, 1),
               "on_replica": d["db_read_replica"], "on_primary": d["db_read_primary"],
               "replica_share": round(d["db_read_replica"] / routed, 3) if routed else None,
               "replica_failed": d["db_read_replica_failed"],
               "primary_why": {k[len("db_read_primary_"):]: d[k] for k in d
                               if k.startswith("db_read_primary_")}}
        print("replica reads, %s: %r" % (name, res))
        sys.stdout.flush()
        return res
    return [phase("no writes", 0), phase("approvals at 20/s", 20),
            phase("approvals at 50/s", 50)]


def lag_ms(v):
    if not v:
        return 0.0
    h, m, s = v.split(":")
    return (int(h) * 3600 + int(m) * 60 + float(s)) * 1000


def replica_lag(token):
    w = PacedWriter(token, 50, threads=8)
    samples = []
    t_end = time.time() + DURATION
    while time.time() < t_end:
        rows = drills.psql(drills.PG_PORT, "SELECT write_lag, flush_lag, replay_lag FROM"
                                           " pg_stat_replication WHERE application_name ="
                                           " 'standby1'")
        if rows:
            samples.append([lag_ms(x) for x in rows[0]])
        time.sleep(0.25)
    w.stop()
    ok = [r for r in w.results if r[1] in (200, 201)]
    lat = sorted(r[2] * 1000 for r in ok)
    span = max(r[0] for r in w.results) - min(r[0] for r in w.results) if w.results else 1
    res = {"submissions": len(w.results), "acknowledged": len(ok),
           "rate_per_s": len(w.results) / max(span, 1e-9),
           "latency_p50_ms": lat[len(lat) // 2] if lat else None,
           "latency_p99_ms": lat[int(len(lat) * 0.99)] if lat else None,
           "replay_lag_max_ms": max((s[2] for s in samples), default=None),
           "replay_lag_mean_ms": sum(s[2] for s in samples) / len(samples) if samples else None,
           "write_lag_max_ms": max((s[0] for s in samples), default=None),
           "samples": len(samples)}
    print("replica lag at 50 submissions/s: %r" % res)
    return res


def failover(c, token):
    w = PacedWriter(token, 20)
    time.sleep(2)
    t_stop = time.time()
    text = c.script("failover")
    t_prom = time.time()
    time.sleep(8)
    w.stop()
    m = re.search(r"promoted in ([0-9.]+) s", text)
    after = [r for r in w.results if r[0] > t_stop]
    refused = [r for r in after if r[1] not in (200, 201)]
    first_ok = min((r[0] + r[2] for r in after if r[1] in (200, 201) and r[0] > t_prom),
                   default=None)
    res = {"promotion_s": float(m.group(1)) if m else None,
           "stop_to_promoted_s": t_prom - t_stop,
           "writes_refused": len(refused),
           "refused_answers": sorted({str(r[1]) for r in refused}),
           "stop_to_first_acknowledged_write_s": (first_ok - t_stop) if first_ok else None}
    print("failover: %r" % res)
    return res


def main():
    c = None
    os.environ.setdefault("CLUSTER_HISTORY", "1")
    try:
        history = os.environ["CLUSTER_HISTORY"]
        c = drills.Cluster(history=history)
        token = drills.seed(c, authorities=history != "1")
        if history == "1":
            drills.AUTHS = [r[0] for r in drills.psql(
                drills.PG_PORT, "SELECT new_la_code FROM authorities WHERE new_la_code LIKE"
                                " 'E0%' ORDER BY 1 LIMIT 12")]
        time.sleep(2)
        rows = throughput(c) if "throughput" in PARTS else []
        reads = replica_reads(c, token) if "reads" in PARTS else []
        lag = replica_lag(token) if "lag" in PARTS else None
        fo = failover(c, token) if "failover" in PARTS else None
    finally:
        if c:
            c.stop()
            import shutil
            shutil.rmtree(c.dir, ignore_errors=True)
    path = os.path.join(drills.ROOT, "tests/cluster/bench-results.md")
    with open(path, "w") as f:
        f.write("# make bench-cluster: the last run\n\n")
        f.write("%s UTC; %d s per wrk run, %d connections, 2 threads; cached table %s.\n"
                "Load average before each run is given: the machine's 2 cores were shared.\n\n"
                % (time.strftime("%Y-%m-%d %H:%M", time.gmtime()), DURATION, CONNS, drills.TABLE))
        f.write("| target | req/s | p50 ms | p99 ms | server CPU us/req | HAProxy CPU us/req |"
                " non-2xx | load avg |\n|---|---|---|---|---|---|---|---|\n")
        for name, r in rows:
            f.write("| %s | %.0f | %.2f | %.2f | %.0f | %.0f | %d | %.1f |\n"
                    % (name, r["rps"], r["p50_ms"] or -1, r["p99_ms"] or -1,
                       r["server_cpu_us_per_req"], r["haproxy_cpu_us_per_req"], r["non2xx"],
                       r["load_before"]))
        if reads:
            f.write("\nWhere server 1's anonymous table misses were read (--db-read), %d s"
                    " each, %d readers on server 1, approvals (each a change notice)"
                    " through HAProxy:\n\n| phase | misses | notices/s | on the replica |"
                    " on the primary | replica share | replica failed | load avg |\n"
                    "|---|---|---|---|---|---|---|---|\n" % (DURATION, READERS))
            for r in reads:
                f.write("| %s | %d | %.1f | %d | %d | %s | %d | %.1f |\n"
                        % (r["phase"], r["misses"], r["notices_per_s"], r["on_replica"],
                           r["on_primary"], r["replica_share"], r["replica_failed"],
                           r["load_before"]))
        f.write("\nReplica lag at 50 submissions/s (synchronous_commit = remote_apply): %r\n\n"
                % lag)
        f.write("Failover under 20 submissions/s: %r\n" % fo)
    print("written: %s" % path)


if __name__ == "__main__":
    main()
