/* The High Needs money files as figures (server/import_money.c), read from
 * the shipped copies in data/high_needs/. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "import_money.h"
#include "unit.h"

struct got {
    int n;
    double derby_indep_cost, derby_indep_budget, derby_np, derby_total, derby_hnb_2122;
    int derby_placed_special;
    int symbols;
    int bad_period;
    int england;            /* figures emitted for England's row */
    double england_hnb_2324;
};

static int collect(void *arg, const char *code, const char *name, const char *metric,
                   const char *period, const struct import_cell *cell, unsigned line)
{
    (void)name;
    (void)line;
    struct got *g = arg;
    g->n++;
    if (strlen(period) != 7 || period[4] != '-')
        g->bad_period++;
    if (cell->kind == IMPORT_CELL_SYMBOL)
        g->symbols++;
    if (!code) {
        g->england++;
        if (strcmp(metric, "hnb_before_deductions_gbp") == 0 && strcmp(period, "2023-24") == 0)
            g->england_hnb_2324 = strtod(cell->text, NULL);
        return 0;
    }
    if (strcmp(code, "831") != 0 || cell->kind != IMPORT_CELL_VALUE)
        return 0;
    double v = strtod(cell->text, NULL);
    if (strcmp(metric, "hnbt_cost_independent_gbp") == 0)
        g->derby_indep_cost = v;
    else if (strcmp(metric, "hnbt_budget_independent_gbp") == 0)
        g->derby_indep_budget = v;
    else if (strcmp(metric, "hnbt_budget_non_placement_gbp") == 0)
        g->derby_np = v;
    else if (strcmp(metric, "hnbt_budget_total_gbp") == 0)
        g->derby_total = v;
    else if (strcmp(metric, "hnbt_placed_maintained_special") == 0)
        g->derby_placed_special = (int)v;
    else if (strcmp(metric, "hnb_before_deductions_gbp") == 0 && strcmp(period, "2021-22") == 0)
        g->derby_hnb_2122 = v;
    return 0;
}

static void test_hnbt(void)
{
    struct import_csv csv = {0};
    char err[200];
    CHECK(import_csv_read("data/high_needs/hnbt_2021_22.csv", &csv, err, sizeof err) == 0);
    CHECK(import_money_detect(&csv) == IMPORT_MONEY_HNBT);
    struct got g = {0};
    struct import_money_counts k;
    CHECK(import_money_stage(IMPORT_MONEY_HNBT, &csv, collect, &g, &k, err, sizeof err) == 0);
    CHECK(k.rows == 154);
    CHECK(k.figures == 154 * 19);
    CHECK(g.bad_period == 0);
    /* the example: 10,388,581 over 166 placements */
    CHECK_NEAR(g.derby_indep_budget, 10388581, 1e-12);
    CHECK_NEAR(g.derby_indep_cost, 10388581.0 / 166, 1e-6);
    CHECK(g.derby_placed_special == 806);
    /* 9,679,280 + 24,505,713 + 10,388,581 + 1,323,295 + 0 + 332,000 + 0 */
    CHECK_NEAR(g.derby_total, 46228869, 1e-12);
    /* total less mainstream (652,000 + 425,500 + 6,080,990 + 2,420,470),
     * special (8,333,280 + 10,459,683), independent, post-16 (3,807,063) */
    CHECK_NEAR(g.derby_np, 46228869 - 9578960 - 18792963 - 10388581 - 3807063, 1e-12);
    import_csv_free(&csv);
}

static void test_allocations(void)
{
    struct import_csv csv = {0};
    char err[200];
    CHECK(import_csv_read("data/high_needs/esfa_dsg_allocations_2019_2024.csv", &csv, err,
                          sizeof err) == 0);
    CHECK(import_money_detect(&csv) == IMPORT_MONEY_DSG_ALLOCATIONS);
    struct got g = {0};
    struct import_money_counts k;
    CHECK(import_money_stage(IMPORT_MONEY_DSG_ALLOCATIONS, &csv, collect, &g, &k, err,
                             sizeof err) == 0);
    CHECK(k.national == 5);
    CHECK(k.rows == 754 - 5);
    CHECK(k.figures == 4 * k.rows);
    /* England's row is England's published figure, not skipped */
    CHECK(g.england == 4 * 5);
    CHECK_NEAR(g.england_hnb_2324, 9953984391.0, 1e-12);
    CHECK_NEAR(g.derby_hnb_2122, 45363086, 1e-12);
    CHECK(import_money_detect(&csv) != IMPORT_MONEY_HNBT);
    import_csv_free(&csv);
}

static void test_malformed(void)
{
    const char *cases[] = {
        "time_period,geographic_level,old_la_code,la_name,high_needs_block_before,"
        "high_needs_block_after,total_dsg_before,total_dsg_after\n"
        "201920,Local authority,831,Derby,1e3,1,1,1\n",
        "time_period,geographic_level,old_la_code,la_name,high_needs_block_before,"
        "high_needs_block_after,total_dsg_before,total_dsg_after\n"
        "2019,Local authority,831,Derby,1,1,1,1\n",
        "time_period,geographic_level,old_la_code,la_name,high_needs_block_before,"
        "high_needs_block_after,total_dsg_before,total_dsg_after\n"
        "201920,Local authority,8310,Derby,1,1,1,1\n",
        "time_period,geographic_level,old_la_code,la_name,high_needs_block_before,"
        "high_needs_block_after,total_dsg_before,total_dsg_after\n"
        "201920,Regional,831,Derby,1,1,1,1\n",
        "time_period,geographic_level,old_la_code,la_name,high_needs_block_before,"
        "high_needs_block_after,total_dsg_before,total_dsg_after\n"
        "201920,Local authority,831,Derby,1,1,1\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct import_csv csv = {0};
        char err[200] = "";
        CHECK(import_csv_parse(cases[i], strlen(cases[i]), &csv, err, sizeof err) == 0);
        CHECK(import_money_detect(&csv) == IMPORT_MONEY_DSG_ALLOCATIONS);
        struct got g = {0};
        CHECK(import_money_stage(IMPORT_MONEY_DSG_ALLOCATIONS, &csv, collect, &g, NULL, err,
                                 sizeof err) == -1);
        CHECK(strncmp(err, "line 2: ", 8) == 0);
        import_csv_free(&csv);
    }
    struct import_csv csv = {0};
    char err[200];
    const char *other = "a,b\n1,2\n";
    CHECK(import_csv_parse(other, strlen(other), &csv, err, sizeof err) == 0);
    CHECK(import_money_detect(&csv) == IMPORT_MONEY_NONE);
    import_csv_free(&csv);
}

int main(void)
{
    RUN(test_hnbt);
    RUN(test_allocations);
    RUN(test_malformed);
    return UNIT_DONE();
}
