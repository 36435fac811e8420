/*
 * GET /api/v1/authorities/{code}/evidence: the printable evidence pack (one
 * self-contained HTML page: inline CSS and SVG, no script, nothing
 * fetched), and with ?format=csv the tables behind it as tidy CSV.  Drawn
 * from the profile with history (tables_page_profile), the same numbers GET
 * /api/v1/authorities/{code}/profile serves and the authority's web page
 * shows, and kept rendered in the tables cache.  The tables (CSV, XLSX)
 * read struct profile (include/profile.h); the HTML sections still read
 * its JSON document.
 */
#include <event2/buffer.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "high_needs.h"
#include "html.h"
#include "profile.h"
#include "routes.h"
#include "sheet.h"
#include "svg.h"
#include "tables_page.h"
#include "web.h"
#include "xlsx.h"

/* ---- CSV and XLSX ------------------------------------------------------- */

/* The pack's tables as download rows (include/sheet.h), one row per
 * figure: the CSV and the workbook are both written from them. */
struct rows_ctx {
    struct sheet *s;
    const char *code, *name;
    const char *note;   /* the next row's DfE footnote (sql/170), NULL none */
};

static void csv_row(struct rows_ctx *c, const char *section, const char *metric, const char *series,
                    const char *period, double v, int dp, const char *unit, const char *source,
                    const char *recorded)
{
    if (!isfinite(v))
        return;
    const char *before[] = {section, metric, series, c->code, c->name, period};
    for (size_t i = 0; i < sizeof before / sizeof before[0]; i++)
        sheet_text(c->s, before[i]);
    sheet_number(c->s, v, dp);
    sheet_text(c->s, unit);
    sheet_text(c->s, source);
    sheet_text(c->s, recorded);
    sheet_text(c->s, c->note ? c->note : "");
    sheet_end_row(c->s);
}

static void csv_metric(struct rows_ctx *c, const struct profile *p, const char *section,
                       const char *id)
{
    const struct profile_metric *m = profile_metric(p, id);
    if (!m)
        return;
    const char *unit = m->unit;
    int dp = m->dp;
    /* The source of the authority's figures: the latest-recorded source of
     * the metric's published figures (a derived metric's: computed). */
    const json_t *srcs = json_object_get(json_object_get(p->extra, "sources"), id);
    const json_t *src = json_array_get(srcs, json_array_size(srcs) ? json_array_size(srcs) - 1 : 0);
    int derived = m->kind && strcmp(m->kind, "derived") == 0;
    for (size_t i = 0; i < m->n_history; i++) {
        const struct profile_xsec *x = &m->history[i];
        const char *per = x->period;
        c->note = !x->hidden && x->cur.has_value ? x->reason : NULL;
        csv_row(c, section, id, "authority", per, profile_value(x, dp), dp, unit,
                derived ? "computed by sendbench" : web_str(src, "source"),
                derived ? NULL : web_str(src, "recorded"));
        c->note = NULL;
        csv_row(c, section, id, "neighbours_median", per,
                profile_summary_median(&x->neighbours, dp), dp, unit, "computed by sendbench",
                NULL);
        csv_row(c, section, id, "neighbours_mean", per, profile_summary_mean(&x->neighbours, dp),
                dp, unit, "computed by sendbench", NULL);
        csv_row(c, section, id, "england_median", per, profile_summary_median(&x->england, dp),
                dp, unit, "computed by sendbench", NULL);
        /* England's and the region's figures as the DfE publishes them
         * (a count: its published total), where it does. */
        const struct {
            const struct table_summary *s;
            const char *series;
        } areas[] = {{&x->england, "england_published"}, {&x->region, "region_published"}};
        for (size_t k = 0; k < 2; k++)
            if (areas[k].s->value_source == SUMMARY_VALUE_PUBLISHED)
                csv_row(c, section, id, areas[k].series, per,
                        profile_summary_value(areas[k].s, dp), dp, unit,
                        derived ? "computed by sendbench from the DfE's published figures"
                                : "DfE published figure", NULL);
    }
}

/* Caller frees (sheet_free); NULL when out of memory.  plan: a saved
 * scenario's High Needs plan (?scenario=ID), else NULL. */
static struct sheet *evidence_sheet(const struct profile *p, const json_t *doc, const void *plan)
{
    struct rows_ctx c = {sheet_new("evidence"), p->authority.code, p->authority.name, NULL};
    size_t i;
    json_t *e;
    if (!c.s)
        return NULL;
    const char *hdr[] = {"section", "metric", "series", "area_code", "area_name", "period",
                         "value", "unit", "source", "recorded", "note"};
    for (size_t k = 0; k < 11; k++)
        sheet_text(c.s, hdr[k]);
    sheet_end_row(c.s);
    for (i = 0; i < p->n_growth; i++) {
        const struct profile_growth_point *g = &p->growth[i];
        csv_row(&c, "growth", "ehcp_caseload", "authority_index", g->period,
                g->has_index ? g->index : NAN, 1, "index", "computed by sendbench", NULL);
        csv_row(&c, "growth", "ehcp_caseload", "neighbours_median_index", g->period,
                g->has_nb_median ? g->nb_median : NAN, 1, "index", "computed by sendbench", NULL);
        csv_row(&c, "growth", "ehcp_caseload", "england_index", g->period,
                g->has_england ? g->england : NAN, 1, "index", "computed by sendbench", NULL);
    }
    csv_metric(&c, p, "plans", "ehcp_caseload");
    csv_metric(&c, p, "flows", "requests_received");
    csv_metric(&c, p, "flows", "new_plans_issued");
    csv_metric(&c, p, "timeliness", "pct_within_20_weeks_ex");
    csv_metric(&c, p, "timeliness", "pct_within_20_weeks");
    csv_metric(&c, p, "high_needs", "dsg_balance_pct_of_income");
    json_array_foreach(json_object_get(json_object_get(p->extra, "staffing"), "rows"), i, e) {
        csv_row(&c, "staffing", "caseload_per_officer", "authority", web_str(e, "period"),
                web_num(e, "per_officer"), 1, "ratio", web_str(e, "source"), web_str(e, "recorded"));
    }
    const json_t *fc = web_forecast(doc, "ehcp_caseload", NULL);
    json_array_foreach(json_object_get(fc, "forecasts"), i, e) {
        if (i >= 3)
            break;
        static const char *keys[] = {"forecast", "lo80", "hi80", "lo95", "hi95"};
        for (int k = 0; k < 5; k++)
            csv_row(&c, "forecast", "ehcp_caseload", keys[k], web_str(e, "period"),
                    web_num(e, keys[k]), 1, "count", "forecast by sendbench",
                    web_str(fc, "fitted_at"));
    }
    high_needs_evidence_rows(c.s, plan);   /* server/evidence_high_needs.c */
    return c.s;
}

static char *evidence_csv(struct request *r, const struct profile *p, const json_t *doc,
                          size_t *len)
{
    struct sheet *s = evidence_sheet(p, doc, tables_page_arg(r));
    char *out = s ? sheet_csv_string(s, "\r\n", len) : NULL;
    sheet_free(s);
    return out;
}

static char *evidence_xlsx(struct request *r, const struct profile *p, const json_t *doc,
                           size_t *len)
{
    const json_t *extra = p->extra;
    const char *name = p->authority.name;
    char title[200], version[32];
    snprintf(title, sizeof title, "Evidence pack tables: %s", name ? name : "");
    snprintf(version, sizeof version, "%.0f", web_num(extra, "data_version"));
    const char *pairs[] = {"area_code", p->authority.code, "generated_at",
                           web_str(extra, "generated_at"), "data_version", version, NULL};
    for (size_t i = 1; pairs[i - 1]; i += 2)
        if (!pairs[i])
            pairs[i] = "";
    struct xlsx_about about = {title, evhttp_request_get_uri(r->req), WEB_OGL_LINE, pairs, 0};
    struct sheet *s = evidence_sheet(p, doc, tables_page_arg(r));
    const struct sheet *sheets[] = {s};
    char err[200];
    unsigned char *x = s ? xlsx_workbook(sheets, 1, &about, len, err, sizeof err) : NULL;
    sheet_free(s);
    return (char *)x;
}

/* ---- HTML ---------------------------------------------------------------- */

static int section_open(struct evbuffer *b, const char *id, const char *title)
{
    return web_put(b, "<section class=\"pack\" id=\"%s\"><h2>", id) != 0 ||
           html_escape(b, title) != 0 || web_put(b, "</h2>") != 0 ? -1 : 0;
}

static int growth_section(struct evbuffer *b, const json_t *doc)
{
    const json_t *g = json_object_get(doc, "growth");
    const json_t *s = json_object_get(g, "series");
    const char *name = web_str(json_object_get(doc, "authority"), "name");
    const char *base = web_str(g, "base");
    size_t n = json_array_size(s), i;
    json_t *p;
    char title[300], desc[700];
    if (section_open(b, "growth", "Growth in EHC plans") != 0)
        return -1;
    if (!base || n == 0)
        return web_put(b, "<p class=\"note\">There are no published counts of EHC plans for this "
                          "authority from 2015 on.</p></section>");
    const char **x = calloc(n, sizeof *x);
    double *y = calloc(3 * n, sizeof *y);
    int rc = -1;
    if (!x || !y)
        goto done;
    double *nb = y + n, *eng = y + 2 * n;
    int have_nb = 0;
    json_array_foreach(s, i, p) {
        x[i] = web_str(p, "period");
        y[i] = web_num(p, "value");
        nb[i] = web_num(p, "nb_median");
        eng[i] = web_num(p, "england");
        have_nb |= isfinite(nb[i]);
    }
    const json_t *last = json_array_get(s, n - 1);
    char pct[40], plans0[40], plans1[40], eng_pct[40];
    html_number(web_num(last, "value") - 100, 0, pct, sizeof pct);
    html_number(web_num(json_array_get(s, 0), "plans"), 0, plans0, sizeof plans0);
    html_number(web_num(last, "plans"), 0, plans1, sizeof plans1);
    html_number(web_num(last, "england") - 100, 0, eng_pct, sizeof eng_pct);
    snprintf(title, sizeof title, "EHC plans since %s as an index (%s = 100): %s, neighbours, England",
             base, base, name ? name : "");
    snprintf(desc, sizeof desc,
             "Line chart: EHC plans maintained by %s (solid line, round markers) as an index of "
             "its %s figure, against the median index of its statistical neighbours (dashed, "
             "squares) and all of England's plans together (dotted, triangles), %s to %s.",
             name ? name : "", base, x[0], x[n - 1]);
    struct svg_series ser[3] = {{name ? name : "Authority", y, SVG_FOCUS},
                                {"Statistical neighbours (median)", nb, SVG_COMPARE1},
                                {"England (all authorities)", eng, SVG_COMPARE2}};
    struct svg_series ser2[2] = {ser[0], ser[2]};
    struct svg_frame f = {"growth-chart", title, desc, "January census", "Index", 1, "count"};
    if (web_put(b, "<p class=\"lead\" id=\"growth-summary\">") != 0 || html_escape(b, name) != 0 ||
        web_put(b, " maintained %s EHC plans in January %s and %s in January ", plans0, base, plans1) != 0 ||
        html_escape(b, x[n - 1]) != 0 ||
        web_put(b, ": a change of %s%%, against %s%% for England as a whole.</p>", pct, eng_pct) != 0 ||
        web_put(b, "<figure class=\"chart-figure\" data-metric=\"growth\">") != 0 ||
        (have_nb ? svg_line_chart(b, &f, x, n, ser, 3, 0) : svg_line_chart(b, &f, x, n, ser2, 2, 0)) != 0 ||
        web_put(b, "<figcaption>") != 0 || html_escape(b, desc) != 0 ||
        web_put(b, " <span class=\"source\">Source: DfE SEN2 (plans at the January census); "
                   "index computed by sendbench.</span></figcaption></figure>") != 0)
        goto done;
    if (web_put(b, "<table id=\"growth-table\"><caption>EHC plans and index (%s = 100)</caption>"
                   "<thead><tr><th scope=\"col\">January</th><th scope=\"col\" class=\"num\">Plans</th>"
                   "<th scope=\"col\" class=\"num\">Index</th><th scope=\"col\" class=\"num\">"
                   "Neighbours' median index</th><th scope=\"col\" class=\"num\">England index</th>"
                   "</tr></thead><tbody>", base) != 0)
        goto done;
    json_array_foreach(s, i, p) {
        char c1[40], c2[40], c3[40], c4[40];
        html_number(web_num(p, "plans"), 0, c1, sizeof c1);
        html_number(web_num(p, "value"), 1, c2, sizeof c2);
        html_number(web_num(p, "nb_median"), 1, c3, sizeof c3);
        html_number(web_num(p, "england"), 1, c4, sizeof c4);
        if (web_put(b, "<tr><th scope=\"row\">") != 0 || html_escape(b, x[i]) != 0 ||
            web_put(b, "</th><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s"
                       "</td><td class=\"num\">%s</td></tr>", c1, c2, c3, c4) != 0)
            goto done;
    }
    if (web_put(b, "</tbody></table></section>") != 0)
        goto done;
    rc = 0;
done:
    free(x);
    free(y);
    return rc;
}

/* England's figure for metric m in period as the DfE publishes it (its
 * history's england summary), else NAN. */
static double england_published(const json_t *m, const char *period)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(m, "history"), i, p) {
        const char *per = web_str(p, "period");
        if (!per || strcmp(per, period) != 0)
            continue;
        const json_t *e = json_object_get(p, "england");
        const char *how = web_str(e, "value_source");
        return how && strcmp(how, "published") == 0 ? web_num(e, "value") : NAN;
    }
    return NAN;
}

/* Requests and new plans on one chart: the authority's own two series. */
static int flows_section(struct evbuffer *b, const json_t *doc)
{
    const json_t *req = web_metric(doc, "requests_received");
    const json_t *np = web_metric(doc, "new_plans_issued");
    const char *name = web_str(json_object_get(doc, "authority"), "name");
    if (section_open(b, "flows", "Requests for assessment and new plans") != 0)
        return -1;
    if (!req && !np)
        return web_put(b, "<p class=\"note\">No published figures for requests or new plans.</p></section>");
    /* The union of both series' periods (both are calendar years). */
    const json_t *rs = json_object_get(req, "series"), *ns = json_object_get(np, "series");
    size_t nr = json_array_size(rs), nn = json_array_size(ns), n = 0;
    const char **x = calloc(nr + nn + 1, sizeof *x);
    double *y = calloc(2 * (nr + nn + 1), sizeof *y);
    int rc = -1;
    if (!x || !y)
        goto done;
    size_t cap = nr + nn + 1;
    double *y2 = y + cap;
    for (int pass = 0; pass < 2; pass++) {
        const json_t *s = pass ? ns : rs;
        size_t i;
        json_t *p;
        json_array_foreach(s, i, p) {
            const char *per = web_str(p, "period");
            if (!web_chart_period(pass ? np : req, per))
                continue;
            size_t k = 0;
            while (k < n && strcmp(x[k], per) != 0)
                k++;
            if (k == n) {
                /* keep x sorted: periods are same-kind strings */
                size_t at = n;
                while (at > 0 && strcmp(x[at - 1], per) > 0)
                    at--;
                memmove(x + at + 1, x + at, (n - at) * sizeof *x);
                memmove(y + at + 1, y + at, (n - at) * sizeof *y);
                memmove(y2 + at + 1, y2 + at, (n - at) * sizeof *y2);
                x[at] = per;
                y[at] = y2[at] = NAN;
                n++;
                k = at;
            }
            (pass ? y2 : y)[k] = web_num(p, "value");
        }
    }
    if (n == 0) {
        rc = web_put(b, "<p class=\"note\">No published figures for requests or new plans for "
                        "this authority, so there is no chart.</p></section>");
        goto done;
    }
    char title[300], desc[700];
    snprintf(title, sizeof title, "Requests for EHC needs assessment and new EHC plans, %s", name ? name : "");
    snprintf(desc, sizeof desc,
             "Line chart of %s's requests for an EHC needs assessment received (solid line, round "
             "markers) and new EHC plans issued (dashed line, square markers) each calendar year, "
             "%s to %s.", name ? name : "", n ? x[0] : "", n ? x[n - 1] : "");
    struct svg_series ser[2] = {{"Requests received", y, SVG_FOCUS},
                                {"New plans issued", y2, SVG_COMPARE1}};
    struct svg_frame f = {"flows-chart", title, desc, "Calendar year", "Number", 0, "count"};
    if (web_put(b, "<figure class=\"chart-figure\" data-metric=\"flows\">") != 0 ||
        svg_line_chart(b, &f, x, n, ser, 2, 1) != 0 || web_put(b, "<figcaption>") != 0 ||
        html_escape(b, desc) != 0 ||
        web_put(b, " <span class=\"source\">Source: DfE SEN2 (flows over the calendar year).</span>"
                   "</figcaption></figure><table id=\"flows-table\"><caption>Requests and new plans "
                   "by calendar year</caption><thead><tr><th scope=\"col\">Year</th>"
                   "<th scope=\"col\" class=\"num\">Requests received</th>"
                   "<th scope=\"col\" class=\"num\">New plans issued</th>"
                   "<th scope=\"col\" class=\"num\">England: requests (DfE's published total)</th>"
                   "<th scope=\"col\" class=\"num\">England: new plans (DfE's published total)</th>"
                   "</tr></thead><tbody>") != 0)
        goto done;
    for (size_t i = 0; i < n; i++) {
        char c1[40], c2[40], c3[40], c4[40];
        html_number(y[i], 0, c1, sizeof c1);
        html_number(y2[i], 0, c2, sizeof c2);
        html_number(england_published(req, x[i]), 0, c3, sizeof c3);
        html_number(england_published(np, x[i]), 0, c4, sizeof c4);
        if (web_put(b, "<tr><th scope=\"row\">") != 0 || html_escape(b, x[i]) != 0 ||
            web_put(b, "</th><td class=\"num\">%s</td><td class=\"num\">%s</td>"
                       "<td class=\"num\">%s</td><td class=\"num\">%s</td></tr>",
                    c1, c2, c3, c4) != 0)
            goto done;
    }
    if (web_put(b, "</tbody></table></section>") != 0)
        goto done;
    rc = 0;
done:
    free(x);
    free(y);
    return rc;
}

/* The rate including exceptions, in one sentence under the DfE's headline
 * measure (excluding exceptions, above): the CSV has its series. */
static int timeliness_with_exceptions(struct evbuffer *b, const json_t *doc)
{
    const json_t *m = web_metric(doc, "pct_within_20_weeks");
    if (!m || !isfinite(web_num(m, "value")))
        return 0;
    const char *unit = web_str(m, "unit");
    int dp = (int)web_num(m, "dp"), pub = 0;
    char v[64], eng[64];
    html_quantity(web_num(m, "value"), dp, unit, v, sizeof v);
    html_quantity(web_england_value(m, json_object_get(m, "england"), 1, &pub), dp, unit, eng,
                  sizeof eng);
    return web_put(b, "<p class=\"note\" data-metric=\"pct_within_20_weeks\">Including plans "
                      "with a permitted exception to the 20-week limit, ") != 0 ||
           html_escape(b, web_str(m, "period")) != 0 ||
           web_put(b, ": %s, England%s %s (the DfE's headline measure is the one above, "
                      "excluding exceptions).</p>", v, web_england_label(pub), eng) != 0
               ? -1 : 0;
}

/* A metric against neighbours and England, with a sentence on the latest
 * rank and band. */
static int compare_section(struct evbuffer *b, const json_t *doc, const char *sec_id,
                           const char *title, const char *metric, const char *chart_id)
{
    const json_t *m = web_metric(doc, metric);
    const char *name = web_str(json_object_get(doc, "authority"), "name");
    if (section_open(b, sec_id, title) != 0)
        return -1;
    if (!m)
        return web_put(b, "<p class=\"note\">No published figures for this measure.</p></section>");
    const char *unit = web_str(m, "unit");
    int dp = (int)web_num(m, "dp");
    char v[64], nb[64], eng[64];
    int eng_published = 0;
    html_quantity(web_num(m, "value"), dp, unit, v, sizeof v);
    html_quantity(web_num(json_object_get(m, "neighbours"), "mean"), dp, unit, nb, sizeof nb);
    html_quantity(web_england_value(m, json_object_get(m, "england"), 1, &eng_published), dp,
                  unit, eng, sizeof eng);
    char eng_label[64];
    snprintf(eng_label, sizeof eng_label, "England%s", web_england_label(eng_published));
    if (web_put(b, "<p class=\"lead\" data-metric=\"") != 0 ||
        html_escape(b, web_str(m, "id")) != 0 || web_put(b, "\">") != 0)
        return -1;
    if (isfinite(web_num(m, "value"))) {
        if (html_escape(b, web_str(m, "label")) != 0 || web_put(b, " in ") != 0 ||
            html_escape(b, web_str(m, "period")) != 0 || web_put(b, ": ") != 0 ||
            html_escape(b, name) != 0 || web_put(b, " <span class=\"value\">%s</span>, "
                                                    "statistical neighbours' average %s, "
                                                    "%s %s; ", v, nb, eng_label, eng) != 0)
            return -1;
        if (isfinite(web_num(m, "rank_england")) &&
            web_put(b, "ranked <span class=\"rank\">%.0f</span> of %.0f in England, band ",
                    web_num(m, "rank_england"), web_num(m, "n_england")) != 0)
            return -1;
        if (web_str(m, "rank_note")) {
            /* A rank among one figure says nothing (the profile's rank_note). */
            if (web_put(b, "<span class=\"rank-note\">") != 0 ||
                html_escape(b, web_str(m, "rank_note")) != 0 || web_put(b, "</span>.") != 0)
                return -1;
        } else if (web_band(b, web_str(m, "band")) != 0 || web_put(b, ".") != 0) {
            return -1;
        }
    } else if (web_put(b, "No figure for this authority in the latest period") != 0 ||
               (web_str(m, "reason") && (web_put(b, " (") != 0 ||
                                         html_escape(b, web_str(m, "reason")) != 0 ||
                                         web_put(b, ")") != 0)) ||
               web_put(b, "; neighbours' average %s, %s %s.", nb, eng_label, eng) != 0) {
        return -1;
    }
    return web_put(b, "</p>") != 0 ||
           (strcmp(metric, "pct_within_20_weeks_ex") == 0 &&
            timeliness_with_exceptions(b, doc) != 0) ||
           web_metric_figure(b, doc, m, chart_id) != 0 || web_put(b, "</section>") != 0 ? -1 : 0;
}

/* Whether metric id has any figure to show: the authority's, or England's
 * as published, in any period. */
static int has_figures(const json_t *doc, const char *id)
{
    const json_t *m = web_metric(doc, id);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(m, "history"), i, p) {
        if (json_is_number(json_object_get(p, "value")) ||
            json_is_number(json_object_get(json_object_get(p, "england"), "value")))
            return 1;
    }
    return 0;
}

/* The DfE's headline timeliness measure is the rate excluding exceptions
 * (46.4% for England in 2024); the rate including them follows in one
 * sentence.  Where nothing excluding exceptions exists (an authority known
 * only from its own submissions), the rate including them. */
static int timeliness_section(struct evbuffer *b, const json_t *doc)
{
    if (has_figures(doc, "pct_within_20_weeks_ex"))
        return compare_section(b, doc, "timeliness",
                               "New EHC plans issued within 20 weeks (excluding exceptions)",
                               "pct_within_20_weeks_ex", "timeliness-chart");
    return compare_section(b, doc, "timeliness", "New EHC plans issued within 20 weeks",
                           "pct_within_20_weeks", "timeliness-chart");
}

static int staffing_section(struct evbuffer *b, const json_t *doc)
{
    const json_t *st = json_object_get(json_object_get(doc, "extra"), "staffing");
    const json_t *rows = json_object_get(st, "rows");
    size_t i;
    json_t *p;
    if (section_open(b, "staffing", "Caseload per case officer") != 0)
        return -1;
    if (json_array_size(rows) == 0)
        /* One sentence whether or not figures were submitted: that an
         * authority submitted is not public either (docs/disclosure.md). */
        return web_put(b, "<p class=\"note\" id=\"staffing-none\">There are no case officer "
                          "numbers for this authority that may be shown here (they are "
                          "submitted by councils and shown only with the authority's consent), "
                          "so caseload per officer cannot be shown.</p></section>");
    if (web_put(b, "<table id=\"staffing-table\"><caption>EHC plans per case officer (submitted "
                   "by the authority)</caption><thead><tr><th scope=\"col\">Period</th>"
                   "<th scope=\"col\" class=\"num\">Plans</th><th scope=\"col\" class=\"num\">Case "
                   "officers (FTE)</th><th scope=\"col\" class=\"num\">Plans per officer</th>"
                   "<th scope=\"col\">Source</th></tr></thead><tbody>") != 0)
        return -1;
    json_array_foreach(rows, i, p) {
        char c1[40], c2[40], c3[40];
        html_number(web_num(p, "caseload"), 0, c1, sizeof c1);
        html_number(web_num(p, "officers"), 1, c2, sizeof c2);
        html_number(web_num(p, "per_officer"), 1, c3, sizeof c3);
        if (web_put(b, "<tr><th scope=\"row\">") != 0 || html_escape(b, web_str(p, "period")) != 0 ||
            web_put(b, "</th><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td>",
                    c1, c2, c3) != 0 ||
            html_escape(b, web_str(p, "source")) != 0 || web_put(b, ", ") != 0 ||
            html_escape(b, web_str(p, "recorded")) != 0 ||
            web_put(b, "%s</td></tr>", json_is_true(json_object_get(p, "published"))
                                           ? "" : " (submitted, not DfE-published)") != 0)
            return -1;
    }
    return web_put(b, "</tbody></table></section>");
}

/* The figures the profile shows that are not DfE-published: a signed-in
 * council's own latest submissions (or a consenting authority's), each
 * with its quarter, beside the published history the rest of the pack
 * draws (docs/disclosure.md: published history is never displaced). */
static int submitted_section(struct evbuffer *b, const json_t *doc)
{
    size_t i, shown = 0;
    json_t *m;
    json_array_foreach(json_object_get(doc, "metrics"), i, m) {
        if (!json_is_false(json_object_get(m, "published")) ||
            !json_is_number(json_object_get(m, "value")))
            continue;
        if (shown++ == 0 &&
            (section_open(b, "submitted", "Figures submitted by the council (not published)") != 0 ||
             web_put(b, "<table id=\"submitted-table\"><caption>The authority's latest submitted "
                        "figures; England's aggregates follow the disclosure rules</caption>"
                        "<thead><tr><th scope=\"col\">Measure</th><th scope=\"col\">Period</th>"
                        "<th scope=\"col\" class=\"num\">Value</th></tr></thead><tbody>") != 0))
            return -1;
        char v[64];
        html_quantity(web_num(m, "value"), (int)web_num(m, "dp"), web_str(m, "unit"), v, sizeof v);
        if (web_put(b, "<tr><th scope=\"row\">") != 0 || html_escape(b, web_str(m, "label")) != 0 ||
            web_put(b, "</th><td>") != 0 || html_escape(b, web_str(m, "period")) != 0 ||
            web_put(b, "</td><td class=\"num\">") != 0 || html_escape(b, v) != 0 ||
            web_put(b, "</td></tr>") != 0)
            return -1;
    }
    return shown ? web_put(b, "</tbody></table></section>") : 0;
}

/* The quarters on a quarterly axis of their own, one chart per measure
 * with any (the authority page's charts, web_quarter_figure: the council's
 * own quarters where the reader may see them, and England's and the
 * region's aggregates of released returns for those quarters and the
 * public default ones), never mixed with the annual series above. */
static int quarters_section(struct evbuffer *b, const json_t *doc)
{
    size_t i, shown = 0;
    json_t *m;
    json_array_foreach(json_object_get(doc, "metrics"), i, m) {
        if (json_array_size(json_object_get(m, "quarters")) == 0)
            continue;
        char id[40];
        snprintf(id, sizeof id, "pack-quarters-%zu", i);
        struct evbuffer *fig = evbuffer_new();
        if (!fig || web_quarter_figure(fig, doc, m, id) != 0) {
            if (fig)
                evbuffer_free(fig);
            return -1;
        }
        int empty = evbuffer_get_length(fig) == 0;
        int bad = 0;
        if (!empty && shown++ == 0)
            bad = section_open(b, "quarters", "Quarters (councils' quarterly returns)") != 0 ||
                  web_put(b, "<p class=\"note\">On a quarterly axis of their own, apart from the "
                             "annual series of the DfE's published figures.</p>") != 0;
        if (!bad && !empty)
            bad = evbuffer_add_buffer(b, fig) != 0;
        evbuffer_free(fig);
        if (bad)
            return -1;
    }
    return shown ? web_put(b, "</section>") : 0;
}

static int forecast_section(struct evbuffer *b, const json_t *doc)
{
    const json_t *fc = web_forecast(doc, "ehcp_caseload", NULL);
    size_t i;
    json_t *p;
    if (section_open(b, "forecast", "Forecast of EHC plans: the next three years") != 0 ||
        web_forecast_figure_record(b, doc, "ehcp_caseload", "fan-chart", 0) != 0)
        return -1;
    if (fc) {
        /* the track record is printed once, here (not in the caption) */
        if (web_put(b, "<p class=\"lead\" id=\"accuracy\">") != 0)
            return -1;
        char words[1000];
        web_accuracy_words(fc, words, sizeof words);
        const char *shape = web_str(json_object_get(fc, "intervals"), "shape");
        if (html_escape(b, words) != 0 || web_put(b, " ") != 0 ||
            (shape && (html_escape(b, shape) != 0 || web_put(b, " ") != 0)) ||
            web_put(b, "Model: ") != 0 ||
            html_escape(b, web_str(json_object_get(fc, "model"), "name")) != 0 ||
            web_put(b, " (") != 0 || html_escape(b, web_str(json_object_get(fc, "model"), "reason")) != 0 ||
            web_put(b, ").</p><table id=\"forecast-table\"><caption>Forecast EHC plans with 80%% and "
                       "95%% intervals</caption><thead><tr><th scope=\"col\">January</th>"
                       "<th scope=\"col\" class=\"num\">Forecast</th><th scope=\"col\" class=\"num\">80%% "
                       "interval</th><th scope=\"col\" class=\"num\">95%% interval</th></tr></thead><tbody>") != 0)
            return -1;
        json_array_foreach(json_object_get(fc, "forecasts"), i, p) {
            if (i >= 3)
                break;
            char f[40], a[40], c[40], d[40], e[40];
            html_number(web_num(p, "forecast"), 0, f, sizeof f);
            html_number(web_num(p, "lo80"), 0, a, sizeof a);
            html_number(web_num(p, "hi80"), 0, c, sizeof c);
            html_number(web_num(p, "lo95"), 0, d, sizeof d);
            html_number(web_num(p, "hi95"), 0, e, sizeof e);
            if (web_put(b, "<tr><th scope=\"row\">") != 0 || html_escape(b, web_str(p, "period")) != 0 ||
                web_put(b, "</th><td class=\"num\">%s</td><td class=\"num\">%s to %s</td>"
                           "<td class=\"num\">%s to %s</td></tr>", f, a, c, d, e) != 0)
                return -1;
        }
        if (web_put(b, "</tbody></table>") != 0)
            return -1;
    }
    return web_put(b, "</section>");
}

static int sources_section(struct evbuffer *b, const json_t *doc)
{
    size_t i, j;
    json_t *m, *s;
    if (section_open(b, "sources", "Sources and licence") != 0 ||
        web_put(b, "<table id=\"sources-table\"><caption>Source and date of every figure in this "
                   "pack</caption><thead><tr><th scope=\"col\">Measure</th><th scope=\"col\">Source"
                   "</th><th scope=\"col\">DfE release</th><th scope=\"col\">Published</th>"
                   "</tr></thead><tbody>") != 0)
        return -1;
    static const char *used[] = {"ehcp_caseload", "requests_received", "new_plans_issued",
                                 "new_plans_within_20_weeks_ex", "new_plans_issued_ex",
                                 "pct_within_20_weeks_ex", "new_plans_within_20_weeks",
                                 "pct_within_20_weeks", "dsg_balance_pct_of_income"};
    for (size_t k = 0; k < sizeof used / sizeof used[0]; k++) {
        m = web_metric(doc, used[k]);
        if (!m)
            continue;
        json_array_foreach(web_sources(doc, used[k]), j, s) {
            if (web_put(b, "<tr><th scope=\"row\">") != 0 || html_escape(b, web_str(m, "label")) != 0 ||
                web_put(b, "</th><td>") != 0 || html_escape(b, web_str(s, "source")) != 0 ||
                web_put(b, "</td><td>") != 0 ||
                html_escape(b, web_str(s, "release") ? web_str(s, "release") : "") != 0 ||
                web_put(b, "</td><td>") != 0 ||
                html_escape(b, web_str(s, "published") ? web_str(s, "published")
                                                       : "not recorded") != 0 ||
                web_put(b, "</td></tr>") != 0)
                return -1;
        }
    }
    (void)i;
    return web_put(b, "</tbody></table><p>Medians, indices, ranks and bands are computed by "
                      "sendbench from the figures above (competition ranking, 1 = best; bands A-D "
                      "are quarters of the ranking). Forecasts are fitted by sendbench. The "
                      "licence of the DfE's figures is in the footer of this pack.</p></section>");
}

static char *evidence_page(struct request *r, const struct profile *p, const json_t *doc,
                           size_t *len)
{
    (void)p;
    const json_t *extra = json_object_get(doc, "extra");
    const json_t *a = json_object_get(doc, "authority");
    const char *name = web_str(a, "name");
    char title[300];
    snprintf(title, sizeof title, "Evidence pack: %s", name ? name : "");
    struct evbuffer *b = evbuffer_new();
    int bad = !b || web_page_begin(b, title, NULL) != 0 ||
              web_put(b, "<h1>") != 0 || html_escape(b, title) != 0 ||
              web_put(b, "</h1>") != 0 || web_own_banner(b, doc, "?published=only") != 0 ||
              web_put(b, "<p>Special educational needs and disabilities: EHC plans, "
                         "timeliness and High Needs funding for ") != 0 ||
              html_escape(b, name) != 0 || web_put(b, " (ONS ") != 0 ||
              html_escape(b, web_str(a, "code")) != 0 || web_put(b, ", DfE ") != 0 ||
              html_escape(b, web_str(a, "old_la_code")) != 0 || web_put(b, ", ") != 0 ||
              html_escape(b, web_str(a, "region_name")) != 0 ||
              web_put(b, "), compared with its statistical neighbours and England. Produced ") != 0 ||
              html_escape(b, web_str(extra, "generated_at")) != 0 ||
              web_put(b, " from data version %.0f.</p><nav class=\"links\" aria-label=\"Contents\">"
                         "<a href=\"#growth\">Growth</a><a href=\"#flows\">Requests and new plans</a>"
                         "<a href=\"#timeliness\">20-week timeliness</a><a href=\"#high-needs\">High "
                         "Needs</a><a href=\"#high-needs-plan\">High Needs plan</a><a href=\"#staffing\">Caseload per officer</a><a href=\"#forecast\">"
                         "Forecast</a><a href=\"#sources\">Sources</a><a href=\"?format=csv\">Tables "
                         "(CSV)</a><a href=\"?format=xlsx\">Tables (Excel)</a></nav>",
                      web_num(extra, "data_version")) != 0 ||
              web_boundary_note(b, doc) != 0;
    bad = bad || growth_section(b, doc) != 0 || flows_section(b, doc) != 0 ||
          timeliness_section(b, doc) != 0 ||
          compare_section(b, doc, "high-needs", "High Needs position: DSG balance as % of income",
                          "dsg_balance_pct_of_income", "dsg-chart") != 0 ||
          high_needs_evidence_section(b, doc, tables_page_arg(r)) != 0 ||
          staffing_section(b, doc) != 0 || submitted_section(b, doc) != 0 ||
          quarters_section(b, doc) != 0 ||
          forecast_section(b, doc) != 0 || web_figure_notes(b, doc) != 0 ||
          sources_section(b, doc) != 0 || web_page_end(b) != 0;
    return web_page_take(b, bad, len);
}

static const struct tables_page EVIDENCE_PAGE = {
    "evidence", "text/html; charset=utf-8", NULL, evidence_page, web_table_error};
static const struct tables_page EVIDENCE_CSV = {
    "evidence.csv", "text/csv; charset=utf-8", NULL, evidence_csv, web_table_error};
static const struct tables_page EVIDENCE_XLSX = {
    "evidence.xlsx", XLSX_CONTENT_TYPE, NULL, evidence_xlsx, web_table_error};

void route_evidence(struct request *r)
{
    const char *code = http_param(r, 0);
    const char *fmt = http_query(r, "format");
    if (fmt && strcmp(fmt, "csv") != 0 && strcmp(fmt, "html") != 0 && strcmp(fmt, "xlsx") != 0) {
        web_reply_error(r, 400, "bad_parameter", "format must be html, csv or xlsx", "format",
                        "html, csv or xlsx");
        return;
    }
    int csv = fmt && strcmp(fmt, "csv") == 0;
    int xlsx = xlsx_requested(fmt, http_header(r, "Accept"));
    if ((csv || xlsx) && code && strlen(code) < 20) {
        char disp[64];
        snprintf(disp, sizeof disp, "attachment; filename=\"evidence-%s.%s\"", code,
                 xlsx ? "xlsx" : "csv");
        http_add_header(r, "Content-Disposition", disp);
    }
    const char *pub = http_query(r, "published");
    if (pub && strcmp(pub, "only") != 0) {
        web_reply_error(r, 400, "bad_parameter",
                        "published must be \"only\" (the pack with published figures only)",
                        "published", "only");
        return;
    }
    const struct tables_page *page = xlsx ? &EVIDENCE_XLSX : csv ? &EVIDENCE_CSV : &EVIDENCE_PAGE;
    if (http_query(r, "scenario")) {
        /* the council's own plan in its pack (server/evidence_high_needs.c) */
        if (pub) {
            web_reply_error(r, 400, "bad_parameter",
                            "a pack with a scenario is the council's own: published=only prints "
                            "the public pack, without a scenario", "published", "absent");
            return;
        }
        high_needs_evidence_scenario(r, page);
        return;
    }
    if (!pub && r->caller.kind != CALLER_ANONYMOUS) {
        high_needs_evidence_own(r, page);     /* server/evidence_high_needs.c */
        return;
    }
    tables_page_profile(r, page, code, pub != NULL);
}
