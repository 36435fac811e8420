/*
 * Quarterly submissions:
 *   POST /api/v1/submissions              store a new version (JSON or CSV)
 *   GET  /api/v1/submissions?authority=C  every version, newest first
 *   GET  /api/v1/submissions/{id}         one version with current and derived figures
 * All three need a bearer token: the authority's own or an admin's.
 *
 * POST runs: the caller (the dispatcher, ROUTE_TOKEN_REQUIRED) -> content type -> the metric
 * catalogue (loaded once) -> pure validation (server/submit.c) -> for an
 * admin, whether the authority exists (one query) -> submit_figures() (one
 * statement, one transaction).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"
#include "auth.h"
#include "clock.h"
#include "codes.h"
#include "db.h"
#include "log.h"
#include "routes.h"
#include "query_rules.h"
#include "submit.h"

/* ------------------------------------------------- the metric catalogue */

typedef void (*next_fn)(struct request *r);

struct catalogue_pending {
    struct request *r;
    next_fn next;
    unsigned long at;       /* app->catalogue_changes when the query was sent */
};

static void catalogue_loaded(const struct db_reply *reply, void *arg)
{
    struct catalogue_pending *p = arg;
    struct request *r = p->r;
    next_fn next = p->next;
    unsigned long at = p->at;
    free(p);
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    struct app *app = r->app;
    /* Another request may have loaded it (or a newer one) meanwhile. */
    if (!app->catalogue || app->catalogue_loaded_at < at) {
        struct submit_catalogue *cat = calloc(1, sizeof *cat);
        if (!cat) {
            http_reply_oom(r);
            return;
        }
        for (int i = 0; i < PQntuples(reply->res); i++) {
            enum submit_unit unit;
            if (submit_unit_parse(PQgetvalue(reply->res, i, 1), &unit) != 0 ||
                submit_catalogue_add(cat, PQgetvalue(reply->res, i, 0), unit,
                                     strcmp(PQgetvalue(reply->res, i, 2), "t") == 0,
                                     strcmp(PQgetvalue(reply->res, i, 3), "t") == 0) != 0) {
                log_msg(LOG_ERROR, r->id, "catalogue: cannot load metric %s",
                        PQgetvalue(reply->res, i, 0));
                submit_catalogue_clear(cat);
                free(cat);
                http_reply_error(r, 500, "internal_error", "the metric catalogue is unusable", NULL);
                return;
            }
        }
        /* Nothing keeps the old one across the loop (every user reads
         * app->catalogue when it needs it), so it goes now. */
        submissions_catalogue_free(app);
        app->catalogue = cat;
        app->catalogue_loaded_at = at;
        log_info("catalogue: %zu metrics loaded", cat->n);
    }
    next(r);
}

/* The catalogue is read on first use (the database may be down when the
 * server starts) and kept until a change notice says the metrics table
 * changed (or the listener was remade): then read again on next use. */
void submissions_catalogue_ensure(struct request *r, void (*next)(struct request *r))
{
    if (r->app->catalogue && r->app->catalogue_loaded_at == r->app->catalogue_changes) {
        next(r);
        return;
    }
    struct catalogue_pending *p = calloc(1, sizeof *p);
    if (!p) {
        http_reply_oom(r);
        return;
    }
    p->r = r;
    p->next = next;
    p->at = r->app->catalogue_changes;
    if (db_pool_query(r->app->pool,
                      "SELECT id, unit, kind = 'derived', submittable FROM metrics ORDER BY sort_order",
                      0, NULL, catalogue_loaded, p) != 0) {
        free(p);
        http_reply_oom(r);
    }
}

void submissions_catalogue_free(struct app *app)
{
    if (app->catalogue) {
        submit_catalogue_clear(app->catalogue);
        free(app->catalogue);
        app->catalogue = NULL;
    }
}

/* ------------------------------------------------------------------ POST */

struct post_state {
    struct auth_caller caller;
    int csv;
    struct submit_doc doc;
    json_t *details;
    char idem[201];
    int has_idem;
};

static void post_state_free(void *arg)
{
    struct post_state *st = arg;
    submit_doc_clear(&st->doc);
    json_decref(st->details);
    free(st);
}

static void post_stored(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    if (reply->error) {
        if (reply->sqlstate && strcmp(reply->sqlstate, "SBK01") == 0) {
            json_t *d = json_array();
            submit_detail(d, "Idempotency-Key", "idempotency_key_reused",
                          "this Idempotency-Key was already used for a different submission; "
                          "use a new key for new content");
            http_reply_error(r, 422, "idempotency_key_reused",
                             "the Idempotency-Key was already used with different content", d);
            return;
        }
        if (reply->sqlstate && strcmp(reply->sqlstate, "23503") == 0) {
            json_t *d = json_array();
            submit_detail(d, "authority", "unknown_authority", "the authority is not registered");
            http_reply_error(r, 422, "validation_failed", "nothing was stored", d);
            return;
        }
        http_reply_db_error(r, reply);
        return;
    }
    json_error_t e;
    json_t *doc = json_loads(PQgetvalue(reply->res, 0, 0), 0, &e);
    if (!doc) {
        http_reply_error(r, 500, "internal_error", "unreadable result", NULL);
        return;
    }
    int replayed = json_is_true(json_object_get(doc, "replayed"));
    char loc[64];
    snprintf(loc, sizeof loc, "/api/v1/submissions/%lld",
             (long long)json_integer_value(json_object_get(doc, "id")));
    http_add_header(r, "Location", loc);
    if (replayed)
        http_add_header(r, "Idempotent-Replayed", "true");
    http_reply_json(r, replayed ? 200 : 201, doc);
}

/* The queries (server/query_rules.c) are stored with the version,
 * unexplained: the approver sees them (docs/submissions.md). */
static void post_store(struct request *r, PGresult *res)
{
    struct post_state *st = r->state;
    json_error_t jerr;
    json_t *c = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
    json_t *queries = json_array();
    struct query_context ctx = {json_object_get(c, "prev"), json_object_get(c, "year_ago"),
                                json_object_get(c, "published")};
    char token_id[24], *figures = NULL, *qtext = NULL;
    if (!c || !queries ||
        query_rules_check(r->app->catalogue, st->doc.figures, st->doc.withdraw, &ctx, queries) < 0 ||
        !(qtext = json_dumps(queries, JSON_COMPACT)) ||
        !(figures = json_dumps(st->doc.figures, JSON_COMPACT | JSON_SORT_KEYS |
                                                    JSON_REAL_PRECISION(15)))) {
        json_decref(c);
        json_decref(queries);
        free(qtext);
        http_reply_oom(r);
        return;
    }
    json_decref(c);
    json_decref(queries);
    snprintf(token_id, sizeof token_id, "%lld", st->caller.token_id);
    char *withdraw = st->doc.withdraw ? json_dumps(st->doc.withdraw, JSON_COMPACT) : strdup("[]");
    const char *params[9] = {st->doc.authority, st->doc.period, figures, token_id,
                             st->has_idem ? st->idem : NULL,
                             st->csv ? "text/csv" : "application/json", st->doc.notes, qtext,
                             withdraw};
    int rc = !withdraw ? -1
           : db_pool_write(r->app->pool,
                           "SELECT submit_return($1, $2, $3::jsonb, $9::jsonb, $4::bigint, NULL, $5,"
                           " $6, $7, $8::jsonb)", 9, params, post_stored, r);
    free(withdraw);
    free(figures);
    free(qtext);
    if (rc != 0)
        http_reply_oom(r);
}

static void post_decide(struct request *r)
{
    struct post_state *st = r->state;
    size_t n = json_array_size(st->details);
    if (n) {
        char msg[128];
        snprintf(msg, sizeof msg, "the submission has %zu problem%s; nothing was stored", n,
                 n == 1 ? "" : "s");
        json_t *details = st->details;
        st->details = NULL;
        http_reply_error(r, 422, "validation_failed", msg, details);
        return;
    }
    const char *params[2] = {st->doc.authority, st->doc.period};
    request_query(r, "SELECT return_context($1, $2)", 2, params, post_store);
}

static void post_authority_checked(struct request *r, PGresult *res)
{
    struct post_state *st = r->state;
    if (PQntuples(res) == 0)
        submit_detail(st->details, st->csv ? "new_la_code" : "authority", "unknown_authority",
                      "%s is not a registered authority (GET /api/v1/authorities)",
                      st->doc.authority);
    post_decide(r);
}

static void post_checks(struct request *r);
static void post_dfe_resolved(struct request *r, struct pg_result *res);

static void post_validate(struct request *r)
{
    struct post_state *st = r->state;
    struct submit_date today;
    size_t len = 0;
    const char *body = http_body(r, &len);
    clock_utc_date(&today.year, &today.month, &today.day);
    int rc = st->csv ? submit_parse_csv(body, len, r->app->catalogue, &today, &st->doc, st->details)
                     : submit_parse_json(body, len, r->app->catalogue, &today, &st->doc, st->details);
    if (rc == SUBMIT_NOMEM) {
        http_reply_oom(r);
        return;
    }
    if (rc == SUBMIT_MALFORMED) {
        json_t *details = st->details;
        st->details = NULL;
        http_reply_error(r, 400, st->csv ? "invalid_csv" : "invalid_json",
                         st->csv ? "the body is not readable CSV; nothing was stored"
                                 : "the body is not valid JSON; nothing was stored", details);
        return;
    }
    /* A DfE number names the authority as well as its ONS code does. */
    if (code_is_dfe_authority(st->doc.authority)) {
        const char *params[1] = {st->doc.authority};
        request_query(r, "SELECT new_la_code FROM authorities WHERE old_la_code = $1", 1, params,
                      post_dfe_resolved);
        return;
    }
    post_checks(r);
}

static void post_dfe_resolved(struct request *r, struct pg_result *res)
{
    struct post_state *st = r->state;
    if (PQntuples(res) != 1) {
        json_t *d = json_array();
        submit_detail(d, "authority", "unknown_authority",
                      "%s is not the DfE number of a registered authority (GET /api/v1/authorities)",
                      st->doc.authority);
        http_reply_error(r, 422, "validation_failed", "nothing was stored", d);
        return;
    }
    snprintf(st->doc.authority, sizeof st->doc.authority, "%s", PQgetvalue(res, 0, 0));
    post_checks(r);
}

/* After the authority is known as an ONS code. */
static void post_checks(struct request *r)
{
    struct post_state *st = r->state;
    /* A council token names its own authority or is refused outright,
     * before anything about the content is disclosed. */
    if (st->doc.authority[0] && !auth_may_act_for(&st->caller, st->doc.authority)) {
        auth_reply_forbidden(r, st->doc.authority);
        return;
    }
    const char *key = http_header(r, "Idempotency-Key");
    if (key) {
        size_t kl = strlen(key);
        int ok = kl >= 1 && kl <= 200;
        for (size_t i = 0; ok && i < kl; i++)
            ok = key[i] > 32 && key[i] < 127;
        if (ok) {
            memcpy(st->idem, key, kl + 1);
            st->has_idem = 1;
        } else {
            submit_detail(st->details, "Idempotency-Key", "header",
                          "the Idempotency-Key header must be 1 to 200 visible ASCII characters");
        }
    }
    if (st->caller.admin && st->doc.authority[0]) {
        const char *params[1] = {st->doc.authority};
        request_query(r, "SELECT 1 FROM authorities WHERE new_la_code = $1", 1,
                          params, post_authority_checked);
        return;
    }
    post_decide(r);
}

/* The media type of Content-Type, without parameters; charset must be
 * UTF-8 when given. */
static int content_kind(const char *ct, int *csv)
{
    if (!ct)
        return -1;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        *csv = 0;
    else if (n == 8 && strncasecmp(ct, "text/csv", 8) == 0)
        *csv = 1;
    else
        return -1;
    const char *cs = strcasestr(ct + n, "charset=");
    if (cs) {
        cs += 8;
        if (*cs == '"')
            cs++;
        if (strncasecmp(cs, "utf-8", 5) != 0 && strncasecmp(cs, "utf8", 4) != 0)
            return -1;
    }
    return 0;
}

static void post_authorised(struct request *r, const struct auth_caller *caller)
{
    struct post_state *st = calloc(1, sizeof *st);
    if (!st || !(st->details = json_array())) {
        free(st);
        http_reply_oom(r);
        return;
    }
    st->caller = *caller;
    r->state = st;
    r->state_free = post_state_free;
    if (content_kind(http_header(r, "Content-Type"), &st->csv) != 0) {
        http_reply_error(r, 415, "unsupported_media_type",
                         "send the submission as Content-Type: application/json or text/csv "
                         "(UTF-8)", NULL);
        return;
    }
    submissions_catalogue_ensure(r, post_validate);
}

/* ROUTE_TOKEN_REQUIRED: the dispatcher resolved r->caller. */
void route_submission_create(struct request *r)
{
    post_authorised(r, &r->caller);
}

/* ------------------------------------------------------------------- GET */

static void list_authorised(struct request *r, const struct auth_caller *caller)
{
    const char *authority = http_query(r, "authority");
    if (!authority || !*authority) {
        if (caller->admin) {
            json_t *d = json_array();
            submit_detail(d, "authority", "required",
                          "an admin token must name the authority: ?authority=CODE");
            http_reply_error(r, 400, "bad_request", "the authority parameter is required", d);
            return;
        }
        authority = caller->authority;
    }
    if (!auth_may_act_for(caller, authority)) {
        auth_reply_forbidden(r, authority);
        return;
    }
    const char *params[1] = {authority};
    route_sql_json(r,
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM authorities WHERE new_la_code = $1) THEN"
        " jsonb_build_object('authority', $1::text, 'submissions', coalesce((SELECT jsonb_agg("
        "   submission_json(s.id) || jsonb_build_object('changed', submission_changes(s.id),"
        "   'metrics', (SELECT coalesce(jsonb_agg(k ORDER BY k), '[]')"
        "               FROM jsonb_object_keys(s.figures) k))"
        "   ORDER BY s.id DESC) FROM submissions s WHERE s.authority = $1), '[]')) END",
        1, params, "unknown authority");
}

void route_submissions_list(struct request *r)
{
    list_authorised(r, &r->caller);
}

struct one_state {
    struct auth_caller caller;
};

static void one_loaded(struct request *r, PGresult *res)
{
    struct one_state *st = r->state;
    if (PQntuples(res) != 1) {
        http_reply_error(r, 404, "not_found", "no submission with this id", NULL);
        return;
    }
    if (!auth_may_act_for(&st->caller, PQgetvalue(res, 0, 0))) {
        auth_reply_forbidden(r, PQgetvalue(res, 0, 0));
        return;
    }
    const char *doc = PQgetvalue(res, 0, 1);
    size_t len = (size_t)PQgetlength(res, 0, 1);
    http_reply_text(r, 200, "application/json", doc, len);
}

static void one_authorised(struct request *r, const struct auth_caller *caller)
{
    const char *id = http_param(r, 0);
    if (!code_is_row_id(id)) {
        http_reply_error(r, 404, "not_found", "no submission with this id", NULL);
        return;
    }
    struct one_state *st = calloc(1, sizeof *st);
    if (!st) {
        http_reply_oom(r);
        return;
    }
    st->caller = *caller;
    r->state = st;
    r->state_free = free;
    const char *params[1] = {id};
    request_query(r,
                      "SELECT authority, submission_detail(id) FROM submissions WHERE id = $1::bigint",
                      1, params, one_loaded);
}

void route_submission_get(struct request *r)
{
    one_authorised(r, &r->caller);
}
