#include <event2/buffer.h>
#include <stdlib.h>

#include "app.h"
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

void route_prometheus(struct request *r)
{
    struct evbuffer *buf = evbuffer_new();
    if (!buf) {
        http_reply_oom(r);
        return;
    }
    metrics_render(buf, r->app->pool);
    http_reply_buffer(r, 200, "text/plain; version=0.0.4", buf);
    evbuffer_free(buf);
}
