"""--db-read on one PostgreSQL (issue 20; server/db_read.c).  The lagging
standby itself is drilled in make test-cluster ("replica reads"); here the
"replica" is the primary's own database (after a promotion the check reads
pg_current_wal_lsn()), so make test (plain and under the sanitizers) runs
the routing: anonymous table misses go to the replica once its position
is known, a change is seen at once, token callers read the primary, only
the replica's own failures (not the query's errors) are resent to the
primary, an unreachable replica leaves every read on the primary, and a
list of hosts is refused."""

import re
import subprocess
import threading
import time

import harness
import test_forecasts

SERVER = False
TABLE = "/api/v1/tables/ehcp_caseload?period=%d&format=%s"


def events(srv, name):
    b = srv.request("GET", "/metrics")[2].decode()
    m = re.search(r'^sendbench_events_total\{event="%s"\} (\d+)' % name, b, re.M)
    return int(m.group(1)) if m else 0


def wait_for(what, cond, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise harness.TestFailure("timed out waiting for " + what)


def test_setup(t):
    test_forecasts.seed(t)


def test_anonymous_misses_read_the_replica_and_see_changes(t):
    srv = harness.Server(t.db, ["--db-read", harness.db_url(t.db)])
    try:
        keys = iter([(y, f) for f in ("json", "csv") for y in range(2010, 2023)])

        def on_replica():
            before = events(srv, "db_read_replica")
            st = srv.request("GET", TABLE % next(keys))[0]
            t.eq(st, 200, "table")
            return events(srv, "db_read_replica") > before
        wait_for("a miss read on the replica", on_replica)
        # A change: its notice starts a barrier; the next miss shows it.
        t.eq(srv.request("GET", "/api/v1/tables/ehcp_caseload?period=2022")[0], 200, "cached")
        t.psql("INSERT INTO observations (authority, metric, period, period_kind, period_start,"
               " value, published, source, version) VALUES ('E06000101','ehcp_caseload','2022',"
               "'census_year','2022-01-20',55555,true,'test',2); NOTIFY sendbench_data")
        wait_for("the change shown", lambda: b"55555" in srv.request(
            "GET", "/api/v1/tables/ehcp_caseload?period=2022")[2])
        wait_for("the replica reads again after the change", on_replica)
        # A token caller's misses never go to the replica.
        r = t.cli("token", "create", "--admin")
        t.eq(r.returncode, 0, "token: " + r.stderr)
        auth = {"Authorization": "Bearer " + r.stdout.strip()}
        before = events(srv, "db_read_replica") + events(srv, "db_read_primary")
        for y in range(2012, 2016):
            t.eq(srv.request("GET", TABLE % (y, "json"), headers=auth)[0], 200, "token table")
        t.eq(events(srv, "db_read_replica") + events(srv, "db_read_primary"), before,
             "token callers' reads are not --db-read's")
    finally:
        t.eq(srv.stop(), 0, "exit status")


# A "replica" whose table reads fail with the SQLSTATE in sb_fail_code:
# table_mask_key (every table read selects its key) becomes a view that
# raises it.
FAILING_REPLICA = """
CREATE TABLE sb_fail_code (code text);
CREATE FUNCTION sb_fail() RETURNS boolean VOLATILE LANGUAGE plpgsql AS $$
DECLARE c text;
BEGIN
    SELECT code INTO c FROM sb_fail_code;
    IF c IS NOT NULL THEN
        RAISE EXCEPTION 'test: the replica fails with %', c USING ERRCODE = c;
    END IF;
    RETURN true;
END $$;
ALTER TABLE table_mask_key RENAME TO table_mask_key_real;
CREATE VIEW table_mask_key AS SELECT key FROM table_mask_key_real WHERE sb_fail();
"""


def test_only_a_failing_replica_is_retried_on_the_primary(t):
    """A lost session or a conflict with recovery on the replica sends the
    read to the primary; an error of the query itself is answered as the
    primary would answer it (500), and the primary is not asked again."""
    replica = t.db + "_replica"
    harness.psql("postgres", "CREATE DATABASE %s TEMPLATE %s" % (replica, t.db))
    harness.psql(replica, FAILING_REPLICA)
    srv = harness.Server(t.db, ["--db-read", harness.db_url(replica)])
    try:
        keys = iter([(y, f, a) for a in ("", "&authority=E06000101", "&authority=E06000102")
                     for f in ("json", "csv") for y in range(2010, 2023)])

        def on_replica():
            """The next miss, and whether it went to the replica."""
            before = events(srv, "db_read_replica")
            y, f, a = next(keys)
            st, h, b = srv.request("GET", TABLE % (y, f) + a)
            return (st, b) if events(srv, "db_read_replica") > before else None
        st, b = wait_for("a miss read on the replica", on_replica)
        t.eq(st, 200, "the replica answers while it does not fail")
        for code, retried in (("22012", False), ("42501", False), ("40001", True),
                              ("57P01", True), ("40P01", True)):
            harness.psql(replica, "DELETE FROM sb_fail_code; INSERT INTO sb_fail_code"
                                  " VALUES ('%s')" % code)
            failed = events(srv, "db_read_replica_failed")
            st, b = wait_for("a miss read on the replica (%s)" % code, on_replica)
            if retried:
                t.eq(st, 200, "%s on the replica: the primary answers" % code)
                t.true(b"E06000101" in b, "%s: the primary's table" % code)
                t.eq(events(srv, "db_read_replica_failed"), failed + 1,
                     "%s: counted as resent" % code)
            else:
                t.json_error(st, b, 500, "internal_error")
                t.eq(events(srv, "db_read_replica_failed"), failed,
                     "%s is the query's own error: not resent to the primary" % code)
        harness.psql(replica, "DELETE FROM sb_fail_code")
        st, b = wait_for("the replica serving again", on_replica)
        t.eq(st, 200, "the replica answers again")
    finally:
        t.eq(srv.stop(), 0, "exit status")
        harness.psql("postgres", "DROP DATABASE IF EXISTS %s" % replica)


def test_the_barrier_does_not_wait_behind_the_primarys_reads(t):
    """With the primary's only pool connection stuck in a read (a token
    caller's table, blocked by a lock), a change notice's barrier still
    answers (it has a connection of its own), so anonymous misses go back
    to the replica instead of queueing behind it."""
    replica = t.db + "_replica2"
    harness.psql("postgres", "CREATE DATABASE %s TEMPLATE %s" % (replica, t.db))
    srv = harness.Server(t.db, ["--db-read", harness.db_url(replica), "--pool-size", "1"])
    locker = th = None
    blocked = []
    try:
        keys = iter([(y, f, a) for a in ("", "&authority=E06000103", "&authority=E06000104")
                     for f in ("json", "csv") for y in range(2010, 2023)])

        def miss(out):
            y, f, a = next(keys)
            try:
                out.append(srv.request("GET", TABLE % (y, f) + a, timeout=20)[0])
            except OSError as e:
                out.append(repr(e))

        def on_replica():
            before = events(srv, "db_read_replica")
            miss([])
            return events(srv, "db_read_replica") > before
        wait_for("a miss read on the replica", on_replica)
        r = t.cli("token", "create", "--admin")
        t.eq(r.returncode, 0, "token: " + r.stderr)
        auth = {"Authorization": "Bearer " + r.stdout.strip()}
        locker = subprocess.Popen(["psql", "-X", "-q", "-h", harness.SOCK, "-U", "postgres",
                                   "-d", t.db], stdin=subprocess.PIPE, text=True,
                                  stdout=subprocess.DEVNULL)
        locker.stdin.write("BEGIN; LOCK TABLE table_mask_key IN ACCESS EXCLUSIVE MODE;\n")
        locker.stdin.flush()
        wait_for("the lock", lambda: t.value(
            "SELECT count(*) FROM pg_locks WHERE relation = 'table_mask_key'::regclass"
            " AND mode = 'AccessExclusiveLock' AND granted") == "1")
        # The token caller's miss takes the primary pool's one connection
        # and waits for the lock there.
        th = threading.Thread(target=lambda: blocked.append(srv.request(
            "GET", TABLE % (2011, "json") + "&authority=E06000105", headers=auth,
            timeout=60)[0]), daemon=True)
        th.start()
        wait_for("the primary's connection blocked", lambda: t.value(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'") == "1")
        t.psql("NOTIFY sendbench_data")
        # Misses one after another: the first may still be sent to the
        # primary (before the barrier is answered) and wait there; one
        # sent after it must be answered from the replica.
        answers, threads = [], []
        deadline = time.time() + 10
        while 200 not in answers and time.time() < deadline:
            m = threading.Thread(target=miss, args=(answers,), daemon=True)
            m.start()
            threads.append(m)
            time.sleep(0.2)
        t.true(200 in answers, "an anonymous miss answered (from the replica) while the"
                               " primary's connection is blocked: %r" % answers)
    finally:
        if locker:
            locker.stdin.write("COMMIT;\n")
            locker.stdin.close()
            locker.wait(30)
        if th:
            th.join(60)
        t.eq(srv.stop(), 0, "exit status")
        harness.psql("postgres", "DROP DATABASE IF EXISTS %s" % replica)
    t.eq(blocked, [200], "the token caller's read answered once the lock went")


def test_unreachable_replica_leaves_reads_on_the_primary(t):
    url = "postgresql://postgres@127.0.0.1:1/%s?connect_timeout=1" % t.db
    srv = harness.Server(t.db, ["--db-read", url])
    try:
        for y in range(2010, 2016):
            st, h, b = srv.request("GET", TABLE % (y, "json"))
            t.eq(st, 200, "table %d answered from the primary" % y)
        t.eq(events(srv, "db_read_replica"), 0, "nothing sent to the replica")
        t.true(events(srv, "db_read_primary") >= 6, "all read on the primary")
    finally:
        t.eq(srv.stop(), 0, "exit status")


def test_a_list_of_hosts_is_refused(t):
    r = subprocess.run([harness.BIN, "serve", "--port", "0", "--db", harness.db_url(t.db),
                        "--db-read", "postgresql://a:5432,b:5432/sendbench"],
                       capture_output=True, text=True, timeout=30)
    t.eq(r.returncode, 2, "usage error")
    t.true("--db-read" in r.stderr, "names the flag: %r" % r.stderr)
