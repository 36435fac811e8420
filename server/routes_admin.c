/*
 * The administrators' pages (signed-in people with the admin role):
 *   GET  /admin              people, API tokens, the collection setting
 *   POST /admin              action = create_user | disable_user | link_user |
 *                            issue_token | revoke_token | due_weeks |
 *                            consent
 *   GET  /admin/audit        the audit log (?format=csv or xlsx: all of it)
 *   GET  /admin/collection   the current quarter's state for every
 *                            authority (?period=, ?format=csv or xlsx)
 * Every POST carries the session's CSRF token.  Secrets (a set-up link, a
 * token) are shown once, in the answer to the POST that made them, and
 * only their SHA-256 is stored.  Every change is audited by the SQL that
 * makes it.
 */
#include <event2/buffer.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "codes.h"
#include "db.h"
#include "download.h"
#include "form.h"
#include "html.h"
#include "log.h"
#include "period.h"
#include "portal.h"
#include "routes.h"
#include "sessions.h"
#include "sheet.h"
#include "xlsx.h"
#include "users.h"
#include "web.h"

/* The About sheet's attribution of the administrators' workbooks. */
#define ADMIN_ATTRIBUTION \
    "Administrative records of this sendbench installation, not published statistics: for " \
    "its administrators. Authority names and codes: " ATTRIBUTION_OGL "."

struct admin_state {
    struct session_user u;
    struct evkeyvalq fields;
    char secret[400];                  /* shown once in the answer: a token or a link */
    char what[200];                    /* what the secret is */
    char message[300];
    int csv;
    int xlsx;                          /* the CSV's rows as a workbook */
    char action[24];
    void (*next)(struct request *r);
};

static void admin_state_free(void *arg)
{
    struct admin_state *st = arg;
    evhttp_clear_headers(&st->fields);
    OPENSSL_cleanse(st->secret, sizeof st->secret);
    free(st);
}

static void admin_resolved(struct request *r, const struct session_user *u)
{
    struct admin_state *st = r->state;
    if (!u) {
        portal_need_sign_in(r);
        return;
    }
    if (u->role != ROLE_ADMIN) {
        portal_refuse(r, 403, "forbidden", "Only administrators can use these pages.");
        return;
    }
    st->u = *u;
    st->next(r);
}

static void admin_start(struct request *r, void (*next)(struct request *r))
{
    struct admin_state *st = calloc(1, sizeof *st);
    if (!st) {
        http_reply_oom(r);
        return;
    }
    form_init(&st->fields);
    st->next = next;
    r->state = st;
    r->state_free = admin_state_free;
    const char *format = http_query(r, "format");
    st->csv = format && strcmp(format, "csv") == 0;
    st->xlsx = !st->csv && xlsx_requested(format, http_header(r, "Accept"));
    session_resolve(r, admin_resolved);
}

/* ----------------------------------------------------------- /admin */

static int cell(struct evbuffer *b, const char *s)
{
    return web_put(b, "<td>") != 0 || html_escape(b, s) != 0 || web_put(b, "</td>") != 0 ? -1 : 0;
}

static int button_form(struct evbuffer *b, const struct admin_state *st, const char *action,
                       const char *id, const char *label, const char *what)
{
    return web_put(b, "<form method=\"post\" action=\"/admin\" class=\"inline\">") != 0 ||
                   form_csrf_field(b, st->u.csrf) != 0 ||
                   web_put(b, "<input type=\"hidden\" name=\"action\" value=\"%s\">"
                              "<input type=\"hidden\" name=\"id\" value=\"%s\">"
                              "<button type=\"submit\" class=\"secondary\" aria-label=\"%s ",
                           action, id, label) != 0 ||
                   html_escape(b, what) != 0 || web_put(b, "\">%s</button></form>", label) != 0
               ? -1 : 0;
}

/* Consent to be named (sql/030): the authorities that have given it, and
 * one form that records yes or no for any authority through
 * set_consent_to_name(), as `sendbench consent` and the admin API do. */
static int consent_section(struct evbuffer *b, const struct admin_state *st, json_t *named)
{
    if (web_put(b, "<h2>Consent to be named</h2><p>An authority that consents may be shown under "
                   "its name beside its unpublished (submitted) figures; without consent they "
                   "count only in aggregates the disclosure rules allow.</p>"
                   "<table id=\"consent\"><caption>Authorities that consent to be named</caption>"
                   "<thead><tr><th scope=\"col\">Code</th><th scope=\"col\">Authority</th>"
                   "</tr></thead><tbody>") != 0)
        return -1;
    size_t i;
    json_t *a;
    json_array_foreach(named, i, a) {
        if (web_put(b, "<tr data-code=\"") != 0 || html_escape(b, web_str(a, "code")) != 0 ||
            web_put(b, "\"><td>") != 0 || html_escape(b, web_str(a, "code")) != 0 ||
            web_put(b, "</td>") != 0 || cell(b, web_str(a, "name")) != 0 || web_put(b, "</tr>") != 0)
            return -1;
    }
    if (json_array_size(named) == 0 &&
        web_put(b, "<tr><td colspan=\"2\">None yet.</td></tr>") != 0)
        return -1;
    return web_put(b, "</tbody></table><form method=\"post\" action=\"/admin\" class=\"stack\">") != 0 ||
                   form_csrf_field(b, st->u.csrf) != 0 ||
                   web_put(b, "<input type=\"hidden\" name=\"action\" value=\"consent\">"
                              "<div class=\"field\"><label for=\"consent-authority\">Authority</label>"
                              "<span class=\"hint\" id=\"consent-authority-hint\">ONS code or DfE "
                              "number</span><input id=\"consent-authority\" name=\"authority\" "
                              "maxlength=\"16\" required aria-describedby=\"consent-authority-hint\">"
                              "</div><div class=\"field\"><label for=\"consent-name\">May be named"
                              "</label><select id=\"consent-name\" name=\"name\"><option value=\"yes\">"
                              "yes</option><option value=\"no\">no</option></select></div>"
                              "<button type=\"submit\">Record consent</button></form>") != 0
               ? -1 : 0;
}

static void admin_page_loaded(struct request *r, struct pg_result *res)
{
    struct admin_state *st = r->state;
    json_error_t jerr;
    json_t *doc = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
    struct evbuffer *b = evbuffer_new();
    int bad = !doc || !b || portal_page_begin(b, "Administration", &st->u) != 0 ||
              web_put(b, "<h1>Administration</h1><p><a href=\"/admin/collection\">Collection "
                         "dashboard</a> · <a href=\"/admin/audit\">Audit log</a></p>") != 0;
    if (!bad && st->message[0])
        bad = web_put(b, "<p class=\"note\" id=\"note\" role=\"status\">") != 0 ||
              html_escape(b, st->message) != 0 || web_put(b, "</p>") != 0;
    if (!bad && st->secret[0])
        bad = web_put(b, "<div class=\"note\" id=\"secret\"><p>") != 0 || html_escape(b, st->what) != 0 ||
              web_put(b, " It is shown only now: copy it.</p><p><code id=\"secret-value\">") != 0 ||
              html_escape(b, st->secret) != 0 || web_put(b, "</code></p></div>") != 0;
    /* People */
    if (!bad)
        bad = web_put(b, "<h2>People</h2><table id=\"users\"><caption>Accounts</caption><thead><tr>"
                         "<th scope=\"col\">Email</th><th scope=\"col\">Role</th>"
                         "<th scope=\"col\">Authority</th><th scope=\"col\">Status</th>"
                         "<th scope=\"col\">Change</th></tr></thead><tbody>") != 0;
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(doc, "users"), i, u) {
        if (bad)
            break;
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)web_num(u, "id"));
        const char *status = web_str(u, "status");
        bad = web_put(b, "<tr data-email=\"") != 0 || html_escape(b, web_str(u, "email")) != 0 ||
              web_put(b, "\"><th scope=\"row\">") != 0 || html_escape(b, web_str(u, "email")) != 0 ||
              web_put(b, "</th>") != 0 || cell(b, web_str(u, "role")) != 0 ||
              cell(b, web_str(u, "authority")) != 0 || cell(b, status) != 0 || web_put(b, "<td>") != 0 ||
              (strcmp(status, "disabled") != 0 &&
               (button_form(b, st, "disable_user", id, "Disable", web_str(u, "email")) != 0 ||
                button_form(b, st, "link_user", id, "New set-up link", web_str(u, "email")) != 0)) ||
              web_put(b, "</td></tr>") != 0;
    }
    if (!bad)
        bad = web_put(b, "</tbody></table><h3>Add a person</h3>"
                         "<form method=\"post\" action=\"/admin\" class=\"stack\">") != 0 ||
              form_csrf_field(b, st->u.csrf) != 0 ||
              web_put(b, "<input type=\"hidden\" name=\"action\" value=\"create_user\">"
                         "<div class=\"field\"><label for=\"new-email\">Email</label>"
                         "<input id=\"new-email\" name=\"email\" type=\"email\" maxlength=\"254\" required></div>"
                         "<div class=\"field\"><label for=\"new-role\">Role</label>"
                         "<select id=\"new-role\" name=\"role\"><option value=\"submitter\">submitter"
                         "</option><option value=\"approver\">approver</option><option value=\"viewer\">"
                         "viewer</option><option value=\"admin\">administrator</option></select></div>"
                         "<div class=\"field\"><label for=\"new-authority\">Authority</label>"
                         "<span class=\"hint\" id=\"new-authority-hint\">ONS code or DfE number; empty for "
                         "an administrator</span><input id=\"new-authority\" name=\"authority\" "
                         "maxlength=\"16\" aria-describedby=\"new-authority-hint\"></div>"
                         "<button type=\"submit\">Create account</button></form>") != 0;
    /* Tokens */
    if (!bad)
        bad = web_put(b, "<h2>API tokens</h2><table id=\"tokens\"><caption>Bearer tokens (only their "
                         "hashes are kept)</caption><thead><tr><th scope=\"col\">Id</th>"
                         "<th scope=\"col\">Role</th><th scope=\"col\">Authority</th>"
                         "<th scope=\"col\">Label</th><th scope=\"col\">Status</th>"
                         "<th scope=\"col\">Change</th></tr></thead><tbody>") != 0;
    json_array_foreach(json_object_get(doc, "tokens"), i, u) {
        if (bad)
            break;
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)web_num(u, "id"));
        const char *status = web_str(u, "status");
        bad = web_put(b, "<tr data-token=\"%s\"><th scope=\"row\">%s</th>", id, id) != 0 ||
              cell(b, web_str(u, "role")) != 0 || cell(b, web_str(u, "authority")) != 0 ||
              cell(b, web_str(u, "label")) != 0 || cell(b, status) != 0 || web_put(b, "<td>") != 0 ||
              (strcmp(status, "active") == 0 && button_form(b, st, "revoke_token", id, "Revoke", id) != 0) ||
              web_put(b, "</td></tr>") != 0;
    }
    if (!bad)
        bad = web_put(b, "</tbody></table><h3>Issue a token</h3>"
                         "<form method=\"post\" action=\"/admin\" class=\"stack\">") != 0 ||
              form_csrf_field(b, st->u.csrf) != 0 ||
              web_put(b, "<input type=\"hidden\" name=\"action\" value=\"issue_token\">"
                         "<div class=\"field\"><label for=\"tok-authority\">Authority</label>"
                         "<span class=\"hint\" id=\"tok-authority-hint\">ONS code or DfE number; empty for "
                         "an administrator's token</span><input id=\"tok-authority\" name=\"authority\" "
                         "maxlength=\"16\" aria-describedby=\"tok-authority-hint\"></div>"
                         "<div class=\"field\"><label for=\"tok-label\">Label</label>"
                         "<input id=\"tok-label\" name=\"label\" maxlength=\"200\"></div>"
                         "<button type=\"submit\">Issue token</button></form>") != 0;
    /* The calendar */
    if (!bad)
        bad = web_put(b, "<h2>Collection calendar</h2><p>A quarter opens the day after it ends and "
                         "is due this many weeks later.</p><form method=\"post\" action=\"/admin\" "
                         "class=\"stack\">") != 0 ||
              form_csrf_field(b, st->u.csrf) != 0 ||
              web_put(b, "<input type=\"hidden\" name=\"action\" value=\"due_weeks\">"
                         "<div class=\"field\"><label for=\"due-weeks\">Weeks from opening to the "
                         "due date</label><input id=\"due-weeks\" name=\"due_weeks\" inputmode=\"numeric\" "
                         "value=\"%d\"></div><button type=\"submit\">Save</button></form>",
                      (int)web_num(doc, "due_weeks")) != 0 ||
              consent_section(b, st, json_object_get(doc, "named")) != 0;
    json_decref(doc);
    portal_end_page(r, 200, b, bad);
}

static void admin_page_load(struct request *r)
{
    request_query(r,
                  "SELECT jsonb_build_object("
                  " 'users', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'email', email,"
                  "   'role', role, 'authority', coalesce(authority, '-'), 'status',"
                  "   CASE WHEN disabled_at IS NOT NULL THEN 'disabled'"
                  "        WHEN password_hash IS NULL THEN 'set-up pending' ELSE 'active' END)"
                  "   ORDER BY id), '[]') FROM users),"
                  " 'tokens', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'role', role,"
                  "   'authority', coalesce(authority, '-'), 'label', coalesce(label, ''), 'status',"
                  "   CASE WHEN revoked_at IS NOT NULL THEN 'revoked'"
                  "        WHEN expires_at <= now() THEN 'expired' ELSE 'active' END) ORDER BY id), '[]')"
                  "   FROM tokens),"
                  " 'due_weeks', (SELECT due_weeks FROM collection_settings),"
                  " 'named', (SELECT coalesce(jsonb_agg(jsonb_build_object('code', new_la_code,"
                  "   'name', name) ORDER BY name), '[]') FROM authorities WHERE consent_to_name))",
                  0, NULL, admin_page_loaded);
}

void route_admin(struct request *r)
{
    admin_start(r, admin_page_load);
}

/* ----------------------------------------------------------- POST /admin */

static void admin_done(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct admin_state *st = r->state;
    if (reply->error) {
        const char *ss = reply->sqlstate ? reply->sqlstate : "";
        OPENSSL_cleanse(st->secret, sizeof st->secret);
        st->secret[0] = '\0';
        if (strcmp(ss, "SBK10") == 0 || strcmp(ss, "23503") == 0)
            snprintf(st->message, sizeof st->message, "Nothing was changed: that authority is not "
                                                      "registered (give its ONS code or DfE number).");
        else if (strcmp(ss, "23505") == 0)
            snprintf(st->message, sizeof st->message, "Nothing was changed: there is already an "
                                                      "account with that email.");
        else {
            http_reply_db_error(r, reply);
            return;
        }
    } else if (PQntuples(reply->res) != 1 || PQgetisnull(reply->res, 0, 0)) {
        OPENSSL_cleanse(st->secret, sizeof st->secret);
        st->secret[0] = '\0';
        snprintf(st->message, sizeof st->message, "%s",
                 strcmp(st->action, "issue_token") == 0 || strcmp(st->action, "consent") == 0
                     ? "Nothing was changed: that authority is not registered (give its ONS code "
                       "or DfE number)."
                     : "Nothing was changed: no such active account or token.");
    }
    admin_page_load(r);
}

static void admin_post_go(struct request *r)
{
    struct admin_state *st = r->state;
    if (form_read(r, &st->fields) != 0 ||
        !session_csrf_ok(st->u.csrf, evhttp_find_header(&st->fields, "csrf"))) {
        portal_refuse(r, 403, "csrf_failed", "This form has expired or did not come from this "
                                             "site, so nothing was done. Reload the page.");
        return;
    }
    const char *action = evhttp_find_header(&st->fields, "action");
    const char *id = evhttp_find_header(&st->fields, "id");
    const char *authority = evhttp_find_header(&st->fields, "authority");
    if (authority && !*authority)
        authority = NULL;
    char actor[32], uid[24], hex[67];
    snprintf(uid, sizeof uid, "%lld", st->u.user_id);
    snprintf(actor, sizeof actor, "user:%lld", st->u.user_id);
    const char *sql = NULL;
    const char *params[6] = {NULL};
    int n = 0;
    char base[200];
    const char *host = http_header(r, "Host");
    snprintf(base, sizeof base, "%s://%s", r->app->ssl_ctx ? "https" : "http",
             host && form_text_ok(host, 0) && !strpbrk(host, "/<>\"' ") ? host : "127.0.0.1");
    if (!action) {
        portal_refuse(r, 400, "bad_action", "The form's action is missing.");
        return;
    }
    snprintf(st->action, sizeof st->action, "%s", action);
    if (strcmp(action, "create_user") == 0 || strcmp(action, "link_user") == 0) {
        char link[AUTH_SECRET_LEN + 1];
        if (users_link_new(link, hex) != 0) {
            http_reply_error(r, 500, "internal_error", "the random generator failed", NULL);
            return;
        }
        snprintf(st->secret, sizeof st->secret, "%s/setup/%s", base, link);
        OPENSSL_cleanse(link, sizeof link);
    }
    if (strcmp(action, "create_user") == 0) {
        const char *email = evhttp_find_header(&st->fields, "email");
        const char *role = evhttp_find_header(&st->fields, "role");
        enum user_role rl = session_role_parse(role);
        if (!email || !users_email_ok(email) || rl == ROLE_NONE ||
            (rl == ROLE_ADMIN) != (authority == NULL)) {
            st->secret[0] = '\0';
            snprintf(st->message, sizeof st->message,
                     "Nothing was changed: give an email address, a role, and an authority for "
                     "every role but administrator (and none for an administrator).");
            admin_page_load(r);
            return;
        }
        snprintf(st->what, sizeof st->what, "Set-up link for %.100s (valid 7 days, works once; "
                                            "send it to them):", email);
        sql = "SELECT user_id FROM user_create($1, $2, $3, $4, $5::bigint, $6::bytea, 7)";
        params[0] = email;
        params[1] = session_role_name(rl);
        params[2] = authority;
        params[3] = actor;
        params[4] = uid;
        params[5] = hex;
        n = 6;
    } else if (strcmp(action, "link_user") == 0) {
        snprintf(st->what, sizeof st->what, "New set-up link for account %.20s (earlier links stop "
                                            "working):", id ? id : "");
        sql = "SELECT user_new_link($1::bigint, $2, $3::bigint, $4::bytea, 7)";
        params[0] = id;
        params[1] = actor;
        params[2] = uid;
        params[3] = hex;
        n = 4;
    } else if (strcmp(action, "disable_user") == 0) {
        snprintf(st->message, sizeof st->message, "Account %.20s disabled; its sessions have ended.",
                 id ? id : "");
        sql = "SELECT nullif(user_disable($1::bigint, $2, $3::bigint), false)";
        params[0] = id;
        params[1] = actor;
        params[2] = uid;
        n = 3;
    } else if (strcmp(action, "issue_token") == 0) {
        unsigned char hash[AUTH_HASH_LEN];
        if (auth_token_new(st->secret, AUTH_TOKEN_LEN + 1, hash) != 0) {
            http_reply_error(r, 500, "internal_error", "the random generator failed", NULL);
            return;
        }
        auth_hash_hex(hash, hex);
        snprintf(st->what, sizeof st->what, "New %s token:", authority ? "council" : "administrator");
        sql = "WITH a AS (SELECT new_la_code FROM authorities WHERE new_la_code = $2 OR old_la_code = $2),"
              " t AS (INSERT INTO tokens (hash, role, authority, label)"
              "       SELECT $1::bytea, CASE WHEN $2::text IS NULL THEN 'admin' ELSE 'council' END,"
              "              (SELECT new_la_code FROM a), $3"
              "       WHERE $2::text IS NULL OR EXISTS (SELECT 1 FROM a) RETURNING id, role, authority),"
              " l AS (INSERT INTO audit_log (token_id, user_id, actor, action, authority, detail)"
              "       SELECT id, $4::bigint, $5, 'token.create', authority, jsonb_build_object('role', role,"
              "              'label', $3::text) FROM t)"
              " SELECT id FROM t";
        params[0] = hex;
        params[1] = authority;
        params[2] = evhttp_find_header(&st->fields, "label");
        params[3] = uid;
        params[4] = actor;
        if (params[2] && (!*params[2] || strlen(params[2]) > 200))
            params[2] = NULL;
        n = 5;
    } else if (strcmp(action, "revoke_token") == 0) {
        snprintf(st->message, sizeof st->message, "Token %.20s revoked.", id ? id : "");
        sql = "WITH t AS (UPDATE tokens SET revoked_at = now() WHERE id = $1::bigint"
              "           AND revoked_at IS NULL RETURNING id, authority),"
              " a AS (INSERT INTO audit_log (token_id, user_id, actor, action, authority)"
              "       SELECT id, $2::bigint, $3, 'token.revoke', authority FROM t)"
              " SELECT id FROM t";
        params[0] = id;
        params[1] = uid;
        params[2] = actor;
        n = 3;
    } else if (strcmp(action, "due_weeks") == 0) {
        const char *w = evhttp_find_header(&st->fields, "due_weeks");
        char *end = NULL;
        long v = w ? strtol(w, &end, 10) : 0;
        if (!w || !end || *end || v < 1 || v > 26) {
            snprintf(st->message, sizeof st->message,
                     "Nothing was changed: the weeks to the due date are a whole number from 1 to 26.");
            admin_page_load(r);
            return;
        }
        snprintf(st->message, sizeof st->message, "Returns are now due %ld weeks after a quarter opens.", v);
        sql = "WITH s AS (UPDATE collection_settings SET due_weeks = $1::int, changed_at = now()"
              "           RETURNING due_weeks),"
              " a AS (INSERT INTO audit_log (user_id, actor, action, detail)"
              "       SELECT $2::bigint, $3, 'collection.due_weeks', jsonb_build_object('due_weeks', due_weeks)"
              "       FROM s)"
              " SELECT due_weeks FROM s";
        params[0] = w;
        params[1] = uid;
        params[2] = actor;
        n = 3;
    } else if (strcmp(action, "consent") == 0) {
        const char *name = evhttp_find_header(&st->fields, "name");
        int yes = name && strcmp(name, "yes") == 0;
        if (!authority || strlen(authority) > 16 || !name || (!yes && strcmp(name, "no") != 0)) {
            snprintf(st->message, sizeof st->message,
                     "Nothing was changed: give an authority (ONS code or DfE number) and yes or no.");
            admin_page_load(r);
            return;
        }
        snprintf(st->message, sizeof st->message, "Consent recorded for %.16s: %s.", authority,
                 yes ? "may be named beside its unpublished figures" : "not to be named");
        /* Audited inside the function, with the person as the actor. */
        sql = "SELECT code FROM set_consent_to_name($1, $2::boolean, $3, NULL)";
        params[0] = authority;
        params[1] = yes ? "true" : "false";
        params[2] = actor;
        n = 3;
    } else {
        portal_refuse(r, 400, "bad_action", "The form's action is not one this page knows.");
        return;
    }
    if ((strcmp(action, "disable_user") == 0 || strcmp(action, "link_user") == 0 ||
         strcmp(action, "revoke_token") == 0) &&
        !code_is_row_id(id)) {
        st->secret[0] = '\0';
        snprintf(st->message, sizeof st->message, "Nothing was changed: no such account or token.");
        admin_page_load(r);
        return;
    }
    log_msg(LOG_INFO, r->id, "admin %lld: %s", st->u.user_id, action);
    if (db_pool_write(r->app->pool, sql, n, params, admin_done, r) != 0)
        http_reply_oom(r);
}

void route_admin_post(struct request *r)
{
    admin_start(r, admin_post_go);
}

/* ------------------------------------------------------ /admin/audit */

static void audit_loaded(struct request *r, struct pg_result *res)
{
    struct admin_state *st = r->state;
    static const char *const cols[] = {"id", "at", "actor", "action", "authority", "user_id",
                                       "token_id", "detail"};
    if (st->csv || st->xlsx) {
        struct sheet *s = sheet_new("audit_log");
        for (int c = 0; c < 8; c++)
            sheet_text(s, cols[c]);
        sheet_end_row(s);
        for (int i = 0; i < PQntuples(res); i++) {
            for (int c = 0; c < 8; c++) {
                if ((c == 0 || c == 5 || c == 6) && !PQgetisnull(res, i, c) &&
                    *PQgetvalue(res, i, c))
                    sheet_int(s, atoll(PQgetvalue(res, i, c)));
                else
                    sheet_text(s, PQgetvalue(res, i, c));
            }
            sheet_end_row(s);
        }
        const char *extra[] = {"rows", "every entry, newest first", NULL};
        struct xlsx_about about = {"sendbench audit log", evhttp_request_get_uri(r->req),
                                   ADMIN_ATTRIBUTION, extra, 0};
        download_reply(r, s, st->xlsx, "sendbench-audit-log", &about);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    int bad = !b || portal_page_begin(b, "Audit log", &st->u) != 0 ||
              web_put(b, "<h1>Audit log</h1><p><a href=\"/admin/audit?format=csv\" download>Download "
                         "the whole log (CSV)</a> · <a href=\"/admin/audit?format=xlsx\" download>"
                         "(Excel)</a> · <a href=\"/admin\">Administration</a></p>"
                         "<table id=\"audit\"><caption>The latest 500 entries, newest first</caption>"
                         "<thead><tr>") != 0;
    for (int c = 0; !bad && c < 8; c++)
        bad = web_put(b, "<th scope=\"col\">%s</th>", cols[c]) != 0;
    if (!bad)
        bad = web_put(b, "</tr></thead><tbody>") != 0;
    for (int i = 0; !bad && i < PQntuples(res) && i < 500; i++) {
        bad = web_put(b, "<tr data-action=\"") != 0 || html_escape(b, PQgetvalue(res, i, 3)) != 0 ||
              web_put(b, "\"><th scope=\"row\">%s</th>", PQgetvalue(res, i, 0)) != 0;
        for (int c = 1; !bad && c < 8; c++)
            bad = cell(b, PQgetvalue(res, i, c)) != 0;
        if (!bad)
            bad = web_put(b, "</tr>") != 0;
    }
    if (!bad)
        bad = web_put(b, "</tbody></table>") != 0;
    portal_end_page(r, 200, b, bad);
}

static void audit_load(struct request *r)
{
    struct admin_state *st = r->state;
    const char *params[1] = {st->csv || st->xlsx ? "1000000000" : "500"};
    request_query(r,
                  "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), actor,"
                  " action, coalesce(authority, ''), coalesce(user_id::text, ''),"
                  " coalesce(token_id::text, ''), detail::text"
                  " FROM audit_log ORDER BY id DESC LIMIT $1::bigint",
                  1, params, audit_loaded);
}

void route_admin_audit(struct request *r)
{
    admin_start(r, audit_load);
}

/* -------------------------------------------------- /admin/collection */

static void collection_loaded(struct request *r, struct pg_result *res)
{
    struct admin_state *st = r->state;
    int n = PQntuples(res);
    const char *period = n ? PQgetvalue(res, 0, 0) : "";
    static const char *const states[] = {"open", "draft", "awaiting_approval", "approved"};
    if (st->csv || st->xlsx) {
        struct sheet *s = sheet_new("collection");
        static const char *const cols[] = {"period", "new_la_code", "old_la_code", "la_name",
                                           "region_name", "state", "late", "due"};
        for (int c = 0; c < 8; c++)
            sheet_text(s, cols[c]);
        sheet_end_row(s);
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < 8; c++)
                sheet_text(s, c == 6 ? (strcmp(PQgetvalue(res, i, 6), "t") == 0 ? "yes" : "no")
                                     : PQgetvalue(res, i, c));
            sheet_end_row(s);
        }
        const char *extra[] = {"period", period, NULL};
        char title[64];
        snprintf(title, sizeof title, "sendbench collection %s", period);
        struct xlsx_about about = {title, evhttp_request_get_uri(r->req), ADMIN_ATTRIBUTION,
                                   extra, 0};
        download_reply(r, s, st->xlsx, "sendbench-collection", &about);
        return;
    }
    int count[4] = {0}, late = 0;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 4; k++)
            count[k] += strcmp(PQgetvalue(res, i, 5), states[k]) == 0;
        late += strcmp(PQgetvalue(res, i, 6), "t") == 0;
    }
    char title[64];
    snprintf(title, sizeof title, "Collection %s", period);
    struct evbuffer *b = evbuffer_new();
    int bad = !b || portal_page_begin(b, title, &st->u) != 0 ||
              web_put(b, "<h1>Collection %s</h1><p>Due %s. <a href=\"/admin/collection?format=csv"
                         "&amp;period=%.7s%%20%.2s\" download>Download as CSV</a> · "
                         "<a href=\"/admin/collection?format=xlsx&amp;period=%.7s%%20%.2s\" "
                         "download>as Excel</a></p>"
                         "<ul id=\"counts\"><li data-state=\"open\">Not started: %d</li>"
                         "<li data-state=\"draft\">Draft: %d</li><li data-state=\"awaiting_approval\">"
                         "Awaiting approval: %d</li><li data-state=\"approved\">Approved: %d</li>"
                         "<li data-state=\"late\">Late: %d</li></ul>",
                      period, n ? PQgetvalue(res, 0, 7) : "", period, n ? period + 8 : "",
                      period, n ? period + 8 : "", count[0], count[1], count[2], count[3], late) != 0 ||
              web_put(b, "<table id=\"collection\"><caption>Every authority's return for %s</caption>"
                         "<thead><tr><th scope=\"col\">Authority</th><th scope=\"col\">Region</th>"
                         "<th scope=\"col\">State</th></tr></thead><tbody>", period) != 0;
    for (int i = 0; !bad && i < n; i++) {
        int is_late = strcmp(PQgetvalue(res, i, 6), "t") == 0;
        const char *state = PQgetvalue(res, i, 5);
        bad = web_put(b, "<tr data-code=\"%s\" data-state=\"%s\"%s><th scope=\"row\">",
                      PQgetvalue(res, i, 1), state, is_late ? " data-late=\"true\"" : "") != 0 ||
              html_escape(b, PQgetvalue(res, i, 3)) != 0 || web_put(b, "</th>") != 0 ||
              cell(b, PQgetvalue(res, i, 4)) != 0 ||
              web_put(b, "<td><span class=\"state state-%s\">%s</span>%s</td></tr>", state,
                      strcmp(state, "open") == 0 ? "not started"
                      : strcmp(state, "awaiting_approval") == 0 ? "awaiting approval" : state,
                      is_late ? " <span class=\"state state-late\">late</span>" : "") != 0;
    }
    if (!bad)
        bad = web_put(b, "</tbody></table>") != 0;
    portal_end_page(r, 200, b, bad);
}

static void collection_load(struct request *r)
{
    const char *period = http_query(r, "period");
    struct period p;
    int ok = period && period_parse(period, &p) == 0 && p.kind == PERIOD_QUARTER;
    const char *params[1] = {ok ? period : NULL};
    /* The current collection: the latest quarter that has ended. */
    request_query(r,
                  "WITH cur AS (SELECT coalesce($1, fy_quarter_shift(to_char(fy, 'FM0000') || '-'"
                  "   || to_char((fy + 1) % 100, 'FM00') || ' Q' || q, -1)) AS p FROM (SELECT"
                  "   CASE WHEN extract(month FROM current_date) >= 4 THEN extract(year FROM current_date)"
                  "        ELSE extract(year FROM current_date) - 1 END::int AS fy,"
                  "   ((extract(month FROM current_date)::int + 8) % 12) / 3 + 1 AS q) x)"
                  " SELECT cur.p, a.new_la_code, a.old_la_code, a.name, a.region_name,"
                  "   s.state, s.late, s.due"
                  " FROM cur, authorities a, LATERAL return_status(a.new_la_code, cur.p) s"
                  " WHERE a.valid_to IS NULL OR a.valid_to > fy_quarter_start(cur.p)"
                  " ORDER BY a.name",
                  1, params, collection_loaded);
}

void route_admin_collection(struct request *r)
{
    admin_start(r, collection_load);
}
