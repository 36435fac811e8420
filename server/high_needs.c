/*
 * The High Needs trajectory for the server (see include/high_needs.h).
 *
 * PostgreSQL gathers every input in one statement (the figures in force by
 * metric and period, the neighbours' costs, the forecasting engine's
 * stored caseload and new-plans forecasts, the scenario); the conversion
 * below decides which figure feeds which input and names its source; the
 * arithmetic is forecasts/hn_projection.c's.
 */
#include "high_needs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "sheet.h"

/* The SEN2 plans-in-place series each HNBT setting grows with, in the
 * order of enum hn_setting (sql/101 has the worker fit them): resourced
 * provision and SEN units their own SEN2 series (sql/190); mainstream
 * SEN2's whole mainstream count, which includes them (about a tenth of it:
 * their own growth is in the other series).  Written once, as the C array
 * setting_metric and as the SQL list HIGH_NEEDS_SETTING_METRICS_SQL. */
#define HIGH_NEEDS_SETTING_METRICS(FIRST, NEXT)                                              \
    FIRST(plans_mainstream) NEXT(plans_mainstream_rp_unit) NEXT(plans_special_state)          \
    NEXT(plans_special_independent) NEXT(plans_ap_pru) NEXT(plans_post16) NEXT(plans_elsewhere)
#define C_FIRST(id) #id
#define C_NEXT(id) , #id
#define SQL_FIRST(id) "'" #id "'"
#define SQL_NEXT(id) ", '" #id "'"
#define HIGH_NEEDS_SETTING_METRICS_SQL HIGH_NEEDS_SETTING_METRICS(SQL_FIRST, SQL_NEXT)

const char HIGH_NEEDS_INPUTS_SQL[] =
    "WITH a AS (SELECT new_la_code, old_la_code, name, ($2 = '*' OR $2 = new_la_code) AS own"
    "           FROM authorities WHERE new_la_code = $1 OR old_la_code = $1"
    "           ORDER BY valid_to DESC NULLS FIRST LIMIT 1),"
    " obs AS (SELECT c.metric, c.period, c.value FROM current_observations c, a"
    "         WHERE c.authority = a.new_la_code AND c.value IS NOT NULL"
    "           AND (c.published OR a.own)"
    "           AND c.metric IN ('hnbt_ehcp_total', 'hnbt_placed_mainstream',"
    "               'hnbt_placed_resourced_provision', 'hnbt_placed_maintained_special',"
    "               'hnbt_placed_independent_special', 'hnbt_placed_hospital_ap',"
    "               'hnbt_placed_post16', 'hnbt_placed_other', 'hnbt_cost_mainstream_gbp',"
    "               'hnbt_cost_maintained_special_gbp', 'hnbt_cost_independent_gbp',"
    "               'hnbt_cost_post16_gbp', 'hnbt_budget_non_placement_gbp',"
    "               'hnbt_budget_total_gbp', 'hnb_before_deductions_gbp',"
    "               'dsg_total_before_deductions_gbp', 'dsg_balance_pct_of_income',"
    "               'dsg_cumulative_balance_gbp', 'case_officers_fte', 'ehcp_caseload',"
    "               'cost_per_placement_mainstream_gbp',"
    "               'cost_per_placement_resourced_provision_gbp',"
    "               'cost_per_placement_maintained_special_gbp',"
    "               'cost_per_placement_independent_special_gbp',"
    "               'cost_per_placement_post16_gbp')),"
    " fig AS (SELECT metric, json_object_agg(period, value) AS per FROM obs GROUP BY metric),"
    " nb AS (SELECT c.metric, json_agg(c.value) AS vals FROM a"
    "        JOIN statistical_neighbours n ON n.authority = a.new_la_code"
    "        JOIN current_observations c ON c.authority = n.neighbour"
    "        WHERE c.published AND c.value IS NOT NULL AND c.metric IN ('hnbt_cost_mainstream_gbp',"
    "              'hnbt_cost_maintained_special_gbp', 'hnbt_cost_independent_gbp',"
    "              'hnbt_cost_post16_gbp')"
    "        GROUP BY c.metric)"
    " SELECT json_build_object('code', a.new_la_code, 'old_code', a.old_la_code, 'name', a.name,"
    "   'own', a.own,"
    "   'figures', coalesce((SELECT json_object_agg(metric, per) FROM fig), '{}'),"
    "   'neighbour_costs', coalesce((SELECT json_object_agg(metric, vals) FROM nb), '{}'),"
    "   'caseload_forecast', (SELECT f.doc FROM forecasts f WHERE f.metric = 'ehcp_caseload'"
    "        AND f.frequency = 'annual' AND f.scope_code = a.new_la_code),"
    "   'new_plans_forecast', (SELECT f.doc FROM forecasts f WHERE f.metric = 'new_plans_issued'"
    "        AND f.frequency = 'annual' AND f.scope_code = a.new_la_code),"
    /* Placements by setting: each SEN2 setting's stored forecast, and
     * whether the worker has fitted that metric at all (fitted, but none
     * for this authority: it has no usable series of that setting). */
    "   'setting_forecasts', coalesce((SELECT json_object_agg(f.metric, f.doc) FROM forecasts f"
    "        WHERE f.frequency = 'annual' AND f.scope_code = a.new_la_code AND f.metric IN"
    "        (" HIGH_NEEDS_SETTING_METRICS_SQL ")), '{}'),"
    "   'setting_forecasts_pending', (SELECT count(*) FROM metrics m WHERE m.forecast AND m.id IN"
    "        (" HIGH_NEEDS_SETTING_METRICS_SQL ") AND NOT EXISTS (SELECT 1 FROM forecast_runs r"
    "        WHERE r.metric = m.id AND r.frequency = 'annual')),"
    "   'scenario', (SELECT json_build_object('id', s.id, 'authority', s.authority, 'name', s.name,"
    "        'version', s.version, 'levers', s.levers, 'shared', s.shared,"
    "        'created_at', to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"
    "        FROM hn_scenarios s WHERE s.id = $3::bigint),"
    "   'scenarios', coalesce((SELECT json_agg(json_build_object('id', s.id, 'name', s.name,"
    "        'version', s.version, 'levers', s.levers, 'shared', s.shared) ORDER BY s.id DESC)"
    "        FROM (SELECT DISTINCT ON (name) * FROM hn_scenarios WHERE authority = a.new_la_code"
    "              AND (a.own OR shared) ORDER BY name, version DESC) s), '[]'))"
    " FROM a";

int high_needs_scenario_visible(const json_t *doc)
{
    const json_t *sc = json_object_get(doc, "scenario");
    const char *code = json_string_value(json_object_get(doc, "code"));
    const char *sc_auth = json_string_value(json_object_get(sc, "authority"));
    return json_is_object(sc) && code && sc_auth && strcmp(sc_auth, code) == 0 &&
           (json_is_true(json_object_get(doc, "own")) || json_is_true(json_object_get(sc, "shared")));
}

json_t *high_needs_reply_doc(const struct pg_result *res)
{
    if (!res || PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
        return NULL;
    json_error_t e;
    return json_loads(PQgetvalue(res, 0, 0), 0, &e);
}

/* ---- figures out of the document --------------------------------------- */

/* The first calendar year of a period string: "2021-22" and "2024-25 Q2"
 * give 2021 and 2024, "2022" gives 2022; -1 otherwise. */
static int period_year(const char *p)
{
    if (!p || strlen(p) < 4)
        return -1;
    for (int i = 0; i < 4; i++)
        if (p[i] < '0' || p[i] > '9')
            return -1;
    return atoi(p);
}

static double jnumber(const json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The value of metric for the period whose first year is year (any
 * period kind), NAN when absent. */
static double fig_at(const json_t *figs, const char *metric, int year)
{
    const json_t *per = json_object_get(figs, metric);
    const char *k;
    const json_t *v;
    double out = NAN;
    json_object_foreach((json_t *)per, k, v)
        if (period_year(k) == year)
            out = jnumber(v);
    return out;
}

/* The latest period of metric: its first year and value (and the period,
 * borrowed, when period is not NULL).  Returns 0, -1 when none.  Quarters
 * of the same year: the latest quarter wins. */
static int fig_latest_period(const json_t *figs, const char *metric, int *year, double *value,
                             const char **period)
{
    const json_t *per = json_object_get(figs, metric);
    const char *k, *best = NULL;
    const json_t *v;
    json_object_foreach((json_t *)per, k, v) {
        if (period_year(k) < 0 || !isfinite(jnumber(v)))
            continue;
        if (!best || strcmp(k, best) > 0)
            best = k;
    }
    if (!best)
        return -1;
    *year = period_year(best);
    *value = jnumber(json_object_get(per, best));
    if (period)
        *period = best;
    return 0;
}

static int fig_latest(const json_t *figs, const char *metric, int *year, double *value)
{
    return fig_latest_period(figs, metric, year, value, NULL);
}

static const char *const placed_metric[HN_N_SETTINGS] = {
    "hnbt_placed_mainstream", "hnbt_placed_resourced_provision", "hnbt_placed_maintained_special",
    "hnbt_placed_independent_special", "hnbt_placed_hospital_ap", "hnbt_placed_post16",
    "hnbt_placed_other"};
static const char *const setting_metric[HN_N_SETTINGS] = {
    HIGH_NEEDS_SETTING_METRICS(C_FIRST, C_NEXT)};
static const char *const cost_metric[HN_N_SETTINGS] = {
    "hnbt_cost_mainstream_gbp", "hnbt_cost_mainstream_gbp", "hnbt_cost_maintained_special_gbp",
    "hnbt_cost_independent_gbp", NULL, "hnbt_cost_post16_gbp", NULL};
/* A council's own submitted cost per placement of a setting (sql/191). */
static const char *const submitted_cost_metric[HN_N_SETTINGS] = {
    "cost_per_placement_mainstream_gbp", "cost_per_placement_resourced_provision_gbp",
    "cost_per_placement_maintained_special_gbp", "cost_per_placement_independent_special_gbp",
    NULL, "cost_per_placement_post16_gbp", NULL};

const char *high_needs_setting_metric(int s)
{
    return s >= 0 && s < HN_N_SETTINGS ? setting_metric[s] : NULL;
}

const char *high_needs_cost_source_words(int source)
{
    switch (source) {
    case HN_COST_SUBMITTED: return "the council's own submitted cost";
    case HN_COST_OWN_HNBT: return "its HNBT indicative cost (budget line / placements)";
    case HN_COST_NEIGHBOURS: return "its statistical neighbours' median HNBT indicative cost";
    default: return "no cost of its own: in the non-placement lines";
    }
}

/* A forecast document's history and forecasts as a yearly path in
 * financial years: year(period) - shift. */
static void path_fill(const json_t *doc, int shift, int first, int nmax, double *m, double *lo,
                      double *hi, int *n)
{
    *n = 0;
    const json_t *h = json_object_get(doc, "history"), *f = json_object_get(doc, "forecasts");
    size_t i;
    const json_t *e;
    json_array_foreach((json_t *)h, i, e) {
        int y = period_year(json_string_value(json_object_get(e, "period"))) - shift;
        double v = jnumber(json_object_get(e, "value"));
        int k = y - first;
        if (k < 0 || k >= nmax || !isfinite(v))
            continue;
        m[k] = v;
        if (lo)
            lo[k] = hi[k] = v;
        if (k + 1 > *n)
            *n = k + 1;
    }
    json_array_foreach((json_t *)f, i, e) {
        int y = period_year(json_string_value(json_object_get(e, "period"))) - shift;
        int k = y - first;
        if (k < 0 || k >= nmax)
            continue;
        m[k] = jnumber(json_object_get(e, "forecast"));
        if (lo) {
            lo[k] = jnumber(json_object_get(e, "lo80"));
            hi[k] = jnumber(json_object_get(e, "hi80"));
        }
        if (k + 1 > *n)
            *n = k + 1;
    }
}

int high_needs_inputs(const json_t *doc, struct hn_inputs *in, struct high_needs_view *view,
                      char *reason, size_t reasonlen)
{
    hn_inputs_init(in);
    memset(view, 0, sizeof *view);
    if (!json_is_object(doc)) {
        snprintf(reason, reasonlen, "no such authority");
        return HIGH_NEEDS_NO_AUTHORITY;
    }
    snprintf(view->code, sizeof view->code, "%s", json_string_value(json_object_get(doc, "code")) ?: "");
    snprintf(view->old_code, sizeof view->old_code, "%s",
             json_string_value(json_object_get(doc, "old_code")) ?: "");
    snprintf(view->name, sizeof view->name, "%s", json_string_value(json_object_get(doc, "name")) ?: "");
    view->own = json_is_true(json_object_get(doc, "own"));
    const json_t *figs = json_object_get(doc, "figures");
    const json_t *sc = json_object_get(doc, "scenario");
    if (json_is_object(sc)) {
        view->has_scenario = 1;
        view->scenario_id = (long long)json_integer_value(json_object_get(sc, "id"));
        view->scenario_version = (int)json_integer_value(json_object_get(sc, "version"));
        view->scenario_shared = json_is_true(json_object_get(sc, "shared"));
        snprintf(view->scenario_name, sizeof view->scenario_name, "%s",
                 json_string_value(json_object_get(sc, "name")) ?: "");
        snprintf(view->scenario_authority, sizeof view->scenario_authority, "%s",
                 json_string_value(json_object_get(sc, "authority")) ?: "");
        snprintf(view->scenario_created, sizeof view->scenario_created, "%s",
                 json_string_value(json_object_get(sc, "created_at")) ?: "");
    }

    /* placements: the latest HNBT year */
    int py;
    double total;
    if (fig_latest(figs, "hnbt_ehcp_total", &py, &total) != 0) {
        snprintf(reason, reasonlen, "%s has no High Needs Benchmarking Tool placements "
                 "(the tool covers the authorities of 2021-22)", view->name);
        return HIGH_NEEDS_NO_HNBT;
    }
    view->has_placements = 1;
    in->placements_year = py;
    in->cost_year = py;
    for (int s = 0; s < HN_N_SETTINGS; s++) {
        double v = fig_at(figs, placed_metric[s], py);
        in->placements[s] = isfinite(v) ? v : 0;
    }
    /* costs: own, else the neighbours' median */
    const json_t *nb = json_object_get(doc, "neighbour_costs");
    for (int s = 0; s < HN_N_SETTINGS; s++) {
        in->cost_source[s] = HN_COST_NONE;
        if (!cost_metric[s])
            continue;
        double c = fig_at(figs, cost_metric[s], py);
        if (isfinite(c) && c > 0) {
            in->cost[s] = c;
            in->cost_source[s] = HN_COST_OWN_HNBT;
            continue;
        }
        const json_t *vals = json_object_get(nb, cost_metric[s]);
        double buf[32];
        int n = 0;
        size_t i;
        const json_t *e;
        json_array_foreach((json_t *)vals, i, e)
            if (n < 32)
                buf[n++] = jnumber(e);
        double med = hn_median(buf, n);
        if (isfinite(med)) {
            in->cost[s] = med;
            in->cost_source[s] = HN_COST_NEIGHBOURS;
        }
    }
    /* the council's own submitted cost, where it has one, in place of the
     * HNBT's (at its own year's prices); the HNBT's stays the base of the
     * non-placement share and is named beside it */
    int any_submitted = 0;
    for (int s = 0; s < HN_N_SETTINGS; s++) {
        view->hnbt_cost[s] = in->cost[s];
        view->hnbt_cost_source[s] = in->cost_source[s];
        int sy;
        double sv;
        const char *sp;
        if (!submitted_cost_metric[s] ||
            fig_latest_period(figs, submitted_cost_metric[s], &sy, &sv, &sp) != 0 || !(sv > 0))
            continue;
        in->cost[s] = sv;
        in->cost_source[s] = HN_COST_SUBMITTED;
        in->cost_price_year[s] = sy;
        snprintf(view->cost_period[s], sizeof view->cost_period[s], "%s", sp);
        any_submitted = 1;
    }
    if (any_submitted) {
        double hnbt[HN_N_SETTINGS];
        for (int s = 0; s < HN_N_SETTINGS; s++)
            hnbt[s] = view->hnbt_cost[s];
        in->base_placement_spend_gbp = hn_spend(in->placements, hnbt, 0);
    }
    in->non_placement_gbp = fig_at(figs, "hnbt_budget_non_placement_gbp", py);

    /* caseload: SEN2 plans in place at the January census inside each
     * financial year (census 2022 = 2021-22), then the engine's forecast */
    in->caseload_at_placements = fig_at(figs, "ehcp_caseload", py + 1);
    if (!(in->caseload_at_placements > 0)) {
        in->caseload_at_placements = total;
        view->caseload_from_hnbt = 1;
    }
    const json_t *cf = json_object_get(doc, "caseload_forecast");
    in->caseload_fc_first = py + 1;
    path_fill(cf, 1, py + 1, HN_MAX_FORECAST, in->caseload_fc, in->caseload_fc_lo80,
              in->caseload_fc_hi80, &in->caseload_fc_n);
    int gap = 0;
    for (int k = 0; k < in->caseload_fc_n; k++)
        gap |= !isfinite(in->caseload_fc[k]);
    if (!json_is_object(cf) || in->caseload_fc_n == 0 || gap) {
        snprintf(reason, reasonlen, "the caseload forecast for %s is not fitted yet; try again in "
                 "a few seconds", view->name);
        return HIGH_NEEDS_NO_FORECAST;
    }
    snprintf(view->caseload_model, sizeof view->caseload_model, "%s",
             json_string_value(json_object_get(json_object_get(cf, "model"), "name")) ?: "");
    if (json_integer_value(json_object_get(doc, "setting_forecasts_pending")) > 0) {
        snprintf(reason, reasonlen, "the placement forecasts by setting for %s are not fitted "
                 "yet; try again in a few seconds", view->name);
        return HIGH_NEEDS_NO_FORECAST;
    }
    /* each setting's own forecast: its SEN2 count at the HNBT year's
     * census is the base its growth applies to; a gap, no base or no
     * forecast leaves the setting on the caseload's growth (said) */
    const json_t *sfs = json_object_get(doc, "setting_forecasts");
    for (int s = 0; s < HN_N_SETTINGS; s++) {
        const json_t *sf = json_object_get(sfs, setting_metric[s]);
        double m[HN_MAX_FORECAST + 1], lo[HN_MAX_FORECAST + 1], hi[HN_MAX_FORECAST + 1];
        int n = 0;
        for (int j = 0; j <= HN_MAX_FORECAST; j++)
            m[j] = lo[j] = hi[j] = NAN;
        if (!json_is_object(sf))
            continue;
        path_fill(sf, 1, py, HN_MAX_FORECAST + 1, m, lo, hi, &n);
        int ok = n >= 2 && m[0] > 0;
        for (int j = 0; ok && j < n; j++)
            ok = isfinite(m[j]) && isfinite(lo[j]) && isfinite(hi[j]);
        if (!ok)
            continue;
        in->setting_at_placements[s] = m[0];
        in->setting_fc_first[s] = py + 1;
        in->setting_fc_n[s] = n - 1;
        memcpy(in->setting_fc[s], m + 1, (size_t)(n - 1) * sizeof m[0]);
        memcpy(in->setting_fc_lo80[s], lo + 1, (size_t)(n - 1) * sizeof lo[0]);
        memcpy(in->setting_fc_hi80[s], hi + 1, (size_t)(n - 1) * sizeof hi[0]);
    }
    /* new plans: calendar year Y taken as financial year Y-(Y+1) */
    in->new_plans_fc_first = py + 1;
    path_fill(json_object_get(doc, "new_plans_forecast"), 0, py + 1, HN_MAX_FORECAST,
              in->new_plans_fc, NULL, NULL, &in->new_plans_fc_n);

    /* allocations */
    const json_t *al = json_object_get(figs, "hnb_before_deductions_gbp");
    int a_first = 9999, a_last = -1;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)al, k, v) {
        int y = period_year(k);
        if (y < 0)
            continue;
        a_first = y < a_first ? y : a_first;
        a_last = y > a_last ? y : a_last;
    }
    if (a_last < 0 || a_last - a_first >= HN_MAX_YEARS) {
        snprintf(reason, reasonlen, "%s has no published high needs block allocation", view->name);
        return HIGH_NEEDS_NO_ALLOCATION;
    }
    in->alloc_first = a_first;
    in->alloc_n = a_last - a_first + 1;
    for (int y = a_first; y <= a_last; y++)
        in->alloc[y - a_first] = fig_at(figs, "hnb_before_deductions_gbp", y);

    /* the opening balance: submitted £, else published % x total DSG */
    int by;
    double bv;
    in->base_year = py;
    in->opening_source = HN_BAL_NONE;
    in->opening_balance_gbp = NAN;
    if (view->own && fig_latest(figs, "dsg_cumulative_balance_gbp", &by, &bv) == 0 && by >= py) {
        in->base_year = by;
        in->opening_balance_gbp = bv;
        in->opening_source = HN_BAL_SUBMITTED;
    } else if (fig_latest(figs, "dsg_balance_pct_of_income", &by, &bv) == 0 && by >= py) {
        double dsg = fig_at(figs, "dsg_total_before_deductions_gbp", by);
        if (isfinite(dsg)) {
            in->base_year = by;
            in->opening_balance_gbp = bv / 100 * dsg;
            in->opening_source = HN_BAL_PUBLISHED_PCT;
        }
    }
    if (in->base_year >= HIGH_NEEDS_END_YEAR)
        in->base_year = HIGH_NEEDS_END_YEAR - 1;
    in->end_year = HIGH_NEEDS_END_YEAR;
    if (view->own && fig_latest(figs, "case_officers_fte", &by, &bv) == 0)
        in->case_officers_fte = bv;
    return HIGH_NEEDS_OK;
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Money to the penny, counts to 0.1: a trajectory is an estimate. */
static json_t *jgbp(double v)
{
    return isfinite(v) ? json_real(round(v)) : json_null();
}

static json_t *jyear(int y)
{
    char lab[8];
    if (!y)
        return json_null();
    hn_year_label(y, lab, sizeof lab);
    return json_string(lab);
}

/* ---- renderers ------------------------------------------------------------ */

json_t *high_needs_json(const struct high_needs_view *view, const struct hn_inputs *in,
                        const struct hn_levers *lv, const struct hn_result *res,
                        const struct hn_result *unmit)
{
    json_t *years = json_array();
    for (int k = 0; k < res->n; k++) {
        const struct hn_year *y = &res->years[k];
        json_t *pl = json_object(), *cost = json_object();
        for (int s = 0; s < HN_N_SETTINGS; s++) {
            json_object_set_new(pl, hn_setting_id(s), json_real(round(y->placements[s] * 10) / 10));
            json_object_set_new(cost, hn_setting_id(s), jgbp(y->cost[s]));
        }
        json_t *row = json_pack(
            "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o}",
            "financial_year", jyear(y->year), "placements", pl,
            "placements_total", json_real(round(y->placements_total * 10) / 10),
            "placements_lo80", json_real(round(y->placements_lo80 * 10) / 10),
            "placements_hi80", json_real(round(y->placements_hi80 * 10) / 10),
            "cost_per_placement_gbp", cost, "non_placement_gbp", jgbp(y->non_placement_gbp),
            "spend_gbp", jgbp(y->spend_gbp), "spend_lo80_gbp", jgbp(y->spend_lo80_gbp),
            "spend_hi80_gbp", jgbp(y->spend_hi80_gbp), "allocation_gbp", jgbp(y->allocation_gbp),
            "allocation_published", y->allocation_published, "in_year_balance_gbp",
            jgbp(y->in_year_balance_gbp), "cumulative_balance_gbp", jgbp(y->cumulative_balance_gbp),
            "cumulative_balance_lo80_gbp", jgbp(y->cumulative_balance_lo80_gbp),
            "cumulative_balance_hi80_gbp", jgbp(y->cumulative_balance_hi80_gbp));
        json_object_set_new(row, "staffing",
                            json_pack("{s:o, s:o, s:o, s:o}", "new_plans", jnum(y->new_plans),
                                      "officers_for_caseload", jnum(y->officers_for_caseload),
                                      "officers_for_new_plans_in_20_weeks",
                                      jnum(y->officers_for_new_plans),
                                      "caseload_per_officer", jnum(y->caseload_per_officer)));
        if (unmit && k < unmit->n)
            json_object_set_new(row, "unmitigated_cumulative_balance_gbp",
                                jgbp(unmit->years[k].cumulative_balance_gbp));
        json_array_append_new(years, row);
    }
    json_t *placed = json_object(), *costs = json_object();
    for (int s = 0; s < HN_N_SETTINGS; s++) {
        json_object_set_new(placed, hn_setting_id(s), json_real(in->placements[s]));
        json_object_set_new(
            costs, hn_setting_id(s),
            json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:s}", "label", hn_setting_label(s),
                      "gbp", jgbp(in->cost[s]), "source", hn_cost_source_str(in->cost_source[s]),
                      "source_words", high_needs_cost_source_words(in->cost_source[s]), "prices",
                      jyear(in->cost_price_year[s] ? in->cost_price_year[s] : in->cost_year),
                      "submitted_period",
                      view->cost_period[s][0] ? json_string(view->cost_period[s]) : json_null(),
                      "hnbt_gbp", jgbp(view->hnbt_cost[s]), "hnbt_source",
                      hn_cost_source_str(view->hnbt_cost_source[s])));
    }
    json_t *growth = json_object();
    for (int s = 0; s < HN_N_SETTINGS; s++)
        json_object_set_new(growth, hn_setting_id(s),
                            res->own_setting_forecast[s]
                                ? json_pack("{s:s, s:s}", "metric", setting_metric[s], "source",
                                            "own_setting_forecast")
                                : json_pack("{s:s, s:s}", "metric", "ehcp_caseload", "source",
                                            "caseload_forecast"));
    json_t *notes = json_array();
    for (int i = 0; i < res->n_notes; i++)
        json_array_append_new(notes, json_string(res->notes[i]));
    if (view->caseload_from_hnbt)
        json_array_append_new(notes, json_string("No SEN2 caseload at the HNBT year: the HNBT's "
                                                 "own count of EHC plans is the base the "
                                                 "forecast's growth applies to."));
    if (view->lever_years_clamped)
        json_array_append_new(notes, json_string("A lever year before the first projected year "
                                                 "acts from the first projected year."));
    json_t *scenario = json_null();
    if (view->has_scenario)
        scenario = json_pack("{s:I, s:s, s:i, s:b, s:s}", "id", (json_int_t)view->scenario_id,
                             "name", view->scenario_name, "version", view->scenario_version,
                             "shared", view->scenario_shared, "created_at", view->scenario_created);
    const struct hn_year *last = res->n ? &res->years[res->n - 1] : NULL;
    json_t *doc = json_pack(
        "{s:{s:s, s:s, s:s}, s:o, s:b, s:s, s:o, s:o, "
        "s:{s:o, s:o, s:s}, "
        "s:{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:{s:s, s:s, s:s}}, "
        "s:o, s:o, s:o, s:o, s:o}",
        "authority", "code", view->code, "old_code", view->old_code, "name", view->name,
        "scenario", scenario, "mitigated", view->has_scenario,
        "figures_used", view->own ? "published and the council's own submitted figures"
                                  : "published figures only",
        "base_year", jyear(in->base_year), "end_year", jyear(in->end_year),
        "opening_balance", "gbp", jgbp(in->opening_balance_gbp), "year", jyear(in->base_year),
        "source", hn_balance_source_str(in->opening_source),
        "inputs", "placements_year", jyear(in->placements_year), "placements", placed,
        "cost_per_placement", costs, "non_placement_gbp", jgbp(in->non_placement_gbp),
        "cost_inflation_pct", jnum(res->inflation_pct), "hnb_growth_pct",
        jnum(res->hnb_growth_pct), "non_placement_share_of_placement_spend",
        jnum(res->non_placement_share), "hnb_growth_source",
        res->growth_source == HN_GROWTH_HISTORY ? "published_history" : "assumed",
        "placement_growth", growth,
        "caseload", "metric", "ehcp_caseload", "model", view->caseload_model, "source",
        "the forecasting engine's stored forecast (GET /api/v1/forecasts/ehcp_caseload)",
        "levers", high_needs_levers_json(lv), "assumptions", notes, "years", years,
        "cumulative_balance_end_gbp", jgbp(last ? last->cumulative_balance_gbp : NAN),
        "sources", json_pack("[s, s, s, s]",
                             "ESFA DSG allocations 2019-20 to 2023-24 (high needs block before deductions, total DSG)",
                             "DfE High Needs Benchmarking Tool 2021-22 (placements by setting, s251 budget lines)",
                             "DfE SEND and AP inclusion dashboard: DSG cumulative balance as % of income",
                             "DfE SEN2: EHC plans in place, by setting, and new plans (via the forecasting engine)"));
    return doc;
}

struct sheet *high_needs_sheet(const struct hn_result *res)
{
    static const char *const head[] = {
        "financial_year", "placements_total", "spend_gbp", "allocation_gbp",
        "in_year_balance_gbp", "cumulative_balance_gbp", "cumulative_balance_lo80_gbp",
        "cumulative_balance_hi80_gbp"};
    static const char *const tail[] = {
        "placements_lo80", "placements_hi80", "spend_lo80_gbp", "spend_hi80_gbp",
        "allocation_published", "officers_for_caseload", "officers_for_new_plans_in_20_weeks"};
    struct sheet *sh = sheet_new("high_needs");
    if (!sh)
        return NULL;
    char col[64];
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        sheet_text(sh, head[i]);
    for (int s = 0; s < HN_N_SETTINGS; s++) {
        snprintf(col, sizeof col, "placements_%s", hn_setting_id(s));
        sheet_text(sh, col);
        snprintf(col, sizeof col, "cost_per_placement_%s_gbp", hn_setting_id(s));
        sheet_text(sh, col);
    }
    for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
        sheet_text(sh, tail[i]);
    sheet_end_row(sh);
    /* Plain numbers (no separators, no exponent): placements and officers
     * to 0.1, money to the pound; empty when unknown. */
    for (int k = 0; k < res->n; k++) {
        const struct hn_year *y = &res->years[k];
        char lab[8];
        hn_year_label(y->year, lab, sizeof lab);
        sheet_text(sh, lab);
        sheet_number(sh, y->placements_total, 1);
        sheet_number(sh, y->spend_gbp, 0);
        sheet_number(sh, y->allocation_gbp, 0);
        sheet_number(sh, y->in_year_balance_gbp, 0);
        sheet_number(sh, y->cumulative_balance_gbp, 0);
        sheet_number(sh, y->cumulative_balance_lo80_gbp, 0);
        sheet_number(sh, y->cumulative_balance_hi80_gbp, 0);
        for (int s = 0; s < HN_N_SETTINGS; s++) {
            sheet_number(sh, y->placements[s], 1);
            sheet_number(sh, y->cost[s], 0);
        }
        sheet_number(sh, y->placements_lo80, 1);
        sheet_number(sh, y->placements_hi80, 1);
        sheet_number(sh, y->spend_lo80_gbp, 0);
        sheet_number(sh, y->spend_hi80_gbp, 0);
        sheet_int(sh, y->allocation_published);
        sheet_number(sh, y->officers_for_caseload, 1);
        sheet_number(sh, y->officers_for_new_plans, 1);
        sheet_end_row(sh);
    }
    return sh;
}

int high_needs_csv(struct evbuffer *b, const struct hn_result *res)
{
    struct sheet *sh = high_needs_sheet(res);
    int rc = sh ? sheet_csv(sh, b, "\r\n") : -1;
    sheet_free(sh);
    return rc;
}
