"""Release in batches (issue 15, docs/disclosure.md rule 11, sql/180): a
quarter's public England and region aggregates move only by batches of at
least three protected figures of one region, never by one council's
approval, so that reading a total before and after an approval gives no
council's figure away.  On the shipped history: South West councils'
returns approved one by one, and one London borough's; every public
aggregate read after each approval."""

import json
import re
import time
import urllib.parse

TEMPLATE = "history"
Q = "2025-26 Q3"
# South West: Dorset, Somerset, Devon, Wiltshire; London: Camden.
ORDER = ["838", "933", "878", "202", "865"]
FIGURES = {
    "838": {"ehcp_caseload": 6173, "case_officers_fte": 16.5},
    "933": {"ehcp_caseload": 7291, "case_officers_fte": 21.5},
    "878": {"ehcp_caseload": 8467, "case_officers_fte": 27.5},
    "202": {"ehcp_caseload": 3629, "case_officers_fte": 12.5},
    "865": {"ehcp_caseload": 5417, "case_officers_fte": 18.5},
}
SOUTH_WEST = {"838", "933", "878"}
CODES, TOKENS = {}, {}


def summaries(t, metric, token=None, focal="838"):
    """England's and the South West's (Dorset's region) summaries of the
    quarter's table, and the collection's England and region aggregates."""
    h = {"Authorization": "Bearer " + TOKENS[token]} if token else None
    q = urllib.parse.quote(Q)
    s, doc = t.get_json("/api/v1/tables/%s?group=region&authority=%s&period=%s"
                        % (metric, CODES[focal], q), headers=h)
    t.eq(s, 200, "table %s" % metric)
    out = {x["scope"]: (x["n"], x.get("total"), x.get("mean"), x.get("value")) for x in doc["summaries"]}
    out["rows"] = {r["code"]: r["value"] for r in doc["rows"] if r.get("code")}
    s, col = t.get_json("/api/v1/collections/" + q, headers=h)
    if s == 200:
        for m in col["metrics"]:
            if m["id"] == metric:
                out["collection"] = json.dumps([m["england"], m["regions"]], sort_keys=True)
    return out


def notices(t):
    """Change notices the server has applied to its reply cache (/metrics)."""
    s, _, b = t.request("GET", "/metrics")
    m = re.search(rb'sendbench_reply_cache_events_total\{event="change"\} (\d+)', b)
    return int(m.group(1))


def approve(t, num):
    submit(t, num, FIGURES[num])


def released(t):
    return t.psql("SELECT a.old_la_code, r.metric, r.batch FROM figure_releases r"
                  " JOIN authorities a ON a.new_la_code = r.authority WHERE r.period = :'p1'"
                  " ORDER BY r.metric, a.old_la_code", Q)


def test_aggregates_move_only_by_batches_of_three(t):
    for n in ORDER:
        CODES[n] = t.value("SELECT new_la_code FROM authorities WHERE old_la_code = :'p1'", n)
        r = t.cli("token", "create", "--authority", n)
        t.eq(r.returncode, 0, "token " + n)
        TOKENS[n] = r.stdout.strip()
    r = t.cli("token", "create", "--admin")
    TOKENS["admin"] = r.stdout.strip()

    readings, per_officer = [], []
    for i, n in enumerate(ORDER):
        approve(t, n)
        readings.append(summaries(t, "ehcp_caseload"))
        per_officer.append(summaries(t, "caseload_per_officer"))
        done = set(ORDER[:i + 1])
        if i == 0:
            t.eq((readings[0]["england"][:2], readings[0]["region"][:2]), ((0, None), (0, None)),
                 "one approval: no figure in any aggregate")
        if i < 2:
            # one or two of the South West approved: nothing has moved
            for rd in (readings, per_officer):
                t.eq({k: v for k, v in rd[-1].items() if k != "rows"},
                     {k: v for k, v in rd[0].items() if k != "rows"},
                     "after %s's approval every public aggregate reads as before" % n)
            t.eq(released(t), [], "nothing released with %d of a region" % len(done))
        if i == 2:
            want = sum(FIGURES[x]["ehcp_caseload"] for x in SOUTH_WEST)
            t.eq(readings[-1]["england"][:2], (3, want), "the batch of three in England's total")
            t.eq(readings[-1]["region"][:2], (3, want), "and in the South West's")
            rel = released(t)
            t.eq(sorted(set((a, m) for a, m, _ in rel)),
                 sorted((a, m) for a in SOUTH_WEST
                        for m in ("caseload_per_officer", "case_officers_fte", "ehcp_caseload")),
                 "the three released, inputs and rate, each in its own batch")
            t.eq(len(set(b for a, m, b in rel if m == "ehcp_caseload")), 1,
                 "one batch per metric: %r" % rel)
            t.true(per_officer[-1]["england"][2] is not None, "the rate's mean is released too")
        if i > 2:
            # Camden alone in London, Wiltshire the fourth of the South West:
            # both wait, and nothing moves
            t.eq({k: v for k, v in readings[-1].items() if k != "rows"},
                 {k: v for k, v in readings[2].items() if k != "rows"},
                 "after %s's approval the aggregates read as after the batch" % n)
        for x in done:
            t.eq(readings[-1]["rows"].get(CODES[x]), None, "%s's figure never public" % x)

    # No two successive public readings differ by one authority's figure.
    figs = {FIGURES[n]["ehcp_caseload"] for n in ORDER}
    for a, b in zip(readings, readings[1:]):
        for scope in ("england", "region"):
            ta, tb = a[scope][1] or 0, b[scope][1] or 0
            t.true(abs(tb - ta) not in figs, "%s moved by one figure: %s -> %s" % (scope, ta, tb))

    # Signed in, a waiting council sees its own figure but the same
    # aggregates as the public; an admin sees every figure in them.
    own = summaries(t, "ehcp_caseload", token="865", focal="865")
    t.eq(own["rows"][CODES["865"]], FIGURES["865"]["ehcp_caseload"], "Wiltshire's own figure")
    t.eq((own["england"][:2], own["region"][:2]), (readings[-1]["england"][:2], readings[-1]["region"][:2]),
         "its aggregates are the public's")
    adm = summaries(t, "ehcp_caseload", token="admin")
    t.eq(adm["england"][:2], (5, sum(f["ehcp_caseload"] for f in FIGURES.values())),
         "an admin's England counts every figure in force")


def test_two_more_release_the_waiting_ones(t):
    """Wiltshire waits after the first batch; Cornwall's approval makes two
    waiting (no batch), Gloucestershire's three: the second batch moves the
    South West's and England's totals by the three together."""
    for n, f in (("908", {"ehcp_caseload": 4183, "case_officers_fte": 11.5}),):
        CODES[n] = t.value("SELECT new_la_code FROM authorities WHERE old_la_code = :'p1'", n)
        r = t.cli("token", "create", "--authority", n)
        TOKENS[n] = r.stdout.strip()
        FIGURES[n] = f
        approve(t, n)
    t.eq(len([r for r in released(t) if r[1] == "ehcp_caseload"]), 3, "two waiting: no batch")
    before = summaries(t, "ehcp_caseload")
    # Gloucestershire (916) makes three waiting in the South West
    CODES["916"] = t.value("SELECT new_la_code FROM authorities WHERE old_la_code = '916'")
    r = t.cli("token", "create", "--authority", "916")
    TOKENS["916"] = r.stdout.strip()
    FIGURES["916"] = {"ehcp_caseload": 5927, "case_officers_fte": 19.5}
    approve(t, "916")
    after = summaries(t, "ehcp_caseload")
    batch = sum(FIGURES[n]["ehcp_caseload"] for n in ("865", "908", "916"))
    t.eq(after["region"][1] - before["region"][1], batch, "the second batch of three")
    t.eq(after["england"][1] - before["england"][1], batch, "England moves by the batch")
    t.eq(len(set(b for _, m, b in released(t) if m == "ehcp_caseload")), 2, "two batches")


def quarter_points(html, metric):
    """(series, period, value) of the points of a metric's quarterly chart."""
    m = re.search(r'<figure class="chart-figure quarterly" data-metric="%s" data-axis="quarterly">'
                  r'(.*?)</figure>' % metric, html, re.S)
    if not m:
        return None
    return [(s, p, v) for s, p, v in re.findall(
        r'data-series="([^"]*)" data-period="([^"]*)" data-value="([^"]*)"', m.group(1))]


def test_authority_page_draws_the_quarters_england_and_region(t):
    """Issue 15 item 1: the quarterly England and region series on the
    authority page, on a quarterly axis of its own: for Dorset signed in,
    its own quarter beside England's and the South West's means of the
    released batches; for the public nothing, as the quarter is no public
    default (fewer than half of England contributed, sql/090)."""
    dorset = CODES["838"]
    s, _, b = t.request("GET", "/authorities/" + dorset,
                        headers={"Authorization": "Bearer " + TOKENS["838"], "Accept": "text/html"})
    t.eq(s, 200, "own page")
    pts = quarter_points(b.decode(), "ehcp_caseload")
    t.true(pts is not None, "a quarterly chart of plans in place")
    sw = [FIGURES[n]["ehcp_caseload"] for n in ("838", "933", "878", "865", "908", "916")]
    want = {("Dorset", Q, str(FIGURES["838"]["ehcp_caseload"])),
            ("South West", Q, "%.0f" % (sum(sw) / len(sw))),
            ("England", Q, "%.0f" % (sum(sw) / len(sw)))}
    t.eq(set(pts), want, "its quarter, the South West's and England's means (Camden waits)")
    html = b.decode()
    t.true("only in batches of at least three" in html, "the caption says how aggregates come")
    annual = re.findall(r'<figure class="chart-figure" data-metric="[^"]*">(.*?)</figure>', html, re.S)
    t.true(annual and all(" Q" not in "".join(re.findall(r'data-period="([^"]*)"', a))
                          for a in annual), "no annual chart draws a quarter")
    s, _, b = t.request("GET", "/authorities/" + dorset, headers={"Accept": "text/html"})
    t.eq(s, 200, "public page")
    t.true('data-axis="quarterly"' not in b.decode(), "no quarterly chart for the public")


def test_evidence_pack_draws_the_quarters(t):
    """The pack has the same quarterly chart for Dorset signed in, under
    the own-figures banner, and none for the public."""
    dorset = CODES["838"]
    s, _, b = t.request("GET", "/api/v1/authorities/%s/evidence" % dorset,
                        headers={"Authorization": "Bearer " + TOKENS["838"]})
    t.eq(s, 200, "own pack")
    html = b.decode()
    t.true('id="quarters"' in html and "not for circulation" in html, "a quarters section")
    pts = quarter_points(html, "ehcp_caseload")
    t.true(pts and ("England", Q, "6243") in pts and ("Dorset", Q, "6173") in pts,
           "England's mean of the released returns beside Dorset's quarter: %r" % pts)
    s, _, b = t.request("GET", "/api/v1/authorities/%s/evidence" % dorset)
    t.true('id="quarters"' not in b.decode() and Q not in b.decode(), "none for the public")


def test_neighbour_counts_do_not_list_contributors(t):
    """docs/disclosure.md rule 2: contributors are counted, never listed.
    Statistical-neighbour groups overlap, so the number of contributors
    among each authority's ten neighbours, read for several focal
    authorities, tells by elimination which authorities contributed (two
    groups that differ by one member and by one in their counts).  The
    public neighbours' summary of a quarter therefore counts only public
    figures: none here, for every focal authority, and says x (nothing),
    not c (suppressed), which would tell the same by whether."""
    q = urllib.parse.quote(Q)
    for focal in ("838", "933", "878", "865", "908", "916", "202"):
        s, doc = t.get_json("/api/v1/tables/ehcp_caseload?group=neighbours&authority=%s&period=%s"
                            % (CODES[focal], q))
        t.eq(s, 200, "neighbours of %s" % focal)
        nb = [x for x in doc["summaries"] if x["scope"] == "neighbours"][0]
        t.eq((nb["n"], nb["n_missing"], nb["mean"], nb["symbol"]), (0, 10, None, "x"),
             "%s's neighbours: no count of submitted figures, no c" % focal)
    # Dorset itself still sees how many of its neighbours' figures it is shown
    s, doc = t.get_json("/api/v1/tables/ehcp_caseload?group=neighbours&authority=%s&period=%s"
                        % (CODES["838"], q), headers={"Authorization": "Bearer " + TOKENS["838"]})
    nb = [x for x in doc["summaries"] if x["scope"] == "neighbours"][0]
    t.eq(nb["n"], 2, "Dorset's own view counts Somerset's and Devon's released figures")


def test_metric_page_draws_the_quarters(t):
    """Issue 15 item 2: the metric page's quarters on a quarterly axis of
    their own, below the annual ranking: for Dorset signed in its own
    quarter beside England's and the South West's means of the released
    batches, and a table of England and every region by quarter (London's
    one return waits: x); for the public nothing, as the quarter is no
    public default (sql/090)."""
    s, _, b = t.request("GET", "/metrics/ehcp_caseload",
                        headers={"Authorization": "Bearer " + TOKENS["838"], "Accept": "text/html"})
    t.eq(s, 200, "own metric page")
    html = b.decode()
    sw = [FIGURES[n]["ehcp_caseload"] for n in ("838", "933", "878", "865", "908", "916")]
    mean = "%.0f" % (sum(sw) / len(sw))
    t.eq(set(quarter_points(html, "ehcp_caseload") or []),
         {("Dorset", Q, str(FIGURES["838"]["ehcp_caseload"])), ("South West", Q, mean),
          ("England", Q, mean)}, "its quarter, the South West's and England's means")
    table = html.split('id="quarters-table"')[1].split("</table>")[0]
    rows = dict(re.findall(r'<th scope="row">([^<]*)</th><td class="num">([^<]*)</td>', table))
    t.eq((rows.get("England"), rows.get("South West"), rows.get("London")),
         ("{:,}".format(int(mean)), "{:,}".format(int(mean)), "x"), "England and regions: %r" % rows)
    ranked = html.split('id="quarters"')[0]
    t.true(" Q" not in "".join(re.findall(r"<h1>([^<]*)</h1>", ranked)), "the ranking stays annual")
    s, _, b = t.request("GET", "/metrics/ehcp_caseload?authority=" + CODES["838"],
                        headers={"Accept": "text/html"})
    t.true('id="quarters"' not in b.decode() and 'data-axis="quarterly"' not in b.decode(),
           "no quarterly chart for the public, even with Dorset highlighted")
    # Camden's return waits for its batch: it sees its own quarter beside
    # the same England as everyone, and no London aggregate
    s, _, b = t.request("GET", "/metrics/ehcp_caseload",
                        headers={"Accept": "text/html", "Authorization": "Bearer " + TOKENS["202"]})
    t.eq(set(quarter_points(b.decode(), "ehcp_caseload") or []),
         {("Camden", Q, str(FIGURES["202"]["ehcp_caseload"])), ("England", Q, mean)},
         "Camden's own quarter and England's mean without it")


def submit(t, num, figures=None, withdraw=None, period=Q):
    """A version of num's quarter (figures and/or withdrawals), approved."""
    body = {"authority": CODES[num], "period": period}
    if figures:
        body["figures"] = figures
    if withdraw:
        body["withdraw"] = withdraw
    s, _, b = t.request("POST", "/api/v1/submissions", body,
                        headers={"Authorization": "Bearer " + TOKENS[num]})
    t.eq(s, 201, "version of %s: %r" % (num, b[:300]))
    seen = notices(t)
    s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % json.loads(b)["id"],
                        headers={"Authorization": "Bearer " + TOKENS["admin"]})
    t.eq(s, 200, "approved %s: %r" % (num, b[:300]))
    # the approval's notice has emptied the cached answers before they are read
    deadline = time.time() + 20
    while notices(t) == seen and time.time() < deadline:
        time.sleep(0.05)
    t.true(notices(t) > seen, "the approval's change notice reached the server")


def public_readings(t):
    return {m: {k: v for k, v in summaries(t, m).items() if k != "rows"}
            for m in ("ehcp_caseload", "case_officers_fte", "caseload_per_officer")}


def test_a_revision_after_release_waits_for_a_batch(t):
    """docs/disclosure.md rule 12: a released figure's revision enters the
    public aggregates only in a batch of three changes of its region, so
    two readings around one council's revision differ by nothing (before
    the rule they differed by the change in its figure).  The council sees
    its revised figure as its own row meanwhile; an admin's aggregates
    count it at once."""
    before = public_readings(t)
    adm0 = summaries(t, "ehcp_caseload", token="admin")
    submit(t, "838", {"ehcp_caseload": 6911, "case_officers_fte": 17.5})
    t.eq(public_readings(t), before, "one revision: every public aggregate reads as before")
    own = summaries(t, "ehcp_caseload", token="838")
    t.eq(own["rows"][CODES["838"]], 6911, "Dorset sees its revised figure")
    t.eq((own["england"][:2], own["region"][:2]),
         (before["ehcp_caseload"]["england"][:2], before["ehcp_caseload"]["region"][:2]),
         "and the public's aggregates")
    adm = summaries(t, "ehcp_caseload", token="admin")
    t.eq(adm["england"][1] - adm0["england"][1], 6911 - 6173, "an admin's count the revision")
    submit(t, "933", {"ehcp_caseload": 7402})
    t.eq(public_readings(t), before, "two revisions: still as before")
    submit(t, "878", {"ehcp_caseload": 8351})
    after = summaries(t, "ehcp_caseload")
    change = (6911 - 6173) + (7402 - 7291) + (8351 - 8467)
    t.eq(after["region"][1] - before["ehcp_caseload"]["region"][1], change,
         "the third revision releases the three changes together")
    t.eq(after["england"][1] - before["ehcp_caseload"]["england"][1], change, "England too")
    for n, v in (("838", 6911), ("933", 7402), ("878", 8351)):
        FIGURES[n]["ehcp_caseload"] = v


def test_a_withdrawal_after_release_waits_for_a_batch(t):
    """A released figure withdrawn stays in the public aggregates (as
    released) until a batch of three changes of its region takes it out:
    a withdrawal read at once would give the figure itself away."""
    before = public_readings(t)
    submit(t, "865", withdraw=["ehcp_caseload"])
    t.eq(public_readings(t), before, "one withdrawal: every public aggregate reads as before")
    own = summaries(t, "ehcp_caseload", token="865", focal="865")
    t.eq(own["rows"].get(CODES["865"]), None, "Wiltshire's own row has no figure now")
    submit(t, "908", {"ehcp_caseload": 4297})
    t.eq(public_readings(t), before, "a withdrawal and a revision: still as before")
    submit(t, "916", withdraw=["ehcp_caseload"])
    after = summaries(t, "ehcp_caseload")
    change = -5417 + (4297 - 4183) - 5927
    t.eq(after["region"][1] - before["ehcp_caseload"]["region"][1], change,
         "three changes: the withdrawals and the revision leave together")
    t.eq(after["region"][0], before["ehcp_caseload"]["region"][0] - 2, "two fewer contributors")
    FIGURES["908"]["ehcp_caseload"] = 4297
    for n in ("865", "916"):
        del FIGURES[n]["ehcp_caseload"]


def council(t, num):
    if num not in CODES:
        CODES[num] = t.value("SELECT new_la_code FROM authorities WHERE old_la_code = :'p1'", num)
        r = t.cli("token", "create", "--authority", num)
        t.eq(r.returncode, 0, "token " + num)
        TOKENS[num] = r.stdout.strip()


def test_own_neighbours_aggregate_never_moves_by_one_neighbour(t):
    """docs/disclosure.md rule 6: batches are per region and Dorset's
    statistical neighbours cross regions, so a batch of three in the East
    of England can bring one of them (Suffolk) into Dorset's own
    neighbours' aggregate.  Dorset's neighbours' total read before and
    after that batch must not differ by Suffolk's figure: the aggregate is
    shown only when every batch in it brought at least three neighbours."""
    caseload = {"886": 9137, "938": 7823, "850": 8791,      # South East: Kent, West Sussex (neighbours), Hampshire
                "935": 6529, "873": 5483, "919": 8147}      # East: Suffolk (neighbour), Cambridgeshire, Hertfordshire
    for n in caseload:
        council(t, n)
    readings = [summaries(t, "ehcp_caseload", token="838")["neighbours"]]
    for n in ("886", "938", "850"):
        submit(t, n, {"ehcp_caseload": caseload[n]})
    readings.append(summaries(t, "ehcp_caseload", token="838")["neighbours"])
    for n in ("935", "873", "919"):
        submit(t, n, {"ehcp_caseload": caseload[n]})
    readings.append(summaries(t, "ehcp_caseload", token="838")["neighbours"])
    t.eq(len([r for r in released(t) if r[0] in caseload and r[1] == "ehcp_caseload"]), 6,
         "two batches released")
    shown = [r[1] for r in readings if r[1] is not None]
    for a in shown:
        for b in shown:
            t.true(abs(b - a) != caseload["935"], "Dorset's neighbours moved by Suffolk alone: %r"
                   % readings)
    t.eq(readings[-1][1], None, "the East's batch brought one neighbour: not shown")
    adm = summaries(t, "ehcp_caseload", token="admin")
    t.true(adm["neighbours"][1] is not None, "an admin's neighbours' aggregate is shown")


Q4 = "2025-26 Q4"


def masked_rows(t, token):
    s, doc = t.get_json("/api/v1/tables/ehcp_caseload?group=england&period=%s"
                        % urllib.parse.quote(Q4), headers={"Authorization": "Bearer " + TOKENS[token]})
    t.eq(s, 200, "the next quarter's table")
    return doc, sorted(((r["value"], r["previous_value"]) for r in doc["rows"] if r["masked"]), key=repr)


def test_a_masked_row_shows_the_previous_quarter_as_released(t):
    """docs/disclosure.md rule 12 on a masked row's other columns: once
    three South West councils' next quarter is released, another council
    (Camden) sees them as masked rows of England's table, each with its
    previous quarter beside it.  That previous figure is shown as the
    aggregates hold it: Dorset's revision of its released quarter, waiting
    for a batch, must not show as a masked row's previous value (it moved
    by the revision, and so gave the revised figure away)."""
    for n, v in (("838", 6301), ("933", 7377), ("878", 8519)):
        submit(t, n, {"ehcp_caseload": v}, period=Q4)
    doc, before = masked_rows(t, "202")
    valued = [(v, p) for v, p in before if v is not None]
    t.eq(len(valued), 3, "three masked peers with a figure for Camden: %r" % before)
    t.eq(sorted(p for _, p in valued),
         sorted(FIGURES[n]["ehcp_caseload"] for n in ("838", "933", "878")),
         "their previous quarter as released")
    submit(t, "838", {"ehcp_caseload": 6733})
    doc, after = masked_rows(t, "202")
    t.eq(after, before, "Dorset's waiting revision moves no masked row")
    t.true("6733" not in json.dumps(doc), "the revised figure appears nowhere in Camden's table")
    own = summaries(t, "ehcp_caseload", token="838")
    t.eq(own["rows"][CODES["838"]], 6733, "Dorset sees its revision")
