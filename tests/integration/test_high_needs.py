"""The High Needs plan on the real shipped history: the money files as
published metrics, the unmitigated trajectory to 2029-30, scenarios saved
per authority (private, versioned), the CSV, and who may see what."""

import csv
import io
import json
import time

import harness

TEMPLATE = "history"
DERBY = "E06000015"
TOK = {}
SAVED = {}

CSV_HEAD = ["financial_year", "placements_total", "spend_gbp", "allocation_gbp",
            "in_year_balance_gbp", "cumulative_balance_gbp", "cumulative_balance_lo80_gbp",
            "cumulative_balance_hi80_gbp"]


def wait_trajectory(t, path, headers=None, timeout=300):
    """The trajectory needs the forecast worker's caseload forecast and its
    forecasts of plans by setting (fitted after every headline metric):
    503 forecast_pending until they are stored."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        s, h, b = t.request("GET", path, headers=headers)
        if s == 200:
            return h, b
        if s != 503:
            raise harness.TestFailure("%s: %d %s" % (path, s, b[:300]))
        time.sleep(0.2)
    raise harness.TestFailure("no trajectory within %ss for %s" % (timeout, path))


def fingerprint(t):
    return t.value("SELECT count(*) || ':' || coalesce(max(id), 0) FROM hn_scenarios") + "/" + \
        t.value("SELECT count(*) FROM observations")


def test_money_files_are_published_metrics(t):
    derby = lambda m, p: "%.2f" % float(t.value(  # noqa: E731
        "SELECT value FROM current_observations WHERE authority = :'p1' AND metric = :'p2'"
        " AND period = :'p3'", DERBY, m, p))
    t.eq(derby("hnb_before_deductions_gbp", "2021-22"), "45363086.00", "HNB before deductions")
    t.eq(derby("hnb_after_deductions_gbp", "2023-24"), "46056628.00", "HNB after deductions")
    t.eq(derby("dsg_total_before_deductions_gbp", "2019-20"), "235148489.84", "total DSG")
    t.eq(derby("hnbt_placed_independent_special", "2021-22"), "166.00", "placements")
    t.eq(derby("hnbt_budget_independent_gbp", "2021-22"), "10388581.00", "independent top-up")
    # the example: 10,388,581 / 166 = 62,581.81
    t.eq(derby("hnbt_cost_independent_gbp", "2021-22"), "62581.81", "cost per placement")
    caseload = float(t.value("SELECT value FROM current_observations WHERE authority = :'p1'"
                             " AND metric = 'ehcp_caseload' AND period = '2022'", DERBY))
    t.eq(round(float(derby("hnb_per_ehc_plan_gbp", "2021-22")), 2), round(45363086 / caseload, 2),
         "HNB per EHC plan over the January 2022 caseload")
    t.eq(t.value("SELECT count(DISTINCT authority) FROM observations WHERE metric = 'hnbt_ehcp_total'"),
         "154", "every HNBT authority")
    t.eq(t.value("SELECT bool_and(published) FROM observations WHERE metric LIKE 'hnbt%'"), "t",
         "published figures")
    # the catalogue lists them
    s, cat = t.get_json("/api/v1/metrics")
    ids = {m["id"] for m in cat} if isinstance(cat, list) else {m["id"] for m in cat["metrics"]}
    t.true({"hnb_before_deductions_gbp", "hnbt_cost_independent_gbp", "hnb_per_ehc_plan_gbp"} <= ids,
           "catalogue has the money metrics")


def test_import_detects_money_files_and_is_idempotent(t):
    before = t.value("SELECT count(*) FROM observations")
    r = t.cli("import", "all", "data/high_needs/")
    t.eq(r.returncode, 0, "import all: %s" % r.stderr)
    t.true("ESFA DSG allocations" in r.stdout and "High Needs Benchmarking Tool" in r.stdout,
           "both files recognised: %s" % r.stdout)
    t.eq(t.value("SELECT count(*) FROM observations"), before, "nothing new on a re-import")


def test_unmitigated_trajectory(t):
    h, b = wait_trajectory(t, "/api/v1/authorities/831/high-needs")
    doc = json.loads(b)
    t.eq(doc["authority"]["code"], DERBY, "old code resolves")
    t.eq(doc["mitigated"], False, "unmitigated")
    t.eq(doc["figures_used"], "published figures only", "anonymous: published only")
    years = [y["financial_year"] for y in doc["years"]]
    t.eq(years, ["2022-23", "2023-24", "2024-25", "2025-26", "2026-27", "2027-28", "2028-29",
                 "2029-30"], "years to 2029-30 from the latest published balance")
    t.eq(doc["opening_balance"]["source"], "published_pct_x_total_dsg", "opening source named")
    t.eq(doc["inputs"]["cost_per_placement"]["independent_special"]["gbp"], 62582.0,
         "Derby's own HNBT cost")
    t.eq(doc["inputs"]["cost_per_placement"]["independent_special"]["source"], "own_hnbt_uplifted",
         "cost source named")
    t.true(len(doc["assumptions"]) >= 6, "assumptions listed")
    # Placements by setting grow with each setting's own forecast (SEN2
    # plans in place by setting, pooled, with intervals): the first year
    # (January 2023, observed) is the HNBT placements x the SEN2 growth.
    growth = doc["inputs"]["placement_growth"]
    for setting, metric in (("independent_special", "plans_special_independent"),
                            ("maintained_special", "plans_special_state"),
                            ("mainstream", "plans_mainstream"),
                            # SEN2 counts resourced provision and SEN units
                            # apart (sql/190): their own series
                            ("resourced_provision", "plans_mainstream_rp_unit")):
        t.eq(growth[setting], {"metric": metric, "source": "own_setting_forecast"},
             "grown with its own forecast: " + setting)
        sen2 = lambda p: float(t.value(  # noqa: E731
            "SELECT value FROM current_observations WHERE authority = :'p1' AND metric = :'p2'"
            " AND period = :'p3'", DERBY, metric, p))
        hnbt = doc["inputs"]["placements"][setting]
        want = hnbt * sen2("2023") / sen2("2022")
        got = doc["years"][0]["placements"][setting]
        t.true(abs(got - want) <= 0.051, "%s 2022-23 = HNBT x SEN2 growth (to 0.1): %r, want %r"
               % (setting, got, want))
    t.true(any("own SEN2 plans in place" in a for a in doc["assumptions"]), "said in the assumptions")
    s, _, b = t.request("GET", "/api/v1/forecasts/plans_special_independent?authority=" + DERBY)
    t.eq(s, 200, "the setting's forecast is served as any other")
    # The HNBT's one-year figures are inputs, never forecast themselves.
    t.eq(t.psql("SELECT count(*), count(*) FILTER (WHERE forecast) FROM metrics WHERE id LIKE 'hnbt%'"),
         [["19", "0"]], "19 HNBT metrics, none forecast")
    t.eq(t.value("SELECT count(*) FROM forecasts WHERE metric LIKE 'hnbt%'"), "0", "none stored")
    s, _, b = t.request("GET", "/api/v1/forecasts/hnbt_cost_independent_gbp?authority=" + DERBY)
    err = t.json_error(s, b, 404, "no_data")
    t.true("not forecast" in err["message"], err["message"])
    cum = doc["opening_balance"]["gbp"]
    for y in doc["years"]:
        t.true(abs(y["in_year_balance_gbp"] - (y["allocation_gbp"] - y["spend_gbp"])) <= 1,
               "in-year = allocation - spend")
        cum += y["in_year_balance_gbp"]
        t.true(abs(y["cumulative_balance_gbp"] - cum) <= 8, "cumulative = running sum")
        parts = sum(y["placements"].values())
        t.true(abs(parts - y["placements_total"]) <= 1, "placements add up")
        t.true(y["cumulative_balance_lo80_gbp"] <= y["cumulative_balance_gbp"]
               <= y["cumulative_balance_hi80_gbp"], "interval contains the path")
    t.eq([y["allocation_published"] for y in doc["years"][:2]], [True, True],
         "2022-23 and 2023-24 allocations are the published ones")
    t.eq(doc["years"][0]["allocation_gbp"], 51061738.0, "published 2022-23 allocation")
    # the CSV: one row per year, the contract's columns first
    s, h, b = t.request("GET", "/api/v1/authorities/831/high-needs?format=csv")
    t.eq(s, 200, "csv")
    t.true(h["content-type"].startswith("text/csv"), "csv type")
    rows = list(csv.reader(io.StringIO(b.decode())))
    t.eq(rows[0][:8], CSV_HEAD, "csv header")
    t.true("placements_independent_special" in rows[0] and
           "cost_per_placement_independent_special_gbp" in rows[0], "settings columns")
    t.eq([r[0] for r in rows[1:]], years, "one row a year")
    t.eq(float(rows[-1][5]), doc["years"][-1]["cumulative_balance_gbp"], "csv = json")
    for r in rows[1:]:
        for cell in r[1:8]:
            float(cell)  # plain numbers


def test_errors(t):
    s, h, b = t.request("GET", "/api/v1/authorities/E06999999/high-needs")
    t.json_error(s, b, 404, "not_found")
    s, h, b = t.request("GET", "/api/v1/authorities/831/high-needs?format=xml")
    t.json_error(s, b, 400, "bad_parameter")
    s, h, b = t.request("GET", "/api/v1/authorities/831/high-needs?scenario=1%27--")
    t.json_error(s, b, 400, "bad_parameter")


def test_tokens(t):
    for name, args in (("derby", ["--authority", "831"]), ("other", ["--authority", "830"]),
                       ("admin", ["--admin"])):
        r = t.cli("token", "create", *args)
        t.eq(r.returncode, 0, "token create: %s" % r.stderr)
        TOK[name] = {"Authorization": "Bearer " + r.stdout.strip()}


PLAN = {"name": "Special school 2027",
        "levers": {"new_plans_growth_reduction_pct": 10, "from_year": "2026-27",
                   "independent_to_maintained_pct": 20,
                   "new_special_places": 60, "new_special_places_year": "2027-28",
                   "new_special_place_cost_gbp": 28000,
                   "cost_inflation_pct": 3.0, "hnb_growth_pct": 5.0,
                   "extra_case_officers_fte": 4}}


def test_scenario_rejections_change_nothing(t):
    fp = fingerprint(t)
    path = "/api/v1/authorities/831/scenarios"
    s, h, b = t.request("POST", path, PLAN)
    t.json_error(s, b, 401)
    s, h, b = t.request("POST", path, PLAN, headers=TOK["other"])
    t.json_error(s, b, 403)
    bad = {"name": "", "extra": 1,
           "levers": {"new_plans_growth_reduction_pct": 150, "from_year": "2026",
                      "unknown_lever": 3, "cost_inflation_pct": "high",
                      "new_special_places": 10}}
    s, h, b = t.request("POST", path, bad, headers=TOK["derby"])
    err = t.json_error(s, b, 422, "validation_failed")
    fields = sorted(d["field"] for d in err["details"])
    for want in ("name", "extra", "levers.new_plans_growth_reduction_pct", "levers.from_year",
                 "levers.unknown_lever", "levers.cost_inflation_pct",
                 "levers.new_special_places_year", "levers.new_special_place_cost_gbp"):
        t.true(want in fields, "a detail for %s in %r" % (want, fields))
    rules = {d["field"]: d["rule"] for d in err["details"]}
    t.eq(rules["levers.unknown_lever"], "unknown_lever", "unknown lever named")
    t.eq(rules["levers.new_plans_growth_reduction_pct"], "out_of_range", "out of range")
    s, h, b = t.request("POST", path, body="{not json", headers=dict(TOK["derby"], **{
        "Content-Type": "application/json"}))
    t.json_error(s, b, 400, "invalid_json")
    s, h, b = t.request("POST", path, body='{"name": "a", "name": "b"}', headers=dict(
        TOK["derby"], **{"Content-Type": "application/json"}))
    t.json_error(s, b, 400, "invalid_json")
    s, h, b = t.request("POST", "/api/v1/authorities/E06999999/scenarios", PLAN,
                        headers=TOK["admin"])
    t.json_error(s, b, 404)
    t.eq(fingerprint(t), fp, "no row changed")


def test_scenario_saved_versioned_private(t):
    path = "/api/v1/authorities/831/scenarios"
    s, h, b = t.request("POST", path, PLAN, headers=TOK["derby"])
    t.eq(s, 201, "saved: %s" % b[:300])
    v1 = json.loads(b)
    t.eq((v1["version"], v1["name"], v1["authority"]), (1, PLAN["name"], DERBY), "version 1")
    t.eq(v1["levers"]["from_year"], "2026-27", "levers kept as financial years")
    t.true(h["location"].endswith("/scenarios/%d" % v1["id"]), "Location")
    changed = dict(PLAN, levers=dict(PLAN["levers"], independent_to_maintained_pct=40))
    s, h, b = t.request("POST", path, changed, headers=TOK["admin"])
    t.eq(s, 201, "admin saves for Derby")
    v2 = json.loads(b)
    t.eq(v2["version"], 2, "same name: the next version")
    # the first version is unchanged
    s, one = t.get_json("%s/%d" % (path, v1["id"]), headers=TOK["derby"])
    t.eq((s, one["version"], one["levers"]["independent_to_maintained_pct"]), (200, 1, 20.0),
         "version 1 kept")
    s, lst = t.get_json(path, headers=TOK["derby"])
    t.eq([x["version"] for x in lst["scenarios"]], [2, 1], "every version, newest first")
    for who in (None, TOK["other"]):
        s, h, b = t.request("GET", path, headers=who)
        t.true(s in (401, 403), "list is private: %d" % s)
        s, h, b = t.request("GET", "%s/%d" % (path, v1["id"]), headers=who)
        t.true(s in (401, 403), "one is private: %d" % s)
    # the trajectory of the scenario: own council yes, anonymous and others no
    traj = "/api/v1/authorities/831/high-needs?scenario=%d" % v1["id"]
    s, h, b = t.request("GET", traj)
    t.json_error(s, b, 401)
    t.true(b"Special school" not in b, "nothing of the scenario disclosed")
    s, h, b = t.request("GET", traj, headers=TOK["other"])
    t.json_error(s, b, 404)
    h, b = wait_trajectory(t, traj, headers=TOK["derby"])
    doc = json.loads(b)
    t.eq(doc["mitigated"], True, "mitigated")
    t.eq(doc["scenario"]["id"], v1["id"], "which scenario")
    t.eq(h.get("cache-control"), "private, no-store", "not cached by others")
    last = doc["years"][-1]
    h, b = wait_trajectory(t, "/api/v1/authorities/831/high-needs")
    unmit = json.loads(b)
    t.eq(last["unmitigated_cumulative_balance_gbp"], unmit["years"][-1]["cumulative_balance_gbp"],
         "the unmitigated path beside the scenario")
    t.true(last["spend_gbp"] < unmit["years"][-1]["spend_gbp"], "the plan spends less")
    t.true(last["allocation_gbp"] < unmit["years"][-1]["allocation_gbp"],
           "its 5% allocation growth is below Derby's published history")
    y2728 = [y for y in doc["years"] if y["financial_year"] == "2027-28"][0]
    y2627 = [y for y in doc["years"] if y["financial_year"] == "2026-27"][0]
    t.true(y2728["placements"]["maintained_special"] - y2627["placements"]["maintained_special"] > 60,
           "60 new special places in 2027-28")
    t.eq(doc["levers"]["new_special_places_year"], "2027-28", "levers carried in the result")
    s, h, b = t.request("GET", traj + "&format=csv", headers=TOK["derby"])
    t.eq(s, 200, "scenario csv")
    rows = list(csv.reader(io.StringIO(b.decode())))
    t.eq(float(rows[-1][5]), last["cumulative_balance_gbp"], "csv = json")
    # another authority's code with Derby's scenario id: not found
    s, h, b = t.request("GET", "/api/v1/authorities/830/high-needs?scenario=%d" % v1["id"],
                        headers=TOK["admin"])
    t.json_error(s, b, 404)


def test_shared_scenario_uses_published_figures_only(t):
    # Derby submits its own DSG balance: only Derby (and admins) see it used
    body = {"authority": DERBY, "period": "2023-24 Q4",
            "figures": {"dsg_cumulative_balance_gbp": -5000000, "case_officers_fte": 20}}
    s, h, b = t.request("POST", "/api/v1/submissions", body, headers=TOK["derby"])
    t.eq(s, 201, "submitted: %s" % b[:200])
    # Only approved versions are in force (docs/submissions.md section 11).
    s, h, b = t.request("POST", "/api/v1/submissions/%d/approve" % json.loads(b)["id"],
                        headers=TOK["admin"])
    t.eq(s, 200, "approved: %s" % b[:200])
    shared = dict(PLAN, name="Published plan", shared=True)
    s, h, b = t.request("POST", "/api/v1/authorities/831/scenarios", shared, headers=TOK["derby"])
    t.eq(s, 201, "shared saved")
    sid = json.loads(b)["id"]
    traj = "/api/v1/authorities/831/high-needs?scenario=%d" % sid
    h, b = wait_trajectory(t, traj)
    anon = json.loads(b)
    t.eq(anon["figures_used"], "published figures only", "anonymous: published only")
    t.eq(anon["base_year"], "2021-22", "anonymous: the published balance")
    t.true(b"-5000000" not in b, "the submitted balance is not in a public answer")
    h, b = wait_trajectory(t, traj, headers=TOK["derby"])
    own = json.loads(b)
    t.eq(own["opening_balance"]["source"], "submitted_gbp", "own: the submitted balance")
    t.eq((own["base_year"], own["opening_balance"]["gbp"]), ("2023-24", -5000000.0), "own opening")
    t.eq([y["financial_year"] for y in own["years"]][0], "2024-25", "own: from 2024-25")
    t.true(own["years"][0]["staffing"]["caseload_per_officer"] is not None, "own officers used")
    # the unmitigated public answer does not move with the submission
    h, b = wait_trajectory(t, "/api/v1/authorities/831/high-needs")
    t.eq(json.loads(b)["opening_balance"]["source"], "published_pct_x_total_dsg", "public unchanged")


OWN_SENTENCE = b"its opening balance is the DSG balance it submitted"


def test_council_pack_uses_its_own_figures_without_a_scenario(t):
    """Signed in (or with its token), a council's evidence pack draws its
    High Needs section from its own submitted figures too, as its
    trajectory API does; nobody else's pack does, nor its published=only
    print (Derby's approved -5,000,000 balance above)."""
    base = "/api/v1/authorities/831/evidence"
    _, j = wait_trajectory(t, "/api/v1/authorities/831/high-needs", headers=TOK["derby"])
    own = json.loads(j)
    t.eq(own["opening_balance"]["source"], "submitted_gbp", "the API uses the submitted balance")
    _, j = wait_trajectory(t, "/api/v1/authorities/831/high-needs")
    public = json.loads(j)
    s, h, b = t.request("GET", base, headers=TOK["derby"])
    t.eq(s, 200, "the council's pack")
    t.true(OWN_SENTENCE in b, "the pack says it starts from the submitted balance")
    t.true(gbp(abs(own["years"][-1]["cumulative_balance_gbp"])).encode() in b,
           "the pack's 2029-30 balance is the council's own trajectory's")
    t.true(h["cache-control"].startswith("private"), "private: %s" % h["cache-control"])
    s, h, b = t.request("GET", base, headers=TOK["admin"])
    t.eq(s, 200, "an admin's view of the pack")
    t.true(OWN_SENTENCE in b, "an admin sees what the council sees")
    for who, hdr, path in (("anonymous", None, base), ("another council", TOK["other"], base),
                           ("published only", TOK["derby"], base + "?published=only")):
        s, h, b = t.request("GET", path, headers=hdr)
        t.eq(s, 200, "%s: the pack" % who)
        t.true(OWN_SENTENCE not in b, "%s: not from the council's figures" % who)
        t.true(gbp(abs(public["years"][-1]["cumulative_balance_gbp"])).encode() in b,
               "%s: the public trajectory's 2029-30 balance" % who)
    s, h, b = t.request("GET", "/api/v1/authorities/E06999999/evidence", headers=TOK["derby"])
    t.eq(s, 404, "no such authority, signed in: %s" % b[:200])


# ---- the web page, its forms and the evidence pack ---------------------------

def gbp(v):
    return ("-£" if v < 0 else "£") + "{:,.0f}".format(abs(v))


def test_page_anonymous_unmitigated_and_preview(t):
    import people
    c = people.Client(t)
    h, b = wait_trajectory(t, "/api/v1/authorities/831/high-needs")
    api = json.loads(b)
    s, h, page = c.get("/authorities/831/high-needs")
    t.eq(s, 200, "page")
    last = api["years"][-1]
    t.true(gbp(last["cumulative_balance_gbp"]) in page, "the API's 2029-30 balance on the page")
    t.true('id="hn-fan' in page and "<svg" in page, "the fan chart")
    t.true('<form method="get" action="/authorities/E06000015/high-needs"' in page, "preview form")
    t.true('name="independent_to_maintained_pct"' in page and 'name="new_special_places_year"' in page,
           "the levers by their API names")
    t.true("Save scenario" not in page and "Sign in" in page, "anonymous: no save form")
    t.true("<script" not in page, "no JavaScript")
    for note in api["assumptions"][:3]:
        t.true(note.replace("'", "&#39;")[:60] in page or note[:60] in page, "assumption listed")
    before = t.value("SELECT count(*) FROM hn_scenarios")
    s, h, page = c.get("/authorities/831/high-needs?independent_to_maintained_pct=50"
                       "&new_special_places=60&new_special_places_year=2027-28"
                       "&new_special_place_cost_gbp=28000")
    t.eq(s, 200, "preview")
    t.true("These levers (not saved)" in page and 'id="hn-scenarios' in page, "preview on the chart")
    t.eq(t.value("SELECT count(*) FROM hn_scenarios"), before, "a preview saves nothing")
    s, h, page = c.get("/authorities/831/high-needs?independent_to_maintained_pct=500&from_year=x")
    t.eq(s, 422, "bad levers")
    t.true("must be a percentage from 0 to 100" in page and "2026-27" in page, "each problem named")
    s, h, page = c.get("/authorities/E06999999/high-needs")
    t.eq(s, 404, "unknown authority")


def test_page_saves_a_private_scenario(t):
    import people
    people.make_user(t, "finance@derby.example", "submitter", "E06000015", password="correct horse 17")
    people.make_user(t, "viewer@derbyshire.example", "submitter", "E10000007", password="correct horse 18")
    c = people.Client(t)
    s, h, b = c.sign_in("finance@derby.example", "correct horse 17")
    t.eq(s, 303, "signed in")
    path = "/authorities/E06000015/high-needs"
    s, h, page = c.form("/authorities/831/high-needs")
    t.true("Save scenario" in page, "the council's save form")
    c.csrf = people.form_csrf(page, path)
    before = t.value("SELECT count(*) FROM hn_scenarios")
    fields = {"name": "Fewer independent placements", "independent_to_maintained_pct": "30",
              "new_special_places": "60", "new_special_places_year": "2027-28",
              "new_special_place_cost_gbp": "28000"}
    s, h, b = c.post(path, fields, csrf="not-the-token")
    t.eq(s, 403, "CSRF refused")
    s, h, b = c.post(path, dict(fields, independent_to_maintained_pct="300"))
    t.eq(s, 422, "bad lever refused")
    t.eq(t.value("SELECT count(*) FROM hn_scenarios"), before, "nothing saved")
    s, h, b = c.post(path, fields)
    t.eq(s, 303, "saved: %s" % b[:300])
    sid = int(h["location"].rsplit("=", 1)[1])
    t.eq(t.value("SELECT name || ' v' || version || ' ' || shared FROM hn_scenarios WHERE id = %d" % sid),
         "Fewer independent placements v1 false", "stored, private")
    s, h, page = c.get(h["location"])
    t.true("Fewer independent placements (v1)" in page, "the scenario beside the unmitigated line")
    # anonymous visitors and another council do not see it
    s, h, page = people.Client(t).get("/authorities/831/high-needs")
    t.true("Fewer independent placements" not in page, "anonymous: not shown")
    other = people.Client(t)
    other.sign_in("viewer@derbyshire.example", "correct horse 18")
    s, h, page = other.get("/authorities/831/high-needs")
    t.true("Fewer independent placements" not in page and "Save scenario" not in page,
           "another council: neither the scenario nor the save form")
    s, h, page = other.form("/authorities/830/high-needs")
    s, h, b = other.post(path, fields, csrf=people.form_csrf(page))
    t.eq(s, 403, "another council cannot save for Derby")
    s, h, b = people.Client(t).post(path, fields, csrf="x")
    t.true(s in (303, 401, 403), "anonymous cannot save: %d" % s)
    t.eq(t.value("SELECT count(*) FROM hn_scenarios"), str(int(before) + 1), "one row added")
    # the evidence pack: the unmitigated section for everyone; the plan for the council
    s, h, pack = t.request("GET", "/api/v1/authorities/831/evidence", headers={"Accept": "text/html"})
    pack = pack.decode()
    t.eq(s, 200, "evidence pack")
    t.true('id="high-needs-plan"' in pack and "Without mitigation the cumulative DSG" in pack,
           "High Needs plan section")
    t.true("Fewer independent placements" not in pack, "no private scenario in the public pack")
    ev = "/api/v1/authorities/831/evidence?scenario=%d" % sid
    s, h, b = t.request("GET", ev)
    t.eq(s, 401, "anonymous: the plan's pack needs the council")
    t.true(b"Fewer independent" not in b, "nothing of it disclosed")
    s, h, b = t.request("GET", ev, headers=TOK["other"])
    t.eq(s, 404, "another council: not found")
    s, h, b = t.request("GET", ev, headers=TOK["derby"])
    t.eq(s, 200, "the council's plan pack")
    h2, j = wait_trajectory(t, "/api/v1/authorities/831/high-needs?scenario=%d" % sid,
                            headers=TOK["derby"])
    plan = json.loads(j)["years"][-1]["cumulative_balance_gbp"]
    text = b.decode()
    t.true("with this plan" in text and gbp(abs(plan)).lstrip("-") in text,
           "the sentence carries the API's figure for the plan")
    s, h, page = c.get(ev)
    t.eq(s, 200, "the signed-in council sees its plan pack too")
    SAVED.update(sid=sid, client=c)


def pack_rows(body):
    return list(csv.DictReader(io.StringIO(body.decode())))


def test_evidence_pack_with_saved_scenario(t):
    """The whole evidence pack (HTML, CSV, XLSX) with the council's saved
    scenario: for the council (token or session) and admins only, cached
    apart from the public pack, which stays as it was."""
    openpyxl = harness.debian_module("openpyxl")
    sid, c = SAVED["sid"], SAVED["client"]
    base = "/api/v1/authorities/831/evidence"
    s, h, anon_csv = t.request("GET", base + "?format=csv")
    t.eq(s, 200, "public pack csv")
    t.true(not any(r["section"] == "high_needs_plan" for r in pack_rows(anon_csv)),
           "the public pack has no plan rows")
    h2, j = wait_trajectory(t, "/api/v1/authorities/831/high-needs?scenario=%d" % sid,
                            headers=TOK["derby"])
    api = json.loads(j)
    # the council's HTML pack: every section of the pack, and its plan
    s, h, b = t.request("GET", base + "?scenario=%d" % sid, headers=TOK["derby"])
    t.eq(s, 200, "the council's pack")
    text = b.decode()
    for sec in ('id="growth"', 'id="flows"', 'id="timeliness"', 'id="forecast"', 'id="sources"',
                'id="plan-sentence"', 'id="plan-table"', 'id="plan-levers"',
                "<code>independent_to_maintained_pct</code>: 30", "Fewer independent placements"):
        t.true(sec in text, "the whole pack with the plan: %s" % sec)
    t.true(h["cache-control"].startswith("private"), "private: %s" % h["cache-control"])
    last = api["years"][-1]
    t.true(gbp(abs(last["cumulative_balance_gbp"])) in text and
           gbp(abs(last["unmitigated_cumulative_balance_gbp"])) in text,
           "both of the API's 2029-30 balances in the pack")
    # CSV and XLSX carry the plan's rows, equal to the API's
    for how, hdr in (("token", TOK["derby"]), ("session", None)):
        if hdr:
            s, h, b = t.request("GET", base + "?scenario=%d&format=csv" % sid, headers=hdr)
        else:
            s, h, b = c.request("GET", base + "?scenario=%d&format=csv" % sid)
        t.eq(s, 200, "csv by %s" % how)
        rows = pack_rows(b if isinstance(b, bytes) else b.encode())
        widths = {len(r) for r in csv.reader(io.StringIO(
            (b if isinstance(b, bytes) else b.encode()).decode())) if r}
        t.eq(widths, {11}, "every row of the pack's CSV has the header's 11 cells (%s)" % how)
        plan = {(r["metric"], r["series"], r["period"]): float(r["value"])
                for r in rows if r["section"] == "high_needs_plan"}
        t.true(any(r["section"] == "growth" for r in rows), "the rest of the pack's rows")
        for y in api["years"]:
            fy = y["financial_year"]
            t.eq(plan[("cumulative_balance_gbp", "scenario", fy)], y["cumulative_balance_gbp"],
                 "%s: the scenario's balance = the API's (%s)" % (fy, how))
            t.eq(plan[("cumulative_balance_gbp", "unmitigated", fy)],
                 y["unmitigated_cumulative_balance_gbp"], "%s: unmitigated = the API's" % fy)
    s, h, b = t.request("GET", base + "?scenario=%d&format=xlsx" % sid, headers=TOK["derby"])
    t.eq(s, 200, "xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(b), data_only=True)
    cells = [[c2.value for c2 in row] for ws in wb.worksheets for row in ws.iter_rows()]
    got = [r for r in cells if r and r[0] == "high_needs_plan" and r[1] == "cumulative_balance_gbp"
           and r[2] == "scenario" and r[5] == "2029-30"]
    t.eq(len(got), 1, "the plan's 2029-30 row in the workbook")
    t.eq(float(got[0][6]), last["cumulative_balance_gbp"], "workbook = API")
    # nobody else: anonymous 401, another council 404, in every format, and
    # the council's cached pack is not served to them
    for fmt in ("", "&format=csv", "&format=xlsx"):
        path = base + "?scenario=%d%s" % (sid, fmt)
        s, h, b = t.request("GET", path)
        t.json_error(s, b, 401, "unauthorized")
        t.true("content-disposition" not in h, "an error is no download (%s)" % fmt)
        t.true(b"Fewer independent" not in b, "nothing of it to an anonymous visitor")
        s, h, b = t.request("GET", path, headers=TOK["other"])
        t.json_error(s, b, 404, "not_found")
    s, h, b = t.request("GET", base + "?scenario=%d&published=only" % sid, headers=TOK["derby"])
    t.json_error(s, b, 400, "bad_parameter")
    # a shared scenario: anyone, from published figures only
    shared = t.value("SELECT max(id) FROM hn_scenarios WHERE shared AND authority = :'p1'", DERBY)
    s, h, b = t.request("GET", base + "?scenario=%s&format=csv" % shared)
    t.eq(s, 200, "a shared plan's pack for anyone")
    t.true(any(r["section"] == "high_needs_plan" and r["series"] == "scenario"
               for r in pack_rows(b)), "with its plan rows")
    t.true(b"-5000000" not in b, "not from the council's submitted balance")
    # the public pack is as it was
    s, h, again = t.request("GET", base + "?format=csv")
    t.eq(again, anon_csv, "the anonymous pack unchanged")


def test_hostile_scenario_bodies_are_4xx_and_change_nothing(t):
    fp = fingerprint(t)
    path = "/api/v1/authorities/831/scenarios"
    hdr = dict(TOK["derby"], **{"Content-Type": "application/json"})
    bodies = [
        "[" * 5000 + "]" * 5000,
        '{"name": "x", "levers": {"cost_inflation_pct": 1e400}}',
        '{"name": "x", "levers": [1, 2]}',
        '{"name": "x", "levers": {"' + "k" * 5000 + '": 1}}',
        '{"name": "' + "n" * 10000 + '"}',
        '{"name": "a\\u0000b"}',
        '{"name": 5, "shared": "yes"}',
        '{"name": "x", "levers": {"from_year": 2026}}',
        '{"name": "x", "levers": {"new_special_places": 10, "new_special_places_year": "2099-00",'
        ' "new_special_place_cost_gbp": -1}}',
        b'{"name": "\xff\xfe"}',
        "",
        "null",
    ]
    for body in bodies:
        s, h, b = t.request("POST", path, body=body, headers=hdr)
        t.true(s in (400, 413, 422), "%r...: %d" % (body[:40], s))
        t.json_error(s, b, s)
    for p in ("/api/v1/authorities/831'--/high-needs", "/api/v1/authorities/831/scenarios/0",
              "/api/v1/authorities/831/scenarios/abc", "/api/v1/authorities/831/scenarios/99999999"):
        s, h, b = t.request("GET", p, headers=TOK["derby"])
        t.json_error(s, b, 404)
    s, h, b = t.request("GET", "/api/v1/authorities/831/high-needs?scenario=99999999",
                        headers=TOK["derby"])
    t.json_error(s, b, 404)
    t.eq(fingerprint(t), fp, "no row changed")
    s, h, b = t.request("GET", "/healthz")
    t.eq(s, 200, "server healthy")


# ---- a council's own submitted costs per placement (sql/191) ------------------

COST = "cost_per_placement_independent_special_gbp"


def test_council_submitted_costs(t):
    """A council submits its cost per placement by setting through the
    submission machinery (validated, queried, approved); its trajectory
    uses its own cost where it has one and the HNBT's otherwise, saying
    which; nobody else's answer uses it."""
    import people
    fp = t.value("SELECT count(*) FROM submissions") + "/" + t.value(
        "SELECT count(*) FROM observations")
    for bad, why in ((0, "zero"), (-62000, "negative"), (1500000, "over £1m")):
        body = {"authority": DERBY, "period": "2024-25 Q3", "figures": {COST: bad}}
        s, h, b = t.request("POST", "/api/v1/submissions", body, headers=TOK["derby"])
        err = t.json_error(s, b, 422)
        t.true(any(d["field"] == "figures." + COST and d["rule"] == "cost_per_placement_range"
                   for d in err["details"]), "%s cost refused with its field: %r" % (why, err))
    t.eq(t.value("SELECT count(*) FROM submissions") + "/" + t.value(
        "SELECT count(*) FROM observations"), fp, "rejections change no row")
    s, cat = t.get_json("/api/v1/metrics")
    mine = {m["id"]: m for m in cat["metrics"] if m["id"].startswith("cost_per_placement_")}
    t.eq(sorted(mine), ["cost_per_placement_independent_special_gbp",
                        "cost_per_placement_mainstream_gbp",
                        "cost_per_placement_maintained_special_gbp",
                        "cost_per_placement_post16_gbp",
                        "cost_per_placement_resourced_provision_gbp"], "catalogue entries")
    t.true(all(m["submittable"] and m["unit"] == "£" for m in mine.values()), "submittable £")
    # two quarters: the second moves 50% on the first and is queried (the
    # change rules of every submitted sum of money); a quarter is in force
    # only once approved
    for period, cost in (("2024-25 Q3", 70000), ("2024-25 Q4", 105000)):
        body = {"authority": DERBY, "period": period,
                "figures": {COST: cost, "cost_per_placement_maintained_special_gbp": 31000}}
        s, h, b = t.request("POST", "/api/v1/submissions", body, headers=TOK["derby"])
        t.eq(s, 201, "submitted %s: %s" % (period, b[:300]))
        doc = json.loads(b)
        if period.endswith("Q3"):
            h, tb = wait_trajectory(t, "/api/v1/authorities/831/high-needs", headers=TOK["derby"])
            t.eq(json.loads(tb)["inputs"]["cost_per_placement"]["independent_special"]["source"],
                 "own_hnbt_uplifted", "awaiting approval: not used")
        else:
            t.true(any(q["metric"] == COST and q["rule"] == "change_on_previous_quarter"
                       for q in doc["queries"]), "a 50%% move is queried: %r" % doc["queries"])
        s, h, b = t.request("POST", "/api/v1/submissions/%d/approve" % doc["id"],
                            headers=TOK["admin"])
        t.eq(s, 200, "approved: %s" % b[:200])
    h, b = wait_trajectory(t, "/api/v1/authorities/831/high-needs", headers=TOK["derby"])
    own = json.loads(b)
    c = own["inputs"]["cost_per_placement"]
    t.eq((c["independent_special"]["source"], c["independent_special"]["gbp"],
          c["independent_special"]["prices"], c["independent_special"]["submitted_period"]),
         ("submitted", 105000.0, "2024-25", "2024-25 Q4"), "the latest approved own cost")
    t.eq(c["independent_special"]["hnbt_gbp"], 62582.0, "the HNBT cost it replaces, named")
    t.eq((c["maintained_special"]["source"], c["maintained_special"]["gbp"]),
         ("submitted", 31000.0), "a second setting")
    t.eq((c["mainstream"]["source"], c["mainstream"]["submitted_period"]),
         ("own_hnbt_uplifted", None), "no own cost: the HNBT's")
    infl = own["inputs"]["cost_inflation_pct"]
    for y in own["years"]:
        fy = int(y["financial_year"][:4])
        t.true(abs(y["cost_per_placement_gbp"]["independent_special"]
                   - round(105000 * (1 + infl / 100) ** (fy - 2024))) <= 1,
               "%s: the own cost uplifted from its own year" % y["financial_year"])
    t.true(any("submitted cost per placement (2024-25 prices)" in a for a in own["assumptions"]),
           "said in the assumptions")
    # the page says which
    s, h, page = people.Client(t).get("/authorities/E06000015/high-needs")
    t.eq(s, 200, "page")
    t.true('data-setting="independent_special" data-cost-source="own_hnbt_uplifted"' in page,
           "anonymous page: the HNBT's cost")
    t.true("plans_mainstream_rp_unit" in page and 'id="hn-resourced"' in page,
           "the page names resourced provision's own series")
    # nobody else's answer uses it
    for hdr in (None, TOK["other"]):
        h, b = wait_trajectory(t, "/api/v1/authorities/831/high-needs", headers=hdr)
        doc = json.loads(b)
        t.eq(doc["inputs"]["cost_per_placement"]["independent_special"]["source"],
             "own_hnbt_uplifted", "not the council: the HNBT's cost")
        t.true(b"105000" not in b, "the submitted cost is not in their answer")
