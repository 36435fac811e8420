/* The query rules and their thresholds (server/query_rules.c), table-driven. */
#include <jansson.h>

#include "query_rules.h"
#include "submit.h"
#include "unit.h"

static struct submit_catalogue cat;

static void catalogue(void)
{
    static const struct {
        const char *id;
        enum submit_unit unit;
    } m[] = {
        {"ehcp_caseload", UNIT_COUNT}, {"requests_received", UNIT_COUNT},
        {"case_officers_fte", UNIT_FTE}, {"dsg_cumulative_balance_gbp", UNIT_MONEY},
        {"pct_made_up", UNIT_PERCENT},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        CHECK(submit_catalogue_add(&cat, m[i].id, m[i].unit, 0, 1) == 0);
    CHECK(submit_catalogue_add(&cat, "caseload_per_officer", UNIT_RATIO, 1, 0) == 0);
}

/* The rules fired for figures against prev / year_ago / published, as
 * "metric:rule" joined by spaces, in order. */
static void fired(const char *figures, const char *prev, const char *year, const char *pub,
                  const char *withdrawn, char *out, size_t len)
{
    json_error_t e;
    json_t *f = json_loads(figures, 0, &e), *p = prev ? json_loads(prev, 0, &e) : NULL;
    json_t *y = year ? json_loads(year, 0, &e) : NULL, *u = pub ? json_loads(pub, 0, &e) : NULL;
    json_t *w = withdrawn ? json_loads(withdrawn, 0, &e) : NULL;
    json_t *q = json_array();
    struct query_context ctx = {p, y, u};
    int n = query_rules_check(&cat, f, w, &ctx, q);
    CHECK(n == (int)json_array_size(q));
    out[0] = '\0';
    size_t i;
    json_t *d;
    json_array_foreach(q, i, d) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s:%s", i ? " " : "",
                 json_string_value(json_object_get(d, "metric")),
                 json_string_value(json_object_get(d, "rule")));
        CHECK(json_string_length(json_object_get(d, "message")) > 20);
        CHECK(strncmp(json_string_value(json_object_get(d, "field")), "figures.", 8) == 0);
    }
    json_decref(f);
    json_decref(p);
    json_decref(y);
    json_decref(u);
    json_decref(w);
    json_decref(q);
}

static void test_rules_table(void)
{
    static const struct {
        const char *figures, *prev, *year, *pub, *withdrawn, *want;
    } cases[] = {
        /* within every threshold: nothing */
        {"{\"ehcp_caseload\": 3200}", "{\"ehcp_caseload\": 3150}", "{\"ehcp_caseload\": 2900}",
         "{\"ehcp_caseload\": 3000}", NULL, ""},
        /* a typed extra zero: queried once, not also as a 900% change */
        {"{\"ehcp_caseload\": 31500}", "{\"ehcp_caseload\": 3150}", "{\"ehcp_caseload\": 2900}",
         NULL, NULL, "ehcp_caseload:about_ten_times"},
        /* no previous quarter: against the last published figure */
        {"{\"ehcp_caseload\": 32000}", NULL, NULL, "{\"ehcp_caseload\": 3200}", NULL,
         "ehcp_caseload:about_ten_times"},
        /* a digit missing */
        {"{\"ehcp_caseload\": 315}", "{\"ehcp_caseload\": 3150}", NULL, NULL, NULL,
         "ehcp_caseload:about_ten_times"},
        /* 25% is allowed, 26% is queried, on either reference */
        {"{\"requests_received\": 125}", "{\"requests_received\": 100}", NULL, NULL, NULL, ""},
        {"{\"requests_received\": 126}", "{\"requests_received\": 100}", NULL, NULL, NULL,
         "requests_received:change_on_previous_quarter"},
        {"{\"requests_received\": 74}", NULL, "{\"requests_received\": 100}", NULL, NULL,
         "requests_received:change_on_year_earlier"},
        {"{\"requests_received\": 150}", "{\"requests_received\": 100}",
         "{\"requests_received\": 100}", NULL, NULL,
         "requests_received:change_on_previous_quarter requests_received:change_on_year_earlier"},
        /* percentages: points, not per cent */
        {"{\"pct_made_up\": 40}", "{\"pct_made_up\": 25.5}", NULL, NULL, NULL, ""},
        {"{\"pct_made_up\": 41}", "{\"pct_made_up\": 25.5}", NULL, NULL, NULL,
         "pct_made_up:change_on_previous_quarter"},
        /* sent last quarter, missing now; a withdrawal is not queried */
        {"{\"ehcp_caseload\": 3150}", "{\"ehcp_caseload\": 3150, \"requests_received\": 90}",
         NULL, NULL, NULL, "requests_received:missing_now"},
        {"{\"ehcp_caseload\": 3150}", "{\"ehcp_caseload\": 3150, \"requests_received\": 90}",
         NULL, NULL, "[\"requests_received\"]", ""},
        /* the DSG balance changing sign (and by more than 25%) */
        {"{\"dsg_cumulative_balance_gbp\": 1000000}", "{\"dsg_cumulative_balance_gbp\": -2000000}",
         NULL, NULL, NULL,
         "dsg_cumulative_balance_gbp:change_on_previous_quarter "
         "dsg_cumulative_balance_gbp:dsg_balance_sign_change"},
        /* caseload per officer: 250 allowed, above queried */
        {"{\"ehcp_caseload\": 2500, \"case_officers_fte\": 10}", NULL, NULL, NULL, NULL, ""},
        {"{\"ehcp_caseload\": 2510, \"case_officers_fte\": 10}", NULL, NULL, NULL, NULL,
         "case_officers_fte:caseload_per_officer"},
        /* zero references never divide */
        {"{\"requests_received\": 10}", "{\"requests_received\": 0}", NULL, NULL, NULL, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char got[512];
        fired(cases[i].figures, cases[i].prev, cases[i].year, cases[i].pub, cases[i].withdrawn,
              got, sizeof got);
        if (strcmp(got, cases[i].want) != 0)
            fprintf(stderr, "case %zu: got \"%s\"\n", i, got);
        CHECK_STR(got, cases[i].want);
    }
}

static void test_thresholds_are_in_one_table(void)
{
    CHECK(query_rules_n == 6);
    for (int i = 0; i < query_rules_n; i++)
        CHECK(query_rules[i].id && query_rules[i].what && strlen(query_rules[i].what) > 20);
}

int main(void)
{
    catalogue();
    RUN(test_rules_table);
    RUN(test_thresholds_are_in_one_table);
    submit_catalogue_clear(&cat);
    return UNIT_DONE();
}
