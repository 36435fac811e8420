/*
 * Change notices: the one LISTEN on the data channel and the fan-out of what
 * it says to the reply cache (see include/changes.h).
 */
#include "changes.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cache.h"
#include "db.h"
#include "db_read.h"
#include "derived.h"
#include "log.h"
#include "metrics.h"
#include "period.h"

/* ---- the inputs of the derived metrics ----
 *
 * Read from the database's one declaration (derived_inputs, sql/150) when
 * listening starts, again whenever the listening connection is remade or
 * the declaration changes.  Until a load has answered, every notice of
 * figures empties the cache (nothing can be dropped narrowly without
 * knowing which derived metrics a figure feeds). */
struct changes {
    struct app *app;
    struct derived_inputs inputs;
    int loaded;             /* inputs hold the database's declaration */
    int loading;            /* a load is in flight (the app may stop meanwhile) */
    int stopped;            /* changes_stop ran while loading: free on the answer */
};

static const char DERIVED_INPUTS_SQL[] =
    "SELECT metric, input FROM derived_inputs ORDER BY metric, input";

static void changes_free(struct changes *ch)
{
    derived_inputs_clear(&ch->inputs);
    free(ch);
}

static void inputs_fetched(const struct db_reply *reply, void *arg)
{
    struct changes *ch = arg;
    ch->loading = 0;
    if (ch->stopped) {
        changes_free(ch);
        return;
    }
    derived_inputs_clear(&ch->inputs);
    ch->loaded = 0;
    if (reply->error || !reply->res) {
        log_warn("changes: derived inputs not loaded (%s): every change empties the cache",
                 reply->error ? reply->error : "no result");
        return;
    }
    int rows = PQntuples(reply->res);
    for (int i = 0; i < rows; i++)
        if (derived_inputs_add(&ch->inputs, PQgetvalue(reply->res, i, 0),
                               PQgetvalue(reply->res, i, 1)) != 0) {
            log_warn("changes: derived inputs not loaded (out of memory)");
            derived_inputs_clear(&ch->inputs);
            return;
        }
    ch->loaded = 1;
    /* Notices that came before the load emptied the cache: nothing older is
     * left to judge with these inputs. */
    log_debug("changes: %d derived inputs loaded", rows);
}

static void inputs_load(struct changes *ch)
{
    if (ch->loading)
        return;
    ch->loaded = 0;
    if (db_pool_query(ch->app->pool, DERIVED_INPUTS_SQL, 0, NULL, inputs_fetched, ch) == 0)
        ch->loading = 1;
    else
        log_warn("changes: derived inputs not loaded (out of memory)");
}

/* ---- the fan-out ---- */

/* A notification that names one authority, one period and its metrics
 * (sql/012's trigger, submission_decide in sql/041) drops only what depends
 * on those figures and the derived metrics computed from them ("hidden":
 * true, sql/152, keeps the replies of callers who may not see them, as far
 * as the authority is concerned: cache.h); "forecasts"
 * only what shows stored forecasts; anything else (an import, a change of
 * authorities, neighbours, metrics, the derived metrics' declaration, the
 * mask key, or NULL: the listening connection was remade) empties the
 * cache. */
static void on_notice(const char *channel, const char *payload, void *arg)
{
    struct changes *chg = arg;
    struct app *app = chg->app;
    if (changes_heartbeat_notice(app, channel, payload))
        return;
    /* The replica serves again once it has replayed this commit. */
    db_read_changed(app);
    if (payload && strcmp(payload, "forecasts") == 0) {
        struct cache_change ch = {.flags = CACHE_DEP_FORECASTS};
        cache_change(app->tables_cache, &ch);
        metrics_count("tables_cache_narrow_invalidations");
        return;
    }
    if (!payload || strcmp(payload, "derived_metrics") == 0)
        inputs_load(chg);
    json_t *doc = payload && payload[0] == '{' ? json_loads(payload, 0, NULL) : NULL;
    const char *authority = json_string_value(json_object_get(doc, "authority"));
    const char *period = json_string_value(json_object_get(doc, "period"));
    json_t *given = json_object_get(doc, "metrics");
    const char *named[CACHE_CHANGE_METRICS];
    const char *metrics[CACHE_CHANGE_METRICS];
    size_t ngiven = json_array_size(given), n = 0;
    int ok = chg->loaded && authority && period && json_is_array(given) && ngiven > 0 &&
             ngiven <= CACHE_CHANGE_METRICS;
    for (size_t i = 0; ok && i < ngiven; i++)
        ok = (named[i] = json_string_value(json_array_get(given, i))) != NULL;
    /* Too many to name: empty the cache. */
    if (ok)
        ok = derived_expand(&chg->inputs, named, ngiven, metrics, CACHE_CHANGE_METRICS, &n) == 0;
    /* Forecasts read annual figures only: a council quarter leaves them. */
    struct period per;
    unsigned kinds = CACHE_DEP_ANY_DATA;
    if (ok && (period_parse(period, &per) != 0 || per.kind != PERIOD_QUARTER))
        kinds |= CACHE_DEP_ANNUAL_DATA;
    if (ok) {
        struct cache_change ch = {.flags = kinds, .authority = authority,
                                  .period = period, .metrics = metrics, .nmetrics = n,
                                  .hidden = json_is_true(json_object_get(doc, "hidden"))};
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
    struct changes *ch = calloc(1, sizeof *ch);
    if (!ch)
        return -1;
    ch->app = app;
    if (db_pool_listen(app->pool, CHANGES_CHANNEL, on_notice, ch) != 0) {
        free(ch);
        return -1;
    }
    app->changes = ch;
    inputs_load(ch);
    return 0;
}

void changes_stop(struct app *app)
{
    struct changes *ch = app->changes;
    app->changes = NULL;
    if (!ch)
        return;
    if (ch->loading)
        ch->stopped = 1;    /* inputs_fetched frees it */
    else
        changes_free(ch);
}
