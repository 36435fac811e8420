/* `sendbench forecast` and `sendbench backtest`: the forecasting library
 * run on the database's history from the command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dbsync.h"
#include "forecast_run.h"
#include "sheet.h"

struct print_ctx {
    int csv;
    int dp;         /* the metric's catalogue dp: the CSV's rounding */
    int printed;
};

static int print_doc(const char *scope, const char *code, json_t *doc, void *arg)
{
    (void)scope;
    (void)code;
    struct print_ctx *c = arg;
    if (c->csv) {
        char *csv = fr_doc_csv(doc, c->dp);
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
    const char *v[4] = {0};     /* authority, metric, -, format */
    long long horizon = FR_DEFAULT_HORIZON;
    const struct cli_opt opts[] = {
        CLI_OPT_TEXT("authority", &v[0], 16),
        CLI_OPT_TEXT("metric", &v[1], 63),
        CLI_OPT_INT("horizon", &horizon, 1, FR_MAX_HORIZON),
        CLI_OPT_TEXT("format", &v[3], 0),
    };
    int rc = cli_parse("forecast", cli_usage("forecast"), opts, CLI_NOPTS(opts), argc, argv, 1);
    if (rc)
        return rc;
    if (!v[0] || !v[1])
        return cli_usage_error("forecast: --authority CODE and --metric ID are required");
    if (v[3] && strcmp(v[3], "json") != 0 && strcmp(v[3], "csv") != 0)
        return cli_usage_error("forecast: --format must be json or csv");

    char err[512];
    PGconn *conn = dbsync_connect(cli_db_url(argc, argv), err, sizeof err);
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
    const char *mp[1] = {v[1]};
    PGresult *dpr = dbsync_exec(conn, "SELECT dp FROM metrics WHERE id = $1", 1, mp, err,
                                sizeof err);
    struct print_ctx pc = {v[3] && strcmp(v[3], "csv") == 0,
                           dpr && PQntuples(dpr) == 1 ? atoi(PQgetvalue(dpr, 0, 0)) : SHEET_DP_ANY,
                           0};
    PQclear(dpr);
    int n = fr_fit(&p, (int)horizon, version, code, print_doc, &pc, err, sizeof err);
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
    const char *v[2] = {0};     /* metric, origin */
    long long horizon = FR_DEFAULT_HORIZON;
    const struct cli_opt opts[] = {
        CLI_OPT_TEXT("metric", &v[0], 63),
        CLI_OPT_TEXT("origin", &v[1], 0),
        CLI_OPT_INT("horizon", &horizon, 1, FR_MAX_HORIZON),
    };
    int rc = cli_parse("backtest", cli_usage("backtest"), opts, CLI_NOPTS(opts), argc, argv, 1);
    if (rc)
        return rc;
    if (!v[0])
        return cli_usage_error("backtest: --metric ID is required");
    char err[512];
    PGconn *conn = dbsync_connect(cli_db_url(argc, argv), err, sizeof err);
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
    int st = fc_backtest_panel(&fp, models, nm, min_train, (int)horizon, 1, bt);
    if (st != FC_OK) {
        fprintf(stderr, "sendbench: backtest: %s\n", fc_status_str((enum fc_status)st));
        goto done;
    }
    char first[16], last[16];
    fr_period_label(&p, p.first_year + min_train, first, sizeof first);
    fr_period_label(&p, p.first_year + p.n - 1, last, sizeof last);
    printf("backtest %s: %d authorities, history %d-%d, rolling origins forecasting %s..%s, "
           "horizons 1-%d\n", p.metric, p.n_series, p.first_year, p.first_year + p.n - 1, first,
           last, (int)horizon);
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
