/*
 * Comparative tables and authority profiles (issue 6): the handlers.
 *
 *   GET /api/v1/tables/{metric}?period=&group=&authority=&base=&format=
 *   GET /api/v1/tables/{metric}/meta?format=csv|xlsx
 *   GET /api/v1/authorities/{code}/profile?period=
 *
 * A request is validated here, its caller taken from the dispatcher
 * (anonymous, a council, an admin), then answered by tq_serve_or_compute
 * (server/tables_query.c: the cache, single flight, the queries).
 */
#include <stdio.h>
#include <string.h>

#include "codes.h"
#include "routes.h"
#include "tables.h"
#include "tables_query.h"
#include "xlsx.h"

/* ---------------------------------------------------------------- callers */

/* The caller: the dispatcher resolved it (ROUTE_TOKEN_OPTIONAL in the route
 * table), for the API and the pages alike (a signed-in council sees its own
 * figures on pages too; the published-only evidence pack is anonymous). */
void tq_caller_resolve(struct request *r, void (*next)(struct request *r))
{
    struct tq *q = r->state;
    q->caller = r->caller;
    next(r);
}

/* ---------------------------------------------------------------- handlers */

static int take_metric(struct request *r, struct tq *q)
{
    const char *metric = http_param(r, 0);
    if (!metric || !code_is_metric_id(metric)) {
        tq_bad_param(r, 400, "metric", "metric must be a metric id such as ehcp_caseload");
        return -1;
    }
    snprintf(q->metric, sizeof q->metric, "%s", metric);
    return 0;
}

static int take_period(struct request *r, struct tq *q)
{
    const char *period = http_query(r, "period");
    if (!period || !*period)
        return 0;
    if (strlen(period) >= sizeof q->period || period_parse(period, &q->per) != 0) {
        tq_bad_param(r, 400, "period",
                  "period must be a year (2022), a financial year (2021-22) or a quarter "
                  "(2024-25 Q2)");
        return -1;
    }
    snprintf(q->period, sizeof q->period, "%s", period);
    return 0;
}

/* ?format=json|csv|xlsx, else the Accept header (text/csv, the XLSX type),
 * else JSON: for a table and a profile alike. */
static int take_format(struct request *r, struct tq *q)
{
    const char *format = http_query(r, "format");
    const char *accept = http_header(r, "Accept");
    if (format && strcmp(format, "csv") == 0) {
        q->csv = 1;
    } else if (xlsx_requested(format, accept)) {
        q->xlsx = 1;
    } else if (format && strcmp(format, "json") != 0) {
        tq_bad_param(r, 400, "format", "format must be json, csv or xlsx");
        return -1;
    } else if (!format) {
        q->csv = accept && strstr(accept, "text/csv") != NULL;
    }
    return 0;
}

void route_table(struct request *r)
{
    struct tq *q = tq_new(r, TQ_TABLE);
    if (!q || take_metric(r, q) != 0 || take_period(r, q) != 0)
        return;
    const char *group = http_query(r, "group");
    const char *authority = http_query(r, "authority");
    const char *base = http_query(r, "base");
    if (!group || strcmp(group, "england") == 0) {
        q->group = GROUP_ENGLAND;
        q->group_name = "england";
    } else if (strcmp(group, "region") == 0) {
        q->group = GROUP_REGION;
        q->group_name = "region";
    } else if (strcmp(group, "neighbours") == 0) {
        q->group = GROUP_NEIGHBOURS;
        q->group_name = "neighbours";
    } else {
        tq_bad_param(r, 400, "group", "group must be england, region or neighbours");
        return;
    }
    if (authority && *authority) {
        if (!code_is_authority(authority)) {
            tq_bad_param(r, 400, "authority",
                      "authority must be an ONS code (E06000059) or a DfE number (838)");
            return;
        }
        snprintf(q->authority, sizeof q->authority, "%s", authority);
    } else if (q->group != GROUP_ENGLAND) {
        tq_bad_param(r, 400, "authority", "group region or neighbours needs an authority");
        return;
    }
    if (take_format(r, q) != 0)
        return;
    if (q->xlsx)
        table_download_name(r, q->metric, "");
    if (base && *base) {
        struct period pb;
        if (strlen(base) >= sizeof q->base || period_parse(base, &pb) != 0) {
            tq_bad_param(r, 400, "base", "base must be a year (2015) or a period (2015-16)");
            return;
        }
        if (q->period[0] && period_base(&q->per, base, &pb) != 0) {
            tq_bad_param(r, 400, "base",
                      "base must come before period and be of the same kind");
            return;
        }
        snprintf(q->base, sizeof q->base, "%s", base);
    }
    tq_caller_resolve(r, tq_serve_or_compute);
}

void route_table_meta(struct request *r)
{
    struct tq *q = tq_new(r, TQ_META);
    if (!q || take_metric(r, q) != 0)
        return;
    q->xlsx = xlsx_requested(http_query(r, "format"), http_header(r, "Accept"));
    if (q->xlsx)
        table_download_name(r, q->metric, "-meta");
    tq_caller_resolve(r, tq_serve_or_compute);
}

void route_profile(struct request *r)
{
    struct tq *q = tq_new(r, TQ_PROFILE);
    if (!q)
        return;
    const char *code = http_param(r, 0);
    if (!code || !code_is_authority(code)) {
        tq_bad_param(r, 404, "code", "no such authority");
        return;
    }
    snprintf(q->authority, sizeof q->authority, "%s", code);
    if (take_period(r, q) != 0 || take_format(r, q) != 0)
        return;
    if (q->csv || q->xlsx) {
        char disp[96], per[PERIOD_MAX];
        snprintf(per, sizeof per, "%s", q->period);
        for (char *c = per; *c; c++)
            if (*c == ' ')
                *c = '-';       /* "2024-25 Q2" -> profile-CODE-2024-25-Q2.csv */
        snprintf(disp, sizeof disp, "attachment; filename=\"profile-%s%s%s.%s\"", q->authority,
                 per[0] ? "-" : "", per, q->xlsx ? "xlsx" : "csv");
        http_add_header(r, "Content-Disposition", disp);
    }
    tq_caller_resolve(r, tq_serve_or_compute);
}
