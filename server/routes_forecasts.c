/* GET /api/v1/forecasts/{metric}: forecasts fitted by the worker, served
 * from the forecasts table; marked stale when annual figures (the only
 * input of a forecast) have moved on since the fit.
 *
 * Replies are kept in the server's reply cache (the tables' one, cache.h),
 * keyed by metric, area, horizon and format.  A reply carries the version
 * of the annual figures (forecast_data_version(), sql/081), so it depends
 * on changes to annual figures and on the stored forecasts, not on council
 * quarters: the NOTIFY handlers that keep the tables coherent drop it, and
 * one computed while either changed is served once, not kept. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "cache.h"
#include "codes.h"
#include "db.h"
#include "forecast_run.h"
#include "log.h"
#include "metrics.h"
#include "routes.h"
#include "sheet.h"
#include "web.h"
#include "xlsx.h"

#define FC_CACHE_CONTROL "public, max-age=60"

enum fc_format { FC_JSON, FC_CSV, FC_XLSX };
static const char *const FC_FORMAT_NAMES[] = {"json", "csv", "xlsx"};
static const char *const FC_CONTENT_TYPES[] = {"application/json", "text/csv; charset=utf-8",
                                               XLSX_CONTENT_TYPE};

struct fc_req {
    int horizon;
    enum fc_format format;
    char metric[72];
    char key[128];          /* the reply's cache key */
    uint64_t generation;    /* the cache's, when the query was sent */
};

/* Only when nothing is stored for a metric that was never fitted: does it
 * have annual figures at all?  A separate query, because planning the
 * forecast_input view (it expands the derived metrics) costs more than the
 * whole hot-path query. */
static void has_data_done(struct request *r, PGresult *res)
{
    if (PQgetvalue(res, 0, 0)[0] == 'n') {
        /* metrics.forecast = false (sql/021, sql/101) */
        http_reply_error(r, 404, "no_data",
                         "this metric is not forecast: it is a breakdown or a one-year input "
                         "(such as the High Needs Benchmarking Tool's 2021-22 figures), not a "
                         "series with a history to forecast", NULL);
        return;
    }
    if (PQgetvalue(res, 0, 0)[0] != 't') {
        http_reply_error(r, 404, "no_data",
                         "this metric has no annual figures yet, so nothing to forecast", NULL);
        return;
    }
    http_add_header(r, "Retry-After", "5");
    http_reply_error(r, 503, "forecast_pending",
                     "the forecast is being computed; try again in a few seconds", NULL);
}

/* The forecast as a workbook: the CSV's rows, shown with the catalogue's
 * decimal places (dp), and what it is on the About sheet.  Caller frees. */
static char *forecast_xlsx(struct request *r, const json_t *doc, int dp, size_t *len)
{
    const json_t *area = json_object_get(doc, "area");
    const json_t *model = json_object_get(doc, "model");
    char title[300], version[32];
    snprintf(title, sizeof title, "Forecast: %s, %s",
             web_str(doc, "label") ? web_str(doc, "label") : "",
             web_str(area, "name") ? web_str(area, "name") : "");
    snprintf(version, sizeof version, "%lld",
             (long long)json_integer_value(json_object_get(doc, "data_version")));
    const char *extra[] = {"metric", web_str(doc, "metric"), "area_code", web_str(area, "code"),
                           "model", web_str(model, "name"), "fitted_at", web_str(doc, "fitted_at"),
                           "data_version", version,
                           "intervals", "80% (lo80, hi80) and 95% (lo95, hi95) prediction intervals",
                           NULL};
    for (size_t i = 1; extra[i - 1]; i += 2)
        if (!extra[i])
            extra[i] = "";
    struct xlsx_about about = {title, evhttp_request_get_uri(r->req), WEB_OGL_LINE, extra, 0};
    struct sheet *s = fr_doc_sheet(doc, dp);
    const struct sheet *sheets[] = {s};
    char err[200];
    unsigned char *x = s ? xlsx_workbook(sheets, 1, &about, len, err, sizeof err) : NULL;
    if (s && !x)
        log_msg(LOG_ERROR, r->id, "forecast workbook: %s", err);
    sheet_free(s);
    return (char *)x;
}

/* Downloads are named after what they hold. */
static void forecast_disposition(struct request *r)
{
    struct fc_req *st = r->state;
    if (st->format == FC_JSON)
        return;
    const char *area = http_query(r, "authority");
    char disp[200];
    snprintf(disp, sizeof disp, "attachment; filename=\"forecast-%s-%s.%s\"", st->metric,
             area && strlen(area) <= 20 && strspn(area, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") ==
                 strlen(area) ? area : CODE_ENGLAND,
             FC_FORMAT_NAMES[st->format]);
    http_add_header(r, "Content-Disposition", disp);
}

/* The forecast routes' 404 for a metric id the catalogue does not have. */
static void reply_unknown_metric(struct request *r)
{
    http_reply_error(r, 404, "unknown_metric", "no metric with this id; see /api/v1/metrics",
                     json_pack("[{s:s, s:s}]", "field", "metric", "rule", "known metric id"));
}

static void forecast_done(struct request *r, PGresult *res)
{
    struct fc_req *st = r->state;
    if (PQgetisnull(res, 0, 0)) {
        reply_unknown_metric(r);
        return;
    }
    if (PQgetisnull(res, 0, 1)) {
        http_reply_error(r, 404, "unknown_area",
                         "authority must be an authority's ONS code or DfE number, a region "
                         "code (E12...) or E92000001 for England",
                         json_pack("[{s:s, s:s}]", "field", "authority", "rule", "known code"));
        return;
    }
    if (PQgetisnull(res, 0, 2)) {
        if (PQgetvalue(res, 0, 4)[0] == 't') {
            /* The metric has data but this area has no forecast: too
             * little history, or an area that no longer exists. */
            http_reply_error(r, 404, "no_forecast",
                             "there is no forecast for this metric and area: it has no usable "
                             "annual history, or it ceased to exist",
                             NULL);
            return;
        }
        const char *params[1] = {st->metric};
        request_query(r,
                          "SELECT CASE WHEN NOT (SELECT forecast FROM metrics WHERE id = $1)"
                          " THEN 'n' WHEN EXISTS (SELECT 1 FROM forecast_input fi JOIN metrics m"
                          " ON fi.metric = m.id AND fi.period_kind = m.annual_period"
                          " WHERE m.id = $1) THEN 't' ELSE 'f' END",
                          1, params, has_data_done);
        return;
    }
    json_error_t jerr;
    json_t *doc = json_loads(PQgetvalue(res, 0, 2), 0, &jerr);
    if (!doc) {
        http_reply_error(r, 500, "internal_error", "stored forecast is unreadable", NULL);
        return;
    }
    long long stored = atoll(PQgetvalue(res, 0, 3));
    long long current = atoll(PQgetvalue(res, 0, 5));
    fr_doc_truncate(doc, st->horizon);
    json_object_set_new(doc, "stale", json_boolean(stored < current));
    json_object_set_new(doc, "current_data_version", json_integer(current));
    size_t len = 0;
    char *body;
    if (st->format == FC_CSV) {
        body = fr_doc_csv(doc, atoi(PQgetvalue(res, 0, 6)));
        json_decref(doc);
        len = body ? strlen(body) : 0;
    } else if (st->format == FC_XLSX) {
        body = forecast_xlsx(r, doc, atoi(PQgetvalue(res, 0, 6)), &len);
        json_decref(doc);
    } else {
        body = http_json_text(doc, &len);
    }
    if (!body) {
        http_reply_oom(r);
        return;
    }
    struct cache_entry *e = cache_entry_new(st->key, FC_CONTENT_TYPES[st->format],
                                            FC_CACHE_CONTROL, body, len);
    if (!e) {
        http_reply_oom(r);
        return;
    }
    if (cache_entry_depend(e, CACHE_DEP_ANNUAL_DATA | CACHE_DEP_FORECASTS, NULL) == 0 &&
        cache_store(r->app->tables_cache, e, st->generation))
        metrics_count("forecast_cache_stores");
    forecast_disposition(r);
    http_reply_cached(r, e, "Accept");
    cache_entry_unref(e);
}

/* horizon (a whole number of UNIT from 1 to max_h, default def_h) and the
 * format (format=json|csv|xlsx, else the Accept header), the same rule for
 * the annual and the quarterly forecasts.  Replies 400 and returns -1 on a
 * bad value. */
static int parse_horizon_format(struct request *r, struct fc_req *st, int def_h, int max_h,
                                const char *unit)
{
    const char *h = http_query(r, "horizon");
    const char *fmt = http_query(r, "format");
    const char *accept = http_header(r, "Accept");
    st->horizon = def_h;
    if (h) {
        char *end = NULL;
        long v = strtol(h, &end, 10);
        if (!*h || *end || v < 1 || v > max_h) {
            char msg[96], rule[16];
            snprintf(msg, sizeof msg, "horizon must be a whole number of %s from 1 to %d", unit,
                     max_h);
            snprintf(rule, sizeof rule, "1..%d", max_h);
            http_reply_error(r, 400, "bad_parameter", msg,
                             json_pack("[{s:s, s:s}]", "field", "horizon", "rule", rule));
            return -1;
        }
        st->horizon = (int)v;
    }
    if (fmt && strcmp(fmt, "csv") != 0 && strcmp(fmt, "json") != 0 && strcmp(fmt, "xlsx") != 0) {
        http_reply_error(r, 400, "bad_parameter", "format must be json, csv or xlsx",
                         json_pack("[{s:s, s:s}]", "field", "format", "rule", "json, csv or xlsx"));
        return -1;
    }
    if (xlsx_requested(fmt, accept))
        st->format = FC_XLSX;
    else if ((fmt && strcmp(fmt, "csv") == 0) ||
             (!fmt && accept && strstr(accept, "text/csv") != NULL))
        st->format = FC_CSV;
    return 0;
}

/* The start both forecast routes share: the request's state, its horizon
 * and format, and the metric id of the path.  NULL when it has replied (a
 * 400, 404 or out of memory). */
static struct fc_req *fc_req_begin(struct request *r, int def_h, int max_h, const char *unit)
{
    const char *metric = http_param(r, 0);
    struct fc_req *st = calloc(1, sizeof *st);
    if (!st) {
        http_reply_oom(r);
        return NULL;
    }
    r->state = st;
    r->state_free = free;
    if (parse_horizon_format(r, st, def_h, max_h, unit) != 0)
        return NULL;
    if (!code_is_metric_id(metric)) {
        reply_unknown_metric(r);
        return NULL;
    }
    snprintf(st->metric, sizeof st->metric, "%s", metric);
    return st;
}

void route_forecast(struct request *r)
{
    const char *metric = http_param(r, 0);
    const char *area = http_query(r, "authority");
    struct fc_req *st = fc_req_begin(r, FR_DEFAULT_HORIZON, FR_MAX_HORIZON, "years");
    if (!st)
        return;
    if (!area || !*area || strcmp(area, "england") == 0)
        area = CODE_ENGLAND;
    if (!code_is_scope(area) && !code_is_dfe_authority(area)) {
        http_reply_error(r, 404, "unknown_area", "no authority, region or country with this code",
                         json_pack("[{s:s, s:s}]", "field", "authority", "rule", "known code"));
        return;
    }
    snprintf(st->key, sizeof st->key, "forecast|%s|%s|%d|%s", metric, area, st->horizon,
             FC_FORMAT_NAMES[st->format]);
    struct cache_entry *hit = cache_lookup(r->app->tables_cache, st->key);
    if (hit) {
        metrics_count("forecast_cache_hits");
        forecast_disposition(r);
        http_reply_cached(r, hit, "Accept");
        return;
    }
    st->generation = cache_generation(r->app->tables_cache);
    const char *params[2] = {metric, area};
    /* One round trip: the metric, the area resolved to its ONS code, the
     * stored forecast, whether the metric has data, and the data version. */
    request_query(r,
            "WITH m AS (SELECT id, annual_period FROM metrics WHERE id = $1),"
            " a AS (SELECT new_la_code AS code FROM authorities"
            "        WHERE new_la_code = $2 OR old_la_code = $2"
            "       UNION SELECT DISTINCT region_code FROM authorities WHERE region_code = $2"
            "       UNION SELECT 'E92000001' WHERE $2 = 'E92000001')"
            " , f AS (SELECT doc::text AS doc, data_version FROM forecasts f"
            "         WHERE f.metric = $1 AND f.frequency = 'annual'"
            "           AND f.scope_code = (SELECT code FROM a LIMIT 1))"
            " SELECT (SELECT id FROM m), (SELECT code FROM a LIMIT 1),"
            "  (SELECT doc FROM f), (SELECT data_version FROM f),"
            "  EXISTS (SELECT 1 FROM forecast_runs fr WHERE fr.metric = $1"
            "          AND fr.frequency = 'annual'),"
            "  forecast_data_version(), (SELECT dp FROM metrics WHERE id = $1)",
            2, params, forecast_done);
}

/* GET /api/v1/forecasts/{metric}/quarterly?authority=CODE: a council's
 * quarterly forecast (server/forecast_quarterly.c), fitted from its own
 * approved quarters.  Those are unpublished figures: the council itself and
 * administrators only (403 for any other council, whether or not the code
 * exists), never cached, never public. */
static void quarterly_done(struct request *r, PGresult *res)
{
    struct fc_req *st = r->state;
    if (PQgetisnull(res, 0, 0)) {
        reply_unknown_metric(r);
        return;
    }
    if (PQgetisnull(res, 0, 1)) {
        if (!r->caller.admin) {
            auth_reply_forbidden(r, http_query(r, "authority"));
            return;
        }
        http_reply_error(r, 404, "unknown_area", "no authority with this code",
                         json_pack("[{s:s, s:s}]", "field", "authority", "rule",
                                   "an authority's ONS code or DfE number"));
        return;
    }
    const char *code = PQgetvalue(res, 0, 1);
    if (!auth_may_act_for(&r->caller, code)) {
        auth_reply_forbidden(r, code);
        return;
    }
    http_add_header(r, "Cache-Control", "private, no-store");
    if (PQgetisnull(res, 0, 2)) {
        char m[200];
        snprintf(m, sizeof m,
                 "no quarterly forecast for this metric and authority: it needs at least %d "
                 "approved quarters", FR_QUARTERLY_MIN);
        http_reply_error(r, 404, "no_forecast", m,
                         json_pack("[{s:s, s:s}]", "field", "authority", "rule",
                                   "at least 8 approved quarters of the metric"));
        return;
    }
    json_error_t jerr;
    json_t *doc = json_loads(PQgetvalue(res, 0, 2), 0, &jerr);
    if (!doc) {
        http_reply_error(r, 500, "internal_error", "stored forecast is unreadable", NULL);
        return;
    }
    /* stale: a version was signed off (or rejected) after the fit */
    long long seen = json_integer_value(json_object_get(doc, "decisions_version"));
    long long current = atoll(PQgetvalue(res, 0, 4));
    fr_doc_truncate(doc, st->horizon);
    json_object_set_new(doc, "stale", json_boolean(seen < current));
    json_object_set_new(doc, "current_data_version", json_integer(atoll(PQgetvalue(res, 0, 5))));
    if (st->format == FC_CSV) {
        char *csv = fr_doc_csv(doc, atoi(PQgetvalue(res, 0, 6)));
        json_decref(doc);
        if (!csv) {
            http_reply_oom(r);
            return;
        }
        http_reply_text(r, 200, FC_CONTENT_TYPES[FC_CSV], csv, strlen(csv));
        free(csv);
        return;
    }
    if (st->format == FC_XLSX) {
        size_t len = 0;
        char *x = forecast_xlsx(r, doc, atoi(PQgetvalue(res, 0, 6)), &len);
        json_decref(doc);
        if (!x) {
            http_reply_error(r, 500, "internal_error", "the workbook could not be written", NULL);
            return;
        }
        char disp[200];
        snprintf(disp, sizeof disp, "attachment; filename=\"forecast-quarterly-%s-%s.xlsx\"",
                 st->metric, code);
        http_add_header(r, "Content-Disposition", disp);
        http_reply_text(r, 200, FC_CONTENT_TYPES[FC_XLSX], x, len);
        free(x);
        return;
    }
    http_reply_json(r, 200, doc);
}

void route_forecast_quarterly(struct request *r)
{
    const char *metric = http_param(r, 0);
    const char *area = http_query(r, "authority");
    struct fc_req *st = fc_req_begin(r, FR_QUARTERLY_HORIZON, FR_QUARTERLY_HORIZON, "quarters");
    if (!st)
        return;
    if (!area || !*area) {
        http_reply_error(r, 400, "bad_parameter", "authority is required: an authority's code",
                         json_pack("[{s:s, s:s}]", "field", "authority", "rule", "required"));
        return;
    }
    if (!code_is_ons_authority(area) && !code_is_dfe_authority(area)) {
        if (!r->caller.admin) {
            auth_reply_forbidden(r, area);
            return;
        }
        http_reply_error(r, 404, "unknown_area", "no authority with this code",
                         json_pack("[{s:s, s:s}]", "field", "authority", "rule",
                                   "an authority's ONS code or DfE number"));
        return;
    }
    const char *params[2] = {metric, area};
    request_query(r,
            "WITH a AS (SELECT new_la_code AS code FROM authorities"
            "           WHERE new_la_code = $2 OR old_la_code = $2 LIMIT 1),"
            " f AS (SELECT doc::text AS doc, data_version FROM quarterly_forecasts"
            "       WHERE metric = $1 AND authority = (SELECT code FROM a))"
            " SELECT (SELECT id FROM metrics WHERE id = $1), (SELECT code FROM a),"
            "  (SELECT doc FROM f), (SELECT data_version FROM f),"
            "  (SELECT coalesce(max(id), 0) FROM submission_states), data_version(),"
            "  (SELECT dp FROM metrics WHERE id = $1)",
            2, params, quarterly_done);
}
