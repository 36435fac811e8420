/*
 * Bearer tokens: made and hashed with OpenSSL's libcrypto (RAND_bytes,
 * SHA-256, CRYPTO_memcmp); only the SHA-256 of a token is ever stored.
 *
 * A token is "sbk_" followed by 43 base64url characters (32 random bytes,
 * 256 bits).  It is printed once by `sendbench token create` and never
 * logged.
 *
 * Server side, auth_require() resolves the caller of a request through the
 * pool (one query) and continues the handler; every endpoint that needs a
 * caller (writes, private reads) goes through it.
 */
#ifndef SENDBENCH_AUTH_H
#define SENDBENCH_AUTH_H

#include <stddef.h>

struct request;

#define AUTH_TOKEN_PREFIX "sbk_"
#define AUTH_TOKEN_LEN 47           /* "sbk_" + 43 */
#define AUTH_HASH_LEN 32

/* Who a request acts as.  The dispatcher fills r->caller (http.h) before
 * the handler runs, as the route's access asks. */
enum caller_kind { CALLER_ANONYMOUS, CALLER_COUNCIL, CALLER_ADMIN };

struct auth_caller {
    long long token_id;             /* 0 for anonymous or a signed-in person */
    int admin;                      /* kind == CALLER_ADMIN: acts for any authority */
    char authority[16];             /* a council token's authority; "" otherwise */
    enum caller_kind kind;
    long long user_id;              /* a signed-in person (session cookie); 0 for a token */
};

/* What a route needs of its caller: the access column of the route table
 * (server/routes.c), checked by the dispatcher before the handler runs.
 *   ROUTE_ANONYMOUS       nothing; an Authorization header is not looked at
 *   ROUTE_TOKEN_OPTIONAL  anonymous without Authorization; a token that is
 *                         sent must be valid (401)
 *   ROUTE_TOKEN_REQUIRED  a valid bearer token (401 without)
 *   ROUTE_ADMIN           an admin token (401 without a valid token, 403 for
 *                         a council token)
 * On a GET or HEAD without an Authorization header, a signed-in person's
 * session cookie (sessions.h) stands for a token of their authority (an
 * administrator's for an administrator): a person is a caller like a
 * token.  Writes over the API still need a token (the forms carry their
 * own CSRF token instead). */
enum route_access { ROUTE_ANONYMOUS = 0, ROUTE_TOKEN_OPTIONAL, ROUTE_TOKEN_REQUIRED, ROUTE_ADMIN };

/* 1 when the request carries credentials: an Authorization header, or a
 * session cookie on a GET or HEAD. */
int auth_has_credentials(struct request *r);

/* Resolves r's caller as `access` asks, sets r->caller and calls next(r);
 * otherwise answers r itself (401, 403, 503/500).  next may be called from
 * inside (anonymous) or later (after the token's query). */
void auth_resolve(struct request *r, enum route_access access, void (*next)(struct request *r));

/* Called once the caller is known; the handler continues from here and
 * must still end r with one http_reply_*.  caller is borrowed for the call. */
typedef void (*auth_cb)(struct request *r, const struct auth_caller *caller);

/*
 * Resolves `Authorization: Bearer <token>`.  On success calls cb; otherwise
 * answers r itself: 401 (with WWW-Authenticate: Bearer) for a missing,
 * malformed, unknown, revoked or expired token, 503/500 when the database
 * cannot answer.  cb is never called from inside auth_require.
 */
void auth_require(struct request *r, auth_cb cb);

/* 1 when caller may read or write for authority (its own, or admin). */
int auth_may_act_for(const struct auth_caller *caller, const char *authority);

/* Answers 403: a council token used for another authority. */
void auth_reply_forbidden(struct request *r, const char *authority);

/* Makes a new token (NUL-terminated, tokenlen >= AUTH_TOKEN_LEN + 1) and
 * its hash.  Returns 0, or -1 when the random generator fails. */
int auth_token_new(char *token, size_t tokenlen, unsigned char hash[AUTH_HASH_LEN])
    __attribute__((warn_unused_result));

/* Hashes a presented token.  Returns 0, or -1 when it is not of the token
 * form (then hash is untouched). */
int auth_token_hash(const char *token, unsigned char hash[AUTH_HASH_LEN])
    __attribute__((warn_unused_result));

/* The random part of tokens, session ids, CSRF tokens and set-up links:
 * 32 bytes from RAND_bytes as 43 base64url characters (out has room for 44
 * bytes).  0, or -1 when the random generator fails. */
#define AUTH_SECRET_LEN 43
int auth_random_text(char out[AUTH_SECRET_LEN + 1]) __attribute__((warn_unused_result));
/* 1 when s is 43 base64url characters (the form auth_random_text makes). */
int auth_secret_ok(const char *s);
/* SHA-256 of len bytes.  0, or -1. */
int auth_sha256(const char *data, size_t len, unsigned char out[AUTH_HASH_LEN])
    __attribute__((warn_unused_result));

/* PostgreSQL bytea hex input form of a hash: "\\x" + 64 hex digits + NUL
 * (out has room for 67 bytes). */
void auth_hash_hex(const unsigned char hash[AUTH_HASH_LEN], char out[67]);

#endif
