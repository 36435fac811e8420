/*
 * Signed-in people's sessions, kept in PostgreSQL (table sessions,
 * sql/040_people.sql): the cookie holds a 256-bit random secret, the table
 * its SHA-256.  A session ends when signed out, after session-idle-minutes
 * without a request, after session-max-hours whatever happens, and when the
 * account is disabled.
 *
 * Cookies are HttpOnly, SameSite=Strict, Path=/, and Secure when the
 * server speaks TLS.  Every form of a signed-in person carries the
 * session's CSRF token (synchroniser token); the sign-in and set-up forms,
 * before there is a session, carry the value of a form cookie
 * (SESSION_FORM_COOKIE, double submit).
 */
#ifndef SENDBENCH_SESSIONS_H
#define SENDBENCH_SESSIONS_H

#include <stddef.h>

#include "auth.h"

struct request;

#define SESSION_COOKIE "sb_session"
#define SESSION_FORM_COOKIE "sb_form"

enum user_role { ROLE_NONE = 0, ROLE_VIEWER, ROLE_SUBMITTER, ROLE_APPROVER, ROLE_ADMIN };

struct session_user {
    long long session_id;
    long long user_id;
    char email[256];
    enum user_role role;
    char authority[16];             /* "" for an administrator */
    char authority_name[128];
    char csrf[AUTH_SECRET_LEN + 1];
};

/* "submitter" -> ROLE_SUBMITTER ...; ROLE_NONE when unknown. */
enum user_role session_role_parse(const char *name);
const char *session_role_name(enum user_role role);

/* Finds cookie `name` in a Cookie header; copies its value into out when it
 * has the form of a secret (43 base64url characters).  0, or -1 when
 * absent or malformed.  Pure. */
int session_cookie_get(const char *header, const char *name, char out[AUTH_SECRET_LEN + 1]);

/* 1 when given equals expected (constant time; NULL given is unequal). */
int session_csrf_ok(const char *expected, const char *given);

/* Adds Set-Cookie for name=value with the flags above; value NULL clears
 * the cookie. */
void session_set_cookie(struct request *r, const char *name, const char *value);

/* The client's address (the peer of the connection), for the throttle. */
void session_client_address(struct request *r, char *out, size_t outlen);

/* Called with the signed-in person, or NULL when nobody is (no cookie, an
 * unknown, ended or timed-out session, a disabled account).  u is borrowed
 * for the call.  Database failures are answered (503/500) without calling
 * cb. */
typedef void (*session_cb)(struct request *r, const struct session_user *u);

/* Resolves the request's session cookie (one statement, which also records
 * the use for the idle time-out) and calls cb, never from inside. */
void session_resolve(struct request *r, session_cb cb);

/* The same with an argument for cb (for callers that cannot use r->state):
 * cb gets arg (and owns it) whenever it is called; when the lookup fails
 * and the request is answered here instead, arg_free(arg) is called. */
typedef void (*session_arg_cb)(struct request *r, const struct session_user *u, void *arg);
void session_resolve_arg(struct request *r, session_arg_cb cb, void *arg, void (*arg_free)(void *arg));

#endif
