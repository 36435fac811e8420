#include "sessions.h"

#include <event2/http.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"

static const char *const role_names[] = {"", "viewer", "submitter", "approver", "admin"};

enum user_role session_role_parse(const char *name)
{
    for (int i = ROLE_VIEWER; i <= ROLE_ADMIN; i++)
        if (name && strcmp(name, role_names[i]) == 0)
            return (enum user_role)i;
    return ROLE_NONE;
}

const char *session_role_name(enum user_role role)
{
    return role >= ROLE_VIEWER && role <= ROLE_ADMIN ? role_names[role] : "none";
}

int session_cookie_get(const char *header, const char *name, char out[AUTH_SECRET_LEN + 1])
{
    size_t nl = strlen(name);
    const char *p = header;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t vl = len - nl - 1;
            while (vl && (p[nl + 1 + vl - 1] == ' ' || p[nl + 1 + vl - 1] == '\t'))
                vl--;
            if (vl == AUTH_SECRET_LEN) {
                memcpy(out, p + nl + 1, vl);
                out[vl] = '\0';
                if (auth_secret_ok(out))
                    return 0;
            }
            /* A malformed value of our cookie: keep looking (a duplicate may follow). */
        }
        p = end;
    }
    return -1;
}

int session_csrf_ok(const char *expected, const char *given)
{
    if (!expected || !given || strlen(expected) != AUTH_SECRET_LEN ||
        strlen(given) != AUTH_SECRET_LEN)
        return 0;
    return CRYPTO_memcmp(expected, given, AUTH_SECRET_LEN) == 0;
}

void session_set_cookie(struct request *r, const char *name, const char *value)
{
    char c[256];
    snprintf(c, sizeof c, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", name,
             value ? value : "", r->app->ssl_ctx ? "; Secure" : "",
             value ? "" : "; Max-Age=0");
    http_add_header(r, "Set-Cookie", c);
}

/* Behind a trusted proxy, the address X-Forwarded-For names (http.h). */
void session_client_address(struct request *r, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", http_client_address(r));
}

struct session_pending {
    struct request *r;
    session_cb cb;
    session_arg_cb arg_cb;
    void *arg;
    void (*arg_free)(void *arg);
};

static void session_call(struct session_pending *p, struct request *r, const struct session_user *u)
{
    if (p->arg_cb)
        p->arg_cb(r, u, p->arg);
    else
        p->cb(r, u);
}

static void session_found(const struct db_reply *reply, void *arg)
{
    struct session_pending *pp = arg, p = *pp;
    struct request *r = p.r;
    free(pp);
    if (reply->error) {
        if (p.arg_free)
            p.arg_free(p.arg);
        http_reply_db_error(r, reply);
        return;
    }
    if (PQntuples(reply->res) != 1) {
        session_call(&p, r, NULL);
        return;
    }
    struct session_user u;
    memset(&u, 0, sizeof u);
    u.session_id = strtoll(PQgetvalue(reply->res, 0, 0), NULL, 10);
    u.user_id = strtoll(PQgetvalue(reply->res, 0, 1), NULL, 10);
    snprintf(u.email, sizeof u.email, "%s", PQgetvalue(reply->res, 0, 2));
    u.role = session_role_parse(PQgetvalue(reply->res, 0, 3));
    snprintf(u.authority, sizeof u.authority, "%s", PQgetvalue(reply->res, 0, 4));
    snprintf(u.authority_name, sizeof u.authority_name, "%s", PQgetvalue(reply->res, 0, 5));
    snprintf(u.csrf, sizeof u.csrf, "%s", PQgetvalue(reply->res, 0, 6));
    if (u.role == ROLE_NONE) {
        session_call(&p, r, NULL);
        return;
    }
    log_msg(LOG_DEBUG, r->id, "session %lld: user %lld (%s)", u.session_id, u.user_id,
            session_role_name(u.role));
    session_call(&p, r, &u);
}

static void session_lookup(struct request *r, session_cb cb, session_arg_cb arg_cb, void *arg,
                           void (*arg_free)(void *arg));

void session_resolve(struct request *r, session_cb cb)
{
    session_lookup(r, cb, NULL, NULL, NULL);
}

void session_resolve_arg(struct request *r, session_arg_cb cb, void *arg, void (*arg_free)(void *arg))
{
    session_lookup(r, NULL, cb, arg, arg_free);
}

static void session_lookup(struct request *r, session_cb cb, session_arg_cb arg_cb, void *arg,
                           void (*arg_free)(void *arg))
{
    char secret[AUTH_SECRET_LEN + 1];
    unsigned char hash[AUTH_HASH_LEN];
    if (session_cookie_get(http_header(r, "Cookie"), SESSION_COOKIE, secret) != 0 ||
        auth_sha256(secret, AUTH_SECRET_LEN, hash) != 0) {
        if (arg_cb)
            arg_cb(r, NULL, arg);
        else
            cb(r, NULL);
        return;
    }
    OPENSSL_cleanse(secret, sizeof secret);
    struct session_pending *p = calloc(1, sizeof *p);
    if (!p) {
        if (arg_free)
            arg_free(arg);
        http_reply_oom(r);
        return;
    }
    p->r = r;
    p->cb = cb;
    p->arg_cb = arg_cb;
    p->arg = arg;
    p->arg_free = arg_free;
    char hex[67], idle[16], hours[16];
    auth_hash_hex(hash, hex);
    snprintf(idle, sizeof idle, "%d", r->app->cfg->session_idle_min);
    snprintf(hours, sizeof hours, "%d", r->app->cfg->session_max_hours);
    const char *params[3] = {hex, idle, hours};
    /* Finding the session and recording its use are one statement: the
     * idle time-out counts from the last request of any server. */
    if (db_pool_query(r->app->pool,
                      "UPDATE sessions s SET last_seen_at = now()"
                      " FROM users u LEFT JOIN authorities a ON a.new_la_code = u.authority"
                      " WHERE s.hash = $1::bytea AND u.id = s.user_id AND s.ended_at IS NULL"
                      "   AND u.disabled_at IS NULL"
                      "   AND s.last_seen_at > now() - make_interval(mins => $2::int)"
                      "   AND s.created_at > now() - make_interval(hours => $3::int)"
                      " RETURNING s.id, u.id, u.email, u.role, coalesce(u.authority, ''),"
                      "   coalesce(a.name, ''), s.csrf",
                      3, params, session_found, p) != 0) {
        free(p);
        if (arg_free)
            arg_free(arg);
        http_reply_oom(r);
    }
}
