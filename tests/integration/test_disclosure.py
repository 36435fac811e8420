"""Anonymity against inference (issue 15, docs/disclosure.md), on the real
shipped DfE history: eight councils submit one quarter with distinctive
figures (one of them consented to be named, one waiting alone in its region
for its release batch), and then every public answer
(tables for every metric, group and period in JSON and CSV, table meta,
profiles in JSON and CSV, authorities, forecasts, High Needs trajectories,
evidence packs in HTML and CSV, the web pages including the
submitted-beside-published and High Needs pages, the collection) is searched for

  - any of a non-consenting authority's submitted values (as a number, with
    thousands separators, rounded to the catalogue's dp), compared with the
    same answer before the submissions where it existed;
  - any difference of two public numbers of the same metric that equals
    one of those values (two aggregates that differ by one authority);
  - ranks that count figures the caller cannot see;
  - anything that tells a submitter from a non-submitter.

It also checks that public defaults stay on the DfE's latest published
period, that the consenting authority's figures are shown (so the search is
not vacuous), and that a council sees its own quarter when signed in."""

import concurrent.futures
import csv
import io
import json
import re
import time
import urllib.parse

import harness

TEMPLATE = "history"
Q1, Q2 = "2026-27 Q1", "2026-27 Q2"

# DfE numbers: Dorset and two of its statistical neighbours in the South
# West (Somerset, Devon), a neighbour in the West Midlands that consents to
# be named (Shropshire), three London boroughs (Camden, Hackney,
# Hammersmith and Fulham), Birmingham alone of the West Midlands' protected
# figures (its figures wait for their batch: docs/disclosure.md rule 11);
# Wiltshire (South West, not a Dorset neighbour) and Cornwall submit nothing.
SUBMITTERS = ["838", "933", "878", "893", "202", "204", "205", "330"]
CONSENTING = "893"
WAITING = "330"
BYSTANDERS = ["865", "908"]

# Distinctive figures: none is a published figure's neighbour in size.
FIGURES = {
    "838": {"ehcp_caseload": 6173, "requests_received": 1387, "new_plans_issued": 593,
            "new_plans_within_20_weeks": 217, "hnb_allocation_gbp": 52317489,
            "dsg_cumulative_balance_gbp": -38412345, "case_officers_fte": 16.5},
    "933": {"ehcp_caseload": 7291, "requests_received": 1529, "new_plans_issued": 641,
            "new_plans_within_20_weeks": 358, "hnb_allocation_gbp": 61948273,
            "dsg_cumulative_balance_gbp": -27346819, "case_officers_fte": 21.5},
    "878": {"ehcp_caseload": 8467, "requests_received": 1763, "new_plans_issued": 719,
            "new_plans_within_20_weeks": 439, "hnb_allocation_gbp": 83519267,
            "dsg_cumulative_balance_gbp": -49183726, "case_officers_fte": 27.5},
    "893": {"ehcp_caseload": 4739, "requests_received": 1151, "new_plans_issued": 487,
            "new_plans_within_20_weeks": 263, "hnb_allocation_gbp": 41376921,
            "dsg_cumulative_balance_gbp": -17293846, "case_officers_fte": 14.5},
    "202": {"ehcp_caseload": 3629, "requests_received": 917, "new_plans_issued": 389,
            "new_plans_within_20_weeks": 173, "hnb_allocation_gbp": 37281946,
            "dsg_cumulative_balance_gbp": -13927418, "case_officers_fte": 12.5},
    "204": {"ehcp_caseload": 2857, "requests_received": 743, "new_plans_issued": 317,
            "new_plans_within_20_weeks": 149, "hnb_allocation_gbp": 29183746,
            "dsg_cumulative_balance_gbp": -9173162, "case_officers_fte": 10.5},
    "205": {"ehcp_caseload": 2213, "requests_received": 659, "new_plans_issued": 281,
            "new_plans_within_20_weeks": 127, "hnb_allocation_gbp": 26937418,
            "dsg_cumulative_balance_gbp": -7184293, "case_officers_fte": 9.5},
    "330": {"ehcp_caseload": 11473, "requests_received": 2917, "new_plans_issued": 1187,
            "new_plans_within_20_weeks": 463, "hnb_allocation_gbp": 141937265,
            "dsg_cumulative_balance_gbp": -61827394, "case_officers_fte": 43.5},
}
# What is in the quarter's aggregates: every submitter but the waiting one.
RELEASED = {n: f for n, f in FIGURES.items() if n != WAITING}
# The quarter before, for two of them (previous-period and change columns).
FIGURES_Q1 = {
    "838": {"ehcp_caseload": 6041, "requests_received": 1319, "dsg_cumulative_balance_gbp": -36918273},
    "933": {"ehcp_caseload": 7158, "requests_received": 1493, "dsg_cumulative_balance_gbp": -26183947},
}

CODES = {}        # DfE number -> ONS code
TOKENS = {}       # DfE number or "admin" -> bearer token
BASELINE = {}     # public path -> body before any submission
METRICS = []      # the catalogue
PROFILES = {}     # DfE number -> public profile "as at" the quarter, before any submission


def ons(num):
    return CODES[num]


def derived(f):
    """The derived figures of one submission, as the catalogue defines them."""
    out = {}
    if f.get("new_plans_issued"):
        out["pct_within_20_weeks"] = 100.0 * f["new_plans_within_20_weeks"] / f["new_plans_issued"]
    if f.get("case_officers_fte"):
        out["caseload_per_officer"] = f["ehcp_caseload"] / f["case_officers_fte"]
    if f.get("hnb_allocation_gbp"):
        out["deficit_pct_of_hnb"] = -100.0 * f["dsg_cumulative_balance_gbp"] / f["hnb_allocation_gbp"]
    return out


def protected_values():
    """(metric, value, dp) of every figure that must not be seen publicly:
    the non-consenting submitters' figures, submitted and derived, and the
    changes between their two quarters."""
    dps = {m["id"]: m["dp"] for m in METRICS}
    out = []
    for num, f in FIGURES.items():
        if num == CONSENTING:
            continue
        for k, v in list(f.items()) + list(derived(f).items()):
            out.append((k, v, dps.get(k, 1), num))
        for k, v in FIGURES_Q1.get(num, {}).items():
            out.append((k, v, dps.get(k, 0), num))
            out.append((k, f[k] - v, dps.get(k, 0), num))
    return out


def forms(v, dp):
    """The ways a page, JSON or CSV may write v."""
    r = round(v, dp)
    s = set()
    for x in (r, abs(r)):
        s.add("%.*f" % (dp, x))
        s.add("{:,.{}f}".format(x, dp))
        if dp == 0:
            s.add("%d" % x)
    if dp > 0 and float(r).is_integer():
        s.add("%d" % abs(r))
    return {f for f in s if len(f.replace(",", "").replace(".", "").lstrip("-")) >= 3}


NUMBER_TOKEN = re.compile(r"(?<![\w.,])-?\d[\d,]*(?:\.\d+)?(?![\w])")


IDENTITY_KEYS = {"code", "old_la_code", "new_la_code", "region_code", "authority", "period",
                 "previous_period", "year_earlier_period", "base_period", "time_period"}


def _add(counts, tok):
    tok = tok.rstrip(",")
    counts[tok] = counts.get(tok, 0) + 1
    # "-38,412,345" also reads as "38,412,345"
    if tok.startswith("-"):
        counts[tok[1:]] = counts.get(tok[1:], 0) + 1


def tokens_of(path, body, cache={}):
    """How often each number (as written) occurs in an answer's figures:
    JSON values (identifiers left out), CSV cells outside the geography
    columns, page text (DfE numbers and codes left out)."""
    key = (path, hash(body))
    if key in cache:
        return cache[key]
    counts = {}
    if path.startswith("/api/") and "format=csv" not in path and "/meta" not in path:
        try:
            stack = [(None, json.loads(body))]
        except ValueError:
            stack = []
        while stack:
            k, x = stack.pop()
            if isinstance(x, dict):
                stack.extend(x.items())
            elif isinstance(x, list):
                stack.extend((k, y) for y in x)
            elif isinstance(x, bool) or x is None:
                continue
            elif isinstance(x, (int, float)):
                _add(counts, repr(x) if isinstance(x, float) else str(x))
                if isinstance(x, float) and x.is_integer():
                    _add(counts, str(int(x)))
            elif isinstance(x, str) and k not in IDENTITY_KEYS:
                for m in NUMBER_TOKEN.finditer(x):
                    _add(counts, m.group(0))
    elif "format=csv" in path:
        for row in csv.DictReader(io.StringIO(body)):
            for k, c in row.items():
                if k not in GEO_COLUMNS and c:
                    for m in NUMBER_TOKEN.finditer(c):
                        _add(counts, m.group(0))
    else:
        # A chart's axis tick labels are round numbers chosen from the range
        # of what it draws (only figures the caller may see), not figures: a
        # consenting council's quarterly chart with ticks 0, 2.5 ... 12.5
        # would otherwise "contain" another council's 12.5.
        text = re.sub(r'<text class="tick"[^>]*>[^<]*</text>', " ", body)
        text = re.sub(r"<[^>]+>", " ", text)
        text = re.sub(r"DfE(?: number)? \d{3}", " ", text)
        for m in NUMBER_TOKEN.finditer(text):
            _add(counts, m.group(0))
    cache[key] = counts
    return counts


def occurrences(path, body, form):
    return tokens_of(path, body).get(form, 0)


# ---------------------------------------------------------------- crawling

def get(t, path, token=None):
    h = {"Accept": "text/html"} if not path.startswith("/api/") else {}
    if token:
        h["Authorization"] = "Bearer " + token
    s, hdr, b = t.request("GET", path, headers=h, timeout=60)
    return s, hdr, b.decode("utf-8", "replace")


def public_paths(t, quarter_only=False):
    """Every public answer worth searching, as paths."""
    # focal authorities: submitters in and out of each other's groups, a
    # lone region's, a consenting one's, and a bystander
    focals = [ons(n) for n in ("838", "933", "202", "893", "865")]
    periods = [Q2] if quarter_only else [None, Q2]
    paths = set()
    # Every metric a submitted figure can reach: the submitted ones and
    # every derived one (published-only metrics cannot hold a submission).
    submitted = set(FIGURES["838"])
    for m in METRICS:
        mid = m["id"]
        if mid not in submitted and m["kind"] != "derived":
            continue
        for p in periods:
            pq = "&period=" + urllib.parse.quote(p) if p else ""
            for fmt in ("", "&format=csv"):
                paths.add("/api/v1/tables/%s?group=england%s%s" % (mid, pq, fmt))
                for a in focals:
                    for g in ("england", "region", "neighbours"):
                        paths.add("/api/v1/tables/%s?group=%s&authority=%s%s%s"
                                  % (mid, g, a, pq, fmt))
            if p:
                paths.add("/metrics/%s?period=%s" % (mid, urllib.parse.quote(p)))
                if not quarter_only:
                    paths.add("/metrics/%s?period=%s" % (mid, urllib.parse.quote(Q1)))
                for a in focals[:2]:
                    paths.add("/metrics/%s?period=%s&authority=%s"
                              % (mid, urllib.parse.quote(p), a))
        if not quarter_only:
            paths.add("/api/v1/tables/%s/meta" % mid)
            paths.add("/metrics/%s" % mid)
            paths.add("/api/v1/tables/%s?group=england&period=%s"
                      % (mid, urllib.parse.quote(Q1)))
            paths.add("/api/v1/tables/%s?group=england&base=2015&authority=%s"
                      % (mid, ons("838")))
    for a in focals:
        paths.add("/api/v1/authorities/%s/profile?period=%s" % (a, urllib.parse.quote(Q2)))
        paths.add("/api/v1/authorities/%s/profile?format=csv&period=%s"
                  % (a, urllib.parse.quote(Q2)))
        if quarter_only:
            continue
        for extra in ("", "/profile", "/profile?format=csv", "/evidence", "/evidence?format=csv",
                      "/high-needs", "/high-needs?format=csv"):
            paths.add("/api/v1/authorities/%s%s" % (a, extra))
        for page in ("", "/submitted", "/high-needs"):
            paths.add("/authorities/%s%s" % (a, page))
        for mid in ("ehcp_caseload", "requests_received", "new_plans_issued",
                    "dsg_cumulative_balance_gbp", "caseload_per_officer"):
            paths.add("/api/v1/forecasts/%s?authority=%s" % (mid, a))
            paths.add("/api/v1/forecasts/%s?authority=%s&format=csv" % (mid, a))
    paths.add("/api/v1/collections/" + urllib.parse.quote(Q2))
    paths.add("/collections/" + urllib.parse.quote(Q2))
    if not quarter_only:
        paths.update({"/", "/?q=dorset", "/api/v1/metrics", "/api/v1/authorities"})
    return sorted(paths)


def crawl(t, paths, token=None):
    def one(p):
        return p, get(t, p, token)
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        return dict(ex.map(one, paths))


def numbers_of(path, body):
    """Every number an answer states (JSON values, CSV cells, page text)."""
    out = []
    if path.startswith("/api/") and "format=csv" not in path and "/meta" not in path:
        try:
            stack = [json.loads(body)]
        except ValueError:
            return out
        while stack:
            x = stack.pop()
            if isinstance(x, dict):
                stack.extend(x.values())
            elif isinstance(x, list):
                stack.extend(x)
            elif isinstance(x, (int, float)) and not isinstance(x, bool):
                out.append(float(x))
        return out
    if "format=csv" in path:
        # value columns only: codes and periods are identifiers
        for row in csv.DictReader(io.StringIO(body)):
            for k, c in row.items():
                if k in GEO_COLUMNS:
                    continue
                try:
                    out.append(float(c))
                except (TypeError, ValueError):
                    pass
        return out
    # pages: the figures in numeric cells and data-value attributes
    for m in re.finditer(r'data-value="([^"]*)"|<td class="num">([^<]*)</td>', body):
        txt = (m.group(1) or m.group(2) or "").replace(",", "").replace("\u2212", "-")
        txt = re.sub(r"[^0-9.\-]", "", txt)
        try:
            out.append(float(txt))
        except ValueError:
            pass
    return out


GEO_COLUMNS = {"time_period", "time_identifier", "geographic_level", "country_code",
               "country_name", "region_code", "region_name", "new_la_code", "old_la_code",
               "la_name", "contributors", "rank", "rank_england"}


# ---------------------------------------------------------------- set-up

def test_setup_submissions(t):
    global METRICS
    for n in SUBMITTERS + BYSTANDERS:
        CODES[n] = t.value("SELECT new_la_code FROM authorities WHERE old_la_code = :'p1'", n)
        t.true(CODES[n], "authority %s in the shipped history" % n)
    s, doc = t.get_json("/api/v1/metrics")
    t.eq(s, 200, "catalogue")
    METRICS = doc["metrics"] if isinstance(doc, dict) else doc
    for n in SUBMITTERS:
        r = t.cli("token", "create", "--authority", n)
        t.eq(r.returncode, 0, "token for %s: %s" % (n, r.stderr))
        TOKENS[n] = r.stdout.strip()
    r = t.cli("token", "create", "--admin")
    t.eq(r.returncode, 0, "admin token")
    TOKENS["admin"] = r.stdout.strip()
    r = t.cli("consent", "--authority", CONSENTING, "--name", "yes")
    t.eq(r.returncode, 0, "consent: %s" % r.stderr)

    # The baseline is what the public sees once the forecast worker has
    # fitted everything: pages that are still filling in would differ from
    # the later crawl for reasons that have nothing to do with submissions.
    t.wait_forecasts(timeout=600)
    BASELINE.update(crawl(t, public_paths(t)))
    for n in ("838", BYSTANDERS[0]):
        s, PROFILES[n] = t.get_json("/api/v1/authorities/%s/profile?period=%s"
                                    % (ons(n), urllib.parse.quote(Q2)))
        t.eq(s, 200, "profile before " + n)

    for period, figs in ((Q1, FIGURES_Q1), (Q2, FIGURES)):
        for n, f in figs.items():
            s, _, b = t.request("POST", "/api/v1/submissions",
                                {"authority": ons(n), "period": period, "figures": f},
                                headers={"Authorization": "Bearer " + TOKENS[n]})
            t.eq(s, 201, "submission %s %s: %r" % (n, period, b[:400]))
            # only approved versions are in force (docs/submissions.md)
            s, _, b = t.request("POST", "/api/v1/submissions/%d/approve" % json.loads(b)["id"],
                                headers={"Authorization": "Bearer " + TOKENS["admin"]})
            t.eq(s, 200, "approved %s %s: %r" % (n, period, b[:300]))


def after(t, cache={}):
    if "public" not in cache:
        t.wait_forecasts(timeout=600)
        cache["public"] = crawl(t, public_paths(t))
    return cache["public"]


# ---------------------------------------------------------------- the search

def test_no_protected_value_in_any_public_answer(t):
    answers = after(t)
    leaks = []
    for metric, v, dp, num in protected_values():
        for f in forms(v, dp):
            for path, (s, _, body) in answers.items():
                if s != 200:
                    continue
                n = occurrences(path, body, f)
                if n == 0:
                    continue
                before = BASELINE.get(path)
                n0 = occurrences(path, before[2], f) if before and before[0] == 200 else 0
                if n > n0:
                    i = body.find(f)
                    leaks.append("%s of %s (%s) in %s [...%s...]"
                                 % (metric, num, f, path, body[max(0, i - 80):i + 40]))
    t.true(not leaks, "%d leaks, e.g. %s" % (len(leaks), "; ".join(leaks[:8])))


def test_no_difference_of_public_numbers_gives_one_away(t):
    answers = after(t)
    by_metric = {}
    for path, (s, _, body) in answers.items():
        if s != 200 or urllib.parse.quote(Q2) not in path:
            continue
        m = re.match(r"/(?:api/v1/tables|metrics)/([a-z0-9_]+)", path)
        if m:
            by_metric.setdefault(m.group(1), set()).update(numbers_of(path, body))
        elif path.startswith("/api/v1/collections/"):
            for mo in json.loads(body).get("metrics", []):
                by_metric.setdefault(mo.get("id"), set()).update(
                    numbers_of("/api/", json.dumps(mo)))
    leaks = []
    for metric, v, dp, num in protected_values():
        if abs(v) < 100:
            continue
        tol = 0.5 * 10 ** -dp + 1e-9
        big = sorted(x for x in by_metric.get(metric, ()) if abs(x) >= 100)
        for a in big:
            for b in big:
                if a != b and abs((a - b) - v) <= tol:
                    leaks.append("%s of %s = %s - %s" % (metric, num, a, b))
    t.true(not leaks, "%d differences give a figure away, e.g. %s"
           % (len(leaks), "; ".join(leaks[:6])))


def test_consenting_authority_is_shown_by_name(t):
    """The search is not vacuous: a consenting authority's quarter is public."""
    s, doc = t.get_json("/api/v1/tables/ehcp_caseload?group=england&period="
                        + urllib.parse.quote(Q2))
    t.eq(s, 200, "quarter table")
    rows = {r["code"]: r for r in doc["rows"] if r.get("code")}
    t.eq(rows[ons(CONSENTING)]["value"], FIGURES[CONSENTING]["ehcp_caseload"],
         "the consenting authority's figure, named")
    # the only figure the public sees: counted, but not ranked "1 of 1"
    t.eq((rows[ons(CONSENTING)]["rank"], rows[ons(CONSENTING)]["band"], doc["n_ranked_england"]),
         (None, None, 1), "ranks count only what the public sees, and never one of one")
    england = [x for x in doc["summaries"] if x["scope"] == "england"][0]
    t.eq(england["n"], 7, "seven contributors counted; Birmingham's figure waits")
    t.eq(england["total"], sum(f["ehcp_caseload"] for f in RELEASED.values()),
         "England's total of seven contributors, six protected")
    t.eq(england["median"], None, "no order statistic of protected figures")


def test_ratio_of_sums_releases_only_what_the_rules_allow(t):
    """England's and a region's 20-week rate for the quarter is the ratio
    of the contributors' summed numerators and denominators (nothing is
    published by area for a quarter), released under the same rules as the
    mean: England's (six protected contributors released, Birmingham's
    waiting) is, the South West's (a batch of three) is, and neither equals
    any one authority's rate."""
    q = urllib.parse.quote(Q2)
    s, doc = t.get_json("/api/v1/tables/pct_within_20_weeks?group=region&authority=%s"
                        "&period=%s" % (ons("838"), q))
    t.eq(s, 200, "quarter table")
    sums = {x["scope"]: x for x in doc["summaries"]}
    e = sums["england"]
    def ratio(nums):
        return round(100.0 * sum(FIGURES[n]["new_plans_within_20_weeks"] for n in nums)
                     / sum(FIGURES[n]["new_plans_issued"] for n in nums), 1)
    t.eq((e["value"], e["value_source"], e["n"]),
         (ratio(RELEASED), "ratio of sums of authorities", 7),
         "England: the ratio of sums of its seven released contributors: %r" % e)
    t.true(e["value"] != e["mean"], "not the mean of authorities: %r" % e)
    t.eq((sums["region"]["value"], sums["region"]["n"]), (ratio(["838", "933", "878"]), 3),
         "the South West's ratio of its batch of three: %r" % sums["region"])
    rates = [round(v, 1) for n, f in FIGURES.items() if n != CONSENTING
             for k, v in derived(f).items() if k == "pct_within_20_weeks"]
    t.true(e["value"] not in rates and sums["region"]["value"] not in rates,
           "neither ratio is one authority's rate")
    # Without the consenting authority's figure the ratio would still be
    # of four protected figures: nothing is given with fewer than three.
    s, doc = t.get_json("/api/v1/tables/pct_within_20_weeks?group=neighbours&authority=%s"
                        "&period=%s" % (ons("865"), q))
    t.eq(s, 200, "a bystander's neighbours table")
    nb = [x for x in doc["summaries"] if x["scope"] == "neighbours"][0]
    t.true(nb["value"] is None or nb["n_protected" if "n_protected" in nb else "n"] == 0,
           "no neighbours' ratio of protected figures to a bystander: %r" % nb)


def test_ranks_count_only_what_the_caller_sees(t):
    for mid in ("ehcp_caseload", "pct_within_20_weeks", "caseload_per_officer"):
        for g in ("england", "region", "neighbours"):
            path = ("/api/v1/tables/%s?group=%s&authority=%s&period=%s"
                    % (mid, g, ons("838"), urllib.parse.quote(Q2)))
            s, doc = t.get_json(path)
            t.eq(s, 200, path)
            shown = [r for r in doc["rows"] if r["value"] is not None]
            t.true(all(not r["masked"] for r in doc["rows"]), "no masked row in public " + path)
            t.eq(doc["n_ranked_england"], len(shown) if g == "england" else doc["n_ranked_england"],
                 "England ranking counts only shown figures " + path)
            t.true(doc["n_ranked_england"] <= 1, "at most the consenting authority ranked " + path)
            for r in doc["rows"]:
                if r["value"] is None:
                    t.eq((r["rank"], r["rank_england"], r["band"]), (None, None, None),
                         "no rank for an unshown figure " + path)


def strip_identity(row):
    return {k: v for k, v in row.items()
            if k not in ("code", "old_la_code", "name", "label", "region_code", "region_name",
                         "neighbour_rank")}


def test_submitters_cannot_be_told_from_non_submitters(t):
    q = urllib.parse.quote(Q2)
    for mid in ("ehcp_caseload", "dsg_cumulative_balance_gbp", "pct_within_20_weeks",
                "caseload_per_officer", "caseload_growth_pct"):
        s, doc = t.get_json("/api/v1/tables/%s?group=england&period=%s" % (mid, q))
        if s == 404:
            continue
        t.eq(s, 200, mid)
        rows = {r["code"]: r for r in doc["rows"] if r.get("code")}
        want = strip_identity(rows[ons(BYSTANDERS[0])])
        for n in SUBMITTERS:
            if n != CONSENTING:
                t.eq(strip_identity(rows[ons(n)]), want,
                     "%s: submitter %s looks like a non-submitter" % (mid, n))
    # The public profile of a submitter for the quarter reads exactly as it
    # did before it submitted, as a non-submitter's does (their published
    # figures differ, so each is compared with itself).
    docs = {}
    for n in ("838", BYSTANDERS[0]):
        s, docs[n] = t.get_json("/api/v1/authorities/%s/profile?period=%s" % (ons(n), q))
        t.eq(s, 200, "profile " + n)

    def facts(doc):
        # what a submission could change: which period is shown, whether
        # a figure is, its symbol; published figures differ of course
        return {m["id"]: (m.get("period"), m.get("value") is None, m.get("symbol"),
                          m.get("rank_england") is None, m.get("published"), m.get("reason"))
                for m in doc["metrics"]}
    for n in ("838", BYSTANDERS[0]):
        t.eq(facts(docs[n]), facts(PROFILES[n]),
             "%s's public profile for the quarter reads as before the submissions" % n)
        t.eq(docs[n]["metrics"], PROFILES[n]["metrics"],
             "%s's public profile for the quarter is unchanged by the submissions" % n)


def test_public_defaults_stay_on_published_periods(t):
    answers = after(t)
    for m in METRICS:
        s, doc = t.get_json("/api/v1/tables/%s?group=england" % m["id"])
        if s == 404:
            continue
        t.true("Q" not in doc["period"], "%s defaults to %s" % (m["id"], doc["period"]))
    s, doc = t.get_json("/api/v1/authorities/%s/profile" % ons("838"))
    t.eq(s, 200, "profile")
    for m in doc["metrics"]:
        t.true(not m.get("period") or "Q" not in m["period"],
               "profile default %s %s" % (m["id"], m.get("period")))
    for path in ("/", "/authorities/" + ons("838"), "/api/v1/authorities/%s/evidence" % ons("838")):
        body = answers[path][2]
        t.true(Q2 not in body and Q1 not in body, "%s shows the quarter by default" % path)
    body = answers["/metrics/ehcp_caseload"][2]
    title = re.search(r"<h1>([^<]*)</h1>", body).group(1)
    t.true("Q" not in title and re.search(r"\d{4}", title),
           "the metric page defaults to a published period: " + title)


def test_collection_counts_and_aggregates(t):
    q = urllib.parse.quote(Q2)
    s, doc = t.get_json("/api/v1/collections/" + q)
    t.eq(s, 200, "collection")
    t.eq((doc["period"], doc["contributors"], doc["default"], doc["visibility"]),
         (Q2, 8, False, "public"), "counts")
    t.eq([c["code"] for c in doc["named_contributors"]], [ons(CONSENTING)],
         "only the consenting contributor is named")
    m = {x["id"]: x for x in doc["metrics"]}
    cl = m["ehcp_caseload"]
    t.eq((cl["contributors"], cl["england"]["total"], cl["england"]["median"]),
         (7, sum(f["ehcp_caseload"] for f in RELEASED.values()), None), "England")
    regions = {g["name"]: g for g in cl["regions"]}
    # London's and the South West's batches of three are released; the
    # West Midlands holds the consented figure, Birmingham's waits.
    t.eq(regions["London"]["total"], sum(FIGURES[n]["ehcp_caseload"] for n in ("202", "204", "205")),
         "London's batch of three")
    t.eq(regions["South West"]["total"], sum(FIGURES[n]["ehcp_caseload"] for n in ("838", "933", "878")),
         "the South West's batch of three")
    t.eq((regions["West Midlands"]["total"], regions["West Midlands"]["n"]),
         (FIGURES[CONSENTING]["ehcp_caseload"], 1),
         "a consented figure is public; Birmingham's waits")
    t.true("own" not in doc and "peers" not in cl, "nothing private for the public")
    # Signed in, Dorset sees its own figures and the banner.
    s, h, b = t.request("GET", "/api/v1/collections/" + q,
                        headers={"Authorization": "Bearer " + TOKENS["838"]})
    d = json.loads(b)
    t.eq(s, 200, "own collection")
    t.eq({x["id"]: x.get("own") for x in d["metrics"]}["ehcp_caseload"],
         FIGURES["838"]["ehcp_caseload"], "Dorset's own figure")
    t.true("not for circulation" in d["own"]["banner"], "banner")
    peers = {x["id"]: x.get("peers") for x in d["metrics"]}["ehcp_caseload"]
    t.eq(sorted(p["value"] for p in peers),
         sorted(FIGURES[n]["ehcp_caseload"] for n in ("933", "878", "202", "204", "205")),
         "five anonymised peers (the consented one is named, the waiting one withheld)")
    t.true(all(p["label"].startswith("Neighbour ") for p in peers), "masked labels")
    s, h, b = get(t, "/collections/" + q, TOKENS["838"])
    t.eq(s, 200, "page")
    t.true("not for circulation" in b and "6,173" in b, "the page shows Dorset its own figure")
    s, h, b = get(t, "/collections/" + q)
    t.true("not for circulation" not in b and "8 of England" in b, "the public page")
    s, h, b = t.request("GET", "/api/v1/collections/2025")
    t.json_error(s, b, 400, "bad_parameter")


def test_a_council_sees_its_own_quarter_when_signed_in(t):
    q = urllib.parse.quote(Q2)
    dorset, tok = ons("838"), TOKENS["838"]
    h = {"Authorization": "Bearer " + tok}
    s, doc = t.get_json("/api/v1/authorities/%s/profile" % dorset, headers=h)
    t.eq(s, 200, "own profile")
    m = {x["id"]: x for x in doc["metrics"]}
    t.eq((m["ehcp_caseload"]["period"], m["ehcp_caseload"]["value"]),
         (Q2, FIGURES["838"]["ehcp_caseload"]), "its own quarter in its profile")
    s, doc = t.get_json("/api/v1/tables/ehcp_caseload?group=neighbours&authority=%s&period=%s"
                        % (dorset, q), headers=h)
    rows = {r["code"]: r for r in doc["rows"] if r.get("code")}
    t.eq(rows[dorset]["value"], FIGURES["838"]["ehcp_caseload"], "its own quarter in its tables")
    t.eq(rows[ons("933")]["value"], None, "a neighbour's figure stays withheld")
    s, _, page = get(t, "/authorities/" + dorset, tok)
    t.eq(s, 200, "own page")
    t.true("not for circulation" in page and "6,173" in page, "its page shows its quarter")
    s, hdr, pack = get(t, "/api/v1/authorities/%s/evidence" % dorset, tok)
    t.eq(s, 200, "own pack")
    t.true("not for circulation" in pack and "6,173" in pack and "published=only" in pack,
           "its evidence pack has its quarter, the banner and the published-only choice")
    t.true(hdr.get("cache-control", "").startswith("private"), "a private answer")
    s, _, pub_only = get(t, "/api/v1/authorities/%s/evidence?published=only" % dorset, tok)
    s2, _, anon = get(t, "/api/v1/authorities/%s/evidence?published=only" % dorset)
    t.true("not for circulation" not in pub_only and "6,173" not in pub_only,
           "published only: no unpublished figure")
    strip = lambda b: re.sub(r"Produced [^<]* from data version [0-9]+", "", b)
    t.eq(strip(pub_only), strip(anon), "the published-only pack is the public pack")
    s, _, other = get(t, "/api/v1/authorities/%s/evidence" % dorset, TOKENS["933"])
    t.true("not for circulation" not in other and "6,173" not in other,
           "another council sees Dorset's pack as the public does")


def test_every_page_carries_the_licence_once(t):
    ogl = ("Contains public sector information licensed under the Open Government Licence "
           "v3.0 (Department for Education)")
    pages = {p: b for p, (s, h, b) in after(t).items()
             if s == 200 and h.get("content-type", "").startswith("text/html")}
    t.true(len(pages) > 20, "pages crawled: %d" % len(pages))
    for p, b in pages.items():
        t.eq(b.count(ogl), 1, "the OGL line once on " + p)


def test_not_ranked_is_said_to_whoever_reads_it(t):
    """A quarter shown alone is "not ranked"; the page says "yours" only to
    the council reading its own page (test_browser_journey), not to an
    anonymous visitor reading a consenting council's (review finding)."""
    s, _, anon = get(t, "/authorities/" + ons(CONSENTING))
    t.eq(s, 200, "the consenting council's public page")
    note = anon.split('id="rank-note">')[1].split("</p>")[0] if 'id="rank-note"' in anon else ""
    t.true(note and "yours" not in note and "to you" not in note,
           "anonymous: not addressed as the council: %r" % note)
    s, prof = t.get_json("/api/v1/authorities/%s/profile" % ons(CONSENTING))
    notes = [m["rank_note"] for m in prof["metrics"] if m.get("rank_note")]
    t.true(notes and all("to you" not in n for n in notes), "profile rank_note: %r" % notes[:1])


def test_a_masked_row_carries_no_note(t):
    """A footnote on a peer's quarter (figure_notes, sql/170) is never shown
    on its masked row, as a note or as a reason: a footnote can name its
    authority (review finding).  Last in this module: import_quality is
    append-only."""
    somerset, dorset = ons("933"), ons("838")
    ver = t.value("SELECT version FROM current_observations WHERE authority = :'p1'"
                  " AND metric = 'ehcp_caseload' AND period = :'p2'", somerset, Q2)
    note = "Footnote on Somerset's return 7731"
    t.psql("INSERT INTO import_quality (authority, metric, period, version, rule, action,"
           " detail, file_name, line, source) VALUES (:'p1', 'ehcp_caseload', :'p2', :'p3',"
           " 'all_exceptions', 'query', :'p4', 'test.csv', 1, 'test')", somerset, Q2, ver, note)
    t.psql("NOTIFY sendbench_data")
    h = {"Authorization": "Bearer " + TOKENS["838"]}
    q = urllib.parse.quote(Q2)
    for _ in range(50):   # the server drops its cached tables on the notification
        s, doc = t.get_json("/api/v1/tables/ehcp_caseload?group=england&period=" + q, headers=h)
        if doc.get("n_ranked_england") != len([r for r in doc["rows"] if r["value"] is not None]):
            break
        time.sleep(0.2)
    masked = [r for r in doc["rows"] if r["masked"]]
    t.true(len(masked) >= 2, "peers masked for Dorset: %d" % len(masked))
    t.true(note not in json.dumps(doc), "no masked row carries the footnote: %r" % masked)
    s, _, b = t.request("GET", "/api/v1/tables/ehcp_caseload?group=england&format=csv&period="
                        + q, headers=h)
    t.true(note not in b.decode(), "nor the CSV")
    t.true(dorset and note not in get(t, "/metrics/ehcp_caseload?period=%s" % q, TOKENS["838"])[2],
           "nor the metric page")
