/*
 * Sign-in, sign-out and the one-time set-up link:
 *   GET  /login            the form (fields "Email", "Password", button "Sign in")
 *   POST /login            throttle check -> Argon2id verify (worker thread)
 *                          -> a new session (the old one, if any, ends)
 *   POST /logout           ends the session (CSRF token required)
 *   GET  /setup/{secret}   the set-up form of a new account
 *   POST /setup/{secret}   sets the password (Argon2id), uses up the link
 *
 * The forms before sign-in carry the value of the sb_form cookie (double
 * submit); a missing or wrong value is refused with 403 before anything is
 * read or stored.  Every sign-in, failure and refusal goes to audit_log.
 */
#include <event2/buffer.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "form.h"
#include "html.h"
#include "log.h"
#include "password.h"
#include "portal.h"
#include "routes.h"
#include "sessions.h"
#include "web.h"

/* ------------------------------------------------------------ the forms */

/* A fresh form cookie for the pre-session forms; its value goes in the
 * form's csrf field too. */
static int form_cookie_new(struct request *r, char out[AUTH_SECRET_LEN + 1])
{
    if (auth_random_text(out) != 0)
        return -1;
    session_set_cookie(r, SESSION_FORM_COOKIE, out);
    return 0;
}

/* 1 when the form's csrf field matches the form cookie. */
static int form_cookie_ok(struct request *r, struct evkeyvalq *fields)
{
    char cookie[AUTH_SECRET_LEN + 1];
    if (session_cookie_get(http_header(r, "Cookie"), SESSION_FORM_COOKIE, cookie) != 0)
        return 0;
    return session_csrf_ok(cookie, evhttp_find_header(fields, "csrf"));
}

static void csrf_refused(struct request *r)
{
    log_msg(LOG_INFO, r->id, "form refused: missing or wrong CSRF token");
    portal_refuse(r, 403, "csrf_failed",
                  "This form has expired or did not come from this site, so nothing was done. "
                  "Go back, reload the page and send it again.");
}

/* Error summary at the top of a form: each entry links to its field. */
static int error_summary(struct evbuffer *b, const char *field, const char *message)
{
    if (!message)
        return 0;
    return web_put(b, "<div class=\"error-summary\" role=\"alert\" tabindex=\"-1\" "
                      "id=\"error-summary\"><h2>There is a problem</h2><ul><li><a href=\"#%s\">",
                   field) != 0 || html_escape(b, message) != 0 ||
                   web_put(b, "</a></li></ul></div>") != 0 ? -1 : 0;
}

static void login_page_for(struct request *r, int status, const char *email, const char *error,
                           const char *note, const struct session_user *u)
{
    char token[AUTH_SECRET_LEN + 1];
    struct evbuffer *b = evbuffer_new();
    int bad = !b || form_cookie_new(r, token) != 0 || portal_page_begin(b, "Sign in", u) != 0 ||
        web_put(b, "<h1>Sign in</h1>") != 0 ||
        (u && (web_put(b, "<p class=\"note\" id=\"signed-in\">You are signed in as ") != 0 ||
               html_escape(b, u->email) != 0 ||
               web_put(b, ". Signing in again ends that session.</p>") != 0)) ||
        (note && (web_put(b, "<p class=\"note\" id=\"note\">") != 0 || html_escape(b, note) != 0 ||
                  web_put(b, "</p>") != 0)) ||
        error_summary(b, "email", error) != 0 ||
        web_put(b, "<p>For council officers and administrators with an account. Published "
                   "figures need no account.</p>"
                   "<form method=\"post\" action=\"/login\" class=\"stack\" novalidate>") != 0 ||
        form_csrf_field(b, token) != 0 ||
        web_put(b, "<div class=\"field%s\"><label for=\"email\">Email</label>",
                error ? " field-error" : "") != 0 ||
        web_put(b, "<input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" "
                   "spellcheck=\"false\" maxlength=\"254\" required value=\"") != 0 ||
        html_escape(b, email ? email : "") != 0 ||
        web_put(b, "\"></div><div class=\"field\"><label for=\"password\">Password</label>"
                   "<input id=\"password\" name=\"password\" type=\"password\" "
                   "autocomplete=\"current-password\" maxlength=\"256\" required></div>"
                   "<button type=\"submit\">Sign in</button></form>") != 0;
    OPENSSL_cleanse(token, sizeof token);
    portal_end_page(r, status, b, bad);
}

static void login_page(struct request *r, int status, const char *email, const char *error,
                       const char *note)
{
    login_page_for(r, status, email, error, note, NULL);
}

static void login_page_resolved(struct request *r, const struct session_user *u)
{
    const char *setup = http_query(r, "setup");
    const char *out = http_query(r, "signed_out");
    login_page_for(r, 200, NULL, NULL,
                   setup ? "Your password is set. Sign in with your email and the new password."
                   : out ? "You have signed out." : NULL, u);
}

void route_login_page(struct request *r)
{
    session_resolve(r, login_page_resolved);
}

/* ------------------------------------------------------------- sign in */

struct login_state {
    struct evkeyvalq fields;
    char email[256];
    char address[64];
    long long user_id;
    char role[16];
    char authority[16];
    char session[AUTH_SECRET_LEN + 1];
    char csrf[AUTH_SECRET_LEN + 1];
};

static void login_state_free(void *arg)
{
    struct login_state *st = arg;
    evhttp_clear_headers(&st->fields);
    OPENSSL_cleanse(st->session, sizeof st->session);
    free(st);
}

static void login_failure_recorded(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct login_state *st = r->state;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    login_page(r, 401, st->email, "The email or password is not right. Check them and try again.",
               NULL);
}

static void login_record_failure(struct request *r, const char *reason)
{
    struct login_state *st = r->state;
    const char *params[3] = {st->email, st->address, reason};
    if (db_pool_write(r->app->pool,
                      "WITH la AS (INSERT INTO login_attempts (email, address, ok)"
                      "            VALUES ($1, $2, false))"
                      " INSERT INTO audit_log (user_id, actor, action, authority, detail)"
                      " SELECT u.id, 'anonymous', 'login.failure', u.authority,"
                      "   jsonb_build_object('email', $1::text, 'address', $2::text,"
                      "                      'reason', $3::text)"
                      " FROM (SELECT 1) x LEFT JOIN users u ON u.email = $1",
                      3, params, login_failure_recorded, r) != 0)
        http_reply_oom(r);
}

static void login_session_made(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct login_state *st = r->state;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    log_msg(LOG_INFO, r->id, "login: user %lld signed in", st->user_id);
    session_set_cookie(r, SESSION_COOKIE, st->session);
    session_set_cookie(r, SESSION_FORM_COOKIE, NULL);
    portal_redirect(r, strcmp(st->role, "admin") == 0 ? "/admin" : "/returns");
}

static void login_verified(int ok, const char *hash, void *arg)
{
    (void)hash;
    struct request *r = arg;
    struct login_state *st = r->state;
    if (ok < 0) {
        http_reply_error(r, 500, "internal_error", "the password could not be checked", NULL);
        return;
    }
    if (!ok || st->user_id == 0) {
        login_record_failure(r, st->user_id ? "wrong_password" : "unknown_or_unusable_account");
        return;
    }
    /* A new session id at every sign-in: a session id known before (fixed
     * by someone else, or left from an earlier sign-in) is ended, never
     * promoted. */
    unsigned char hash_new[AUTH_HASH_LEN], hash_old[AUTH_HASH_LEN];
    char hex_new[67], hex_old[67] = "", uid[24], old[AUTH_SECRET_LEN + 1];
    if (auth_random_text(st->session) != 0 || auth_random_text(st->csrf) != 0 ||
        auth_sha256(st->session, AUTH_SECRET_LEN, hash_new) != 0) {
        http_reply_error(r, 500, "internal_error", "the random generator failed", NULL);
        return;
    }
    auth_hash_hex(hash_new, hex_new);
    if (session_cookie_get(http_header(r, "Cookie"), SESSION_COOKIE, old) == 0 &&
        auth_sha256(old, AUTH_SECRET_LEN, hash_old) == 0)
        auth_hash_hex(hash_old, hex_old);
    snprintf(uid, sizeof uid, "%lld", st->user_id);
    const char *params[6] = {hex_new, uid, st->csrf, st->address, hex_old[0] ? hex_old : NULL,
                             st->email};
    if (db_pool_write(r->app->pool,
                      "WITH old AS (UPDATE sessions SET ended_at = now(), end_reason = 'signed_in_again'"
                      "             WHERE hash = $5::bytea AND ended_at IS NULL RETURNING id),"
                      " s AS (INSERT INTO sessions (hash, user_id, csrf, address)"
                      "       VALUES ($1::bytea, $2::bigint, $3, $4) RETURNING id),"
                      " la AS (INSERT INTO login_attempts (email, address, ok) VALUES ($6, $4, true))"
                      " INSERT INTO audit_log (user_id, actor, action, authority, detail)"
                      " SELECT u.id, 'user:' || u.id, 'login.success', u.authority,"
                      "   jsonb_build_object('address', $4::text, 'session_id', (SELECT id FROM s),"
                      "                      'ended_session', (SELECT id FROM old))"
                      " FROM users u WHERE u.id = $2::bigint",
                      6, params, login_session_made, r) != 0)
        http_reply_oom(r);
}

static void login_throttle_recorded(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    char ra[16];
    snprintf(ra, sizeof ra, "%d", r->app->cfg->login_window_min * 60);
    http_add_header(r, "Retry-After", ra);
    portal_refuse(r, 429, "too_many_attempts",
                  "There have been too many failed sign-ins for this account or from this "
                  "address. Wait a while (see Retry-After) and try again, or ask your "
                  "administrator for a new set-up link.");
}

static void login_account_found(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct login_state *st = r->state;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    const struct config *cfg = r->app->cfg;
    long fail_account = strtol(PQgetvalue(reply->res, 0, 0), NULL, 10);
    long fail_address = strtol(PQgetvalue(reply->res, 0, 1), NULL, 10);
    if (fail_account >= cfg->login_max_account || fail_address >= cfg->login_max_address) {
        /* Refused without looking at the password; the refusal counts
         * (the window slides while guessing goes on). */
        const char *params[3] = {st->email, st->address,
                                 fail_account >= cfg->login_max_account ? "account" : "address"};
        if (db_pool_write(r->app->pool,
                          "WITH la AS (INSERT INTO login_attempts (email, address, ok)"
                          "            VALUES ($1, $2, false))"
                          " INSERT INTO audit_log (user_id, actor, action, authority, detail)"
                          " SELECT u.id, 'anonymous', 'login.throttled', u.authority,"
                          "   jsonb_build_object('email', $1::text, 'address', $2::text,"
                          "                      'by', $3::text)"
                          " FROM (SELECT 1) x LEFT JOIN users u ON u.email = $1",
                          3, params, login_throttle_recorded, r) != 0)
            http_reply_oom(r);
        return;
    }
    const char *stored = NULL;
    if (!PQgetisnull(reply->res, 0, 2)) {
        st->user_id = strtoll(PQgetvalue(reply->res, 0, 2), NULL, 10);
        snprintf(st->role, sizeof st->role, "%s", PQgetvalue(reply->res, 0, 3));
        if (!PQgetisnull(reply->res, 0, 4))
            stored = PQgetvalue(reply->res, 0, 4);
        if (!stored)
            st->user_id = 0;       /* set-up link not used yet: no password to match */
    }
    const char *pw = evhttp_find_header(&st->fields, "password");
    if (password_worker_verify(r->app->passwords, stored, pw ? pw : "", login_verified, r) != 0)
        http_reply_oom(r);
}

static void lower_copy(char *out, size_t outlen, const char *s)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < outlen; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    out[i] = '\0';
}

void route_login(struct request *r)
{
    struct login_state *st = calloc(1, sizeof *st);
    if (!st) {
        http_reply_oom(r);
        return;
    }
    form_init(&st->fields);
    r->state = st;
    r->state_free = login_state_free;
    if (form_read(r, &st->fields) != 0) {
        portal_refuse(r, 400, "bad_form", "The sign-in form could not be read.");
        return;
    }
    if (!form_cookie_ok(r, &st->fields)) {
        csrf_refused(r);
        return;
    }
    const char *email = evhttp_find_header(&st->fields, "email");
    const char *pw = evhttp_find_header(&st->fields, "password");
    if (!email || !*email || strlen(email) > 254 || !pw || !*pw || strlen(pw) > PASSWORD_MAX_LEN) {
        login_page(r, 400, email && strlen(email) <= 254 ? email : NULL,
                   "Enter your email and your password.", NULL);
        return;
    }
    lower_copy(st->email, sizeof st->email, email);
    session_client_address(r, st->address, sizeof st->address);
    char window[16];
    snprintf(window, sizeof window, "%d", r->app->cfg->login_window_min);
    const char *params[3] = {st->email, st->address, window};
    if (db_pool_query(r->app->pool,
                      "SELECT (SELECT count(*) FROM login_attempts WHERE email = $1 AND NOT ok"
                      "          AND at > now() - make_interval(mins => $3::int)),"
                      "       (SELECT count(*) FROM login_attempts WHERE address = $2 AND NOT ok"
                      "          AND at > now() - make_interval(mins => $3::int)),"
                      "       u.id, u.role, u.password_hash"
                      " FROM (SELECT 1) x LEFT JOIN users u ON u.email = $1 AND u.disabled_at IS NULL",
                      3, params, login_account_found, r) != 0)
        http_reply_oom(r);
}

/* ------------------------------------------------------------ sign out */

struct logout_state {
    struct evkeyvalq fields;
};

static void logout_state_free(void *arg)
{
    struct logout_state *st = arg;
    evhttp_clear_headers(&st->fields);
    free(st);
}

static void logout_done(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    session_set_cookie(r, SESSION_COOKIE, NULL);
    portal_redirect(r, "/login?signed_out=1");
}

static void logout_resolved(struct request *r, const struct session_user *u)
{
    struct logout_state *st = r->state;
    if (!u) {
        session_set_cookie(r, SESSION_COOKIE, NULL);
        portal_redirect(r, "/login");
        return;
    }
    if (!session_csrf_ok(u->csrf, evhttp_find_header(&st->fields, "csrf"))) {
        csrf_refused(r);
        return;
    }
    char sid[24];
    snprintf(sid, sizeof sid, "%lld", u->session_id);
    const char *params[1] = {sid};
    if (db_pool_write(r->app->pool,
                      "WITH s AS (UPDATE sessions SET ended_at = now(), end_reason = 'signed_out'"
                      "           WHERE id = $1::bigint AND ended_at IS NULL RETURNING user_id)"
                      " INSERT INTO audit_log (user_id, actor, action, authority)"
                      " SELECT u.id, 'user:' || u.id, 'logout', u.authority"
                      " FROM s JOIN users u ON u.id = s.user_id",
                      1, params, logout_done, r) != 0)
        http_reply_oom(r);
}

void route_logout(struct request *r)
{
    struct logout_state *st = calloc(1, sizeof *st);
    if (!st) {
        http_reply_oom(r);
        return;
    }
    form_init(&st->fields);
    r->state = st;
    r->state_free = logout_state_free;
    if (form_read(r, &st->fields) != 0) {
        csrf_refused(r);
        return;
    }
    session_resolve(r, logout_resolved);
}

/* -------------------------------------------------------- set-up links */

struct setup_state {
    struct evkeyvalq fields;
    char hex[67];
    char email[256];
    int post;
};

static void setup_state_free(void *arg)
{
    struct setup_state *st = arg;
    evhttp_clear_headers(&st->fields);
    free(st);
}

static void setup_page(struct request *r, int status, const char *email, const char *error)
{
    char token[AUTH_SECRET_LEN + 1];
    struct evbuffer *b = evbuffer_new();
    int bad = !b || form_cookie_new(r, token) != 0 ||
        portal_page_begin(b, "Set your password", NULL) != 0 ||
        web_put(b, "<h1>Set your password</h1>") != 0 || error_summary(b, "password", error) != 0 ||
        web_put(b, "<p>This sets the password of <strong>") != 0 || html_escape(b, email) != 0 ||
        web_put(b, "</strong>. Use at least %d characters; a few words together are easy to "
                   "remember and hard to guess. The link works once.</p>", PASSWORD_MIN_LEN) != 0 ||
        web_put(b, "<form method=\"post\" class=\"stack\" novalidate>") != 0 ||
        form_csrf_field(b, token) != 0 ||
        web_put(b, "<input type=\"text\" name=\"username\" autocomplete=\"username\" hidden "
                   "value=\"") != 0 || html_escape(b, email) != 0 ||
        web_put(b, "\"><div class=\"field%s\"><label for=\"password\">New password</label>"
                   "<input id=\"password\" name=\"password\" type=\"password\" "
                   "autocomplete=\"new-password\" maxlength=\"256\" required></div>"
                   "<div class=\"field\"><label for=\"confirm\">Confirm new password</label>"
                   "<input id=\"confirm\" name=\"confirm\" type=\"password\" "
                   "autocomplete=\"new-password\" maxlength=\"256\" required></div>"
                   "<button type=\"submit\">Set password</button></form>",
                error ? " field-error" : "") != 0;
    OPENSSL_cleanse(token, sizeof token);
    portal_end_page(r, status, b, bad);
}

static void setup_stored(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    if (PQntuples(reply->res) != 1) {   /* used meanwhile, by a second tab or someone else */
        portal_refuse(r, 404, "setup_link_invalid",
                      "This set-up link is not valid: it was used already, has expired or was "
                      "withdrawn. Ask your administrator for a new one.");
        return;
    }
    session_set_cookie(r, SESSION_FORM_COOKIE, NULL);
    portal_redirect(r, "/login?setup=done");
}

static void setup_hashed(int ok, const char *hash, void *arg)
{
    struct request *r = arg;
    struct setup_state *st = r->state;
    if (ok != 1 || !hash) {
        http_reply_error(r, 500, "internal_error", "the password could not be hashed", NULL);
        return;
    }
    const char *params[2] = {st->hex, hash};
    if (db_pool_write(r->app->pool,
                      "WITH l AS (UPDATE user_setup_links SET used_at = now()"
                      "           WHERE hash = $1::bytea AND used_at IS NULL AND expires_at > now()"
                      "             AND user_id IN (SELECT id FROM users WHERE disabled_at IS NULL)"
                      "           RETURNING user_id),"
                      " u AS (UPDATE users SET password_hash = $2 FROM l WHERE users.id = l.user_id"
                      "       RETURNING users.id, users.authority),"
                      " a AS (INSERT INTO audit_log (user_id, actor, action, authority)"
                      "       SELECT id, 'user:' || id, 'user.password_set', authority FROM u)"
                      " SELECT id FROM u",
                      2, params, setup_stored, r) != 0)
        http_reply_oom(r);
}

static void setup_link_found(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct setup_state *st = r->state;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    if (PQntuples(reply->res) != 1) {
        portal_refuse(r, 404, "setup_link_invalid",
                      "This set-up link is not valid: it was used already, has expired or was "
                      "withdrawn. Ask your administrator for a new one.");
        return;
    }
    snprintf(st->email, sizeof st->email, "%s", PQgetvalue(reply->res, 0, 0));
    if (!st->post) {
        setup_page(r, 200, st->email, NULL);
        return;
    }
    const char *pw = evhttp_find_header(&st->fields, "password");
    const char *confirm = evhttp_find_header(&st->fields, "confirm");
    const char *why = !pw || !*pw ? "Enter a new password."
                    : password_policy(pw, st->email);
    if (!why && (!confirm || strcmp(pw, confirm) != 0))
        why = "The two passwords are not the same: type the same password in both boxes.";
    if (why) {
        setup_page(r, 400, st->email, why);
        return;
    }
    if (password_worker_hash(r->app->passwords, pw, setup_hashed, r) != 0)
        http_reply_oom(r);
}

static void setup_start(struct request *r, int post)
{
    struct setup_state *st = calloc(1, sizeof *st);
    if (!st) {
        http_reply_oom(r);
        return;
    }
    form_init(&st->fields);
    st->post = post;
    r->state = st;
    r->state_free = setup_state_free;
    const char *secret = http_param(r, 0);
    unsigned char hash[AUTH_HASH_LEN];
    if (!auth_secret_ok(secret) || auth_sha256(secret, AUTH_SECRET_LEN, hash) != 0) {
        portal_refuse(r, 404, "setup_link_invalid",
                      "This set-up link is not valid. Check that the whole link was copied, or "
                      "ask your administrator for a new one.");
        return;
    }
    if (post) {
        if (form_read(r, &st->fields) != 0) {
            portal_refuse(r, 400, "bad_form", "The form could not be read.");
            return;
        }
        if (!form_cookie_ok(r, &st->fields)) {
            csrf_refused(r);
            return;
        }
    }
    auth_hash_hex(hash, st->hex);
    const char *params[1] = {st->hex};
    if (db_pool_query(r->app->pool,
                      "SELECT u.email FROM user_setup_links l JOIN users u ON u.id = l.user_id"
                      " WHERE l.hash = $1::bytea AND l.used_at IS NULL AND l.expires_at > now()"
                      "   AND u.disabled_at IS NULL",
                      1, params, setup_link_found, r) != 0)
        http_reply_oom(r);
}

void route_setup_page(struct request *r)
{
    setup_start(r, 0);
}

void route_setup(struct request *r)
{
    setup_start(r, 1);
}
