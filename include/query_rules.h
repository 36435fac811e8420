/*
 * Queries on a quarterly return: warnings that do not block a return but
 * must be answered with an explanation (kept with the version) before it is
 * submitted from the form; API submissions get them in the 201 body (see
 * docs/submissions.md).  PURE: the figures sent and the figures they are
 * compared with are arguments.
 *
 * Every threshold is in one table (query_rules[] in server/query_rules.c,
 * documented in docs/submissions.md); nothing else decides what is queried.
 */
#ifndef SENDBENCH_QUERY_RULES_H
#define SENDBENCH_QUERY_RULES_H

#include <jansson.h>

#include "submit.h"

struct query_rule {
    const char *id;          /* "change_on_previous_quarter" ... */
    double count_pct;        /* counts, money, FTE: relative change in % */
    double percent_points;   /* percentages: change in points */
    const char *what;        /* one line for the documentation */
};

extern const struct query_rule query_rules[];
extern const int query_rules_n;

/* What the figures are compared with, each an object metric -> number
 * (borrowed; any may be NULL or lack a metric):
 *   prev       the figures in force for the previous quarter
 *   year_ago   the figures in force for the same quarter a year earlier
 *   published  the authority's last published (DfE) figure of each metric */
struct query_context {
    const json_t *prev;
    const json_t *year_ago;
    const json_t *published;
};

/*
 * Appends to queries one object per query:
 *   {"field": "figures.M", "metric": "M", "rule": "...", "message": "..."}
 * figures: metric -> number (the return); withdrawn: array of metric ids
 * being withdrawn on purpose (not queried as missing; may be NULL).
 * Returns the number appended, or -1 when out of memory.
 */
int query_rules_check(const struct submit_catalogue *cat, const json_t *figures,
                      const json_t *withdrawn, const struct query_context *ctx, json_t *queries)
    __attribute__((warn_unused_result));

#endif
