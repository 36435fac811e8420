"""Comparative tables and profiles (issue 6): ranks and bands with ties and
both polarities, missing is not zero, masking and the minimum-contributor
rule for every kind of caller, CSV, ETag/304, bad parameters, and cache
invalidation across two server processes sharing one database."""

import csv
import io
import json
import time

import harness

NE, NW = ("E12000001", "North East"), ("E12000002", "North West")
NAMES = {1: "Alpha", 2: "Beta", 3: "Gamma, Town", 4: "Delta", 5: "Epsilon", 6: "Zeta",
         7: "Eta", 8: "Theta", 9: "Iota", 10: "Kappa"}


def code(i):
    return "E060000%02d" % i


def q(v):
    return "NULL" if v is None else "'%s'" % str(v).replace("'", "''")


def obs_sql(i, metric, period, kind, start, value, symbol=None, published=True, sub=None,
            version=1):
    return ("INSERT INTO observations (authority, metric, period, period_kind, period_start,"
            " value, symbol, published, source, submission_id, version) VALUES"
            " (%s, %s, %s, %s, %s, %s, %s, %s, 'test', %s, %d);\n"
            % (q(code(i)), q(metric), q(period), q(kind), q(start), q(value), q(symbol),
               "true" if published else "false", sub or "NULL", version))


# With triggers off nothing maintains the figures in force (sql/150): bring
# them up to date as the triggers would have, without their notices.
UNNOTIFIED_IN_FORCE = (
    "DELETE FROM figures_in_force WHERE metric = 'dsg_cumulative_balance_gbp';\n"
    "INSERT INTO figures_in_force SELECT * FROM current_observations_computed"
    " WHERE metric = 'dsg_cumulative_balance_gbp';\n")


DSG_2122 = {1: -100, 2: 50, 3: 50, 4: -20, 5: 0, 6: 50, 7: -300, 8: 10, 9: None, 10: -20}
DSG_2021 = {1: -120, 2: 60, 3: 50}
Q2_CASELOAD = {1: 1010, 2: 1020, 3: 1030, 4: 1040, 5: 1050, 7: 1070}
Q2_OTHER = {"requests_received": 10, "new_plans_issued": 20, "plans_ceased": 30}
TOKENS = {"own": ("council", 1), "other": ("council", 8), "admin": ("admin", None)}


def test_setup_fixtures(t):
    sql = ""
    for i in range(1, 11):
        reg = NE if i <= 6 else NW
        sql += ("INSERT INTO authorities (new_la_code, old_la_code, name, region_code,"
                " region_name, consent_to_name) VALUES (%s, '%d', %s, %s, %s, %s);\n"
                % (q(code(i)), 800 + i, q(NAMES[i]), q(reg[0]), q(reg[1]),
                   "true" if i == 5 else "false"))
    for rank, n in enumerate([2, 3, 4, 7], 1):
        sql += ("INSERT INTO statistical_neighbours VALUES (%s, %d, %s, 'Close', 'test');\n"
                % (q(code(1)), rank, q(code(n))))
    for i, v in DSG_2122.items():
        sql += obs_sql(i, "dsg_cumulative_balance_gbp", "2021-22", "financial_year",
                       "2021-04-01", v, None if v is not None else "c")
    for i, v in DSG_2021.items():
        sql += obs_sql(i, "dsg_cumulative_balance_gbp", "2020-21", "financial_year",
                       "2020-04-01", v)
    sql += obs_sql(1, "dsg_cumulative_balance_gbp", "2015-16", "financial_year", "2015-04-01",
                   -10)
    # caseload per officer (lower is better): 20, 30, 20, 50, and one missing input
    for i, (cl, fte) in {1: (200, 10), 2: (300, 10), 3: (400, 20), 4: (500, 10),
                         5: (100, None)}.items():
        sql += obs_sql(i, "ehcp_caseload", "2022", "census_year", "2022-01-20", cl)
        if fte is not None:
            sql += obs_sql(i, "case_officers_fte", "2022", "census_year", "2022-01-20", fte)
    # council submissions for 2024-25 Q2: unpublished
    for i, v in Q2_CASELOAD.items():
        sql += ("WITH s AS (INSERT INTO submissions (authority, period, version, content_type,"
                " figures) VALUES (%s, '2024-25 Q2', 1, 'application/json', '{}') RETURNING id)"
                " INSERT INTO observations (authority, metric, period, period_kind,"
                " period_start, value, published, source, submission_id, version)"
                " SELECT %s, m.metric, '2024-25 Q2', 'fy_quarter', '2024-07-01', m.v, false,"
                " 'submission', s.id, 1 FROM s, (VALUES ('ehcp_caseload', %d),"
                " ('requests_received', %d), ('new_plans_issued', %d), ('plans_ceased', %d))"
                " AS m(metric, v);\n"
                % (q(code(i)), q(code(i)), v, v + Q2_OTHER["requests_received"] * i,
                   v * 2 - i * 7, 3000 - v))
    for name, (role, auth) in TOKENS.items():
        sql += ("INSERT INTO tokens (hash, role, authority) VALUES"
                " (sha256(convert_to('%s', 'UTF8')), '%s', %s);\n"
                % (tok(name), role, q(code(auth)) if auth else "NULL"))
    sql += ("INSERT INTO tokens (hash, role, authority, revoked_at) VALUES"
            " (sha256(convert_to('%s', 'UTF8')), 'admin', NULL, now());\n" % tok("revoked"))
    t.psql(sql)
    harness.approve_submissions(t.db)   # the councils' figures are signed off
    t.eq(t.value("SELECT count(*) FROM observations WHERE NOT published"), "24", "fixtures")


def tok(name):
    """A token of the real form ("sbk_" + 43 base64url characters) per name."""
    return "sbk_" + ("tok-" + name + "x" * 43)[:43]


def get(t, path, token=None, headers=None):
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + tok(token)
    s, hdr, b = t.request("GET", path, headers=h)
    return s, hdr, b


def get_doc(t, path, token=None):
    s, h, b = get(t, path, token)
    t.eq(s, 200, "status of %s: %r" % (path, b[:300]))
    return json.loads(b)


def by_code(doc):
    return {r["code"]: r for r in doc["rows"] if r["code"]}


def test_ranks_and_bands_higher_is_better_with_ties(t):
    doc = get_doc(t, "/api/v1/tables/dsg_cumulative_balance_gbp?period=2021-22")
    t.eq(doc["metric"]["polarity"], "higher_better", "polarity")
    rows = by_code(doc)
    want = {1: (8, "D"), 2: (1, "A"), 3: (1, "A"), 4: (6, "C"), 5: (5, "B"), 6: (1, "A"),
            7: (9, "D"), 8: (4, "B"), 10: (6, "C")}
    for i, (rank, band) in want.items():
        r = rows[code(i)]
        t.eq((r["rank"], r["rank_england"], r["band"]), (rank, rank, band), "rank/band of %d" % i)
    # missing is not zero: the suppressed cell keeps its symbol, is not ranked
    r9 = rows[code(9)]
    t.eq((r9["value"], r9["symbol"], r9["rank"], r9["band"]), (None, "c", None, None), "row 9")
    # ties: display order is by rank, named ties by name
    t.eq([r["code"] for r in doc["rows"][:3]], [code(2), code(3), code(6)], "tie order")
    t.eq(doc["rows"][-1]["code"], code(9), "the unranked row comes last")
    eng = doc["summaries"][0]
    t.eq((eng["scope"], eng["n"], eng["n_missing"], eng["total"], eng["median"]),
         ("england", 9, 1, -280, 0), "England summary leaves the c out")
    t.eq(eng["mean"], round(-280 / 9), "mean, to the catalogue dp (0 for money)")
    # changes and improvement by polarity
    r1 = rows[code(1)]
    t.eq((r1["previous_value"], r1["change_previous"], r1["change_previous_pct"],
          r1["improvement"]), (-120, 20, 16.7, "improved"), "change of 1")
    t.eq((rows[code(2)]["change_previous"], rows[code(2)]["improvement"]), (-10, "worsened"),
         "change of 2")
    t.eq(rows[code(3)]["improvement"], "unchanged", "change of 3")
    t.eq((rows[code(4)]["change_previous"], rows[code(4)]["improvement"]), (None, None),
         "no previous figure: no change")
    t.eq(doc["previous_period"], "2020-21", "previous period")
    t.eq(doc["year_earlier_period"], "2020-21", "year-earlier period")


def test_ranks_and_bands_lower_is_better_derived(t):
    doc = get_doc(t, "/api/v1/tables/caseload_per_officer?period=2022")
    t.eq(doc["metric"]["polarity"], "lower_better", "polarity")
    rows = by_code(doc)
    got = {i: (rows[code(i)]["value"], rows[code(i)]["rank"], rows[code(i)]["band"])
           for i in range(1, 5)}
    t.eq(got, {1: (20.0, 1, "A"), 2: (30.0, 3, "C"), 3: (20.0, 1, "A"), 4: (50.0, 4, "D")},
         "lower is better: the smallest is first, ties share")
    r5 = rows[code(5)]
    t.eq((r5["value"], r5["symbol"], r5["rank"]), (None, "x", None), "missing input")
    t.true("case_officers_fte" in r5["reason"], "reason names the missing input: %r" % r5)
    t.eq(doc["summaries"][0]["n"], 4, "derived summary counts contributors")


def test_groups_region_and_neighbours(t):
    doc = get_doc(t, "/api/v1/tables/dsg_cumulative_balance_gbp?period=2021-22"
                     "&group=neighbours&authority=801")
    t.eq(sorted(by_code(doc)), sorted(code(i) for i in (1, 2, 3, 4, 7)), "neighbour rows")
    ranks = {c: r["rank"] for c, r in by_code(doc).items()}
    t.eq(ranks, {code(2): 1, code(3): 1, code(4): 3, code(1): 4, code(7): 5}, "ranks")
    t.eq(by_code(doc)[code(7)]["band"], "D", "band is across all of England")
    t.eq(by_code(doc)[code(2)]["neighbour_rank"], 1, "neighbour rank")
    scopes = {s["scope"]: s for s in doc["summaries"]}
    t.eq(sorted(scopes), ["england", "neighbours", "region"], "summary rows")
    # the neighbours' summary is over the 4 neighbours, Alpha itself not included
    t.eq((scopes["neighbours"]["n"], scopes["neighbours"]["median"]), (4, 15.0), "neighbours")
    t.eq((scopes["region"]["code"], scopes["region"]["n"], scopes["region"]["total"]),
         ("E12000001", 6, 30), "region summary")
    doc = get_doc(t, "/api/v1/tables/dsg_cumulative_balance_gbp?period=2021-22"
                     "&group=region&authority=E06000001")
    t.eq(sorted(by_code(doc)), sorted(code(i) for i in range(1, 7)), "region rows")
    t.eq(by_code(doc)[code(1)]["rank"], 6, "rank within the region")
    t.eq(by_code(doc)[code(1)]["rank_england"], 8, "rank in England")


def test_latest_period_and_growth_since_base(t):
    doc = get_doc(t, "/api/v1/tables/dsg_cumulative_balance_gbp?group=neighbours"
                     "&authority=E06000001&base=2015")
    t.eq(doc["period"], "2021-22", "latest period with data")
    t.eq(doc["base_period"], "2015-16", "base year read as a financial year")
    r1 = by_code(doc)[code(1)]
    t.eq((r1["base_value"], r1["growth_since_base"], r1["growth_since_base_pct"]),
         (-10, -90, -900.0), "growth since base")
    t.eq(by_code(doc)[code(2)]["growth_since_base"], None, "no base figure: no growth")


def masked_rows(doc):
    return [r for r in doc["rows"] if r["masked"]]


def test_masking_for_every_caller(t):
    """docs/disclosure.md: the public sees a submitted figure only when its
    authority consented; a council sees its own, and its peers' masked in
    an England table (at least three masked); an admin sees everything.
    Eta (7) is the North West's only submitter: its figure waits for two
    more of its region (release in batches, rule 11), so it is in no
    aggregate and under no mask for anyone but the admin."""
    path = "/api/v1/tables/ehcp_caseload?period=2024-25%20Q2"
    submitters = {code(i) for i in Q2_CASELOAD}
    cases = {
        # caller: (the submitters shown by name with their figure, masked rows)
        None: ({code(5)}, 0),                   # consented only; never masked
        "other": ({code(5)}, 4),                # another council: the released rest masked
        "own": ({code(5), code(1)}, 3),         # its own figures by name
        "admin": (submitters, 0),
    }
    for token, (named, n_masked) in cases.items():
        doc = get_doc(t, path, token)
        t.eq(doc["visibility"], {None: "public", "other": "council:" + code(8),
                                 "own": "council:" + code(1), "admin": "admin"}[token],
             "visibility")
        shown = {r["code"] for r in doc["rows"] if r["code"] in submitters and r["value"] is not None}
        t.eq(shown, named, "named submitters for %s" % token)
        masked = masked_rows(doc)
        t.eq(len(masked), n_masked, "masked rows for %s" % token)
        for r in masked:
            t.eq((r["code"], r["old_la_code"], r["name"], r["region_code"], r["neighbour_rank"]),
                 (None, None, None, None, None), "masked row hides identity")
            t.true(r["label"].startswith("Neighbour "), "label %r" % r["label"])
            t.true(r["value"] is not None, "a masked row still shows its figure")
        t.eq(sorted(r["label"] for r in masked),
             ["Neighbour " + chr(65 + k) for k in range(len(masked))], "letters A..")
        # aggregates over the 5 released figures (4 protected, released as one
        # batch of the North East) are shown to everyone; Eta's waits
        eng = doc["summaries"][0]
        want = sum(Q2_CASELOAD.values()) - (Q2_CASELOAD[7] if token != "admin" else 0)
        t.eq((eng["n"], eng["symbol"], eng["total"]), (6 if token == "admin" else 5, None, want),
             "England aggregate")
        t.eq(eng["median"] if token != "admin" else None, None, "no median of protected figures")
        named_values = {r["value"] for r in doc["rows"] if not r["masked"]}
        for i, v in Q2_CASELOAD.items():
            if code(i) not in named:
                t.true(v not in named_values, "%s's figure beside a name for %s" % (NAMES[i], token))
    # A withheld figure reads exactly as a non-submitter's row
    doc = get_doc(t, path)
    rows = by_code(doc)
    t.eq(rows[code(6)]["symbol"], "x", "a non-submitter")
    ident = ("code", "old_la_code", "name", "label", "region_code", "region_name")
    strip = lambda r: {k: v for k, v in r.items() if k not in ident}
    t.eq(strip(rows[code(2)]), strip(rows[code(6)]), "a submitter reads as a non-submitter")


def test_minimum_contributors_for_every_caller(t):
    # North West: only Eta (7) submitted for Q2: one figure, waiting for
    # two more of its region (rule 11): no contributor but for the admin
    path = "/api/v1/tables/ehcp_caseload?period=2024-25%20Q2&group=region&authority=E06000007"
    for token, shown in ((None, False), ("other", False), ("own", False), ("admin", True)):
        doc = get_doc(t, path, token)
        reg = [s for s in doc["summaries"] if s["scope"] == "region"][0]
        if shown:
            t.eq((reg["n"], reg["symbol"], reg["mean"], reg["total"]), (1, None, 1070.0, 1070),
                 "admin sees")
        else:
            t.eq((reg["n"], reg["symbol"], reg["mean"], reg["median"], reg["total"]),
                 (0, "x", None, None, None), "nothing released for %s" % token)
    # Published figures have no minimum: the North West DSG region has 4
    doc = get_doc(t, "/api/v1/tables/caseload_per_officer?period=2022&group=region"
                     "&authority=E06000007")
    reg = [s for s in doc["summaries"] if s["scope"] == "region"][0]
    t.eq((reg["n"], reg["symbol"]), (0, "x"), "no contributors: x, not 0")


def test_mask_letters_stable_within_and_not_linkable_across_tables(t):
    # Admin tables give the truth to compare the public letters with.
    mappings = []
    for metric in ("ehcp_caseload", "requests_received", "new_plans_issued", "plans_ceased"):
        path = "/api/v1/tables/%s?period=2024-25%%20Q2" % metric
        admin = get_doc(t, path, "admin")
        value_to_code = {r["value"]: r["code"] for r in admin["rows"] if r["value"] is not None}
        pub1, pub2 = get_doc(t, path, "other"), get_doc(t, path, "other")
        t.eq(pub1, pub2, "the same table twice is the same")
        mapping = {value_to_code[r["value"]]: r["label"] for r in masked_rows(pub1)}
        t.eq(len(mapping), 4, "four masked (Eta's waits)")
        mappings.append(mapping)
    t.true(any(m != mappings[0] for m in mappings[1:]),
           "letters must not follow the same authority across tables: %r" % mappings)
    alphabetical = [dict(zip(sorted(m), sorted(m.values()))) for m in mappings]
    t.true(any(m != a for m, a in zip(mappings, alphabetical)), "letters are not alphabetical")
    # The same table for another group has its own letters (no linking
    # between the England and the neighbour table).
    # Neighbour tables never mask (groups overlap: docs/disclosure.md).
    for token in (None, "other"):
        nb = get_doc(t, "/api/v1/tables/ehcp_caseload?period=2024-25%20Q2&group=neighbours"
                        "&authority=E06000001", token)
        t.eq(len(masked_rows(nb)), 0, "no masked neighbours for %s" % token)


def test_tokens_bad_and_revoked(t):
    for h in ("Bearer " + tok("revoked"), "Bearer " + tok("unknown"), "Bearer nope", "Basic abc",
              "Bearer "):
        s, hdr, b = t.request("GET", "/api/v1/tables/ehcp_caseload?period=2022",
                              headers={"Authorization": h})
        t.json_error(s, b, 401, "invalid_token")


def test_csv_layout_and_symbols(t):
    s, h, b = get(t, "/api/v1/tables/dsg_cumulative_balance_gbp?period=2021-22&format=csv")
    t.eq(s, 200, "status")
    t.true(h["content-type"].startswith("text/csv"), "content type")
    rows = list(csv.reader(io.StringIO(b.decode("utf-8"))))
    head = rows[0]
    t.eq(head[:10], ["time_period", "time_identifier", "geographic_level", "country_code",
                     "country_name", "region_code", "region_name", "new_la_code",
                     "old_la_code", "la_name"], "tidy geography columns")
    t.eq(head[10], "dsg_cumulative_balance_gbp", "indicator column")
    recs = [dict(zip(head, r)) for r in rows[1:]]
    nat = recs[0]
    t.eq((nat["geographic_level"], nat["time_period"], nat["time_identifier"],
          nat["dsg_cumulative_balance_gbp"], nat["contributors"]),
         ("National", "202122", "Financial year", "-280", "9"), "national row")
    la = {r["new_la_code"]: r for r in recs if r["geographic_level"] == "Local authority"}
    t.eq(la[code(9)]["dsg_cumulative_balance_gbp"], "c", "symbol kept as-is")
    t.eq(la[code(3)]["la_name"], "Gamma, Town", "quoted name survives")
    t.eq((la[code(2)]["rank"], la[code(2)]["band"], la[code(2)]["improvement"]),
         ("1", "A", "worsened"), "rank, band, improvement")
    t.true(all(len(r) == len(head) for r in rows[1:]), "every row has every column")
    # Accept: text/csv does the same; the meta file describes the columns
    s2, h2, b2 = get(t, "/api/v1/tables/dsg_cumulative_balance_gbp?period=2021-22",
                     headers={"Accept": "text/csv"})
    t.eq((s2, b2), (200, b), "Accept: text/csv")
    s, h, b = get(t, "/api/v1/tables/dsg_cumulative_balance_gbp/meta")
    t.eq(s, 200, "meta status")
    meta = list(csv.reader(io.StringIO(b.decode("utf-8"))))
    t.eq(meta[0], ["col_name", "label", "indicator_unit", "indicator_dp"], "meta header")
    t.eq(meta[1][:4], ["dsg_cumulative_balance_gbp", "DSG cumulative balance carried forward",
                       "£", "0"], "metric row")
    t.true({m[0] for m in meta[1:]} >= set(head[10:]), "meta covers every indicator column")
    # quarterly CSV for a council: masked names, no codes
    s, h, b = get(t, "/api/v1/tables/ehcp_caseload?period=2024-25%20Q2&format=csv", "other")
    recs = list(csv.DictReader(io.StringIO(b.decode("utf-8"))))
    t.eq(recs[0]["time_identifier"], "Financial year Q2", "quarter identifier")
    masked = [r for r in recs if r["la_name"].startswith("Neighbour ")]
    t.eq(len(masked), 4, "masked in CSV")
    t.true(all(r["new_la_code"] == "" and r["region_code"] == "" for r in masked), "no codes")


def test_etag_and_304(t):
    path = "/api/v1/tables/dsg_cumulative_balance_gbp?period=2021-22"
    s, h, b = get(t, path)
    etag = h.get("etag")
    t.true(etag and etag.startswith('"'), "strong ETag: %r" % etag)
    t.eq(h.get("cache-control"), "public, no-cache", "Cache-Control")
    s, h2, b2 = get(t, path, headers={"If-None-Match": etag})
    t.eq((s, b2), (304, b""), "304 on a matching ETag")
    s, h3, b3 = get(t, path, headers={"If-None-Match": '"other", ' + etag})
    t.eq(s, 304, "304 on a list")
    s, h4, b4 = get(t, path, headers={"If-None-Match": '"other"'})
    t.eq((s, b4), (200, b), "200 on another ETag")
    s, h5, b5 = get(t, path, token="own")
    t.eq(h5.get("cache-control"), "private, no-cache", "private for token callers")
    for p in (path + "&format=csv", "/api/v1/tables/dsg_cumulative_balance_gbp/meta",
              "/api/v1/authorities/E06000001/profile"):
        s, h, b = get(t, p)
        t.true(s == 200 and h.get("etag") and h.get("cache-control"), "ETag on " + p)


def test_bad_parameters(t):
    cases = [
        ("/api/v1/tables/no_such_metric", 404, "metric"),
        ("/api/v1/tables/Bad-Metric", 400, "metric"),
        ("/api/v1/tables/ehcp_caseload?period=2021-23", 400, "period"),
        ("/api/v1/tables/ehcp_caseload?period=2021-22", 400, "period"),
        ("/api/v1/tables/ehcp_caseload?period=1999", 404, "period"),
        ("/api/v1/tables/ehcp_caseload?group=county", 400, "group"),
        ("/api/v1/tables/ehcp_caseload?group=neighbours", 400, "authority"),
        ("/api/v1/tables/ehcp_caseload?group=region&authority=E0600", 400, "authority"),
        ("/api/v1/tables/ehcp_caseload?group=region&authority=E06000099", 404, "authority"),
        ("/api/v1/tables/ehcp_caseload?format=pdf", 400, "format"),
        ("/api/v1/tables/ehcp_caseload?period=2022&base=2022", 400, "base"),
        ("/api/v1/tables/ehcp_caseload?base=20x", 400, "base"),
        ("/api/v1/tables/no_such_metric/meta", 404, "metric"),
        ("/api/v1/authorities/E06000099/profile", 404, "code"),
        ("/api/v1/authorities/E06000001/profile?period=May", 400, "period"),
        ("/api/v1/tables/ehcp_caseload?period=%27%3B%20DROP%20TABLE%20observations--", 400,
         "period"),
    ]
    for path, status, field in cases:
        s, h, b = t.request("GET", path)
        err = t.json_error(s, b, status)
        t.eq(err["details"][0]["field"], field, "field named for " + path)
    t.eq(t.value("SELECT count(*) FROM observations"), "47", "nothing changed")


def test_profile(t):
    doc = get_doc(t, "/api/v1/authorities/801/profile")
    t.eq(doc["authority"]["code"], code(1), "authority")
    t.eq([n["code"] for n in doc["authority"]["neighbours"]],
         [code(2), code(3), code(4), code(7)], "neighbours")
    m = {x["id"]: x for x in doc["metrics"]}
    t.true("request_to_assessment_rate" in m and "pct_within_20_weeks" in m,
           "every metric, derived included")
    dsg = m["dsg_cumulative_balance_gbp"]
    t.eq((dsg["period"], dsg["value"], dsg["rank_england"], dsg["band"], dsg["rank_region"],
          dsg["rank_neighbours"]), ("2021-22", -100, 8, "D", 6, 4), "DSG profile")
    # the neighbours' rank is among them and the authority: its n counts
    # both (the neighbours' summary is over the neighbours alone)
    t.eq(dsg["n_neighbours"], dsg["neighbours"]["n"] + 1, "n of the neighbours' rank")
    t.eq((dsg["england"]["n"], dsg["england"]["total"], dsg["neighbours"]["median"],
          dsg["region"]["n"]), (9, -280, 15.0, 6), "DSG aggregates")
    t.eq([p["period"] for p in dsg["series"]], ["2015-16", "2020-21", "2021-22"], "series")
    # The latest caseload is the unpublished quarter: the public sees the
    # latest figure of Alpha's it may see, and a series without the quarter
    cl = m["ehcp_caseload"]
    t.eq((cl["period"], cl["value"]), ("2022", 200), "latest period the public may see")
    t.eq([p["value"] for p in cl["series"]], [200], "series leaves the quarter out")
    own = {x["id"]: x for x in get_doc(t, "/api/v1/authorities/801/profile", "own")["metrics"]}
    # ranked among what Alpha sees: Epsilon's 1050 (consented), its own 1010
    t.eq((own["ehcp_caseload"]["period"], own["ehcp_caseload"]["value"],
          own["ehcp_caseload"]["rank_england"]), ("2024-25 Q2", 1010, 2),
         "own token sees its quarter")
    t.eq(own["ehcp_caseload"]["england"]["n"], 5, "six submitted, five released (Eta's waits)")
    # as at a period
    doc = get_doc(t, "/api/v1/authorities/E06000001/profile?period=2022")
    m = {x["id"]: x for x in doc["metrics"]}
    t.eq((m["ehcp_caseload"]["period"], m["ehcp_caseload"]["value"]), ("2022", 200), "as at")
    t.eq((m["caseload_per_officer"]["value"], m["caseload_per_officer"]["rank_england"],
          m["caseload_per_officer"]["band"]), (20.0, 1, "A"), "derived in the profile")
    t.eq(m["plans_ceased"]["period"], None, "no figure before the period")
    t.eq(m["plans_ceased"]["symbol"], "x", "missing, not zero")


def wait_for(fn, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    return False


def test_cache_serves_from_memory_and_invalidates_across_servers(t):
    path = "/api/v1/tables/dsg_cumulative_balance_gbp?period=2021-22"
    b_server = harness.Server(t.db)
    try:
        def value_of(server, i):
            s, h, b = server.request("GET", path)
            return by_code(json.loads(b))[code(i)]["value"]

        # B empties its cache once its LISTEN is in place (anything may have
        # changed before): wait for both listeners so that what B caches now
        # stays cached.
        t.true(wait_for(lambda: t.value(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sendbench-listen'"
            " AND datname = current_database() AND state = 'idle'") == "2"), "two listeners")
        time.sleep(0.3)
        t.eq(value_of(t.server, 8), 10, "A before")
        t.eq(value_of(b_server, 8), 10, "B before")
        # A change that sends no notification (triggers off for this session,
        # the figures in force brought up to date by hand: sql/150) is not
        # seen: the table is served from memory.
        t.psql("SET session_replication_role = replica;\n" +
               obs_sql(8, "dsg_cumulative_balance_gbp", "2021-22", "financial_year",
                       "2021-04-01", 11, version=2) + UNNOTIFIED_IN_FORCE)
        t.eq(value_of(b_server, 8), 10, "B answers from its cache")
        # A normal write (here by psql, standing for server A or an import)
        # notifies every server.
        t.psql(obs_sql(8, "dsg_cumulative_balance_gbp", "2021-22", "financial_year",
                       "2021-04-01", 12, version=3))
        t.true(wait_for(lambda: value_of(b_server, 8) == 12), "B's table changed")
        t.true(wait_for(lambda: value_of(t.server, 8) == 12), "A's table changed")
        # A notified write of one authority's figures drops only what reads
        # them (sql/012): another metric, or another period, leaves the
        # table cached (an unnotified 13 stays unseen) ...
        t.psql("SET session_replication_role = replica;\n" +
               obs_sql(8, "dsg_cumulative_balance_gbp", "2021-22", "financial_year",
                       "2021-04-01", 13, version=4) + UNNOTIFIED_IN_FORCE)
        t.psql(obs_sql(3, "ehcp_caseload", "2021-22", "financial_year", "2021-04-01", 5))
        t.psql(obs_sql(3, "dsg_cumulative_balance_gbp", "2018-19", "financial_year",
                       "2018-04-01", 5))
        time.sleep(0.5)
        t.eq(value_of(b_server, 8), 12, "B keeps the table: other metric, other period")
        # ... while the same metric in a period the table shows (the year
        # before, for the change column) drops it, whoever's figure it is.
        t.psql(obs_sql(3, "dsg_cumulative_balance_gbp", "2020-21", "financial_year",
                       "2020-04-01", 5, version=7))
        t.true(wait_for(lambda: value_of(b_server, 8) == 13), "B recomputes for the prior year")
        t.true(wait_for(lambda: value_of(t.server, 8) == 13), "A too")
        # Reference data too: consent makes a submitter named for everyone.
        q2 = "/api/v1/tables/ehcp_caseload?period=2024-25%20Q2"
        def beta(server):
            return by_code(json.loads(server.request("GET", q2)[2]))[code(2)]["value"]
        t.eq(beta(b_server), None, "Beta withheld before consent")
        t.psql("UPDATE authorities SET consent_to_name = true WHERE new_la_code = %s" % q(code(2)))
        t.true(wait_for(lambda: beta(b_server) == 1020), "Beta named after consent")
    finally:
        rc = b_server.stop()
    t.eq(rc, 0, "server B exits cleanly")
