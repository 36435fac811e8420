#include "metrics.h"

#include <event2/buffer.h>
#include <string.h>

#include "db.h"

/* Bucket bounds in seconds for sendbench_http_request_duration_seconds. */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                0.1,    0.25,  0.5,    1,     2.5,  5,    10};
#define NBOUNDS (int)(sizeof bounds / sizeof bounds[0])

#define MAX_SERIES 256
struct series {
    const char *route;
    int status;
    unsigned long long count;
};
struct histogram {
    const char *route;
    unsigned long long buckets[NBOUNDS];   /* non-cumulative; summed when rendered */
    unsigned long long count;
    double sum;
};
struct counter {
    const char *name;
    unsigned long long count;
};

static struct series series[MAX_SERIES];
static int nseries;
static struct histogram hists[MAX_SERIES];
static int nhists;
static struct counter counters[64];
static int ncounters;

void metrics_observe_request(const char *route, int status, double seconds)
{
    int i;
    for (i = 0; i < nseries; i++)
        if (series[i].status == status && strcmp(series[i].route, route) == 0)
            break;
    if (i == nseries && nseries < MAX_SERIES)
        series[nseries++] = (struct series){route, status, 0};
    if (i < nseries)
        series[i].count++;

    for (i = 0; i < nhists; i++)
        if (strcmp(hists[i].route, route) == 0)
            break;
    if (i == nhists && nhists < MAX_SERIES) {
        memset(&hists[nhists], 0, sizeof hists[0]);
        hists[nhists++].route = route;
    }
    if (i < nhists) {
        int b = 0;
        while (b < NBOUNDS && seconds > bounds[b])
            b++;
        if (b < NBOUNDS)
            hists[i].buckets[b]++;
        hists[i].count++;
        hists[i].sum += seconds;
    }
}

void metrics_count(const char *name)
{
    int i;
    for (i = 0; i < ncounters; i++)
        if (strcmp(counters[i].name, name) == 0)
            break;
    if (i == ncounters) {
        if (ncounters == (int)(sizeof counters / sizeof counters[0]))
            return;
        counters[ncounters++] = (struct counter){name, 0};
    }
    counters[i].count++;
}

void metrics_render(struct evbuffer *out, const struct db_pool *pool)
{
    evbuffer_add_printf(out, "# HELP sendbench_http_requests_total HTTP requests answered, by route and status.\n"
                             "# TYPE sendbench_http_requests_total counter\n");
    for (int i = 0; i < nseries; i++)
        evbuffer_add_printf(out, "sendbench_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                            series[i].route, series[i].status, series[i].count);

    evbuffer_add_printf(out, "# HELP sendbench_http_request_duration_seconds Time from dispatch to reply.\n"
                             "# TYPE sendbench_http_request_duration_seconds histogram\n");
    for (int i = 0; i < nhists; i++) {
        unsigned long long cum = 0;
        for (int b = 0; b < NBOUNDS; b++) {
            cum += hists[i].buckets[b];
            evbuffer_add_printf(out,
                                "sendbench_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                                hists[i].route, bounds[b], cum);
        }
        evbuffer_add_printf(out,
                            "sendbench_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
                            "sendbench_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                            "sendbench_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                            hists[i].route, hists[i].count, hists[i].route, hists[i].sum,
                            hists[i].route, hists[i].count);
    }

    if (ncounters) {
        evbuffer_add_printf(out, "# HELP sendbench_events_total Notable events by name.\n"
                                 "# TYPE sendbench_events_total counter\n");
        for (int i = 0; i < ncounters; i++)
            evbuffer_add_printf(out, "sendbench_events_total{event=\"%s\"} %llu\n",
                                counters[i].name, counters[i].count);
    }

    if (!pool)
        return;
    struct db_pool_stats s;
    db_pool_get_stats(pool, &s);
    evbuffer_add_printf(out,
        "# HELP sendbench_db_pool_connections Database connections by state.\n"
        "# TYPE sendbench_db_pool_connections gauge\n"
        "sendbench_db_pool_connections{state=\"connecting\"} %d\n"
        "sendbench_db_pool_connections{state=\"idle\"} %d\n"
        "sendbench_db_pool_connections{state=\"busy\"} %d\n"
        "sendbench_db_pool_connections{state=\"down\"} %d\n"
        "# HELP sendbench_db_pool_queued Queries waiting for a connection.\n"
        "# TYPE sendbench_db_pool_queued gauge\n"
        "sendbench_db_pool_queued %d\n"
        "# HELP sendbench_db_queries_total Queries sent to the database.\n"
        "# TYPE sendbench_db_queries_total counter\n"
        "sendbench_db_queries_total %llu\n"
        "# HELP sendbench_db_errors_total Queries that ended in an error.\n"
        "# TYPE sendbench_db_errors_total counter\n"
        "sendbench_db_errors_total %llu\n"
        "# HELP sendbench_db_pool_waits_total Queries that had to wait for a connection.\n"
        "# TYPE sendbench_db_pool_waits_total counter\n"
        "sendbench_db_pool_waits_total %llu\n"
        "# HELP sendbench_db_pool_wait_timeouts_total Queries that gave up waiting.\n"
        "# TYPE sendbench_db_pool_wait_timeouts_total counter\n"
        "sendbench_db_pool_wait_timeouts_total %llu\n"
        "# HELP sendbench_db_pool_rejected_total Queries refused at once (queue full or database down).\n"
        "# TYPE sendbench_db_pool_rejected_total counter\n"
        "sendbench_db_pool_rejected_total %llu\n"
        "# HELP sendbench_db_reconnects_total Reconnection attempts.\n"
        "# TYPE sendbench_db_reconnects_total counter\n"
        "sendbench_db_reconnects_total %llu\n",
        s.connecting, s.idle, s.busy, s.down, s.queued, (unsigned long long)s.queries,
        (unsigned long long)s.errors, (unsigned long long)s.waits,
        (unsigned long long)s.wait_timeouts, (unsigned long long)s.rejected,
        (unsigned long long)s.reconnects);
    evbuffer_add_printf(out,
        "# HELP sendbench_db_pool_write_connections Connections running a write, and the most writes may hold.\n"
        "# TYPE sendbench_db_pool_write_connections gauge\n"
        "sendbench_db_pool_write_connections{state=\"busy\"} %d\n"
        "sendbench_db_pool_write_connections{state=\"limit\"} %d\n"
        "# HELP sendbench_db_pool_write_queued Writes waiting for a connection (their own queue).\n"
        "# TYPE sendbench_db_pool_write_queued gauge\n"
        "sendbench_db_pool_write_queued %d\n"
        "# HELP sendbench_db_pool_write_waits_total Writes that had to wait for a connection.\n"
        "# TYPE sendbench_db_pool_write_waits_total counter\n"
        "sendbench_db_pool_write_waits_total %llu\n"
        "# HELP sendbench_db_pool_write_rejected_total Writes refused at once (their queue full or database down).\n"
        "# TYPE sendbench_db_pool_write_rejected_total counter\n"
        "sendbench_db_pool_write_rejected_total %llu\n",
        s.write_busy, s.write_max, s.write_queued, (unsigned long long)s.write_waits,
        (unsigned long long)s.write_rejected);
}
