/*
 * Change notices.  Every write to the figures, authorities, neighbours,
 * metrics or stored forecasts NOTIFYs CHANGES_CHANNEL (the triggers of
 * sql/005, 012, 080); each server LISTENs once, over the pool's dedicated
 * connection (db.h), and fans a notice out to what it invalidates: the
 * reply cache app->tables_cache (cache.h), narrowly when the notice names
 * one authority, period and metrics (and the derived metrics computed from
 * them), wholly otherwise or when the listening connection was remade.
 */
#ifndef SENDBENCH_CHANGES_H
#define SENDBENCH_CHANGES_H

#define CHANGES_CHANNEL "sendbench_data"

struct app;

/* Starts listening (once, after app->pool and app->tables_cache exist).
 * Returns 0, or -1 when out of memory. */
int changes_listen(struct app *app) __attribute__((warn_unused_result));

#endif
