/*
 * The web interface: GET / (search), GET /authorities/{code} (profile with
 * ranks, bands, charts and forecast fans), GET /metrics/{metric} (every
 * authority ranked, one highlighted).  Server-rendered HTML, no JavaScript.
 *
 * One source of truth: the authority page is drawn from the profile that
 * GET /api/v1/authorities/{code}/profile serves and the metric page from
 * the table GET /api/v1/tables/{metric} serves, computed by the same code
 * (server/tables_query.c, server/tables.c) as an anonymous caller, one
 * query per page, and kept rendered in the tables cache.
 */
#include <event2/buffer.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "profile.h"
#include "routes.h"
#include "svg.h"
#include "tables_page.h"
#include "web.h"

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
        http_reply_oom(r);
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
        "SELECT json_build_object("
        " 'results', coalesce((SELECT json_agg(json_build_object('code', new_la_code,"
        "   'old_la_code', old_la_code, 'name', name, 'region_name', region_name,"
        "   'valid_to', valid_to) ORDER BY valid_to IS NOT NULL, name)"
        "  FROM authorities WHERE $1 <> '' AND (name ILIKE '%' || replace(replace(replace($1,"
        "   '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%' OR new_la_code = upper($1)"
        "   OR old_la_code = $1)), '[]'),"
        /* The latest public default period of each metric (sql/090): the
         * period the tables API and the metric page default to. */
        " 'metrics', coalesce((SELECT json_agg(json_build_object('id', m.id, 'label', m.label,"
        "   'latest', l.period) ORDER BY m.sort_order) FROM metrics m"
        "   JOIN (SELECT DISTINCT ON (metric) metric, period FROM default_periods"
        "     ORDER BY metric, period_start DESC, published DESC, period DESC) l ON l.metric = m.id),"
        "  '[]'))",
        1, params, home_page, "nothing to show");
}

/* ---- GET /authorities/{code} ------------------------------------------ */

/* A metric the authority has a figure for that anonymous visitors may see
 * (its own unpublished submissions are left out, as the API hides them). */
static int metric_shown(const struct profile_metric *m)
{
    if (!m->shown.period)
        return 0;
    for (size_t i = 0; i < m->n_series; i++)
        if (m->series[i].cell.has_value)
            return 1;
    return 0;
}

static int metric_row(struct evbuffer *b, const json_t *doc, const json_t *m)
{
    const char *unit = web_str(m, "unit");
    const char *code = web_str(json_object_get(doc, "authority"), "code");
    int dp = (int)web_num(m, "dp");
    char v[64], nb[64], eng[128];
    double value = web_num(m, "value");
    html_quantity(value, dp, unit, v, sizeof v);
    int eng_published = 0;
    html_quantity(web_num(json_object_get(m, "neighbours"), "mean"), dp, unit, nb, sizeof nb);
    const json_t *es = json_object_get(m, "england");
    double ev = web_england_value(m, es, 1, &eng_published);
    char eng_q[64], med[64];
    html_quantity(ev, dp, unit, eng_q, sizeof eng_q);
    snprintf(eng, sizeof eng, "%s", eng_q);
    /* What the England figure is, in small print under it (a published
     * rate needs no words: it is England's). */
    const char *eng_what = strcmp(eng_q, "no data") == 0 ? NULL
                           : eng_published == 2          ? "DfE's published total"
                           : eng_published == 3          ? "ratio of sums of authorities"
                           : eng_published == -1         ? "mean of authorities"
                           : eng_published == 0          ? "median of authorities"
                                                         : NULL;
    /* Beside a published total, the median of authorities too: one
     * authority's count is compared with that, labelled. */
    med[0] = 0;
    if (eng_published == 2 && isfinite(web_num(es, "median")))
        html_quantity(web_num(es, "median"), dp, unit, med, sizeof med);
    double rank = web_num(m, "rank_england"), n = web_num(m, "n_england");
    const char *sym = web_str(m, "symbol");
    if (web_put(b, "<tr data-metric=\"") != 0 || html_escape(b, web_str(m, "id")) != 0 ||
        web_put(b, "\"><th scope=\"row\"><a href=\"/metrics/") != 0 ||
        html_escape(b, web_str(m, "id")) != 0 || web_put(b, "?period=") != 0 ||
        html_escape(b, web_str(m, "period")) != 0 || web_put(b, "&amp;authority=") != 0 ||
        html_escape(b, code) != 0 || web_put(b, "\">") != 0 ||
        html_escape(b, web_str(m, "label")) != 0 || web_put(b, "</a></th><td>") != 0 ||
        html_escape(b, web_str(m, "period")) != 0 ||
        web_put(b, "</td><td class=\"num\" data-value=\"") != 0)
        return -1;
    char plain[64];
    html_plain(value, dp, plain, sizeof plain);
    if (web_put(b, "%s\">", plain) != 0)
        return -1;
    if (isfinite(value) && web_str(m, "note") &&
        (web_put(b, "<abbr class=\"noted\" title=\"") != 0 || html_escape(b, web_str(m, "note")) != 0 ||
         web_put(b, "\">") != 0 || html_escape(b, v) != 0 ||
         web_put(b, "</abbr> <a class=\"note-ref\" href=\"#figure-notes\">note</a>") != 0))
        return -1;
    if (isfinite(value) && web_str(m, "note")) {
        /* shown above, with its note */
    } else if (isfinite(value) ? html_escape(b, v) != 0
                        : (web_put(b, "<abbr title=\"") != 0 ||
                           html_escape(b, web_str(m, "reason") ? web_str(m, "reason")
                                          : json_is_false(json_object_get(m, "published"))
                                              ? "submitted by the council, not published"
                                              : "no figure recorded") != 0 ||
                           web_put(b, "\">") != 0 || html_escape(b, sym ? sym : "x") != 0 ||
                           web_put(b, "</abbr>") != 0))
        return -1;
    if (web_put(b, "</td><td class=\"num\" data-rank=\"") != 0)
        return -1;
    if (isfinite(rank) && web_put(b, "%.0f\">%.0f of %.0f", rank, rank, n) != 0)
        return -1;
    if (!isfinite(rank) && web_put(b, web_str(m, "rank_note") ? "\">not ranked" : "\">&ndash;") != 0)
        return -1;
    if (web_put(b, "</td><td>") != 0 || web_band(b, web_str(m, "band")) != 0 ||
        web_put(b, "</td><td class=\"num\">") != 0 || html_escape(b, nb) != 0 ||
        web_put(b, "</td><td class=\"num\" data-england=\"%s\">",
                eng_published == 2 ? "published total" : eng_published == 1 ? "published"
                : eng_published == 3 ? "ratio of sums of authorities"
                : eng_published == -1 ? "mean of authorities" : "median of authorities") != 0 ||
        html_escape(b, eng) != 0 ||
        (eng_what && (web_put(b, "<br><span class=\"source\">") != 0 ||
                      html_escape(b, eng_what) != 0 ||
                      (med[0] && (web_put(b, "; median of authorities ") != 0 ||
                                  html_escape(b, med) != 0)) ||
                      web_put(b, "</span>") != 0)) ||
        web_put(b, "</td><td><a href=\"/api/v1/tables/") != 0 ||
        html_escape(b, web_str(m, "id")) != 0 || web_put(b, "?group=neighbours&amp;authority=") != 0 ||
        html_escape(b, code) != 0 || web_put(b, "&amp;period=") != 0 ||
        html_escape(b, web_str(m, "period")) != 0 ||
        web_put(b, "&amp;format=csv\">CSV<span class=\"skip\"> of ") != 0 ||
        html_escape(b, web_str(m, "label")) != 0 ||
        web_put(b, "</span></a> <a href=\"/api/v1/tables/") != 0 ||
        html_escape(b, web_str(m, "id")) != 0 || web_put(b, "?group=neighbours&amp;authority=") != 0 ||
        html_escape(b, code) != 0 || web_put(b, "&amp;period=") != 0 ||
        html_escape(b, web_str(m, "period")) != 0 ||
        web_put(b, "&amp;format=xlsx\">Excel<span class=\"skip\"> of ") != 0 ||
        html_escape(b, web_str(m, "label")) != 0 || web_put(b, "</span></a></td></tr>") != 0)
        return -1;
    return 0;
}

static char *authority_render(struct request *r, const struct profile *p, const json_t *doc,
                              size_t *len)
{
    (void)r;
    const struct profile_authority *a = &p->authority;
    const char *code = a->code;
    const char *name = a->name;
    struct evbuffer *b = evbuffer_new();
    size_t i;
    char id[32];
    int bad = !b || web_page_begin(b, name, NULL) != 0;
    bad = bad || web_put(b, "<h1>") != 0 || html_escape(b, name) != 0 ||
          web_put(b, "</h1>") != 0 || web_own_banner(b, doc, NULL) != 0 ||
          web_put(b, "<p>ONS code ") != 0 || html_escape(b, code) != 0 ||
          web_put(b, ", DfE number ") != 0 || html_escape(b, a->old_la_code) != 0 ||
          web_put(b, ", ") != 0 || html_escape(b, a->region_name) != 0 ||
          web_put(b, ".</p>") != 0 || web_boundary_note(b, doc) != 0 ||
          web_put(b, "<nav class=\"links\" aria-label=\"Downloads\"><a href=\"/api/v1/authorities/") != 0 ||
          html_escape(b, code) != 0 || web_put(b, "/evidence\">Evidence pack (printable)</a>"
                                                 "<a href=\"/api/v1/authorities/") != 0 ||
          html_escape(b, code) != 0 || web_put(b, "/evidence?format=csv\">Evidence tables (CSV)</a>"
                                                 "<a href=\"/api/v1/authorities/") != 0 ||
          html_escape(b, code) != 0 || web_put(b, "/evidence?format=xlsx\">Evidence tables (Excel)</a>"
                                                 "<a href=\"/api/v1/authorities/") != 0 ||
          html_escape(b, code) != 0 || web_put(b, "/profile?format=csv\">Profile (CSV)</a>"
                                                 "<a href=\"/api/v1/authorities/") != 0 ||
          html_escape(b, code) != 0 || web_put(b, "/profile?format=xlsx\">Profile (Excel)</a>"
                                                 "<a href=\"/api/v1/authorities/") != 0 ||
          html_escape(b, code) != 0 || web_put(b, "/profile\">Profile (JSON)</a>"
                                                 "<a href=\"/authorities/") != 0 ||
          html_escape(b, code) != 0 ||
          web_put(b, "/submitted\">Submitted beside published figures</a></nav>") != 0;

    const json_t *metrics = json_object_get(doc, "metrics");
    bad = bad || web_put(b, "<h2 id=\"latest\">Latest figures</h2>"
                            "<table id=\"profile\"><caption>Latest figure of every measure for ") != 0 ||
          html_escape(b, name) != 0 ||
          web_put(b, ", its rank among English authorities (1 = best, or highest where neither "
                     "is better) and its quartile band</caption><thead><tr>"
                     "<th scope=\"col\">Measure</th><th scope=\"col\">Period</th>"
                     "<th scope=\"col\" class=\"num\">Value</th><th scope=\"col\" class=\"num\">Rank</th>"
                     "<th scope=\"col\">Band</th><th scope=\"col\" class=\"num\">Neighbours' average</th>"
                     "<th scope=\"col\" class=\"num\">England</th><th scope=\"col\">Data</th>"
                     "</tr></thead><tbody>") != 0;
    size_t shown = 0, unranked = 0;
    for (i = 0; i < p->n_metrics; i++) {
        if (!bad && metric_shown(&p->metrics[i])) {
            const json_t *m = json_array_get(metrics, i);
            bad = metric_row(b, doc, m) != 0;
            shown++;
            unranked += p->metrics[i].shown.rank_alone;
        }
    }
    bad = bad || web_put(b, "</tbody></table>") != 0 || web_figure_notes(b, doc) != 0;
    /* Why a figure has no rank (the profile's rank_note): never "1 of 1". */
    /* Addressed to the council only when it is the council reading its own
     * page; an anonymous visitor sees a consenting council's quarter. */
    const char *vis = p->visibility;
    int own = code && strncmp(vis, "council:", 8) == 0 && strcmp(vis + 8, code) == 0;
    if (unranked)
        bad = bad || web_put(b, "<p class=\"note\" id=\"rank-note\">Not ranked: for that period "
                                "%s is the only figure that can be shown %s (other councils' "
                                "returns for a quarter are shown only by name with their "
                                "consent, and otherwise only as totals once enough were sent), "
                                "and a rank or quartile band among one figure says nothing.</p>",
                             own ? "yours" : "this authority's", own ? "to you" : "here") != 0;
    if (shown == 0)
        bad = bad || web_put(b, "<p class=\"note\" id=\"no-figures\">There are no published "
                                "figures for this authority yet.</p>") != 0;

    if (!bad && a->n_neighbours) {
        bad = web_put(b, "<h2 id=\"neighbours\">Statistical neighbours</h2><table id=\"neighbour-table\">"
                         "<caption>The Department for Education's most similar authorities, "
                         "nearest first</caption><thead><tr><th scope=\"col\" class=\"num\">Rank</th>"
                         "<th scope=\"col\">Authority</th><th scope=\"col\">Closeness</th></tr></thead>"
                         "<tbody>") != 0;
        for (i = 0; i < a->n_neighbours; i++) {
            const struct profile_neighbour *n = &a->neighbours[i];
            bad = bad || web_put(b, "<tr><td class=\"num\">%d</td><th scope=\"row\"><a href=\"/authorities/",
                                 n->rank) != 0 ||
                  html_escape(b, n->code) != 0 || web_put(b, "\">") != 0 ||
                  html_escape(b, n->name) != 0 || web_put(b, "</a></th><td>") != 0 ||
                  html_escape(b, n->closeness) != 0 || web_put(b, "</td></tr>") != 0;
        }
        bad = bad || web_put(b, "</tbody></table>") != 0;
    }

    const json_t *fcs = json_object_get(p->extra, "forecasts");
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
                  web_put(b, "&amp;format=csv\">Forecast (CSV)</a> · <a href=\"/api/v1/forecasts/") != 0 ||
                  html_escape(b, mid) != 0 || web_put(b, "?authority=") != 0 ||
                  html_escape(b, code) != 0 ||
                  web_put(b, "&amp;format=xlsx\">Forecast (Excel)</a></p>") != 0;
        }
    }
    if (!bad && shown) {
        bad = web_put(b, "<h2 id=\"charts\">Over time, against neighbours and England</h2>") != 0;
        for (i = 0; i < p->n_metrics; i++) {
            if (!metric_shown(&p->metrics[i]))
                continue;
            const json_t *m = json_array_get(metrics, i);
            snprintf(id, sizeof id, "chart-%zu", i);
            bad = bad || web_put(b, "<h3>") != 0 || html_escape(b, web_str(m, "label")) != 0 ||
                  web_put(b, "</h3>") != 0 || web_metric_figure(b, doc, m, id) != 0;
            snprintf(id, sizeof id, "quarters-%zu", i);
            bad = bad || web_quarter_figure(b, doc, m, id) != 0;
        }
    }
    bad = bad || web_page_end(b) != 0;
    return web_page_take(b, bad, len);
}

static const struct tables_page AUTHORITY_PAGE = {
    "authority", "text/html; charset=utf-8", NULL, authority_render, web_table_error};

void route_web_authority(struct request *r)
{
    const char *code = http_param(r, 0);
    if (!matches(code, CODE_RE)) {
        web_reply_error(r, 404, "unknown_authority",
                        "no authority has this code: use an ONS code (E06000059) or a DfE number (838)",
                        "code", "ONS code or DfE number");
        return;
    }
    tables_page_profile(r, &AUTHORITY_PAGE, code, 0);
}

/* ---- GET /metrics/{metric}?period=&authority= -------------------------- */

static const char *row_name(const struct table_row *row)
{
    return row->masked ? row->mask_label : row->name;
}

/* The table GET /api/v1/tables/{metric}?group=england&authority= serves
 * anonymous callers, as a ranked bar chart and a table.  Masked rows
 * (unpublished figures of authorities that did not consent to be named)
 * appear as the API shows them: "Neighbour A", no code, no link. */
/* England's (or the focal region's) figure: the DfE's published one, else
 * the sum the disclosure rules release; then the mean and median of
 * authorities, labelled as such (issue 14). */
static int area_line(struct evbuffer *b, const char *id, const char *area,
                     const struct table_summary *s, const struct tables_view *v)
{
    char val[64], mean[64], median[64];
    int none = s->suppressed || s->n == 0;
    html_quantity(s->has_value ? s->value : NAN, v->dp, v->unit, val, sizeof val);
    html_quantity(none ? NAN : s->mean, v->dp, v->unit, mean, sizeof mean);
    html_quantity(none || s->median_withheld ? NAN : s->median, v->dp, v->unit, median,
                  sizeof median);
    if (web_put(b, "<p class=\"note\" id=\"%s\"><strong>", id) != 0 || html_escape(b, area) != 0 ||
        web_put(b, ": ") != 0)
        return -1;
    if (s->value_source == SUMMARY_VALUE_PUBLISHED)
        return (s->has_value ? html_escape(b, val) : html_escape(b, s->value_symbol ? s->value_symbol : "x")) != 0 ||
                       web_put(b, "</strong> as published by the DfE; of its authorities, mean ") != 0 ||
                       html_escape(b, mean) != 0 || web_put(b, ", median ") != 0 ||
                       html_escape(b, median) != 0 || web_put(b, ".</p>") != 0
                   ? -1
                   : 0;
    if (s->value_source == SUMMARY_VALUE_SUM)
        return html_escape(b, val) != 0 ||
                       web_put(b, "</strong> (the sum of %zu contributing authorities; "
                                  "nothing published); mean of authorities ", s->n) != 0 ||
                       html_escape(b, mean) != 0 || web_put(b, ".</p>") != 0
                   ? -1
                   : 0;
    if (s->value_source == SUMMARY_VALUE_RATIO)
        return html_escape(b, val) != 0 ||
                       web_put(b, "</strong> (the ratio of the summed numerators and "
                                  "denominators of %zu contributing authorities; nothing "
                                  "published); mean of authorities ", s->n) != 0 ||
                       html_escape(b, mean) != 0 || web_put(b, ".</p>") != 0
                   ? -1
                   : 0;
    return web_put(b, "</strong>no published figure; mean of authorities ") != 0 ||
                   html_escape(b, mean) != 0 || web_put(b, ", median ") != 0 ||
                   html_escape(b, median) != 0 || web_put(b, ".</p>") != 0
               ? -1
               : 0;
}

/* The metric's quarters (v->quarters) on a quarterly axis of their own,
 * below the annual ranking and never mixed with it: England's and (for a
 * signed-in council or a highlighted authority) its region's aggregates
 * the disclosure rules allow, the council's own quarters, and a table of
 * England and every region by quarter.  Nothing when no quarter may be
 * drawn for this caller (a quarter is drawn for the public only once it is
 * a public default, sql/090, as on the authority page). */
static int metric_quarters(struct evbuffer *b, const struct tables_view *v)
{
    const json_t *qs = json_object_get(v->quarters, "quarters");
    size_t nq = json_array_size(qs), i, k;
    json_t *p, *g;
    if (nq == 0)
        return 0;
    json_t *metric = json_pack("{s:s, s:s, s:s, s:i, s:b, s:O}", "id", v->id, "label", v->label,
                               "unit", v->unit, "dp", v->dp, "additive", v->additive, "quarters",
                               qs);
    json_t *doc = json_pack("{s:{s:o, s:o}}", "authority", "name",
                            json_incref(json_object_get(v->quarters, "own")), "region_name",
                            json_incref(json_object_get(v->quarters, "region")));
    int bad = !metric || !doc ||
              web_put(b, "<section id=\"quarters\"><h2>Quarters (councils' quarterly "
                         "returns)</h2>") != 0 ||
              web_quarter_figure(b, doc, metric, "quarters-chart") != 0 ||
              web_put(b, "<table id=\"quarters-table\"><caption>") != 0 ||
              html_escape(b, v->label) != 0 ||
              web_put(b, " by quarter: England and its regions, the mean of the authorities whose "
                         "returns are released (c: not released; x: no returns)</caption>"
                         "<thead><tr><th scope=\"col\">Area</th>") != 0;
    json_array_foreach(qs, i, p) {
        bad = bad || web_put(b, "<th scope=\"col\" class=\"num\">") != 0 ||
              html_escape(b, web_str(p, "period")) != 0 || web_put(b, "</th>") != 0;
    }
    bad = bad || web_put(b, "</tr></thead><tbody>") != 0;
    size_t nr = json_array_size(json_object_get(json_array_get(qs, 0), "regions"));
    for (long a = -1; a < (long)nr && !bad; a++) {
        const json_t *first = a < 0 ? NULL
                                    : json_array_get(json_object_get(json_array_get(qs, 0), "regions"),
                                                     (size_t)a);
        bad = web_put(b, "<tr><th scope=\"row\">") != 0 ||
              html_escape(b, a < 0 ? "England" : web_str(first, "name")) != 0 ||
              web_put(b, "</th>") != 0;
        json_array_foreach(qs, i, p) {
            const json_t *s = a < 0 ? json_object_get(p, "england") : NULL;
            json_array_foreach(a < 0 ? NULL : json_object_get(p, "regions"), k, g)
                if (strcmp(web_str(g, "code") ? web_str(g, "code") : "",
                           web_str(first, "code") ? web_str(first, "code") : "") == 0)
                    s = g;
            char val[64];
            double mean = web_num(s, "mean");
            html_quantity(mean, v->dp, v->unit, val, sizeof val);
            const char *sym = web_str(s, "symbol");
            bad = bad || web_put(b, "<td class=\"num\">") != 0 ||
                  html_escape(b, isfinite(mean) ? val : sym ? sym : "x") != 0 ||
                  web_put(b, "</td>") != 0;
        }
        bad = bad || web_put(b, "</tr>") != 0;
    }
    bad = bad || web_put(b, "</tbody></table></section>") != 0;
    json_decref(metric);
    json_decref(doc);
    return bad ? -1 : 0;
}

static char *metric_render(struct request *r, const struct tables_view *v, size_t *len)
{
    (void)r;
    const struct table *t = v->t;
    size_t n = t->n_in_group, i;
    long hl = -1;
    const struct table_row *focal = t->focal >= 0 ? &t->rows[t->focal] : NULL;
    struct evbuffer *b = evbuffer_new();
    struct svg_bar *bars = calloc(n ? n : 1, sizeof *bars);
    int bad = !b || !bars;
    for (i = 0; bars && i < n; i++) {
        const struct table_row *row = &t->rows[t->order[i]];
        bars[i] = (struct svg_bar){row_name(row), row->masked ? NULL : row->code,
                                   row->cur.has_value ? row->cur.value : NAN, row->rank};
        if ((long)t->order[i] == t->focal && !row->masked)
            hl = (long)i;
    }
    const char *label = v->label, *period = v->period;
    char title[400], desc[700];
    snprintf(title, sizeof title, "%s, %s: all authorities ranked", label, period);
    snprintf(desc, sizeof desc,
             "Horizontal bar chart of %s for %zu English authorities in %s, best first%s%s%s.",
             label, t->n_ranked_england, period,
             hl >= 0 ? "; the selected authority, " : "", hl >= 0 ? focal->name : "",
             hl >= 0 ? ", is drawn dark and hatched, in bold and marked (selected)" : "");
    struct svg_frame f = {"ranked", title, desc, label, "Authority", v->dp, v->unit};
    /* A council signed in sees its own unpublished figures (and masked
     * peers): say so where it cannot be missed. */
    int own_unpublished = 0;
    for (i = 0; i < n && t->caller.kind == CALLER_COUNCIL; i++) {
        const struct table_row *row = &t->rows[t->order[i]];
        own_unpublished |= row->cur.has_value && !row->cur.published;
    }
    bad = bad || web_page_begin(b, label, NULL) != 0 || web_put(b, "<h1>") != 0 ||
          html_escape(b, label) != 0 || web_put(b, ", ") != 0 || html_escape(b, period) != 0 ||
          web_put(b, "</h1>") != 0 ||
          (own_unpublished &&
           web_put(b, "<p class=\"note own\" id=\"own-banner\"><strong>This page includes "
                      "your unpublished figures &mdash; not for circulation.</strong></p>") != 0) ||
          web_put(b, "<p>") != 0 || html_escape(b, v->description) != 0 ||
          web_put(b, " Polarity: %s.</p>",
                  v->polarity == POLARITY_HIGHER_BETTER  ? "higher is better"
                  : v->polarity == POLARITY_LOWER_BETTER ? "lower is better"
                  : "neither higher nor lower is better (ranked highest first, not banded)") != 0;
    /* Period and authority choice: a plain GET form, works without script. */
    bad = bad || web_put(b, "<form class=\"noprint\" method=\"get\" action=\"/metrics/") != 0 ||
          html_escape(b, v->id) != 0 ||
          web_put(b, "\"><label for=\"period\">Period </label><select id=\"period\" name=\"period\">") != 0;
    json_t *p;
    json_array_foreach(v->periods, i, p) {
        const char *ps = json_string_value(p);
        bad = bad || web_put(b, "<option%s>", ps && strcmp(ps, period) == 0 ? " selected" : "") != 0 ||
              html_escape(b, ps) != 0 || web_put(b, "</option>") != 0;
    }
    bad = bad || web_put(b, "</select> <label for=\"authority\">Highlight </label>"
                            "<select id=\"authority\" name=\"authority\"><option value=\"\">none</option>") != 0;
    for (i = 0; i < n; i++) {
        const struct table_row *row = &t->rows[t->order[i]];
        if (row->masked)
            continue;
        bad = bad || web_put(b, "<option value=\"") != 0 || html_escape(b, row->code) != 0 ||
              web_put(b, "\"%s>", (long)t->order[i] == t->focal ? " selected" : "") != 0 ||
              html_escape(b, row->name) != 0 || web_put(b, "</option>") != 0;
    }
    bad = bad || web_put(b, "</select> <button type=\"submit\">Show</button></form>") != 0;
    if (focal && !bad) {
        bad = web_put(b, "<p class=\"note\" id=\"focal-note\">") != 0;
        if (hl >= 0 && focal->rank)
            bad = bad || html_escape(b, focal->name) != 0 ||
                  web_put(b, " is ranked %d of %zu", focal->rank, t->n_ranked_england) != 0 ||
                  (focal->band && web_put(b, ", band %c", focal->band) != 0) ||
                  web_put(b, " (highlighted below).</p>") != 0;
        else
            bad = bad || html_escape(b, focal->masked ? "The selected authority" : focal->name) != 0 ||
                  web_put(b, " has no figure for this period.</p>") != 0;
    }
    bad = bad || area_line(b, "england-value", "England", &t->england, v) != 0 ||
          (focal && t->has_region && v->region_name &&
           area_line(b, "region-value", v->region_name, &t->region, v) != 0);
    bad = bad || web_put(b, "<nav class=\"links\" aria-label=\"Downloads\"><a href=\"/api/v1/tables/") != 0 ||
          html_escape(b, v->id) != 0 || web_put(b, "?group=england&amp;period=") != 0 ||
          html_escape(b, period) != 0 ||
          (v->focal && (web_put(b, "&amp;authority=") != 0 || html_escape(b, v->focal) != 0)) ||
          web_put(b, "&amp;format=csv\">This table (CSV)</a><a href=\"/api/v1/tables/") != 0 ||
          html_escape(b, v->id) != 0 || web_put(b, "?group=england&amp;period=") != 0 ||
          html_escape(b, period) != 0 ||
          (v->focal && (web_put(b, "&amp;authority=") != 0 || html_escape(b, v->focal) != 0)) ||
          web_put(b, "&amp;format=xlsx\">This table (Excel)</a><a href=\"/api/v1/tables/") != 0 ||
          html_escape(b, v->id) != 0 || web_put(b, "?group=england&amp;period=") != 0 ||
          html_escape(b, period) != 0 ||
          (v->focal && (web_put(b, "&amp;authority=") != 0 || html_escape(b, v->focal) != 0)) ||
          web_put(b, "\">This table (JSON)</a></nav>") != 0;
    bad = bad || web_put(b, "<figure class=\"chart-figure\">") != 0 ||
          (bars && svg_bar_chart(b, &f, bars, n, hl) != 0) ||
          web_put(b, "<figcaption>") != 0 || html_escape(b, desc) != 0 ||
          web_put(b, " <span class=\"source\">Source: ") != 0;
    json_array_foreach(v->sources, i, p) {
        bad = bad || (i && web_put(b, "; ") != 0) || web_source_text(b, p) != 0;
    }
    if (strcmp(v->kind, "derived") == 0)
        bad = bad || web_put(b, "%scomputed by sendbench", json_array_size(v->sources) ? "; " : "") != 0;
    bad = bad || web_put(b, ".</span></figcaption></figure>") != 0;
    bad = bad || metric_quarters(b, v) != 0;
    bad = bad || web_put(b, "<table id=\"ranking\"><caption>") != 0 || html_escape(b, label) != 0 ||
          web_put(b, ", ") != 0 || html_escape(b, period) != 0 ||
          web_put(b, ": every authority, ranked (1 = best, or highest where neither is "
                     "better; equal figures share a rank)</caption><thead><tr>"
                     "<th scope=\"col\" class=\"num\">Rank</th><th scope=\"col\">Authority</th>"
                     "<th scope=\"col\">Region</th><th scope=\"col\" class=\"num\">Value</th>"
                     "<th scope=\"col\">Band</th></tr></thead><tbody>") != 0;
    for (i = 0; i < n; i++) {
        const struct table_row *row = &t->rows[t->order[i]];
        const char *reason = row->withheld ? NULL : v->reasons[t->order[i]];
        char val[64];
        html_quantity(row->cur.has_value ? row->cur.value : NAN, v->dp, v->unit, val, sizeof val);
        int is_hl = (long)i == hl;
        char band[2] = {row->band, 0};
        bad = bad || web_put(b, "<tr%s data-code=\"", is_hl ? " class=\"focus\"" : "") != 0 ||
              html_escape(b, row->masked ? "" : row->code) != 0 ||
              web_put(b, "\"><td class=\"num\">") != 0 ||
              (row->rank ? web_put(b, "%d", row->rank) : web_put(b, "&ndash;")) != 0 ||
              web_put(b, "</td><th scope=\"row\">") != 0;
        if (row->masked)
            bad = bad || html_escape(b, row->mask_label) != 0 ||
                  web_put(b, " <span class=\"note-inline\">(submitted, not published)</span></th><td>") != 0;
        else
            bad = bad || web_put(b, "<a href=\"/authorities/") != 0 ||
                  html_escape(b, row->code) != 0 || web_put(b, "\">") != 0 ||
                  html_escape(b, row->name) != 0 ||
                  web_put(b, "</a>%s", is_hl ? " (selected)" : "") != 0 ||
                  /* A DfE footnote on the figure (sql/170): why it has no rank. */
                  (row->note && !row->withheld &&
                   (web_put(b, "<br><span class=\"source noted\">Not ranked: ") != 0 ||
                    html_escape(b, row->note) != 0 || web_put(b, "</span>") != 0)) ||
                  web_put(b, "</th><td>") != 0 || html_escape(b, row->region_name) != 0;
        char plain[64];
        html_plain(row->cur.has_value ? row->cur.value : NAN, v->dp, plain, sizeof plain);
        bad = bad || web_put(b, "</td><td class=\"num\" data-value=\"%s\">", plain) != 0;
        if (row->cur.has_value)
            bad = bad || html_escape(b, val) != 0;
        else
            bad = bad || web_put(b, "<abbr title=\"") != 0 ||
                  html_escape(b, reason ? reason : "no figure recorded") != 0 ||
                  web_put(b, "\">") != 0 ||
                  html_escape(b, row->cur.exists && row->cur.symbol ? row->cur.symbol : "x") != 0 ||
                  web_put(b, "</abbr>") != 0;
        bad = bad || web_put(b, "</td><td>") != 0 || web_band(b, row->band ? band : NULL) != 0 ||
              web_put(b, "</td></tr>") != 0;
    }
    bad = bad || web_put(b, "</tbody></table>") != 0 || web_page_end(b) != 0;
    free(bars);
    return web_page_take(b, bad, len);
}

static const struct tables_page METRIC_PAGE = {
    "metric", "text/html; charset=utf-8", metric_render, NULL, web_table_error};

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
    tables_page_table(r, &METRIC_PAGE, metric, period, authority);
}
