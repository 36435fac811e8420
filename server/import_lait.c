/*
 * The LAIT importer (`sendbench import lait`): measures of the DfE's Local
 * Authority Interactive Tool written out as CSV (data/dfe/lait/): the % of
 * pupils with an EHC plan and with SEN support (school census) and the SEN
 * weekly unit costs (section 251 outturn), for every authority, the
 * regions and England (docs/import.md "LAIT").
 */
#include "import.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *code;           /* LAIT "Short Desc" */
    const char *metric;
    enum import_period_kind kind;
    int dp;                     /* the decimals LAIT publishes (its floats are rounded to them) */
} measures[] = {
    {"SEN_TotStat", "pct_pupils_ehc_plan", IMPORT_PERIOD_CENSUS_YEAR, 1},
    {"SEN_TotSENSuP", "pct_pupils_sen_support", IMPORT_PERIOD_CENSUS_YEAR, 1},
    {"SENFinance", "sen_weekly_unit_cost_gbp", IMPORT_PERIOD_FINANCIAL_YEAR, 0},
};

/* LAIT numbers its regions and England (not DfE authority numbers). */
static const struct {
    const char *number, *area;
} areas[] = {
    {"970", "E92000001"}, {"980", "E12000001"}, {"981", "E12000002"}, {"982", "E12000003"},
    {"983", "E12000004"}, {"984", "E12000005"}, {"985", "E12000006"}, {"986", "E12000007"},
    {"989", "E12000008"}, {"990", "E12000009"},
};

static const char SKIP_LONDON[] =
    "Inner and Outer London rows (987, 988: not regions of their own; London is 986)";
static const char SKIP_DASH[] = "rows with \"-\" (no figure: the authority did not exist then)";
static const char SKIP_OTHER[] = "other LAIT measures (not imported)";

static const char *const lait_columns[] = {"Short Desc", "Years", "LA and Regions", "Values",
                                           "LA Number", NULL};

static int lait_detect(char *const *header, size_t n, const char **published, char *why,
                       size_t whylen)
{
    *published = "";
    bool desc = false, number = false;
    for (size_t i = 0; i < n; i++) {
        desc = desc || strcmp(header[i], "Short Desc") == 0;
        number = number || strcmp(header[i], "LA Number") == 0;
    }
    if (!desc)
        return 0;
    if (!number) {
        snprintf(why, whylen, "a LAIT file without a column \"LA Number\"");
        return -1;
    }
    return 1;
}

static int lait_stage(struct import_run *run, const struct import_csv *csv, struct registry *reg)
{
    run->title = "LAIT measures (pupils with EHC plans and SEN support, SEN unit costs)";
    /* The dictionary (data/dfe/lait/) dates the latest of the three
     * measures' updates 29 January 2026. */
    if (import_set_source(run, "DfE LAIT", "2026-01-29") != 0)
        return -1;
    int col[5];
    for (int i = 0; lait_columns[i]; i++)
        if ((col[i] = import_csv_column(csv, lait_columns[i])) < 0)
            return import_fail(run, csv->record[0].line,
                               "wrong header: no column \"%s\" (a LAIT file has Short Desc, "
                               "Years, LA and Regions, Values, LA Number)",
                               lait_columns[i]);
    if (import_stage_reserve(run, csv->nrecord - 1) != 0)
        return -1;
    for (size_t i = 1; i < csv->nrecord; i++) {
        const struct import_csv_record *rec = &csv->record[i];
        if (import_check_width(run, csv, i) != 0)
            return -1;
        char **f = rec->field;
        size_t m = 0;
        while (m < sizeof measures / sizeof measures[0] && strcmp(measures[m].code, f[col[0]]) != 0)
            m++;
        if (m == sizeof measures / sizeof measures[0]) {
            import_skip(run, SKIP_OTHER);
            continue;
        }
        const char *number = f[col[4]];
        if (strcmp(number, "987") == 0 || strcmp(number, "988") == 0) {
            import_skip(run, SKIP_LONDON);
            continue;
        }
        /* "2016" (January census) or "2016-17 (OT)" (outturn). */
        char years[16], period[16], start[16];
        import_copy_str(years, sizeof years, f[col[1]]);
        size_t len = strlen(years);
        if (measures[m].kind == IMPORT_PERIOD_FINANCIAL_YEAR) {
            if (len < 6 || strcmp(years + len - 5, " (OT)") != 0)
                return import_fail(run, rec->line,
                                   "Years \"%.20s\" is not an outturn year like 2016-17 (OT)",
                                   f[col[1]]);
            years[len - 5] = '\0';
        }
        if (import_period_parse(years, measures[m].kind, period, start) != 0)
            return import_fail(run, rec->line, "Years \"%.20s\" is not a %s", f[col[1]],
                               import_period_kind_name(measures[m].kind));
        if (strcmp(f[col[3]], "-") == 0) {
            import_skip(run, SKIP_DASH);
            continue;
        }
        struct import_cell cell;
        if (import_cell_parse(f[col[3]], false, &cell) != IMPORT_CELL_VALUE &&
            cell.kind != IMPORT_CELL_SYMBOL)
            return import_fail(run, rec->line,
                               "non-numeric cell \"%.40s\" in column Values (want a number, - or "
                               "one of x c z low)",
                               f[col[3]]);
        if (cell.kind == IMPORT_CELL_VALUE) {
            /* LAIT keeps its figures as floating point (4.8 is
             * 4.7999999999999998): back to the published decimals. */
            double v = strtod(cell.text, NULL);
            char text[48];
            if (!isfinite(v) || fabs(v) > 1e9)
                return import_fail(run, rec->line, "value \"%.40s\" out of range", f[col[3]]);
            snprintf(text, sizeof text, "%.*f", measures[m].dp, v);
            if (import_decimal_canonical(text, cell.text, sizeof cell.text) != 0)
                return import_fail(run, rec->line, "value \"%.40s\" out of range", f[col[3]]);
        }
        const char *area = NULL;
        for (size_t a = 0; a < sizeof areas / sizeof areas[0]; a++)
            if (strcmp(areas[a].number, number) == 0)
                area = areas[a].area;
        int rc;
        if (area) {
            rc = import_stage_area_figure(run, area, measures[m].metric, period,
                                          import_period_kind_name(measures[m].kind), start, &cell,
                                          rec->line);
        } else {
            struct reg_authority *a = registry_by_old(reg, number);
            if (!a)
                return import_fail(run, rec->line,
                                   "unknown authority code \"%.20s\" (LA Number of \"%.60s\")",
                                   number, f[col[2]]);
            rc = import_stage_figure(run, a->code, a->region_code, measures[m].metric, period,
                                     import_period_kind_name(measures[m].kind), start, &cell,
                                     rec->line);
        }
        if (rc != 0)
            return -1;
        run->rows_loaded++;
    }
    return 0;
}

const struct importer importer_lait = {
    .name = "lait",
    .what = "DfE LAIT measures",
    .detect = lait_detect,
    .stage = lait_stage,
    .figures = true,
    .single_file = true,
};
