/*
 * The evidence pack's High Needs plan (GET /api/v1/authorities/{code}/evidence):
 * the trajectory's inputs taken from the pack's own profile document, and
 * the pack's High Needs plan section.  The arithmetic is
 * forecasts/hn_projection.c's, the conversion server/high_needs.c's.
 */
#include <event2/buffer.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "high_needs.h"

/* ---- the same inputs from a profile document (the evidence pack) -------- */

/* The metrics the trajectory reads (the query's list). */
static const char *const input_metrics[] = {
    "hnbt_ehcp_total", "hnbt_placed_mainstream", "hnbt_placed_resourced_provision",
    "hnbt_placed_maintained_special", "hnbt_placed_independent_special", "hnbt_placed_hospital_ap",
    "hnbt_placed_post16", "hnbt_placed_other", "hnbt_cost_mainstream_gbp",
    "hnbt_cost_maintained_special_gbp", "hnbt_cost_independent_gbp", "hnbt_cost_post16_gbp",
    "hnbt_budget_non_placement_gbp", "hnbt_budget_total_gbp", "hnb_before_deductions_gbp",
    "dsg_total_before_deductions_gbp", "dsg_balance_pct_of_income", "ehcp_caseload", NULL};

static const json_t *profile_metric(const json_t *profile, const char *id)
{
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(profile, "metrics"), i, m) {
        const char *mid = json_string_value(json_object_get(m, "id"));
        if (mid && strcmp(mid, id) == 0)
            return m;
    }
    return NULL;
}

static const json_t *profile_forecast(const json_t *profile, const char *metric)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(json_object_get(profile, "extra"), "forecasts"), i, f) {
        const char *mid = json_string_value(json_object_get(f, "metric"));
        if (mid && strcmp(mid, metric) == 0)
            return json_object_get(f, "doc");
    }
    return NULL;
}

json_t *high_needs_doc_from_profile(const json_t *profile)
{
    const json_t *a = json_object_get(profile, "authority");
    json_t *figs = json_object(), *nb = json_object();
    for (int k = 0; input_metrics[k]; k++) {
        const json_t *m = profile_metric(profile, input_metrics[k]);
        json_t *per = json_object();
        size_t i;
        const json_t *h;
        json_array_foreach(json_object_get(m, "history"), i, h) {
            const char *p = json_string_value(json_object_get(h, "period"));
            const json_t *v = json_object_get(h, "value");
            if (p && json_is_number(v))
                json_object_set_new(per, p, json_real(json_number_value(v)));
            /* the neighbours' median of a cost stands in for their list */
            const json_t *med = json_object_get(json_object_get(h, "neighbours"), "median");
            if (p && json_is_number(med) && strncmp(input_metrics[k], "hnbt_cost_", 10) == 0)
                json_object_set_new(nb, input_metrics[k],
                                    json_pack("[f]", json_number_value(med)));
        }
        json_object_set_new(figs, input_metrics[k], per);
    }
    const json_t *cf = profile_forecast(profile, "ehcp_caseload");
    const json_t *nf = profile_forecast(profile, "new_plans_issued");
    json_t *sfs = json_object();
    for (int s = 0; sfs && s < HN_N_SETTINGS; s++) {
        const json_t *sf = profile_forecast(profile, high_needs_setting_metric(s));
        if (sf)
            json_object_set_new(sfs, high_needs_setting_metric(s), json_incref((json_t *)sf));
    }
    return json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:O, s:O, s:o, s:n, s:[]}", "code",
                     json_string_value(json_object_get(a, "code")) ?: "", "old_code",
                     json_string_value(json_object_get(a, "old_la_code")) ?: "", "name",
                     json_string_value(json_object_get(a, "name")) ?: "", "own", 0, "figures", figs,
                     "neighbour_costs", nb, "caseload_forecast", cf ? (json_t *)cf : json_null(),
                     "new_plans_forecast", nf ? (json_t *)nf : json_null(), "setting_forecasts",
                     sfs, "scenario", "scenarios");
}
