"""Downloads: every CSV has an XLSX twin (?format=xlsx or the XLSX media
type in Accept) holding the same rows, read back here with Debian's
python3-openpyxl: numbers as numbers equal to the CSV's, shown with the
catalogue's decimal places; symbols and codes as text; an About sheet with
the OGL attribution."""

import csv
import io
import json
import time

import harness

TEMPLATE = "history"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
openpyxl = harness.debian_module("openpyxl")
# Columns of codes and periods: text in the workbook even when they look
# like numbers ("2023", "202425", old_la_code "835").
TEXT_COLUMNS = {"period", "time_period", "financial_year", "country_code", "region_code",
                "new_la_code", "old_la_code", "area_code"}


def number_format(dp):
    return "#,##0" + ("." + "0" * dp if dp > 0 else "")


def fetch(t, path, accept=None):
    s, h, b = t.request("GET", path, headers={"Accept": accept} if accept else None)
    if s != 200:
        raise harness.TestFailure("%s: %d %s" % (path, s, b[:300]))
    return h, b


def read_book(t, body):
    t.true(body[:4] == b"PK\x03\x04", "an XLSX is a zip file")
    return openpyxl.load_workbook(io.BytesIO(body), data_only=True)


def same_rows(t, csv_bytes, ws, show_dp, what):
    """The sheet holds the CSV's rows: numbers equal to the CSV's text,
    shown with show_dp(column name) places; other cells the same text."""
    rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8"))))
    got = [list(r) for r in ws.iter_rows(values_only=False)]
    t.eq(len(got), len(rows), "%s: rows" % what)
    header = rows[0]
    t.eq([c.value for c in got[0]][:len(header)], header, "%s: header" % what)
    numbers = 0
    for i, (want, cells) in enumerate(zip(rows[1:], got[1:]), 2):
        for k, text in enumerate(want):
            c = cells[k] if k < len(cells) else None
            v = c.value if c is not None else None
            where = "%s row %d %s" % (what, i, header[k])
            try:
                num = float(text)
                is_num = text.strip() != "" and text not in ("nan", "inf")
            except ValueError:
                is_num = False
            if is_num and header[k] not in TEXT_COLUMNS:
                t.true(isinstance(v, (int, float)) and not isinstance(v, bool),
                       "%s: %r is a number in the CSV but %r in the sheet" % (where, text, v))
                t.true(abs(v - num) <= 1e-9 * max(1.0, abs(num)),
                       "%s: %r in the CSV, %r in the sheet" % (where, text, v))
                dp = show_dp(header[k])
                if dp is not None:
                    t.eq(c.number_format, number_format(dp), "%s: number format" % where)
                numbers += 1
            else:
                t.eq("" if v is None else v, text, where)
    return numbers


def about(t, wb):
    t.eq(wb.sheetnames[-1], "About", "last sheet")
    pairs = {r[0]: r[1] for r in wb["About"].iter_rows(values_only=True) if r[0]}
    t.true("Open Government Licence v3.0" in (pairs.get("attribution") or ""),
           "OGL attribution on the About sheet: %r" % pairs)
    for sym in ("c", "x", "z", "low"):
        t.true(pairs.get("symbol " + sym), "the meaning of symbol %s" % sym)
    return pairs


def metric_dp(t, metric):
    s, cat = t.get_json("/api/v1/metrics")
    items = cat["metrics"] if isinstance(cat, dict) else cat
    return {m["id"]: m["dp"] for m in items}[metric]


def wait_forecast(t, path, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s, h, b = t.request("GET", path)
        if s == 200:
            return json.loads(b)
        if s != 503:
            raise harness.TestFailure("%s: %d %s" % (path, s, b[:300]))
        time.sleep(0.5)
    raise harness.TestFailure("no forecast within %ss for %s" % (timeout, path))


def test_forecast_xlsx_matches_csv(t):
    base = "/api/v1/forecasts/ehcp_caseload?authority=E06000059&horizon=5"
    wait_forecast(t, base)
    # every metric fitted: no refit stores forecasts (emptying the reply
    # cache) between the two downloads compared byte for byte below
    t.wait_forecasts()
    _, csv_body = fetch(t, base + "&format=csv")
    h, x = fetch(t, base + "&format=xlsx")
    t.eq(h["content-type"], XLSX, "content type")
    t.true('filename="forecast-ehcp_caseload-E06000059.xlsx"' in h.get("content-disposition", ""),
           "download name: %r" % h.get("content-disposition"))
    wb = read_book(t, x)
    t.eq(wb.sheetnames, ["forecast", "About"], "sheets")
    dp = metric_dp(t, "ehcp_caseload")
    n = same_rows(t, csv_body, wb["forecast"], lambda col: None if col == "period" else dp,
                  "forecast")
    t.eq(n, 25, "numbers in 5 forecast rows")
    pairs = about(t, wb)
    t.eq(pairs.get("area_code"), "E06000059", "About: area")
    t.eq(pairs.get("metric"), "ehcp_caseload", "About: metric")
    # The same through Accept, and the same bytes again (so the same ETag).
    h2, x2 = fetch(t, base, accept=XLSX)
    t.eq(h2["content-type"], XLSX, "Accept gives XLSX")
    t.eq(x2, x, "same workbook")
    t.eq(h2["etag"], h["etag"], "same ETag")
    s, _, b = t.request("GET", base + "&format=xls")
    t.json_error(s, b, 400, "bad_parameter")


def test_high_needs_xlsx_matches_csv(t):
    base = "/api/v1/authorities/E06000059/high-needs"
    deadline = time.time() + 240
    while True:
        s, h, b = t.request("GET", base)
        if s == 200:
            break
        t.eq(s, 503, "pending trajectory: %s" % b[:200])
        t.true(time.time() < deadline, "no trajectory within 240 s")
        time.sleep(0.5)
    _, csv_body = fetch(t, base + "?format=csv")
    h, x = fetch(t, base + "?format=xlsx")
    t.eq(h["content-type"], XLSX, "content type")
    t.true('filename="high-needs-E06000059.xlsx"' in h.get("content-disposition", ""),
           "download name: %r" % h.get("content-disposition"))
    wb = read_book(t, x)
    t.eq(wb.sheetnames, ["high_needs", "About"], "sheets")

    def dp(col):   # money to the pound, placements and officers to 0.1
        if col.endswith("_gbp"):
            return 0
        return 0 if col == "allocation_published" else 1
    n = same_rows(t, csv_body, wb["high_needs"], dp, "high needs")
    t.true(n > 8 * 20, "numbers in the trajectory: %d" % n)
    pairs = about(t, wb)
    t.eq(pairs.get("authority_code"), "E06000059", "About: authority")
    h2, x2 = fetch(t, base, accept=XLSX)
    t.eq(h2["content-type"], XLSX, "Accept gives XLSX")


def test_evidence_tables_xlsx_match_csv(t):
    base = "/api/v1/authorities/E06000059/evidence"
    _, csv_body = fetch(t, base + "?format=csv")
    h, x = fetch(t, base + "?format=xlsx")
    t.eq(h["content-type"], XLSX, "content type")
    t.true('filename="evidence-E06000059.xlsx"' in h.get("content-disposition", ""),
           "download name")
    wb = read_book(t, x)
    t.eq(wb.sheetnames, ["evidence", "About"], "sheets")
    rows = list(csv.DictReader(io.StringIO(csv_body.decode("utf-8"))))
    # The value column's places: the metric's (indices and ratios 0.1,
    # medians one more than the metric).
    places = {}
    for i, r in enumerate(rows):
        v = r["value"]
        places[i + 2] = len(v.split(".")[1]) if "." in v else 0
    ws = wb["evidence"]
    n = same_rows(t, csv_body, ws, lambda col: None, "evidence")
    t.true(n >= len(rows), "every value a number (%d of %d)" % (n, len(rows)))
    for i in range(2, len(rows) + 2):
        t.eq(ws.cell(row=i, column=7).number_format, number_format(places[i]),
             "row %d value format" % i)
    about(t, wb)
    _, page = fetch(t, base)
    t.true(b'href="?format=xlsx"' in page, "the pack links its workbook")
    h2, x2 = fetch(t, base, accept=XLSX)
    t.eq(h2["content-type"], XLSX, "Accept gives XLSX")
    t.eq(read_book(t, x2).sheetnames, ["evidence", "About"], "the same workbook through Accept")


def test_profile_csv_and_xlsx_match_the_profile(t):
    """A profile's download: one row per metric with a figure, the value
    and comparisons the JSON profile gives (rounded to the catalogue's
    places), and its XLSX twin with the same rows."""
    base = "/api/v1/authorities/E06000059/profile"
    _, j = fetch(t, base)
    doc = json.loads(j)
    h, csv_body = fetch(t, base + "?format=csv")
    t.true(h["content-type"].startswith("text/csv"), "content type %r" % h["content-type"])
    t.true('filename="profile-E06000059.csv"' in h.get("content-disposition", ""),
           "download name: %r" % h.get("content-disposition"))
    rows = {r["metric"]: r for r in csv.DictReader(io.StringIO(csv_body.decode("utf-8")))}
    with_figure = [m for m in doc["metrics"] if m.get("period")]
    t.eq(sorted(rows), sorted(m["id"] for m in with_figure), "a row per metric with a figure")

    def text(v, dp, symbol=None):
        if v is None:
            return symbol or ""
        return ("%.*f" % (dp, v)) if dp > 0 else "%d" % round(v)

    for m in with_figure:
        r = rows[m["id"]]
        dp = m["dp"]
        t.eq(r["value"], text(m["value"], dp, m.get("symbol")), "%s value" % m["id"])
        t.eq(r["rank_england"], "" if m.get("rank_england") is None else str(m["rank_england"]),
             "%s rank" % m["id"])
        t.eq(r["band"], m.get("band") or "", "%s band" % m["id"])
        e = m.get("england") or {}
        t.eq(r["england_value"], text(e.get("value"), dp, e.get("symbol")),
             "%s England value" % m["id"])
        t.eq(r["england_median"], text(e.get("median"), dp), "%s England median" % m["id"])
        t.eq(r["neighbours_mean"], text((m.get("neighbours") or {}).get("mean"), dp),
             "%s neighbours' mean" % m["id"])
        t.eq(r["la_name"], "Dorset", "%s name" % m["id"])
    t.eq(rows["ehcp_caseload"]["england_value"], "638745", "England's published total")
    h2, x = fetch(t, base + "?format=xlsx")
    t.eq(h2["content-type"], XLSX, "content type")
    t.true('filename="profile-E06000059.xlsx"' in h2.get("content-disposition", ""),
           "download name")
    wb = read_book(t, x)
    t.eq(wb.sheetnames, ["profile", "About"], "sheets")
    n = same_rows(t, csv_body, wb["profile"], lambda col: None, "profile")
    t.true(n > 10 * len(rows), "numbers as numbers: %d" % n)
    order = list(csv.DictReader(io.StringIO(csv_body.decode("utf-8"))))
    dps = {m["id"]: m["dp"] for m in with_figure}
    ws = wb["profile"]
    for i, r in enumerate(order, 2):
        if r["value"] not in ("", "c", "x", "z", "low"):
            t.eq(ws.cell(row=i, column=11).number_format, number_format(dps[r["metric"]]),
                 "%s value shown with the catalogue's places" % r["metric"])
    about(t, wb)
    _, by_accept = fetch(t, base, accept="text/csv")
    t.eq(by_accept, csv_body, "Accept: text/csv gives the CSV")
    # As at a period: the same rows as the profile as at that period.
    _, j22 = fetch(t, base + "?period=2022")
    h3, c22 = fetch(t, base + "?period=2022&format=csv")
    t.true('filename="profile-E06000059-2022.csv"' in h3.get("content-disposition", ""),
           "download name as at a period")
    r22 = {r["metric"]: r for r in csv.DictReader(io.StringIO(c22.decode("utf-8")))}
    m22 = {m["id"]: m for m in json.loads(j22)["metrics"]}
    t.eq(r22["ehcp_caseload"]["time_period"], m22["ehcp_caseload"]["period"], "as at 2022")
    t.eq(r22["ehcp_caseload"]["value"], text(m22["ehcp_caseload"]["value"], 0), "2022 value")
    s, _, b = t.request("GET", base + "?format=xls")
    t.json_error(s, b, 400, "bad_parameter")


def test_every_csv_link_on_a_page_has_an_excel_twin(t):
    """What a page offers as CSV it offers as Excel too, and the Excel link
    answers a workbook: the authority page, a metric page, the High Needs
    page and the evidence pack."""
    import html as htmllib
    import re
    pages = ["/authorities/E06000059", "/metrics/ehcp_caseload",
             "/authorities/E06000059/high-needs", "/api/v1/authorities/E06000059/evidence"]
    seen = 0
    for page in pages:
        s, _, body = t.request("GET", page)
        t.eq(s, 200, page)
        hrefs = [htmllib.unescape(h) for h in re.findall(r'href="([^"]+)"', body.decode("utf-8"))]
        csvs = [h for h in hrefs if "format=csv" in h]
        t.true(csvs, "%s offers a CSV" % page)
        for h in csvs:
            twin = h.replace("format=csv", "format=xlsx")
            t.true(twin in hrefs, "%s: %s has no Excel twin" % (page, h))
            url = twin if twin.startswith("/") else page.split("?")[0] + twin
            s2, h2, x = t.request("GET", url)
            t.eq(s2, 200, url)
            t.eq(h2["content-type"], XLSX, "%s is a workbook" % url)
            t.true(x[:4] == b"PK\x03\x04", "%s is a zip" % url)
            seen += 1
    t.true(seen >= 8, "Excel links followed: %d" % seen)


def test_table_xlsx_matches_csv(t):
    base = "/api/v1/tables/ehcp_caseload?group=neighbours&authority=E06000059"
    _, csv_body = fetch(t, base + "&format=csv")
    h, x = fetch(t, base + "&format=xlsx")
    t.eq(h["content-type"], XLSX, "content type")
    t.true('filename="ehcp_caseload.xlsx"' in h.get("content-disposition", ""), "download name")
    wb = read_book(t, x)
    t.eq(wb.sheetnames, ["ehcp_caseload", "columns", "About"], "sheets")
    # Each column's places, from the table's own metadata file.
    _, meta = fetch(t, "/api/v1/tables/ehcp_caseload/meta")
    places = {r["col_name"]: int(r["indicator_dp"])
              for r in csv.DictReader(io.StringIO(meta.decode("utf-8")))}
    n = same_rows(t, csv_body, wb["ehcp_caseload"], lambda col: places.get(col), "table")
    t.true(n > 50, "numbers in the table: %d" % n)
    # Symbols stay text: the summary rows' z cells.
    ws = wb["ehcp_caseload"]
    t.eq(ws.cell(row=2, column=12).value, "z", "National row: rank is z")
    pairs = about(t, wb)
    t.eq(pairs.get("metric"), "ehcp_caseload", "About: metric")
    t.eq(pairs.get("group"), "neighbours", "About: group")
    # The columns sheet is the meta file.
    same_rows(t, meta, wb["columns"], lambda col: 0, "columns")
    h2, x2 = fetch(t, base, accept=XLSX)
    t.eq(h2["content-type"], XLSX, "Accept gives XLSX")
    t.eq(x2, x, "the same workbook from the cache")
    # The meta file's own twin.
    h3, x3 = fetch(t, "/api/v1/tables/ehcp_caseload/meta?format=xlsx")
    t.eq(h3["content-type"], XLSX, "meta as XLSX")
    same_rows(t, meta, read_book(t, x3)["columns"], lambda col: 0, "meta")
    h4, x4 = fetch(t, "/api/v1/tables/ehcp_caseload/meta", accept=XLSX)
    t.eq(h4["content-type"], XLSX, "meta: Accept gives XLSX")
    t.eq(x4, x3, "meta: the same workbook through Accept")
    s, _, b = t.request("GET", "/api/v1/tables/ehcp_caseload?format=xls")
    t.json_error(s, b, 400, "bad_parameter")


def test_admin_downloads_xlsx_match_csv(t):
    """The administrators' downloads (audit log, collection dashboard) have
    their XLSX twins too, for administrators only."""
    from people import Client, make_user
    make_user(t, "root@sendbench.example", "admin", password="correct horse battery")
    a = Client(t)
    s, h, _ = a.sign_in("root@sendbench.example", "correct horse battery")
    t.eq(s, 303, "signed in")
    for path, name, sheet, title in (
            ("/admin/audit", "sendbench-audit-log", "audit_log", "sendbench audit log"),
            ("/admin/collection", "sendbench-collection", "collection",
             "sendbench collection")):
        s, h, page = a.get(path)
        t.eq(s, 200, path)
        t.true('href="%s?format=xlsx' % path in page, "%s links its workbook" % path)
        s, h, csv_text = a.get(path + "?format=csv")
        t.eq(s, 200, path + " CSV")
        csv_body = csv_text.encode("utf-8")
        s, h, _ = a.request("GET", path + "?format=xlsx")
        t.eq(s, 200, path + " XLSX")
        t.eq(h["content-type"], XLSX, "content type")
        t.true('filename="%s.xlsx"' % name in h.get("content-disposition", ""),
               "download name: %r" % h.get("content-disposition"))
        t.eq(h.get("cache-control"), "no-store", "never kept by a cache")
        # The raw bytes: Client decodes bodies as text, so fetch them again.
        s, h, x = t.request("GET", path + "?format=xlsx",
                            headers={"Cookie": a.cookie_header()})
        t.eq(s, 200, path + " XLSX bytes")
        wb = read_book(t, x)
        t.eq(wb.sheetnames, [sheet, "About"], "sheets")
        n = same_rows(t, csv_body, wb[sheet], lambda col: 0, path)
        if sheet == "audit_log":
            t.true(n >= 2, "ids are numbers: %d" % n)
        pairs = about(t, wb)
        t.true(pairs.get("title", "").startswith(title), "About: title %r" % pairs.get("title"))
        s, h, _ = Client(t).request("GET", path + "?format=xlsx")
        t.eq((s, h.get("location")), (303, "/login"), "signed out: no workbook")
