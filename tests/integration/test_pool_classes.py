"""Writes cannot starve reads (issue 19, item 3): the pool keeps writes in a
queue of their own and lets them hold at most --pool-write-size
connections, so submissions stuck in the database neither take the
connections reads need nor fill the queue reads wait in.

The writes are held deterministically: a psql session locks the
submissions table (SHARE mode blocks INSERT, not SELECT) until the test
lets it go."""

import json
import subprocess
import threading
import time

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


def metric(srv, name):
    s, _, b = srv.request("GET", "/metrics")
    for line in b.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise harness.TestFailure("metric %s not in /metrics" % name)


def wait_for(what, cond, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise harness.TestFailure("timed out waiting for " + what)


def submit(srv, quarter, out):
    body = {"authority": AUTH, "period": quarter,
            "figures": {"ehcp_caseload": 3000, "new_plans_issued": 100,
                        "new_plans_within_20_weeks": 40}}
    s, _, b = srv.request("POST", "/api/v1/submissions", body=body, timeout=60,
                          headers={"Authorization": "Bearer " + TOK["admin"]})
    out.append((s, b))


def test_blocked_writes_leave_reads_their_connections(t):
    srv = harness.Server(t.db, ["--pool-size", "3", "--pool-write-size", "1",
                                "--pool-write-queue", "1", "--pool-wait-ms", "30000"])
    lock = subprocess.Popen(
        ["psql", "-X", "-q", "-At", "-h", harness.SOCK, "-U", "postgres", "-d", t.db],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    threads = []
    try:
        lock.stdin.write("BEGIN;\nLOCK TABLE submissions IN SHARE MODE;\nSELECT 'locked';\n")
        lock.stdin.flush()
        t.eq(lock.stdout.readline().strip(), "locked", "the lock is held")
        t.eq(metric(srv, 'sendbench_db_pool_write_connections{state="limit"}'), 1.0,
             "write connection limit")

        first, second = [], []
        threads.append(threading.Thread(target=submit, args=(srv, "2023-24 Q1", first)))
        threads[-1].start()
        wait_for("the first write to hold its connection", lambda: metric(
            srv, 'sendbench_db_pool_write_connections{state="busy"}') == 1.0)
        threads.append(threading.Thread(target=submit, args=(srv, "2023-24 Q2", second)))
        threads[-1].start()
        wait_for("the second write to wait in the writes' queue",
                 lambda: metric(srv, "sendbench_db_pool_write_queued") == 1.0)

        # The writes' queue is full: a third write is refused at once with
        # 503 and Retry-After, and stores nothing.
        third = []
        t0 = time.time()
        submit(srv, "2023-24 Q3", third)
        t.json_error(third[0][0], third[0][1], 503, "database_unavailable")
        t.true(time.time() - t0 < 5, "the refused write was answered at once")
        t.eq(metric(srv, "sendbench_db_pool_write_rejected_total"), 1.0, "writes rejected")

        # Reads keep their two connections: 30 concurrent reads through
        # the pool all answer 200 promptly while both writes are stuck.
        results = []
        rlock = threading.Lock()

        def read(path):
            t1 = time.time()
            s, _, _ = srv.request("GET", path, timeout=20)
            with rlock:
                results.append((s, time.time() - t1))

        readers = [threading.Thread(target=read, args=(p,))
                   for p in ["/healthz", "/api/v1/metrics", "/api/v1/authorities/" + AUTH] * 10]
        for th in readers:
            th.start()
        for th in readers:
            th.join(30)
        t.eq(sorted(set(s for s, _ in results)), [200], "every read while writes are stuck")
        t.eq(len(results), 30, "reads answered")
        t.true(max(d for _, d in results) < 5, "reads answered promptly: %r" % results)
        t.eq(first, [], "the first write is still waiting on the lock")
        t.eq(t.value("SELECT count(*) FROM submissions"), "0", "nothing stored yet")
    finally:
        lock.stdin.write("COMMIT;\n")
        lock.stdin.close()
        lock.wait(30)
        for th in threads:
            th.join(60)
        srv.stop()
    t.eq([s for s, _ in first + second], [201, 201], "both held writes stored once let go")
    t.eq(t.value("SELECT count(*) FROM submissions"), "2", "submissions stored")
    periods = [json.loads(b)["period"] for _, b in first + second]
    t.eq(sorted(periods), ["2023-24 Q1", "2023-24 Q2"], "the two held writes, not the refused one")
