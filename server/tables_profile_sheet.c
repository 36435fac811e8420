/* A profile's download (include/tables_query.h): GET
 * /api/v1/authorities/{code}/profile?format=csv|xlsx, one row per metric
 * with the figure the profile shows and what it is compared with, written
 * from the same struct profile as the JSON answer, with the same rules of
 * what is shown (tables.h's table_summary_*, table_cell_symbol), so the
 * three cannot differ. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "profile.h"
#include "sheet.h"
#include "tables_query.h"

/* An optional rank (0: none). */
static void rank_cell(struct sheet *s, int rank)
{
    if (rank)
        sheet_int(s, rank);
    else
        sheet_text(s, NULL);
}

/* A figure as the profile shows it (NAN: not shown, then the symbol). */
static void num_cell(struct sheet *s, double v, int dp, const char *symbol)
{
    sheet_number_or(s, isfinite(v), v, dp < 0 ? SHEET_DP_ANY : dp, symbol);
}

/* England's, the region's or the neighbours' value (with_value), mean
 * and median. */
static void summary_cells(struct sheet *s, const struct table_summary *sm, int dp,
                          int with_value)
{
    if (with_value) {
        num_cell(s, profile_summary_value(sm, dp), dp, table_summary_symbol(sm));
        sheet_text(s, table_summary_value_source_name(sm));
    }
    num_cell(s, profile_summary_mean(sm, dp), dp, NULL);
    num_cell(s, profile_summary_median(sm, dp), dp, NULL);
}

static const char *const PROFILE_COLUMNS[] = {
    "time_period", "time_identifier", "new_la_code", "old_la_code", "la_name", "region_code",
    "region_name", "metric", "label", "unit", "value", "published", "note",
    "rank_england", "n_england", "rank_region", "n_region", "rank_neighbours", "n_neighbours",
    "band", "england_value", "england_value_source", "england_mean", "england_median",
    "region_value", "region_value_source", "region_mean", "region_median", "neighbours_mean",
    "neighbours_median", NULL};

struct sheet *profile_sheet(const struct profile *p)
{
    struct sheet *s = sheet_new("profile");
    if (!s)
        return NULL;
    for (size_t i = 0; PROFILE_COLUMNS[i]; i++)
        sheet_text(s, PROFILE_COLUMNS[i]);
    sheet_end_row(s);
    const struct profile_authority *a = &p->authority;
    for (size_t k = 0; k < p->n_metrics; k++) {
        const struct profile_metric *m = &p->metrics[k];
        const struct profile_xsec *x = &m->shown;
        if (!x->period)
            continue;       /* nothing of this metric for the authority */
        int dp = m->dp >= 0 && m->dp <= SHEET_DP_MAX ? m->dp : -1;
        int h = x->hidden;
        /* The DfE's tidy spelling, as the tables' CSV writes it */
        struct period per;
        char tp[16] = "";
        const char *ident = "";
        if (period_parse(x->period, &per) == 0)
            period_tidy(&per, tp, sizeof tp, &ident);
        sheet_text(s, tp[0] ? tp : x->period);
        sheet_text(s, ident);
        sheet_text(s, a->code);
        sheet_text(s, a->old_la_code);
        sheet_text(s, a->name);
        sheet_text(s, a->region_code);
        sheet_text(s, a->region_name);
        sheet_text(s, m->id);
        sheet_text(s, m->label);
        sheet_text(s, m->unit);
        /* a withheld figure reads as no figure, "x" (profile.h) */
        num_cell(s, profile_value(x, m->dp), dp, h ? "x" : table_cell_symbol(&x->cur));
        sheet_text(s, !h && x->cur.exists && x->cur.published ? "true" : "false");
        sheet_text(s, h ? NULL : x->reason);
        rank_cell(s, h ? 0 : x->rank_england);
        sheet_int(s, (long long)x->n_england);
        rank_cell(s, h ? 0 : x->rank_region);
        sheet_int(s, (long long)x->region.n);
        rank_cell(s, h ? 0 : x->rank_neighbours);
        sheet_int(s, (long long)x->n_neighbours);
        char band[2] = {h ? 0 : x->band, 0};
        sheet_text(s, band[0] ? band : NULL);
        summary_cells(s, &x->england, dp, 1);
        summary_cells(s, &x->region, dp, 1);
        summary_cells(s, &x->neighbours, dp, 0);
        sheet_end_row(s);
    }
    return s;
}
