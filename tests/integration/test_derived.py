"""The figures in force and the derived metrics maintained when written
(sql/150, issues 13 and 19): the tables figures_in_force and
derived_figures always say what current_observations_computed and
derived_figures_computed compute from scratch (the database stays the
source of truth), after an import, a submission awaiting approval, an
approval, a growth rate's year before, a quarantine and its release, and
two writers of one authority and period at once; and the API serves the
maintained figures."""

import json
import os
import subprocess
import time

import harness

TEMPLATE = "history"
AUTH = "E06000059"
TOK = {}


def consistent(t, what):
    diff = t.value("SELECT count(*) FROM ((SELECT * FROM current_observations"
                   " EXCEPT SELECT * FROM current_observations_computed)"
                   " UNION ALL (SELECT * FROM current_observations_computed"
                   " EXCEPT SELECT * FROM current_observations)) d")
    t.eq(diff, "0", "figures in force = current_observations_computed " + what)
    diff = t.value("SELECT count(*) FROM ((SELECT * FROM derived_figures"
                   " EXCEPT SELECT * FROM derived_figures_computed)"
                   " UNION ALL (SELECT * FROM derived_figures_computed"
                   " EXCEPT SELECT * FROM derived_figures)) d")
    t.eq(diff, "0", "derived_figures = derived_figures_computed " + what)
    t.eq(t.value("SELECT count(*) FROM figures_pending"), "0", "nothing left pending " + what)
    diff = t.value("SELECT count(*) FROM ((SELECT * FROM area_figures"
                   " EXCEPT SELECT * FROM area_figures_computed)"
                   " UNION ALL (SELECT * FROM area_figures_computed"
                   " EXCEPT SELECT * FROM area_figures)) d")
    t.eq(diff, "0", "area_figures = area_figures_computed " + what)


def derived(t, metric, period, authority=AUTH):
    rows = t.psql("SELECT coalesce(value::text, ''), coalesce(reason, '') FROM derived_observations"
                  " WHERE authority = :'p1' AND metric = :'p2' AND period = :'p3'",
                  authority, metric, period)
    return tuple(rows[0]) if rows else None


def bearer(name):
    return {"Authorization": "Bearer " + TOK[name]}


def submit(t, period, figures):
    s, _, b = t.request("POST", "/api/v1/submissions", headers=bearer("sender"),
                        body={"authority": AUTH, "period": period, "figures": figures})
    t.eq(s, 201, "submission stored: %r" % b[:200])
    return json.loads(b)["id"]


def approve(t, sid):
    s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % sid, headers=bearer("approver"))
    t.eq(s, 200, "approved: %r" % b[:200])


def test_setup(t):
    for name in ("sender", "approver"):
        r = t.cli("token", "create", "--admin", "--label", name)
        t.eq(r.returncode, 0, "token: " + r.stderr)
        TOK[name] = r.stdout.strip()


def test_the_declaration_is_one_table(t):
    t.eq(t.value("SELECT count(*) FROM derived_metrics"),
         t.value("SELECT count(*) FROM metrics WHERE kind = 'derived'"),
         "every derived metric of the catalogue is declared")
    t.eq(t.psql("SELECT input FROM derived_inputs WHERE metric = 'pct_within_20_weeks'"
                " ORDER BY input"),
         [["new_plans_issued"], ["new_plans_timeliness_den"], ["new_plans_within_20_weeks"]],
         "the 20-week rate's inputs")


def test_after_the_import(t):
    t.true(int(t.value("SELECT count(*) FROM derived_figures")) > 5000,
           "the shipped history has derived figures")
    t.true(int(t.value("SELECT count(*) FROM figures_in_force")) > 50000,
           "and figures in force")
    consistent(t, "after the import")


def test_area_figures_follow_a_new_area_version(t):
    # England's published 20-week counts for a year, then a new version of
    # its numerator: the kept published rate and ratio follow (sql/160).
    t.true(int(t.value("SELECT count(*) FROM area_figures WHERE area = 'E92000001'")) > 100,
           "the import kept England's figures")
    ins = ("INSERT INTO area_observations (area, metric, period, period_kind, period_start,"
           " value, source, version) VALUES ('E92000001', :'p1', '2031', 'calendar_year',"
           " '2031-01-01', :'p2', 'test', :'p3')")
    t.psql(ins, "new_plans_within_20_weeks", "300", "1")
    t.psql(ins, "new_plans_timeliness_den", "600", "1")
    rate = ("SELECT value::numeric(6,1)::text || ' ' || how FROM area_figures WHERE"
            " area = 'E92000001' AND metric = 'pct_within_20_weeks' AND period = '2031'")
    t.eq(t.value(rate), "50.0 ratio of published figures", "the ratio of the published counts")
    consistent(t, "after new area figures")
    t.psql(ins, "new_plans_within_20_weeks", "150", "2")
    t.eq(t.value(rate), "25.0 ratio of published figures", "the numerator's new version")
    consistent(t, "after an area figure's new version")


def test_pending_changes_nothing_approval_puts_in_force(t):
    q = "2024-25 Q1"
    sid = submit(t, q, {"new_plans_issued": 80, "new_plans_within_20_weeks": 20})
    t.eq(derived(t, "pct_within_20_weeks", q), None, "nothing derived before approval")
    t.eq(t.value("SELECT count(*) FROM current_observations WHERE authority = :'p1'"
                 " AND period = :'p2'", AUTH, q), "0", "nothing in force before approval")
    consistent(t, "after a submission awaiting approval")
    approve(t, sid)
    t.eq(derived(t, "pct_within_20_weeks", q)[0][:6], "25.000", "20 of 80 within 20 weeks")
    consistent(t, "after an approval")
    # A new version, approved: the rate follows it.
    approve(t, submit(t, q, {"new_plans_issued": 50, "new_plans_within_20_weeks": 20}))
    t.eq(derived(t, "pct_within_20_weeks", q)[0][:6], "40.000", "the new version's rate")
    # A missing input is a reason, never 0.
    approve(t, submit(t, "2024-25 Q3", {"new_plans_issued": 50}))
    t.eq(derived(t, "pct_within_20_weeks", "2024-25 Q3"), ("", "new_plans_within_20_weeks missing"),
         "missing numerator")
    s, _, b = t.request("GET", "/api/v1/submissions/%d" % sid, headers=bearer("approver"))
    t.eq(s, 200, "submission detail")
    consistent(t, "after new versions")


def test_growth_follows_the_year_before(t):
    q0, q1 = "2021-22 Q2", "2022-23 Q2"
    approve(t, submit(t, q1, {"ehcp_caseload": 1100}))
    t.eq(derived(t, "caseload_growth_pct", q1), ("", "ehcp_caseload missing for " + q0),
         "no year before yet")
    # The year before arrives later: the later period's growth is recomputed.
    approve(t, submit(t, q0, {"ehcp_caseload": 1000}))
    t.eq(derived(t, "caseload_growth_pct", q1)[0][:6], "10.000", "1100 after 1000")
    approve(t, submit(t, q0, {"ehcp_caseload": 550}))
    t.eq(derived(t, "caseload_growth_pct", q1)[0][:7], "100.000", "1100 after 550")
    consistent(t, "after growth inputs")


def test_quarantine_and_release(t):
    row = t.psql("SELECT metric, period, version FROM current_observations WHERE authority = :'p1'"
                 " AND metric = 'ehcp_caseload' AND period_kind = 'census_year'"
                 " ORDER BY period DESC LIMIT 1", AUTH)[0]
    metric, period, version = row
    before = derived(t, "caseload_per_officer", period)
    t.psql("INSERT INTO import_quality (authority, metric, period, version, rule, action, detail,"
           " file_name, line, source) VALUES (:'p1', :'p2', :'p3', :'p4', 'contradiction',"
           " 'quarantine', 'test', 'test.csv', 1, 'test')", AUTH, metric, period, version)
    consistent(t, "after a quarantine")
    t.true(derived(t, "caseload_per_officer", period) != before or before is None,
           "the quarantined figure is no input any more")
    t.psql("INSERT INTO import_quality_releases (quality_id, reason, actor)"
           " SELECT id, 'checked', 'test' FROM import_quality WHERE authority = :'p1'"
           " AND metric = :'p2' AND period = :'p3' AND file_name = 'test.csv'", AUTH, metric, period)
    consistent(t, "after a release")
    t.eq(derived(t, "caseload_per_officer", period), before, "released: as before")


def test_two_writers_at_once(t):
    # Two transactions write the two inputs of one ratio for one authority
    # and period; the one that commits last computes from both.
    sql = ("INSERT INTO observations (authority, metric, period, period_kind, period_start,"
           " value, published, source, version) VALUES ('%s', '%s', '2031', 'census_year',"
           " '2031-01-20', %s, true, 'test', 1);")
    first = subprocess.Popen(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h",
                              harness.SOCK, "-U", "postgres", "-d", t.db],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        first.stdin.write("BEGIN;\n" + sql % (AUTH, "ehcp_caseload", 3000) + "SELECT 'written';\n")
        first.stdin.flush()
        t.eq(first.stdout.readline().strip(), "written", "the first writer wrote")
        # The second writes and commits while the first is open.
        t.psql(sql % (AUTH, "case_officers_fte", 20))
        t.eq(derived(t, "caseload_per_officer", "2031"), ("", "ehcp_caseload missing"),
             "the second alone")
        first.stdin.write("COMMIT;\n")
        first.stdin.close()
        out = first.stdout.read()
        t.eq(first.wait(30), 0, "the first writer committed: " + out)
    finally:
        if first.poll() is None:
            first.kill()
    t.eq(derived(t, "caseload_per_officer", "2031"), ("150.0000000000000000", ""),
         "computed from both writers' figures")
    consistent(t, "after two writers at once")


def open_writer(t, name):
    env = dict(os.environ, PGAPPNAME=name)
    return subprocess.Popen(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h",
                             harness.SOCK, "-U", "postgres", "-d", t.db],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)


def test_recomputations_lock_their_authority_and_period(t):
    # Writer A recomputes (SET CONSTRAINTS ... IMMEDIATE runs the deferred
    # recomputation now) and stays open, holding its locks (sql/161).  A
    # writer of another authority in that period commits meanwhile (under
    # the one commit lock it waited for A's commit); a writer of A's
    # authority and period waits for A and then computes from both.
    sql = ("INSERT INTO observations (authority, metric, period, period_kind, period_start,"
           " value, published, source, version) VALUES ('%s', '%s', '2032', 'census_year',"
           " '2032-01-20', %s, true, 'test', 1);")
    other = t.value("SELECT neighbour FROM statistical_neighbours WHERE authority = :'p1'"
                    " ORDER BY rank LIMIT 1", AUTH)
    a = open_writer(t, "writer_a")
    c = None
    try:
        a.stdin.write("BEGIN;\n" + sql % (AUTH, "ehcp_caseload", 3000)
                      + "SET CONSTRAINTS figures_pending_flush IMMEDIATE;\nSELECT 'flushed';\n")
        a.stdin.flush()
        t.eq(a.stdout.readline().strip(), "flushed", "writer A recomputed, still open")
        # Another authority, the same period: not held up by A.
        t.psql("SET lock_timeout = '20s'; " + sql % (other, "ehcp_caseload", 1000))
        t.eq(t.value("SELECT value::int FROM current_observations WHERE authority = :'p1'"
                     " AND metric = 'ehcp_caseload' AND period = '2032'", other), "1000",
             "the other authority's figure is in force while A is open")
        # A's authority and period: waits for A's lock.
        c = open_writer(t, "writer_c")
        c.stdin.write(sql % (AUTH, "case_officers_fte", 20) + "SELECT 'committed';\n")
        c.stdin.flush()
        waiting = "0"
        for _ in range(300):
            waiting = t.value("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s"
                              " ON s.pid = l.pid WHERE s.application_name = 'writer_c'"
                              " AND l.locktype = 'advisory' AND NOT l.granted")
            if waiting != "0":
                break
            time.sleep(0.1)
        t.eq(waiting, "1", "writer C waits for A's (authority, period) lock")
        a.stdin.write("COMMIT;\n")
        a.stdin.close()
        t.eq(a.wait(30), 0, "writer A committed: " + a.stdout.read())
        t.eq(c.stdout.readline().strip(), "committed", "then writer C committed")
        c.stdin.close()
        t.eq(c.wait(30), 0, "writer C ended: " + c.stdout.read())
    finally:
        for w in (a, c):
            if w is not None and w.poll() is None:
                w.kill()
    t.eq(derived(t, "caseload_per_officer", "2032"), ("150.0000000000000000", ""),
         "C computed from A's figure and its own")
    consistent(t, "after writers of one and of two authorities at once")


def test_the_api_serves_the_maintained_figures(t):
    s, _, b = t.request("GET", "/api/v1/tables/caseload_per_officer?period=2031",
                        headers=bearer("approver"))
    t.eq(s, 200, "table: %r" % b[:200])
    rows = [r for r in json.loads(b)["rows"] if r["code"] == AUTH]
    t.eq(len(rows), 1, "the authority's row")
    t.eq(rows[0]["value"], 150, "3000 plans over 20 officers, as derived_figures holds it")
