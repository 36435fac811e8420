/* Charts and bands shared by the authority page and the evidence pack. */
#include <event2/buffer.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "svg.h"
#include "web.h"

json_t *web_metric(const json_t *doc, const char *id)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(doc, "metrics"), i, m) {
        const char *mid = web_str(m, "id");
        if (mid && strcmp(mid, id) == 0)
            return m;
    }
    return NULL;
}

json_t *web_forecast(const json_t *doc, const char *metric, int *stale)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(json_object_get(doc, "extra"), "forecasts"), i, f) {
        const char *mid = web_str(f, "metric");
        if (mid && strcmp(mid, metric) == 0) {
            if (stale)
                *stale = json_is_true(json_object_get(f, "stale"));
            return json_object_get(f, "doc");
        }
    }
    return NULL;
}

int web_band(struct evbuffer *b, const char *band)
{
    static const char *words[] = {"A (best quarter)", "B (second quarter)", "C (third quarter)",
                                  "D (worst quarter)"};
    if (!band || band[0] < 'A' || band[0] > 'D' || band[1])
        return web_put(b, "<span class=\"band band-none\" data-band=\"\">not banded</span>");
    return web_put(b, "<span class=\"band band-%c\" data-band=\"%c\">%s</span>", band[0], band[0],
                   words[band[0] - 'A']);
}

const json_t *web_sources(const json_t *doc, const char *metric)
{
    return json_object_get(json_object_get(json_object_get(doc, "extra"), "sources"), metric);
}

/* Sources of a metric's figures: "Source: X (published 2025-06-26); Y ...";
 * a derived metric cites the figures it is computed from.  Then what of
 * the chart sendbench computed: the neighbours' average when drawn, and
 * England's median only when England is not drawn as the DfE publishes it
 * (a published rate is no median, and saying so would misstate it). */
static int sources_line(struct evbuffer *b, const json_t *doc, const json_t *metric, int have_nb,
                        int eng_published)
{
    size_t i;
    json_t *s;
    const json_t *srcs = web_sources(doc, web_str(metric, "id"));
    const char *kind = web_str(metric, "kind");
    if (web_put(b, "<span class=\"source\">Source: ") != 0)
        return -1;
    json_array_foreach(srcs, i, s) {
        if ((i && web_put(b, "; ") != 0) || web_source_text(b, s) != 0)
            return -1;
    }
    if (kind && strcmp(kind, "derived") == 0 &&
        web_put(b, "%scomputed by sendbench", json_array_size(srcs) ? "; " : "") != 0)
        return -1;
    if (web_put(b, ".") != 0)
        return -1;
    if (have_nb && web_put(b, eng_published ? " The neighbours' average is computed by sendbench."
                                            : " The neighbours' average and England's median "
                                              "are computed by sendbench.") != 0)
        return -1;
    if (!have_nb && !eng_published && web_put(b, " England's median is computed by sendbench.") != 0)
        return -1;
    return web_put(b, "</span>");
}

/* A chart's y axis starts at zero, except for a metric of kind "rate" in
 * % (as the annual charts have always drawn them). */
static int zero_based(const json_t *metric)
{
    const char *unit = web_str(metric, "unit"), *kind = web_str(metric, "kind");
    return !(unit && strcmp(unit, "%") == 0 && kind && strcmp(kind, "rate") == 0);
}

int web_metric_figure(struct evbuffer *b, const json_t *doc, const json_t *metric,
                      const char *chart_id)
{
    const json_t *series = json_object_get(metric, "history");
    size_t n = json_array_size(series);
    const char *name = web_str(json_object_get(doc, "authority"), "name");
    const char *label = web_str(metric, "label");
    const char *unit = web_str(metric, "unit");
    int dp = (int)web_num(metric, "dp");
    int rc = -1;
    const char **x = calloc(n ? n : 1, sizeof *x);
    double *y = calloc(3 * (n ? n : 1), sizeof *y);
    if (!x || !y)
        goto done;
    double *nb = y + n, *eng = y + 2 * n;
    int have_nb = 0, have_any = 0, eng_published = 0;
    double total = NAN;
    const char *total_period = NULL;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(series, i);
        if (!web_chart_period(metric, web_str(p, "period")))
            continue;
        x[m] = web_str(p, "period");
        y[m] = web_num(p, "value");
        nb[m] = web_num(json_object_get(p, "neighbours"), "mean");
        int pub = 0, tot = 0;
        eng[m] = web_england_value(metric, json_object_get(p, "england"), 0, &pub);
        eng_published |= pub == 1;
        /* A count's published England total is not drawn (not on one
         * authority's scale) but the caption gives the latest. */
        double et = web_england_value(metric, json_object_get(p, "england"), 1, &tot);
        if (tot == 2) {
            total = et;
            total_period = x[m];
        }
        have_nb |= isfinite(nb[m]);
        have_any |= isfinite(y[m]) || isfinite(nb[m]) || isfinite(eng[m]);
        m++;
    }
    n = m;
    if (!have_any) {
        /* Nothing to draw: say so, rather than an empty chart with a
         * caption that runs "..., to ." */
        rc = web_put(b, "<figure class=\"chart-figure empty\" data-metric=\"") != 0 ||
                     html_escape(b, web_str(metric, "id")) != 0 ||
                     web_put(b, "\"><p class=\"note\">No chart of ") != 0 ||
                     html_escape(b, label) != 0 ||
                     web_put(b, ": there are no published figures for this authority or for "
                                "England to draw.</p></figure>") != 0 ? -1 : 0;
        goto done;
    }
    char title[400], desc[900];
    snprintf(title, sizeof title, "%s: %s against its statistical neighbours and England", label,
             name ? name : "");
    snprintf(desc, sizeof desc,
             "Line chart of %s for %s (solid line, round markers), the average of its 10 "
             "statistical neighbours (dashed line, square markers) and %s (dotted line, "
             "triangle markers), %s to %s.",
             label, name ? name : "",
             eng_published ? "England as the DfE publishes it" : "the median of English authorities",
             n ? x[0] : "", n ? x[n - 1] : "");
    if (!eng_published && total_period) {
        char tq[64];
        size_t used = strlen(desc);
        html_quantity(total, dp, unit, tq, sizeof tq);
        snprintf(desc + used, sizeof desc - used,
                 " England's own total, as the DfE publishes it, was %s in %s (not drawn: "
                 "it is not on one authority's scale).", tq, total_period);
    }
    char nb_name[64] = "Statistical neighbours (average)";
    struct svg_series s[3] = {{name ? name : "Authority", y, SVG_FOCUS},
                              {nb_name, nb, SVG_COMPARE1},
                              {eng_published ? "England" : "England (median)", eng, SVG_COMPARE2}};
    struct svg_series s2[2] = {s[0], s[2]};
    struct svg_frame f = {chart_id, title, desc, "Period", label, dp, unit};
    int zero = zero_based(metric);
    if (web_put(b, "<figure class=\"chart-figure\" data-metric=\"") != 0 ||
        html_escape(b, web_str(metric, "id")) != 0 || web_put(b, "\">") != 0)
        goto done;
    if ((have_nb ? svg_line_chart(b, &f, x, n, s, 3, zero) : svg_line_chart(b, &f, x, n, s2, 2, zero)) != 0)
        goto done;
    if (web_put(b, "<figcaption>") != 0 || html_escape(b, desc) != 0 ||
        (!have_nb && web_put(b, " No statistical neighbours are recorded for this authority.") != 0) ||
        web_put(b, " ") != 0 || sources_line(b, doc, metric, have_nb, eng_published) != 0 ||
        web_put(b, "</figcaption></figure>") != 0)
        goto done;
    rc = 0;
done:
    free(x);
    free(y);
    return rc;
}

static int cmp_period(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int web_quarter_figure(struct evbuffer *b, const json_t *doc, const json_t *metric,
                       const char *chart_id)
{
    /* The profile's quarters (tables_profile.c, pages only) are those where
     * this caller sees the council's own figure (the council itself, an
     * administrator, or anyone once it consented to be named) or that are
     * public defaults (sql/090); each carries England's and the region's
     * aggregates the disclosure rules allow (released batches only,
     * docs/disclosure.md), drawn on a quarterly axis of their own. */
    const json_t *quarters = json_object_get(metric, "quarters");
    size_t n = json_array_size(quarters), m = 0, i;
    json_t *p;
    const json_t *auth = json_object_get(doc, "authority");
    const char *name = web_str(auth, "name"), *region = web_str(auth, "region_name");
    const char *label = web_str(metric, "label"), *unit = web_str(metric, "unit");
    int rc = -1;
    const char **x = calloc(n ? n : 1, sizeof *x);
    double *y = calloc(3 * (n ? n : 1), sizeof *y);
    if (!x || !y)
        goto done;
    json_array_foreach(quarters, i, p) {
        const char *per = web_str(p, "period");
        if (per && strstr(per, " Q"))
            x[m++] = per;
    }
    qsort(x, m, sizeof *x, cmp_period);   /* "YYYY-YY Qn" sorts in time order */
    double *eng = y + m, *reg = y + 2 * m;
    int have_own = 0, have_eng = 0, have_reg = 0, eng_kind = 0, reg_kind = 0;
    for (size_t k = 0; k < m; k++)
        json_array_foreach(quarters, i, p) {
            const char *per = web_str(p, "period");
            if (!per || strcmp(per, x[k]) != 0)
                continue;
            int pe = 0, pr = 0;
            y[k] = web_num(p, "value");
            eng[k] = web_england_value(metric, json_object_get(p, "england"), 0, &pe);
            reg[k] = web_england_value(metric, json_object_get(p, "region"), 0, &pr);
            have_own |= isfinite(y[k]);
            if (isfinite(eng[k])) {
                have_eng = 1;
                eng_kind = pe;
            }
            if (isfinite(reg[k])) {
                have_reg = 1;
                reg_kind = pr;
            }
        }
    if (!have_own && !have_eng && !have_reg) {
        rc = 0;     /* no quarter to draw: nothing at all */
        goto done;
    }
    char title[400], desc[1200], span[64];
    snprintf(title, sizeof title, "%s: %s, quarters", label, name ? name : "");
    snprintf(span, sizeof span, m > 1 ? "%s to %s" : "%s", x[0], x[m - 1]);
    int used = snprintf(desc, sizeof desc,
                        "Line chart of %s by financial-year quarter, %s, on a quarterly axis of "
                        "its own, never mixed with the annual series of the DfE's published "
                        "figures:", label, span);
    if (have_own && used > 0 && (size_t)used < sizeof desc)
        used += snprintf(desc + used, sizeof desc - used,
                         " %s (solid line, round markers), figures submitted by the council, "
                         "not published;", name ? name : "the authority");
    const char *eng_words = eng_kind == 3 ? "ratio of sums" : "mean";
    const char *reg_words = reg_kind == 3 ? "ratio of sums" : "mean";
    if (have_eng && used > 0 && (size_t)used < sizeof desc)
        used += snprintf(desc + used, sizeof desc - used,
                         " England (dotted line, triangle markers), the %s of the authorities "
                         "whose returns are released;", eng_words);
    if (have_reg && used > 0 && (size_t)used < sizeof desc)
        used += snprintf(desc + used, sizeof desc - used,
                         " %s (dashed line, square markers), the %s of its authorities whose "
                         "returns are released;", region ? region : "the region", reg_words);
    if (used > 0 && (size_t)used < sizeof desc)
        snprintf(desc + used, sizeof desc - used,
                 " a council's figures enter England's and its region's only in batches of "
                 "at least three of its region, and a gap is a quarter the rules do not "
                 "release.");
    struct svg_series s[3];
    size_t ns = 0;
    if (have_own)
        s[ns++] = (struct svg_series){name ? name : "Authority", y, SVG_FOCUS};
    if (have_reg)
        s[ns++] = (struct svg_series){region ? region : "Region", reg, SVG_COMPARE1};
    if (have_eng)
        s[ns++] = (struct svg_series){"England", eng, SVG_COMPARE2};
    struct svg_frame f = {chart_id, title, desc, "Quarter", label, (int)web_num(metric, "dp"), unit};
    int zero = zero_based(metric);
    if (web_put(b, "<figure class=\"chart-figure quarterly\" data-metric=\"") != 0 ||
        html_escape(b, web_str(metric, "id")) != 0 || web_put(b, "\" data-axis=\"quarterly\">") != 0 ||
        svg_line_chart(b, &f, x, m, s, ns, zero) != 0 || web_put(b, "<figcaption>") != 0 ||
        html_escape(b, desc) != 0 ||
        web_put(b, " Source: councils' approved quarterly returns.</figcaption></figure>") != 0)
        goto done;
    rc = 0;
done:
    free(x);
    free(y);
    return rc;
}

void web_accuracy_words(const json_t *fc_doc, char *buf, size_t len)
{
    /* The forecast document states its own track record, with its n and
     * the minimum below which it does not judge (forecast_run.c). */
    const char *statement = web_str(json_object_get(fc_doc, "accuracy"), "statement");
    if (statement) {
        snprintf(buf, len, "%s", statement);
        return;
    }
    const json_t *chosen = json_object_get(json_object_get(fc_doc, "accuracy"), "chosen");
    double smape = web_num(chosen, "smape");
    double c80 = web_num(chosen, "coverage80");
    if (!isfinite(smape)) {
        snprintf(buf, len, "This series is too short to test the method on its own past years, "
                           "so there is no track record to report.");
        return;
    }
    char n[40];
    html_number(smape, smape < 10 ? 1 : 0, n, sizeof n);
    if (isfinite(c80)) {
        char c[40];
        html_number(c80 * (c80 <= 1 ? 100 : 1), 0, c, sizeof c);
        snprintf(buf, len,
                 "In past years this method's forecasts were off by %s%% on average "
                 "(symmetric mean absolute percentage error, forecasts one to three years ahead "
                 "made from the years before); %s%% of actual figures fell inside the 80%% "
                 "interval.", n, c);
    } else {
        snprintf(buf, len, "In past years this method's forecasts were off by %s%% on average.", n);
    }
}

int web_forecast_figure(struct evbuffer *b, const json_t *doc, const char *metric,
                        const char *chart_id)
{
    return web_forecast_figure_record(b, doc, metric, chart_id, 1);
}

int web_forecast_figure_record(struct evbuffer *b, const json_t *doc, const char *metric,
                               const char *chart_id, int with_record)
{
    int stale = 0;
    const json_t *fc = web_forecast(doc, metric, &stale);
    const json_t *m = web_metric(doc, metric);
    const char *name = web_str(json_object_get(doc, "authority"), "name");
    if (!fc)
        return web_put(b, "<p class=\"note\">No forecast is available yet for this measure "
                          "(too little annual history, or it is still being computed).</p>");
    const json_t *hist = json_object_get(fc, "history");
    const json_t *fcs = json_object_get(fc, "forecasts");
    size_t nh = json_array_size(hist), nf = json_array_size(fcs), h0 = 0;
    /* An authority created later (Dorset, 2019) has no figures before it
     * began: the chart starts at its first figure, not with empty years. */
    while (h0 < nh && !json_is_number(json_object_get(json_array_get(hist, h0), "value")))
        h0++;
    if (nf > 3)
        nf = 3;
    int rc = -1;
    const char **hx = calloc(nh ? nh : 1, sizeof *hx);
    double *hy = calloc(nh ? nh : 1, sizeof *hy);
    struct svg_fan_point pts[3];
    if (!hx || !hy)
        goto done;
    for (size_t i = h0; i < nh; i++) {
        const json_t *p = json_array_get(hist, i);
        hx[i - h0] = web_str(p, "period");
        hy[i - h0] = web_num(p, "value");
    }
    nh -= h0;
    for (size_t j = 0; j < nf; j++) {
        const json_t *p = json_array_get(fcs, j);
        pts[j] = (struct svg_fan_point){web_str(p, "period"), web_num(p, "forecast"),
                                        web_num(p, "lo80"), web_num(p, "hi80"),
                                        web_num(p, "lo95"), web_num(p, "hi95")};
    }
    const char *label = m ? web_str(m, "label") : web_str(fc, "label");
    const char *unit = m ? web_str(m, "unit") : web_str(fc, "unit");
    int dp = m ? (int)web_num(m, "dp") : 0;
    char title[300], desc[900], words[1000];
    snprintf(title, sizeof title, "Forecast of %s for %s, next %zu years", label ? label : metric,
             name ? name : "", nf);
    snprintf(desc, sizeof desc,
             "Fan chart: actual figures %s to %s (solid line), the forecast for %s to %s (dashed "
             "line, diamond markers), the 80%% interval (darker band) and the 95%% interval "
             "(lighter hatched band). Model: %s.",
             nh ? hx[0] : "", nh ? hx[nh - 1] : "", nf ? pts[0].period : "",
             nf ? pts[nf - 1].period : "", web_str(json_object_get(fc, "model"), "name")
                                          ? web_str(json_object_get(fc, "model"), "name") : "");
    words[0] = '\0';
    if (with_record)
        web_accuracy_words(fc, words, sizeof words);
    struct svg_frame f = {chart_id, title, desc, "Period", label ? label : metric, dp, unit};
    if (web_put(b, "<figure class=\"chart-figure fan\" data-metric=\"") != 0 ||
        html_escape(b, metric) != 0 || web_put(b, "\">") != 0 ||
        svg_fan_chart(b, &f, hx, hy, nh, pts, nf) != 0 || web_put(b, "<figcaption>") != 0 ||
        html_escape(b, desc) != 0 || web_put(b, " <span class=\"accuracy\">") != 0 ||
        html_escape(b, words) != 0 || web_put(b, "</span> ") != 0 ||
        web_put(b, "<span class=\"source\">Fitted ") != 0 ||
        html_escape(b, web_str(fc, "fitted_at")) != 0 ||
        web_put(b, " by this server from the published figures shown%s.</span>",
                stale ? "; newer figures have arrived since and a refit is under way" : "") != 0 ||
        web_put(b, "</figcaption></figure>") != 0)
        goto done;
    rc = 0;
done:
    free(hx);
    free(hy);
    return rc;
}
