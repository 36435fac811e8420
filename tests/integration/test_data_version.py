"""Data changes are numbered in commit order (sql/018): two writers that
commit in the inverse of the order they wrote in both move data_version()
and forecast_data_version(), the later commit to the larger number, so
forecasts of either are refitted and a forecast made before the last
commit is flagged stale."""

import subprocess

import harness

SERVER = False

INSERT = ("INSERT INTO observations (authority, metric, period, period_kind, period_start,"
          " value, published, source, version) VALUES ('E06000059', 'ehcp_caseload', '%s',"
          " 'census_year', '%s-01-20', %d, true, 'dv-order', 1);")


class Session:
    """One psql session fed line by line, so that two transactions can be
    interleaved; each step waits for psql to echo a marker after it."""

    def __init__(self, db):
        self.p = subprocess.Popen(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", harness.SOCK,
             "-U", "postgres", "-d", db], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, bufsize=1)
        self.n = 0

    def run(self, sql, wait=True):
        self.n += 1
        marker = "step-%d-done" % self.n
        self.p.stdin.write(sql + "\n\\echo " + marker + "\n")
        self.p.stdin.flush()
        if wait:
            self.wait(marker)
        return marker

    def wait(self, marker):
        out = []
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise harness.TestFailure("psql ended: %s %s" % (out, self.p.stderr.read()))
            line = line.rstrip("\n")
            if line == marker:
                return out
            out.append(line)

    def close(self):
        self.p.stdin.close()
        rc = self.p.wait(timeout=30)
        if rc != 0:
            raise harness.TestFailure("psql exited %d: %s" % (rc, self.p.stderr.read()))


def setup_authority(t):
    t.psql("INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name)"
           " VALUES ('E06000059', '838', 'Dorset', 'E12000009', 'South West')"
           " ON CONFLICT DO NOTHING")


def version(t):
    return int(t.value("SELECT data_version()"))


def forecast_version(t):
    return int(t.value("SELECT forecast_data_version()"))


def test_inverted_commits_both_move_the_version(t):
    setup_authority(t)
    v0 = version(t)
    f0 = forecast_version(t)
    a, b = Session(t.db), Session(t.db)
    try:
        a.run("BEGIN;")
        a.run(INSERT % ("2016", "2016", 1))      # A writes first ...
        b.run("BEGIN;")
        b.run(INSERT % ("2017", "2017", 2))
        b.run("COMMIT;")                        # ... B commits first
        v1, f1 = version(t), forecast_version(t)
        t.true(v1 > v0 and f1 > f0, "B's commit moves both versions: %s -> %s" % (v0, v1))
        a.run("COMMIT;")
        v2, f2 = version(t), forecast_version(t)
        t.true(v2 > v1 and f2 > f1, "A's later commit moves them again: %s -> %s" % (v1, v2))
    finally:
        a.close()
        b.close()
    # changed_at is the writing transaction's start: A's is the earlier,
    # and its change has the larger id.
    rows = t.psql("SELECT id, changed_at FROM data_changes WHERE id > %d ORDER BY id" % v0)
    t.eq(len(rows), 2, "one change per transaction here: %r" % rows)
    t.true(rows[0][1] > rows[1][1], "the later id is A's, the earlier-started: %r" % rows)


def test_a_writer_that_rolls_back_moves_nothing(t):
    v0 = version(t)
    s = Session(t.db)
    try:
        s.run("BEGIN;")
        s.run(INSERT % ("2014", "2014", 3))
        s.run("ROLLBACK;")
    finally:
        s.close()
    t.eq(version(t), v0, "no commit, no step")
    t.psql(INSERT % ("2013", "2013", 4))
    t.true(version(t) > v0, "the next commit moves it")


def test_the_application_role_cannot_renumber(t):
    r = subprocess.run(
        ["psql", "-X", "-q", "-At", "-h", harness.SOCK, "-U", "postgres", "-d", t.db, "-c",
         "SET ROLE sendbench_app; UPDATE data_changes SET id = 0"],
        capture_output=True, text=True, timeout=30)
    t.true(r.returncode != 0 and "permission denied" in r.stderr,
           "app role refused: %r" % r.stderr)
