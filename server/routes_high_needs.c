/*
 * The High Needs plan over HTTP:
 *   GET  /api/v1/authorities/{code}/high-needs[?scenario=ID][&format=csv]
 *   POST /api/v1/authorities/{code}/scenarios        save a version
 *   GET  /api/v1/authorities/{code}/scenarios        every version, newest first
 *   GET  /api/v1/authorities/{code}/scenarios/{id}   one version
 *
 * The trajectory is open to anyone when unmitigated and built from
 * published figures only; a council (its token) or an admin also gets the
 * council's own submitted figures (its DSG balance in £, its case
 * officers) and its scenarios.  A scenario is private to its authority
 * unless saved with "shared": true; then anyone may see its trajectory,
 * which is still computed from published figures only for them.
 *
 * Access is the route table's (server/routes.c): the trajectory takes an
 * optional token, the scenario routes require one; the dispatcher has
 * resolved r->caller before these handlers run.
 *
 * One query gathers the inputs (server/high_needs.c); the projection
 * itself is microseconds of arithmetic (forecasts/hn_projection.c), done
 * on the loop.
 */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "db.h"
#include "high_needs.h"
#include "http.h"
#include "routes.h"
#include "sheet.h"
#include "web.h"
#include "xlsx.h"

struct hn_state {
    int csv, xlsx;
    int anonymous;
    char who[16];               /* "*", a council's code, "" */
    char scenario[24];          /* digits, "" none */
    char code[16];              /* resolved ONS code (scenario routes) */
    struct auth_caller caller;
    json_t *body;               /* POST: the parsed body */
    char name[121];
    int shared;
    json_t *levers;             /* POST: normalised levers */
};

static void hn_state_free(void *arg)
{
    struct hn_state *st = arg;
    json_decref(st->body);
    json_decref(st->levers);
    free(st);
}

static struct hn_state *state_new(struct request *r)
{
    struct hn_state *st = calloc(1, sizeof *st);
    if (!st) {
        http_reply_oom(r);
        return NULL;
    }
    r->state = st;
    r->state_free = hn_state_free;
    return st;
}

/* A positive id of at most 18 digits. */
static int id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 18 || s[0] == '0')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static json_t *one_detail(const char *field, const char *rule, const char *message)
{
    return json_pack("[{s:s, s:s, s:s}]", "field", field, "rule", rule, "message", message);
}

/* ---- GET .../high-needs -------------------------------------------------- */

/* The trajectory's CSV rows as a workbook, with what it is on the About
 * sheet. */
static void hn_reply_xlsx(struct request *r, const struct high_needs_view *view,
                          const struct hn_result *shown)
{
    struct hn_state *st = r->state;
    char title[400], disp[96], sid[24] = "";
    snprintf(title, sizeof title, "High Needs trajectory: %s%s%s", view->name,
             view->has_scenario ? ", scenario " : " (unmitigated)",
             view->has_scenario ? view->scenario_name : "");
    if (view->has_scenario)
        snprintf(sid, sizeof sid, "%lld", view->scenario_id);
    const char *extra[] = {"authority_code", view->code,
                           "scenario", view->has_scenario ? sid : "none (unmitigated)",
                           "figures_used", view->own ? "published and the council's own submitted"
                                                     : "published figures only",
                           "intervals", "lo80 and hi80: 80% paths", NULL};
    struct xlsx_about about = {title, evhttp_request_get_uri(r->req), WEB_OGL_LINE, extra, 0};
    struct sheet *sh = high_needs_sheet(shown);
    const struct sheet *sheets[] = {sh};
    char err[200];
    size_t len = 0;
    unsigned char *x = sh ? xlsx_workbook(sheets, 1, &about, &len, err, sizeof err) : NULL;
    sheet_free(sh);
    if (!x) {
        http_reply_error(r, 500, "internal_error", "the workbook could not be written", NULL);
        return;
    }
    snprintf(disp, sizeof disp, "attachment; filename=\"high-needs-%s%s%s.xlsx\"", view->code,
             st->scenario[0] ? "-scenario-" : "", st->scenario);
    http_add_header(r, "Content-Disposition", disp);
    if (view->own || view->has_scenario)
        http_add_header(r, "Cache-Control", "private, no-store");
    http_reply_text(r, 200, XLSX_CONTENT_TYPE, (const char *)x, len);
    free(x);
}

static void trajectory_loaded(struct request *r, struct pg_result *rows)
{
    struct hn_state *st = r->state;
    json_t *doc = high_needs_reply_doc(rows);
    struct hn_inputs in;
    struct high_needs_view view;
    char reason[300];
    int hs = high_needs_inputs(doc, &in, &view, reason, sizeof reason);
    /* the scenario first: nothing about a hidden one is disclosed */
    if (st->scenario[0] && hs != HIGH_NEEDS_NO_AUTHORITY) {
        if (!high_needs_scenario_visible(doc)) {
            json_decref(doc);
            if (st->anonymous) {
                http_add_header(r, "WWW-Authenticate", "Bearer");
                http_reply_error(r, 401, "unauthorized",
                                 "a scenario is private to its authority: send the council's "
                                 "token", NULL);
            } else {
                http_reply_error(r, 404, "not_found", "no such scenario for this authority", NULL);
            }
            return;
        }
    }
    if (hs != HIGH_NEEDS_OK) {
        json_decref(doc);
        if (hs == HIGH_NEEDS_NO_FORECAST) {
            http_add_header(r, "Retry-After", "5");
            http_reply_error(r, 503, "forecast_pending", reason, NULL);
        } else {
            http_reply_error(r, 404, "not_found", reason, NULL);
        }
        return;
    }
    struct hn_levers lv, unmit_lv;
    hn_levers_default(&unmit_lv);
    lv = unmit_lv;
    if (view.has_scenario) {
        json_t *details = json_array();
        int bad = high_needs_levers_parse(json_object_get(json_object_get(doc, "scenario"), "levers"),
                                          &lv, details);
        json_decref(details);
        if (bad) {
            json_decref(doc);
            http_reply_error(r, 500, "internal_error", "a stored scenario no longer validates", NULL);
            return;
        }
        high_needs_levers_fit(&in, &lv, &view);
    }
    json_decref(doc);
    struct hn_result *res = malloc(2 * sizeof *res);
    if (!res) {
        http_reply_oom(r);
        return;
    }
    if (hn_project(&in, &unmit_lv, &res[1]) != HN_OK ||
        (view.has_scenario && hn_project(&in, &lv, &res[0]) != HN_OK)) {
        free(res);
        http_reply_error(r, 422, "not_projectable",
                         "the inputs of this authority do not make a trajectory (see "
                         "docs/high-needs.md)", NULL);
        return;
    }
    const struct hn_result *shown = view.has_scenario ? &res[0] : &res[1];
    if (st->xlsx) {
        hn_reply_xlsx(r, &view, shown);
        free(res);
        return;
    }
    if (st->csv) {
        struct evbuffer *b = evbuffer_new();
        if (!b || high_needs_csv(b, shown) != 0) {
            if (b)
                evbuffer_free(b);
            free(res);
            http_reply_oom(r);
            return;
        }
        free(res);
        char disp[96];
        snprintf(disp, sizeof disp, "attachment; filename=\"high-needs-%s%s%s.csv\"", view.code,
                 st->scenario[0] ? "-scenario-" : "", st->scenario);
        http_add_header(r, "Content-Disposition", disp);
        http_reply_buffer(r, 200, "text/csv; charset=utf-8", b);
        evbuffer_free(b);
        return;
    }
    json_t *out = high_needs_json(&view, &in, view.has_scenario ? &lv : &unmit_lv, shown,
                                  view.has_scenario ? &res[1] : NULL);
    free(res);
    if (!out) {
        http_reply_oom(r);
        return;
    }
    if (view.own || view.has_scenario)
        http_add_header(r, "Cache-Control", "private, no-store");
    http_reply_json(r, 200, out);
}

static void trajectory_query(struct request *r, const struct auth_caller *caller)
{
    struct hn_state *st = r->state;
    st->anonymous = caller == NULL;
    if (caller)
        snprintf(st->who, sizeof st->who, "%s", caller->admin ? "*" : caller->authority);
    const char *params[3] = {http_param(r, 0), st->who, st->scenario[0] ? st->scenario : NULL};
    request_query(r, HIGH_NEEDS_INPUTS_SQL, 3, params, trajectory_loaded);
}

void route_high_needs(struct request *r)
{
    const char *fmt = http_query(r, "format"), *sc = http_query(r, "scenario");
    if (fmt && strcmp(fmt, "csv") != 0 && strcmp(fmt, "json") != 0 && strcmp(fmt, "xlsx") != 0) {
        http_reply_error(r, 400, "bad_parameter", "format must be json, csv or xlsx",
                         one_detail("format", "json|csv|xlsx", "format must be json, csv or xlsx"));
        return;
    }
    if (sc && !id_ok(sc)) {
        http_reply_error(r, 400, "bad_parameter", "scenario must be a scenario id (a whole number)",
                         one_detail("scenario", "id", "scenario must be a positive whole number"));
        return;
    }
    struct hn_state *st = state_new(r);
    if (!st)
        return;
    st->xlsx = xlsx_requested(fmt, http_header(r, "Accept"));
    st->csv = fmt && strcmp(fmt, "csv") == 0;
    if (sc)
        snprintf(st->scenario, sizeof st->scenario, "%s", sc);
    /* ROUTE_TOKEN_OPTIONAL: the dispatcher resolved any token sent */
    trajectory_query(r, r->caller.kind == CALLER_ANONYMOUS ? NULL : &r->caller);
}

/* ---- scenarios ----------------------------------------------------------- */

static void scenario_saved(const struct db_reply *reply, void *arg);
static int body_validate(struct hn_state *st, json_t *details);

static void authority_resolved(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct hn_state *st = r->state;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    if (PQntuples(reply->res) < 1) {
        http_reply_error(r, 404, "not_found", "no such authority", NULL);
        return;
    }
    snprintf(st->code, sizeof st->code, "%s", PQgetvalue(reply->res, 0, 0));
    if (!auth_may_act_for(&st->caller, st->code)) {
        auth_reply_forbidden(r, st->code);
        return;
    }
    if (evhttp_request_get_command(r->req) == EVHTTP_REQ_POST) {
        json_t *details = json_array();
        int n = body_validate(st, details);
        if (n) {
            char m[96];
            snprintf(m, sizeof m, "the scenario has %d problem%s; nothing was stored", n,
                     n == 1 ? "" : "s");
            http_reply_error(r, 422, "validation_failed", m, details);
            return;
        }
        json_decref(details);
        /* save: the next version under the name */
        char token[24];
        snprintf(token, sizeof token, "%lld", st->caller.token_id);
        char *levers = json_dumps(st->levers, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
        if (!levers) {
            http_reply_oom(r);
            return;
        }
        const char *params[5] = {st->code, st->name, levers, st->shared ? "true" : "false", token};
        int rc = db_pool_query(r->app->pool,
                               "SELECT hn_scenario_save($1, $2, $3::jsonb, $4::boolean, $5::bigint)",
                               5, params, scenario_saved, r);
        free(levers);
        if (rc != 0)
            http_reply_oom(r);
        return;
    }
    /* route_sql_json keeps a state of its own: this one ends here (the
     * parameters are copied) */
    char code[16];
    memcpy(code, st->code, sizeof code);
    r->state_free(r->state);
    r->state = NULL;
    r->state_free = NULL;
    const char *id = http_param(r, 1);
    if (id) {
        const char *params[2] = {code, id};
        route_sql_json(r,
                       "SELECT json_build_object('id', id, 'authority', authority, 'name', name,"
                       " 'version', version, 'levers', levers, 'shared', shared, 'created_at',"
                       " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                       " 'trajectory', '/api/v1/authorities/' || authority || '/high-needs?scenario=' || id)"
                       " FROM hn_scenarios WHERE authority = $1 AND id = $2::bigint",
                       2, params, "no such scenario for this authority");
        return;
    }
    const char *params[1] = {code};
    route_sql_json(r,
                   "SELECT json_build_object('authority', $1::text, 'scenarios', coalesce(json_agg("
                   " json_build_object('id', id, 'name', name, 'version', version, 'levers', levers,"
                   " 'shared', shared, 'created_at',"
                   " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                   " 'trajectory', '/api/v1/authorities/' || authority || '/high-needs?scenario=' || id)"
                   " ORDER BY id DESC), '[]'))"
                   " FROM hn_scenarios WHERE authority = $1",
                   1, params, "no such authority");
}

static void scenario_saved(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    json_error_t e;
    json_t *doc = json_loads(PQgetvalue(reply->res, 0, 0), 0, &e);
    if (!doc) {
        http_reply_error(r, 500, "internal_error", "unreadable result", NULL);
        return;
    }
    char loc[96];
    long long id = (long long)json_integer_value(json_object_get(doc, "id"));
    snprintf(loc, sizeof loc, "/api/v1/authorities/%s/scenarios/%lld",
             json_string_value(json_object_get(doc, "authority")), id);
    http_add_header(r, "Location", loc);
    char traj[120];
    snprintf(traj, sizeof traj, "/api/v1/authorities/%s/high-needs?scenario=%lld",
             json_string_value(json_object_get(doc, "authority")), id);
    json_object_set_new(doc, "trajectory", json_string(traj));
    http_reply_json(r, 201, doc);
}

static void resolve_authority(struct request *r)
{
    const char *params[1] = {http_param(r, 0)};
    if (db_pool_query(r->app->pool,
                      "SELECT new_la_code FROM authorities WHERE new_la_code = $1 OR old_la_code = $1"
                      " ORDER BY valid_to DESC NULLS FIRST LIMIT 1",
                      1, params, authority_resolved, r) != 0)
        http_reply_oom(r);
}

/* The body of a save: {"name", "levers", "shared"}; every problem at once. */
static int body_validate(struct hn_state *st, json_t *details)
{
    const char *key;
    json_t *val;
    json_object_foreach(st->body, key, val) {
        if (strcmp(key, "name") != 0 && strcmp(key, "levers") != 0 && strcmp(key, "shared") != 0) {
            char f[80], m[160];
            snprintf(f, sizeof f, "%.60s", key);
            snprintf(m, sizeof m, "unknown field \"%.60s\" (a scenario has name, levers, shared)", key);
            json_array_append_new(details, json_pack("{s:s, s:s, s:s}", "field", f, "rule",
                                                     "unknown_field", "message", m));
        }
    }
    const char *name = json_string_value(json_object_get(st->body, "name"));
    size_t nl = name ? strlen(name) : 0;
    int ok = nl >= 1 && nl <= 120;
    for (size_t i = 0; ok && i < nl; i++)
        ok = (unsigned char)name[i] >= 32 && name[i] != 127;
    if (!ok)
        json_array_append_new(details, json_pack("{s:s, s:s, s:s}", "field", "name", "rule", "name",
                                                 "message", "name is required: 1 to 120 characters, "
                                                 "no control characters"));
    else
        memcpy(st->name, name, nl + 1);
    json_t *sh = json_object_get(st->body, "shared");
    if (sh && !json_is_boolean(sh))
        json_array_append_new(details, json_pack("{s:s, s:s, s:s}", "field", "shared", "rule",
                                                 "boolean", "message", "shared must be true or false"));
    st->shared = json_is_true(sh);
    struct hn_levers lv;
    if (high_needs_levers_parse(json_object_get(st->body, "levers"), &lv, details) == 0)
        st->levers = high_needs_levers_json(&lv);
    return (int)json_array_size(details);
}

static void scenarios_authorised(struct request *r, const struct auth_caller *caller)
{
    struct hn_state *st = state_new(r);
    if (!st)
        return;
    st->caller = *caller;
    if (evhttp_request_get_command(r->req) == EVHTTP_REQ_POST) {
        size_t len = 0;
        const char *body = http_body(r, &len);
        json_error_t e;
        st->body = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &e);
        if (!st->body || !json_is_object(st->body)) {
            char m[240];
            snprintf(m, sizeof m, "the body is not a JSON object: %s", st->body ? "not an object" : e.text);
            http_reply_error(r, 400, "invalid_json", m, one_detail("body", "json", m));
            return;
        }
    }
    resolve_authority(r);
}

void route_scenarios(struct request *r)
{
    const char *id = http_param(r, 1);
    if (id && !id_ok(id)) {
        http_reply_error(r, 404, "not_found", "no such scenario for this authority", NULL);
        return;
    }
    scenarios_authorised(r, &r->caller);   /* ROUTE_TOKEN_REQUIRED */
}
