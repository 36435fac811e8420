/*
 * The High Needs scenario levers (see include/high_needs.h): the one list
 * of levers, read from a scenario's JSON or a form's text, checked,
 * fitted to a trajectory's years and written back.  The arithmetic they
 * drive is forecasts/hn_projection.c's.
 */
#include "high_needs.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_parse.h"
#include "period.h"

enum lever_kind { LEVER_NUMBER, LEVER_YEAR };
struct lever_def {
    const char *name;
    enum lever_kind kind;
    size_t offset;
    const char *help;
};
#define LV(name, kind, help) {#name, kind, offsetof(struct hn_levers, name), help}
/* The one list of levers: names (the API's), kinds and what they mean. */
static const struct lever_def lever_defs[] = {
    LV(new_plans_growth_reduction_pct, LEVER_NUMBER,
       "Slow the yearly growth of EHC plans by this % (from the year below)"),
    LV(from_year, LEVER_YEAR, "From financial year (e.g. 2026-27)"),
    LV(independent_to_maintained_pct, LEVER_NUMBER,
       "Move this % of new independent placements to maintained special (from the same year)"),
    LV(new_special_places, LEVER_NUMBER, "Open this many maintained special places"),
    LV(new_special_places_year, LEVER_YEAR, "in financial year (e.g. 2027-28)"),
    LV(new_special_place_cost_gbp, LEVER_NUMBER, "at this cost a place a year (pounds)"),
    LV(cost_inflation_pct, LEVER_NUMBER, "Cost inflation a year (%; empty: 3.0)"),
    LV(hnb_growth_pct, LEVER_NUMBER,
       "High needs block growth a year after 2023-24 (%; empty: its published history)"),
    LV(extra_case_officers_fte, LEVER_NUMBER, "Extra case officers (FTE)"),
    LV(target_caseload_per_officer, LEVER_NUMBER, "Target plans per case officer (empty: 120)"),
    LV(plans_per_officer_per_year, LEVER_NUMBER,
       "New plans one officer issues within 20 weeks a year (empty: 40)"),
};
#define N_LEVERS (sizeof lever_defs / sizeof *lever_defs)

size_t high_needs_lever_count(void)
{
    return N_LEVERS;
}

const char *high_needs_lever_name(size_t i)
{
    return i < N_LEVERS ? lever_defs[i].name : NULL;
}

const char *high_needs_lever_help(size_t i)
{
    return i < N_LEVERS ? lever_defs[i].help : NULL;
}

json_t *high_needs_levers_from_text(const char *(*get)(void *arg, const char *name), void *arg)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < N_LEVERS; i++) {
        const char *v = get(arg, lever_defs[i].name);
        if (!v || !*v)
            continue;
        if (lever_defs[i].kind == LEVER_YEAR) {
            json_object_set_new(o, lever_defs[i].name, json_string(v));
            continue;
        }
        char *end = NULL;
        double d = strtod(v, &end);
        /* not a plain number: kept as text, so the check names it */
        json_object_set_new(o, lever_defs[i].name,
                            end && *end == '\0' && end != v && isfinite(d) ? json_real(d)
                                                                           : json_string(v));
    }
    return o;
}

int high_needs_lever_text(const struct hn_levers *lv, size_t i, char *out, size_t outlen)
{
    out[0] = '\0';
    if (i >= N_LEVERS)
        return -1;
    const char *p = (const char *)lv + lever_defs[i].offset;
    if (lever_defs[i].kind == LEVER_YEAR) {
        int y = *(const int *)(const void *)p;
        if (y)
            hn_year_label(y, out, outlen);
    } else {
        double d = *(const double *)(const void *)p;
        if (isfinite(d))
            snprintf(out, outlen, "%.10g", d);
    }
    return 0;
}

static void detail(json_t *details, const char *field, const char *rule, const char *msg)
{
    char f[96];
    snprintf(f, sizeof f, "levers.%s", field);
    json_array_append_new(details, json_pack("{s:s, s:s, s:s}", "field", f, "rule", rule,
                                             "message", msg));
}

int high_needs_levers_parse(const json_t *levers, struct hn_levers *lv, json_t *details)
{
    size_t before = json_array_size(details);
    hn_levers_default(lv);
    if (!levers)
        return 0;
    if (!json_is_object(levers)) {
        json_array_append_new(details, json_pack("{s:s, s:s, s:s}", "field", "levers", "rule",
                                                 "type", "message", "levers must be an object"));
        return 1;
    }
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)levers, key, val) {
        const struct lever_def *d = NULL;
        for (size_t i = 0; i < N_LEVERS; i++)
            if (strcmp(lever_defs[i].name, key) == 0)
                d = &lever_defs[i];
        char msg[200];
        if (!d) {
            char f[80];
            snprintf(f, sizeof f, "%.60s", key);
            snprintf(msg, sizeof msg, "unknown lever \"%.60s\" (the levers are listed in "
                     "docs/high-needs.md)", key);
            detail(details, f, "unknown_lever", msg);
            continue;
        }
        char *p = (char *)lv + d->offset;
        if (json_is_null(val))
            continue;   /* null: the default, as stored levers write an unset one */
        if (d->kind == LEVER_YEAR) {
            char period[16], start[16];
            struct period per;
            const char *s = json_string_value(val);
            if (!s || import_period_parse(s, IMPORT_PERIOD_FINANCIAL_YEAR, period, start) != 0 ||
                strlen(s) != 7 || period_parse(period, &per) != 0) {
                snprintf(msg, sizeof msg, "%s must be a financial year written like \"2026-27\"",
                         d->name);
                detail(details, d->name, "financial_year", msg);
                continue;
            }
            *(int *)(void *)p = per.year;
        } else {
            if (!json_is_number(val)) {
                snprintf(msg, sizeof msg, "%s must be a number", d->name);
                detail(details, d->name, "number", msg);
                continue;
            }
            *(double *)(void *)p = json_number_value(val);
        }
    }
    /* ranges: one rule, in the engine; years against the widest window a
     * trajectory can have (the HNBT year to the end year) */
    const char *f[16], *why[16];
    int n = hn_levers_check(lv, 2019, HIGH_NEEDS_END_YEAR, f, why, 16);
    for (int i = 0; i < n && i < 16; i++) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s %s", f[i], why[i]);
        detail(details, f[i], "out_of_range", msg);
    }
    return (int)(json_array_size(details) - before);
}

void high_needs_levers_fit(const struct hn_inputs *in, struct hn_levers *lv,
                           struct high_needs_view *view)
{
    int first = in->base_year + 1;
    if (lv->from_year && lv->from_year < first) {
        lv->from_year = first;
        view->lever_years_clamped = 1;
    }
    if (lv->new_special_places > 0 && lv->new_special_places_year < first) {
        lv->new_special_places_year = first;
        view->lever_years_clamped = 1;
    }
}

json_t *high_needs_levers_json(const struct hn_levers *lv)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < N_LEVERS; i++) {
        const char *p = (const char *)lv + lever_defs[i].offset;
        json_t *v = NULL;
        if (lever_defs[i].kind == LEVER_YEAR) {
            int y = *(const int *)(const void *)p;
            char lab[8];
            if (y)
                hn_year_label(y, lab, sizeof lab);
            v = y ? json_string(lab) : json_null();
        } else {
            double d = *(const double *)(const void *)p;
            v = isfinite(d) ? json_real(d) : json_null();
        }
        json_object_set_new(o, lever_defs[i].name, v);
    }
    return o;
}
