/*
 * Quarterly forecasts from councils' approved quarters (issue 18, point 6).
 *
 * A council's quarters are unpublished figures, so a quarterly forecast is
 * fitted from that council's own approved quarters alone (a one-series
 * panel: no pooling, no other council's errors in its calibration) and is
 * served only to the council itself and to administrators
 * (GET /api/v1/forecasts/{metric}/quarterly, routes_forecasts.c).  An
 * authority gets one once it has FR_QUARTERLY_MIN approved quarters of the
 * metric; the candidates are seasonal naive, additive Holt-Winters (from 8
 * quarters), naive and drift, chosen by rolling-origin MASE with the
 * seasonal scale (fc_auto on a period-4 panel).
 *
 * The worker refits when the newest sign-off decision (submission_states)
 * moves: only a sign-off changes which quarters are in force.  A document
 * keeps that decision's id ("decisions_version"); it is served stale when
 * a later decision exists.
 *
 * Blocking libpq: the forecast worker thread only.
 */
#include "forecast_run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbsync.h"
#include "period.h"

/* The shortest training window of the rolling origins: one year. */
#define FQ_MIN_TRAIN 4

int fr_quarter_index(const char *period)
{
    struct period p;
    if (period_parse(period, &p) != 0 || p.kind != PERIOD_QUARTER)
        return -1;
    return p.year * 4 + p.quarter - 1;
}

void fr_quarter_label(int index, char *out, size_t outlen)
{
    struct period p = {PERIOD_QUARTER, index / 4, index % 4 + 1};
    char buf[PERIOD_MAX];
    period_format(&p, buf, sizeof buf);
    snprintf(out, outlen, "%s", buf);
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static enum fc_kind kind_of(const char *unit, const double *y, int n)
{
    int in_range = 1;
    for (int t = 0; t < n; t++)
        if (isfinite(y[t]) && (y[t] < 0 || y[t] > 100))
            in_range = 0;
    if (strcmp(unit, "%") == 0 && in_range)
        return FC_KIND_PROPORTION;
    if (strcmp(unit, "£") == 0 || strcmp(unit, "%") == 0)
        return FC_KIND_LEVEL;
    return FC_KIND_COUNT;
}

struct fq_series {
    const char *metric, *label, *unit, *code, *name;
    int k0;            /* quarter index of y[0] */
    int n;
    double y[FC_MAX_N];
};

static json_t *quarterly_doc(const struct fq_series *s, const struct fc_result *r,
                             const struct fc_accuracy *own, long long data_version)
{
    char label[PERIOD_MAX], fitted_at[32], words[600];
    json_t *history = json_array(), *fc = json_array(), *params = json_object();
    for (int k = 0; k < r->n_params; k++)
        json_object_set_new(params, r->param_name[k], jnum(r->param[k]));
    for (int t = 0; t < s->n; t++) {
        fr_quarter_label(s->k0 + t, label, sizeof label);
        json_array_append_new(history, json_pack("{s:s, s:o, s:o}", "period", label, "value",
                                                 jnum(s->y[t]), "fitted", jnum(r->fitted[t])));
    }
    for (int j = 0; j < r->h; j++) {
        fr_quarter_label(s->k0 + s->n + j, label, sizeof label);
        json_array_append_new(fc, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "period", label,
                                            "forecast", jnum(r->mean[j]), "lo80",
                                            jnum(r->lo80[j]), "hi80", jnum(r->hi80[j]),
                                            "lo95", jnum(r->lo95[j]), "hi95", jnum(r->hi95[j])));
    }
    if (own->n > 0 && own->n_origins >= FR_TRACK_MIN_ORIGINS)
        snprintf(words, sizeof words,
                 "Tested on this council's own past quarters (n = %d forecasts one to four "
                 "quarters ahead, from %d origins): off by %.1f%% on average (sMAPE); %.0f%% of "
                 "the actual figures fell inside the 80%% interval and %.0f%% inside the 95%% "
                 "interval.", own->n, own->n_origins, own->smape, own->cover80, own->cover95);
    else
        snprintf(words, sizeof words,
                 "Too little history to judge this series' own track record (%d origin%s "
                 "tested, at least %d needed).", own->n_origins,
                 own->n_origins == 1 ? "" : "s", FR_TRACK_MIN_ORIGINS);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(fitted_at, sizeof fitted_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:b, s:s,"
        " s:{s:s, s:s, s:s, s:o, s:b}, s:o, s:o, s:{s:s, s:b, s:s},"
        " s:{s:s, s:o, s:i, s:s}, s:I, s:s}",
        "metric", s->metric, "label", s->label, "unit", s->unit, "scope", "authority",
        "area", "code", s->code, "name", s->name,
        "frequency", "quarterly", "period_kind", "fy_quarter", "published", 0,
        "basis",
        "this council's own approved quarters only (unpublished figures: served to the "
        "council and administrators, never pooled with other councils)",
        "model", "name", r->name, "reason", r->reason, "scale", fr_scale_name(r->scale),
        "parameters", params, "calibrated", r->calibrated,
        "history", history, "forecasts", fc,
        "intervals", "scale", fr_scale_name(r->scale), "calibrated", r->calibrated, "shape",
        fr_interval_shape(r->scale),
        "accuracy", "method",
        "rolling-origin backtest on this council's own quarters (forecasts made only from "
        "the quarters before each origin, horizons 1-4 quarters; MASE with the same quarter "
        "a year earlier as its scale); n counts forecasts scored",
        "chosen", fr_accuracy_json(own), "minimum_origins", FR_TRACK_MIN_ORIGINS,
        "statement", words,
        "data_version", (json_int_t)data_version, "fitted_at", fitted_at);
}

/* Fits one council's series; NULL when there is nothing to serve. */
static json_t *fit_one(const struct fq_series *s, long long data_version,
                       struct fc_calibration *cal, struct fc_result *r)
{
    struct fc_panel p;
    memset(&p, 0, sizeof p);
    p.y = s->y;
    p.n_series = 1;
    p.n = s->n;
    p.period = 4;
    p.kind = kind_of(s->unit, s->y, s->n);
    if (fc_calibrate(&p, s->n, FQ_MIN_TRAIN, FR_QUARTERLY_HORIZON, cal) != FC_OK)
        return NULL;
    if (fc_auto(&p, 0, s->n, cal, FR_QUARTERLY_HORIZON, r) != FC_OK)
        return NULL;
    return quarterly_doc(s, r, &r->acc_model, data_version);
}

static int store(PGconn *conn, const char *metric, const char *code, const char *version,
                 const char *decisions, json_t *doc, char *err, size_t errlen)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(doc);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *params[5] = {metric, code, version, decisions, text};
    PGresult *r = dbsync_exec(conn,
        "INSERT INTO quarterly_forecasts (metric, authority, data_version, decisions_version, doc)"
        " VALUES ($1, $2, $3, $4, $5::jsonb)"
        " ON CONFLICT (metric, authority) DO UPDATE"
        " SET data_version = EXCLUDED.data_version, decisions_version = EXCLUDED.decisions_version,"
        "     fitted_at = now(), doc = EXCLUDED.doc"
        " WHERE quarterly_forecasts.decisions_version <= EXCLUDED.decisions_version",
        5, params, err, errlen);
    free(text);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int fr_refit_quarterly(PGconn *conn, char *err, size_t errlen)
{
    char version[32];
    clock_t c0 = clock();
    int stored = 0, rc = -1;
    struct fc_calibration *cal = calloc(1, sizeof *cal);
    struct fc_result *res = malloc(sizeof *res);
    struct fq_series *s = malloc(sizeof *s);
    PGresult *v = NULL, *data = NULL;

    if (!cal || !res || !s) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    v = dbsync_exec(conn, "SELECT data_version(), (SELECT coalesce(max(id), 0) FROM"
                          " submission_states)", 0, NULL, err, errlen);
    if (!v)
        goto out;
    snprintf(version, sizeof version, "%s", PQgetvalue(v, 0, 0));
    const char *decisions = PQgetvalue(v, 0, 1);
    /* Every approved quarter in force, in order; only the authorities that
     * have enough of them for a metric. */
    char minq[8];
    snprintf(minq, sizeof minq, "%d", FR_QUARTERLY_MIN);
    const char *qp[1] = {minq};
    data = dbsync_exec(conn,
        "WITH q AS (SELECT authority, metric, period, value::float8 AS value"
        "           FROM forecast_input WHERE period_kind = 'fy_quarter'),"
        " ok AS (SELECT authority, metric FROM q GROUP BY authority, metric"
        "        HAVING count(*) >= $1::int)"
        " SELECT q.metric, m.label, m.unit, q.authority, a.name, q.period, q.value"
        " FROM q JOIN ok USING (authority, metric)"
        " JOIN metrics m ON m.id = q.metric AND m.forecast"
        " JOIN authorities a ON a.new_la_code = q.authority"
        " ORDER BY q.metric, q.authority, fy_quarter_start(q.period)",
        1, qp, err, errlen);
    if (!data)
        goto out;
    if (dbsync_exec_simple(conn, "BEGIN", err, errlen) != 0)
        goto out;
    int nrow = PQntuples(data);
    for (int i = 0; i < nrow;) {
        /* one (metric, authority) run of rows */
        int j = i;
        while (j < nrow && strcmp(PQgetvalue(data, j, 0), PQgetvalue(data, i, 0)) == 0 &&
               strcmp(PQgetvalue(data, j, 3), PQgetvalue(data, i, 3)) == 0)
            j++;
        int k0 = fr_quarter_index(PQgetvalue(data, i, 5));
        int k1 = fr_quarter_index(PQgetvalue(data, j - 1, 5));
        memset(s, 0, sizeof *s);
        s->metric = PQgetvalue(data, i, 0);
        s->label = PQgetvalue(data, i, 1);
        s->unit = PQgetvalue(data, i, 2);
        s->code = PQgetvalue(data, i, 3);
        s->name = PQgetvalue(data, i, 4);
        /* the latest FC_MAX_N quarters at most; gaps are missing values */
        if (k0 >= 0 && k1 >= k0) {
            if (k1 - k0 + 1 > FC_MAX_N)
                k0 = k1 - FC_MAX_N + 1;
            s->k0 = k0;
            s->n = k1 - k0 + 1;
            for (int t = 0; t < s->n; t++)
                s->y[t] = NAN;
            for (int r = i; r < j; r++) {
                int k = fr_quarter_index(PQgetvalue(data, r, 5));
                if (k >= k0 && k <= k1)
                    s->y[k - k0] = strtod(PQgetvalue(data, r, 6), NULL);
            }
            json_t *doc = fit_one(s, atoll(version), cal, res);
            if (doc)
                json_object_set_new(doc, "decisions_version",
                                    json_integer(atoll(decisions)));
            if (doc) {
                if (store(conn, s->metric, s->code, version, decisions, doc, err, errlen) != 0)
                    goto fail;
                stored++;
            }
        }
        i = j;
    }
    /* A forecast whose authority no longer has enough approved quarters
     * (a version withdrawn) is not served from an older fit. */
    const char *dp[1] = {decisions};
    PGresult *d = dbsync_exec(conn,
        "DELETE FROM quarterly_forecasts WHERE decisions_version < $1::bigint", 1, dp, err,
        errlen);
    if (!d)
        goto fail;
    PQclear(d);
    char cpu[32];
    snprintf(cpu, sizeof cpu, "%.3f", (double)(clock() - c0) * 1000.0 / CLOCKS_PER_SEC);
    const char *rp[3] = {version, cpu, FR_ENGINE};
    /* One run row per metric fitted (its share of the pass's CPU); a
     * metric with none left keeps its row with no series. */
    PGresult *runs = dbsync_exec(conn,
        "WITH fitted AS (SELECT metric, count(*) AS n FROM quarterly_forecasts GROUP BY metric),"
        " none_left AS (UPDATE forecast_runs SET n_series = 0, cpu_ms = 0,"
        "               data_version = $1::bigint, fitted_at = now(), engine = $3"
        "               WHERE frequency = 'quarterly' AND data_version <= $1::bigint"
        "                 AND metric NOT IN (SELECT metric FROM fitted))"
        " INSERT INTO forecast_runs (metric, frequency, data_version, n_series, cpu_ms, engine)"
        " SELECT metric, 'quarterly', $1::bigint, n,"
        "        $2::float8 * n / (SELECT greatest(sum(n), 1) FROM fitted), $3"
        " FROM fitted"
        " ON CONFLICT (metric, frequency) DO UPDATE SET data_version = EXCLUDED.data_version,"
        "   fitted_at = now(), n_series = EXCLUDED.n_series, cpu_ms = EXCLUDED.cpu_ms,"
        "   engine = EXCLUDED.engine"
        " WHERE forecast_runs.data_version <= EXCLUDED.data_version",
        3, rp, err, errlen);
    if (!runs)
        goto fail;
    PQclear(runs);
    if (dbsync_exec_simple(conn, "COMMIT", err, errlen) != 0)
        goto out;
    rc = stored;
    goto out;
fail:;
    char ignored[64];
    dbsync_exec_simple(conn, "ROLLBACK", ignored, sizeof ignored);
out:
    PQclear(v);
    PQclear(data);
    fc_calibration_free(cal);
    free(cal);
    free(res);
    free(s);
    return rc;
}
