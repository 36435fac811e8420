/*
 * The forecast worker: a thread with its own (blocking) database
 * connection that refits every metric's forecasts whenever the data change
 * (LISTEN sendbench_data, and a periodic check of the data version), and
 * stores them in the forecasts table.  The event loop never waits for it:
 * the API serves what is stored and says when it is stale.
 */
#ifndef SENDBENCH_FORECAST_WORKER_H
#define SENDBENCH_FORECAST_WORKER_H

struct forecast_worker;

/* conninfo is copied; the session runs as role (see db_session_options).
 * NULL when the thread cannot be started. */
struct forecast_worker *forecast_worker_start(const char *conninfo, const char *role)
    __attribute__((warn_unused_result));

/* Asks the thread to stop, waits for it (at most the fit in progress) and
 * frees it. */
void forecast_worker_stop(struct forecast_worker *w);

/* Refits every metric whose forecasts are older than the data.  Blocking;
 * shared by the worker thread and tests.  Returns metrics refitted or -1. */
int forecast_refit_stale(void *pgconn, char *err, unsigned long errlen)
    __attribute__((warn_unused_result));

#endif
