/*
 * Change notices: the one LISTEN on the data channel and the fan-out of what
 * it says to the reply cache (see include/changes.h).
 */
#include "changes.h"

#include <jansson.h>
#include <string.h>

#include "app.h"
#include "cache.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "period.h"

/* The derived metrics computed from each input (sql/005_tables.sql's
 * derived_observations; the same pairs as TABLES_DERIVED_INPUTS below). */
static const struct { const char *metric, *input; } DERIVED_INPUTS[] = {
    {"pct_within_20_weeks", "new_plans_within_20_weeks"},
    {"pct_within_20_weeks", "new_plans_timeliness_den"},
    {"pct_within_20_weeks", "new_plans_issued"},
    {"pct_within_20_weeks_ex", "new_plans_within_20_weeks_ex"},
    {"pct_within_20_weeks_ex", "new_plans_issued_ex"},
    {"caseload_per_officer", "ehcp_caseload"},
    {"caseload_per_officer", "case_officers_fte"},
    {"deficit_pct_of_hnb", "dsg_cumulative_balance_gbp"},
    {"deficit_pct_of_hnb", "hnb_allocation_gbp"},
    {"caseload_growth_pct", "ehcp_caseload"},
    {"request_to_assessment_rate", "requests_decided_to_assess"},
    {"request_to_assessment_rate", "requests_received"},
};
/* A notification that names one authority, one period and its metrics
 * (sql/012's trigger, submit_figures in sql/004) drops only what depends
 * on those figures; "forecasts" only what shows stored forecasts; anything
 * else (an import, a change of authorities, neighbours, metrics, the mask
 * key, or NULL: the listening connection was remade) empties the cache. */
static void on_notice(const char *channel, const char *payload, void *arg)
{
    struct app *app = arg;
    if (changes_heartbeat_notice(app, channel, payload))
        return;
    if (payload && strcmp(payload, "forecasts") == 0) {
        struct cache_change ch = {.flags = CACHE_DEP_FORECASTS};
        cache_change(app->tables_cache, &ch);
        metrics_count("tables_cache_narrow_invalidations");
        return;
    }
    json_t *doc = payload && payload[0] == '{' ? json_loads(payload, 0, NULL) : NULL;
    const char *authority = json_string_value(json_object_get(doc, "authority"));
    const char *period = json_string_value(json_object_get(doc, "period"));
    json_t *given = json_object_get(doc, "metrics");
    const char *metrics[CACHE_CHANGE_METRICS + 1];
    size_t n = 0;
    int ok = authority && period && json_is_array(given) && json_array_size(given) > 0;
    for (size_t i = 0; ok && i < json_array_size(given); i++) {
        const char *m = json_string_value(json_array_get(given, i));
        ok = m != NULL;
        for (size_t d = 0; ok && d <= sizeof DERIVED_INPUTS / sizeof DERIVED_INPUTS[0]; d++) {
            const char *add = d == 0 ? m : strcmp(DERIVED_INPUTS[d - 1].input, m) == 0
                                               ? DERIVED_INPUTS[d - 1].metric : NULL;
            int seen = !add;
            for (size_t k = 0; !seen && k < n; k++)
                seen = strcmp(metrics[k], add) == 0;
            if (seen)
                continue;
            if (n == CACHE_CHANGE_METRICS) {
                ok = 0;     /* too many to name: empty the cache */
                break;
            }
            metrics[n++] = add;
        }
    }
    /* Forecasts read annual figures only: a council quarter leaves them. */
    struct period per;
    unsigned kinds = CACHE_DEP_ANY_DATA;
    if (ok && (period_parse(period, &per) != 0 || per.kind != PERIOD_QUARTER))
        kinds |= CACHE_DEP_ANNUAL_DATA;
    if (ok) {
        struct cache_change ch = {.flags = kinds, .authority = authority,
                                  .period = period, .metrics = metrics, .nmetrics = n};
        log_debug("tables: figures of %s for %s changed", authority, period);
        cache_change(app->tables_cache, &ch);
        metrics_count("tables_cache_narrow_invalidations");
    } else {
        /* The metrics table itself, or anything while we were not
         * listening: the submission catalogue is read again on next use. */
        if (!payload || strcmp(payload, "metrics") == 0)
            app->catalogue_changes++;
        log_debug("tables: %s changed: cache emptied", payload ? payload : "(reconnected)");
        cache_invalidate(app->tables_cache);
        metrics_count("tables_cache_invalidations");
    }
    json_decref(doc);
}

int changes_listen(struct app *app)
{
    if (changes_heartbeat_start(app, log_instance()) != 0)
        return -1;
    return db_pool_listen(app->pool, CHANGES_CHANNEL, on_notice, app);
}
