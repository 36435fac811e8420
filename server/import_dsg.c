/*
 * The DSG balance importer (`sendbench import dsg`): the DfE's DSG
 * cumulative balance as % of DSG income, by authority name.
 */
#include "import.h"

#include <stdio.h>
#include <string.h>

static const char SKIP_NATIONAL[] =
    "national rows (published England totals, not authority figures)";
static const char SKIP_REGIONAL[] =
    "regional rows (published regional totals, not authority figures)";

static const char DSG_COLUMN[] = "DSG cumulative balance as a % of the total income";

static int dsg_stage(struct import_run *run, const struct import_csv *csv, struct registry *reg)
{
    run->title = "DSG cumulative balance as % of income";
    if (import_set_source(run, "DfE SEND and AP inclusion dashboard (S251 outturn)", "") != 0)
        return -1;
    const char *need[] = {"time_period", "geographic_level", "la_name", DSG_COLUMN, "financial_year",
                          NULL};
    int col[5];
    for (int i = 0; need[i]; i++)
        if ((col[i] = import_csv_column(csv, need[i])) < 0)
            return import_fail(run, csv->record[0].line,
                            "wrong header: no column \"%s\" (a DfE DSG balance file has time_period, "
                            "geographic_level, la_name, \"%s\", financial_year)",
                            need[i], DSG_COLUMN);
    if (import_stage_reserve(run, csv->nrecord - 1) != 0)
        return -1;
    for (size_t i = 1; i < csv->nrecord; i++) {
        const struct import_csv_record *rec = &csv->record[i];
        if (import_check_width(run, csv, i) != 0)
            return -1;
        char **f = rec->field;
        const char *geo = f[col[1]];
        if (strcmp(geo, "National") == 0) {
            import_skip(run, SKIP_NATIONAL);
            continue;
        }
        if (strcmp(geo, "Regional") == 0) {
            import_skip(run, SKIP_REGIONAL);
            continue;
        }
        if (strcmp(geo, "Local authority") != 0)
            return import_fail(run, rec->line, "unexpected geographic_level \"%.40s\"", geo);
        char period[16], start[16], period2[16], start2[16];
        if (import_period_parse(f[col[4]], IMPORT_PERIOD_FINANCIAL_YEAR, period, start) != 0)
            return import_fail(run, rec->line, "financial_year \"%.20s\" is not like 2021-22",
                            f[col[4]]);
        if (import_period_parse(f[col[0]], IMPORT_PERIOD_FINANCIAL_YEAR, period2, start2) != 0 ||
            strcmp(period, period2) != 0)
            return import_fail(run, rec->line, "time_period \"%.20s\" does not match financial_year %s",
                            f[col[0]], period);
        int matches;
        struct reg_authority *a = registry_by_name_on(reg, f[col[2]], start, &matches);
        if (matches == 0)
            return import_fail(run, rec->line,
                            "unknown authority \"%.100s\" (no authority of that name existed on %s)",
                            f[col[2]], start);
        if (matches > 1)
            return import_fail(run, rec->line, "ambiguous authority name \"%.100s\" on %s", f[col[2]],
                            start);
        struct import_cell cell;
        switch (import_cell_parse(f[col[3]], false, &cell)) {
        case IMPORT_CELL_EMPTY:
            return import_fail(run, rec->line, "empty cell in column %s", DSG_COLUMN);
        case IMPORT_CELL_INVALID:
            return import_fail(run, rec->line,
                            "non-numeric cell \"%.40s\" in column %s (want a number or one of x c "
                            "z low)",
                            f[col[3]], DSG_COLUMN);
        default:
            break;
        }
        if (import_stage_figure(run, a->code, a->region_code, "dsg_balance_pct_of_income", period, "financial_year",
                              start, &cell, rec->line) != 0)
            return -1;
        run->rows_loaded++;
    }
    return 0;
}

static int dsg_detect(char *const *header, size_t n, const char **published, char *why,
                      size_t whylen)
{
    (void)why;
    (void)whylen;
    *published = "";
    for (size_t i = 0; i < n; i++)
        if (strcmp(header[i], DSG_COLUMN) == 0)
            return 1;
    return 0;
}

const struct importer importer_dsg = {
    .name = "dsg",
    .what = "DfE DSG cumulative balance as % of income",
    .detect = dsg_detect,
    .stage = dsg_stage,
    .figures = true,
    .single_file = true,
};
