#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "sessions.h"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int auth_sha256(const char *data, size_t len, unsigned char out[AUTH_HASH_LEN])
{
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != AUTH_HASH_LEN)
        return -1;
    return 0;
}

/* base64url without padding: 32 bytes -> 43 characters.  OpenSSL's
 * EVP_EncodeBlock writes the standard alphabet with padding, so the URL-safe
 * form is mapped from it. */
int auth_random_text(char out[AUTH_SECRET_LEN + 1])
{
    unsigned char raw[32];
    unsigned char b64[64];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return -1;
    int n = EVP_EncodeBlock(b64, raw, sizeof raw);   /* 44 chars, one '=' */
    OPENSSL_cleanse(raw, sizeof raw);
    if (n != 44)
        return -1;
    for (int i = 0; i < AUTH_SECRET_LEN; i++)
        out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
    out[AUTH_SECRET_LEN] = '\0';
    OPENSSL_cleanse(b64, sizeof b64);
    return 0;
}

int auth_secret_ok(const char *s)
{
    if (!s || strlen(s) != AUTH_SECRET_LEN)
        return 0;
    for (int i = 0; i < AUTH_SECRET_LEN; i++)
        if (!strchr(b64url, s[i]))
            return 0;
    return 1;
}

int auth_token_new(char *token, size_t tokenlen, unsigned char hash[AUTH_HASH_LEN])
{
    if (tokenlen < AUTH_TOKEN_LEN + 1 || auth_random_text(token + 4) != 0)
        return -1;
    memcpy(token, AUTH_TOKEN_PREFIX, 4);
    return auth_sha256(token, AUTH_TOKEN_LEN, hash);
}

int auth_token_hash(const char *token, unsigned char hash[AUTH_HASH_LEN])
{
    if (strlen(token) != AUTH_TOKEN_LEN || strncmp(token, AUTH_TOKEN_PREFIX, 4) != 0 ||
        !auth_secret_ok(token + 4))
        return -1;
    return auth_sha256(token, AUTH_TOKEN_LEN, hash);
}

void auth_hash_hex(const unsigned char hash[AUTH_HASH_LEN], char out[67])
{
    static const char hex[] = "0123456789abcdef";
    out[0] = '\\';
    out[1] = 'x';
    for (int i = 0; i < AUTH_HASH_LEN; i++) {
        out[2 + 2 * i] = hex[hash[i] >> 4];
        out[3 + 2 * i] = hex[hash[i] & 15];
    }
    out[66] = '\0';
}

int auth_may_act_for(const struct auth_caller *caller, const char *authority)
{
    return caller->admin || strcmp(caller->authority, authority) == 0;
}

void auth_reply_forbidden(struct request *r, const char *authority)
{
    (void)authority;
    http_reply_error(r, 403, "forbidden",
                     "this token belongs to another authority: a council token acts only for "
                     "its own authority", NULL);
}

/* RFC 6750: the challenge names the problem; the token itself never
 * appears in an answer or a log line. */
static void reply_unauthorised(struct request *r, const char *error, const char *message)
{
    char challenge[128];
    if (error)
        snprintf(challenge, sizeof challenge, "Bearer realm=\"sendbench\", error=\"%s\"", error);
    else
        snprintf(challenge, sizeof challenge, "Bearer realm=\"sendbench\"");
    http_add_header(r, "WWW-Authenticate", challenge);
    log_msg(LOG_INFO, r->id, "auth: refused (%s)", message);
    http_reply_error(r, 401, error ? "invalid_token" : "unauthorized", message, NULL);
}

struct auth_pending {
    struct request *r;
    auth_cb cb;
    enum route_access access;
    void (*next)(struct request *r);
    unsigned char hash[AUTH_HASH_LEN];
};

static void auth_resolved(const struct db_reply *reply, void *arg)
{
    struct auth_pending *p = arg;
    struct request *r = p->r;
    auth_cb cb = p->cb;
    enum route_access access = p->access;
    void (*next)(struct request *) = p->next;
    unsigned char want[AUTH_HASH_LEN];
    memcpy(want, p->hash, sizeof want);
    free(p);

    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    if (PQntuples(reply->res) != 1) {
        reply_unauthorised(r, "invalid_token", "the token is not recognised");
        return;
    }
    size_t n = 0;
    unsigned char *stored = PQunescapeBytea((const unsigned char *)PQgetvalue(reply->res, 0, 5), &n);
    /* The lookup was by hash; comparing again in constant time keeps the
     * decision independent of how the index compared. */
    int same = stored && n == AUTH_HASH_LEN && CRYPTO_memcmp(stored, want, AUTH_HASH_LEN) == 0;
    PQfreemem(stored);
    if (!same) {
        reply_unauthorised(r, "invalid_token", "the token is not recognised");
        return;
    }
    if (strcmp(PQgetvalue(reply->res, 0, 3), "t") == 0) {
        reply_unauthorised(r, "invalid_token", "the token has been revoked");
        return;
    }
    if (strcmp(PQgetvalue(reply->res, 0, 4), "t") == 0) {
        reply_unauthorised(r, "invalid_token", "the token has expired");
        return;
    }
    struct auth_caller caller;
    memset(&caller, 0, sizeof caller);
    caller.token_id = strtoll(PQgetvalue(reply->res, 0, 0), NULL, 10);
    caller.admin = strcmp(PQgetvalue(reply->res, 0, 1), "admin") == 0;
    caller.kind = caller.admin ? CALLER_ADMIN : CALLER_COUNCIL;
    snprintf(caller.authority, sizeof caller.authority, "%s", PQgetvalue(reply->res, 0, 2));
    log_msg(LOG_DEBUG, r->id, "auth: token %lld (%s)", caller.token_id,
            caller.admin ? "admin" : caller.authority);
    if (next) {
        if (access == ROUTE_ADMIN && !caller.admin) {
            http_reply_error(r, 403, "forbidden", "this endpoint needs an admin token", NULL);
            return;
        }
        r->caller = caller;
        next(r);
        return;
    }
    cb(r, &caller);
}

/* One path for auth_require (cb) and auth_resolve (access, next). */
static void token_lookup(struct request *r, auth_cb cb, enum route_access access,
                         void (*next)(struct request *r))
{
    const char *h = http_header(r, "Authorization");
    if (!h || !*h) {
        reply_unauthorised(r, NULL, "this endpoint needs a bearer token: Authorization: Bearer <token>");
        return;
    }
    if (strncasecmp(h, "Bearer ", 7) != 0) {
        reply_unauthorised(r, "invalid_request", "the Authorization header must be \"Bearer <token>\"");
        return;
    }
    const char *tok = h + 7;
    while (*tok == ' ')
        tok++;
    struct auth_pending *p = calloc(1, sizeof *p);
    if (!p) {
        http_reply_oom(r);
        return;
    }
    if (auth_token_hash(tok, p->hash) != 0) {
        free(p);
        reply_unauthorised(r, "invalid_token", "the token is malformed");
        return;
    }
    p->r = r;
    p->cb = cb;
    p->access = access;
    p->next = next;
    char hex[67];
    auth_hash_hex(p->hash, hex);
    const char *params[1] = {hex};
    if (db_pool_query(r->app->pool,
                      "SELECT id, role, coalesce(authority, ''), revoked_at IS NOT NULL,"
                      " expires_at IS NOT NULL AND expires_at <= now(), hash"
                      " FROM tokens WHERE hash = $1::bytea",
                      1, params, auth_resolved, p) != 0) {
        free(p);
        http_reply_oom(r);
    }
}

void auth_require(struct request *r, auth_cb cb)
{
    token_lookup(r, cb, ROUTE_TOKEN_REQUIRED, NULL);
}

static int safe_method(struct request *r)
{
    enum evhttp_cmd_type m = evhttp_request_get_command(r->req);
    return m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;
}

static int has_session_cookie(struct request *r)
{
    char secret[AUTH_SECRET_LEN + 1];
    int has = safe_method(r) &&
              session_cookie_get(http_header(r, "Cookie"), SESSION_COOKIE, secret) == 0;
    OPENSSL_cleanse(secret, sizeof secret);
    return has;
}

int auth_has_credentials(struct request *r)
{
    return http_header(r, "Authorization") != NULL || has_session_cookie(r);
}

struct session_pending_auth {
    enum route_access access;
    void (*next)(struct request *r);
};

/* The signed-in person as the request's caller. */
static void session_caller(struct request *r, const struct session_user *u, void *arg)
{
    struct session_pending_auth p = *(struct session_pending_auth *)arg;
    free(arg);
    if (!u) {
        if (p.access == ROUTE_TOKEN_OPTIONAL) {
            p.next(r);                  /* an ended session reads as anonymous */
            return;
        }
        reply_unauthorised(r, NULL, "the session has ended (sign in again at /login) or this "
                                    "endpoint needs a bearer token");
        return;
    }
    if (p.access == ROUTE_ADMIN && u->role != ROLE_ADMIN) {
        http_reply_error(r, 403, "forbidden", "this endpoint needs an administrator", NULL);
        return;
    }
    r->caller.user_id = u->user_id;
    r->caller.admin = u->role == ROLE_ADMIN;
    r->caller.kind = r->caller.admin ? CALLER_ADMIN : CALLER_COUNCIL;
    snprintf(r->caller.authority, sizeof r->caller.authority, "%s", u->authority);
    log_msg(LOG_DEBUG, r->id, "auth: user %lld (%s)", u->user_id,
            r->caller.admin ? "admin" : r->caller.authority);
    p.next(r);
}

void auth_resolve(struct request *r, enum route_access access, void (*next)(struct request *r))
{
    memset(&r->caller, 0, sizeof r->caller);
    r->caller.kind = CALLER_ANONYMOUS;
    if (access == ROUTE_ANONYMOUS) {
        next(r);
        return;
    }
    if (!http_header(r, "Authorization")) {
        if (has_session_cookie(r)) {
            struct session_pending_auth *p = malloc(sizeof *p);
            if (!p) {
                http_reply_oom(r);
                return;
            }
            p->access = access;
            p->next = next;
            session_resolve_arg(r, session_caller, p, free);
            return;
        }
        if (access == ROUTE_TOKEN_OPTIONAL) {
            next(r);
            return;
        }
    }
    token_lookup(r, NULL, access, next);
}
