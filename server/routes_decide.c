/*
 * POST /api/v1/submissions/{id}/approve and .../reject ({"reason": "..."}):
 * an administrator's token decides for any authority, never on a version it
 * sent itself; a council token cannot (a token is not a person, and
 * sign-off is a person's act: approvers use the form, server/routes_returns.c).
 * Both go through submission_decide (sql/041, sql/100), as the form does.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "codes.h"
#include "db.h"
#include "routes.h"
#include "submit.h"

struct decide_state {
    char id[24];
    int approve;
    char *reason;
};

static void decide_state_free(void *arg)
{
    struct decide_state *st = arg;
    free(st->reason);
    free(st);
}

static void api_decided(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    if (reply->error) {
        const char *ss = reply->sqlstate ? reply->sqlstate : "";
        if (strcmp(ss, "SBK20") == 0 || strcmp(ss, "SBK21") == 0) {
            http_reply_error(r, 409, "not_awaiting_approval",
                             strcmp(ss, "SBK21") == 0 ? "a newer version of this quarter exists"
                                                      : "this version is not awaiting approval",
                             NULL);
            return;
        }
        if (strcmp(ss, "SBK22") == 0) {
            http_reply_error(r, 403, "own_submission",
                             "the token that sent a version cannot decide it", NULL);
            return;
        }
        http_reply_db_error(r, reply);
        return;
    }
    if (PQntuples(reply->res) != 1 || PQgetisnull(reply->res, 0, 0)) {
        http_reply_error(r, 404, "not_found", "no submission with this id", NULL);
        return;
    }
    http_reply_text(r, 200, "application/json", PQgetvalue(reply->res, 0, 0),
                    (size_t)PQgetlength(reply->res, 0, 0));
}

static void api_decide_authorised(struct request *r, const struct auth_caller *caller)
{
    struct decide_state *st = r->state;
    if (!caller->admin) {
        http_reply_error(r, 403, "forbidden",
                         "a council token cannot approve or reject: an approver signs off in the "
                         "browser (/returns), or an administrator's token here", NULL);
        return;
    }
    size_t len = 0;
    const char *body = http_body(r, &len);
    if (len) {
        json_error_t e;
        json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
        json_t *reason = doc ? json_object_get(doc, "reason") : NULL;
        if (!json_is_object(doc) || (reason && (!json_is_string(reason) ||
                                                json_string_length(reason) > 2000))) {
            json_decref(doc);
            json_t *d = json_array();
            submit_detail(d, "reason", "text", "the body is {\"reason\": \"text up to 2000 characters\"}");
            http_reply_error(r, 422, "validation_failed", "the body is not valid", d);
            return;
        }
        if (reason && !(st->reason = strdup(json_string_value(reason)))) {
            json_decref(doc);
            http_reply_oom(r);
            return;
        }
        json_decref(doc);
    }
    if (!st->approve && (!st->reason || !*st->reason)) {
        json_t *d = json_array();
        submit_detail(d, "reason", "required", "a rejection gives its reason: {\"reason\": \"...\"}");
        http_reply_error(r, 422, "validation_failed", "the reason is required", d);
        return;
    }
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", caller->token_id);
    const char *params[4] = {st->id, st->approve ? "approve" : "reject", tid, st->reason};
    if (db_pool_write(r->app->pool,
                      "SELECT submission_decide($1::bigint, $2, NULL, $3::bigint, $4)", 4, params,
                      api_decided, r) != 0)
        http_reply_oom(r);
}

static void api_decide(struct request *r, int approve)
{
    http_add_header(r, "Cache-Control", "no-store");
    const char *id = http_param(r, 0);
    if (!code_is_row_id(id)) {
        http_reply_error(r, 404, "not_found", "no submission with this id", NULL);
        return;
    }
    struct decide_state *st = calloc(1, sizeof *st);
    if (!st) {
        http_reply_oom(r);
        return;
    }
    snprintf(st->id, sizeof st->id, "%s", id);
    st->approve = approve;
    r->state = st;
    r->state_free = decide_state_free;
    /* ROUTE_TOKEN_REQUIRED: the dispatcher resolved r->caller. */
    api_decide_authorised(r, &r->caller);
}

void route_submission_approve(struct request *r)
{
    api_decide(r, 1);
}

void route_submission_reject(struct request *r)
{
    api_decide(r, 0);
}
