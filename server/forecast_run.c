/*
 * Forecast documents: fits a panel (forecast_panel.c loads it) with the
 * automatic choice, turns each result into the JSON document the API
 * serves, adds England and the regions (forecast_areas.c), stores them.
 */
#include "forecast_run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbsync.h"
#include "forecast_areas.h"
#include "sheet.h"

/* JSON has no NaN or infinity: a value that is not finite is null. */
static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static int judged(const struct fc_accuracy *a)
{
    return a->n > 0 && a->n_origins >= FR_TRACK_MIN_ORIGINS;
}

/* Every accuracy statement carries its n; below the minimum no figure is
 * given at all, only that there is too little history to judge. */
json_t *fr_accuracy_json(const struct fc_accuracy *a)
{
    if (!judged(a))
        return json_pack("{s:i, s:i, s:b, s:s}", "n", a->n, "origins", a->n_origins, "judged", 0,
                         "note", "too little history to judge");
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:b}", "mase", jnum(a->mase), "smape",
                     jnum(a->smape), "coverage80", jnum(a->cover80), "coverage95",
                     jnum(a->cover95), "winkler95", jnum(a->winkler), "n", a->n, "origins",
                     a->n_origins, "judged", 1);
}

const char *fr_scale_name(enum fc_scale s)
{
    switch (s) {
    case FC_SCALE_LOG: return "log";
    case FC_SCALE_LOG1P: return "log1p";
    case FC_SCALE_LOGIT: return "logit";
    default: return "raw";
    }
}

/* Why an interval looks the way it does, in words. */
const char *fr_interval_shape(enum fc_scale s)
{
    switch (s) {
    case FC_SCALE_LOG:
    case FC_SCALE_LOG1P:
        return "The model works on the logarithm of the figures (growth in per cent), so each "
               "interval is symmetric in percentage terms and lopsided in plain numbers: it "
               "reaches further above the forecast than below it, and never below zero.";
    case FC_SCALE_LOGIT:
        return "The model works on a logit scale so that intervals stay between 0% and 100%; "
               "they are lopsided, reaching further toward 50% than toward the nearer end.";
    default:
        return "The model works on the figures themselves; the intervals follow the spread "
               "of its past errors, which need not be symmetric around the forecast.";
    }
}

/* The track record in plain words, printed once wherever it is shown. */
static void track_words(const struct fc_accuracy *own, const struct fc_accuracy *panel,
                        int panel_series, char *out, size_t len)
{
    size_t used = 0;
    if (judged(own))
        used += (size_t)snprintf(out, len,
            "Tested on this series' own past (n = %d forecasts one to three years ahead, from "
            "%d origins): off by %.*f%% on average (sMAPE); %.0f%% of the actual figures fell "
            "inside the 80%% interval and %.0f%% inside the 95%% interval.",
            own->n, own->n_origins, own->smape < 10 ? 1 : 0, own->smape, own->cover80,
            own->cover95);
    else
        used += (size_t)snprintf(out, len,
            "Too little history to judge this series' own track record (%d origin%s tested, "
            "at least %d needed).", own->n_origins, own->n_origins == 1 ? "" : "s",
            FR_TRACK_MIN_ORIGINS);
    if (used < len && panel && panel->n > 0 && panel_series > 0)
        snprintf(out + used, len - used,
                 " Across %d series of this measure (n = %d forecasts) the same method was "
                 "off by %.1f%% on average, with %.0f%% inside the 80%% interval and %.0f%% "
                 "inside the 95%% interval.",
                 panel_series, panel->n, panel->smape, panel->cover80, panel->cover95);
}

json_t *fr_doc_new(const struct fr_panel *p, const char *scope, const char *code,
                   const char *name, const double *y, const struct fc_result *r, int horizon,
                   long long data_version)
{
    char label[16];
    int idx = -1;
    if (strcmp(scope, "authority") == 0)
        for (int i = 0; i < p->n_series; i++)
            if (strcmp(p->auth[i].code, code) == 0)
                idx = i;
    json_t *params = json_object();
    for (int k = 0; k < r->n_params; k++)
        json_object_set_new(params, r->param_name[k], jnum(r->param[k]));
    json_t *history = json_array();
    for (int t = 0; t < p->n; t++) {
        fr_period_label(p, p->first_year + t, label, sizeof label);
        json_t *row = json_pack("{s:s, s:o, s:o}", "period", label, "value", jnum(y[t]),
                                "fitted", jnum(r->fitted[t]));
        if (idx >= 0 && isfinite(y[t]) && !p->scored[idx * p->n + t])
            json_object_set_new(row, "apportioned", json_true());
        json_array_append_new(history, row);
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

    char words[900];
    track_words(&r->acc_model, r->has_accuracy ? &r->acc_panel : NULL, r->panel_series, words,
                sizeof words);
    json_t *acc = json_pack(
        "{s:s, s:o, s:o, s:o, s:i, s:s}",
        "method",
        "rolling-origin backtest on this series' own history (forecasts made only from the "
        "years before each origin, horizons 1-3 years): mean absolute scaled error, sMAPE "
        "(%), share of actuals inside the 80% and 95% intervals, and the 95% Winkler score; "
        "n counts forecasts scored (series x origins x horizons), origins the forecast origins; "
        "years apportioned at a boundary change are never scored",
        "chosen", fr_accuracy_json(&r->acc_model), "naive", fr_accuracy_json(&r->acc_naive),
        "drift", fr_accuracy_json(&r->acc_drift), "minimum_origins", FR_TRACK_MIN_ORIGINS,
        "statement", words);
    if (r->has_accuracy && r->acc_panel.n > 0)
        json_object_set_new(acc, "panel", json_pack(
            "{s:o, s:o, s:o, s:o, s:i, s:i}", "mase", jnum(r->acc_panel.mase), "smape",
            jnum(r->acc_panel.smape), "coverage80", jnum(r->acc_panel.cover80), "coverage95",
            jnum(r->acc_panel.cover95), "n", r->acc_panel.n, "series", r->panel_series));
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:{s:s, s:s, s:s, s:o, s:b, s:o}, "
        "s:o, s:o, s:{s:s, s:b, s:s}, s:o, s:I, s:s}",
        "metric", p->metric, "label", p->label, "unit", p->unit, "scope", scope,
        "area", "code", code, "name", name,
        "frequency", "annual", "period_kind", p->period_kind,
        "model", "name", r->name, "reason", r->reason, "scale", fr_scale_name(r->scale),
        "parameters", params, "calibrated", r->calibrated, "aicc", jnum(r->aicc),
        "history", history, "forecasts", fc,
        "intervals", "scale", fr_scale_name(r->scale), "calibrated", r->calibrated, "shape",
        fr_interval_shape(r->scale),
        "accuracy", acc,
        "data_version", (json_int_t)data_version, "fitted_at", fitted_at);
    if (idx >= 0 && p->auth[idx].boundary[0]) {
        const struct fr_authority *a = &p->auth[idx];
        json_t *b = json_pack("{s:s, s:s, s:i}", "note", a->boundary, "predecessors",
                              a->predecessors, "years_apportioned", a->n_apportioned);
        if (a->n_apportioned > 0) {
            json_object_set_new(b, "first_apportioned", json_integer(a->first_apportioned));
            json_object_set_new(b, "last_apportioned", json_integer(a->last_apportioned));
            json_object_set_new(b, "rule", json_string(
                p->kind == FC_KIND_PROPORTION
                    ? "predecessors' average rate"
                    : "share of the predecessors' total equal to the successor's share of the "
                      "successors' total in the first period every successor reported"));
            if (p->kind != FC_KIND_PROPORTION)
                json_object_set_new(b, "share", jnum(a->share));
        }
        json_object_set_new(doc, "boundary_change", b);
    }
    return doc;
}

int fr_fit_series(const struct fr_panel *p, int h, int all_series, struct fc_calibration *cal,
                  struct fc_result *res, int *have, char *err, size_t errlen)
{
    struct fc_panel fp;
    fr_fc_panel(p, &fp);
    int st = fc_calibrate(&fp, p->n, fr_min_train(p), h, cal);
    if (st != FC_OK) {
        snprintf(err, errlen, "calibration failed: %s", fc_status_str((enum fc_status)st));
        return -1;
    }
    unsigned char *want = malloc((size_t)p->n_series);
    if (!want) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < p->n_series; i++)
        want[i] = all_series || p->auth[i].current;
    st = fc_auto_each(&fp, p->n, cal, h, want, res, have);
    free(want);
    if (st != FC_OK) {
        snprintf(err, errlen, "forecast failed: %s", fc_status_str((enum fc_status)st));
        return -1;
    }
    return 0;
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
    if (fr_fit_series(p, horizon, 0, cal, res, have, err, errlen) != 0)
        goto done;
    int want_aggregates = !only || strncmp(only, "E12", 3) == 0 ||
                          strcmp(only, CODE_ENGLAND) == 0;
    for (int i = 0; i < p->n_series; i++) {
        if (!have[i])
            continue;
        if (only && strcmp(only, p->auth[i].code) != 0)
            continue;
        json_t *doc = fr_doc_new(p, "authority", p->auth[i].code, p->auth[i].name,
                                 p->y + i * p->n, &res[i], horizon, data_version);
        emitted++;
        if (emit("authority", p->auth[i].code, doc, arg) != 0) {
            stopped = 1;
            break;
        }
    }
    if (!stopped && want_aggregates) {
        int n = fr_fit_areas(p, res, have, horizon, data_version, only, emit, arg, err,
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
        "     fitted_at = now(), doc = EXCLUDED.doc"
        /* Never replace a newer fit (a slow worker, or a former leader
         * that finished late): the stored row wins when it is newer. */
        " WHERE forecasts.data_version <= EXCLUDED.data_version",
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
        "   engine = EXCLUDED.engine"
        " WHERE forecast_runs.data_version <= EXCLUDED.data_version",
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
struct sheet *fr_doc_sheet(const json_t *doc, int dp)
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
                sheet_number(s, json_number_value(v), dp);
            else
                sheet_text(s, "");
        }
        sheet_end_row(s);
    }
    return s;
}

char *fr_doc_csv(const json_t *doc, int dp)
{
    struct sheet *s = fr_doc_sheet(doc, dp);
    size_t len = 0;
    char *out = s ? sheet_csv_string(s, "\n", &len) : NULL;
    sheet_free(s);
    return out;
}
