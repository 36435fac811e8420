/* The metric catalogue of sql/002_metric_catalogue.sql, for the submission
 * fuzzers (the validator takes it as an argument; no database here).
 * Header-only: each fuzz_*.c is its own program. */
#ifndef SENDBENCH_FUZZ_CATALOGUE_H
#define SENDBENCH_FUZZ_CATALOGUE_H

#include <string.h>
#include <stdlib.h>

#include "submit.h"

static const struct submit_catalogue *fuzz_catalogue(void)
{
    static struct submit_catalogue cat;
    static int made;
    static const struct {
        const char *id;
        enum submit_unit u;
        int derived, submittable;
    } m[] = {
        {"ehcp_caseload", UNIT_COUNT, 0, 1},
        {"requests_received", UNIT_COUNT, 0, 1},
        {"requests_decided_to_assess", UNIT_COUNT, 0, 1},
        {"requests_refused", UNIT_COUNT, 0, 1},
        {"new_plans_issued", UNIT_COUNT, 0, 1},
        {"plans_ceased", UNIT_COUNT, 0, 1},
        {"new_plans_issued_ex", UNIT_COUNT, 0, 1},
        {"new_plans_within_20_weeks", UNIT_COUNT, 0, 1},
        {"new_plans_within_20_weeks_ex", UNIT_COUNT, 0, 1},
        {"requests_decided_within_6_weeks", UNIT_COUNT, 0, 1},
        {"annual_reviews_due", UNIT_COUNT, 0, 1},
        {"annual_reviews_on_time", UNIT_COUNT, 0, 1},
        {"hnb_allocation_gbp", UNIT_MONEY, 0, 1},
        {"high_needs_spend_gbp", UNIT_MONEY, 0, 1},
        {"dsg_cumulative_balance_gbp", UNIT_MONEY, 0, 1},
        {"council_contribution_gbp", UNIT_MONEY, 0, 1},
        {"case_officers_fte", UNIT_FTE, 0, 1},
        {"dsg_balance_pct_of_income", UNIT_PERCENT, 0, 0},
        {"pct_within_20_weeks", UNIT_PERCENT, 1, 0},
        {"pct_within_20_weeks_ex", UNIT_PERCENT, 1, 0},
        {"caseload_per_officer", UNIT_RATIO, 1, 0},
        {"deficit_pct_of_hnb", UNIT_PERCENT, 1, 0},
        {"caseload_growth_pct", UNIT_PERCENT, 1, 0},
        {"request_to_assessment_rate", UNIT_PERCENT, 1, 0},
    };
    if (!made) {
        for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
            if (submit_catalogue_add(&cat, m[i].id, m[i].u, m[i].derived, m[i].submittable) != 0)
                abort();
        made = 1;
    }
    return &cat;
}

/* A fixed "today" so that runs are reproducible. */
static const struct submit_date fuzz_today = {2025, 6, 15};

static void check_details(const json_t *details, int rc)
{
    size_t n = json_array_size(details);
    if ((rc == SUBMIT_INVALID || rc == SUBMIT_MALFORMED) && n == 0)
        abort();
    if (rc == SUBMIT_OK && n != 0)
        abort();
    for (size_t i = 0; i < n; i++) {
        const json_t *d = json_array_get(details, i);
        if (!json_is_string(json_object_get(d, "field")) ||
            !json_is_string(json_object_get(d, "rule")) ||
            !json_is_string(json_object_get(d, "message")))
            abort();
    }
}

/* One submission body through a parser (submit_parse_json or
 * submit_parse_csv), with the checks both targets make beyond "no crash":
 * the return value is a documented one, a valid document has its fields
 * filled, an invalid one has at least one detail with field/rule/message
 * strings. */
typedef int (*fuzz_submit_parser)(const char *body, size_t len,
                                  const struct submit_catalogue *cat,
                                  const struct submit_date *today, struct submit_doc *doc,
                                  json_t *details);

static void fuzz_submit_one(fuzz_submit_parser parse, const uint8_t *data, size_t size)
{
    struct submit_doc doc = {0};
    json_t *details = json_array();
    if (!details)
        return;
    int rc = parse((const char *)data, size, fuzz_catalogue(), &fuzz_today, &doc, details);
    if (rc != SUBMIT_OK && rc != SUBMIT_INVALID && rc != SUBMIT_MALFORMED && rc != SUBMIT_NOMEM)
        abort();
    if (rc != SUBMIT_NOMEM)
        check_details(details, rc);
    if (rc == SUBMIT_OK) {
        if (!doc.authority[0] || !doc.period[0] || json_object_size(doc.figures) == 0)
            abort();
        if (doc.notes && strlen(doc.notes) > SUBMIT_MAX_NOTES * 4)
            abort();
    }
    submit_doc_clear(&doc);
    json_decref(details);
}

#endif
