/*
 * hn_projection.h - the High Needs projection: placements, costs and
 * allocations to a DSG balance trajectory, unmitigated and mitigated.
 *
 * Pure C (no I/O, no libpq, no libevent, no global state): the caller
 * gathers the inputs (published money figures, the forecasting engine's
 * caseload forecast, a scenario's levers) into a struct hn_inputs and gets
 * a struct hn_result back.  Every result is a plain value with fixed-size
 * arrays, owned by the caller; nothing needs freeing.  Reentrant.
 *
 * Years are financial years written by their first calendar year: 2021
 * means 2021-22 (April 2021 - March 2022).  Money is in £, a balance is
 * negative for a deficit.  Balances cross zero freely: nothing here takes
 * a logarithm of money.
 *
 * Placements are the EHC plans in place at the January census inside the
 * financial year (2021-22: January 2022), by the setting the High Needs
 * Benchmarking Tool counts them in.
 */
#ifndef SENDBENCH_HN_PROJECTION_H
#define SENDBENCH_HN_PROJECTION_H

#include <stddef.h>

#define HN_MAX_YEARS 16       /* years projected */
#define HN_MAX_FORECAST 16    /* caseload forecast points accepted */
#define HN_NOTE_LEN 320
#define HN_MAX_NOTES 24

#define HN_WUR __attribute__((warn_unused_result))

/* The settings of the High Needs Benchmarking Tool, in its order. */
enum hn_setting {
    HN_MAINSTREAM = 0,
    HN_RESOURCED,        /* resourced provision or SEN unit */
    HN_SPECIAL,          /* maintained special school or special academy */
    HN_INDEPENDENT,      /* non-maintained or independent special */
    HN_AP,               /* hospital school or alternative provision */
    HN_POST16,           /* post-16 (FE colleges, specialist post-16) */
    HN_OTHER,            /* other arrangements (EOTAS, not placed...) */
    HN_N_SETTINGS
};

/* No placement costs more than £1m a year: the bound of a council's
 * submitted cost per placement (server/submit.c) and of a plan's new
 * special place (hn_levers_check). */
#define HN_MAX_PLACEMENT_COST_GBP 1000000
#define HN_MAX_PLACEMENT_COST_TEXT "1000000"

/* Where a setting's cost per placement came from. */
enum hn_cost_source {
    HN_COST_NONE = 0,    /* no cost line for this setting (its money is in
                            the non-placement lines) */
    HN_COST_SUBMITTED,   /* the council's own submitted figure */
    HN_COST_OWN_HNBT,    /* its own HNBT budget line / placements, uplifted */
    HN_COST_NEIGHBOURS   /* the median of its statistical neighbours' */
};

/* Where the opening cumulative balance came from. */
enum hn_balance_source {
    HN_BAL_NONE = 0,     /* unknown: the trajectory starts from 0 (said) */
    HN_BAL_SUBMITTED,    /* the council's submitted £ figure */
    HN_BAL_PUBLISHED_PCT /* the DfE's published % x total DSG */
};

/* Where the allocation growth beyond the published years came from. */
enum hn_growth_source {
    HN_GROWTH_HISTORY = 0,  /* the published allocations' average growth */
    HN_GROWTH_ASSUMED       /* a stated rate (default or scenario lever) */
};

const char *hn_setting_id(enum hn_setting s);      /* "mainstream", ... */
const char *hn_setting_label(enum hn_setting s);   /* "Mainstream school" */
const char *hn_cost_source_str(enum hn_cost_source s);
const char *hn_balance_source_str(enum hn_balance_source s);

/* The levers of a scenario.  hn_levers_default() gives the unmitigated
 * scenario: every reduction zero, inflation and allocation growth NAN
 * (= use the inputs' defaults). */
struct hn_levers {
    double new_plans_growth_reduction_pct;  /* 0..100: the yearly increase in
                                               plans is cut by this share */
    int from_year;                          /* first year the two flow levers
                                               act (0 = the first projected) */
    double independent_to_maintained_pct;   /* 0..100 of each year's new
                                               independent placements go to
                                               maintained special instead */
    double new_special_places;              /* places opened, 0 = none */
    int new_special_places_year;            /* year they open */
    double new_special_place_cost_gbp;      /* £ a place a year, in the
                                               opening year's prices */
    double cost_inflation_pct;              /* NAN = inputs' default */
    double hnb_growth_pct;                  /* NAN = from history */
    double extra_case_officers_fte;         /* >= 0 */
    double target_caseload_per_officer;     /* > 0 */
    double plans_per_officer_per_year;      /* > 0: new plans one officer
                                               issues within 20 weeks */
};
void hn_levers_default(struct hn_levers *lv);

struct hn_inputs {
    int base_year;          /* year of the opening position (its end) */
    int end_year;           /* last year projected (base_year < end_year) */

    /* Placements by setting in placements_year (HNBT), and the total
     * caseload in that same year on the forecast's scale (SEN2 plans in
     * place), to which the forecast's growth is applied. */
    int placements_year;
    double placements[HN_N_SETTINGS];
    double caseload_at_placements;

    /* The forecasting engine's caseload forecast: caseload_fc*[k] is the
     * year caseload_fc_first + k (financial year of the census).  Years
     * after the last are extended at the last year's growth, the interval
     * widening with the square root of the horizon on the log scale (said
     * in the notes).  Observed years may lead the forecast (lo = hi =
     * value); years before placements_year + 1 are ignored, and every year
     * from placements_year + 1 to end_year must be covered by the series
     * or its extension. */
    int caseload_fc_first;
    int caseload_fc_n;
    double caseload_fc[HN_MAX_FORECAST];
    double caseload_fc_lo80[HN_MAX_FORECAST], caseload_fc_hi80[HN_MAX_FORECAST];

    /* Optional: each setting's own forecast of plans in place (SEN2 plans
     * by setting), indexed as the caseload forecast: setting_fc*[s][k] is
     * the year setting_fc_first[s] + k, and setting_at_placements[s] the
     * same series in placements_year.  A setting with its own forecast
     * grows with it, and its 80% interval is that forecast's; a setting
     * without one (setting_fc_n[s] == 0, or no positive base) grows with
     * the total caseload.  Years beyond the last are extended as the
     * caseload's are. */
    int setting_fc_first[HN_N_SETTINGS];
    int setting_fc_n[HN_N_SETTINGS];
    double setting_fc[HN_N_SETTINGS][HN_MAX_FORECAST];
    double setting_fc_lo80[HN_N_SETTINGS][HN_MAX_FORECAST];
    double setting_fc_hi80[HN_N_SETTINGS][HN_MAX_FORECAST];
    double setting_at_placements[HN_N_SETTINGS];

    /* Forecast new plans a year (for the staffing lines); NAN unknown.
     * Same indexing as caseload_fc, first year new_plans_fc_first. */
    int new_plans_fc_first;
    int new_plans_fc_n;
    double new_plans_fc[HN_MAX_FORECAST];

    /* Cost per placement by setting, with source: in cost_year prices,
     * or in cost_price_year[s]'s where that is set (a council's submitted
     * cost of a later year; 0 = cost_year), uplifted from there. */
    int cost_year;
    double cost[HN_N_SETTINGS];
    enum hn_cost_source cost_source[HN_N_SETTINGS];
    int cost_price_year[HN_N_SETTINGS];
    /* Spend that is not placements (SEN support, therapies, hospital and
     * AP lines...) in cost_year, held at its share of placement spend:
     * of base_placement_spend_gbp, the placement spend of cost_year it
     * came beside (NAN = placements x cost; a caller replacing HNBT costs
     * by submitted ones keeps the HNBT's sum here). */
    double non_placement_gbp;
    double base_placement_spend_gbp;
    double default_inflation_pct;

    /* Published allocations (high needs block before deductions), indexed
     * by year - alloc_first; NAN where not published. */
    int alloc_first;
    int alloc_n;
    double alloc[HN_MAX_YEARS];
    double default_hnb_growth_pct;   /* used when history gives none */

    /* Cumulative DSG balance at the end of base_year. */
    double opening_balance_gbp;
    enum hn_balance_source opening_source;

    double case_officers_fte;        /* latest, NAN unknown */
};
void hn_inputs_init(struct hn_inputs *in);   /* zero, NAN where unknown */

struct hn_year {
    int year;
    double placements[HN_N_SETTINGS];
    double placements_total, placements_lo80, placements_hi80;
    double cost[HN_N_SETTINGS];          /* £ per placement this year
                                            (special: the average including
                                            any new places) */
    double placement_spend_gbp[HN_N_SETTINGS];
    double non_placement_gbp;
    double spend_gbp, spend_lo80_gbp, spend_hi80_gbp;
    double allocation_gbp;
    int allocation_published;            /* 1 published, 0 projected */
    double in_year_balance_gbp;
    double cumulative_balance_gbp;
    double cumulative_balance_lo80_gbp, cumulative_balance_hi80_gbp;
    /* staffing (NAN when the input is unknown) */
    double new_plans;
    double officers_for_caseload;        /* to hold the target caseload */
    double officers_for_new_plans;       /* to issue new plans in 20 weeks */
    double caseload_per_officer;         /* with today's officers + extra */
};

struct hn_result {
    int n;                               /* years: base_year+1 .. end_year */
    struct hn_year years[HN_MAX_YEARS];
    double inflation_pct;                /* used */
    double hnb_growth_pct;               /* used beyond the published years */
    enum hn_growth_source growth_source;
    double non_placement_share;          /* of placement spend */
    int own_setting_forecast[HN_N_SETTINGS]; /* 1: grown with its own forecast */
    int n_notes;                         /* assumptions in plain words */
    char notes[HN_MAX_NOTES][HN_NOTE_LEN];
};

enum hn_status { HN_OK = 0, HN_ERR_ARG, HN_ERR_NO_DATA };

/* Validates levers against the inputs' years: returns the number of
 * problems written to field[]/reason[] (at most max), 0 when valid. */
int hn_levers_check(const struct hn_levers *lv, int first_year, int last_year,
                    const char **field, const char **reason, int max);

/* Projects in with levers lv (NULL = unmitigated) into out.  HN_ERR_ARG
 * for inconsistent inputs (years out of order, a horizon beyond
 * HN_MAX_YEARS, levers out of range), HN_ERR_NO_DATA when there are no
 * placements or no caseload forecast to grow them with. */
HN_WUR int hn_project(const struct hn_inputs *in, const struct hn_levers *lv,
                      struct hn_result *out);

/* The median of n values (NAN ignored); NAN when none.  vals is sorted in
 * place. */
double hn_median(double *vals, int n);

/* Back-cast helper: spend of one year from placements x cost plus the
 * non-placement lines (the same sum hn_project makes). */
double hn_spend(const double placements[HN_N_SETTINGS], const double cost[HN_N_SETTINGS],
                double non_placement_gbp);

/* "2021-22" for 2021 into out (at least 8 bytes). */
void hn_year_label(int year, char *out, size_t outlen);

#endif
