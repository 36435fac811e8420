/* The derived metrics' inputs as loaded from the database: a notice's
 * metrics expanded with the derived metrics computed from them. */
#include "derived.h"

#include <string.h>

#include "unit.h"

/* A subset of sql/150's declaration, as the server loads it. */
static const char *const PAIRS[][2] = {
    {"pct_within_20_weeks", "new_plans_within_20_weeks"},
    {"pct_within_20_weeks", "new_plans_timeliness_den"},
    {"pct_within_20_weeks", "new_plans_issued"},
    {"caseload_per_officer", "ehcp_caseload"},
    {"caseload_per_officer", "case_officers_fte"},
    {"caseload_growth_pct", "ehcp_caseload"},
};

static void load(struct derived_inputs *d)
{
    memset(d, 0, sizeof *d);
    for (size_t i = 0; i < sizeof PAIRS / sizeof PAIRS[0]; i++)
        CHECK(derived_inputs_add(d, PAIRS[i][0], PAIRS[i][1]) == 0);
}

static void test_expand(void)
{
    static const struct {
        const char *given[4];
        size_t ngiven;
        const char *want[8];
        size_t nwant;
    } cases[] = {
        /* an input: itself, then each metric computed from it, once */
        {{"ehcp_caseload"}, 1, {"ehcp_caseload", "caseload_per_officer", "caseload_growth_pct"}, 3},
        /* two inputs of one ratio: the ratio once */
        {{"new_plans_issued", "new_plans_within_20_weeks"}, 2,
         {"new_plans_issued", "new_plans_within_20_weeks", "pct_within_20_weeks"}, 3},
        /* no input of anything */
        {{"requests_received"}, 1, {"requests_received"}, 1},
        /* repeated metrics named once */
        {{"case_officers_fte", "case_officers_fte"}, 2,
         {"case_officers_fte", "caseload_per_officer"}, 2},
        {{NULL}, 0, {NULL}, 0},
    };
    struct derived_inputs d;
    load(&d);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *out[8];
        size_t n = 99;
        CHECK(derived_expand(&d, cases[c].given, cases[c].ngiven, out, 8, &n) == 0);
        CHECK(n == cases[c].nwant);
        for (size_t k = 0; k < n && k < cases[c].nwant; k++)
            CHECK_STR(out[k], cases[c].want[k]);
    }
    derived_inputs_clear(&d);
}

static void test_limits(void)
{
    struct derived_inputs d;
    load(&d);
    const char *given[] = {"ehcp_caseload"};
    const char *out[2];
    size_t n;
    /* three metrics do not fit in two: refused, so the caller empties its cache */
    CHECK(derived_expand(&d, given, 1, out, 2, &n) == -1);
    CHECK(n == 2);
    char longid[DERIVED_ID_MAX + 1];
    memset(longid, 'm', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    CHECK(derived_inputs_add(&d, longid, "ehcp_caseload") == -1);
    CHECK(d.n == sizeof PAIRS / sizeof PAIRS[0]);
    derived_inputs_clear(&d);
    CHECK(d.n == 0 && d.pairs == NULL);
    /* nothing loaded: only the metrics given */
    CHECK(derived_expand(&d, given, 1, out, 2, &n) == 0 && n == 1);
}

int main(void)
{
    RUN(test_expand);
    RUN(test_limits);
    return UNIT_DONE();
}
