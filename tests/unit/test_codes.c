/* The code rules (include/codes.h), table-driven.  With --classify the
 * program reads one code a line on stdin and prints, for each, the code and
 * 0/1 for ons_authority dfe_authority region scope metric_id (tab
 * separated): tests/integration/test_codes.py runs the SQL functions that
 * the CHECKs call on the same lines and compares. */
#include "codes.h"

#include <stdio.h>
#include <string.h>

#include "unit.h"

struct code_case {
    const char *code;
    int ons, dfe, region, scope, metric;
};

static const struct code_case cases[] = {
    {"E06000059", 1, 0, 0, 1, 0},   /* Dorset */
    {"E08000037", 1, 0, 0, 1, 0},
    {"E09000001", 1, 0, 0, 1, 0},
    {"E10000009", 1, 0, 0, 1, 0},
    {"E11000001", 1, 0, 0, 1, 0},
    {"E07000001", 0, 0, 0, 0, 0},   /* a district: no SEND duties */
    {"E12000009", 0, 0, 1, 1, 0},   /* South West */
    {"E13000001", 0, 0, 0, 0, 0},   /* inner London: not a region */
    {"E92000001", 0, 0, 0, 1, 0},   /* England */
    {"E92000002", 0, 0, 0, 0, 0},
    {"W06000001", 0, 0, 0, 0, 0},
    {"E0600005", 0, 0, 0, 0, 0},
    {"E060000590", 0, 0, 0, 0, 0},
    {"e06000059", 0, 0, 0, 0, 1},   /* lower case: a metric id shape, no code */
    {"E06a00059", 0, 0, 0, 0, 0},
    {"838", 0, 1, 0, 0, 0},
    {"83", 0, 0, 0, 0, 0},
    {"8380", 0, 0, 0, 0, 0},
    {"83a", 0, 0, 0, 0, 0},
    {"", 0, 0, 0, 0, 0},
    {"ehcp_caseload", 0, 0, 0, 0, 1},
    {"a1", 0, 0, 0, 0, 1},
    {"a", 0, 0, 0, 0, 0},
    {"1abc", 0, 0, 0, 0, 0},
    {"_abc", 0, 0, 0, 0, 0},
    {"Ehcp", 0, 0, 0, 0, 0},
    {"ehcp-caseload", 0, 0, 0, 0, 0},
    {"a23456789012345678901234567890123456789012345678901234567890123", 0, 0, 0, 0, 1},
    {"a234567890123456789012345678901234567890123456789012345678901234", 0, 0, 0, 0, 0},
};

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct code_case *c = &cases[i];
        unit_case_name = c->code;
        CHECK(code_is_ons_authority(c->code) == c->ons);
        CHECK(code_is_dfe_authority(c->code) == c->dfe);
        CHECK(code_is_authority(c->code) == (c->ons || c->dfe));
        CHECK(code_is_region(c->code) == c->region);
        CHECK(code_is_scope(c->code) == c->scope);
        CHECK(code_is_england(c->code) == (strcmp(c->code, CODE_ENGLAND) == 0));
        CHECK(code_is_metric_id(c->code) == c->metric);
        CHECK(strlen(c->code) < CODE_MAX || !(c->ons || c->dfe || c->region || c->scope));
        CHECK(strlen(c->code) < CODE_METRIC_MAX || !c->metric);
    }
    unit_case_name = "test_cases";
}

static void test_null_is_no_code(void)
{
    CHECK(!code_is_ons_authority(NULL) && !code_is_dfe_authority(NULL) && !code_is_authority(NULL));
    CHECK(!code_is_region(NULL) && !code_is_england(NULL) && !code_is_scope(NULL));
    CHECK(!code_is_metric_id(NULL));
    CHECK(!code_is_row_id(NULL));
}

static void test_row_ids(void)
{
    CHECK(code_is_row_id("1") && code_is_row_id("0") && code_is_row_id("42"));
    CHECK(code_is_row_id("999999999999999999"));        /* 18 digits fit a bigint */
    CHECK(!code_is_row_id("1000000000000000000"));      /* 19 do not always */
    CHECK(!code_is_row_id("") && !code_is_row_id("-1") && !code_is_row_id("+1"));
    CHECK(!code_is_row_id("1a") && !code_is_row_id(" 1") && !code_is_row_id("1 "));
    CHECK(!code_is_row_id("1.0") && !code_is_row_id("0x1"));
}

static int classify(void)
{
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        printf("%s\t%d\t%d\t%d\t%d\t%d\n", line, code_is_ons_authority(line),
               code_is_dfe_authority(line), code_is_region(line), code_is_scope(line),
               code_is_metric_id(line));
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--classify") == 0)
        return classify();
    /* The cases themselves, for test_codes.py to run through SQL. */
    if (argc == 2 && strcmp(argv[1], "--cases") == 0) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            printf("%s\n", cases[i].code);
        return 0;
    }
    RUN(test_cases);
    RUN(test_null_is_no_code);
    RUN(test_row_ids);
    return UNIT_DONE();
}
