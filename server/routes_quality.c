/*
 * The import checks' flags for administrators (docs/import.md "Import
 * checks"): GET /api/v1/admin/quality lists every quarantined, released and
 * queried figure; POST /api/v1/admin/quality/{id}/release with {"reason":
 * "..."} puts a quarantined figure back in force, audited.  Admin tokens
 * only (ROUTE_ADMIN in the route table: the dispatcher answers 401/403).
 * The SQL is shared with `sendbench quality` (include/quality.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "codes.h"
#include "db.h"
#include "http.h"
#include "import_quality.h"
#include "quality.h"
#include "routes.h"

struct quality_state {
    char reason[QUALITY_REASON_MAX * 4 + 1];
    char id[24];
};

static json_t *field_error(const char *field, const char *reason)
{
    json_t *d = json_array();
    json_array_append_new(d, json_pack("{s:s, s:s}", "field", field, "reason", reason));
    return d;
}

static json_t *text_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}

static void list_done(struct request *r, PGresult *res)
{
    json_t *flags = json_array();
    json_int_t n[3] = {0, 0, 0};
    for (int i = 0; i < PQntuples(res); i++) {
        const char *st = PQgetvalue(res, i, 1);
        n[strcmp(st, "quarantined") == 0 ? 0 : strcmp(st, "released") == 0 ? 1 : 2]++;
        json_t *f = json_pack(
            "{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:s, s:s}", "id",
            (json_int_t)atoll(PQgetvalue(res, i, 0)), "status", st, "authority",
            PQgetvalue(res, i, 2), "authority_name", PQgetvalue(res, i, 3), "metric",
            PQgetvalue(res, i, 4), "period", PQgetvalue(res, i, 5), "version",
            (json_int_t)atoll(PQgetvalue(res, i, 6)), "rule", PQgetvalue(res, i, 7), "detail",
            PQgetvalue(res, i, 8), "file", PQgetvalue(res, i, 9), "line",
            (json_int_t)atoll(PQgetvalue(res, i, 10)), "source", PQgetvalue(res, i, 11),
            "found_at", PQgetvalue(res, i, 12));
        if (!f)
            continue;
        json_object_set_new(f, "released_at", text_or_null(res, i, 13));
        json_object_set_new(f, "released_by", text_or_null(res, i, 14));
        json_object_set_new(f, "release_reason", text_or_null(res, i, 15));
        json_array_append_new(flags, f);
    }
    json_t *thresholds = json_array();
    for (const struct import_quality_threshold *t = import_quality_thresholds; t->name; t++)
        json_array_append_new(thresholds, json_pack("{s:s, s:f, s:s}", "name", t->name, "value",
                                                    t->value, "meaning", t->meaning));
    json_t *doc = json_pack("{s:o, s:{s:I, s:I, s:I}, s:o}", "flags", flags, "counts",
                            "quarantined", n[0], "released", n[1], "queried", n[2],
                            "thresholds", thresholds);
    if (!doc) {
        http_reply_oom(r);
        return;
    }
    http_reply_json(r, 200, doc);
}

/* ROUTE_ADMIN: the dispatcher resolved an admin caller. */
void route_admin_quality(struct request *r)
{
    http_add_header(r, "Cache-Control", "private, no-store");
    const char *status = http_query(r, "status");
    if (status && strcmp(status, "quarantined") != 0 && strcmp(status, "released") != 0 &&
        strcmp(status, "queried") != 0) {
        http_reply_error(r, 400, "bad_parameter", "status must be quarantined, released or queried",
                         field_error("status", "not one of quarantined, released, queried"));
        return;
    }
    const char *params[1] = {status};
    request_query(r, QUALITY_LIST_SQL, 1, params, list_done);
}

static void release_done(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct quality_state *st = r->state;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    const PGresult *res = reply->res;
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        http_reply_error(r, 404, "not_found", "no import-check flag with this id", NULL);
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "quarantine") != 0) {
        http_reply_error(r, 409, "not_quarantined",
                         "this flag is a query: the figure is in force already", NULL);
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
        http_reply_error(r, 409, "already_released", "this flag was released before", NULL);
        return;
    }
    json_t *doc = json_pack("{s:{s:I, s:s, s:s}}", "released", "id",
                            (json_int_t)atoll(st->id), "reason", st->reason, "status", "released");
    if (!doc) {
        http_reply_oom(r);
        return;
    }
    http_reply_json(r, 200, doc);
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* ROUTE_ADMIN: the dispatcher resolved an admin caller. */
void route_admin_quality_release(struct request *r)
{
    http_add_header(r, "Cache-Control", "private, no-store");
    const struct auth_caller *caller = &r->caller;
    const char *id = http_param(r, 0);
    if (!code_is_row_id(id)) {
        http_reply_error(r, 404, "not_found", "no import-check flag with this id", NULL);
        return;
    }
    size_t len = 0;
    const char *body = http_body(r, &len);
    json_error_t e;
    json_t *doc = body && len ? json_loadb(body, len, 0, &e) : NULL;
    json_t *reason = json_is_object(doc) ? json_object_get(doc, "reason") : NULL;
    const char *why = !doc                    ? "the body is not a JSON object with a reason"
                      : !json_is_object(doc)  ? "the body is not a JSON object with a reason"
                      : !reason               ? "missing"
                      : !json_is_string(reason) ? "not a string"
                      : blank(json_string_value(reason)) ? "empty"
                      : json_string_length(reason) > QUALITY_REASON_MAX ? "longer than 2000 characters"
                      : NULL;
    if (why) {
        json_decref(doc);
        http_reply_error(r, 400, "bad_request",
                         "a release needs a reason: {\"reason\": \"...\"}; nothing was changed",
                         field_error("reason", why));
        return;
    }
    struct quality_state *st = calloc(1, sizeof *st);
    if (!st) {
        json_decref(doc);
        http_reply_oom(r);
        return;
    }
    snprintf(st->reason, sizeof st->reason, "%s", json_string_value(reason));
    snprintf(st->id, sizeof st->id, "%s", id);
    json_decref(doc);
    r->state = st;
    r->state_free = free;
    /* audit_log's actor: the token, or a signed-in person (no token id). */
    char actor[40], token[24];
    if (caller->token_id)
        snprintf(actor, sizeof actor, "token:%lld", caller->token_id);
    else
        snprintf(actor, sizeof actor, "user:%lld", caller->user_id);
    snprintf(token, sizeof token, "%lld", caller->token_id);
    const char *params[4] = {st->id, st->reason, actor, caller->token_id ? token : NULL};
    if (db_pool_write(r->app->pool, QUALITY_RELEASE_SQL, 4, params, release_done, r) != 0)
        http_reply_oom(r);
}
