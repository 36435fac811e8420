/* `sendbench forecast` and `sendbench backtest`: the forecasting library
 * run on the database's history from the command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dbsync.h"
#include "forecast_run.h"

/* Reads "--name value" / "--name=value" options into vals (NULL = absent);
 * returns 0 or the usage error's exit status. */
static int parse_opts(const char *cmd, int argc, char **argv, const char *const *names,
                      const char **vals, int n)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int k;
        for (k = 0; k < n; k++) {
            size_t len = strlen(names[k]);
            if (strncmp(a, "--", 2) == 0 && strncmp(a + 2, names[k], len) == 0) {
                if (a[2 + len] == '=') {
                    vals[k] = a + 3 + len;
                    break;
                }
                if (a[2 + len] == '\0') {
                    if (i + 1 >= argc)
                        return cli_usage_error("%s: --%s needs a value", cmd, names[k]);
                    vals[k] = argv[++i];
                    break;
                }
            }
        }
        if (k == n)
            return cli_usage_error("%s: unexpected argument \"%.60s\"", cmd, a);
    }
    return 0;
}

static int parse_horizon(const char *cmd, const char *s, int *out)
{
    if (!s)
        return 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > FR_MAX_HORIZON)
        return cli_usage_error("%s: --horizon must be a whole number from 1 to %d", cmd,
                               FR_MAX_HORIZON);
    *out = (int)v;
    return 0;
}

struct print_ctx {
    int csv;
    int printed;
};

static int print_doc(const char *scope, const char *code, json_t *doc, void *arg)
{
    (void)scope;
    (void)code;
    struct print_ctx *c = arg;
    if (c->csv) {
        char *csv = fr_doc_csv(doc);
        if (csv)
            fputs(csv, stdout);
        free(csv);
    } else {
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        fputc('\n', stdout);
    }
    json_decref(doc);
    c->printed++;
    return 1;   /* one document is all we want */
}

int cmd_forecast(int argc, char **argv)
{
    static const char *const names[] = {"authority", "metric", "horizon", "format", "db"};
    const char *v[5] = {0};
    int rc = parse_opts("forecast", argc, argv, names, v, 5);
    if (rc)
        return rc;
    if (!v[0] || !v[1])
        return cli_usage_error("forecast: --authority CODE and --metric ID are required");
    int horizon = FR_DEFAULT_HORIZON;
    if ((rc = parse_horizon("forecast", v[2], &horizon)) != 0)
        return rc;
    if (v[3] && strcmp(v[3], "json") != 0 && strcmp(v[3], "csv") != 0)
        return cli_usage_error("forecast: --format must be json or csv");

    char err[512];
    PGconn *conn = dbsync_connect(v[4] ? v[4] : cli_db_url(0, NULL), err, sizeof err);
    if (!conn) {
        fprintf(stderr, "sendbench: forecast: %s\n", err);
        return 1;
    }
    struct fr_panel p;
    rc = 1;
    const char *params[1] = {v[0]};
    PGresult *a = dbsync_exec(conn,
        "SELECT new_la_code FROM authorities WHERE new_la_code = $1 OR old_la_code = $1"
        " UNION SELECT DISTINCT region_code FROM authorities WHERE region_code = $1"
        " UNION SELECT 'E92000001' WHERE $1 IN ('E92000001', 'england')",
        1, params, err, sizeof err);
    if (!a) {
        fprintf(stderr, "sendbench: forecast: %s\n", err);
        goto done;
    }
    if (PQntuples(a) != 1) {
        PQclear(a);
        fprintf(stderr, "sendbench: forecast: unknown authority \"%s\"\n", v[0]);
        rc = 2;
        goto done;
    }
    char code[16];
    snprintf(code, sizeof code, "%s", PQgetvalue(a, 0, 0));
    PQclear(a);
    PGresult *ver = dbsync_exec(conn, "SELECT data_version()", 0, NULL, err, sizeof err);
    if (!ver) {
        fprintf(stderr, "sendbench: forecast: %s\n", err);
        goto done;
    }
    long long version = atoll(PQgetvalue(ver, 0, 0));
    PQclear(ver);
    int lr = fr_panel_load(conn, v[1], &p, err, sizeof err);
    if (lr < 0) {
        fprintf(stderr, "sendbench: forecast: %s\n", err);
        rc = strncmp(err, "unknown metric", 14) == 0 ? 2 : 1;
        goto done;
    }
    if (lr == 1) {
        fprintf(stderr, "sendbench: forecast: metric %s has no annual figures\n", v[1]);
        goto done;
    }
    struct print_ctx pc = {v[3] && strcmp(v[3], "csv") == 0, 0};
    int n = fr_fit(&p, horizon, version, code, print_doc, &pc, err, sizeof err);
    fr_panel_free(&p);
    if (n < 0) {
        fprintf(stderr, "sendbench: forecast: %s\n", err);
        goto done;
    }
    if (!pc.printed) {
        fprintf(stderr, "sendbench: forecast: no forecast for %s: no usable history for this "
                        "metric, or an area that no longer exists\n", code);
        goto done;
    }
    rc = 0;
done:
    PQfinish(conn);
    return rc;
}

int cmd_backtest(int argc, char **argv)
{
    static const char *const names[] = {"metric", "origin", "horizon", "db"};
    const char *v[4] = {0};
    int rc = parse_opts("backtest", argc, argv, names, v, 4);
    if (rc)
        return rc;
    if (!v[0])
        return cli_usage_error("backtest: --metric ID is required");
    int horizon = FR_DEFAULT_HORIZON;
    if ((rc = parse_horizon("backtest", v[2], &horizon)) != 0)
        return rc;
    char err[512];
    PGconn *conn = dbsync_connect(v[3] ? v[3] : cli_db_url(0, NULL), err, sizeof err);
    if (!conn) {
        fprintf(stderr, "sendbench: backtest: %s\n", err);
        return 1;
    }
    struct fr_panel p;
    rc = 1;
    int lr = fr_panel_load(conn, v[0], &p, err, sizeof err);
    PQfinish(conn);
    if (lr < 0) {
        fprintf(stderr, "sendbench: backtest: %s\n", err);
        return strncmp(err, "unknown metric", 14) == 0 ? 2 : 1;
    }
    if (lr == 1) {
        fprintf(stderr, "sendbench: backtest: metric %s has no annual figures\n", v[0]);
        return 1;
    }
    int min_train = fr_min_train(&p);
    if (v[1]) {
        int year = atoi(v[1]);
        if (year < p.first_year + 2 || year > p.first_year + p.n - 1) {
            fr_panel_free(&p);
            return cli_usage_error("backtest: --origin must be a period from %d to %d for %s "
                                   "(the first year forecast)",
                                   p.first_year + 2, p.first_year + p.n - 1, v[0]);
        }
        min_train = year - p.first_year;
    }
    enum fc_model models[FC_MODEL_COUNT + 1];
    int nm = 0;
    for (int m = 0; m < FC_MODEL_COUNT; m++)
        models[nm++] = (enum fc_model)m;
    models[nm++] = FC_AUTO;
    struct fc_backtest *bt = calloc((size_t)nm, sizeof *bt);
    if (!bt) {
        fr_panel_free(&p);
        fprintf(stderr, "sendbench: backtest: out of memory\n");
        return 1;
    }
    struct fc_panel fp;
    fr_fc_panel(&p, &fp);
    int st = fc_backtest_panel(&fp, models, nm, min_train, horizon, 1, bt);
    if (st != FC_OK) {
        fprintf(stderr, "sendbench: backtest: %s\n", fc_status_str((enum fc_status)st));
        goto done;
    }
    char first[16], last[16];
    fr_period_label(&p, p.first_year + min_train, first, sizeof first);
    fr_period_label(&p, p.first_year + p.n - 1, last, sizeof last);
    printf("backtest %s: %d authorities, history %d-%d, rolling origins forecasting %s..%s, "
           "horizons 1-%d\n", p.metric, p.n_series, p.first_year, p.first_year + p.n - 1, first,
           last, horizon);
    printf("%-14s %8s %8s %8s %8s %12s %7s\n", "model", "MASE", "sMAPE", "cov80", "cov95",
           "Winkler95", "n");
    for (int k = 0; k < nm; k++) {
        const struct fc_accuracy *a = &bt[k].all;
        printf("%-14s %8.3f %8.2f %8.1f %8.1f %12.1f %7d\n",
               models[k] == FC_AUTO ? "auto" : fc_model_name(models[k]), a->mase, a->smape,
               a->cover80, a->cover95, a->winkler, a->n);
    }
    rc = 0;
done:
    free(bt);
    fr_panel_free(&p);
    return rc;
}
