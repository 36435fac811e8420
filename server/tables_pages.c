/* The web pages' and the evidence pack's entry into the tables: a page
 * drawn from a table or a profile (include/tables_page.h), answered for
 * the caller the dispatcher resolved (see include/tables_query.h). */
#include "tables_query.h"

#include <stdio.h>
#include <string.h>

#include "codes.h"
#include "period.h"
#include "tables_page.h"

/* A page shows what the API shows its caller (the dispatcher resolved it:
 * a signed-in council sees its own figures on pages too, issue 15). */
void tables_page_table(struct request *r, const struct tables_page *page, const char *metric,
                       const char *period, const char *authority)
{
    struct tq *q = tq_new(r, TQ_TABLE);
    if (!q)
        return;
    q->page = page;
    q->group = GROUP_ENGLAND;
    q->group_name = "england";
    if (!metric || !code_is_metric_id(metric)) {
        tq_bad_param(r, 404, "metric", "no metric with this id; see /api/v1/metrics");
        return;
    }
    snprintf(q->metric, sizeof q->metric, "%s", metric);
    if (period && *period) {
        if (strlen(period) >= sizeof q->period || period_parse(period, &q->per) != 0) {
            tq_bad_param(r, 400, "period",
                      "period must be a year (2022), a financial year (2021-22) or a quarter "
                      "(2024-25 Q2)");
            return;
        }
        snprintf(q->period, sizeof q->period, "%s", period);
    }
    if (authority && *authority) {
        if (!code_is_authority(authority)) {
            tq_bad_param(r, 404, "authority", "no authority has this code");
            return;
        }
        snprintf(q->authority, sizeof q->authority, "%s", authority);
    }
    tq_caller_resolve(r, tq_serve_or_compute);
}

void tables_page_profile_with(struct request *r, const struct tables_page *page, const char *code,
                              const char *variant, void *arg, void (*arg_free)(void *arg))
{
    struct tq *q = tq_new(r, TQ_PROFILE);
    if (!q) {
        if (arg_free)
            arg_free(arg);
        return;
    }
    q->page = page;
    q->arg = arg;
    q->arg_free = arg_free;
    snprintf(q->variant, sizeof q->variant, "%s", variant ? variant : "");
    if (!code || !code_is_authority(code)) {
        tq_bad_param(r, 404, "code", "no authority has this code");
        return;
    }
    snprintf(q->authority, sizeof q->authority, "%s", code);
    tq_caller_resolve(r, tq_serve_or_compute);
}

void *tables_page_arg(const struct request *r)
{
    const struct tq *q = r->state;
    return q && q->kind == TQ_PROFILE ? q->arg : NULL;
}

/* published_only: the published figures alone, as an anonymous caller
 * sees them (the evidence pack's "published figures only"). */
void tables_page_profile(struct request *r, const struct tables_page *page, const char *code,
                         int published_only)
{
    struct tq *q = tq_new(r, TQ_PROFILE);
    if (!q)
        return;
    q->page = page;
    if (!code || !code_is_authority(code)) {
        tq_bad_param(r, 404, "code", "no authority has this code");
        return;
    }
    snprintf(q->authority, sizeof q->authority, "%s", code);
    if (published_only) {
        memset(&q->caller, 0, sizeof q->caller);
        q->caller.kind = CALLER_ANONYMOUS;
        tq_serve_or_compute(r);
    } else {
        tq_caller_resolve(r, tq_serve_or_compute);
    }
}
