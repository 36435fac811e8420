/*
 * The High Needs projection (see include/hn_projection.h).
 *
 * The trajectory is a chain of sums, kept deliberately simple so that a
 * finance officer can redo it in a spreadsheet:
 *   caseload path, and each setting's own path where it is forecast
 *   (forecasting engine) -> placements by setting (the HNBT year grown by
 *   them, moved by the levers) -> x cost per placement (uplifted by
 *   inflation) -> + non-placement lines at their share -> spend;
 *   allocation (published, else grown) - spend -> in-year balance;
 *   opening position + running sum of in-year balances -> cumulative.
 * Intervals come from the forecasts' 80% intervals only (costs and
 * allocations are taken as given) and are carried as whole paths: the
 * cumulative lower bound is the running sum of each year's high-spend
 * balance, i.e. the years are taken as perfectly correlated, which is what
 * a persistent demand path does.
 */
#include "hn_projection.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const setting_ids[HN_N_SETTINGS] = {
    "mainstream", "resourced_provision", "maintained_special", "independent_special",
    "hospital_ap", "post16", "other",
};
static const char *const setting_labels[HN_N_SETTINGS] = {
    "Mainstream school",
    "Resourced provision or SEN unit",
    "Maintained special school or special academy",
    "Non-maintained or independent special school",
    "Hospital school or alternative provision",
    "Post-16",
    "Other arrangements",
};

const char *hn_setting_id(enum hn_setting s)
{
    return (unsigned)s < HN_N_SETTINGS ? setting_ids[s] : "?";
}

const char *hn_setting_label(enum hn_setting s)
{
    return (unsigned)s < HN_N_SETTINGS ? setting_labels[s] : "?";
}

const char *hn_cost_source_str(enum hn_cost_source s)
{
    switch (s) {
    case HN_COST_SUBMITTED: return "submitted";
    case HN_COST_OWN_HNBT: return "own_hnbt_uplifted";
    case HN_COST_NEIGHBOURS: return "neighbours_median";
    default: return "none";
    }
}

const char *hn_balance_source_str(enum hn_balance_source s)
{
    switch (s) {
    case HN_BAL_SUBMITTED: return "submitted_gbp";
    case HN_BAL_PUBLISHED_PCT: return "published_pct_x_total_dsg";
    default: return "none";
    }
}

void hn_year_label(int year, char *out, size_t outlen)
{
    /* clamped to four digits: the label always fits its 8 bytes */
    unsigned y = year < 0 ? 0u : year > 9998 ? 9998u : (unsigned)year;
    snprintf(out, outlen, "%04u-%02u", y % 10000u, (y + 1u) % 100u);
}

void hn_levers_default(struct hn_levers *lv)
{
    memset(lv, 0, sizeof *lv);
    lv->cost_inflation_pct = NAN;
    lv->hnb_growth_pct = NAN;
    lv->target_caseload_per_officer = 120;
    lv->plans_per_officer_per_year = 40;
}

void hn_inputs_init(struct hn_inputs *in)
{
    memset(in, 0, sizeof *in);
    in->caseload_at_placements = NAN;
    for (int k = 0; k < HN_MAX_FORECAST; k++) {
        in->caseload_fc[k] = in->caseload_fc_lo80[k] = in->caseload_fc_hi80[k] = NAN;
        in->new_plans_fc[k] = NAN;
    }
    for (int s = 0; s < HN_N_SETTINGS; s++) {
        in->cost[s] = NAN;
        in->setting_at_placements[s] = NAN;
        for (int k = 0; k < HN_MAX_FORECAST; k++)
            in->setting_fc[s][k] = in->setting_fc_lo80[s][k] = in->setting_fc_hi80[s][k] = NAN;
    }
    for (int k = 0; k < HN_MAX_YEARS; k++)
        in->alloc[k] = NAN;
    in->opening_balance_gbp = NAN;
    in->base_placement_spend_gbp = NAN;
    in->case_officers_fte = NAN;
    in->default_inflation_pct = 3.0;
    in->default_hnb_growth_pct = 5.0;
}

double hn_median(double *vals, int n)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(vals[i]))
            vals[m++] = vals[i];
    if (m == 0)
        return NAN;
    /* insertion sort: at most a dozen neighbours */
    for (int i = 1; i < m; i++) {
        double v = vals[i];
        int j = i - 1;
        while (j >= 0 && vals[j] > v) {
            vals[j + 1] = vals[j];
            j--;
        }
        vals[j + 1] = v;
    }
    return m % 2 ? vals[m / 2] : 0.5 * (vals[m / 2 - 1] + vals[m / 2]);
}

double hn_spend(const double placements[HN_N_SETTINGS], const double cost[HN_N_SETTINGS],
                double non_placement_gbp)
{
    double sum = 0;
    for (int s = 0; s < HN_N_SETTINGS; s++)
        if (isfinite(cost[s]) && isfinite(placements[s]))
            sum += placements[s] * cost[s];
    return sum + (isfinite(non_placement_gbp) ? non_placement_gbp : 0);
}

static int in_range(double v, double lo, double hi)
{
    return isfinite(v) && v >= lo && v <= hi;
}

int hn_levers_check(const struct hn_levers *lv, int first_year, int last_year,
                    const char **field, const char **reason, int max)
{
    int n = 0;
#define BAD(f, why)                 \
    do {                            \
        if (n < max) {              \
            field[n] = (f);         \
            reason[n] = (why);      \
        }                           \
        n++;                        \
    } while (0)
    if (!in_range(lv->new_plans_growth_reduction_pct, 0, 100))
        BAD("new_plans_growth_reduction_pct", "must be a percentage from 0 to 100");
    if (lv->from_year != 0 && (lv->from_year < first_year || lv->from_year > last_year))
        BAD("from_year", "must be a financial year inside the projection");
    if (!in_range(lv->independent_to_maintained_pct, 0, 100))
        BAD("independent_to_maintained_pct", "must be a percentage from 0 to 100");
    if (!in_range(lv->new_special_places, 0, 100000))
        BAD("new_special_places", "must be a number of places from 0 to 100000");
    if (lv->new_special_places > 0 &&
        (lv->new_special_places_year < first_year || lv->new_special_places_year > last_year))
        BAD("new_special_places_year", "must be a financial year inside the projection when places open");
    if (!in_range(lv->new_special_place_cost_gbp, 0, HN_MAX_PLACEMENT_COST_GBP))
        BAD("new_special_place_cost_gbp",
            "must be from 0 to " HN_MAX_PLACEMENT_COST_TEXT " pounds a place a year");
    if (lv->new_special_places > 0 && !(lv->new_special_place_cost_gbp > 0))
        BAD("new_special_place_cost_gbp", "is required (above 0) when new special places open");
    if (!isnan(lv->cost_inflation_pct) && !in_range(lv->cost_inflation_pct, -20, 50))
        BAD("cost_inflation_pct", "must be a percentage from -20 to 50");
    if (!isnan(lv->hnb_growth_pct) && !in_range(lv->hnb_growth_pct, -20, 50))
        BAD("hnb_growth_pct", "must be a percentage from -20 to 50");
    if (!in_range(lv->extra_case_officers_fte, 0, 10000))
        BAD("extra_case_officers_fte", "must be from 0 to 10000 FTE");
    if (!in_range(lv->target_caseload_per_officer, 1, 10000))
        BAD("target_caseload_per_officer", "must be from 1 to 10000 plans an officer");
    if (!in_range(lv->plans_per_officer_per_year, 1, 10000))
        BAD("plans_per_officer_per_year", "must be from 1 to 10000 plans an officer a year");
#undef BAD
    return n;
}

static void note(struct hn_result *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct hn_result *out, const char *fmt, ...)
{
    if (out->n_notes >= HN_MAX_NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->notes[out->n_notes++], HN_NOTE_LEN, fmt, ap);
    va_end(ap);
}

/* A forecast path (fc, lo80, hi80 for years first .. first + n - 1) at year
 * y as (mean, lo80, hi80); beyond its last year it grows at the last year's
 * rate with the log half-widths widened by sqrt(h / h_last).  Returns 0, or
 * -1 when y is not covered. */
static int path_at(int first, int n, const double *fc, const double *fc_lo, const double *fc_hi,
                   int y, double *m, double *lo, double *hi)
{
    int k = y - first;
    if (k < 0 || n < 1)
        return -1;
    if (k < n) {
        *m = fc[k];
        *lo = fc_lo[k];
        *hi = fc_hi[k];
        return isfinite(*m) && isfinite(*lo) && isfinite(*hi) ? 0 : -1;
    }
    double last = fc[n - 1];
    double prev = n >= 2 ? fc[n - 2] : last;
    if (!(last > 0) || !(prev > 0))
        return -1;
    double g = last / prev;
    int extra = k - (n - 1);
    *m = last * pow(g, extra);
    /* the forecast's own horizon at its last point: years after the last
     * observed year (where lo == hi) */
    int h_last = 0;
    for (int j = 0; j < n; j++)
        if (fc_hi[j] > fc_lo[j])
            h_last++;
    double wl = 0, wh = 0;
    if (h_last > 0 && fc_lo[n - 1] > 0) {
        wl = log(last / fc_lo[n - 1]);
        wh = log(fc_hi[n - 1] / last);
    }
    double widen = h_last > 0 ? sqrt((double)(h_last + extra) / h_last) : 1;
    *lo = *m * exp(-wl * widen);
    *hi = *m * exp(wh * widen);
    return 0;
}

static int caseload_at(const struct hn_inputs *in, int y, double *m, double *lo, double *hi)
{
    return path_at(in->caseload_fc_first, in->caseload_fc_n, in->caseload_fc, in->caseload_fc_lo80,
                   in->caseload_fc_hi80, y, m, lo, hi);
}

/* Whether setting s has a forecast of its own to grow with. */
static int setting_has_own(const struct hn_inputs *in, int s)
{
    return in->setting_fc_n[s] > 0 && in->setting_fc_n[s] <= HN_MAX_FORECAST &&
           in->setting_at_placements[s] > 0;
}

int hn_project(const struct hn_inputs *in, const struct hn_levers *lv_in, struct hn_result *out)
{
    memset(out, 0, sizeof *out);
    struct hn_levers lv;
    if (lv_in)
        lv = *lv_in;
    else
        hn_levers_default(&lv);
    int n = in->end_year - in->base_year;
    if (n < 1 || n > HN_MAX_YEARS || in->placements_year > in->end_year ||
        in->placements_year < in->end_year - 40 || in->caseload_fc_n < 0 ||
        in->caseload_fc_n > HN_MAX_FORECAST || in->alloc_n < 0 || in->alloc_n > HN_MAX_YEARS ||
        in->new_plans_fc_n < 0 || in->new_plans_fc_n > HN_MAX_FORECAST)
        return HN_ERR_ARG;
    const char *f[1], *r[1];
    if (hn_levers_check(&lv, in->base_year + 1, in->end_year, f, r, 1) != 0)
        return HN_ERR_ARG;

    double base_total = 0;
    for (int s = 0; s < HN_N_SETTINGS; s++) {
        if (!isfinite(in->placements[s]) || in->placements[s] < 0)
            return HN_ERR_NO_DATA;
        base_total += in->placements[s];
        out->own_setting_forecast[s] = setting_has_own(in, s);
    }
    if (!(base_total > 0) || !(in->caseload_at_placements > 0))
        return HN_ERR_NO_DATA;

    double infl = isfinite(lv.cost_inflation_pct) ? lv.cost_inflation_pct : in->default_inflation_pct;
    out->inflation_pct = infl;

    /* Allocation growth beyond the published years. */
    int a_first = -1, a_last = -1;
    for (int k = 0; k < in->alloc_n; k++)
        if (isfinite(in->alloc[k]) && in->alloc[k] > 0) {
            if (a_first < 0)
                a_first = k;
            a_last = k;
        }
    if (a_last < 0)
        return HN_ERR_NO_DATA;
    if (isfinite(lv.hnb_growth_pct)) {
        out->hnb_growth_pct = lv.hnb_growth_pct;
        out->growth_source = HN_GROWTH_ASSUMED;
    } else if (a_last > a_first) {
        out->hnb_growth_pct =
            100 * (pow(in->alloc[a_last] / in->alloc[a_first], 1.0 / (a_last - a_first)) - 1);
        out->growth_source = HN_GROWTH_HISTORY;
    } else {
        out->hnb_growth_pct = in->default_hnb_growth_pct;
        out->growth_source = HN_GROWTH_ASSUMED;
    }

    /* Non-placement lines as a share of placement spend in the cost year. */
    double base_place_spend = isfinite(in->base_placement_spend_gbp)
                                  ? in->base_placement_spend_gbp
                                  : hn_spend(in->placements, in->cost, 0);
    double np_share = 0;
    if (base_place_spend > 0 && isfinite(in->non_placement_gbp) && in->non_placement_gbp > 0)
        np_share = in->non_placement_gbp / base_place_spend;
    out->non_placement_share = np_share;

    int from = lv.from_year ? lv.from_year : in->base_year + 1;
    double red = lv.new_plans_growth_reduction_pct / 100;
    double move = lv.independent_to_maintained_pct / 100;
    double ratio_hnbt = base_total / in->caseload_at_placements;

    /* Walk every year from the placements year to the end: the levers act
     * on increments, so the years between the HNBT year and the first
     * projected year are needed even when they are not shown. */
    double u_prev = base_total, m_prev = base_total;   /* unmitigated, mitigated */
    double ind_prev = in->placements[HN_INDEPENDENT];
    double moved = 0;
    double cum = isfinite(in->opening_balance_gbp) ? in->opening_balance_gbp : 0;
    double cum_lo = cum, cum_hi = cum;
    for (int y = in->placements_year + 1; y <= in->end_year; y++) {
        double cm, clo, chi;
        if (caseload_at(in, y, &cm, &clo, &chi) != 0 || !(cm > 0))
            return HN_ERR_NO_DATA;
        double g = cm / in->caseload_at_placements;
        /* Each setting's unmitigated placements: grown with its own
         * forecast, else with the caseload's; flo/fhi its interval as
         * factors of the point. */
        double us[HN_N_SETTINGS], flo[HN_N_SETTINGS], fhi[HN_N_SETTINGS];
        double u = 0;
        for (int s = 0; s < HN_N_SETTINGS; s++) {
            double sm, slo, shi;
            if (out->own_setting_forecast[s] &&
                path_at(in->setting_fc_first[s], in->setting_fc_n[s], in->setting_fc[s],
                        in->setting_fc_lo80[s], in->setting_fc_hi80[s], y, &sm, &slo, &shi) == 0 &&
                sm >= 0) {
                us[s] = in->placements[s] * sm / in->setting_at_placements[s];
                flo[s] = sm > 0 ? slo / sm : 1;
                fhi[s] = sm > 0 ? shi / sm : 1;
            } else if (out->own_setting_forecast[s]) {
                return HN_ERR_NO_DATA;
            } else {
                us[s] = in->placements[s] * g;
                flo[s] = clo / cm;
                fhi[s] = chi / cm;
            }
            u += us[s];
        }
        if (!(u > 0))
            return HN_ERR_NO_DATA;
        double inc = u - u_prev;
        if (y >= from && inc > 0)
            inc *= 1 - red;
        double mtot = m_prev + inc;
        /* The levers change the total; every setting keeps its share of
         * the unmitigated path (with no setting forecasts: the HNBT
         * year's shares). */
        double scale = mtot / u;
        double p[HN_N_SETTINGS];
        for (int s = 0; s < HN_N_SETTINGS; s++)
            p[s] = us[s] * scale;
        double new_ind = p[HN_INDEPENDENT] - ind_prev;
        ind_prev = p[HN_INDEPENDENT];
        if (y >= from && new_ind > 0)
            moved += move * new_ind;
        if (moved > p[HN_INDEPENDENT])
            moved = p[HN_INDEPENDENT];
        p[HN_INDEPENDENT] -= moved;
        p[HN_SPECIAL] += moved;
        double opened = 0;
        if (lv.new_special_places > 0 && y >= lv.new_special_places_year) {
            opened = lv.new_special_places < p[HN_INDEPENDENT] ? lv.new_special_places
                                                                : p[HN_INDEPENDENT];
            p[HN_INDEPENDENT] -= opened;
        }
        double unmit_for_newplans = u - u_prev;
        double mit_inc = inc;
        u_prev = u;
        m_prev = mtot;
        if (y <= in->base_year)
            continue;

        struct hn_year *yr = &out->years[out->n++];
        yr->year = y;
        double place_spend = 0, var_spend = 0, var_lo = 0, var_hi = 0;
        double pl_lo = 0, pl_hi = 0;
        for (int s = 0; s < HN_N_SETTINGS; s++) {
            int prices = in->cost_price_year[s] ? in->cost_price_year[s] : in->cost_year;
            double uplift = pow(1 + infl / 100, y - prices);
            double c = isfinite(in->cost[s]) ? in->cost[s] * uplift : 0;
            double sp = p[s] * c;
            yr->placement_spend_gbp[s] = sp;
            yr->cost[s] = isfinite(in->cost[s]) ? c : NAN;
            var_spend += sp;
            var_lo += sp * flo[s];
            var_hi += sp * fhi[s];
            pl_lo += p[s] * flo[s];
            pl_hi += p[s] * fhi[s];
        }
        double open_spend = 0;
        if (opened > 0) {
            open_spend = opened * lv.new_special_place_cost_gbp *
                         pow(1 + infl / 100, y - lv.new_special_places_year);
            yr->placement_spend_gbp[HN_SPECIAL] += open_spend;
            double sp_places = p[HN_SPECIAL] + opened;
            yr->cost[HN_SPECIAL] = yr->placement_spend_gbp[HN_SPECIAL] / sp_places;
            p[HN_SPECIAL] += opened;
        }
        place_spend = var_spend + open_spend;
        double total = 0;
        for (int s = 0; s < HN_N_SETTINGS; s++) {
            yr->placements[s] = p[s];
            total += p[s];
        }
        yr->placements_total = total;
        /* the interval scales the demand-driven part, setting by setting
         * (the settings' paths taken as perfectly correlated, as the years
         * are); opened places are fixed */
        yr->placements_lo80 = pl_lo + opened;
        yr->placements_hi80 = pl_hi + opened;
        yr->non_placement_gbp = np_share * place_spend;
        yr->spend_gbp = place_spend + yr->non_placement_gbp;
        yr->spend_lo80_gbp = (var_lo + open_spend) * (1 + np_share);
        yr->spend_hi80_gbp = (var_hi + open_spend) * (1 + np_share);

        int ak = y - in->alloc_first;
        if (ak >= 0 && ak < in->alloc_n && isfinite(in->alloc[ak]) && in->alloc[ak] > 0) {
            yr->allocation_gbp = in->alloc[ak];
            yr->allocation_published = 1;
        } else {
            int last_year = in->alloc_first + a_last;
            yr->allocation_gbp =
                in->alloc[a_last] * pow(1 + out->hnb_growth_pct / 100, y - last_year);
        }
        yr->in_year_balance_gbp = yr->allocation_gbp - yr->spend_gbp;
        cum += yr->in_year_balance_gbp;
        cum_lo += yr->allocation_gbp - yr->spend_hi80_gbp;
        cum_hi += yr->allocation_gbp - yr->spend_lo80_gbp;
        yr->cumulative_balance_gbp = cum;
        yr->cumulative_balance_lo80_gbp = cum_lo;
        yr->cumulative_balance_hi80_gbp = cum_hi;

        /* staffing */
        int nk = y - in->new_plans_fc_first, nn = in->new_plans_fc_n;
        double np = nk >= 0 && nk < nn ? in->new_plans_fc[nk] : NAN;
        /* beyond the new-plans forecast: its last yearly growth */
        if (nk >= nn && nn >= 2 && in->new_plans_fc[nn - 1] > 0 && in->new_plans_fc[nn - 2] > 0)
            np = in->new_plans_fc[nn - 1] *
                 pow(in->new_plans_fc[nn - 1] / in->new_plans_fc[nn - 2], nk - (nn - 1));
        if (isfinite(np) && y >= from && unmit_for_newplans > mit_inc)
            np -= (unmit_for_newplans - mit_inc) / ratio_hnbt;
        yr->new_plans = isfinite(np) ? (np > 0 ? np : 0) : NAN;
        yr->officers_for_caseload = total / lv.target_caseload_per_officer;
        yr->officers_for_new_plans =
            isfinite(yr->new_plans) ? yr->new_plans / lv.plans_per_officer_per_year : NAN;
        double officers = in->case_officers_fte + lv.extra_case_officers_fte;
        yr->caseload_per_officer = isfinite(officers) && officers > 0 ? total / officers : NAN;
    }
    if (out->n != n)
        return HN_ERR_ARG;

    /* The assumptions, in the order a reader checks them. */
    char a[8], b[8];
    hn_year_label(in->placements_year, a, sizeof a);
    char own[200] = "", total_only[200] = "";
    for (int s = 0; s < HN_N_SETTINGS; s++) {
        char *dst = out->own_setting_forecast[s] ? own : total_only;
        size_t len = strlen(dst);
        snprintf(dst + len, 200 - len, "%s%s", len ? ", " : "", setting_ids[s]);
    }
    if (!own[0])
        note(out, "Placements by setting start from the High Needs Benchmarking Tool (%s) and "
                  "grow with the forecasting engine's caseload forecast (pooled across "
                  "authorities, 80%% interval); each setting keeps its %s share unless a lever "
                  "moves it.", a, a);
    else
        note(out, "Placements by setting start from the High Needs Benchmarking Tool (%s); each "
                  "setting grows with the forecasting engine's forecast of its own SEN2 plans in "
                  "place (pooled across authorities, 80%% interval: %s)%s%s%s.", a, own,
             total_only[0] ? "; " : "", total_only[0] ? total_only : "",
             total_only[0] ? " with the total caseload forecast" : "");
    if (in->caseload_fc_n > 0) {
        hn_year_label(in->caseload_fc_first + in->caseload_fc_n - 1, b, sizeof b);
        if (in->end_year > in->caseload_fc_first + in->caseload_fc_n - 1)
            note(out, "After %s the caseload grows at the forecast's last yearly rate, its "
                      "interval widening with the square root of the horizon.", b);
    }
    hn_year_label(in->cost_year, a, sizeof a);
    note(out, "Costs per placement are in %s prices, uplifted by %.1f%% a year%s.", a, infl,
         isfinite(lv.cost_inflation_pct) ? " (this scenario's inflation)" : " (default inflation)");
    for (int s = 0; s < HN_N_SETTINGS; s++) {
        if (in->cost_source[s] == HN_COST_NEIGHBOURS)
            note(out, "%s: no cost of its own in the HNBT, the median of its statistical "
                      "neighbours' is used.", hn_setting_label(s));
        if (in->cost_source[s] == HN_COST_SUBMITTED) {
            hn_year_label(in->cost_price_year[s] ? in->cost_price_year[s] : in->cost_year, b,
                          sizeof b);
            note(out, "%s: the council's own submitted cost per placement (%s prices) is used "
                      "instead of the HNBT's indicative cost, uplifted from %s.",
                 hn_setting_label(s), b, b);
        }
    }
    note(out, "Spend that is not placements (SEN support, therapies, hospital and alternative "
              "provision lines and what the HNBT does not split by setting) is held at %.1f%% "
              "of placement spend, its %s share.", 100 * np_share, a);
    hn_year_label(in->alloc_first + a_last, b, sizeof b);
    note(out, "The allocation is the high needs block before deductions (as the HNBT budget "
              "lines are gross); published to %s, then growing %.2f%% a year (%s).", b,
         out->hnb_growth_pct,
         out->growth_source == HN_GROWTH_HISTORY ? "its average growth over the published years"
         : isfinite(lv.hnb_growth_pct)          ? "this scenario's assumption"
                                                : "default assumption");
    hn_year_label(in->base_year, a, sizeof a);
    if (in->opening_source == HN_BAL_SUBMITTED)
        note(out, "The cumulative balance starts from the council's submitted DSG balance for %s.", a);
    else if (in->opening_source == HN_BAL_PUBLISHED_PCT)
        note(out, "The cumulative balance starts from the DfE's published DSG balance as %% of "
                  "income for %s times that year's total DSG (before deductions).", a);
    else
        note(out, "No DSG balance is known for %s: the cumulative balance starts from zero.", a);
    note(out, "The 80%% interval of the cumulative balance carries the placement forecasts' "
              "intervals through every year and every setting (a high-demand year is followed "
              "by high-demand years).");
    if (lv.new_plans_growth_reduction_pct > 0) {
        hn_year_label(from, a, sizeof a);
        note(out, "From %s the yearly increase in EHC plans is %.1f%% smaller.", a,
             lv.new_plans_growth_reduction_pct);
    }
    if (lv.independent_to_maintained_pct > 0) {
        hn_year_label(from, a, sizeof a);
        note(out, "From %s, %.1f%% of each year's new independent placements go to maintained "
                  "special schools instead.", a, lv.independent_to_maintained_pct);
    }
    if (lv.new_special_places > 0) {
        hn_year_label(lv.new_special_places_year, a, sizeof a);
        note(out, "%.0f maintained special places open in %s at %.0f pounds a place a year "
                  "(then uplifted), each filled by a child who would otherwise be in an "
                  "independent placement.", lv.new_special_places, a,
             lv.new_special_place_cost_gbp);
    }
    note(out, "Staffing: officers to hold %.0f plans each, and to issue the forecast new plans "
              "within 20 weeks at %.0f plans an officer a year; case officers are not DSG spend.",
         lv.target_caseload_per_officer, lv.plans_per_officer_per_year);
    return HN_OK;
}
