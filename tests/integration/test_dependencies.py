"""What a write invalidates (issue 19): no change notice for a submission
awaiting approval, one for its approval, and a council quarter leaves the
forecasts alone (they are fitted from
annual figures only), so neither the worker refits nor a cached forecast
reply is dropped."""

import json
import subprocess
import time

import harness

TEMPLATE = "history"
AUTH = "E06000059"
FC = "/api/v1/forecasts/ehcp_caseload?authority=E06000059"
TOK = {}


def test_setup(t):
    r = t.cli("token", "create", "--admin")
    t.eq(r.returncode, 0, "token: " + r.stderr)
    TOK["admin"] = r.stdout.strip()


def submit(t, quarter, caseload):
    s, _, b = t.request("POST", "/api/v1/submissions",
                        body={"authority": AUTH, "period": quarter,
                              "figures": {"ehcp_caseload": caseload, "new_plans_issued": 100,
                                          "new_plans_within_20_weeks": 40}},
                        headers={"Authorization": "Bearer " + TOK["admin"]})
    t.eq(s, 201, "submission stored: %r" % b[:200])
    return json.loads(b)


def notices_during(t, action):
    """The change notices sent while action() runs (a psql LISTENing)."""
    listener = subprocess.Popen(
        ["psql", "-X", "-q", "-At", "-h", harness.SOCK, "-U", "postgres", "-d", t.db],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        listener.stdin.write("LISTEN sendbench_data;\nSELECT 'ready';\n")
        listener.stdin.flush()
        while listener.stdout.readline().strip() != "ready":
            pass
        result = action()
        time.sleep(0.5)
        # psql prints what arrived after the next statement it runs.
        listener.stdin.write("SELECT 'after';\nSELECT 'end';\n")
    finally:
        listener.stdin.close()
        out = listener.stdout.read()
        listener.wait(30)
    notes = [line for line in out.splitlines() if line.startswith("Asynchronous notification")]
    return result, [json.loads(n.split(' with payload "', 1)[1].rsplit('" received', 1)[0])
                    for n in notes]


def test_one_change_notice_per_submission(t):
    # The worker's refit of test_setup's figures ends with a "forecasts"
    # notice of its own: let it land before listening.
    t.wait_forecasts()
    # A version awaiting approval is in force nowhere (sql/041): no notice
    # (sql/151).
    doc, notes = notices_during(t, lambda: submit(t, "2022-23 Q1", 3100))
    t.eq(notes, [], "change notices for a submission awaiting approval")
    r = t.cli("token", "create", "--admin", "--label", "approver-1")
    t.eq(r.returncode, 0, "token: " + r.stderr)
    approver = r.stdout.strip()

    def approve():
        s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % doc["id"],
                            headers={"Authorization": "Bearer " + approver})
        t.eq(s, 200, "approved: %r" % b[:200])

    _, notes = notices_during(t, approve)
    t.eq(len(notes), 1, "change notices for its approval: %r" % notes)
    t.eq({k: notes[0][k] for k in ("authority", "period", "metrics")},
         {"authority": AUTH, "period": "2022-23 Q1",
          "metrics": ["ehcp_caseload", "new_plans_issued", "new_plans_within_20_weeks"]},
         "the notice names what changed")
    # A figure in force when written (an import, a correction): one notice.
    _, notes = notices_during(t, lambda: t.psql(
        "INSERT INTO observations (authority, metric, period, period_kind, period_start, value,"
        " published, source, version) VALUES ('%s','requests_received','2019','calendar_year',"
        " '2019-01-01', 1234, true, 'correction', 9)" % AUTH))
    t.eq(notes, [{"authority": AUTH, "period": "2019", "metrics": ["requests_received"]}],
         "the notice of a figure written in force")


def forecast_cache_hits(t):
    s, h, b = t.request("GET", "/metrics")
    for line in b.decode().splitlines():
        if line.startswith('sendbench_events_total{event="forecast_cache_hits"}'):
            return int(line.split()[-1])
    return 0


def fresh_forecast(t):
    deadline = time.time() + 120
    while time.time() < deadline:
        s, h, b = t.request("GET", FC)
        if s == 200 and not json.loads(b)["stale"]:
            return h, json.loads(b)
        time.sleep(0.2)
    raise harness.TestFailure("no fresh forecast within 120 s")


def runs(t):
    return t.psql("SELECT metric, data_version, fitted_at FROM forecast_runs ORDER BY metric")


def test_a_quarter_leaves_forecasts_cached_and_fresh(t):
    h0, doc0 = fresh_forecast(t)
    # The worker is idle once every metric with annual figures has a run as
    # new as them (its own query, server/forecast_worker.c).
    deadline = time.time() + 120
    while t.value("SELECT count(*) FROM metrics m WHERE EXISTS (SELECT 1 FROM forecast_input f"
                  " WHERE f.metric = m.id AND f.period_kind = m.annual_period)"
                  " AND NOT EXISTS (SELECT 1 FROM forecast_runs r WHERE r.metric = m.id"
                  " AND r.frequency = 'annual' AND r.data_version >= forecast_data_version()"
                  " AND r.engine = (SELECT engine FROM forecast_runs ORDER BY fitted_at DESC"
                  " LIMIT 1))") != "0":
        if time.time() > deadline:
            raise harness.TestFailure("the worker did not settle")
        time.sleep(0.2)
    before = runs(t)
    version = t.value("SELECT data_version()")
    s, h1, b1 = t.request("GET", FC)
    t.eq(s, 200, "status")
    submit(t, "2023-24 Q2", 3200)
    submit(t, "2023-24 Q3", 3250)
    t.true(int(t.value("SELECT data_version()")) > int(version), "the data version moved")
    hits = forecast_cache_hits(t)
    s, h2, b2 = t.request("GET", FC)
    t.eq(s, 200, "status")
    t.eq(forecast_cache_hits(t), hits + 1, "the reply still came from the cache")
    t.eq(h2.get("etag"), h1.get("etag"), "the same reply")
    doc = json.loads(b2)
    t.eq(doc["stale"], False, "a council quarter is no input of the forecast: not stale")
    t.eq(doc["current_data_version"], doc0["current_data_version"], "forecast data version")
    # Longer than the worker's debounce (300 ms) and a refit of one metric.
    time.sleep(2.0)
    t.eq(runs(t), before, "no refit after council quarters")


def test_annual_figures_still_drop_and_stale_the_forecast(t):
    h0, doc0 = fresh_forecast(t)
    t.psql("INSERT INTO observations (authority, metric, period, period_kind, period_start, value,"
           " published, source, version) VALUES ('%s','ehcp_caseload','2022','census_year',"
           " '2022-01-20', 77777, true, 'revised', 9)" % AUTH)
    current = int(t.value("SELECT forecast_data_version()"))
    t.true(current > doc0["current_data_version"], "annual figures move the forecast version")
    deadline = time.time() + 10
    while True:
        doc = json.loads(t.request("GET", FC)[2])
        if doc["current_data_version"] == current:
            break
        if time.time() > deadline:
            raise harness.TestFailure("the cached forecast was not dropped")
        time.sleep(0.1)
    t.eq(doc["stale"], doc["data_version"] < current, "stale flag")


# ---- the dependency index (server/cache.c): what one approval drops ----

OTHER = "E06000058"


def cache_counters(t):
    s, _, b = t.request("GET", "/metrics")
    out = {}
    for line in b.decode().splitlines():
        if line.startswith("sendbench_reply_cache_events_total{event=\""):
            out[line.split('"')[1]] = int(line.split()[-1])
        elif line.startswith("sendbench_reply_cache_entries "):
            out["entries"] = int(line.split()[-1])
    return out


def test_an_approval_drops_only_what_read_its_figures(t):
    # The annual figure of the test before makes the worker refit, which
    # ends with a "forecasts" notice: let it land first, so that the only
    # changes below are the approvals'.
    t.wait_forecasts()
    time.sleep(0.5)
    r = t.cli("token", "create", "--admin", "--label", "approver")
    t.eq(r.returncode, 0, "token: " + r.stderr)
    approver = r.stdout.strip()
    quarter = "2024-25 Q4"

    def submit_approved(figures):
        s, _, b = t.request("POST", "/api/v1/submissions",
                            body={"authority": AUTH, "period": quarter, "figures": figures},
                            headers={"Authorization": "Bearer " + TOK["admin"]})
        t.eq(s, 201, "submitted")
        changes = cache_counters(t)["change"]
        s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % json.loads(b)["id"],
                            headers={"Authorization": "Bearer " + approver})
        t.eq(s, 200, "approved: %r" % b[:200])
        # The approval's notice reaches the server asynchronously: wait for it.
        deadline = time.time() + 10
        while cache_counters(t)["change"] == changes:
            if time.time() > deadline:
                raise harness.TestFailure("no narrow change applied after the approval")
            time.sleep(0.05)

    # The quarter's first figures, so that it has a table.
    submit_approved({"new_plans_issued": 80, "new_plans_within_20_weeks": 20})
    admin = {"Authorization": "Bearer " + TOK["admin"]}
    urls = {"own profile": ("/api/v1/authorities/%s/profile" % AUTH, None),
            "own profile, admin": ("/api/v1/authorities/%s/profile" % AUTH, admin),
            "other profile": ("/api/v1/authorities/%s/profile" % OTHER, None),
            "other's table of 2021": ("/api/v1/tables/new_plans_issued?period=2021"
                                      "&group=neighbours&authority=" + OTHER, None),
            "table of the quarter": ("/api/v1/tables/new_plans_issued?period=" +
                                     quarter.replace(" ", "%20"), None)}

    def get_all():
        out = {}
        for name, (url, headers) in urls.items():
            s, h, b = t.request("GET", url, headers=headers)
            t.eq(s, 200, name)
            out[name] = (h.get("etag"), b)
        return out

    def kept_after(action):
        action()
        kept = {}
        for name, (url, headers) in urls.items():
            h0 = cache_counters(t)["hit"]
            s, _, _ = t.request("GET", url, headers=headers)
            t.eq(s, 200, name)
            kept[name] = cache_counters(t)["hit"] == h0 + 1
        return kept

    first = get_all()
    before = cache_counters(t)
    get_all()       # all five are cached now
    after = cache_counters(t)
    t.eq(after["hit"] - before["hit"], 5, "five hits before the write")
    kept = kept_after(lambda: submit_approved({"new_plans_issued": 90,
                                               "new_plans_within_20_weeks": 30}))
    # The council has not consented to be named: its approved quarter is
    # hidden from the public (sql/152), so its public profile stays; its
    # own view (here an admin's) and the quarter's table go.
    t.eq(kept, {"own profile": True, "own profile, admin": False, "other profile": True,
                "other's table of 2021": True, "table of the quarter": False},
         "served from the cache after the approval")
    t.true(cache_counters(t)["change_drop"] > before["change_drop"], "the change dropped entries")
    kept_bodies = get_all()
    t.eq(kept_bodies["other profile"][0], first["other profile"][0],
         "the other authority's profile is the same reply")
    t.true(kept_bodies["own profile, admin"][1] != first["own profile, admin"][1],
           "the admin's view shows the approved quarter")
    # What was kept is what would be computed now: empty the cache (a notice
    # it cannot read narrowly) and compare the public profile byte for byte.
    inval = cache_counters(t)["invalidation"]
    t.psql("SELECT pg_notify('sendbench_data', 'test: empty the cache')")
    deadline = time.time() + 10
    while cache_counters(t)["invalidation"] == inval:
        if time.time() > deadline:
            raise harness.TestFailure("the cache was not emptied")
        time.sleep(0.05)
    s, h, b = t.request("GET", urls["own profile"][0])
    t.eq(s, 200, "own profile recomputed")
    t.eq(b, kept_bodies["own profile"][1], "the kept public profile is the one computed afresh")
    # Once the council consents, its approved quarters are public: an
    # approval then drops its public profile too.
    r = t.cli("consent", "--authority", AUTH, "--name", "yes")
    t.eq(r.returncode, 0, "consent: " + r.stderr)
    deadline = time.time() + 10
    while cache_counters(t)["invalidation"] == inval + 1:
        if time.time() > deadline:
            raise harness.TestFailure("the consent did not empty the cache")
        time.sleep(0.05)
    get_all()
    kept = kept_after(lambda: submit_approved({"new_plans_issued": 95,
                                               "new_plans_within_20_weeks": 35}))
    t.eq(kept["own profile"], False, "a consenting council's approval drops its public profile")
    t.eq(kept["other profile"], True, "and not another's")
    r = t.cli("consent", "--authority", AUTH, "--name", "no")
    t.eq(r.returncode, 0, "consent withdrawn: " + r.stderr)
