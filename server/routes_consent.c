/*
 * PUT /api/v1/admin/authorities/{code}/consent  {"name": true|false}
 *
 * An administrator records whether an authority's unpublished figures may
 * be shown under its name.  The change goes through set_consent_to_name()
 * (sql/030_consent.sql), as `sendbench consent` does, which audits it with
 * the admin's token; the authorities trigger empties every server's table
 * cache, so no answer computed under the old consent is served after.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "auth.h"
#include "routes.h"

static void consent_error(struct request *r, int status, const char *code, const char *field,
                          const char *rule, const char *message)
{
    json_t *d = json_array();
    if (d && field)
        json_array_append_new(d, json_pack("{s:s, s:s, s:s}", "field", field, "rule", rule,
                                           "message", message));
    http_reply_error(r, status, code, message, d);
}

/* The route is ROUTE_ADMIN: the dispatcher answered 401/403 for anyone
 * else; the check stays as a guard. */
static void consent_authorised(struct request *r, const struct auth_caller *caller)
{
    if (!caller->admin) {
        consent_error(r, 403, "forbidden", NULL, NULL,
                      "only an administrator may record consent to be named");
        return;
    }
    const char *code = http_param(r, 0);
    if (!code || strlen(code) > 16) {
        consent_error(r, 404, "not_found", "code", "unknown", "no such authority");
        return;
    }
    size_t len = 0;
    const char *body = http_body(r, &len);
    json_error_t e;
    json_t *doc = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &e) : NULL;
    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        consent_error(r, 400, "bad_request", "body", "not_json",
                      "send a JSON object: {\"name\": true} or {\"name\": false}");
        return;
    }
    json_t *name = json_object_get(doc, "name");
    const char *unknown = NULL;
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v) {
        if (strcmp(k, "name") != 0)
            unknown = k;
    }
    if (!json_is_boolean(name) || unknown) {
        char msg[160];
        if (unknown)
            snprintf(msg, sizeof msg, "unknown field \"%.60s\": the body has only \"name\"",
                     unknown);
        json_decref(doc);
        if (unknown)
            consent_error(r, 422, "validation_failed", "body", "unknown_field", msg);
        else
            consent_error(r, 422, "validation_failed", "name", "type",
                          "name must be true (may be named beside its unpublished figures) "
                          "or false");
        return;
    }
    char token[24], actor[40];
    snprintf(token, sizeof token, "%lld", caller->token_id);
    snprintf(actor, sizeof actor, "token:%lld", caller->token_id);
    const char *params[4] = {code, json_is_true(name) ? "true" : "false", actor, token};
    json_decref(doc);
    route_sql_json(r,
        "SELECT json_build_object('authority', code, 'name', name, 'consent_to_name',"
        " consent_to_name, 'changed', changed)"
        " FROM set_consent_to_name($1, $2::boolean, $3, $4::bigint)",
        4, params, "no such authority: give its ONS code (E06000059) or DfE number (838)");
}

void route_admin_consent(struct request *r)
{
    http_add_header(r, "Cache-Control", "private, no-store");
    consent_authorised(r, &r->caller);
}
