#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cache.h"
#include "changes.h"
#include "db.h"
#include "metrics.h"
#include "routes.h"

static void healthz_done(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    if (reply->error) {
        http_add_header(r, "Retry-After", "2");
        http_reply_json(r, 503, json_pack("{s:s, s:s}", "status", "unavailable", "reason",
                                          reply->error));
        return;
    }
    http_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

/* 200 only when a round trip to the database works now; while no
 * connection is up it answers 503 at once with the last connection error. */
void route_healthz(struct request *r)
{
    const char *reason = NULL;
    http_add_header(r, "Cache-Control", "no-store");
    if (!db_pool_is_up(r->app->pool, &reason)) {
        http_add_header(r, "Retry-After", "2");
        http_reply_json(r, 503, json_pack("{s:s, s:s}", "status", "unavailable", "reason",
                                          reason ? reason : "database unavailable"));
        return;
    }
    if (db_pool_query(r->app->pool, "SELECT 1", 0, NULL, healthz_done, r) != 0)
        http_reply_oom(r);
}

/* The process is alive and its loop answers: a restart is not needed. */
void route_livez(struct request *r)
{
    http_add_header(r, "Cache-Control", "no-store");
    http_reply_json(r, 200, json_pack("{s:s}", "status", "alive"));
}

static void unready(struct request *r, const char *reason)
{
    http_add_header(r, "Retry-After", "2");
    http_reply_json(r, 503, json_pack("{s:s, s:s}", "status", "unavailable", "reason", reason));
}

static void readyz_done(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    if (reply->error)
        unready(r, reply->error);
    else if (!reply->res || PQntuples(reply->res) != 1 || strcmp(PQgetvalue(reply->res, 0, 0), "f") != 0)
        unready(r, "the database is a standby (read-only)");
    else
        http_reply_json(r, 200, json_pack("{s:s}", "status", "ready"));
}

/* Ready for traffic (a load balancer's check): not shutting down, the pool
 * is up, the change listener hears changes (else cached replies could go
 * stale unnoticed) and the database is a writable primary. */
void route_readyz(struct request *r)
{
    const char *reason = NULL;
    http_add_header(r, "Cache-Control", "no-store");
    if (r->app->unready) {
        unready(r, "shutting down (SIGTERM): draining");
        return;
    }
    if (!db_pool_is_up(r->app->pool, &reason)) {
        unready(r, reason ? reason : "database unavailable");
        return;
    }
    if (!changes_live(r->app)) {
        unready(r, db_pool_listener_up(r->app->pool)
                       ? "the change listener's heartbeat is overdue"
                       : "the change listener is not connected");
        return;
    }
    if (db_pool_query(r->app->pool, "SELECT pg_is_in_recovery()", 0, NULL, readyz_done, r) != 0)
        http_reply_oom(r);
}

void route_prometheus(struct request *r)
{
    struct evbuffer *buf = evbuffer_new();
    if (!buf) {
        http_reply_oom(r);
        return;
    }
    metrics_render(buf, r->app->pool);
    if (r->app->tables_cache)
        cache_metrics_render(r->app->tables_cache, buf);
    http_reply_buffer(r, 200, "text/plain; version=0.0.4", buf);
    evbuffer_free(buf);
}
