/* A profile's download (include/tables_query.h): GET
 * /api/v1/authorities/{code}/profile?format=csv|xlsx, one row per metric
 * with the figure the profile shows and what it is compared with, built
 * from the same document as the JSON answer, so the three cannot differ. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sheet.h"
#include "tables_query.h"

static const char *str_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A number of o (NULL or not a number: empty, or the symbol when sym). */
static void num_cell(struct sheet *s, const json_t *o, const char *key, int dp, const char *sym)
{
    const json_t *v = json_object_get(o, key);
    sheet_number_or(s, json_is_number(v), json_is_number(v) ? json_number_value(v) : NAN, dp,
                    sym);
}

static void int_cell(struct sheet *s, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        sheet_int(s, (long long)json_integer_value(v));
    else
        sheet_text(s, NULL);
}

static const char *const PROFILE_COLUMNS[] = {
    "time_period", "time_identifier", "new_la_code", "old_la_code", "la_name", "region_code",
    "region_name", "metric", "label", "unit", "value", "published", "note",
    "rank_england", "n_england", "rank_region", "n_region", "rank_neighbours", "n_neighbours",
    "band", "england_value", "england_value_source", "england_mean", "england_median",
    "region_value", "region_value_source", "region_mean", "region_median", "neighbours_mean",
    "neighbours_median", NULL};

struct sheet *profile_sheet(const json_t *doc)
{
    struct sheet *s = sheet_new("profile");
    if (!s)
        return NULL;
    for (size_t i = 0; PROFILE_COLUMNS[i]; i++)
        sheet_text(s, PROFILE_COLUMNS[i]);
    sheet_end_row(s);
    const json_t *a = json_object_get(doc, "authority");
    const json_t *metrics = json_object_get(doc, "metrics");
    size_t i;
    const json_t *m;
    json_array_foreach(metrics, i, m) {
        const char *period = str_of(m, "period");
        if (!period)
            continue;       /* nothing of this metric for the authority */
        const json_int_t dpj = json_integer_value(json_object_get(m, "dp"));
        int dp = dpj >= 0 && dpj <= SHEET_DP_MAX ? (int)dpj : SHEET_DP_ANY;
        /* The DfE's tidy spelling, as the tables' CSV writes it */
        struct period per;
        char tp[16] = "";
        const char *ident = "";
        if (period_parse(period, &per) == 0)
            period_tidy(&per, tp, sizeof tp, &ident);
        sheet_text(s, tp[0] ? tp : period);
        sheet_text(s, ident);
        sheet_text(s, str_of(a, "code"));
        sheet_text(s, str_of(a, "old_la_code"));
        sheet_text(s, str_of(a, "name"));
        sheet_text(s, str_of(a, "region_code"));
        sheet_text(s, str_of(a, "region_name"));
        sheet_text(s, str_of(m, "id"));
        sheet_text(s, str_of(m, "label"));
        sheet_text(s, str_of(m, "unit"));
        num_cell(s, m, "value", dp, str_of(m, "symbol"));
        sheet_text(s, json_is_true(json_object_get(m, "published")) ? "true" : "false");
        sheet_text(s, str_of(m, "note") ? str_of(m, "note") : str_of(m, "reason"));
        int_cell(s, m, "rank_england");
        int_cell(s, m, "n_england");
        int_cell(s, m, "rank_region");
        int_cell(s, m, "n_region");
        int_cell(s, m, "rank_neighbours");
        int_cell(s, m, "n_neighbours");
        sheet_text(s, str_of(m, "band"));
        const json_t *e = json_object_get(m, "england"), *g = json_object_get(m, "region");
        const json_t *n = json_object_get(m, "neighbours");
        num_cell(s, e, "value", dp, str_of(e, "symbol"));
        sheet_text(s, str_of(e, "value_source"));
        num_cell(s, e, "mean", dp, NULL);
        num_cell(s, e, "median", dp, NULL);
        num_cell(s, g, "value", dp, str_of(g, "symbol"));
        sheet_text(s, str_of(g, "value_source"));
        num_cell(s, g, "mean", dp, NULL);
        num_cell(s, g, "median", dp, NULL);
        num_cell(s, n, "mean", dp, NULL);
        num_cell(s, n, "median", dp, NULL);
        sheet_end_row(s);
    }
    return s;
}
