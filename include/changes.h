/*
 * Change notices.  Every write to the figures, authorities, neighbours,
 * metrics or stored forecasts NOTIFYs CHANGES_CHANNEL (the triggers of
 * sql/005, 012, 080); each server LISTENs once, over the pool's dedicated
 * connection (db.h), and fans a notice out to what it invalidates: the
 * reply cache app->tables_cache (cache.h), narrowly when the notice names
 * one authority, period and metrics (and the derived metrics computed from
 * them, as the database's derived_inputs declares: derived.h), wholly
 * otherwise or when the listening connection was remade.
 */
#ifndef SENDBENCH_CHANGES_H
#define SENDBENCH_CHANGES_H

#define CHANGES_CHANNEL "sendbench_data"

struct app;

/* Starts listening (once, after app->pool and app->tables_cache exist) and
 * loads the derived metrics' inputs; app->changes holds the state.
 * Returns 0, or -1 when out of memory. */
int changes_listen(struct app *app) __attribute__((warn_unused_result));

/* The listener's heartbeat (server/changes_heartbeat.c): a NOTIFY on a
 * channel of this instance's own, sent through the pool every second and
 * expected back on the listener within 3 s; started by changes_listen. */
struct changes_heartbeat;
int changes_heartbeat_start(struct app *app, const char *instance)
    __attribute__((warn_unused_result));
/* 1 when the notice was a heartbeat (then it is handled and nothing else
 * is to be done with it). */
int changes_heartbeat_notice(struct app *app, const char *channel, const char *payload);
/* Call after the pool is freed. */
void changes_heartbeat_free(struct app *app);

/* 1 while the listener hears changes: connected, listening, and its
 * heartbeat not overdue.  Otherwise kept replies may be stale. */
int changes_live(const struct app *app);

/* Frees app->changes (after the pool is freed). */
void changes_stop(struct app *app);

#endif
