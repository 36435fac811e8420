/*
 * Prometheus metrics: requests by route and status, a latency histogram by
 * route, and the database pool's gauges.  Loop-thread only.
 */
#ifndef SENDBENCH_METRICS_H
#define SENDBENCH_METRICS_H

struct evbuffer;
struct db_pool;

/* route: a static label (the route pattern, or "unmatched"). */
void metrics_observe_request(const char *route, int status, double seconds);

/* Counts one event by a static name, e.g. "rate_limited". */
void metrics_count(const char *name);

/* Appends the Prometheus text exposition.  pool may be NULL. */
void metrics_render(struct evbuffer *out, const struct db_pool *pool);

#endif
