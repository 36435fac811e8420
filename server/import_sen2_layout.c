#include "import_sen2_layout.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sen2_common_columns[] = {
    "time_period", "geographic_level", "country_code", "region_code", "region_name",
    "old_la_code", "new_la_code",      "la_name",      NULL,
};

/* The placements of the 2025 layout, grouped as the catalogue's setting
 * metrics (021): PREFIX_NAME the count, pct_PREFIX_NAME the share of TOTAL. */
#define RP_UNIT                                                                          \
    "mainstream_la_maintained_resourced_provision", "mainstream_la_maintained_senunit",  \
        "mainstream_academy_resourced_provision", "mainstream_academy_senunit",          \
        "mainstream_free_school_resourced_provision", "mainstream_free_school_senunit"
#define SETTINGS(P, TOTAL)                                                                     \
    {P "mainstream", {"mainstream_total"}, {NULL}},                                            \
    {P "mainstream_rp_unit", {RP_UNIT}, {NULL}},                                               \
    {P "special_state", {"special_la_maintained", "special_academy_free"}, {NULL}},            \
    {P "special_independent", {"special_independent", "special_non_maintained"}, {NULL}},      \
    {P "ap_pru", {"ap_pru_total"}, {NULL}},                                                    \
    {P "post16", {"fe_total"}, {NULL}},                                                        \
    {P "elsewhere", {"ed_elsewhere"}, {NULL}},                                                 \
    {"pct_" P "mainstream", {"mainstream_total"}, {TOTAL}},                                    \
    {"pct_" P "mainstream_rp_unit", {RP_UNIT}, {TOTAL}},                                       \
    {"pct_" P "special_state", {"special_la_maintained", "special_academy_free"}, {TOTAL}},    \
    {"pct_" P "special_independent", {"special_independent", "special_non_maintained"},        \
     {TOTAL}},                                                                                 \
    {"pct_" P "ap_pru", {"ap_pru_total"}, {TOTAL}},                                            \
    {"pct_" P "post16", {"fe_total"}, {TOTAL}},                                                \
    {"pct_" P "elsewhere", {"ed_elsewhere"}, {TOTAL}}

/* Mapping choices are explained in docs/import.md ("Column mapping"). */
static const struct sen2_layout layouts[] = {
    {"SEN2 2022 caseload", "DfE SEN2 2022", "2022-06-23", "characteristic_age",
     IMPORT_PERIOD_CENSUS_YEAR, "characteristic_age", "Total",
     "age breakdown rows (only characteristic_age \"Total\" is imported)",
     {{"ehcp_caseload", {"Total_all"}, {NULL}}, {NULL, {NULL}, {NULL}}}},
    {"SEN2 2022 management information", "DfE SEN2 2022", "2022-06-23", "NewallEHC",
     IMPORT_PERIOD_CALENDAR_YEAR, NULL, NULL, NULL,
     {{"new_plans_issued", {"NewallEHC"}, {NULL}},
      {"requests_received", {"InreqEHC"}, {NULL}},
      {"requests_refused", {"AssRefusedEHC"}, {NULL}},
      {"new_plans_timeliness_den", {"TotIncExcEHC"}, {NULL}},
      {"new_plans_within_20_weeks", {"IncExc20weekEHC"}, {NULL}},
      {"new_plans_issued_ex", {"TotNoExcEHC"}, {NULL}},
      {"new_plans_within_20_weeks_ex", {"NoExc20weekEHC"}, {NULL}},
      {NULL, {NULL}, {NULL}}}},
    {"SEN2 2025 caseload", "DfE SEN2 2025", "2025-06-26", "ehcplans",
     IMPORT_PERIOD_CENSUS_YEAR, "breakdown_topic", "All EHC plans",
     "breakdown rows (age, sex, ethnicity, years in plan: only breakdown_topic \"All EHC plans\" "
     "is imported)",
     {{"ehcp_caseload", {"ehcplans"}, {NULL}}, SETTINGS("plans_", "ehcplans"),
      {NULL, {NULL}, {NULL}}}},
    {"SEN2 2025 new plans", "DfE SEN2 2025", "2025-06-26", "new_ehc_plans",
     IMPORT_PERIOD_CALENDAR_YEAR, "breakdown_topic", "New EHC plans",
     "breakdown rows (age, sex, ethnicity: only breakdown_topic \"New EHC plans\" is imported)",
     {{"new_plans_issued", {"new_ehc_plans"}, {NULL}}, SETTINGS("new_plans_", "new_ehc_plans"),
      {NULL, {NULL}, {NULL}}}},
    {"SEN2 2025 requests", "DfE SEN2 2025", "2025-06-26", "requests_received_in_year",
     IMPORT_PERIOD_CALENDAR_YEAR, "breakdown_topic", "All requests for EHC needs assessments",
     "breakdown rows (age, sex, ethnicity: only breakdown_topic \"All requests for EHC needs "
     "assessments\" is imported)",
     {{"requests_received", {"requests_received_in_year"}, {NULL}},
      {"requests_decided_to_assess", {"requests_decided_to_assess"}, {NULL}},
      {"requests_refused", {"requests_decided_not_to_assess"}, {NULL}},
      {"requests_decided_within_6_weeks", {"request_outcome_six_weeks"}, {NULL}},
      {"requests_decided_over_6_weeks", {"request_outcome_over_6_weeks"}, {NULL}},
      {"pct_decisions_within_6_weeks", {"request_outcome_six_weeks"},
       {"request_outcome_six_weeks", "request_outcome_over_6_weeks"}},
      {"requests_mediation_related", {"mediation_related_request"}, {NULL}},
      {"requests_tribunal_related", {"tribunal_related_request"}, {NULL}},
      {"requests_tribunal_after_mediation", {"tribunal_after_mediation_request"}, {NULL}},
      {NULL, {NULL}, {NULL}}}},
    {"SEN2 2025 20-week timeliness", "DfE SEN2 2025", "2025-06-26", "plans_issued_den",
     IMPORT_PERIOD_CALENDAR_YEAR, "breakdown_topic", "All EHC plans issued",
     "breakdown rows (age, sex, ethnicity: only breakdown_topic \"All EHC plans issued\" is "
     "imported)",
     {{"new_plans_timeliness_den", {"plans_issued_den"}, {NULL}},
      {"new_plans_within_20_weeks", {"plans_issued_within_20_weeks"}, {NULL}},
      {"new_plans_issued_ex", {"plans_issued_den_ex"}, {NULL}},
      {"new_plans_within_20_weeks_ex", {"plans_issued_20_weeks_ex"}, {NULL}},
      {"new_plans_over_20_weeks", {"plans_issued_gt20weeks_ltYear"}, {NULL}},
      {"new_plans_over_1_year", {"plans_issued_gt_1_year"}, {NULL}},
      {"pct_new_plans_over_20_weeks", {"plans_issued_gt20weeks_ltYear"}, {"plans_issued_den"}},
      {"pct_new_plans_over_1_year", {"plans_issued_gt_1_year"}, {"plans_issued_den"}},
      {NULL, {NULL}, {NULL}}}},
};

static int header_index(char *const *header, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(header[i], name) == 0)
            return (int)i;
    return -1;
}

static const char *missing_column(const struct sen2_column *c, char *const *header, size_t n)
{
    for (int i = 0; c->sum[i]; i++)
        if (header_index(header, n, c->sum[i]) < 0)
            return c->sum[i];
    for (int i = 0; c->per[i]; i++)
        if (header_index(header, n, c->per[i]) < 0)
            return c->per[i];
    return NULL;
}

const struct sen2_layout *import_sen2_detect(char *const *header, size_t n, char *err,
                                             size_t errlen)
{
    for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
        const struct sen2_layout *lay = &layouts[l];
        if (header_index(header, n, lay->marker) < 0)
            continue;
        for (const char *const *c = sen2_common_columns; *c; c++)
            if (header_index(header, n, *c) < 0) {
                snprintf(err, errlen, "wrong header: %s layout but no column \"%s\"", lay->name, *c);
                return NULL;
            }
        if (lay->filter_column && header_index(header, n, lay->filter_column) < 0) {
            snprintf(err, errlen, "wrong header: %s layout but no column \"%s\"", lay->name,
                     lay->filter_column);
            return NULL;
        }
        for (const struct sen2_column *c = lay->columns; c->metric; c++) {
            const char *miss = missing_column(c, header, n);
            if (miss) {
                snprintf(err, errlen, "wrong header: %s layout but no column \"%s\"", lay->name,
                         miss);
                return NULL;
            }
        }
        return lay;
    }
    snprintf(err, errlen,
             "wrong header: not a known SEN2 layout (expected a column characteristic_age, "
             "NewallEHC, ehcplans, new_ehc_plans, requests_received_in_year or plans_issued_den)");
    return NULL;
}

int import_sen2_columns(const struct sen2_column *c, char *const *header, size_t n,
                        struct sen2_column_index *idx)
{
    memset(idx, 0, sizeof *idx);
    for (int i = 0; c->sum[i] && i < SEN2_MAX_SUM; i++)
        if ((idx->sum[idx->nsum++] = header_index(header, n, c->sum[i])) < 0)
            return -1;
    for (int i = 0; c->per[i] && i < SEN2_MAX_PER; i++)
        if ((idx->per[idx->nper++] = header_index(header, n, c->per[i])) < 0)
            return -1;
    return 0;
}

/* Adds up the cells at idx[0..n): 0 with *total, or the symbol kind with
 * *symbol ("c" beats "x" beats the others), or EMPTY/INVALID with *bad. */
static enum import_cell_kind add_up(const int *idx, int n, char *const *f, uint64_t *total,
                                    char symbol[8], int *bad)
{
    *total = 0;
    symbol[0] = '\0';
    for (int i = 0; i < n; i++) {
        struct import_cell cell;
        enum import_cell_kind k = import_cell_parse(f[idx[i]], true, &cell);
        if (k == IMPORT_CELL_EMPTY || k == IMPORT_CELL_INVALID) {
            *bad = idx[i];
            return k;
        }
        if (k == IMPORT_CELL_SYMBOL) {
            if (!symbol[0] || strcmp(cell.text, "c") == 0 ||
                (strcmp(cell.text, "x") == 0 && strcmp(symbol, "c") != 0))
                snprintf(symbol, 8, "%.7s", cell.text);
            continue;
        }
        if (cell.text[0] == '-') {      /* a negative count */
            *bad = idx[i];
            return IMPORT_CELL_INVALID;
        }
        uint64_t v = strtoull(cell.text, NULL, 10);
        if (v > UINT64_C(1000000000)) {    /* no SEN2 count is near this */
            *bad = idx[i];
            return IMPORT_CELL_INVALID;
        }
        *total += v;
    }
    return symbol[0] ? IMPORT_CELL_SYMBOL : IMPORT_CELL_VALUE;
}

enum import_cell_kind import_sen2_figure(const struct sen2_column *c,
                                         const struct sen2_column_index *idx, char *const *f,
                                         struct import_cell *out, int *bad)
{
    (void)c;    /* idx was found from c */
    out->text[0] = '\0';
    /* One column, as published: the cell itself (a negative count stays
     * the parser's business, as before). */
    if (idx->nsum == 1 && idx->nper == 0) {
        enum import_cell_kind k = import_cell_parse(f[idx->sum[0]], true, out);
        if (k == IMPORT_CELL_EMPTY || k == IMPORT_CELL_INVALID)
            *bad = idx->sum[0];
        return k;
    }
    uint64_t num, den;
    char nsym[8], dsym[8];
    enum import_cell_kind k = add_up(idx->sum, idx->nsum, f, &num, nsym, bad);
    if (k == IMPORT_CELL_EMPTY || k == IMPORT_CELL_INVALID)
        return out->kind = k;
    if (idx->nper == 0) {
        if (k == IMPORT_CELL_SYMBOL)
            snprintf(out->text, sizeof out->text, "%s", nsym);
        else
            snprintf(out->text, sizeof out->text, "%llu", (unsigned long long)num);
        return out->kind = k;
    }
    enum import_cell_kind kd = add_up(idx->per, idx->nper, f, &den, dsym, bad);
    if (kd == IMPORT_CELL_EMPTY || kd == IMPORT_CELL_INVALID)
        return out->kind = kd;
    if (k == IMPORT_CELL_SYMBOL || kd == IMPORT_CELL_SYMBOL) {
        snprintf(out->text, sizeof out->text, "%s", k == IMPORT_CELL_SYMBOL ? nsym : dsym);
        return out->kind = IMPORT_CELL_SYMBOL;
    }
    if (den == 0) {
        snprintf(out->text, sizeof out->text, "z");
        return out->kind = IMPORT_CELL_SYMBOL;
    }
    /* num x 100 / den to 4 decimals, rounded half up, in integers (num is
     * at most 7e9, so num x 2e6 fits in 64 bits). */
    uint64_t q = (num * UINT64_C(2000000) / den + 1) / 2;
    char raw[40];
    snprintf(raw, sizeof raw, "%llu.%04llu", (unsigned long long)(q / 10000),
             (unsigned long long)(q % 10000));
    if (import_decimal_canonical(raw, out->text, sizeof out->text) != 0) {
        *bad = idx->sum[0];
        return out->kind = IMPORT_CELL_INVALID;
    }
    return out->kind = IMPORT_CELL_VALUE;
}
