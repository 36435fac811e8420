/* The High Needs projection's arithmetic (forecasts/hn_projection.c). */
#include <math.h>
#include <string.h>

#include "hn_projection.h"
#include "unit.h"

/* A small authority: 1,000 plans in 2021-22 (HNBT), caseload forecast
 * growing 10% a year with a +-5% interval, flat costs. */
static void inputs_simple(struct hn_inputs *in, double growth)
{
    hn_inputs_init(in);
    in->base_year = 2021;
    in->end_year = 2026;
    in->placements_year = 2021;
    double pl[HN_N_SETTINGS] = {400, 50, 300, 100, 10, 100, 40};
    memcpy(in->placements, pl, sizeof pl);
    in->caseload_at_placements = 1000;
    in->caseload_fc_first = 2022;
    in->caseload_fc_n = 5;
    double c = 1000;
    for (int k = 0; k < 5; k++) {
        c *= 1 + growth;
        in->caseload_fc[k] = c;
        in->caseload_fc_lo80[k] = c * 0.95;
        in->caseload_fc_hi80[k] = c * 1.05;
    }
    in->cost_year = 2021;
    double cost[HN_N_SETTINGS] = {8000, 15000, 25000, 60000, NAN, 9000, NAN};
    memcpy(in->cost, cost, sizeof cost);
    for (int s = 0; s < HN_N_SETTINGS; s++)
        in->cost_source[s] = isnan(cost[s]) ? HN_COST_NONE : HN_COST_OWN_HNBT;
    in->non_placement_gbp = 2000000;
    in->default_inflation_pct = 0;
    in->alloc_first = 2019;
    in->alloc_n = 5;
    double al[5] = {20e6, 21e6, 22e6, 23e6, 24e6};
    memcpy(in->alloc, al, sizeof al);
    in->opening_balance_gbp = -3e6;
    in->opening_source = HN_BAL_PUBLISHED_PCT;
    in->case_officers_fte = 8;
}

static void test_cumulative_is_running_sum(void)
{
    double growths[] = {0.0, 0.05, 0.10, -0.03, 0.25};
    for (size_t t = 0; t < sizeof growths / sizeof *growths; t++) {
        struct hn_inputs in;
        inputs_simple(&in, growths[t]);
        struct hn_result r;
        CHECK(hn_project(&in, NULL, &r) == HN_OK);
        CHECK(r.n == 5);
        double cum = in.opening_balance_gbp;
        for (int k = 0; k < r.n; k++) {
            const struct hn_year *y = &r.years[k];
            CHECK(y->year == 2022 + k);
            CHECK_NEAR(y->in_year_balance_gbp, y->allocation_gbp - y->spend_gbp, 1e-12);
            cum += y->in_year_balance_gbp;
            CHECK_NEAR(y->cumulative_balance_gbp, cum, 1e-12);
            CHECK(y->cumulative_balance_lo80_gbp <= y->cumulative_balance_gbp);
            CHECK(y->cumulative_balance_gbp <= y->cumulative_balance_hi80_gbp);
        }
    }
}

static void test_spend_is_sum_over_settings(void)
{
    struct hn_inputs in;
    inputs_simple(&in, 0.07);
    in.default_inflation_pct = 3.5;
    struct hn_result r;
    CHECK(hn_project(&in, NULL, &r) == HN_OK);
    for (int k = 0; k < r.n; k++) {
        const struct hn_year *y = &r.years[k];
        double sum = 0, places = 0;
        for (int s = 0; s < HN_N_SETTINGS; s++) {
            double c = isfinite(y->cost[s]) ? y->cost[s] : 0;
            CHECK_NEAR(y->placement_spend_gbp[s], y->placements[s] * c, 1e-12);
            sum += y->placement_spend_gbp[s];
            places += y->placements[s];
        }
        CHECK_NEAR(y->spend_gbp, sum + y->non_placement_gbp, 1e-12);
        CHECK_NEAR(y->placements_total, places, 1e-12);
        CHECK_NEAR(y->spend_gbp, hn_spend(y->placements, y->cost, y->non_placement_gbp), 1e-12);
        /* costs uplifted from 2021-22 prices */
        CHECK_NEAR(y->cost[HN_INDEPENDENT], 60000 * pow(1.035, y->year - 2021), 1e-12);
    }
}

/* Hand-worked: no growth, no inflation: every year spends the 2021-22
 * budget.  Placements 8000*400 + 15000*50 + 25000*300 + 60000*100 + 9000*100
 * = 3.2m + 0.75m + 7.5m + 6m + 0.9m = 18.35m, + 2m non-placement = 20.35m. */
static void test_hand_worked(void)
{
    struct hn_inputs in;
    inputs_simple(&in, 0);
    struct hn_result r;
    CHECK(hn_project(&in, NULL, &r) == HN_OK);
    CHECK_NEAR(r.non_placement_share, 2.0 / 18.35, 1e-12);
    CHECK_NEAR(r.years[0].spend_gbp, 20.35e6, 1e-12);
    CHECK_NEAR(r.years[0].allocation_gbp, 23e6, 1e-12);      /* 2022-23 published */
    CHECK(r.years[0].allocation_published == 1);
    CHECK_NEAR(r.years[1].allocation_gbp, 24e6, 1e-12);
    /* beyond: average growth of 20m -> 24m over four years */
    double g = pow(24.0 / 20.0, 0.25);
    CHECK_NEAR(r.hnb_growth_pct, 100 * (g - 1), 1e-12);
    CHECK(r.years[2].allocation_published == 0);
    CHECK_NEAR(r.years[2].allocation_gbp, 24e6 * g, 1e-12);
    CHECK_NEAR(r.years[0].cumulative_balance_gbp, -3e6 + 23e6 - 20.35e6, 1e-12);
    CHECK_NEAR(r.years[1].cumulative_balance_gbp, -3e6 + 2.65e6 + 3.65e6, 1e-12);
    /* staffing: 1,000 plans / 120 an officer; 1000 / 8 officers */
    CHECK_NEAR(r.years[0].officers_for_caseload, 1000.0 / 120, 1e-12);
    CHECK_NEAR(r.years[0].caseload_per_officer, 125, 1e-12);
    CHECK(isnan(r.years[0].officers_for_new_plans));
}

static void same_result(const struct hn_result *a, const struct hn_result *b)
{
    CHECK(a->n == b->n);
    for (int k = 0; k < a->n && k < b->n; k++) {
        CHECK(a->years[k].spend_gbp == b->years[k].spend_gbp);
        CHECK(a->years[k].cumulative_balance_gbp == b->years[k].cumulative_balance_gbp);
        CHECK(a->years[k].cumulative_balance_lo80_gbp == b->years[k].cumulative_balance_lo80_gbp);
        for (int s = 0; s < HN_N_SETTINGS; s++)
            CHECK(a->years[k].placements[s] == b->years[k].placements[s]);
    }
}

static void test_zero_levers_are_unmitigated(void)
{
    struct hn_inputs in;
    inputs_simple(&in, 0.09);
    struct hn_result un, z;
    CHECK(hn_project(&in, NULL, &un) == HN_OK);
    struct hn_levers lv;
    hn_levers_default(&lv);
    lv.from_year = 2024;
    lv.new_special_places_year = 2025;
    lv.new_special_place_cost_gbp = 30000;   /* no places: the cost is unused */
    lv.extra_case_officers_fte = 0;
    CHECK(hn_project(&in, &lv, &z) == HN_OK);
    same_result(&un, &z);
    /* explicit inflation equal to the default is the same too */
    lv.cost_inflation_pct = in.default_inflation_pct;
    CHECK(hn_project(&in, &lv, &z) == HN_OK);
    same_result(&un, &z);
}

/* A balance that starts in surplus and ends in deficit: plain sums, no
 * logarithms, finite everywhere. */
static void test_money_crosses_zero(void)
{
    struct hn_inputs in;
    inputs_simple(&in, 0.15);
    in.opening_balance_gbp = 5e6;
    struct hn_result r;
    CHECK(hn_project(&in, NULL, &r) == HN_OK);
    int pos = 0, neg = 0;
    double cum = 5e6;
    for (int k = 0; k < r.n; k++) {
        const struct hn_year *y = &r.years[k];
        CHECK(isfinite(y->cumulative_balance_gbp) && isfinite(y->cumulative_balance_lo80_gbp) &&
              isfinite(y->cumulative_balance_hi80_gbp) && isfinite(y->in_year_balance_gbp));
        cum += y->allocation_gbp - y->spend_gbp;
        CHECK_NEAR(y->cumulative_balance_gbp, cum, 1e-12);
        pos += y->cumulative_balance_gbp > 0;
        neg += y->cumulative_balance_gbp < 0;
    }
    CHECK(pos > 0 && neg > 0);
    /* a zero opening and a zero allocation history row elsewhere */
    in.opening_balance_gbp = 0;
    CHECK(hn_project(&in, NULL, &r) == HN_OK);
    CHECK(isfinite(r.years[r.n - 1].cumulative_balance_gbp));
}

static void test_levers_move_placements(void)
{
    struct hn_inputs in;
    inputs_simple(&in, 0.10);
    struct hn_result un, m;
    CHECK(hn_project(&in, NULL, &un) == HN_OK);
    struct hn_levers lv;

    /* growth cut by 100% from 2024-25: plans stay at the 2023-24 level */
    hn_levers_default(&lv);
    lv.new_plans_growth_reduction_pct = 100;
    lv.from_year = 2024;
    CHECK(hn_project(&in, &lv, &m) == HN_OK);
    CHECK_NEAR(m.years[0].placements_total, un.years[0].placements_total, 1e-12);
    CHECK_NEAR(m.years[1].placements_total, un.years[1].placements_total, 1e-12);
    CHECK_NEAR(m.years[2].placements_total, un.years[1].placements_total, 1e-12);
    CHECK_NEAR(m.years[4].placements_total, un.years[1].placements_total, 1e-12);
    CHECK(m.years[4].spend_gbp < un.years[4].spend_gbp);
    CHECK(m.years[4].cumulative_balance_gbp > un.years[4].cumulative_balance_gbp);

    /* all new independent placements to maintained special from 2022-23:
     * independent stays at 100, the total is unchanged */
    hn_levers_default(&lv);
    lv.independent_to_maintained_pct = 100;
    CHECK(hn_project(&in, &lv, &m) == HN_OK);
    for (int k = 0; k < m.n; k++) {
        CHECK_NEAR(m.years[k].placements[HN_INDEPENDENT], 100, 1e-9);
        CHECK_NEAR(m.years[k].placements_total, un.years[k].placements_total, 1e-12);
        CHECK_NEAR(m.years[k].placements[HN_SPECIAL] + m.years[k].placements[HN_INDEPENDENT],
                   un.years[k].placements[HN_SPECIAL] + un.years[k].placements[HN_INDEPENDENT],
                   1e-12);
    }
    /* 60k -> 25k a placement: spend falls by 35k for each one moved */
    double moved = un.years[4].placements[HN_INDEPENDENT] - 100;
    CHECK_NEAR(un.years[4].placement_spend_gbp[HN_INDEPENDENT] +
                   un.years[4].placement_spend_gbp[HN_SPECIAL] -
                   m.years[4].placement_spend_gbp[HN_INDEPENDENT] -
                   m.years[4].placement_spend_gbp[HN_SPECIAL],
               moved * 35000, 1e-9);

    /* 20 special places in 2024-25 at 30k: 20 fewer independent from then */
    hn_levers_default(&lv);
    lv.new_special_places = 20;
    lv.new_special_places_year = 2024;
    lv.new_special_place_cost_gbp = 30000;
    CHECK(hn_project(&in, &lv, &m) == HN_OK);
    CHECK_NEAR(m.years[1].placements[HN_INDEPENDENT], un.years[1].placements[HN_INDEPENDENT], 1e-12);
    for (int k = 2; k < m.n; k++) {
        CHECK_NEAR(m.years[k].placements[HN_INDEPENDENT],
                   un.years[k].placements[HN_INDEPENDENT] - 20, 1e-9);
        CHECK_NEAR(un.years[k].spend_gbp - m.years[k].spend_gbp,
                   20 * (60000 - 30000) * (1 + un.non_placement_share), 1e-9);
    }
}

static void test_extension_beyond_forecast(void)
{
    struct hn_inputs in;
    inputs_simple(&in, 0.10);
    in.end_year = 2029;            /* forecast ends 2026-27 */
    struct hn_result r;
    CHECK(hn_project(&in, NULL, &r) == HN_OK);
    CHECK(r.n == 8);
    CHECK_NEAR(r.years[7].placements_total / r.years[6].placements_total, 1.10, 1e-9);
    /* half-widths widen: log(1.05) * sqrt(8/5) at the last year */
    CHECK_NEAR(log(r.years[7].placements_hi80 / r.years[7].placements_total),
               log(1.05) * sqrt(8.0 / 5.0), 1e-9);
    in.caseload_fc_n = 0;
    CHECK(hn_project(&in, NULL, &r) == HN_ERR_NO_DATA);
}

static void test_levers_check(void)
{
    struct {
        const char *field;
    } cases[] = {
        {"new_plans_growth_reduction_pct"},
        {"from_year"},
        {"independent_to_maintained_pct"},
        {"new_special_places_year"},
        {"cost_inflation_pct"},
        {"hnb_growth_pct"},
        {"extra_case_officers_fte"},
    };
    const char *f[8], *why[8];
    struct hn_levers lv;
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        hn_levers_default(&lv);
        CHECK(hn_levers_check(&lv, 2022, 2029, f, why, 8) == 0);
        switch (t) {
        case 0: lv.new_plans_growth_reduction_pct = 101; break;
        case 1: lv.from_year = 2035; break;
        case 2: lv.independent_to_maintained_pct = -1; break;
        case 3: lv.new_special_places = 10; lv.new_special_place_cost_gbp = 1; lv.new_special_places_year = 2019; break;
        case 4: lv.cost_inflation_pct = 80; break;
        case 5: lv.hnb_growth_pct = INFINITY; break;
        case 6: lv.extra_case_officers_fte = NAN; break;
        }
        CHECK(hn_levers_check(&lv, 2022, 2029, f, why, 8) == 1);
        CHECK_STR(f[0], cases[t].field);
    }
    hn_levers_default(&lv);
    lv.new_special_places = 10;
    lv.new_special_places_year = 2027;
    CHECK(hn_levers_check(&lv, 2022, 2029, f, why, 8) == 1);
    CHECK_STR(f[0], "new_special_place_cost_gbp");
}

static void test_median_and_derby(void)
{
    double v[] = {3, NAN, 1, 2, 10};
    CHECK_NEAR(hn_median(v, 5), 2.5, 1e-15);
    double w[] = {NAN};
    CHECK(isnan(hn_median(w, 1)));
    /* Derby 2021-22: independent/non-maintained top-up 10,388,581 over 166 */
    CHECK_NEAR(10388581.0 / 166, 62581.8, 1e-5);
    char lab[8];
    hn_year_label(2029, lab, sizeof lab);
    CHECK_STR(lab, "2029-30");
    hn_year_label(1999, lab, sizeof lab);
    CHECK_STR(lab, "1999-00");
}

static void test_bad_inputs(void)
{
    struct hn_inputs in;
    struct hn_result r;
    inputs_simple(&in, 0.1);
    in.end_year = in.base_year;
    CHECK(hn_project(&in, NULL, &r) == HN_ERR_ARG);
    inputs_simple(&in, 0.1);
    in.end_year = in.base_year + HN_MAX_YEARS + 1;
    CHECK(hn_project(&in, NULL, &r) == HN_ERR_ARG);
    inputs_simple(&in, 0.1);
    in.placements[HN_SPECIAL] = NAN;
    CHECK(hn_project(&in, NULL, &r) == HN_ERR_NO_DATA);
    inputs_simple(&in, 0.1);
    for (int k = 0; k < in.alloc_n; k++)
        in.alloc[k] = NAN;
    CHECK(hn_project(&in, NULL, &r) == HN_ERR_NO_DATA);
    inputs_simple(&in, 0.1);
    struct hn_levers lv;
    hn_levers_default(&lv);
    lv.independent_to_maintained_pct = 200;
    CHECK(hn_project(&in, &lv, &r) == HN_ERR_ARG);
}

/* Settings with a forecast of their own grow with it (and carry its
 * interval); the others with the caseload.  Independent placements
 * forecast to grow 20% a year while the caseload grows 5%: independent
 * spend follows the 20%, mainstream the 5%, and with the same forecast
 * for every setting as the caseload's the result is the caseload-only
 * one. */
static void set_own(struct hn_inputs *in, int s, double base, double growth, double half)
{
    in->setting_at_placements[s] = base;
    in->setting_fc_first[s] = 2022;
    in->setting_fc_n[s] = 5;
    double c = base;
    for (int k = 0; k < 5; k++) {
        c *= 1 + growth;
        in->setting_fc[s][k] = c;
        in->setting_fc_lo80[s][k] = c * (1 - half);
        in->setting_fc_hi80[s][k] = c * (1 + half);
    }
}

static void test_settings_grow_with_their_own_forecast(void)
{
    struct hn_inputs in;
    inputs_simple(&in, 0.05);
    /* SEN2's count differs from the HNBT's (another source): only the
     * growth is taken from it */
    set_own(&in, HN_INDEPENDENT, 130, 0.20, 0.10);
    struct hn_result r, base;
    CHECK(hn_project(&in, NULL, &r) == HN_OK);
    CHECK(r.own_setting_forecast[HN_INDEPENDENT] == 1);
    CHECK(r.own_setting_forecast[HN_MAINSTREAM] == 0);
    for (int k = 0; k < r.n; k++) {
        const struct hn_year *y = &r.years[k];
        CHECK_NEAR(y->placements[HN_INDEPENDENT], 100 * pow(1.2, k + 1), 1e-9);
        CHECK_NEAR(y->placements[HN_MAINSTREAM], 400 * pow(1.05, k + 1), 1e-9);
        double total = 0, lo = 0, hi = 0;
        for (int s = 0; s < HN_N_SETTINGS; s++) {
            total += y->placements[s];
            double f = s == HN_INDEPENDENT ? 0.10 : 0.05;
            lo += y->placements[s] * (1 - f);
            hi += y->placements[s] * (1 + f);
        }
        CHECK_NEAR(y->placements_total, total, 1e-9);
        CHECK_NEAR(y->placements_lo80, lo, 1e-9);
        CHECK_NEAR(y->placements_hi80, hi, 1e-9);
        CHECK(y->spend_lo80_gbp < y->spend_gbp && y->spend_gbp < y->spend_hi80_gbp);
    }
    int named = 0;
    for (int i = 0; i < r.n_notes; i++)
        named |= strstr(r.notes[i], "own SEN2 plans in place") != NULL &&
                 strstr(r.notes[i], "independent_special") != NULL;
    CHECK(named);

    /* the same growth as the caseload's: the caseload-only trajectory */
    inputs_simple(&in, 0.05);
    CHECK(hn_project(&in, NULL, &base) == HN_OK);
    for (int s = 0; s < HN_N_SETTINGS; s++)
        set_own(&in, s, 10 + s, 0.05, 0.05);
    CHECK(hn_project(&in, NULL, &r) == HN_OK);
    for (int k = 0; k < r.n; k++) {
        CHECK_NEAR(r.years[k].cumulative_balance_gbp, base.years[k].cumulative_balance_gbp, 1e-3);
        CHECK_NEAR(r.years[k].cumulative_balance_lo80_gbp, base.years[k].cumulative_balance_lo80_gbp,
                   1e-3);
        CHECK_NEAR(r.years[k].spend_hi80_gbp, base.years[k].spend_hi80_gbp, 1e-3);
    }

    /* levers still act on the total: a 100% cut of growth holds the
     * HNBT year's total, each setting at its share of the forecast path */
    inputs_simple(&in, 0.05);
    set_own(&in, HN_INDEPENDENT, 130, 0.20, 0.10);
    struct hn_levers lv;
    hn_levers_default(&lv);
    lv.new_plans_growth_reduction_pct = 100;
    CHECK(hn_project(&in, &lv, &r) == HN_OK);
    for (int k = 0; k < r.n; k++)
        CHECK_NEAR(r.years[k].placements_total, 1000, 1e-9);
    CHECK(r.years[r.n - 1].placements[HN_INDEPENDENT] > 100);

    /* a setting forecast that does not reach a year is refused, not guessed */
    inputs_simple(&in, 0.05);
    set_own(&in, HN_INDEPENDENT, 130, 0.20, 0.10);
    in.setting_fc_first[HN_INDEPENDENT] = 2024;
    CHECK(hn_project(&in, NULL, &r) == HN_ERR_NO_DATA);
}

/* A council's submitted cost of a later year (2024-25 prices) is uplifted
 * from that year, not the HNBT's; the non-placement lines keep their share
 * of the HNBT's placement spend when the caller says what it was. */
static void test_submitted_cost_prices_and_share(void)
{
    struct hn_inputs in;
    inputs_simple(&in, 0.05);
    in.default_inflation_pct = 4;
    struct hn_result base, r;
    CHECK(hn_project(&in, NULL, &base) == HN_OK);
    double hnbt_spend = hn_spend(in.placements, in.cost, 0);
    in.cost[HN_INDEPENDENT] = 90000;
    in.cost_source[HN_INDEPENDENT] = HN_COST_SUBMITTED;
    in.cost_price_year[HN_INDEPENDENT] = 2024;
    in.base_placement_spend_gbp = hnbt_spend;
    CHECK(hn_project(&in, NULL, &r) == HN_OK);
    CHECK_NEAR(r.non_placement_share, base.non_placement_share, 1e-15);
    for (int k = 0; k < r.n; k++) {
        const struct hn_year *y = &r.years[k];
        CHECK_NEAR(y->cost[HN_INDEPENDENT], 90000 * pow(1.04, y->year - 2024), 1e-6);
        CHECK_NEAR(y->cost[HN_SPECIAL], 25000 * pow(1.04, y->year - 2021), 1e-6);
        CHECK_NEAR(y->placement_spend_gbp[HN_INDEPENDENT],
                   y->placements[HN_INDEPENDENT] * y->cost[HN_INDEPENDENT], 1e-6);
    }
    int said = 0;
    for (int k = 0; k < r.n_notes; k++)
        said |= strstr(r.notes[k], "submitted cost per placement (2024-25 prices)") != NULL;
    CHECK(said);
    /* without the HNBT's sum the share is of the new placement spend */
    in.base_placement_spend_gbp = NAN;
    CHECK(hn_project(&in, NULL, &r) == HN_OK);
    CHECK(r.non_placement_share < base.non_placement_share);
}

int main(void)
{
    RUN(test_cumulative_is_running_sum);
    RUN(test_spend_is_sum_over_settings);
    RUN(test_hand_worked);
    RUN(test_zero_levers_are_unmitigated);
    RUN(test_money_crosses_zero);
    RUN(test_levers_move_placements);
    RUN(test_extension_beyond_forecast);
    RUN(test_levers_check);
    RUN(test_median_and_derby);
    RUN(test_bad_inputs);
    RUN(test_settings_grow_with_their_own_forecast);
    RUN(test_submitted_cost_prices_and_share);
    return UNIT_DONE();
}
