/* A comparative table's output: the JSON document, and the DfE tidy CSV and
 * its XLSX twin written from the same typed rows (see include/tables_query.h). */
#include "codes.h"
#include "tables_query.h"

#include <event2/http.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "sheet.h"
#include "tables_page.h"
#include "xlsx.h"

/* "value": England's or a region's figure, the DfE's published one or the
 * sum of contributors, "value_source" saying which ("published", "sum of
 * authorities"), "value_symbol" a published symbol. */
void table_summary_value_json(json_t *o, const struct table_summary *s, int dp)
{
    json_object_set_new(o, "value", s->has_value ? tq_jnum(s->value, dp) : json_null());
    json_object_set_new(o, "value_source", tq_jstr(table_summary_value_source_name(s)));
    if (s->value_symbol)
        json_object_set_new(o, "value_symbol", json_string(s->value_symbol));
}

json_t *table_summary_json(const struct table_summary *s, int dp, int additive)
{
    int mean = table_summary_shows_mean(s);
    json_t *o = json_pack("{s:I, s:I, s:o, s:o, s:o}", "n", (json_int_t)s->n, "n_missing",
                          (json_int_t)s->n_missing, "mean",
                          mean ? tq_jnum(s->mean, dp) : json_null(), "median",
                          table_summary_shows_median(s) ? tq_jnum(s->median, dp) : json_null(),
                          "symbol", tq_jstr(table_summary_symbol(s)));
    if (o && additive)
        json_object_set_new(o, "total", mean ? tq_jnum(s->total, dp) : json_null());
    return o;
}

static json_t *summary_json(const struct table_summary *s, const char *scope, const char *code,
                            const char *name, const struct table_meta *tm)
{
    json_t *o = json_pack("{s:s, s:o, s:o}", "scope", scope, "code", tq_jstr(code), "name",
                          tq_jstr(name));
    json_t *figures = table_summary_json(s, tm->dp, tm->additive);
    if (!o || !figures || json_object_update(o, figures) != 0) {
        json_decref(o);
        json_decref(figures);
        return NULL;
    }
    json_decref(figures);
    table_summary_value_json(o, s, tm->dp);
    return o;
}

json_t *table_cell_json(const struct table_cell *c, int dp)
{
    return c->has_value ? tq_jnum(c->value, dp) : json_null();
}

json_t *table_symbol_json(const struct table_cell *c)
{
    return tq_jstr(table_cell_symbol(c));
}

json_t *table_json(const struct tq *q, const struct table *t, const struct table_meta *tm,
                          const char *const *reasons, const char *region_name)
{
    json_t *rows = json_array();
    for (size_t k = 0; rows && k < t->n_in_group; k++) {
        const struct table_row *r = &t->rows[t->order[k]];
        int m = r->masked;
        json_t *o = json_object();
        if (!o)
            break;
        json_object_set_new(o, "code", m ? json_null() : tq_jstr(r->code));
        json_object_set_new(o, "old_la_code", m ? json_null() : tq_jstr(r->old_code));
        json_object_set_new(o, "name", m ? json_null() : tq_jstr(r->name));
        json_object_set_new(o, "label", json_string(m ? r->mask_label : r->name));
        json_object_set_new(o, "masked", json_boolean(m));
        json_object_set_new(o, "region_code", m ? json_null() : tq_jstr(r->region_code));
        json_object_set_new(o, "region_name", m ? json_null() : tq_jstr(r->region_name));
        json_object_set_new(o, "neighbour_rank", m || r->neighbour_rank < 0
                                                     ? json_null()
                                                     : json_integer(r->neighbour_rank));
        json_object_set_new(o, "value", table_cell_json(&r->cur, tm->dp));
        json_object_set_new(o, "symbol", table_symbol_json(&r->cur));
        json_object_set_new(o, "published", r->cur.exists ? json_boolean(r->cur.published)
                                                          : json_null());
        /* A DfE footnote (r->note) is said once: as the "note" of a figure
         * shown (not ranked), or as the "reason" a figure is missing.  A
         * masked row carries neither: a footnote names its authority. */
        int noted = r->note && !r->withheld && !m;
        const char *reason = r->withheld || (m && r->note) || (noted && r->cur.has_value)
                                 ? NULL
                                 : reasons[t->order[k]];
        if (reason || !r->cur.exists)
            json_object_set_new(o, "reason", json_string(reason ? reason : "no figure recorded"));
        if (noted && r->cur.has_value)
            json_object_set_new(o, "note", json_string(r->note));
        json_object_set_new(o, "rank", r->rank ? json_integer(r->rank) : json_null());
        json_object_set_new(o, "rank_england",
                            r->rank_england ? json_integer(r->rank_england) : json_null());
        char band[2] = {r->band, 0};
        json_object_set_new(o, "band", r->band ? json_string(band) : json_null());
        json_object_set_new(o, "previous_value", table_cell_json(&r->prev, tm->dp));
        json_object_set_new(o, "change_previous",
                            r->has_change_prev ? tq_jnum(r->change_prev, tm->dp) : json_null());
        json_object_set_new(o, "change_previous_pct", r->has_change_prev_pct
                                                          ? tq_jnum(r->change_prev_pct, 1)
                                                          : json_null());
        json_object_set_new(o, "year_earlier_value", table_cell_json(&r->year, tm->dp));
        json_object_set_new(o, "change_year_earlier",
                            r->has_change_year ? tq_jnum(r->change_year, tm->dp) : json_null());
        json_object_set_new(o, "change_year_earlier_pct", r->has_change_year_pct
                                                              ? tq_jnum(r->change_year_pct, 1)
                                                              : json_null());
        json_object_set_new(o, "improvement", tq_jstr(table_improvement_name(r->improvement)));
        if (tm->has_base) {
            json_object_set_new(o, "base_value", table_cell_json(&r->base, tm->dp));
            json_object_set_new(o, "growth_since_base",
                                r->has_growth ? tq_jnum(r->growth, tm->dp) : json_null());
            json_object_set_new(o, "growth_since_base_pct",
                                r->has_growth_pct ? tq_jnum(r->growth_pct, 1) : json_null());
        }
        json_array_append_new(rows, o);
    }
    json_t *sums = json_array();
    if (sums) {
        json_array_append_new(sums, summary_json(&t->england, "england", CODE_ENGLAND, "England",
                                                 tm));
        if (t->has_region) {
            const struct table_row *f = &t->rows[t->focal];
            json_array_append_new(sums, summary_json(&t->region, "region", f->region_code,
                                                     region_name, tm));
            char name[300];
            snprintf(name, sizeof name, "Statistical neighbours of %s", f->name ? f->name : "");
            json_array_append_new(sums, summary_json(&t->neighbours, "neighbours", f->code,
                                                     name, tm));
        }
    }
    char vis[40];
    json_t *doc = json_pack(
        "{s:{s:s, s:s, s:s, s:i, s:s, s:s}, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:s, s:I, s:I,"
        " s:o, s:o, s:s}",
        "metric", "id", tm->id, "label", tm->label, "unit", tm->unit, "dp", tm->dp, "polarity",
        tm->polarity == POLARITY_HIGHER_BETTER  ? "higher_better"
        : tm->polarity == POLARITY_LOWER_BETTER ? "lower_better"
                                                : "neutral",
        "kind", tm->kind, "period", q->period, "period_kind",
        period_basis_name(period_basis_of(&q->per, tq_annual_basis(tm->annual_period))), "previous_period", tm->prev,
        "year_earlier_period", tm->year, "base_period",
        tm->has_base ? json_string(tm->base) : json_null(), "group", q->group_name, "authority",
        tq_jstr(tm->focal), "visibility", tq_visibility_key(&q->caller, vis, sizeof vis), "n_rows",
        (json_int_t)t->n_in_group, "n_ranked_england", (json_int_t)t->n_ranked_england, "rows",
        rows ? rows : json_null(), "summaries", sums ? sums : json_null(), "attribution",
        OGL_ATTRIBUTION);
    return doc;
}

/* The CSV download is written as typed rows (include/sheet.h), so that its
 * XLSX twin holds the same cells: text, or numbers rounded to the metric's
 * places (a symbol where there is no number). */
static void csv_put(struct sheet *b, const char *s)
{
    sheet_text(b, s);
}

static void csv_num(struct sheet *b, int has, double v, int dp, const char *otherwise)
{
    sheet_number_or(b, has, v, dp, otherwise);
}

static const char *const CSV_GEO[] = {"time_period", "time_identifier", "geographic_level",
                                      "country_code", "country_name", "region_code",
                                      "region_name", "new_la_code", "old_la_code", "la_name"};

static void csv_header(struct sheet *b, const struct table_meta *tm)
{
    static const char *const change[] = {"rank", "rank_england", "band", "change_previous",
                                         "change_previous_pct", "change_year_earlier",
                                         "change_year_earlier_pct", "improvement"};
    static const char *const growth[] = {"base_value", "growth_since_base",
                                         "growth_since_base_pct"};
    static const char *const sums[] = {"mean", "median", "contributors"};
    for (size_t i = 0; i < 10; i++)
        csv_put(b, CSV_GEO[i]);
    csv_put(b, tm->id);
    for (size_t i = 0; i < 8; i++)
        csv_put(b, change[i]);
    for (size_t i = 0; tm->has_base && i < 3; i++)
        csv_put(b, growth[i]);
    for (size_t i = 0; i < 3; i++)
        csv_put(b, sums[i]);
    csv_put(b, "note");
    sheet_end_row(b);
}

static void csv_summary(struct sheet *b, const char *tp, const char *tid, const char *level,
                        const char *rcode, const char *rname, const char *lcode,
                        const char *lold, const char *lname, const struct table_summary *s,
                        const struct table_meta *tm)
{
    const char *geo[] = {tp, tid, level, CODE_ENGLAND, "England", rcode, rname, lcode, lold, lname};
    for (size_t i = 0; i < 10; i++)
        csv_put(b, geo[i]);
    int none = s->suppressed || s->n == 0;
    const char *sym = s->suppressed ? "c" : "x";
    /* The National and Regional rows carry England's and the region's
     * figure, as in the DfE's own tidy files: published, else the sum. */
    if (s->value_source != SUMMARY_VALUE_NONE)
        csv_num(b, s->has_value, s->value, tm->dp, s->value_symbol ? s->value_symbol : sym);
    else
        csv_put(b, tm->additive ? sym : "z");
    for (int i = 0; i < 8; i++)
        csv_put(b, "z");
    if (tm->has_base)
        for (int i = 0; i < 3; i++)
            csv_put(b, "z");
    csv_num(b, !none, s->mean, tm->dp, sym);
    csv_num(b, !none && !s->median_withheld, s->median, tm->dp, none ? sym : "c");
    sheet_int(b, (long long)s->n);
    csv_put(b, "");
    sheet_end_row(b);
}

struct sheet *table_sheet(const struct tq *q, const struct table *t, const struct table_meta *tm,
                          const char *region_name)
{
    struct sheet *b = sheet_new(tm->id);
    if (!b)
        return NULL;
    char tp[16];
    const char *tid = "";
    period_tidy(&q->per, tp, sizeof tp, &tid);
    csv_header(b, tm);
    csv_summary(b, tp, tid, "National", "", "", "", "", "", &t->england, tm);
    if (t->has_region) {
        const struct table_row *f = &t->rows[t->focal];
        csv_summary(b, tp, tid, "Regional", f->region_code, region_name, "", "", "", &t->region,
                    tm);
        char name[300];
        snprintf(name, sizeof name, "Statistical neighbours of %s", f->name ? f->name : "");
        csv_summary(b, tp, tid, "Statistical neighbour group", f->region_code, f->region_name,
                    f->code, f->old_code, name, &t->neighbours, tm);
    }
    for (size_t k = 0; k < t->n_in_group; k++) {
        const struct table_row *r = &t->rows[t->order[k]];
        int m = r->masked;
        const char *geo[] = {tp, tid, "Local authority", CODE_ENGLAND, "England",
                             m ? "" : r->region_code, m ? "" : r->region_name,
                             m ? "" : r->code, m ? "" : r->old_code,
                             m ? r->mask_label : r->name};
        for (size_t i = 0; i < 10; i++)
            csv_put(b, geo[i]);
        csv_num(b, r->cur.has_value, r->cur.value, tm->dp,
                r->cur.exists && r->cur.symbol ? r->cur.symbol : "x");
        if (r->rank)
            sheet_int(b, r->rank);
        else
            csv_put(b, "x");
        if (r->rank_england)
            sheet_int(b, r->rank_england);
        else
            csv_put(b, "x");
        char band[2] = {r->band, 0};
        csv_put(b, r->band ? band : tm->polarity == POLARITY_NEUTRAL ? "z" : "x");
        csv_num(b, r->has_change_prev, r->change_prev, tm->dp, "x");
        csv_num(b, r->has_change_prev_pct, r->change_prev_pct, 1, "x");
        csv_num(b, r->has_change_year, r->change_year, tm->dp, "x");
        csv_num(b, r->has_change_year_pct, r->change_year_pct, 1, "x");
        const char *imp = table_improvement_name(r->improvement);
        csv_put(b, imp ? imp : tm->polarity == POLARITY_NEUTRAL ? "z" : "x");
        if (tm->has_base) {
            csv_num(b, r->base.has_value, r->base.value, tm->dp,
                    r->base.exists && r->base.symbol ? r->base.symbol : "x");
            csv_num(b, r->has_growth, r->growth, tm->dp, "x");
            csv_num(b, r->has_growth_pct, r->growth_pct, 1, "x");
        }
        for (int i = 0; i < 3; i++)
            csv_put(b, "z");
        csv_put(b, r->note && !r->withheld && !m ? r->note : "");
        sheet_end_row(b);
    }
    return b;
}

static void meta_row(struct sheet *b, const char *col, const char *label, const char *unit,
                     int dp)
{
    csv_put(b, col);
    csv_put(b, label);
    csv_put(b, unit);
    sheet_int(b, dp);
    sheet_end_row(b);
}

struct sheet *table_meta_sheet(const char *id, const char *label, const char *unit, int dp)
{
    /* The DfE's indicator_unit is "%", "£" or empty. */
    const char *iu = strcmp(unit, "%") == 0 || strcmp(unit, "£") == 0 ? unit : "";
    struct sheet *b = sheet_new("columns");
    if (!b)
        return NULL;
    char l[400];
    static const char *const head[] = {"col_name", "label", "indicator_unit", "indicator_dp"};
    for (size_t i = 0; i < 4; i++)
        csv_put(b, head[i]);
    sheet_end_row(b);
    meta_row(b, id, label, iu, dp);
    meta_row(b, "rank", "Rank within the group (1 = best; ties share the better rank)", "", 0);
    meta_row(b, "rank_england", "Rank among all authorities in England", "", 0);
    meta_row(b, "band", "Quartile band across all authorities (A = best quarter)", "", 0);
    snprintf(l, sizeof l, "Change on the previous period: %s", label);
    meta_row(b, "change_previous", l, iu, dp);
    meta_row(b, "change_previous_pct", "Change on the previous period (%)", "%", 1);
    snprintf(l, sizeof l, "Change on the same period a year earlier: %s", label);
    meta_row(b, "change_year_earlier", l, iu, dp);
    meta_row(b, "change_year_earlier_pct", "Change on the same period a year earlier (%)", "%",
             1);
    meta_row(b, "improvement", "Whether the change on the previous period is an improvement",
             "", 0);
    snprintf(l, sizeof l, "%s in the base period (when base is given)", label);
    meta_row(b, "base_value", l, iu, dp);
    meta_row(b, "growth_since_base", "Growth since the base period", iu, dp);
    meta_row(b, "growth_since_base_pct", "Growth since the base period (%)", "%", 1);
    snprintf(l, sizeof l, "Mean of contributing authorities: %s", label);
    meta_row(b, "mean", l, iu, dp);
    snprintf(l, sizeof l, "Median of contributing authorities: %s", label);
    meta_row(b, "median", l, iu, dp);
    meta_row(b, "contributors", "Authorities contributing to the mean and median", "", 0);
    meta_row(b, "note", "A DfE footnote on the figure (such a figure is not ranked or "
                        "summarised)", "", 0);
    return b;
}

void table_reply_download(struct request *r, struct tq *q, const struct sheet *const *sheets,
                          size_t n, const char *title, const char *const *extra)
{
    size_t len = 0;
    char *body = NULL;
    if (q->xlsx) {
        char err[200];
        struct xlsx_about about = {title, evhttp_request_get_uri(r->req), OGL_ATTRIBUTION,
                                   extra, 0};
        body = (char *)xlsx_workbook(sheets, n, &about, &len, err, sizeof err);
        if (!body)
            log_msg(LOG_ERROR, r->id, "tables: workbook: %s", err);
    } else {
        body = sheet_csv_string(sheets[0], "\r\n", &len);
    }
    if (!body) {
        http_reply_oom(r);
        return;
    }
    tq_store_and_reply(r, q, q->xlsx ? XLSX_CONTENT_TYPE : "text/csv; charset=utf-8", body, len);
}

void table_download_name(struct request *r, const char *metric, const char *suffix)
{
    char disp[160];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s%s.xlsx\"", metric, suffix);
    http_add_header(r, "Content-Disposition", disp);
}
