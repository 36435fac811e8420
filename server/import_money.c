/*
 * The High Needs money files as figures (see include/import_money.h), and
 * their importer in the table of server/import_table.c.
 *
 * Both files are written in £ by high_needs/convert_money.py from the
 * published ODS/XLSX.  The HNBT's "of which" lines need not add up to
 * their totals; the setting lines here are sums of "of which" lines, and
 * what the total holds beyond them is the non-placement line, never below
 * zero.
 */
#include "import_money.h"

#include <libpq-fe.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbsync.h"
#include "import.h"

static const char *const alloc_columns[] = {"time_period", "geographic_level", "old_la_code",
                                            "la_name", "high_needs_block_before",
                                            "high_needs_block_after", "total_dsg_before",
                                            "total_dsg_after", NULL};
static const char *const alloc_metrics[] = {"hnb_before_deductions_gbp", "hnb_after_deductions_gbp",
                                            "dsg_total_before_deductions_gbp",
                                            "dsg_total_after_deductions_gbp"};

/* HNBT placements, in the order of enum hn_setting (hn_projection.h). */
static const char *const hnbt_place_columns[] = {
    "placed_mainstream", "placed_resourced_provision_or_sen_unit",
    "placed_maintained_special_or_special_academy", "placed_nmss_or_independent",
    "placed_hospital_or_ap", "placed_post16", "placed_other"};
static const char *const hnbt_place_metrics[] = {
    "hnbt_placed_mainstream", "hnbt_placed_resourced_provision", "hnbt_placed_maintained_special",
    "hnbt_placed_independent_special", "hnbt_placed_hospital_ap", "hnbt_placed_post16",
    "hnbt_placed_other"};

/* The top-level budget (and outturn) lines whose sum is the total. */
static const char *const hnbt_total_lines[] = {"place_funding", "topup_maintained",
                                               "topup_independent", "sen_support_inclusion",
                                               "alternative_provision", "hospital_education",
                                               "therapies_health"};
#define N_TOTAL_LINES 7

/* Setting lines: sums of published "of which" lines. */
struct setting_line {
    const char *metric;
    const char *cost_metric;
    const char *lines[4];
    int placements[2];          /* indexes into hnbt_place_columns, -1 none */
};
static const struct setting_line setting_lines[] = {
    {"hnbt_budget_mainstream_gbp", "hnbt_cost_mainstream_gbp",
     {"place_funding_early_years", "place_funding_primary", "place_funding_secondary", NULL},
     {0, 1}},
    {"hnbt_budget_maintained_special_gbp", "hnbt_cost_maintained_special_gbp",
     {"place_funding_special", "topup_maintained_special", NULL}, {2, -1}},
    {"hnbt_budget_independent_gbp", "hnbt_cost_independent_gbp", {"topup_independent", NULL},
     {3, -1}},
    {"hnbt_budget_post16_gbp", "hnbt_cost_post16_gbp",
     {"place_funding_post_school", "topup_maintained_post_school", NULL}, {5, -1}},
};
/* Mainstream also takes the maintained top-ups of its phases. */
static const char *const mainstream_topups[] = {"topup_maintained_early_years",
                                                "topup_maintained_primary",
                                                "topup_maintained_secondary"};

enum import_money_kind import_money_detect(const struct import_csv *csv)
{
    if (import_csv_column(csv, "high_needs_block_before") >= 0 &&
        import_csv_column(csv, "total_dsg_before") >= 0)
        return IMPORT_MONEY_DSG_ALLOCATIONS;
    if (import_csv_column(csv, "placed_nmss_or_independent") >= 0 &&
        import_csv_column(csv, "budget_2122_topup_independent") >= 0)
        return IMPORT_MONEY_HNBT;
    return IMPORT_MONEY_NONE;
}

const char *import_money_source(enum import_money_kind kind)
{
    switch (kind) {
    case IMPORT_MONEY_DSG_ALLOCATIONS: return "ESFA DSG allocations 2019-20 to 2023-24";
    case IMPORT_MONEY_HNBT: return "DfE High Needs Benchmarking Tool 2021-22";
    default: return "";
    }
}

struct row_ctx {
    const struct import_csv *csv;
    const struct import_csv_record *rec;
    char *err;
    size_t errlen;
};

static int fail(struct row_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct row_ctx *c, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "line %u: %s", c->rec ? c->rec->line : 1u, msg);
    return -1;
}

static int col_of(struct row_ctx *c, const char *name, int *col)
{
    *col = import_csv_column(c->csv, name);
    if (*col < 0)
        return fail(c, "wrong header: no column \"%s\"", name);
    return 0;
}

/* A cell as a value (1) or a blank/symbol (0); -1 malformed. */
static int cell_of(struct row_ctx *c, int col, struct import_cell *cell, double *v)
{
    const char *s = c->rec->field[col];
    switch (import_cell_parse(s, false, cell)) {
    case IMPORT_CELL_VALUE:
        *v = strtod(cell->text, NULL);
        return isfinite(*v) ? 1 : fail(c, "number out of range in column %s",
                                       c->csv->record[0].field[col]);
    case IMPORT_CELL_SYMBOL:
        *v = NAN;
        return 0;
    case IMPORT_CELL_EMPTY:
        /* an empty money cell is "x" (not available), never zero */
        cell->kind = IMPORT_CELL_SYMBOL;
        snprintf(cell->text, sizeof cell->text, "x");
        *v = NAN;
        return 0;
    default:
        return fail(c, "non-numeric cell in column %s (want a number or one of x c z low)",
                    c->csv->record[0].field[col]);
    }
}

static void value_cell(double v, struct import_cell *cell)
{
    if (isfinite(v)) {
        cell->kind = IMPORT_CELL_VALUE;
        /* pennies at most: the files carry up to two decimals */
        snprintf(cell->text, sizeof cell->text, "%.2f", v);
    } else {
        cell->kind = IMPORT_CELL_SYMBOL;
        snprintf(cell->text, sizeof cell->text, "x");
    }
}

static int check_width(struct row_ctx *c)
{
    if (c->rec->nfield != c->csv->record[0].nfield) {
        return fail(c, "%zu fields where the header has %zu", c->rec->nfield,
                    c->csv->record[0].nfield);
    }
    return 0;
}

static int stage_allocations(const struct import_csv *csv, import_money_emit_fn emit, void *arg,
                             struct import_money_counts *k, char *err, size_t errlen)
{
    struct row_ctx c = {csv, NULL, err, errlen};
    int col[8];
    for (int i = 0; alloc_columns[i]; i++)
        if (col_of(&c, alloc_columns[i], &col[i]) != 0)
            return -1;
    for (size_t r = 1; r < csv->nrecord; r++) {
        c.rec = &csv->record[r];
        if (check_width(&c) != 0)
            return -1;
        char **f = c.rec->field;
        /* England's row is the ESFA's published total: emitted with no
         * DfE number, it becomes England's figure (E92000001). */
        int national = strcmp(f[col[1]], "National") == 0;
        if (!national && strcmp(f[col[1]], "Local authority") != 0)
            return fail(&c, "unexpected geographic_level \"%.40s\"", f[col[1]]);
        if (!national && !import_is_old_la_code(f[col[2]]))
            return fail(&c, "old_la_code \"%.10s\" is not a 3-digit DfE number", f[col[2]]);
        char period[16], start[16];
        if (import_period_parse(f[col[0]], IMPORT_PERIOD_FINANCIAL_YEAR, period, start) != 0)
            return fail(&c, "time_period \"%.20s\" is not a financial year like 202122",
                        f[col[0]]);
        if (national)
            k->national++;
        else
            k->rows++;
        for (int m = 0; m < 4; m++) {
            struct import_cell cell;
            double v;
            if (cell_of(&c, col[4 + m], &cell, &v) < 0)
                return -1;
            int rc = emit(arg, national ? NULL : f[col[2]], f[col[3]], alloc_metrics[m], period,
                          &cell, c.rec->line);
            if (rc != 0)
                return rc;
            k->figures += !national;
        }
    }
    return 0;
}

/* The value of a budget/outturn line ("budget_2122_" or "outturn_2021_"
 * + line); NAN for x. */
static int line_value(struct row_ctx *c, const char *prefix, const char *line, double *v)
{
    char name[96];
    snprintf(name, sizeof name, "%s%s", prefix, line);
    int col;
    if (col_of(c, name, &col) != 0)
        return -1;
    struct import_cell cell;
    return cell_of(c, col, &cell, v) < 0 ? -1 : 0;
}

static int emit_value(import_money_emit_fn emit, void *arg, struct row_ctx *c, const char *code,
                      const char *name, const char *metric, const char *period, double v,
                      struct import_money_counts *k)
{
    struct import_cell cell;
    value_cell(v, &cell);
    int rc = emit(arg, code, name, metric, period, &cell, c->rec->line);
    if (rc == 0)
        k->figures++;
    return rc;
}

static int line_sum(struct row_ctx *c, const char *prefix, const char *const *lines, int n,
                    double *sum)
{
    double s = 0;
    int any = 0;
    for (int i = 0; i < n && lines[i]; i++) {
        double v;
        if (line_value(c, prefix, lines[i], &v) != 0)
            return -1;
        if (isfinite(v)) {
            s += v;
            any = 1;
        }
    }
    *sum = any ? s : NAN;
    return 0;
}

/* The lines of one row (record row of csv) for one table prefix. */
static int hnbt_lines(struct row_ctx *c, const char *prefix, const int c_place[7],
                      struct import_money_hnbt *out)
{
    struct import_cell cell;
    for (int s = 0; s < 7; s++)
        if (cell_of(c, c_place[s], &cell, &out->placed[s]) < 0)
            return -1;
    if (line_sum(c, prefix, hnbt_total_lines, N_TOTAL_LINES, &out->total_gbp) != 0)
        return -1;
    double settings_sum = 0;
    for (int i = 0; i < IMPORT_MONEY_SETTING_LINES; i++) {
        const struct setting_line *sl = &setting_lines[i];
        double spend;
        if (line_sum(c, prefix, sl->lines, 4, &spend) != 0)
            return -1;
        if (i == 0) {
            double t;
            if (line_sum(c, prefix, mainstream_topups, 3, &t) != 0)
                return -1;
            spend = isfinite(spend) ? spend + (isfinite(t) ? t : 0) : t;
        }
        out->setting_gbp[i] = spend;
        if (isfinite(spend))
            settings_sum += spend;
    }
    double np = isfinite(out->total_gbp) ? out->total_gbp - settings_sum : NAN;
    out->non_placement_gbp = isfinite(np) && np < 0 ? 0 : np;
    return 0;
}

static int place_columns(struct row_ctx *c, int c_place[7])
{
    for (int s = 0; s < 7; s++)
        if (col_of(c, hnbt_place_columns[s], &c_place[s]) != 0)
            return -1;
    return 0;
}

int import_money_hnbt_row(const struct import_csv *csv, size_t row, const char *prefix,
                          struct import_money_hnbt *out, char *err, size_t errlen)
{
    struct row_ctx c = {csv, NULL, err, errlen};
    int c_code, c_place[7];
    if (row < 1 || row >= csv->nrecord) {
        snprintf(err, errlen, "line 1: no row %zu", row);
        return -1;
    }
    c.rec = &csv->record[row];
    if (col_of(&c, "old_la_code", &c_code) != 0 || place_columns(&c, c_place) != 0 ||
        check_width(&c) != 0)
        return -1;
    snprintf(out->old_la_code, sizeof out->old_la_code, "%s", c.rec->field[c_code]);
    return hnbt_lines(&c, prefix, c_place, out);
}

static int stage_hnbt(const struct import_csv *csv, import_money_emit_fn emit, void *arg,
                      struct import_money_counts *k, char *err, size_t errlen)
{
    struct row_ctx c = {csv, NULL, err, errlen};
    int c_code, c_name, c_total, c_place[7];
    if (col_of(&c, "old_la_code", &c_code) != 0 || col_of(&c, "la_name", &c_name) != 0 ||
        col_of(&c, "ehcp_total", &c_total) != 0 || place_columns(&c, c_place) != 0)
        return -1;
    for (size_t r = 1; r < csv->nrecord; r++) {
        c.rec = &csv->record[r];
        if (check_width(&c) != 0)
            return -1;
        char **f = c.rec->field;
        const char *code = f[c_code], *name = f[c_name];
        if (!import_is_old_la_code(code))
            return fail(&c, "old_la_code \"%.10s\" is not a 3-digit DfE number", code);
        k->rows++;
        const char *budget_year = "2021-22", *outturn_year = "2020-21";
        struct import_cell cell;
        double v;
        int rc;
        if (cell_of(&c, c_total, &cell, &v) < 0)
            return -1;
        if ((rc = emit(arg, code, name, "hnbt_ehcp_total", budget_year, &cell, c.rec->line)) != 0)
            return rc;
        k->figures++;
        for (int s = 0; s < 7; s++) {
            if (cell_of(&c, c_place[s], &cell, &v) < 0)
                return -1;
            if ((rc = emit(arg, code, name, hnbt_place_metrics[s], budget_year, &cell,
                           c.rec->line)) != 0)
                return rc;
            k->figures++;
        }
        struct import_money_hnbt b, o;
        if (hnbt_lines(&c, "budget_2122_", c_place, &b) != 0 ||
            hnbt_lines(&c, "outturn_2021_", c_place, &o) != 0)
            return -1;
        if ((rc = emit_value(emit, arg, &c, code, name, "hnbt_budget_total_gbp", budget_year,
                             b.total_gbp, k)) != 0 ||
            (rc = emit_value(emit, arg, &c, code, name, "hnbt_outturn_total_gbp", outturn_year,
                             o.total_gbp, k)) != 0)
            return rc;
        for (int i = 0; i < IMPORT_MONEY_SETTING_LINES; i++) {
            const struct setting_line *sl = &setting_lines[i];
            double places = 0;
            for (int j = 0; j < 2; j++)
                if (sl->placements[j] >= 0)
                    places += b.placed[sl->placements[j]];
            /* a cost only where there are placements to divide by */
            double spend = b.setting_gbp[i];
            double cost = isfinite(spend) && places > 0 ? spend / places : NAN;
            if ((rc = emit_value(emit, arg, &c, code, name, sl->metric, budget_year, spend, k)) != 0 ||
                (rc = emit_value(emit, arg, &c, code, name, sl->cost_metric, budget_year, cost,
                                 k)) != 0)
                return rc;
        }
        if ((rc = emit_value(emit, arg, &c, code, name, "hnbt_budget_non_placement_gbp",
                             budget_year, b.non_placement_gbp, k)) != 0)
            return rc;
    }
    return 0;
}

int import_money_stage(enum import_money_kind kind, const struct import_csv *csv,
                       import_money_emit_fn emit, void *arg, struct import_money_counts *counts,
                       char *err, size_t errlen)
{
    struct import_money_counts k = {0};
    int rc;
    if (!csv || csv->nrecord < 1) {
        snprintf(err, errlen, "line 1: empty file");
        return -1;
    }
    switch (kind) {
    case IMPORT_MONEY_DSG_ALLOCATIONS: rc = stage_allocations(csv, emit, arg, &k, err, errlen); break;
    case IMPORT_MONEY_HNBT: rc = stage_hnbt(csv, emit, arg, &k, err, errlen); break;
    default:
        snprintf(err, errlen, "line 1: not a High Needs money file");
        return -1;
    }
    if (counts)
        *counts = k;
    return rc;
}

/* ---- the importer (`sendbench import money FILE`, and `import all`) ---- */

static int money_detect(char *const *header, size_t n, const char **published, char *why,
                        size_t whylen)
{
    (void)why;
    (void)whylen;
    *published = "";
    struct import_csv_record rec = {.line = 1, .nfield = n, .field = (char **)header};
    struct import_csv h = {.nrecord = 1, .record = &rec};
    return import_money_detect(&h) != IMPORT_MONEY_NONE;
}

struct money_ctx {
    struct import_run *run;
    struct registry *reg;
};

static int money_emit(void *arg, const char *old_code, const char *la_name, const char *metric,
                      const char *period, const struct import_cell *cell, unsigned line)
{
    struct money_ctx *m = arg;
    char p[16], start[16];
    if (import_period_parse(period, IMPORT_PERIOD_FINANCIAL_YEAR, p, start) != 0)
        return import_fail(m->run, line, "period %.20s is not a financial year", period);
    if (!old_code)
        return import_stage_area_figure(m->run, "E92000001", metric, p, "financial_year", start,
                                        cell, line);
    struct reg_authority *a = registry_by_old(m->reg, old_code);
    if (!a)
        return import_fail(m->run, line, "unknown authority %s (%.100s)", old_code, la_name);
    return import_stage_figure(m->run, a->code, a->region_code, metric, p, "financial_year", start,
                               cell, line);
}

static int money_stage(struct import_run *run, const struct import_csv *csv, struct registry *reg)
{
    enum import_money_kind kind = import_money_detect(csv);
    if (kind == IMPORT_MONEY_NONE)
        return import_fail(run, 1, "wrong header: not an ESFA DSG allocations or HNBT file");
    run->title = import_money_source(kind);
    if (import_set_source(run, import_money_source(kind), "") != 0)
        return -1;
    if (import_stage_reserve(run, (csv->nrecord ? csv->nrecord - 1 : 0) * 20) != 0)
        return -1;
    struct money_ctx m = {run, reg};
    struct import_money_counts k = {0};
    char err[300];
    int st = import_money_stage(kind, csv, money_emit, &m, &k, err, sizeof err);
    if (st < 0) {
        unsigned line = 0;
        const char *msg = err;
        if (sscanf(err, "line %u:", &line) == 1 && strchr(err, ':'))
            msg = strchr(err, ':') + 2;
        return import_fail(run, line, "%s", msg);
    }
    if (st != 0)
        return -1;   /* import_fail already said why */
    run->rows_loaded = k.rows + k.national;
    return 0;
}

/* High needs block per EHC plan: each staged allocation over the plans in
 * place at the January census inside its financial year (SEN2, which
 * `import all` loads first). */
static int money_after_stage(PGconn *conn, struct import_run *run, struct registry *reg)
{
    (void)reg;
    bool any = false;
    for (size_t i = 0; i < run->nobs && !any; i++)
        any = strcmp(run->obs[i].metric, "hnb_before_deductions_gbp") == 0;
    if (!any)
        return 0;
    char err[300];
    PGresult *r = dbsync_exec(conn,
                              "SELECT authority, period, value FROM current_observations"
                              " WHERE metric = 'ehcp_caseload' AND period_kind = 'census_year'"
                              "   AND published AND value > 0",
                              0, NULL, err, sizeof err);
    if (!r)
        return import_fail(run, 0, "%s", err);
    size_t n = run->nobs;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct staged_obs *o = &run->obs[i];
        if (strcmp(o->metric, "hnb_before_deductions_gbp") != 0 || o->cell.kind != IMPORT_CELL_VALUE)
            continue;
        char census[16];
        snprintf(census, sizeof census, "%d", (atoi(o->period) + 1) % 10000);
        for (int k = 0; k < PQntuples(r); k++) {
            if (strcmp(PQgetvalue(r, k, 0), o->authority) != 0 ||
                strcmp(PQgetvalue(r, k, 1), census) != 0)
                continue;
            struct import_cell cell = {.kind = IMPORT_CELL_VALUE};
            snprintf(cell.text, sizeof cell.text, "%.2f",
                     strtod(o->cell.text, NULL) / strtod(PQgetvalue(r, k, 2), NULL));
            /* copies: staging may move the array */
            struct staged_obs c = *o;
            rc = import_stage_figure(run, c.authority, c.region, "hnb_per_ehc_plan_gbp", c.period,
                                     "financial_year", c.start, &cell, c.line);
            break;
        }
    }
    PQclear(r);
    return rc;
}

const struct importer importer_money = {
    .name = "money",
    .what = "ESFA DSG allocations or DfE High Needs Benchmarking Tool (data/high_needs/)",
    .detect = money_detect,
    .stage = money_stage,
    .after_stage = money_after_stage,
    .figures = true,
};
