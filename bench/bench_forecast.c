/*
 * bench_forecast: CPU time of fitting and choosing a forecast for every
 * authority and metric, exactly as the forecast worker does (fr_panel_load
 * then fr_fit: rolling-origin calibration of every model over the panel,
 * the automatic choice per series, calibrated intervals, England and the
 * regions reconciled, one JSON document per series), without storing.
 *
 *   bin/bench/bench_forecast [--db URL] [--metric ID]... [--export FILE] [--docs FILE]
 *
 * Without --metric: every metric with annual figures.  Prints one line per
 * metric ("metric M series S years N docs D cpu_s C load_s L" or
 * "metric M series S error: ...") and a total line; --export writes the
 * same series as CSV (metric,kind,authority,y1;y2;...; NA = missing) for
 * bench/forecast_r.R, so that R fits exactly these series; --docs writes
 * every document, one JSON line each ({"scope", "code", "doc"}, keys
 * sorted), so that two builds' forecasts can be compared line by line.
 * Exit status: 0, 1 when a metric could not be fitted (printed, the others
 * still run), 2 bad arguments.
 */
#include <gsl/gsl_errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbsync.h"
#include "forecast_run.h"

#define MAX_METRICS 64

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct doc_sink {
    int n;
    FILE *out;   /* --docs, or NULL */
};

/* Every document is built as the server builds it, then written (--docs)
 * or dropped. */
static int drop_doc(const char *scope, const char *code, json_t *doc, void *arg)
{
    struct doc_sink *sink = arg;
    sink->n++;
    if (sink->out) {
        json_t *line = json_pack("{s:s, s:s, s:O}", "scope", scope, "code", code, "doc", doc);
        if (line) {
            json_dumpf(line, sink->out, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(10));
            fputc('\n', sink->out);
            json_decref(line);
        }
    }
    json_decref(doc);
    return 0;
}

static const char *kind_name(enum fc_kind k)
{
    return k == FC_KIND_PROPORTION ? "proportion" : k == FC_KIND_LEVEL ? "level" : "count";
}

static void export_panel(FILE *f, const struct fr_panel *p)
{
    for (int i = 0; i < p->n_series; i++) {
        if (!p->auth[i].current)
            continue;
        fprintf(f, "%s,%s,%s,", p->metric, kind_name(p->kind), p->auth[i].code);
        for (int t = 0; t < p->n; t++) {
            double v = p->y[i * p->n + t];
            if (isfinite(v))
                fprintf(f, "%s%.17g", t ? ";" : "", v);
            else
                fprintf(f, "%sNA", t ? ";" : "");
        }
        fputc('\n', f);
    }
}

int main(int argc, char **argv)
{
    const char *url = getenv("DATABASE_URL") ? getenv("DATABASE_URL") : "";
    const char *export_path = NULL, *docs_path = NULL;
    const char *metrics[MAX_METRICS];
    int n_metrics = 0, failed = 0;
    char err[512];

    gsl_set_error_handler_off();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--metric") == 0 && i + 1 < argc && n_metrics < MAX_METRICS)
            metrics[n_metrics++] = argv[++i];
        else if (strcmp(argv[i], "--export") == 0 && i + 1 < argc)
            export_path = argv[++i];
        else if (strcmp(argv[i], "--docs") == 0 && i + 1 < argc)
            docs_path = argv[++i];
        else {
            fprintf(stderr, "usage: bench_forecast [--db URL] [--metric ID]... [--export FILE] [--docs FILE]\n");
            return 2;
        }
    }
    PGconn *conn = dbsync_connect(url, err, sizeof err);
    if (!conn) {
        fprintf(stderr, "bench_forecast: %s\n", err);
        return 1;
    }
    PGresult *mr = NULL;
    if (n_metrics == 0) {
        mr = dbsync_exec(conn,
                         "SELECT m.id FROM metrics m WHERE EXISTS (SELECT 1 FROM forecast_input f"
                         " WHERE f.metric = m.id AND f.period_kind = m.annual_period) ORDER BY m.id",
                         0, NULL, err, sizeof err);
        if (!mr) {
            fprintf(stderr, "bench_forecast: %s\n", err);
            PQfinish(conn);
            return 1;
        }
        for (int i = 0; i < PQntuples(mr) && n_metrics < MAX_METRICS; i++)
            metrics[n_metrics++] = PQgetvalue(mr, i, 0);
    }
    FILE *ex = NULL;
    if (export_path) {
        ex = fopen(export_path, "w");
        if (!ex) {
            fprintf(stderr, "bench_forecast: cannot write %s\n", export_path);
            PQclear(mr);
            PQfinish(conn);
            return 1;
        }
        fprintf(ex, "metric,kind,authority,y\n");
    }
    struct doc_sink sink = {0, NULL};
    if (docs_path && !(sink.out = fopen(docs_path, "w"))) {
        fprintf(stderr, "bench_forecast: cannot write %s\n", docs_path);
        if (ex)
            fclose(ex);
        PQclear(mr);
        PQfinish(conn);
        return 1;
    }
    double total_cpu = 0, total_load = 0;
    int total_series = 0, total_docs = 0;
    for (int m = 0; m < n_metrics; m++) {
        struct fr_panel p;
        double w0 = wall_now();
        int lr = fr_panel_load(conn, metrics[m], &p, err, sizeof err);
        double load_s = wall_now() - w0;
        total_load += load_s;
        if (lr < 0) {
            printf("metric %s error: %s\n", metrics[m], err);
            failed = 1;
            continue;
        }
        if (lr == 1) {
            printf("metric %s series 0 (no annual figures)\n", metrics[m]);
            continue;
        }
        if (ex)
            export_panel(ex, &p);
        int docs0 = sink.n;
        double c0 = cpu_now();
        int rc = fr_fit(&p, FR_DEFAULT_HORIZON, 1, NULL, drop_doc, &sink, err, sizeof err);
        double cpu = cpu_now() - c0;
        int docs = sink.n - docs0;
        if (rc < 0) {
            printf("metric %s series %d years %d error: %s (cpu_s %.3f)\n", metrics[m],
                   p.n_series, p.n, err, cpu);
            failed = 1;
        } else {
            printf("metric %s series %d years %d docs %d cpu_s %.3f load_s %.3f\n", metrics[m],
                   p.n_series, p.n, docs, cpu, load_s);
            total_cpu += cpu;
            total_series += p.n_series;
            total_docs += docs;
        }
        fr_panel_free(&p);
    }
    printf("total metrics %d series %d docs %d cpu_s %.3f load_s %.3f\n", n_metrics,
           total_series, total_docs, total_cpu, total_load);
    if (ex)
        fclose(ex);
    if (sink.out)
        fclose(sink.out);
    PQclear(mr);
    PQfinish(conn);
    return failed;
}
