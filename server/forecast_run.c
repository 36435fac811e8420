#include "forecast_run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbsync.h"
#include "sheet.h"


void fr_panel_free(struct fr_panel *p)
{
    free(p->y);
    free(p->region);
    free(p->neighbours);
    free(p->auth);
    memset(p, 0, sizeof *p);
}

void fr_period_label(const struct fr_panel *p, int year, char *out, size_t outlen)
{
    if (strcmp(p->period_kind, "financial_year") == 0)
        snprintf(out, outlen, "%d-%02d", year, (year + 1) % 100);
    else
        snprintf(out, outlen, "%d", year);
}

static int region_index(struct fr_panel *p, const char *code, const char *name)
{
    for (int i = 0; i < p->n_regions; i++)
        if (strcmp(p->region_codes[i], code) == 0)
            return i;
    if (p->n_regions == FR_MAX_REGIONS)
        return -1;
    snprintf(p->region_codes[p->n_regions], sizeof p->region_codes[0], "%s", code);
    snprintf(p->region_names[p->n_regions], sizeof p->region_names[0], "%s", name);
    return p->n_regions++;
}

static int auth_index(const struct fr_panel *p, const char *code)
{
    /* The panel is sorted by code: binary search. */
    int lo = 0, hi = p->n_series - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(p->auth[mid].code, code);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int fr_panel_load(PGconn *conn, const char *metric, struct fr_panel *p, char *err, size_t errlen)
{
    PGresult *meta = NULL, *data = NULL, *auths = NULL, *nb = NULL;
    int rc = -1;
    memset(p, 0, sizeof *p);

    const char *mp[1] = {metric};
    meta = dbsync_exec(conn, "SELECT label, unit, annual_period FROM metrics WHERE id = $1", 1, mp,
                       err, errlen);
    if (!meta)
        goto done;
    if (PQntuples(meta) != 1) {
        snprintf(err, errlen, "unknown metric \"%.60s\"", metric);
        goto done;
    }
    snprintf(p->metric, sizeof p->metric, "%s", metric);
    snprintf(p->label, sizeof p->label, "%s", PQgetvalue(meta, 0, 0));
    snprintf(p->unit, sizeof p->unit, "%s", PQgetvalue(meta, 0, 1));
    snprintf(p->period_kind, sizeof p->period_kind, "%s", PQgetvalue(meta, 0, 2));

    /* Only authorities with data for this metric join the panel. */
    const char *dp[2] = {metric, p->period_kind};
    auths = dbsync_exec(conn,
        "SELECT a.new_la_code, a.old_la_code, a.name, a.region_code, a.region_name,"
        "       a.valid_to IS NULL"
        " FROM authorities a"
        " WHERE EXISTS (SELECT 1 FROM forecast_input f WHERE f.authority = a.new_la_code"
        "               AND f.metric = $1 AND f.period_kind = $2"
        "               AND NOT (f.period_kind = 'calendar_year' AND substr(f.period, 1, 4)::int < 2015))"
        " ORDER BY a.new_la_code",
        2, dp, err, errlen);
    if (!auths)
        goto done;
    /* EHC plans began in September 2014, so calendar 2014 holds four months
     * of the new system's flows: a growth rate from it is meaningless. */
    data = dbsync_exec(conn,
        "SELECT authority, substr(period, 1, 4)::int AS year, value::float8"
        " FROM forecast_input WHERE metric = $1 AND period_kind = $2"
        "   AND NOT (period_kind = 'calendar_year' AND substr(period, 1, 4)::int < 2015)",
        2, dp, err, errlen);
    if (!data)
        goto done;
    nb = dbsync_exec(conn, "SELECT authority, rank, neighbour FROM statistical_neighbours", 0,
                     NULL, err, errlen);
    if (!nb)
        goto done;

    int ns = PQntuples(auths), nd = PQntuples(data);
    if (ns == 0 || nd == 0) {
        rc = 1;
        goto done;
    }
    int y0 = 99999, y1 = -1;
    for (int i = 0; i < nd; i++) {
        int y = atoi(PQgetvalue(data, i, 1));
        y0 = y < y0 ? y : y0;
        y1 = y > y1 ? y : y1;
    }
    p->first_year = y0;
    p->n = y1 - y0 + 1;
    if (p->n > FC_MAX_N)
        p->n = FC_MAX_N;
    p->n_series = ns;
    p->y = malloc(sizeof(double) * (size_t)ns * (size_t)p->n);
    p->region = malloc(sizeof(int) * (size_t)ns);
    p->neighbours = malloc(sizeof(int) * (size_t)ns * FR_NEIGHBOURS);
    p->auth = calloc((size_t)ns, sizeof *p->auth);
    if (!p->y || !p->region || !p->neighbours || !p->auth) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i < ns * p->n; i++)
        p->y[i] = NAN;
    for (int i = 0; i < ns * FR_NEIGHBOURS; i++)
        p->neighbours[i] = -1;
    for (int i = 0; i < ns; i++) {
        struct fr_authority *a = &p->auth[i];
        snprintf(a->code, sizeof a->code, "%s", PQgetvalue(auths, i, 0));
        snprintf(a->old_code, sizeof a->old_code, "%s", PQgetvalue(auths, i, 1));
        snprintf(a->name, sizeof a->name, "%s", PQgetvalue(auths, i, 2));
        a->region = region_index(p, PQgetvalue(auths, i, 3), PQgetvalue(auths, i, 4));
        a->current = PQgetvalue(auths, i, 5)[0] == 't';
        p->region[i] = a->region;
    }
    int in_unit_range = 1;
    for (int i = 0; i < nd; i++) {
        int s = auth_index(p, PQgetvalue(data, i, 0));
        int t = atoi(PQgetvalue(data, i, 1)) - y0;
        if (s < 0 || t < 0 || t >= p->n)
            continue;
        double v = strtod(PQgetvalue(data, i, 2), NULL);
        p->y[s * p->n + t] = v;
        if (v < 0 || v > 100)
            in_unit_range = 0;
    }
    for (int i = 0; i < PQntuples(nb); i++) {
        int s = auth_index(p, PQgetvalue(nb, i, 0));
        int rank = atoi(PQgetvalue(nb, i, 1));
        int other = auth_index(p, PQgetvalue(nb, i, 2));
        if (s >= 0 && rank >= 1 && rank <= FR_NEIGHBOURS)
            p->neighbours[s * FR_NEIGHBOURS + rank - 1] = other;
    }
    /* Percentages that stay within 0-100 are modelled on a logit scale;
     * money and balances (which cross zero) are never logged. */
    if (strcmp(p->unit, "%") == 0 && in_unit_range)
        p->kind = FC_KIND_PROPORTION;
    else if (strcmp(p->unit, "£") == 0 || strcmp(p->unit, "%") == 0)
        p->kind = FC_KIND_LEVEL;
    else
        p->kind = FC_KIND_COUNT;
    rc = 0;
done:
    PQclear(meta);
    PQclear(data);
    PQclear(auths);
    PQclear(nb);
    if (rc != 0 && rc != 1)
        fr_panel_free(p);
    if (rc == 1)
        fr_panel_free(p);
    return rc;
}

int fr_min_train(const struct fr_panel *p)
{
    return p->n >= 10 ? 5 : 3;
}

/* JSON has no NaN or infinity: a value that is not finite is null. */
static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *accuracy_json(const struct fc_accuracy *a)
{
    if (a->n <= 0)
        return json_null();
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:i}", "mase", jnum(a->mase), "smape",
                     jnum(a->smape), "coverage80", jnum(a->cover80), "coverage95",
                     jnum(a->cover95), "winkler95", jnum(a->winkler), "n", a->n);
}

static const char *scale_name(enum fc_scale s)
{
    switch (s) {
    case FC_SCALE_LOG: return "log";
    case FC_SCALE_LOGIT: return "logit";
    default: return "raw";
    }
}

/* The document for one series: model, history with fitted values,
 * forecasts with both intervals, and the rolling-origin record. */
static json_t *doc_new(const struct fr_panel *p, const char *scope, const char *code,
                       const char *name, const double *y, const struct fc_result *r,
                       int horizon, long long data_version)
{
    char label[16];
    json_t *params = json_object();
    for (int k = 0; k < r->n_params; k++)
        json_object_set_new(params, r->param_name[k], jnum(r->param[k]));
    json_t *history = json_array();
    for (int t = 0; t < p->n; t++) {
        fr_period_label(p, p->first_year + t, label, sizeof label);
        json_array_append_new(history, json_pack("{s:s, s:o, s:o}", "period", label, "value",
                                                 jnum(y[t]), "fitted", jnum(r->fitted[t])));
    }
    json_t *fc = json_array();
    for (int j = 0; j < horizon && j < r->h; j++) {
        fr_period_label(p, p->first_year + p->n + j, label, sizeof label);
        json_array_append_new(fc, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "period", label,
                                            "forecast", jnum(r->mean[j]), "lo80",
                                            jnum(r->lo80[j]), "hi80", jnum(r->hi80[j]), "lo95",
                                            jnum(r->lo95[j]), "hi95", jnum(r->hi95[j])));
    }
    char fitted_at[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(fitted_at, sizeof fitted_at, "%Y-%m-%dT%H:%M:%SZ", &tm);

    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:{s:s, s:s, s:s, s:o, s:b, s:o}, "
        "s:o, s:o, s:{s:s, s:o, s:o, s:o}, s:I, s:s}",
        "metric", p->metric, "label", p->label, "unit", p->unit, "scope", scope,
        "area", "code", code, "name", name,
        "frequency", "annual", "period_kind", p->period_kind,
        "model", "name", r->name, "reason", r->reason, "scale", scale_name(r->scale),
        "parameters", params, "calibrated", r->calibrated, "aicc", jnum(r->aicc),
        "history", history, "forecasts", fc,
        "accuracy", "method",
        "rolling-origin backtest on this series' own history (forecasts made only from the "
        "years before each origin, horizons 1-3 years): mean absolute scaled error, sMAPE "
        "(%), share of actuals inside the 80% and 95% intervals, and the 95% Winkler score",
        "chosen", accuracy_json(&r->acc_model), "naive", accuracy_json(&r->acc_naive),
        "drift", accuracy_json(&r->acc_drift),
        "data_version", (json_int_t)data_version, "fitted_at", fitted_at);
    return doc;
}

/*
 * England and the regions, bottom-up.  The point forecast of an area is the
 * sum of its authorities' forecasts, so every level adds up.  Its interval
 * half-widths combine the authorities' calibrated half-widths d_i as the
 * spread of a sum of errors with a common pairwise correlation rho:
 *     D = sqrt(rho * (sum d_i)^2 + (1 - rho) * sum d_i^2)
 * (rho = 1: the widths add; rho = 0: they add in quadrature).  rho is the
 * authorities' average pairwise correlation of yearly growth, estimated
 * from the history: authorities move together, so it is well above 0.
 */

/* Average pairwise correlation of the members' standardised yearly
 * changes (log changes for counts): Var(sum z_i) = N + N (N - 1) rho, over
 * the members observed in every year (a member with gaps, such as an
 * authority made in 2019, is left out of the estimate).  Clamped to
 * [0, 1]; 1 when it cannot be estimated (the cautious choice: widths add). */
static double area_correlation(const struct fr_panel *p, const int *member)
{
    int n = p->n, nm = 0, nt = n - 1;
    double *z = calloc((size_t)p->n_series * (size_t)n, sizeof(double));
    double rho = 1.0;
    if (!z || nt < 3)
        goto done;
    for (int i = 0; i < p->n_series; i++) {
        if (!member[i])
            continue;
        const double *y = p->y + i * n;
        double *zi = z + (size_t)nm * n, mean = 0, var = 0;
        int complete = 1;
        for (int t = 1; t < n && complete; t++) {
            double a = y[t - 1], b = y[t];
            complete = isfinite(a) && isfinite(b) &&
                       (p->kind != FC_KIND_COUNT || (a > 0 && b > 0));
            if (complete) {
                zi[t] = p->kind == FC_KIND_COUNT ? log(b / a) : b - a;
                mean += zi[t];
            }
        }
        if (!complete)
            continue;
        mean /= nt;
        for (int t = 1; t < n; t++)
            var += (zi[t] - mean) * (zi[t] - mean);
        double sd = sqrt(var / (nt - 1));
        if (!(sd > 0))
            continue;   /* a constant series carries no correlation */
        for (int t = 1; t < n; t++)
            zi[t] = (zi[t] - mean) / sd;
        nm++;
    }
    if (nm < 2)
        goto done;
    double vsum = 0;
    for (int t = 1; t < n; t++) {
        double sum = 0;
        for (int k = 0; k < nm; k++)
            sum += z[(size_t)k * n + t];
        vsum += sum * sum;
    }
    vsum /= nt - 1;
    rho = (vsum - nm) / ((double)nm * (nm - 1));
    rho = rho < 0 ? 0 : rho > 1 ? 1 : rho;
done:
    free(z);
    return rho;
}

static double combine(double sum_d, double sum_d2, double rho)
{
    return sqrt(rho * sum_d * sum_d + (1 - rho) * sum_d2);
}

static int fit_aggregates(const struct fr_panel *p, const struct fc_result *res,
                          const int *have, int horizon, long long data_version,
                          const char *only, fr_emit_fn emit, void *arg, char *err,
                          size_t errlen)
{
    int na = p->n_regions + 1, emitted = 0, rc = -1;
    int *member = calloc((size_t)p->n_series, sizeof(int));
    double *hist = malloc(sizeof(double) * (size_t)p->n);
    struct fc_result *r = calloc(1, sizeof *r);
    if (!member || !hist || !r) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int s = 0; s < na; s++) {
        const char *code = s < p->n_regions ? p->region_codes[s] : FR_ENGLAND_CODE;
        const char *name = s < p->n_regions ? p->region_names[s] : "England";
        const char *scope = s < p->n_regions ? "region" : "england";
        if (only && strcmp(only, code) != 0)
            continue;
        int contributors = 0;
        for (int i = 0; i < p->n_series; i++) {
            member[i] = have[i] && (s == p->n_regions || p->region[i] == s);
            contributors += member[i];
        }
        if (!contributors)
            continue;
        /* History: the sum of every authority's figures in the area (ceased
         * ones included), suppressed values left out. */
        for (int t = 0; t < p->n; t++) {
            double sum = 0;
            int k = 0;
            for (int i = 0; i < p->n_series; i++) {
                if (s < p->n_regions && p->region[i] != s)
                    continue;
                double v = p->y[i * p->n + t];
                if (isfinite(v)) {
                    sum += v;
                    k++;
                }
            }
            hist[t] = k ? sum : NAN;
        }
        double rho = area_correlation(p, member);
        memset(r, 0, sizeof *r);
        r->name = "bottom-up";
        r->model = FC_MODEL_COUNT;
        r->scale = FC_SCALE_RAW;
        r->aicc = NAN;
        r->calibrated = 1;
        r->h = horizon;
        r->n_params = 1;
        r->param_name[0] = "rho";
        r->param[0] = rho;
        for (int t = 0; t < p->n; t++) {
            double f = 0;
            int any = 0;
            for (int i = 0; i < p->n_series; i++)
                if (member[i] && isfinite(res[i].fitted[t])) {
                    f += res[i].fitted[t];
                    any = 1;
                }
            r->fitted[t] = any ? f : NAN;
        }
        for (int j = 0; j < horizon; j++) {
            double m = 0, d[4] = {0}, d2[4] = {0};
            for (int i = 0; i < p->n_series; i++) {
                if (!member[i])
                    continue;
                const struct fc_result *a = &res[i];
                double w[4] = {a->mean[j] - a->lo80[j], a->hi80[j] - a->mean[j],
                               a->mean[j] - a->lo95[j], a->hi95[j] - a->mean[j]};
                m += a->mean[j];
                for (int k = 0; k < 4; k++) {
                    d[k] += w[k];
                    d2[k] += w[k] * w[k];
                }
            }
            r->mean[j] = m;
            r->lo80[j] = m - combine(d[0], d2[0], rho);
            r->hi80[j] = m + combine(d[1], d2[1], rho);
            r->lo95[j] = m - combine(d[2], d2[2], rho);
            r->hi95[j] = m + combine(d[3], d2[3], rho);
            if (p->kind == FC_KIND_COUNT) {
                r->lo80[j] = r->lo80[j] < 0 ? 0 : r->lo80[j];
                r->lo95[j] = r->lo95[j] < 0 ? 0 : r->lo95[j];
            }
        }
        snprintf(r->reason, sizeof r->reason,
                 "the sum of the forecasts of the %d authorities in %s (each chosen and "
                 "calibrated on its own history and its peers'); intervals combine theirs with "
                 "their average correlation of yearly growth, rho = %.2f",
                 contributors, name, rho);
        json_t *doc = doc_new(p, scope, code, name, hist, r, horizon, data_version);
        json_object_set_new(doc, "reconciliation", json_pack(
            "{s:s, s:i, s:o, s:s}", "method", "bottom-up", "authorities", contributors,
            "rho", jnum(rho),
            "note", "England and regional forecasts are the sums of their authorities' "
                    "forecasts, so every level adds up. The history is the sum of the "
                    "authorities' published figures (suppressed values left out, ceased "
                    "authorities included for their years). The intervals add the "
                    "authorities' interval half-widths as a sum of errors with a common "
                    "pairwise correlation rho, estimated from their yearly growth."));
        emitted++;
        if (emit(scope, code, doc, arg) != 0)
            break;
    }
    rc = emitted;
done:
    free(member);
    free(hist);
    free(r);
    return rc;
}

int fr_fit(const struct fr_panel *p, int horizon, long long data_version, const char *only,
           fr_emit_fn emit, void *arg, char *err, size_t errlen)
{
    struct fc_calibration *cal = calloc(1, sizeof *cal);
    struct fc_result *res = calloc((size_t)p->n_series, sizeof *res);
    int *have = calloc((size_t)p->n_series, sizeof(int));
    int emitted = 0, rc = -1, stopped = 0;
    if (!cal || !res || !have) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (horizon < 1 || horizon > FR_MAX_HORIZON) {
        snprintf(err, errlen, "horizon must be 1 to %d", FR_MAX_HORIZON);
        goto done;
    }
    struct fc_panel fp = {p->y, p->n_series, p->n, 1, p->kind, p->region, p->neighbours,
                          FR_NEIGHBOURS};
    int min_train = fr_min_train(p);
    int st = fc_calibrate(&fp, p->n, min_train, horizon, cal);
    if (st != FC_OK) {
        snprintf(err, errlen, "calibration failed: %s", fc_status_str((enum fc_status)st));
        goto done;
    }
    int want_aggregates = !only || strncmp(only, "E12", 3) == 0 ||
                          strcmp(only, FR_ENGLAND_CODE) == 0;
    for (int i = 0; i < p->n_series; i++) {
        if (!p->auth[i].current)
            continue;
        if (only && !want_aggregates && strcmp(only, p->auth[i].code) != 0)
            continue;
        if (fc_auto(&fp, i, p->n, cal, horizon, &res[i]) != FC_OK)
            continue;
        have[i] = 1;
        if (only && (want_aggregates || strcmp(only, p->auth[i].code) != 0))
            continue;
        json_t *doc = doc_new(p, "authority", p->auth[i].code, p->auth[i].name,
                              p->y + i * p->n, &res[i], horizon, data_version);
        emitted++;
        if (emit("authority", p->auth[i].code, doc, arg) != 0) {
            stopped = 1;
            break;
        }
    }
    /* Percentages do not add up: their England and regional figures would
     * need the numerators' and denominators' forecasts, so none is made. */
    if (!stopped && want_aggregates && p->kind != FC_KIND_PROPORTION &&
        strcmp(p->unit, "%") != 0) {
        int n = fit_aggregates(p, res, have, horizon, data_version, only, emit, arg, err,
                               errlen);
        if (n < 0)
            goto done;
        emitted += n;
    }
    rc = emitted;
done:
    fc_calibration_free(cal);
    free(cal);
    free(res);
    free(have);
    return rc;
}

struct store_ctx {
    PGconn *conn;
    const char *metric;
    char version[32];
    int failed;
    char *err;
    size_t errlen;
};

static int store_doc(const char *scope, const char *code, json_t *doc, void *arg)
{
    struct store_ctx *c = arg;
    char *text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(doc);
    if (!text) {
        snprintf(c->err, c->errlen, "out of memory");
        c->failed = 1;
        return 1;
    }
    const char *params[5] = {c->metric, scope, code, c->version, text};
    PGresult *r = dbsync_exec(c->conn,
        "INSERT INTO forecasts (metric, scope, scope_code, frequency, data_version, doc)"
        " VALUES ($1, $2, $3, 'annual', $4, $5::jsonb)"
        " ON CONFLICT (metric, frequency, scope_code) DO UPDATE"
        " SET scope = EXCLUDED.scope, data_version = EXCLUDED.data_version,"
        "     fitted_at = now(), doc = EXCLUDED.doc",
        5, params, c->err, c->errlen);
    free(text);
    if (!r) {
        c->failed = 1;
        return 1;
    }
    PQclear(r);
    return 0;
}

int fr_refit_and_store(PGconn *conn, const char *metric, char *err, size_t errlen)
{
    struct fr_panel p;
    struct store_ctx c = {conn, metric, "", 0, err, errlen};
    clock_t c0 = clock();
    int n = -1;

    /* Read the version first: data arriving during the fit leave the
     * forecast marked stale, and it is refitted again. */
    PGresult *v = dbsync_exec(conn, "SELECT data_version()", 0, NULL, err, errlen);
    if (!v)
        return -1;
    snprintf(c.version, sizeof c.version, "%s", PQgetvalue(v, 0, 0));
    PQclear(v);

    int lr = fr_panel_load(conn, metric, &p, err, errlen);
    if (lr < 0)
        return -1;
    if (dbsync_exec_simple(conn, "BEGIN", err, errlen) != 0) {
        fr_panel_free(&p);
        return -1;
    }
    int n_series = 0;
    if (lr == 0) {
        n_series = p.n_series;
        n = fr_fit(&p, FR_MAX_HORIZON, atoll(c.version), NULL, store_doc, &c, err, errlen);
        fr_panel_free(&p);
        if (n < 0 || c.failed)
            goto fail;
    } else {
        n = 0;
    }
    char cpu[32], ns[16];
    snprintf(cpu, sizeof cpu, "%.3f", (double)(clock() - c0) * 1000.0 / CLOCKS_PER_SEC);
    snprintf(ns, sizeof ns, "%d", n_series);
    const char *params[5] = {metric, c.version, ns, cpu, FR_ENGINE};
    PGresult *r = dbsync_exec(conn,
        "INSERT INTO forecast_runs (metric, frequency, data_version, n_series, cpu_ms, engine)"
        " VALUES ($1, 'annual', $2, $3, $4, $5)"
        " ON CONFLICT (metric, frequency) DO UPDATE SET data_version = EXCLUDED.data_version,"
        "   fitted_at = now(), n_series = EXCLUDED.n_series, cpu_ms = EXCLUDED.cpu_ms,"
        "   engine = EXCLUDED.engine",
        5, params, err, errlen);
    if (!r)
        goto fail;
    PQclear(r);
    if (dbsync_exec_simple(conn, "COMMIT", err, errlen) != 0)
        return -1;
    return n;
fail:;
    char ignored[64];
    dbsync_exec_simple(conn, "ROLLBACK", ignored, sizeof ignored);
    return -1;
}

void fr_doc_truncate(json_t *doc, int horizon)
{
    json_t *fc = json_object_get(doc, "forecasts");
    while (json_is_array(fc) && (int)json_array_size(fc) > horizon)
        json_array_remove(fc, json_array_size(fc) - 1);
}

/* Plain numbers, no thousands separators; an empty cell where a value is
 * missing. */
struct sheet *fr_doc_sheet(const json_t *doc, int show_dp)
{
    static const char *const cols[] = {"period", "forecast", "lo80", "hi80", "lo95", "hi95"};
    struct sheet *s = sheet_new("forecast");
    if (!s)
        return NULL;
    for (size_t k = 0; k < 6; k++)
        sheet_text(s, cols[k]);
    sheet_end_row(s);
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(doc, "forecasts"), i, row) {
        sheet_text(s, json_string_value(json_object_get(row, "period")));
        for (size_t k = 1; k < 6; k++) {
            const json_t *v = json_object_get(row, cols[k]);
            if (json_is_number(v))
                sheet_number_as(s, json_number_value(v), SHEET_DP_ANY, show_dp);
            else
                sheet_text(s, "");
        }
        sheet_end_row(s);
    }
    return s;
}

char *fr_doc_csv(const json_t *doc)
{
    struct sheet *s = fr_doc_sheet(doc, SHEET_DP_ANY);
    size_t len = 0;
    char *out = s ? sheet_csv_string(s, "\n", &len) : NULL;
    sheet_free(s);
    return out;
}
