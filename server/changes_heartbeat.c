/*
 * The change listener's heartbeat (include/changes.h).
 *
 * A LISTEN connection can look up and hear nothing: its peer vanished
 * without a FIN (a host or network gone), or it sits on another node than
 * the one the pool writes to.  Cached replies would then go stale
 * unnoticed.  So every HB_INTERVAL the server NOTIFYs a channel of its own
 * (sendbench_hb_<instance>) through the pool, which the listener also
 * LISTENs on: the notice comes back only if writes through the pool reach
 * the listener's node and the listener hears them.  A heartbeat sent but
 * not heard within HB_TIMEOUT marks the listener dead (cached replies are
 * served as stale, /readyz fails) and the connection is remade; remaking
 * it empties the cache (changes.c), and the next heartbeat heard makes the
 * listener live again.  While the pool itself is down nothing is sent and
 * nothing is judged: the listener's own connection state says enough.
 */
#include "changes.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "clock.h"
#include "db.h"
#include "log.h"
#include "metrics.h"

#define HB_INTERVAL_MS 1000
#define HB_TIMEOUT_S 3.0

struct changes_heartbeat {
    struct app *app;
    struct event *timer;
    char channel[64];
    unsigned long seq;          /* last sent */
    unsigned long awaited;      /* sent and not yet heard (0: none) */
    unsigned long heard_max;    /* the newest heard (a notice may beat the query's reply) */
    double awaited_since;
    int in_flight;              /* a pg_notify query is out */
    int heard;                  /* a heartbeat came back since the listener connected */
    int dead;                   /* declared dead: waiting for the reconnect */
};

static void sent(const struct db_reply *reply, void *arg)
{
    struct changes_heartbeat *hb = arg;
    hb->in_flight = 0;
    if (reply->error)
        return;      /* the pool is down or shutting down: nothing to judge */
    /* The clock starts when the NOTIFY has committed, not when it was
     * queued: a busy pool must not look like a deaf listener. */
    if (!hb->awaited && hb->heard_max < hb->seq) {
        hb->awaited = hb->seq;
        hb->awaited_since = clock_seconds();
    } else if (hb->heard_max >= hb->seq && !hb->dead) {
        hb->heard = 1;
    }
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct changes_heartbeat *hb = arg;
    struct app *app = hb->app;
    if (hb->dead || !db_pool_listener_up(app->pool)) {
        /* After a reset the connection up now is a new one. */
        hb->awaited = 0;     /* a new connection starts afresh */
        hb->heard = 0;
        hb->dead = 0;
    } else if (hb->awaited && !hb->dead && clock_seconds() - hb->awaited_since > HB_TIMEOUT_S) {
        hb->dead = 1;
        metrics_count("change_listener_heartbeats_missed");
        log_warn("change listener: heartbeat %lu not heard within %.0f s; reconnecting",
                 hb->awaited, HB_TIMEOUT_S);
        db_pool_listener_reset(app->pool, "heartbeat not heard");
        hb->awaited = 0;
        hb->heard = 0;
    }
    if (db_pool_listener_up(app->pool) && !hb->in_flight) {
        char payload[32];
        snprintf(payload, sizeof payload, "%lu", ++hb->seq);
        const char *params[2] = {hb->channel, payload};
        if (db_pool_query(app->pool, "SELECT pg_notify($1, $2)", 2, params, sent, hb) == 0)
            hb->in_flight = 1;
    }
    struct timeval tv = {HB_INTERVAL_MS / 1000, (HB_INTERVAL_MS % 1000) * 1000};
    evtimer_add(hb->timer, &tv);
}

int changes_heartbeat_start(struct app *app, const char *instance)
{
    struct changes_heartbeat *hb = calloc(1, sizeof *hb);
    if (!hb)
        return -1;
    hb->app = app;
    snprintf(hb->channel, sizeof hb->channel, "sendbench_hb_%s", instance);
    hb->timer = evtimer_new(app->base, tick, hb);
    if (!hb->timer || db_pool_listen_also(app->pool, hb->channel) != 0) {
        if (hb->timer)
            event_free(hb->timer);
        free(hb);
        return -1;
    }
    app->heartbeat = hb;
    struct timeval tv = {0, 100 * 1000};
    evtimer_add(hb->timer, &tv);
    return 0;
}

int changes_heartbeat_notice(struct app *app, const char *channel, const char *payload)
{
    struct changes_heartbeat *hb = app->heartbeat;
    if (!hb || !channel || strcmp(channel, hb->channel) != 0)
        return 0;
    unsigned long n = payload ? strtoul(payload, NULL, 10) : 0;
    if (n > hb->heard_max)
        hb->heard_max = n;
    if (hb->awaited && n >= hb->awaited) {
        hb->awaited = 0;
        if (!hb->heard && !hb->dead)
            log_debug("change listener: heartbeat heard");
        hb->heard = !hb->dead;
    }
    return 1;
}

int changes_live(const struct app *app)
{
    const struct changes_heartbeat *hb = app->heartbeat;
    if (!app->pool || !db_pool_listener_up(app->pool))
        return 0;
    /* Until the first heartbeat of this connection is back, trust the
     * connection (it has just emptied the cache), unless one is overdue. */
    if (!hb)
        return 1;
    if (hb->dead)
        return 0;
    return hb->heard || !hb->awaited || clock_seconds() - hb->awaited_since <= HB_TIMEOUT_S;
}

void changes_heartbeat_free(struct app *app)
{
    struct changes_heartbeat *hb = app->heartbeat;
    if (!hb)
        return;
    event_free(hb->timer);
    free(hb);
    app->heartbeat = NULL;
}
