/*
 * The web interface: GET / (search), GET /authorities/{code} (profile with
 * ranks, bands, charts and forecast fans), GET /metrics/{metric} (every
 * authority ranked, one highlighted).  Server-rendered HTML, no JavaScript;
 * one database query per page (PostgreSQL builds the JSON it is drawn
 * from).
 */
#include <event2/buffer.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "routes.h"
#include "svg.h"
#include "web.h"

#define FOCAL "(SELECT new_la_code FROM a)"

const char WEB_AUTHORITY_SQL[] =
    "WITH a AS (SELECT * FROM authorities WHERE new_la_code = $1 OR old_la_code = $1 LIMIT 1),"
    " nb AS (SELECT n.neighbour AS code, n.rank, b.name, n.closeness FROM statistical_neighbours n"
    "   JOIN authorities b ON b.new_la_code = n.neighbour WHERE n.authority = " FOCAL "),"
    " " WEB_OBS_CTE ","
    " st AS (SELECT o.metric, o.period, min(o.period_start) AS ps,"
    "   percentile_cont(0.5) WITHIN GROUP (ORDER BY o.value) AS eng_median,"
    "   sum(o.value) AS eng_total, count(*) AS eng_n,"
    "   percentile_cont(0.5) WITHIN GROUP (ORDER BY o.value)"
    "     FILTER (WHERE o.authority IN (SELECT code FROM nb)) AS nb_median,"
    "   count(*) FILTER (WHERE o.authority IN (SELECT code FROM nb)) AS nb_n"
    "  FROM obs o GROUP BY o.metric, o.period),"
    " mine AS (SELECT * FROM rnk WHERE authority = " FOCAL "),"
    " lat AS (SELECT DISTINCT ON (metric) metric, period, ps FROM st ORDER BY metric, ps DESC),"
    /* Growth in plans: each authority's plans as an index of its own figure
     * in the base year (2015, or the authority's first year after it). */
    " gb AS (SELECT min(period) AS base FROM obs WHERE metric = 'ehcp_caseload'"
    "   AND authority = " FOCAL " AND period >= '2015'),"
    " gi AS (SELECT o.authority, o.period, 100.0 * o.value / b.value AS idx FROM obs o"
    "   JOIN obs b ON b.authority = o.authority AND b.metric = o.metric"
    "    AND b.period = (SELECT base FROM gb) AND b.value > 0"
    "   WHERE o.metric = 'ehcp_caseload' AND o.period >= (SELECT base FROM gb)),"
    " growth AS (SELECT o.period, min(o.period_start) AS ps,"
    "   max(gi.idx) FILTER (WHERE o.authority = " FOCAL ") AS value,"
    "   max(o.value) FILTER (WHERE o.authority = " FOCAL ") AS plans,"
    "   percentile_cont(0.5) WITHIN GROUP (ORDER BY gi.idx)"
    "     FILTER (WHERE o.authority IN (SELECT code FROM nb) AND gi.idx IS NOT NULL) AS nb_median,"
    "   count(gi.idx) FILTER (WHERE o.authority IN (SELECT code FROM nb)) AS nb_n,"
    "   100.0 * sum(o.value) / (SELECT sum(value) FROM obs WHERE metric = 'ehcp_caseload'"
    "     AND period = (SELECT base FROM gb)) AS england,"
    "   sum(o.value) AS england_plans"
    "  FROM obs o LEFT JOIN gi ON gi.authority = o.authority AND gi.period = o.period"
    "  WHERE o.metric = 'ehcp_caseload' AND o.period >= (SELECT base FROM gb) GROUP BY o.period)"
    " SELECT CASE WHEN EXISTS (SELECT 1 FROM a) THEN json_build_object("
    "  'authority', (SELECT json_build_object('code', new_la_code, 'old_la_code', old_la_code,"
    "    'name', name, 'region_code', region_code, 'region_name', region_name,"
    "    'valid_to', valid_to, 'consent_to_name', consent_to_name) FROM a),"
    "  'neighbours', coalesce((SELECT json_agg(json_build_object('rank', rank, 'code', code,"
    "    'name', name, 'closeness', closeness) ORDER BY rank) FROM nb), '[]'),"
    "  'generated_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"'),"
    "  'data_version', data_version(),"
    "  'metrics', coalesce((SELECT json_agg(json_build_object('id', m.id, 'label', m.label,"
    "    'unit', m.unit, 'dp', m.dp, 'polarity', m.polarity, 'kind', m.kind,"
    "    'description', m.description, 'latest_period', l.period,"
    "    'latest', (SELECT json_build_object('period', x.period, 'value', x.value, 'rank', x.rank,"
    "       'n', x.n, 'band', x.band, 'source', x.source,"
    "       'recorded', to_char(x.recorded_at, 'YYYY-MM-DD'))"
    "     FROM mine x WHERE x.metric = m.id AND x.period = l.period),"
    "    'latest_nb_median', (SELECT nb_median FROM st WHERE st.metric = m.id AND st.period = l.period),"
    "    'latest_eng_median', (SELECT eng_median FROM st WHERE st.metric = m.id AND st.period = l.period),"
    "    'series', (SELECT json_agg(json_build_object('period', s.period, 'value', x.value,"
    "       'rank', x.rank, 'n', x.n, 'band', x.band, 'source', x.source,"
    "       'recorded', to_char(x.recorded_at, 'YYYY-MM-DD'), 'nb_median', s.nb_median,"
    "       'nb_n', s.nb_n, 'eng_median', s.eng_median, 'eng_total', s.eng_total,"
    "       'eng_n', s.eng_n) ORDER BY s.ps)"
    "     FROM st s LEFT JOIN mine x ON x.metric = s.metric AND x.period = s.period"
    "     WHERE s.metric = m.id),"
    "    'sources', (SELECT json_agg(json_build_object('source', z.source, 'recorded', z.recorded)"
    "       ORDER BY z.recorded, z.source) FROM (SELECT source,"
    "       to_char(max(recorded_at), 'YYYY-MM-DD') AS recorded FROM obs"
    "       WHERE obs.metric = m.id GROUP BY source) z)"
    "   ) ORDER BY m.sort_order) FROM metrics m JOIN lat l ON l.metric = m.id), '[]'),"
    "  'growth', json_build_object('base', (SELECT base FROM gb), 'series',"
    "    coalesce((SELECT json_agg(json_build_object('period', period, 'value', value,"
    "     'plans', plans, 'nb_median', nb_median, 'nb_n', nb_n, 'england', england,"
    "     'england_plans', england_plans) ORDER BY ps) FROM growth), '[]')),"
    "  'forecasts', coalesce((SELECT json_agg(json_build_object('metric', f.metric,"
    "    'stale', f.data_version < data_version(), 'doc', f.doc) ORDER BY m.sort_order)"
    "    FROM forecasts f JOIN metrics m ON m.id = f.metric"
    "    WHERE f.scope_code = " FOCAL " AND f.frequency = 'annual'), '[]'),"
    /* Council-submitted staffing is not published: shown only when the
     * authority agreed to be named beside its own submitted figures. */
    "  'staffing', json_build_object('consent', (SELECT consent_to_name FROM a),"
    "    'hidden', (SELECT count(*) FROM current_observations f WHERE f.authority = " FOCAL
    "      AND f.metric = 'case_officers_fte' AND NOT f.published"
    "      AND NOT (SELECT consent_to_name FROM a)),"
    "    'rows', coalesce((SELECT json_agg(json_build_object('period', c.period,"
    "      'caseload', c.value, 'officers', f.value, 'per_officer', c.value / f.value,"
    "      'published', c.published AND f.published, 'source', f.source,"
    "      'recorded', to_char(greatest(c.recorded_at, f.recorded_at), 'YYYY-MM-DD'))"
    "      ORDER BY c.period_start, c.period)"
    "     FROM current_observations c JOIN current_observations f ON f.authority = c.authority"
    "      AND f.period = c.period AND f.metric = 'case_officers_fte' AND f.value > 0"
    "     WHERE c.authority = " FOCAL " AND c.metric = 'ehcp_caseload' AND c.value IS NOT NULL"
    "      AND ((c.published AND f.published) OR (SELECT consent_to_name FROM a))), '[]'))"
    " ) END";

/* Path and query parameters are checked before they reach SQL (where
 * they are parameters anyway) so that a bad one gets a 4xx naming it. */
static int matches(const char *s, const char *pattern)
{
    regex_t re;
    if (!s || regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return 0;
    int ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

#define CODE_RE "^(E(06|08|09|10|11)[0-9]{6}|[0-9]{3})$"
#define METRIC_RE "^[a-z][a-z0-9_]{1,62}$"
#define PERIOD_RE "^[0-9]{4}(-[0-9]{2}( Q[1-4])?)?$"

/* ---- GET / ---------------------------------------------------------- */

static void home_page(struct request *r, json_t *doc)
{
    const char *q = http_query(r, "q");
    struct evbuffer *b = evbuffer_new();
    size_t i;
    json_t *a;
    const json_t *results = json_object_get(doc, "results");
    int bad = !b || web_page_begin(b, q && *q ? "Search results" : "Find an authority", q) != 0;
    if (!bad && q && *q) {
        bad |= web_put(b, "<h1>Authorities matching &ldquo;") != 0 || html_escape(b, q) != 0 ||
               web_put(b, "&rdquo;</h1>") != 0;
        if (json_array_size(results) == 0)
            bad |= web_put(b, "<p id=\"no-results\">No authority has that name, ONS code or DfE "
                              "number. Try part of the name, such as &ldquo;dorset&rdquo;.</p>") != 0;
        else
            bad |= web_put(b, "<p>%zu found.</p><ul class=\"results\" id=\"results\">",
                           json_array_size(results)) != 0;
        json_array_foreach(results, i, a) {
            bad |= web_put(b, "<li><a href=\"/authorities/") != 0 ||
                   html_escape(b, web_str(a, "code")) != 0 || web_put(b, "\">") != 0 ||
                   html_escape(b, web_str(a, "name")) != 0 || web_put(b, "</a> (") != 0 ||
                   html_escape(b, web_str(a, "code")) != 0 || web_put(b, ", DfE ") != 0 ||
                   html_escape(b, web_str(a, "old_la_code")) != 0 || web_put(b, ", ") != 0 ||
                   html_escape(b, web_str(a, "region_name")) != 0 ||
                   web_put(b, "%s)</li>", json_is_string(json_object_get(a, "valid_to"))
                                              ? "; no longer exists" : "") != 0;
        }
        if (json_array_size(results))
            bad |= web_put(b, "</ul>") != 0;
    } else if (!bad) {
        bad |= web_put(b, "<h1>SEND benchmarking for English local authorities</h1>"
                          "<p>Compare an authority's education, health and care (EHC) plans, "
                          "20-week timeliness and High Needs position with its statistical "
                          "neighbours and England, see the forecast for the next three years, "
                          "and print an evidence pack. Search for an authority above by name, "
                          "ONS code (E06000059) or DfE number (838).</p>") != 0;
    }
    if (!bad) {
        bad |= web_put(b, "<h2 id=\"measures\">Measures: every authority ranked</h2>"
                          "<ul class=\"results\" id=\"metric-list\">") != 0;
        json_array_foreach(json_object_get(doc, "metrics"), i, a) {
            bad |= web_put(b, "<li><a href=\"/metrics/") != 0 ||
                   html_escape(b, web_str(a, "id")) != 0 || web_put(b, "\">") != 0 ||
                   html_escape(b, web_str(a, "label")) != 0 || web_put(b, "</a> (latest: ") != 0 ||
                   html_escape(b, web_str(a, "latest")) != 0 || web_put(b, ")</li>") != 0;
        }
        bad |= web_put(b, "</ul>") != 0 || web_page_end(b) != 0;
    }
    if (bad) {
        if (b)
            evbuffer_free(b);
        http_reply_error(r, 500, "internal_error", "out of memory", NULL);
        return;
    }
    web_reply_page(r, b);
}

void route_web_home(struct request *r)
{
    const char *q = http_query(r, "q");
    if (q && strlen(q) > 100) {
        web_reply_error(r, 400, "bad_parameter", "the search text is longer than 100 characters",
                        "q", "at most 100 characters");
        return;
    }
    const char *params[1] = {q ? q : ""};
    /* Name contains the text (LIKE wildcards in it taken literally), or the
     * ONS code / DfE number equals it; current authorities first. */
    web_query_doc(r,
        "WITH " WEB_OBS_CTE " SELECT json_build_object("
        " 'results', coalesce((SELECT json_agg(json_build_object('code', new_la_code,"
        "   'old_la_code', old_la_code, 'name', name, 'region_name', region_name,"
        "   'valid_to', valid_to) ORDER BY valid_to IS NOT NULL, name)"
        "  FROM authorities WHERE $1 <> '' AND (name ILIKE '%' || replace(replace(replace($1,"
        "   '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%' OR new_la_code = upper($1)"
        "   OR old_la_code = $1)), '[]'),"
        " 'metrics', coalesce((SELECT json_agg(json_build_object('id', m.id, 'label', m.label,"
        "   'latest', l.period) ORDER BY m.sort_order) FROM metrics m"
        "   JOIN (SELECT DISTINCT ON (metric) metric, period FROM obs"
        "         ORDER BY metric, period_start DESC) l ON l.metric = m.id), '[]'))",
        1, params, home_page, "nothing to show");
}

/* ---- GET /authorities/{code} ------------------------------------------ */

static int metric_row(struct evbuffer *b, const json_t *doc, const json_t *m)
{
    const json_t *lt = json_object_get(m, "latest");
    const char *unit = web_str(m, "unit");
    const char *code = web_str(json_object_get(doc, "authority"), "code");
    int dp = (int)web_num(m, "dp");
    char v[64], nb[64], eng[64];
    html_quantity(web_num(lt, "value"), dp, unit, v, sizeof v);
    html_quantity(web_num(m, "latest_nb_median"), dp, unit, nb, sizeof nb);
    html_quantity(web_num(m, "latest_eng_median"), dp, unit, eng, sizeof eng);
    double rank = web_num(lt, "rank"), n = web_num(lt, "n");
    if (web_put(b, "<tr data-metric=\"") != 0 || html_escape(b, web_str(m, "id")) != 0 ||
        web_put(b, "\"><th scope=\"row\"><a href=\"/metrics/") != 0 ||
        html_escape(b, web_str(m, "id")) != 0 || web_put(b, "?authority=") != 0 ||
        html_escape(b, code) != 0 || web_put(b, "\">") != 0 ||
        html_escape(b, web_str(m, "label")) != 0 || web_put(b, "</a></th><td>") != 0 ||
        html_escape(b, web_str(m, "latest_period")) != 0 ||
        web_put(b, "</td><td class=\"num\" data-value=\"") != 0)
        return -1;
    char plain[64];
    html_plain(web_num(lt, "value"), dp, plain, sizeof plain);
    if (web_put(b, "%s\">", plain) != 0 || html_escape(b, v) != 0 ||
        web_put(b, "</td><td class=\"num\">") != 0)
        return -1;
    if (isfinite(rank) && web_put(b, "%.0f of %.0f", rank, n) != 0)
        return -1;
    if (!isfinite(rank) && web_put(b, "&ndash;") != 0)
        return -1;
    if (web_put(b, "</td><td>") != 0 || web_band(b, isfinite(rank) ? web_str(lt, "band") : NULL) != 0 ||
        web_put(b, "</td><td class=\"num\">") != 0 || html_escape(b, nb) != 0 ||
        web_put(b, "</td><td class=\"num\">") != 0 || html_escape(b, eng) != 0 ||
        web_put(b, "</td><td><a href=\"/api/v1/tables/") != 0 ||
        html_escape(b, web_str(m, "id")) != 0 || web_put(b, "?group=neighbours&amp;authority=") != 0 ||
        html_escape(b, code) != 0 || web_put(b, "&amp;period=") != 0 ||
        html_escape(b, web_str(m, "latest_period")) != 0 ||
        web_put(b, "&amp;format=csv\">CSV<span class=\"skip\"> of ") != 0 ||
        html_escape(b, web_str(m, "label")) != 0 || web_put(b, "</span></a></td></tr>") != 0)
        return -1;
    return 0;
}

static void authority_page(struct request *r, json_t *doc)
{
    const json_t *a = json_object_get(doc, "authority");
    const char *code = web_str(a, "code");
    const char *name = web_str(a, "name");
    struct evbuffer *b = evbuffer_new();
    size_t i;
    json_t *m;
    char id[32];
    int bad = !b || web_page_begin(b, name, NULL) != 0;
    bad = bad || web_put(b, "<h1>") != 0 || html_escape(b, name) != 0 ||
          web_put(b, "</h1><p>ONS code ") != 0 || html_escape(b, code) != 0 ||
          web_put(b, ", DfE number ") != 0 || html_escape(b, web_str(a, "old_la_code")) != 0 ||
          web_put(b, ", ") != 0 || html_escape(b, web_str(a, "region_name")) != 0 ||
          web_put(b, ".%s</p><nav class=\"links\" aria-label=\"Downloads\"><a href=\"/api/v1/authorities/",
                  json_is_string(json_object_get(a, "valid_to"))
                      ? " This authority no longer exists; its figures are kept as history." : "") != 0 ||
          html_escape(b, code) != 0 || web_put(b, "/evidence\">Evidence pack (printable)</a>"
                                                 "<a href=\"/api/v1/authorities/") != 0 ||
          html_escape(b, code) != 0 || web_put(b, "/evidence?format=csv\">Evidence tables (CSV)</a>"
                                                 "<a href=\"/api/v1/authorities/") != 0 ||
          html_escape(b, code) != 0 || web_put(b, "/profile\">Profile (JSON)</a></nav>") != 0;

    const json_t *metrics = json_object_get(doc, "metrics");
    bad = bad || web_put(b, "<h2 id=\"latest\">Latest figures</h2>"
                            "<table id=\"profile\"><caption>Latest figure of every measure for ") != 0 ||
          html_escape(b, name) != 0 ||
          web_put(b, ", its rank among English authorities (1 = best, or highest where neither "
                     "is better) and its quartile band</caption><thead><tr>"
                     "<th scope=\"col\">Measure</th><th scope=\"col\">Period</th>"
                     "<th scope=\"col\" class=\"num\">Value</th><th scope=\"col\" class=\"num\">Rank</th>"
                     "<th scope=\"col\">Band</th><th scope=\"col\" class=\"num\">Neighbours' median</th>"
                     "<th scope=\"col\" class=\"num\">England median</th><th scope=\"col\">Download</th>"
                     "</tr></thead><tbody>") != 0;
    json_array_foreach(metrics, i, m) {
        if (!bad)
            bad = metric_row(b, doc, m) != 0;
    }
    bad = bad || web_put(b, "</tbody></table>") != 0;
    if (json_array_size(metrics) == 0)
        bad = bad || web_put(b, "<p class=\"note\" id=\"no-figures\">There are no published "
                                "figures for this authority yet.</p>") != 0;

    const json_t *nbs = json_object_get(doc, "neighbours");
    if (!bad && json_array_size(nbs)) {
        json_t *n;
        bad = web_put(b, "<h2 id=\"neighbours\">Statistical neighbours</h2><table id=\"neighbour-table\">"
                         "<caption>The Department for Education's most similar authorities, "
                         "nearest first</caption><thead><tr><th scope=\"col\" class=\"num\">Rank</th>"
                         "<th scope=\"col\">Authority</th><th scope=\"col\">Closeness</th></tr></thead>"
                         "<tbody>") != 0;
        json_array_foreach(nbs, i, n) {
            bad = bad || web_put(b, "<tr><td class=\"num\">%.0f</td><th scope=\"row\"><a href=\"/authorities/",
                                 web_num(n, "rank")) != 0 ||
                  html_escape(b, web_str(n, "code")) != 0 || web_put(b, "\">") != 0 ||
                  html_escape(b, web_str(n, "name")) != 0 || web_put(b, "</a></th><td>") != 0 ||
                  html_escape(b, web_str(n, "closeness")) != 0 || web_put(b, "</td></tr>") != 0;
        }
        bad = bad || web_put(b, "</tbody></table>") != 0;
    }

    const json_t *fcs = json_object_get(doc, "forecasts");
    if (!bad && json_array_size(fcs)) {
        json_t *f;
        bad = web_put(b, "<h2 id=\"forecasts\">Forecasts</h2>") != 0;
        json_array_foreach(fcs, i, f) {
            const char *mid = web_str(f, "metric");
            snprintf(id, sizeof id, "fan-%zu", i);
            bad = bad || web_put(b, "<h3>") != 0 ||
                  html_escape(b, web_str(json_object_get(f, "doc"), "label")) != 0 ||
                  web_put(b, "</h3>") != 0 || web_forecast_figure(b, doc, mid, id) != 0 ||
                  web_put(b, "<p class=\"noprint\"><a href=\"/api/v1/forecasts/") != 0 ||
                  html_escape(b, mid) != 0 || web_put(b, "?authority=") != 0 ||
                  html_escape(b, code) != 0 ||
                  web_put(b, "&amp;format=csv\">Forecast (CSV)</a></p>") != 0;
        }
    }
    if (!bad && json_array_size(metrics)) {
        bad = web_put(b, "<h2 id=\"charts\">Over time, against neighbours and England</h2>") != 0;
        json_array_foreach(metrics, i, m) {
            snprintf(id, sizeof id, "chart-%zu", i);
            bad = bad || web_put(b, "<h3>") != 0 || html_escape(b, web_str(m, "label")) != 0 ||
                  web_put(b, "</h3>") != 0 || web_metric_figure(b, doc, m, id) != 0;
        }
    }
    bad = bad || web_page_end(b) != 0;
    if (bad) {
        if (b)
            evbuffer_free(b);
        http_reply_error(r, 500, "internal_error", "out of memory", NULL);
        return;
    }
    web_reply_page(r, b);
}

void route_web_authority(struct request *r)
{
    const char *code = http_param(r, 0);
    if (!matches(code, CODE_RE)) {
        web_reply_error(r, 404, "unknown_authority",
                        "no authority has this code: use an ONS code (E06000059) or a DfE number (838)",
                        "code", "ONS code or DfE number");
        return;
    }
    const char *params[1] = {code};
    web_query_doc(r, WEB_AUTHORITY_SQL, 1, params, authority_page, "no authority has this code");
}

/* ---- GET /metrics/{metric}?period=&authority= -------------------------- */

static void metric_page(struct request *r, json_t *doc)
{
    const json_t *m = json_object_get(doc, "metric");
    const json_t *rows = json_object_get(doc, "rows");
    const json_t *focal = json_object_get(doc, "focal");
    const char *focal_code = web_str(focal, "code");
    const char *label = web_str(m, "label"), *unit = web_str(m, "unit");
    const char *period = web_str(doc, "period");
    int dp = (int)web_num(m, "dp");
    size_t n = json_array_size(rows), i;
    json_t *row;
    long hl = -1;
    struct evbuffer *b = evbuffer_new();
    struct svg_bar *bars = calloc(n ? n : 1, sizeof *bars);
    int bad = !b || !bars;
    json_array_foreach(rows, i, row) {
        if (!bars)
            break;
        bars[i] = (struct svg_bar){web_str(row, "name"), web_str(row, "code"),
                                   web_num(row, "value"), (int)web_num(row, "rank")};
        if (focal_code && bars[i].code && strcmp(bars[i].code, focal_code) == 0)
            hl = (long)i;
    }
    char title[400], desc[700];
    snprintf(title, sizeof title, "%s, %s: all authorities ranked", label ? label : "",
             period ? period : "");
    snprintf(desc, sizeof desc,
             "Horizontal bar chart of %s for %zu English authorities in %s, best first%s%s%s.",
             label ? label : "", n, period ? period : "",
             hl >= 0 ? "; the selected authority, " : "",
             hl >= 0 ? web_str(focal, "name") : "",
             hl >= 0 ? ", is drawn dark and hatched, in bold and marked (selected)" : "");
    struct svg_frame f = {"ranked", title, desc, label, "Authority", dp, unit};
    bad = bad || web_page_begin(b, label, NULL) != 0 || web_put(b, "<h1>") != 0 ||
          html_escape(b, label) != 0 || web_put(b, ", ") != 0 || html_escape(b, period) != 0 ||
          web_put(b, "</h1><p>") != 0 || html_escape(b, web_str(m, "description")) != 0 ||
          web_put(b, " Polarity: %s.</p>",
                  strcmp(web_str(m, "polarity") ? web_str(m, "polarity") : "", "higher_better") == 0
                      ? "higher is better"
                  : strcmp(web_str(m, "polarity") ? web_str(m, "polarity") : "", "lower_better") == 0
                      ? "lower is better"
                      : "neither higher nor lower is better (ranked highest first, not banded)") != 0;
    /* Period and authority choice: a plain GET form, works without script. */
    bad = bad || web_put(b, "<form class=\"noprint\" method=\"get\" action=\"/metrics/") != 0 ||
          html_escape(b, web_str(m, "id")) != 0 ||
          web_put(b, "\"><label for=\"period\">Period </label><select id=\"period\" name=\"period\">") != 0;
    json_t *p;
    json_array_foreach(json_object_get(doc, "periods"), i, p) {
        const char *ps = json_string_value(p);
        bad = bad || web_put(b, "<option%s>", ps && period && strcmp(ps, period) == 0 ? " selected" : "") != 0 ||
              html_escape(b, ps) != 0 || web_put(b, "</option>") != 0;
    }
    bad = bad || web_put(b, "</select> <label for=\"authority\">Highlight </label>"
                            "<select id=\"authority\" name=\"authority\"><option value=\"\">none</option>") != 0;
    json_array_foreach(rows, i, row) {
        const char *c = web_str(row, "code");
        bad = bad || web_put(b, "<option value=\"") != 0 || html_escape(b, c) != 0 ||
              web_put(b, "\"%s>", focal_code && c && strcmp(c, focal_code) == 0 ? " selected" : "") != 0 ||
              html_escape(b, web_str(row, "name")) != 0 || web_put(b, "</option>") != 0;
    }
    bad = bad || web_put(b, "</select> <button type=\"submit\">Show</button></form>") != 0;
    if (focal && !bad) {
        bad = web_put(b, "<p class=\"note\" id=\"focal-note\">") != 0;
        if (hl >= 0)
            bad = bad || html_escape(b, web_str(focal, "name")) != 0 ||
                  web_put(b, " is ranked %d of %zu", bars[hl].rank, n) != 0 ||
                  web_put(b, " (highlighted below).</p>") != 0;
        else
            bad = bad || html_escape(b, web_str(focal, "name")) != 0 ||
                  web_put(b, " has no figure for this period.</p>") != 0;
    }
    bad = bad || web_put(b, "<nav class=\"links\" aria-label=\"Downloads\"><a href=\"/api/v1/tables/") != 0 ||
          html_escape(b, web_str(m, "id")) != 0 || web_put(b, "?group=england&amp;period=") != 0 ||
          html_escape(b, period) != 0 || web_put(b, "&amp;format=csv\">This table (CSV)</a></nav>") != 0;
    bad = bad || web_put(b, "<figure class=\"chart-figure\">") != 0 ||
          (bars && svg_bar_chart(b, &f, bars, n, hl) != 0) ||
          web_put(b, "<figcaption>") != 0 || html_escape(b, desc) != 0 ||
          web_put(b, " <span class=\"source\">Source: ") != 0;
    json_array_foreach(json_object_get(doc, "sources"), i, p) {
        bad = bad || (i && web_put(b, "; ") != 0) || html_escape(b, web_str(p, "source")) != 0 ||
              web_put(b, " (recorded ") != 0 || html_escape(b, web_str(p, "recorded")) != 0 ||
              web_put(b, ")") != 0;
    }
    bad = bad || web_put(b, ".</span></figcaption></figure>") != 0;
    bad = bad || web_put(b, "<table id=\"ranking\"><caption>") != 0 || html_escape(b, label) != 0 ||
          web_put(b, ", ") != 0 || html_escape(b, period) != 0 ||
          web_put(b, ": every authority with a figure, ranked</caption><thead><tr>"
                     "<th scope=\"col\" class=\"num\">Rank</th><th scope=\"col\">Authority</th>"
                     "<th scope=\"col\">Region</th><th scope=\"col\" class=\"num\">Value</th>"
                     "<th scope=\"col\">Band</th></tr></thead><tbody>") != 0;
    json_array_foreach(rows, i, row) {
        char v[64];
        html_quantity(web_num(row, "value"), dp, unit, v, sizeof v);
        int is_hl = (long)i == hl;
        bad = bad || web_put(b, "<tr%s data-code=\"", is_hl ? " class=\"focus\"" : "") != 0 ||
              html_escape(b, web_str(row, "code")) != 0 ||
              web_put(b, "\"><td class=\"num\">%.0f</td><th scope=\"row\"><a href=\"/authorities/",
                      web_num(row, "rank")) != 0 ||
              html_escape(b, web_str(row, "code")) != 0 || web_put(b, "\">") != 0 ||
              html_escape(b, web_str(row, "name")) != 0 ||
              web_put(b, "</a>%s</th><td>", is_hl ? " (selected)" : "") != 0 ||
              html_escape(b, web_str(row, "region_name")) != 0 ||
              web_put(b, "</td><td class=\"num\">") != 0 || html_escape(b, v) != 0 ||
              web_put(b, "</td><td>") != 0 || web_band(b, web_str(row, "band")) != 0 ||
              web_put(b, "</td></tr>") != 0;
    }
    bad = bad || web_put(b, "</tbody></table>") != 0 || web_page_end(b) != 0;
    free(bars);
    if (bad) {
        if (b)
            evbuffer_free(b);
        http_reply_error(r, 500, "internal_error", "out of memory", NULL);
        return;
    }
    web_reply_page(r, b);
}

static void metric_checked(struct request *r, json_t *doc)
{
    if (!json_is_object(json_object_get(doc, "metric"))) {
        web_reply_error(r, 404, "unknown_metric", "no metric with this id; see /api/v1/metrics",
                        "metric", "known metric id");
        return;
    }
    if (json_is_true(json_object_get(doc, "bad_authority"))) {
        web_reply_error(r, 404, "unknown_authority", "no authority has this code", "authority",
                        "ONS code or DfE number");
        return;
    }
    if (!json_is_string(json_object_get(doc, "period"))) {
        web_reply_error(r, 404, "no_data", "there are no published figures for this metric yet",
                        "metric", "metric with published figures");
        return;
    }
    if (json_array_size(json_object_get(doc, "rows")) == 0) {
        web_reply_error(r, 404, "no_data", "there are no published figures for this period",
                        "period", "a period with figures");
        return;
    }
    metric_page(r, doc);
}

void route_web_metric(struct request *r)
{
    const char *metric = http_param(r, 0);
    const char *period = http_query(r, "period");
    const char *authority = http_query(r, "authority");
    if (period && !*period)
        period = NULL;
    if (authority && !*authority)
        authority = NULL;
    if (!matches(metric, METRIC_RE)) {
        web_reply_error(r, 404, "unknown_metric", "no metric with this id; see /api/v1/metrics",
                        "metric", "known metric id");
        return;
    }
    if (period && !matches(period, PERIOD_RE)) {
        web_reply_error(r, 400, "bad_parameter",
                        "period must be a year (2022), a financial year (2021-22) or a quarter "
                        "(2024-25 Q2)", "period", "YYYY, YYYY-YY or YYYY-YY Qn");
        return;
    }
    if (authority && !matches(authority, CODE_RE)) {
        web_reply_error(r, 404, "unknown_authority", "no authority has this code", "authority",
                        "ONS code or DfE number");
        return;
    }
    const char *params[3] = {metric, period, authority};
    web_query_doc(r,
        "WITH " WEB_OBS_CTE ","
        " m AS (SELECT id, label, unit, dp, polarity, kind, description FROM metrics WHERE id = $1),"
        " per AS (SELECT period, min(period_start) AS ps FROM obs WHERE metric = $1 GROUP BY period),"
        " sel AS (SELECT coalesce($2::text, (SELECT period FROM per ORDER BY ps DESC LIMIT 1)) AS period),"
        " f AS (SELECT new_la_code AS code, name FROM authorities WHERE new_la_code = $3 OR old_la_code = $3)"
        " SELECT json_build_object('metric', (SELECT row_to_json(m) FROM m),"
        "  'period', (SELECT period FROM sel),"
        "  'periods', coalesce((SELECT json_agg(period ORDER BY ps DESC) FROM per), '[]'),"
        "  'focal', (SELECT row_to_json(f) FROM f),"
        "  'bad_authority', $3::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM f),"
        "  'rows', coalesce((SELECT json_agg(json_build_object('code', a.new_la_code, 'name', a.name,"
        "    'region_name', a.region_name, 'value', r.value, 'rank', r.rank, 'n', r.n, 'band', r.band,"
        "    'source', r.source) ORDER BY r.rank, a.name)"
        "   FROM rnk r JOIN authorities a ON a.new_la_code = r.authority"
        "   WHERE r.metric = $1 AND r.period = (SELECT period FROM sel)), '[]'),"
        "  'sources', (SELECT json_agg(json_build_object('source', z.source, 'recorded', z.recorded)"
        "    ORDER BY z.source) FROM (SELECT source, to_char(max(recorded_at), 'YYYY-MM-DD') AS recorded"
        "    FROM obs WHERE metric = $1 AND period = (SELECT period FROM sel) GROUP BY source) z))",
        3, params, metric_checked, "nothing to show");
}
